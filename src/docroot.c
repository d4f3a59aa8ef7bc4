/*
 * docroot.c - the docroot in memory: read once by a recursive walk (at start,
 * and into a fresh struct at reload), then looked up by normalised path in an
 * open-addressing hash table, so serving a static file touches no disk.
 *
 * What is loaded, and why:
 * - Regular files only; sockets, FIFOs and devices are skipped (a file is
 *   opened O_NONBLOCK and checked again after open, so one swapped for a FIFO
 *   cannot hang the load).
 * - Names beginning with '.' (files and directories) are skipped, except the
 *   directory ".well-known" (RFC 8615). nginx would serve them, but a docroot
 *   that is a checkout would then publish .git and .env.
 * - A symbolic link is followed when realpath() puts its target inside the
 *   root and the target is a regular file. Links to directories are not
 *   followed, which rules out loops without tracking visited directories.
 * - Files over DOCROOT_MAX_FILE and files we cannot read are skipped and
 *   counted (docroot_skipped); passing DOCROOT_MAX_TOTAL fails the load.
 * - A directory's index.html is also found as "/dir/" and as "/dir": the
 *   latter is served directly rather than redirected, the simplest behaviour
 *   (a page there with relative links should use absolute ones).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docroot.h"

#define DOCROOT_MAX_DEPTH	64

struct docroot_entry {
	struct docroot_file	 pub;
	bool			 owned;	/* path and data are ours to free */
};

struct docroot_slot {
	uint64_t			 hash;
	char				*key;	/* NULL: empty slot */
	size_t				 klen;
	const struct docroot_file	*file;
};

struct docroot {
	struct docroot_entry	**files;
	size_t			  nfiles;
	size_t			  capfiles;
	struct docroot_slot	 *slots;
	size_t			  mask;
	size_t			  total;
	size_t			  skipped;
	char			  skipnote[512];	/* see docroot_skipped_note */
	char			 *real;		/* realpath of the root */
	size_t			  reallen;
};

static void docroot_skip(struct docroot *d, const char *rel, const char *why);

static const char docroot_builtin_page[] =
    "<!DOCTYPE html>\n"
    "<html>\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<title>Welcome to lfserver!</title>\n"
    "<style>\n"
    "html { color-scheme: light dark; }\n"
    "body { width: 35em; margin: 0 auto;\n"
    "font-family: Tahoma, Verdana, Arial, sans-serif; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>Welcome to lfserver!</h1>\n"
    "<p>If you see this page, lfserver is installed and working. It serves\n"
    "this built-in page because no <code>docroot</code> is set in\n"
    "<code>/etc/lfserver.ini</code>.</p>\n"
    "\n"
    "<p>Other routes: <a href=\"/cpu?n=10000\">/cpu</a> (CPU-bound work),\n"
    "<a href=\"/io?ms=10\">/io</a> (a sleep), <a href=\"/mixed\">/mixed</a>\n"
    "and <a href=\"/stats\">/stats</a> (counters as JSON). See lfserver(8) and\n"
    "lfserver.ini(5).</p>\n"
    "\n"
    "<p><em>lfserver: four concurrency engines, one HTTP server.</em></p>\n"
    "</body>\n"
    "</html>\n";

static struct docroot_entry docroot_builtin = {
	.pub = {
		.path = "/index.html",
		.content_type = "text/html; charset=utf-8",
		.data = docroot_builtin_page,
		.len = sizeof(docroot_builtin_page) - 1,
		.etag = "\"lfserver-builtin-1\"",
	},
	.owned = false,
};

