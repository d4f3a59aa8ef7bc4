/*
 * mime.h - file name extension -> Content-Type: a built-in table of the
 * types a web site uses (with charset=utf-8 on text), extended by a
 * mime.types(5) file (/etc/mime.types by default, or the `mime_types`
 * setting) for the extensions the built-in table does not know.
 */
#ifndef LF_MIME_H
#define LF_MIME_H

#include <stddef.h>

#define MIME_DEFAULT_PATH	"/etc/mime.types"
#define MIME_FALLBACK		"application/octet-stream"

struct mime;

/*
 * Reads PATH (mime.types(5) syntax: a type, then its extensions; '#'
 * comments) into *OUT. PATH NULL: only the built-in table. 0, or -errno
 * with a message in ERR (a missing file is an error: the caller decides
 * whether the default path is optional).
 */
int mime_load(struct mime **out, const char *path, char *err, size_t errlen);
void mime_free(struct mime *m);
/*
 * The Content-Type for a file NAME (a path; the extension after the last
 * '.' of its last component, case-insensitive), MIME_FALLBACK if unknown.
 * M may be NULL (built-in table only). The string lives as long as M.
 */
const char *mime_type(const struct mime *m, const char *name);
/* Extensions read from the file (not counting the built-in table). */
size_t mime_count(const struct mime *m);

#endif
