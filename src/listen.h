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

#endif
