/*
 * engine.h - the concurrency engines behind one interface (the redis ae.c
 * pattern: an operations table chosen at run time by `mode`).
 *
 *   lockfree               reactor + lock-free MPMC queue + N workers
 *   locked                 reactor + mutex/condvar queue  + N workers
 *   sequential             the locked pool with exactly one worker
 *   thread-per-connection  acceptor + one thread per connection
 *
 * The listening sockets belong to main.c for the life of the process; an
 * engine only accepts on them. Stopping an engine drains it: no new work is
 * taken, everything queued and in flight finishes, and the idle connections
 * are handed back so that the next engine (after a reload) adopts them.
 */
#ifndef LF_ENGINE_H
#define LF_ENGINE_H

#include <stddef.h>

#include "lfconfig.h"

struct conn;
struct engine;
struct server;

struct engine_params {
	const struct server	*srv;		/* settings, routes, docroots, stats */
	const int		*lfds;		/* listening sockets, non-blocking */
	size_t			 nlfds;
};

struct engine_ops {
	const char	*name;
	int		(*start)(struct engine **out, const struct engine_params *p,
			    struct conn *adopt);
	void		(*stop)(struct engine *e, struct conn **handoff);
	void		(*free)(struct engine *e);
};

struct engine {
	const struct engine_ops	*ops;
};

/*
 * Starts the engine for p->srv->cfg.mode, adopting the connections on the
 * ADOPT list (from a previous engine; may be NULL). 0 or -errno; on failure
 * the adopted connections are closed.
 */
int engine_start(struct engine **out, const struct engine_params *p, struct conn *adopt);
/*
 * Drains: stops accepting, finishes queued and in-flight requests, then puts
 * the idle connections on *HANDOFF, or closes them when HANDOFF is NULL.
 */
void engine_stop(struct engine *e, struct conn **handoff);
void engine_free(struct engine *e);

extern const struct engine_ops engine_pool_ops;
extern const struct engine_ops engine_tpc_ops;

#endif
