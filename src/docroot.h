/*
 * docroot.h - the static files of a docroot: an index built at start and at
 * reload (and again when inotify reports a change), each file with its
 * Content-Type, validators and either its whole body in memory (files up to
 * `static_memory_max`) or the path to open and sendfile(2) from.
 *
 * Files are reference-counted: a lookup returns a referenced file, which the
 * caller (a response being sent, possibly for a long time by a slow reader)
 * drops with docroot_file_put. A rebuild (inotify) or a reload replaces the
 * index, never a file someone still holds, so a body sent by reference stays
 * valid until its last byte is out, however the tree changes meanwhile.
 *
 * Lookups are by normalised path (see http_normalize_path); a directory path
 * ending in '/' serves its index.html, one without the slash is reported as a
 * directory (the caller redirects). Only regular files under the root are
 * indexed: names beginning with '.' are skipped (except /.well-known), and a
 * symbolic link is followed only when its resolved target lies inside the
 * root and has no such name either, so no request can leave the docroot or
 * reach a dotfile. With no docroot, a built-in HTML page is served at "/".
 */
#ifndef LF_DOCROOT_H
#define LF_DOCROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DOCROOT_MEMORY_MAX_DEFAULT	(256u << 10)	/* static_memory_max */
#define DOCROOT_MEMORY_MAX_LIMIT	(64u << 20)	/* its largest value */
/* Memory budget for bodies; past it, files are served from disk instead. */
#define DOCROOT_MEMORY_TOTAL		(512u << 20)

struct docroot;
struct mime;

struct docroot_opts {
	size_t			 memory_max;	/* larger files: from disk */
	const struct mime	*mime;		/* NULL: built-in types only */
	bool			 watch;		/* follow changes (inotify) */
};

struct docroot_file {
	const char	*path;		/* "/index.html" */
	const char	*content_type;	/* "text/html; charset=utf-8" */
	const char	*data;		/* the body; NULL: on disk, see docroot_file_open */
	size_t		 len;		/* as indexed (a file on disk may differ) */
	time_t		 mtime;		/* Last-Modified */
	char		 etag[32];	/* quoted; "" for none */
	char		 last_modified[30];	/* mtime as an IMF-fixdate */
	bool		 date_strong;	/* Last-Modified a strong validator */
};

/* What a lookup found. */
struct docroot_hit {
	struct docroot_file	*file;		/* referenced: the body to send */
	const char		*content_type;	/* of the file asked for */
	const char		*encoding;	/* "br" or "gzip" (a variant), or NULL */
	bool			 vary;		/* precompressed variants exist */
	bool			 dir;		/* a directory named without '/' */
};

/* A file on disk opened for one response. */
struct docroot_open {
	int		 fd;
	uint64_t	 len;
	time_t		 mtime;
	char		 etag[32];
	char		 last_modified[30];
	bool		 date_strong;	/* as in struct docroot_file */
};

/* ROOT NULL: the built-in page only. 0, or -errno with message in ERR. */
int docroot_load(struct docroot **out, const char *root, char *err, size_t errlen);
/* docroot_load with settings; OPTS NULL: the defaults, no watching. */
int docroot_load_opts(struct docroot **out, const char *root,
    const struct docroot_opts *opts, char *err, size_t errlen);
void docroot_free(struct docroot *d);
/*
 * Looks up PATH (normalised, begins with '/'). Q_BR and Q_GZIP are the
 * client's q-values for those codings (0..1000, 0 = not acceptable): the
 * best acceptable precompressed variant is chosen (br on a tie). 0 with HIT
 * filled (HIT->file referenced unless HIT->dir), or -ENOENT.
 */
int docroot_get(const struct docroot *d, const char *path, size_t len, int q_br,
    int q_gzip, struct docroot_hit *hit);
/* Drops a reference from docroot_get. Accepts NULL. */
void docroot_file_put(struct docroot_file *f);
/*
 * Opens a file whose data is on disk, for one response: the size and
 * validators are those of the descriptor, so a file replaced meanwhile is
 * sent whole, old or new, never mixed. 0, or -errno (-ENOENT: gone).
 */
int docroot_file_open(const struct docroot_file *f, struct docroot_open *o);
/* Content-Type for a file name by its extension (built-in table only). */
const char *docroot_mime_type(const char *name);
size_t docroot_count(const struct docroot *d);
/* Files left out: unreadable, special, dotfiles reached by links, links leading out. */
size_t docroot_skipped(const struct docroot *d);
/* The first five of them with the reason, "/big.bin (larger than the 64 MiB
 * limit), /x (Permission denied)"; "" when none. Dotfiles are not counted:
 * they are never served, by rule. Copied into BUF (LEN bytes; 512 holds
 * it all), which is returned: the watcher may replace the index meanwhile. */
const char *docroot_skipped_note(const struct docroot *d, char *buf, size_t len);
/* Index rebuilds since the load (inotify), for tests and logs. */
unsigned long docroot_generation(const struct docroot *d);
/* Why watching failed (inotify limits), or NULL when watching or not asked. */
const char *docroot_watch_error(const struct docroot *d);

#endif
