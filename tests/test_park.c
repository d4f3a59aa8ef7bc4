/*
 * test_park.c - the eventcount.  First its bookkeeping, read through the
 * public fields: a notify with no waiter leaves seq alone (so it made no
 * syscall), a notify after park_prepare bumps it and the wait then returns at
 * once.  Then real sleeping: waiters blocked on a flag are woken by
 * notify_one / notify_all and leave the sleeper count at zero.  Finally the
 * use the server makes of it: consumers parked on a lock-free queue while
 * producers push rarely (every 5-20 ms); every item must be picked up well
 * within 200 ms, and consumers idle for half a second must have used almost
 * no CPU (they sleep rather than spin).  The locked queue runs the same
 * check for comparison.
 */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "park.h"
#include "queue.h"
#include "tap.h"

#define LATENCY_BOUND_MS	200.0
#define IDLE_CPU_BOUND_MS	25.0

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static double
thread_cpu_ms(pthread_t t)
{
	clockid_t	 clk;
	struct timespec	 ts;

	if (pthread_getcpuclockid(t, &clk) != 0 ||
	    clock_gettime(clk, &ts) != 0)
		return -1;
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
test_bookkeeping(void)
{
	struct park	 p;
	uint32_t	 key;
	int		 i;

	park_init(&p);
	for (i = 0; i < 1000; i++)
		park_notify_one(&p);
	park_notify_all(&p);
	ok(atomic_load(&p.seq) == 0 && atomic_load(&p.waiters) == 0 &&
	    atomic_load(&p.sleepers) == 0,
	    "notify with no waiter leaves seq alone (no wake syscall)");

	key = park_prepare(&p);
	ok(atomic_load(&p.waiters) == 1 && key == atomic_load(&p.seq),
	    "prepare counts a waiter and returns the current seq");
	park_cancel(&p);
	park_notify_one(&p);
	ok(atomic_load(&p.waiters) == 0 && atomic_load(&p.seq) == key,
	    "cancel uncounts it; a later notify again skips the wake");

	key = park_prepare(&p);
	park_notify_one(&p);
	ok(atomic_load(&p.seq) == key + 1,
	    "notify between prepare and wait bumps seq");
	park_wait(&p, key);	/* must not sleep: seq != key */
	ok(atomic_load(&p.waiters) == 0,
	    "wait after that notify returns at once (no lost wakeup)");
}

struct flagwait {
	struct park	 p;
	_Atomic int	 flag;		/* the condition: tokens available */
	_Atomic int	 woken;
	double		 woke_at[4];
};

struct flagwaiter {
	struct flagwait	*f;
	int		 id;
	pthread_t	 thread;
};

/* Take one token, sleeping on the eventcount until there is one. */
static int
flag_take(struct flagwait *f)
{
	uint32_t key;
	int	 v;

	v = atomic_load(&f->flag);
	for (;;) {
		while (v > 0)
			if (atomic_compare_exchange_weak(&f->flag, &v, v - 1))
				return 1;
		key = park_prepare(&f->p);
		if ((v = atomic_load(&f->flag)) > 0) {
			park_cancel(&f->p);
			continue;
		}
		park_wait(&f->p, key);
		v = atomic_load(&f->flag);
	}
}

static void *
flag_waiter(void *arg)
{
	struct flagwaiter *w = arg;

	flag_take(w->f);
	w->f->woke_at[w->id] = now_ms();
	atomic_fetch_add(&w->f->woken, 1);
	return NULL;
}

static void
test_sleep_wake(void)
{
	struct flagwait		 f;
	struct flagwaiter	 w[4];
	double			 t0, worst = 0;
	int			 i, n;

	park_init(&f.p);
	atomic_init(&f.flag, 0);
	atomic_init(&f.woken, 0);
	w[0] = (struct flagwaiter){ &f, 0, 0 };
	pthread_create(&w[0].thread, NULL, flag_waiter, &w[0]);
	sleep_ms(50);
	ok(atomic_load(&f.woken) == 0 && atomic_load(&f.p.waiters) == 1 &&
	    atomic_load(&f.p.sleepers) == 1,
	    "a waiter with nothing to take sleeps (counted as a sleeper)");
	t0 = now_ms();
	atomic_store(&f.flag, 1);
	park_notify_one(&f.p);
	pthread_join(w[0].thread, NULL);
	ok(f.woke_at[0] - t0 < LATENCY_BOUND_MS,
	    "notify_one wakes it (%.2f ms)", f.woke_at[0] - t0);

	for (i = 0; i < 4; i++) {
		w[i] = (struct flagwaiter){ &f, i, 0 };
		pthread_create(&w[i].thread, NULL, flag_waiter, &w[i]);
	}
	sleep_ms(50);
	n = atomic_load(&f.p.waiters);
	t0 = now_ms();
	atomic_store(&f.flag, 4);
	park_notify_all(&f.p);
	for (i = 0; i < 4; i++) {
		pthread_join(w[i].thread, NULL);
		if (f.woke_at[i] - t0 > worst)
			worst = f.woke_at[i] - t0;
	}
	ok(n == 4 && worst < LATENCY_BOUND_MS,
	    "notify_all wakes all %d sleepers (slowest %.2f ms)", n, worst);
	ok(atomic_load(&f.p.waiters) == 0 && atomic_load(&f.p.sleepers) == 0,
	    "woken threads are no longer counted as waiters or sleepers");
}

/* Rare producers, parked consumers, through the blocking queue. */
#define RARE_PRODUCERS	2
#define RARE_CONSUMERS	3
#define RARE_ITEMS	25	/* per producer */

struct rare_item {
	double		 pushed_at;
	double		 popped_at;
};

struct rare {
	struct queue	*q;
	struct rare_item items[RARE_PRODUCERS][RARE_ITEMS];
	struct rare_item stop;
	unsigned int	 seed[RARE_PRODUCERS];
	_Atomic int	 popped;
};

struct rare_thread {
	struct rare	*r;
	int		 id;
	pthread_t	 thread;
};

static void *
rare_producer(void *arg)
{
	struct rare_thread *t = arg;
	struct rare	*r = t->r;
	int		 i;

	for (i = 0; i < RARE_ITEMS; i++) {
		sleep_ms(5 + rand_r(&r->seed[t->id]) % 16);
		r->items[t->id][i].pushed_at = now_ms();
		queue_push(r->q, &r->items[t->id][i]);
	}
	return NULL;
}

static void *
rare_consumer(void *arg)
{
	struct rare_thread *t = arg;
	struct rare_item *it;

	while ((it = queue_pop(t->r->q)) != &t->r->stop) {
		it->popped_at = now_ms();
		atomic_fetch_add(&t->r->popped, 1);
	}
	return NULL;
}

static void
test_rare(enum queue_kind kind)
{
	static const char *names[] = { "lockfree", "locked" };
	const char	*k = names[kind];
	struct rare	*r;
	struct rare_thread prod[RARE_PRODUCERS], cons[RARE_CONSUMERS];
	double		 worst = 0, lat, cpu0[RARE_CONSUMERS], idle = 0, d;
	int		 i, j, late = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    queue_create(&r->q, kind, 8) != 0) {
		ok(0, "%s: rare setup", k);
		free(r);
		return;
	}
	for (i = 0; i < RARE_PRODUCERS; i++)
		r->seed[i] = 12345u + (unsigned int)i;
	for (i = 0; i < RARE_CONSUMERS; i++) {
		cons[i] = (struct rare_thread){ r, i, 0 };
		pthread_create(&cons[i].thread, NULL, rare_consumer, &cons[i]);
	}
	for (i = 0; i < RARE_PRODUCERS; i++) {
		prod[i] = (struct rare_thread){ r, i, 0 };
		pthread_create(&prod[i].thread, NULL, rare_producer, &prod[i]);
	}
	for (i = 0; i < RARE_PRODUCERS; i++)
		pthread_join(prod[i].thread, NULL);
	/* Let the last items drain before the idle measurement starts. */
	sleep_ms(LATENCY_BOUND_MS);
	ok(atomic_load(&r->popped) == RARE_PRODUCERS * RARE_ITEMS,
	    "%s: all %d rarely pushed items were picked up", k,
	    RARE_PRODUCERS * RARE_ITEMS);
	for (i = 0; i < RARE_PRODUCERS; i++)
		for (j = 0; j < RARE_ITEMS; j++) {
			lat = r->items[i][j].popped_at - r->items[i][j].pushed_at;
			if (r->items[i][j].popped_at == 0 ||
			    lat > LATENCY_BOUND_MS)
				late++;
			if (lat > worst)
				worst = lat;
		}
	ok(late == 0, "%s: each picked up within %.0f ms of its push "
	    "(slowest %.3f ms)", k, LATENCY_BOUND_MS, worst);

	for (i = 0; i < RARE_CONSUMERS; i++)
		cpu0[i] = thread_cpu_ms(cons[i].thread);
	sleep_ms(500);
	for (i = 0; i < RARE_CONSUMERS; i++) {
		d = thread_cpu_ms(cons[i].thread) - cpu0[i];
		if (cpu0[i] < 0 || d < 0)
			d = 1e9;
		if (d > idle)
			idle = d;
	}
	ok(idle < IDLE_CPU_BOUND_MS, "%s: idle consumers sleep: at most "
	    "%.3f ms of CPU each over 500 ms", k, idle);

	for (i = 0; i < RARE_CONSUMERS; i++)
		queue_push(r->q, &r->stop);
	for (i = 0; i < RARE_CONSUMERS; i++)
		pthread_join(cons[i].thread, NULL);
	queue_free(r->q);
	free(r);
}

int
main(void)
{
	alarm(60);	/* a lost wakeup is a failure, not a stuck make check */
	test_bookkeeping();
	test_sleep_wake();
	test_rare(QUEUE_LOCKFREE);
	test_rare(QUEUE_LOCKED);
	return done_testing();
}
