/*
 * server.h - everything a request needs that a config produces: the resolved
 * settings, the routes table and the loaded docroots. Built whole from a
 * config (so a reload can validate everything before touching the running
 * engine), then read-only while an engine serves with it, but for the
 * /mixed cycle counters (atomic, see handlers/mixed.c).
 */
#ifndef LF_SERVER_H
#define LF_SERVER_H

#include <stdatomic.h>
#include <stddef.h>

#include "lfconfig.h"
#include "routes.h"

struct accesslog;
struct docroot;
struct mime;
struct stats;

struct server {
	struct lf_config	 cfg;
	unsigned		 workers;	/* cfg.workers, 0 resolved to usable CPUs */
	unsigned		 reactors;	/* cfg.reactors resolved (server_build) */
	struct routes		 routes;
	struct docroot		**docroots;	/* one per route; NULL unless static */
	struct docroot		*docroot;	/* the ini's docroot (or the built-in page) */
	struct mime		*mime;		/* Content-Types, for every docroot */
	atomic_ulong		*turns;		/* one per route: what route.turn points at */
	struct stats		*stats;		/* shared across reloads, owned by main */
	struct accesslog	*alog;		/* NULL: off; set by main, freed with the server */
	int			 pid;
};

/* Loads routes and docroots for CFG. 0, or -errno with a message in ERR. */
int server_build(struct server **out, const struct lf_config *cfg,
    struct stats *stats, char *err, size_t errlen);
void server_free(struct server *srv);
/* The docroot a static (or mixed) route serves from: the one server_build
 * resolved into the route, else the server's. */
const struct docroot *server_docroot(const struct server *srv, const struct route *r);
unsigned server_usable_cpus(void);
/* Files served and left out, over the ini's docroot and every route's. */
void server_docroot_counts(const struct server *srv, size_t *files, size_t *skipped);
/* A problem worth a warning that did not fail the build (a docroot that
 * cannot be watched), or NULL. */
const char *server_warning(const struct server *srv);

#endif
