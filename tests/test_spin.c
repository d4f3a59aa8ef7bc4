/*
 * test_spin.c - the long spin of idle workers (spin.c, queue.c, lockq.c):
 * the rule that sizes it from the CPUs, the cap on spinners at once, a
 * producer skipping the wake of a parked consumer while one spins and the
 * spinner passing that wake on when it leaves items behind, and a stress
 * run in which consumers keep moving between spinning and parking while
 * producers push in bursts: every item arrives once, nothing hangs, and the
 * count of spinners is back to 0 at the end.
 *
 * It builds the queues' sources itself (as test_queue_full does) to watch
 * the eventcount and the locked ring from outside; liblf.a supplies the rest.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lockq.c"
#include "mpmc.c"
#include "park.c"
#include "queue.c"

#include "tap.h"
#include "testwait.h"

#ifdef SANITIZED
#define STRESS_ITEMS	4000
#else
#define STRESS_ITEMS	40000
#endif

#define ITEM(n)		((void *)(uintptr_t)((n) + 16))
#define STOP		((void *)(uintptr_t)1)

static const char *kind_name[] = { "lockfree", "locked" };

/* Polls COND's function for up to 2 s; whether it became true. */
static bool
wait_for(bool (*cond)(void *), void *arg)
{
	return wait_for_ms(cond, arg, 2000);
}

static void
test_plan(void)
{
	static const struct {
		int		 setting;
		unsigned	 ncpu, reactors, us, max;
	} t[] = {
		{ SPIN_AUTO, 1, 1, 0, 0 },
		{ SPIN_AUTO, 2, 1, 0, 0 },	/* the 2-CPU VM: as before */
		{ SPIN_AUTO, 2, 0, 0, 0 },
		{ SPIN_AUTO, 3, 1, 0, 0 },
		{ SPIN_AUTO, 4, 1, SPIN_AUTO_US, 1 },
		{ SPIN_AUTO, 8, 2, SPIN_AUTO_US, 2 },
		{ SPIN_AUTO, 8, 4, SPIN_AUTO_US, 1 },
		{ SPIN_AUTO, 3, 0, 0, 0 },
		{ SPIN_AUTO, 16, 4, SPIN_AUTO_US, 4 },
		{ 0, 16, 1, 0, 0 },
		{ 20, 1, 1, 20, 1 },		/* forced on one CPU */
		{ 20, 16, 2, 20, 6 },
		{ SPIN_US_MAX, 8, 8, SPIN_US_MAX, 1 },
	};
	unsigned	 us, max;
	size_t		 i, bad = 0;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		spin_plan(t[i].setting, t[i].ncpu, t[i].reactors, &us, &max);
		if (us != t[i].us || max != t[i].max) {
			bad++;
			printf("# setting %d, %u CPUs, %u reactors: %u us x %u, "
			    "want %u x %u\n", t[i].setting, t[i].ncpu,
			    t[i].reactors, us, max, t[i].us, t[i].max);
		}
	}
	ok(bad == 0, "spin_plan: none below 4 CPUs unless forced, "
	    "CPUs/2 - reactors spinners, at least one");
	ok(spin_cpus() >= 1, "spin_cpus: %u CPUs in the affinity mask",
	    spin_cpus());
}

struct capper {
	struct spin	*s;
	_Atomic unsigned most;		/* the most spinners any entrant saw */
	_Atomic unsigned long entered, refused;
};

static void *
capper_run(void *arg)
{
	struct capper	*c = arg;
	unsigned	 n, most;
	int		 i, j;

	for (i = 0; i < 20000; i++) {
		if (!spin_enter(c->s)) {
			atomic_fetch_add(&c->refused, 1);
			sched_yield();
			continue;
		}
		atomic_fetch_add(&c->entered, 1);
		n = atomic_load(&c->s->active);
		most = atomic_load(&c->most);
		while (n > most && !atomic_compare_exchange_weak(&c->most,
		    &most, n))
			;
		for (j = 0; j < 20; j++)
			spin_relax();
		if (i % 64 == 0)
			sched_yield();	/* preempted while counted */
		spin_leave(c->s);
	}
	return NULL;
}

