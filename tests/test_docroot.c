/*
 * test_docroot.c - docroot.c on a temporary tree: files, index.html at the
 * root and in nested directories, dotfiles, symbolic links in and out of the
 * root, a FIFO, an oversized (sparse) file, Content-Types, misses, and the
 * built-in page.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docroot.h"
#include "http.h"
#include "tap.h"

static char top[64];

static void
put(const char *rel, const char *data)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(data, f);
	fclose(f);
}

static void
dir(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	if (mkdir(path, 0755) != 0) {
		perror(path);
		exit(1);
	}
}

static void
link_to(const char *target, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	if (symlink(target, path) != 0) {
		perror(path);
		exit(1);
	}
}

/*
 * Looks PATH up as a request would reach it: through http_normalize_path.
 * The reference is dropped at once: the index holds its own, and nothing
 * rebuilds it here, so the pointer stays valid until docroot_free.
 */
static const struct docroot_file *
get(const struct docroot *d, const char *path)
{
	struct docroot_hit hit;
	char norm[256];
	int n = http_normalize_path(path, strlen(path), norm, sizeof(norm));

	if (n < 0 || docroot_get(d, norm, n, 0, 0, &hit) < 0 || hit.dir)
		return NULL;
	docroot_file_put(hit.file);
	return hit.file;
}

/* Whether PATH is a directory named without its slash. */
static bool
is_dir(const struct docroot *d, const char *path)
{
	struct docroot_hit hit;

	return docroot_get(d, path, strlen(path), 0, 0, &hit) == 0 && hit.dir;
}

static const struct docroot_file *
lookup(const struct docroot *d, const char *path, size_t len)
{
	struct docroot_hit hit;

	if (docroot_get(d, path, len, 0, 0, &hit) < 0 || hit.dir)
		return NULL;
	docroot_file_put(hit.file);
	return hit.file;
}

static bool
has(const struct docroot *d, const char *path, const char *data,
    const char *type)
{
	const struct docroot_file *f = get(d, path);

	return f != NULL && f->len == strlen(data) &&
	    memcmp(f->data, data, f->len) == 0 &&
	    strcmp(f->content_type, type) == 0;
}

