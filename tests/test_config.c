/*
 * test_config.c - lfconfig: defaults, every key valid and invalid, the exact
 * "FILE:LINE: key 'KEY': problem" messages, sections, duplicates, optional
 * and missing files, relative paths, and command-line overrides.
 * Files are written under a mkdtemp directory that is removed at the end.
 */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "lfconfig.h"
#include "tap.h"
#include "testdir.h"

static char errbuf[1024];

/* Loads CONTENT as t.ini into a fresh default config; the result of config_load. */
static int
load(struct lf_config *c, const char *content)
{
	const char *p = write_file("t.ini", "%s", content);

	config_init(c);
	errbuf[0] = '\0';
	return config_load(c, p, false, errbuf, sizeof(errbuf));
}

/* True when loading CONTENT fails with exactly "t.ini:LINE: REST". */
static int __attribute__((format(printf, 3, 4)))
load_fails(const char *content, int line, const char *fmt, ...)
{
	struct lf_config c;
	char want[1024], rest[900];
	va_list ap;
	int rv;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	snprintf(want, sizeof(want), "%s:%d: %s", tpath("t.ini"), line, rest);
	rv = load(&c, content);
	config_free(&c);
	if (rv == 0 || strcmp(errbuf, want) != 0) {
		printf("# want: %s\n#  got: %s (rv %d)\n", want, errbuf, rv);
		return 0;
	}
	return 1;
}

static void
config_free_twice_null_zeroed(void)
{
	struct lf_config c;

	config_init(&c);
	if (config_set(&c, "server", "listen", "127.0.0.1:1", NULL, errbuf,
	    sizeof(errbuf)) != 0)
		_exit(1);
	config_free(&c);
	config_free(&c);
	config_free(NULL);
	memset(&c, 0, sizeof(c));
	config_free(&c);
}

static void
test_defaults(void)
{
	struct lf_config c;

	config_init(&c);
	ok(c.path == NULL, "defaults: no path");
	ok(c.mode == LF_MODE_LOCKFREE, "defaults: mode lockfree");
	ok(c.workers == 0, "defaults: workers 0 (CPUs)");
	ok(c.queue_capacity == LF_DEFAULT_QUEUE_CAPACITY && c.queue_capacity == 64,
	    "defaults: queue_capacity 64");
	ok(c.listen != NULL && strcmp(c.listen, "127.0.0.1:7878") == 0,
	    "defaults: listen 127.0.0.1:7878");
	ok(c.docroot == NULL && c.routes == NULL,
	    "defaults: no docroot, no routes file");
	ok(c.keepalive_timeout == 5 && c.request_timeout == 10,
	    "defaults: timeouts 5 and 10");
	ok(c.max_connections == 10000, "defaults: max_connections 10000");
	ok(c.stats_interval == 10, "defaults: stats interval 10");
	config_free(&c);
	ok(c.listen == NULL && c.path == NULL && c.docroot == NULL &&
	    c.routes == NULL, "config_free clears the pointers");
	config_free(&c);
	ok(c.listen == NULL, "config_free on a freed struct leaves it clear");
	ok(tap_survives(config_free_twice_null_zeroed),
	    "config_free accepts NULL, a freed and a zeroed struct (in a child)");
}

static void
test_modes(void)
{
	static const struct { const char *s; enum lf_mode m; } good[] = {
		{ "lockfree", LF_MODE_LOCKFREE },
		{ "locked", LF_MODE_LOCKED },
		{ "thread-per-connection", LF_MODE_TPC },
		{ "sequential", LF_MODE_SEQUENTIAL },
		{ "1", LF_MODE_LOCKFREE },
		{ "2", LF_MODE_LOCKED },
		{ "3", LF_MODE_TPC },
	};
	static const char *const bad[] = { "", "0", "4", "01", "Lockfree",
	    "lockfree ", "tpc", "lock", NULL };
	struct lf_config c;
	enum lf_mode m;
	char ini[128];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		m = (enum lf_mode)99;
		ok(lf_mode_parse(good[i].s, &m) == 0 && m == good[i].m,
		    "lf_mode_parse(\"%s\") = %s", good[i].s, lf_mode_name(good[i].m));
		snprintf(ini, sizeof(ini), "[server]\nmode = %s\n", good[i].s);
		ok(load(&c, ini) == 0 && c.mode == good[i].m,
		    "mode = %s in the file", good[i].s);
		config_free(&c);
	}
	for (i = 0; bad[i] != NULL; i++) {
		m = LF_MODE_LOCKED;
		ok(lf_mode_parse(bad[i], &m) == -EINVAL && m == LF_MODE_LOCKED,
		    "lf_mode_parse(\"%s\") is -EINVAL", bad[i]);
	}
	ok(lf_mode_parse(NULL, &m) == -EINVAL, "lf_mode_parse(NULL) is -EINVAL");
	for (i = 0; i < 4; i++) {
		ok(lf_mode_parse(lf_mode_name((enum lf_mode)i), &m) == 0 &&
		    m == (enum lf_mode)i, "lf_mode_name/parse round trip %zu", i);
	}
	ok(strcmp(lf_mode_name(LF_MODE_TPC), "thread-per-connection") == 0,
	    "lf_mode_name(TPC)");
	ok(load_fails("[server]\n\nmode = fast\n", 3, "key 'mode': value 'fast' "
	    "is not a mode (lockfree, locked, thread-per-connection, "
	    "sequential, or 1, 2, 3)"), "bad mode: message with line and key");
	ok(load_fails("[server]\nmode = 4\n", 2, "key 'mode': value '4' "
	    "is not a mode (lockfree, locked, thread-per-connection, "
	    "sequential, or 1, 2, 3)"), "mode = 4 rejected");
}

