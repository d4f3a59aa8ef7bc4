/*
 * fuzz_http.c - libFuzzer target for http_parse_request and
 * http_normalize_path. Not part of "make check": "make fuzz" builds it with
 * clang's fuzzer and sanitizers, then e.g.
 *     tests/fuzz/fuzz_http -max_total_time=60 -max_len=20000 tests/fuzz/corpus/http
 * Besides memory errors it aborts on broken contracts: a length beyond the
 * input, an unknown error status, a head that does not parse the same when
 * cut at its own length, or a normalised path with a dot segment, an empty
 * segment or a control byte left in it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_normalized(const char *p, int n)
{
	int i;

	if (n < 1 || p[0] != '/' || p[n] != '\0' || (int)strlen(p) != n)
		abort();
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c < 0x20 || c == 0x7f)
			abort();
		if (c != '/')
			continue;
		/* no "//", no "/./", no "/../", including at the end */
		if (i + 1 < n && p[i + 1] == '/')
			abort();
		if (p[i + 1] == '.' && (p[i + 2] == '/' || p[i + 2] == '\0'))
			abort();
		if (p[i + 1] == '.' && p[i + 2] == '.' &&
		    (p[i + 3] == '/' || p[i + 3] == '\0'))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_request r, r2;
	char out[HTTP_MAX_TARGET + 1];
	const char *v;
	size_t vl;
	int n, st, st2;

	n = http_parse_request(buf, size, &r, &st);
	if (n == -1) {
		if (st != 400 && st != 414 && st != 431 && st != 501 &&
		    st != 505)
			abort();
	} else if (n != -2) {
		if (n <= 0 || (size_t)n > size || n > HTTP_MAX_HEAD)
			abort();
		if (http_parse_request(buf, n, &r2, &st2) != n ||
		    r2.keep_alive != r.keep_alive ||
		    r2.content_length != r.content_length)
			abort();
		if (r.target_len == 0 || r.target_len > HTTP_MAX_TARGET ||
		    r.method_len == 0 || r.method_len > HTTP_MAX_METHOD ||
		    (r.minor != 0 && r.minor != 1))
			abort();
		if (r.minor == 1 && r.host == NULL)
			abort();
		if (r.has_body != (r.chunked || r.content_length > 0))
			abort();
		n = http_normalize_path(r.path, r.path_len, out, sizeof(out));
		if (n >= 0)
			check_normalized(out, n);
		(void)http_query_get(r.query, r.query_len, "n", &v, &vl);
	}

	/* the whole input as a path, too */
	n = http_normalize_path(buf, size, out, sizeof(out));
	if (n >= 0)
		check_normalized(out, n);
	else if (n != -1)
		abort();
	return 0;
}