static const struct {
	const char	*ext;
	const char	*type;
} docroot_mime[] = {
	{ "html",	"text/html; charset=utf-8" },
	{ "htm",	"text/html; charset=utf-8" },
	{ "css",	"text/css; charset=utf-8" },
	{ "js",		"text/javascript; charset=utf-8" },
	{ "mjs",	"text/javascript; charset=utf-8" },
	{ "json",	"application/json" },
	{ "map",	"application/json" },
	{ "txt",	"text/plain; charset=utf-8" },
	{ "md",		"text/markdown; charset=utf-8" },
	{ "csv",	"text/csv; charset=utf-8" },
	{ "xml",	"application/xml" },
	{ "webmanifest", "application/manifest+json" },
	{ "svg",	"image/svg+xml" },
	{ "png",	"image/png" },
	{ "jpg",	"image/jpeg" },
	{ "jpeg",	"image/jpeg" },
	{ "gif",	"image/gif" },
	{ "ico",	"image/x-icon" },
	{ "webp",	"image/webp" },
	{ "avif",	"image/avif" },
	{ "bmp",	"image/bmp" },
	{ "pdf",	"application/pdf" },
	{ "wasm",	"application/wasm" },
	{ "woff",	"font/woff" },
	{ "woff2",	"font/woff2" },
	{ "ttf",	"font/ttf" },
	{ "otf",	"font/otf" },
	{ "mp4",	"video/mp4" },
	{ "webm",	"video/webm" },
	{ "mp3",	"audio/mpeg" },
	{ "ogg",	"audio/ogg" },
	{ "wav",	"audio/wav" },
	{ "zip",	"application/zip" },
	{ "gz",		"application/gzip" },
	{ "tar",	"application/x-tar" },
};

const char *
docroot_mime_type(const char *name)
{
	const char *base = strrchr(name, '/'), *dot;
	size_t i;

	base = base != NULL ? base + 1 : name;
	/* ".bashrc" has no extension */
	if ((dot = strrchr(base, '.')) != NULL && dot != base)
		for (i = 0; i < sizeof(docroot_mime) / sizeof(docroot_mime[0]); i++)
			if (strcasecmp(dot + 1, docroot_mime[i].ext) == 0)
				return docroot_mime[i].type;
	return "application/octet-stream";
}

/* FNV-1a: paths are short, and this runs once per static request. */
static inline uint64_t
docroot_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

const struct docroot_file *
docroot_lookup(const struct docroot *d, const char *path, size_t len)
{
	uint64_t h;
	size_t i;

	if (d == NULL || d->slots == NULL)
		return NULL;
	h = docroot_hash(path, len);
	for (i = h & d->mask; d->slots[i].key != NULL; i = (i + 1) & d->mask)
		if (d->slots[i].hash == h && d->slots[i].klen == len &&
		    memcmp(d->slots[i].key, path, len) == 0)
			return d->slots[i].file;
	return NULL;
}

size_t
docroot_count(const struct docroot *d)
{
	return d != NULL ? d->nfiles : 0;
}

size_t
docroot_skipped(const struct docroot *d)
{
	return d != NULL ? d->skipped : 0;
}

void
docroot_free(struct docroot *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nfiles; i++) {
		if (d->files[i]->owned) {
			free((char *)d->files[i]->pub.path);
			free((char *)d->files[i]->pub.data);
			free(d->files[i]);
		}
	}
	free(d->files);
	if (d->slots != NULL)
		for (i = 0; i <= d->mask; i++)
			free(d->slots[i].key);
	free(d->slots);
	free(d->real);
	free(d);
}

static int
docroot_add(struct docroot *d, struct docroot_entry *e)
{
	struct docroot_entry **nf;
	size_t cap;

	if (d->nfiles == d->capfiles) {
		cap = d->capfiles ? d->capfiles * 2 : 64;
		if ((nf = reallocarray(d->files, cap, sizeof(*nf))) == NULL)
			return -ENOMEM;
		d->files = nf;
		d->capfiles = cap;
	}
	d->files[d->nfiles++] = e;
	return 0;
}

/* Inserts a copy of KEY; the first file for a key wins. */
static int
docroot_insert(struct docroot *d, const char *key, size_t klen,
    const struct docroot_file *f)
{
	uint64_t h = docroot_hash(key, klen);
	size_t i;

	for (i = h & d->mask; d->slots[i].key != NULL; i = (i + 1) & d->mask)
		if (d->slots[i].hash == h && d->slots[i].klen == klen &&
		    memcmp(d->slots[i].key, key, klen) == 0)
			return 0;
	if ((d->slots[i].key = strndup(key, klen)) == NULL)
		return -ENOMEM;
	d->slots[i].hash = h;
	d->slots[i].klen = klen;
	d->slots[i].file = f;
	return 0;
}

