/*
 * test_stats.c - the latency histogram, percentiles, totals and intervals.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
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

/* The value of the exposition line that starts with NAME_AND_LABELS, or -1. */
static long long
metric(const char *text, const char *name_and_labels)
{
	size_t n = strlen(name_and_labels);
	const char *p = text;

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name_and_labels, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
	return -1;
}

/* Route slots, status classes, the Prometheus histogram, gauges, exposition. */
static void
test_metrics(void)
{
	struct stats *s;
	struct stats_detail *d = malloc(sizeof(*d));
	struct stats_snapshot snap;
	struct stats_info info = { LF_MODE_LOCKED, 3, 16, 1 };
	unsigned cpu, io, quote, slot = 0;
	char name[32], *text = NULL;
	size_t len = 0;
	int i, stable = 1;

	ok(stats_create(&s) == 0 && d != NULL, "stats_create (metrics)");
	cpu = stats_route_slot(s, "/cpu");
	io = stats_route_slot(s, "/io");
	quote = stats_route_slot(s, "/q\"uo\\te");
	ok(cpu != STATS_ROUTE_NONE && io != STATS_ROUTE_NONE && cpu != io,
	    "two routes get two slots, neither the no-route one");
	ok(stats_route_slot(s, "/cpu") == cpu && strcmp(stats_route_name(s, cpu), "/cpu") == 0,
	    "a route path keeps its slot (a reload that keeps it keeps its counters)");
	for (i = 0; i < STATS_ROUTES + 5; i++) {
		snprintf(name, sizeof(name), "/r%d", i);
		slot = stats_route_slot(s, name);
		if (slot >= STATS_ROUTES)
			stable = 0;
	}
	ok(stable && slot == STATS_ROUTES - 1 &&
	    strcmp(stats_route_name(s, slot), "other") == 0 &&
	    stats_route_count(s) == STATS_ROUTES,
	    "routes beyond the table share the last slot, named other");

	stats_request_route(stats_shard(s, 0), cpu, 200, 100);
	stats_request_route(stats_shard(s, 1), cpu, 200, 101);
	stats_request_route(stats_shard(s, 2), cpu, 503, 10000000);
	stats_request_route(stats_shard(s, 3), io, 404, 10000001);
	stats_request(stats_shard(s, 4), 99, 0);
	stats_detail(s, d);
	ok(d->by_route[cpu][1] == 2 && d->by_route[cpu][4] == 1 &&
	    d->by_route[io][3] == 1 && d->by_route[STATS_ROUTE_NONE][4] == 1,
	    "counted by route and status class (a status outside 100..599 as 5xx)");
	ok(d->duration[0] == 2 && d->duration[1] == 1 &&
	    d->duration[STATS_DURATION_BOUNDS - 1] == 1 &&
	    d->duration[STATS_DURATION_BOUNDS] == 1,
	    "0 and 100 us are <= 0.0001 s, 101 us the next bucket, 10 s the last, "
	    "above it +Inf");
	ok(d->sum_us == 100 + 101 + 10000000 + 10000001, "the latency sum");

	stats_queued(stats_shard(s, 0));
	stats_queued(stats_shard(s, 0));
	stats_queued(stats_shard(s, 0));
	stats_dequeued(stats_shard(s, 1));
	stats_work_begin(stats_shard(s, 1));
	stats_work_begin(stats_shard(s, 2));
	stats_work_end(stats_shard(s, 2));
	stats_total(s, &snap);
	ok(snap.queue_depth == 2 && snap.busy == 1,
	    "queue depth = queued - taken (2), busy = begun - ended (1)");

	stats_set_info(s, &info);
	ok(metrics_prometheus(s, &text, &len) == 0 && text != NULL &&
	    len == strlen(text), "metrics_prometheus");
	ok(metric(text, "lfserver_requests_total{route=\"/cpu\",code=\"2xx\"}") == 2 &&
	    metric(text, "lfserver_requests_total{route=\"/cpu\",code=\"5xx\"}") == 1 &&
	    metric(text, "lfserver_requests_total{route=\"none\",code=\"5xx\"}") == 1,
	    "lfserver_requests_total by route and code");
	ok(metric(text, "lfserver_requests_total{route=\"/io\",code=\"2xx\"}") == -1,
	    "no series for a count of zero");
	ok(metric(text, "lfserver_request_duration_seconds_bucket{le=\"0.0001\"}") == 2 &&
	    metric(text, "lfserver_request_duration_seconds_bucket{le=\"0.00025\"}") == 3 &&
	    metric(text, "lfserver_request_duration_seconds_bucket{le=\"10\"}") == 4 &&
	    metric(text, "lfserver_request_duration_seconds_bucket{le=\"+Inf\"}") == 5 &&
	    metric(text, "lfserver_request_duration_seconds_count") == 5,
	    "the histogram is cumulative, +Inf = count = 5");
	ok(strstr(text, "lfserver_request_duration_seconds_sum 20.000202\n") != NULL,
	    "the sum in seconds");
	ok(metric(text, "lfserver_queue_depth") == 2 &&
	    metric(text, "lfserver_workers{state=\"busy\"}") == 1 &&
	    metric(text, "lfserver_workers{state=\"idle\"}") == 2,
	    "queue depth, busy 1 and idle 2 of 3 workers");
	ok(metric(text, "lfserver_build_info{version=\"" PACKAGE_VERSION "\",mode=\"locked\","
	    "workers=\"3\",queue_capacity=\"16\",reactors=\"1\"}") == 1,
	    "build_info carries the running configuration");
	ok(strstr(text, "# TYPE lfserver_requests_total counter\n") != NULL &&
	    strstr(text, "# TYPE lfserver_request_duration_seconds histogram\n") != NULL &&
	    strstr(text, "# TYPE process_open_fds gauge\n") != NULL,
	    "TYPE lines name counter, histogram, gauge");
	ok(metric(text, "process_open_fds") > 0 && metric(text, "process_max_fds") > 0 &&
	    metric(text, "process_resident_memory_bytes") > 0,
	    "process metrics of this process");
	free(text);
	text = NULL;
	stats_request_route(stats_shard(s, 0), quote, 200, 1);
	ok(metrics_prometheus(s, &text, &len) == 0 &&
	    strstr(text, "{route=\"/q\\\"uo\\\\te\",code=\"2xx\"} 1\n") != NULL,
	    "a quote and a backslash in a route are escaped in its label");
	free(text);
	free(d);
	stats_free(s);
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
	test_metrics();
	return done_testing();
}
