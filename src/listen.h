/*
 * listen.h - the listening sockets: the ones systemd passed (socket
 * activation, sd_listen_fds_with_names), or one bound from the `listen`
 * setting. main.c owns them for the whole life of the process, across
 * reloads.
 *
 * systemd also passes back, after the sockets, the connections a previous
 * lfserver left in its file descriptor store at a restart (named "conn", see
 * LISTEN_FDNAME_CONN): they are kept apart, for the engine to adopt.
 */
#ifndef LF_LISTEN_H
#define LF_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#define LISTEN_BACKLOG		4096
/* FDNAME= of the connections lfserver stores in systemd's fd store. */
#define LISTEN_FDNAME_CONN	"conn"

struct listen_set {
	int	*fds;		/* listening stream sockets, non-blocking */
	size_t	 n;
	int	*conns;		/* connected sockets from the fd store, non-blocking */
	size_t	 nconns;
	bool	 activated;	/* fds came from systemd */
	int	*admin;		/* the "admin" ones, only for listen_pending: */
	size_t	 nadmin;	/* listen_admin takes them, listen_fini leaves them */
};

/*
 * Takes what systemd passed (LISTEN_FDS; unset or 0: nothing, activated
 * false), except the "admin" sockets (listen_admin's); activated is false
 * when no other listening socket came. Each fd is made non-blocking and close-on-exec; one that is
 * neither a listening nor a connected stream socket fails. 0, or -errno with
 * ERR filled.
 */
int listen_passed(struct listen_set *ls, char *err, size_t errlen);
/*
 * Binds ADDR ("A.B.C.D:PORT", "[V6]:PORT" or "*:PORT") as the one listening
 * socket, when systemd passed none. 0, or -errno with ERR filled.
 */
int listen_bind(struct listen_set *ls, const char *addr, char *err, size_t errlen);
/* "127.0.0.1:7878, [::1]:7878": the addresses really bound (getsockname). */
void listen_describe(const struct listen_set *ls, char *buf, size_t len);
/* True when ADDR (the `listen` syntax) names one of the bound addresses. */
bool listen_serves(const struct listen_set *ls, const char *addr);
/* True when a client waits in a listening socket's backlog (admin ones too). */
bool listen_pending(const struct listen_set *ls);
/* Closes the listening sockets and any connections not taken (set to -1). */
void listen_fini(struct listen_set *ls);

/*
 * The admin listener's sockets (admin.h): the ones systemd passed under the
 * name "admin" (lfserver-admin.socket), else one bound from ADDR
 * ("A.B.C.D:PORT", "[V6]:PORT", "*:PORT", or a Unix socket path beginning
 * with '/': a stale socket file there is replaced), else none (ADDR NULL,
 * *N = 0). listen_passed leaves the "admin" ones out for it.
 * *BOUND_PATH tells whether a Unix socket file was made (unlink it at exit).
 * 0, or -errno with ERR filled.
 */
int listen_admin(const char *addr, int **fds, size_t *n, bool *bound_path,
    char *err, size_t errlen);

/* Closes N fds and frees FDS (the admin listener's). */
void listen_close(int *fds, size_t n);

#endif
