/*
 * test_http.c - the request parser, path normalisation, query helpers and
 * response heads of http.c: valid and invalid requests, every prefix of each
 * request, pipelining, exact response bytes, and a seeded mutation loop.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tap.h"

typedef int (*parse_fn)(const char *, size_t, struct http_request *, int *);

/*
 * With LF_CORPUS_DIR set, every request a named case parses is saved there
 * as one file: the parser fuzz targets' seed corpus (tests/fuzz/corpus/http,
 * made by tests/fuzz/mkcorpus-http.sh). Off for the prefixes and the
 * mutation loop, which add nothing a fuzzer would not find itself.
 */
static const char *corpus_dir;
static bool corpus_on = true;

static void
corpus_save(const char *s, size_t len)
{
	char path[4096];
	uint32_t h = 2166136261u;
	size_t i;
	FILE *f;

	if (corpus_dir == NULL || !corpus_on || len == 0)
		return;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	snprintf(path, sizeof(path), "%s/unit-%08x", corpus_dir, h);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fwrite(s, 1, len, f);
	fclose(f);
}

/* Parses S from an exact-size heap copy, so a sanitizer sees any overread. */
static int
run_n(parse_fn fn, const char *s, size_t len, struct http_request *r, int *st)
{
	char *copy = malloc(len ? len : 1);
	int n;

	corpus_save(s, len);
	memcpy(copy, s, len);
	n = fn(copy, len, r, st);
	/* rebase pointers onto S so callers can still look at them */
#define REBASE(f) if (r->f != NULL && r->f >= copy && r->f <= copy + len) r->f = s + (r->f - copy)
	REBASE(method_str);
	REBASE(target);
	REBASE(path);
	REBASE(query);
	REBASE(host);
	REBASE(if_none_match);
	REBASE(if_match);
	REBASE(if_unmodified_since);
	REBASE(range);
	REBASE(if_range);
	REBASE(if_modified_since);
	REBASE(accept_encoding);
#undef REBASE
	free(copy);
	return n;
}

static int
parse_n(const char *s, size_t len, struct http_request *r, int *st)
{
	return run_n(http_parse_request, s, len, r, st);
}

static int
parse(const char *s, struct http_request *r, int *st)
{
	return parse_n(s, strlen(s), r, st);
}

/* The whole message: head and a body read with it. */
static int
msg_n(const char *s, size_t len, struct http_request *r, int *st)
{
	return run_n(http_parse_message, s, len, r, st);
}

static bool
streq_n(const char *p, size_t n, const char *lit)
{
	return p != NULL && strlen(lit) == n && memcmp(p, lit, n) == 0;
}

static void
expect_status(const char *req, int want, const char *what)
{
	struct http_request r;
	int st = -1, n;

	n = parse(req, &r, &st);
	ok(n == -1 && st == want, "%s -> %d (got %d, status %d)", what, want,
	    n, st);
}

/*
 * Every proper prefix must give -2, or -1 with the same status as the whole
 * (an error may show before the end); the whole gives the same answer as
 * when it is fed at once.
 */
static bool
prefixes_agree(parse_fn fn, const char *req, size_t len, const char *what)
{
	struct http_request full, r;
	size_t k;
	int nfull, stfull, n, st;
	bool good = true, was = corpus_on;

	nfull = run_n(fn, req, len, &full, &stfull);
	corpus_on = false;
	for (k = 0; k < len && good; k++) {
		n = run_n(fn, req, k, &r, &st);
		if (nfull >= 0 && (size_t)nfull > k)
			good = n == -2;
		else if (nfull >= 0)
			good = n == nfull;
		else
			good = n == -2 || (n == -1 && st == stfull);
		if (!good)
			printf("# prefix %zu of %s: %d/%d, whole %d/%d\n", k,
			    what, n, st, nfull, stfull);
	}
	corpus_on = was;
	return good;
}

static void
check_prefixes(const char *req, const char *what)
{
	ok(prefixes_agree(http_parse_request, req, strlen(req), what),
	    "every prefix of %s", what);
}

