/*
 * fdstore.h - idle keep-alive connections kept across a restart in systemd's
 * file descriptor store (FileDescriptorStoreMax= in lfserver.service).
 *
 * At a stop, after the engine drained, the connections with nothing
 * buffered go to systemd (sd_pid_notify_with_fds, "FDSTORE=1", named
 * LISTEN_FDNAME_CONN); the next lfserver gets them back after its listening
 * sockets (listen_passed) and adopts them. systemd keeps a stored fd until it
 * hangs up or the unit stops with no start queued (a plain stop), so a
 * `systemctl restart` or a package upgrade closes none of them.
 */
#ifndef LF_FDSTORE_H
#define LF_FDSTORE_H

#include <stddef.h>

struct conn;
struct stats_shard;

/*
 * Hands every connection on *LIST that has no partial request, unsent
 * output or body to discard to systemd's store and frees them all (the
 * others are closed; without NOTIFY_SOCKET, all are). Counts each as closed
 * in SH. *STORED: how many went to the store. 0, or the first -errno from
 * sd_pid_notify_with_fds (those connections closed instead).
 */
int fdstore_put(struct conn **list, struct stats_shard *sh, size_t *stored);
/*
 * The N connected sockets systemd passed back (listen_set.conns) as a conn
 * list to adopt; each fd taken is set to -1 and counted as opened in SH.
 * systemd is told to drop its copies (FDSTOREREMOVE=1): it would otherwise
 * pass them again at every start, even after the client went away.
 */
struct conn *fdstore_take(int *fds, size_t n, struct stats_shard *sh, size_t *taken);

#endif
