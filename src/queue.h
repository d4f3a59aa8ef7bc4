/*
 * queue.h - the one small interface the worker pool takes: a bounded blocking
 * queue of non-NULL pointers, either the lock-free MPMC ring with eventcount
 * parking (QUEUE_LOCKFREE) or the mutex+condvar ring (QUEUE_LOCKED).
 *
 * push waits while the queue is full (backpressure: nothing is ever dropped);
 * pop waits while it is empty. Idle waiters sleep (no CPU): the lock-free
 * queue spins briefly, then parks on a futex eventcount.
 */
#ifndef LF_QUEUE_H
#define LF_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

enum queue_kind { QUEUE_LOCKFREE, QUEUE_LOCKED };

struct queue;

int queue_create(struct queue **out, enum queue_kind kind, size_t capacity);
void queue_free(struct queue *q);
/*
 * Lets idle consumers poll the queue for US microseconds before they park,
 * at most MAX of them at once (spin.h; spin_plan chooses both); 0 for either:
 * no long spin, the default.  Call before any thread uses the queue.
 */
void queue_set_spin(struct queue *q, unsigned us, unsigned max);
/* Never fails; returns true when it had to wait because the queue was full
 * (not when it only met a cell that a consumer was still emptying). */
bool queue_push(struct queue *q, void *item);
void *queue_pop(struct queue *q);
bool queue_try_push(struct queue *q, void *item);
bool queue_try_pop(struct queue *q, void **item);
/*
 * Waits until the queue is empty, for at most TIMEOUT_NS; true when it
 * found it empty.  For a producer that should let consumers take what it
 * pushed before it gathers more (the pool's reactor; queue.c says why).
 */
bool queue_wait_empty(struct queue *q, long timeout_ns);
size_t queue_capacity(const struct queue *q);
/* Items queued now, approximately (for the watchdog and stats). */
size_t queue_size_approx(struct queue *q);
enum queue_kind queue_kind(const struct queue *q);

#endif
