/*
 * test_conn.c - one connection's request loop (conn_serve) driven over a
 * socketpair, the way a pool worker drives it: pipelined requests answered
 * in order, a GET body read and dropped, 413 for a body too large to drop,
 * a response the peer does not read deferred (defer_writes) and finished
 * later, the per-turn bound (CONN_MORE with the rest kept), 408 when an
 * incomplete request expires, and the peer's EOF. Every answer is counted
 * before it is written, and refused requests (400, 408, 503) reach the
 * access log.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accesslog.h"
#include "conn.h"
#include "server.h"
#include "stats.h"
#include "tap.h"
#include "testdir.h"

#define BIG_SIZE	(1u << 20)

static struct server *srv;
static struct stats *st;
static struct conn_worker w;
static int peer;		/* the client's end */

/* A connection on a fresh socketpair; the client's end goes to peer. */
static struct conn *
pair(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return NULL;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	peer = sv[1];
	return conn_new(sv[0], stats_now_ns());
}

static void
say(const char *s)
{
	if (write(peer, s, strlen(s)) != (ssize_t)strlen(s))
		printf("# short write to the socketpair\n");
}

/* Everything readable on the peer now (non-blocking), NUL-terminated. */
static char *
hear(size_t *lenp)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;

	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		r = recv(peer, buf + len, cap - len, MSG_DONTWAIT);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static void
done(struct conn *c)
{
	conn_free(c);
	close(peer);
}

static void
test_pipelining(void)
{
	struct conn *c = pair();
	char *out, *a, *b, *d;

	say("GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /cpu?n=100 HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /cpu?n=1000 HTTP/1.1\r\nHost: t\r\n\r\n");
	ok(conn_serve(c, &w) == CONN_WAIT, "pipelining: three requests, then wait for more");
	out = hear(NULL);
	a = strstr(out, "primes<=10: 4");
	b = strstr(out, "primes<=100: 25");
	d = strstr(out, "primes<=1000: 168");
	ok(count(out, "HTTP/1.1 200 OK") == 3 && a && b && d && a < b && b < d,
	    "pipelining: three 200s, in the order asked");
	free(out);
	say("GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n\r\nGET /cpu?n=100 HT");
	ok(conn_serve(c, &w) == CONN_WAIT && c->pending_len > 0,
	    "a request split across reads: the first is answered, the start of the next kept");
	free(hear(NULL));
	say("TP/1.1\r\nHost: t\r\n\r\n");
	ok(conn_serve(c, &w) == CONN_WAIT, "its rest arrives");
	out = hear(NULL);
	ok(strstr(out, "primes<=100: 25") != NULL && c->pending_len == 0,
	    "and the joined request is answered, nothing left pending");
	free(out);
	shutdown(peer, SHUT_WR);
	ok(conn_serve(c, &w) == CONN_CLOSE, "the peer's EOF closes the connection");
	done(c);
}

static void
test_body(void)
{
	struct conn *c = pair();
	char *out, req[256];

	/* RFC 9112 9.3: a well-framed body of a refused method is read and
	 * dropped, and the connection kept */
	say("POST /cpu?n=10 HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789"
	    "GET /cpu?n=100 HTTP/1.1\r\nHost: t\r\n\r\n");
	ok(conn_serve(c, &w) == CONN_WAIT, "a POST with a body: 405, the connection kept");
	out = hear(NULL);
	ok(strstr(out, "HTTP/1.1 405 ") != NULL && count(out, "HTTP/1.1 200 OK") == 1 &&
	    strstr(out, "primes<=100: 25") != NULL,
	    "its body is dropped, not taken for the next request");
	free(out);
	done(c);

	/* a GET with a body is answered, then the connection closed (strict) */
	c = pair();
	say("GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789"
	    "GET /cpu?n=100 HTTP/1.1\r\nHost: t\r\n\r\n");
	ok(conn_serve(c, &w) == CONN_CLOSE, "a GET with a body: answered, then closed");
	out = hear(NULL);
	ok(count(out, "HTTP/1.1 200 OK") == 1 && strstr(out, "primes<=10: 4") != NULL &&
	    strstr(out, "primes<=100") == NULL,
	    "the request after it is not served");
	free(out);
	done(c);

	c = pair();
	snprintf(req, sizeof(req), "GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n"
	    "Content-Length: %u\r\n\r\n", HTTP_MAX_BODY_DISCARD + 1);
	say(req);
	ok(conn_serve(c, &w) == CONN_CLOSE, "a body too large to drop closes the connection");
	out = hear(NULL);
	ok(strncmp(out, "HTTP/1.1 413 ", 13) == 0, "after a 413 (got %.20s)", out);
	free(out);
	done(c);
}