/* Every file by its path, and each index.html also as "/dir/" and "/dir". */
static int
docroot_index(struct docroot *d)
{
	static const char index[] = "index.html";
	const size_t ilen = sizeof(index) - 1;
	size_t n = 16, i, plen;
	const char *p;
	int rc;

	while (n < d->nfiles * 6)	/* up to 3 keys a file, load <= 1/2 */
		n *= 2;
	if ((d->slots = calloc(n, sizeof(*d->slots))) == NULL)
		return -ENOMEM;
	d->mask = n - 1;
	for (i = 0; i < d->nfiles; i++) {
		const struct docroot_file *f = &d->files[i]->pub;

		p = f->path;
		plen = strlen(p);
		if ((rc = docroot_insert(d, p, plen, f)) < 0)
			return rc;
		if (plen <= ilen || memcmp(p + plen - ilen, index, ilen) != 0 ||
		    p[plen - ilen - 1] != '/')
			continue;
		if ((rc = docroot_insert(d, p, plen - ilen, f)) < 0)
			return rc;
		if (plen - ilen > 1 &&
		    (rc = docroot_insert(d, p, plen - ilen - 1, f)) < 0)
			return rc;
	}
	return 0;
}

/*
 * Reads the open file FD as REL ("/a/b.html"). Returns 0 when loaded or
 * skipped, -errno to fail the load (with ERR set).
 */
static int
docroot_read(struct docroot *d, int fd, const char *rel, char *err,
    size_t errlen)
{
	struct docroot_entry *e = NULL;
	struct stat st;
	char *data = NULL;
	size_t size, got = 0;
	ssize_t n;
	int rc = 0;

	if (fstat(fd, &st) != 0) {
		docroot_skip(d, rel, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > DOCROOT_MAX_FILE) {
		docroot_skip(d, rel, !S_ISREG(st.st_mode) ? "not a regular file" :
		    "larger than the 64 MiB limit");
		goto done;
	}
	size = st.st_size;
	if (d->total + size > DOCROOT_MAX_TOTAL) {
		snprintf(err, errlen, "%s: docroot holds more than %u MiB "
		    "(the limit was passed at %s)", d->real,
		    DOCROOT_MAX_TOTAL >> 20, rel);
		rc = -EFBIG;
		goto done;
	}
	if ((data = malloc(size ? size : 1)) == NULL)
		goto nomem;
	while (got < size) {
		if ((n = read(fd, data + got, size - got)) < 0) {
			if (errno == EINTR)
				continue;
			docroot_skip(d, rel, strerror(errno));
			goto done;
		}
		if (n == 0)	/* shrank since fstat: serve what is there */
			break;
		got += n;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->pub.path = strdup(rel)) == NULL)
		goto nomem;
	e->owned = true;
	e->pub.data = data;
	e->pub.len = got;
	e->pub.content_type = docroot_mime_type(rel);
	/* nginx's form: hex mtime and length */
	snprintf(e->pub.etag, sizeof(e->pub.etag), "\"%llx-%zx\"",
	    (unsigned long long)st.st_mtime, got);
	if ((rc = docroot_add(d, e)) < 0)
		goto nomem;
	d->total += got;
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory loading %s", d->real, rel);
	rc = -ENOMEM;
	if (e != NULL)
		free((char *)e->pub.path);
	free(e);
done:
	free(data);
	return rc;
}

