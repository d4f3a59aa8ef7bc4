/*
 * queue.c - the blocking queue the worker pool takes: one interface over the
 * lock-free ring (mpmc.c) and the locked ring (lockq.c).
 *
 * The lock-free kind blocks with two eventcounts (park.c): consumers sleep on
 * not_empty and producers on not_full.  A thread that finds the queue empty
 * (full) first spins for a short while, because on a busy server the next
 * item is usually microseconds away and a sleep/wake pair costs two
 * syscalls; then it parks, so an idle worker uses no CPU.  Every successful
 * push notifies not_empty and every successful pop notifies not_full, but a
 * notify is only a fence and a load unless a thread is actually parked.
 * A third eventcount, drained, is for queue_wait_empty.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "lockq.h"
#include "mpmc.h"
#include "park.h"
#include "probe.h"
#include "queue.h"
#include "spin.h"

/*
 * Spin budget before parking: QUEUE_SPIN polls with a CPU pause between them
 * (around a microsecond in all), then QUEUE_YIELD polls with sched_yield()
 * between them, which lets the thread we wait for run when it shares our
 * CPU.  Measured with bench/queue_bench on a loaded 2-core VM: 32+2 beat
 * both parking at once (0+0) and longer spins (128+4, 512+4) at 1+1, 2+2
 * and 4+4 threads, capacities 1 and 8; spinning longer only burns the time
 * slice the other side needs.
 *
 * In the server the yields pay only when the process is confined to one
 * CPU, where the thread we wait for can run only if we step aside.  On two
 * CPUs shared with the client they hand the CPU to the client at the wrong
 * moment: lockfree static page, wrk -t2 -c64, 2 workers, 6 interleaved
 * rounds on the shared 2-CPU VM, 113k req/s with the yields and 137k
 * without (8 workers: 108k both).  So queue_create keeps them only when the
 * affinity mask holds one CPU (q->yields).
 *
 * The locked kind waits that way too, on one CPU only, and without the
 * pause spin (each poll takes its mutex): before this, the reactor that
 * fills a full queue and the worker that empties it took turns one item at
 * a time, each turn a condition variable wait and signal.  Server pinned to
 * one CPU, wrk -c64 on the other: locked 2.8 futex calls and 1.8 context
 * switches per request before, 0.001 and 0.25 after; 12.2 -> 4.9 us of
 * server CPU per request (3 interleaved rounds; sequential 11.7 -> 5.0).
 * (A pause spin on the ring's count, without the mutex, was tried with the
 * wake token and did not pay: 2 and 8 workers and sequential within the
 * spread of the rounds.)
 *
 * With CPUs to spare, that short spin is too short: on the lent 16-core
 * machine (server on 8 cores, wrk -t2 -c64) lockfree still paid 1.23
 * voluntary context switches per request against nginx's 0.34, a park and
 * a wake per request.  So, after it, up to a capped number of consumers
 * poll on for a spell (the long spin, spin.c; worker_spin_us), both kinds,
 * the locked one on its ring's count without the mutex; producers skip the
 * wake while one spins, and a spinner that leaves with an item wakes
 * consumers for the items left (queue_wake_rest, lockq.c).  The rule
 * (spin_plan) turns it off below four CPUs, where the spinner takes
 * the CPU that the reactor or the client needs.  Counted on the shared
 * 2-CPU VM, 2 workers, wrk -t2 -c64 -d3s, 3 interleaved rounds, with perf
 * stat and /proc/PID/task/.../status: forcing 50 us cut the workers'
 * voluntary switches per request from 0.11 to 0.045 (lockfree) and 0.18 to
 * 0.04 (locked), the process's futex calls from 0.60-0.64 to 0.51 and
 * 0.93-0.96 to 0.67-0.72, but raised involuntary switches from 0.12-0.15
 * to 0.15-0.18 and server CPU from 6-7.5 to 8-9 us per request; server
 * alone on one CPU, 5.2-5.6 to 8.6-9.1.  auto counted as 0 does there.
 */
#ifndef QUEUE_SPIN
#define QUEUE_SPIN	32
#endif
#ifndef QUEUE_YIELD
#define QUEUE_YIELD	2
#endif

#define QUEUE_LINE	64

struct queue {
	enum queue_kind		 kind;
	size_t			 capacity;
	int			 yields;	/* QUEUE_YIELD on one CPU, else 0 */
	struct mpmc		*mpmc;
	struct lockq		*lockq;
	struct spin		 spin;		/* the long spin (spin.h), own line */
	/* Written only when someone parks; apart from the fields above. */
	_Alignas(QUEUE_LINE) struct park not_empty;
	_Alignas(QUEUE_LINE) struct park not_full;
	_Alignas(QUEUE_LINE) struct park drained;	/* queue_wait_empty */
};


