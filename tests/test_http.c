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

/* Parses S from an exact-size heap copy, so a sanitizer sees any overread. */
static int
parse_n(const char *s, size_t len, struct http_request *r, int *st)
{
	char *copy = malloc(len ? len : 1);
	int n;

	memcpy(copy, s, len);
	n = http_parse_request(copy, len, r, st);
	/* rebase pointers onto S so callers can still look at them */
#define REBASE(f) if (r->f != NULL && r->f >= copy && r->f <= copy + len) r->f = s + (r->f - copy)
	REBASE(method_str);
	REBASE(target);
	REBASE(path);
	REBASE(query);
	REBASE(host);
	REBASE(if_none_match);
#undef REBASE
	free(copy);
	return n;
}

static int
parse(const char *s, struct http_request *r, int *st)
{
	return parse_n(s, strlen(s), r, st);
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
static void
check_prefixes(const char *req, const char *what)
{
	struct http_request full, r;
	size_t len = strlen(req), k;
	int nfull, stfull, n, st;
	bool good = true;

	nfull = parse(req, &full, &stfull);
	for (k = 0; k < len && good; k++) {
		n = parse_n(req, k, &r, &st);
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
	ok(good, "every prefix of %s", what);
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

	s = "GET /lf HTTP/1.1\nHost: a\nContent-Length: 0\n\n";
	n = parse(s, &r, &st);
	ok(n == (int)strlen(s) && streq_n(r.path, r.path_len, "/lf") &&
	    !r.has_body, "bare LF line endings");
	s = "GET / HTTP/1.1\r\nHost: a\n\r\n";
	n = parse(s, &r, &st);
	ok(n == (int)strlen(s), "mixed LF and CRLF");
	s = "\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
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
	s = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.chunked && !r.keep_alive,
	    "Transfer-Encoding in 1.0 forces close");
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
	s = "GET /\xc3\xa9t\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n";
	n = parse(s, &r, &st);
	ok(n > 0 && r.path_len == 6, "obs-text bytes in the target");
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
	expect_status("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "HTTP/1.2");
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
	expect_status("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", 501,
	    "33-byte method, no more bytes yet");
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
		"GET / HTTP/1.0\nConnection: keep-alive\n\n",
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

static void
test_pipeline(void)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /b?q=1 HTTP/1.1\nHost: x\n\n"
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
	    "Connection: close\r\nAllow: GET, HEAD\r\n\r\n",
	    "error 405 carries Allow", date_,
	    strlen("<html><head><title>405 Method Not Allowed</title></head>"
	    "<body><h1>405 Method Not Allowed</h1></body></html>\n"));

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
		"PUT / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://h/p HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n",
	};
	static const char interesting[] = "\r\n :\t%/.?&=\0\x7f\x80\xff" "0A";
	char buf[512], norm_out[512];
	long iters = 300000, i, bad = 0, complete = 0, partial = 0;
	struct http_request r;

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
		n = parse_n(buf, len, &r, &st);
		partial += n == -2;
		complete += n > 0;
		if (n == -2 || (n == -1 && (st == 400 || st == 414 ||
		    st == 431 || st == 501 || st == 505)))
			continue;
		if (n <= 0 || (size_t)n > len) {
			bad++;
			continue;
		}
		/* a complete head is complete at exactly its own length too */
		{
			struct http_request r2;
			int st2;

			if (parse_n(buf, n, &r2, &st2) != n ||
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
	test_valid();
	test_errors();
	test_prefixes();
	test_pipeline();
	test_normalize();
	test_uint();
	test_format();
	test_random();
	return done_testing();
}
