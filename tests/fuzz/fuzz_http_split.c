/*
 * fuzz_http_split.c - libFuzzer target: the request parser fed the way a
 * connection feeds it. The input is a stream of pipelined requests; it is
 * parsed once whole and once as it would arrive in pieces, cut at points
 * drawn from a hash of the input (so the seeds of tests/fuzz/corpus/http
 * serve here too), re-parsing from the current request's start after each
 * piece as conn_serve does. Both must give the same sequence of requests
 * (lengths, methods, targets, framing) and the same final answer: that is
 * the incremental contract ("every prefix gives -2 or the whole's answer")
 * over whole streams. Built and run like tests/fuzz/fuzz_http.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CUTS	32
#define MAX_RESULTS	64

/* One parse's outcome, as far as a caller can tell. */
struct result {
	int		 n;
	int		 status;
	size_t		 off;		/* where the request started */
	enum http_method method;
	size_t		 target_off, target_len;
	bool		 keep_alive, chunked, expect;
	uint64_t	 content_length, body_left;
};

static void
record(struct result *res, int n, int st, size_t off, const char *buf,
    const struct http_request *r)
{
	memset(res, 0, sizeof(*res));
	res->n = n;
	res->status = n == -1 ? st : 0;
	res->off = off;
	if (n <= 0)
		return;
	res->method = r->method;
	res->target_off = (size_t)(r->target - buf);
	res->target_len = r->target_len;
	res->keep_alive = r->keep_alive;
	res->chunked = r->chunked;
	res->expect = r->expect_continue;
	res->content_length = r->content_length;
	res->body_left = r->body_left;
}

/*
 * Parses BUF[0..SIZE) as it arrives at the cut points CUTS (ascending, the
 * last one SIZE). Stops at a rejected request, as a connection closes.
 */
static size_t
run(const char *buf, const size_t *cuts, size_t ncuts, struct result *out)
{
	struct http_request r;
	size_t off = 0, nres = 0, i;
	int n, st;

	for (i = 0; i < ncuts; i++) {
		for (;;) {
			n = http_parse_message(buf + off, cuts[i] - off, &r, &st);
			if (n == -2)
				break;
			if (nres == MAX_RESULTS)
				return nres;
			record(&out[nres++], n, st, off, buf, &r);
			if (n < 0)
				return nres;
			off += (size_t)n;
			if (n == 0 || off == cuts[i])
				break;
		}
	}
	/* what is left over is incomplete: say so once, as -2 */
	if (off < cuts[ncuts - 1] && nres < MAX_RESULTS)
		record(&out[nres++], -2, 0, off, buf, &r);
	return nres;
}

static uint64_t
mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result whole[MAX_RESULTS], split[MAX_RESULTS];
	const char *buf = (const char *)data;
	size_t cuts[MAX_CUTS + 1], ncuts, nwhole, nsplit, i, k;
	uint64_t seed = 1469598103934665603ULL;

	if (size == 0)
		return 0;
	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 1099511628211ULL;

	cuts[0] = size;
	nwhole = run(buf, cuts, 1, whole);

	/* a few draws of cut points, and byte by byte for short inputs */
	for (k = 0; k < 4; k++) {
		if (k == 3 && size <= MAX_CUTS) {
			for (i = 0; i < size; i++)
				cuts[i] = i + 1;
			ncuts = size;
		} else {
			ncuts = 1 + mix(&seed) % MAX_CUTS;
			for (i = 0; i + 1 < ncuts; i++)
				cuts[i] = 1 + mix(&seed) % size;
			cuts[ncuts - 1] = size;
			qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);
		}
		nsplit = run(buf, cuts, ncuts, split);
		if (nsplit != nwhole ||
		    memcmp(split, whole, nwhole * sizeof(whole[0])) != 0)
			abort();
	}
	return 0;
}
