/*
 * stats.c (handler) - GET /stats on the public port: the server's settings
 * and counters as JSON, only with [server] public_stats = on (off by
 * default: the admin listener serves /stats and /metrics to operators).
 * Percentiles are over the whole life of the process; max_us likewise.
 */
#include "config.h"

#include "handlers.h"
#include "server.h"
#include "metrics.h"

void
handler_stats(const struct server *srv, const struct route *rt,
    const struct http_request *req, const char *path, size_t path_len,
    struct response *resp)
{
	struct stats_info info = {
		.mode = srv->cfg.mode,
		.workers = srv->workers,
		.queue_capacity = srv->cfg.queue_capacity,
	};
	int n;

	server_docroot_counts(srv, &info.docroot_files, &info.docroot_skipped);

	if (!srv->cfg.public_stats) {
		resp->status = 404;
		return;
	}
	n = metrics_json(resp->buf, sizeof(resp->buf), srv->stats, &info);
	if (n < 0) {
		resp->status = 500;
		return;
	}
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = resp->buf;
	resp->body_len = (size_t)n;
}
