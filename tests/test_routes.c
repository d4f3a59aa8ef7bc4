/*
 * test_routes.c - the routes table: the built-in table, a good libconfig
 * file, each error with its FILE:LINE, and the matching rules (exact first,
 * then the longest prefix route that is the path or a parent directory).
 * Files are written under a mkdtemp directory that is removed at the end.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routes.h"
#include "tap.h"
#include "testdir.h"

static char realdir[PATH_MAX];
static char errbuf[1024];

static int
load(struct routes *r, const char *content)
{
	errbuf[0] = '\0';
	return routes_load(r, write_file("r.conf", "%s", content), errbuf,
	    sizeof(errbuf));
}

/* True when loading CONTENT fails with exactly "r.conf:LINE: REST". */
static int __attribute__((format(printf, 3, 4)))
load_fails(const char *content, int line, const char *fmt, ...)
{
	struct routes r = { NULL, 0 };
	char want[1024], rest[900];
	va_list ap;
	int rv;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", tpath("r.conf"), line,
		    rest);
	else
		snprintf(want, sizeof(want), "%s: %s", tpath("r.conf"), rest);
	rv = load(&r, content);
	if (rv == 0)
		routes_free(&r);
	if (rv != -EINVAL || strcmp(errbuf, want) != 0 || r.v != NULL) {
		printf("# want: %s\n#  got: %s (rv %d)\n", want, errbuf, rv);
		return 0;
	}
	return 1;
}

static const struct route *
find(const struct routes *r, const char *path)
{
	return routes_match(r, path, strlen(path));
}

static void
routes_free_twice_and_null(void)
{
	struct routes r;

	if (routes_builtin(&r) != 0)
		_exit(1);
	routes_free(&r);
	routes_free(&r);
	routes_free(NULL);
}

static void
test_builtin(void)
{
	static const struct { const char *path; enum route_kind kind; } want[] = {
		{ "/cpu", ROUTE_CPU }, { "/io", ROUTE_IO },
		{ "/mixed", ROUTE_MIXED }, { "/stats", ROUTE_STATS },
		{ "/", ROUTE_STATIC },
	};
	struct routes r;
	const struct route *rt;
	size_t i;

	ok(routes_builtin(&r) == 0 && r.n == 5, "built-in table has 5 routes");
	for (i = 0; i < 5 && i < r.n; i++) {
		rt = &r.v[i];
		ok(strcmp(rt->path, want[i].path) == 0 && rt->kind == want[i].kind,
		    "built-in %s is %s", want[i].path, route_kind_name(want[i].kind));
		ok(rt->prefix == (rt->kind == ROUTE_STATIC),
		    "built-in %s prefix %d", rt->path, rt->prefix);
		ok(rt->docroot == NULL && rt->cpu_n == ROUTE_CPU_N_DEFAULT &&
		    rt->cpu_n_max == ROUTE_CPU_N_MAX && rt->io_ms ==
		    ROUTE_IO_MS_DEFAULT && rt->io_ms_max == ROUTE_IO_MS_MAX &&
		    rt->w_static == 1 && rt->w_cpu == 1 && rt->w_io == 1,
		    "built-in %s defaults", rt->path);
	}
	ok(find(&r, "/cpu")->kind == ROUTE_CPU, "/cpu -> cpu");
	ok(find(&r, "/io")->kind == ROUTE_IO, "/io -> io");
	ok(find(&r, "/mixed")->kind == ROUTE_MIXED, "/mixed -> mixed");
	ok(find(&r, "/stats")->kind == ROUTE_STATS, "/stats -> stats");
	ok(find(&r, "/")->kind == ROUTE_STATIC, "/ -> static");
	ok(find(&r, "/index.html")->kind == ROUTE_STATIC, "/index.html -> static");
	ok(find(&r, "/cpu/x")->kind == ROUTE_STATIC,
	    "/cpu/x -> static (cpu is not a prefix route)");
	ok(find(&r, "/statsx")->kind == ROUTE_STATIC, "/statsx -> static");
	routes_free(&r);
	ok(r.v == NULL && r.n == 0, "routes_free empties the table");
	routes_free(&r);
	ok(r.v == NULL && r.n == 0, "routes_free on a freed table leaves it empty");
	ok(tap_survives(routes_free_twice_and_null),
	    "routes_free accepts NULL and a freed table (in a child)");

	ok(strcmp(route_kind_name(ROUTE_STATIC), "static") == 0 &&
	    strcmp(route_kind_name(ROUTE_CPU), "cpu") == 0 &&
	    strcmp(route_kind_name(ROUTE_IO), "io") == 0 &&
	    strcmp(route_kind_name(ROUTE_MIXED), "mixed") == 0 &&
	    strcmp(route_kind_name(ROUTE_STATS), "stats") == 0,
	    "route_kind_name");
}