static void
test_tree(void)
{
	const char *html = "text/html; charset=utf-8";
	char err[256] = "", outside[128], path[256];
	struct docroot *d = NULL;
	const struct docroot_file *f;
	int rc, fd;

	snprintf(top, sizeof(top), "/tmp/lf-docroot-XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	dir("root");
	dir("outside");
	put("outside/secret.txt", "secret");
	put("root/index.html", "<h1>root</h1>\n");
	put("root/style.css", "body{}\n");
	put("root/app.js", "1;\n");
	put("root/data.json", "{}\n");
	put("root/Logo.PNG", "\x89PNG");
	put("root/noext", "raw");
	put("root/empty.txt", "");
	put("root/a b.txt", "space");
	put("root/.hidden", "nope");
	dir("root/.git");
	put("root/.git/config", "nope");
	dir("root/.well-known");
	put("root/.well-known/acme", "token");
	dir("root/sub");
	put("root/sub/index.html", "<h1>sub</h1>\n");
	put("root/sub/page.htm", "page");
	dir("root/sub/deeper");
	put("root/sub/deeper/x.txt", "deep");
	dir("root/sub/.dot");
	put("root/sub/.dot/y.txt", "nope");
	dir("root/sub/deeper/.well-known");
	put("root/sub/deeper/.well-known/z", "nope");
	dir("root/nodir");
	put("root/nodir/file.svg", "<svg/>");
	link_to("style.css", "root/link_in.css");
	link_to("../sub/deeper/x.txt", "root/nodir/up.txt");
	snprintf(outside, sizeof(outside), "%s/outside/secret.txt", top);
	link_to(outside, "root/link_out.txt");
	link_to("../outside/secret.txt", "root/link_rel_out.txt");
	link_to("sub", "root/link_dir");
	link_to("missing", "root/dangling");
	link_to("loop", "root/loop");
	/* issue 8, defect 8: links must not publish what the walk hides */
	link_to(".hidden", "root/dotlink");
	link_to(".git/config", "root/gitlink");
	link_to("../sub/.dot/y.txt", "root/sub/dotlink2");
	link_to(".well-known/acme", "root/acmelink");
	snprintf(path, sizeof(path), "%s/root/fifo", top);
	ok(mkfifo(path, 0644) == 0, "fifo made");
	snprintf(path, sizeof(path), "%s/root/big.bin", top);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	ok(fd >= 0 && ftruncate(fd, (off_t)(64u << 20) + 1) == 0,
	    "sparse file one byte over 64 MiB (the old size limit)");
	close(fd);

	snprintf(path, sizeof(path), "%s/root", top);
	rc = docroot_load(&d, path, err, sizeof(err));
	ok(rc == 0 && d != NULL, "tree loads (%d %s)", rc, err);
	if (d == NULL)
		return;
	/*
	 * index.html style.css app.js data.json Logo.PNG noext empty.txt
	 * "a b.txt" .well-known/acme sub/index.html sub/page.htm
	 * sub/deeper/x.txt nodir/file.svg link_in.css nodir/up.txt big.bin
	 * acmelink
	 */
	ok(docroot_count(d) == 17, "17 files indexed (got %zu)", docroot_count(d));
	/* link_out link_rel_out link_dir dangling loop fifo dotlink gitlink
	 * sub/dotlink2 */
	ok(docroot_skipped(d) == 9, "9 entries skipped (got %zu)",
	    docroot_skipped(d));
	{
		char buf[512];
		const char *note = docroot_skipped_note(d, buf, sizeof(buf));
		int named = 0;
		const char *q;

		for (q = note; (q = strstr(q, " (")) != NULL; q++)
			named++;
		ok(named == 5, "the skipped note names the first 5 with a reason "
		    "(%d): %s", named, note);
		ok((strstr(note, "(a link to a dotfile)") != NULL ||
		    strstr(note, "/fifo (not a regular file)") != NULL ||
		    strstr(note, "(a link leading out of the docroot)") != NULL) &&
		    strstr(note, ".hidden") == NULL, "... e.g. %s", note);
	}

	ok(has(d, "/", "<h1>root</h1>\n", html), "/ serves index.html");
	ok(has(d, "/index.html", "<h1>root</h1>\n", html), "/index.html");
	ok(get(d, "/") == get(d, "/index.html"), "one file behind both names");
	ok(has(d, "/sub/", "<h1>sub</h1>\n", html), "/sub/ serves its index");
	ok(get(d, "/sub") == NULL && is_dir(d, "/sub"),
	    "/sub is a directory (the handler redirects to /sub/)");
	ok(has(d, "/sub/index.html", "<h1>sub</h1>\n", html),
	    "/sub/index.html");
	ok(has(d, "/sub/page.htm", "page", html), ".htm is HTML");
	ok(has(d, "/sub/deeper/x.txt", "deep", "text/plain; charset=utf-8"),
	    "nested two deep");
	ok(has(d, "/style.css", "body{}\n", "text/css; charset=utf-8"), "css");
	ok(has(d, "/app.js", "1;\n", "text/javascript; charset=utf-8"), "js");
	ok(has(d, "/data.json", "{}\n", "application/json"), "json");
	ok(has(d, "/Logo.PNG", "\x89PNG", "image/png"),
	    "extension matched in any case");
	ok(has(d, "/noext", "raw", "application/octet-stream"),
	    "no extension: octet-stream");
	ok(has(d, "/empty.txt", "", "text/plain; charset=utf-8"),
	    "empty file");
	ok(has(d, "/a%20b.txt", "space", "text/plain; charset=utf-8"),
	    "escaped name");
	ok(has(d, "/sub/../style.css", "body{}\n", "text/css; charset=utf-8"),
	    "dot segments resolved before the lookup");
	ok(has(d, "/.well-known/acme", "token", "application/octet-stream"),
	    ".well-known is served");
	ok(has(d, "/link_in.css", "body{}\n", "text/css; charset=utf-8"),
	    "symlink inside the root is followed");
	ok(has(d, "/nodir/up.txt", "deep", "text/plain; charset=utf-8"),
	    "relative symlink to another directory of the root");
	ok(has(d, "/nodir/file.svg", "<svg/>", "image/svg+xml"), "svg");

	ok(get(d, "/link_out.txt") == NULL, "absolute symlink out: skipped");
	ok(get(d, "/link_rel_out.txt") == NULL, "relative symlink out: skipped");
	ok(get(d, "/link_dir/index.html") == NULL && get(d, "/link_dir") == NULL,
	    "symlinked directory not followed");
	ok(get(d, "/.hidden") == NULL, "dotfile skipped");
	ok(get(d, "/.git/config") == NULL, "dot directory skipped");
	ok(get(d, "/sub/.dot/y.txt") == NULL, "nested dot directory skipped");
	ok(get(d, "/sub/deeper/.well-known/z") == NULL,
	    ".well-known only at the root");
	ok(get(d, "/fifo") == NULL, "fifo skipped");
	ok(get(d, "/dotlink") == NULL, "symlink to a dotfile: not served");
	ok(get(d, "/gitlink") == NULL,
	    "symlink into a dot directory: not served");
	ok(get(d, "/sub/dotlink2") == NULL,
	    "symlink into a nested dot directory: not served");
	ok(has(d, "/acmelink", "token", "application/octet-stream"),
	    "symlink into /.well-known: served");
	f = get(d, "/big.bin");
	ok(f != NULL && f->data == NULL && f->len == (64u << 20) + 1,
	    "a file over static_memory_max is indexed, on disk (%zu)",
	    f ? f->len : 0);
	if (f != NULL) {
		struct docroot_open o;

		ok(docroot_file_open(f, &o) == 0 && o.fd >= 0 &&
		    o.len == (64u << 20) + 1 && o.etag[0] == '"',
		    "and opened per response, with its size and ETag");
		if (o.fd >= 0)
			close(o.fd);
	}
	ok(get(d, "/nope") == NULL, "miss");
	ok(get(d, "/nodir/") == NULL && is_dir(d, "/nodir"),
	    "directory without index.html: a miss with the slash");
	ok(!is_dir(d, "/.git") && !is_dir(d, "/sub/.dot"),
	    "dot directories are not directories either");
	ok(get(d, "/style.css/") == NULL, "file with a trailing slash: miss");
	ok(get(d, "/sub/page") == NULL, "no extension guessing");
	ok(get(d, "/INDEX.HTML") == NULL, "lookups are case-sensitive");
	ok(lookup(d, "/index.htm", 10) == NULL, "prefix of a name: miss");
	ok(lookup(d, "/index.html", 11) != NULL &&
	    lookup(d, "/index.htmlx", 11) != NULL,
	    "lookup uses the length, not a NUL");

	f = get(d, "/style.css");
	ok(f != NULL && f->etag[0] == '"' && f->etag[strlen(f->etag) - 1] == '"' &&
	    strlen(f->etag) > 2, "etag quoted (%s)", f ? f->etag : "");
	ok(f != NULL && strcmp(f->path, "/style.css") == 0, "file path");
	ok(get(d, "/app.js") != NULL && strcmp(get(d, "/app.js")->etag,
	    f->etag) != 0, "different files, different etags");
	docroot_free(d);

	snprintf(path, sizeof(path), "%s/missing", top);
	err[0] = '\0';
	rc = docroot_load(&d, path, err, sizeof(err));
	ok(rc == -ENOENT && d == NULL && strstr(err, path) != NULL,
	    "missing root: -ENOENT naming it (%s)", err);
	snprintf(path, sizeof(path), "%s/root/index.html", top);
	err[0] = '\0';
	rc = docroot_load(&d, path, err, sizeof(err));
	ok(rc == -ENOTDIR && d == NULL && err[0] != '\0',
	    "root that is a file: -ENOTDIR (%s)", err);

	snprintf(path, sizeof(path), "rm -rf '%s'", top);
	ok(system(path) == 0, "temporary tree removed");
}

static void
test_builtin(void)
{
	char err[128];
	struct docroot *d = NULL;
	const struct docroot_file *f;

	ok(docroot_load(&d, NULL, err, sizeof(err)) == 0 && d != NULL,
	    "built-in docroot");
	f = lookup(d, "/", 1);
	ok(f != NULL && f == lookup(d, "/index.html", 11),
	    "built-in page at / and /index.html");
	ok(f != NULL && f->len >= 600 && f->len <= 1024 &&
	    f->len == strlen(f->data), "built-in page is 600..1024 bytes (%zu)",
	    f ? f->len : 0);
	ok(f != NULL && strstr(f->data, "lfserver") != NULL &&
	    strncmp(f->data, "<!DOCTYPE html>", 15) == 0, "and is an HTML page");
	ok(f != NULL && strcmp(f->content_type, "text/html; charset=utf-8") == 0,
	    "built-in page type");
	ok(docroot_count(d) == 1 && lookup(d, "/x", 2) == NULL,
	    "nothing else");
	docroot_free(d);
	docroot_free(NULL);
	ok(lookup(NULL, "/", 1) == NULL && docroot_count(NULL) == 0,
	    "NULL docroot is empty");
}

static void
test_mime(void)
{
	static const struct {
		const char *name, *type;
	} t[] = {
		{ "a.html", "text/html; charset=utf-8" },
		{ "a.HTM", "text/html; charset=utf-8" },
		{ "a.txt", "text/plain; charset=utf-8" },
		{ "x/y.jpg", "image/jpeg" },
		{ "y.jpeg", "image/jpeg" },
		{ "y.gif", "image/gif" },
		{ "y.ico", "image/x-icon" },
		{ "y.webp", "image/webp" },
		{ "y.pdf", "application/pdf" },
		{ "y.xml", "application/xml" },
		{ "y.wasm", "application/wasm" },
		{ "y.woff2", "font/woff2" },
		{ "y.tar.gz", "application/gzip" },
		{ "y.", "application/octet-stream" },
		{ ".bashrc", "application/octet-stream" },
		{ "dir.html/file", "application/octet-stream" },
		{ "y.unknownext", "application/octet-stream" },
	};
	size_t i;
	bool good = true;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(docroot_mime_type(t[i].name), t[i].type) != 0) {
			printf("# %s: %s\n", t[i].name,
			    docroot_mime_type(t[i].name));
			good = false;
		}
	ok(good, "Content-Type table");
}