struct numkey {
	const char	*section, *key;
	size_t		 off;
	unsigned	 min, max;
	const char	*range;
};

static const struct numkey numkeys[] = {
	{ "server", "workers", offsetof(struct lf_config, workers), 0, 1024,
	    "0..1024, 0 = number of CPUs" },
	{ "server", "queue_capacity", offsetof(struct lf_config, queue_capacity),
	    1, 1048576, "1..1048576" },
	{ "server", "keepalive_timeout",
	    offsetof(struct lf_config, keepalive_timeout), 1, 3600,
	    "1..3600 seconds" },
	{ "server", "request_timeout",
	    offsetof(struct lf_config, request_timeout), 1, 3600,
	    "1..3600 seconds" },
	{ "server", "max_connections",
	    offsetof(struct lf_config, max_connections), 1, 1000000,
	    "1..1000000" },
	{ "stats", "interval", offsetof(struct lf_config, stats_interval),
	    0, 86400, "0..86400 seconds, 0 = off" },
};

static unsigned
field(const struct lf_config *c, size_t off)
{
	return *(const unsigned *)((const char *)c + off);
}

static void
test_numbers(void)
{
	static const char *const malformed[] = { "abc", "-1", "+1", "1.5",
	    "0x10", "1 2", "12abc", "1e3", "١", NULL };
	const struct numkey *k;
	struct lf_config c;
	char ini[256], val[64];
	unsigned v[3];
	size_t i, j;
	int rv;

	for (i = 0; i < sizeof(numkeys) / sizeof(numkeys[0]); i++) {
		k = &numkeys[i];
		/* the ends of the range and a value inside it */
		v[0] = k->min;
		v[1] = k->max;
		v[2] = (k->min + k->max) / 2;
		for (j = 0; j < 3; j++) {
			snprintf(ini, sizeof(ini), "; test\n[%s]\n%s = %u\n",
			    k->section, k->key, v[j]);
			rv = load(&c, ini);
			ok(rv == 0 && field(&c, k->off) == v[j], "%s = %u accepted",
			    k->key, v[j]);
			config_free(&c);
		}
		/* just outside the range */
		if (k->min > 0) {
			snprintf(ini, sizeof(ini), "; test\n[%s]\n%s = %u\n",
			    k->section, k->key, k->min - 1);
			ok(load_fails(ini, 3, "key '%s': value '%u' is out of range "
			    "(%s)", k->key, k->min - 1, k->range),
			    "%s = %u: out of range, line 3", k->key, k->min - 1);
		}
		snprintf(ini, sizeof(ini), "; test\n[%s]\n%s = %u\n",
		    k->section, k->key, k->max + 1);
		ok(load_fails(ini, 3, "key '%s': value '%u' is out of range (%s)",
		    k->key, k->max + 1, k->range), "%s = %u: out of range",
		    k->key, k->max + 1);
		/* far beyond unsigned and unsigned long long */
		snprintf(val, sizeof(val), "%s", "99999999999999999999999999");
		snprintf(ini, sizeof(ini), "[%s]\n%s = %s\n", k->section, k->key, val);
		ok(load_fails(ini, 2, "key '%s': value '%s' is out of range (%s)",
		    k->key, val, k->range), "%s: overflow is out of range", k->key);
		snprintf(ini, sizeof(ini), "[%s]\n%s = 4294967296\n", k->section,
		    k->key);
		ok(load_fails(ini, 2, "key '%s': value '4294967296' is out of "
		    "range (%s)", k->key, k->range), "%s: 2^32 does not wrap to 0",
		    k->key);
		for (j = 0; malformed[j] != NULL; j++) {
			snprintf(ini, sizeof(ini), "[%s]\n\n\n%s = %s\n", k->section,
			    k->key, malformed[j]);
			ok(load_fails(ini, 4, "key '%s': value '%s' is not a number "
			    "(%s)", k->key, malformed[j], k->range),
			    "%s = '%s': not a number, line 4", k->key, malformed[j]);
		}
		snprintf(ini, sizeof(ini), "[%s]\n%s =\n", k->section, k->key);
		ok(load_fails(ini, 2, "key '%s': empty value (%s)", k->key,
		    k->range), "%s: empty value", k->key);
		/* config_set: same checks, the origin replaces FILE:LINE */
		config_init(&c);
		ok(config_set(&c, k->section, k->key, "12x", "--opt", errbuf,
		    sizeof(errbuf)) == -EINVAL, "config_set %s 12x fails", k->key);
		snprintf(ini, sizeof(ini), "--opt: value '12x' is not a number (%s)",
		    k->range);
		ok(strcmp(errbuf, ini) == 0, "config_set %s message: %s", k->key,
		    errbuf);
		snprintf(val, sizeof(val), "%u", k->max);
		ok(config_set(&c, k->section, k->key, val, "--opt", errbuf,
		    sizeof(errbuf)) == 0 && field(&c, k->off) == k->max,
		    "config_set %s = %s", k->key, val);
		config_free(&c);
	}
	ok(load(&c, "[server]\nworkers = 007\n") == 0 && c.workers == 7,
	    "leading zeros are decimal");
	config_free(&c);
}

