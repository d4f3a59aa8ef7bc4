/*
 * http.c - HTTP/1.1 request heads (RFC 9112) and response heads.
 *
 * The parser is pure and stateless in the manner of picohttpparser: each call
 * parses BUF from its start, so a caller feeds it whatever it has read so far
 * and calls again after the next read. Scanning is a loop over one character
 * class table per field (no per-byte calls), and stops at the first error, so
 * every prefix of a request gives either -2 or the same answer as the whole.
 * Nothing is copied: the request's strings point into BUF.
 *
 * Leniencies, each one nginx's too: bare LF ends a line as CRLF does; empty
 * lines before the request line are skipped (RFC 9112 section 2.2); the
 * absolute-form "http://host/path" is accepted and its path used; request
 * targets may carry bytes >= 0x80. Everything else that RFC 9112 calls invalid
 * (whitespace before a colon, obs-fold, control bytes, a stray space in the
 * request line) is 400.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"

/* Character classes of request bytes. */
#define C_TCHAR		0x01	/* token (RFC 9110 5.6.2): methods, field names */
#define C_TARGET	0x02	/* request-target: VCHAR and obs-text */
#define C_VALUE		0x04	/* field-value: VCHAR, obs-text, SP, HTAB */

#define C_TV	(C_TARGET | C_VALUE)
#define C_TTV	(C_TCHAR | C_TARGET | C_VALUE)

/* Written as disjoint ranges: overlapping designators trip -Woverride-init. */
static const unsigned char http_ctype[256] = {
	['\t'] = C_VALUE,	[' '] = C_VALUE,
	['!'] = C_TTV,		['"'] = C_TV,
	['#' ... '\''] = C_TTV,	['(' ... ')'] = C_TV,
	['*' ... '+'] = C_TTV,	[','] = C_TV,
	['-' ... '.'] = C_TTV,	['/'] = C_TV,
	['0' ... '9'] = C_TTV,	[':' ... '@'] = C_TV,
	['A' ... 'Z'] = C_TTV,	['[' ... ']'] = C_TV,
	['^' ... 'z'] = C_TTV,	['{'] = C_TV,
	['|'] = C_TTV,		['}'] = C_TV,
	['~'] = C_TTV,
	[0x80 ... 0xff] = C_TV,
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
 * letter or onto '-'.
 */
static inline bool
http_token_eq(const unsigned char *s, const char *lit, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((s[i] | 0x20) != (unsigned char)lit[i])
			return false;
	return true;
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

/* Notes "close" and "keep-alive" among the comma-separated Connection options. */
static void
http_connection_tokens(const unsigned char *s, size_t len, bool *close,
    bool *keep)
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
		if (tend - tok == 5 && http_token_eq(tok, "close", 5))
			*close = true;
		else if (tend - tok == 10 && http_token_eq(tok, "keep-alive", 10))
			*keep = true;
	}
}

/*
 * Splits the request-target into path and query. Origin-form "/p?q" is the
 * rule; absolute-form keeps the path after the authority ("/" if none);
 * asterisk-form is OPTIONS-only and authority-form CONNECT-only, and both
 * leave the whole target as the path (the caller refuses those methods).
 */