static void
test_valid(void)
{
	struct http_request r;
	int st, n;
	const char *s;
	const char *q;
	size_t ql;

	s = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n == (int)strlen(s), "GET / 1.1: whole head consumed");
	ok(r.method == HTTP_GET && streq_n(r.method_str, r.method_len, "GET"),
	    "GET: method");
	ok(streq_n(r.target, r.target_len, "/") &&
	    streq_n(r.path, r.path_len, "/") && r.query_len == 0,
	    "GET: target and path");
	ok(r.minor == 1 && r.keep_alive, "1.1 is persistent by default");
	ok(streq_n(r.host, r.host_len, "localhost"), "Host value");
	ok(!r.has_body && !r.chunked && r.content_length == 0, "no body");
	ok(r.nheaders == 1, "one header counted");

	s = "HEAD /index.html HTTP/1.0\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n == (int)strlen(s) && r.method == HTTP_HEAD && r.minor == 0,
	    "HEAD 1.0 without Host is fine");
	ok(!r.keep_alive, "1.0 is not persistent by default");
	ok(r.host == NULL, "no Host: NULL");

	s = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.keep_alive, "1.0 with Keep-Alive is persistent");
	s = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && !r.keep_alive, "1.1 with close is not persistent");
	s = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade ,  CLOSE\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && !r.keep_alive, "close found in a token list, any case");
	s = "GET / HTTP/1.0\r\nConnection: te\r\nConnection: keep-alive, x\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.keep_alive, "keep-alive across repeated Connection fields");
	s = "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && !r.keep_alive, "close wins over keep-alive");
	s = "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.keep_alive, "'closed' is not 'close'");

	s = "GET /cpu?n=20&x=&flag HTTP/1.1\r\nHost: a\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && streq_n(r.path, r.path_len, "/cpu") &&
	    streq_n(r.query, r.query_len, "n=20&x=&flag"), "query split");
	ok(http_query_get(r.query, r.query_len, "n", &q, &ql) &&
	    streq_n(q, ql, "20"), "query_get n=20");
	ok(http_query_get(r.query, r.query_len, "x", &q, &ql) && ql == 0,
	    "query_get empty value");
	ok(http_query_get(r.query, r.query_len, "flag", &q, &ql) && ql == 0,
	    "query_get name without '='");
	ok(!http_query_get(r.query, r.query_len, "m", &q, &ql),
	    "query_get missing name");
	ok(!http_query_get(r.query, r.query_len, "fla", &q, &ql),
	    "query_get does not match a prefix of a name");
	s = "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && streq_n(r.path, r.path_len, "/a") && r.query_len == 0 &&
	    r.query != NULL, "empty query after '?'");

	s = "GET / HTTP/1.1\r\nHost:   spaced.example \t \r\nX-Empty:\r\n"
	    "X-Tab:\tv a l\t\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n == (int)strlen(s) && streq_n(r.host, r.host_len, "spaced.example"),
	    "OWS trimmed around a value");
	ok(r.nheaders == 3, "empty value is a header");

	s = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n == (int)strlen(s) && r.method == HTTP_GET,
	    "empty lines before the request line are skipped");

	s = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n"
	    "content-length: 42\r\n\r\nbody";
	n = parse(s, &r, &st);
	ok(n == (int)strlen(s) - 4 && r.method == HTTP_POST && r.has_body &&
	    r.content_length == 42, "Content-Length, repeated equal, body left");
	s = "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.method == HTTP_PUT && r.chunked && r.has_body &&
	    r.keep_alive, "Transfer-Encoding: chunked");
	s = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.content_length == UINT64_MAX, "largest Content-Length");
	s = "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"abc\"\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && streq_n(r.if_none_match, r.if_none_match_len, "\"abc\""),
	    "If-None-Match kept");

	{
		static const struct {
			const char *m;
			enum http_method e;
		} ms[] = {
			{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD },
			{ "POST", HTTP_POST }, { "PUT", HTTP_PUT },
			{ "DELETE", HTTP_DELETE }, { "OPTIONS", HTTP_OPTIONS },
			{ "TRACE", HTTP_TRACE }, { "PATCH", HTTP_PATCH },
			{ "PROPFIND", HTTP_METHOD_OTHER },
			{ "get", HTTP_METHOD_OTHER },
			{ "GETS", HTTP_METHOD_OTHER },
			{ "M-SEARCH", HTTP_METHOD_OTHER },
		};
		char buf[128];
		size_t i;
		bool good = true;

		for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
			snprintf(buf, sizeof(buf), "%s /x HTTP/1.1\r\nHost: a\r\n\r\n",
			    ms[i].m);
			n = parse(buf, &r, &st);
			if (n <= 0 || r.method != ms[i].e) {
				printf("# method %s: %d %d\n", ms[i].m, n, r.method);
				good = false;
			}
		}
		ok(good, "method table, case-sensitive, others are OTHER");
	}
	ok(strcmp(http_method_name(HTTP_GET), "GET") == 0 &&
	    strcmp(http_method_name(HTTP_PATCH), "PATCH") == 0 &&
	    strcmp(http_method_name(HTTP_METHOD_OTHER), "OTHER") == 0,
	    "method names");

	s = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.method == HTTP_OPTIONS && streq_n(r.path, r.path_len, "*"),
	    "asterisk-form with OPTIONS");
	s = "GET http://example.com/a/b?c=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && streq_n(r.path, r.path_len, "/a/b") &&
	    streq_n(r.query, r.query_len, "c=1"), "absolute-form: its path");
	s = "GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && streq_n(r.path, r.path_len, "/"),
	    "absolute-form without a path is /");
	s = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.method == HTTP_CONNECT, "authority-form with CONNECT");
}