static void
test_listen(void)
{
	static const char *const good[] = { "127.0.0.1:80", "0.0.0.0:65535",
	    "*:7878", "[::1]:8080", "[::]:1", "[fe80::1:2]:443", NULL };
	static const char *const bad[] = { "127.0.0.1", "127.0.0.1:0",
	    "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8x", "localhost:80",
	    "::1:80", "[::1]80", "[::1]:", "1.2.3.4:", ":80", "[]:80",
	    "1.2.3.256:80", "[127.0.0.1]:80", "**:80", "[::1:80", NULL };
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct lf_config c;
	socklen_t len;
	char ini[128];
	size_t i;

	for (i = 0; good[i] != NULL; i++) {
		snprintf(ini, sizeof(ini), "[server]\nlisten = %s\n", good[i]);
		ok(load(&c, ini) == 0 && strcmp(c.listen, good[i]) == 0,
		    "listen = %s accepted", good[i]);
		config_free(&c);
	}
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(ini, sizeof(ini), "[server]\nlisten = %s\n", bad[i]);
		ok(load_fails(ini, 2, "key 'listen': value '%s' is not an address "
		    "and port (A.B.C.D:PORT, [IPv6]:PORT or *:PORT, PORT 1..65535)",
		    bad[i]), "listen = %s rejected", bad[i]);
	}
	ok(config_listen_parse("127.0.0.1:7878", &ss, &len) == 0 &&
	    ss.ss_family == AF_INET && len == sizeof(*sin) &&
	    ntohs(sin->sin_port) == 7878 &&
	    ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK,
	    "config_listen_parse IPv4");
	ok(config_listen_parse("*:80", &ss, &len) == 0 &&
	    ss.ss_family == AF_INET && ntohs(sin->sin_port) == 80 &&
	    sin->sin_addr.s_addr == htonl(INADDR_ANY),
	    "config_listen_parse *: 0.0.0.0");
	ok(config_listen_parse("[::1]:443", &ss, &len) == 0 &&
	    ss.ss_family == AF_INET6 && len == sizeof(*sin6) &&
	    ntohs(sin6->sin6_port) == 443 &&
	    memcmp(&sin6->sin6_addr, &in6addr_loopback, 16) == 0,
	    "config_listen_parse IPv6");
	ok(config_listen_parse("1.2.3.4:5", NULL, NULL) == 0,
	    "config_listen_parse validates only");
	ok(load_fails("[server]\nlisten =\n", 2, "key 'listen': empty value "
	    "(A.B.C.D:PORT, [IPv6]:PORT or *:PORT, PORT 1..65535)"),
	    "listen: empty value");
}

