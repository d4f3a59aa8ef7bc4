/*
 * test_queue.c - the blocking queue interface over both kinds: the API's
 * answers (create errors, try calls, push reporting "had to wait"), then a
 * stress run of P producers x C consumers through capacities 1, 2, 7 and 64.
 * Each producer pushes items encoding (producer, sequence); the run checks
 * that every item arrives exactly once and that each consumer sees each
 * producer's sequence numbers increase.  A lost wakeup shows as a hang, which
 * the alarm turns into a failure.  queue_wait_empty is checked the same way:
 * its timeout, and batch after batch ended by the pop that empties the queue.
 *
 * LF_STRESS_ITEMS overrides the number of items per configuration (both
 * kinds); sanitizer builds use fewer by default since they run several times
 * slower.
 */

#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"
#include "tap.h"
#include "testwait.h"

/*
 * Items per configuration.  The locked queue sleeps and wakes a thread on
 * almost every item at small capacities (tens of microseconds each on a
 * small VM), so it gets fewer to keep the test near ten seconds.
 */
#ifdef SANITIZED
static const size_t default_items[] = { 20000, 3000 };
#else
static const size_t default_items[] = { 200000, 30000 };
#endif

/* (producer, sequence) in one non-NULL word; producer 0 is encoded as 1. */
#define ENCODE(p, s)	((void *)(uintptr_t)(((uint64_t)(p) + 1) << 32 | (s)))
#define PRODUCER(it)	((size_t)((uint64_t)(uintptr_t)(it) >> 32) - 1)
#define SEQUENCE(it)	((size_t)((uint64_t)(uintptr_t)(it) & 0xffffffffu))
/* Distinct from every encoded item: its producer field is 0. */
#define STOP		((void *)(uintptr_t)1)

#define MAXP		8

static const char *kind_name[] = { "lockfree", "locked" };

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_api(enum queue_kind kind)
{
	struct queue	*q = (void *)1;
	void		*item;
	const char	*k = kind_name[kind];
	size_t		 i, n;

	ok(queue_create(&q, kind, 0) == -EINVAL && q == NULL,
	    "%s: capacity 0 is refused", k);
	ok(queue_create(&q, (enum queue_kind)7, 4) == -EINVAL,
	    "%s: an unknown kind is refused", k);
	if (!ok(queue_create(&q, kind, 3) == 0, "%s: create capacity 3", k))
		return;
	ok(queue_capacity(q) == 3 && queue_kind(q) == kind,
	    "%s: capacity and kind reported", k);
	ok(!queue_try_pop(q, &item), "%s: try_pop on empty fails", k);
	for (n = 0, i = 0; i < 3; i++)
		n += !queue_push(q, ENCODE(0, i));
	ok(n == 3, "%s: pushes with room report no wait", k);
	ok(!queue_try_push(q, ENCODE(0, 9)), "%s: try_push on full fails", k);
	ok(queue_try_pop(q, &item) && item == ENCODE(0, 0),
	    "%s: try_pop returns the oldest item", k);
	ok(queue_try_push(q, ENCODE(0, 3)), "%s: try_push with room", k);
	for (n = 0, i = 1; i <= 3; i++)
		n += queue_pop(q) == ENCODE(0, i);
	ok(n == 3, "%s: blocking pops return the rest in order", k);
	queue_free(q);
	queue_free(NULL);
}

struct waitpush {
	struct queue	*q;
	_Atomic int	 done;
	bool		 waited;
	void		*popped;
};

static void *
waitpush_run(void *arg)
{
	struct waitpush	*w = arg;

	w->waited = queue_push(w->q, ENCODE(0, 2));
	atomic_store(&w->done, 1);
	return NULL;
}

static void *
waitpop_run(void *arg)
{
	struct waitpush	*w = arg;

	w->popped = queue_pop(w->q);
	atomic_store(&w->done, 1);
	return NULL;
}

/* A push into a full queue waits for a pop and says so; pop waits too. */
static void
test_waits(enum queue_kind kind)
{
	struct waitpush	 w;
	pthread_t	 t;
	const char	*k = kind_name[kind];

	if (queue_create(&w.q, kind, 1) != 0) {
		ok(0, "%s: waits setup", k);
		return;
	}
	atomic_init(&w.done, 0);
	queue_push(w.q, ENCODE(0, 1));
	pthread_create(&t, NULL, waitpush_run, &w);
	sleep_us(100000);
	ok(atomic_load(&w.done) == 0, "%s: push into a full queue waits", k);
	ok(queue_pop(w.q) == ENCODE(0, 1), "%s: pop makes room", k);
	pthread_join(t, NULL);
	ok(w.waited, "%s: the push that waited returns true", k);
	ok(queue_pop(w.q) == ENCODE(0, 2), "%s: and its item arrives", k);

	atomic_store(&w.done, 0);
	pthread_create(&t, NULL, waitpop_run, &w);
	sleep_us(100000);
	ok(atomic_load(&w.done) == 0, "%s: pop from an empty queue waits", k);
	ok(!queue_push(w.q, ENCODE(0, 3)), "%s: push with room, no wait", k);
	pthread_join(t, NULL);
	ok(w.popped == ENCODE(0, 3), "%s: the waiting pop gets the item", k);
	queue_free(w.q);
}

