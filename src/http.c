/*
 * http.c - HTTP/1.1 request messages (RFC 9112) and response heads.
 *
 * The parser is pure and stateless in the manner of picohttpparser: each call
 * parses BUF from its start, so a caller feeds it whatever it has read so far
 * and calls again after the next read. Scanning is a loop over one character
 * class table per field (no per-byte calls), and stops at the first error, so
 * every prefix of a request gives either -2 or the same answer as the whole.
 * Nothing is copied: the request's strings point into BUF.
 *
 * Where RFC 9112 lets a server choose, it takes the strict side (lfserver(8),
 * docs/CONFORMANCE.md): a line ends with CRLF only (a bare LF is 400), obs-fold
 * is 400, and the request-target holds no byte outside printable ASCII and no
 * '#', '"', '<' or '>'. Empty lines before the request line are skipped
 * (RFC 9112 2.2) and the absolute-form is accepted (RFC 9112 3.2.2: a server
 * MUST), its authority then standing for Host.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"

/* Character classes of request bytes. */
#define C_TCHAR		0x01	/* token (RFC 9110 5.6.2): methods, field names */
#define C_TARGET	0x02	/* request-target: see above */
#define C_VALUE		0x04	/* field-value: VCHAR, obs-text, SP, HTAB */

#define C_TV	(C_TARGET | C_VALUE)
#define C_TTV	(C_TCHAR | C_TARGET | C_VALUE)

/* Written as disjoint ranges: overlapping designators trip -Woverride-init. */
static const unsigned char http_ctype[256] = {
	['\t'] = C_VALUE,	[' '] = C_VALUE,
	['!'] = C_TTV,		['"'] = C_VALUE,
	['#'] = C_TCHAR | C_VALUE,
	['$' ... '\''] = C_TTV,	['(' ... ')'] = C_TV,
	['*' ... '+'] = C_TTV,	[','] = C_TV,
	['-' ... '.'] = C_TTV,	['/'] = C_TV,
	['0' ... '9'] = C_TTV,	[':' ... ';'] = C_TV,
	['<'] = C_VALUE,	['='] = C_TV,
	['>'] = C_VALUE,	['?' ... '@'] = C_TV,
	['A' ... 'Z'] = C_TTV,	['[' ... ']'] = C_TV,
	['^' ... 'z'] = C_TTV,	['{'] = C_TV,
	['|'] = C_TTV,		['}'] = C_TV,
	['~'] = C_TTV,
	[0x80 ... 0xff] = C_VALUE,
};

/*
 * uri-host bytes (RFC 3986 reg-name and IPv4address): unreserved and
 * sub-delims, but not ',' so that a list of hosts is never one host.
 */
static const unsigned char http_hostc[256] = {
	['!'] = 1, ['$'] = 1, ['&' ... '+'] = 1, ['-' ... '.'] = 1,
	['0' ... '9'] = 1, [';'] = 1, ['='] = 1, ['A' ... 'Z'] = 1, ['_'] = 1,
	['a' ... 'z'] = 1, ['~'] = 1,
};

static const struct {
	const char	*name;
	size_t		 len;
} http_methods[] = {
	[HTTP_GET] =		{ "GET", 3 },
	[HTTP_HEAD] =		{ "HEAD", 4 },
	[HTTP_POST] =		{ "POST", 4 },
	[HTTP_PUT] =		{ "PUT", 3 },
	[HTTP_DELETE] =		{ "DELETE", 6 },
	[HTTP_CONNECT] =	{ "CONNECT", 7 },
	[HTTP_OPTIONS] =	{ "OPTIONS", 7 },
	[HTTP_TRACE] =		{ "TRACE", 5 },
	[HTTP_PATCH] =		{ "PATCH", 5 },
	[HTTP_METHOD_OTHER] =	{ "OTHER", 5 },
};

/* Indexed by status code: O(1) and no if-chain. */
static const char *const http_reasons[600] = {
	[200] = "OK",
	[204] = "No Content",
	[206] = "Partial Content",
	[301] = "Moved Permanently",
	[302] = "Found",
	[304] = "Not Modified",
	[400] = "Bad Request",
	[403] = "Forbidden",
	[404] = "Not Found",
	[405] = "Method Not Allowed",
	[408] = "Request Timeout",
	[411] = "Length Required",
	[412] = "Precondition Failed",
	[413] = "Content Too Large",
	[414] = "URI Too Long",
	[416] = "Range Not Satisfiable",
	[431] = "Request Header Fields Too Large",
	[500] = "Internal Server Error",
	[501] = "Not Implemented",
	[503] = "Service Unavailable",
	[505] = "HTTP Version Not Supported",
};

/*
 * Word-at-a-time skipping over the long runs (targets, field values): true
 * when none of the 8 bytes of X is below LO or is DEL. The "has less" test
 * is exact for whether any byte qualifies, which is all that is asked; the
 * byte loop after it finds which one.
 */
#define SWAR_ONES	0x0101010101010101ULL
#define SWAR_HIGHS	0x8080808080808080ULL

static inline bool
http_swar_plain(uint64_t x, unsigned lo)
{
	uint64_t del = x ^ (SWAR_ONES * 0x7f);

	return ((((x - SWAR_ONES * lo) & ~x) | ((del - SWAR_ONES) & ~del)) &
	    SWAR_HIGHS) == 0;
}

