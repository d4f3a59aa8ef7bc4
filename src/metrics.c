/*
 * metrics.c - Prometheus text exposition and the /stats JSON; see metrics.h.
 *
 * Names follow Prometheus's conventions: the lfserver_ prefix, _total on
 * counters, base units (_seconds, _bytes). Request counts are by route and
 * status class only, so the number of series stays small and bounded
 * (STATS_ROUTES x 5).
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "metrics.h"

#define ULL(x)	((unsigned long long)(x))

/* VALUE as a label value: backslash, double quote and newline escaped. */
static void
metrics_label(FILE *f, const char *value)
{
	for (; *value != '\0'; value++) {
		if (*value == '\\' || *value == '"')
			fprintf(f, "\\%c", *value);
		else if (*value == '\n')
			fputs("\\n", f);
		else
			fputc(*value, f);
	}
}

static void
metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metrics_requests(FILE *f, struct stats *s, const struct stats_detail *d)
{
	unsigned r, c, n = stats_route_count(s);
	uint64_t cum = 0;

	metrics_head(f, "lfserver_requests_total", "counter",
	    "Requests answered, by route (\"none\": no route matched) and status class.");
	for (r = 0; r < n; r++)
		for (c = 0; c < STATS_CLASSES; c++) {
			if (d->by_route[r][c] == 0)
				continue;
			fputs("lfserver_requests_total{route=\"", f);
			metrics_label(f, r == STATS_ROUTE_NONE ? "none" :
			    stats_route_name(s, r));
			fprintf(f, "\",code=\"%uxx\"} %llu\n", c + 1, ULL(d->by_route[r][c]));
		}
	metrics_head(f, "lfserver_request_duration_seconds", "histogram",
	    "Time from a request's first byte being readable until its response "
	    "starts to be written.");
	for (c = 0; c < STATS_DURATION_BOUNDS; c++) {
		cum += d->duration[c];
		fprintf(f, "lfserver_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    (double)stats_duration_bounds_us[c] / 1e6, ULL(cum));
	}
	cum += d->duration[STATS_DURATION_BOUNDS];
	fprintf(f, "lfserver_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "lfserver_request_duration_seconds_sum %.6f\n"
	    "lfserver_request_duration_seconds_count %llu\n",
	    ULL(cum), (double)d->sum_us / 1e6, ULL(cum));
}

static void
metrics_server(FILE *f, const struct stats_snapshot *sn, const struct stats_info *info)
{
	unsigned idle = info->workers > sn->busy ? info->workers - (unsigned)sn->busy : 0;

	metrics_head(f, "lfserver_connections_open", "gauge", "Client connections open now.");
	fprintf(f, "lfserver_connections_open %llu\n", ULL(sn->connections));
	metrics_head(f, "lfserver_connections_accepted_total", "counter",
	    "Client connections accepted.");
	fprintf(f, "lfserver_connections_accepted_total %llu\n", ULL(sn->conns_opened));
	metrics_head(f, "lfserver_queue_depth", "gauge",
	    "Ready connections waiting in the work queue (pool modes).");
	fprintf(f, "lfserver_queue_depth %llu\n", ULL(sn->queue_depth));
	metrics_head(f, "lfserver_queue_full_total", "counter",
	    "Times a reactor waited because the work queue was full.");
	fprintf(f, "lfserver_queue_full_total %llu\n", ULL(sn->queue_full));
	metrics_head(f, "lfserver_workers", "gauge",
	    "Worker threads (thread-per-connection: connection threads) busy serving or idle.");
	if (info->mode == LF_MODE_TPC) {
		/* a connection thread exists per open connection */
		idle = sn->connections > sn->busy ? (unsigned)(sn->connections - sn->busy) : 0;
	}
	fprintf(f, "lfserver_workers{state=\"busy\"} %llu\n"
	    "lfserver_workers{state=\"idle\"} %u\n", ULL(sn->busy), idle);
	metrics_head(f, "lfserver_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result.");
	fprintf(f, "lfserver_reloads_total{result=\"success\"} %llu\n"
	    "lfserver_reloads_total{result=\"failure\"} %llu\n",
	    ULL(sn->reloads), ULL(sn->reloads_failed));
	/* conn.c's process-wide counters, relaxed atomics like the shards */
	metrics_head(f, "lfserver_output_overflows_total", "counter",
	    "Connections closed because the copies of their unsent responses "
	    "passed the per-connection or total cap.");
	fprintf(f, "lfserver_output_overflows_total %lu\n", conn_out_overflows());
	metrics_head(f, "lfserver_output_copied_bytes", "gauge",
	    "Bytes of unsent responses held as copies now (files are sent by "
	    "reference and not counted).");
	fprintf(f, "lfserver_output_copied_bytes %zu\n", conn_out_copied_total());
	metrics_head(f, "lfserver_access_log_dropped_total", "counter",
	    "Access log lines lost because the writer fell behind.");
	fprintf(f, "lfserver_access_log_dropped_total %llu\n", ULL(sn->log_dropped));
	metrics_head(f, "lfserver_build_info", "gauge",
	    "Version and running configuration; the value is always 1.");
	fprintf(f, "lfserver_build_info{version=\"%s\",mode=\"%s\",workers=\"%u\","
	    "queue_capacity=\"%u\",reactors=\"%u\"} 1\n", PACKAGE_VERSION,
	    lf_mode_name(info->mode), info->workers, info->queue_capacity,
	    info->reactors);
}

static unsigned
metrics_count_fds(void)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;	/* not the directory's own fd */
}

