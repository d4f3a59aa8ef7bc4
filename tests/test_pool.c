/*
 * test_pool.c - the pool engines' connection ownership: the state protocol
 * of pool_state.c step by step (including a report that lands between a
 * give-back's two steps, which a scheduler rarely produces), then the real
 * engines over loopback with pipelining clients that keep writing while
 * workers serve, so that the reactor reports connections their workers own
 * (the EVENTED path) thousands of times, with that path's window widened.
 * Every response must come back, in order, on its own connection. And a
 * client's last request sent with its FIN is answered and closed at once.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine.h"
#include "pool_state.h"
#include "server.h"
#include "stats.h"
#include "tap.h"

/* ---- the protocol, one step at a time ---- */

static int hook_calls, hook_saw_idle, hook_report_took;

/* Plays the reactor (a report, and the idle sweep's look) inside the window. */
static void
hook_reactor(_Atomic int *state)
{
	hook_calls++;
	hook_saw_idle += pool_state_idle(state);
	hook_report_took += pool_state_report(state);
}

static void
test_protocol(void)
{
	_Atomic int st = POOL_WORKING;

	ok(!pool_state_report(&st) && st == POOL_EVENTED,
	    "a report while a worker serves: not queued, state EVENTED");
	pool_state_test_hook = hook_reactor;
	ok(pool_state_giveback(&st), "the give-back sees the report: the worker keeps it");
	ok(hook_calls == 1, "the window between seeing EVENTED and taking it back was run");
	ok(hook_saw_idle == 0,
	    "inside that window the connection never looks idle (the sweep cannot free it)");
	ok(hook_report_took == 0,
	    "a report inside that window does not queue it to a second worker");
	ok(st == POOL_WORKING, "after the give-back the worker owns it (WORKING)");
	ok(!pool_state_giveback(&st) && st == POOL_ARMED && pool_state_idle(&st),
	    "a give-back with no report arms it (idle)");
	ok(hook_calls == 1, "that give-back had no window");
	ok(pool_state_report(&st) && st == POOL_WORKING && !pool_state_idle(&st),
	    "a report of an armed connection takes it for the queue (WORKING)");
	pool_state_test_hook = NULL;
}

/* ---- the engines under pipelining clients ---- */

#define CLIENTS		8
#define REQUESTS	600

static _Atomic unsigned long window_calls, window_armed;

/* Widens the window the old give-back had, and checks it stays closed. */
static void
hook_widen(_Atomic int *state)
{
	unsigned long n = atomic_fetch_add(&window_calls, 1);

	if (pool_state_idle(state))
		atomic_fetch_add(&window_armed, 1);
	if (n % 8 == 0)
		usleep(200);
}

struct client {
	int		 fd;
	_Atomic unsigned answered;	/* responses read, in order */
	const char	*error;
	_Atomic bool	 done;		/* the reader stopped */
	char		 buf[1 << 16];
};

static void *
client_writer(void *arg)
{
	struct client *cl = arg;
	char req[256];
	size_t len = 0;
	unsigned i;

	for (i = 0; i < REQUESTS; i++) {
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "GET /cpu?n=%u HTTP/1.1\r\nHost: t\r\n\r\n", 3000 + i);
		/* one to three requests per write, so input keeps arriving */
		if (i % 3 == 2 || i + 1 == REQUESTS) {
			if (send(cl->fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
				break;
			len = 0;
			/* a few requests in flight: more input arrives while a
			 * worker serves the previous ones, all along the run */
			while (i + 1 - atomic_load(&cl->answered) > 6 && !cl->done)
				usleep(5);
		}
	}
	return NULL;
}

/* Reads REQUESTS responses and checks each answers the request of its rank. */
static void
client_read(struct client *cl)
{
	char *buf = cl->buf;
	size_t len = 0, off = 0;
	unsigned i;

	for (i = 0; i < REQUESTS; i++) {
		char want[64], *end, *cl_hdr;
		size_t head, body;
		ssize_t r;

		for (;;) {
			end = memmem(buf + off, len - off, "\r\n\r\n", 4);
			if (end != NULL) {
				head = (size_t)(end + 4 - (buf + off));
				cl_hdr = memmem(buf + off, head, "Content-Length: ", 16);
				body = cl_hdr ? strtoul(cl_hdr + 16, NULL, 10) : 0;
				if (len - off >= head + body)
					break;
			}
			if (off > 0) {
				memmove(buf, buf + off, len - off);
				len -= off;
				off = 0;
			}
			r = recv(cl->fd, buf + len, sizeof(cl->buf) - len, 0);
			if (r <= 0) {
				cl->error = r == 0 ? "connection closed early" :
				    "no response within 30 s";
				return;
			}
			len += (size_t)r;
		}
		snprintf(want, sizeof(want), "primes<=%u: ", 3000 + i);
		if (strncmp(buf + off, "HTTP/1.1 200 ", 13) != 0 ||
		    body < strlen(want) ||
		    memcmp(buf + off + head, want, strlen(want)) != 0) {
			cl->error = "a response out of order or wrong";
			return;
		}
		off += head + body;
		cl->answered++;
	}
}

/* One client: a writer thread pipelines, this one reads. */
static void *
client_run(void *arg)
{
	struct client *cl = arg;
	pthread_t wr;

	if (pthread_create(&wr, NULL, client_writer, cl) != 0) {
		cl->error = "no writer thread";
		return NULL;
	}
	client_read(cl);
	cl->done = true;
	shutdown(cl->fd, SHUT_RDWR);
	pthread_join(wr, NULL);
	return NULL;
}

static int
listen_loopback(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 128) < 0 || getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
connect_loopback(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 30 };
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

#define HALFCLOSE_ROUNDS	20

/*
 * A client that sends its last request and its FIN together, on a keep-alive
 * connection the reactor already watches: the response and then the server's
 * close must follow at once, not at keepalive_timeout (30 s here; the client
 * waits 5 s). The data and the FIN often make one epoll report; a worker that
 * took its short read for "drained" left the end of file unread, and no new
 * edge came for it. Returns the rounds that got both, of HALFCLOSE_ROUNDS.
 */
static int
halfclose_rounds(int port)
{
	static const char req[] = "GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n\r\n";
	struct timeval tv = { .tv_sec = 5 };
	char buf[4096];
	int i, fd, good = 0;

	for (i = 0; i < HALFCLOSE_ROUNDS; i++) {
		size_t got = 0;
		ssize_t r;
		bool eof = false;

		fd = connect_loopback(port);
		if (fd < 0)
			break;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		/* a first exchange: the connection is registered and idle */
		if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != sizeof(req) - 1 ||
		    recv(fd, buf, sizeof(buf), 0) <= 0) {
			close(fd);
			break;
		}
		usleep(10000);
		if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == sizeof(req) - 1 &&
		    shutdown(fd, SHUT_WR) == 0) {
			while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
				got += (size_t)r;
			eof = r == 0;
		}
		close(fd);
		if (!eof || got == 0) {
			printf("# half-close round %d: %s after %zu bytes\n", i,
			    eof ? "no response" : "no end of file within 5 s", got);
			break;
		}
		good++;
	}
	return good;
}

