/*
 * admin.c - the admin listener's thread; see admin.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"
#include "http.h"
#include "metrics.h"
#include "stats.h"

#define ADMIN_CLIENTS		16
#define ADMIN_LISTENERS		8
#define ADMIN_IN_SIZE		4096
#define ADMIN_DEADLINE_NS	(5 * 1000000000ull)

struct admin_client {
	int		 fd;		/* -1: slot free */
	char		 in[ADMIN_IN_SIZE];
	size_t		 in_len;
	char		*out;		/* NULL: still reading the request */
	size_t		 out_len, out_off;
	uint64_t	 deadline_ns;
};

struct admin {
	struct stats		*stats;
	int			 lfds[ADMIN_LISTENERS];
	size_t			 nlfds;
	int			 stopfd;	/* eventfd: admin_stop's signal */
	pthread_t		 thread;
	struct admin_client	 client[ADMIN_CLIENTS];
};

static void
admin_client_close(struct admin_client *c)
{
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->in_len = c->out_len = c->out_off = 0;
}

/* Head and BODY (BODY_LEN bytes, not sent for HEAD) into c->out. */
static int
admin_respond(struct admin_client *c, const struct http_request *req, int status,
    const char *type, const char *body, size_t body_len)
{
	char head[512];
	bool is_head = req->method == HTTP_HEAD;
	int n;

	if (status >= 400) {
		char page[1024];

		n = http_format_error(page, sizeof(page), status, req->minor, false, is_head);
		if (n < 0)
			return -1;
		c->out = malloc((size_t)n);
		if (c->out == NULL)
			return -1;
		memcpy(c->out, page, (size_t)n);
		c->out_len = (size_t)n;
		return 0;
	}
	n = http_format_head(head, sizeof(head), status, req->minor, false, type,
	    body_len, NULL);
	if (n < 0)
		return -1;
	if (is_head)
		body_len = 0;
	c->out = malloc((size_t)n + body_len);
	if (c->out == NULL)
		return -1;
	memcpy(c->out, head, (size_t)n);
	memcpy(c->out + n, body, body_len);
	c->out_len = (size_t)n + body_len;
	return 0;
}

static bool
admin_path_is(const struct http_request *req, const char *path)
{
	return req->path_len == strlen(path) && memcmp(req->path, path, req->path_len) == 0;
}

/* A complete request head is in c->in: make its response. -1: close. */
static int
admin_serve(struct admin *a, struct admin_client *c, const struct http_request *req)
{
	struct stats_info info;
	char json[1024], *body;
	size_t len;
	int n, r;

	if (req->method != HTTP_GET && req->method != HTTP_HEAD)
		return admin_respond(c, req, req->method == HTTP_METHOD_OTHER ? 501 : 405,
		    NULL, NULL, 0);
	if (admin_path_is(req, "/metrics")) {
		if (metrics_prometheus(a->stats, &body, &len) < 0)
			return admin_respond(c, req, 500, NULL, NULL, 0);
		r = admin_respond(c, req, 200, METRICS_CONTENT_TYPE, body, len);
		free(body);
		return r;
	}
	if (admin_path_is(req, "/stats")) {
		stats_get_info(a->stats, &info);
		n = metrics_json(json, sizeof(json), a->stats, &info);
		if (n < 0)
			return admin_respond(c, req, 500, NULL, NULL, 0);
		return admin_respond(c, req, 200, "application/json", json, (size_t)n);
	}
	return admin_respond(c, req, 404, NULL, NULL, 0);
}

static void
admin_read(struct admin *a, struct admin_client *c)
{
	struct http_request req;
	int status = 400;
	ssize_t r;

	r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		admin_client_close(c);
		return;
	}
	c->in_len += (size_t)r;
	memset(&req, 0, sizeof(req));
	r = http_parse_request(c->in, c->in_len, &req, &status);
	if (r == -2 && c->in_len < sizeof(c->in))
		return;
	if (r == -2)
		status = 431;
	if (r < 0) {
		req.minor = 1;
		r = admin_respond(c, &req, status, NULL, NULL, 0);
	} else
		r = admin_serve(a, c, &req);
	if (r < 0)
		admin_client_close(c);
}

