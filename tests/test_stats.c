/*
 * test_stats.c - the latency histogram, percentiles, totals and intervals.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "stats.h"
#include "tap.h"

#define THREADS		4
#define PER_THREAD	100000

static struct stats *shared;

static void *
hammer(void *arg)
{
	struct stats_shard *sh = stats_shard(shared, -1);
	int i;

	for (i = 0; i < PER_THREAD; i++)
		stats_request(sh, i % 100 == 0 ? 404 : 200, (uint64_t)(i % 1000));
	return NULL;
}

int
main(void)
{
	struct stats *s;
	struct stats_snapshot snap;
	struct stats_interval_state st = { 0 };
	pthread_t th[THREADS];
	uint64_t v, prev_b = 0;
	unsigned b;
	int i, monotone = 1, covers = 1;

	/* buckets: exact below 16, then within ~6% and never understating */
	for (v = 0; v < 16; v++)
		if (stats_bucket_value(stats_bucket(v)) != v)
			covers = 0;
	ok(covers, "values below 16 have exact buckets");
	for (v = 1; v < (1ull << 36); v = v * 3 / 2 + 1) {
		b = stats_bucket(v);
		if (b < prev_b)
			monotone = 0;
		prev_b = b;
		if (stats_bucket_value(b) < v || stats_bucket_value(b) > v + v / 16 + 1)
			covers = 0;
	}
	ok(monotone, "bucket index grows with the value");
	ok(covers, "a bucket's value is >= the value and within 1/16 of it");
	ok(stats_bucket(UINT64_MAX) == STATS_BUCKETS - 1, "huge values land in the last bucket");

	ok(stats_create(&s) == 0, "stats_create");
	for (i = 1; i <= 1000; i++)
		stats_request(stats_shard(s, i % 3), i <= 10 ? 500 : 200, (uint64_t)i);
	stats_conn_opened(stats_shard(s, 0));
	stats_conn_opened(stats_shard(s, 1));
	stats_conn_closed(stats_shard(s, 2));
	stats_total(s, &snap);
	ok(snap.requests == 1000, "1000 requests counted across shards (%llu)",
	    (unsigned long long)snap.requests);
	ok(snap.errors == 10, "statuses >= 400 counted as errors (%llu)",
	    (unsigned long long)snap.errors);
	ok(snap.connections == 1 && snap.conns_opened == 2, "open connections = opened - closed");
	ok(snap.p50_us >= 500 && snap.p50_us <= 532, "p50 of 1..1000 us is ~500 (%llu)",
	    (unsigned long long)snap.p50_us);
	ok(snap.p99_us >= 990 && snap.p99_us <= 1056, "p99 of 1..1000 us is ~990 (%llu)",
	    (unsigned long long)snap.p99_us);
	ok(snap.max_us == 1000, "max is exact (%llu)", (unsigned long long)snap.max_us);

	stats_interval(s, &st, &snap);
	ok(snap.interval_requests == 1000 && snap.max_us == 1000,
	    "first interval covers everything since start");
	for (i = 0; i < 50; i++)
		stats_request(stats_shard(s, 5), 200, 7);
	stats_interval(s, &st, &snap);
	ok(snap.interval_requests == 50 && snap.requests == 1050,
	    "second interval: 50 new of 1050 total");
	ok(snap.p50_us == 7 && snap.p99_us == 7 && snap.max_us == 7,
	    "interval percentiles and max cover only the interval");
	stats_interval(s, &st, &snap);
	ok(snap.interval_requests == 0 && snap.p99_us == 0 && snap.rps == 0,
	    "an empty interval reports zeros");
	stats_total(s, &snap);
	ok(snap.max_us == 1000, "the lifetime max survives interval resets");
	stats_free(s);

	/* concurrent writers, some sharing shards, lose nothing */
	ok(stats_create(&shared) == 0, "stats_create (shared)");
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, hammer, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	stats_total(shared, &snap);
	ok(snap.requests == (uint64_t)THREADS * PER_THREAD, "concurrent adds: no lost requests");
	ok(snap.errors == (uint64_t)THREADS * PER_THREAD / 100, "concurrent adds: no lost errors");
	stats_free(shared);
	stats_free(NULL);
	return done_testing();
}
