/*
 * test_accesslog.c - the access log module on its own: the combined and JSON
 * lines (fields, escaping, the client address; whole lines byte for byte
 * for tricky input), the writer's flush at free
 * and within a second, SIGUSR2's reopen after a rename, and the promise that
 * a request never waits on a stuck disk: with the writer blocked on a full
 * pipe, appends return at once and the lines that do not fit are counted
 * as dropped, never lost silently.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "http.h"
#include "stats.h"
#include "tap.h"
#include "testdir.h"

static struct stats *st;
static int client_fd = -1;	/* a real loopback connection, for its address */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection over 127.0.0.1: the server side's fd. */
static int
loopback_fd(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int l, c, s;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(l, 1) < 0 || getsockname(l, (struct sockaddr *)&sin, &sl) < 0)
		return -1;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	s = accept(l, NULL, NULL);
	close(l);
	return s;
}

static char *
slurp(const char *path)
{
	static char buf[1 << 20];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Appends the line of RAW (a complete request head) answered with STATUS. */
static void
log_request(struct accesslog *al, unsigned slot, const char *raw, int status,
    uint64_t bytes)
{
	struct http_request req;
	struct accesslog_entry e;
	int hs;

	if (http_parse_request(raw, strlen(raw), &req, &hs) <= 0) {
		ok(0, "test request parses: %s", raw);
		return;
	}
	e.req = &req;
	e.fd = client_fd;
	e.peer = NULL;
	e.status = status;
	e.bytes = bytes;
	e.us = 1234;
	accesslog_request(al, slot, &e);
}

static const char *const ua_req =
    "GET /cpu?n=1 HTTP/1.1\r\nHost: x\r\n"
    "User-Agent: caf\xc3\xa9 \"q\"\\\r\nreferer:  http://r/  \r\n\r\n";

static void
test_combined(void)
{
	const char *path = tpath("combined.log");
	struct accesslog *al;
	char err[256], *s;

	ok(accesslog_open(&al, path, LF_LOG_COMBINED, st, err, sizeof(err)) == 0,
	    "accesslog_open a file: %s", err);
	log_request(al, 0, ua_req, 200, 16);
	log_request(al, 5, "HEAD /nope HTTP/1.0\r\n\r\n", 404, 0);
	accesslog_free(al);
	s = slurp(path);
	ok(count_lines(s) == 2, "accesslog_free writes what was buffered (2 lines)");
	ok(strncmp(s, "127.0.0.1 - - [", 15) == 0, "the client address starts the line");
	ok(strstr(s, "] \"GET /cpu?n=1 HTTP/1.1\" 200 16 \"http://r/\" "
	    "\"caf\\xC3\\xA9 \\\"q\\\"\\\\\"\n") != NULL,
	    "request, status, size, referer (trimmed, name in any case), user agent "
	    "with \\xHH, \\\" and \\\\ escapes");
	ok(strstr(s, "\"HEAD /nope HTTP/1.0\" 404 - \"-\" \"-\"\n") != NULL,
	    "no body, no referer, no user agent: -");
}

static void
test_json(void)
{
	const char *path = tpath("json.log");
	struct accesslog *al;
	char err[256], *s;

	ok(accesslog_open(&al, path, LF_LOG_JSON, st, err, sizeof(err)) == 0,
	    "accesslog_open json: %s", err);
	log_request(al, 1, ua_req, 200, 16);
	accesslog_free(al);
	s = slurp(path);
	ok(count_lines(s) == 1 && strncmp(s, "{\"time\":\"", 9) == 0,
	    "one JSON object per line");
	ok(strstr(s, "\",\"remote\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/cpu\","
	    "\"query\":\"n=1\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":16,"
	    "\"duration_us\":1234,\"referer\":\"http://r/\","
	    "\"user_agent\":\"caf\\u00c3\\u00a9 \\\"q\\\"\\\\\"}\n") != NULL,
	    "every field, bytes outside ASCII as \\u00HH: %s", s);
}

/* A request refused before it was parsed: its first line as received, or "-". */
static void
log_refused(struct accesslog *al, const char *line, int status)
{
	struct accesslog_entry e;

	e.req = NULL;
	e.line = line;
	e.line_len = strlen(line);
	e.fd = client_fd;
	e.peer = NULL;
	e.status = status;
	e.bytes = 0;
	e.us = 7;
	accesslog_request(al, 2, &e);
}

static void
test_refused(void)
{
	const char *path = tpath("refused.log"), *jpath = tpath("refused.json");
	struct accesslog *al;
	char err[256] = "", *s;

	ok(accesslog_open(&al, path, LF_LOG_COMBINED, st, err, sizeof(err)) == 0,
	    "accesslog_open: %s", err);
	log_refused(al, "\x16\x03\x01 \"x", 400);
	log_refused(al, "", 503);
	accesslog_free(al);
	s = slurp(path);
	ok(strstr(s, "] \"\\x16\\x03\\x01 \\\"x\" 400 - \"-\" \"-\"\n") != NULL &&
	    strstr(s, "] \"-\" 503 - \"-\" \"-\"\n") != NULL,
	    "combined: a refused request's line escaped, \"-\" when none: %s", s);
	ok(accesslog_open(&al, jpath, LF_LOG_JSON, st, err, sizeof(err)) == 0,
	    "accesslog_open json: %s", err);
	log_refused(al, "BREW /pot HTTP/1.1", 501);
	accesslog_free(al);
	s = slurp(jpath);
	ok(strstr(s, "\",\"remote\":\"127.0.0.1\",\"method\":\"\",\"path\":\"\","
	    "\"query\":\"\",\"protocol\":\"\",\"request\":\"BREW /pot HTTP/1.1\","
	    "\"status\":501,\"bytes\":0,\"duration_us\":7,\"referer\":\"\","
	    "\"user_agent\":\"\"}\n") != NULL,
	    "json: the same keys, empty, and \"request\": %s", s);
}

/*
 * The text of the line after its date, "] ..." (the date is the only part
 * that depends on the clock), or "" when the line does not start with
 * PREFIX followed by a date of the combined format's shape.
 */
static const char *
after_date(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);

	/* [27/Nov/2026:12:01:20 +0000] */
	if (strncmp(line, prefix, n) != 0 || strlen(line) < n + 27 ||
	    line[n + 2] != '/' || line[n + 6] != '/' || line[n + 11] != ':' ||
	    line[n + 20] != ' ' || line[n + 26] != ']')
		return "";
	return line + n + 26;
}

