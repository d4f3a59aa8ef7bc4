/*
 * testdir.h - a private temporary directory for a unit test: created with
 * mkdtemp under $TMPDIR (or /tmp), files written into it, removed at the end.
 */
#ifndef LF_TESTDIR_H
#define LF_TESTDIR_H

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[256];

/* Creates tmpdir as "$TMPDIR/NAME.XXXXXX"; exits 99 (hard error) on failure. */
static inline void
testdir_create(const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/%s.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp", name);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
}

/* Removes tmpdir: only ever the directory testdir_create made. */
static inline void
testdir_remove(void)
{
	char cmd[PATH_MAX + 16];

	if (strstr(tmpdir, ".XXXXXX") != NULL || tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
}

/* NAME inside tmpdir; the result stays valid for the next three calls. */
static inline const char *
tpath(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

/* Writes a file inside tmpdir and returns its path (see tpath). */
static inline const char * __attribute__((format(printf, 2, 3)))
write_file(const char *name, const char *fmt, ...)
{
	const char *p = tpath(name);
	va_list ap;
	FILE *fp;

	if ((fp = fopen(p, "w")) == NULL) {
		perror(p);
		exit(99);
	}
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
	return p;
}

#endif
