/*
 * lockq.c - the locked baseline: a ring buffer of pointers under one pthread
 * mutex, with one condition variable per direction (not_empty for consumers,
 * not_full for producers), shaped like the Knot DNS worker pool.
 *
 * The condition variables are signalled after the mutex is dropped, so a woken
 * thread does not wake straight into a held lock; that is safe because every
 * waiter re-checks its predicate under the mutex.  A signal is sent only when
 * a thread is recorded as waiting in that direction, which keeps the common,
 * uncontended case to one lock/unlock pair.
 *
 * A producer waiting on a full queue is signalled once the queue is down to
 * half its capacity (lockq_room), not at the first pop, so that it pushes a
 * batch before the queue is full again; consumers pop until the queue is
 * empty, so that pop always comes.  Signalled at every pop, the pool's
 * reactor and workers took turns one item at a time.
 *
 * A producer may also wait until the queue is empty (lockq_wait_empty: the
 * pool's reactor, after a batch; queue.c says why), on a third condition
 * variable, `drained`, broadcast by the pop that empties the queue while
 * one waits.  Its wait is timed, on the monotonic clock.
 *
 * With a long spin (lockq_set_spin, spin.h), idle consumers poll `count`
 * without the mutex before they wait, and a producer does not signal a
 * waiting consumer while one spins.  No signal is lost: a spinner stops
 * being counted before it takes the mutex (lockq_pop) or under it
 * (lockq_spin_pop), and a producer reads the count under the mutex, so
 * either the producer's critical section comes first and the spinner's
 * sees its item, or the spinner's comes first and the producer sees it
 * gone.  Since a producer may so skip several signals, a spinner that
 * leaves with an item signals a waiting consumer for each item left, up
 * to all of them (lockq_take_spun).
 *
 * The token: a producer does not signal a waiting consumer either while
 * one it or another thread signalled has not yet come back from its wait
 * (`signalled` > 0).  Every consumer back from a wait, signalled or not,
 * counts one off `signalled` (while above zero), and once it has its item
 * it signals the next waiting consumer if items are left.  So a burst of
 * pushes wakes one consumer, which wakes the next only if it finds more
 * than it takes: with more workers than CPUs, a signal per push woke every
 * worker for a few items each.  Nothing is lost: `signalled` rises only
 * while consumers wait, and each signal brings one of them back (or finds
 * them all back already), so it comes down again, and the consumer that
 * brings it down looks at the queue under the same lock.
 */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "lockq.h"
#include "probe.h"
#include "spin.h"

struct lockq {
	pthread_mutex_t	 lock;
	pthread_cond_t	 not_empty;
	pthread_cond_t	 not_full;
	pthread_cond_t	 drained;
	size_t		 capacity;
	size_t		 head;		/* next pop */
	/*
	 * Written under the lock; read without it by lockq_size_approx
	 * (relaxed: a hint, confirmed under the lock before any pop).
	 */
	_Atomic size_t	 count;
	struct spin	*spin;		/* NULL: no long spin */
	unsigned int	 pop_waiters;
	unsigned int	 signalled;	/* waiters signalled, not yet back */
	unsigned int	 push_waiters;
	unsigned int	 drain_waiters;
	void		**ring;
};

/* The queue's mutex; with LF_QUEUE_PROBE, counts and times contention. */
static inline void
lockq_lock(struct lockq *q)
{
#ifdef LF_QUEUE_PROBE
	struct timespec	 t0, t1;

	probe.locks++;
	if (pthread_mutex_trylock(&q->lock) == 0)
		return;
	probe.lock_contended++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&q->lock);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	probe.lock_wait_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
	    (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
#else
	pthread_mutex_lock(&q->lock);
#endif
}

