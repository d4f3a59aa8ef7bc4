/*
 * test_static.c - the static handler's decisions without sockets (ranges,
 * If-Range, conditionals, variants, the directory redirect, files on disk),
 * the HTTP-date formatter and parser, error pages with extra fields, and
 * mime.types loading.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "conn.h"
#include "metrics.h"
#include "docroot.h"
#include "handlers.h"
#include "mime.h"
#include "router.h"
#include "stats.h"
#include "tap.h"

static struct server *srv;
static char top[64];

static void
put(const char *rel, const char *data)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(data, f);
	fclose(f);
}

/* Dispatches "GET PATH" with the header lines HDRS ("" or "A: b\r\n..."). */
static int
req(const char *method, const char *path, const char *hdrs,
    struct response *resp)
{
	struct http_request r;
	char raw[1024];
	int status;

	snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n",
	    method, path, hdrs);
	if (http_parse_request(raw, strlen(raw), &r, &status) <= 0)
		return -1;
	router_dispatch(srv, &r, resp);
	/* the strings of resp stay valid: the file keeps its data, and
	 * hdrs/etag_buf are resp's own; only the reference is dropped */
	docroot_file_put(resp->file);
	resp->file = NULL;
	if (resp->fd >= 0)
		close(resp->fd);
	resp->fd = -2;	/* "was a descriptor", for the checks */
	return resp->status;
}

static bool
hdr(const struct response *resp, const char *line)
{
	return strstr(resp->hdrs, line) != NULL;
}

static bool
body(const struct response *resp, const char *s)
{
	return resp->body != NULL && resp->body_len == strlen(s) &&
	    memcmp(resp->body, s, resp->body_len) == 0;
}

static void
test_dates(void)
{
	char d[30];
	time_t t;

	http_format_date(784111777, d);
	ok(strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT") == 0, "IMF-fixdate (%s)", d);
	ok(http_parse_date(d, 29, &t) == 0 && t == 784111777, "parsed back");
	ok(http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t) == 0 &&
	    t == 784111777, "RFC 850 form");
	ok(http_parse_date("Sun Nov  6 08:49:37 1994", 24, &t) == 0 &&
	    t == 784111777, "asctime form");
	ok(http_parse_date("Sun, 06 Nov 1994 08:49:37 UTC", 29, &t) < 0 &&
	    http_parse_date("Sun, 36 Nov 1994 08:49:37 GMT", 29, &t) < 0 &&
	    http_parse_date("Sun, 06 Now 1994 08:49:37 GMT", 29, &t) < 0 &&
	    http_parse_date("Sun, 06 Nov 1994 25:49:37 GMT", 29, &t) < 0 &&
	    http_parse_date("yesterday", 9, &t) < 0 &&
	    http_parse_date("", 0, &t) < 0, "malformed dates refused");
}

static void
test_error_extra(void)
{
	char buf[1024];
	int n;

	n = http_format_error_extra(buf, sizeof(buf), 416, 1, true, false,
	    "Content-Range: bytes */10\r\n");
	ok(n > 0 && strncmp(buf, "HTTP/1.1 416 Range Not Satisfiable\r\n", 36) == 0 &&
	    strstr(buf, "\r\nContent-Range: bytes */10\r\n") != NULL,
	    "416 error page with its Content-Range");
	n = http_format_error_extra(buf, sizeof(buf), 405, 1, true, true, NULL);
	ok(n > 0 && strstr(buf, "Allow: " HTTP_ALLOW "\r\n") != NULL,
	    "405 keeps its Allow");
}

static void
test_mime(void)
{
	char path[128], err[256] = "";
	struct mime *m = NULL;

	snprintf(path, sizeof(path), "%s/mime.types", top);
	put("mime.types", "# comment\n"
	    "application/x-one\tone ONEB\n"
	    "text/x-html html\n"
	    "application/x-two one two # trailing comment\n"
	    "bogus-no-slash three\n");
	ok(mime_load(&m, path, err, sizeof(err)) == 0 && m != NULL,
	    "mime.types loads (%s)", err);
	ok(m != NULL && strcmp(mime_type(m, "a.one"), "application/x-one") == 0 &&
	    strcmp(mime_type(m, "a.oneb"), "application/x-one") == 0 &&
	    strcmp(mime_type(m, "a.TWO"), "application/x-two") == 0,
	    "types from the file, any case, the first line wins");
	ok(m != NULL && strcmp(mime_type(m, "x.html"),
	    "text/html; charset=utf-8") == 0, "the built-in table wins");
	/* one, oneb, html (shadowed by the built-in table), two */
	ok(m != NULL && strcmp(mime_type(m, "x.three"), MIME_FALLBACK) == 0 &&
	    mime_count(m) == 4, "a line without a type is ignored (%zu)",
	    mime_count(m));
	mime_free(m);
	mime_free(NULL);
	snprintf(path, sizeof(path), "%s/nope.types", top);
	ok(mime_load(&m, path, err, sizeof(err)) == -ENOENT && m == NULL &&
	    strstr(err, path) != NULL, "missing file: -ENOENT naming it");
}