static inline const unsigned char *
http_skip_plain(const unsigned char *p, const unsigned char *lim, unsigned lo)
{
	uint64_t x;

	while (lim - p >= 8) {
		memcpy(&x, p, 8);
		if (!http_swar_plain(x, lo))
			break;
		p += 8;
	}
	return p;
}

/*
 * The same for a target: no byte below '$' (controls, SP, '"', '#', and '!'
 * which the byte loop then takes), none from 0x7f up, no '<' or '>' (which
 * | 0x02 makes both 0x3e). Each term is exact once no byte has its high bit.
 */
static inline const unsigned char *
http_skip_target(const unsigned char *p, const unsigned char *lim)
{
	uint64_t x, del, angle;

	while (lim - p >= 8) {
		memcpy(&x, p, 8);
		del = x ^ (SWAR_ONES * 0x7f);
		angle = (x | (SWAR_ONES * 0x02)) ^ (SWAR_ONES * 0x3e);
		if (((x | (x - SWAR_ONES * '$') | (del - SWAR_ONES) |
		    (angle - SWAR_ONES)) & SWAR_HIGHS) != 0)
			break;
		p += 8;
	}
	return p;
}

static enum http_method
http_method_lookup(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < HTTP_METHOD_OTHER; i++)
		if (http_methods[i].len == len &&
		    memcmp(http_methods[i].name, s, len) == 0)
			return i;
	return HTTP_METHOD_OTHER;
}

/*
 * Case-insensitive compare of a token against a lower-case literal. Folding
 * with | 0x20 is exact here: no token byte other than a letter folds onto a
 * letter, a digit or '-', and every literal byte has 0x20 set already. Done
 * a word at a time (overlapping at the end): field names are compared on
 * every header line.
 */
static inline bool
http_token_eq(const unsigned char *s, const char *lit, size_t len)
{
	uint64_t a, b;
	uint32_t c, d;
	size_t i;

	if (len >= 8) {
		for (i = 0; i + 8 < len; i += 8) {
			memcpy(&a, s + i, 8);
			memcpy(&b, lit + i, 8);
			if ((a | SWAR_ONES * 0x20) != b)
				return false;
		}
		memcpy(&a, s + len - 8, 8);
		memcpy(&b, lit + len - 8, 8);
		return (a | SWAR_ONES * 0x20) == b;
	}
	if (len >= 4) {
		memcpy(&c, s, 4);
		memcpy(&d, lit, 4);
		if ((c | 0x20202020u) != d)
			return false;
		memcpy(&c, s + len - 4, 4);
		memcpy(&d, lit + len - 4, 4);
		return (c | 0x20202020u) == d;
	}
	for (i = 0; i < len; i++)
		if ((s[i] | 0x20) != (unsigned char)lit[i])
			return false;
	return true;
}

static inline int
http_hexval(unsigned char c)
{
	if ((unsigned)(c - '0') <= 9)
		return c - '0';
	c |= 0x20;
	if ((unsigned)(c - 'a') <= 5)
		return c - 'a' + 10;
	return -1;
}

/* Content-Length: 1*DIGIT. No lists: "5, 5" is rejected, as nginx does. */
static bool
http_parse_length(const unsigned char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned d = s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * Calls FN on each element of a comma-separated list (RFC 9110 5.6.1), OWS
 * trimmed; empty elements are skipped as that section asks. Stops at the
 * first element FN refuses and returns false.
 */
static bool
http_list_each(const unsigned char *s, size_t len,
    bool (*fn)(const unsigned char *, size_t, void *), void *arg)
{
	const unsigned char *p = s, *end = s + len, *tok, *tend;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		tok = p;
		while (p < end && *p != ',')
			p++;
		tend = p;
		while (tend > tok && (tend[-1] == ' ' || tend[-1] == '\t'))
			tend--;
		if (tend > tok && !fn(tok, tend - tok, arg))
			return false;
	}
	return true;
}

/*
 * uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2): a reg-name or IPv4
 * address, or an IP-literal in brackets; a port of at most 65535. No
 * userinfo, no path, never empty (RFC 9110 4.2.1: an http URI's host is not).
 */
static bool
http_valid_authority(const unsigned char *s, size_t len, bool need_port)
{
	const unsigned char *p = s, *end = s + len, *port;
	unsigned long n = 0;

	if (p < end && *p == '[') {
		/* IPv6address or IPvFuture: their characters, not their grammar */
		for (p++; p < end && *p != ']'; p++)
			if (!http_hostc[*p] && *p != ':')
				return false;
		if (p == end || p == s + 1)
			return false;
		p++;
	} else {
		/* a tight loop over the common bytes: Host is on every request */
		for (;;) {
			while (p < end && http_hostc[*p])
				p++;
			if (p == end || *p != '%')
				break;
			if (end - p < 3 || http_hexval(p[1]) < 0 ||
			    http_hexval(p[2]) < 0)
				return false;
			p += 3;
		}
		if (p == s)
			return false;
	}
	if (p == end)
		return !need_port;
	if (*p++ != ':' || end - p > 5)
		return false;
	for (port = p; p < end; p++) {
		if ((unsigned)(*p - '0') > 9)
			return false;
		n = n * 10 + (*p - '0');
	}
	return n <= 65535 && (p > port || !need_port);
}