struct reader {
	const struct docroot	*d;
	_Atomic bool		*stop;
	unsigned long		 gets, bad;
};

/* Looks up /w.txt until told to stop: every body seen must be whole. */
static void *
reader_run(void *arg)
{
	struct reader *r = arg;
	struct docroot_hit hit;

	while (!atomic_load(r->stop)) {
		char note[512];

		/* the summary reads the index the watcher swaps and frees: a
		 * race TSan reports without the lock (main logs it at reload) */
		if (docroot_count(r->d) > 1000 ||
		    strlen(docroot_skipped_note(r->d, note, sizeof(note))) >= sizeof(note))
			r->bad++;
		if (docroot_get(r->d, "/w.txt", 6, 0, 0, &hit) != 0)
			continue;	/* between a delete and a create */
		r->gets++;
		if (hit.file->len != 8 || memcmp(hit.file->data, "version", 7) != 0)
			r->bad++;
		docroot_file_put(hit.file);
	}
	return NULL;
}

static bool
wait_generation(const struct docroot *d, unsigned long gen)
{
	int i;

	for (i = 0; i < 300 && docroot_generation(d) <= gen; i++)
		usleep(10000);
	return docroot_generation(d) > gen;
}

/* Changes seen without a reload; readers race the rebuilds (run under TSan). */
static void
test_watch(void)
{
	struct docroot_opts o = { .memory_max = 1 << 20, .watch = true };
	struct docroot_hit hit, old;
	struct docroot *d = NULL;
	_Atomic bool stop = false;
	struct reader r[2];
	pthread_t th[2];
	char err[256] = "", path[256];
	unsigned long gen;
	int i;

	snprintf(top, sizeof(top), "/tmp/lf-docroot-XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	put("w.txt", "version0");
	ok(docroot_load_opts(&d, top, &o, err, sizeof(err)) == 0 &&
	    docroot_watch_error(d) == NULL, "watched docroot loads (%s)", err);
	if (d == NULL)
		return;
	ok(docroot_get(d, "/w.txt", 6, 0, 0, &old) == 0 && old.file->len == 8,
	    "a reference to version0 is held");
	for (i = 0; i < 2; i++) {
		r[i] = (struct reader){ d, &stop, 0, 0 };
		pthread_create(&th[i], NULL, reader_run, &r[i]);
	}
	for (i = 1; i <= 5; i++) {
		char v[16];

		gen = docroot_generation(d);
		snprintf(v, sizeof(v), "version%d", i);
		snprintf(path, sizeof(path), "%s/w.tmp", top);
		put("w.tmp", v);
		snprintf(err, sizeof(err), "%s/w.txt", top);
		rename(path, err);
		if (!wait_generation(d, gen))
			break;
	}
	ok(i == 6, "5 renames over the file: 5 rebuilds seen (generation %lu)",
	    docroot_generation(d));
	ok(docroot_get(d, "/w.txt", 6, 0, 0, &hit) == 0 &&
	    memcmp(hit.file->data, "version5", 8) == 0, "the last version is served");
	docroot_file_put(hit.file);
	gen = docroot_generation(d);
	snprintf(path, sizeof(path), "%s/w.txt", top);
	unlink(path);
	ok(wait_generation(d, gen) &&
	    docroot_get(d, "/w.txt", 6, 0, 0, &hit) == -ENOENT,
	    "a deleted file is gone");
	gen = docroot_generation(d);
	snprintf(path, sizeof(path), "%s/sub", top);
	mkdir(path, 0755);
	put("sub/n.txt", "new");
	ok(wait_generation(d, gen), "a new directory: rebuilt");
	for (i = 0; i < 300; i++) {
		if (docroot_get(d, "/sub/n.txt", 10, 0, 0, &hit) == 0)
			break;
		usleep(10000);
	}
	ok(i < 300 && hit.file->len == 3, "its file is served");
	if (i < 300)
		docroot_file_put(hit.file);
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ok(r[0].gets > 0 && r[1].gets > 0 && r[0].bad == 0 && r[1].bad == 0,
	    "readers during the rebuilds saw whole files only (%lu, %lu gets)",
	    r[0].gets, r[1].gets);
	ok(memcmp(old.file->data, "version0", 8) == 0,
	    "the reference taken before the changes still reads version0");
	docroot_free(d);
	ok(memcmp(old.file->data, "version0", 8) == 0,
	    "and outlives the docroot itself");
	docroot_file_put(old.file);
	snprintf(path, sizeof(path), "rm -rf '%s'", top);
	ok(system(path) == 0, "temporary tree removed");
}

int
main(void)
{
	test_tree();
	test_watch();
	test_builtin();
	test_mime();
	return done_testing();
}
