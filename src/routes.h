/*
 * routes.h - the URL path -> handler table, optionally read from a libconfig
 * file (the `routes` key of the ini), else a built-in table:
 *   "/cpu" cpu, "/io" io, "/mixed" mixed, "/stats" stats, "/" static (prefix).
 * Errors name "FILE:LINE: problem" (libconfig reports lines).
 */
#ifndef LF_ROUTES_H
#define LF_ROUTES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct docroot;

enum route_kind {
	ROUTE_STATIC,		/* files of the docroot (or the built-in page) */
	ROUTE_CPU,		/* count primes <= n by trial division */
	ROUTE_IO,		/* sleep ms */
	ROUTE_MIXED,		/* deterministic weighted mix of static, cpu, io */
	ROUTE_STATS,		/* JSON counters */
};

#define ROUTE_CPU_N_DEFAULT	10000
#define ROUTE_CPU_N_MAX		1000000		/* cap; above it: 400 */
#define ROUTE_IO_MS_DEFAULT	10
#define ROUTE_IO_MS_MAX		10000		/* cap; above it: 400 */

struct route {
	char		*path;		/* begins with '/' */
	bool		 prefix;	/* matches PATH and everything below it */
	enum route_kind	 kind;
	/* static: the request path minus `path` is looked up in the docroot */
	char		*docroot;	/* static: this route's docroot; NULL = the ini's */
	unsigned	 cpu_n;		/* cpu, mixed: default n */
	unsigned	 cpu_n_max;	/* cpu: cap for ?n= (<= ROUTE_CPU_N_MAX) */
	unsigned	 io_ms;		/* io, mixed: default ms */
	unsigned	 io_ms_max;	/* io: cap for ?ms= (<= ROUTE_IO_MS_MAX) */
	unsigned	 w_static, w_cpu, w_io;	/* mixed: weights, sum >= 1 */
	/*
	 * Resolved by server_build (server.c) and owned by the server, so a
	 * handler finds them from the route itself; NULL in a table that no
	 * server was built from.
	 */
	const struct docroot *dr;	/* static, mixed: the files served */
	atomic_ulong	*turn;		/* mixed: position in the cycle, all threads' */
	unsigned	 stats_slot;	/* its counters (stats_route_slot), set by server_build */
};

struct routes {
	struct route	*v;
	size_t		 n;
};

/* The built-in table. 0 or -ENOMEM. */
int routes_builtin(struct routes *r);
/* Reads a libconfig routes file. 0, or -errno/-EINVAL with message in ERR. */
int routes_load(struct routes *r, const char *path, char *err, size_t errlen);
void routes_free(struct routes *r);
/*
 * The route for a (decoded, normalised) path: an exact match first, else the
 * longest prefix route whose path is PATH itself or a parent directory of it
 * ("/files" matches "/files" and "/files/a", not "/filesx"; "/" matches all).
 * NULL if none.
 */
const struct route *routes_match(const struct routes *r, const char *path, size_t len);
const char *route_kind_name(enum route_kind k);

#endif