/*
 * Splits the request-target into path and query (RFC 9112 3.2). Origin-form
 * "/p?q" is the rule; absolute-form "http://authority/p?q" keeps its path
 * ("/" if none) and sets *AUTH; asterisk-form is OPTIONS-only and
 * authority-form CONNECT-only, and both leave the whole target as the path.
 */
static bool
http_split_target(struct http_request *req, const char **auth,
    size_t *auth_len)
{
	const char *t = req->target, *end = t + req->target_len, *p, *q;

	if (*t == '/')
		p = t;
	else if (req->target_len == 1 && *t == '*') {
		if (req->method != HTTP_OPTIONS)
			return false;
		req->path = t;
		req->path_len = 1;
		req->query = end;
		return true;
	} else if ((req->target_len > 7 &&
	    http_token_eq((const unsigned char *)t, "http://", 7)) ||
	    (req->target_len > 8 &&
	    http_token_eq((const unsigned char *)t, "https://", 8))) {
		p = memchr(t, ':', req->target_len) + 3;
		q = p;
		while (p < end && *p != '/' && *p != '?')
			p++;
		if (!http_valid_authority((const unsigned char *)q, p - q, false))
			return false;
		*auth = q;
		*auth_len = p - q;
		if (p == end || *p == '?') {
			/* "http://host" or "http://host?q": the path is "/" */
			req->path = "/";
			req->path_len = 1;
			req->query = p < end ? p + 1 : end;
			req->query_len = p < end ? (size_t)(end - p - 1) : 0;
			return true;
		}
	} else if (req->method == HTTP_CONNECT) {
		if (!http_valid_authority((const unsigned char *)t,
		    req->target_len, true))
			return false;
		req->path = t;
		req->path_len = req->target_len;
		req->query = end;
		return true;
	} else
		return false;

	q = memchr(p, '?', end - p);
	req->path = p;
	if (q == NULL) {
		req->path_len = end - p;
		req->query = end;
		req->query_len = 0;
	} else {
		req->path_len = q - p;
		req->query = q + 1;
		req->query_len = end - q - 1;
	}
	return true;
}

/* One request head being parsed, and what its fields said so far. */
struct http_scan {
	const unsigned char	*p;		/* the next byte */
	const unsigned char	*end;		/* no byte from here on is read */
	int			 more;		/* out of bytes: 0 "need more", else this status */
	int			 status;	/* the answer when -1 */
	const char		*auth;		/* absolute-form authority */
	size_t			 auth_len;
	bool			 cl;		/* Content-Length seen */
	bool			 te;		/* Transfer-Encoding seen */
	bool			 te_chunked;	/* ... and chunked was its last coding */
	bool			 te_other;	/* ... a coding other than chunked */
	bool			 conn_close, conn_keep;
};

static inline int
http_out_of_bytes(struct http_scan *s)
{
	if (s->more == 0)
		return -2;
	s->status = s->more;
	return -1;
}

static inline int
http_invalid(struct http_scan *s, int status)
{
	s->status = status;
	return -1;
}

/* Consumes CRLF (RFC 9112 2.2: no bare LF, no bare CR). */
static inline int
http_crlf(struct http_scan *s)
{
	if (s->end - s->p < 2) {
		if (s->p < s->end && *s->p != '\r')
			return http_invalid(s, 400);
		return http_out_of_bytes(s);
	}
	if (s->p[0] != '\r' || s->p[1] != '\n')
		return http_invalid(s, 400);
	s->p += 2;
	return 0;
}

/*
 * request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 3),
 * after any empty lines (2.2).
 */
static int
http_request_line(struct http_scan *s, struct http_request *req)
{
	const unsigned char *p, *tok, *lim, *end = s->end;
	unsigned minor;
	int r;

	while (s->p < end && *s->p == '\r')
		if ((r = http_crlf(s)) != 0)
			return r;
	p = s->p;

	/*
	 * method SP. A method longer than any we implement is 501 (RFC 9112
	 * 3) once it is seen whole, which the request line's limit bounds.
	 */
	tok = p;
	lim = end - p > HTTP_MAX_LINE ? p + HTTP_MAX_LINE : end;
	while (p < lim && (http_ctype[*p] & C_TCHAR))
		p++;
	if (p == end)
		return http_out_of_bytes(s);
	if (p == lim || *p != ' ' || p == tok)
		return http_invalid(s, 400);
	req->method_str = (const char *)tok;
	req->method_len = p - tok;
	if (req->method_len > HTTP_MAX_METHOD) {
		req->method = HTTP_METHOD_OTHER;
		return http_invalid(s, 501);
	}
	req->method = http_method_lookup(req->method_str, req->method_len);
	p++;

	/* request-target SP */
	tok = p;
	lim = end - p > HTTP_MAX_TARGET ? p + HTTP_MAX_TARGET + 1 : end;
	p = http_skip_target(p, lim);
	while (p < lim && (http_ctype[*p] & C_TARGET))
		p++;
	if (p - tok > HTTP_MAX_TARGET)
		return http_invalid(s, 414);
	if (p == end)
		return http_out_of_bytes(s);
	if (*p != ' ' || p == tok)
		return http_invalid(s, 400);
	req->target = (const char *)tok;
	req->target_len = p - tok;
	if (!http_split_target(req, &s->auth, &s->auth_len))
		return http_invalid(s, 400);
	p++;

	/* HTTP-version = "HTTP/" DIGIT "." DIGIT */
	for (tok = (const unsigned char *)"HTTP/"; *tok != '\0'; tok++, p++) {
		if (p == end)
			return http_out_of_bytes(s);
		if (*p != *tok)
			return http_invalid(s, 400);
	}
	if (end - p < 3)
		return http_out_of_bytes(s);
	if ((unsigned)(p[0] - '0') > 9 || p[1] != '.' ||
	    (unsigned)(p[2] - '0') > 9)
		return http_invalid(s, 400);
	minor = p[2] - '0';
	tok = p;
	s->p = p + 3;
	if ((r = http_crlf(s)) != 0)
		return r;
	/* RFC 9110 6.2 and 2.5: 505 is for a major version; 1.x is served as 1.1 */
	if (tok[0] != '1')
		return http_invalid(s, 505);
	req->minor = minor > 1 ? 1 : (int)minor;
	return 0;
}

