/*
 * fuzz_ini.c - libFuzzer target for the ini loader (config_load through
 * inih and our line reader). The input is the file. Besides memory errors
 * it aborts on broken contracts: a failure without a message, or one whose
 * message does not begin with the file name; a failed load that changed the
 * caller's config; a message with a raw control byte; a loaded config whose
 * values are out of their documented ranges.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "lfconfig.h"

static void
check_message(const char *err, const char *path)
{
	const unsigned char *p;

	if (err[0] == '\0' || strncmp(err, path, strlen(path)) != 0)
		abort();
	for (p = (const unsigned char *)err; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lf_config c;
	char path[64], err[1024];
	int fd, rv;

	if (!fuzz_input_is_safe(data, size))
		return 0;
	fd = fuzz_memfile(data, size, path, sizeof(path));
	config_init(&c);
	err[0] = '\0';
	rv = config_load(&c, path, false, err, sizeof(err));
	if (rv != 0) {
		check_message(err, path);
		/* the caller's config is untouched */
		if (c.path != NULL || c.docroot != NULL || c.routes != NULL ||
		    c.mode != LF_MODE_LOCKFREE ||
		    strcmp(c.listen, LF_DEFAULT_LISTEN) != 0 ||
		    c.queue_capacity != LF_DEFAULT_QUEUE_CAPACITY)
			abort();
	} else {
		if (c.path == NULL || strcmp(c.path, path) != 0 ||
		    c.workers > LF_WORKERS_MAX || c.queue_capacity < 1 ||
		    c.queue_capacity > LF_QUEUE_CAPACITY_MAX ||
		    c.keepalive_timeout < 1 ||
		    c.keepalive_timeout > LF_TIMEOUT_MAX_S ||
		    c.request_timeout < 1 || c.request_timeout > LF_TIMEOUT_MAX_S ||
		    c.max_connections < 1 ||
		    c.max_connections > LF_MAX_CONNECTIONS_MAX ||
		    c.stats_interval > LF_STATS_INTERVAL_MAX_S ||
		    config_listen_parse(c.listen, NULL, NULL) != 0)
			abort();
	}
	config_free(&c);
	close(fd);
	return 0;
}