int
queue_create(struct queue **out, enum queue_kind kind, size_t capacity)
{
	struct queue	*q;
	void		*mem;
	int		 rc;

	*out = NULL;
	if (capacity == 0)
		return -EINVAL;
	if (kind != QUEUE_LOCKFREE && kind != QUEUE_LOCKED)
		return -EINVAL;
	if (posix_memalign(&mem, QUEUE_LINE, sizeof(*q)) != 0)
		return -ENOMEM;
	q = mem;
	q->kind = kind;
	q->capacity = capacity;
	/* on one CPU only (taskset, CPUAffinity=) */
	q->yields = spin_cpus() == 1 ? QUEUE_YIELD : 0;
	q->mpmc = NULL;
	q->lockq = NULL;
	spin_init(&q->spin);
	park_init(&q->not_empty);
	park_init(&q->not_full);
	park_init(&q->drained);
	if (kind == QUEUE_LOCKFREE)
		rc = mpmc_create(&q->mpmc, capacity);
	else
		rc = lockq_create(&q->lockq, capacity);
	if (rc != 0) {
		free(q);
		return rc;
	}
	*out = q;
	return 0;
}

void
queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	mpmc_free(q->mpmc);
	lockq_free(q->lockq);
	free(q);
}

void
queue_set_spin(struct queue *q, unsigned us, unsigned max)
{
	spin_set(&q->spin, us, max);
	if (q->lockq != NULL)
		lockq_set_spin(q->lockq, q->spin.max > 0 ? &q->spin : NULL);
}

/*
 * After a push: wakes a parked consumer, unless one is spinning and will
 * take the item (spin.c says why nothing is lost), or one woken by an
 * earlier push has not yet looked at the queue: the wake token (park.h).
 * That one, once it has popped, wakes the next if items are left
 * (queue_park_pop), so a burst of pushes wakes consumers one at a time,
 * each only if the ones awake leave items over.  A wake per push woke every
 * parked worker for a few items each: static page, wrk -t2 -c64 on the
 * shared 2-CPU VM, 5 interleaved rounds, lockfree with 8 workers 74.1k
 * req/s at 21.4 us of server CPU and 0.97 voluntary switches per request;
 * with the token 161k, 5.9 us and 0.11 (64 workers 77.1k -> 172k; locked,
 * lockq.c's token, 8 workers 76.9k -> 163k; 2 workers within the spread).
 * docs/BENCHMARKS.md, "Waking one worker at a time".
 */
static void
queue_notify_item(struct queue *q)
{
	if (q->spin.max > 0 && spin_seen(&q->spin))
		return;
	park_notify_token(&q->not_empty, 1);
}

/*
 * After a pop: wakes a producer parked on a full queue only once the queue
 * is down to half its capacity, so that it pushes a batch before it meets
 * a full queue again.  Woken at every pop, the reactor that fills the queue
 * from a batch of epoll events and the workers that empty it took turns one
 * item at a time, each turn a futex wake, a futex wait and two context
 * switches.  Safe because consumers pop until the queue is empty (a parked
 * producer means a full queue, so there is work for them), and the pop
 * that takes the size to half or below sees it: consumers' pops are ordered
 * by their CAS on the head, and a stale tail only makes the size smaller.
 */
static void
queue_notify_room(struct queue *q)
{
	size_t	 n = mpmc_size_approx(q->mpmc);

	if (n <= q->capacity / 2)
		park_notify_one(&q->not_full);
	/* the same argument for the pop that empties it */
	if (n == 0)
		park_notify_all(&q->drained);
}

bool
queue_try_push(struct queue *q, void *item)
{
	if (q->kind == QUEUE_LOCKED)
		return lockq_try_push(q->lockq, item);
	if (!mpmc_try_push(q->mpmc, item))
		return false;
	queue_notify_item(q);
	return true;
}

bool
queue_try_pop(struct queue *q, void **item)
{
	if (q->kind == QUEUE_LOCKED)
		return lockq_try_pop(q->lockq, item);
	if (!mpmc_try_pop(q->mpmc, item))
		return false;
	queue_notify_room(q);
	return true;
}

/*
 * One push attempt of a waiting producer; *FULL is set when it met a truly
 * full queue, which is what stats' queue_full counts (a cell still being
 * emptied by a consumer in flight is not "full").
 */
static bool
queue_offer(struct queue *q, void *item, bool *full)
{
	enum mpmc_offer r = mpmc_offer(q->mpmc, item);

	if (r == MPMC_FULL)
		*full = true;
	return r == MPMC_PUSHED;
}

