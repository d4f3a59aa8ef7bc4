/*
 * router.c - method check, path normalisation, route lookup; see router.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	resp->route = NULL;
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
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
}