static void
test_deferred(void)
{
	struct conn *c = pair();
	enum conn_status s;
	size_t got = 0, len;
	char *out;
	int turns = 0, small = 4096;

	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	say("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n\r\n");
	s = conn_serve(c, &w);
	ok(s == CONN_WAIT_WRITE, "a 1 MiB response the peer does not read: deferred (%d)", s);
	while (s == CONN_WAIT_WRITE && turns++ < 100000) {
		out = hear(&len);
		got += len;
		free(out);
		s = conn_serve(c, &w);
	}
	out = hear(&len);
	got += len;
	ok(s == CONN_WAIT, "once the peer reads, the rest is sent and the connection waits");
	ok(got > BIG_SIZE && strstr(out, "primes<=10: 4") != NULL,
	    "the whole file came (%zu bytes), then the pipelined request's answer", got);
	free(out);
	done(c);
}

static void
test_turn_bound(void)
{
	struct conn *c = pair();
	char *out;
	int i, n;

	for (i = 0; i < 20; i++)
		say("GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n\r\n");
	ok(conn_serve(c, &w) == CONN_MORE, "20 pipelined requests: the turn ends early (CONN_MORE)");
	out = hear(NULL);
	n = count(out, "HTTP/1.1 200 OK");
	free(out);
	ok(n == 16 && c->pending_len > 0, "after 16 responses, the rest kept in the connection (%d)", n);
	ok(conn_serve(c, &w) == CONN_WAIT, "the next turn serves the rest and waits");
	out = hear(NULL);
	n = count(out, "HTTP/1.1 200 OK");
	free(out);
	ok(n == 4 && c->pending_len == 0, "the other 4 responses (%d), nothing pending", n);
	done(c);
}

static void
test_expire(void)
{
	struct conn *c = pair();
	uint64_t rto = 10 * 1000000000ull, kto = 5 * 1000000000ull;
	char *out;

	ok(conn_deadline(c, rto, kto) == c->idle_since_ns + kto,
	    "an idle connection expires after keepalive_timeout");
	conn_expire(c, srv, w.shard);
	out = hear(NULL);
	ok(out[0] == '\0', "an idle one expires silently");
	free(out);
	say("GET /cpu HTTP/1.1\r\nHos");
	ok(conn_serve(c, &w) == CONN_WAIT && c->partial_since_ns != 0,
	    "an incomplete request: wait, its first byte timed");
	ok(conn_deadline(c, rto, kto) == c->partial_since_ns + rto,
	    "it expires after request_timeout");
	conn_expire(c, srv, w.shard);
	out = hear(NULL);
	ok(strncmp(out, "HTTP/1.1 408 ", 13) == 0, "expiring it answers 408 (got %.20s)", out);
	free(out);
	done(c);
}

/* The file PATH, NUL-terminated (malloc'ed), or NULL. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = malloc(1 << 16);
	n = buf != NULL ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	if (buf != NULL)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A connection thread (its writes wait in poll) serving C, for test_counted_first. */
struct blocked {
	struct conn		*c;
	struct conn_worker	 w;
	atomic_bool		 done;
};

static void *
blocked_serve(void *arg)
{
	struct blocked *b = arg;

	conn_serve(b->c, &b->w);
	atomic_store(&b->done, true);
	return NULL;
}

/*
 * A response is counted before it is written: while its write waits for a
 * client that does not read, /metrics already shows it. Counted after the
 * write, a client could read its answer and scrape before it was counted
 * (seen once under ASan in the observe integration test).
 */
