/*
 * observe.c - counters and access log line of an answered request; see observe.h.
 */
#include "config.h"

#include <string.h>

#include "accesslog.h"
#include "conn.h"
#include "handlers.h"
#include "observe.h"
#include "server.h"
#include "stats.h"

void
observe_request(const struct conn_worker *w, struct conn *c, const struct http_request *req,
    const struct response *resp, uint64_t t0)
{
	uint64_t us = (stats_now_ns() - t0) / 1000u;
	struct accesslog_entry e;

	stats_request_route(w->shard, resp->route != NULL ? resp->route->stats_slot :
	    STATS_ROUTE_NONE, resp->status, us);
	if (w->srv->alog == NULL)
		return;
	e.req = req;
	e.line = NULL;
	e.line_len = 0;
	e.fd = c->fd;
	e.peer = &c->peer;
	e.status = resp->status;
	/* an error page's body is not the handler's: it counts as none */
	e.bytes = (resp->body != NULL || resp->sendfile) &&
	    req->method != HTTP_HEAD ? resp->body_len : 0;
	e.us = us;
	accesslog_request(w->srv->alog, w->shard->index, &e);
}

void
observe_refused(const struct server *srv, struct stats_shard *sh, struct conn *c,
    const char *buf, size_t len, int status, uint64_t us)
{
	struct accesslog_entry e;
	const char *eol;

	stats_request(sh, status, us);
	if (srv->alog == NULL)
		return;
	/* the first line, as far as it came; the log cuts it at its field limit */
	eol = len > 0 ? memchr(buf, '\n', len) : NULL;
	if (eol != NULL)
		len = (size_t)(eol - buf);
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	e.req = NULL;
	e.line = buf;
	e.line_len = len;
	e.fd = c->fd;
	e.peer = &c->peer;
	e.status = status;
	e.bytes = 0;	/* an error page's body counts as none, as in observe_request */
	e.us = us;
	accesslog_request(srv->alog, sh->index, &e);
}