static void
test_good_file(void)
{
	struct routes r;
	const struct route *rt;
	char want[PATH_MAX + 16];
	int rv;

	mkdir(tpath("www"), 0755);
	rv = load(&r,
	    "# a routes file\n"
	    "routes = (\n"
	    "  { path = \"/\";      handler = \"static\"; prefix = true; docroot = \"www\"; },\n"
	    "  { path = \"/cpu\";   handler = \"cpu\";   n = 500; n_max = 2000; },\n"
	    "  { path = \"/io\";    handler = \"io\";    ms = 3;    ms_max = 40; },\n"
	    "  { path = \"/mixed\"; handler = \"mixed\"; weights = { static = 2; cpu = 3; io = 4; }; n = 77; ms = 5; },\n"
	    "  { path = \"/stats\"; handler = \"stats\"; },\n"
	    "  { path = \"/files\"; handler = \"static\"; },\n"
	    "  { path = \"/one\";   handler = \"static\"; prefix = false; },\n"
	    "  { path = \"/burn\";  handler = \"cpu\"; prefix = true; },\n"
	    "  { path = \"/m2\";    handler = \"mixed\"; weights = { cpu = 1; }; },\n"
	    "  { path = \"/big\";   handler = \"cpu\"; n = 1000000; n_max = 1000000; }\n"
	    ");\n");
	ok(rv == 0 && r.n == 10, "good file loads: %s", errbuf);
	if (rv != 0)
		return;
	rt = &r.v[0];
	snprintf(want, sizeof(want), "%s/www", realdir);
	ok(rt->kind == ROUTE_STATIC && rt->prefix && rt->docroot != NULL &&
	    strcmp(rt->docroot, want) == 0,
	    "static / with a docroot relative to the file: %s", rt->docroot);
	rt = &r.v[1];
	ok(rt->kind == ROUTE_CPU && !rt->prefix && rt->cpu_n == 500 &&
	    rt->cpu_n_max == 2000, "cpu n and n_max");
	rt = &r.v[2];
	ok(rt->kind == ROUTE_IO && rt->io_ms == 3 && rt->io_ms_max == 40,
	    "io ms and ms_max");
	rt = &r.v[3];
	ok(rt->kind == ROUTE_MIXED && rt->w_static == 2 && rt->w_cpu == 3 &&
	    rt->w_io == 4 && rt->cpu_n == 77 && rt->io_ms == 5,
	    "mixed weights, n, ms");
	ok(r.v[4].kind == ROUTE_STATS && !r.v[4].prefix, "stats");
	ok(r.v[5].prefix && r.v[5].docroot == NULL,
	    "static defaults to prefix, docroot NULL = the ini's");
	ok(!r.v[6].prefix, "static prefix = false");
	ok(r.v[7].prefix, "cpu prefix = true");
	ok(r.v[8].w_static == 0 && r.v[8].w_cpu == 1 && r.v[8].w_io == 0,
	    "weights left out of the group are 0");
	ok(r.v[9].cpu_n == 1000000, "n at the cap");

	ok(find(&r, "/files")->kind == ROUTE_STATIC &&
	    find(&r, "/files") == &r.v[5], "/files -> /files");
	ok(find(&r, "/files/a/b") == &r.v[5], "/files/a/b -> /files");
	ok(find(&r, "/filesx") == &r.v[0], "/filesx -> / (not /files)");
	ok(find(&r, "/one") == &r.v[6], "non-prefix /one matches itself");
	ok(find(&r, "/one/x") == &r.v[0], "/one/x -> /");
	ok(find(&r, "/burn/9") == &r.v[7], "/burn/9 -> cpu prefix route");
	ok(find(&r, "/cpu") == &r.v[1], "/cpu exact");
	routes_free(&r);
}

