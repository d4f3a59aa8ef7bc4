/*
 * stats.c (handler) - GET /stats: the server's settings and counters as JSON.
 * Percentiles are over the whole life of the process; max_us likewise.
 */
#include "config.h"

#include <stdio.h>

#include "docroot.h"
#include "handlers.h"
#include "server.h"
#include "stats.h"

void
handler_stats(const struct server *srv, const struct route *rt,
    const struct http_request *req, const char *path, size_t path_len,
    struct response *resp)
{
	struct stats_snapshot s;
	size_t files = docroot_count(srv->docroot), skipped = docroot_skipped(srv->docroot), i;
	int n;

	for (i = 0; i < srv->routes.n; i++) {
		files += docroot_count(srv->docroots[i]);
		skipped += docroot_skipped(srv->docroots[i]);
	}
	stats_total(srv->stats, &s);
	n = snprintf(resp->buf, sizeof(resp->buf),
	    "{\"mode\":\"%s\",\"workers\":%u,\"queue_capacity\":%u,\"pid\":%d,"
	    "\"uptime_s\":%.3f,\"requests\":%llu,\"errors\":%llu,"
	    "\"connections\":%llu,\"connections_total\":%llu,\"queue_full\":%llu,"
	    "\"reloads\":%llu,\"p50_us\":%llu,\"p99_us\":%llu,\"max_us\":%llu,"
	    "\"docroot_files\":%zu,\"docroot_skipped\":%zu}\n",
	    lf_mode_name(srv->cfg.mode), srv->workers, srv->cfg.queue_capacity,
	    srv->pid, s.uptime_s, (unsigned long long)s.requests,
	    (unsigned long long)s.errors, (unsigned long long)s.connections,
	    (unsigned long long)s.conns_opened, (unsigned long long)s.queue_full,
	    (unsigned long long)s.reloads, (unsigned long long)s.p50_us,
	    (unsigned long long)s.p99_us, (unsigned long long)s.max_us, files, skipped);
	if (n < 0 || (size_t)n >= sizeof(resp->buf)) {
		resp->status = 500;
		return;
	}
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = resp->buf;
	resp->body_len = (size_t)n;
}
