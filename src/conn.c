/*
 * conn.c - one connection's reads, request loop and writes; see conn.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"
#include "docroot.h"
#include "log.h"
#include "observe.h"
#include "router.h"
#include "server.h"
#include "stats.h"

/* A message http_parse_message holds whole fails before the buffer fills. */
_Static_assert(CONN_BUF_SIZE > HTTP_MAX_HEAD + HTTP_MAX_BODY_HELD,
    "the read buffer holds a head and a body read before answering");

/* Reads per dispatch before giving the worker to other connections (CONN_MORE). */
#define CONN_READS_PER_TURN	4
/* Requests per dispatch: a pipelining client cannot hold a worker, a reload or a stop. */
#define CONN_REQUESTS_PER_TURN	16

static void conn_out_done(struct conn *c);
static int conn_wait_writable(struct conn *c, struct conn_worker *w);
/*
 * -d: one line per accept, request (request line and status) and close, by
 * descriptor. Only called when log_debugging(); log.c escapes the client's
 * bytes.
 */
static void
conn_debug_accept(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			port = ntohs(in6->sin6_port);
		}
	}
	log_debug("connection %d: accepted from %s port %u", fd, host, port);
}

static void
conn_debug_request(const struct conn *c, const struct http_request *req,
    int status)
{
	log_debug("connection %d: \"%.*s %.*s HTTP/1.%d\" %d", c->fd,
	    (int)req->method_len, req->method_str, (int)req->target_len,
	    req->target, req->minor, status);
}

/* A request the parser refused: its first line as it came, cut at 200 bytes. */
static void
conn_debug_bad(const struct conn *c, const char *buf, size_t len, int status)
{
	const char *eol = memchr(buf, '\n', len);
	size_t n = eol != NULL ? (size_t)(eol - buf) : len;

	if (n > 0 && buf[n - 1] == '\r')
		n--;
	log_debug("connection %d: bad request \"%.*s\" %d", c->fd,
	    (int)(n > 200 ? 200 : n), buf, status);
}

struct conn *
conn_new(int fd, uint64_t now_ns)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->body_fd = -1;
	c->idle_since_ns = now_ns;
	c->ready_ns = now_ns;
	return c;
}

int
conn_accept(int lfd, struct conn **out)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* TCP_NODELAY is inherited from the listening socket (listen.c) */
	if (log_debugging())
		conn_debug_accept(fd);
	*out = conn_new(fd, stats_now_ns());
	if (*out == NULL) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Closing with unread input makes the kernel send RST, which can destroy a
 * response the client has not read yet (e.g. 405 to a POST with a body). So
 * when input may still be coming (c->linger), shut down our side first and
 * drop what has already arrived. A plain close after a complete exchange
 * skips those two syscalls.
 */
