/*
 * escape.c - \xNN escaping of untrusted text for messages; see escape.h.
 *
 * Valid UTF-8 passes through so that a path in another script stays
 * readable; only what a terminal could act on (C0 and C1 controls, DEL) or
 * what is not text at all is escaped.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"

/* Length of the valid UTF-8 sequence at S that is not a C1 control, else 0. */
static size_t
escape_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* the second byte's range excludes overlongs, surrogates, > U+10FFFF */
	if (c == 0xc2)
		lo = 0xa0;	/* U+0080..U+009F are the C1 controls */
	else if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

size_t
escape_str(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t at = 0, n;

	if (dstlen == 0)
		return 0;
	while (*s != '\0') {
		if (*s >= 0x20 && *s < 0x7f)
			n = 1;
		else if (*s >= 0x80 && (n = escape_utf8_len(s)) > 0)
			;
		else {
			if (at + 4 >= dstlen)
				break;
			dst[at++] = '\\';
			dst[at++] = 'x';
			dst[at++] = hex[*s >> 4];
			dst[at++] = hex[*s & 0xf];
			s++;
			continue;
		}
		if (at + n >= dstlen)
			break;
		memcpy(dst + at, s, n);
		at += n;
		s += n;
	}
	dst[at] = '\0';
	return at;
}

void
escape_inplace(char *buf, size_t buflen)
{
	unsigned char *p;
	char *copy;

	if (buflen == 0)
		return;
	if ((copy = strdup(buf)) == NULL) {
		/* out of memory: still nothing a terminal would act on */
		for (p = (unsigned char *)buf; *p != '\0'; p++)
			if (*p < 0x20 || *p >= 0x7f)
				*p = '?';
		return;
	}
	escape_str(buf, buflen, copy);
	free(copy);
}
