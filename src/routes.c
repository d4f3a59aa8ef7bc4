/*
 * routes.c - the URL path -> handler table: the built-in one, or one read
 * from a libconfig file (see lfserver.routes(5)), and the lookup the router
 * does per request.
 *
 * A file is checked as strictly as the ini: every setting must be known for
 * its handler, every number in range, and each problem names FILE:LINE from
 * libconfig's own line tracking. The table is built into a fresh struct and
 * handed out only when the whole file is valid.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "escape.h"
#include "lfconfig.h"
#include "routes.h"

/* config_init below is libconfig's (see lfconfig.h) */
#undef config_init

#define ROUTE_WEIGHT_MAX	1000
#define ROUTE_PATH_MAX		1024

static const char *const route_kind_names[] = {
	[ROUTE_STATIC] = "static",
	[ROUTE_CPU] = "cpu",
	[ROUTE_IO] = "io",
	[ROUTE_MIXED] = "mixed",
	[ROUTE_STATS] = "stats",
};

#define NKINDS	(sizeof(route_kind_names) / sizeof(route_kind_names[0]))
#define K(k)	(1u << (k))
#define KALL	(K(ROUTE_STATIC) | K(ROUTE_CPU) | K(ROUTE_IO) | K(ROUTE_MIXED) | \
		    K(ROUTE_STATS))

/* Which settings each handler takes. */
static const struct {
	const char	*name;
	unsigned	 kinds;
} route_keys[] = {
	{ "path", KALL },
	{ "handler", KALL },
	{ "prefix", KALL },
	{ "docroot", K(ROUTE_STATIC) },
	{ "cache_control", K(ROUTE_STATIC) },
	{ "n", K(ROUTE_CPU) | K(ROUTE_MIXED) },
	{ "n_max", K(ROUTE_CPU) },
	{ "ms", K(ROUTE_IO) | K(ROUTE_MIXED) },
	{ "ms_max", K(ROUTE_IO) },
	{ "weights", K(ROUTE_MIXED) },
};

/* One routes_load: where messages go and which file they name. */
struct routes_parse {
	const char	*path;
	char		*err;
	size_t		 errlen;
};

const char *
route_kind_name(enum route_kind k)
{
	if ((unsigned)k >= NKINDS)
		return "unknown";
	return route_kind_names[k];
}

static void
route_defaults(struct route *rt, enum route_kind kind)
{
	memset(rt, 0, sizeof(*rt));
	rt->kind = kind;
	rt->prefix = kind == ROUTE_STATIC;
	rt->cpu_n = ROUTE_CPU_N_DEFAULT;
	rt->cpu_n_max = ROUTE_CPU_N_MAX;
	rt->io_ms = ROUTE_IO_MS_DEFAULT;
	rt->io_ms_max = ROUTE_IO_MS_MAX;
	rt->w_static = rt->w_cpu = rt->w_io = 1;
}

void
routes_free(struct routes *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].docroot);
		free(r->v[i].cache_control);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

