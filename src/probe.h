/*
 * probe.h - contention counters of the two queues, compiled in only for
 * bench/queue_bench (-DLF_QUEUE_PROBE) so the daemon pays nothing: the
 * lock-free queue counts failed CAS attempts (a retry at another position),
 * the locked queue counts contended lock acquisitions and the time spent
 * waiting for the lock; both count the times a thread went to sleep on an
 * empty or full queue. Counters are per thread; the benchmark sums them.
 */
#ifndef LF_PROBE_H
#define LF_PROBE_H

#ifdef LF_QUEUE_PROBE
#include <stdint.h>

struct probe {
	uint64_t	 cas_ok;	/* successful head/tail CAS */
	uint64_t	 cas_retry;	/* a failed CAS or a stale position */
	uint64_t	 locks;		/* lock acquisitions */
	uint64_t	 lock_contended; /* ... that found the lock taken */
	uint64_t	 lock_wait_ns;	/* time spent waiting for it */
	uint64_t	 sleeps;	/* FUTEX_WAITs (park) or condvar waits */
};
extern _Thread_local struct probe probe;
#define PROBE(stmt)	do { stmt; } while (0)
#else
#define PROBE(stmt)	do { } while (0)
#endif

#endif
