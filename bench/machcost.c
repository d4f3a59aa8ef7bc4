#define _GNU_SOURCE
/*
 * machcost.c - NOT a benchmark of lfserver: what this machine charges for
 * the two things that decide how a pool (a reactor handing requests to
 * workers) fares against a single-threaded event loop, so that a reader of
 * the suite's report can tell which kind of machine it ran on
 * (docs/BENCHMARKS.md, "Two machines").
 *
 *   syscall        one getppid() round trip into the kernel.  A pool and
 *                  a single-threaded loop make a different number of
 *                  system calls per request (lfserver 2.1-2.5, nginx 3.0,
 *                  lighttpd 3.9 on the static page): where a system call
 *                  is dear (page-table isolation, a hypervisor that traps),
 *                  fewer of them win.
 *   handoff_1cpu   a thread asleep in FUTEX_WAIT woken by another on the
 *                  same CPU, until it runs: half of a futex ping-pong
 *                  between two threads pinned to one CPU.
 *   handoff_2cpu   the same with the two threads on two CPUs (the wake
 *                  crosses CPUs: an interrupt, and on a VM an exit).
 *                  A pool pays a hand-off or two per batch of requests
 *                  that a single-threaded loop does not.
 *   compute_1cpu   CPU work: GET /cpu?n=10000's own count of the primes
 *                  (primes_count, src/handlers/cpu.c), one thread alone.
 *   compute_2cpu   the same, one thread on each of two CPUs at once (ns per
 *                  count, the two threads' mean).  Equal to compute_1cpu
 *                  when the two CPUs are independent; higher when they
 *                  share a core (hyperthreads) or the host: what bounds a
 *                  pool's /cpu speedup over sequential below 2.
 *
 * Each is timed 5 times over a fixed count; the median and the range are
 * printed as CSV, in nanoseconds per operation:
 *
 *	measure,ns,ns_min,ns_max
 *
 * handoff_2cpu and compute_2cpu are left out when the process may run on
 * one CPU only.
 *
 *   bench/machcost
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "handlers/handlers.h"	/* primes_count: GET /cpu's own work */

#define ROUNDS		5
#define SYSCALLS	200000
#define PINGPONGS	20000
#define COUNTS		300	/* of the primes up to PRIMES_N, per thread */
#define PRIMES_N	10000

static _Atomic uint32_t	 turn;
static int		 pong_cpu;	/* the CPU pong() pins itself to */
static volatile unsigned long sink;	/* keeps the counts from being elided */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
futex_wait(_Atomic uint32_t *w, uint32_t val)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void
futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static int
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Waits for turn to become MINE, sleeping in FUTEX_WAIT. */
static void
await(uint32_t mine)
{
	uint32_t t;

	while ((t = atomic_load(&turn)) != mine)
		futex_wait(&turn, t);
}

static void *
pong(void *arg)
{
	int i;

	(void)arg;
	if (pin(pong_cpu) != 0)
		return NULL;
	for (i = 0; i < PINGPONGS; i++) {
		await(1);
		atomic_store(&turn, 0);
		futex_wake(&turn);
	}
	return NULL;
}

/* ns per hand-off: PINGPONGS round trips of two each. */
static double
pingpong(int cpu_a, int cpu_b)
{
	pthread_t t;
	uint64_t t0;
	int i;

	if (pin(cpu_a) != 0)
		return -1;
	pong_cpu = cpu_b;
	atomic_store(&turn, 0);
	if (pthread_create(&t, NULL, pong, NULL) != 0)
		return -1;
	t0 = now_ns();
	for (i = 0; i < PINGPONGS; i++) {
		atomic_store(&turn, 1);
		futex_wake(&turn);
		await(0);
	}
	t0 = now_ns() - t0;
	pthread_join(t, NULL);
	return (double)t0 / (2.0 * PINGPONGS);
}

static double
syscalls(int cpu_a, int unused)
{
	uint64_t t0;
	int i;

	(void)cpu_a;
	(void)unused;
	t0 = now_ns();
	for (i = 0; i < SYSCALLS; i++)
		syscall(SYS_getppid);
	return (double)(now_ns() - t0) / SYSCALLS;
}

struct counter {
	int		 cpu;
	pthread_barrier_t *start;	/* NULL: alone */
	double		 ns;		/* per count; < 0: could not pin */
};

static void *
counter_run(void *arg)
{
	struct counter *c = arg;
	uint64_t t0;
	int i, pinned = pin(c->cpu);

	/* both threads start together, pinned or not, so neither waits alone */
	if (c->start != NULL)
		pthread_barrier_wait(c->start);
	c->ns = -1;
	if (pinned != 0)
		return NULL;
	t0 = now_ns();
	for (i = 0; i < COUNTS; i++)
		sink += primes_count(PRIMES_N);
	c->ns = (double)(now_ns() - t0) / COUNTS;
	return NULL;
}

/* ns per count of the primes, on CPU_A alone (CPU_B < 0) or on CPU_A and,
 * in a second thread, CPU_B at once: the two threads' mean. */
static double
compute(int cpu_a, int cpu_b)
{
	pthread_barrier_t start;
	pthread_t t;
	struct counter a = { cpu_a, NULL, -1 }, b = { cpu_b, &start, -1 };

	if (cpu_b < 0) {
		counter_run(&a);
		return a.ns;
	}
	pthread_barrier_init(&start, NULL, 2);
	a.start = &start;
	if (pthread_create(&t, NULL, counter_run, &b) != 0) {
		pthread_barrier_destroy(&start);
		return -1;
	}
	counter_run(&a);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&start);
	return a.ns < 0 || b.ns < 0 ? -1 : (a.ns + b.ns) / 2;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
report(const char *name, double (*fn)(int, int), int a, int b)
{
	double v[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++)
		if ((v[i] = fn(a, b)) < 0) {
			fprintf(stderr, "machcost: %s: cannot pin or start "
			    "a thread\n", name);
			return -1;
		}
	qsort(v, ROUNDS, sizeof(v[0]), cmp);
	printf("%s,%.0f,%.0f,%.0f\n", name, v[ROUNDS / 2], v[0],
	    v[ROUNDS - 1]);
	return 0;
}

int
main(int argc, char **argv)
{
	cpu_set_t set;
	int cpus[2], n = 0, c;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: machcost\n");
		return 2;
	}
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		perror("machcost: sched_getaffinity");
		return 1;
	}
	for (c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	printf("measure,ns,ns_min,ns_max\n");
	if (report("syscall", syscalls, cpus[0], cpus[0]) != 0 ||
	    report("handoff_1cpu", pingpong, cpus[0], cpus[0]) != 0 ||
	    (n == 2 && report("handoff_2cpu", pingpong, cpus[0], cpus[1]) != 0) ||
	    report("compute_1cpu", compute, cpus[0], -1) != 0 ||
	    (n == 2 && report("compute_2cpu", compute, cpus[0], cpus[1]) != 0))
		return 1;
	return 0;
}