static void
test_match(void)
{
	struct route v[] = {
		{ .path = "/", .prefix = true, .kind = ROUTE_STATIC },
		{ .path = "/a", .prefix = true, .kind = ROUTE_CPU },
		{ .path = "/a/b", .prefix = true, .kind = ROUTE_IO },
		{ .path = "/a/b/c", .prefix = false, .kind = ROUTE_STATS },
		{ .path = "/d/", .prefix = true, .kind = ROUTE_MIXED },
		{ .path = "/e", .prefix = false, .kind = ROUTE_STATS },
		{ .path = "/e/f", .prefix = true, .kind = ROUTE_CPU },
	};
	struct routes r = { v, sizeof(v) / sizeof(v[0]) };
	struct routes noroot = { v + 1, 6 };

	ok(find(&r, "/") == &v[0], "/ -> /");
	ok(find(&r, "/zzz") == &v[0], "/zzz -> /");
	ok(find(&r, "/a") == &v[1], "/a -> /a");
	ok(find(&r, "/a/") == &v[1], "/a/ -> /a");
	ok(find(&r, "/ab") == &v[0], "/ab -> / (not a parent directory)");
	ok(find(&r, "/a/b") == &v[2], "/a/b -> /a/b (longest)");
	ok(find(&r, "/a/b/x") == &v[2], "/a/b/x -> /a/b");
	ok(find(&r, "/a/bc") == &v[1], "/a/bc -> /a");
	ok(find(&r, "/a/b/c") == &v[3], "/a/b/c exact non-prefix");
	ok(find(&r, "/a/b/c/d") == &v[2], "/a/b/c/d -> /a/b (c is not prefix)");
	ok(find(&r, "/d/") == &v[4], "/d/ -> /d/");
	ok(find(&r, "/d/x") == &v[4], "/d/x -> /d/ (route ends with '/')");
	ok(find(&r, "/d") == &v[0], "/d -> / (route /d/ is below it)");
	ok(find(&r, "/e") == &v[5], "/e exact");
	ok(find(&r, "/e/f/g") == &v[6], "/e/f/g -> /e/f");
	ok(find(&r, "/e/g") == &v[0], "/e/g -> /");
	ok(routes_match(&r, "/a/bXYZ", 4) == &v[2],
	    "the length counts, not the NUL");
	ok(routes_match(&r, "/e", 1) == &v[0], "length 1: /");
	ok(find(&noroot, "/zzz") == NULL, "no match without a / route");
	ok(find(&noroot, "/a/x") == &v[1], "still matches /a/x");
	r.n = 0;
	ok(find(&r, "/") == NULL, "empty table matches nothing");
}

/*
 * libconfig 1.5 wraps a plain integer literal to 32 bits (4294967301 -> 5,
 * 2147483648 -> negative): each must be refused naming FILE:LINE and the key,
 * wherever it sits, and a wide literal with the L suffix is range-checked.
 */