/* Seconds since the epoch at boot, from /proc/stat's btime; 0 if unknown. */
static unsigned long long
metrics_boot_time(void)
{
	unsigned long long bt = 0;
	char line[256];
	FILE *f;

	if ((f = fopen("/proc/stat", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %llu", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

/*
 * The standard process metrics every Prometheus client library exports.
 * The start time comes from /proc/stat's boot time, or, where a sandbox
 * hides that file (ProcSubset=pid), from when S was made, at start-up.
 */
static void
metrics_process(FILE *f, struct stats *s)
{
	unsigned long long utime = 0, stime = 0, start = 0;
	long rss = 0, tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long boot = metrics_boot_time();
	char buf[1024], *p;
	struct timespec now;
	struct rlimit rl;
	double started;
	size_t n;
	FILE *sf;

	buf[0] = '\0';
	if ((sf = fopen("/proc/self/stat", "re")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, sf);
		buf[n] = '\0';
		fclose(sf);
	}
	/* fields after the command name (which may hold spaces): state is 3 */
	if ((p = strrchr(buf, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		    "%*d %*d %*d %*d %*d %*d %llu %*u %ld", &utime, &stime, &start, &rss);
	if (tck <= 0)
		tck = 100;
	metrics_head(f, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.");
	fprintf(f, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)tck);
	metrics_head(f, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	fprintf(f, "process_resident_memory_bytes %llu\n", ULL(rss) * ULL(page));
	metrics_head(f, "process_open_fds", "gauge", "Number of open file descriptors.");
	fprintf(f, "process_open_fds %u\n", metrics_count_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		metrics_head(f, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		fprintf(f, "process_max_fds %llu\n", ULL(rl.rlim_cur));
	}
	if (boot != 0 && start != 0)
		started = (double)boot + (double)start / (double)tck;
	else {
		clock_gettime(CLOCK_REALTIME, &now);
		started = (double)now.tv_sec + (double)now.tv_nsec / 1e9 -
		    (double)(stats_now_ns() - s->started_ns) / 1e9;
	}
	metrics_head(f, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	fprintf(f, "process_start_time_seconds %.2f\n", started);
}

int
metrics_prometheus(struct stats *s, char **out, size_t *len)
{
	struct stats_detail *d;
	struct stats_snapshot sn;
	struct stats_info info;
	FILE *f;

	/* about 5 KB of counters: not for a thread's stack */
	if ((d = malloc(sizeof(*d))) == NULL)
		return -ENOMEM;
	if ((f = open_memstream(out, len)) == NULL) {
		free(d);
		return -ENOMEM;
	}
	stats_total(s, &sn);
	stats_detail(s, d);
	stats_get_info(s, &info);
	metrics_requests(f, s, d);
	metrics_server(f, &sn, &info);
	metrics_process(f, s);
	free(d);
	if (ferror(f)) {
		fclose(f);
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

int
metrics_json(char *buf, size_t cap, struct stats *st, const struct stats_info *info)
{
	struct stats_snapshot s;
	int n;

	stats_total(st, &s);
	n = snprintf(buf, cap,
	    "{\"mode\":\"%s\",\"workers\":%u,\"queue_capacity\":%u,\"pid\":%d,"
	    "\"uptime_s\":%.3f,\"requests\":%llu,\"errors\":%llu,"
	    "\"connections\":%llu,\"connections_total\":%llu,\"queue_full\":%llu,"
	    "\"reloads\":%llu,\"p50_us\":%llu,\"p99_us\":%llu,\"max_us\":%llu,"
	    "\"docroot_files\":%zu,\"docroot_skipped\":%zu,\"output_overflows\":%lu}\n",
	    lf_mode_name(info->mode), info->workers, info->queue_capacity,
	    (int)getpid(), s.uptime_s, ULL(s.requests), ULL(s.errors),
	    ULL(s.connections), ULL(s.conns_opened), ULL(s.queue_full),
	    ULL(s.reloads), ULL(s.p50_us), ULL(s.p99_us), ULL(s.max_us),
	    info->docroot_files, info->docroot_skipped, conn_out_overflows());
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