static void
test_paths(void)
{
	struct lf_config c;
	char real[PATH_MAX], want[PATH_MAX + 64], cwd[PATH_MAX];

	if (realpath(tmpdir, real) == NULL || getcwd(cwd, sizeof(cwd)) == NULL) {
		ok(0, "realpath/getcwd");
		return;
	}
	mkdir(tpath("www"), 0755);
	mkdir(tpath("sub"), 0755);
	write_file("routes.conf", "routes = ( { path = \"/\"; handler = \"stats\"; } );\n");
	write_file("sub/r.conf", "routes = ( );\n");

	/* relative paths follow the ini file, not the working directory */
	if (chdir("/") != 0)
		ok(0, "chdir /");
	ok(load(&c, "[server]\ndocroot = www\nroutes = routes.conf\n") == 0,
	    "relative docroot and routes load (cwd is /): %s", errbuf);
	snprintf(want, sizeof(want), "%s/www", real);
	ok(c.docroot != NULL && strcmp(c.docroot, want) == 0,
	    "relative docroot stored absolute: %s", c.docroot);
	snprintf(want, sizeof(want), "%s/routes.conf", real);
	ok(c.routes != NULL && strcmp(c.routes, want) == 0,
	    "relative routes stored absolute: %s", c.routes);
	ok(c.path != NULL && strcmp(c.path, tpath("t.ini")) == 0,
	    "path records the file read");
	config_free(&c);

	ok(load(&c, "[server]\ndocroot = sub/../www\nroutes = sub/r.conf\n") == 0 &&
	    c.routes != NULL && c.routes[0] == '/' &&
	    strcmp(c.routes + strlen(c.routes) - 10, "sub/r.conf") == 0,
	    "relative path with a subdirectory");
	config_free(&c);

	snprintf(want, sizeof(want), "[server]\ndocroot = %s\n", tmpdir);
	ok(load(&c, want) == 0 && strcmp(c.docroot, tmpdir) == 0,
	    "absolute docroot kept as is");
	config_free(&c);

	/* a relative ini path: its directory still anchors relative values */
	if (chdir(tmpdir) != 0)
		ok(0, "chdir tmpdir");
	config_init(&c);
	ok(config_load(&c, "sub/../t.ini", false, errbuf, sizeof(errbuf)) == 0 &&
	    c.docroot != NULL && c.docroot[0] == '/',
	    "relative ini path: docroot still absolute (%s)", c.docroot);
	config_free(&c);

	/* errors */
	snprintf(want, sizeof(want), "%s/nope", real);
	ok(load_fails("[server]\ndocroot = nope\n", 2, "key 'docroot': '%s': "
	    "No such file or directory", want), "docroot missing");
	snprintf(want, sizeof(want), "%s/routes.conf", real);
	ok(load_fails("[server]\n\ndocroot = routes.conf\n", 3, "key 'docroot': "
	    "'%s' is not a directory", want), "docroot is a file");
	snprintf(want, sizeof(want), "%s/nope.conf", real);
	ok(load_fails("[server]\nroutes = nope.conf\n", 2, "key 'routes': '%s': "
	    "No such file or directory", want), "routes file missing");
	snprintf(want, sizeof(want), "%s/www", real);
	ok(load_fails("[server]\nroutes = www\n", 2, "key 'routes': '%s' is not "
	    "a regular file", want), "routes is a directory");
	ok(load_fails("[server]\ndocroot =\n", 2, "key 'docroot': empty value "
	    "(an existing directory)"), "docroot empty");
	ok(load_fails("[server]\nroutes =\n", 2, "key 'routes': empty value "
	    "(an existing readable file)"), "routes empty");

	/* config_set: relative to the working directory */
	config_init(&c);
	ok(config_set(&c, "server", "docroot", "www", "--docroot", errbuf,
	    sizeof(errbuf)) == 0, "config_set docroot relative to cwd");
	snprintf(want, sizeof(want), "%s/www", real);
	ok(c.docroot != NULL && strcmp(c.docroot, want) == 0,
	    "config_set docroot stored absolute");
	ok(config_set(&c, "server", "docroot", "nope", "--docroot", errbuf,
	    sizeof(errbuf)) == -EINVAL, "config_set missing docroot fails");
	snprintf(want, sizeof(want), "--docroot: '%s/nope': No such file or "
	    "directory", real);
	ok(strcmp(errbuf, want) == 0, "config_set docroot message: %s", errbuf);
	snprintf(want, sizeof(want), "%s/www", real);
	ok(strcmp(c.docroot, want) == 0, "a failed config_set changes nothing");
	config_free(&c);
	if (chdir(cwd) != 0)
		ok(0, "chdir back");
}

static void
test_file(void)
{
	struct lf_config c;
	int rv;

	rv = load(&c,
	    "# lfserver test file\n"
	    "; comment\n"
	    "\n"
	    "[server]\n"
	    "mode = locked\n"
	    "workers = 4 ; inline comment\n"
	    "  queue_capacity = 64\n"
	    "\tlisten = [::1]:8080\n"
	    "keepalive_timeout=7\n"
	    "request_timeout : 9\n"
	    "max_connections = 123\r\n"
	    "[stats]\n"
	    "interval = 0\n");
	ok(rv == 0, "a file with every kind of line loads: %s", errbuf);
	ok(c.mode == LF_MODE_LOCKED && c.workers == 4 && c.queue_capacity == 64,
	    "mode, workers (inline comment), indented queue_capacity");
	ok(strcmp(c.listen, "[::1]:8080") == 0, "tab-indented listen");
	ok(c.keepalive_timeout == 7 && c.request_timeout == 9,
	    "no spaces around '=', and ':'");
	ok(c.max_connections == 123, "CRLF line end");
	ok(c.stats_interval == 0, "[stats] interval 0 = off");
	config_free(&c);

	ok(load(&c, "") == 0 && c.workers == 0 && c.path != NULL,
	    "an empty file is all defaults");
	config_free(&c);
	ok(load(&c, "[server]\n[stats]\n[server]\nworkers = 3\n") == 0 &&
	    c.workers == 3, "empty and repeated sections are fine");
	config_free(&c);
}

