/*
 * docroot.c - the docroot index: built by a recursive walk (at start, into a
 * fresh docroot at reload, and again by the watcher thread when inotify
 * reports a change), then looked up by normalised path in an
 * open-addressing hash table.
 *
 * What is indexed, and why:
 * - Regular files only; sockets, FIFOs and devices are skipped (a file is
 *   opened O_NONBLOCK and checked again after open, so one swapped for a FIFO
 *   cannot hang the walk).
 * - Names beginning with '.' (files and directories) are skipped, except the
 *   directory ".well-known" at the top (RFC 8615). nginx would serve them,
 *   but a docroot that is a checkout would then publish .git and .env.
 * - A symbolic link is followed when realpath() puts its target inside the
 *   root, no component of the target below the root begins with '.' (the
 *   rule above, applied to where the link leads), and the target is a
 *   regular file. Links to directories are not followed, which rules out
 *   loops without tracking visited directories.
 * - Files up to opts.memory_max are read into memory (while the total stays
 *   under DOCROOT_MEMORY_TOTAL); larger ones are indexed by path and opened
 *   per response (docroot_file_open), so there is no size limit and a slow
 *   reader of a large file holds a descriptor, not a copy.
 * - "/dir/" is the directory's index.html; "/dir" is marked as a directory
 *   so that the handler redirects to "/dir/" (relative links in the page
 *   then resolve as the author meant).
 * - "x.br" and "x.gz" beside "x" are x's precompressed variants.
 *
 * Changes without a reload: the watcher thread (one per watched docroot)
 * has an inotify watch on every directory of the tree. After a change it
 * waits for a quiet moment (DOCROOT_SETTLE_MS, at most DOCROOT_SETTLE_MAX_MS),
 * walks the tree again, reuses every file whose device, inode, size and
 * mtime are unchanged (no new read), and swaps the new index in under the
 * write lock. Readers hold the read lock only to find a file and take a
 * reference; an unwatched docroot never changes and takes no lock.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docroot.h"
#include "http.h"
#include "mime.h"

#define DOCROOT_MAX_DEPTH	64
#define DOCROOT_SETTLE_MS	50
#define DOCROOT_SETTLE_MAX_MS	1000
#define DOCROOT_WATCH_EVENTS	(IN_CREATE | IN_DELETE | IN_MODIFY | \
	IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | \
	IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct docroot_entry {
	struct docroot_file	 pub;
	_Atomic unsigned	 refs;	/* the index's own plus one per holder */
	bool			 owned;	/* false: the built-in page, never freed */
	char			*disk;	/* absolute path, when pub.data is NULL */
	dev_t			 dev;	/* identity, for reuse by a rebuild */
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtim;
};

struct docroot_slot {
	uint64_t		 hash;
	char			*key;	/* NULL: empty slot */
	size_t			 klen;
	struct docroot_entry	*file;	/* NULL for a directory */
	struct docroot_entry	*br, *gz;
	bool			 dir;
};

/* One immutable index; replaced whole by a rebuild. */
struct docroot_table {
	struct docroot_entry	**files;	/* each holds a reference */
	size_t			  nfiles, capfiles;
	char			**dirs;		/* "/sub", for the directory keys */
	size_t			  ndirs, capdirs;
	struct docroot_slot	 *slots;
	size_t			  mask;
	size_t			  total;	/* bytes held in memory */
	size_t			  skipped;
	char			  skipnote[512];	/* see docroot_skipped_note */
};

static void docroot_skip(struct docroot_table *t, const char *rel, const char *why);

struct docroot {
	char			*real;		/* realpath of the root; NULL: built-in */
	size_t			 reallen;
	struct docroot_opts	 opts;
	pthread_rwlock_t	 lock;		/* guards table while watching */
	struct docroot_table	*table;
	bool			 watching;
	int			 ifd;		/* inotify */
	int			 stopfd;	/* eventfd: stop the watcher */
	pthread_t		 thread;
	char			 watch_err[PATH_MAX + 256];
	_Atomic unsigned long	 generation;	/* relaxed: a counter for tests */
};

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
		/* the two must agree: conditions compare mtime */
		.mtime = 1795651200,
		.last_modified = "Thu, 26 Nov 2026 00:00:00 GMT",
		.date_strong = true,
	},
	.owned = false,
};