int
lockq_create(struct lockq **out, size_t capacity)
{
	struct lockq		*q;
	pthread_condattr_t	 attr;
	int			 rc = -ENOMEM;

	*out = NULL;
	if (capacity == 0)
		return -EINVAL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -ENOMEM;
	if ((q->ring = calloc(capacity, sizeof(*q->ring))) == NULL)
		goto fail;
	if ((rc = -pthread_mutex_init(&q->lock, NULL)) != 0)
		goto fail;
	if ((rc = -pthread_cond_init(&q->not_empty, NULL)) != 0) {
		pthread_mutex_destroy(&q->lock);
		goto fail;
	}
	if ((rc = -pthread_cond_init(&q->not_full, NULL)) != 0) {
		pthread_cond_destroy(&q->not_empty);
		pthread_mutex_destroy(&q->lock);
		goto fail;
	}
	if ((rc = -pthread_condattr_init(&attr)) == 0) {
		if ((rc = -pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) == 0)
			rc = -pthread_cond_init(&q->drained, &attr);
		pthread_condattr_destroy(&attr);
	}
	if (rc != 0) {
		pthread_cond_destroy(&q->not_full);
		pthread_cond_destroy(&q->not_empty);
		pthread_mutex_destroy(&q->lock);
		goto fail;
	}
	q->capacity = capacity;
	*out = q;
	return 0;

fail:
	free(q->ring);
	free(q);
	return rc;
}

void
lockq_free(struct lockq *q)
{
	if (q == NULL)
		return;
	pthread_cond_destroy(&q->drained);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
}

/* The count, with the lock held (relaxed: the lock orders it). */
static inline size_t
lockq_count(const struct lockq *q)
{
	return atomic_load_explicit(&q->count, memory_order_relaxed);
}

/* Called with the lock held and room in the ring. */
static inline void
lockq_put(struct lockq *q, void *item)
{
	size_t	 n = lockq_count(q), i = q->head + n;

	if (i >= q->capacity)
		i -= q->capacity;
	q->ring[i] = item;
	atomic_store_explicit(&q->count, n + 1, memory_order_relaxed);
}

/* Called with the lock held and an item in the ring. */
static inline void *
lockq_take(struct lockq *q)
{
	void	*item = q->ring[q->head];

	if (++q->head == q->capacity)
		q->head = 0;
	atomic_store_explicit(&q->count, lockq_count(q) - 1,
	    memory_order_relaxed);
	return item;
}

/* Called with the lock held after a pop: whether to wake a producer. */
static inline bool
lockq_room(const struct lockq *q)
{
	return q->push_waiters > 0 && lockq_count(q) <= q->capacity / 2;
}

/* Called with the lock held after a pop: whether to wake lockq_wait_empty. */
static inline bool
lockq_emptied(const struct lockq *q)
{
	return q->drain_waiters > 0 && lockq_count(q) == 0;
}

/* After the unlock: the producers a pop said to wake. */
static void
lockq_wake_producers(struct lockq *q, bool room, bool emptied)
{
	if (room)
		pthread_cond_signal(&q->not_full);
	if (emptied)
		pthread_cond_broadcast(&q->drained);
}

/*
 * Called with the lock held after a push: whether to wake a consumer.  Not
 * while one spins (relaxed: the lock orders it against the spinner's
 * decrement, as the top of this file says), nor while one signalled has not
 * yet come back from its wait (the token): that one passes the wake on.
 */
static inline bool
lockq_wake_consumer(struct lockq *q)
{
	if (q->pop_waiters == 0 || q->signalled > 0 || (q->spin != NULL &&
	    atomic_load_explicit(&q->spin->active, memory_order_relaxed) > 0))
		return false;
	q->signalled++;
	return true;
}

/*
 * Called with the lock held and an item in the ring, by a consumer that
 * has just left its spell: takes the item, says in *ROOM whether to wake a
 * producer and returns how many waiting consumers to wake for the items
 * left, which producers did not signal while it spun.
 */
static int
lockq_take_spun(struct lockq *q, void **item, bool *room, bool *emptied)
{
	size_t	 n;

	*item = lockq_take(q);
	*room = lockq_room(q);
	*emptied = lockq_emptied(q);
	if (q->signalled > 0)
		return 0;	/* that one passes the wake on */
	n = lockq_count(q);
	if (n > q->pop_waiters)
		n = q->pop_waiters;
	q->signalled += (unsigned int)n;
	return (int)n;
}

/* After the unlock: N consumers and maybe producers, as lockq_take_spun said. */
static void
lockq_wake_spun(struct lockq *q, int n, bool room, bool emptied)
{
	lockq_wake_producers(q, room, emptied);
	while (n-- > 0)
		pthread_cond_signal(&q->not_empty);
}

bool
lockq_try_push(struct lockq *q, void *item)
{
	bool	 wake;

	lockq_lock(q);
	if (lockq_count(q) == q->capacity) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	lockq_put(q, item);
	wake = lockq_wake_consumer(q);
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->not_empty);
	return true;
}