static void
test_counted_first(void)
{
	static const char *const reqs[] = {
		"GET /cpu?n=10 HTTP/1.1\r\nHost: t\r\n\r\n",
		"G@T / HTTP/1.1\r\nHost: t\r\n\r\n",	/* the parser refuses it */
	};
	char junk[4096];
	struct blocked b;
	pthread_t th;
	uint64_t before;
	bool counted;
	size_t i;
	int small = 4096, k;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		memset(&b, 0, sizeof(b));
		b.c = pair();
		if (conn_worker_init(&b.w, srv, stats_shard(st, 1)) < 0)
			return;
		b.w.defer_writes = false;	/* as a connection thread */
		setsockopt(b.c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		memset(junk, 'j', sizeof(junk));
		while (send(b.c->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		say(reqs[i]);
		before = atomic_load(&b.w.shard->requests);
		pthread_create(&th, NULL, blocked_serve, &b);
		counted = false;
		for (k = 0; k < 10000 && !counted; k++) {
			counted = atomic_load(&b.w.shard->requests) == before + 1;
			if (!counted)
				usleep(1000);
		}
		ok(counted && !atomic_load(&b.done),
		    "%s: counted while its response waits to be written",
		    i == 0 ? "a request" : "a refused request");
		while (!atomic_load(&b.done)) {
			while (recv(peer, junk, sizeof(junk), MSG_DONTWAIT) > 0)
				;
			usleep(1000);
		}
		pthread_join(th, NULL);
		conn_worker_fini(&b.w);
		done(b.c);
	}
}

/*
 * Requests refused before they are parsed whole are in the access log: the
 * parser's 400 with its request line, 408 with the part that came, 503
 * (nothing read) as "-".
 */
static void
test_refused_logged(void)
{
	char err[256] = "", *log, *out;
	struct conn *c;

	if (!ok(accesslog_open(&srv->alog, tpath("access.log"), LF_LOG_COMBINED,
	    st, err, sizeof(err)) == 0, "an access log: %s", err))
		return;
	c = pair();
	say("G@T /bad HTTP/1.1\r\nHost: t\r\n\r\n");
	ok(conn_serve(c, &w) == CONN_CLOSE, "a request the parser refuses: closed");
	out = hear(NULL);
	ok(strncmp(out, "HTTP/1.1 400 ", 13) == 0, "after a 400 (got %.20s)", out);
	free(out);
	done(c);
	c = pair();
	say("GET /slow HTTP/1.1\r\nHo");
	conn_serve(c, &w);
	conn_expire(c, srv, w.shard);
	free(hear(NULL));
	done(c);
	c = pair();
	conn_reject(c, srv, w.shard);	/* frees c */
	close(peer);
	accesslog_free(srv->alog);	/* writes what is buffered */
	srv->alog = NULL;
	log = slurp(tpath("access.log"));
	ok(log != NULL && strstr(log, "\"G@T /bad HTTP/1.1\" 400 - \"-\" \"-\"\n") != NULL,
	    "a 400 is logged with its request line as received");
	ok(log != NULL && strstr(log, "\"GET /slow HTTP/1.1\" 408 - \"-\" \"-\"\n") != NULL,
	    "a 408 with the request line that came");
	ok(log != NULL && strstr(log, "\"-\" 503 - \"-\" \"-\"\n") != NULL,
	    "a 503 with \"-\" for the request it never read");
	free(log);
}

int
main(void)
{
	struct lf_config cfg;
	char err[512], *big;
	FILE *f;

	testdir_create("test_conn");
	big = malloc(BIG_SIZE);
	memset(big, 'x', BIG_SIZE);
	f = fopen(tpath("big.bin"), "w");
	if (f == NULL || fwrite(big, 1, BIG_SIZE, f) != BIG_SIZE || fclose(f) != 0) {
		perror("big.bin");
		return 99;
	}
	free(big);
	config_init(&cfg);
	if (config_set(&cfg, "server", "docroot", tmpdir, NULL, err, sizeof(err)) < 0 ||
	    stats_create(&st) < 0 || server_build(&srv, &cfg, st, err, sizeof(err)) < 0 ||
	    conn_worker_init(&w, srv, stats_shard(st, 0)) < 0) {
		printf("# setup: %s\n", err);
		return 99;
	}
	config_free(&cfg);
	w.defer_writes = true;

	test_pipelining();
	test_body();
	test_deferred();
	test_turn_bound();
	test_expire();
	test_counted_first();
	test_refused_logged();

	conn_worker_fini(&w);
	server_free(srv);
	stats_free(st);
	testdir_remove();
	return done_testing();
}