void
conn_close_fd(struct conn *c)
{
	char sink[4096];
	int i;

	if (c->fd < 0)
		return;
	if (log_debugging())
		log_debug("connection %d: closed", c->fd);
	if (c->linger) {
		shutdown(c->fd, SHUT_WR);
		for (i = 0; i < 64; i++)
			if (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
				break;
	}
	close(c->fd);
	c->fd = -1;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	conn_close_fd(c);
	free(c->pending);
	conn_out_done(c);
	free(c);
}

int
conn_worker_init(struct conn_worker *w, const struct server *srv,
    struct stats_shard *shard)
{
	w->srv = srv;
	w->shard = shard;
	w->request_timeout_ns = (uint64_t)srv->cfg.request_timeout * 1000000000u;
	w->keepalive_timeout_ns = (uint64_t)srv->cfg.keepalive_timeout * 1000000000u;
	w->defer_writes = false;
	w->buf = malloc(CONN_BUF_SIZE);
	w->resp = malloc(sizeof(*w->resp));
	w->head = malloc(CONN_HEAD_MAX);
	if (w->buf == NULL || w->resp == NULL || w->head == NULL) {
		conn_worker_fini(w);
		return -ENOMEM;
	}
	return 0;
}

void
conn_worker_fini(struct conn_worker *w)
{
	free(w->buf);
	free(w->resp);
	free(w->head);
	w->buf = w->head = NULL;
	w->resp = NULL;
}

uint64_t
conn_deadline(const struct conn *c, uint64_t request_timeout_ns,
    uint64_t keepalive_timeout_ns)
{
	if (conn_output_pending(c))
		return c->out_since_ns + request_timeout_ns;
	if (c->partial_since_ns != 0)
		return c->partial_since_ns + request_timeout_ns;
	return c->idle_since_ns + keepalive_timeout_ns;
}

/*
 * Copied bytes of all deferred responses (CONN_OUT_TOTAL_MAX) and the
 * connections closed at a cap. Relaxed: budgets and counters that order
 * nothing else.
 */
static _Atomic size_t conn_out_total;
static _Atomic unsigned long conn_out_capped;
/* CONN_OUT_TOTAL_MAX; lowered only by tests (conn_out_set_total_max) */
static size_t conn_out_total_max = CONN_OUT_TOTAL_MAX;

void
conn_out_set_total_max(size_t max)
{
	conn_out_total_max = max;
}

size_t
conn_out_copied_total(void)
{
	return atomic_load_explicit(&conn_out_total, memory_order_relaxed);
}

unsigned long
conn_out_overflows(void)
{
	return atomic_load_explicit(&conn_out_capped, memory_order_relaxed);
}

/* Ends the response being sent: frees the copies, drops the file. */
static void
conn_out_done(struct conn *c)
{
	if (c->out_owned)
		free((char *)c->out);
	if (c->body_owned)
		free((char *)c->body);
	if (c->out_copied > 0)
		atomic_fetch_sub_explicit(&conn_out_total, c->out_copied,
		    memory_order_relaxed);
	docroot_file_put(c->body_file);
	if (c->body_fd >= 0)
		close(c->body_fd);
	c->out = c->body = NULL;
	c->out_len = c->out_off = c->body_len = c->body_off = 0;
	c->out_copied = 0;
	c->out_owned = c->body_owned = false;
	c->body_file = NULL;
	c->body_fd = -1;
	c->fd_off = c->fd_end = 0;
}

/* A private copy of the unsent part of P[OFF..LEN), or NULL at a cap; counts it. */
static char *
conn_copy_rest(struct conn *c, const char *p, size_t len, size_t off)
{
	size_t n = len - off;
	char *q;

	if (c->out_copied + n > CONN_OUT_COPY_MAX)
		return NULL;
	/* reserve first, so that concurrent workers never pass the cap together */
	if (atomic_fetch_add_explicit(&conn_out_total, n, memory_order_relaxed) +
	    n > conn_out_total_max || (q = malloc(n)) == NULL) {
		atomic_fetch_sub_explicit(&conn_out_total, n, memory_order_relaxed);
		return NULL;
	}
	memcpy(q, p + off, n);
	c->out_copied += n;
	return q;
}

/*
 * Makes the unsent rest of the response outlive the worker's stack: the
 * head and a borrowed body are copied (small, capped), a docroot body stays
 * by reference. 1 (deferred), or -1 at a cap or out of memory: the
 * connection is then closed.
 */
static int
conn_defer(struct conn *c)
{
	char *p;

	if (!c->out_owned && c->out_off < c->out_len) {
		if ((p = conn_copy_rest(c, c->out, c->out_len, c->out_off)) == NULL)
			goto capped;
		c->out = p;
		c->out_len -= c->out_off;
		c->out_off = 0;
		c->out_owned = true;
	}
	if (!c->body_owned && c->body_file == NULL && c->body_off < c->body_len) {
		if ((p = conn_copy_rest(c, c->body, c->body_len, c->body_off)) == NULL)
			goto capped;
		c->body = p;
		c->body_len -= c->body_off;
		c->body_off = 0;
		c->body_owned = true;
	}
	return 1;
capped:
	atomic_fetch_add_explicit(&conn_out_capped, 1, memory_order_relaxed);
	return -1;
}

/* Marks N more bytes of the response sent. */
static void
conn_advance(struct conn *c, size_t n)
{
	size_t k = c->out_len - c->out_off;

	if (k > n)
		k = n;
	c->out_off += k;
	c->body_off += n - k;
}

/*
 * Sends the staged response (c->out, then c->body, then c->body_fd with
 * sendfile). When the socket's buffer is full, a pool worker
 * (w->defer_writes) keeps the rest (conn_defer) and returns 1, so that a
 * slow reader never holds a worker: the engine waits for POLLOUT instead.
 * A connection thread waits in poll() itself. Either way the connection
 * gets request_timeout from its last progress, not from every wake-up.
 * Returns 0 when everything is written, 1 when deferred, -1 on failure.
 */
static int
conn_push(struct conn *c, struct conn_worker *w)
{
	struct iovec iov[2];
	struct msghdr m;
	ssize_t r;
	int n;

	for (;;) {
		n = 0;
		if (c->out_off < c->out_len) {
			iov[n].iov_base = (char *)c->out + c->out_off;
			iov[n++].iov_len = c->out_len - c->out_off;
		}
		if (c->body_off < c->body_len) {
			iov[n].iov_base = (char *)c->body + c->body_off;
			iov[n++].iov_len = c->body_len - c->body_off;
		}
		if (n > 0) {
			memset(&m, 0, sizeof(m));
			m.msg_iov = iov;
			m.msg_iovlen = n;
			/* the head goes out with the file's first bytes; the
			 * last response goes out with the FIN (conn_request) */
			r = sendmsg(c->fd, &m, MSG_NOSIGNAL |
			    (c->body_fd >= 0 || c->close_after_write ? MSG_MORE : 0));
			if (r > 0)
				conn_advance(c, (size_t)r);
		} else if (c->body_fd >= 0 && c->fd_off < c->fd_end) {
			off_t off = (off_t)c->fd_off;
			uint64_t left = c->fd_end - c->fd_off;

			r = sendfile(c->fd, c->body_fd, &off,
			    left > (1u << 30) ? (1u << 30) : (size_t)left);
			if (r == 0)
				return -1;	/* truncated under us: cannot finish */
			if (r > 0)
				c->fd_off += (uint64_t)r;
		} else {
			conn_out_done(c);
			return 0;
		}
		if (r > 0) {
			c->out_since_ns = stats_now_ns();
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		if (w->defer_writes)
			return conn_defer(c);
		if (conn_wait_writable(c, w) < 0)
			return -1;
	}
}

/* A connection thread's wait for room (pool workers never wait here). */
static int
conn_wait_writable(struct conn *c, struct conn_worker *w)
{
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };
	uint64_t now = stats_now_ns(), deadline;

	deadline = c->out_since_ns + w->request_timeout_ns;
	if (now >= deadline)
		return -1;
	if (poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) < 0 &&
	    errno != EINTR)
		return -1;
	return 0;
}

