/*
 * lockq.h - a bounded queue of pointers: a ring buffer under one pthread mutex
 * with not-empty / not-full condition variables (the Knot DNS pool's shape).
 */
#ifndef LF_LOCKQ_H
#define LF_LOCKQ_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct lockq;
struct spin;

int lockq_create(struct lockq **out, size_t capacity);	/* 0, -EINVAL, -ENOMEM */
void lockq_free(struct lockq *q);
bool lockq_try_push(struct lockq *q, void *item);
bool lockq_try_pop(struct lockq *q, void **item);
void lockq_push(struct lockq *q, void *item);	/* waits while full */
void *lockq_pop(struct lockq *q);		/* waits while empty */
size_t lockq_capacity(const struct lockq *q);
/* Without the lock: a hint, for stats and for spinners' polls. */
size_t lockq_size_approx(struct lockq *q);
/*
 * Consumers may spin (spin.h) on S's count, NULL: none.  Producers then
 * signal no waiting consumer while one spins.  Before any thread uses Q.
 */
void lockq_set_spin(struct lockq *q, struct spin *s);
/*
 * lockq_try_pop for a consumer counted as spinning in the queue's spin,
 * which fails rather than wait for a busy mutex: on success it stops being
 * counted (spin_leave, under the lock) and signals a waiting consumer for
 * each item left.  On failure it is still counted.
 */
bool lockq_spin_pop(struct lockq *q, void **item);
/*
 * lockq_try_pop for a consumer that has just stopped spinning (spin_leave,
 * before the call): on success it signals a waiting consumer for each item
 * left, as lockq_spin_pop does.
 */
bool lockq_pop_spun(struct lockq *q, void **item);
/*
 * Waits until the queue is empty or DEADLINE (CLOCK_MONOTONIC) passes;
 * true when it found the queue empty.
 */
bool lockq_wait_empty(struct lockq *q, const struct timespec *deadline);
/*
 * Signals a waiting consumer if items are queued, whatever the token says
 * (lockq.c): the backstop of a producer whose wait for the queue to empty
 * timed out.
 */
void lockq_kick(struct lockq *q);

#endif