/* One coding of Transfer-Encoding; false stops at a malformed one. */
static bool
http_te_coding(const unsigned char *c, size_t len, void *arg)
{
	struct http_scan *s = arg;
	size_t i;

	for (i = 0; i < len; i++)
		if (!(http_ctype[c[i]] & C_TCHAR))
			return false;	/* parameters too: chunked has none */
	if (len == 7 && http_token_eq(c, "chunked", 7)) {
		if (s->te_chunked)
			return false;	/* RFC 9112 6.1: chunked only once */
		s->te_chunked = true;
		return true;
	}
	if (s->te_chunked)
		return false;		/* a coding after chunked */
	s->te_other = true;
	return true;
}

static bool
http_connection_option(const unsigned char *o, size_t len, void *arg)
{
	struct http_scan *s = arg;

	if (len == 5 && http_token_eq(o, "close", 5))
		s->conn_close = true;
	else if (len == 10 && http_token_eq(o, "keep-alive", 10))
		s->conn_keep = true;
	return true;
}

static bool
http_expectation(const unsigned char *e, size_t len, void *arg)
{
	bool *cont = arg;

	if (len == 12 && http_token_eq(e, "100-continue", 12))
		*cont = true;
	return true;
}

/* What one header field means to us; most mean nothing. */
static int
http_field(struct http_scan *s, struct http_request *req,
    const unsigned char *name, size_t nlen, const unsigned char *val,
    size_t vlen)
{
	uint64_t n;

	/* Only a handful of fields matter; the length picks the candidate. */
	switch (nlen) {
	case 4:
		if (!http_token_eq(name, "host", 4))
			break;
		/* RFC 9112 3.2: a second Host or an invalid one is 400 */
		if (req->host != NULL || !http_valid_authority(val, vlen, false))
			return http_invalid(s, 400);
		req->host = (const char *)val;
		req->host_len = vlen;
		break;
	case 5:
		if (http_token_eq(name, "range", 5)) {
			req->range = (const char *)val;
			req->range_len = vlen;
		}
		break;
	case 6:
		if (http_token_eq(name, "expect", 6))
			http_list_each(val, vlen, http_expectation,
			    &req->expect_continue);
		break;
	case 8:
		if (http_token_eq(name, "if-match", 8)) {
			req->if_match = (const char *)val;
			req->if_match_len = vlen;
		} else if (http_token_eq(name, "if-range", 8)) {
			req->if_range = (const char *)val;
			req->if_range_len = vlen;
		}
		break;
	case 10:
		if (http_token_eq(name, "connection", 10))
			http_list_each(val, vlen, http_connection_option, s);
		break;
	case 13:
		if (http_token_eq(name, "if-none-match", 13)) {
			req->if_none_match = (const char *)val;
			req->if_none_match_len = vlen;
		}
		break;
	case 14:
		if (!http_token_eq(name, "content-length", 14))
			break;
		if (!http_parse_length(val, vlen, &n) ||
		    (s->cl && n != req->content_length))
			return http_invalid(s, 400);
		s->cl = true;
		req->content_length = n;
		break;
	case 15:
		if (http_token_eq(name, "accept-encoding", 15)) {
			req->accept_encoding = (const char *)val;
			req->accept_encoding_len = vlen;
		}
		break;
	case 17:
		if (http_token_eq(name, "if-modified-since", 17)) {
			req->if_modified_since = (const char *)val;
			req->if_modified_since_len = vlen;
			break;
		}
		if (!http_token_eq(name, "transfer-encoding", 17))
			break;
		s->te = true;
		/* a coding after chunked, even on a later line, stops here */
		if (!http_list_each(val, vlen, http_te_coding, s))
			return http_invalid(s, 400);
		break;
	case 19:
		if (http_token_eq(name, "if-unmodified-since", 19)) {
			req->if_unmodified_since = (const char *)val;
			req->if_unmodified_since_len = vlen;
		}
		break;
	}
	return 0;
}

