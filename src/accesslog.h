/*
 * accesslog.h - the access log: one line per request, to a file (nginx's
 * "combined" format or JSON lines) or to the journal (structured LF_*
 * fields), off by default.
 *
 * A request never waits on disk: a serving thread formats its line (direct
 * appends, no printf; the client address looked up once per connection)
 * into the buffer of its stats shard (a mutex each, uncontended in the pool modes
 * where every worker has its own shard) and a writer thread takes the full
 * buffers, at least once a second, and writes them. When the writer falls
 * behind and a buffer is full, the line is dropped and counted
 * (lfserver_access_log_dropped_total) rather than waited for.
 */
#ifndef LF_ACCESSLOG_H
#define LF_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "lfconfig.h"

struct accesslog;
struct http_request;
struct stats;

/*
 * A connection's client address, kept by the connection so that getpeername
 * runs once for it, not once per logged request. All zero: not looked up
 * yet (or the lookup failed, and it is tried again).
 */
struct accesslog_peer {
	uint8_t		 family;	/* AF_INET, AF_INET6, AF_UNIX or 0 */
	uint8_t		 addr[16];	/* network order; 4 bytes for AF_INET */
};

/*
 * What one finished request contributes to the log. A request refused before
 * it was parsed whole (400, 414, 431, 501, 505..., 408 at a timeout, 503) has
 * no REQ: its LINE, the first line as received, stands for the request line
 * ("-" when empty, as nginx writes it).
 */
struct accesslog_entry {
	const struct http_request *req;	/* NULL: refused, see line */
	const char	*line;		/* when req is NULL; no CR or LF in it */
	size_t		 line_len;
	int		 fd;		/* the client socket, for its address */
	struct accesslog_peer *peer;	/* fd's, filled on first use; NULL: none kept */
	int		 status;
	uint64_t	 bytes;		/* body bytes sent */
	uint64_t	 us;		/* latency */
};

/*
 * TARGET is "journal" or an absolute file name (opened for appending,
 * created 0640); lines lost are counted in S. 0, or -errno with ERR filled.
 */
int accesslog_open(struct accesslog **out, const char *target,
    enum lf_log_format format, struct stats *s, char *err, size_t errlen);
/* Writes what is buffered, stops the writer, closes. Accepts NULL. */
void accesslog_free(struct accesslog *al);
/* Reopens the file by its name (after logrotate renamed it); asynchronous. */
void accesslog_reopen(struct accesslog *al);
/* Fills PEER with FD's client address (all zero when it has none). */
void accesslog_peer_lookup(struct accesslog_peer *peer, int fd);
/* Appends E's line to the buffer of SLOT (a stats shard index). */
void accesslog_request(struct accesslog *al, unsigned slot,
    const struct accesslog_entry *e);

#endif