/*
 * Whole lines for tricky input, byte for byte: a kept IPv6 address, control
 * bytes, quotes and backslashes, bytes outside ASCII, a target cut at the
 * field limit (2048 bytes), absent Referer and User-Agent; and an address
 * looked up once is kept in the caller's struct accesslog_peer.
 */
static void
test_exact(void)
{
	static char raw[4096], want[4096], target[2101];
	const char *path = tpath("exact.log"), *jpath = tpath("exact.json");
	struct accesslog_peer v6 = { .family = AF_INET6 }, kept = { 0 };
	struct http_request req;
	struct accesslog_entry e = { 0 };
	struct accesslog *al;
	char err[256] = "", *s, *nl;
	int hs;

	inet_pton(AF_INET6, "2001:db8::7", v6.addr);
	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	ok(accesslog_open(&al, path, LF_LOG_COMBINED, st, err, sizeof(err)) == 0,
	    "accesslog_open for exact lines: %s", err);
	snprintf(raw, sizeof(raw), "GET /a%%22b?q='x' HTTP/1.1\r\nHost: x\r\n"
	    "User-Agent: t\tab \"quoted\" back\\slash \xff\x80 \r\n\r\n");
	if (http_parse_request(raw, strlen(raw), &req, &hs) <= 0) {
		ok(0, "the tricky request parses");
		return;
	}
	e.req = &req;
	e.fd = -1;	/* never looked at: the address is kept */
	e.peer = &v6;
	e.status = 200;
	e.bytes = 1234567;
	e.us = 42;
	accesslog_request(al, 1, &e);
	snprintf(raw, sizeof(raw), "HEAD %s HTTP/1.0\r\n\r\n", target);
	if (http_parse_request(raw, strlen(raw), &req, &hs) <= 0) {
		ok(0, "the long request parses");
		return;
	}
	e.status = 304;
	e.bytes = 0;
	accesslog_request(al, 1, &e);
	e.req = NULL;
	e.line = "\x01\x1f\x7f\"\\ \xc3\xa9";
	e.line_len = strlen(e.line);
	e.status = 400;
	e.fd = client_fd;
	e.peer = &kept;
	accesslog_request(al, 1, &e);
	accesslog_free(al);
	s = slurp(path);
	nl = strchr(s, '\n');
	if (nl != NULL)
		*nl = '\0';
	ok(strcmp(after_date(s, "2001:db8::7 - - ["), "] \"GET /a%22b?q='x' "
	    "HTTP/1.1\" 200 1234567 \"-\" \"t\\x09ab \\\"quoted\\\" back\\\\slash "
	    "\\xFF\\x80\"") == 0,
	    "combined: IPv6 address, quotes, backslash, tab and bytes outside "
	    "ASCII escaped, no referer: %s", s);
	s = nl != NULL ? nl + 1 : "";
	nl = strchr(s, '\n');
	if (nl != NULL)
		*nl = '\0';
	snprintf(want, sizeof(want), "] \"HEAD %.2048s HTTP/1.0\" 304 - \"-\" \"-\"",
	    target);
	ok(strcmp(after_date(s, "2001:db8::7 - - ["), want) == 0,
	    "combined: a 2100-byte target cut at 2048 bytes, no body, no "
	    "referer, no user agent");
	s = nl != NULL ? nl + 1 : "";
	ok(strcmp(after_date(s, "127.0.0.1 - - ["), "] \"\\x01\\x1F\\x7F\\\"\\\\ "
	    "\\xC3\\xA9\" 400 - \"-\" \"-\"\n") == 0,
	    "combined: a refused line with control bytes: %s", s);
	ok(kept.family == AF_INET && memcmp(kept.addr, "\x7f\0\0\x01", 4) == 0,
	    "the address looked up is kept for the connection's next lines");

	ok(accesslog_open(&al, jpath, LF_LOG_JSON, st, err, sizeof(err)) == 0,
	    "accesslog_open json for exact lines: %s", err);
	snprintf(raw, sizeof(raw), "GET /p%%00?a=%%5C HTTP/1.1\r\nHost: x\r\n"
	    "Referer: r\t\"\xe2\x82\xac\r\n\r\n");
	if (http_parse_request(raw, strlen(raw), &req, &hs) <= 0) {
		ok(0, "the tricky JSON request parses");
		return;
	}
	e.req = &req;
	e.peer = &v6;
	e.status = 201;
	e.bytes = 5;
	e.us = 18446744073709551615u;
	accesslog_request(al, 4, &e);
	accesslog_free(al);
	s = strstr(slurp(jpath), "\",\"remote\"");
	ok(s != NULL && strcmp(s, "\",\"remote\":\"2001:db8::7\",\"method\":\"GET\","
	    "\"path\":\"/p%00\",\"query\":\"a=%5C\",\"protocol\":\"HTTP/1.1\","
	    "\"status\":201,\"bytes\":5,\"duration_us\":18446744073709551615,"
	    "\"referer\":\"r\\u0009\\\"\\u00e2\\u0082\\u00ac\",\"user_agent\":\"\"}\n")
	    == 0, "json: IPv6, \\u00HH escapes, the largest duration, no user "
	    "agent: %s", s != NULL ? s : "(no line)");
}

