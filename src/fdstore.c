/*
 * fdstore.c - connections through systemd's fd store; see fdstore.h.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "conn.h"
#include "fdstore.h"
#include "listen.h"
#include "stats.h"

/* Connections per FDSTORE=1 message (SCM_RIGHTS carries at most 253). */
#define FDSTORE_BATCH	128

/* Sends the N connections on *BATCH and frees ours. 0 or -errno. */
static int
fdstore_send(struct conn **batch, size_t n)
{
	int fds[FDSTORE_BATCH], r;
	struct conn *c;
	size_t i = 0;

	for (c = *batch; c != NULL; c = c->next)
		fds[i++] = c->fd;
	r = sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=" LISTEN_FDNAME_CONN,
	    fds, (unsigned)n);
	/* systemd holds its own copies: ours close without a shutdown(), which
	 * would end the connection for systemd's copy too */
	while ((c = *batch) != NULL) {
		conn_list_remove(batch, c);
		c->linger = false;
		conn_free(c);
	}
	return r > 0 ? 0 : r < 0 ? r : -ENOTCONN;
}

int
fdstore_put(struct conn **list, struct stats_shard *sh, size_t *stored)
{
	bool store = getenv("NOTIFY_SOCKET") != NULL;
	struct conn *c, *batch = NULL;
	size_t n = 0;
	int r, rv = 0;

	*stored = 0;
	while ((c = *list) != NULL) {
		conn_list_remove(list, c);
		stats_conn_closed(sh);
		if (!store || c->fd < 0 || c->pending_len != 0 || c->out != NULL ||
		    c->discard != 0) {
			conn_free(c);
			continue;
		}
		conn_list_push(&batch, c);
		if (++n < FDSTORE_BATCH)
			continue;
		r = fdstore_send(&batch, n);
		if (r == 0)
			*stored += n;
		else if (rv == 0)
			rv = r;
		n = 0;
	}
	if (n > 0) {
		r = fdstore_send(&batch, n);
		if (r == 0)
			*stored += n;
		else if (rv == 0)
			rv = r;
	}
	/* the fds must reach systemd before it sees the process exit */
	if (*stored > 0)
		sd_notify_barrier(0, 5000000);
	return rv;
}

struct conn *
fdstore_take(int *fds, size_t n, struct stats_shard *sh, size_t *taken)
{
	struct conn *list = NULL, *c;
	uint64_t now = stats_now_ns();
	size_t i;

	*taken = 0;
	for (i = 0; i < n; i++) {
		c = conn_new(fds[i], now);
		if (c == NULL)
			break;
		fds[i] = -1;
		stats_conn_opened(sh);
		conn_list_push(&list, c);
		(*taken)++;
	}
	if (n > 0)
		sd_notify(0, "FDSTOREREMOVE=1\nFDNAME=" LISTEN_FDNAME_CONN);
	return list;
}
