/*
 * mpmc.c - a lock-free bounded multi-producer multi-consumer queue of
 * pointers: Dmitry Vyukov's bounded MPMC queue, with the lap-encoded
 * positions of crossbeam's ArrayQueue so that it holds exactly CAPACITY
 * items for any capacity >= 1, not only powers of two.
 *
 * Positions.  tail (next push) and head (next pop) are not plain counters but
 * "lap + index": the low bits are the cell index (0 .. capacity-1) and the
 * high bits count laps in units of one_lap, the smallest power of two greater
 * than capacity.  Advancing a position adds 1 within a lap and jumps to the
 * next lap after the last cell, so indexing is a mask rather than a division,
 * and since one_lap divides 2^64 the encoding wraps around correctly.
 *
 * Stamps.  Every cell carries a stamp that says whose turn it is.  For the
 * cell at position P:
 *	stamp == P		empty; the producer that claims P may write it
 *	stamp == P + 1		full; the consumer that claims P may read it
 *	stamp == P + one_lap	empty again, for the producer of the next lap
 * Vyukov's original stamps are P, P + 1 and P + capacity, which collide at
 * capacity 1 (a full cell would look empty to the next lap's producer); here
 * P + 1 has index <= capacity < one_lap, so it never equals a next-lap
 * position.  Positions and stamps live in one monotonic (mod 2^64) space, so
 * "stamp - expected" read as a signed number tells a thread where it stands:
 * 0 - its turn; < 0 - the cell is a lap behind (full for a producer, empty
 * for a consumer); > 0 - another thread got there first, reload the position.
 *
 * A push or pop claims its position with a CAS on tail or head, then moves the
 * item, then hands the cell on with a store to its stamp.  The CAS only
 * decides who owns a position; all data is published through the stamps.
 * A thread preempted between its CAS and its stamp store makes the cell look
 * full (or empty) to the next thread that reaches it, which returns false
 * instead of waiting for it: try_push / try_pop can fail while another
 * thread's operation on that very cell is in flight.  The blocking layer
 * (queue.c) does not mind, because the thread in flight notifies the
 * eventcount once it has finished.
 *
 * Layout.  tail is written by producers only and head by consumers only, so
 * each has its own cache line, with the read-only fields on a third line in
 * between; each cell is padded to a line too, so that the producer filling
 * cell i and the consumer draining cell i-1 do not share one.  That costs 64
 * bytes per slot, which is nothing at the capacities a server uses (8 to a
 * few thousand).
 */

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpmc.h"
#include "probe.h"

#define MPMC_LINE	64

struct mpmc_cell {
	_Alignas(MPMC_LINE) _Atomic size_t stamp;
	void			*item;
};

struct mpmc {
	_Alignas(MPMC_LINE) _Atomic size_t tail;	/* producers */
	_Alignas(MPMC_LINE) size_t	 capacity;	/* read-only from here */
	size_t				 one_lap;
	size_t				 mask;		/* one_lap - 1 */
	_Alignas(MPMC_LINE) _Atomic size_t head;	/* consumers */
	struct mpmc_cell		 cells[];
};

_Static_assert(sizeof(struct mpmc_cell) == MPMC_LINE, "one cell per line");

int
mpmc_create(struct mpmc **out, size_t capacity)
{
	struct mpmc	*q;
	size_t		 one_lap, i;
	void		*mem;

	*out = NULL;
	if (capacity == 0)
		return -EINVAL;
	/* one_lap must exceed capacity and leave room for laps above it. */
	if (capacity > (SIZE_MAX >> 8) / sizeof(struct mpmc_cell))
		return -ENOMEM;
	for (one_lap = 1; one_lap <= capacity; one_lap <<= 1)
		;

	if (posix_memalign(&mem, MPMC_LINE, sizeof(*q) +
	    capacity * sizeof(struct mpmc_cell)) != 0)
		return -ENOMEM;
	q = mem;
	memset(q, 0, sizeof(*q));
	q->capacity = capacity;
	q->one_lap = one_lap;
	q->mask = one_lap - 1;
	atomic_init(&q->tail, 0);
	atomic_init(&q->head, 0);
	for (i = 0; i < capacity; i++) {
		/* Lap 0: cell i is empty, waiting for the push at position i. */
		atomic_init(&q->cells[i].stamp, i);
		q->cells[i].item = NULL;
	}
	*out = q;
	return 0;
}

void
mpmc_free(struct mpmc *q)
{
	free(q);
}

/* The position after POS: the next cell, or cell 0 of the next lap. */
static inline size_t
mpmc_next(const struct mpmc *q, size_t pos)
{
	if ((pos & q->mask) + 1 < q->capacity)
		return pos + 1;
	return (pos & ~q->mask) + q->one_lap;
}