/* Stages HEAD (borrowed) and sends it: as conn_push. */
static int
conn_write(struct conn *c, struct conn_worker *w, const char *head, size_t len)
{
	c->out = head;
	c->out_len = len;
	c->out_off = 0;
	c->out_since_ns = stats_now_ns();
	return conn_push(c, w);
}

/* Sends what an earlier conn_push deferred. 0 done, 1 still waiting, -1 failed. */
static int
conn_flush(struct conn *c, struct conn_worker *w)
{
	return conn_push(c, w);
}

/* Sends an error page with EXTRA header lines (may be NULL): as conn_push. */
static int
conn_send_error_extra(struct conn *c, struct conn_worker *w, int status,
    int minor, bool keep_alive, bool head, const char *extra)
{
	char page[2048];
	int n;

	n = http_format_error_extra(page, sizeof(page), status, minor,
	    keep_alive, head, extra);
	if (n < 0)
		return -1;
	return conn_write(c, w, page, (size_t)n);
}

static int
conn_send_error(struct conn *c, struct conn_worker *w, int status, int minor,
    bool keep_alive, bool head)
{
	return conn_send_error_extra(c, w, status, minor, keep_alive, head, NULL);
}

enum conn_req { REQ_KEEP, REQ_CLOSE, REQ_DEFERRED };

/*
 * Counts (and logs) the answer before it is written: a client that has read
 * its response then always finds it in the next scrape.
 */
static void
conn_observe(struct conn *c, const struct conn_worker *w,
    const struct http_request *req, const struct response *resp, uint64_t t0)
{
	observe_request(w, c, req, resp, t0);
	if (log_debugging())
		conn_debug_request(c, req, resp->status);
}

/* The outcome of a response write for a connection that should stay open or not. */
static enum conn_req
conn_req_result(struct conn *c, int written, bool keep)
{
	if (written < 0)
		return REQ_CLOSE;
	if (written > 0) {
		c->close_after_write = !keep;
		return REQ_DEFERRED;
	}
	return keep ? REQ_KEEP : REQ_CLOSE;
}

/*
 * Serves one parsed request: keep the connection, close it, or wait until
 * the deferred rest of the response is written (then close or keep as
 * c->close_after_write says).
 *
 * Bodies (RFC 9112 9.3: read it all or close): http_parse_message has read a
 * small body already and judged its framing; a larger Content-Length body is
 * dropped after the answer, up to HTTP_MAX_BODY_DISCARD (more: 413, close).
 * A GET or HEAD with a body is answered and the connection closed: such a
 * body has no meaning (RFC 9110 9.3.1), and a front end that disagrees about
 * it could pair our next response with the wrong request. A request that
 * expects 100-continue is answered at once and the connection closed, since
 * the client may or may not send its body then.
 */
