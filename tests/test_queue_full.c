/*
 * test_queue_full.c - queue_push's "had to wait because the queue was full"
 * (stats' queue_full) counts only a truly full queue, not a push that met a
 * cell a consumer had claimed and was still emptying. The consumer is
 * stopped between its two steps by doing them here by hand, so this file
 * builds the queue's sources itself to reach the ring's fields.
 */
#include "config.h"

#include <pthread.h>
#include <unistd.h>

#include "mpmc.c"
#include "park.c"
#include "queue.c"

#include "tap.h"

static struct queue *q;
static int item_a, item_b, item_c;
static _Atomic int pushed;

static void *
pusher(void *arg)
{
	bool *waited_full = arg;

	*waited_full = queue_push(q, &item_c);
	atomic_store(&pushed, 1);
	return NULL;
}

int
main(void)
{
	struct mpmc *m;
	struct mpmc_cell *cell;
	pthread_t th;
	bool waited_full = true;
	size_t head;
	void *item;
	int i;

	ok(queue_create(&q, QUEUE_LOCKFREE, 2) == 0, "a lock-free queue of 2");
	m = q->mpmc;
	ok(!queue_push(q, &item_a) && !queue_push(q, &item_b),
	    "two pushes into an empty queue do not wait");
	ok(mpmc_offer(m, &item_c) == MPMC_FULL, "a third push meets a full queue");

	/* a consumer claims the first cell (head moves) but has not emptied it */
	head = atomic_load(&m->head);
	cell = &m->cells[head & m->mask];
	atomic_store(&m->head, mpmc_next(m, head));
	ok(mpmc_offer(m, &item_c) == MPMC_BUSY,
	    "with one item claimed by a consumer in flight, a push is told BUSY, not FULL");
	ok(mpmc_size_approx(m) == 1, "the queue holds one item then, not two");

	/* queue_push waits for that consumer, and must not call it full */
	ok(pthread_create(&th, NULL, pusher, &waited_full) == 0, "a producer pushes");
	usleep(50000);
	ok(atomic_load(&pushed) == 0, "it waits while the cell is being emptied");
	item = cell->item;
	atomic_store_explicit(&cell->stamp, head + m->one_lap, memory_order_release);
	park_notify_one(&q->not_full);
	pthread_join(th, NULL);
	ok(item == &item_a, "the consumer in flight got the first item");
	ok(!waited_full, "that push is not counted as one that met a full queue");

	for (i = 0; i < 2 && queue_try_pop(q, &item); i++)
		;
	ok(i == 2 && item == &item_c, "the queue then held item b and item c, in order");
	ok(!queue_push(q, &item_a) && !queue_push(q, &item_b), "refilled");
	ok(pthread_create(&th, NULL, pusher, &waited_full) == 0, "a producer pushes into it");
	usleep(50000);
	ok(queue_pop(q) == &item_a, "a consumer makes room");
	pthread_join(th, NULL);
	ok(waited_full, "a push that met a truly full queue is counted");
	queue_free(q);
	return done_testing();
}
