/*
 * listen.c - socket activation or bind(); see listen.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "lfconfig.h"
#include "listen.h"

/*
 * Responses are written whole, so Nagle's algorithm only adds delay. Set on
 * the listening socket, TCP_NODELAY is inherited by every accepted one (on
 * Linux), which saves a setsockopt per connection. Harmless on non-TCP fds.
 */
static void
listen_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
listen_bind(const char *addr, int *out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1, r;

	if (config_listen_parse(addr, &ss, &sslen) < 0) {
		snprintf(err, errlen, "listen '%s': expected ADDR:PORT, [IPV6]:PORT or *:PORT", addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "listen '%s': socket: %s", addr, strerror(errno));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		snprintf(err, errlen, "listen '%s': %s", addr, strerror(errno));
		close(fd);
		return r;
	}
	listen_nodelay(fd);
	*out = fd;
	return 0;
}

int
listen_open(const char *addr, int **fds, size_t *n, bool *activated,
    char *err, size_t errlen)
{
	int k, nfds, fd, fl, *v;

	nfds = sd_listen_fds(1);
	if (nfds < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-nfds));
		return nfds;
	}
	*activated = nfds > 0;
	v = calloc(nfds > 0 ? (size_t)nfds : 1, sizeof(*v));
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (nfds == 0) {
		k = listen_bind(addr, &v[0], err, errlen);
		if (k < 0) {
			free(v);
			return k;
		}
		*fds = v;
		*n = 1;
		return 0;
	}
	for (k = 0; k < nfds; k++) {
		fd = SD_LISTEN_FDS_START + k;
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			snprintf(err, errlen, "socket activation: fd %d is not a listening "
			    "stream socket (use ListenStream= in lfserver.socket)", fd);
			free(v);
			return -EINVAL;
		}
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			k = -errno;
			snprintf(err, errlen, "socket activation: fd %d: %s", fd, strerror(errno));
			free(v);
			return k;
		}
		listen_nodelay(fd);
		v[k] = fd;
	}
	*fds = v;
	*n = (size_t)nfds;
	return 0;
}

void
listen_close(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}