static enum conn_req
conn_request(struct conn *c, struct conn_worker *w, const struct http_request *req,
    uint64_t t0)
{
	/* the worker's, not the stack's: a Location can take 24 KiB */
	struct response *resp = w->resp;
	const char *extra;
	bool keep = req->keep_alive, is_head = req->method == HTTP_HEAD;
	bool get_or_head = req->method == HTTP_GET || is_head;
	int n, written;

	resp->route = NULL;	/* observe_request reads them on every path */
	resp->body = NULL;
	resp->sendfile = false;
	if (req->body_left > HTTP_MAX_BODY_DISCARD) {
		resp->status = 413;
		keep = false;
		goto error;
	}
	if (req->has_body && (get_or_head || req->expect_continue))
		keep = false;
	else
		c->discard = req->body_left;

	router_dispatch(w->srv, req, resp);
	extra = resp->hdrs_len > 0 ? resp->hdrs : NULL;
	if (extra == NULL && req->method == HTTP_OPTIONS)
		extra = "Allow: " HTTP_ALLOW "\r\n";
	if (resp->status >= 400 && resp->body == NULL) {
		response_release(resp);
		conn_observe(c, w, req, resp, t0);
		written = conn_send_error_extra(c, w, resp->status, req->minor,
		    keep, is_head, extra);
		goto done;
	}
	if (resp->status == 304)
		is_head = true;	/* no body */
	n = http_format_head(w->head, CONN_HEAD_MAX, resp->status, req->minor,
	    keep, resp->content_type, resp->body_len, extra);
	if (n < 0) {
		response_release(resp);
		resp->status = 500;
		resp->body = NULL;	/* the error page replaces it */
		goto error;
	}
	/* the body by reference: the file's memory or its descriptor */
	if (!is_head && resp->body_len > 0) {
		c->body = resp->body;
		c->body_len = resp->body != NULL ? resp->body_len : 0;
		c->body_off = 0;
		c->body_file = resp->file;
		resp->file = NULL;
		if (resp->fd >= 0) {
			c->body_fd = resp->fd;
			c->fd_off = resp->file_off;
			c->fd_end = resp->file_off + resp->body_len;
			resp->fd = -1;
		}
	}
	response_release(resp);
	conn_observe(c, w, req, resp, t0);
	/*
	 * The last response on a connection is sent with MSG_MORE: the kernel
	 * holds its last segment until the close that follows at once, which
	 * sends it with the FIN, one packet instead of two (as nginx's
	 * tcp_nopush does). A write that has to wait still goes out as the
	 * socket drains (TCP_NODELAY), and the close pushes the rest.
	 */
	c->close_after_write = !keep;
	written = conn_write(c, w, w->head, (size_t)n);
	if (written < 0)
		conn_out_done(c);
	goto done;
error:
	conn_observe(c, w, req, resp, t0);
	written = conn_send_error(c, w, resp->status, req->minor, keep, is_head);
done:
	return conn_req_result(c, written, keep);
}

/* Carries unserved input over to the next dispatch. 0 or -1. */
static int
conn_keep_input(struct conn *c, const char *buf, size_t len)
{
	c->pending = malloc(len);
	if (c->pending == NULL)
		return -1;
	memcpy(c->pending, buf, len);
	c->pending_len = len;
	if (c->partial_since_ns == 0)
		c->partial_since_ns = stats_now_ns();
	return 0;
}

