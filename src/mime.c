/*
 * mime.c - Content-Type by extension; see mime.h.
 *
 * The built-in table wins over the file: it carries the charset parameter
 * that browsers want on text types, and it keeps the types of the common
 * web formats the same whatever the system's media-types package says.
 * The file adds the long tail (an operator's own types included).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

#define MIME_EXT_MAX	32

struct mime_slot {
	char		*ext;		/* lower case; NULL: empty */
	const char	*type;		/* into types[] */
};

struct mime {
	struct mime_slot *slots;
	size_t		  mask;
	size_t		  n;
	char		**types;	/* distinct type strings, owned */
	size_t		  ntypes, captypes;
};

static const struct {
	const char	*ext;
	const char	*type;
} mime_builtin[] = {
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
	{ "br",		"application/x-brotli" },
	{ "tar",	"application/x-tar" },
};

static uint64_t
mime_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static const char *
mime_find(const struct mime *m, const char *ext)
{
	size_t i;

	if (m == NULL || m->slots == NULL)
		return NULL;
	for (i = mime_hash(ext) & m->mask; m->slots[i].ext != NULL;
	    i = (i + 1) & m->mask)
		if (strcmp(m->slots[i].ext, ext) == 0)
			return m->slots[i].type;
	return NULL;
}

const char *
mime_type(const struct mime *m, const char *name)
{
	const char *base = strrchr(name, '/'), *dot, *t;
	char ext[MIME_EXT_MAX];
	size_t i, len;

	base = base != NULL ? base + 1 : name;
	/* ".bashrc" has no extension */
	if ((dot = strrchr(base, '.')) == NULL || dot == base)
		return MIME_FALLBACK;
	dot++;
	for (i = 0; i < sizeof(mime_builtin) / sizeof(mime_builtin[0]); i++)
		if (strcasecmp(dot, mime_builtin[i].ext) == 0)
			return mime_builtin[i].type;
	if ((len = strlen(dot)) == 0 || len >= sizeof(ext))
		return MIME_FALLBACK;
	for (i = 0; i <= len; i++)
		ext[i] = (dot[i] >= 'A' && dot[i] <= 'Z') ? dot[i] + 32 : dot[i];
	t = mime_find(m, ext);
	return t != NULL ? t : MIME_FALLBACK;
}

size_t
mime_count(const struct mime *m)
{
	return m != NULL ? m->n : 0;
}

void
mime_free(struct mime *m)
{
	size_t i;

	if (m == NULL)
		return;
	if (m->slots != NULL)
		for (i = 0; i <= m->mask; i++)
			free(m->slots[i].ext);
	for (i = 0; i < m->ntypes; i++)
		free(m->types[i]);
	free(m->types);
	free(m->slots);
	free(m);
}

static int
mime_grow(struct mime *m)
{
	struct mime_slot *old = m->slots, *ns;
	size_t oldn = old != NULL ? m->mask + 1 : 0, n = oldn ? oldn * 2 : 256;
	size_t i, j;

	if ((ns = calloc(n, sizeof(*ns))) == NULL)
		return -ENOMEM;
	for (i = 0; i < oldn; i++) {
		if (old[i].ext == NULL)
			continue;
		for (j = mime_hash(old[i].ext) & (n - 1); ns[j].ext != NULL;
		    j = (j + 1) & (n - 1))
			;
		ns[j] = old[i];
	}
	free(old);
	m->slots = ns;
	m->mask = n - 1;
	return 0;
}

/* The first line naming an extension wins, as in most readers of the file. */
static int
mime_add(struct mime *m, const char *ext, const char *type)
{
	size_t i;

	if (mime_find(m, ext) != NULL)
		return 0;
	if ((m->n + 1) * 2 > (m->slots != NULL ? m->mask + 1 : 0) &&
	    mime_grow(m) < 0)
		return -ENOMEM;
	for (i = mime_hash(ext) & m->mask; m->slots[i].ext != NULL;
	    i = (i + 1) & m->mask)
		;
	if ((m->slots[i].ext = strdup(ext)) == NULL)
		return -ENOMEM;
	m->slots[i].type = type;
	m->n++;
	return 0;
}

static char *
mime_intern(struct mime *m, const char *type)
{
	char **nt;

	if (m->ntypes == m->captypes) {
		size_t cap = m->captypes ? m->captypes * 2 : 64;

		if ((nt = reallocarray(m->types, cap, sizeof(*nt))) == NULL)
			return NULL;
		m->types = nt;
		m->captypes = cap;
	}
	if ((m->types[m->ntypes] = strdup(type)) == NULL)
		return NULL;
	return m->types[m->ntypes++];
}

/* One line: "type/subtype ext1 ext2"; blank lines and '#' comments skipped. */
static int
mime_line(struct mime *m, char *line)
{
	static const char ws[] = " \t\r\n";
	char *save = NULL, *type, *ext, *t = NULL, *hash;
	size_t i;
	int rc;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	if ((type = strtok_r(line, ws, &save)) == NULL || strchr(type, '/') == NULL)
		return 0;
	for (i = 0; type[i] != '\0'; i++)
		if ((unsigned char)type[i] < 0x21 || type[i] == 0x7f)
			return 0;
	while ((ext = strtok_r(NULL, ws, &save)) != NULL) {
		if (strlen(ext) >= MIME_EXT_MAX)
			continue;
		for (i = 0; ext[i] != '\0'; i++)
			if (ext[i] >= 'A' && ext[i] <= 'Z')
				ext[i] += 32;
		if (t == NULL && (t = mime_intern(m, type)) == NULL)
			return -ENOMEM;
		if ((rc = mime_add(m, ext, t)) < 0)
			return rc;
	}
	return 0;
}

int
mime_load(struct mime **out, const char *path, char *err, size_t errlen)
{
	struct mime *m;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (path != NULL) {
		if ((f = fopen(path, "re")) == NULL) {
			rc = -errno;
			snprintf(err, errlen, "mime types %s: %s", path,
			    strerror(errno));
			goto done;
		}
		while (getline(&line, &cap, f) >= 0)
			if ((rc = mime_line(m, line)) < 0) {
				snprintf(err, errlen, "mime types %s: out of memory",
				    path);
				goto done;
			}
		if (ferror(f)) {
			rc = -EIO;
			snprintf(err, errlen, "mime types %s: read error", path);
		}
	}
done:
	free(line);
	if (f != NULL)
		fclose(f);
	if (rc < 0) {
		mime_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