static void
test_errors(void)
{
	char *big;
	size_t i, off;

	expect_status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "double space");
	expect_status(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "leading space");
	expect_status("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400,
	    "space after version");
	expect_status("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "tab separator");
	expect_status("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "control byte in target");
	expect_status("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "DEL in target");
	expect_status("GET /\r\n\r\n", 400, "HTTP/0.9 request line");
	expect_status("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "bare CR");
	expect_status("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "non-token method");
	expect_status("GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "target not origin-form");
	expect_status("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "asterisk-form without OPTIONS");
	expect_status("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "absolute-form without authority");
	expect_status("GET / http/1.1\r\nHost: a\r\n\r\n", 400,
	    "lower-case HTTP-name");
	expect_status("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400,
	    "version with two minor digits");
	expect_status("GET / HTTP/11\r\nHost: a\r\n\r\n", 400, "version without dot");
	expect_status("GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400,
	    "non-digit minor");
	expect_status("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0");
	expect_status("GET / HTTP/0.9\r\n\r\n", 505, "HTTP/0.9 version");
	expect_status("GET / HTTP/1.1\r\n\r\n", 400, "1.1 without Host");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
	    "two Host fields");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400,
	    "two equal Host fields");
	expect_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400,
	    "space before the colon");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400,
	    "obs-fold");
	expect_status("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400,
	    "whitespace before the first field");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400,
	    "empty field name");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400,
	    "field without colon");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 400,
	    "control byte in a value");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nX: a\rz\r\n\r\n", 400,
	    "CR inside a value");
	{
		static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0z\r\n\r\n";
		struct http_request r;
		int st, n;

		n = parse_n(nul, sizeof(nul) - 1, &r, &st);
		ok(n == -1 && st == 400, "NUL inside a value -> 400");
	}
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
	    400, "Content-Length not digits");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
	    400, "negative Content-Length");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
	    400, "empty Content-Length");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
	    400, "Content-Length list");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 18446744073709551616\r\n\r\n", 400,
	    "Content-Length overflow");
	expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n", 400, "differing Content-Length");
	expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400, "Content-Length and TE");
	expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 3\r\n\r\n", 400, "TE and Content-Length");

	/* 501: a method over HTTP_MAX_METHOD, even before its end arrives */
	expect_status("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\nHost: a\r\n\r\n",
	    501, "33-byte method");
	{
		struct http_request r;
		int st;

		ok(parse("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", &r, &st) == -2,
		    "33-byte method, no more bytes yet: need more");
	}
	{
		struct http_request r;
		int st, n;

		n = parse("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF / HTTP/1.1\r\nHost: a\r\n\r\n",
		    &r, &st);
		ok(n > 0 && r.method == HTTP_METHOD_OTHER && r.method_len == 32,
		    "32-byte method is accepted");
	}

	/* 414: target over the limit, detected before the line ends */
	big = malloc(HTTP_MAX_HEAD * 2 + 64);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', HTTP_MAX_TARGET);
	big[4 + HTTP_MAX_TARGET] = '\0';
	{
		struct http_request r;
		int st, n;
		char *line = malloc(HTTP_MAX_TARGET + 64);

		snprintf(line, HTTP_MAX_TARGET + 64, "%s HTTP/1.1\r\nHost: a\r\n\r\n",
		    big);
		n = parse(line, &r, &st);
		ok(n > 0 && r.target_len == HTTP_MAX_TARGET,
		    "target of exactly the limit is accepted");
		free(line);
	}
	big[4 + HTTP_MAX_TARGET] = 'a';
	big[5 + HTTP_MAX_TARGET] = '\0';
	expect_status(big, 414, "target one over the limit, line incomplete");
	strcpy(big + 5 + HTTP_MAX_TARGET, " HTTP/1.1\r\nHost: a\r\n\r\n");
	expect_status(big, 414, "target one over the limit, whole request");

	/* 431: many headers */
	off = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < HTTP_MAX_HEADERS; i++)
		off += sprintf(big + off, "X-%zu: v\r\n", i);
	strcpy(big + off, "\r\n");
	{
		struct http_request r;
		int st, n;

		n = parse(big, &r, &st);
		ok(n > 0 && r.nheaders == HTTP_MAX_HEADERS,
		    "exactly HTTP_MAX_HEADERS headers are accepted");
	}
	strcpy(big + off, "X-last: v\r\n\r\n");
	expect_status(big, 431, "one header too many");

	/* 431: a head over HTTP_MAX_HEAD bytes, complete or not */
	off = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(big + off, 'v', HTTP_MAX_HEAD - off - 4);
	strcpy(big + HTTP_MAX_HEAD - 4, "\r\n\r\n");
	{
		struct http_request r;
		int st, n;

		n = parse(big, &r, &st);
		ok(n == HTTP_MAX_HEAD, "head of exactly HTTP_MAX_HEAD bytes");
	}
	memset(big + off, 'v', HTTP_MAX_HEAD - off - 3);
	strcpy(big + HTTP_MAX_HEAD - 3, "\r\n\r\n");
	expect_status(big, 431, "head one byte over HTTP_MAX_HEAD");
	memset(big + off, 'v', HTTP_MAX_HEAD * 2 - off);
	big[HTTP_MAX_HEAD * 2] = '\0';
	expect_status(big, 431, "endless field value");
	{
		struct http_request r;
		int st, n;

		n = parse_n(big, HTTP_MAX_HEAD, &r, &st);
		ok(n == -2, "HTTP_MAX_HEAD bytes without an end: need more");
	}
	free(big);
}

static void
test_prefixes(void)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /a/b?c=d HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n"
		    "Accept: */*\r\nConnection: keep-alive\r\n\r\n",
		"HEAD / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\nHost:a\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
		/* invalid ones: early or late errors, never a different one */
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH / HTTP/1.1\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "request %zu", i);
		check_prefixes(reqs[i], what);
	}
}

/*
 * RFC 9112 / 9110 requirements, one named case each (docs/CONFORMANCE.md
 * cites the names). WANT is the status of a rejected message, 0 for one
 * accepted whole (the returned length is all of it), -2 for "need more".
 * Each case is parsed as a message (head and the body read with it), and
 * every prefix of it must agree with the whole.
 */
#define H11	"GET / HTTP/1.1\r\n"
#define POST	"POST / HTTP/1.1\r\nHost: a\r\n"
#define TECH	POST "Transfer-Encoding: chunked\r\n\r\n"