/* Eight threads fight for two places: never more than two inside. */
static void
test_cap(void)
{
	struct spin	 s;
	struct capper	 c = { .s = &s };
	pthread_t	 t[8];
	int		 i;

	spin_init(&s);
	ok(!spin_enter(&s), "no long spin by default: spin_enter refuses");
	spin_set(&s, 0, 4);
	ok(s.max == 0 && s.ns == 0, "0 microseconds: no spinner allowed");
	spin_set(&s, 10, 2);
	atomic_init(&c.most, 0);
	atomic_init(&c.entered, 0);
	atomic_init(&c.refused, 0);
	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, capper_run, &c);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&c.most) <= 2, "cap 2: at most %u spinners seen at once",
	    atomic_load(&c.most));
	ok(atomic_load(&c.entered) > 0 && atomic_load(&c.refused) > 0,
	    "cap 2: %lu spells begun, %lu refused at the cap",
	    atomic_load(&c.entered), atomic_load(&c.refused));
	ok(atomic_load(&s.active) == 0, "the count is back to 0");
}

struct popper {
	struct queue	*q;
	void		*item;
	_Atomic int	 done;
};

static void *
popper_run(void *arg)
{
	struct popper	*p = arg;

	p->item = queue_pop(p->q);
	atomic_store(&p->done, 1);
	return NULL;
}

/* How many consumers sleep on Q: in FUTEX_WAIT, or in the condvar wait. */
static unsigned
sleeping(struct queue *q)
{
	unsigned	 n;

	if (q->kind == QUEUE_LOCKFREE)
		return atomic_load(&q->not_empty.sleepers);
	pthread_mutex_lock(&q->lockq->lock);
	n = q->lockq->pop_waiters;
	pthread_mutex_unlock(&q->lockq->lock);
	return n;
}

static bool
two_sleep(void *arg)
{
	return sleeping(arg) == 2;
}

static bool
one_sleeps(void *arg)
{
	return sleeping(arg) == 1;
}

static bool
both_popped(void *arg)
{
	struct popper	*p = arg;

	return atomic_load(&p[0].done) != 0 && atomic_load(&p[1].done) != 0;
}

static bool
popped(void *arg)
{
	return atomic_load(&((struct popper *)arg)->done) != 0;
}

/*
 * The main thread holds the one spinner's place, so consumers A and B park
 * at once.  Three pushes then wake nobody (the spinner will take the
 * items); the spinner takes one and, leaving two behind, wakes A and B for
 * them.  Without the wake-skip the pushes wake A and B; without the
 * wake-up for the rest they sleep on beside the items.
 */
static void
test_skip_and_pass(enum queue_kind kind)
{
	const char	*k = kind_name[kind];
	struct popper	 ab[2];
	struct queue	*q;
	pthread_t	 t[2];
	uint32_t	 seq;
	void		*item = NULL;
	bool		 got;
	int		 i;

	if (queue_create(&q, kind, 4) != 0) {
		ok(0, "%s: skip/pass setup", k);
		return;
	}
	queue_set_spin(q, 1000000, 1);
	ok(spin_enter(&q->spin), "%s: the main thread spins", k);
	for (i = 0; i < 2; i++) {
		ab[i].q = q;
		ab[i].item = NULL;
		atomic_init(&ab[i].done, 0);
		pthread_create(&t[i], NULL, popper_run, &ab[i]);
	}
	ok(wait_for(two_sleep, q), "%s: consumers finding the cap reached "
	    "park at once", k);
	seq = atomic_load(&q->not_empty.seq);
	for (i = 1; i <= 3; i++)
		queue_push(q, ITEM(i));
	sleep_us(50000);
	ok(sleeping(q) == 2 && !popped(&ab[0]) && !popped(&ab[1]) &&
	    (kind == QUEUE_LOCKED || atomic_load(&q->not_empty.seq) == seq),
	    "%s: pushes while one spins wake no parked consumer", k);
	if (kind == QUEUE_LOCKFREE) {
		/* as queue_spin_long_pop ends a spell that took an item */
		got = mpmc_try_pop(q->mpmc, &item);
		spin_leave(&q->spin);
		queue_wake_rest(q);
	} else
		got = lockq_spin_pop(q->lockq, &item);
	ok(got && item == ITEM(1), "%s: the spinner takes the first item", k);
	ok(wait_for(both_popped, ab) && ((ab[0].item == ITEM(2) &&
	    ab[1].item == ITEM(3)) || (ab[0].item == ITEM(3) &&
	    ab[1].item == ITEM(2))),
	    "%s: and wakes both parked consumers for the other two", k);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&q->spin.active) == 0, "%s: no spinner left", k);

	/* no spinner now: a push wakes a parked consumer as always */
	atomic_store(&ab[0].done, 0);
	spin_set(&q->spin, 0, 0);
	pthread_create(&t[0], NULL, popper_run, &ab[0]);
	ok(wait_for(one_sleeps, q), "%s: without the spin a consumer parks", k);
	queue_push(q, ITEM(4));
	ok(wait_for(popped, &ab[0]) && ab[0].item == ITEM(4),
	    "%s: and a push wakes it", k);
	pthread_join(t[0], NULL);
	queue_free(q);
}

