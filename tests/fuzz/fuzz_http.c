/*
 * fuzz_http.c - libFuzzer target for the request parser: http_parse_request,
 * http_parse_message, http_parse_chunked and http_normalize_path, each on
 * the whole input. Not part of "make check": "make fuzz" builds it with
 * clang's fuzzer and sanitizers, then e.g.
 *     tests/fuzz/fuzz_http -max_total_time=60 -max_len=20000 tests/fuzz/corpus/http
 * (tests/fuzz/fuzz_http_split.c feeds the same bytes in random pieces.)
 * Besides memory errors it aborts on broken contracts: a length beyond the
 * input, an unknown error status, a message that does not parse the same
 * when cut at its own length, an accepted request that breaks a strictness
 * rule (a byte the target may not hold, a bare CR or LF, HTTP/1.1 without a
 * valid Host), body lengths that do not add up, or a normalised path with a
 * dot segment, an empty segment or a control byte left in it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "http.h"

static bool
known_status(int st)
{
	return st == 400 || st == 413 || st == 414 || st == 431 || st == 501 ||
	    st == 505;
}

/* What an accepted head must be, whatever the bytes were. */
static void
check_head(const char *buf, int n, const struct http_request *r)
{
	size_t i;

	if (r->target_len == 0 || r->target_len > HTTP_MAX_TARGET ||
	    r->method_len == 0 || r->method_len > HTTP_MAX_METHOD ||
	    (r->minor != 0 && r->minor != 1))
		abort();
	for (i = 0; i < r->target_len; i++) {
		unsigned char c = r->target[i];

		if (c <= 0x20 || c >= 0x7f || c == '#' || c == '"' ||
		    c == '<' || c == '>')
			abort();
	}
	/* CRLF only: no bare LF, no bare CR anywhere in the head */
	for (i = 0; i < (size_t)n; i++) {
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			abort();
		if (buf[i] == '\r' && (i + 1 == (size_t)n || buf[i + 1] != '\n'))
			abort();
	}
	if (r->minor == 1 && r->host == NULL)
		abort();
	if (r->host != NULL && (r->host_len == 0 ||
	    memchr(r->host, '@', r->host_len) != NULL ||
	    memchr(r->host, ',', r->host_len) != NULL ||
	    memchr(r->host, '/', r->host_len) != NULL ||
	    memchr(r->host, ' ', r->host_len) != NULL))
		abort();
	if (r->has_body != (r->chunked || r->content_length > 0))
		abort();
	if (r->chunked && (r->minor != 1 || r->content_length != 0))
		abort();
}

/* The body bytes http_parse_message leaves to its caller. */
static uint64_t
body_left(const struct http_request *m)
{
	if (!m->has_body || m->chunked)
		return 0;
	if (m->expect_continue || m->content_length > HTTP_MAX_BODY_HELD)
		return m->content_length;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_request r, r2, m;
	char out[HTTP_MAX_TARGET + 1];
	const char *v;
	size_t vl;
	int n, h, st, st2, b;

	h = http_parse_request(buf, size, &r, &st);
	if (h == -1) {
		if (!known_status(st) || st == 413)
			abort();
	} else if (h != -2) {
		if (h <= 0 || (size_t)h > size || h > HTTP_MAX_HEAD)
			abort();
		if (http_parse_request(buf, h, &r2, &st2) != h ||
		    r2.keep_alive != r.keep_alive ||
		    r2.content_length != r.content_length)
			abort();
		check_head(buf, h, &r);
		n = http_normalize_path(r.path, r.path_len, out, sizeof(out));
		if (n >= 0)
			fuzz_check_path(out, n);
		(void)http_query_get(r.query, r.query_len, "n", &v, &vl);
	}

	/* the message: the head, plus the body when it is read with it */
	n = http_parse_message(buf, size, &m, &st);
	if (n == -1 && !known_status(st))
		abort();
	if (n >= 0 && h < 0)
		abort();		/* a message without a head */
	if (h == -1 && n != -1)
		abort();		/* a bad head is a bad message */
	if (n > 0) {
		if ((size_t)n > size || n < h)
			abort();
		if (http_parse_message(buf, n, &r2, &st2) != n)
			abort();
		if (!m.has_body || m.expect_continue)
			b = 0;
		else if (m.chunked)
			b = http_parse_chunked(buf + h, n - h,
			    HTTP_MAX_BODY_HELD, &st2);
		else
			b = m.content_length > HTTP_MAX_BODY_HELD ? 0 :
			    (int)m.content_length;
		if (n != h + b)
			abort();
		if (m.body_left != body_left(&m))
			abort();
	}

	/* the whole input as a chunked body and as a path, too */
	b = http_parse_chunked(buf, size, size, &st);
	if (b >= 0 && ((size_t)b > size || http_parse_chunked(buf, b, b, &st2) != b))
		abort();
	if (b == -1 && st != 400 && st != 413)
		abort();
	b = http_parse_chunked(buf, size, size / 2, &st);
	if (b > (int)(size / 2) || (b == -1 && st != 400 && st != 413))
		abort();
	n = http_normalize_path(buf, size, out, sizeof(out));
	if (n >= 0)
		fuzz_check_path(out, n);
	else if (n != -1)
		abort();
	return 0;
}
