/*
 * fuzz_routes.c - libFuzzer target for the routes loader (routes_load
 * through libconfig, with our integer-wrap scan). The input is the file.
 * Besides memory errors it aborts on broken contracts: a failure without a
 * "FILE..." message or with a raw control byte in it; a failure that hands
 * out a table; a loaded table with a route whose path does not begin with
 * '/', a duplicate path, a number out of its range, n above n_max, ms above
 * ms_max, or mixed weights summing to 0; or a route that routes_match does
 * not find by its own path.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "routes.h"

static void
check_table(const struct routes *r)
{
	const struct route *rt;
	size_t i, j;

	if (r->n == 0 || r->v == NULL)
		abort();
	for (i = 0; i < r->n; i++) {
		rt = &r->v[i];
		if (rt->path == NULL || rt->path[0] != '/' ||
		    (unsigned)rt->kind > ROUTE_STATS ||
		    rt->cpu_n > rt->cpu_n_max || rt->cpu_n_max > ROUTE_CPU_N_MAX ||
		    rt->io_ms > rt->io_ms_max || rt->io_ms_max > ROUTE_IO_MS_MAX)
			abort();
		if (rt->kind == ROUTE_MIXED &&
		    rt->w_static + rt->w_cpu + rt->w_io == 0)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(r->v[j].path, rt->path) == 0)
				abort();
		if (routes_match(r, rt->path, strlen(rt->path)) != rt)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct routes r = { NULL, 0 };
	char path[64], err[1024];
	const unsigned char *p;
	int fd, rv;

	if (!fuzz_input_is_safe(data, size))
		return 0;
	fd = fuzz_memfile(data, size, path, sizeof(path));
	err[0] = '\0';
	rv = routes_load(&r, path, err, sizeof(err));
	if (rv != 0) {
		if (r.v != NULL || err[0] == '\0')
			abort();
		/* an @include'd file's errors name that file */
		if (strncmp(err, path, strlen(path)) != 0 &&
		    memmem(data, size, "@include", 8) == NULL)
			abort();
		for (p = (const unsigned char *)err; *p != '\0'; p++)
			if (*p < 0x20 || *p == 0x7f)
				abort();
	} else {
		check_table(&r);
		routes_free(&r);
	}
	close(fd);
	return 0;
}
