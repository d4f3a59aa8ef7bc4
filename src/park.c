/*
 * park.c - a futex-based eventcount.
 *
 * A waiter announces itself (waiters++), reads the current sequence number as
 * its key, re-checks its condition, and only then sleeps with
 * FUTEX_WAIT(seq, key): the kernel puts it to sleep only if seq still equals
 * key, so a notify that bumped seq after park_prepare() is never lost.
 *
 * A notifier that finds waiters == 0 returns without touching seq or making a
 * syscall, which keeps the queue's hot path free of syscalls while every
 * worker is busy.  Skipping the wakeup is safe only if "the condition became
 * true" and "someone announced they wait" cannot both go unseen.  That is the
 * store-load (Dekker) pattern:
 *
 *	waiter:   waiters++ ; FENCE ; load the condition
 *	notifier: store the condition ; FENCE ; load waiters
 *
 * Both fences are seq_cst, so they are totally ordered.  If the notifier's
 * fence comes first, the waiter's re-check sees the condition; if the
 * waiter's comes first, the notifier sees waiters > 0 and wakes it.  Without
 * the fences the CPU's store buffer could delay each side's store past its
 * own load (x86 allows exactly this reordering), both would read the old
 * values, and the waiter would sleep on an item nobody tells it about.
 *
 * ThreadSanitizer does not model standalone fences, so under TSan the
 * notifier reads waiters with a seq_cst read-modify-write instead: an RMW
 * always reads the latest value, and when it reads the value before the
 * waiter's increment, the waiter's (acq_rel) increment reads from it and
 * synchronises with it, so the waiter's re-check sees the condition.  That
 * variant is correct everywhere but makes every notify write the shared
 * cache line, which is why it is not the default.
 */

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "park.h"

#if defined(__SANITIZE_THREAD__)
#define PARK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PARK_TSAN 1
#endif
#endif

static void	park_wake(struct park *, int);

void
park_init(struct park *p)
{
	atomic_init(&p->seq, 0);
	atomic_init(&p->waiters, 0);
}

uint32_t
park_prepare(struct park *p)
{
	/* The waiter's half of the Dekker pattern described above. */
	atomic_fetch_add_explicit(&p->waiters, 1, memory_order_seq_cst);
#ifndef PARK_TSAN
	atomic_thread_fence(memory_order_seq_cst);
#endif
	/*
	 * Acquire pairs with the release in park_wake's seq increment: a key
	 * read after a notify also sees the condition that notify announced,
	 * so the caller's re-check cannot miss it and then sleep on the new key.
	 */
	return atomic_load_explicit(&p->seq, memory_order_acquire);
}

void
park_cancel(struct park *p)
{
	/* Only the notifier's skip-the-syscall decision reads this; relaxed. */
	atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
}

void
park_wait(struct park *p, uint32_t key)
{
	/*
	 * Returns on a wakeup, on seq != key (EAGAIN), on a signal (EINTR) or
	 * spuriously; callers loop and re-check their condition in any case.
	 */
	syscall(SYS_futex, &p->seq, FUTEX_WAIT_PRIVATE, key, NULL, NULL, 0);
	atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
}

static inline uint32_t
park_waiters(struct park *p)
{
#ifdef PARK_TSAN
	return atomic_fetch_add_explicit(&p->waiters, 0, memory_order_seq_cst);
#else
	/* The notifier's half of the Dekker pattern described above. */
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(&p->waiters, memory_order_relaxed);
#endif
}

static void
park_wake(struct park *p, int n)
{
	/*
	 * Release: pairs with the acquire load of the key in park_prepare.
	 * Bumping seq before the wake makes every waiter that has prepared
	 * but not yet entered the kernel return from FUTEX_WAIT at once.
	 */
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_release);
	syscall(SYS_futex, &p->seq, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

void
park_notify_one(struct park *p)
{
	if (park_waiters(p) != 0)
		park_wake(p, 1);
}

void
park_notify_all(struct park *p)
{
	if (park_waiters(p) != 0)
		park_wake(p, INT_MAX);
}