/* *( field-name ":" OWS field-value OWS CRLF ) CRLF (RFC 9112 5) */
static int
http_header_fields(struct http_scan *s, struct http_request *req)
{
	const unsigned char *name, *val, *vend, *end = s->end;
	size_t nlen;
	int r;

	for (;;) {
		const unsigned char *p = s->p;

		if (p == end)
			return http_out_of_bytes(s);
		if (*p == '\r')
			return http_crlf(s);
		if (req->nheaders == HTTP_MAX_HEADERS)
			return http_invalid(s, 431);
		name = p;
		while (p < end && (http_ctype[*p] & C_TCHAR))
			p++;
		if (p == end)
			return http_out_of_bytes(s);
		/* covers "Name :", obs-fold (a line that starts with SP/HT), bare LF */
		if (*p != ':' || p == name)
			return http_invalid(s, 400);
		nlen = p - name;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		val = p;
		p = http_skip_plain(p, end, 0x20);
		while (p < end && (http_ctype[*p] & C_VALUE))
			p++;
		vend = p;
		s->p = p;
		if ((r = http_crlf(s)) != 0)
			return r;
		while (vend > val && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		req->nheaders++;
		if ((r = http_field(s, req, name, nlen, val, vend - val)) != 0)
			return r;
	}
}

/*
 * The message's framing (RFC 9112 6.3) and the rest of what the head as a
 * whole decides. Only Transfer-Encoding: chunked is taken, alone, in 1.1.
 */
static int
http_head_end(struct http_scan *s, struct http_request *req)
{
	if (s->te) {
		/* 6.1: in 1.0 it means faulty framing; 6.3: with CL, smuggling */
		if (req->minor == 0 || s->cl || !s->te_chunked)
			return http_invalid(s, 400);
		if (s->te_other)
			return http_invalid(s, 501);	/* 6.1: SHOULD 501 */
	}
	if (req->minor == 1 && req->host == NULL)
		return http_invalid(s, 400);
	if (s->auth != NULL) {
		/* 3.2.2: the absolute-form's authority replaces Host */
		req->host = s->auth;
		req->host_len = s->auth_len;
	}
	if (req->minor == 0)
		req->expect_continue = false;	/* RFC 9110 10.1.1: ignored */
	req->chunked = s->te;
	req->has_body = s->te || req->content_length > 0;
	if (s->conn_close)
		req->keep_alive = false;
	else
		req->keep_alive = req->minor == 1 || s->conn_keep;
	return 0;
}

int
http_parse_request(const char *buf, size_t len, struct http_request *req,
    int *status)
{
	const unsigned char *start = (const unsigned char *)buf;
	struct http_scan s = { .p = start };
	int r;

	memset(req, 0, sizeof(*req));
	/*
	 * Never look past HTTP_MAX_HEAD bytes. Running out of bytes means "send
	 * more" below the limit and 431 above it, so the answer for a prefix is
	 * -2 or the answer for the whole request.
	 */
	if (len > HTTP_MAX_HEAD) {
		s.end = start + HTTP_MAX_HEAD;
		s.more = 431;
	} else
		s.end = start + len;
	if ((r = http_request_line(&s, req)) != 0 ||
	    (r = http_header_fields(&s, req)) != 0 ||
	    (r = http_head_end(&s, req)) != 0) {
		*status = r == -1 ? s.status : 0;
		return r;
	}
	*status = 0;
	return (int)(s.p - start);
}

/* chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) */
static int
http_chunk_ext(struct http_scan *s)
{
	const unsigned char *p = s->p, *end = s->end, *ws;

	for (;;) {
		ws = p;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return http_out_of_bytes(s);
		if (*p != ';') {
			/* BWS only before ';': "5 \r\n" is not a chunk-size line */
			if (p != ws)
				return http_invalid(s, 400);
			s->p = p;
			return 0;
		}
		for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		ws = p;
		while (p < end && (http_ctype[*p] & C_TCHAR))
			p++;
		if (p == end)
			return http_out_of_bytes(s);
		if (p == ws)
			return http_invalid(s, 400);	/* "5;": no name */
		ws = p;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return http_out_of_bytes(s);
		if (*p != '=') {
			p = ws;
			continue;
		}
		for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		if (p == end)
			return http_out_of_bytes(s);
		if (*p == '"') {
			/* quoted-string: qdtext and quoted-pairs up to '"' */
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && ++p == end)
					break;
				if (!(http_ctype[*p] & C_VALUE))
					return http_invalid(s, 400);
			}
			if (p == end)
				return http_out_of_bytes(s);
			p++;
		} else {
			ws = p;
			while (p < end && (http_ctype[*p] & C_TCHAR))
				p++;
			if (p == end)
				return http_out_of_bytes(s);
			if (p == ws)
				return http_invalid(s, 400);
		}
	}
}

/*
 * chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 7.1).
 * Sizes are 1*HEXDIG and must fit 64 bits (7.1: no overflow); after each
 * chunk's data comes CRLF, so data longer than its size is 400 at once.
 */
