/*
 * observe.c - counters and access log line of an answered request; see observe.h.
 */
#include "config.h"

#include "accesslog.h"
#include "conn.h"
#include "handlers.h"
#include "observe.h"
#include "server.h"
#include "stats.h"

void
observe_request(const struct conn_worker *w, int fd, const struct http_request *req,
    const struct response *resp, uint64_t t0)
{
	uint64_t us = (stats_now_ns() - t0) / 1000u;
	struct accesslog_entry e;

	stats_request_route(w->shard, resp->route != NULL ? resp->route->stats_slot :
	    STATS_ROUTE_NONE, resp->status, us);
	if (w->srv->alog == NULL)
		return;
	e.req = req;
	e.fd = fd;
	e.status = resp->status;
	/* an error page's body is not the handler's: it counts as none */
	e.bytes = resp->body != NULL && req->method != HTTP_HEAD ? resp->body_len : 0;
	e.us = us;
	accesslog_request(w->srv->alog, w->shard->index, &e);
}
