/*
 * static.c - the docroot's files (docroot.c), or the built-in page: content
 * negotiation of precompressed variants, the conditionals (If-None-Match,
 * If-Modified-Since), ranges (Range, If-Range) and the redirect of a
 * directory named without its slash. The body is never copied: it is the
 * referenced in-memory file or a descriptor for sendfile (see conn.c).
 *
 * RFC 9110 choices:
 * - If-None-Match takes precedence over If-Modified-Since (13.2.2); a
 *   matching one gives 304 with the validators and no body.
 * - Range is honoured for GET only (14.2). One range: 206 with
 *   Content-Range. Several: 200 with the whole body (a server may ignore
 *   Range; multipart/byteranges buys little for the clients that send it,
 *   and a 200 can never be mistaken). None satisfiable: 416 with
 *   "Content-Range: bytes *" "/LEN". A Range we cannot parse is ignored.
 * - If-Range with an entity tag matches by strong comparison, with a date
 *   when it equals Last-Modified exactly; otherwise the whole body is sent.
 * - A variant (x.br, x.gz) is chosen by the q-values of Accept-Encoding
 *   (q=0 refuses; "*" stands for what is not listed; no header: identity);
 *   every response for a file that has variants says Vary: Accept-Encoding.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "docroot.h"
#include "handlers.h"

/* If-None-Match: "*" or a comma-separated list of tags (weak ones compare too). */
static bool
etag_listed(const char *v, size_t len, const char *etag)
{
	size_t elen = strlen(etag), i = 0, start;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		if (i - start == 1 && v[start] == '*')
			return true;
		if (i - start >= 2 && v[start] == 'W' && v[start + 1] == '/')
			start += 2;
		while (i > start && (v[i - 1] == ' ' || v[i - 1] == '\t'))
			i--;
		if (i - start == elen && memcmp(v + start, etag, elen) == 0)
			return true;
		while (i < len && v[i] != ',')
			i++;
	}
	return false;
}

/* A qvalue ("0", "0.5", "1.000") as 0..1000; -1 if malformed. */
static int
static_qvalue(const char *s, size_t len)
{
	int v, i, scale = 100;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	v = (s[0] - '0') * 1000;
	if (len == 1)
		return v;
	if (s[1] != '.' || len > 5)
		return -1;
	for (i = 2; (size_t)i < len; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v += (s[i] - '0') * scale;
	}
	return v > 1000 ? -1 : v;
}

/* The q-values Accept-Encoding gives br and gzip (0: not acceptable). */
static void
static_accept(const char *v, size_t len, int *q_br, int *q_gzip)
{
	int br = -1, gz = -1, star = -1, q;
	size_t i = 0, tok, tlen, p;

	*q_br = *q_gzip = 0;
	if (v == NULL)
		return;
	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		tok = i;
		while (i < len && v[i] != ',' && v[i] != ';' && v[i] != ' ' &&
		    v[i] != '\t')
			i++;
		tlen = i - tok;
		q = 1000;
		/* parameters: only q matters */
		while (i < len && v[i] != ',') {
			while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ';'))
				i++;
			p = i;
			while (i < len && v[i] != ',' && v[i] != ';')
				i++;
			if (i - p >= 2 && (v[p] == 'q' || v[p] == 'Q') && v[p + 1] == '=') {
				size_t e = i;

				while (e > p + 2 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
					e--;
				if ((q = static_qvalue(v + p + 2, e - p - 2)) < 0)
					q = 0;	/* malformed: not acceptable */
			}
		}
		if (tlen == 2 && strncasecmp(v + tok, "br", 2) == 0)
			br = q;
		else if ((tlen == 4 && strncasecmp(v + tok, "gzip", 4) == 0) ||
		    (tlen == 6 && strncasecmp(v + tok, "x-gzip", 6) == 0))
			gz = q;
		else if (tlen == 1 && v[tok] == '*')
			star = q;
	}
	*q_br = br >= 0 ? br : (star > 0 ? star : 0);
	*q_gzip = gz >= 0 ? gz : (star > 0 ? star : 0);
}

