/*
 * listen.h - the listening sockets: the ones systemd passed (socket
 * activation, sd_listen_fds), or one bound from the `listen` setting.
 * main.c owns them for the whole life of the process, across reloads.
 */
#ifndef LF_LISTEN_H
#define LF_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#define LISTEN_BACKLOG	4096

/*
 * Fills *FDS (malloc'ed) with non-blocking, close-on-exec listening stream
 * sockets. *ACTIVATED tells whether they came from systemd. ADDR is
 * "A.B.C.D:PORT", "[V6]:PORT" or "*:PORT". 0, or -errno with ERR filled.
 */
int listen_open(const char *addr, int **fds, size_t *n, bool *activated,
    char *err, size_t errlen);
void listen_close(int *fds, size_t n);

/*
 * The admin listener's sockets (admin.h): the ones systemd passed under the
 * name "admin" (lfserver-admin.socket), else one bound from ADDR
 * ("A.B.C.D:PORT", "[V6]:PORT", "*:PORT", or a Unix socket path beginning
 * with '/': a stale socket file there is replaced), else none (ADDR NULL,
 * *N = 0). Call it before listen_open, which leaves the "admin" ones out.
 * *BOUND_PATH tells whether a Unix socket file was made (unlink it at exit).
 * 0, or -errno with ERR filled.
 */
int listen_admin(const char *addr, int **fds, size_t *n, bool *bound_path,
    char *err, size_t errlen);

#endif