static void
test_wrap(void)
{
	struct routes r = { NULL, 0 };
	char inc[1024];

	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n = 4294967301; }\n);\n", 3, "n = 4294967301 is out of range "
	    "(not a 32-bit integer)"), "n = 2^32 + 5 is refused, not read as 5");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"io\";\n\n"
	    "   ms_max = 2147483648; }\n);\n", 4, "ms_max = 2147483648 is out of "
	    "range (not a 32-bit integer)"), "2^31 is refused, not negative");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"io\";\n"
	    "   ms = -2147483649; }\n);\n", 3, "ms = -2147483649 is out of range "
	    "(not a 32-bit integer)"), "-2^31 - 1 is refused");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"mixed\";\n"
	    "   weights = { static = 1;\n cpu = 0x100000001; }; }\n);\n", 4,
	    "cpu = 0x100000001 is out of range (not a 32-bit integer)"),
	    "a wrapping hexadecimal weight is refused");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n = 99999999999999999999999; }\n);\n", 3, "n = "
	    "99999999999999999999999 is out of range (not a 32-bit integer)"),
	    "a literal beyond 64 bits is refused");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n = 4294967301L; }\n);\n", 3, "route '/a': n = 4294967301 is "
	    "out of range (0..1000000)"), "a 64-bit literal is range-checked");
	/* numbers in comments and strings are not settings */
	ok(load(&r, "# n = 4294967301\nroutes = ( /* 4294967301 */\n"
	    " { path = \"/4294967301\"; handler = \"cpu\"; // 4294967301\n"
	    "   n = 2147; n_max = 0x7fffffff; } );\n") == -EINVAL &&
	    strstr(errbuf, "n_max = 2147483647 is out of range (0..1000000)") != NULL,
	    "comments and strings are skipped; 0x7fffffff is not a wrap (%s)",
	    errbuf);
	routes_free(&r);
	ok(load(&r, "routes = ( /* 99999999999 */ { path = \"/9999999999\"; "
	    "handler = \"cpu\"; # 4294967301\n n = 1000; } );\n"
	    "# a long float is no integer:\nx = 1.000000000000000000000000000000"
	    "0000000000000000000000000000000000000000;\n") == -EINVAL &&
	    strstr(errbuf, "unknown setting 'x'") != NULL,
	    "a long float is not taken for a wrapping integer (%s)", errbuf);
	routes_free(&r);
	ok(load(&r, "routes = ( /* 99999999999 */ { path = \"/9999999999\"; "
	    "handler = \"cpu\"; # 4294967301\n n = 1000; } );\n") == 0 &&
	    r.n == 1 && r.v[0].cpu_n == 1000, "a good file with big numbers in "
	    "comments and strings loads (%s)", errbuf);
	routes_free(&r);
	snprintf(inc, sizeof(inc), "routes = ( { path = \"/a\"; handler = "
	    "\"cpu\";\n@include \"%s\"\n } );\n",
	    write_file("inc.conf", "\n\nn = 4294967301;\n"));
	ok(load(&r, inc) == -EINVAL && strcmp(errbuf, "") != 0 &&
	    strstr(errbuf, "inc.conf:3: n = 4294967301 is out of range") != NULL,
	    "a wrap in an @include'd file names that file and line (%s)", errbuf);
	routes_free(&r);
}

/* Control bytes from the file are escaped in every message. */
static void
test_escape(void)
{
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"\x1b[2J\"; }\n"
	    ");\n", 2, "route '/a': unknown handler '\\x1b[2J' (static, cpu, io, "
	    "mixed, stats)"), "an ESC in a handler is escaped");
	ok(load_fails("routes = (\n { path = \"/a\x1b\"; handler = \"cpu\"; }\n"
	    ");\n", 2, "path '/a\\x1b' contains a space, control character, "
	    "'?' or '#'"), "an ESC in a path is escaped");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "  n\x1b = 1; }\n);\n", 3, "syntax error"),
	    "an ESC in a setting name is a syntax error");
}