static void
test_structure_errors(void)
{
	struct lf_config c;
	char longline[400];

	ok(load_fails("[server]\nworkers = 1\n[foo]\nbar = 1\n", 3,
	    "unknown section 'foo'"), "unknown section, at its header's line");
	ok(load_fails("[server]\n\n[empty]\n", 3, "unknown section 'empty'"),
	    "unknown section without keys is still an error");
	ok(load_fails("[Server]\nworkers = 1\n", 1, "unknown section 'Server'"),
	    "section names are case-sensitive");
	ok(load_fails("[server]\nworkers = 1\nfoo = 2\n", 3,
	    "unknown key 'foo' in section [server]"), "unknown key");
	ok(load_fails("[server]\nWorkers = 1\n", 2,
	    "unknown key 'Workers' in section [server]"), "keys are case-sensitive");
	ok(load_fails("[server]\ninterval = 1\n", 2,
	    "unknown key 'interval' in section [server]"), "[stats] key in [server]");
	ok(load_fails("[stats]\nworkers = 1\n", 2,
	    "unknown key 'workers' in section [stats]"), "[server] key in [stats]");
	ok(load_fails("workers = 1\n", 1, "key 'workers': not in a section "
	    "([server] or [stats])"), "key before any section");
	ok(load_fails("[server]\nworkers = 1\nmode = 2\n\nworkers = 2\n", 5,
	    "key 'workers': duplicate key (first set on line 2)"), "duplicate key");
	ok(load_fails("[server]\nworkers = 1\n[stats]\n[server]\nworkers = 1\n", 5,
	    "key 'workers': duplicate key (first set on line 2)"),
	    "duplicate key across repeated sections");
	ok(load_fails("[server]\nworkers = 1\nthis is not ini\n", 3,
	    "syntax error"), "syntax error line");
	ok(load_fails("[server\nworkers = 1\n", 1, "syntax error"),
	    "unterminated section header");
	ok(load_fails("[server]\nworkers = 1\ngarbage\nworkers = x\n", 3,
	    "syntax error"), "the first error wins (syntax before value)");
	ok(load_fails("[server]\nworkers = x\ngarbage\n", 2, "key 'workers': "
	    "value 'x' is not a number (0..1024, 0 = number of CPUs)"),
	    "the first error wins (value before syntax)");
	ok(load_fails("[server]\nworkers = 1\n  workers = 2\n", 3,
	    "key 'workers': duplicate key (first set on line 2)"),
	    "an indented line is a key, not a continuation");
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	{
		char ini[600];

		snprintf(ini, sizeof(ini), "[server]\n; %s\n", longline);
		ok(load(&c, ini) == -EINVAL && strstr(errbuf, ":2: line too long")
		    != NULL && strncmp(errbuf, tpath("t.ini"),
		    strlen(tpath("t.ini"))) == 0, "over-long line: %s", errbuf);
		config_free(&c);
	}
	{
		static const char nul[] = "[server]\nworkers = 1\0 2\n";
		const char *p = tpath("nul.ini");
		FILE *fp = fopen(p, "w");
		char want[PATH_MAX + 64];

		fwrite(nul, 1, sizeof(nul) - 1, fp);
		fclose(fp);
		config_init(&c);
		snprintf(want, sizeof(want), "%s:2: syntax error (NUL byte)", p);
		ok(config_load(&c, p, false, errbuf, sizeof(errbuf)) == -EINVAL &&
		    strcmp(errbuf, want) == 0, "NUL byte: %s", errbuf);
		config_free(&c);
	}
}

static void
test_load_semantics(void)
{
	struct lf_config c, d;
	char want[PATH_MAX + 64], a[512], b[512];

	/* a failed load leaves the config as it was */
	snprintf(a, sizeof(a), "%s",
	    write_file("a.ini", "[server]\nworkers = 4\nlisten = *:81\n"));
	snprintf(b, sizeof(b), "%s", write_file("b.ini", "[server]\nmode = locked\n"));
	config_init(&c);
	ok(config_load(&c, a, false, errbuf, sizeof(errbuf)) == 0 &&
	    c.workers == 4, "a.ini loads");
	ok(load_fails("[server]\nworkers = 8\nlisten = nowhere\n", 3,
	    "key 'listen': value 'nowhere' is not an address and port "
	    "(A.B.C.D:PORT, [IPv6]:PORT or *:PORT, PORT 1..65535)"),
	    "bad file fails");
	ok(config_load(&c, tpath("t.ini"), false, errbuf, sizeof(errbuf)) ==
	    -EINVAL && c.workers == 4 && strcmp(c.listen, "*:81") == 0 &&
	    strcmp(c.path, a) == 0, "a failed load changes nothing: %s", errbuf);
	/* a load reads over what is there */
	ok(config_load(&c, b, false, errbuf, sizeof(errbuf)) == 0 &&
	    c.workers == 4 && c.mode == LF_MODE_LOCKED &&
	    strcmp(c.path, b) == 0, "a second file reads over the first");

	/* deep copy */
	ok(config_copy(&d, &c) == 0, "config_copy");
	ok(d.listen != c.listen && strcmp(d.listen, c.listen) == 0 &&
	    d.path != c.path && strcmp(d.path, c.path) == 0 &&
	    d.workers == c.workers && d.mode == c.mode, "the copy is deep");
	config_free(&c);
	ok(strcmp(d.listen, "*:81") == 0, "the copy outlives the original");
	config_free(&d);

	/* missing files */
	config_init(&c);
	ok(config_load(&c, tpath("none.ini"), true, errbuf, sizeof(errbuf)) == 0 &&
	    c.path == NULL && c.workers == 0 && c.queue_capacity == 64,
	    "optional missing file: defaults, no path");
	ok(config_load(&c, tpath("none.ini"), false, errbuf, sizeof(errbuf)) ==
	    -ENOENT, "required missing file (-c): -ENOENT");
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
	    tpath("none.ini"));
	ok(strcmp(errbuf, want) == 0, "missing file message: %s", errbuf);
	ok(config_load(&c, tmpdir, true, errbuf, sizeof(errbuf)) == -EISDIR,
	    "a directory is an error even when optional");
	snprintf(want, sizeof(want), "%s: cannot open: Is a directory", tmpdir);
	ok(strcmp(errbuf, want) == 0, "directory message: %s", errbuf);
	ok(config_load(&c, tpath("none/x.ini"), true, errbuf, sizeof(errbuf)) == 0,
	    "optional file in a missing directory: defaults");
	config_free(&c);
}