int
routes_builtin(struct routes *r)
{
	static const struct {
		const char	*path;
		enum route_kind	 kind;
	} builtin[] = {
		{ "/cpu", ROUTE_CPU },
		{ "/io", ROUTE_IO },
		{ "/mixed", ROUTE_MIXED },
		{ "/stats", ROUTE_STATS },
		{ "/", ROUTE_STATIC },
	};
	const size_t n = sizeof(builtin) / sizeof(builtin[0]);
	struct routes t = { NULL, 0 };
	size_t i;

	if ((t.v = calloc(n, sizeof(*t.v))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		route_defaults(&t.v[i], builtin[i].kind);
		t.n++;
		if ((t.v[i].path = strdup(builtin[i].path)) == NULL) {
			routes_free(&t);
			return -ENOMEM;
		}
	}
	*r = t;
	return 0;
}

static int __attribute__((format(printf, 3, 4)))
routes_error(struct routes_parse *p, const config_setting_t *s,
    const char *fmt, ...)
{
	const char *file = NULL;
	va_list ap;
	int n;

	if (s != NULL)
		file = config_setting_source_file(s);
	n = snprintf(p->err, p->errlen, "%s:%u: ", file ? file : p->path,
	    s != NULL ? config_setting_source_line(s) : 0u);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* An integer setting S in 0..MAX. */
static int
routes_get_uint(struct routes_parse *p, const config_setting_t *s,
    const char *what, unsigned max, unsigned *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return routes_error(p, s, "%s: '%s' must be an integer",
		    what, config_setting_name(s));
	v = config_setting_get_int64(s);
	if (v < 0 || v > (long long)max)
		return routes_error(p, s, "%s: %s = %lld is out of range (0..%u)",
		    what, config_setting_name(s), v, max);
	*out = (unsigned)v;
	return 0;
}

static int
routes_get_string(struct routes_parse *p, const config_setting_t *s,
    const char *what, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return routes_error(p, s, "%s: '%s' must be a string", what,
		    config_setting_name(s));
	*out = config_setting_get_string(s);
	return 0;
}

static int
routes_check_path(struct routes_parse *p, const config_setting_t *s,
    const char *path)
{
	const unsigned char *c;

	if (path[0] != '/')
		return routes_error(p, s, "path '%s' does not begin with '/'",
		    path);
	if (strlen(path) > ROUTE_PATH_MAX)
		return routes_error(p, s, "path is longer than %d characters",
		    ROUTE_PATH_MAX);
	for (c = (const unsigned char *)path; *c != '\0'; c++)
		if (*c <= ' ' || *c == 0x7f || *c == '?' || *c == '#')
			return routes_error(p, s, "path '%s' contains a space, "
			    "control character, '?' or '#'", path);
	return 0;
}

static int
routes_weights(struct routes_parse *p, const config_setting_t *w,
    const char *what, struct route *rt)
{
	const config_setting_t *s;
	const char *name;
	unsigned *dst;
	int i, rv;

	if (!config_setting_is_group(w))
		return routes_error(p, w, "%s: 'weights' must be a group "
		    "{ static = N; cpu = N; io = N; }", what);
	/* a weight left out of the group is 0: "{ cpu = 1; }" is all cpu */
	rt->w_static = rt->w_cpu = rt->w_io = 0;
	for (i = 0; (s = config_setting_get_elem(w, (unsigned)i)) != NULL; i++) {
		name = config_setting_name(s);
		if (strcmp(name, "static") == 0)
			dst = &rt->w_static;
		else if (strcmp(name, "cpu") == 0)
			dst = &rt->w_cpu;
		else if (strcmp(name, "io") == 0)
			dst = &rt->w_io;
		else
			return routes_error(p, s, "%s: unknown weight '%s' "
			    "(static, cpu, io)", what, name);
		if ((rv = routes_get_uint(p, s, what, ROUTE_WEIGHT_MAX, dst)) != 0)
			return rv;
	}
	if (rt->w_static + rt->w_cpu + rt->w_io == 0)
		return routes_error(p, w, "%s: the weights sum to 0", what);
	return 0;
}

/* One group of the `routes` list into RT (zeroed by the caller). */
static int
routes_one(struct routes_parse *p, const config_setting_t *g, struct route *rt)
{
	const config_setting_t *s, *hs;
	const char *path = NULL, *handler = NULL, *name, *docroot = NULL;
	char what[ROUTE_PATH_MAX + 16];
	struct stat st;
	size_t i, k;
	int rv;

	if (!config_setting_is_group(g))
		return routes_error(p, g, "each route must be a group "
		    "{ path = \"/...\"; handler = \"...\"; }");
	if ((s = config_setting_get_member(g, "path")) == NULL)
		return routes_error(p, g, "route without a path");
	if ((rv = routes_get_string(p, s, "route", &path)) != 0)
		return rv;
	if ((rv = routes_check_path(p, s, path)) != 0)
		return rv;
	snprintf(what, sizeof(what), "route '%s'", path);
	if ((hs = config_setting_get_member(g, "handler")) == NULL)
		return routes_error(p, g, "%s: no handler", what);
	if ((rv = routes_get_string(p, hs, what, &handler)) != 0)
		return rv;
	for (k = 0; k < NKINDS; k++)
		if (strcmp(handler, route_kind_names[k]) == 0)
			break;
	if (k == NKINDS)
		return routes_error(p, hs, "%s: unknown handler '%s' (static, "
		    "cpu, io, mixed, stats)", what, handler);
	route_defaults(rt, (enum route_kind)k);

	for (i = 0; (s = config_setting_get_elem(g, (unsigned)i)) != NULL; i++) {
		size_t j, nkeys = sizeof(route_keys) / sizeof(route_keys[0]);

		rv = 0;
		name = config_setting_name(s);
		for (j = 0; j < nkeys; j++)
			if (strcmp(name, route_keys[j].name) == 0)
				break;
		if (j == nkeys || (route_keys[j].kinds & K(k)) == 0)
			return routes_error(p, s, "%s: unknown setting '%s' for "
			    "handler %s", what, name, handler);
		if (strcmp(name, "prefix") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				return routes_error(p, s, "%s: 'prefix' must be "
				    "true or false", what);
			rt->prefix = config_setting_get_bool(s) != 0;
		} else if (strcmp(name, "n") == 0)
			rv = routes_get_uint(p, s, what, ROUTE_CPU_N_MAX, &rt->cpu_n);
		else if (strcmp(name, "n_max") == 0)
			rv = routes_get_uint(p, s, what, ROUTE_CPU_N_MAX,
			    &rt->cpu_n_max);
		else if (strcmp(name, "ms") == 0)
			rv = routes_get_uint(p, s, what, ROUTE_IO_MS_MAX, &rt->io_ms);
		else if (strcmp(name, "ms_max") == 0)
			rv = routes_get_uint(p, s, what, ROUTE_IO_MS_MAX,
			    &rt->io_ms_max);
		else if (strcmp(name, "weights") == 0)
			rv = routes_weights(p, s, what, rt);
		else if (strcmp(name, "cache_control") == 0) {
			const char *cc = NULL, *q;

			if ((rv = routes_get_string(p, s, what, &cc)) != 0)
				return rv;
			for (q = cc; *q != '\0'; q++)
				if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
					return routes_error(p, s, "%s: cache_control "
					    "must be printable ASCII", what);
			if (*cc == '\0')
				return routes_error(p, s, "%s: empty cache_control",
				    what);
			if ((rt->cache_control = strdup(cc)) == NULL)
				return -ENOMEM;
		} else if (strcmp(name, "docroot") == 0) {
			if ((rv = routes_get_string(p, s, what, &docroot)) != 0)
				return rv;
			if (*docroot == '\0')
				return routes_error(p, s, "%s: empty docroot", what);
			if ((rt->docroot = config_path_resolve(p->path,
			    docroot)) == NULL)
				return routes_error(p, s, "%s: docroot '%s': %s",
				    what, docroot, strerror(errno));
			if (stat(rt->docroot, &st) != 0)
				return routes_error(p, s, "%s: docroot '%s': %s",
				    what, rt->docroot, strerror(errno));
			if (!S_ISDIR(st.st_mode))
				return routes_error(p, s, "%s: docroot '%s' is "
				    "not a directory", what, rt->docroot);
		}
		if (rv != 0)
			return rv;
	}
	if (rt->cpu_n > rt->cpu_n_max)
		return routes_error(p, config_setting_get_member(g, "n") ?
		    config_setting_get_member(g, "n") : g,
		    "%s: n = %u is above n_max = %u", what, rt->cpu_n,
		    rt->cpu_n_max);
	if (rt->io_ms > rt->io_ms_max)
		return routes_error(p, config_setting_get_member(g, "ms") ?
		    config_setting_get_member(g, "ms") : g,
		    "%s: ms = %u is above ms_max = %u", what, rt->io_ms,
		    rt->io_ms_max);
	if ((rt->path = strdup(path)) == NULL)
		return -ENOMEM;
	return 0;
}

/*
 * libconfig 1.5 stores a decimal integer literal without an L suffix as a C
 * int through strtol and a cast, so 4294967301 arrives as 5 and 2147483648
 * as a negative number, with nothing in the setting to tell. The file has
 * already parsed, so this scan only needs libconfig's token boundaries: it
 * skips comments, strings and @include lines (whose files it scans in turn)
 * and rejects any plain decimal or hexadecimal literal that does not fit in
 * an int, naming the setting before it.
 */
#define ROUTES_INCLUDE_DEPTH	10

static int routes_scan_file(struct routes_parse *p, const char *file,
    int depth);

static bool
routes_is_name_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

/* A literal TOK (LEN bytes) that libconfig would store wrapped. */
static bool
routes_int_wraps(const char *tok, size_t len)
{
	char buf[32], *end;
	long long v;
	unsigned long long u;
	size_t i, start;
	bool hex = len > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X');

	start = hex ? 2 : (tok[0] == '-' || tok[0] == '+');
	if (start == len)
		return false;
	for (i = start; i < len; i++)
		if (hex ? !isxdigit((unsigned char)tok[i]) :
		    tok[i] < '0' || tok[i] > '9')
			return false;	/* a float, or an L-suffixed 64-bit literal */
	if (len >= sizeof(buf))
		return true;	/* a plain literal this long cannot fit */
	memcpy(buf, tok, len);
	buf[len] = '\0';
	errno = 0;
	if (hex) {
		u = strtoull(buf, &end, 16);
		return errno == ERANGE || u > INT_MAX;
	}
	v = strtoll(buf, &end, 10);
	return errno == ERANGE || v < INT_MIN || v > INT_MAX;
}

static int
routes_scan_text(struct routes_parse *p, const char *file, const char *t,
    size_t len, int depth)
{
	char name[64] = "", inc[PATH_MAX];
	unsigned line = 1;
	size_t i = 0, j, k;
	bool bol = true;	/* only blanks since the start of the line */
	int rv;

	while (i < len) {
		if (t[i] == '\n') {
			line++;
			bol = true;
			i++;
		} else if (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' ||
		    t[i] == '\f') {
			i++;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			for (i += 2; i < len && !(t[i] == '*' && i + 1 < len &&
			    t[i + 1] == '/'); i++)
				if (t[i] == '\n')
					line++;
			i += 2;
			bol = false;
		} else if (t[i] == '#' || (t[i] == '/' && i + 1 < len &&
		    t[i + 1] == '/')) {
			while (i < len && t[i] != '\n')
				i++;
		} else if (t[i] == '"') {
			for (i++; i < len && t[i] != '"'; i++) {
				if (t[i] == '\\' && i + 1 < len)
					i++;
				if (t[i] == '\n')
					line++;
			}
			i++;
			bol = false;
		} else if (bol && t[i] == '@' && len - i > 8 &&
		    memcmp(t + i, "@include", 8) == 0) {
			for (i += 8; i < len && t[i] != '"'; i++)
				;
			for (i++, k = 0; i < len && t[i] != '"'; i++) {
				if (t[i] == '\\' && i + 1 < len)
					i++;
				if (k + 1 < sizeof(inc))
					inc[k++] = t[i];
			}
			inc[k] = '\0';
			i++;
			if ((rv = routes_scan_file(p, inc, depth + 1)) != 0)
				return rv;
		} else if (isalpha((unsigned char)t[i]) || t[i] == '*') {
			for (j = i; j < len && routes_is_name_char(t[j]); j++)
				;
			k = j - i < sizeof(name) - 1 ? j - i : sizeof(name) - 1;
			memcpy(name, t + i, k);
			name[k] = '\0';
			i = j;
			bol = false;
		} else if (isdigit((unsigned char)t[i]) || t[i] == '-' ||
		    t[i] == '+' || t[i] == '.') {
			for (j = i; j < len && (isalnum((unsigned char)t[j]) ||
			    t[j] == '.' || t[j] == '-' || t[j] == '+'); j++)
				;
			if (routes_int_wraps(t + i, j - i)) {
				snprintf(p->err, p->errlen, "%s:%u: %s = %.*s is "
				    "out of range (not a 32-bit integer)", file,
				    line, name[0] != '\0' ? name : "value",
				    (int)(j - i > 40 ? 40 : j - i), t + i);
				return -EINVAL;
			}
			i = j;
			bol = false;
		} else {
			i++;
			bol = false;
		}
	}
	return 0;
}

/* Reads FILE whole and scans it; an unreadable include is libconfig's to report. */
static int
routes_scan_file(struct routes_parse *p, const char *file, int depth)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp, *mem;
	char chunk[4096];
	size_t n;
	int rv = 0;

	if (depth > ROUTES_INCLUDE_DEPTH || (fp = fopen(file, "re")) == NULL)
		return 0;
	if ((mem = open_memstream(&text, &len)) == NULL) {
		fclose(fp);
		return -ENOMEM;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (fwrite(chunk, 1, n, mem) != n) {
			rv = -ENOMEM;
			break;
		}
	if (fclose(mem) != 0 && rv == 0)
		rv = -ENOMEM;
	fclose(fp);
	if (rv == 0)
		rv = routes_scan_text(p, file, text, len, depth);
	else
		snprintf(p->err, p->errlen, "%s: %s", file, strerror(-rv));
	free(text);
	return rv;
}

int
routes_load(struct routes *r, const char *path, char *err, size_t errlen)
{
	struct routes_parse p = { path, err, errlen };
	struct routes t = { NULL, 0 };
	const config_setting_t *root, *list, *s, *g;
	unsigned *lines = NULL;
	struct stat st;
	config_t cfg;
	FILE *fp;
	size_t i, j, n;
	int rv;

	/* libconfig does not keep errno for an unreadable file: open it here */
	if ((fp = fopen(path, "re")) == NULL) {
		rv = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rv));
		escape_inplace(err, errlen);
		return rv;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(EISDIR));
		escape_inplace(err, errlen);
		return -EISDIR;
	}
	config_init(&cfg);
	if (config_read(&cfg, fp) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: %s", config_error_file(&cfg) ?
		    config_error_file(&cfg) : path, config_error_line(&cfg),
		    config_error_text(&cfg));
		rv = -EINVAL;
		goto done;
	}

	if ((rv = routes_scan_file(&p, path, 0)) != 0)
		goto done;

	root = config_root_setting(&cfg);
	for (i = 0; (s = config_setting_get_elem(root, (unsigned)i)) != NULL; i++)
		if (strcmp(config_setting_name(s), "routes") != 0) {
			rv = routes_error(&p, s, "unknown setting '%s' (only "
			    "'routes' belongs at the top)", config_setting_name(s));
			goto done;
		}
	if ((list = config_setting_get_member(root, "routes")) == NULL) {
		rv = -EINVAL;
		snprintf(err, errlen, "%s: no 'routes' list", path);
		goto done;
	}
	if (!config_setting_is_list(list)) {
		rv = routes_error(&p, list, "'routes' must be a list ( { ... }, "
		    "{ ... } )");
		goto done;
	}
	if ((n = (size_t)config_setting_length(list)) == 0) {
		rv = routes_error(&p, list, "the 'routes' list is empty");
		goto done;
	}
	if ((t.v = calloc(n, sizeof(*t.v))) == NULL ||
	    (lines = calloc(n, sizeof(*lines))) == NULL) {
		rv = -ENOMEM;
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto done;
	}
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(list, (unsigned)i);
		rv = routes_one(&p, g, &t.v[i]);
		t.n++;
		if (rv == -ENOMEM)
			snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		if (rv != 0)
			goto done;
		lines[i] = config_setting_source_line(
		    config_setting_get_member(g, "path"));
		for (j = 0; j < i; j++)
			if (strcmp(t.v[j].path, t.v[i].path) == 0) {
				rv = routes_error(&p, config_setting_get_member(g,
				    "path"), "duplicate path '%s' (first on "
				    "line %u)", t.v[i].path, lines[j]);
				goto done;
			}
	}
	*r = t;
	t.v = NULL;
	t.n = 0;
	rv = 0;
done:
	if (rv != 0)
		escape_inplace(err, errlen);
	routes_free(&t);
	free(lines);
	config_destroy(&cfg);
	fclose(fp);
	return rv;
}

/* P's route path RP covers PATH: equal, or a parent directory of it. */
static bool
routes_covers(const char *rp, size_t rlen, const char *path, size_t len)
{
	if (rlen > len || memcmp(rp, path, rlen) != 0)
		return false;
	return rlen == len || rp[rlen - 1] == '/' || path[rlen] == '/';
}

const struct route *
routes_match(const struct routes *r, const char *path, size_t len)
{
	const struct route *best = NULL;
	size_t i, rlen, blen = 0;

	for (i = 0; i < r->n; i++) {
		rlen = strlen(r->v[i].path);
		if (rlen == len && memcmp(r->v[i].path, path, len) == 0)
			return &r->v[i];
	}
	for (i = 0; i < r->n; i++) {
		if (!r->v[i].prefix)
			continue;
		rlen = strlen(r->v[i].path);
		if ((best == NULL || rlen > blen) &&
		    routes_covers(r->v[i].path, rlen, path, len)) {
			best = &r->v[i];
			blen = rlen;
		}
	}
	return best;
}
