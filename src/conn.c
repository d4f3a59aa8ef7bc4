/*
 * conn.c - one connection's reads, request loop and writes; see conn.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"
#include "observe.h"
#include "router.h"
#include "server.h"
#include "stats.h"

/* Reads per dispatch before giving the worker to other connections (CONN_MORE). */
#define CONN_READS_PER_TURN	4
/* Requests per dispatch: a pipelining client cannot hold a worker, a reload or a stop. */
#define CONN_REQUESTS_PER_TURN	16

struct conn *
conn_new(int fd, uint64_t now_ns)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
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
	free(c->out);
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
	return w->buf == NULL ? -ENOMEM : 0;
}

void
conn_worker_fini(struct conn_worker *w)
{
	free(w->buf);
	w->buf = NULL;
}

uint64_t
conn_deadline(const struct conn *c, uint64_t request_timeout_ns,
    uint64_t keepalive_timeout_ns)
{
	if (c->out != NULL)
		return c->out_since_ns + request_timeout_ns;
	if (c->partial_since_ns != 0)
		return c->partial_since_ns + request_timeout_ns;
	return c->idle_since_ns + keepalive_timeout_ns;
}

/* Keeps what IOV still holds in c->out, to be sent when the socket is writable. */
static int
conn_defer(struct conn *c, const struct iovec *iov, int n)
{
	size_t total = 0, at = 0;
	char *p;
	int i;

	c->out_since_ns = stats_now_ns();
	if (n == 1 && c->out != NULL && (char *)iov->iov_base >= c->out &&
	    (char *)iov->iov_base < c->out + c->out_len) {
		/* the rest of c->out itself (conn_flush): just move the offset */
		c->out_off = (size_t)((char *)iov->iov_base - c->out);
		return 1;
	}
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	p = malloc(total);
	if (p == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		memcpy(p + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	/* IOV may point into the old c->out: copy first, free after */
	free(c->out);
	c->out = p;
	c->out_len = total;
	c->out_off = 0;
	return 1;
}

/*
 * Writes all of IOV. When the socket's buffer is full, a pool worker
 * (w->defer_writes) keeps the rest in c->out and returns 1, so that a slow
 * reader never holds a worker: the engine waits for POLLOUT instead. A
 * connection thread waits in poll() itself, up to request_timeout without
 * progress.
 * Returns 0 when everything is written, 1 when deferred, -1 on failure.
 */
static int
conn_write(struct conn *c, struct conn_worker *w, struct iovec *iov, int n)
{
	uint64_t deadline = 0;
	ssize_t r;

	while (n > 0) {
		r = writev(c->fd, iov, n);
		if (r < 0) {
			struct pollfd p = { .fd = c->fd, .events = POLLOUT };
			uint64_t now;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			if (w->defer_writes)
				return conn_defer(c, iov, n);
			/* (a connection thread; pool workers never wait here) */
			now = stats_now_ns();
			if (deadline == 0)
				deadline = now + w->request_timeout_ns;
			if (now >= deadline)
				return -1;
			if (poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) < 0 &&
			    errno != EINTR)
				return -1;
			continue;
		}
		/* progress: a reader that keeps reading gets request_timeout anew */
		deadline = 0;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

/* Sends what an earlier conn_write deferred. 0 done, 1 still waiting, -1 failed. */
static int
conn_flush(struct conn *c, struct conn_worker *w)
{
	struct iovec iov = { c->out + c->out_off, c->out_len - c->out_off };
	int r;

	r = conn_write(c, w, &iov, 1);
	if (r == 0) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
	}
	return r;
}

/* Sends an error page: as conn_write. */
static int
conn_send_error(struct conn *c, struct conn_worker *w, int status, int minor,
    bool keep_alive, bool head)
{
	char page[1024];
	struct iovec iov;
	int n;

	n = http_format_error(page, sizeof(page), status, minor, keep_alive, head);
	if (n < 0)
		return -1;
	iov.iov_base = page;
	iov.iov_len = (size_t)n;
	return conn_write(c, w, &iov, 1);
}

enum conn_req { REQ_KEEP, REQ_CLOSE, REQ_DEFERRED };

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
 * c->close_after_write says). A request with a body it must not have is
 * answered and the connection closed: we never read a body we cannot trust
 * as the start of the next request.
 */
static enum conn_req
conn_request(struct conn *c, struct conn_worker *w, const struct http_request *req,
    uint64_t t0)
{
	struct response resp;
	char head[512], extra[64];
	struct iovec iov[2];
	bool keep = req->keep_alive, is_head = req->method == HTTP_HEAD;
	bool get_or_head = req->method == HTTP_GET || is_head;
	int n, written;

	resp.route = NULL;	/* observe_request reads them on every path */
	resp.body = NULL;
	if (req->has_body && (!get_or_head || req->chunked))
		keep = false;
	else if (req->has_body && req->content_length > HTTP_MAX_BODY_DISCARD) {
		resp.status = 413;
		keep = false;
		goto error;
	} else if (req->has_body)
		c->discard = req->content_length;

	router_dispatch(w->srv, req, &resp);
	if (resp.status >= 400 && resp.body == NULL)
		goto error;
	if (resp.etag != NULL) {
		snprintf(extra, sizeof(extra), "ETag: %s\r\n", resp.etag);
		if (resp.status == 304)
			is_head = true;	/* no body */
	}
	n = http_format_head(head, sizeof(head), resp.status, req->minor, keep,
	    resp.content_type, resp.body_len, resp.etag != NULL ? extra : NULL);
	if (n < 0) {
		resp.status = 500;
		goto error;
	}
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)resp.body;
	iov[1].iov_len = resp.body_len;
	written = conn_write(c, w, iov, is_head || resp.body_len == 0 ? 1 : 2);
	observe_request(w, c->fd, req, &resp, t0);
	return conn_req_result(c, written, keep);
error:
	written = conn_send_error(c, w, resp.status, req->minor, keep, is_head);
	observe_request(w, c->fd, req, &resp, t0);
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

	if (c->out != NULL) {
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
			r = http_parse_request(buf + off, len - off, &req, &status);
			if (r == -2)
				break;
			if (r < 0) {
				/* req holds what was parsed: a HEAD gets no body */
				r = conn_send_error(c, w, status, 1, false,
				    req.method == HTTP_HEAD && req.method_str != NULL);
				stats_request(w->shard, status, (stats_now_ns() - t0) / 1000u);
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
			 * Anything arriving later is a new readiness event.
			 */
			if ((size_t)r < room) {
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
	n = http_format_error(page, sizeof(page), status, 1, false, false);
	return n > 0 && send(c->fd, page, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) > 0;
}

void
conn_expire(struct conn *c, struct stats_shard *shard)
{
	if (c->pending_len > 0 && c->out == NULL && conn_send_final(c, 408))
		stats_request(shard, 408, 0);
}

void
conn_reject(struct conn *c, struct stats_shard *shard)
{
	conn_send_final(c, 503);
	stats_request(shard, 503, 0);
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
