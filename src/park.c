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
 * The syscall itself is skipped too while no thread is inside FUTEX_WAIT:
 * a waiter that has prepared but not yet slept, or that was woken but has not
 * run yet, still counts in waiters, and waking it again would find nobody in
 * the kernel (measured: 99% of wakes in a contended run).  So waiters also
 * count themselves in sleepers just before FUTEX_WAIT, and the pairing is
 * the same Dekker pattern one level down:
 *
 *	waiter:   sleepers++ ; (kernel: full barrier) ; kernel compares seq, key
 *	notifier: seq++ ; FENCE ; load sleepers
 *
 * The kernel orders the comparison after a full barrier and queues the
 * waiter under the futex bucket lock (kernel/futex/waitwake.c, barrier A),
 * so either it sees the new seq and returns EAGAIN, or the notifier sees the
 * sleeper and FUTEX_WAKE finds it queued.  FUTEX_WAKE returns how many
 * threads it dequeued, and the notifier takes exactly those off sleepers, so
 * a thread woken but not yet scheduled is not woken again by every later
 * notify; a waiter whose FUTEX_WAIT fails (EAGAIN, EINTR) was dequeued by
 * nobody and takes itself off.  (A stray wake of the same address from
 * unrelated code would leave sleepers one too high: more syscalls, never a
 * lost wakeup.)
 *
 * ThreadSanitizer does not model standalone fences, so under TSan the
 * notifier reads waiters and sleepers with a seq_cst read-modify-write
 * instead: an RMW always reads the latest value, and when it reads the value
 * before the waiter's increment, the waiter's (acq_rel) increment reads from
 * it and synchronises with it, so the waiter's re-check sees the condition.
 * That variant is correct everywhere but makes every notify write the shared
 * cache line, which is why it is not the default.
 *
 * The wake token (park.h) counts in `woken` the threads that token notifies
 * took out of FUTEX_WAIT (the count FUTEX_WAKE returns) and that have not
 * yet called park_woke.  A token notify skips its wake while woken > 0, and
 * that is safe by the same Dekker pattern a third time:
 *
 *	notifier: make the item available ; FENCE ; load woken
 *	woken:    woken-- ; FENCE ; look at the items
 *
 * If the notifier reads woken > 0, some woken thread's decrement comes after
 * that read (the increments it sees outnumber the decrements), so that
 * thread's fence comes after the notifier's and its look sees the item;
 * it then notifies in turn, and the same argument holds for the next one.
 * A woken thread's decrement may come before its notifier's increment:
 * woken is then briefly negative, and a notify meanwhile wakes one thread
 * more than needed, never one too few.
 */

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "park.h"

#if defined(__SANITIZE_THREAD__)
#define PARK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PARK_TSAN 1
#endif
#endif

static long	park_wake(struct park *, int);

void
park_init(struct park *p)
{
	atomic_init(&p->seq, 0);
	atomic_init(&p->waiters, 0);
	atomic_init(&p->sleepers, 0);
	atomic_init(&p->woken, 0);
}

/* A seq_cst fence, then X: the notifier's half of both Dekker patterns. */
static inline uint32_t
park_fenced_load(_Atomic uint32_t *x)
{
#ifdef PARK_TSAN
	return atomic_fetch_add_explicit(x, 0, memory_order_seq_cst);
#else
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(x, memory_order_relaxed);
#endif
}

uint32_t
park_prepare(struct park *p)
{
	/* The waiter's half of the first Dekker pattern described above. */
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
	/* Only the notifier's skip-the-wake decision reads this; relaxed. */
	atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
}

/* FUTEX_WAIT for at most TIMEOUT (NULL: no limit); true: a notifier woke us. */
static bool
park_sleep(struct park *p, uint32_t key, const struct timespec *timeout)
{
	bool	 woken;

	/*
	 * seq_cst, and the kernel adds a full barrier before it compares seq
	 * with key: the waiter's half of the second Dekker pattern.
	 */
	atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
	/*
	 * 0: a notifier dequeued us and has uncounted us.  Otherwise (EAGAIN:
	 * seq moved on; EINTR; ETIMEDOUT) nobody did, so we do.  Callers loop
	 * and re-check their condition in every case.
	 */
	woken = syscall(SYS_futex, &p->seq, FUTEX_WAIT_PRIVATE, key, timeout,
	    NULL, 0) == 0;
	if (!woken)
		atomic_fetch_sub_explicit(&p->sleepers, 1,
		    memory_order_relaxed);
	atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
	return woken;
}

bool
park_wait(struct park *p, uint32_t key)
{
	return park_sleep(p, key, NULL);
}

void
park_wait_for(struct park *p, uint32_t key, long timeout_ns)
{
	struct timespec	 t = { .tv_sec = timeout_ns / 1000000000L,
	    .tv_nsec = timeout_ns % 1000000000L };

	park_sleep(p, key, &t);
}

/* How many threads it took out of FUTEX_WAIT. */
static long
park_wake(struct park *p, int n)
{
	long	 woken;

	/*
	 * Release (seq_cst, for the fence that follows): pairs with the
	 * acquire load of the key in park_prepare.  Bumping seq before any
	 * wake makes every waiter that has prepared but not yet entered the
	 * kernel return from FUTEX_WAIT at once.
	 */
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_seq_cst);
	if (park_fenced_load(&p->sleepers) == 0)
		return 0;
	woken = syscall(SYS_futex, &p->seq, FUTEX_WAKE_PRIVATE, n, NULL, NULL,
	    0);
	if (woken <= 0)
		return 0;
	atomic_fetch_sub_explicit(&p->sleepers, (uint32_t)woken,
	    memory_order_relaxed);
	return woken;
}

void
park_notify_one(struct park *p)
{
	/* The notifier's half of the first Dekker pattern. */
	if (park_fenced_load(&p->waiters) != 0)
		park_wake(p, 1);
}

void
park_notify_many(struct park *p, int n)
{
	if (park_fenced_load(&p->waiters) != 0)
		park_wake(p, n);
}

void
park_notify_all(struct park *p)
{
	if (park_fenced_load(&p->waiters) != 0)
		park_wake(p, INT_MAX);
}

/* Wakes up to N and counts them in woken. */
static void
park_wake_counted(struct park *p, int n)
{
	long	 woken = park_wake(p, n);

	if (woken > 0)
		atomic_fetch_add_explicit(&p->woken, (uint32_t)woken,
		    memory_order_relaxed);
}

void
park_notify_token(struct park *p, int n)
{
	if (park_fenced_load(&p->waiters) == 0)
		return;
	/* the notifier's half of the token's pattern (woken may be negative) */
	if ((int32_t)park_fenced_load(&p->woken) > 0)
		return;
	park_wake_counted(p, n);
}

/*
 * Counted like the token's wakes: a wake the count missed would leave it
 * one lower for good, and with enough of them no token notify would ever
 * skip its wake again.
 */
void
park_kick(struct park *p)
{
	if (park_fenced_load(&p->waiters) != 0)
		park_wake_counted(p, 1);
}

void
park_woke(struct park *p)
{
	/* the woken thread's half; the caller looks at the items next */
	atomic_fetch_sub_explicit(&p->woken, 1, memory_order_seq_cst);
#ifndef PARK_TSAN
	atomic_thread_fence(memory_order_seq_cst);
#endif
}