static void
test_handler(void)
{
	struct response r;
	char etag[64], lm[64], h[256];

	/* "0123456789" in memory; big.txt (200000 bytes) on disk */
	ok(req("GET", "/ten.txt", "", &r) == 200 && body(&r, "0123456789") &&
	    hdr(&r, "Accept-Ranges: bytes\r\n") && hdr(&r, "Last-Modified: ") &&
	    r.etag != NULL, "200 with Accept-Ranges, Last-Modified and ETag");
	snprintf(etag, sizeof(etag), "%s", r.etag);
	snprintf(lm, sizeof(lm), "%.29s", strstr(r.hdrs, "Last-Modified: ") + 15);
	ok(hdr(&r, "Cache-Control: no-cache\r\n"), "Cache-Control from the ini");
	ok(req("GET", "/ten.txt", "Range: bytes=2-4\r\n", &r) == 206 &&
	    body(&r, "234") && hdr(&r, "Content-Range: bytes 2-4/10\r\n"),
	    "one range: 206");
	ok(req("GET", "/ten.txt", "Range: bytes=-3\r\n", &r) == 206 &&
	    body(&r, "789"), "suffix range");
	ok(req("GET", "/ten.txt", "Range: bytes=-30\r\n", &r) == 206 &&
	    body(&r, "0123456789") && hdr(&r, "Content-Range: bytes 0-9/10\r\n"),
	    "suffix longer than the file: all of it");
	ok(req("GET", "/ten.txt", "Range: bytes=8-\r\n", &r) == 206 &&
	    body(&r, "89"), "open range");
	ok(req("GET", "/ten.txt", "Range: bytes=10-\r\n", &r) == 416 &&
	    r.body == NULL && hdr(&r, "Content-Range: bytes */10\r\n") &&
	    r.fd == -2, "range at the length: 416, bytes */10");
	ok(req("GET", "/ten.txt", "Range: bytes=-0\r\n", &r) == 416,
	    "empty suffix: 416");
	ok(req("GET", "/ten.txt", "Range: bytes=0-1, 4-5\r\n", &r) == 200 &&
	    body(&r, "0123456789") && !hdr(&r, "Content-Range"),
	    "several ranges: 200, whole");
	ok(req("GET", "/ten.txt", "Range: bytes=20-30, 40-\r\n", &r) == 416,
	    "several, none satisfiable: 416");
	ok(req("GET", "/ten.txt", "Range: bytes=5-2\r\n", &r) == 200 &&
	    req("GET", "/ten.txt", "Range: bytes=x\r\n", &r) == 200 &&
	    req("GET", "/ten.txt", "Range: lines=1-2\r\n", &r) == 200 &&
	    req("GET", "/ten.txt", "Range: bytes=1-2-3\r\n", &r) == 200,
	    "malformed Range: ignored");
	ok(req("HEAD", "/ten.txt", "Range: bytes=2-4\r\n", &r) == 200,
	    "HEAD ignores Range");
	snprintf(h, sizeof(h), "Range: bytes=1-1\r\nIf-Range: %s\r\n", etag);
	ok(req("GET", "/ten.txt", h, &r) == 206 && body(&r, "1"),
	    "If-Range with the ETag: 206");
	snprintf(h, sizeof(h), "Range: bytes=1-1\r\nIf-Range: W/%s\r\n", etag);
	ok(req("GET", "/ten.txt", h, &r) == 200, "If-Range with a weak tag: 200");
	snprintf(h, sizeof(h), "Range: bytes=1-1\r\nIf-Range: %s\r\n", lm);
	ok(req("GET", "/ten.txt", h, &r) == 206, "If-Range with the date: 206");
	ok(req("GET", "/ten.txt", "Range: bytes=1-1\r\nIf-Range: "
	    "Sun, 06 Nov 1994 08:49:37 GMT\r\n", &r) == 200,
	    "If-Range with another date: 200");
	snprintf(h, sizeof(h), "If-Modified-Since: %s\r\n", lm);
	ok(req("GET", "/ten.txt", h, &r) == 304 && r.body == NULL,
	    "If-Modified-Since its date: 304");
	snprintf(h, sizeof(h), "If-None-Match: \"x\"\r\nIf-Modified-Since: %s\r\n", lm);
	ok(req("GET", "/ten.txt", h, &r) == 200,
	    "If-None-Match decides before If-Modified-Since");
	snprintf(h, sizeof(h), "If-None-Match: %s\r\nRange: bytes=1-2\r\n", etag);
	ok(req("GET", "/ten.txt", h, &r) == 304, "304 before ranges");

	ok(req("GET", "/big.txt", "", &r) == 200 && r.body == NULL &&
	    r.fd == -2 && r.body_len == 200000 && r.file_off == 0,
	    "a file over static_memory_max: a descriptor, 200000 bytes");
	ok(req("GET", "/big.txt", "Range: bytes=100-149\r\n", &r) == 206 &&
	    r.fd == -2 && r.file_off == 100 && r.body_len == 50 &&
	    hdr(&r, "Content-Range: bytes 100-149/200000\r\n"),
	    "a range of it: offset 100, 50 bytes");

	ok(req("GET", "/v.css", "", &r) == 200 && body(&r, "identity") &&
	    hdr(&r, "Vary: Accept-Encoding\r\n") && !hdr(&r, "Content-Encoding"),
	    "no Accept-Encoding: identity, with Vary");
	ok(req("GET", "/v.css", "Accept-Encoding: gzip, br\r\n", &r) == 200 &&
	    body(&r, "brotli") && hdr(&r, "Content-Encoding: br\r\n") &&
	    strncmp(r.content_type, "text/css", 8) == 0,
	    "br preferred on a tie, the type of the original");
	ok(req("GET", "/v.css", "Accept-Encoding: gzip;q=1, br;q=0.9\r\n", &r) == 200 &&
	    body(&r, "gzip"), "a higher q wins");
	ok(req("GET", "/v.css", "Accept-Encoding: br;q=0, gzip;q=0.001\r\n", &r) == 200 &&
	    body(&r, "gzip"), "q=0 refuses");
	ok(req("GET", "/v.css", "Accept-Encoding: *;q=0.5, br;q=0\r\n", &r) == 200 &&
	    body(&r, "gzip"), "* stands for the codings not listed");
	ok(req("GET", "/v.css", "Accept-Encoding: gzip;q=x\r\n", &r) == 200 &&
	    body(&r, "identity"), "a malformed q is not acceptable");

	ok(req("GET", "/d?a=b", "", &r) == 301 &&
	    hdr(&r, "Location: /d/?a=b\r\n"), "directory: 301 with the query");
	ok(req("GET", "/d/", "", &r) == 200 && body(&r, "dir index"),
	    "and its index with the slash");
	ok(req("GET", "/nope", "", &r) == 404, "miss: 404");
}