/*
 * The Last-Modified of a file whose mtime is MTIME: never later than now
 * (RFC 9110 8.8.2.1: a date in the future is replaced by the message's
 * Date). Conditions compare against the same value. *STRONG says whether
 * that date is a strong validator (8.8.2.2): at least a second before now,
 * the time the file is indexed or opened, so at least a second before the
 * Date of every response that carries it.
 */
static time_t
docroot_lastmod(time_t mtime, bool *strong)
{
	time_t now = time(NULL);

	if (mtime > now)
		mtime = now;
	*strong = mtime + 1 <= now;
	return mtime;
}

const char *
docroot_mime_type(const char *name)
{
	return mime_type(NULL, name);
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

static struct docroot_slot *
docroot_slot(const struct docroot_table *t, const char *path, size_t len)
{
	uint64_t h;
	size_t i;

	if (t == NULL || t->slots == NULL)
		return NULL;
	h = docroot_hash(path, len);
	for (i = h & t->mask; t->slots[i].key != NULL; i = (i + 1) & t->mask)
		if (t->slots[i].hash == h && t->slots[i].klen == len &&
		    memcmp(t->slots[i].key, path, len) == 0)
			return &t->slots[i];
	return NULL;
}

static void
docroot_entry_free(struct docroot_entry *e)
{
	free((char *)e->pub.path);
	free((char *)e->pub.data);
	free(e->disk);
	free(e);
}

static void
docroot_entry_ref(struct docroot_entry *e)
{
	/* relaxed: taken by someone who already holds a reference or the
	 * read lock, which keeps the count above zero meanwhile */
	if (e->owned)
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

static void
docroot_entry_put(struct docroot_entry *e)
{
	/* acq_rel: the last holder's release pairs with this acquire, so
	 * every use of the file happens before its free */
	if (e != NULL && e->owned &&
	    atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
		docroot_entry_free(e);
}

void
docroot_file_put(struct docroot_file *f)
{
	/* pub is the first member */
	docroot_entry_put((struct docroot_entry *)f);
}

static void
docroot_table_free(struct docroot_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nfiles; i++)
		docroot_entry_put(t->files[i]);
	free(t->files);
	for (i = 0; i < t->ndirs; i++)
		free(t->dirs[i]);
	free(t->dirs);
	if (t->slots != NULL)
		for (i = 0; i <= t->mask; i++)
			free(t->slots[i].key);
	free(t->slots);
	free(t);
}

int
docroot_get(const struct docroot *cd, const char *path, size_t len, int q_br,
    int q_gzip, struct docroot_hit *hit)
{
	/* the lock is the one mutable part of a docroot its readers share */
	struct docroot *d = (struct docroot *)cd;
	struct docroot_slot *s;
	struct docroot_entry *e;
	int rc = -ENOENT;

	memset(hit, 0, sizeof(*hit));
	if (d == NULL)
		return rc;
	if (d->watching)
		pthread_rwlock_rdlock(&d->lock);
	if ((s = docroot_slot(d->table, path, len)) != NULL) {
		rc = 0;
		if (s->dir) {
			hit->dir = true;
			goto done;
		}
		e = s->file;
		hit->content_type = e->pub.content_type;
		hit->vary = s->br != NULL || s->gz != NULL;
		if (s->br != NULL && q_br > 0 && (s->gz == NULL || q_br >= q_gzip)) {
			e = s->br;
			hit->encoding = "br";
		} else if (s->gz != NULL && q_gzip > 0) {
			e = s->gz;
			hit->encoding = "gzip";
		} else if (s->br != NULL && q_br > 0) {
			e = s->br;
			hit->encoding = "br";
		}
		docroot_entry_ref(e);
		hit->file = &e->pub;
	}
done:
	if (d->watching)
		pthread_rwlock_unlock(&d->lock);
	return rc;
}

static void
docroot_etag(char *out, size_t cap, time_t mtime, uint64_t len)
{
	/* nginx's form: hex mtime and length */
	snprintf(out, cap, "\"%llx-%llx\"", (unsigned long long)mtime,
	    (unsigned long long)len);
}

int
docroot_file_open(const struct docroot_file *f, struct docroot_open *o)
{
	const struct docroot_entry *e = (const struct docroot_entry *)f;
	struct stat st;
	int fd, rc;

	if (e->disk == NULL)
		return -EINVAL;
	fd = open(e->disk, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOENT : -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		/* replaced by something other than a file: as good as gone */
		close(fd);
		return -ENOENT;
	}
	o->fd = fd;
	o->len = (uint64_t)st.st_size;
	o->mtime = docroot_lastmod(st.st_mtime, &o->date_strong);
	docroot_etag(o->etag, sizeof(o->etag), st.st_mtime, o->len);
	http_format_date(o->mtime, o->last_modified);
	return 0;
}

/*
 * The current index's counts and note, read under the lock: the watcher
 * thread may swap in a new index and free the old one at any moment.
 */
static void
docroot_read_summary(const struct docroot *cd, size_t *files, size_t *skipped,
    char *note, size_t notelen)
{
	struct docroot *d = (struct docroot *)cd;

	*files = *skipped = 0;
	if (note != NULL && notelen > 0)
		note[0] = '\0';
	if (d == NULL)
		return;
	if (d->watching)
		pthread_rwlock_rdlock(&d->lock);
	if (d->table != NULL) {
		*files = d->table->nfiles;
		*skipped = d->table->skipped;
		if (note != NULL && notelen > 0)
			snprintf(note, notelen, "%s", d->table->skipnote);
	}
	if (d->watching)
		pthread_rwlock_unlock(&d->lock);
}

size_t
docroot_count(const struct docroot *d)
{
	size_t files, skipped;

	docroot_read_summary(d, &files, &skipped, NULL, 0);
	return files;
}

size_t
docroot_skipped(const struct docroot *d)
{
	size_t files, skipped;

	docroot_read_summary(d, &files, &skipped, NULL, 0);
	return skipped;
}

unsigned long
docroot_generation(const struct docroot *d)
{
	return d != NULL ? atomic_load_explicit(&((struct docroot *)d)->generation,
	    memory_order_relaxed) : 0;
}

const char *
docroot_watch_error(const struct docroot *d)
{
	return d != NULL && d->watch_err[0] != '\0' ? d->watch_err : NULL;
}

static int
docroot_add(struct docroot_table *t, struct docroot_entry *e)
{
	struct docroot_entry **nf;
	size_t cap;

	if (t->nfiles == t->capfiles) {
		cap = t->capfiles ? t->capfiles * 2 : 64;
		if ((nf = reallocarray(t->files, cap, sizeof(*nf))) == NULL)
			return -ENOMEM;
		t->files = nf;
		t->capfiles = cap;
	}
	t->files[t->nfiles++] = e;
	return 0;
}

static int
docroot_add_dir(struct docroot_table *t, const char *rel)
{
	char **nd;
	size_t cap;

	if (t->ndirs == t->capdirs) {
		cap = t->capdirs ? t->capdirs * 2 : 16;
		if ((nd = reallocarray(t->dirs, cap, sizeof(*nd))) == NULL)
			return -ENOMEM;
		t->dirs = nd;
		t->capdirs = cap;
	}
	if ((t->dirs[t->ndirs] = strdup(rel)) == NULL)
		return -ENOMEM;
	t->ndirs++;
	return 0;
}

/* Inserts a copy of KEY; the first entry for a key wins. NULL on ENOMEM. */
static struct docroot_slot *
docroot_insert(struct docroot_table *t, const char *key, size_t klen)
{
	uint64_t h = docroot_hash(key, klen);
	size_t i;

	for (i = h & t->mask; t->slots[i].key != NULL; i = (i + 1) & t->mask)
		if (t->slots[i].hash == h && t->slots[i].klen == klen &&
		    memcmp(t->slots[i].key, key, klen) == 0)
			return &t->slots[i];
	if ((t->slots[i].key = strndup(key, klen)) == NULL)
		return NULL;
	t->slots[i].hash = h;
	t->slots[i].klen = klen;
	return &t->slots[i];
}

/* The variant of the file at P (PLEN bytes) with suffix SUF, if indexed. */
static struct docroot_entry *
docroot_variant(struct docroot_table *t, const char *p, size_t plen,
    const char *suf)
{
	char key[PATH_MAX + 4];
	struct docroot_slot *s;
	size_t slen = strlen(suf);

	if (plen + slen >= sizeof(key))
		return NULL;
	memcpy(key, p, plen);
	memcpy(key + plen, suf, slen);
	s = docroot_slot(t, key, plen + slen);
	return s != NULL && !s->dir ? s->file : NULL;
}

/*
 * Every file by its path (with its precompressed variants), each
 * index.html also as "/dir/", and every directory as "/dir".
 */
static int
docroot_index(struct docroot_table *t)
{
	static const char index[] = "index.html";
	const size_t ilen = sizeof(index) - 1;
	size_t n = 16, i, plen;
	struct docroot_slot *s, *alias;
	const char *p;

	while (n < (t->nfiles * 2 + t->ndirs) * 2)	/* load <= 1/2 */
		n *= 2;
	if ((t->slots = calloc(n, sizeof(*t->slots))) == NULL)
		return -ENOMEM;
	t->mask = n - 1;
	for (i = 0; i < t->nfiles; i++) {
		p = t->files[i]->pub.path;
		if ((s = docroot_insert(t, p, strlen(p))) == NULL)
			return -ENOMEM;
		if (s->file == NULL)
			s->file = t->files[i];
	}
	for (i = 0; i < t->nfiles; i++) {
		p = t->files[i]->pub.path;
		plen = strlen(p);
		s = docroot_slot(t, p, plen);
		s->br = docroot_variant(t, p, plen, ".br");
		s->gz = docroot_variant(t, p, plen, ".gz");
	}
	for (i = 0; i < t->nfiles; i++) {
		p = t->files[i]->pub.path;
		plen = strlen(p);
		if (plen <= ilen || memcmp(p + plen - ilen, index, ilen) != 0 ||
		    p[plen - ilen - 1] != '/')
			continue;
		s = docroot_slot(t, p, plen);
		if ((alias = docroot_insert(t, p, plen - ilen)) == NULL)
			return -ENOMEM;
		if (alias->file == NULL) {
			alias->file = s->file;
			alias->br = s->br;
			alias->gz = s->gz;
		}
	}
	for (i = 0; i < t->ndirs; i++) {
		if ((s = docroot_insert(t, t->dirs[i], strlen(t->dirs[i]))) == NULL)
			return -ENOMEM;
		if (s->file == NULL)
			s->dir = true;
	}
	return 0;
}

/* State of one walk. */
struct docroot_walk {
	struct docroot		*d;
	struct docroot_table	*t;
	const struct docroot_table *old;	/* reuse unchanged files; may be NULL */
	bool			 report;	/* the first walk: note watch failures */
	char			*err;
	size_t			 errlen;
};

/* The old index's entry for REL when the file is unchanged (a new reference). */
static struct docroot_entry *
docroot_reuse(const struct docroot_walk *w, const char *rel,
    const struct stat *st)
{
	struct docroot_slot *s = docroot_slot(w->old, rel, strlen(rel));
	struct docroot_entry *e;

	if (s == NULL || (e = s->file) == NULL || strcmp(e->pub.path, rel) != 0 ||
	    e->dev != st->st_dev || e->ino != st->st_ino ||
	    e->size != st->st_size || e->mtim.tv_sec != st->st_mtim.tv_sec ||
	    e->mtim.tv_nsec != st->st_mtim.tv_nsec)
		return NULL;
	docroot_entry_ref(e);
	return e;
}

/*
 * Indexes the open file FD as REL ("/a/b.html"), found at the absolute path
 * DISK. Returns 0 when indexed or skipped, -errno to fail (ERR set).
 */
static int
docroot_read(struct docroot_walk *w, int fd, const char *rel, const char *disk)
{
	struct docroot_table *t = w->t;
	struct docroot_entry *e = NULL;
	struct stat st;
	char *data = NULL;
	size_t size, got = 0;
	ssize_t n;
	int rc;

	if (fstat(fd, &st) != 0) {
		docroot_skip(t, rel, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		docroot_skip(t, rel, "not a regular file");
		return 0;
	}
	if ((e = docroot_reuse(w, rel, &st)) != NULL) {
		if (e->pub.data != NULL)
			t->total += e->pub.len;
		if ((rc = docroot_add(t, e)) < 0) {
			docroot_entry_put(e);
			goto nomem;
		}
		return 0;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->pub.path = strdup(rel)) == NULL)
		goto nomem;
	e->owned = true;
	atomic_init(&e->refs, 1);
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->size = st.st_size;
	e->mtim = st.st_mtim;
	size = (size_t)st.st_size;
	if ((uint64_t)st.st_size <= w->d->opts.memory_max &&
	    t->total + size <= DOCROOT_MEMORY_TOTAL) {
		if ((data = malloc(size ? size : 1)) == NULL)
			goto nomem;
		while (got < size) {
			if ((n = read(fd, data + got, size - got)) < 0) {
				if (errno == EINTR)
					continue;
				docroot_skip(t, rel, strerror(errno));
				free(data);
				docroot_entry_free(e);
				return 0;
			}
			if (n == 0)	/* shrank since fstat: serve what is there */
				break;
			got += n;
		}
		e->pub.data = data;
		t->total += got;
	} else {
		if ((e->disk = strdup(disk)) == NULL)
			goto nomem;
		got = size;
	}
	e->pub.len = got;
	e->pub.mtime = docroot_lastmod(st.st_mtime, &e->pub.date_strong);
	e->pub.content_type = mime_type(w->d->opts.mime, rel);
	docroot_etag(e->pub.etag, sizeof(e->pub.etag), st.st_mtime, got);
	http_format_date(e->pub.mtime, e->pub.last_modified);
	if (docroot_add(t, e) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(w->err, w->errlen, "%s: out of memory loading %s", w->d->real,
	    rel);
	if (e != NULL)
		docroot_entry_free(e);
	return -ENOMEM;
}

/* Whether a name below the root is hidden by the dotfile rule. */
static bool
docroot_hidden(const char *name, int depth)
{
	return name[0] == '.' && (strcmp(name, ".well-known") != 0 || depth > 0);
}

/* Whether REL ("/a/.b/c", below the root) has a component the walk would skip. */
static bool
docroot_hidden_path(const char *rel)
{
	char comp[NAME_MAX + 1];
	const char *p = rel, *q;
	int depth = 0;

	while (*p == '/') {
		p++;
		if ((q = strchr(p, '/')) == NULL)
			q = p + strlen(p);
		if ((size_t)(q - p) > NAME_MAX)
			return true;
		memcpy(comp, p, q - p);
		comp[q - p] = '\0';
		if (docroot_hidden(comp, depth++))
			return true;
		p = q;
	}
	return false;
}

/*
 * A symlink at REL: indexed from its target when that is a regular file
 * inside the root whose path there the walk itself would not skip.
 */
static int
docroot_link(struct docroot_walk *w, const char *rel)
{
	struct docroot *d = w->d;
	/* a root of "/" contributes no prefix of its own */
	size_t plen = d->reallen > 1 ? d->reallen : 0;
	char full[PATH_MAX], *real;
	int fd, rc;

	if ((size_t)snprintf(full, sizeof(full), "%.*s%s", (int)plen, d->real,
	    rel) >= sizeof(full) || (real = realpath(full, NULL)) == NULL) {
		docroot_skip(w->t, rel, "a link to nothing");
		return 0;
	}
	if (strncmp(real, d->real, plen) != 0 || real[plen] != '/') {
		free(real);
		docroot_skip(w->t, rel, "a link leading out of the docroot");
		return 0;
	}
	if (docroot_hidden_path(real + plen)) {
		free(real);
		docroot_skip(w->t, rel, "a link to a dotfile");
		return 0;
	}
	fd = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		free(real);
		docroot_skip(w->t, rel, strerror(errno));
		return 0;
	}
	/* a link to a directory fails the S_ISREG check in docroot_read */
	rc = docroot_read(w, fd, rel, real);
	close(fd);
	free(real);
	return rc;
}

/* Watches the directory at REL (best effort: a failure is reported once). */
static void
docroot_watch_dir(struct docroot_walk *w, const char *rel)
{
	struct docroot *d = w->d;
	size_t plen = d->reallen > 1 ? d->reallen : 0;
	char full[PATH_MAX];

	if (d->ifd < 0)
		return;
	if ((size_t)snprintf(full, sizeof(full), "%.*s%s", (int)plen, d->real,
	    rel[0] != '\0' ? rel : "/") >= sizeof(full))
		return;
	/* only the first walk reports: later ones run beside its readers */
	if (inotify_add_watch(d->ifd, full, DOCROOT_WATCH_EVENTS) < 0 &&
	    w->report && d->watch_err[0] == '\0')
		snprintf(d->watch_err, sizeof(d->watch_err),
		    "changes below %.2000s are not seen: inotify_add_watch: %s",
		    full, strerror(errno));
}

/* Walks the directory DFD, found at REL ("" for the root); REL has PATH_MAX bytes. */
static int
docroot_walk(struct docroot_walk *w, int dfd, char *rel, int depth)
{
	struct docroot *d = w->d;
	char full[PATH_MAX];
	DIR *dir;
	struct dirent *de;
	struct stat st;
	size_t rlen = strlen(rel);
	size_t plen = d->reallen > 1 ? d->reallen : 0;
	int fd, rc = 0;

	/* before reading it: a file created meanwhile raises an event */
	docroot_watch_dir(w, rel);
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		docroot_skip(w->t, rel[0] ? rel : "/", strerror(errno));
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    docroot_hidden(de->d_name, depth))
			continue;
		if (rlen + 1 + strlen(de->d_name) >= PATH_MAX) {
			docroot_skip(w->t, de->d_name, "path too long");
			continue;
		}
		rel[rlen] = '/';
		strcpy(rel + rlen + 1, de->d_name);
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			docroot_skip(w->t, rel, strerror(errno));
		else if (S_ISLNK(st.st_mode))
			rc = docroot_link(w, rel);
		else if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd(dir), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || depth >= DOCROOT_MAX_DEPTH) {
				docroot_skip(w->t, rel, fd < 0 ? strerror(errno) :
				    "too deep");
				if (fd >= 0)
					close(fd);
			} else if ((rc = docroot_add_dir(w->t, rel)) < 0) {
				close(fd);
				snprintf(w->err, w->errlen, "out of memory");
			} else
				rc = docroot_walk(w, fd, rel, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			fd = openat(dirfd(dir), de->d_name, O_RDONLY |
			    O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				docroot_skip(w->t, rel, strerror(errno));
			else {
				snprintf(full, sizeof(full), "%.*s%s", (int)plen,
				    d->real, rel);
				rc = docroot_read(w, fd, rel, full);
				close(fd);
			}
		} else
			docroot_skip(w->t, rel, "not a regular file");
		rel[rlen] = '\0';
		if (rc < 0)
			break;
	}
	closedir(dir);
	return rc;
}

