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
 * taken, the turns in flight finish (a turn is bounded: see conn.h), and the
 * connections are handed back so that the next engine (after a reload)
 * adopts them, with whatever input they still hold.
 */
#ifndef LF_ENGINE_H
#define LF_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
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
			    struct conn **adopt);
	void		(*stop)(struct engine *e, struct conn **handoff);
	void		(*free)(struct engine *e);
	bool		(*alive)(struct engine *e);	/* NULL: not watched */
};

struct engine {
	const struct engine_ops	*ops;
};

/*
 * Starts the engine for p->srv->cfg.mode, adopting the connections on the
 * *ADOPT list (from a previous engine; ADOPT or *ADOPT may be NULL) and
 * serving at once those that hold unserved input. 0 or -errno; on failure
 * every adopted connection is back on *ADOPT, open, for another engine.
 */
int engine_start(struct engine **out, const struct engine_params *p, struct conn **adopt);
/*
 * Drains: stops accepting and lets the turns in flight finish. With HANDOFF,
 * every connection goes on *HANDOFF, queued ones unserved and pipelined input
 * kept (the next engine serves it); without, queued connections get one turn
 * and then all are closed.
 */
void engine_stop(struct engine *e, struct conn **handoff);
void engine_free(struct engine *e);
/*
 * For the watchdog, called from one thread once per period: false when the
 * engine's event loop did not run since the previous call, or work was
 * queued at both calls and no worker finished anything in between. Safe
 * while another thread runs engine_stop. True for an engine not watched.
 */
bool engine_alive(struct engine *e);

/*
 * Fault injection for the test suite only (never set otherwise; see
 * ENVIRONMENT in lfserver(8)): ENGINE_FAULT_START makes a pool engine's start
 * fail after it adopted its connections, ENGINE_FAULT_STALL_REACTOR stops a
 * pool's reactor in its loop until the fault is cleared.
 */
enum engine_fault { ENGINE_FAULT_NONE, ENGINE_FAULT_START, ENGINE_FAULT_STALL_REACTOR };
extern _Atomic int engine_fault;

extern const struct engine_ops engine_pool_ops;
extern const struct engine_ops engine_tpc_ops;

#endif
