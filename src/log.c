/*
 * log.c - stderr logging with journald priority prefixes; see log.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "escape.h"
#include "log.h"

bool log_debug_enabled;
static bool log_journal;

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected stderr to. */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(bool debug)
{
	log_debug_enabled = debug;
	log_journal = stderr_is_journal();
}

bool
log_to_journal(void)
{
	return log_journal;
}

static void
vlog(int prio, const char *fmt, va_list ap, int errnum)
{
	char line[1024], safe[1024];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(errnum));
	/* messages carry paths, keys and request lines: no raw ESC may pass */
	escape_str(safe, sizeof(safe), line);
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", prio, safe);
	else
		fprintf(stderr, "lfserver: %s\n", safe);
}

#define LOG_BODY(prio, errnum) do {		\
		va_list ap;			\
		va_start(ap, fmt);		\
		vlog(prio, fmt, ap, errnum);	\
		va_end(ap);			\
	} while (0)

void log_errx(const char *fmt, ...) { LOG_BODY(3, 0); }
void log_warn(const char *fmt, ...) { int e = errno; LOG_BODY(4, e); }
void log_warnx(const char *fmt, ...) { LOG_BODY(4, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(6, 0); }

void
log_debug(const char *fmt, ...)
{
	if (log_debug_enabled)
		LOG_BODY(7, 0);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;
	LOG_BODY(2, e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(2, 0);
	exit(1);
}
