/*
 * lfconfig.c - lfserver's settings: defaults, /etc/lfserver.ini through inih,
 * and command-line overrides through the same validation (config_set).
 *
 * inih does not tell its handler the line number, so the file is fed to
 * ini_parse_stream by our own reader, which hands over one whole line per
 * call and counts them: inih's line count and ours are then the same, and
 * every message can name FILE:LINE. The reader also rejects unknown section
 * headers (inih never reports a section that has no keys) and stops the parse
 * at the first error. A load parses into a copy, so a bad file leaves the
 * caller's config untouched.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "escape.h"
#include "lfconfig.h"

enum config_type {
	CONFIG_MODE,
	CONFIG_UINT,
	CONFIG_LISTEN,
	CONFIG_DIR,		/* an existing directory, stored absolute */
	CONFIG_FILE,		/* an existing readable file, stored absolute */
	CONFIG_TEXT,		/* printable ASCII, a header value as is */
	CONFIG_BOOL,		/* on/off, yes/no, true/false, 1/0 */
	CONFIG_ADMIN,		/* off, ADDR:PORT or an absolute Unix socket path */
	CONFIG_ACCESS_LOG,	/* off, journal or a file, stored absolute */
	CONFIG_LOG_FORMAT,	/* combined or json */
	CONFIG_SPIN,		/* auto or a number MIN..MAX, into an int */
};

struct config_key {
	const char	*section;
	const char	*name;
	enum config_type type;
	size_t		 off;
	unsigned	 min, max;
	const char	*range;		/* said in every message about a bad value */
};

#define OFF(f)	offsetof(struct lf_config, f)

static const struct config_key config_keys[] = {
	{ "server", "mode", CONFIG_MODE, OFF(mode), 0, 0,
	    "lockfree, locked, thread-per-connection, sequential, or 1, 2, 3" },
	{ "server", "workers", CONFIG_UINT, OFF(workers), 0, LF_WORKERS_MAX,
	    "0..1024, 0 = number of CPUs" },
	{ "server", "queue_capacity", CONFIG_UINT, OFF(queue_capacity),
	    1, LF_QUEUE_CAPACITY_MAX, "1..1048576" },
	{ "server", "reactors", CONFIG_UINT, OFF(reactors), 0, LF_REACTORS_MAX,
	    "0..64, 0 = chosen from the CPUs and workers" },
	{ "server", "worker_spin_us", CONFIG_SPIN, OFF(worker_spin_us),
	    0, LF_WORKER_SPIN_US_MAX,
	    "auto, or 0..10000 microseconds, 0 = park at once" },
	{ "server", "listen", CONFIG_LISTEN, OFF(listen), 0, 0,
	    "A.B.C.D:PORT, [IPv6]:PORT or *:PORT, PORT 1..65535" },
	{ "server", "docroot", CONFIG_DIR, OFF(docroot), 0, 0,
	    "an existing directory" },
	{ "server", "routes", CONFIG_FILE, OFF(routes), 0, 0,
	    "an existing readable file" },
	{ "server", "keepalive_timeout", CONFIG_UINT, OFF(keepalive_timeout),
	    1, LF_TIMEOUT_MAX_S, "1..3600 seconds" },
	{ "server", "request_timeout", CONFIG_UINT, OFF(request_timeout),
	    1, LF_TIMEOUT_MAX_S, "1..3600 seconds" },
	{ "server", "max_connections", CONFIG_UINT, OFF(max_connections),
	    1, LF_MAX_CONNECTIONS_MAX, "1..1000000" },
	{ "server", "static_memory_max", CONFIG_UINT, OFF(static_memory_max),
	    0, LF_STATIC_MEMORY_MAX_MAX, "0..67108864 bytes" },
	{ "server", "cache_control", CONFIG_TEXT, OFF(cache_control), 0, 0,
	    "a Cache-Control value, printable ASCII" },
	{ "server", "mime_types", CONFIG_FILE, OFF(mime_types), 0, 0,
	    "an existing readable file" },
	{ "server", "docroot_watch", CONFIG_BOOL, OFF(docroot_watch), 0, 0,
	    "yes or no" },
	{ "stats", "interval", CONFIG_UINT, OFF(stats_interval),
	    0, LF_STATS_INTERVAL_MAX_S, "0..86400 seconds, 0 = off" },
	{ "server", "public_stats", CONFIG_BOOL, OFF(public_stats), 0, 0,
	    "on or off" },
	{ "server", "admin_listen", CONFIG_ADMIN, OFF(admin_listen), 0, 0,
	    "off, A.B.C.D:PORT, [IPv6]:PORT, *:PORT or /path/of/unix.socket" },
	{ "server", "access_log", CONFIG_ACCESS_LOG, OFF(access_log), 0, 0,
	    "off, journal or a file name" },
	{ "server", "access_log_format", CONFIG_LOG_FORMAT, OFF(access_log_format),
	    0, 0, "combined or json" },
};

