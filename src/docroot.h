/*
 * docroot.h - the static files of a docroot, loaded into memory at start and
 * at reload, each with its whole response body and Content-Type.
 *
 * Lookups are by normalised path (see http_normalize_path); a directory path
 * serves its index.html. Only regular files under the root are loaded (symlinks
 * leading outside the root are skipped), so no request can leave the docroot.
 * With no docroot, a built-in HTML page is served at "/" (and "/index.html").
 */
#ifndef LF_DOCROOT_H
#define LF_DOCROOT_H

#include <stddef.h>

#define DOCROOT_MAX_FILE	(64u << 20)	/* larger files are skipped */
#define DOCROOT_MAX_TOTAL	(512u << 20)	/* load fails beyond this */

struct docroot;

struct docroot_file {
	const char	*path;		/* "/index.html" */
	const char	*content_type;	/* "text/html; charset=utf-8" */
	const char	*data;
	size_t		 len;
	char		 etag[32];	/* optional, may be "" */
};

/* ROOT NULL: the built-in page only. 0, or -errno with message in ERR. */
int docroot_load(struct docroot **out, const char *root, char *err, size_t errlen);
void docroot_free(struct docroot *d);
/* PATH is normalised and begins with '/'. NULL if no such file. */
const struct docroot_file *docroot_lookup(const struct docroot *d, const char *path, size_t len);
/* Content-Type for a file name by its extension (application/octet-stream if unknown). */
const char *docroot_mime_type(const char *name);
size_t docroot_count(const struct docroot *d);
/* Files left out: too large, unreadable, special, or links leading out. */
size_t docroot_skipped(const struct docroot *d);
/* The first five of them with the reason, "/big.bin (larger than the 64 MiB
 * limit), /x (Permission denied)"; "" when none. Dotfiles are not counted:
 * they are never served, by rule. */
const char *docroot_skipped_note(const struct docroot *d);

#endif
