/*
 * io.c - the I/O-bound workload, simulated as the study did by sleeping:
 * the thread serving the request blocks for ms milliseconds.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "handlers.h"

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
handler_io(const struct server *srv, const struct route *rt,
    const struct http_request *req, const char *path, size_t path_len,
    struct response *resp)
{
	uint64_t ms = rt->io_ms;

	if (!handler_param(req, "ms", rt->io_ms_max, &ms, resp))
		return;
	handler_io_run(ms, resp);
}

void
handler_io_run(uint64_t ms, struct response *resp)
{
	sleep_ms(ms);
	response_printf(resp, 200, "slept %llu ms\n", (unsigned long long)ms);
}