#define NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

static const char *const config_sections[] = { "server", "stats" };

static const char *const lf_mode_names[] = {
	[LF_MODE_LOCKFREE] = "lockfree",
	[LF_MODE_LOCKED] = "locked",
	[LF_MODE_TPC] = "thread-per-connection",
	[LF_MODE_SEQUENTIAL] = "sequential",
};

/* State of one config_load: the reader's line count is inih's. */
struct config_parse {
	struct lf_config *c;
	const char	*path;
	FILE		*fp;
	char		*line;
	size_t		 linecap;
	int		 lineno;
	int		 err_line;	/* line of the first error we found; 0: none */
	int		 err;		/* its -errno */
	int		 read_errno;
	int		 seen[NKEYS];	/* line a key was set on; 0: not yet */
	char		*msg;
	size_t		 msglen;
};

const char *
lf_mode_name(enum lf_mode m)
{
	if ((unsigned)m >= sizeof(lf_mode_names) / sizeof(lf_mode_names[0]))
		return "unknown";
	return lf_mode_names[m];
}

int
lf_mode_parse(const char *s, enum lf_mode *out)
{
	/* the original study numbered its servers 1, 2, 3 */
	static const char *const numbers[] = { "1", "2", "3" };
	size_t i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(lf_mode_names) / sizeof(lf_mode_names[0]); i++) {
		if (strcmp(s, lf_mode_names[i]) == 0 ||
		    (i < 3 && strcmp(s, numbers[i]) == 0)) {
			*out = (enum lf_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal digits only: -EINVAL for anything else, -ERANGE outside MIN..MAX. */
static int
config_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long v = 0;
	const char *p;

	if (*s == '\0')
		return -EINVAL;
	for (p = s; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	for (p = s; *p != '\0'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return -ERANGE;	/* also stops before any overflow */
	}
	if (v < min)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

int
config_listen_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_storage st;
	struct sockaddr_in *sin = (struct sockaddr_in *)&st;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&st;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned port;
	size_t hlen;
	socklen_t len;

	if (s == NULL || (colon = strrchr(s, ':')) == NULL)
		return -EINVAL;
	if (config_parse_uint(colon + 1, 1, 65535, &port) != 0)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';

	memset(&st, 0, sizeof(st));
	if (strcmp(host, "*") == 0) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else if (host[0] == '[') {
		if (hlen < 3 || host[hlen - 1] != ']')
			return -EINVAL;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else {
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	}
	if (ss != NULL)
		*ss = st;
	if (sslen != NULL)
		*sslen = len;
	return 0;
}

char *
config_path_resolve(const char *relto, const char *path)
{
	char *dir = NULL, *absdir = NULL, *out = NULL, *slash;

	if (path[0] == '/')
		return strdup(path);
	if (relto != NULL) {
		if ((dir = strdup(relto)) == NULL)
			goto done;
		if ((slash = strrchr(dir, '/')) == NULL)
			strcpy(dir, ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	if ((absdir = realpath(dir != NULL ? dir : ".", NULL)) == NULL)
		goto done;
	if (asprintf(&out, "%s%s%s", absdir,
	    strcmp(absdir, "/") == 0 ? "" : "/", path) < 0)
		out = NULL;
done:
	free(dir);
	free(absdir);
	return out;
}

static char *
config_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

void
config_init(struct lf_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = LF_MODE_LOCKFREE;
	c->workers = 0;
	c->queue_capacity = LF_DEFAULT_QUEUE_CAPACITY;
	c->listen = strdup(LF_DEFAULT_LISTEN);
	c->keepalive_timeout = LF_DEFAULT_KEEPALIVE_S;
	c->request_timeout = LF_DEFAULT_REQUEST_TIMEOUT_S;
	c->max_connections = LF_DEFAULT_MAX_CONNECTIONS;
	c->stats_interval = LF_DEFAULT_STATS_INTERVAL_S;
	c->static_memory_max = LF_DEFAULT_STATIC_MEMORY_MAX;
	c->docroot_watch = true;
	c->worker_spin_us = LF_WORKER_SPIN_AUTO;
}

void
config_free(struct lf_config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->listen);
	free(c->docroot);
	free(c->routes);
	free(c->cache_control);
	free(c->mime_types);
	free(c->admin_listen);
	free(c->access_log);
	c->path = c->listen = c->docroot = c->routes = NULL;
	c->cache_control = c->mime_types = NULL;
	c->admin_listen = c->access_log = NULL;
}

int
config_copy(struct lf_config *dst, const struct lf_config *src)
{
	*dst = *src;
	dst->path = config_strdup(src->path);
	dst->listen = config_strdup(src->listen);
	dst->docroot = config_strdup(src->docroot);
	dst->routes = config_strdup(src->routes);
	dst->cache_control = config_strdup(src->cache_control);
	dst->mime_types = config_strdup(src->mime_types);
	dst->admin_listen = config_strdup(src->admin_listen);
	dst->access_log = config_strdup(src->access_log);
	if ((src->cache_control != NULL && dst->cache_control == NULL) ||
	    (src->mime_types != NULL && dst->mime_types == NULL) ||
	    (src->admin_listen != NULL && dst->admin_listen == NULL) ||
	    (src->access_log != NULL && dst->access_log == NULL) ||
	    (src->path != NULL && dst->path == NULL) ||
	    (src->listen != NULL && dst->listen == NULL) ||
	    (src->docroot != NULL && dst->docroot == NULL) ||
	    (src->routes != NULL && dst->routes == NULL)) {
		config_free(dst);
		return -ENOMEM;
	}
	return 0;
}

static const struct config_key *
config_key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static bool
config_section_known(const char *section)
{
	size_t i;

	for (i = 0; i < sizeof(config_sections) / sizeof(config_sections[0]); i++)
		if (strcmp(config_sections[i], section) == 0)
			return true;
	return false;
}

/* A number in K's range, or an error naming the range in MSG. */
static int
config_apply_uint(const struct config_key *k, const char *value,
    unsigned *out, char *msg, size_t msglen)
{
	int rv;

	rv = config_parse_uint(value, k->min, k->max, out);
	if (rv != 0) {
		snprintf(msg, msglen, "value '%s' is %s (%s)", value,
		    rv == -ERANGE ? "out of range" : "not a number", k->range);
		return -EINVAL;
	}
	return 0;
}

static int
config_apply_bool(struct lf_config *c, const struct config_key *k,
    const char *value, char *msg, size_t msglen)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	bool *bp = (bool *)((char *)c + k->off);
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
			*bp = strcmp(value, yes[i]) == 0;
			return 0;
		}
	}
	snprintf(msg, msglen, "value '%s' is not a boolean (%s)", value, k->range);
	return -EINVAL;
}

/*
 * admin_listen and access_log: "off" clears the setting; otherwise an
 * address or a socket path (admin_listen), "journal" or a file name
 * resolved against RELTO's directory (access_log). The file itself is
 * opened when the server starts.
 */
static int
config_apply_obs(struct lf_config *c, const struct config_key *k,
    const char *value, const char *relto, char *msg, size_t msglen)
{
	char **sp = (char **)((char *)c + k->off);
	char *s;

	if (strcmp(value, "off") == 0) {
		free(*sp);
		*sp = NULL;
		return 0;
	}
	if (k->type == CONFIG_ADMIN && value[0] == '/' &&
	    strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(msg, msglen, "value '%s': a Unix socket path is at most "
		    "%zu bytes", value, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -EINVAL;
	}
	if (k->type == CONFIG_ADMIN && value[0] != '/' &&
	    config_listen_parse(value, NULL, NULL) != 0) {
		snprintf(msg, msglen, "value '%s' is not an address and port or "
		    "a socket path (%s)", value, k->range);
		return -EINVAL;
	}
	if (k->type == CONFIG_ACCESS_LOG && strcmp(value, "journal") != 0)
		s = config_path_resolve(relto, value);
	else
		s = strdup(value);
	if (s == NULL) {
		int rv = errno != 0 ? -errno : -ENOMEM;

		snprintf(msg, msglen, "value '%s': %s", value, strerror(-rv));
		return rv;
	}
	free(*sp);
	*sp = s;
	return 0;
}

/*
 * Validates VALUE for K and stores it in C; the problem (without a prefix)
 * goes to MSG. RELTO is the file relative paths are taken from.
 */
static int
config_apply(struct lf_config *c, const struct config_key *k, const char *value,
    const char *relto, char *msg, size_t msglen)
{
	char **sp = (char **)((char *)c + k->off);
	unsigned *up = (unsigned *)((char *)c + k->off);
	int *ip = (int *)((char *)c + k->off);
	enum lf_mode mode;
	struct stat st;
	char *s = NULL;
	unsigned u;
	int fd, rv;

	if (*value == '\0') {
		snprintf(msg, msglen, "empty value (%s)", k->range);
		return -EINVAL;
	}
	switch (k->type) {
	case CONFIG_MODE:
		if (lf_mode_parse(value, &mode) != 0) {
			snprintf(msg, msglen, "value '%s' is not a mode (%s)",
			    value, k->range);
			return -EINVAL;
		}
		c->mode = mode;
		return 0;
	case CONFIG_SPIN:
		if (strcmp(value, "auto") == 0) {
			*ip = LF_WORKER_SPIN_AUTO;
			return 0;
		}
		/* otherwise a number like any other key's */
		rv = config_apply_uint(k, value, &u, msg, msglen);
		if (rv == 0)
			*ip = (int)u;
		return rv;
	case CONFIG_UINT:
		return config_apply_uint(k, value, up, msg, msglen);
	case CONFIG_LISTEN:
		if (config_listen_parse(value, NULL, NULL) != 0) {
			snprintf(msg, msglen, "value '%s' is not an address "
			    "and port (%s)", value, k->range);
			return -EINVAL;
		}
		break;
	case CONFIG_BOOL:
		return config_apply_bool(c, k, value, msg, msglen);
	case CONFIG_TEXT:
		for (s = (char *)value; *s != '\0'; s++)
			if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
				snprintf(msg, msglen, "value has a byte 0x%02x "
				    "(%s)", (unsigned char)*s, k->range);
				return -EINVAL;
			}
		s = NULL;
		break;
	case CONFIG_LOG_FORMAT:
		if (strcmp(value, "combined") != 0 && strcmp(value, "json") != 0) {
			snprintf(msg, msglen, "value '%s' is not a log format (%s)",
			    value, k->range);
			return -EINVAL;
		}
		c->access_log_format = value[0] == 'j' ? LF_LOG_JSON : LF_LOG_COMBINED;
		return 0;
	case CONFIG_ADMIN:
	case CONFIG_ACCESS_LOG:
		return config_apply_obs(c, k, value, relto, msg, msglen);
	case CONFIG_DIR:
	case CONFIG_FILE:
		break;
	}

	/* the string-valued keys */
	if (k->type == CONFIG_LISTEN || k->type == CONFIG_TEXT)
		s = strdup(value);
	else
		s = config_path_resolve(relto, value);
	if (s == NULL) {
		rv = -errno;
		snprintf(msg, msglen, "value '%s': %s", value, strerror(errno));
		return rv;
	}
	if (k->type == CONFIG_DIR) {
		if (stat(s, &st) != 0) {
			rv = -EINVAL;
			snprintf(msg, msglen, "'%s': %s", s, strerror(errno));
			goto fail;
		}
		if (!S_ISDIR(st.st_mode)) {
			rv = -EINVAL;
			snprintf(msg, msglen, "'%s' is not a directory", s);
			goto fail;
		}
	} else if (k->type == CONFIG_FILE) {
		/* open, not access(): the effective ids and ACLs are what count */
		if ((fd = open(s, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
			rv = -EINVAL;
			snprintf(msg, msglen, "'%s': %s", s, strerror(errno));
			goto fail;
		}
		rv = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -EINVAL;
		close(fd);
		if (rv != 0) {
			snprintf(msg, msglen, "'%s' is not a regular file", s);
			goto fail;
		}
	}
	free(*sp);
	*sp = s;
	return 0;
fail:
	free(s);
	return rv;
}

int
config_set(struct lf_config *c, const char *section, const char *key,
    const char *value, const char *origin, char *err, size_t errlen)
{
	const struct config_key *k;
	char msg[512];
	int rv;

	if (!config_section_known(section)) {
		snprintf(err, errlen, "%s%sunknown section '%s'",
		    origin ? origin : "", origin ? ": " : "", section);
		rv = -EINVAL;
	} else if ((k = config_key_find(section, key)) == NULL) {
		snprintf(err, errlen, "%s%sunknown key '%s' in section [%s]",
		    origin ? origin : "", origin ? ": " : "", key, section);
		rv = -EINVAL;
	} else if ((rv = config_apply(c, k, value, NULL, msg,
	    sizeof(msg))) != 0) {
		if (origin != NULL)
			snprintf(err, errlen, "%s: %s", origin, msg);
		else
			snprintf(err, errlen, "key '%s': %s", key, msg);
	}
	if (rv != 0)
		escape_inplace(err, errlen);
	return rv;
}

static void __attribute__((format(printf, 3, 4)))
config_parse_error(struct config_parse *p, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err_line != 0)
		return;
	p->err_line = p->lineno;
	p->err = err;
	n = snprintf(p->msg, p->msglen, "%s:%d: ", p->path, p->lineno);
	if (n < 0 || (size_t)n >= p->msglen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->msg + n, p->msglen - (size_t)n, fmt, ap);
	va_end(ap);
}

/*
 * inih's fgets-style reader: one whole line per call, or NULL to stop.
 * Leading blanks are dropped, which also keeps inih's multi-line values
 * (a continuation is an indented line) from turning an indented key into
 * part of the previous value.
 */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	char *s, *end;
	ssize_t n;
	size_t len;

	if (p->err_line != 0)
		return NULL;
	errno = 0;
	if ((n = getline(&p->line, &p->linecap, p->fp)) < 0) {
		if (ferror(p->fp))
			p->read_errno = errno ? errno : EIO;
		return NULL;
	}
	p->lineno++;
	s = p->line;
	if (memchr(s, '\0', (size_t)n) != NULL) {
		config_parse_error(p, -EINVAL, "syntax error (NUL byte)");
		return NULL;
	}
	if (p->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	/* inih needs room for "\r\n\0" beyond the text */
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len + 3 > (size_t)num) {
		config_parse_error(p, -EINVAL, "line too long (more than %d "
		    "characters)", num - 3);
		return NULL;
	}
	if (*s == '[' && (end = strchr(s, ']')) != NULL) {
		*end = '\0';
		if (!config_section_known(s + 1)) {
			config_parse_error(p, -EINVAL, "unknown section '%s'",
			    s + 1);
			return NULL;
		}
		*end = ']';
	}
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse *p = user;
	const struct config_key *k;
	char msg[512];
	size_t i;
	int rv;

	if (*section == '\0') {
		config_parse_error(p, -EINVAL, "key '%s': not in a section "
		    "([server] or [stats])", name);
		return 0;
	}
	if (!config_section_known(section)) {
		config_parse_error(p, -EINVAL, "unknown section '%s'", section);
		return 0;
	}
	if ((k = config_key_find(section, name)) == NULL) {
		config_parse_error(p, -EINVAL, "unknown key '%s' in section [%s]",
		    name, section);
		return 0;
	}
	i = (size_t)(k - config_keys);
	if (p->seen[i] != 0) {
		config_parse_error(p, -EINVAL, "key '%s': duplicate key (first "
		    "set on line %d)", name, p->seen[i]);
		return 0;
	}
	p->seen[i] = p->lineno;
	if ((rv = config_apply(p->c, k, value, p->path, msg, sizeof(msg))) != 0) {
		config_parse_error(p, rv, "key '%s': %s", name, msg);
		return 0;
	}
	return 1;
}

int
config_load(struct lf_config *c, const char *path, bool optional,
    char *err, size_t errlen)
{
	struct config_parse p;
	struct lf_config tmp;
	struct stat st;
	int rv, line;

	memset(&p, 0, sizeof(p));
	memset(&tmp, 0, sizeof(tmp));
	p.path = path;
	p.msg = err;
	p.msglen = errlen;
	if ((p.fp = fopen(path, "re")) == NULL) {
		rv = -errno;
		if (optional && rv == -ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rv));
		escape_inplace(err, errlen);
		return rv;
	}
	/* fopen() succeeds on a directory; reading it would fail later */
	if (fstat(fileno(p.fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		rv = -EISDIR;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(EISDIR));
		goto done;
	}
	if ((rv = config_copy(&tmp, c)) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rv));
		goto done;
	}
	p.c = &tmp;

	line = ini_parse_stream(config_reader, &p, config_handler, &p);
	if (line == -2) {
		rv = -ENOMEM;
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
	} else if (p.err_line != 0 && (line <= 0 || line >= p.err_line)) {
		rv = p.err;	/* the message is already in ERR */
	} else if (line > 0) {
		/* inih found a syntax error before anything we rejected */
		rv = -EINVAL;
		snprintf(err, errlen, "%s:%d: syntax error", path, line);
	} else if (p.read_errno != 0) {
		rv = -p.read_errno;
		snprintf(err, errlen, "%s: read error: %s", path,
		    strerror(p.read_errno));
	} else {
		free(tmp.path);
		if ((tmp.path = strdup(path)) == NULL) {
			rv = -ENOMEM;
			snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		} else
			rv = 0;
	}
	if (rv == 0) {
		config_free(c);
		*c = tmp;
		memset(&tmp, 0, sizeof(tmp));
	}
done:
	if (rv != 0)
		escape_inplace(err, errlen);
	config_free(&tmp);
	free(p.line);
	fclose(p.fp);
	return rv;
}
