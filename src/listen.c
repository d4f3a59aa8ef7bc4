/*
 * listen.c - socket activation or bind(); see listen.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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

/*
 * HTTP clients speak first, so accept() only once a request's first bytes
 * have arrived (TCP_DEFER_ACCEPT, as Apache's AcceptFilter and nginx's
 * `deferred`): a pool's reactor then queues a connection that its worker
 * can serve at once, instead of a worker finding it empty, registering it
 * for input and the reactor queueing it a second time when the request
 * comes (measured under ab: half the reactor's CPU per connection). A
 * client that connects and stays silent is accepted after about a second
 * all the same (the kernel's SYN-ACK retransmission), then request_timeout
 * applies. Harmless on non-TCP fds.
 */
static void
listen_defer_accept(int fd)
{
	int secs = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
}

static int
listen_bind_one(const char *addr, int *out, char *err, size_t errlen)
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
	listen_defer_accept(fd);
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

/* Non-blocking and close-on-exec, as accept4() and listen_bind() make theirs. */
static int
listen_adopt_fd(int fd, char *err, size_t errlen)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "socket activation: fd %d: %s", fd, strerror(errno));
		return -errno;
	}
	return 0;
}

int
listen_passed(struct listen_set *ls, char *err, size_t errlen)
{
	char **names = NULL;
	int k, nfds, fd, r = 0;

	memset(ls, 0, sizeof(*ls));
	/* the environment stays for listen_admin, called once the settings are valid */
	nfds = sd_listen_fds_with_names(0, &names);
	if (nfds < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-nfds));
		return nfds;
	}
	if (nfds == 0)
		return 0;
	ls->fds = calloc((size_t)nfds, sizeof(*ls->fds));
	ls->conns = calloc((size_t)nfds, sizeof(*ls->conns));
	ls->admin = calloc((size_t)nfds, sizeof(*ls->admin));
	if (ls->fds == NULL || ls->conns == NULL || ls->admin == NULL) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	for (k = 0; k < nfds; k++) {
		fd = SD_LISTEN_FDS_START + k;
		if (listen_is_admin(names, k)) {
			ls->admin[ls->nadmin++] = fd;	/* listen_admin's */
			continue;
		}
		if (names != NULL && strcmp(names[k], LISTEN_FDNAME_CONN) == 0 &&
		    sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 0) > 0) {
			ls->conns[ls->nconns++] = fd;
		} else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
			listen_nodelay(fd);
			listen_defer_accept(fd);
			ls->fds[ls->n++] = fd;
		} else {
			snprintf(err, errlen, "socket activation: fd %d (%s) is not a "
			    "listening stream socket (use ListenStream= in "
			    "lfserver.socket)", fd, names != NULL ? names[k] : "?");
			r = -EINVAL;
			goto out;
		}
		r = listen_adopt_fd(fd, err, errlen);
		if (r < 0)
			goto out;
	}
	/* only the admin listener's (or only connections): bind as without systemd */
	ls->activated = ls->n > 0;
out:
	listen_names_free(names);
	return r;
}

int
listen_bind(struct listen_set *ls, const char *addr, char *err, size_t errlen)
{
	int *v, r;

	v = realloc(ls->fds, (ls->n + 1) * sizeof(*v));
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ls->fds = v;
	r = listen_bind_one(addr, &v[ls->n], err, errlen);
	if (r == 0)
		ls->n++;
	return r;
}

static void
listen_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET && inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)))
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	else if (ss->ss_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)))
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	else if (ss->ss_family == AF_UNIX)
		snprintf(buf, len, "%s", ((const struct sockaddr_un *)ss)->sun_path);
	else
		snprintf(buf, len, "(family %d)", ss->ss_family);
}

void
listen_describe(const struct listen_set *ls, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t i, off = 0;
	char one[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];

	buf[0] = '\0';
	for (i = 0; i < ls->n && off < len; i++) {
		sl = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getsockname(ls->fds[i], (struct sockaddr *)&ss, &sl) < 0)
			snprintf(one, sizeof(one), "fd %d", ls->fds[i]);
		else
			listen_format(&ss, one, sizeof(one));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", one);
	}
}

bool
listen_serves(const struct listen_set *ls, const char *addr)
{
	struct sockaddr_storage want, ss;
	socklen_t wl, sl;
	size_t i;

	if (config_listen_parse(addr, &want, &wl) < 0)
		return false;
	for (i = 0; i < ls->n; i++) {
		sl = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getsockname(ls->fds[i], (struct sockaddr *)&ss, &sl) == 0 &&
		    sl == wl && memcmp(&ss, &want, wl) == 0)
			return true;
	}
	return false;
}

bool
listen_pending(const struct listen_set *ls)
{
	struct pollfd pfd[32];
	size_t i, n = 0;

	for (i = 0; i < ls->n && n < 32; i++)
		pfd[n++] = (struct pollfd){ .fd = ls->fds[i], .events = POLLIN };
	for (i = 0; i < ls->nadmin && n < 32; i++)
		pfd[n++] = (struct pollfd){ .fd = ls->admin[i], .events = POLLIN };
	return n > 0 && poll(pfd, n, 0) > 0;
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
		    listen_bind_one(addr, &v[0], err, errlen);
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

void
listen_fini(struct listen_set *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		close(ls->fds[i]);
	for (i = 0; i < ls->nconns; i++)
		if (ls->conns[i] >= 0)
			close(ls->conns[i]);
	free(ls->fds);
	free(ls->conns);
	free(ls->admin);
	memset(ls, 0, sizeof(*ls));
}
