/*
 * park.h - a futex-based eventcount: lets a thread sleep until some condition
 * (e.g. "the queue is not empty") may have become true, without lost wakeups
 * and without a syscall on the notify side when nobody sleeps.
 *
 * Waiter:                               Notifier:
 *   for (;;) {                            make the condition true;
 *     if (try()) break;                   park_notify_one(&p);
 *     key = park_prepare(&p);
 *     if (try()) { park_cancel(&p); break; }
 *     park_wait(&p, key);
 *   }
 */
#ifndef LF_PARK_H
#define LF_PARK_H

#include <stdatomic.h>
#include <stdint.h>

struct park {
	_Atomic uint32_t	seq;		/* bumped by every notify that sees waiters */
	_Atomic uint32_t	waiters;	/* threads between prepare and wait/cancel */
	_Atomic uint32_t	sleepers;	/* threads in FUTEX_WAIT not yet woken */
};

void park_init(struct park *p);
uint32_t park_prepare(struct park *p);
void park_cancel(struct park *p);
/* Sleeps unless a notify happened since park_prepare returned KEY. */
void park_wait(struct park *p, uint32_t key);
/* park_wait for at most TIMEOUT_NS nanoseconds. */
void park_wait_for(struct park *p, uint32_t key, long timeout_ns);
void park_notify_one(struct park *p);
/* Wakes up to N (>= 1) sleepers with one syscall. */
void park_notify_many(struct park *p, int n);
void park_notify_all(struct park *p);

#endif