struct drain {
	struct queue	*q;
	long		 delay_ms;	/* before the first pop */
	size_t		 rounds;	/* batches, for drain_consumer */
	_Atomic int	 stop;
};

/* Sleeps DELAY_MS, then pops until the queue is empty. */
static void *
drain_later(void *arg)
{
	struct drain	*d = arg;
	void		*item;

	sleep_us(1000L * d->delay_ms);
	while (queue_try_pop(d->q, &item))
		sleep_us(5000);
	return NULL;
}

/* Pops until STOP, as a pool worker does. */
static void *
drain_consumer(void *arg)
{
	struct drain	*d = arg;

	while (queue_pop(d->q) != STOP)
		;
	return NULL;
}

/*
 * queue_wait_empty, the reactor's wait after a batch: true at once on an
 * empty queue; false after about its timeout when nobody pops; true when
 * the pop that empties the queue comes, long before its timeout; and, many
 * batches through two consumers, never a missed wake-up (each wait is given
 * 10 s, so a lost one shows as a false).
 */
static void
test_wait_empty(enum queue_kind kind, size_t rounds)
{
	struct drain	 d;
	pthread_t	 t, c[2];
	const char	*k = kind_name[kind];
	size_t		 i, j, missed = 0;
	double		 t0, dt;
	bool		 empty;

	if (queue_create(&d.q, kind, 8) != 0) {
		ok(0, "%s: wait_empty setup", k);
		return;
	}
	t0 = now();
	ok(queue_wait_empty(d.q, 5000000000L) && now() - t0 < 1.0,
	    "%s: wait_empty on an empty queue returns true at once", k);
	for (i = 0; i < 3; i++)
		queue_push(d.q, ENCODE(0, i));
	t0 = now();
	empty = queue_wait_empty(d.q, 50000000L);
	dt = now() - t0;
	ok(!empty && dt >= 0.04 && dt < 2.0,
	    "%s: nobody pops: false after its timeout (%.3f s for 0.05)", k, dt);
	d.delay_ms = 100;
	pthread_create(&t, NULL, drain_later, &d);
	t0 = now();
	empty = queue_wait_empty(d.q, 10000000000L);
	dt = now() - t0;
	pthread_join(t, NULL);
	ok(empty && dt >= 0.09 && dt < 5.0,
	    "%s: the pop that empties the queue ends the wait (%.3f s)", k, dt);

	atomic_init(&d.stop, 0);
	for (j = 0; j < 2; j++)
		pthread_create(&c[j], NULL, drain_consumer, &d);
	t0 = now();
	for (i = 0; i < rounds; i++) {
		for (j = 0; j < 1 + i % 8; j++)
			queue_push(d.q, ENCODE(0, j));
		missed += !queue_wait_empty(d.q, 10000000000L);
	}
	for (j = 0; j < 2; j++)
		queue_push(d.q, STOP);
	for (j = 0; j < 2; j++)
		pthread_join(c[j], NULL);
	ok(missed == 0, "%s: %zu batches through 2 consumers, every wait "
	    "ended by the emptying pop (%zu did not; %.2f s)", k, rounds,
	    missed, now() - t0);
	queue_free(d.q);
}

struct stress {
	struct queue	*q;
	size_t		 nprod;
	size_t		 per;		/* items per producer */
	_Atomic unsigned char *seen;	/* [producer * per + sequence] */
	_Atomic size_t	 received;
	_Atomic size_t	 order_errors;
	_Atomic size_t	 bad_items;
	_Atomic size_t	 full_waits;
};

struct worker {
	struct stress	*s;
	size_t		 id;
	pthread_t	 thread;
};

static void *
stress_producer(void *arg)
{
	struct worker	*w = arg;
	struct stress	*s = w->s;
	size_t		 seq, waits = 0;

	for (seq = 0; seq < s->per; seq++)
		waits += queue_push(s->q, ENCODE(w->id, seq));
	atomic_fetch_add(&s->full_waits, waits);
	return NULL;
}

