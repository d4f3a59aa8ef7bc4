/*
 * queue_bench.c - throughput of the two blocking queues (queue.h) across
 * producer/consumer counts and capacities.  Each producer pushes its share of
 * ITEMS, each consumer pops its share, and the run is timed from a common
 * start barrier to the last join.  Prints CSV:
 *
 *	queue,producers,consumers,capacity,items,seconds,ops_per_sec,
 *	cas_retry_per_op,lock_contended_pct,lock_wait_ns_per_op,
 *	sleeps_per_op,spin_us,spinners
 *
 * where ops_per_sec is items moved (one push plus one pop) per second. The
 * last three say whether a slowdown is contention on the queue itself: for
 * the lock-free queue, failed CAS attempts (retries) per push or pop; for the
 * locked queue, the share of lock acquisitions that found the lock taken and
 * the time waited for it per push or pop; sleeps_per_op, for both, how
 * often a push or pop went to sleep (a futex or condvar wait, each one a
 * wake-up and two context switches).  spin_us and spinners are the long
 * spin of idle consumers (queue_set_spin), off unless --spin-us is given.
 * They come from the per-thread
 * counters of src/probe.h, compiled into this program only (the daemon's
 * queues carry none), from the median run.  Every
 * thread takes its own timestamps, and a run lasts from the earliest start to
 * the latest finish, so the main thread being descheduled does not count.
 *
 * usage: queue_bench [--quick] [--items N] [--runs N] [--kind lockfree|locked]
 *                    [--producers N] [--consumers N] [--capacity N]
 *                    [--spin-us N] [--spinners N]
 *
 * --quick moves 20000 items per configuration; --runs reports the median of
 * N runs of each configuration; --producers, --consumers (1-16) and
 * --capacity replace the default sweep by one value.  Not run by make check.
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe.h"
#include "queue.h"

#define MAXT	16

_Thread_local struct probe probe;

struct run {
	struct queue		*q;
	pthread_barrier_t	 start;
	size_t			 nprod, ncons, items;
};

struct part {
	struct run	*r;
	size_t		 count;
	size_t		 id;
	pthread_t	 thread;
	double		 t_start, t_end;
	struct probe	 probe;		/* the thread's counters at its end */
};

/* Counters of one run, summed over its threads. */
struct tally {
	double		 seconds;
	struct probe	 sum;
};

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
producer(void *arg)
{
	struct part	*p = arg;
	size_t		 i;

	pthread_barrier_wait(&p->r->start);
	p->t_start = now();
	for (i = 0; i < p->count; i++)
		queue_push(p->r->q, (void *)(uintptr_t)(p->id << 32 | (i + 1)));
	p->t_end = now();
	p->probe = probe;
	return NULL;
}

static void *
consumer(void *arg)
{
	struct part	*p = arg;
	size_t		 i;
	uintptr_t	 sum = 0;

	pthread_barrier_wait(&p->r->start);
	p->t_start = now();
	for (i = 0; i < p->count; i++)
		sum += (uintptr_t)queue_pop(p->r->q);
	p->t_end = now();
	p->probe = probe;
	return (void *)sum;
}

static void
tally_add(struct tally *t, const struct probe *p)
{
	t->sum.cas_ok += p->cas_ok;
	t->sum.cas_retry += p->cas_retry;
	t->sum.locks += p->locks;
	t->sum.lock_contended += p->lock_contended;
	t->sum.lock_wait_ns += p->lock_wait_ns;
	t->sum.sleeps += p->sleeps;
}

/* Moves ITEMS through a fresh queue into *T; 0 or -errno. */
/* The long spin of consumers (--spin-us, --spinners); 0: off. */
static unsigned spin_us, spinners;

static int
bench_one(struct tally *t, enum queue_kind kind, size_t np, size_t nc,
    size_t cap, size_t items)
{
	struct run	 r;
	struct part	 prod[MAXT], cons[MAXT];
	size_t		 i;
	double		 t0 = 1e300, t1 = 0;
	int		 rc;

	memset(t, 0, sizeof(*t));
	if ((rc = queue_create(&r.q, kind, cap)) != 0)
		return rc;
	queue_set_spin(r.q, spin_us, spinners);
	r.nprod = np;
	r.ncons = nc;
	r.items = items;
	pthread_barrier_init(&r.start, NULL, (unsigned int)(np + nc + 1));
	/* Split exactly: every item pushed is popped by someone. */
	for (i = 0; i < nc; i++) {
		cons[i] = (struct part){ .r = &r,
		    .count = items / nc + (i < items % nc), .id = i };
		pthread_create(&cons[i].thread, NULL, consumer, &cons[i]);
	}
	for (i = 0; i < np; i++) {
		prod[i] = (struct part){ .r = &r,
		    .count = items / np + (i < items % np), .id = i };
		pthread_create(&prod[i].thread, NULL, producer, &prod[i]);
	}
	pthread_barrier_wait(&r.start);
	for (i = 0; i < np; i++) {
		pthread_join(prod[i].thread, NULL);
		tally_add(t, &prod[i].probe);
		t0 = prod[i].t_start < t0 ? prod[i].t_start : t0;
		t1 = prod[i].t_end > t1 ? prod[i].t_end : t1;
	}
	for (i = 0; i < nc; i++) {
		pthread_join(cons[i].thread, NULL);
		tally_add(t, &cons[i].probe);
		t0 = cons[i].t_start < t0 ? cons[i].t_start : t0;
		t1 = cons[i].t_end > t1 ? cons[i].t_end : t1;
	}
	pthread_barrier_destroy(&r.start);
	queue_free(r.q);
	t->seconds = t1 - t0;
	return 0;
}