/* A fresh index of the tree, reusing OLD's unchanged files. 0 or -errno. */
static int
docroot_build(struct docroot *d, const struct docroot_table *old,
    struct docroot_table **out, char *err, size_t errlen)
{
	struct docroot_walk w = { d, NULL, old, old == NULL, err, errlen };
	char *rel = NULL;
	int fd, rc;

	*out = NULL;
	if ((w.t = calloc(1, sizeof(*w.t))) == NULL ||
	    (rel = calloc(1, PATH_MAX)) == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((fd = open(d->real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "docroot %s: %s", d->real, strerror(errno));
		goto fail;
	}
	if ((rc = docroot_walk(&w, fd, rel, 0)) < 0)
		goto fail;
	if ((rc = docroot_index(w.t)) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	free(rel);
	*out = w.t;
	return 0;
fail:
	free(rel);
	docroot_table_free(w.t);
	return rc;
}

/* Reads and discards the pending events; false when the watch is gone. */
static bool
docroot_drain(int ifd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(ifd, buf, sizeof(buf))) > 0)
		;
	return n == 0 || errno == EAGAIN || errno == EINTR;
}

static void *
docroot_watcher(void *arg)
{
	struct docroot *d = arg;
	struct docroot_table *t, *old;
	struct pollfd p[2] = {
		{ .fd = d->ifd, .events = POLLIN },
		{ .fd = d->stopfd, .events = POLLIN },
	};
	char err[256];
	int waited;

	pthread_setname_np(pthread_self(), "lf-docroot");
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents != 0)
			break;
		if (!docroot_drain(d->ifd))
			break;
		/* a deploy changes many files: wait until it settles */
		for (waited = 0; waited < DOCROOT_SETTLE_MAX_MS;
		    waited += DOCROOT_SETTLE_MS) {
			if (poll(p, 2, DOCROOT_SETTLE_MS) <= 0)
				break;
			if (p[1].revents != 0)
				return NULL;
			docroot_drain(d->ifd);
		}
		/* only this thread writes d->table: reading it unlocked is safe */
		if (docroot_build(d, d->table, &t, err, sizeof(err)) < 0)
			continue;	/* keep serving the old index */
		pthread_rwlock_wrlock(&d->lock);
		old = d->table;
		d->table = t;
		pthread_rwlock_unlock(&d->lock);
		docroot_table_free(old);
		atomic_fetch_add_explicit(&d->generation, 1, memory_order_relaxed);
	}
	return NULL;
}

