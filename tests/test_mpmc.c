/*
 * test_mpmc.c - the lock-free ring on its own: exact capacity for sizes that
 * are and are not powers of two (1 included), FIFO order, empty and full
 * answers, many laps of wrap-around against a reference model, and a small
 * concurrent run through the non-blocking calls.  The blocking stress test
 * over both queues lives in test_queue.c.
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "mpmc.h"
#include "tap.h"

#define ITEM(n)	((void *)(uintptr_t)((n) + 1))
#define NUM(p)	((size_t)(uintptr_t)(p) - 1)

static const size_t capacities[] = { 1, 2, 3, 5, 7, 8, 9, 64, 100, 1024 };
#define NCAPS	(sizeof(capacities) / sizeof(capacities[0]))

static void
mpmc_free_null(void)
{
	mpmc_free(NULL);
}

static void
test_create(void)
{
	struct mpmc	*q = (void *)1;

	ok(mpmc_create(&q, 0) == -EINVAL && q == NULL,
	    "capacity 0 is refused with -EINVAL");
	ok(tap_survives(mpmc_free_null), "mpmc_free(NULL) is a no-op (in a child)");
}

/* Fill to exactly CAP, refuse one more, drain in order, refuse on empty. */
static void
test_exact(size_t cap)
{
	struct mpmc	*q;
	void		*item;
	size_t		 i, pushed = 0, popped = 0, inorder = 1, round;

	if (!ok(mpmc_create(&q, cap) == 0, "create capacity %zu", cap))
		return;
	ok(mpmc_capacity(q) == cap, "capacity %zu reported", cap);
	ok(!mpmc_try_pop(q, &item), "cap %zu: pop from new queue fails", cap);
	for (round = 0; round < 3; round++) {
		pushed = popped = 0;
		for (i = 0; i < cap; i++)
			pushed += mpmc_try_push(q, ITEM(round * cap + i));
		ok(pushed == cap && mpmc_size_approx(q) == cap,
		    "cap %zu round %zu: %zu pushes succeed, size %zu", cap,
		    round, cap, mpmc_size_approx(q));
		ok(!mpmc_try_push(q, ITEM(999999)),
		    "cap %zu round %zu: push %zu fails (full)", cap, round,
		    cap + 1);
		for (i = 0; i < cap; i++) {
			if (!mpmc_try_pop(q, &item))
				break;
			popped++;
			if (NUM(item) != round * cap + i)
				inorder = 0;
		}
		ok(popped == cap && inorder,
		    "cap %zu round %zu: %zu pops in FIFO order", cap, round,
		    cap);
		ok(!mpmc_try_pop(q, &item) && mpmc_size_approx(q) == 0,
		    "cap %zu round %zu: pop from drained queue fails", cap,
		    round);
	}
	mpmc_free(q);
}

/*
 * Random pushes and pops, checked step by step against a plain ring, for
 * enough operations to go round the ring thousands of times.
 */
static void
test_model(size_t cap)
{
	struct mpmc	*q;
	size_t		*model, mhead = 0, mcount = 0, next = 0, i, bad = 0;
	size_t		 ops = 4000 * (cap + 10), laps;
	void		*item;
	unsigned int	 seed = (unsigned int)cap * 7919u;
	bool		 push, r;

	if (mpmc_create(&q, cap) != 0 || (model = calloc(cap, sizeof(*model))) ==
	    NULL) {
		ok(0, "cap %zu: model setup", cap);
		return;
	}
	for (i = 0; i < ops; i++) {
		/* Drift between full and empty so both edges are hit. */
		push = (rand_r(&seed) % 100) < ((i / (cap * 4 + 8)) % 2 ? 30 : 70);
		if (push) {
			r = mpmc_try_push(q, ITEM(next));
			if (r != (mcount < cap))
				bad++;
			if (r) {
				model[(mhead + mcount) % cap] = next++;
				mcount++;
			}
		} else {
			r = mpmc_try_pop(q, &item);
			if (r != (mcount > 0))
				bad++;
			if (r) {
				if (NUM(item) != model[mhead])
					bad++;
				mhead = (mhead + 1) % cap;
				mcount--;
			}
		}
		if (mpmc_size_approx(q) != mcount)
			bad++;
	}
	laps = next / cap;
	ok(bad == 0 && laps > 1000, "cap %zu: %zu ops (%zu laps) match the "
	    "reference ring (%zu mismatches)", cap, ops, laps, bad);
	free(model);
	mpmc_free(q);
}

