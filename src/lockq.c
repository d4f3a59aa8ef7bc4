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
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "lockq.h"
#include "probe.h"

struct lockq {
	pthread_mutex_t	 lock;
	pthread_cond_t	 not_empty;
	pthread_cond_t	 not_full;
	size_t		 capacity;
	size_t		 head;		/* next pop */
	size_t		 count;
	unsigned int	 pop_waiters;
	unsigned int	 push_waiters;
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
	struct lockq	*q;
	int		 rc = -ENOMEM;

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
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
}

/* Called with the lock held and room in the ring. */
static inline void
lockq_put(struct lockq *q, void *item)
{
	size_t	 i = q->head + q->count;

	if (i >= q->capacity)
		i -= q->capacity;
	q->ring[i] = item;
	q->count++;
}

/* Called with the lock held and an item in the ring. */
static inline void *
lockq_take(struct lockq *q)
{
	void	*item = q->ring[q->head];

	if (++q->head == q->capacity)
		q->head = 0;
	q->count--;
	return item;
}

/* Called with the lock held after a pop: whether to wake a producer. */
static inline bool
lockq_room(const struct lockq *q)
{
	return q->push_waiters > 0 && q->count <= q->capacity / 2;
}

bool
lockq_try_push(struct lockq *q, void *item)
{
	bool	 wake;

	lockq_lock(q);
	if (q->count == q->capacity) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	lockq_put(q, item);
	wake = q->pop_waiters > 0;
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->not_empty);
	return true;
}

bool
lockq_try_pop(struct lockq *q, void **item)
{
	bool	 wake;

	lockq_lock(q);
	if (q->count == 0) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	*item = lockq_take(q);
	wake = lockq_room(q);
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->not_full);
	return true;
}

void
lockq_push(struct lockq *q, void *item)
{
	bool	 wake;

	lockq_lock(q);
	while (q->count == q->capacity) {
		q->push_waiters++;
		pthread_cond_wait(&q->not_full, &q->lock);
		q->push_waiters--;
	}
	lockq_put(q, item);
	wake = q->pop_waiters > 0;
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->not_empty);
}

void *
lockq_pop(struct lockq *q)
{
	void	*item;
	bool	 wake;

	lockq_lock(q);
	while (q->count == 0) {
		q->pop_waiters++;
		pthread_cond_wait(&q->not_empty, &q->lock);
		q->pop_waiters--;
	}
	item = lockq_take(q);
	wake = lockq_room(q);
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->not_full);
	return item;
}

size_t
lockq_capacity(const struct lockq *q)
{
	return q->capacity;
}

size_t
lockq_size_approx(struct lockq *q)
{
	size_t	 n;

	lockq_lock(q);
	n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}