bool
lockq_try_pop(struct lockq *q, void **item)
{
	bool	 room, emptied;

	lockq_lock(q);
	if (lockq_count(q) == 0) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	*item = lockq_take(q);
	room = lockq_room(q);
	emptied = lockq_emptied(q);
	pthread_mutex_unlock(&q->lock);
	lockq_wake_producers(q, room, emptied);
	return true;
}

void
lockq_set_spin(struct lockq *q, struct spin *s)
{
	q->spin = s;
}

bool
lockq_spin_pop(struct lockq *q, void **item)
{
	bool	 room, emptied;
	int	 n;

	/* a spinner never sleeps on the mutex: busy, it polls on */
	PROBE(probe.locks++);
	if (pthread_mutex_trylock(&q->lock) != 0) {
		PROBE(probe.lock_contended++);
		return false;
	}
	if (lockq_count(q) == 0) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	/* under the lock: a producer that saw us spin is ordered with this */
	spin_leave(q->spin);
	n = lockq_take_spun(q, item, &room, &emptied);
	pthread_mutex_unlock(&q->lock);
	lockq_wake_spun(q, n, room, emptied);
	return true;
}

bool
lockq_pop_spun(struct lockq *q, void **item)
{
	bool	 room, emptied;
	int	 n;

	lockq_lock(q);
	if (lockq_count(q) == 0) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	n = lockq_take_spun(q, item, &room, &emptied);
	pthread_mutex_unlock(&q->lock);
	lockq_wake_spun(q, n, room, emptied);
	return true;
}

void
lockq_push(struct lockq *q, void *item)
{
	bool	 wake;

	lockq_lock(q);
	while (lockq_count(q) == q->capacity) {
		q->push_waiters++;
		PROBE(probe.sleeps++);
		pthread_cond_wait(&q->not_full, &q->lock);
		q->push_waiters--;
	}
	lockq_put(q, item);
	wake = lockq_wake_consumer(q);
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->not_empty);
}

void *
lockq_pop(struct lockq *q)
{
	void	*item;
	bool	 room, emptied, waited = false, wake;

	lockq_lock(q);
	while (lockq_count(q) == 0) {
		q->pop_waiters++;
		PROBE(probe.sleeps++);
		pthread_cond_wait(&q->not_empty, &q->lock);
		q->pop_waiters--;
		/* whether signalled or not: see the top of this file */
		if (q->signalled > 0)
			q->signalled--;
		waited = true;
	}
	item = lockq_take(q);
	room = lockq_room(q);
	emptied = lockq_emptied(q);
	/* back from a wait: pass the wake on for the items left */
	wake = waited && lockq_count(q) > 0 && lockq_wake_consumer(q);
	pthread_mutex_unlock(&q->lock);
	lockq_wake_producers(q, room, emptied);
	if (wake)
		pthread_cond_signal(&q->not_empty);
	return item;
}

void
lockq_kick(struct lockq *q)
{
	bool	 wake;

	lockq_lock(q);
	wake = lockq_count(q) > 0 && q->pop_waiters > 0;
	/*
	 * Not counted in `signalled`: while it is above zero a waiter already
	 * woken may be the only one left to come back, and two counts for
	 * one return would leave the token out for good.  Uncounted, the
	 * return it brings counts off one too many, which stops at zero.
	 */
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->not_empty);
}

bool
lockq_wait_empty(struct lockq *q, const struct timespec *deadline)
{
	bool	 empty;
	int	 rc = 0;

	lockq_lock(q);
	while (lockq_count(q) > 0 && rc != ETIMEDOUT) {
		q->drain_waiters++;
		PROBE(probe.sleeps++);
		rc = pthread_cond_timedwait(&q->drained, &q->lock, deadline);
		q->drain_waiters--;
	}
	empty = lockq_count(q) == 0;
	pthread_mutex_unlock(&q->lock);
	return empty;
}

size_t
lockq_capacity(const struct lockq *q)
{
	return q->capacity;
}

size_t
lockq_size_approx(struct lockq *q)
{
	/* Relaxed, without the lock: a snapshot; see `count`. */
	return atomic_load_explicit(&q->count, memory_order_relaxed);
}
