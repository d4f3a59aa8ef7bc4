/*
 * test_token.c - the wake token of the queues' consumers (park.c, queue.c,
 * lockq.c): a burst of pushes wakes one parked consumer, not one per item;
 * the consumer woken passes the wake on while items are left, so every item
 * is taken; and the counts the token keeps (the eventcount's `woken`, the
 * locked ring's `signalled`) are back to 0 once the consumers are parked
 * again, after a stress run of bursts into more consumers than CPUs.  Then
 * the backstop: items queued while the token is out are handed over when a
 * producer's wait for the queue to empty times out.
 *
 * It builds the queues' sources itself (as test_spin does) to hold a woken
 * consumer and the locked ring's mutex from outside.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
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
#define STRESS_ITEMS	5000
#else
#define STRESS_ITEMS	50000
#endif
#define STRESS_CONSUMERS	16	/* at most */

#define ITEM(n)		((void *)(uintptr_t)((n) + 16))
#define STOP		((void *)(uintptr_t)1)

static const char *kind_name[] = { "lockfree", "locked" };

/* Polls COND for up to 5 s; whether it became true. */
static bool
wait_for(bool (*cond)(void *), void *arg)
{
	return wait_for_ms(cond, arg, 5000);
}

/* The token's count, which may be briefly negative. */
static int
woken_of(struct park *p)
{
	return (int32_t)atomic_load(&p->woken);
}

/*
 * The eventcount alone: waiters take tokens from `items`; one woken by a
 * notify waits while `hold` is set before it takes one and calls park_woke,
 * so the test can look at what a burst of notifies did meanwhile.
 */
struct tokenwait {
	struct park	 p;
	_Atomic int	 items;		/* < 0: stop */
	_Atomic int	 taken;
	_Atomic int	 hold;
	_Atomic int	 woke;		/* park_wait said "a notifier woke me" */
};

static bool
token_take(struct tokenwait *t)
{
	int	 v = atomic_load(&t->items);

	while (v > 0)
		if (atomic_compare_exchange_weak(&t->items, &v, v - 1)) {
			atomic_fetch_add(&t->taken, 1);
			return true;
		}
	return false;
}

static void *
token_waiter(void *arg)
{
	struct tokenwait *t = arg;
	uint32_t	 key;

	while (atomic_load(&t->items) >= 0) {
		if (token_take(t))
			continue;
		key = park_prepare(&t->p);
		if (atomic_load(&t->items) != 0) {
			park_cancel(&t->p);
			continue;
		}
		if (!park_wait(&t->p, key))
			continue;
		atomic_fetch_add(&t->woke, 1);
		while (atomic_load(&t->hold))
			sleep_us(1000);
		token_take(t);
		park_woke(&t->p);
		if (atomic_load(&t->items) > 0)
			park_notify_token(&t->p, 1);
	}
	return NULL;
}

static bool
four_asleep(void *arg)
{
	struct tokenwait *t = arg;

	return atomic_load(&t->p.sleepers) == 4;
}

static bool
three_taken(void *arg)
{
	struct tokenwait *t = arg;

	return atomic_load(&t->taken) == 3;
}

static void
test_park_token(void)
{
	struct tokenwait t;
	pthread_t	 th[4];
	int		 i, woke0;

	park_init(&t.p);
	atomic_init(&t.items, 0);
	atomic_init(&t.taken, 0);
	atomic_init(&t.hold, 1);
	atomic_init(&t.woke, 0);
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, token_waiter, &t);
	ok(wait_for(four_asleep, &t), "park: four waiters asleep");

	atomic_store(&t.items, 3);
	for (i = 0; i < 3; i++)
		park_notify_token(&t.p, 1);
	sleep_us(50000);
	ok(atomic_load(&t.p.sleepers) == 3 && woken_of(&t.p) == 1 &&
	    atomic_load(&t.woke) == 1,
	    "park: three token notifies while the first woken has not looked "
	    "wake one waiter (sleepers %u, woken %d)",
	    atomic_load(&t.p.sleepers), woken_of(&t.p));

	atomic_store(&t.hold, 0);
	ok(wait_for(three_taken, &t) && wait_for(four_asleep, &t),
	    "park: released, it and those it wakes take all three items, "
	    "then all sleep again");
	ok(woken_of(&t.p) == 0 && atomic_load(&t.items) == 0,
	    "park: no token is left out (woken %d)", woken_of(&t.p));

	/* the backstop wakes one even while a token is out, and counts it */
	woke0 = atomic_load(&t.woke);
	atomic_store(&t.hold, 1);
	atomic_store(&t.items, 2);
	park_notify_token(&t.p, 1);
	park_kick(&t.p);
	sleep_us(50000);
	ok(atomic_load(&t.p.sleepers) == 2 && atomic_load(&t.woke) == woke0 + 2 &&
	    woken_of(&t.p) == 2,
	    "park: a kick wakes a second waiter while the token is out, "
	    "counted (woken %d)", woken_of(&t.p));
	atomic_store(&t.hold, 0);
	ok(wait_for(four_asleep, &t) && atomic_load(&t.taken) == 5,
	    "park: both items taken, all asleep again");
	ok(woken_of(&t.p) == 0,
	    "park: the count is back to 0, not below it (%d)",
	    woken_of(&t.p));

	atomic_store(&t.items, -1);
	park_notify_all(&t.p);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
}

