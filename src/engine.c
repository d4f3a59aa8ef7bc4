/*
 * engine.c - picks the engine for a mode; see engine.h.
 */
#include "config.h"

#include "conn.h"
#include "engine.h"
#include "server.h"

_Atomic int engine_fault;

int
engine_start(struct engine **out, const struct engine_params *p, struct conn **adopt)
{
	const struct engine_ops *ops;

	ops = p->srv->cfg.mode == LF_MODE_TPC ? &engine_tpc_ops : &engine_pool_ops;
	return ops->start(out, p, adopt);
}

void
engine_stop(struct engine *e, struct conn **handoff)
{
	if (e != NULL)
		e->ops->stop(e, handoff);
}

void
engine_free(struct engine *e)
{
	if (e != NULL)
		e->ops->free(e);
}

bool
engine_alive(struct engine *e)
{
	return e == NULL || e->ops->alive == NULL || e->ops->alive(e);
}
