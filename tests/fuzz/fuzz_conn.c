/*
 * fuzz_conn.c - libFuzzer target for one connection's request loop:
 * conn_serve() of the real library, as a pool worker runs it (deferred
 * writes), over a non-blocking socketpair, with a server built from a real
 * config (a small docroot with a file larger than the socket buffer, routes
 * whose /cpu and /io are capped so that no input can make a slow run).
 *
 * The input is a script of chunks: a control byte, then the bytes to send.
 * Control bits 0-5 give the length (1..64), bit 6 multiplies it by 64, and
 * bit 7 set means the client does not read its responses this round (a slow
 * reader). After each chunk the connection is served until it waits; at the
 * end the client shuts down its side and reads everything.
 *
 * Besides memory errors and UB it aborts on broken contracts: a connection
 * that neither waits nor closes after many turns (a livelock), CONN_WAIT_WRITE
 * without deferred output, carried input larger than the read buffer, output
 * that does not begin with an HTTP/1.x status line, or a connection that is
 * not closed once the client has shut down and read everything.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "lfconfig.h"
#include "server.h"
#include "stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define TURNS_MAX	10000	/* conn_serve calls per input before it is a livelock */

static struct server *srv;
static struct stats *stats;
static struct conn_worker worker;
static char dir[256];

static void
write_file(const char *name, const char *content, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fwrite(content, 1, len, f) != len ||
	    fclose(f) != 0)
		abort();
}

static void
cleanup(void)
{
	char cmd[300];

	conn_worker_fini(&worker);
	server_free(srv);
	stats_free(stats);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (strstr(dir, "/lfserver-fuzz-conn.") != NULL && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char routes[] =
	    "routes = (\n"
	    "  { path = \"/cpu\"; handler = \"cpu\"; n = 100; n_max = 1000; },\n"
	    "  { path = \"/io\"; handler = \"io\"; ms = 0; ms_max = 0; },\n"
	    "  { path = \"/mixed\"; handler = \"mixed\"; n = 100; ms = 0; },\n"
	    "  { path = \"/stats\"; handler = \"stats\"; },\n"
	    "  { path = \"/\"; handler = \"static\"; }\n"
	    ");\n";
	const char *t = getenv("TMPDIR");
	struct lf_config cfg;
	char err[1024], path[512], *big;
	size_t bigsz = 300 * 1024;

	snprintf(dir, sizeof(dir), "%s/lfserver-fuzz-conn.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/www", dir);
	if (mkdir(path, 0700) != 0)
		abort();
	write_file("www/index.html", "<p>hello</p>\n", 13);
	write_file("www/.secret", "no\n", 3);
	if ((big = malloc(bigsz)) == NULL)
		abort();
	memset(big, 'x', bigsz);
	write_file("www/big.bin", big, bigsz);
	free(big);
	write_file("routes.conf", routes, sizeof(routes) - 1);

	config_init(&cfg);
	snprintf(path, sizeof(path), "%s/www", dir);
	if (config_set(&cfg, "server", "docroot", path, NULL, err, sizeof(err)) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/routes.conf", dir);
	if (config_set(&cfg, "server", "routes", path, NULL, err, sizeof(err)) != 0)
		goto fail;
	if (stats_create(&stats) != 0) {
		snprintf(err, sizeof(err), "stats_create failed");
		goto fail;
	}
	if (server_build(&srv, &cfg, stats, err, sizeof(err)) != 0)
		goto fail;
	if (conn_worker_init(&worker, srv, stats_shard(stats, 0)) != 0) {
		snprintf(err, sizeof(err), "conn_worker_init failed");
		goto fail;
	}
	worker.defer_writes = true;	/* as a pool worker: never wait for POLLOUT */
	config_free(&cfg);
	atexit(cleanup);
	return 0;
fail:
	fprintf(stderr, "fuzz_conn: setup: %s\n", err);
	abort();
}

struct client {
	int	 fd;
	size_t	 seen;		/* bytes of output read so far */
	char	 first[7];
	bool	 eof;
};

/* Reads what the server sent; the first bytes must be a status line. */
static void
client_read(struct client *cl)
{
	char buf[65536];
	size_t k;
	ssize_t n;

	while ((n = read(cl->fd, buf, sizeof(buf))) > 0) {
		for (k = 0; cl->seen + k < sizeof(cl->first) && k < (size_t)n; k++)
			cl->first[cl->seen + k] = buf[k];
		cl->seen += (size_t)n;
		if (cl->seen >= sizeof(cl->first) &&
		    memcmp(cl->first, "HTTP/1.", sizeof(cl->first)) != 0)
			abort();
	}
	if (n == 0)
		cl->eof = true;
	else if (errno != EAGAIN)
		cl->eof = true;	/* ECONNRESET after a close with unread input */
}

/* Serves C until it waits (or closes); READING: the client drains meanwhile. */
static enum conn_status
serve(struct conn *c, struct client *cl, bool reading, unsigned *turns)
{
	enum conn_status st;

	for (;;) {
		if (++*turns > TURNS_MAX)
			abort();
		st = conn_serve(c, &worker);
		if (c->pending_len > CONN_BUF_SIZE)
			abort();
		if (st == CONN_WAIT_WRITE && !conn_output_pending(c))
			abort();
		if (st == CONN_MORE)
			continue;
		if (st == CONN_WAIT_WRITE && reading) {
			client_read(cl);
			continue;
		}
		return st;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client cl = { .fd = -1 };
	enum conn_status st = CONN_WAIT;
	unsigned turns = 0;
	struct conn *c;
	size_t pos = 0, len;
	ssize_t n;
	bool reading;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) != 0)
		abort();
	cl.fd = sv[1];
	if ((c = conn_new(sv[0], stats_now_ns())) == NULL)
		abort();
	while (pos < size && st != CONN_CLOSE) {
		len = (data[pos] & 0x3f) + 1u;
		if (data[pos] & 0x40)
			len *= 64;
		reading = (data[pos] & 0x80) == 0;
		pos++;
		if (len > size - pos)
			len = size - pos;
		while (len > 0 && st != CONN_CLOSE) {
			n = write(cl.fd, data + pos, len);
			if (n < 0 && errno != EAGAIN)
				break;	/* the server closed: EPIPE */
			if (n > 0) {
				pos += (size_t)n;
				len -= (size_t)n;
			}
			st = serve(c, &cl, reading || n <= 0, &turns);
			if (n <= 0)
				client_read(&cl);	/* both buffers full */
		}
		if (reading)
			client_read(&cl);
	}
	/* the client is done sending: everything must end in a close */
	shutdown(cl.fd, SHUT_WR);
	while (st != CONN_CLOSE) {
		st = serve(c, &cl, true, &turns);
		client_read(&cl);
	}
	conn_free(c);
	while (!cl.eof)
		client_read(&cl);
	close(cl.fd);
	return 0;
}