/* Starts watching (best effort: on failure d->watch_err says why). */
static void
docroot_watch_start(struct docroot *d)
{
	sigset_t all, old;
	int rc = -1;

	/* signals are the main loop's (signalfd): the watcher must not take
	 * them, and it may be started before main blocks them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((d->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0)
		rc = pthread_create(&d->thread, NULL, docroot_watcher, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(d->watch_err, sizeof(d->watch_err),
		    "%.2000s: changes are not seen without a reload: %s", d->real,
		    strerror(d->stopfd < 0 ? errno : rc));
		return;
	}
	d->watching = true;
}

void
docroot_free(struct docroot *d)
{
	uint64_t one = 1;

	if (d == NULL)
		return;
	if (d->watching) {
		/* an eventfd write of 1 cannot fail here */
		(void)!write(d->stopfd, &one, sizeof(one));
		pthread_join(d->thread, NULL);
	}
	if (d->stopfd >= 0)
		close(d->stopfd);
	if (d->ifd >= 0)
		close(d->ifd);
	pthread_rwlock_destroy(&d->lock);
	docroot_table_free(d->table);
	free(d->real);
	free(d);
}

int
docroot_load_opts(struct docroot **out, const char *root,
    const struct docroot_opts *opts, char *err, size_t errlen)
{
	static const struct docroot_opts defaults = {
		.memory_max = DOCROOT_MEMORY_MAX_DEFAULT,
	};
	struct docroot *d;
	struct stat st;
	int rc;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->opts = opts != NULL ? *opts : defaults;
	d->ifd = d->stopfd = -1;
	pthread_rwlock_init(&d->lock, NULL);
	if (root == NULL) {
		if ((d->table = calloc(1, sizeof(*d->table))) == NULL ||
		    (rc = docroot_add(d->table, &docroot_builtin)) < 0 ||
		    (rc = docroot_index(d->table)) < 0) {
			rc = -ENOMEM;
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
	if (stat(d->real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = -ENOTDIR;
		snprintf(err, errlen, "docroot %s: %s", root, strerror(ENOTDIR));
		goto fail;
	}
	if (d->opts.watch &&
	    (d->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
		snprintf(d->watch_err, sizeof(d->watch_err),
		    "%.2000s: changes are not seen without a reload: inotify: %s",
		    d->real, strerror(errno));
	if ((rc = docroot_build(d, NULL, &d->table, err, errlen)) < 0)
		goto fail;
	if (d->ifd >= 0)
		docroot_watch_start(d);
	*out = d;
	return 0;
fail:
	docroot_free(d);
	return rc;
}

int
docroot_load(struct docroot **out, const char *root, char *err, size_t errlen)
{
	return docroot_load_opts(out, root, NULL, err, errlen);
}

/* ---- skipped files, named (added for the operator's start and reload lines) ---- */

#define DOCROOT_SKIP_NAMED	5	/* named in the note; the rest only counted */

/* Counts a file left out; the first few are named with WHY. */
static void
docroot_skip(struct docroot_table *t, const char *rel, const char *why)
{
	size_t len = strlen(t->skipnote);

	t->skipped++;
	if (t->skipped <= DOCROOT_SKIP_NAMED && len < sizeof(t->skipnote))
		snprintf(t->skipnote + len, sizeof(t->skipnote) - len, "%s%s (%s)",
		    len ? ", " : "", rel, why);
}

const char *
docroot_skipped_note(const struct docroot *d, char *buf, size_t len)
{
	size_t files, skipped;

	docroot_read_summary(d, &files, &skipped, buf, len);
	return buf;
}