static bool
http_split_target(struct http_request *req)
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
		if (p == q)
			return false;	/* empty authority */
		if (p == end || *p == '?') {
			/* "http://host" or "http://host?q": the path is "/" */
			req->path = "/";
			req->path_len = 1;
			req->query = p < end ? p + 1 : end;
			req->query_len = p < end ? (size_t)(end - p - 1) : 0;
			return true;
		}
	} else if (req->method == HTTP_CONNECT) {
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

int
http_parse_request(const char *buf, size_t len, struct http_request *req,
    int *status)
{
	const unsigned char *start = (const unsigned char *)buf, *p = start;
	const unsigned char *end, *lim, *tok, *vend;
	bool te = false, cl = false, conn_close = false, conn_keep = false;
	unsigned minor;
	size_t nlen;
	int more;

	memset(req, 0, sizeof(*req));
	*status = 0;

	/*
	 * Never look past HTTP_MAX_HEAD bytes. Running out of bytes means "send
	 * more" below the limit and 431 above it, so the answer for a prefix is
	 * -2 or the answer for the whole request.
	 */
	if (len > HTTP_MAX_HEAD) {
		end = start + HTTP_MAX_HEAD;
		more = 431;
	} else {
		end = start + len;
		more = 0;
	}
#define NEED_MORE()	do { if (more) { *status = more; return -1; } return -2; } while (0)
#define INVALID(s)	do { *status = (s); return -1; } while (0)
/* Consumes CRLF or LF at p; anything else is 400. */
#define EOL()		do {						\
		if (p == end) NEED_MORE();				\
		if (*p == '\r') {					\
			if (p + 1 == end) NEED_MORE();			\
			if (p[1] != '\n') INVALID(400);			\
			p += 2;						\
		} else if (*p == '\n')					\
			p++;						\
		else							\
			INVALID(400);					\
	} while (0)

	while (p < end && (*p == '\r' || *p == '\n'))
		EOL();

	/* method SP */
	tok = p;
	lim = end - p > HTTP_MAX_METHOD ? p + HTTP_MAX_METHOD + 1 : end;
	while (p < lim && (http_ctype[*p] & C_TCHAR))
		p++;
	if (p - tok > HTTP_MAX_METHOD)
		INVALID(501);
	if (p == end)
		NEED_MORE();
	if (*p != ' ' || p == tok)
		INVALID(400);
	req->method_str = (const char *)tok;
	req->method_len = p - tok;
	req->method = http_method_lookup(req->method_str, req->method_len);
	p++;

	/* request-target SP */
	tok = p;
	lim = end - p > HTTP_MAX_TARGET ? p + HTTP_MAX_TARGET + 1 : end;
	p = http_skip_plain(p, lim, 0x21);
	while (p < lim && (http_ctype[*p] & C_TARGET))
		p++;
	if (p - tok > HTTP_MAX_TARGET)
		INVALID(414);
	if (p == end)
		NEED_MORE();
	if (*p != ' ' || p == tok)
		INVALID(400);
	req->target = (const char *)tok;
	req->target_len = p - tok;
	if (!http_split_target(req))
		INVALID(400);
	p++;

	/* HTTP-version = "HTTP/" DIGIT "." DIGIT, then the line end */
	for (tok = (const unsigned char *)"HTTP/"; *tok != '\0'; tok++, p++) {
		if (p == end)
			NEED_MORE();
		if (*p != *tok)
			INVALID(400);
	}
	if (end - p < 3)
		NEED_MORE();
	if ((unsigned)(p[0] - '0') > 9 || p[1] != '.' ||
	    (unsigned)(p[2] - '0') > 9)
		INVALID(400);
	minor = p[2] - '0';
	tok = p;
	p += 3;
	EOL();
	if (tok[0] != '1' || minor > 1)
		INVALID(505);
	req->minor = minor;

	/* *( field-name ":" OWS field-value OWS CRLF ) CRLF */
	for (;;) {
		const unsigned char *name, *val;

		if (p == end)
			NEED_MORE();
		if (*p == '\r' || *p == '\n') {
			EOL();
			break;
		}
		if (req->nheaders == HTTP_MAX_HEADERS)
			INVALID(431);
		name = p;
		while (p < end && (http_ctype[*p] & C_TCHAR))
			p++;
		if (p == end)
			NEED_MORE();
		/* covers "Name :" and obs-fold (a line that starts with SP/HT) */
		if (*p != ':' || p == name)
			INVALID(400);
		nlen = p - name;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		val = p;
		p = http_skip_plain(p, end, 0x20);
		while (p < end && (http_ctype[*p] & C_VALUE))
			p++;
		vend = p;
		EOL();
		while (vend > val && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		req->nheaders++;

		/* Only a handful of fields matter; the length picks the candidate. */
		switch (nlen) {
		case 4:
			if (!http_token_eq(name, "host", 4))
				break;
			if (req->host != NULL)
				INVALID(400);
			req->host = (const char *)val;
			req->host_len = vend - val;
			break;
		case 5:
			if (http_token_eq(name, "range", 5)) {
				req->range = (const char *)val;
				req->range_len = vend - val;
			}
			break;
		case 8:
			if (http_token_eq(name, "if-range", 8)) {
				req->if_range = (const char *)val;
				req->if_range_len = vend - val;
			}
			break;
		case 15:
			if (http_token_eq(name, "accept-encoding", 15)) {
				req->accept_encoding = (const char *)val;
				req->accept_encoding_len = vend - val;
			}
			break;
		case 10:
			if (http_token_eq(name, "connection", 10))
				http_connection_tokens(val, vend - val,
				    &conn_close, &conn_keep);
			break;
		case 13:
			if (http_token_eq(name, "if-none-match", 13)) {
				req->if_none_match = (const char *)val;
				req->if_none_match_len = vend - val;
			}
			break;
		case 14: {
			uint64_t n;

			if (!http_token_eq(name, "content-length", 14))
				break;
			if (!http_parse_length(val, vend - val, &n) ||
			    (cl && n != req->content_length))
				INVALID(400);
			cl = true;
			req->content_length = n;
			break;
		}
		case 17:
			if (http_token_eq(name, "transfer-encoding", 17))
				te = true;
			else if (http_token_eq(name, "if-modified-since", 17)) {
				req->if_modified_since = (const char *)val;
				req->if_modified_since_len = vend - val;
			}
			break;
		}
	}
#undef EOL
#undef INVALID
#undef NEED_MORE

	/* RFC 9112 6.1: both framings at once is a smuggling attempt. */
	if (te && cl) {
		*status = 400;
		return -1;
	}
	if (minor == 1 && req->host == NULL) {
		*status = 400;
		return -1;
	}
	req->chunked = te;
	req->has_body = te || req->content_length > 0;
	if (conn_close)
		req->keep_alive = false;
	else
		req->keep_alive = minor == 1 || conn_keep;
	/* RFC 9112 6.1: Transfer-Encoding in 1.0 means faulty framing: close. */
	if (te && minor == 0)
		req->keep_alive = false;
	return (int)(p - start);
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
	    status == 405 ? "Allow: GET, HEAD\r\n" : "",
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
