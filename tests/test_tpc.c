/*
 * test_tpc.c - the thread-per-connection engine over a loopback socket, with
 * a fault injected where a connection thread sets up: the client gets 503
 * and the connection is counted closed, so /stats "connections" does not
 * drift. The fault is injected by linking with -Wl,--wrap=conn_worker_init
 * (see Makefile.am): no test hook in the daemon.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "engine.h"
#include "server.h"
#include "stats.h"
#include "tap.h"

/* Set: the next connection threads fail to set up, as if out of memory. */
static atomic_bool fail_worker_init;

int __real_conn_worker_init(struct conn_worker *w, const struct server *srv,
    struct stats_shard *shard);
int __wrap_conn_worker_init(struct conn_worker *w, const struct server *srv,
    struct stats_shard *shard);

int
__wrap_conn_worker_init(struct conn_worker *w, const struct server *srv,
    struct stats_shard *shard)
{
	if (atomic_load(&fail_worker_init)) {
		w->buf = NULL;
		return -ENOMEM;
	}
	return __real_conn_worker_init(w, srv, shard);
}

/* One request on a fresh connection; the status, or -1. Reads until EOF. */
static int
request(int port, char *body, size_t bodylen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { 5, 0 };
	const char *req = "GET /cpu?n=10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char buf[4096];
	size_t len = 0;
	ssize_t r;
	int fd, status = -1;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		goto out;
	while (len < sizeof(buf) - 1 &&
	    (r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	if (body != NULL) {
		const char *b = strstr(buf, "\r\n\r\n");

		snprintf(body, bodylen, "%s", b != NULL ? b + 4 : "");
	}
out:
	close(fd);
	return status;
}

/* Open connections in ST once the count settles (up to 3 s). */
static uint64_t
open_conns(struct stats *st)
{
	struct stats_snapshot s;
	int i;

	for (i = 0; i < 300; i++) {
		stats_total(st, &s);
		if (s.connections == 0)
			break;
		usleep(10000);
	}
	return s.connections;
}

int
main(void)
{
	struct lf_config cfg;
	struct stats *st = NULL;
	struct server *srv = NULL;
	struct engine *e = NULL;
	struct engine_params prm;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	char err[512] = "", body[256];
	int lfd = -1, port, i, n503 = 0;

	config_init(&cfg);
	cfg.mode = LF_MODE_TPC;
	if (!ok(stats_create(&st) == 0 &&
	    server_build(&srv, &cfg, st, err, sizeof(err)) == 0,
	    "a thread-per-connection server (%s)", err))
		goto out;
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!ok(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(lfd, 64) == 0, "listening on 127.0.0.1, a free port"))
		goto out;
	getsockname(lfd, (struct sockaddr *)&sa, &salen);
	port = ntohs(sa.sin_port);
	prm.srv = srv;
	prm.lfds = &lfd;
	prm.nlfds = 1;
	if (!ok(engine_start(&e, &prm, NULL) == 0, "the engine starts"))
		goto out;

	ok(request(port, body, sizeof(body)) == 200 &&
	    strcmp(body, "primes<=10: 4\n") == 0, "a request is served (%s)", body);
	ok(open_conns(st) == 0, "its connection is counted closed");

	atomic_store(&fail_worker_init, true);
	for (i = 0; i < 5; i++)
		n503 += request(port, NULL, 0) == 503;
	ok(n503 == 5, "5 connections whose thread cannot set up: 503 each (%d)", n503);
	ok(open_conns(st) == 0,
	    "and /stats counts them closed: connections 0 (got %llu)",
	    (unsigned long long)open_conns(st));
	atomic_store(&fail_worker_init, false);

	ok(request(port, body, sizeof(body)) == 200, "then a request is served again");
	ok(open_conns(st) == 0, "connections 0 at the end");
out:
	if (e != NULL) {
		engine_stop(e, NULL);
		engine_free(e);
	}
	if (lfd >= 0)
		close(lfd);
	server_free(srv);
	stats_free(st);
	config_free(&cfg);
	return done_testing();
}