static void
test_set(void)
{
	struct lf_config c;

	config_init(&c);
	ok(config_set(&c, "server", "workers", "abc", "--workers", errbuf,
	    sizeof(errbuf)) == -EINVAL && strcmp(errbuf, "--workers: value 'abc' "
	    "is not a number (0..1024, 0 = number of CPUs)") == 0,
	    "config_set message with origin: %s", errbuf);
	ok(c.workers == 0, "a failed config_set changes nothing");
	ok(config_set(&c, "server", "workers", "", NULL, errbuf,
	    sizeof(errbuf)) == -EINVAL && strcmp(errbuf, "key 'workers': empty "
	    "value (0..1024, 0 = number of CPUs)") == 0,
	    "config_set without origin names the key: %s", errbuf);
	ok(config_set(&c, "server", "mode", "3", "--mode", errbuf,
	    sizeof(errbuf)) == 0 && c.mode == LF_MODE_TPC, "config_set mode 3");
	ok(config_set(&c, "server", "mode", "x", "--mode", errbuf,
	    sizeof(errbuf)) == -EINVAL && strncmp(errbuf, "--mode: value 'x' is "
	    "not a mode", 27) == 0 && c.mode == LF_MODE_TPC, "config_set bad mode");
	ok(config_set(&c, "server", "listen", "[::]:9000", "--listen", errbuf,
	    sizeof(errbuf)) == 0 && strcmp(c.listen, "[::]:9000") == 0,
	    "config_set listen");
	ok(config_set(&c, "server", "nope", "1", "--nope", errbuf,
	    sizeof(errbuf)) == -EINVAL && strcmp(errbuf, "--nope: unknown key "
	    "'nope' in section [server]") == 0, "config_set unknown key");
	ok(config_set(&c, "bogus", "workers", "1", "--x", errbuf,
	    sizeof(errbuf)) == -EINVAL && strcmp(errbuf, "--x: unknown section "
	    "'bogus'") == 0, "config_set unknown section");
	ok(config_set(&c, "stats", "interval", "60", "--stats", errbuf,
	    sizeof(errbuf)) == 0 && c.stats_interval == 60, "config_set [stats]");
	config_free(&c);
}

/*
 * etc/lfserver.ini as installed changes nothing, shows every key, and the
 * default it shows is the real one: uncommented, the file still loads to
 * the built-in defaults.
 */
static void
test_shipped(void)
{
	static const char *const keys[] = { "mode", "workers", "queue_capacity",
	    "listen", "docroot", "routes", "keepalive_timeout", "request_timeout",
	    "max_connections", "interval", "public_stats", "admin_listen",
	    "access_log", "access_log_format", "worker_spin_us", NULL };
	const char *shipped = LF_TOP_SRCDIR "/etc/lfserver.ini";
	struct lf_config c, d;
	char line[512], *uncommented = NULL;
	size_t len = 0, i;
	int seen[15] = { 0 };
	FILE *fp, *out;

	config_init(&c);
	config_init(&d);
	errbuf[0] = '\0';
	ok(config_load(&c, shipped, false, errbuf, sizeof(errbuf)) == 0,
	    "shipped lfserver.ini loads: %s", errbuf);
	ok(c.mode == d.mode && c.workers == d.workers &&
	    c.queue_capacity == d.queue_capacity &&
	    strcmp(c.listen, d.listen) == 0 && c.docroot == NULL &&
	    c.routes == NULL && c.keepalive_timeout == d.keepalive_timeout &&
	    c.request_timeout == d.request_timeout &&
	    c.max_connections == d.max_connections &&
	    c.stats_interval == d.stats_interval,
	    "shipped lfserver.ini changes nothing");
	config_free(&c);

	if ((fp = fopen(shipped, "r")) == NULL ||
	    (out = open_memstream(&uncommented, &len)) == NULL) {
		ok(0, "read %s", shipped);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		for (i = 0; keys[i] != NULL; i++) {
			size_t kl = strlen(keys[i]);

			if (line[0] == ';' && strncmp(line + 1, keys[i], kl) == 0 &&
			    strncmp(line + 1 + kl, " = ", 3) == 0)
				break;
		}
		if (keys[i] != NULL) {
			seen[i]++;
			/* the paths have no default to show */
			if (strcmp(keys[i], "docroot") != 0 &&
			    strcmp(keys[i], "routes") != 0) {
				fputs(line + 1, out);
				continue;
			}
		}
		fputs(line, out);
	}
	fclose(fp);
	fclose(out);
	for (i = 0; keys[i] != NULL; i++)
		ok(seen[i] == 1, "shipped lfserver.ini shows ;%s = once", keys[i]);
	ok(load(&c, uncommented) == 0, "shipped defaults uncommented load: %s",
	    errbuf);
	ok(c.mode == d.mode && c.workers == d.workers &&
	    c.queue_capacity == d.queue_capacity &&
	    strcmp(c.listen, d.listen) == 0 &&
	    c.keepalive_timeout == d.keepalive_timeout &&
	    c.request_timeout == d.request_timeout &&
	    c.max_connections == d.max_connections &&
	    c.stats_interval == d.stats_interval &&
	    c.worker_spin_us == d.worker_spin_us,
	    "the defaults the shipped file shows are the built-in ones");
	config_free(&c);
	config_free(&d);
	free(uncommented);
}