int
http_parse_chunked(const char *buf, size_t len, size_t max, int *status)
{
	const unsigned char *start = (const unsigned char *)buf, *p, *tok;
	struct http_scan s = { .p = start, .end = start + len };
	uint64_t size;
	int d, r;

	/* as for a head: nothing past MAX is looked at */
	if (len > max) {
		s.end = start + max;
		s.more = 413;
	}

	for (;;) {
		p = tok = s.p;
		size = 0;
		while (p < s.end && (d = http_hexval(*p)) >= 0) {
			if (size >> 60 != 0) {
				r = http_invalid(&s, 400);
				goto out;
			}
			size = size << 4 | (unsigned)d;
			p++;
		}
		s.p = p;
		if (p == s.end) {
			r = http_out_of_bytes(&s);
			goto out;
		}
		if (p == tok) {
			r = http_invalid(&s, 400);
			goto out;
		}
		if ((r = http_chunk_ext(&s)) != 0 || (r = http_crlf(&s)) != 0)
			goto out;
		if (size == 0)
			break;
		if ((size_t)(start + max - s.p) < 2 ||
		    size > (size_t)(start + max - s.p) - 2) {
			r = http_invalid(&s, 413);
			goto out;
		}
		if ((uint64_t)(s.end - s.p) <= size) {
			r = http_out_of_bytes(&s);
			goto out;
		}
		s.p += size;
		if ((r = http_crlf(&s)) != 0)
			goto out;
	}
	/* trailer-section CRLF: field lines, checked as a head's and dropped */
	for (;;) {
		const unsigned char *name;

		p = s.p;
		if (p == s.end) {
			r = http_out_of_bytes(&s);
			goto out;
		}
		if (*p == '\r') {
			if ((r = http_crlf(&s)) != 0)
				goto out;
			break;
		}
		name = p;
		while (p < s.end && (http_ctype[*p] & C_TCHAR))
			p++;
		if (p == s.end) {
			r = http_out_of_bytes(&s);
			goto out;
		}
		if (*p != ':' || p == name) {
			r = http_invalid(&s, 400);
			goto out;
		}
		for (p++; p < s.end && (http_ctype[*p] & C_VALUE); p++)
			;
		s.p = p;
		if ((r = http_crlf(&s)) != 0)
			goto out;
	}
	*status = 0;
	return (int)(s.p - start);
out:
	*status = r == -1 ? s.status : 0;
	return r;
}

int
http_parse_message(const char *buf, size_t len, struct http_request *req,
    int *status)
{
	size_t rest;
	int h, b;

	h = http_parse_request(buf, len, req, status);
	if (h < 0 || !req->has_body)
		return h;
	rest = len - (size_t)h;
	if (req->expect_continue) {
		/* RFC 9110 10.1.1: answer now, the client may wait for us */
		req->body_left = req->chunked ? 0 : req->content_length;
		return h;
	}
	if (!req->chunked) {
		if (req->content_length > HTTP_MAX_BODY_HELD) {
			req->body_left = req->content_length;
			return h;
		}
		if (rest < req->content_length)
			return -2;
		return h + (int)req->content_length;
	}
	b = http_parse_chunked(buf + h, rest, HTTP_MAX_BODY_HELD, status);
	return b < 0 ? b : h + b;
}
static bool
http_if_match_tag(const unsigned char *t, size_t len, void *arg)
{
	const char *etag = arg;

	/* strong comparison: W/ tags never match */
	return !(len == 1 && t[0] == '*') && !(etag != NULL &&
	    strlen(etag) == len && etag[0] == '"' &&
	    memcmp(t, etag, len) == 0);
}

bool
http_if_match(const char *v, size_t len, const char *etag)
{
	/* http_list_each stops (false) at the first element that matches */
	return !http_list_each((const unsigned char *)v, len, http_if_match_tag,
	    (void *)etag);
}

/* The byte at IN[*I], percent-decoded; advances *I. -1 on a bad escape. */
static inline int
http_decode_at(const char *in, size_t len, size_t *i)
{
	int hi, lo;

	if (in[*i] != '%')
		return (unsigned char)in[(*i)++];
	if (len - *i < 3 || (hi = http_hexval(in[*i + 1])) < 0 ||
	    (lo = http_hexval(in[*i + 2])) < 0)
		return -1;
	*i += 3;
	return hi << 4 | lo;
}

/*
 * Decoding comes before segmenting, so "%2e%2e" and "..%2f" are dot segments
 * and separators like their plain forms and cannot climb out of the root.
 * OUT holds "" or "/a/b" between segments; a trailing '/' (or a trailing "."
 * or "..") is kept so the caller can tell a directory request.
 */
int
http_normalize_path(const char *in, size_t len, char *out, size_t outcap)
{
	size_t i = 0, j, w = 0, seg;
	bool dot;
	int c;

	if (len == 0 || in[0] != '/' || outcap < 2)
		return -1;
	for (;;) {
		/* a run of separators */
		while (i < len) {
			j = i;
			if ((c = http_decode_at(in, len, &j)) < 0)
				return -1;
			if (c != '/')
				break;
			i = j;
		}
		if (i == len) {
			if (w + 1 >= outcap)
				return -1;
			out[w++] = '/';
			break;
		}

		/* one segment, appended as "/seg" and then judged */
		seg = w;
		if (w + 1 >= outcap)
			return -1;
		out[w++] = '/';
		while (i < len) {
			j = i;
			if ((c = http_decode_at(in, len, &j)) < 0)
				return -1;
			if (c == '/')
				break;
			if (c < 0x20 || c == 0x7f)
				return -1;
			if (w + 1 >= outcap)
				return -1;
			out[w++] = c;
			i = j;
		}
		dot = false;
		if (w - seg == 2 && out[seg + 1] == '.') {
			w = seg;
			dot = true;
		} else if (w - seg == 3 && out[seg + 1] == '.' &&
		    out[seg + 2] == '.') {
			if (seg == 0)
				return -1;	/* above the root */
			w = seg;
			while (out[--w] != '/')
				;
			dot = true;
		}
		if (i == len) {
			if (dot || w == 0)
				out[w++] = '/';
			break;
		}
	}
	out[w] = '\0';
	return (int)w;
}

