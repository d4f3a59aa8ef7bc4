/*
 * fuzz_util.h - what the fuzz targets share: the input as a file that needs
 * no disk (a memfd, named by its /proc/self/fd path), a guard that keeps
 * generated paths away from device and kernel files, and the check of a
 * normalised path (the parser and path targets).
 */
#ifndef LF_FUZZ_UTIL_H
#define LF_FUZZ_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A config may name files (docroot, routes, @include) that the loader opens
 * or stats. Opening a device can have effects (/dev/watchdog arms a timer,
 * a tty may become the controlling terminal, /proc/self/fd/0 can block), so
 * inputs that could reach /dev, /proc or /sys are not tried.
 */
static inline int
fuzz_input_is_safe(const uint8_t *data, size_t size)
{
	static const char *const bad[] = { "dev", "proc", "sys", "fd/" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (memmem(data, size, bad[i], strlen(bad[i])) != NULL)
			return 0;
	return 1;
}

/*
 * DATA in a memfd; PATH (PATHLEN bytes) gets its /proc/self/fd name.
 * Returns the fd (close it when done) or aborts: the harness itself broke.
 */
static inline int
fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t at = 0;
	ssize_t n;

	if (fd < 0)
		abort();
	while (at < size) {
		if ((n = write(fd, data + at, size - at)) <= 0)
			abort();
		at += (size_t)n;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/*
 * What a normalised path must be: "/" first, NUL-terminated at N, no control
 * byte, no empty, "." or ".." segment. Aborts (a finding) otherwise.
 */
static inline void
fuzz_check_path(const char *p, int n)
{
	int i;

	if (n < 1 || p[0] != '/' || p[n] != '\0' || (int)strlen(p) != n)
		abort();
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c < 0x20 || c == 0x7f)
			abort();
		if (c != '/')
			continue;
		/* no "//", no "/./", no "/../", including at the end */
		if (i + 1 < n && p[i + 1] == '/')
			abort();
		if (p[i + 1] == '.' && (p[i + 2] == '/' || p[i + 2] == '\0'))
			abort();
		if (p[i + 1] == '.' && p[i + 2] == '.' &&
		    (p[i + 3] == '/' || p[i + 3] == '\0'))
			abort();
	}
}

#endif