/* Fills FD's send buffer (nobody reads the other end). */
static void
fill(int fd)
{
	char junk[4096];

	memset(junk, 'j', sizeof(junk));
	while (send(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
}

/* Reads and drops what is waiting on FD. */
static size_t
drain(int fd)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	return total;
}

/*
 * Issue 8, defect 2: a response a slow reader leaves unsent keeps a docroot
 * body by reference (only its head is copied) and a generated body as a
 * small copy, both counted against the total cap; past the cap the
 * connection is closed.
 */
static void
test_defer(void)
{
	struct conn_worker w;
	struct conn *c;
	const char req_big[] = "GET /hundred.bin HTTP/1.1\r\nHost: x\r\n\r\n";
	const char req_stats[] = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
	enum conn_status st;
	unsigned long caps;
	size_t got;
	int sv[2];

	if (!ok(conn_worker_init(&w, srv, stats_shard(srv->stats, -1)) == 0,
	    "a worker"))
		return;
	w.defer_writes = true;	/* as a pool worker */
	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
	    "a socketpair");
	c = conn_new(sv[0], stats_now_ns());
	fill(sv[0]);
	send(sv[1], req_big, sizeof(req_big) - 1, 0);
	st = conn_serve(c, &w);
	ok(st == CONN_WAIT_WRITE && c->body_file != NULL && !c->body_owned &&
	    c->body_len - c->body_off == 100000,
	    "a 100000-byte file deferred by reference, nothing of it sent");
	ok(c->out_copied > 0 && c->out_copied < 1024 &&
	    conn_out_copied_total() == c->out_copied,
	    "only its head is copied (%zu bytes), and counted in all",
	    c->out_copied);
	/* the client reads: the rest goes out, the copy is given back */
	got = 0;
	while (conn_output_pending(c) && got < 1000000) {
		got += drain(sv[1]);
		st = conn_serve(c, &w);
	}
	got += drain(sv[1]);
	ok(!conn_output_pending(c) && conn_out_copied_total() == 0 &&
	    c->body_file == NULL && got > 100000,
	    "once read: all sent (%zu bytes), nothing held or counted", got);
	conn_free(c);
	close(sv[1]);

	/* a generated page (the 404 error page) is copied; at a cap: closed */
	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
	    "another socketpair");
	c = conn_new(sv[0], stats_now_ns());
	fill(sv[0]);
	conn_out_set_total_max(64);
	caps = conn_out_overflows();
	send(sv[1], req_stats, sizeof(req_stats) - 1, 0);
	st = conn_serve(c, &w);
	ok(st == CONN_CLOSE && conn_out_overflows() == caps + 1 &&
	    conn_out_copied_total() == 0,
	    "past the total cap: the connection is closed, and counted");
	{
		static const char copied[] = "\nlfserver_output_copied_bytes 0\n";
		char want[64], json[1024], *text = NULL;
		size_t tlen = 0;

		snprintf(want, sizeof(want), "\nlfserver_output_overflows_total %lu\n",
		    caps + 1);
		ok(metrics_prometheus(srv->stats, &text, &tlen) == 0 && text != NULL &&
		    memmem(text, tlen, want, strlen(want)) != NULL &&
		    memmem(text, tlen, copied, sizeof(copied) - 1) != NULL,
		    "/metrics shows it: lfserver_output_overflows_total %lu", caps + 1);
		free(text);
		snprintf(want, sizeof(want), "\"output_overflows\":%lu}", caps + 1);
		ok(metrics_json(json, sizeof(json), srv->stats, &(struct stats_info){ 0 }) > 0 &&
		    strstr(json, want) != NULL, "and /stats: %s", json);
	}
	conn_free(c);
	close(sv[1]);
	conn_out_set_total_max(CONN_OUT_TOTAL_MAX);
	conn_worker_fini(&w);
}