static const struct conf_case {
	const char	*name;
	const char	*req;
	int		 want;
} conf_cases[] = {
	/* RFC 9112 3.2 and RFC 9110 7.2: Host */
	{ "host-missing-1.1", H11 "\r\n", 400 },
	{ "host-missing-1.0", "GET / HTTP/1.0\r\n\r\n", 0 },
	{ "host-twice", H11 "Host: a\r\nHost: b\r\n\r\n", 400 },
	{ "host-twice-same", H11 "Host: a\r\nhost: a\r\n\r\n", 400 },
	{ "host-userinfo", H11 "Host: user@host\r\n\r\n", 400 },
	{ "host-userinfo-port", H11 "Host: user:pw@host:80\r\n\r\n", 400 },
	{ "host-path", H11 "Host: host:80/path\r\n\r\n", 400 },
	{ "host-empty", H11 "Host: \r\n\r\n", 400 },
	{ "host-list", H11 "Host: a, b\r\n\r\n", 400 },
	{ "host-list-comma", H11 "Host: a,b\r\n\r\n", 400 },
	{ "host-space", H11 "Host: a b\r\n\r\n", 400 },
	{ "host-bad-char", H11 "Host: a<b\r\n\r\n", 400 },
	{ "host-bad-obs-text", H11 "Host: \xc3\xa9\r\n\r\n", 400 },
	{ "host-port-not-digits", H11 "Host: a:8x\r\n\r\n", 400 },
	{ "host-port-too-big", H11 "Host: a:65536\r\n\r\n", 400 },
	{ "host-port-six-digits", H11 "Host: a:000080\r\n\r\n", 400 },
	{ "host-port-only", H11 "Host: :80\r\n\r\n", 400 },
	{ "host-ipv6-unclosed", H11 "Host: [::1\r\n\r\n", 400 },
	{ "host-ipv6-empty", H11 "Host: []\r\n\r\n", 400 },
	{ "host-pct-bad", H11 "Host: a%4\r\n\r\n", 400 },
	{ "host-invalid-1.0", "GET / HTTP/1.0\r\nHost: a@b\r\n\r\n", 400 },
	{ "host-name-port", H11 "Host: www.example.com:8080\r\n\r\n", 0 },
	{ "host-empty-port", H11 "Host: example.com:\r\n\r\n", 0 },
	{ "host-ipv4", H11 "Host: 127.0.0.1:7878\r\n\r\n", 0 },
	{ "host-ipv6", H11 "Host: [::1]:7878\r\n\r\n", 0 },
	{ "host-pct", H11 "Host: a%41b_c~d\r\n\r\n", 0 },
	/* RFC 9112 3.2.2: absolute-form */
	{ "absolute-form", "GET http://a.example/x?y HTTP/1.1\r\nHost: b\r\n\r\n", 0 },
	{ "absolute-form-no-host", "GET http://a/x HTTP/1.1\r\n\r\n", 400 },
	{ "absolute-form-userinfo", "GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "absolute-form-bad-port", "GET http://a:x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "absolute-form-other-scheme", "GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "authority-form-not-connect", "GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "authority-form-no-port", "CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "asterisk-form-options", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0 },
	{ "asterisk-form-get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	/* RFC 9112 3 and RFC 3986: the request-target */
	{ "target-fragment", "GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-non-ascii", "GET /\xc3\xa9t\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-non-ascii-query", "GET /a?\xff HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-control", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-tab", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-del", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-space", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-quote", "GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-angle", "GET /a<b>c HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-long-bad-byte", "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x80 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "target-whatwg-bytes", "GET /a|b^c`d{e}f[g]h\\?i[]=1 HTTP/1.1\r\nHost: a\r\n\r\n", 0 },
	{ "target-rfc3986-bytes", "GET /a-._~!$&'()*+,;=:@%20/?x=/? HTTP/1.1\r\nHost: a\r\n\r\n", 0 },
	{ "target-empty", "GET  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	/* RFC 9112 3: the request line */
	{ "method-lowercase-is-token", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 0 },
	{ "method-not-token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "method-33-bytes", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
	{ "method-33-bytes-unfinished", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", -2 },
	{ "line-double-space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "line-tab", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "line-trailing-space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
	{ "line-http09", "GET /\r\n\r\n", 400 },
	{ "version-lowercase", "GET / http/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "version-two-digits", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400 },
	{ "version-1.2-as-1.1", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0 },
	{ "version-1.2-needs-host", "GET / HTTP/1.2\r\n\r\n", 400 },
	{ "version-2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
	{ "version-0.9", "GET / HTTP/0.9\r\n\r\n", 505 },
	/* RFC 9112 2.2: line endings, empty lines */
	{ "leading-crlf", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0 },
	{ "leading-bare-lf", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "bare-lf-request-line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400 },
	{ "bare-lf-field", H11 "Host: a\nX: b\r\n\r\n", 400 },
	{ "bare-lf-end", H11 "Host: a\r\n\n", 400 },
	{ "bare-cr-request-line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400 },
	{ "bare-cr-value", H11 "Host: a\r\nX: a\rb\r\n\r\n", 400 },
	{ "ws-before-first-field", H11 " Host: a\r\n\r\n", 400 },
	/* RFC 9112 5: field lines */
	{ "ws-before-colon", H11 "Host : a\r\n\r\n", 400 },
	{ "obs-fold", H11 "Host: a\r\nX: b\r\n c\r\n\r\n", 400 },
	{ "obs-fold-tab", H11 "Host: a\r\nX: b\r\n\tc\r\n\r\n", 400 },
	{ "field-no-colon", H11 "Host: a\r\nNoColon\r\n\r\n", 400 },
	{ "field-empty-name", H11 "Host: a\r\n: v\r\n\r\n", 400 },
	{ "field-name-bracket", H11 "Host: a\r\nX[1]: v\r\n\r\n", 400 },
	{ "field-value-control", H11 "Host: a\r\nX: a\x01z\r\n\r\n", 400 },
	{ "field-value-obs-text", H11 "Host: a\r\nX: \xc3\xa9\r\n\r\n", 0 },
	{ "field-value-empty", H11 "Host: a\r\nX:\r\n\r\n", 0 },
	/* RFC 9112 6.3 and RFC 9110 8.6: Content-Length */
	{ "cl-not-digits", POST "Content-Length: 1x\r\n\r\n", 400 },
	{ "cl-negative", POST "Content-Length: -1\r\n\r\n", 400 },
	{ "cl-plus", POST "Content-Length: +5\r\n\r\nhello", 400 },
	{ "cl-hex", POST "Content-Length: 0x5\r\n\r\nhello", 400 },
	{ "cl-inner-space", POST "Content-Length: 1 2\r\n\r\n", 400 },
	{ "cl-empty", POST "Content-Length:\r\n\r\n", 400 },
	{ "cl-list", POST "Content-Length: 5, 5\r\n\r\nhello", 400 },
	{ "cl-differing", POST "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400 },
	{ "cl-overflow", POST "Content-Length: 18446744073709551616\r\n\r\n", 400 },
	{ "cl-same-twice", POST "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 0 },
	{ "cl-body-read", POST "Content-Length: 5\r\n\r\nhello", 0 },
	{ "cl-body-incomplete", POST "Content-Length: 5\r\n\r\nhel", -2 },
	{ "cl-and-te", POST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
	{ "te-and-cl", POST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400 },
	/* RFC 9112 6.1 and 6.3: Transfer-Encoding */
	{ "te-gzip", POST "Transfer-Encoding: gzip\r\n\r\n", 400 },
	{ "te-chunked-gzip", POST "Transfer-Encoding: chunked, gzip\r\n\r\n", 400 },
	{ "te-chunked-then-gzip-line", POST "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400 },
	{ "te-chunked-twice", POST "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400 },
	{ "te-identity", POST "Transfer-Encoding: identity\r\n\r\n", 400 },
	{ "te-empty", POST "Transfer-Encoding:\r\n\r\n", 400 },
	{ "te-chunked-param", POST "Transfer-Encoding: chunked;a=b\r\n\r\n0\r\n\r\n", 400 },
	{ "te-quoted", POST "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400 },
	{ "te-gzip-chunked", POST "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501 },
	{ "te-http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
	{ "te-http10-with-cl", "POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
	{ "te-case", POST "Transfer-Encoding: ChUnKeD\r\n\r\n0\r\n\r\n", 0 },
	{ "te-empty-elements", POST "Transfer-Encoding: , chunked,\r\n\r\n0\r\n\r\n", 0 },
	/* RFC 9112 7.1: chunked bodies */
	{ "chunked", TECH "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0 },
	{ "chunked-upper-hex", TECH "A\r\n0123456789\r\n0\r\n\r\n", 0 },
	{ "chunked-leading-zeros", TECH "0000000000000000005\r\nhello\r\n000\r\n\r\n", 0 },
	{ "chunked-ext", TECH "5;ext\r\nhello\r\n0;last\r\n\r\n", 0 },
	{ "chunked-ext-values", TECH "5;a=b;c=\"d \\\" e\"\r\nhello\r\n0\r\n\r\n", 0 },
	{ "chunked-ext-bws", TECH "5 ;\ta = b\r\nhello\r\n0\r\n\r\n", 0 },
	{ "chunked-trailer", TECH "5\r\nhello\r\n0\r\nX-T: v\r\nY: \r\n\r\n", 0 },
	{ "chunked-ext-empty-name", TECH "5;\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-ext-no-value", TECH "5;a=\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-ext-unclosed-quote", TECH "5;a=\"b\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-size-underscore", TECH "1_0\r\n0123456789abcdef\r\n0\r\n\r\n", 400 },
	{ "chunked-size-0x", TECH "0x5\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-size-plus", TECH "+5\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-size-minus", TECH "-1\r\nh\r\n0\r\n\r\n", 400 },
	{ "chunked-size-empty", TECH "\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-size-space", TECH "5 \r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-size-leading-space", TECH " 5\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-size-65-bits", TECH "1ffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-size-2^64", TECH "10000000000000000\r\nhello\r\n0\r\n\r\n", 400 },
	{ "chunked-size-2^64-1", TECH "ffffffffffffffff\r\nhello\r\n0\r\n\r\n", 413 },
	{ "chunked-data-too-long", TECH "5\r\nhelloX\r\n0\r\n\r\n", 400 },
	{ "chunked-data-too-short", TECH "5\r\nhell\r\n0\r\n\r\n", 400 },
	{ "chunked-bare-lf", TECH "5\nhello\n0\n\n", 400 },
	{ "chunked-trailer-bad", TECH "0\r\nX T: v\r\n\r\n", 400 },
	{ "chunked-no-final-crlf", TECH "5\r\nhello\r\n0\r\n", -2 },
	{ "chunked-on-get", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0 },
	/* RFC 9110 10.1.1: Expect */
	{ "expect-continue-answered-now", POST "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", 0 },
	{ "expect-continue-1.0-ignored", "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", -2 },
};

static void
test_conformance(void)
{
	const struct conf_case *c;
	struct http_request r;
	size_t len;
	int n, st;
	bool good;

	for (c = conf_cases; c < conf_cases + sizeof(conf_cases) /
	    sizeof(conf_cases[0]); c++) {
		len = strlen(c->req);
		n = msg_n(c->req, len, &r, &st);
		if (c->want > 0)
			good = n == -1 && st == c->want;
		else if (c->want == 0)
			good = n == (int)len;
		else
			good = n == c->want;
		ok(good, "%s: %s (got %d, status %d)", c->name,
		    c->want > 0 ? "rejected" : c->want == 0 ? "accepted whole" :
		    "needs more", n, st);
		ok(prefixes_agree(http_parse_message, c->req, len, c->name),
		    "%s: every prefix agrees", c->name);
	}
}

/* What the accepted cases above leave in the request. */
static void
test_conformance_fields(void)
{
	struct http_request r;
	const char *s;
	char *big;
	int n, st;

	s = "GET http://a.example/x?y HTTP/1.1\r\nHost: b\r\n\r\n";
	n = msg_n(s, strlen(s), &r, &st);
	ok(n > 0 && streq_n(r.host, r.host_len, "a.example") &&
	    streq_n(r.path, r.path_len, "/x") && streq_n(r.query, r.query_len, "y"),
	    "absolute-form: its authority replaces Host, its path is used");
	s = "GET / HTTP/1.2\r\nHost: a\r\n\r\n";
	n = msg_n(s, strlen(s), &r, &st);
	ok(n > 0 && r.minor == 1 && r.keep_alive, "version-1.2-as-1.1: minor 1");
	s = POST "Content-Length: 5\r\n\r\nhello";
	n = msg_n(s, strlen(s), &r, &st);
	ok(n == (int)strlen(s) && r.body_left == 0 && r.has_body,
	    "cl-body-read: the body is part of the message");
	n = parse(s, &r, &st);
	ok(n == (int)strlen(s) - 5, "http_parse_request stops at the head");
	s = POST "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n";
	n = msg_n(s, strlen(s), &r, &st);
	ok(n == (int)strlen(s) && r.expect_continue && r.body_left == 5,
	    "expect-continue-answered-now: head only, body left to the caller");
	s = POST "Expect: 100-Continue, foo\r\nContent-Length: 5\r\n\r\n";
	n = msg_n(s, strlen(s), &r, &st);
	ok(n == (int)strlen(s) && r.expect_continue,
	    "Expect: 100-continue found in a list, any case");
	s = "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
	n = msg_n(s, strlen(s), &r, &st);
	ok(n == (int)strlen(s) && r.chunked && r.has_body && r.body_left == 0,
	    "chunked-on-get: the chunked body is read with the head");

	big = malloc(HTTP_MAX_LINE + 200000);
	/* Content-Length bodies above HTTP_MAX_BODY_HELD are the caller's */
	n = sprintf(big, POST "Content-Length: %d\r\n\r\n", HTTP_MAX_BODY_HELD + 1);
	ok(msg_n(big, n, &r, &st) == n && r.body_left == HTTP_MAX_BODY_HELD + 1,
	    "cl-body-large: head only, body_left is the Content-Length");
	n = sprintf(big, POST "Content-Length: %d\r\n\r\n", HTTP_MAX_BODY_HELD);
	memset(big + n, 'b', HTTP_MAX_BODY_HELD);
	ok(msg_n(big, n + HTTP_MAX_BODY_HELD, &r, &st) == n + HTTP_MAX_BODY_HELD,
	    "cl-body-held-limit: a body of exactly HTTP_MAX_BODY_HELD is read");
	ok(msg_n(big, n + HTTP_MAX_BODY_HELD - 1, &r, &st) == -2,
	    "... and waited for");
	/* a chunked body that does not end within HTTP_MAX_BODY_HELD: 413 */
	n = sprintf(big, TECH "%x\r\n", HTTP_MAX_BODY_HELD);
	memset(big + n, 'c', HTTP_MAX_BODY_HELD + 100);
	ok(msg_n(big, n + HTTP_MAX_BODY_HELD + 100, &r, &st) == -1 && st == 413,
	    "chunked-too-large: 413");
	ok(prefixes_agree(http_parse_message, big, n + HTTP_MAX_BODY_HELD + 100,
	    "chunked-too-large"), "chunked-too-large: every prefix agrees");
	n = sprintf(big, TECH "%x\r\n", HTTP_MAX_BODY_HELD - 10);
	memset(big + n, 'c', HTTP_MAX_BODY_HELD - 10);
	n += HTTP_MAX_BODY_HELD - 10;
	n += sprintf(big + n, "\r\n0\r\n\r\n");
	ok(msg_n(big, n, &r, &st) == -1 && st == 413,
	    "chunked body whose end is past HTTP_MAX_BODY_HELD: 413");
	/* method-100k: a token that fills the request line limit is 400 */
	memset(big, 'A', 100000);
	strcpy(big + 100000, " / HTTP/1.1\r\nHost: a\r\n\r\n");
	ok(msg_n(big, strlen(big), &r, &st) == -1 && st == 400,
	    "method-100k: 400, not 501: the request line is over its limit");
	ok(msg_n(big, HTTP_MAX_LINE, &r, &st) == -2 &&
	    msg_n(big, HTTP_MAX_LINE + 1, &r, &st) == -1 && st == 400,
	    "method-100k: decided at HTTP_MAX_LINE + 1 bytes");
	memset(big, 'A', HTTP_MAX_LINE - 1);
	strcpy(big + HTTP_MAX_LINE - 1, " / HTTP/1.1\r\nHost: a\r\n\r\n");
	ok(msg_n(big, strlen(big), &r, &st) == -1 && st == 501 &&
	    r.method == HTTP_METHOD_OTHER && r.method_len == HTTP_MAX_LINE - 1,
	    "method-8255: a method seen whole is 501");
	free(big);

	ok(http_if_match("*", 1, NULL) && http_if_match("\"a\"", 3, "\"a\"") &&
	    http_if_match(" \"b\" , \"a\"", 10, "\"a\"") &&
	    !http_if_match("W/\"a\"", 5, "\"a\"") &&
	    !http_if_match("\"a\"", 3, "W/\"a\"") &&
	    !http_if_match("\"a\"", 3, NULL) && !http_if_match("\"a\"", 3, "") &&
	    !http_if_match("\"ab\"", 4, "\"a\""),
	    "http_if_match: *, lists, strong comparison only");
	s = "GET / HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\nIf-Unmodified-Since: y\r\n"
	    "Range: bytes=1-2\r\nIf-Range: \"x\"\r\nIf-Modified-Since: z\r\n"
	    "Accept-Encoding: gzip\r\n\r\n";
	n = msg_n(s, strlen(s), &r, &st);
	ok(n > 0 && streq_n(r.if_match, r.if_match_len, "\"x\"") &&
	    streq_n(r.if_unmodified_since, r.if_unmodified_since_len, "y") &&
	    streq_n(r.range, r.range_len, "bytes=1-2") &&
	    streq_n(r.if_range, r.if_range_len, "\"x\"") &&
	    streq_n(r.if_modified_since, r.if_modified_since_len, "z") &&
	    streq_n(r.accept_encoding, r.accept_encoding_len, "gzip"),
	    "conditional and range fields kept");
	ok(http_parse_chunked("0\r\n\r\nGET", 8, 100, &st) == 5,
	    "http_parse_chunked: its length, not what follows");
	ok(http_parse_chunked("", 0, 100, &st) == -2, "http_parse_chunked: empty");
	ok(http_parse_chunked("5\r\nhello\r\n0\r\n\r\n", 15, 15, &st) == 15,
	    "http_parse_chunked: a body of exactly MAX bytes");
	ok(http_parse_chunked("5\r\nhello\r\n0\r\n\r\n", 15, 14, &st) == -1 &&
	    st == 413, "http_parse_chunked: one byte over MAX: 413");
	ok(http_parse_chunked("6\r\nhello", 9, 9, &st) == -1 && st == 413,
	    "http_parse_chunked: a chunk that cannot fit: 413 at its size line");
}

static void
test_pipeline(void)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /b?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "HEAD /c HTTP/1.0\r\n\r\n"
	    "GET /d HTT";
	const char *want[] = { "/a", "/b", "/c" };
	struct http_request r;
	size_t off = 0, len = strlen(s), i;
	int n, st;
	bool good = true;

	for (i = 0; i < 3; i++) {
		n = parse_n(s + off, len - off, &r, &st);
		if (n <= 0 || !streq_n(r.path, r.path_len, want[i]))
			good = false;
		if (n > 0)
			off += n;
	}
	ok(good, "three pipelined requests parsed in turn");
	ok(r.method == HTTP_HEAD && r.minor == 0, "third is HEAD 1.0");
	n = parse_n(s + off, len - off, &r, &st);
	ok(n == -2, "fourth, partial: need more");
}

static void
norm(const char *in, const char *want)
{
	char out[64];
	int n = http_normalize_path(in, strlen(in), out, sizeof(out));

	if (want == NULL)
		ok(n == -1, "normalize %s rejected (got %d)", in, n);
	else
		ok(n >= 0 && (size_t)n == strlen(want) && strcmp(out, want) == 0,
		    "normalize %s -> %s (got %d %s)", in, want, n,
		    n >= 0 ? out : "");
}

static void
test_normalize(void)
{
	char small[6];

	norm("/", "/");
	norm("/index.html", "/index.html");
	norm("//a///b", "/a/b");
	norm("/a/b/", "/a/b/");
	norm("/a//", "/a/");
	norm("/./a/./b", "/a/b");
	norm("/a/.", "/a/");
	norm("/a/b/..", "/a/");
	norm("/a/b/../c", "/a/c");
	norm("/a/../../b", NULL);
	norm("/..", NULL);
	norm("/../etc/passwd", NULL);
	norm("/a/..", "/");
	norm("/.", "/");
	norm("/%2e%2e/etc", NULL);
	norm("/a/%2E%2e", "/");
	norm("/a/..%2fb", "/b");
	norm("/..%2f..%2fetc", NULL);
	norm("/a%2f..%2f..%2fb", NULL);
	norm("/a%20b.html", "/a b.html");
	norm("/%41%62c", "/Abc");
	norm("/a%00b", NULL);
	norm("/a%0a", NULL);
	norm("/a%7f", NULL);
	norm("/a%", NULL);
	norm("/a%4", NULL);
	norm("/a%zz", NULL);
	norm("/...", "/...");
	norm("/.hidden", "/.hidden");
	norm("/a.b/c", "/a.b/c");
	norm("relative", NULL);
	norm("%2fa", NULL);
	norm("", NULL);
	norm("/\xc3\xa9", "/\xc3\xa9");
	ok(http_normalize_path("/abcde", 6, small, sizeof(small)) == -1,
	    "result that does not fit is rejected");
	ok(http_normalize_path("/abcd", 5, small, sizeof(small)) == 5 &&
	    strcmp(small, "/abcd") == 0, "result that just fits");
	ok(http_normalize_path("/x/../abcd", 10, small, sizeof(small)) == 5 &&
	    strcmp(small, "/abcd") == 0, "input longer than OUT, result fits");
}

static void
test_uint(void)
{
	uint64_t v = 7;

	ok(http_parse_uint("10000", 5, 100000, &v) == 0 && v == 10000,
	    "parse_uint 10000");
	ok(http_parse_uint("0", 1, 10, &v) == 0 && v == 0, "parse_uint 0");
	ok(http_parse_uint("100", 3, 100, &v) == 0 && v == 100,
	    "parse_uint equal to max");
	ok(http_parse_uint("101", 3, 100, &v) == -1, "parse_uint over max");
	ok(http_parse_uint("", 0, 100, &v) == -1, "parse_uint empty");
	ok(http_parse_uint("1a", 2, 100, &v) == -1, "parse_uint not digits");
	ok(http_parse_uint("-1", 2, 100, &v) == -1, "parse_uint negative");
	ok(http_parse_uint("18446744073709551615", 20, UINT64_MAX, &v) == 0 &&
	    v == UINT64_MAX, "parse_uint UINT64_MAX");
	ok(http_parse_uint("18446744073709551616", 20, UINT64_MAX, &v) == -1,
	    "parse_uint overflow");
	ok(http_parse_uint("5", 1, 3, &v) == -1, "parse_uint digit over tiny max");
}

/* Formats with F, retrying if the second ticked, and compares with WANT. */
#define CHECK_FORMAT(call, fmt, what, ...) do {				\
	char got_[1024], want_[1024], date_[32];			\
	int n_, tries_ = 0;						\
	do {								\
		strcpy(date_, http_date_now());				\
		n_ = (call);						\
	} while (strcmp(date_, http_date_now()) != 0 && ++tries_ < 5);	\
	snprintf(want_, sizeof(want_), fmt, __VA_ARGS__);		\
	ok(n_ == (int)strlen(want_) && memcmp(got_, want_, n_) == 0,	\
	    "%s", what);						\
	if (n_ > 0 && memcmp(got_, want_, n_) != 0)			\
		printf("# got:\n%.*s# want:\n%s", n_, got_, want_);	\
} while (0)

static void
test_format(void)
{
	char buf[512];
	const char *d = http_date_now();
	const char *body404 = "<html><head><title>404 Not Found</title></head>"
	    "<body><h1>404 Not Found</h1></body></html>\n";

	ok(strlen(d) == 29 && memcmp(d + 25, " GMT", 4) == 0 && d[3] == ',',
	    "IMF-fixdate shape: %s", d);
	ok(strcmp(http_reason(200), "OK") == 0 &&
	    strcmp(http_reason(404), "Not Found") == 0 &&
	    strcmp(http_reason(431), "Request Header Fields Too Large") == 0 &&
	    strcmp(http_reason(505), "HTTP Version Not Supported") == 0,
	    "reasons");
	ok(strcmp(http_reason(299), "Unknown") == 0 &&
	    strcmp(http_reason(-1), "Unknown") == 0 &&
	    strcmp(http_reason(1000), "Unknown") == 0, "unknown statuses");
	{
		static const int codes[] = { 200, 204, 301, 304, 400, 403, 404,
		    405, 408, 411, 413, 414, 431, 500, 501, 503, 505 };
		size_t i;
		bool good = true;

		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			good &= strcmp(http_reason(codes[i]), "Unknown") != 0;
		ok(good, "every status lfserver sends has a reason");
	}

	CHECK_FORMAT(http_format_head(got_, sizeof(got_), 200, 1, true,
	    "text/html; charset=utf-8", 615, NULL),
	    "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: lfserver\r\n"
	    "Content-Type: text/html; charset=utf-8\r\nContent-Length: 615\r\n\r\n",
	    "head 200, 1.1 keep-alive", date_);
	CHECK_FORMAT(http_format_head(got_, sizeof(got_), 200, 0, true,
	    NULL, 0, "X-A: 1\r\n"),
	    "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: lfserver\r\n"
	    "Content-Length: 0\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n",
	    "head 200, 1.0 keep-alive, extra line", date_);
	CHECK_FORMAT(http_format_head(got_, sizeof(got_), 503, 1, false,
	    "text/plain", 3, NULL),
	    "HTTP/1.1 503 Service Unavailable\r\nDate: %s\r\nServer: lfserver\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 3\r\n"
	    "Connection: close\r\n\r\n", "head 503, close", date_);
	CHECK_FORMAT(http_format_head(got_, sizeof(got_), 204, 1, true,
	    NULL, 0, NULL),
	    "HTTP/1.1 204 No Content\r\nDate: %s\r\nServer: lfserver\r\n\r\n",
	    "head 204 has no Content-Length", date_);

	CHECK_FORMAT(http_format_error(got_, sizeof(got_), 404, 1, true, false),
	    "HTTP/1.1 404 Not Found\r\nDate: %s\r\nServer: lfserver\r\n"
	    "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
	    "\r\n%s", "error 404 with body", date_, strlen(body404), body404);
	CHECK_FORMAT(http_format_error(got_, sizeof(got_), 404, 1, true, true),
	    "HTTP/1.1 404 Not Found\r\nDate: %s\r\nServer: lfserver\r\n"
	    "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
	    "\r\n", "error 404 to HEAD: same head, no body", date_,
	    strlen(body404));
	CHECK_FORMAT(http_format_error(got_, sizeof(got_), 405, 0, false, true),
	    "HTTP/1.1 405 Method Not Allowed\r\nDate: %s\r\nServer: lfserver\r\n"
	    "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\nAllow: GET, HEAD, OPTIONS\r\n\r\n",
	    "error 405 carries Allow", date_,
	    strlen("<html><head><title>405 Method Not Allowed</title></head>"
	    "<body><h1>405 Method Not Allowed</h1></body></html>\n"));

	{
		/* RFC 9112 6.1: lfserver frames every response by length */
		static const int codes[] = { 200, 204, 304, 400, 404, 405, 413,
		    500, 505 };
		size_t i;
		int m;
		bool good = true;

		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			for (m = 0; m <= 1; m++) {
				memset(buf, 0, sizeof(buf));
				good &= http_format_head(buf, sizeof(buf) - 1,
				    codes[i], m, true, "text/plain", 5, NULL) > 0 &&
				    strstr(buf, "Transfer-Encoding") == NULL;
				memset(buf, 0, sizeof(buf));
				good &= http_format_error(buf, sizeof(buf) - 1,
				    codes[i], m, false, false) > 0 &&
				    strstr(buf, "Transfer-Encoding") == NULL;
			}
		ok(good, "no response head carries Transfer-Encoding");
	}
	ok(http_format_head(buf, 40, 200, 1, true, "text/html", 10, NULL) == -1,
	    "head: too small a buffer");
	ok(http_format_error(buf, 150, 404, 1, true, false) == -1,
	    "error: room for the head but not the body");
	{
		int full = http_format_error(buf, sizeof(buf), 414, 1, false, false);
		bool good = full > 0;
		int cap;

		for (cap = 0; cap < full && good; cap++)
			good = http_format_error(buf, cap, 414, 1, false, false) == -1;
		good = good && http_format_error(buf, full, 414, 1, false,
		    false) == full;
		ok(good, "error fits exactly its length and no less");
	}
}

/* xorshift64*: the loop below must be the same on every run. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32);
}

static void
test_random(void)
{
	static const char *const seeds[] = {
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /a/b/../c?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		    "Accept: */*\r\n\r\n",
		"HEAD /%2e%2e/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://h/p HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n",
	};
	static const char interesting[] = "\r\n :\t%/.?&=\0\x7f\x80\xff" "0A";
	char buf[512], norm_out[512];
	long iters = 300000, i, bad = 0, complete = 0, partial = 0;
	struct http_request r;

	corpus_on = false;
	for (i = 0; i < iters; i++) {
		const char *s = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
		size_t len = strlen(s), m, nm = 1 + rnd() % 4;
		int n, st;

		memcpy(buf, s, len);
		for (m = 0; m < nm; m++) {
			size_t at = len ? rnd() % len : 0;
			char c = rnd() % 2 ? interesting[rnd() %
			    (sizeof(interesting) - 1)] : (char)rnd();

			switch (rnd() % 5) {
			case 0:		/* replace */
				if (len)
					buf[at] = c;
				break;
			case 1:		/* insert */
				if (len < sizeof(buf) - 1) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = c;
					len++;
				}
				break;
			case 2:		/* delete */
				if (len) {
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
				}
				break;
			case 3:		/* truncate */
				len = at;
				break;
			case 4:		/* duplicate a span */
				if (len && len < sizeof(buf) / 2) {
					size_t sl = rnd() % (len - at) + 1;

					memmove(buf + at + sl, buf + at, len - at);
					len += sl;
				}
				break;
			}
		}
		n = msg_n(buf, len, &r, &st);
		partial += n == -2;
		complete += n > 0;
		if (n == -2 || (n == -1 && (st == 400 || st == 413 ||
		    st == 414 || st == 431 || st == 501 || st == 505)))
			continue;
		if (n <= 0 || (size_t)n > len) {
			bad++;
			continue;
		}
		/* a complete head is complete at exactly its own length too */
		{
			struct http_request r2;
			int st2;

			if (msg_n(buf, n, &r2, &st2) != n ||
			    r2.target_len != r.target_len ||
			    r2.keep_alive != r.keep_alive)
				bad++;
		}
		if (r.path_len > 0)
			(void)http_normalize_path(r.path, r.path_len, norm_out,
			    sizeof(norm_out));
	}
	printf("# %ld complete, %ld partial, %ld rejected\n", complete, partial,
	    iters - complete - partial);
	ok(complete > iters / 20 && partial > iters / 20,
	    "the mutations reach every outcome");
	ok(bad == 0, "%ld mutated requests: only -2, -1 with a known status, "
	    "or a length within the input (%ld bad)", iters, bad);
}

int
main(void)
{
	corpus_dir = getenv("LF_CORPUS_DIR");
	test_valid();
	test_errors();
	test_prefixes();
	test_conformance();
	test_conformance_fields();
	test_pipeline();
	test_normalize();
	test_uint();
	test_format();
	test_random();
	return done_testing();
}