static void
test_errors(void)
{
	struct routes r = { NULL, 0 }, keep;
	char want[PATH_MAX + 64];

	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"gpu\"; }\n);\n",
	    2, "route '/a': unknown handler 'gpu' (static, cpu, io, mixed, "
	    "stats)"), "unknown handler");
	ok(load_fails("routes = (\n { path = \"/a\";\n   handler = \"cpu\";\n"
	    "   ms = 5; }\n);\n", 4, "route '/a': unknown setting 'ms' for "
	    "handler cpu"), "ms on a cpu route");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"io\";\n"
	    "   n = 5; }\n);\n", 3, "route '/a': unknown setting 'n' for "
	    "handler io"), "n on an io route");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   docroot = \"/\"; }\n);\n", 3, "route '/a': unknown setting "
	    "'docroot' for handler cpu"), "docroot on a cpu route");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"stats\";\n"
	    "\n   weights = { cpu = 1; }; }\n);\n", 4, "route '/a': unknown "
	    "setting 'weights' for handler stats"), "weights on a stats route");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"mixed\";\n"
	    "   n_max = 5; }\n);\n", 3, "route '/a': unknown setting 'n_max' "
	    "for handler mixed"), "n_max on a mixed route");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"static\"; "
	    "colour = \"red\"; }\n);\n", 2, "route '/a': unknown setting "
	    "'colour' for handler static"), "unknown setting");
	ok(load_fails("routes = (\n { path = \"a\"; handler = \"cpu\"; }\n);\n",
	    2, "path 'a' does not begin with '/'"), "relative path");
	ok(load_fails("routes = (\n { path = \"\"; handler = \"cpu\"; }\n);\n",
	    2, "path '' does not begin with '/'"), "empty path");
	ok(load_fails("routes = (\n { path = \"/a?b\"; handler = \"cpu\"; }\n);\n",
	    2, "path '/a?b' contains a space, control character, '?' or '#'"),
	    "path with a query");
	ok(load_fails("routes = (\n { path = \"/a b\"; handler = \"cpu\"; }\n);\n",
	    2, "path '/a b' contains a space, control character, '?' or '#'"),
	    "path with a space");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\"; },\n"
	    " { path = \"/b\"; handler = \"io\"; },\n\n"
	    " { handler = \"io\";\n   path = \"/a\"; }\n);\n", 6,
	    "duplicate path '/a' (first on line 2)"), "duplicate path");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n_max = 1000001; }\n);\n", 3, "route '/a': n_max = 1000001 is "
	    "out of range (0..1000000)"), "n_max above ROUTE_CPU_N_MAX");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n = 1000001; }\n);\n", 3, "route '/a': n = 1000001 is out of "
	    "range (0..1000000)"), "n above ROUTE_CPU_N_MAX");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n = -1; }\n);\n", 3, "route '/a': n = -1 is out of range "
	    "(0..1000000)"), "negative n");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"io\";\n"
	    "   ms_max = 10001; }\n);\n", 3, "route '/a': ms_max = 10001 is out "
	    "of range (0..10000)"), "ms_max above ROUTE_IO_MS_MAX");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"io\";\n"
	    "   ms = 10001; }\n);\n", 3, "route '/a': ms = 10001 is out of range "
	    "(0..10000)"), "ms above ROUTE_IO_MS_MAX");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n = 600;\n   n_max = 500; }\n);\n", 3, "route '/a': n = 600 is "
	    "above n_max = 500"), "n above n_max");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n_max = 500; }\n);\n", 2, "route '/a': n = 10000 is above "
	    "n_max = 500"), "default n above n_max: the route's line");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"io\";\n"
	    "   ms = 50;\n   ms_max = 20; }\n);\n", 3, "route '/a': ms = 50 is "
	    "above ms_max = 20"), "ms above ms_max");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   n = \"10\"; }\n);\n", 3, "route '/a': 'n' must be an integer"),
	    "n as a string");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"mixed\";\n"
	    "   weights = { static = 0; cpu = 0; io = 0; }; }\n);\n", 3,
	    "route '/a': the weights sum to 0"), "weights summing to 0");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"mixed\";\n"
	    "   weights = { }; }\n);\n", 3, "route '/a': the weights sum to 0"),
	    "empty weights");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"mixed\";\n"
	    "   weights = { cpu = 1;\n     gpu = 1; }; }\n);\n", 4,
	    "route '/a': unknown weight 'gpu' (static, cpu, io)"),
	    "unknown weight");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"mixed\";\n"
	    "   weights = { cpu = 1001; }; }\n);\n", 3,
	    "route '/a': cpu = 1001 is out of range (0..1000)"),
	    "weight out of range");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"mixed\";\n"
	    "   weights = 3; }\n);\n", 3, "route '/a': 'weights' must be a group "
	    "{ static = N; cpu = N; io = N; }"), "weights not a group");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\";\n"
	    "   prefix = 1; }\n);\n", 3, "route '/a': 'prefix' must be true or "
	    "false"), "prefix not a boolean");
	ok(load_fails("routes = (\n { handler = \"cpu\"; }\n);\n", 2,
	    "route without a path"), "missing path");
	ok(load_fails("routes = (\n { path = \"/a\"; }\n);\n", 2,
	    "route '/a': no handler"), "missing handler");
	ok(load_fails("routes = (\n { path = 5; handler = \"cpu\"; }\n);\n", 2,
	    "route: 'path' must be a string"), "path not a string");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = 1; }\n);\n", 2,
	    "route '/a': 'handler' must be a string"), "handler not a string");
	ok(load_fails("# nothing\nother = 1;\n", 2, "unknown setting 'other' "
	    "(only 'routes' belongs at the top)"), "unknown top-level setting");
	ok(load_fails("# nothing\n", 0, "no 'routes' list"), "missing routes list");
	ok(load_fails("\nroutes = 5;\n", 2, "'routes' must be a list ( { ... }, "
	    "{ ... } )"), "routes not a list");
	ok(load_fails("\nroutes = { a = 1; };\n", 2, "'routes' must be a list "
	    "( { ... }, { ... } )"), "routes a group");
	ok(load_fails("\n\nroutes = ( );\n", 3, "the 'routes' list is empty"),
	    "empty routes list");
	/* (libconfig dates a scalar list element by the token after it) */
	ok(load_fails("routes = (\n \"/a\" );\n", 2, "each route must be a "
	    "group { path = \"/...\"; handler = \"...\"; }"),
	    "a route that is not a group");
	ok(load_fails("routes = (\n { path = \"/a\"; handler = \"cpu\"; }\n"
	    "  { path = \"/b\"; handler = \"cpu\"; }\n);\n", 3, "syntax error"),
	    "syntax error (missing comma) with its line");
	ok(load_fails("routes = (\n { path = \"/a\"; path = \"/b\"; handler = "
	    "\"cpu\"; }\n);\n", 2, "duplicate setting name"),
	    "a setting twice in one route");

	snprintf(want, sizeof(want), "%s/nope", realdir);
	ok(load_fails("routes = (\n { path = \"/\"; handler = \"static\";\n"
	    "   docroot = \"nope\"; }\n);\n", 3, "route '/': docroot '%s': No "
	    "such file or directory", want), "missing docroot");
	snprintf(want, sizeof(want), "%s/r.conf", realdir);
	ok(load_fails("routes = (\n { path = \"/\"; handler = \"static\";\n"
	    "   docroot = \"r.conf\"; }\n);\n", 3, "route '/': docroot '%s' is "
	    "not a directory", want), "docroot that is a file");
	ok(load_fails("routes = (\n { path = \"/\"; handler = \"static\";\n"
	    "   docroot = \"\"; }\n);\n", 3, "route '/': empty docroot"),
	    "empty docroot");

	/* files */
	ok(routes_load(&r, tpath("none.conf"), errbuf, sizeof(errbuf)) == -ENOENT,
	    "missing file: -ENOENT");
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
	    tpath("none.conf"));
	ok(strcmp(errbuf, want) == 0, "missing file message: %s", errbuf);
	ok(routes_load(&r, tmpdir, errbuf, sizeof(errbuf)) == -EISDIR,
	    "a directory: -EISDIR");

	/* a failed load leaves the table alone */
	ok(routes_builtin(&r) == 0, "built-in table again");
	keep = r;
	ok(load(&r, "routes = ( { path = \"x\"; handler = \"cpu\"; } );\n") ==
	    -EINVAL && r.v == keep.v && r.n == keep.n,
	    "a failed routes_load does not touch the table");
	routes_free(&r);
}

