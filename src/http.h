/*
 * http.h - HTTP/1.1 request parsing and response heads (RFC 9112).
 *
 * A pure, incremental parser in the manner of picohttpparser: no I/O, no
 * allocation; the request's strings point into the caller's buffer. Feed it
 * what has been read so far; it either needs more, rejects the request with
 * the status to answer, or returns the length of the complete request head.
 *
 * Limits (documented in lfserver(8)):
 *   request target       8192 bytes   -> 414 URI Too Long
 *   request line         8192+64      -> 414 when the target is what is long,
 *                                        else 400
 *   whole request head  16384 bytes   -> 431 Request Header Fields Too Large
 *   header count          100         -> 431
 *   method token           32 bytes   -> 501 Not Implemented once its end is
 *                                        seen (RFC 9112 3: longer than any we
 *                                        implement); a token that fills the
 *                                        request line limit is 400
 *   body read before the answer 4095  -> chunked: 413; Content-Length: the
 *                                        answer first, the body dropped after
 * Each limit is reported as soon as the bytes read so far exceed it, so a
 * client cannot make us buffer more than HTTP_MAX_HEAD bytes of a head.
 */
#ifndef LF_HTTP_H
#define LF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HTTP_MAX_TARGET		8192
#define HTTP_MAX_HEAD		16384
#define HTTP_MAX_HEADERS	100
#define HTTP_MAX_METHOD		32
#define HTTP_MAX_LINE		(HTTP_MAX_TARGET + 64)
#define HTTP_MAX_BODY_HELD	4095		/* a body small enough to read before answering */
#define HTTP_MAX_BODY_DISCARD	(1u << 20)	/* Content-Length we drop after answering; above: 413 */

/* What Allow says (405, OPTIONS): the methods every resource answers. */
#define HTTP_ALLOW		"GET, HEAD, OPTIONS"

enum http_method {
	HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_CONNECT,
	HTTP_OPTIONS, HTTP_TRACE, HTTP_PATCH,
	HTTP_METHOD_OTHER,	/* a syntactically valid token we do not know */
};

struct http_request {
	enum http_method method;
	const char	*method_str;	size_t method_len;
	const char	*target;	size_t target_len;	/* raw request-target */
	const char	*path;		size_t path_len;	/* raw, up to '?' */
	const char	*query;		size_t query_len;	/* after '?', may be empty */
	int		 minor;		/* HTTP/1.<minor>: 0 or 1 */
	bool		 keep_alive;	/* resolved: 1.1 unless "close"; 1.0 only with "keep-alive" */
	bool		 has_body;	/* Content-Length > 0 or Transfer-Encoding present */
	bool		 chunked;	/* Transfer-Encoding: chunked (the only coding we take) */
	bool		 expect_continue; /* HTTP/1.1 "Expect: 100-continue" */
	/* preconditions evaluated first (RFC 9110 13.1.1, 13.1.4); NULL if absent */
	const char	*if_match;	size_t if_match_len;
	const char	*if_unmodified_since; size_t if_unmodified_since_len;
	uint64_t	 content_length;
	uint64_t	 body_left;	/* body bytes after http_parse_message's length */
	const char	*host;		size_t host_len;	/* NULL if absent */
	const char	*if_none_match;	size_t if_none_match_len; /* NULL if absent */
	/* static files (RFC 9110 sections 12.5.3, 13.1.3, 13.1.5, 14.2); NULL if absent */
	const char	*range;		size_t range_len;
	const char	*if_range;	size_t if_range_len;
	const char	*if_modified_since; size_t if_modified_since_len;
	const char	*accept_encoding; size_t accept_encoding_len;
	unsigned	 nheaders;	/* header fields in the head */
};

/*
 * Parses one request head at BUF[0..LEN).
 * Returns the number of bytes of the head (through the blank line) when it is
 * complete, -2 when more bytes are needed, -1 when the request is invalid:
 * then *STATUS is the status to answer (400, 413, 414, 431, 501, 505; 405 is
 * the router's) and the connection must be closed after answering.
 * REQ is filled on success (and as far as parsed on -1, for logging).
 * Every prefix of a request gives -2 or the whole request's answer.
 * Framing is decided here (RFC 9112 6.3): Transfer-Encoding whose last coding
 * is not chunked, or with Content-Length, or in HTTP/1.0, a malformed or
 * duplicate-differing Content-Length -> 400; a coding other than chunked
 * before a final chunked -> 501. So is Host (RFC 9112 3.2): none in
 * HTTP/1.1, two, or one that is not uri-host[:port] -> 400.
 */