struct stress {
	struct queue	*q;
	_Atomic unsigned char seen[STRESS_ITEMS];
	_Atomic unsigned long received, bad;
};

struct prod {
	struct stress	*s;
	unsigned	 id, n;
	pthread_t	 thread;
};

/*
 * Bursts with pauses between them longer than a spell (20 us), some
 * shorter: consumers find items while spinning, time out and park, and
 * are woken, all in one run.
 */
static void *
stress_producer(void *arg)
{
	struct prod	*p = arg;
	unsigned	 i, seed = p->id + 1;

	for (i = 0; i < p->n; i++) {
		queue_push(p->s->q, ITEM(p->id + 2 * i));
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 8 == 0)
			sleep_us((long)((seed >> 8) % 60));
	}
	return NULL;
}

static void *
stress_consumer(void *arg)
{
	struct stress	*s = arg;
	uintptr_t	 v;
	void		*item;

	while ((item = queue_pop(s->q)) != STOP) {
		v = (uintptr_t)item - 16;
		if ((uintptr_t)item < 16 || v >= STRESS_ITEMS) {
			atomic_fetch_add(&s->bad, 1);
			continue;
		}
		atomic_fetch_add_explicit(&s->seen[v], 1, memory_order_relaxed);
		atomic_fetch_add(&s->received, 1);
	}
	return NULL;
}

static void
test_stress(enum queue_kind kind, size_t cap, unsigned ncons)
{
	const char	*k = kind_name[kind];
	struct stress	*s;
	struct prod	 p[2];
	pthread_t	 c[8];
	unsigned	 i, wrong = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    queue_create(&s->q, kind, cap) != 0) {
		ok(0, "%s: stress setup", k);
		free(s);
		return;
	}
	queue_set_spin(s->q, 20, 2);
	for (i = 0; i < ncons; i++)
		pthread_create(&c[i], NULL, stress_consumer, s);
	for (i = 0; i < 2; i++) {
		p[i] = (struct prod){ .s = s, .id = i, .n = STRESS_ITEMS / 2 };
		pthread_create(&p[i].thread, NULL, stress_producer, &p[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(p[i].thread, NULL);
	for (i = 0; i < ncons; i++)
		queue_push(s->q, STOP);
	for (i = 0; i < ncons; i++)
		pthread_join(c[i], NULL);
	for (i = 0; i < STRESS_ITEMS; i++)
		wrong += atomic_load(&s->seen[i]) != 1;
	ok(wrong == 0 && atomic_load(&s->received) == STRESS_ITEMS &&
	    atomic_load(&s->bad) == 0, "%s cap %zu, %u consumers spinning "
	    "and parking: %d items, each received once", k, cap, ncons,
	    STRESS_ITEMS);
	ok(atomic_load(&s->q->spin.active) == 0,
	    "%s cap %zu: the count of spinners is back to 0", k, cap);
	queue_free(s->q);
	free(s);
}

int
main(void)
{
	int	 kind;

	alarm(120);	/* a lost wake-up is a failure, not a stuck make check */
	test_plan();
	test_cap();
	for (kind = QUEUE_LOCKFREE; kind <= QUEUE_LOCKED; kind++) {
		test_skip_and_pass(kind);
		test_stress(kind, 1, 4);
		test_stress(kind, 8, 6);
	}
	return done_testing();
}
