/*
 * test_lockq.c - the mutex+condvar ring on its own: exact capacity, FIFO
 * order across many laps, empty and full answers of the try calls, and the
 * blocking calls really blocking until the other side acts.  The
 * many-thread stress test over both queues lives in test_queue.c.
 */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lockq.h"
#include "tap.h"

#define ITEM(n)	((void *)(uintptr_t)((n) + 1))
#define NUM(p)	((size_t)(uintptr_t)(p) - 1)

static const size_t capacities[] = { 1, 2, 3, 7, 8, 64, 100 };
#define NCAPS	(sizeof(capacities) / sizeof(capacities[0]))

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
test_exact(size_t cap)
{
	struct lockq	*q;
	void		*item;
	size_t		 i, round, pushed, popped, inorder = 1;

	if (!ok(lockq_create(&q, cap) == 0, "create capacity %zu", cap))
		return;
	ok(lockq_capacity(q) == cap, "capacity %zu reported", cap);
	ok(!lockq_try_pop(q, &item), "cap %zu: pop from new queue fails", cap);
	/* Each round first moves head on by one, so every phase is tried. */
	for (round = 0; round < 3 * cap + 50; round++) {
		pushed = popped = 0;
		if (!lockq_try_push(q, ITEM(0)) || !lockq_try_pop(q, &item) ||
		    NUM(item) != 0)
			break;
		for (i = 0; i < cap; i++)
			pushed += lockq_try_push(q, ITEM(round * cap + i));
		if (pushed != cap || lockq_try_push(q, ITEM(0)) ||
		    lockq_size_approx(q) != cap)
			break;
		for (i = 0; i < cap; i++) {
			if (!lockq_try_pop(q, &item))
				break;
			popped++;
			if (NUM(item) != round * cap + i)
				inorder = 0;
		}
		if (popped != cap || lockq_try_pop(q, &item))
			break;
	}
	ok(round == 3 * cap + 50 && inorder,
	    "cap %zu: %zu rounds at every head position: exactly %zu pushes "
	    "(the next fails), %zu pops in order (the next fails)", cap, round,
	    cap, cap);
	/* Blocking calls on a queue with room / items do not wait. */
	lockq_push(q, ITEM(7));
	ok(NUM(lockq_pop(q)) == 7, "cap %zu: blocking push then pop", cap);
	lockq_free(q);
}

static void
test_wrap(void)
{
	struct lockq	*q;
	void		*item;
	size_t		 i, next_in = 0, next_out = 0, bad = 0;

	if (lockq_create(&q, 7) != 0) {
		ok(0, "wrap setup");
		return;
	}
	/* Keep 3 items in flight so head is never at 0 when it wraps. */
	for (i = 0; i < 3; i++)
		lockq_try_push(q, ITEM(next_in++));
	for (i = 0; i < 100000; i++) {
		if (!lockq_try_push(q, ITEM(next_in++)) ||
		    !lockq_try_pop(q, &item) || NUM(item) != next_out++)
			bad++;
	}
	ok(bad == 0 && lockq_size_approx(q) == 3,
	    "capacity 7: 100000 push/pop pairs at depth 3 stay in order");
	lockq_free(q);
}

struct blocker {
	struct lockq	*q;
	_Atomic int	 done;
	void		*item;
};

static void *
blocked_push(void *arg)
{
	struct blocker	*b = arg;

	lockq_push(b->q, ITEM(42));
	atomic_store(&b->done, 1);
	return NULL;
}

static void *
blocked_pop(void *arg)
{
	struct blocker	*b = arg;

	b->item = lockq_pop(b->q);
	atomic_store(&b->done, 1);
	return NULL;
}

static void
test_blocking(void)
{
	struct blocker	 b;
	pthread_t	 t;
	void		*item;

	if (lockq_create(&b.q, 1) != 0) {
		ok(0, "blocking setup");
		return;
	}
	atomic_init(&b.done, 0);
	lockq_try_push(b.q, ITEM(1));
	pthread_create(&t, NULL, blocked_push, &b);
	sleep_ms(100);
	ok(atomic_load(&b.done) == 0, "push into a full queue waits");
	ok(lockq_try_pop(b.q, &item) && NUM(item) == 1, "pop the old item");
	pthread_join(t, NULL);
	ok(atomic_load(&b.done) == 1 && lockq_try_pop(b.q, &item) &&
	    NUM(item) == 42, "the waiting push completes once there is room");

	atomic_store(&b.done, 0);
	b.item = NULL;
	pthread_create(&t, NULL, blocked_pop, &b);
	sleep_ms(100);
	ok(atomic_load(&b.done) == 0, "pop from an empty queue waits");
	lockq_push(b.q, ITEM(9));
	pthread_join(t, NULL);
	ok(atomic_load(&b.done) == 1 && NUM(b.item) == 9,
	    "the waiting pop gets the pushed item");
	lockq_free(b.q);
}

static void
lockq_free_null(void)
{
	lockq_free(NULL);
}

int
main(void)
{
	struct lockq	*q = (void *)1;
	size_t		 i;

	alarm(60);	/* a hang is a failure, not a stuck make check */
	ok(lockq_create(&q, 0) == -EINVAL && q == NULL,
	    "capacity 0 is refused with -EINVAL");
	ok(tap_survives(lockq_free_null), "lockq_free(NULL) is a no-op (in a child)");
	for (i = 0; i < NCAPS; i++)
		test_exact(capacities[i]);
	test_wrap();
	test_blocking();
	return done_testing();
}
