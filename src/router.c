/*
 * router.c - method check, path normalisation, route lookup; see router.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "docroot.h"

#include "router.h"

static const handler_fn router_handlers[] = {
	[ROUTE_STATIC] = handler_static,
	[ROUTE_CPU] = handler_cpu,
	[ROUTE_IO] = handler_io,
	[ROUTE_MIXED] = handler_mixed,
	[ROUTE_STATS] = handler_stats,
};

void
response_printf(struct response *resp, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(resp->buf, sizeof(resp->buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(resp->buf))
		n = sizeof(resp->buf) - 1;
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = resp->buf;
	resp->body_len = (size_t)n;
}

void
response_release(struct response *resp)
{
	docroot_file_put(resp->file);
	resp->file = NULL;
	if (resp->fd >= 0)
		close(resp->fd);
	resp->fd = -1;
}

bool
handler_param(const struct http_request *req, const char *name,
    unsigned max, uint64_t *val, struct response *resp)
{
	const char *v;
	size_t vlen;

	if (!http_query_get(req->query, req->query_len, name, &v, &vlen) ||
	    http_parse_uint(v, vlen, max, val) == 0)
		return true;
	response_printf(resp, 400, "bad %s: expected an integer 0..%u\n", name, max);
	return false;
}

/*
 * OPTIONS (RFC 9110 9.3.7): every route allows the same methods, which the
 * caller puts in Allow; no content, so Content-Length: 0 (not 204, which
 * may not carry one).
 */
static void
router_options(struct response *resp)
{
	resp->status = 200;
}

/*
 * Preconditions for the handlers that have no validators (the static one
 * evaluates its own): RFC 9110 13.2.1 asks them evaluated when the answer
 * would be 2xx. With no entity tag, If-Match holds only for "*" and
 * If-None-Match fails only for "*" (13.1.1, 13.1.2). No modification date:
 * the date conditions are ignored (13.1.3, 13.1.4).
 */
static void
router_preconditions(const struct http_request *req, struct response *resp)
{
	int status = 0;

	if (resp->status < 200 || resp->status > 299)
		return;
	if (req->if_match != NULL &&
	    !http_if_match(req->if_match, req->if_match_len, NULL))
		status = 412;
	else if (req->if_none_match != NULL &&
	    http_if_match(req->if_none_match, req->if_none_match_len, NULL))
		status = 304;	/* "*" and a current representation */
	if (status == 0)
		return;
	resp->status = status;
	resp->content_type = NULL;
	resp->body = NULL;
	resp->body_len = 0;
}

void
router_dispatch(const struct server *srv, const struct http_request *req,
    struct response *resp)
{
	char path[HTTP_MAX_TARGET + 1];
	const struct route *rt;
	const char *sub;
	int len;
	size_t sublen;

	resp->status = 500;
	resp->content_type = NULL;
	resp->body = NULL;
	resp->body_len = 0;
	resp->etag = NULL;
	resp->file = NULL;
	resp->fd = -1;
	resp->file_off = 0;
	resp->sendfile = false;
	resp->hdrs_len = 0;
	resp->hdrs[0] = '\0';
	resp->route = NULL;
	if (req->method == HTTP_OPTIONS && req->path_len == 1 &&
	    req->path[0] == '*') {
		router_options(resp);
		return;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD &&
	    req->method != HTTP_OPTIONS) {
		resp->status = req->method == HTTP_METHOD_OTHER ? 501 : 405;
		return;
	}
	len = http_normalize_path(req->path, req->path_len, path, sizeof(path));
	if (len < 0 || path[0] != '/') {
		resp->status = 400;
		return;
	}
	rt = routes_match(&srv->routes, path, (size_t)len);
	if (rt == NULL) {
		resp->status = 404;
		return;
	}
	resp->route = rt;
	if (req->method == HTTP_OPTIONS) {
		/* a route hidden from the public port stays hidden */
		if (rt->kind == ROUTE_STATS && !srv->cfg.public_stats)
			resp->status = 404;
		else
			router_options(resp);
		return;
	}
	sub = path;
	sublen = (size_t)len;
	if (rt->kind == ROUTE_STATIC) {
		/* "/files/a.html" under route "/files" is "/a.html" in its docroot */
		size_t plen = strlen(rt->path);

		if (plen > 1 && rt->path[plen - 1] == '/')
			plen--;
		if (plen > 1) {
			sub = path + plen;
			sublen = (size_t)len - plen;
			if (sublen == 0) {
				sub = "/";
				sublen = 1;
			}
		}
	}
	router_handlers[rt->kind](srv, rt, req, sub, sublen, resp);
	if (rt->kind != ROUTE_STATIC)
		router_preconditions(req, resp);
}