/* etc/routes.conf is the built-in table written out. */
static void
test_shipped(void)
{
	struct routes b, f;
	const struct route *x, *y;
	size_t i;
	int same;

	ok(routes_builtin(&b) == 0, "built-in table");
	if (routes_load(&f, LF_TOP_SRCDIR "/etc/routes.conf", errbuf,
	    sizeof(errbuf)) != 0) {
		ok(0, "shipped routes.conf loads: %s", errbuf);
		routes_free(&b);
		return;
	}
	ok(f.n == b.n, "shipped routes.conf has the built-in %zu routes", b.n);
	for (i = 0; i < f.n && i < b.n; i++) {
		x = &f.v[i];
		y = &b.v[i];
		same = strcmp(x->path, y->path) == 0 && x->kind == y->kind &&
		    x->prefix == y->prefix && x->docroot == NULL &&
		    y->docroot == NULL && x->cpu_n == y->cpu_n &&
		    x->cpu_n_max == y->cpu_n_max && x->io_ms == y->io_ms &&
		    x->io_ms_max == y->io_ms_max && x->w_static == y->w_static &&
		    x->w_cpu == y->w_cpu && x->w_io == y->w_io;
		ok(same, "shipped route %s equals the built-in one", x->path);
	}
	routes_free(&f);
	routes_free(&b);
}

int
main(void)
{
	testdir_create("test_routes");
	if (realpath(tmpdir, realdir) == NULL) {
		perror("realpath");
		return 99;
	}
	test_builtin();
	test_good_file();
	test_match();
	test_errors();
	test_wrap();
	test_escape();
	test_shipped();
	testdir_remove();
	return done_testing();
}
