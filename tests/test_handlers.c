/*
 * test_handlers.c - the workloads and the router, without sockets: primes,
 * /cpu and /io parameters and caps, the /mixed cycle, /stats JSON, static
 * lookups, methods and traversal attempts; what server_build resolves into
 * each route (its docroot, the shared /mixed counter).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>


#include "handlers.h"
#include "router.h"
#include "stats.h"
#include "tap.h"
#include "testdir.h"

static struct server *srv;

/* Parses RAW as a request and dispatches it to server S. */
static int
get_on(const struct server *s, const char *raw, struct response *resp)
{
	struct http_request req;
	int status, r;

	r = http_parse_request(raw, strlen(raw), &req, &status);
	if (r <= 0)
		return -1;
	router_dispatch(s, &req, resp);
	return resp->status;
}

static int
get(const char *raw, struct response *resp)
{
	return get_on(srv, raw, resp);
}

static int
body_is(const struct response *r, const char *s)
{
	return r->body != NULL && r->body_len == strlen(s) && memcmp(r->body, s, r->body_len) == 0;
}

static int
body_has(const struct response *r, const char *s)
{
	char tmp[2048];
	size_t n = r->body_len < sizeof(tmp) - 1 ? r->body_len : sizeof(tmp) - 1;

	if (r->body == NULL)
		return 0;
	memcpy(tmp, r->body, n);
	tmp[n] = '\0';
	return strstr(tmp, s) != NULL;
}

/* 0 static, 1 cpu, 2 io, -1 anything else */
static int
mixed_kind(const struct response *r)
{
	if (r->status != 200)
		return -1;
	if (body_has(r, "<html"))
		return 0;
	if (body_has(r, "primes<="))
		return 1;
	if (body_has(r, "slept"))
		return 2;
	return -1;
}

/* One /mixed request from a thread of its own, as thread-per-connection does. */
static void *
mixed_thread(void *arg)
{
	struct response resp;
	int *kind = arg;

	get("GET /mixed HTTP/1.1\r\nHost: x\r\n\r\n", &resp);
	*kind = mixed_kind(&resp);
	return NULL;
}

/*
 * Routes with their own docroots: a route is found by value, so a copy of
 * it (a handler may pass one on) serves the same files as the original.
 */