/* Spin for a while; true once the push succeeded. */
static bool
queue_spin_push(struct queue *q, void *item, bool *full)
{
	int	 i;

	for (i = 0; i < QUEUE_SPIN; i++) {
		spin_relax();
		if (queue_offer(q, item, full))
			return true;
	}
	for (i = 0; i < q->yields; i++) {
		sched_yield();
		if (queue_offer(q, item, full))
			return true;
	}
	return false;
}

static bool
queue_spin_pop(struct queue *q, void **item)
{
	int	 i;

	for (i = 0; i < QUEUE_SPIN; i++) {
		spin_relax();
		if (mpmc_try_pop(q->mpmc, item))
			return true;
	}
	for (i = 0; i < q->yields; i++) {
		sched_yield();
		if (mpmc_try_pop(q->mpmc, item))
			return true;
	}
	return false;
}

/* The locked kind's wait before its condition variable: yields, on one CPU. */
static bool
queue_yield_lockq_push(struct queue *q, void *item)
{
	int	 i;

	for (i = 0; i < q->yields; i++) {
		sched_yield();
		if (lockq_try_push(q->lockq, item))
			return true;
	}
	return false;
}

static bool
queue_yield_lockq_pop(struct queue *q, void **item)
{
	int	 i;

	for (i = 0; i < q->yields; i++) {
		sched_yield();
		if (lockq_try_pop(q->lockq, item))
			return true;
	}
	return false;
}

/*
 * A consumer that has just left its spell took an item: it wakes parked
 * consumers for the items still queued, up to one each, with one syscall.
 * Producers skipped those wakes while it spun, and the items they pushed
 * meanwhile are all visible to it now (spin.c), so nobody else will.
 * Costs a fence and a load when nobody is parked.
 */
static void
queue_wake_rest(struct queue *q)
{
	size_t	 n = mpmc_size_approx(q->mpmc);

	if (n > 0)
		park_notify_token(&q->not_empty, n > INT_MAX ? INT_MAX : (int)n);
}

/*
 * The long spin (spin.h): polls the queue until an item or the end of the
 * spell, unless the cap on spinners is reached.  Polling an empty ring
 * only reads (no CAS).  Once it has stopped counting as a spinner it looks
 * once more (the re-check that spin.c's pairing rests on), and with an
 * item it wakes consumers for the rest; empty-handed, the caller parks.
 */
static bool
queue_spin_long_pop(struct queue *q, void **item)
{
	uint64_t	 deadline;
	unsigned	 i;
	bool		 got = false;

	if (q->spin.max == 0 || !spin_enter(&q->spin))
		return false;
	deadline = spin_deadline(&q->spin);
	for (i = 1; !got; i++) {
		spin_relax();
		got = mpmc_try_pop(q->mpmc, item);
		/* the clock every 16 polls: a vDSO call, a syscall on some VMs */
		if (!got && i % 16 == 0 && spin_expired(deadline))
			break;
	}
	spin_leave(&q->spin);
	if (!got)
		got = mpmc_try_pop(q->mpmc, item);
	if (got)
		queue_wake_rest(q);
	return got;
}

/*
 * The locked kind's long spin: polls the ring's occupancy, a relaxed load,
 * without the mutex, which it takes only when there is something to pop.
 */
static bool
queue_spin_long_lockq_pop(struct queue *q, void **item)
{
	uint64_t	 deadline;
	unsigned	 i;

	if (q->spin.max == 0 || !spin_enter(&q->spin))
		return false;
	deadline = spin_deadline(&q->spin);
	for (i = 1; ; i++) {
		spin_relax();
		/* leaves the spin itself, under the mutex, when it pops */
		if (lockq_size_approx(q->lockq) > 0 &&
		    lockq_spin_pop(q->lockq, item))
			return true;
		if (i % 16 == 0 && spin_expired(deadline))
			break;
	}
	spin_leave(&q->spin);
	return lockq_pop_spun(q->lockq, item);
}

/* Park until the push succeeds: the waiter's side of park.h's protocol. */
static void
queue_park_push(struct queue *q, void *item, bool *full)
{
	uint32_t	 key;

	for (;;) {
		key = park_prepare(&q->not_full);
		if (queue_offer(q, item, full)) {
			park_cancel(&q->not_full);
			return;
		}
		PROBE(probe.sleeps++);
		park_wait(&q->not_full, key);
		if (queue_offer(q, item, full))
			return;
	}
}