int
main(void)
{
	struct lf_config cfg;
	struct stats *st;
	char err[512], path[128];

	snprintf(top, sizeof(top), "/tmp/lf-static-XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_dates();
	test_error_extra();
	test_mime();

	snprintf(path, sizeof(path), "%s/d", top);
	mkdir(path, 0755);
	put("ten.txt", "0123456789");
	put("d/index.html", "dir index");
	put("v.css", "identity");
	put("v.css.gz", "gzip");
	put("v.css.br", "brotli");
	put("big.txt", "x");
	{
		static char hundred[100001];

		memset(hundred, 'h', 100000);
		put("hundred.bin", hundred);
	}
	snprintf(path, sizeof(path), "%s/big.txt", top);
	ok(truncate(path, 200000) == 0, "big.txt made");
	{
		/* an hour old: a Last-Modified a second or more before now is a
		 * strong validator (If-Range may use it), one of this second not */
		static const char *const names[] = { "ten.txt", "d/index.html",
		    "v.css", "v.css.gz", "v.css.br", "big.txt", "hundred.bin" };
		struct timeval tv[2] = { { time(NULL) - 3600, 0 },
		    { time(NULL) - 3600, 0 } };
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", top, names[i]);
			utimes(path, tv);
		}
	}
	config_init(&cfg);
	cfg.static_memory_max = 100000;
	cfg.docroot_watch = false;
	cfg.docroot = strdup(top);
	cfg.cache_control = strdup("no-cache");
	if (stats_create(&st) < 0 ||
	    !ok(server_build(&srv, &cfg, st, err, sizeof(err)) == 0,
	    "server with a docroot (%s)", err))
		return done_testing();
	test_handler();
	test_defer();
	server_free(srv);
	config_free(&cfg);
	stats_free(st);
	snprintf(path, sizeof(path), "rm -rf '%s'", top);
	ok(system(path) == 0, "temporary tree removed");
	return done_testing();
}