static int
cmp_tally(const void *a, const void *b)
{
	double	 x = ((const struct tally *)a)->seconds;
	double	 y = ((const struct tally *)b)->seconds;

	return (x > y) - (x < y);
}

static void
usage(void)
{
	fprintf(stderr, "usage: queue_bench [--quick] [--items N] [--runs N] "
	    "[--kind lockfree|locked]\n"
	    "                   [--producers N] [--consumers N] "
	    "[--capacity N]\n"
	    "                   [--spin-us N] [--spinners N]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static size_t	 shapes[][2] = {
		{1, 1}, {2, 2}, {4, 4}, {1, 3}, {3, 1}, {8, 8}, {16, 16}
	};
	static size_t	 caps[] = { 1, 8, 64, 1024 };
	static const char *names[] = { "lockfree", "locked" };
	static const struct option longopts[] = {
		{ "quick",	no_argument,		NULL, 'Q' },
		{ "items",	required_argument,	NULL, 'n' },
		{ "runs",	required_argument,	NULL, 'r' },
		{ "kind",	required_argument,	NULL, 'k' },
		{ "producers",	required_argument,	NULL, 'p' },
		{ "consumers",	required_argument,	NULL, 'c' },
		{ "capacity",	required_argument,	NULL, 'C' },
		{ "spin-us",	required_argument,	NULL, 's' },
		{ "spinners",	required_argument,	NULL, 'S' },
		{ NULL,		0,			NULL, 0 }
	};
	size_t		 items = 200000, s, c, nshapes, ncaps;
	size_t		 only_p = 0, only_c = 0, only_cap = 0;
	int		 runs = 1, kind, kmin = 0, kmax = 1, ch, i, rc;
	struct tally	 t[16], *m;
	double		 ops;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'Q':
			items = 20000;
			break;
		case 'n':
			items = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'p':
			only_p = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			only_c = strtoul(optarg, NULL, 10);
			break;
		case 'C':
			only_cap = strtoul(optarg, NULL, 10);
			break;
		case 's':
			spin_us = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			spinners = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			if (strcmp(optarg, "lockfree") == 0)
				kmin = kmax = QUEUE_LOCKFREE;
			else if (strcmp(optarg, "locked") == 0)
				kmin = kmax = QUEUE_LOCKED;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (spin_us > 0 && spinners == 0)
		spinners = 1;
	if (optind != argc || items == 0 || runs < 1 || runs > 16 ||
	    only_p > MAXT || only_c > MAXT || (!only_p != !only_c))
		usage();
	nshapes = sizeof(shapes) / sizeof(shapes[0]);
	ncaps = sizeof(caps) / sizeof(caps[0]);
	if (only_p) {
		shapes[0][0] = only_p;
		shapes[0][1] = only_c;
		nshapes = 1;
	}
	if (only_cap) {
		caps[0] = only_cap;
		ncaps = 1;
	}

	printf("queue,producers,consumers,capacity,items,seconds,ops_per_sec,"
	    "cas_retry_per_op,lock_contended_pct,lock_wait_ns_per_op,"
	    "sleeps_per_op,spin_us,spinners\n");
	for (s = 0; s < nshapes; s++)
		for (c = 0; c < ncaps; c++)
			for (kind = kmin; kind <= kmax; kind++) {
				for (i = 0; i < runs; i++)
					if ((rc = bench_one(&t[i], kind,
					    shapes[s][0], shapes[s][1], caps[c],
					    items)) < 0) {
						fprintf(stderr, "queue_create: "
						    "%s\n", strerror(-rc));
						return 1;
					}
				qsort(t, (size_t)runs, sizeof(t[0]), cmp_tally);
				m = &t[runs / 2];
				ops = 2.0 * (double)items;	/* a push and a pop each */
				printf("%s,%zu,%zu,%zu,%zu,%.6f,%.0f,%.4f,%.2f,%.1f,"
				    "%.4f,%u,%u\n",
				    names[kind], shapes[s][0], shapes[s][1],
				    caps[c], items, m->seconds,
				    items / m->seconds,
				    m->sum.cas_retry / ops,
				    m->sum.locks ? 100.0 * m->sum.lock_contended /
				    m->sum.locks : 0.0,
				    m->sum.lock_wait_ns / ops,
				    m->sum.sleeps / ops, spin_us,
				    spin_us > 0 ? spinners : 0);
				fflush(stdout);
			}
	return 0;
}
