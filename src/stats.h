/*
 * stats.h - request counters and a latency histogram, sharded per thread.
 *
 * Each worker (or connection thread) writes only its own cache-line-aligned
 * shard with relaxed atomic adds, so the hot path takes no lock and shares no
 * cache line; the stats timer sums the shards into a snapshot. A shard may be
 * shared by several threads (more workers than shards, thread-per-connection);
 * the adds stay correct because they are atomic.
 *
 * Latency is kept in a log-linear histogram of microseconds (16 sub-buckets
 * per power of two: a percentile is exact to about 6%).
 */
#ifndef LF_STATS_H
#define LF_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lfconfig.h"

#define STATS_SHARDS	64
#define STATS_SUB_BITS	4
#define STATS_BUCKETS	((40 - STATS_SUB_BITS + 1) << STATS_SUB_BITS)

/*
 * Per-route counters (for /metrics) are kept by slot: a route path gets the
 * same slot for the life of the process (stats_route_slot), so a reload that
 * keeps "/cpu" keeps its counters. Slot 0 is "no route" (404, 405, 400...);
 * the last slot takes every route beyond the table.
 */
#define STATS_ROUTES		32
#define STATS_ROUTE_NONE	0
#define STATS_CLASSES		5	/* status 1xx .. 5xx */
/* Prometheus histogram bounds in microseconds: 100 us .. 10 s */
#define STATS_DURATION_BOUNDS	16
extern const uint64_t stats_duration_bounds_us[STATS_DURATION_BOUNDS];

struct stats_shard {
	_Atomic uint64_t	requests;
	_Atomic uint64_t	errors;		/* responses with status >= 400 */
	_Atomic uint64_t	conns_opened;
	_Atomic uint64_t	conns_closed;
	_Atomic uint64_t	max_us;		/* since the last stats_interval() */
	/* queue depth = queued - dequeued; busy workers = work_begun - work_done */
	_Atomic uint64_t	queued, dequeued, work_begun, work_done;
	_Atomic uint64_t	sum_us;		/* latency sum, for the histogram's _sum */
	_Atomic uint64_t	duration[STATS_DURATION_BOUNDS + 1];	/* last: +Inf */
	_Atomic uint64_t	by_route[STATS_ROUTES][STATS_CLASSES];
	_Atomic uint64_t	hist[STATS_BUCKETS];
	unsigned		index;		/* its place in stats.shard[] */
} __attribute__((aligned(64)));

/* The running configuration's facts, as /metrics and the admin /stats show them. */
struct stats_info {
	enum lf_mode	mode;
	unsigned	workers, queue_capacity, reactors;
	size_t		docroot_files, docroot_skipped;	/* served, left out */
};

struct stats {
	struct stats_shard	shard[STATS_SHARDS];
	_Atomic uint64_t	queue_full;	/* times a producer waited on a full queue */
	_Atomic uint64_t	reloads;
	_Atomic uint64_t	reloads_failed;
	_Atomic uint64_t	log_dropped;	/* access log lines lost to a full buffer */
	_Atomic uint64_t	max_us_ever;	/* folded in by stats_interval() */
	_Atomic unsigned	next_shard;	/* for threads without a fixed index */
	uint64_t		started_ns;
	/*
	 * route_name[i] is written once, before nroutes is raised past i with
	 * release order; readers load nroutes with acquire (pairs with it).
	 */
	pthread_mutex_t		mu;		/* registration and info */
	char			*route_name[STATS_ROUTES];
	_Atomic unsigned	nroutes;
	struct stats_info	info;		/* under mu */
};

/* Totals, and for the interval since the previous stats_interval() call. */
struct stats_snapshot {
	uint64_t	requests, errors, conns_opened, conns_closed, queue_full, reloads;
	uint64_t	reloads_failed, log_dropped;
	uint64_t	queue_depth, busy;	/* gauges, now */
	uint64_t	connections;		/* open now */
	double		uptime_s;
	/* over the interval (or since start for stats_total) */
	double		interval_s;
	uint64_t	interval_requests;
	double		rps;
	uint64_t	p50_us, p99_us, max_us;
};

int stats_create(struct stats **out);
void stats_free(struct stats *s);
/* The shard for worker INDEX, or the next one round-robin when INDEX < 0. */
struct stats_shard *stats_shard(struct stats *s, int index);

/* One request served: its status and latency in microseconds. */
void stats_request(struct stats_shard *sh, int status, uint64_t us);
/* The same, counted for the route in SLOT (see stats_route_slot). */
void stats_request_route(struct stats_shard *sh, unsigned slot, int status,
    uint64_t us);
/*
 * The slot of route PATH, the same for the life of S; registers it when new.
 * A table with more routes than slots shares the last one. Not for the hot
 * path (it takes a mutex): call it when a server is built.
 */
unsigned stats_route_slot(struct stats *s, const char *path);
/* The route name of SLOT ("" for STATS_ROUTE_NONE), and how many slots are used. */
const char *stats_route_name(struct stats *s, unsigned slot);
unsigned stats_route_count(struct stats *s);

/* Engines: a work item queued / taken off the queue; a thread starts / ends serving. */
static inline void
stats_queued(struct stats_shard *sh)
{
	atomic_fetch_add_explicit(&sh->queued, 1, memory_order_relaxed);
}
static inline void
stats_dequeued(struct stats_shard *sh)
{
	atomic_fetch_add_explicit(&sh->dequeued, 1, memory_order_relaxed);
}
static inline void
stats_work_begin(struct stats_shard *sh)
{
	atomic_fetch_add_explicit(&sh->work_begun, 1, memory_order_relaxed);
}
static inline void
stats_work_end(struct stats_shard *sh)
{
	atomic_fetch_add_explicit(&sh->work_done, 1, memory_order_relaxed);
}

void stats_set_info(struct stats *s, const struct stats_info *info);
void stats_get_info(struct stats *s, struct stats_info *out);
static inline void
stats_conn_opened(struct stats_shard *sh)
{
	atomic_fetch_add_explicit(&sh->conns_opened, 1, memory_order_relaxed);
}
static inline void
stats_conn_closed(struct stats_shard *sh)
{
	atomic_fetch_add_explicit(&sh->conns_closed, 1, memory_order_relaxed);
}

/*
 * The counters /metrics shows, summed over the shards (SLOTS: routes x
 * classes; DURATION: per bound, not cumulative). Safe from any thread.
 */
struct stats_detail {
	uint64_t	by_route[STATS_ROUTES][STATS_CLASSES];
	uint64_t	duration[STATS_DURATION_BOUNDS + 1];
	uint64_t	sum_us;
};
void stats_detail(struct stats *s, struct stats_detail *out);

/* Whole-life totals and percentiles (for /stats). Safe from any thread. */
void stats_total(struct stats *s, struct stats_snapshot *out);

/*
 * Totals plus the rates and percentiles since the previous call. Only one
 * thread (the main loop's stats timer) may call it: it keeps the previous
 * snapshot in STATE.
 */
struct stats_interval_state {
	uint64_t	last_ns;
	uint64_t	last_requests;
	uint64_t	last_hist[STATS_BUCKETS];
};
void stats_interval(struct stats *s, struct stats_interval_state *state,
    struct stats_snapshot *out);

/* Histogram helpers, exposed for tests. */
unsigned stats_bucket(uint64_t us);
uint64_t stats_bucket_value(unsigned b);	/* representative (upper) value */

uint64_t stats_now_ns(void);			/* CLOCK_MONOTONIC */

#endif
