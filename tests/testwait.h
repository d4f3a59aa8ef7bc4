/*
 * testwait.h - waiting in the threaded unit tests: a sleep that survives
 * signals, and polling a condition for a bounded time.
 */
#ifndef LF_TESTWAIT_H
#define LF_TESTWAIT_H

#include <errno.h>
#include <stdbool.h>
#include <time.h>

static inline void
sleep_us(long us)
{
	struct timespec	 ts = { us / 1000000, (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Polls COND(ARG) every millisecond for up to MS ms; whether it came true. */
static inline bool
wait_for_ms(bool (*cond)(void *), void *arg, int ms)
{
	int	 i;

	for (i = 0; i < ms; i++) {
		if (cond(arg))
			return true;
		sleep_us(1000);
	}
	return cond(arg);
}

#endif
