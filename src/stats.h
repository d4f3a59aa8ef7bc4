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

#include <stdatomic.h>
#include <stdint.h>

#define STATS_SHARDS	64
#define STATS_SUB_BITS	4
#define STATS_BUCKETS	((40 - STATS_SUB_BITS + 1) << STATS_SUB_BITS)

struct stats_shard {
	_Atomic uint64_t	requests;
	_Atomic uint64_t	errors;		/* responses with status >= 400 */
	_Atomic uint64_t	conns_opened;
	_Atomic uint64_t	conns_closed;
	_Atomic uint64_t	max_us;		/* since the last stats_interval() */
	_Atomic uint64_t	hist[STATS_BUCKETS];
} __attribute__((aligned(64)));

struct stats {
	struct stats_shard	shard[STATS_SHARDS];
	_Atomic uint64_t	queue_full;	/* times a producer waited on a full queue */
	_Atomic uint64_t	reloads;
	_Atomic uint64_t	max_us_ever;	/* folded in by stats_interval() */
	_Atomic unsigned	next_shard;	/* for threads without a fixed index */
	uint64_t		started_ns;
};

/* Totals, and for the interval since the previous stats_interval() call. */
struct stats_snapshot {
	uint64_t	requests, errors, conns_opened, conns_closed, queue_full, reloads;
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
