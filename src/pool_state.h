/*
 * pool_state.h - who owns a pool connection: the one atomic word that the
 * reactor and the workers of engine_pool.c move between three states.
 *
 *   WORKING  a worker (or the queue) has it
 *   ARMED    idle: the reactor queues it at the next report
 *   EVENTED  the reactor got a report while a worker had it
 *
 * Kept apart from engine_pool.c so that the protocol can be tested on its
 * own (tests/test_pool.c), including the interleavings a scheduler rarely
 * produces: pool_state_test_hook runs at the one point where a concurrent
 * report used to be able to take a connection from its worker.
 */
#ifndef LF_POOL_STATE_H
#define LF_POOL_STATE_H

#include <stdatomic.h>
#include <stdbool.h>

enum pool_state { POOL_WORKING, POOL_ARMED, POOL_EVENTED };

/*
 * The reactor got a report for a connection. True when it was ARMED: the
 * caller now owns it (state WORKING) and queues it. False when a worker owns
 * it: that worker serves the new input (pool_state_giveback says so).
 */
bool pool_state_report(_Atomic int *state);
/*
 * A worker gives a served connection back. False: it is ARMED now and the
 * worker must not touch it again. True: a report came while it was served,
 * the worker still owns it (state WORKING) and serves it again. The state
 * never passes through ARMED on that second path.
 */
bool pool_state_giveback(_Atomic int *state);
/* True when the connection is idle (ARMED); only its reactor may then free it. */
bool pool_state_idle(_Atomic int *state);

/*
 * Test only (NULL otherwise): called by pool_state_giveback after it saw a
 * report, before it stores WORKING. Set it before any engine starts.
 */
extern void (*pool_state_test_hook)(_Atomic int *state);

#endif