static void
admin_write(struct admin_client *c)
{
	ssize_t r;

	r = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0)
		c->out_off += (size_t)r;
	if (r < 0 || c->out_off == c->out_len) {
		/* our side done; the client closes its side after reading */
		shutdown(c->fd, SHUT_WR);
		admin_client_close(c);
	}
}

static void
admin_accept(struct admin *a, int lfd)
{
	struct admin_client *c = NULL;
	size_t i;
	int fd;

	for (i = 0; i < ADMIN_CLIENTS && c == NULL; i++)
		if (a->client[i].fd < 0)
			c = &a->client[i];
	if (c == NULL)
		return;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c->fd = fd;
	c->in_len = 0;
	c->deadline_ns = stats_now_ns() + ADMIN_DEADLINE_NS;
}

static void *
admin_thread(void *arg)
{
	struct admin *a = arg;
	struct pollfd pfd[1 + ADMIN_LISTENERS + ADMIN_CLIENTS];
	struct admin_client *who[ADMIN_CLIENTS];
	size_t i, n, nc;
	uint64_t now;
	bool room;

	pthread_setname_np(pthread_self(), "lf-admin");
	for (;;) {
		pfd[0].fd = a->stopfd;
		pfd[0].events = POLLIN;
		n = 1;
		room = false;
		for (i = 0; i < ADMIN_CLIENTS; i++)
			room |= a->client[i].fd < 0;
		/* with every slot taken, new clients wait in the backlog */
		for (i = 0; i < a->nlfds; i++) {
			pfd[n].fd = room ? a->lfds[i] : -1;
			pfd[n++].events = POLLIN;
		}
		nc = 0;
		for (i = 0; i < ADMIN_CLIENTS; i++) {
			struct admin_client *c = &a->client[i];

			if (c->fd < 0)
				continue;
			who[nc++] = c;
			pfd[n].fd = c->fd;
			pfd[n++].events = c->out != NULL ? POLLOUT : POLLIN;
		}
		if (poll(pfd, n, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		for (i = 0; i < a->nlfds; i++)
			if (pfd[1 + i].revents != 0)
				admin_accept(a, a->lfds[i]);
		now = stats_now_ns();
		for (i = 0; i < nc; i++) {
			struct admin_client *c = who[i];
			short ev = pfd[1 + a->nlfds + i].revents;

			if (ev != 0 && c->out == NULL)
				admin_read(a, c);
			else if (ev != 0)
				admin_write(c);
			if (c->fd >= 0 && now >= c->deadline_ns)
				admin_client_close(c);
		}
	}
	return NULL;
}

int
admin_start(struct admin **out, const int *fds, size_t n, struct stats *s)
{
	struct admin *a;
	size_t i;
	int r;

	if (n > ADMIN_LISTENERS)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	a->stats = s;
	a->nlfds = n;
	memcpy(a->lfds, fds, n * sizeof(*fds));
	for (i = 0; i < ADMIN_CLIENTS; i++)
		a->client[i].fd = -1;
	a->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->stopfd < 0) {
		r = -errno;
		free(a);
		return r;
	}
	r = -pthread_create(&a->thread, NULL, admin_thread, a);
	if (r < 0) {
		close(a->stopfd);
		free(a);
		return r;
	}
	*out = a;
	return 0;
}

void
admin_stop(struct admin *a)
{
	uint64_t one = 1;
	ssize_t w;
	size_t i;

	if (a == NULL)
		return;
	w = write(a->stopfd, &one, sizeof(one));
	(void)w;	/* an eventfd write cannot fail short of overflow */
	pthread_join(a->thread, NULL);
	for (i = 0; i < ADMIN_CLIENTS; i++)
		if (a->client[i].fd >= 0)
			admin_client_close(&a->client[i]);
	close(a->stopfd);
	free(a);
}