/* No raw control byte from a file or an option may reach a terminal. */
static void
test_escape(void)
{
	struct lf_config c;
	char buf[64];
	int rv;

	escape_str(buf, sizeof(buf), "a\x1b[2Jb\tc\x7f\\x");
	ok(strcmp(buf, "a\\x1b[2Jb\\x09c\\x7f\\x") == 0,
	    "escape_str: ESC, TAB and DEL become \\xNN, a backslash stays (%s)",
	    buf);
	escape_str(buf, sizeof(buf), "caf\xc3\xa9 \xc2\x9b \xff\xc3 \xed\xa0\x80");
	ok(strcmp(buf, "caf\xc3\xa9 \\xc2\\x9b \\xff\\xc3 \\xed\\xa0\\x80") == 0,
	    "escape_str: UTF-8 kept; C1 CSI, stray and surrogate bytes escaped "
	    "(%s)", buf);
	escape_str(buf, 6, "ab\x1b\x1b");
	ok(strcmp(buf, "ab") == 0, "escape_str never cuts an escape in half");
	memcpy(buf, "x\x1b", 3);
	escape_inplace(buf, sizeof(buf));
	escape_inplace(buf, sizeof(buf));
	ok(strcmp(buf, "x\\x1b") == 0, "escape_inplace is idempotent (%s)", buf);

	ok(load_fails("[server]\nmode = \x1b]0;pwned\x07\n", 2, "key 'mode': "
	    "value '\\x1b]0;pwned\\x07' is not a mode (lockfree, locked, "
	    "thread-per-connection, sequential, or 1, 2, 3)"),
	    "an ESC in a value is escaped in the message");
	ok(load_fails("[server]\nwor\x1b[31mkers = 1\n", 2, "unknown key "
	    "'wor\\x1b[31mkers' in section [server]"),
	    "an ESC in a key is escaped in the message");
	ok(load_fails("[serv\x1b[0m]\n", 1, "unknown section 'serv\\x1b[0m'"),
	    "an ESC in a section is escaped in the message");
	config_init(&c);
	rv = config_set(&c, "server", "workers", "1\x1b[K", "--workers", errbuf,
	    sizeof(errbuf));
	ok(rv == -EINVAL && strcmp(errbuf, "--workers: value '1\\x1b[K' is not "
	    "a number (0..1024, 0 = number of CPUs)") == 0,
	    "an ESC in an option is escaped in the message (%s)", errbuf);
	config_free(&c);
	config_init(&c);
	rv = config_set(&c, "server", "x\x1b", "1", NULL, errbuf, sizeof(errbuf));
	ok(rv == -EINVAL && strcmp(errbuf, "unknown key 'x\\x1b' in section "
	    "[server]") == 0, "an ESC in a key given to config_set is escaped "
	    "(%s)", errbuf);
	config_free(&c);
	config_init(&c);
	rv = config_load(&c, tpath("no\x1bsuch.ini"), false, errbuf,
	    sizeof(errbuf));
	ok(rv == -ENOENT && strstr(errbuf, "no\\x1bsuch.ini: cannot open") != NULL,
	    "an ESC in the file name is escaped in the message (%s)", errbuf);
	config_free(&c);
}