/* Concurrent use of the non-blocking calls alone (spin and yield). */
#define CP	2
#define CC	2

struct conc {
	struct mpmc	*q;
	size_t		 per;
	_Atomic size_t	 received;
	_Atomic size_t	 order_errors;
	_Atomic unsigned char *seen;
};

struct conc_arg {
	struct conc	*c;
	size_t		 id;
};

static void *
conc_producer(void *arg)
{
	struct conc_arg	*a = arg;
	size_t		 seq;

	for (seq = 0; seq < a->c->per; seq++)
		while (!mpmc_try_push(a->c->q, ITEM(a->id * a->c->per + seq)))
			sched_yield();
	return NULL;
}

static void *
conc_consumer(void *arg)
{
	struct conc_arg	*a = arg;
	struct conc	*c = a->c;
	size_t		 last[CP], n, p, s;
	void		*item;
	int		 i;

	for (i = 0; i < CP; i++)
		last[i] = SIZE_MAX;
	for (;;) {
		if (atomic_load(&c->received) == CP * c->per)
			break;
		if (!mpmc_try_pop(c->q, &item)) {
			sched_yield();
			continue;
		}
		n = NUM(item);
		p = n / c->per;
		s = n % c->per;
		if (last[p] != SIZE_MAX && s <= last[p])
			atomic_fetch_add(&c->order_errors, 1);
		last[p] = s;
		atomic_fetch_add_explicit(&c->seen[n], 1, memory_order_relaxed);
		atomic_fetch_add(&c->received, 1);
	}
	return NULL;
}

static void
test_concurrent(size_t cap, size_t per)
{
	struct conc	 c;
	struct conc_arg	 pa[CP], ca[CC];
	pthread_t	 pt[CP], ct[CC];
	size_t		 i, missing = 0;

	c.per = per;
	atomic_init(&c.received, 0);
	atomic_init(&c.order_errors, 0);
	if (mpmc_create(&c.q, cap) != 0 ||
	    (c.seen = calloc(CP * per, 1)) == NULL) {
		ok(0, "concurrent setup");
		return;
	}
	for (i = 0; i < CC; i++) {
		ca[i] = (struct conc_arg){ &c, i };
		pthread_create(&ct[i], NULL, conc_consumer, &ca[i]);
	}
	for (i = 0; i < CP; i++) {
		pa[i] = (struct conc_arg){ &c, i };
		pthread_create(&pt[i], NULL, conc_producer, &pa[i]);
	}
	for (i = 0; i < CP; i++)
		pthread_join(pt[i], NULL);
	for (i = 0; i < CC; i++)
		pthread_join(ct[i], NULL);
	for (i = 0; i < CP * per; i++)
		if (atomic_load(&c.seen[i]) != 1)
			missing++;
	ok(missing == 0 && atomic_load(&c.order_errors) == 0,
	    "cap %zu, %dx%d try-only threads: %zu items each once, in "
	    "per-producer order", cap, CP, CC, CP * per);
	free((void *)c.seen);
	mpmc_free(c.q);
}

int
main(void)
{
	size_t	 i, per = 100000;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
	per = 10000;
#endif
	alarm(120);	/* a hang is a failure, not a stuck make check */
	test_create();
	for (i = 0; i < NCAPS; i++)
		test_exact(capacities[i]);
	for (i = 0; i < NCAPS; i++)
		test_model(capacities[i]);
	test_concurrent(1, per);
	test_concurrent(3, per);
	test_concurrent(64, per);
	return done_testing();
}