static void
run_engine(const char *mode, const char *reactors)
{
	struct lf_config cfg;
	struct server *srv = NULL;
	struct stats *st = NULL;
	struct engine *e = NULL;
	struct engine_params prm;
	struct client *cl;
	pthread_t th[CLIENTS];
	char err[512], what[64];
	unsigned total = 0;
	int lfd, port = 0, i, bad = 0;

	snprintf(what, sizeof(what), "%s, %s reactor(s)", mode, reactors);
	config_init(&cfg);
	if (config_set(&cfg, "server", "mode", mode, NULL, err, sizeof(err)) < 0 ||
	    config_set(&cfg, "server", "workers", "4", NULL, err, sizeof(err)) < 0 ||
	    config_set(&cfg, "server", "queue_capacity", "2", NULL, err, sizeof(err)) < 0 ||
	    config_set(&cfg, "server", "reactors", reactors, NULL, err, sizeof(err)) < 0 ||
	    config_set(&cfg, "server", "keepalive_timeout", "30", NULL, err, sizeof(err)) < 0 ||
	    stats_create(&st) < 0 || server_build(&srv, &cfg, st, err, sizeof(err)) < 0) {
		ok(0, "%s: a server to test (%s)", what, err);
		return;
	}
	config_free(&cfg);
	lfd = listen_loopback(&port);
	prm.srv = srv;
	prm.lfds = &lfd;
	prm.nlfds = 1;
	atomic_store(&window_calls, 0);
	atomic_store(&window_armed, 0);
	pool_state_test_hook = hook_widen;
	ok(lfd >= 0 && engine_start(&e, &prm, NULL) == 0, "%s: the engine starts", what);
	cl = calloc(CLIENTS, sizeof(*cl));
	for (i = 0; cl != NULL && i < CLIENTS; i++) {
		cl[i].fd = connect_loopback(port);
		if (cl[i].fd < 0 || pthread_create(&th[i], NULL, client_run, &cl[i]) != 0) {
			cl[i].error = "cannot connect";
			if (cl[i].fd >= 0)
				close(cl[i].fd);
			cl[i].fd = -1;
		}
	}
	for (i = 0; cl != NULL && i < CLIENTS; i++) {
		if (cl[i].fd < 0)
			continue;
		pthread_join(th[i], NULL);
		close(cl[i].fd);
	}
	for (i = 0; cl != NULL && i < CLIENTS; i++) {
		total += cl[i].answered;
		if (cl[i].error != NULL) {
			if (!bad++)
				printf("# client %d: %s after %u responses\n", i,
				    cl[i].error, cl[i].answered);
		}
	}
	ok(bad == 0 && total == CLIENTS * REQUESTS,
	    "%s: %d pipelining clients got all %u responses, each in order (%u)",
	    what, CLIENTS, CLIENTS * REQUESTS, total);
	printf("# %s: the EVENTED path was taken %lu times\n", what,
	    atomic_load(&window_calls));
	ok(atomic_load(&window_calls) > 0,
	    "%s: the reactor reported connections their workers owned", what);
	ok(atomic_load(&window_armed) == 0,
	    "%s: no give-back that saw a report let the connection look idle", what);
	free(cl);
	ok(halfclose_rounds(port) == HALFCLOSE_ROUNDS,
	    "%s: a last request sent with the client's FIN is answered, then "
	    "closed at once (%d rounds)", what, HALFCLOSE_ROUNDS);
	engine_stop(e, NULL);
	engine_free(e);
	pool_state_test_hook = NULL;
	if (lfd >= 0)
		close(lfd);
	server_free(srv);
	stats_free(st);
}

int
main(void)
{
	test_protocol();
	run_engine("lockfree", "1");
	run_engine("locked", "1");
	/* the same with connections spread over three reactors */
	run_engine("lockfree", "3");
	return done_testing();
}