static void *
stress_consumer(void *arg)
{
	struct worker	*w = arg;
	struct stress	*s = w->s;
	size_t		 last[MAXP], p, seq, n = 0, i;
	void		*item;

	for (i = 0; i < MAXP; i++)
		last[i] = SIZE_MAX;
	while ((item = queue_pop(s->q)) != STOP) {
		p = PRODUCER(item);
		seq = SEQUENCE(item);
		if (item == NULL || p >= s->nprod || seq >= s->per) {
			atomic_fetch_add(&s->bad_items, 1);
			continue;
		}
		if (last[p] != SIZE_MAX && seq <= last[p])
			atomic_fetch_add(&s->order_errors, 1);
		last[p] = seq;
		atomic_fetch_add_explicit(&s->seen[p * s->per + seq], 1,
		    memory_order_relaxed);
		n++;
	}
	atomic_fetch_add(&s->received, n);
	return NULL;
}

static void
test_stress(enum queue_kind kind, size_t nprod, size_t ncons, size_t cap,
    size_t items)
{
	struct stress	 s;
	struct worker	 prod[MAXP], cons[MAXP];
	size_t		 i, total, wrong = 0;
	double		 t0;

	s.nprod = nprod;
	s.per = items / nprod;
	total = s.per * nprod;
	atomic_init(&s.received, 0);
	atomic_init(&s.order_errors, 0);
	atomic_init(&s.bad_items, 0);
	atomic_init(&s.full_waits, 0);
	if (queue_create(&s.q, kind, cap) != 0 ||
	    (s.seen = calloc(total, 1)) == NULL) {
		ok(0, "stress setup");
		return;
	}
	t0 = now();
	for (i = 0; i < ncons; i++) {
		cons[i] = (struct worker){ &s, i, 0 };
		pthread_create(&cons[i].thread, NULL, stress_consumer, &cons[i]);
	}
	for (i = 0; i < nprod; i++) {
		prod[i] = (struct worker){ &s, i, 0 };
		pthread_create(&prod[i].thread, NULL, stress_producer, &prod[i]);
	}
	for (i = 0; i < nprod; i++)
		pthread_join(prod[i].thread, NULL);
	for (i = 0; i < ncons; i++)
		queue_push(s.q, STOP);
	for (i = 0; i < ncons; i++)
		pthread_join(cons[i].thread, NULL);

	for (i = 0; i < total; i++)
		if (atomic_load_explicit(&s.seen[i], memory_order_relaxed) != 1)
			wrong++;
	ok(wrong == 0 && atomic_load(&s.received) == total &&
	    atomic_load(&s.bad_items) == 0,
	    "%s %zux%zu cap %zu: %zu items, each received exactly once",
	    kind_name[kind], nprod, ncons, cap, total);
	ok(atomic_load(&s.order_errors) == 0,
	    "%s %zux%zu cap %zu: per-producer FIFO in every consumer's stream",
	    kind_name[kind], nprod, ncons, cap);
	printf("# %.2f s, %zu pushes found the queue full\n", now() - t0,
	    atomic_load(&s.full_waits));
	free((void *)s.seen);
	queue_free(s.q);
}

/*
 * Confined to one CPU, a queue made then waits by yielding before it
 * sleeps, the locked kind too (queue.c): the same waits and the same
 * exchanges must hold on that path.
 */
static void
test_one_cpu(size_t items)
{
	cpu_set_t	 set;
	int		 cpu = sched_getcpu(), kind;

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (!ok(sched_setaffinity(0, sizeof(set), &set) == 0,
	    "confined to one CPU"))
		return;
	for (kind = QUEUE_LOCKFREE; kind <= QUEUE_LOCKED; kind++) {
		test_waits(kind);
		test_wait_empty(kind, 2000);
		test_stress(kind, 2, 2, 1, items ? items : default_items[kind]);
		test_stress(kind, 4, 1, 7, items ? items : default_items[kind]);
	}
}

int
main(void)
{
	static const size_t shapes[][2] = { {1, 1}, {4, 4}, {8, 2}, {2, 8} };
	static const size_t caps[] = { 1, 2, 7, 64 };
	size_t		 items = 0, i, j;
	const char	*env;
	int		 kind;

	if ((env = getenv("LF_STRESS_ITEMS")) != NULL && atol(env) > 0)
		items = (size_t)atol(env);
	alarm(300);	/* a lost wakeup is a failure, not a stuck make check */
	for (kind = QUEUE_LOCKFREE; kind <= QUEUE_LOCKED; kind++) {
		test_api(kind);
		test_waits(kind);
		test_wait_empty(kind, 20000);
	}
	for (kind = QUEUE_LOCKFREE; kind <= QUEUE_LOCKED; kind++)
		for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
			for (j = 0; j < sizeof(caps) / sizeof(caps[0]); j++)
				test_stress(kind, shapes[i][0], shapes[i][1],
				    caps[j], items ? items :
				    default_items[kind]);
	test_one_cpu(items);
	return done_testing();
}
