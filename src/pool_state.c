/*
 * pool_state.c - the ownership protocol of pool connections; see pool_state.h.
 *
 * No input is left unserved: input arriving after a worker's last read
 * raises a report, and whether the reactor handles it before the worker's
 * give-back (the worker sees EVENTED and keeps serving) or after it (the
 * reactor sees ARMED and queues the connection), one of the two serves it.
 * Only one of them ever does: the give-back moves WORKING to ARMED with a
 * compare-and-swap, so a worker that saw EVENTED never published ARMED, and
 * the reactor (or the idle sweep) cannot take a connection that its worker
 * keeps. (An exchange to ARMED followed by a store of WORKING left a window
 * in which the reactor queued the connection to a second worker and the
 * sweep could free it under the first.)
 */
#include "config.h"

#include <stddef.h>

#include "pool_state.h"

void (*pool_state_test_hook)(_Atomic int *state);

bool
pool_state_report(_Atomic int *state)
{
	/* acq_rel: acquires the worker's writes to the connection released by
	 * its give-back CAS; releases nothing the worker needs */
	if (atomic_exchange_explicit(state, POOL_EVENTED, memory_order_acq_rel) !=
	    POOL_ARMED)
		return false;
	/* only the reactor moves a connection out of ARMED: nobody races this */
	atomic_store_explicit(state, POOL_WORKING, memory_order_relaxed);
	return true;
}

bool
pool_state_giveback(_Atomic int *state)
{
	int expect = POOL_WORKING;

	/* release on success: pairs with the acquire of pool_state_report's
	 * exchange and of pool_state_idle, so whoever takes the connection next
	 * sees this worker's writes to it (pending input, timestamps) */
	if (atomic_compare_exchange_strong_explicit(state, &expect, POOL_ARMED,
	    memory_order_release, memory_order_acquire))
		return false;
	/* EVENTED: the reactor left the connection to us and will not move it
	 * out of EVENTED, so a plain store takes it back. Acquire on failure:
	 * pairs with the report's exchange, so what the reactor wrote before
	 * it (conn.peer_shut) is seen by the serving that follows */
	if (pool_state_test_hook != NULL)
		pool_state_test_hook(state);
	atomic_store_explicit(state, POOL_WORKING, memory_order_relaxed);
	return true;
}

bool
pool_state_idle(_Atomic int *state)
{
	/* acquire: pairs with the release of the give-back CAS */
	return atomic_load_explicit(state, memory_order_acquire) == POOL_ARMED;
}
