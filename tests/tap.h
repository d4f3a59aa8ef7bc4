/*
 * tap.h - the smallest test vocabulary, in the style of Knot's tests:
 * ok(cond, "what") prints "ok N - what" or "not ok N - what", and
 * done_testing() prints the plan and returns the exit status for main().
 */
#ifndef LF_TAP_H
#define LF_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int tap_n, tap_failed;

static inline int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

/*
 * Runs FN in a child process: true when it returned normally. A call that
 * can only go wrong by crashing (free(NULL)-style contracts) is then a
 * "not ok" line instead of a test that dies. Call it before any thread starts.
 */
static inline bool
tap_survives(void (*fn)(void))
{
	int st;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return false;
	if (pid == 0) {
		fn();
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

#endif
