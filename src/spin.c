/*
 * spin.c - the long spin of idle workers: its rule and its count.
 *
 * Why.  On a machine with CPUs to spare, each request through a pool used
 * to cost a park and a wake: the worker finds the queue empty, spins about
 * a microsecond (queue.c), sleeps in FUTEX_WAIT; the reactor's next push
 * finds it parked and calls FUTEX_WAKE; two context switches follow.  On
 * the lent 16-core machine (server on 8 cores) that was 1.23 voluntary
 * context switches and 14.2 us of CPU per request, against nginx's 0.34 and
 * 10.1.  A worker that keeps polling for some tens of microseconds instead
 * takes the next item with no syscall on either side.
 *
 * But a spinner burns a CPU.  On two CPUs it burns the one the client (or
 * the reactor) needs, and 64 spinning workers on 8 CPUs would starve the
 * ones with work, so, as Go's scheduler limits its spinning Ms, the number
 * of spinners at once is capped (spin_enter) and a worker that finds the
 * cap reached parks at once.  The cap leaves half the CPUs to the
 * reactors and the workers that have work, but allows one spinner
 * whatever the reactors (spin_plan).
 *
 * Skipping the wake.  A producer that sees a spinner does not wake a
 * parked consumer: the spinner will take the item.  That is the store-load
 * (Dekker) pattern of park.c once more:
 *
 *	producer:  store the item ; FENCE ; load active
 *	spinner:   active-- ; FENCE ; load the queue (its re-check)
 *
 * If the producer's fence comes first, the spinner's re-check after its
 * own fence sees the item; if the spinner's comes first, the producer sees
 * the decrement.  Every spinner the producer counted looks at the queue
 * after leaving (queue.c, lockq.c): with an item in hand, from its spell
 * or from that last look, it then sees every item pushed while it was
 * counted and wakes a parked consumer for each one left (the producers
 * skipped all those wakes, and it may be the only spinner they counted);
 * empty-handed, it parks as any consumer does.
 * Under ThreadSanitizer, which does not model standalone fences, the
 * producer reads active with a seq_cst read-modify-write instead, as
 * park.c does: the spinner's decrement then reads from it and synchronises
 * with it.
 */
#include "config.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "spin.h"

#if defined(__SANITIZE_THREAD__)
#define SPIN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPIN_TSAN 1
#endif
#endif

void
spin_init(struct spin *s)
{
	s->ns = 0;
	s->max = 0;
	atomic_init(&s->active, 0);
}

void
spin_set(struct spin *s, unsigned us, unsigned max)
{
	s->ns = us > 0 && max > 0 ? (uint64_t)us * 1000 : 0;
	s->max = s->ns > 0 ? max : 0;
}

/*
 * At most CPUs/2 - reactors spinners, and at least one (4 CPUs and one
 * reactor: 1; 8 CPUs and 2 reactors: 2, with 4 reactors: 1; 16 CPUs and 4
 * reactors: 4).  SPIN_AUTO spins SPIN_AUTO_US from 4 CPUs on and not at
 * all below, where the spinner would take the CPU the client or the
 * reactor needs (measured on the 2-CPU VM, see the top of queue.c).  An
 * explicit number of microseconds spins whatever the CPUs.
 */
void
spin_plan(int setting, unsigned ncpu, unsigned reactors, unsigned *us,
    unsigned *max)
{
	unsigned cap = ncpu / 2 > reactors ? ncpu / 2 - reactors : 1;

	*us = 0;
	*max = 0;
	if (setting == SPIN_AUTO && ncpu >= 4) {
		*us = SPIN_AUTO_US;
		*max = cap;
	} else if (setting > 0) {
		*us = (unsigned)setting;
		*max = cap;
	}
}

/* Also what workers = 0 and reactors = 0 count (server_usable_cpus). */
unsigned
spin_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

bool
spin_enter(struct spin *s)
{
	unsigned n;

	/*
	 * Relaxed: the increment only lets producers skip wakes; a producer
	 * that misses it wakes someone as before.  Safety rests on the
	 * decrement in spin_leave.
	 */
	n = atomic_load_explicit(&s->active, memory_order_relaxed);
	do {
		if (n >= s->max)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&s->active, &n, n + 1,
	    memory_order_relaxed, memory_order_relaxed));
	return true;
}

void
spin_leave(struct spin *s)
{
	/*
	 * The spinner's half of the Dekker pattern above: seq_cst, and a
	 * fence before the caller's re-check of the queue.
	 */
	atomic_fetch_sub_explicit(&s->active, 1, memory_order_seq_cst);
#ifndef SPIN_TSAN
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

bool
spin_seen(struct spin *s)
{
	/* The producer's half: a fence, then the count. */
#ifdef SPIN_TSAN
	return atomic_fetch_add_explicit(&s->active, 0, memory_order_seq_cst) > 0;
#else
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(&s->active, memory_order_relaxed) > 0;
#endif
}

uint64_t
spin_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
spin_deadline(const struct spin *s)
{
	return spin_now_ns() + s->ns;
}

bool
spin_expired(uint64_t deadline)
{
	return spin_now_ns() >= deadline;
}