/* The locked ring: consumers in lockq_pop, the mutex held by the test. */
struct ring {
	struct lockq	*q;
	_Atomic int	 taken;
};

static void *
ring_consumer(void *arg)
{
	struct ring	*r = arg;

	while (lockq_pop(r->q) != STOP)
		atomic_fetch_add(&r->taken, 1);
	return NULL;
}

static bool
ring_four_waiting(void *arg)
{
	struct ring	*r = arg;
	bool		 yes;

	pthread_mutex_lock(&r->q->lock);
	yes = r->q->pop_waiters == 4 && r->q->signalled == 0;
	pthread_mutex_unlock(&r->q->lock);
	return yes;
}

static bool
ring_three_taken(void *arg)
{
	struct ring	*r = arg;

	return atomic_load(&r->taken) == 3;
}

static bool
ring_four_taken(void *arg)
{
	struct ring	*r = arg;

	return atomic_load(&r->taken) == 4;
}

static void
test_lockq_token(void)
{
	struct ring	 r;
	pthread_t	 th[4];
	int		 i, wakes = 0;

	if (lockq_create(&r.q, 16) != 0) {
		ok(0, "locked: create");
		return;
	}
	atomic_init(&r.taken, 0);
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, ring_consumer, &r);
	ok(wait_for(ring_four_waiting, &r), "locked: four consumers wait");

	/* a burst of three pushes, as lockq_try_push makes them */
	pthread_mutex_lock(&r.q->lock);
	for (i = 0; i < 3; i++) {
		lockq_put(r.q, ITEM(i));
		wakes += lockq_wake_consumer(r.q);
	}
	ok(wakes == 1 && r.q->signalled == 1,
	    "locked: three pushes while the one signalled has not come back "
	    "signal once (%d)", wakes);
	pthread_mutex_unlock(&r.q->lock);
	pthread_cond_signal(&r.q->not_empty);

	ok(wait_for(ring_three_taken, &r) && wait_for(ring_four_waiting, &r),
	    "locked: it and those it wakes take all three items, then all "
	    "wait again with no signal outstanding");

	/* the backstop: an item queued without a signal, then a kick */
	pthread_mutex_lock(&r.q->lock);
	lockq_put(r.q, ITEM(3));
	pthread_mutex_unlock(&r.q->lock);
	lockq_kick(r.q);
	ok(wait_for(ring_four_taken, &r) && wait_for(ring_four_waiting, &r),
	    "locked: a kick hands over an item nobody signalled for; then all "
	    "wait again with no signal outstanding");

	for (i = 0; i < 4; i++)
		lockq_push(r.q, STOP);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	lockq_free(r.q);
}

/*
 * Bursts into more consumers than CPUs, with waits for the queue to empty
 * that often time out (and so kick): every item arrives once, and the
 * token's count is back to 0 once all consumers are parked again.
 */
struct stress {
	struct queue	*q;
	int		 consumers;
	_Atomic int	 seen[STRESS_ITEMS];
	_Atomic int	 got;
};

static void *
stress_consumer(void *arg)
{
	struct stress	*s = arg;
	void		*item;
	volatile int	 spin;

	while ((item = queue_pop(s->q)) != STOP) {
		atomic_fetch_add(&s->seen[(uintptr_t)item - 16], 1);
		atomic_fetch_add(&s->got, 1);
		for (spin = 0; spin < 200; spin++)
			;
	}
	return NULL;
}

static bool
stress_all_parked(void *arg)
{
	struct stress	*s = arg;
	struct queue	*q = s->q;
	bool		 yes;

	if (q->kind == QUEUE_LOCKFREE)
		return atomic_load(&q->not_empty.sleepers) ==
		    (uint32_t)s->consumers;
	pthread_mutex_lock(&q->lockq->lock);
	yes = q->lockq->pop_waiters == (unsigned int)s->consumers;
	pthread_mutex_unlock(&q->lockq->lock);
	return yes;
}

/* The token's count: woken (lock-free), signalled (locked). */
static int
stress_token_count(struct stress *s)
{
	struct queue	*q = s->q;
	int		 n;

	if (q->kind == QUEUE_LOCKFREE)
		return woken_of(&q->not_empty);
	pthread_mutex_lock(&q->lockq->lock);
	n = (int)q->lockq->signalled;
	pthread_mutex_unlock(&q->lockq->lock);
	return n;
}