bool
mpmc_try_push(struct mpmc *q, void *item)
{
	return mpmc_offer(q, item) == MPMC_PUSHED;
}

enum mpmc_offer
mpmc_offer(struct mpmc *q, void *item)
{
	struct mpmc_cell	*c;
	size_t			 pos, stamp;
	intptr_t		 d;

	/*
	 * Relaxed: tail is only a guess at the next free position; the stamp
	 * check and the CAS below validate it.
	 */
	pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
	for (;;) {
		c = &q->cells[pos & q->mask];
		/*
		 * Acquire: pairs with the release store of this stamp by the
		 * consumer that emptied the cell a lap ago, so its read of
		 * c->item happens before our write of it below.
		 */
		stamp = atomic_load_explicit(&c->stamp, memory_order_acquire);
		d = (intptr_t)(stamp - pos);
		if (d == 0) {
			/*
			 * Relaxed on success and failure: the CAS only makes us
			 * the single owner of position pos.  Nothing is
			 * published through tail; the stamp above already
			 * ordered us after the cell's last consumer, and the
			 * stamp store below publishes the item.  On failure pos
			 * becomes the current tail and we retry there.
			 */
			if (atomic_compare_exchange_weak_explicit(&q->tail,
			    &pos, mpmc_next(q, pos), memory_order_relaxed,
			    memory_order_relaxed))
				break;
			PROBE(probe.cas_retry++);
		} else if (d < 0) {
			/*
			 * The cell still holds last lap's item: full, unless a
			 * consumer already claimed that item (head moved past
			 * it) and is emptying the cell right now.  Relaxed: the
			 * answer only sorts the failure for statistics.
			 */
			if (atomic_load_explicit(&q->head, memory_order_relaxed) ==
			    pos - q->one_lap)
				return MPMC_FULL;
			return MPMC_BUSY;
		} else {
			PROBE(probe.cas_retry++);
			pos = atomic_load_explicit(&q->tail,
			    memory_order_relaxed);
		}
	}
	PROBE(probe.cas_ok++);
	c->item = item;
	/*
	 * Release: pairs with the acquire stamp load in mpmc_try_pop, so the
	 * consumer that sees "full" also sees c->item.
	 */
	atomic_store_explicit(&c->stamp, pos + 1, memory_order_release);
	return MPMC_PUSHED;
}

bool
mpmc_try_pop(struct mpmc *q, void **item)
{
	struct mpmc_cell	*c;
	size_t			 pos, stamp;
	intptr_t		 d;

	/* Relaxed: a guess, validated as in mpmc_try_push. */
	pos = atomic_load_explicit(&q->head, memory_order_relaxed);
	for (;;) {
		c = &q->cells[pos & q->mask];
		/*
		 * Acquire: pairs with the release store in mpmc_try_push, so
		 * once the stamp says "full" the producer's write of c->item
		 * is visible to us.
		 */
		stamp = atomic_load_explicit(&c->stamp, memory_order_acquire);
		d = (intptr_t)(stamp - (pos + 1));
		if (d == 0) {
			/* Relaxed, for the reasons given in mpmc_try_push. */
			if (atomic_compare_exchange_weak_explicit(&q->head,
			    &pos, mpmc_next(q, pos), memory_order_relaxed,
			    memory_order_relaxed))
				break;
			PROBE(probe.cas_retry++);
		} else if (d < 0) {
			/* Not yet written in this lap: empty. */
			return false;
		} else {
			PROBE(probe.cas_retry++);
			pos = atomic_load_explicit(&q->head,
			    memory_order_relaxed);
		}
	}
	PROBE(probe.cas_ok++);
	*item = c->item;
	/*
	 * Release: pairs with the acquire stamp load of the next lap's
	 * producer, so our read of c->item happens before it is overwritten.
	 */
	atomic_store_explicit(&c->stamp, pos + q->one_lap,
	    memory_order_release);
	return true;
}

size_t
mpmc_capacity(const struct mpmc *q)
{
	return q->capacity;
}

size_t
mpmc_size_approx(const struct mpmc *q)
{
	size_t		 head, tail;
	intptr_t	 laps, n;

	/* Relaxed: a snapshot for statistics; clamped because it can tear. */
	head = atomic_load_explicit(&q->head, memory_order_relaxed);
	tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	laps = (intptr_t)((tail & ~q->mask) - (head & ~q->mask)) /
	    (intptr_t)q->one_lap;
	n = laps * (intptr_t)q->capacity +
	    (intptr_t)(tail & q->mask) - (intptr_t)(head & q->mask);
	if (n < 0)
		return 0;
	if ((size_t)n > q->capacity)
		return q->capacity;
	return (size_t)n;
}