int http_parse_request(const char *buf, size_t len, struct http_request *req, int *status);

/*
 * Parses one request message: its head and, when it is small enough to read
 * before answering, its body, so that a body's framing is judged before the
 * request's meaning. Returns the length of the head plus the body read (a
 * chunked body, or a Content-Length up to HTTP_MAX_BODY_HELD), -2 or -1 as
 * http_parse_request. A larger Content-Length body is left for the caller to
 * drop after answering (REQ->body_left bytes), as is any body of a request
 * that expects 100-continue; a chunked body that does not end within
 * HTTP_MAX_BODY_HELD bytes is 413, a malformed one 400.
 */
int http_parse_message(const char *buf, size_t len, struct http_request *req, int *status);

/*
 * Parses a chunked body (RFC 9112 7.1: chunks, last chunk, trailer fields)
 * at BUF[0..LEN). Returns its length through the final CRLF, -2 when more is
 * needed, -1 when it is malformed (*STATUS 400) or cannot end within MAX
 * bytes (413; nothing past MAX is read). Extensions and trailers are checked
 * and skipped.
 */
int http_parse_chunked(const char *buf, size_t len, size_t max, int *status);

/*
 * If-Match's condition (RFC 9110 13.1.1) for a current representation whose
 * entity tag is ETAG ("" or NULL: it has none): true for "*" or when the list
 * V[0..LEN) holds ETAG by strong comparison (a weak tag never matches).
 */
bool http_if_match(const char *v, size_t len, const char *etag);

/*
 * Percent-decodes the path IN[0..LEN) into OUT (NUL terminated) and removes
 * dot segments and repeated slashes. Fails (returns -1) on a decoded NUL or
 * control byte, a malformed escape, a '..' that would climb above '/', or a
 * result that does not fit OUTCAP. Returns the output length.
 */
int http_normalize_path(const char *in, size_t len, char *out, size_t outcap);

/*
 * Finds NAME in a query string ("a=1&n=20"). Returns true and sets VAL/VLEN
 * (raw, not decoded) when present.
 */
bool http_query_get(const char *q, size_t qlen, const char *name,
    const char **val, size_t *vlen);
/* Parses a decimal unsigned value of a query parameter: 0, or -1 if malformed or > MAX... */
int http_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out);

const char *http_reason(int status);		/* "Not Found"; "Unknown" if not in the table */
const char *http_method_name(enum http_method m);

/* The current IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), 29 chars + NUL,
 * cached per thread and refreshed once a second. */
const char *http_date_now(void);

/* Formats T as an IMF-fixdate into OUT (30 bytes with the NUL). */
void http_format_date(time_t t, char out[30]);
/*
 * Parses an HTTP-date (RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850
 * and asctime forms every recipient must accept). 0, or -1 if malformed.
 */
int http_parse_date(const char *s, size_t len, time_t *out);

/*
 * Writes a response head into BUF: status line, Date, Server, Content-Type (if
 * non-NULL), Content-Length, Connection (close or keep-alive as needed for the
 * request's version), EXTRA (raw "Name: value\r\n" lines, may be NULL), blank
 * line. Returns its length, or -1 if CAP is too small.
 */
int http_format_head(char *buf, size_t cap, int status, int minor,
    bool keep_alive, const char *content_type, size_t content_length,
    const char *extra);

/*
 * A complete error response (head + small HTML body; no body when HEAD).
 * 405 carries "Allow: " HTTP_ALLOW. Returns its length, or -1 if CAP too small.
 */
int http_format_error(char *buf, size_t cap, int status, int minor,
    bool keep_alive, bool head);
/* http_format_error with EXTRA header lines too ("Name: value\r\n", may be NULL). */
int http_format_error_extra(char *buf, size_t cap, int status, int minor,
    bool keep_alive, bool head, const char *extra);

#endif