enum conn_status
conn_serve(struct conn *c, struct conn_worker *w)
{
	struct http_request req;
	char *buf = w->buf;
	size_t len = 0, off = 0;
	uint64_t t0 = c->ready_ns;
	int reads = 0, served = 0, status;
	bool drained = false;
	ssize_t r;

	if (conn_output_pending(c)) {
		/* finish the response a slow reader left unsent */
		r = conn_flush(c, w);
		if (r != 0)
			return r > 0 ? CONN_WAIT_WRITE : CONN_CLOSE;
		if (c->close_after_write)
			return CONN_CLOSE;
		t0 = c->idle_since_ns = stats_now_ns();
	}
	if (c->pending != NULL) {
		memcpy(buf, c->pending, c->pending_len);
		len = c->pending_len;
		free(c->pending);
		c->pending = NULL;
		c->pending_len = 0;
	}
	for (;;) {
		/* serve every complete request in the buffer */
		while (off < len) {
			if (c->discard > 0) {
				size_t d = len - off < c->discard ? len - off : (size_t)c->discard;

				off += d;
				c->discard -= d;
				continue;
			}
			r = http_parse_message(buf + off, len - off, &req, &status);
			if (r == -2)
				break;
			if (r < 0) {
				observe_refused(w->srv, w->shard, c, buf + off,
				    len - off, status, (stats_now_ns() - t0) / 1000u);
				if (log_debugging())
					conn_debug_bad(c, buf + off, len - off, status);
				/* req holds what was parsed: a HEAD gets no body */
				r = conn_send_error(c, w, status, 1, false,
				    req.method == HTTP_HEAD && req.method_str != NULL);
				c->linger = true;
				c->close_after_write = true;
				return r > 0 ? CONN_WAIT_WRITE : CONN_CLOSE;
			}
			off += (size_t)r;
			switch (conn_request(c, w, &req, t0)) {
			case REQ_KEEP:
				break;
			case REQ_CLOSE:
				c->linger = off < len || req.has_body;
				return CONN_CLOSE;
			case REQ_DEFERRED:
				/* later requests wait until this response is out */
				c->partial_since_ns = 0;
				c->linger = c->close_after_write && (off < len || req.has_body);
				if (!c->close_after_write && off < len &&
				    conn_keep_input(c, buf + off, len - off) < 0)
					return CONN_CLOSE;
				return CONN_WAIT_WRITE;
			}
			t0 = stats_now_ns();
			c->idle_since_ns = t0;
			c->partial_since_ns = 0;
			if (++served == CONN_REQUESTS_PER_TURN) {
				/* the rest waits for the next turn, in the connection */
				if (off < len && conn_keep_input(c, buf + off, len - off) < 0)
					return CONN_CLOSE;
				return CONN_MORE;
			}
		}
		if (off > 0) {
			memmove(buf, buf + off, len - off);
			len -= off;
			off = 0;
		}
		if (len > 0 && c->partial_since_ns == 0)
			c->partial_since_ns = stats_now_ns();
		if (reads == CONN_READS_PER_TURN)
			break;
		if (len == CONN_BUF_SIZE) {
			/* unreachable while the parser enforces HTTP_MAX_HEAD */
			conn_send_error(c, w, 431, 1, false, false);
			return CONN_CLOSE;
		}
		r = read(c->fd, buf + len, CONN_BUF_SIZE - len);
		if (r > 0) {
			size_t room = CONN_BUF_SIZE - len;

			len += (size_t)r;
			reads++;
			/*
			 * A short read means the socket was drained at that
			 * moment: skip the read that would only say EAGAIN.
			 * Anything arriving later is a new readiness event,
			 * except a FIN that came with the data (one report for
			 * both): then read on, to its end of file. Relaxed:
			 * ordered by the pool's hand-over (queue, or report
			 * and give-back), and set once for good.
			 */
			if ((size_t)r < room &&
			    !atomic_load_explicit(&c->peer_shut, memory_order_relaxed)) {
				reads = CONN_READS_PER_TURN;
				drained = true;
			}
			continue;
		}
		if (r == 0)
			return CONN_CLOSE;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			drained = true;
			break;
		}
		return CONN_CLOSE;
	}
	if (len > 0) {
		/* the head limit makes the parser fail before the buffer fills */
		if (conn_keep_input(c, buf, len) < 0)
			return CONN_CLOSE;
	} else
		c->partial_since_ns = 0;
	return drained ? CONN_WAIT : CONN_MORE;
}

/* A last error response, never waiting: the connection is closed right after. */
static bool
conn_send_final(struct conn *c, int status)
{
	char page[512];
	int n;

	c->linger = true;
	if (log_debugging())
		log_debug("connection %d: %d", c->fd, status);
	n = http_format_error(page, sizeof(page), status, 1, false, false);
	return n > 0 && send(c->fd, page, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) > 0;
}

/*
 * Counted and logged before the send, like every answer, and whether or not
 * the client still reads it: the server's decision is what is recorded (as
 * nginx logs its 408).
 */
void
conn_expire(struct conn *c, const struct server *srv, struct stats_shard *shard)
{
	if (c->pending_len == 0 || conn_output_pending(c))
		return;
	observe_refused(srv, shard, c, c->pending, c->pending_len, 408, 0);
	conn_send_final(c, 408);
}

void
conn_reject(struct conn *c, const struct server *srv, struct stats_shard *shard)
{
	observe_refused(srv, shard, c, NULL, 0, 503, 0);
	conn_send_final(c, 503);
	conn_free(c);
}

void
conn_list_push(struct conn **head, struct conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head != NULL)
		(*head)->prev = c;
	*head = c;
}

void
conn_list_remove(struct conn **head, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}