static void *
queue_park_pop(struct queue *q)
{
	void		*item;
	uint32_t	 key;
	bool		 woke, got;

	for (;;) {
		key = park_prepare(&q->not_empty);
		if (mpmc_try_pop(q->mpmc, &item)) {
			park_cancel(&q->not_empty);
			return item;
		}
		PROBE(probe.sleeps++);
		woke = park_wait(&q->not_empty, key);
		got = mpmc_try_pop(q->mpmc, &item);
		if (woke) {
			/* the token (queue_notify_item): pass the wake on */
			park_woke(&q->not_empty);
			if (mpmc_size_approx(q->mpmc) > 0)
				park_notify_token(&q->not_empty, 1);
		}
		if (got)
			return item;
	}
}

bool
queue_push(struct queue *q, void *item)
{
	bool	 full = false;

	if (q->kind == QUEUE_LOCKED) {
		if (lockq_try_push(q->lockq, item))
			return false;
		/* it met a full queue, however long it then waits */
		if (!queue_yield_lockq_push(q, item))
			lockq_push(q->lockq, item);
		return true;
	}
	if (!queue_offer(q, item, &full) && !queue_spin_push(q, item, &full))
		queue_park_push(q, item, &full);
	queue_notify_item(q);
	return full;
}

void *
queue_pop(struct queue *q)
{
	void	*item;

	if (q->kind == QUEUE_LOCKED) {
		if (lockq_try_pop(q->lockq, &item) ||
		    queue_yield_lockq_pop(q, &item) ||
		    queue_spin_long_lockq_pop(q, &item))
			return item;
		return lockq_pop(q->lockq);
	}
	if (!mpmc_try_pop(q->mpmc, &item) && !queue_spin_pop(q, &item) &&
	    !queue_spin_long_pop(q, &item))
		item = queue_park_pop(q);
	queue_notify_room(q);
	return item;
}

/*
 * The backstop of the wake token (queue_notify_item): when a producer's
 * wait for the queue to empty times out with items still queued, a parked
 * consumer is woken whatever the token says.  The token loses no wake, but
 * the worker holding it may not have run yet, and the others may all be
 * busy or blocked in handlers; this bounds how long items wait for them.
 */
static void
queue_kick(struct queue *q)
{
	if (q->kind == QUEUE_LOCKED)
		lockq_kick(q->lockq);
	else if (mpmc_size_approx(q->mpmc) > 0)
		park_kick(&q->not_empty);
}

/*
 * The pop that empties the queue notifies `drained` (queue_notify_room; the
 * locked kind broadcasts its own condition variable), so the wait costs no
 * syscall on the consumers' side unless someone waits.  Only the one-CPU
 * yields come first, not the pause spin of the other waits: the producer
 * waits for consumers that need the CPU it would spin on (measured in the
 * pool, lockfree, 2 shared CPUs, 3 rounds: 197k req/s and 4.97 us of server
 * CPU per request without the spin, 192k and 5.17 with it).  The wait is
 * timed: a producer waits for everybody's items, not only its own.  A wake
 * can be stale: the emptying pop of the previous batch may notify after
 * the producer saw the queue empty and pushed again, so it waits on until
 * the queue is empty or the deadline.
 */
bool
queue_wait_empty(struct queue *q, long timeout_ns)
{
	uint64_t	 deadline, now;
	uint32_t	 key;
	int		 i;

	for (i = 0; i < q->yields; i++) {
		if (queue_size_approx(q) == 0)
			return true;
		sched_yield();
	}
	if (queue_size_approx(q) == 0)
		return true;
	deadline = spin_now_ns() + (uint64_t)timeout_ns;
	if (q->kind == QUEUE_LOCKED) {
		if (lockq_wait_empty(q->lockq, &(struct timespec){
		    .tv_sec = (time_t)(deadline / 1000000000u),
		    .tv_nsec = (long)(deadline % 1000000000u) }))
			return true;
		queue_kick(q);
		return false;
	}
	for (;;) {
		key = park_prepare(&q->drained);
		if (mpmc_size_approx(q->mpmc) == 0) {
			park_cancel(&q->drained);
			return true;
		}
		if ((now = spin_now_ns()) >= deadline) {
			park_cancel(&q->drained);
			queue_kick(q);
			return false;
		}
		PROBE(probe.sleeps++);
		park_wait_for(&q->drained, key, (long)(deadline - now));
	}
}

size_t
queue_capacity(const struct queue *q)
{
	return q->capacity;
}

size_t
queue_size_approx(struct queue *q)
{
	return q->kind == QUEUE_LOCKED ? lockq_size_approx(q->lockq) :
	    mpmc_size_approx(q->mpmc);
}

enum queue_kind
queue_kind(const struct queue *q)
{
	return q->kind;
}
