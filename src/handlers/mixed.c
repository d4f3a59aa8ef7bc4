/*
 * mixed.c - the mixed workload: a deterministic weighted round-robin over the
 * static page, the CPU work and the sleep. Each thread walks the same cycle
 * (w_static static, then w_cpu cpu, then w_io io requests), so a run's mix is
 * exact whatever the interleaving of threads.
 */
#include "config.h"

#include "handlers.h"

void
handler_mixed(const struct server *srv, const struct route *rt,
    const struct http_request *req, const char *path, size_t path_len,
    struct response *resp)
{
	static _Thread_local unsigned long turn;
	struct route sub = *rt;
	unsigned total = rt->w_static + rt->w_cpu + rt->w_io;
	unsigned slot = (unsigned)(turn++ % total);
	struct http_request plain = *req;

	/* the mix uses the route's own parameters, not the query string */
	plain.query = "";
	plain.query_len = 0;
	sub.cpu_n_max = sub.cpu_n;
	sub.io_ms_max = sub.io_ms;
	if (slot < rt->w_static)
		handler_static(srv, &sub, &plain, "/", 1, resp);
	else if (slot < rt->w_static + rt->w_cpu)
		handler_cpu(srv, &sub, &plain, path, path_len, resp);
	else
		handler_io(srv, &sub, &plain, path, path_len, resp);
}
