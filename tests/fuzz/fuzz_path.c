/*
 * fuzz_path.c - libFuzzer target for the path normaliser and percent-decoder
 * (http_normalize_path), checked against a plain reference written
 * differently: decode everything first, then split on '/' and apply the dot
 * segments with a stack. The first input byte picks the output capacity
 * (0: room for anything), the rest is the path; the output buffer is a heap
 * block of exactly that size so that ASan sees one byte too far.
 * Aborts when the two disagree, when a result has a dot segment, an empty
 * segment or a control byte, or when it does not fit the capacity.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "http.h"

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The reference: -1 or the length of the result in OUT (LEN + 2 bytes). */
static int
reference(const unsigned char *in, size_t len, char *out)
{
	unsigned char *d;
	size_t *stack, nd = 0, ns = 0, i, s, e, w;
	bool trailing = false;
	int hi, lo, rv = -1;

	if (len == 0 || in[0] != '/')
		return -1;
	d = malloc(len);
	stack = malloc((len + 1) * sizeof(*stack) * 2);
	if (d == NULL || stack == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (in[i] == '%') {
			if (i + 2 >= len || (hi = hexval(in[i + 1])) < 0 ||
			    (lo = hexval(in[i + 2])) < 0)
				goto done;
			d[nd] = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else
			d[nd] = in[i];
		if (d[nd] < 0x20 || d[nd] == 0x7f)
			goto done;
		nd++;
	}
	/* stack holds (start, end) pairs of the kept segments in d */
	for (s = 0; s < nd; s = e) {
		while (s < nd && d[s] == '/')
			s++;
		if (s == nd) {
			trailing = true;
			break;
		}
		for (e = s; e < nd && d[e] != '/'; e++)
			;
		trailing = false;
		if (e - s == 1 && d[s] == '.')
			trailing = true;
		else if (e - s == 2 && d[s] == '.' && d[s + 1] == '.') {
			if (ns == 0)
				goto done;
			ns--;
			trailing = true;
		} else {
			stack[2 * ns] = s;
			stack[2 * ns + 1] = e;
			ns++;
		}
	}
	w = 0;
	for (i = 0; i < ns; i++) {
		out[w++] = '/';
		memcpy(out + w, d + stack[2 * i], stack[2 * i + 1] - stack[2 * i]);
		w += stack[2 * i + 1] - stack[2 * i];
	}
	if (ns == 0 || trailing)
		out[w++] = '/';
	out[w] = '\0';
	rv = (int)w;
done:
	free(d);
	free(stack);
	return rv;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t len, cap;
	char *ref, *out;
	int n, r;

	if (size < 1)
		return 0;
	len = size - 1;
	cap = data[0] != 0 ? data[0] : len + 2;
	ref = malloc(len + 2);
	out = malloc(cap);
	if (ref == NULL || out == NULL)
		abort();
	r = reference((const unsigned char *)in, len, ref);
	n = http_normalize_path(in, len, out, cap);
	if (n >= 0) {
		fuzz_check_path(out, n);
		if ((size_t)n >= cap || r != n || memcmp(out, ref, (size_t)n) != 0)
			abort();
	} else if (n != -1)
		abort();
	else if (r >= 0 && cap >= len + 2)
		abort();	/* room for anything, yet refused */
	free(ref);
	free(out);
	return 0;
}
