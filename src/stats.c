/*
 * stats.c - sharded counters and the latency histogram; see stats.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

const uint64_t stats_duration_bounds_us[STATS_DURATION_BOUNDS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

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
	unsigned i;

	s = aligned_alloc(64, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->started_ns = stats_now_ns();
	for (i = 0; i < STATS_SHARDS; i++)
		s->shard[i].index = i;
	pthread_mutex_init(&s->mu, NULL);
	s->route_name[STATS_ROUTE_NONE] = strdup("");
	if (s->route_name[STATS_ROUTE_NONE] == NULL) {
		free(s);
		return -ENOMEM;
	}
	atomic_store_explicit(&s->nroutes, 1, memory_order_release);
	*out = s;
	return 0;
}

void
stats_free(struct stats *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < STATS_ROUTES; i++)
		free(s->route_name[i]);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

unsigned
stats_route_slot(struct stats *s, const char *path)
{
	unsigned i, n;

	pthread_mutex_lock(&s->mu);
	n = atomic_load_explicit(&s->nroutes, memory_order_relaxed);
	for (i = 1; i < n; i++)
		if (strcmp(s->route_name[i], path) == 0)
			goto done;
	if (n == STATS_ROUTES) {
		i = STATS_ROUTES - 1;	/* the overflow slot */
		goto done;
	}
	s->route_name[n] = n == STATS_ROUTES - 1 ? strdup("other") : strdup(path);
	if (s->route_name[n] == NULL) {
		i = STATS_ROUTE_NONE;
		goto done;
	}
	/* pairs with the acquire load in stats_route_count */
	atomic_store_explicit(&s->nroutes, n + 1, memory_order_release);
	i = n;
done:
	pthread_mutex_unlock(&s->mu);
	return i;
}

unsigned
stats_route_count(struct stats *s)
{
	return atomic_load_explicit(&s->nroutes, memory_order_acquire);
}

const char *
stats_route_name(struct stats *s, unsigned slot)
{
	return slot < stats_route_count(s) ? s->route_name[slot] : "";
}

void
stats_set_info(struct stats *s, const struct stats_info *info)
{
	pthread_mutex_lock(&s->mu);
	s->info = *info;
	pthread_mutex_unlock(&s->mu);
}

void
stats_get_info(struct stats *s, struct stats_info *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->info;
	pthread_mutex_unlock(&s->mu);
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
	stats_request_route(sh, STATS_ROUTE_NONE, status, us);
}

void
stats_request_route(struct stats_shard *sh, unsigned slot, int status,
    uint64_t us)
{
	unsigned d = 0, cls;
	uint64_t max;

	while (d < STATS_DURATION_BOUNDS && us > stats_duration_bounds_us[d])
		d++;
	cls = status >= 100 && status < 600 ? (unsigned)status / 100 - 1 : 4;
	if (slot >= STATS_ROUTES)
		slot = STATS_ROUTE_NONE;
	atomic_fetch_add_explicit(&sh->duration[d], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->by_route[slot][cls], 1, memory_order_relaxed);
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

	uint64_t queued = 0, dequeued = 0, begun = 0, done = 0;

	memset(out, 0, sizeof(*out));
	memset(hist, 0, sizeof(uint64_t) * STATS_BUCKETS);
	*max = 0;
	for (i = 0; i < STATS_SHARDS; i++) {
		struct stats_shard *sh = &s->shard[i];
		uint64_t m;

		/* the later event first, so that a gauge is never negative */
		dequeued += atomic_load_explicit(&sh->dequeued, memory_order_relaxed);
		done += atomic_load_explicit(&sh->work_done, memory_order_relaxed);
		queued += atomic_load_explicit(&sh->queued, memory_order_relaxed);
		begun += atomic_load_explicit(&sh->work_begun, memory_order_relaxed);

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
	out->reloads_failed = atomic_load_explicit(&s->reloads_failed, memory_order_relaxed);
	out->log_dropped = atomic_load_explicit(&s->log_dropped, memory_order_relaxed);
	/* relaxed loads of different shards are not one instant: clamp at 0 */
	out->queue_depth = queued > dequeued ? queued - dequeued : 0;
	out->busy = begun > done ? begun - done : 0;
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

void
stats_detail(struct stats *s, struct stats_detail *out)
{
	unsigned i, r, c, d;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < STATS_SHARDS; i++) {
		struct stats_shard *sh = &s->shard[i];

		for (r = 0; r < STATS_ROUTES; r++)
			for (c = 0; c < STATS_CLASSES; c++)
				out->by_route[r][c] += atomic_load_explicit(
				    &sh->by_route[r][c], memory_order_relaxed);
		for (d = 0; d <= STATS_DURATION_BOUNDS; d++)
			out->duration[d] += atomic_load_explicit(&sh->duration[d],
			    memory_order_relaxed);
		out->sum_us += atomic_load_explicit(&sh->sum_us, memory_order_relaxed);
	}
}
