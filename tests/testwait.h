/*
 * testwait.h - waiting in the threaded unit tests: a sleep that survives
 * signals, polling a condition for a bounded time, and SANITIZED, defined
 * under ThreadSanitizer or AddressSanitizer, for the tests that run fewer
 * items there (each operation is several times slower).
 */
#ifndef LF_TESTWAIT_H
#define LF_TESTWAIT_H

#include <errno.h>
#include <stdbool.h>
#include <time.h>

/* GCC says __SANITIZE_*__; clang answers __has_feature. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SANITIZED	1
#endif
#endif

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
