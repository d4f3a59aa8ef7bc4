/*
 * mixed.c - the mixed workload: a deterministic weighted round-robin over the
 * static page, the CPU work and the sleep. One counter per route, shared by
 * every thread, walks the cycle (w_static static, then w_cpu cpu, then w_io
 * io requests), so any run of w_static + w_cpu + w_io consecutive requests
 * is the exact mix, however they are spread over threads and connections.
 */
#include "config.h"

#include <stdatomic.h>

#include "handlers.h"

void
handler_mixed(const struct server *srv, const struct route *rt,
    const struct http_request *req, const char *path, size_t path_len,
    struct response *resp)
{
	unsigned total = rt->w_static + rt->w_cpu + rt->w_io;
	unsigned slot;

	/*
	 * Relaxed: the counter orders no other memory and pairs with nothing;
	 * the read-modify-write alone gives each request its own turn.
	 */
	slot = (unsigned)(atomic_fetch_add_explicit(rt->turn, 1,
	    memory_order_relaxed) % total);
	/* the mix uses the route's own parameters, not the query string */
	if (slot < rt->w_static)
		handler_static(srv, rt, req, "/", 1, resp);
	else if (slot < rt->w_static + rt->w_cpu)
		handler_cpu_run(rt->cpu_n, resp);
	else
		handler_io_run(rt->io_ms, resp);
}