enum static_range { RANGE_NONE, RANGE_ONE, RANGE_UNSATISFIABLE };

/* One range-spec "A-B", "A-" or "-N" against LEN: false if malformed. */
static bool
static_range_spec(const char *s, size_t n, uint64_t len, bool *sat,
    uint64_t *first, uint64_t *last)
{
	const char *dash = memchr(s, '-', n);
	uint64_t a, b;

	if (dash == NULL)
		return false;
	if (dash == s) {
		/* suffix: the last N bytes */
		if (http_parse_uint(s + 1, n - 1, UINT64_MAX, &b) < 0 || n == 1)
			return false;
		*sat = b > 0 && len > 0;
		*first = b >= len ? 0 : len - b;
		*last = len - 1;
		return true;
	}
	if (http_parse_uint(s, dash - s, UINT64_MAX, &a) < 0)
		return false;
	if ((size_t)(dash - s) + 1 == n)
		b = UINT64_MAX;
	else if (http_parse_uint(dash + 1, n - (dash - s) - 1, UINT64_MAX, &b) < 0 ||
	    b < a)
		return false;
	*sat = a < len;
	*first = a;
	*last = b >= len ? len - 1 : b;
	return true;
}

/*
 * Range: "bytes=" range-spec *( "," range-spec ). RANGE_ONE sets FIRST and
 * LAST; several ranges, or a header we cannot parse, give RANGE_NONE (the
 * whole body), unless none of them is satisfiable.
 */
static enum static_range
static_range(const char *v, size_t len, uint64_t size, uint64_t *first,
    uint64_t *last)
{
	size_t i = 6, s, e;
	unsigned n = 0, nsat = 0;
	uint64_t f, l;
	bool sat;

	if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return RANGE_NONE;
	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (i < len)
			i++;	/* the comma */
		if (e == s)
			continue;	/* empty list elements are allowed */
		if (!static_range_spec(v + s, e - s, size, &sat, &f, &l))
			return RANGE_NONE;
		n++;
		if (sat) {
			nsat++;
			*first = f;
			*last = l;
		}
	}
	if (n == 0)
		return RANGE_NONE;
	if (nsat == 0)
		return RANGE_UNSATISFIABLE;
	return n == 1 ? RANGE_ONE : RANGE_NONE;
}

/* If-Range: true when the representation is still the one the client has. */
static bool
static_if_range(const struct http_request *req, const char *etag, time_t mtime,
    bool date_strong)
{
	const char *v = req->if_range;
	size_t n = req->if_range_len;
	time_t t;

	if (n >= 2 && v[0] == 'W' && v[1] == '/')
		return false;	/* a weak tag never matches strongly */
	if (n >= 1 && v[0] == '"')
		return strlen(etag) == n && memcmp(v, etag, n) == 0;
	/* RFC 9110 13.1.5: a date must be a strong validator, and exact */
	return date_strong && http_parse_date(v, n, &t) == 0 && t == mtime;
}

/* Appends a header line to resp->hdrs; false (and nothing added) if it does not fit. */
__attribute__((format(printf, 2, 3)))
static bool
static_header(struct response *resp, const char *fmt, ...)
{
	size_t room = sizeof(resp->hdrs) - resp->hdrs_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(resp->hdrs + resp->hdrs_len, room, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < room) {
		resp->hdrs_len += (size_t)n;
		return true;
	}
	resp->hdrs[resp->hdrs_len] = '\0';	/* dropped whole */
	return false;
}

/* Appends the strings up to a NULL to resp->hdrs (the fast path: no
 * formatting); false (and nothing added) if they do not fit. */