/* public_stats, admin_listen, access_log, access_log_format. */
static void
test_observability(void)
{
	struct lf_config c;

	config_init(&c);
	ok(!c.public_stats && c.admin_listen == NULL && c.access_log == NULL &&
	    c.access_log_format == LF_LOG_COMBINED,
	    "defaults: public_stats off, no admin listener, access log off, combined");
	config_free(&c);
	ok(load(&c, "[server]\npublic_stats = on\nadmin_listen = 127.0.0.1:7879\n"
	    "access_log = /var/log/lfserver/access.log\naccess_log_format = json\n") == 0 &&
	    c.public_stats && strcmp(c.admin_listen, "127.0.0.1:7879") == 0 &&
	    strcmp(c.access_log, "/var/log/lfserver/access.log") == 0 &&
	    c.access_log_format == LF_LOG_JSON, "the four keys load: %s", errbuf);
	config_free(&c);
	ok(load(&c, "[server]\nadmin_listen = /run/lfserver/admin.sock\n"
	    "access_log = journal\npublic_stats = no\n") == 0 &&
	    strcmp(c.admin_listen, "/run/lfserver/admin.sock") == 0 &&
	    strcmp(c.access_log, "journal") == 0 && !c.public_stats,
	    "a Unix socket path, journal, and no: %s", errbuf);
	config_free(&c);
	ok(load(&c, "[server]\naccess_log = logs/a.log\nadmin_listen = off\n") == 0 &&
	    c.access_log != NULL && c.access_log[0] == '/' &&
	    strstr(c.access_log, "/logs/a.log") != NULL && c.admin_listen == NULL,
	    "a relative access_log is made absolute; admin_listen = off: %s", errbuf);
	config_free(&c);
	ok(load_fails("[server]\n\npublic_stats = maybe\n", 3, "key 'public_stats': "
	    "value 'maybe' is not a boolean (on or off)"), "public_stats = maybe: error");
	ok(load_fails("[server]\nadmin_listen = localhost\n", 2, "key 'admin_listen': "
	    "value 'localhost' is not an address and port or a socket path (off, "
	    "A.B.C.D:PORT, [IPv6]:PORT, *:PORT or /path/of/unix.socket)"),
	    "admin_listen = localhost: error");
	ok(load_fails("[server]\naccess_log_format = xml\n", 2, "key "
	    "'access_log_format': value 'xml' is not a log format (combined or json)"),
	    "access_log_format = xml: error");
	ok(load_fails("[server]\naccess_log =\n", 2, "key 'access_log': empty "
	    "value (off, journal or a file name)"), "access_log = (empty): error");
}

/* worker_spin_us: auto (the default) or 0..10000 microseconds. */
static void
test_worker_spin(void)
{
	static const char range[] = "auto, or 0..10000 microseconds, 0 = park "
	    "at once";
	struct lf_config c;

	config_init(&c);
	ok(c.worker_spin_us == LF_WORKER_SPIN_AUTO, "worker_spin_us: auto by "
	    "default");
	config_free(&c);
	ok(load(&c, "[server]\nworker_spin_us = 0\n") == 0 &&
	    c.worker_spin_us == 0, "worker_spin_us = 0 accepted");
	config_free(&c);
	ok(load(&c, "[server]\nworker_spin_us = 10000\n") == 0 &&
	    c.worker_spin_us == 10000, "worker_spin_us = 10000 accepted");
	config_free(&c);
	ok(load(&c, "[server]\nworker_spin_us = 30\nworkers = 2\n") == 0 &&
	    c.worker_spin_us == 30, "worker_spin_us = 30 accepted");
	config_free(&c);
	ok(load(&c, "[server]\nworker_spin_us = auto\n") == 0 &&
	    c.worker_spin_us == LF_WORKER_SPIN_AUTO, "worker_spin_us = auto "
	    "accepted");
	config_free(&c);
	ok(load_fails("; spin\n[server]\nworker_spin_us = 10001\n", 3,
	    "key 'worker_spin_us': value '10001' is out of range (%s)", range),
	    "worker_spin_us = 10001: FILE:3: out of range");
	ok(load_fails("[server]\n\nworker_spin_us = -1\n", 3,
	    "key 'worker_spin_us': value '-1' is not a number (%s)", range),
	    "worker_spin_us = -1: FILE:3: not a number (auto is spelt auto)");
	ok(load_fails("[server]\nworker_spin_us = Auto\n", 2,
	    "key 'worker_spin_us': value 'Auto' is not a number (%s)", range),
	    "worker_spin_us = Auto: FILE:2: not a number");
	ok(load_fails("[server]\nworker_spin_us =\n", 2,
	    "key 'worker_spin_us': empty value (%s)", range),
	    "worker_spin_us = (empty): FILE:2: error");
	ok(load_fails("[stats]\nworker_spin_us = 5\n", 2,
	    "unknown key 'worker_spin_us' in section [stats]"),
	    "worker_spin_us belongs to [server]");
	config_init(&c);
	ok(config_set(&c, "server", "worker_spin_us", "x", NULL, errbuf,
	    sizeof(errbuf)) == -EINVAL && strstr(errbuf, "key 'worker_spin_us': "
	    "value 'x' is not a number") == errbuf,
	    "config_set worker_spin_us x: %s", errbuf);
	config_free(&c);
}

int
main(void)
{
	testdir_create("test_config");
	test_worker_spin();
	test_defaults();
	test_modes();
	test_numbers();
	test_listen();
	test_paths();
	test_file();
	test_structure_errors();
	test_load_semantics();
	test_set();
	test_shipped();
	test_escape();
	test_observability();
	testdir_remove();
	return done_testing();
}
