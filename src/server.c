/*
 * server.c - builds the immutable per-config server state; see server.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "accesslog.h"
#include "docroot.h"
#include "mime.h"
#include "escape.h"
#include "server.h"
#include "spin.h"
#include "stats.h"

/*
 * The CPUs this process may run on: its affinity mask (taskset, systemd's
 * CPUAffinity=), not every online CPU. A server pinned to 8 of 16 cores
 * that sized its pools from 16 would run twice the threads it has CPUs for.
 */
unsigned
server_usable_cpus(void)
{
	return spin_cpus();
}

/*
 * `reactors`, 0 resolved: one reactor per 4 usable CPUs, but no more than
 * one per 4 workers, and at least one; sequential has one and
 * thread-per-connection none.
 */
static unsigned
server_reactors(const struct lf_config *cfg, unsigned workers)
{
	unsigned n, by_workers;

	if (cfg->mode == LF_MODE_TPC)
		return 0;
	if (cfg->mode == LF_MODE_SEQUENTIAL)
		return 1;
	if (cfg->reactors != 0)
		return cfg->reactors;
	n = server_usable_cpus() / 4;
	by_workers = (workers + 3) / 4;
	if (by_workers < n)
		n = by_workers;
	return n ? n : 1;
}

int
server_build(struct server **out, const struct lf_config *cfg,
    struct stats *stats, char *err, size_t errlen)
{
	struct docroot_opts opts;
	struct server *srv;
	size_t i;
	int r;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		return r;
	}
	srv->stats = stats;
	srv->pid = (int)getpid();
	r = config_copy(&srv->cfg, cfg);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	srv->workers = cfg->workers ? cfg->workers : server_usable_cpus();
	if (cfg->mode == LF_MODE_SEQUENTIAL)
		srv->workers = 1;
	srv->reactors = server_reactors(cfg, srv->workers);
	if (cfg->routes != NULL)
		r = routes_load(&srv->routes, cfg->routes, err, errlen);
	else
		r = routes_builtin(&srv->routes);
	if (r < 0) {
		if (cfg->routes == NULL)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* /etc/mime.types is optional; a file the ini names is not */
	r = mime_load(&srv->mime, cfg->mime_types != NULL ? cfg->mime_types :
	    access(MIME_DEFAULT_PATH, R_OK) == 0 ? MIME_DEFAULT_PATH : NULL,
	    err, errlen);
	if (r < 0)
		goto fail;
	opts.memory_max = cfg->static_memory_max;
	opts.mime = srv->mime;
	opts.watch = cfg->docroot_watch;
	r = docroot_load_opts(&srv->docroot, cfg->docroot, &opts, err, errlen);
	if (r < 0)
		goto fail;
	srv->docroots = calloc(srv->routes.n ? srv->routes.n : 1, sizeof(*srv->docroots));
	srv->turns = calloc(srv->routes.n ? srv->routes.n : 1, sizeof(*srv->turns));
	if (srv->docroots == NULL || srv->turns == NULL) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* what each route needs, found from the route itself when serving */
	for (i = 0; i < srv->routes.n; i++) {
		struct route *rt = &srv->routes.v[i];

		atomic_init(&srv->turns[i], 0);
		rt->turn = &srv->turns[i];
		rt->dr = srv->docroot;
		if (stats != NULL)
			rt->stats_slot = stats_route_slot(stats, rt->path);
		if (rt->kind != ROUTE_STATIC || rt->docroot == NULL)
			continue;
		r = docroot_load_opts(&srv->docroots[i], rt->docroot, &opts,
		    err, errlen);
		if (r < 0)
			goto fail;
		rt->dr = srv->docroots[i];
	}
	*out = srv;
	return 0;
fail:
	escape_inplace(err, errlen);	/* paths from the config and the docroot */
	server_free(srv);
	return r;
}

void
server_free(struct server *srv)
{
	size_t i;

	if (srv == NULL)
		return;
	accesslog_free(srv->alog);
	if (srv->docroots != NULL)
		for (i = 0; i < srv->routes.n; i++)
			docroot_free(srv->docroots[i]);
	free(srv->docroots);
	free(srv->turns);
	docroot_free(srv->docroot);
	mime_free(srv->mime);
	routes_free(&srv->routes);
	config_free(&srv->cfg);
	free(srv);
}

const struct docroot *
server_docroot(const struct server *srv, const struct route *r)
{
	return r->dr != NULL ? r->dr : srv->docroot;
}

void
server_docroot_counts(const struct server *srv, size_t *files, size_t *skipped)
{
	size_t i;

	*files = docroot_count(srv->docroot);
	*skipped = docroot_skipped(srv->docroot);
	for (i = 0; i < srv->routes.n; i++) {
		*files += docroot_count(srv->docroots[i]);
		*skipped += docroot_skipped(srv->docroots[i]);
	}
}

const char *
server_warning(const struct server *srv)
{
	const char *w = docroot_watch_error(srv->docroot);
	size_t i;

	for (i = 0; w == NULL && i < srv->routes.n; i++)
		w = docroot_watch_error(srv->docroots[i]);
	return w;
}