static void
test_errors(void)
{
	struct accesslog *al = NULL;
	char err[256];

	ok(accesslog_open(&al, tpath("no/such/dir/a.log"), LF_LOG_COMBINED, st,
	    err, sizeof(err)) == -ENOENT && al == NULL &&
	    strstr(err, "access_log '") != NULL && strstr(err, "No such file") != NULL,
	    "a file that cannot be made: -ENOENT with the name: %s", err);
	/* both must accept NULL (access_log = off): a crash fails the test */
	accesslog_free(NULL);
	accesslog_reopen(NULL);
}

/* Until PATH holds N lines or SECONDS pass; the time it took, or -1. */
static double
wait_lines(const char *path, int n, double seconds)
{
	double t0 = now_s();

	while (now_s() - t0 < seconds) {
		if (count_lines(slurp(path)) >= n)
			return now_s() - t0;
		usleep(20000);
	}
	return -1;
}

static void
test_flush_and_reopen(void)
{
	const char *path = tpath("rot.log"), *old = tpath("rot.log.1");
	struct accesslog *al;
	char err[256];
	double t;
	struct stat sb;

	ok(accesslog_open(&al, path, LF_LOG_COMBINED, st, err, sizeof(err)) == 0,
	    "accesslog_open for the rotation: %s", err);
	log_request(al, 2, "GET /before HTTP/1.1\r\nHost: x\r\n\r\n", 200, 1);
	t = wait_lines(path, 1, 3);
	ok(t >= 0 && t < 2.5, "a line reaches the file within about a second "
	    "without a stop (%.2f s)", t);
	ok(rename(path, old) == 0, "rename the log");
	accesslog_reopen(al);
	t = now_s();
	while (stat(path, &sb) != 0 && now_s() - t < 3)
		usleep(10000);
	ok(stat(path, &sb) == 0, "accesslog_reopen makes a new file of the old name");
	log_request(al, 2, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n", 200, 1);
	accesslog_free(al);
	ok(strstr(slurp(old), "/before") != NULL && strstr(slurp(old), "/after") == NULL,
	    "the line from before the reopen stays in the renamed file");
	ok(strstr(slurp(path), "/after") != NULL && strstr(slurp(path), "/before") == NULL,
	    "the line from after it goes to the new file");
}

struct drain {
	int	fd;
	long	lines;
};

static void *
drain_fifo(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	ssize_t n, i;

	for (;;) {
		n = read(d->fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN) {
			usleep(1000);
			continue;
		}
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			d->lines += buf[i] == '\n';
	}
	return NULL;
}

static void
test_stuck_writer(void)
{
	const char *fifo = tpath("stuck.fifo");
	char err[256], raw[1200], pad[1000];
	struct accesslog *al;
	struct drain d = { -1, 0 };
	pthread_t th;
	uint64_t dropped0, dropped;
	double t0, t;
	int i, n = 3000;

	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	snprintf(raw, sizeof(raw), "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", pad);
	if (mkfifo(fifo, 0600) != 0 ||
	    (d.fd = open(fifo, O_RDONLY | O_NONBLOCK)) < 0) {
		ok(0, "mkfifo and open its read end");
		return;
	}
	ok(accesslog_open(&al, fifo, LF_LOG_COMBINED, st, err, sizeof(err)) == 0,
	    "accesslog_open on a FIFO nobody reads yet: %s", err);
	dropped0 = atomic_load(&st->log_dropped);
	t0 = now_s();
	for (i = 0; i < n; i++)
		log_request(al, 3, raw, 200, 1);
	t = now_s() - t0;
	dropped = atomic_load(&st->log_dropped) - dropped0;
	ok(t < 1.0, "%d appends (3 MB) with the writer stuck on a full pipe "
	    "take %.3f s: no request waits on the disk", n, t);
	ok(dropped > 0 && dropped < (uint64_t)n, "lines that did not fit are "
	    "dropped and counted (%llu of %d)", (unsigned long long)dropped, n);
	/* unblock the writer; its last pass writes the rest, then closes */
	pthread_create(&th, NULL, drain_fifo, &d);
	accesslog_free(al);
	pthread_join(th, NULL);
	close(d.fd);
	ok(d.lines + (long)dropped == n, "every line is written or counted as "
	    "dropped (%ld + %llu = %d)", d.lines, (unsigned long long)dropped, n);
}

int
main(void)
{
	testdir_create("test_accesslog");
	if (stats_create(&st) < 0 || (client_fd = loopback_fd()) < 0) {
		printf("Bail out! stats or a loopback connection\n");
		return 99;
	}
	test_combined();
	test_json();
	test_refused();
	test_exact();
	test_errors();
	test_flush_and_reopen();
	test_stuck_writer();
	close(client_fd);
	stats_free(st);
	testdir_remove();
	return done_testing();
}