/*
 * All parked and the count at 0.  Not the count at the first moment all
 * are parked: a consumer signalled but not yet back still counts as waiting
 * in the locked ring, and a notifier may not yet have counted a consumer it
 * woke that is asleep again; both settle within microseconds.
 */
static bool
stress_settled(void *arg)
{
	struct stress	*s = arg;

	return stress_all_parked(s) && stress_token_count(s) == 0;
}

static void
test_stress(enum queue_kind kind, int consumers)
{
	const char	*k = kind_name[kind];
	struct stress	*s;
	pthread_t	 th[STRESS_CONSUMERS];
	unsigned int	 seed = 4242u + (unsigned int)kind * 100u +
			    (unsigned int)consumers;
	int		 i, n, burst, dup = 0, lost = 0, left;
	bool		 settled;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    queue_create(&s->q, kind, 64) != 0) {
		ok(0, "%s: stress setup", k);
		free(s);
		return;
	}
	s->consumers = consumers;
	for (i = 0; i < consumers; i++)
		pthread_create(&th[i], NULL, stress_consumer, s);
	for (n = 0; n < STRESS_ITEMS; ) {
		burst = 1 + (int)(rand_r(&seed) % 64);
		for (i = 0; i < burst && n < STRESS_ITEMS; i++)
			queue_push(s->q, ITEM(n++));
		/* as the reactor waits, often timing out: the backstop's kicks */
		if (rand_r(&seed) % 2 == 0)
			queue_wait_empty(s->q, (long)(rand_r(&seed) % 20000));
		if (rand_r(&seed) % 4 == 0)
			sleep_us(rand_r(&seed) % 200);
	}
	for (i = 0; i < 5000 && atomic_load(&s->got) < STRESS_ITEMS; i++)
		sleep_us(1000);
	for (i = 0; i < STRESS_ITEMS; i++) {
		if (s->seen[i] == 0)
			lost++;
		else if (s->seen[i] > 1)
			dup++;
	}
	ok(lost == 0 && dup == 0,
	    "%s: %d bursts' items into %d consumers, each taken once "
	    "(lost %d, twice %d)", k, STRESS_ITEMS, consumers, lost, dup);
	ok(wait_for(stress_all_parked, s), "%s: then all %d consumers park",
	    k, consumers);
	settled = wait_for(stress_settled, s);
	left = stress_token_count(s);
	ok(settled, "%s: with no token left out (%d)", k, left);

	for (i = 0; i < consumers; i++)
		queue_push(s->q, STOP);
	for (i = 0; i < consumers; i++)
		pthread_join(th[i], NULL);
	queue_free(s->q);
	free(s);
}

/*
 * The backstop: with the token out on a consumer that does not come back
 * (forged here), a pushed item waits; the producer's wait for the queue to
 * empty times out and hands it over.
 */
struct backstop {
	struct queue	*q;
	_Atomic int	 got;
};

static void *
backstop_consumer(void *arg)
{
	struct backstop	*b = arg;

	while (queue_pop(b->q) != STOP)
		atomic_fetch_add(&b->got, 1);
	return NULL;
}

static bool
backstop_parked(void *arg)
{
	struct backstop	*b = arg;

	return atomic_load(&b->q->not_empty.sleepers) == 1;
}

static void
test_backstop(void)
{
	struct backstop	 b;
	pthread_t	 th;

	if (queue_create(&b.q, QUEUE_LOCKFREE, 8) != 0) {
		ok(0, "backstop: create");
		return;
	}
	atomic_init(&b.got, 0);
	pthread_create(&th, NULL, backstop_consumer, &b);
	ok(wait_for(backstop_parked, &b), "backstop: a consumer parks");
	atomic_store(&b.q->not_empty.woken, 1u);	/* a token that never returns */
	queue_push(b.q, ITEM(1));
	sleep_us(20000);
	ok(atomic_load(&b.got) == 0, "backstop: the push skipped the wake");
	ok(queue_wait_empty(b.q, 100000000) == false,
	    "backstop: the producer's wait times out with the item queued");
	ok(wait_for(backstop_parked, &b) && atomic_load(&b.got) == 1,
	    "backstop: and then the item is taken");
	ok(woken_of(&b.q->not_empty) == 1,
	    "backstop: its wake is counted (only the forged token is left)");
	atomic_store(&b.q->not_empty.woken, 0u);
	queue_push(b.q, STOP);
	pthread_join(th, NULL);
	queue_free(b.q);
}

int
main(void)
{
	test_park_token();
	test_lockq_token();
	test_stress(QUEUE_LOCKFREE, STRESS_CONSUMERS);
	test_stress(QUEUE_LOCKED, STRESS_CONSUMERS);
	test_stress(QUEUE_LOCKFREE, 2);
	test_stress(QUEUE_LOCKED, 2);
	test_stress(QUEUE_LOCKED, 1);
	test_backstop();
	return done_testing();
}