static bool __attribute__((sentinel))
static_puts(struct response *resp, ...)
{
	size_t at = resp->hdrs_len, n;
	const char *p;
	va_list ap;

	va_start(ap, resp);
	while ((p = va_arg(ap, const char *)) != NULL) {
		n = strlen(p);
		if (at + n >= sizeof(resp->hdrs)) {
			va_end(ap);
			resp->hdrs[resp->hdrs_len] = '\0';
			return false;
		}
		memcpy(resp->hdrs + at, p, n);
		at += n;
	}
	va_end(ap);
	resp->hdrs[at] = '\0';
	resp->hdrs_len = at;
	return true;
}

/* Appends S[0..N) to OUT (CAP bytes, NUL kept), percent-encoding what a
 * URI path may not hold as is (RFC 3986 3.3). False if it does not fit. */
static bool
static_uri_path(char *out, size_t cap, size_t *at, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char keep[] = "-._~!$&'()*+,;=:@/";
	unsigned char ch;
	size_t i;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || (ch != 0 && strchr(keep, ch))) {
			if (*at + 1 >= cap)
				return false;
			out[(*at)++] = (char)ch;
		} else {
			if (*at + 3 >= cap)
				return false;
			out[(*at)++] = '%';
			out[(*at)++] = hex[ch >> 4];
			out[(*at)++] = hex[ch & 15];
		}
	}
	out[*at] = '\0';
	return true;
}

/*
 * 301 to the directory's path with a slash (the query kept), as nginx
 * words it. The Location is built from the normalised path (the route's
 * prefix and PATH), never from the raw target, so "//host" in a request
 * cannot become a redirect to another site.
 */
static void
static_redirect(const struct route *rt, const struct http_request *req,
    const char *path, size_t path_len, struct response *resp)
{
	size_t plen = strlen(rt->path), at = resp->hdrs_len;
	char *h = resp->hdrs;
	const size_t cap = sizeof(resp->hdrs);

	if (plen > 0 && rt->path[plen - 1] == '/')
		plen--;
	if (at + 10 >= cap)
		return;
	memcpy(h + at, "Location: ", 10);
	at += 10;
	if (!static_uri_path(h, cap, &at, rt->path, plen) ||
	    !static_uri_path(h, cap, &at, path, path_len) ||
	    !static_uri_path(h, cap, &at, "/", 1) ||
	    at + req->query_len + 4 > cap) {
		/* escaped, the target would be longer than we accept */
		h[resp->hdrs_len] = '\0';
		resp->status = 414;
		return;
	}
	if (req->query_len > 0) {
		h[at++] = '?';
		memcpy(h + at, req->query, req->query_len);
		at += req->query_len;
	}
	memcpy(h + at, "\r\n", 3);
	resp->hdrs_len = at + 2;
	response_printf(resp, 301, "<html><head><title>301 Moved Permanently"
	    "</title></head><body><h1>301 Moved Permanently</h1></body></html>\n");
	resp->content_type = "text/html; charset=utf-8";
}

/* PATH is already relative to the route (the router strips the route's prefix). */
void
handler_static(const struct server *srv, const struct route *rt,
    const struct http_request *req, const char *path, size_t path_len,
    struct response *resp)
{
	const char *cache = rt->cache_control != NULL ? rt->cache_control :
	    srv->cfg.cache_control;
	struct docroot_hit hit;
	struct docroot_open o;
	uint64_t len, first, last;
	time_t mtime, ims;
	const char *etag, *lastmod;
	int q_br, q_gzip, rc;
	bool strong;