bool
http_query_get(const char *q, size_t qlen, const char *name, const char **val,
    size_t *vlen)
{
	const char *p = q, *end = q + qlen, *amp, *eq, *nend;
	size_t nl = strlen(name);

	if (q == NULL)
		return false;
	while (p < end) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		eq = memchr(p, '=', amp - p);
		nend = eq != NULL ? eq : amp;
		if ((size_t)(nend - p) == nl && memcmp(p, name, nl) == 0) {
			*val = eq != NULL ? eq + 1 : amp;
			*vlen = eq != NULL ? (size_t)(amp - eq - 1) : 0;
			return true;
		}
		p = amp + 1;
	}
	return false;
}

int
http_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

const char *
http_reason(int status)
{
	if (status < 0 || status >= (int)(sizeof(http_reasons) /
	    sizeof(http_reasons[0])) || http_reasons[status] == NULL)
		return "Unknown";
	return http_reasons[status];
}

const char *
http_method_name(enum http_method m)
{
	if ((unsigned)m > HTTP_METHOD_OTHER)
		m = HTTP_METHOD_OTHER;
	return http_methods[m].name;
}

/*
 * Formatted by hand rather than with strftime: %a and %b follow LC_TIME, and
 * the IMF-fixdate wants the English names whatever the locale.
 */
static const char http_days[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char http_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/*
 * Formatted by hand rather than with strftime: %a and %b follow LC_TIME, and
 * the IMF-fixdate wants the English names whatever the locale.
 */
static bool
http_date_tm(time_t t, char *d)
{
	struct tm tm;
	int y;

	if (gmtime_r(&t, &tm) == NULL)
		return false;
	memcpy(d, http_days[tm.tm_wday], 3);
	d[3] = ',';
	d[4] = ' ';
	d[5] = '0' + tm.tm_mday / 10;
	d[6] = '0' + tm.tm_mday % 10;
	d[7] = ' ';
	memcpy(d + 8, http_months[tm.tm_mon], 3);
	d[11] = ' ';
	y = tm.tm_year + 1900;
	d[12] = '0' + y / 1000 % 10;
	d[13] = '0' + y / 100 % 10;
	d[14] = '0' + y / 10 % 10;
	d[15] = '0' + y % 10;
	d[16] = ' ';
	d[17] = '0' + tm.tm_hour / 10;
	d[18] = '0' + tm.tm_hour % 10;
	d[19] = ':';
	d[20] = '0' + tm.tm_min / 10;
	d[21] = '0' + tm.tm_min % 10;
	d[22] = ':';
	d[23] = '0' + tm.tm_sec / 10;
	d[24] = '0' + tm.tm_sec % 10;
	memcpy(d + 25, " GMT", 5);
	return true;
}

const char *
http_date_now(void)
{
	static __thread time_t last = -1;
	static __thread char date[32];
	time_t now = time(NULL);

	if (now == last)
		return date;
	if (!http_date_tm(now, date))
		return date[0] != '\0' ? date : "Thu, 01 Jan 1970 00:00:00 GMT";
	last = now;
	return date;
}

void
http_format_date(time_t t, char out[30])
{
	if (!http_date_tm(t, out))
		memcpy(out, "Thu, 01 Jan 1970 00:00:00 GMT", 30);
}

/* N digits at S as a number, or -1. */
static int
http_date_num(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((unsigned)(s[i] - '0') > 9)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
http_date_month(const char *s)
{
	int i;

	for (i = 0; i < 12; i++)
		if (memcmp(s, http_months[i], 3) == 0)
			return i;
	return -1;
}

/* "HH:MM:SS" at S into TM. */
static bool
http_date_clock(const char *s, struct tm *tm)
{
	if (s[2] != ':' || s[5] != ':')
		return false;
	tm->tm_hour = http_date_num(s, 2);
	tm->tm_min = http_date_num(s + 3, 2);
	tm->tm_sec = http_date_num(s + 6, 2);
	return tm->tm_hour >= 0 && tm->tm_hour < 24 && tm->tm_min >= 0 &&
	    tm->tm_min < 60 && tm->tm_sec >= 0 && tm->tm_sec <= 60;
}

int
http_parse_date(const char *s, size_t len, time_t *out)
{
	struct tm tm;
	const char *p;
	time_t t;
	int y;

	memset(&tm, 0, sizeof(tm));
	if (len == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' &&
	    s[11] == ' ' && s[16] == ' ' && memcmp(s + 25, " GMT", 4) == 0) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		tm.tm_mday = http_date_num(s + 5, 2);
		tm.tm_mon = http_date_month(s + 8);
		y = http_date_num(s + 12, 4);
		if (!http_date_clock(s + 17, &tm))
			return -1;
	} else if (len == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' &&
	    s[19] == ' ') {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		tm.tm_mon = http_date_month(s + 4);
		tm.tm_mday = s[8] == ' ' ? http_date_num(s + 9, 1) :
		    http_date_num(s + 8, 2);
		y = http_date_num(s + 20, 4);
		if (!http_date_clock(s + 11, &tm))
			return -1;
	} else if ((p = memchr(s, ',', len)) != NULL &&
	    len - (size_t)(p - s) == 24 && p[1] == ' ' && p[4] == '-' &&
	    p[8] == '-' && p[11] == ' ' && memcmp(p + 20, " GMT", 4) == 0) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; RFC 9110 5.6.7
		 * reads a two-digit year more than 50 years ahead as past */
		tm.tm_mday = http_date_num(p + 2, 2);
		tm.tm_mon = http_date_month(p + 5);
		y = http_date_num(p + 9, 2);
		if (y >= 0)
			y += y < 70 ? 2000 : 1900;
		if (!http_date_clock(p + 12, &tm))
			return -1;
	} else
		return -1;
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_mon < 0 || y < 1970)
		return -1;
	tm.tm_year = y - 1900;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

