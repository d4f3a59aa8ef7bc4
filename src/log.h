/*
 * log.h - the daemon's diagnostic log, in the manner of OpenBSD's log.c.
 *
 * Lines go to stderr. When stderr is connected to the journal (JOURNAL_STREAM
 * matches), each line carries an sd-daemon "<N>" priority prefix so journald
 * files it at the right level. Library modules do not log: they return errors
 * and their callers decide (only main.c, the engines and journal.c log).
 */
#ifndef LF_LOG_H
#define LF_LOG_H

#include <stdbool.h>

void log_init(bool debug);
/* An error the operator must fix (priority err), e.g. a bad configuration. */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/*
 * -d: log_debug prints. Set once by log_init before any thread starts; hot
 * paths test log_debugging() first so that -d costs one load when off.
 */
extern bool log_debug_enabled;
static inline bool log_debugging(void) { return log_debug_enabled; }
/* true when stderr is the journal's stream (so structured output should go to sd_journal_send) */
bool log_to_journal(void);

#endif