	static_accept(req->accept_encoding, req->accept_encoding_len, &q_br,
	    &q_gzip);
	if (docroot_get(server_docroot(srv, rt), path, path_len, q_br, q_gzip,
	    &hit) < 0) {
		resp->status = 404;
		return;
	}
	if (hit.dir) {
		static_redirect(rt, req, path, path_len, resp);
		return;
	}
	resp->file = hit.file;
	if (hit.file->data != NULL) {
		len = hit.file->len;
		mtime = hit.file->mtime;
		strong = hit.file->date_strong;
		etag = hit.file->etag;
		lastmod = hit.file->last_modified;
	} else {
		if ((rc = docroot_file_open(hit.file, &o)) < 0) {
			response_release(resp);
			resp->status = rc == -ENOENT ? 404 : rc == -EACCES ? 403 : 500;
			return;
		}
		resp->fd = o.fd;
		len = o.len;
		mtime = o.mtime;
		strong = o.date_strong;
		memcpy(resp->etag_buf, o.etag, sizeof(o.etag));
		etag = resp->etag_buf;
		memcpy(resp->date_buf, o.last_modified, sizeof(o.last_modified));
		lastmod = resp->date_buf;
	}
	resp->content_type = hit.content_type;
	if (etag[0] != '\0') {
		resp->etag = etag;
		static_puts(resp, "ETag: ", etag, "\r\n", NULL);
	}
	static_puts(resp, "Last-Modified: ", lastmod, "\r\n", NULL);
	if (cache != NULL)
		static_puts(resp, "Cache-Control: ", cache, "\r\n", NULL);
	if (hit.vary)
		static_puts(resp, "Vary: Accept-Encoding\r\n", NULL);

	/* RFC 9110 13.2.2: If-Match first (strong comparison), else
	 * If-Unmodified-Since; then If-None-Match, else If-Modified-Since */
	if (req->if_match != NULL ? !http_if_match(req->if_match,
	    req->if_match_len, etag) : req->if_unmodified_since != NULL &&
	    http_parse_date(req->if_unmodified_since,
	    req->if_unmodified_since_len, &ims) == 0 && mtime > ims) {
		response_release(resp);
		resp->status = 412;
		resp->content_type = NULL;
		resp->etag = NULL;
		resp->hdrs_len = 0;
		resp->hdrs[0] = '\0';
		return;
	}
	/* a client holding this exact version gets 304 and no body */
	if (req->if_none_match != NULL ? etag[0] != '\0' &&
	    etag_listed(req->if_none_match, req->if_none_match_len, etag) :
	    req->if_modified_since != NULL && http_parse_date(req->if_modified_since,
	    req->if_modified_since_len, &ims) == 0 && mtime <= ims) {
		/* RFC 9110 15.4.5: validators, Cache-Control and Vary, but
		 * no representation metadata */
		response_release(resp);
		resp->status = 304;
		resp->content_type = NULL;
		return;
	}
	if (hit.encoding != NULL)
		static_puts(resp, "Content-Encoding: ", hit.encoding, "\r\n", NULL);
	static_puts(resp, "Accept-Ranges: bytes\r\n", NULL);
	resp->status = 200;
	first = 0;
	last = len - 1;
	if (req->range != NULL && req->method == HTTP_GET &&
	    (req->if_range == NULL || static_if_range(req, etag, mtime, strong))) {
		switch (static_range(req->range, req->range_len, len, &first, &last)) {
		case RANGE_NONE:
			first = 0;
			last = len - 1;
			break;
		case RANGE_ONE:
			resp->status = 206;
			static_header(resp, "Content-Range: bytes %llu-%llu/%llu\r\n",
			    (unsigned long long)first, (unsigned long long)last,
			    (unsigned long long)len);
			break;
		case RANGE_UNSATISFIABLE:
			response_release(resp);
			resp->status = 416;
			resp->content_type = NULL;
			resp->etag = NULL;
			resp->hdrs_len = 0;
			static_header(resp, "Content-Range: bytes */%llu\r\n",
			    (unsigned long long)len);
			return;
		}
	}
	resp->body_len = len == 0 ? 0 : (size_t)(last - first + 1);
	if (hit.file->data != NULL)
		resp->body = hit.file->data + first;
	else {
		resp->file_off = first;
		resp->sendfile = true;
	}
}