/* A bounded writer: the first overflow sticks, so callers check once. */
struct http_out {
	char	*p;
	char	*end;
	bool	 full;
};

static inline void
http_put(struct http_out *o, const char *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n) {
		o->full = true;
		o->p = o->end;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

#define http_puts(o, lit)	http_put((o), (lit), sizeof(lit) - 1)

static inline void
http_put_str(struct http_out *o, const char *s)
{
	http_put(o, s, strlen(s));
}

static void
http_put_uint(struct http_out *o, uint64_t v)
{
	char tmp[20], *t = tmp + sizeof(tmp);

	do
		*--t = '0' + v % 10;
	while ((v /= 10) != 0);
	http_put(o, t, tmp + sizeof(tmp) - t);
}

/*
 * RFC 9110 8.6: no Content-Length in 1xx and 204 responses; in a 304 it
 * could only repeat the 200's length, which nginx omits too.
 */
static inline bool
http_status_has_length(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

int
http_format_head(char *buf, size_t cap, int status, int minor,
    bool keep_alive, const char *content_type, size_t content_length,
    const char *extra)
{
	struct http_out o = { buf, buf + cap, false };

	/* RFC 9110 6.2: we answer with our own version whatever the client's. */
	http_puts(&o, "HTTP/1.1 ");
	http_put_uint(&o, (unsigned)status);
	http_puts(&o, " ");
	http_put_str(&o, http_reason(status));
	http_puts(&o, "\r\nDate: ");
	http_put(&o, http_date_now(), 29);
	http_puts(&o, "\r\nServer: lfserver\r\n");
	if (content_type != NULL) {
		http_puts(&o, "Content-Type: ");
		http_put_str(&o, content_type);
		http_puts(&o, "\r\n");
	}
	if (http_status_has_length(status)) {
		http_puts(&o, "Content-Length: ");
		http_put_uint(&o, content_length);
		http_puts(&o, "\r\n");
	}
	if (!keep_alive)
		http_puts(&o, "Connection: close\r\n");
	else if (minor == 0)
		http_puts(&o, "Connection: keep-alive\r\n");
	if (extra != NULL)
		http_put_str(&o, extra);
	http_puts(&o, "\r\n");
	if (o.full)
		return -1;
	return (int)(o.p - buf);
}

int
http_format_error(char *buf, size_t cap, int status, int minor,
    bool keep_alive, bool head)
{
	return http_format_error_extra(buf, cap, status, minor, keep_alive,
	    head, NULL);
}

int
http_format_error_extra(char *buf, size_t cap, int status, int minor,
    bool keep_alive, bool head, const char *extra)
{
	char lines[512];
	char body[256];
	struct http_out b = { body, body + sizeof(body), false };
	size_t blen = 0;
	int n;

	if (http_status_has_length(status)) {
		http_puts(&b, "<html><head><title>");
		http_put_uint(&b, (unsigned)status);
		http_puts(&b, " ");
		http_put_str(&b, http_reason(status));
		http_puts(&b, "</title></head><body><h1>");
		http_put_uint(&b, (unsigned)status);
		http_puts(&b, " ");
		http_put_str(&b, http_reason(status));
		http_puts(&b, "</h1></body></html>\n");
		if (b.full)
			return -1;
		blen = b.p - body;
	}
	if ((size_t)snprintf(lines, sizeof(lines), "%s%s",
	    status == 405 ? "Allow: " HTTP_ALLOW "\r\n" : "",
	    extra != NULL ? extra : "") >= sizeof(lines))
		return -1;
	n = http_format_head(buf, cap, status, minor, keep_alive,
	    blen > 0 ? "text/html; charset=utf-8" : NULL, blen,
	    lines[0] != '\0' ? lines : NULL);
	if (n < 0)
		return -1;
	if (head || blen == 0)
		return n;
	if (cap - n < blen)
		return -1;
	memcpy(buf + n, body, blen);
	return n + (int)blen;
}