/* A symlink at REL: loaded from its target when that is a regular file inside the root. */
static int
docroot_link(struct docroot *d, const char *rel, char *err, size_t errlen)
{
	/* a root of "/" contributes no prefix of its own */
	size_t plen = d->reallen > 1 ? d->reallen : 0;
	char full[PATH_MAX], *real;
	int fd, rc;

	if ((size_t)snprintf(full, sizeof(full), "%.*s%s", (int)plen, d->real,
	    rel) >= sizeof(full) || (real = realpath(full, NULL)) == NULL) {
		docroot_skip(d, rel, "a link to nothing");
		return 0;
	}
	if (strncmp(real, d->real, plen) != 0 || real[plen] != '/') {
		free(real);
		docroot_skip(d, rel, "a link leading out of the docroot");
		return 0;
	}
	fd = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	free(real);
	if (fd < 0) {
		docroot_skip(d, rel, strerror(errno));
		return 0;
	}
	/* a link to a directory fails the S_ISREG check in docroot_read */
	rc = docroot_read(d, fd, rel, err, errlen);
	close(fd);
	return rc;
}

/* Walks the directory DFD, found at REL ("" for the root); REL has PATH_MAX bytes. */
static int
docroot_walk(struct docroot *d, int dfd, char *rel, int depth, char *err,
    size_t errlen)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	size_t rlen = strlen(rel);
	int fd, rc = 0;

	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		docroot_skip(d, rel[0] ? rel : "/", strerror(errno));
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (strcmp(de->d_name, ".well-known") != 0 || depth > 0))
			continue;
		if (rlen + 1 + strlen(de->d_name) >= PATH_MAX) {
			docroot_skip(d, de->d_name, "path too long");
			continue;
		}
		rel[rlen] = '/';
		strcpy(rel + rlen + 1, de->d_name);
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			docroot_skip(d, rel, strerror(errno));
		else if (S_ISLNK(st.st_mode))
			rc = docroot_link(d, rel, err, errlen);
		else if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd(dir), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || depth >= DOCROOT_MAX_DEPTH) {
				docroot_skip(d, rel, fd < 0 ? strerror(errno) :
				    "too deep");
				if (fd >= 0)
					close(fd);
			} else
				rc = docroot_walk(d, fd, rel, depth + 1, err,
				    errlen);
		} else if (S_ISREG(st.st_mode)) {
			fd = openat(dirfd(dir), de->d_name, O_RDONLY |
			    O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				docroot_skip(d, rel, strerror(errno));
			else {
				rc = docroot_read(d, fd, rel, err, errlen);
				close(fd);
			}
		} else
			docroot_skip(d, rel, "not a regular file");
		rel[rlen] = '\0';
		if (rc < 0)
			break;
	}
	closedir(dir);
	return rc;
}

int
docroot_load(struct docroot **out, const char *root, char *err, size_t errlen)
{
	struct docroot *d;
	char *rel = NULL;
	int fd, rc;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (root == NULL) {
		if ((rc = docroot_add(d, &docroot_builtin)) < 0 ||
		    (rc = docroot_index(d)) < 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		*out = d;
		return 0;
	}
	if ((d->real = realpath(root, NULL)) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "docroot %s: %s", root, strerror(errno));
		goto fail;
	}
	d->reallen = strlen(d->real);
	if ((fd = open(d->real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "docroot %s: %s", root, strerror(errno));
		goto fail;
	}
	if ((rel = calloc(1, PATH_MAX)) == NULL) {
		close(fd);
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((rc = docroot_walk(d, fd, rel, 0, err, errlen)) < 0)
		goto fail;
	if ((rc = docroot_index(d)) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	free(rel);
	*out = d;
	return 0;
fail:
	free(rel);
	docroot_free(d);
	return rc;
}

/* ---- skipped files, named (added for the operator's start and reload lines) ---- */

#define DOCROOT_SKIP_NAMED	5	/* named in the note; the rest only counted */

/* Counts a file left out; the first few are named with WHY. */
static void
docroot_skip(struct docroot *d, const char *rel, const char *why)
{
	size_t len = strlen(d->skipnote);

	d->skipped++;
	if (d->skipped <= DOCROOT_SKIP_NAMED && len < sizeof(d->skipnote))
		snprintf(d->skipnote + len, sizeof(d->skipnote) - len, "%s%s (%s)",
		    len ? ", " : "", rel, why);
}

const char *
docroot_skipped_note(const struct docroot *d)
{
	return d != NULL ? d->skipnote : "";
}
