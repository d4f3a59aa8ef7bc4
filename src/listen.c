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
#include <sys/stat.h>
#include <sys/un.h>
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

/* The admin listener's fds are named "admin" (lfserver-admin.socket). */
static bool
listen_is_admin(char **names, int k)
{
	return names != NULL && names[k] != NULL && strcmp(names[k], "admin") == 0;
}

static void
listen_names_free(char **names)
{
	size_t i;

	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

int
listen_open(const char *addr, int **fds, size_t *n, bool *activated,
    char *err, size_t errlen)
{
	int k, nfds, fd, fl, *v;
	char **names = NULL;
	size_t m = 0;

	nfds = sd_listen_fds_with_names(1, &names);
	if (nfds < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-nfds));
		return nfds;
	}
	for (k = 0; k < nfds; k++)
		if (listen_is_admin(names, k))
			m++;
	if ((size_t)nfds == m) {
		/* none but the admin listener's: bind as without systemd */
		listen_names_free(names);
		names = NULL;
		nfds = 0;
	}
	m = 0;
	*activated = nfds > 0;
	v = calloc(nfds > 0 ? (size_t)nfds : 1, sizeof(*v));
	if (v == NULL) {
		listen_names_free(names);
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
		if (listen_is_admin(names, k))
			continue;	/* listen_admin's */
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			snprintf(err, errlen, "socket activation: fd %d is not a listening "
			    "stream socket (use ListenStream= in lfserver.socket)", fd);
			free(v);
			listen_names_free(names);
			return -EINVAL;
		}
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			k = -errno;
			snprintf(err, errlen, "socket activation: fd %d: %s", fd, strerror(errno));
			free(v);
			listen_names_free(names);
			return k;
		}
		listen_nodelay(fd);
		v[m++] = fd;
	}
	listen_names_free(names);
	*fds = v;
	*n = m;
	return 0;
}

static int
listen_bind_unix(const char *path, int *out, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "admin_listen '%s': path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	/* a socket file left by a process that is gone */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 64) < 0) {
		r = -errno;
		snprintf(err, errlen, "admin_listen '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

int
listen_admin(const char *addr, int **fds, size_t *n, bool *bound_path,
    char *err, size_t errlen)
{
	char **names = NULL;
	int k, nfds, fl, *v;
	size_t m = 0;

	*bound_path = false;
	*n = 0;
	*fds = NULL;
	/* keep the environment: listen_open reads it next */
	nfds = sd_listen_fds_with_names(0, &names);
	if (nfds < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-nfds));
		return nfds;
	}
	v = calloc(nfds > 0 ? (size_t)nfds : 1, sizeof(*v));
	if (v == NULL) {
		listen_names_free(names);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (k = 0; k < nfds; k++) {
		int fd = SD_LISTEN_FDS_START + k;

		if (!listen_is_admin(names, k))
			continue;
		fl = fcntl(fd, F_GETFL);
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 || fl < 0 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			snprintf(err, errlen, "socket activation: fd %d named admin is "
			    "not a listening stream socket (ListenStream= in "
			    "lfserver-admin.socket)", fd);
			listen_names_free(names);
			free(v);
			return -EINVAL;
		}
		v[m++] = fd;
	}
	listen_names_free(names);
	if (m == 0 && addr != NULL) {
		k = addr[0] == '/' ? listen_bind_unix(addr, &v[0], err, errlen) :
		    listen_bind(addr, &v[0], err, errlen);
		if (k < 0) {
			free(v);
			return k;
		}
		*bound_path = addr[0] == '/';
		m = 1;
	}
	if (m == 0) {
		free(v);
		return 0;
	}
	*fds = v;
	*n = m;
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