static void
test_route_docroots(struct stats *st)
{
	struct lf_config cfg;
	struct server *s;
	const struct route *files, *root;
	struct route copy;
	struct response resp;
	char err[512] = "";

	testdir_create("test_handlers");
	mkdir(tpath("files"), 0755);
	write_file("files/a.txt", "route docroot\n");
	mkdir(tpath("www"), 0755);
	write_file("www/index.html", "<html>ini docroot</html>\n");
	config_init(&cfg);
	free(cfg.docroot);
	cfg.docroot = strdup(tpath("www"));
	cfg.routes = strdup(write_file("routes.conf", "routes = (\n"
	    "  { path = \"/files\"; handler = \"static\"; docroot = \"%s\"; },\n"
	    "  { path = \"/\"; handler = \"static\"; }\n);\n", tpath("files")));
	if (!ok(server_build(&s, &cfg, st, err, sizeof(err)) == 0,
	    "a server with a route docroot (%s)", err)) {
		config_free(&cfg);
		testdir_remove();
		return;
	}
	config_free(&cfg);
	files = routes_match(&s->routes, "/files/a.txt", 12);
	root = routes_match(&s->routes, "/", 1);
	ok(files != NULL && root != NULL && files != root, "both routes match");
	if (files == NULL || root == NULL)
		goto out;
	ok(server_docroot(s, files) != s->docroot &&
	    get_on(s, "GET /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 &&
	    body_is(&resp, "route docroot\n"), "/files serves its own docroot");
	ok(server_docroot(s, root) == s->docroot, "/ serves the ini's docroot");
	copy = *files;
	ok(server_docroot(s, &copy) == server_docroot(s, files),
	    "a copy of the /files route finds the same docroot (no address arithmetic)");
	copy = *root;
	ok(server_docroot(s, &copy) == s->docroot, "a copy of / finds the ini's docroot");
out:
	server_free(s);
	testdir_remove();
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(void)
{
	struct lf_config cfg;
	struct stats *st;
	struct response resp;
	char err[512];
	double t;
	int i, kinds[3] = { 0, 0, 0 };

	ok(primes_count(0) == 0 && primes_count(1) == 0 && primes_count(2) == 1,
	    "primes <= 0, 1, 2");
	ok(primes_count(10) == 4 && primes_count(100) == 25 && primes_count(1000) == 168,
	    "primes <= 10, 100, 1000: 4, 25, 168");
	ok(primes_count(10000) == 1229, "primes <= 10000: 1229 (the study's workload)");
	ok(primes_count(100000) == 9592, "primes <= 100000: 9592");

	config_init(&cfg);
	ok(stats_create(&st) == 0, "stats");
	ok(server_build(&srv, &cfg, st, err, sizeof(err)) == 0, "server from built-in defaults");
	config_free(&cfg);

	ok(get("GET /cpu HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 &&
	    body_is(&resp, "primes<=10000: 1229\n"), "/cpu defaults to n=10000");
	ok(get("GET /cpu?n=100 HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 &&
	    body_is(&resp, "primes<=100: 25\n"), "/cpu?n=100");
	ok(get("GET /cpu?x=1&n=1000 HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 &&
	    body_is(&resp, "primes<=1000: 168\n"), "/cpu finds n among other parameters");
	ok(get("GET /cpu?n=1000001 HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 400,
	    "/cpu over the cap is 400");
	ok(get("GET /cpu?n=abc HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 400,
	    "/cpu with a malformed n is 400");
	ok(get("GET /cpu?n=-5 HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 400,
	    "/cpu with a negative n is 400");

	t = now_ms();
	ok(get("GET /io?ms=30 HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 &&
	    body_is(&resp, "slept 30 ms\n"), "/io?ms=30");
	ok(now_ms() - t >= 29.5, "/io?ms=30 sleeps at least 30 ms");
	ok(get("GET /io?ms=10001 HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 400,
	    "/io over the cap is 400");

	for (i = 0; i < 9; i++) {
		get("GET /mixed HTTP/1.1\r\nHost: x\r\n\r\n", &resp);
		if (resp.status != 200)
			break;
		if (body_has(&resp, "<html"))
			kinds[0]++;
		else if (body_has(&resp, "primes<="))
			kinds[1]++;
		else if (body_has(&resp, "slept"))
			kinds[2]++;
	}
	ok(i == 9 && kinds[0] == 3 && kinds[1] == 3 && kinds[2] == 3,
	    "/mixed cycles static, cpu, io 1:1:1 (%d %d %d)", kinds[0], kinds[1], kinds[2]);
	{
		pthread_t th[9];
		int got[9], k, started = 0;

		/* one thread a request: the cycle is the route's, not a thread's */
		kinds[0] = kinds[1] = kinds[2] = 0;
		for (i = 0; i < 9; i++) {
			got[i] = -1;
			if (pthread_create(&th[i], NULL, mixed_thread, &got[i]) != 0)
				break;
			started++;
			pthread_join(th[i], NULL);
		}
		for (k = 0; k < started; k++)
			if (got[k] >= 0)
				kinds[got[k]]++;
		ok(started == 9 && kinds[0] == 3 && kinds[1] == 3 && kinds[2] == 3,
		    "/mixed from 9 new threads, one request each: 1:1:1 (%d %d %d)",
		    kinds[0], kinds[1], kinds[2]);
	}

	ok(get("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 404,
	    "/stats is 404 on the public port by default (public_stats off)");
	srv->cfg.public_stats = true;
	ok(get("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 &&
	    strcmp(resp.content_type, "application/json") == 0 &&
	    body_has(&resp, "\"mode\":\"lockfree\"") && body_has(&resp, "\"requests\":"),
	    "/stats with public_stats = on is JSON with the mode and counters");
	ok(get("OPTIONS /stats HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200,
	    "OPTIONS /stats with public_stats = on: 200");
	srv->cfg.public_stats = false;
	ok(get("OPTIONS /stats HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 404,
	    "OPTIONS /stats with public_stats off: 404, as GET");

	ok(get("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 &&
	    body_has(&resp, "lfserver") && strncmp(resp.content_type, "text/html", 9) == 0,
	    "/ serves the built-in page as text/html");
	ok(get("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200, "HEAD / is 200");
	ok(get("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 && resp.etag != NULL &&
	    resp.etag[0] == '"', "a static file has a quoted ETag");
	if (resp.etag != NULL) {
		char raw[256];
		const char *tag = resp.etag;

		snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n", tag);
		ok(get(raw, &resp) == 304 && resp.body == NULL, "If-None-Match with its ETag: 304, no body");
		snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\", W/%s\r\n\r\n", tag);
		ok(get(raw, &resp) == 304, "If-None-Match list with a weak match: 304");
		ok(get("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n\r\n", &resp) == 304,
		    "If-None-Match: * is 304");
		ok(get("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\"\r\n\r\n", &resp) == 200,
		    "If-None-Match with another tag: 200");
		/* RFC 9110 13.1.1: If-Match, strong comparison, before If-None-Match */
		snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: x\r\nIf-Match: \"a\", %s\r\n\r\n", tag);
		ok(get(raw, &resp) == 200 && resp.body != NULL, "if-match-listed: 200");
		ok(get("GET / HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\n\r\n", &resp) == 200,
		    "if-match-star: 200");
		ok(get("GET / HTTP/1.1\r\nHost: x\r\nIf-Match: \"other\"\r\n\r\n", &resp) == 412 &&
		    resp.body == NULL, "if-match-other: 412, no body (the error page follows)");
		snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: x\r\nIf-Match: W/%s\r\n\r\n", tag);
		ok(get(raw, &resp) == 412, "if-match-weak: a weak tag never matches: 412");
		snprintf(raw, sizeof(raw), "HEAD / HTTP/1.1\r\nHost: x\r\nIf-Match: \"other\"\r\n"
		    "If-None-Match: %s\r\n\r\n", tag);
		ok(get(raw, &resp) == 412, "if-match-before-if-none-match: 412, not 304");
		/* the built-in page's Last-Modified and its conditions agree */
		ok(get("GET / HTTP/1.1\r\nHost: x\r\nIf-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n\r\n",
		    &resp) == 412, "if-unmodified-since-before: the built-in page's date is later: 412");
		ok(get("GET / HTTP/1.1\r\nHost: x\r\nIf-Unmodified-Since: Thu, 26 Nov 2026 00:00:00 GMT\r\n\r\n",
		    &resp) == 200, "if-unmodified-since-its-date: 200");
		ok(get("GET / HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n\r\n",
		    &resp) == 200, "if-modified-since-before: the built-in page is newer: 200");
		ok(get("GET / HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Thu, 26 Nov 2026 00:00:00 GMT\r\n\r\n",
		    &resp) == 304, "if-modified-since-its-date: 304");
	}
	ok(get("GET /cpu?n=10 HTTP/1.1\r\nHost: x\r\nIf-Match: \"x\"\r\n\r\n", &resp) == 412 &&
	    resp.body == NULL, "if-match-no-etag: a handler without validators, If-Match \"x\": 412");
	ok(get("GET /cpu?n=10 HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\n\r\n", &resp) == 200,
	    "if-match-star-no-etag: 200");
	ok(get("GET /cpu?n=10 HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n\r\n", &resp) == 304 &&
	    resp.body == NULL, "if-none-match-star-no-etag: 304");
	ok(get("GET /cpu?n=10 HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"x\"\r\n\r\n", &resp) == 200,
	    "if-none-match-tag-no-etag: 200");
	ok(get("GET /cpu?n=abc HTTP/1.1\r\nHost: x\r\nIf-Match: \"x\"\r\n\r\n", &resp) == 400,
	    "preconditions-ignored-on-error: a 400 stays 400 (RFC 9110 13.2.1)");
	ok(get("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 404, "unknown path is 404");
	ok(get("POST / HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 405, "POST is 405");
	ok(get("DELETE /cpu HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 405, "DELETE is 405");
	ok(get("BREW / HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 501, "an unknown method is 501");
	ok(get("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200 &&
	    resp.body == NULL && resp.body_len == 0,
	    "options-asterisk: 200 without content (conn.c adds Allow)");
	ok(get("OPTIONS /cpu HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200,
	    "options-path: 200 for a route");
	ok(get("OPTIONS /../x HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 400,
	    "OPTIONS of a path above the root: 400");
	ok(get("GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 400,
	    "/../../etc/passwd is refused");
	ok(get("GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 400,
	    "/%%2e%%2e/ is refused");
	ok(get("GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 400, "%%00 is refused");
	ok(get("GET /x/../index.html HTTP/1.1\r\nHost: x\r\n\r\n", &resp) == 200,
	    "a dot segment inside the root resolves");

	server_free(srv);
	test_route_docroots(st);
	stats_free(st);
	return done_testing();
}
