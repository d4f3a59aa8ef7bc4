/*
 * stats.c - sharded counters and the latency histogram; see stats.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

uint64_t
stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
stats_create(struct stats **out)
{
	struct stats *s;

	s = aligned_alloc(64, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->started_ns = stats_now_ns();
	*out = s;
	return 0;
}

void
stats_free(struct stats *s)
{
	free(s);
}

struct stats_shard *
stats_shard(struct stats *s, int index)
{
	if (index < 0)
		index = (int)atomic_fetch_add_explicit(&s->next_shard, 1, memory_order_relaxed);
	return &s->shard[(unsigned)index % STATS_SHARDS];
}

/*
 * Values below 2^SUB_BITS have a bucket each; above, a power of two is split
 * into 2^SUB_BITS equal sub-buckets.
 */
unsigned
stats_bucket(uint64_t us)
{
	unsigned msb, sub;

	if (us < (1u << STATS_SUB_BITS))
		return (unsigned)us;
	msb = 63u - (unsigned)__builtin_clzll(us);
	if (msb > 39)
		return STATS_BUCKETS - 1;
	sub = (unsigned)(us >> (msb - STATS_SUB_BITS)) & ((1u << STATS_SUB_BITS) - 1);
	return ((msb - STATS_SUB_BITS + 1) << STATS_SUB_BITS) + sub;
}

uint64_t
stats_bucket_value(unsigned b)
{
	unsigned msb, sub;

	if (b < (1u << STATS_SUB_BITS))
		return b;
	msb = (b >> STATS_SUB_BITS) + STATS_SUB_BITS - 1;
	sub = b & ((1u << STATS_SUB_BITS) - 1);
	/* the bucket's upper bound, so a percentile is never understated */
	return (((uint64_t)(1u << STATS_SUB_BITS) + sub + 1) << (msb - STATS_SUB_BITS)) - 1;
}

void
stats_request(struct stats_shard *sh, int status, uint64_t us)
{
	uint64_t max;

	atomic_fetch_add_explicit(&sh->requests, 1, memory_order_relaxed);
	if (status >= 400)
		atomic_fetch_add_explicit(&sh->errors, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->hist[stats_bucket(us)], 1, memory_order_relaxed);
	max = atomic_load_explicit(&sh->max_us, memory_order_relaxed);
	while (us > max && !atomic_compare_exchange_weak_explicit(&sh->max_us,
	    &max, us, memory_order_relaxed, memory_order_relaxed))
		;
}

static uint64_t
percentile(const uint64_t *hist, uint64_t total, double q)
{
	uint64_t rank, seen = 0;
	unsigned b;

	if (total == 0)
		return 0;
	rank = (uint64_t)(q * (double)total);
	if (rank >= total)
		rank = total - 1;
	for (b = 0; b < STATS_BUCKETS; b++) {
		seen += hist[b];
		if (seen > rank)
			return stats_bucket_value(b);
	}
	return stats_bucket_value(STATS_BUCKETS - 1);
}

/* Sums the shards; HIST receives the summed histogram, *MAX the shards' max. */
static void
stats_sum(struct stats *s, struct stats_snapshot *out, uint64_t *hist, uint64_t *max)
{
	unsigned i, b;

	memset(out, 0, sizeof(*out));
	memset(hist, 0, sizeof(uint64_t) * STATS_BUCKETS);
	*max = 0;
	for (i = 0; i < STATS_SHARDS; i++) {
		struct stats_shard *sh = &s->shard[i];
		uint64_t m;

		out->requests += atomic_load_explicit(&sh->requests, memory_order_relaxed);
		out->errors += atomic_load_explicit(&sh->errors, memory_order_relaxed);
		out->conns_opened += atomic_load_explicit(&sh->conns_opened, memory_order_relaxed);
		out->conns_closed += atomic_load_explicit(&sh->conns_closed, memory_order_relaxed);
		m = atomic_load_explicit(&sh->max_us, memory_order_relaxed);
		if (m > *max)
			*max = m;
		for (b = 0; b < STATS_BUCKETS; b++)
			hist[b] += atomic_load_explicit(&sh->hist[b], memory_order_relaxed);
	}
	out->queue_full = atomic_load_explicit(&s->queue_full, memory_order_relaxed);
	out->reloads = atomic_load_explicit(&s->reloads, memory_order_relaxed);
	/* opened and closed are read at slightly different moments */
	out->connections = out->conns_opened > out->conns_closed ?
	    out->conns_opened - out->conns_closed : 0;
	out->uptime_s = (double)(stats_now_ns() - s->started_ns) / 1e9;
}

/* A bucket's value is its upper bound: never report more than the real maximum. */
static void
stats_clamp(struct stats_snapshot *s)
{
	if (s->p50_us > s->max_us)
		s->p50_us = s->max_us;
	if (s->p99_us > s->max_us)
		s->p99_us = s->max_us;
}

void
stats_total(struct stats *s, struct stats_snapshot *out)
{
	uint64_t hist[STATS_BUCKETS], total = 0, max, m;
	unsigned b;

	stats_sum(s, out, hist, &max);
	for (b = 0; b < STATS_BUCKETS; b++)
		total += hist[b];
	out->interval_s = out->uptime_s;
	out->interval_requests = out->requests;
	out->rps = out->uptime_s > 0 ? (double)out->requests / out->uptime_s : 0;
	out->p50_us = percentile(hist, total, 0.50);
	out->p99_us = percentile(hist, total, 0.99);
	m = atomic_load_explicit(&s->max_us_ever, memory_order_relaxed);
	out->max_us = max > m ? max : m;
	stats_clamp(out);
}

void
stats_interval(struct stats *s, struct stats_interval_state *st,
    struct stats_snapshot *out)
{
	uint64_t hist[STATS_BUCKETS], now = stats_now_ns(), total = 0, max;
	unsigned i, b;

	stats_sum(s, out, hist, &max);
	if (st->last_ns == 0)
		st->last_ns = s->started_ns;
	for (b = 0; b < STATS_BUCKETS; b++) {
		uint64_t d = hist[b] - st->last_hist[b];

		st->last_hist[b] = hist[b];
		hist[b] = d;
		total += d;
	}
	/* the interval's maximum: take and reset each shard's */
	max = 0;
	for (i = 0; i < STATS_SHARDS; i++) {
		uint64_t m = atomic_exchange_explicit(&s->shard[i].max_us, 0, memory_order_relaxed);
		if (m > max)
			max = m;
	}
	if (max > atomic_load_explicit(&s->max_us_ever, memory_order_relaxed))
		atomic_store_explicit(&s->max_us_ever, max, memory_order_relaxed);
	out->interval_s = (double)(now - st->last_ns) / 1e9;
	out->interval_requests = out->requests - st->last_requests;
	out->rps = out->interval_s > 0 ? (double)out->interval_requests / out->interval_s : 0;
	out->p50_us = percentile(hist, total, 0.50);
	out->p99_us = percentile(hist, total, 0.99);
	out->max_us = max;
	stats_clamp(out);
	st->last_ns = now;
	st->last_requests = out->requests;
}
