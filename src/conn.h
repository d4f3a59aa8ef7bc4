/*
 * conn.h - one client connection's I/O: read what is readable, serve every
 * complete request in it, write the responses, and say whether to wait for
 * more or close. Engine-neutral: the pool engines call conn_serve() when the
 * reactor reports the socket readable; thread-per-connection calls it after
 * poll(). The socket is non-blocking; writes wait with poll() up to
 * request_timeout.
 *
 * An idle connection holds no read buffer: the worker's buffer is used while
 * serving and only an incomplete request is copied into the connection.
 */
#ifndef LF_CONN_H
#define LF_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accesslog.h"
#include "http.h"

struct docroot_file;
struct response;
struct server;
struct stats_shard;

#define CONN_BUF_SIZE	(HTTP_MAX_HEAD + 4096)
/*
 * Bytes a deferred response may hold as copies (its head and a small body:
 * error pages, /stats), per connection and in all. At either cap the
 * connection is closed instead of deferred (counted in
 * conn_out_overflows); docroot bodies are never copied and do not count.
 */
/* A response head: status line, fixed fields and the handler's (a Location
 * of up to 3 * HTTP_MAX_TARGET escaped bytes). */
#define CONN_HEAD_MAX		(4 * HTTP_MAX_TARGET)
#define CONN_OUT_COPY_MAX	(CONN_HEAD_MAX + 4096)
#define CONN_OUT_TOTAL_MAX	(64u << 20)

struct conn {
	int			 fd;
	_Atomic int		 state;		/* owned by the pool engines */
	bool			 polled;	/* registered in the pool's epoll set */
	bool			 poll_out;	/* ... for EPOLLOUT too */
	unsigned		 reactor;	/* the pool reactor whose set holds it */
	bool			 linger;	/* unread input may follow: see conn_free */
	/* The pool's reactor saw the peer's FIN (EPOLLRDHUP) or a hang-up: a
	 * short read no longer means the socket is drained, as the end of the
	 * input raises no new edge once reported (conn_serve). */
	atomic_bool		 peer_shut;
	struct accesslog_peer	 peer;		/* the access log's, on first use */
	char			*pending;	/* an incomplete request, carried over */
	size_t			 pending_len;
	uint64_t		 discard;	/* body bytes of a GET/HEAD still to drop */
	uint64_t		 partial_since_ns; /* first byte of an incomplete request */
	uint64_t		 idle_since_ns;	/* end of the last response */
	uint64_t		 ready_ns;	/* when it became readable (latency start) */
	/*
	 * The response being sent (see conn_push): head bytes, then a body in
	 * memory, then a body from a file. While a slow reader leaves it
	 * unsent, out and a body that is not a docroot file's are small
	 * copies (CONN_OUT_COPY_MAX); a docroot body stays by reference
	 * (body_file) or a descriptor (body_fd), never copied.
	 */
	const char		*out;		/* head (and error page) bytes */
	size_t			 out_len;
	size_t			 out_off;	/* bytes of out already sent */
	const char		*body;
	size_t			 body_len;
	size_t			 body_off;
	struct docroot_file	*body_file;	/* referenced: body points into it */
	int			 body_fd;	/* >= 0: sendfile from it */
	uint64_t		 fd_off, fd_end;
	size_t			 out_copied;	/* bytes malloc'ed for out and body */
	bool			 out_owned, body_owned;
	uint64_t		 out_since_ns;	/* start, then last progress */
	bool			 close_after_write; /* close once out is sent */
	struct conn		*prev, *next;	/* the owning engine's list */
	struct conn		*dead_next;	/* the pool's stack of closed ones */
};

/* A serving thread's scratch: one read buffer shared by all its connections. */
struct conn_worker {
	const struct server	*srv;
	struct stats_shard	*shard;
	char			*buf;		/* CONN_BUF_SIZE bytes */
	struct response		*resp;		/* the response being built */
	char			*head;		/* CONN_HEAD_MAX bytes: its head */
	uint64_t		 request_timeout_ns;
	uint64_t		 keepalive_timeout_ns;
	bool			 defer_writes;	/* true: never wait for POLLOUT, see conn_serve */
};

/*
 * CONN_WAIT: the socket is drained, wait until readable; CONN_MORE: the turn
 * ended for fairness (CONN_REQUESTS_PER_TURN requests, or a few full reads)
 * and input may remain, in the socket or in c->pending, for which no new
 * readiness event will come: serve again when convenient;
 * CONN_WAIT_WRITE: a response is partly unsent (only with defer_writes), wait
 * until writable; CONN_CLOSE: done.
 */
enum conn_status { CONN_WAIT, CONN_MORE, CONN_WAIT_WRITE, CONN_CLOSE };

struct conn *conn_new(int fd, uint64_t now_ns);
/* Whether part of a response is still to be sent (then wait for POLLOUT). */
static inline bool
conn_output_pending(const struct conn *c)
{
	return c->out_off < c->out_len || c->body_off < c->body_len ||
	    c->body_fd >= 0;
}
/* Copied bytes all deferred responses hold now, and the closes at the caps. */
size_t conn_out_copied_total(void);
unsigned long conn_out_overflows(void);
/* Tests only, before any connection is served: a lower total cap. */
void conn_out_set_total_max(size_t max);
/*
 * Accepts one client from the listening socket LFD into *OUT (non-blocking;
 * TCP_NODELAY comes from the listening socket). 0 on success, -EAGAIN when none is waiting, else -errno
 * (-EMFILE/-ENFILE: out of descriptors, the caller should pause accepting).
 */
int conn_accept(int lfd, struct conn **out);
/* Closes the socket (lingering briefly when input may still come, so a final
 * response is not reset); the struct stays allocated. */
void conn_close_fd(struct conn *c);
/* conn_close_fd, then frees. Accepts NULL. */
void conn_free(struct conn *c);
/* 0 or -ENOMEM. */
int conn_worker_init(struct conn_worker *w, const struct server *srv,
    struct stats_shard *shard);
void conn_worker_fini(struct conn_worker *w);

enum conn_status conn_serve(struct conn *c, struct conn_worker *w);
/* When a waiting connection should be closed: request_timeout after a
 * response stalled or after the first byte of an incomplete request, else
 * keepalive_timeout after the last response. */
uint64_t conn_deadline(const struct conn *c, uint64_t request_timeout_ns,
    uint64_t keepalive_timeout_ns);
/*
 * Expired: answers 408 if a request was incomplete (best effort, never
 * blocks), counted in SHARD and logged in SRV's access log.
 */
void conn_expire(struct conn *c, const struct server *srv,
    struct stats_shard *shard);
/* Answers 503 and closes: for a connection that cannot be served (no thread). */
void conn_reject(struct conn *c, const struct server *srv,
    struct stats_shard *shard);
/* A conn list (engines keep theirs; handed over at reload). */
void conn_list_push(struct conn **head, struct conn *c);
void conn_list_remove(struct conn **head, struct conn *c);

#endif
