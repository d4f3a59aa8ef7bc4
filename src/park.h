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
#include <stdbool.h>
#include <stdint.h>

struct park {
	_Atomic uint32_t	seq;		/* bumped by every notify that sees waiters */
	_Atomic uint32_t	waiters;	/* threads between prepare and wait/cancel */
	_Atomic uint32_t	sleepers;	/* threads in FUTEX_WAIT not yet woken */
	_Atomic uint32_t	woken;		/* the token (park_notify_token); read as int32_t */
};

void park_init(struct park *p);
uint32_t park_prepare(struct park *p);
void park_cancel(struct park *p);
/*
 * Sleeps unless a notify happened since park_prepare returned KEY; true when
 * a notifier woke it (took it out of the kernel's wait), false when it did
 * not sleep, or woke for another reason.
 */
bool park_wait(struct park *p, uint32_t key);
/* park_wait for at most TIMEOUT_NS nanoseconds. */
void park_wait_for(struct park *p, uint32_t key, long timeout_ns);
void park_notify_one(struct park *p);
/* Wakes up to N (>= 1) sleepers with one syscall. */
void park_notify_many(struct park *p, int n);
void park_notify_all(struct park *p);

/*
 * The wake token, for waiters that each take one of the items a condition
 * counts (a queue's consumers), so that a burst of items wakes one sleeper
 * at a time rather than one per item:
 *
 *	notifier:  make an item available; park_notify_token(&p, n);
 *	waiter:    woke = park_wait(&p, key); try to take an item;
 *	           if (woke) { park_woke(&p);
 *	                       if (items are left) park_notify_token(&p, 1); }
 *
 * park_notify_token wakes up to N sleepers, unless a thread it or another
 * token notify woke has not yet called park_woke: that thread will look at
 * the items after its park_woke, and pass the wake on.  Every waiter whose
 * park_wait returned true must call park_woke after its attempt to take an
 * item, and every notify of P must count the threads it wakes: a token
 * notify, or park_kick.
 */
void park_notify_token(struct park *p, int n);
void park_woke(struct park *p);
/* Wakes one sleeper even while the token is out (a backstop), and counts it. */
void park_kick(struct park *p);

#endif
