/*
 * spin.h - the long spin of idle workers (queue.c): how long a consumer that
 * found its queue empty keeps polling it before it parks, and how many
 * consumers may poll at once.  The count of those spinning is also what lets
 * a producer skip waking a parked consumer: a spinner will take the item.
 *
 * The protocol, for a queue whose consumers park on an eventcount or a
 * condition variable:
 *
 *	consumer:  if (spin_enter(&s)) { poll until an item or spin_expired();
 *	           spin_leave(&s) (the decrement and a full fence);
 *	           without an item, look once more;
 *	           with one, wake a parked consumer for each item left;
 *	           else park as always }
 *	producer:  publish the item; if (!spin_seen(&s)) wake a parked consumer
 */
#ifndef LF_SPIN_H
#define LF_SPIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SPIN_LINE	64
/* The worker_spin_us setting that asks for spin_plan's rule. */
#define SPIN_AUTO	(-1)
/* The spell the rule chooses where it spins, in microseconds. */
#define SPIN_AUTO_US	50
#define SPIN_US_MAX	10000

struct spin {
	uint64_t		 ns;	/* one spell; 0: no long spin */
	unsigned		 max;	/* spinners at once; 0: no long spin */
	/* Written by every spell's start and end; apart from the above. */
	_Alignas(SPIN_LINE) _Atomic unsigned active;
};

/* No long spin: what a queue does until queue_set_spin. */
void spin_init(struct spin *s);
/* Spells of US microseconds (0: none), at most MAX spinners at once. */
void spin_set(struct spin *s, unsigned us, unsigned max);
/*
 * The rule for worker_spin_us = SETTING (SPIN_AUTO or 0..SPIN_US_MAX) on a
 * process that may run on NCPU CPUs and feeds its queue from REACTORS
 * threads: into *US and *MAX.  See lfserver.ini(5).
 */
void spin_plan(int setting, unsigned ncpu, unsigned reactors, unsigned *us,
    unsigned *max);
/* The CPUs this process may run on (its affinity mask; the online count if
 * that cannot be read), at least 1. */
unsigned spin_cpus(void);

/* Counts the caller as spinning unless MAX already are; false then. */
bool spin_enter(struct spin *s);
/* Stops counting the caller, then a full fence (see spin.c). */
void spin_leave(struct spin *s);
/* The producer's side: after publishing an item, whether anyone spins. */
bool spin_seen(struct spin *s);
/* CLOCK_MONOTONIC in nanoseconds, for deadlines (queue.c's too). */
uint64_t spin_now_ns(void);
/* The deadline of a spell begun now, and whether it has passed. */
uint64_t spin_deadline(const struct spin *s);
bool spin_expired(uint64_t deadline);

static inline void
spin_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif
