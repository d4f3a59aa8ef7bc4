/*
 * reloadctl.c - the reload handshake's two sides; see reloadctl.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reloadctl.h"
#include "stats.h"

/* How often the reload command looks at the file: a reload takes milliseconds. */
#define RELOADCTL_POLL_NS	20000000u

const char *
reloadctl_dir(char *buf, size_t len)
{
	const char *e = getenv("RUNTIME_DIRECTORY");
	size_t n;

	if (e == NULL || e[0] == '\0')
		return NULL;
	n = strcspn(e, ":");
	if (n >= len)
		return NULL;
	memcpy(buf, e, n);
	buf[n] = '\0';
	return buf;
}

int
reloadctl_write(const char *dir, const struct reloadctl_verdict *v)
{
	char path[4096], tmp[4096];
	FILE *f;
	int r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, RELOADCTL_FILE) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, RELOADCTL_FILE) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (f == NULL)
		return -errno;
	fprintf(f, "lfserver-reload %" PRIu64 " %" PRIu64 " %s\n%s\n", v->generation,
	    v->started_ns, v->ok ? "ok" : "failed", v->message);
	if (fflush(f) != 0 || ferror(f))
		r = errno ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	/* rename: a reader sees the old verdict or the new one, never half */
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int
reloadctl_read(const char *dir, struct reloadctl_verdict *v)
{
	char path[4096], result[16];
	size_t n;
	FILE *f;
	int r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, RELOADCTL_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	memset(v, 0, sizeof(*v));
	if (fscanf(f, "lfserver-reload %" SCNu64 " %" SCNu64 " %15s", &v->generation,
	    &v->started_ns, result) != 3 || fgetc(f) != '\n') {
		r = -EBADMSG;
		goto out;
	}
	v->ok = strcmp(result, "ok") == 0;
	n = fread(v->message, 1, sizeof(v->message) - 1, f);
	v->message[n] = '\0';
	if (n > 0 && v->message[n - 1] == '\n')
		v->message[n - 1] = '\0';
out:
	fclose(f);
	return r;
}

int
reloadctl_request(pid_t pid, const char *dir, unsigned timeout_ms,
    struct reloadctl_verdict *v)
{
	struct timespec ts = { 0, RELOADCTL_POLL_NS };
	uint64_t sent, deadline;

	sent = stats_now_ns();
	deadline = sent + (uint64_t)timeout_ms * 1000000u;
	if (kill(pid, SIGHUP) < 0)
		return -errno;
	for (;;) {
		if (reloadctl_read(dir, v) == 0 && v->started_ns >= sent)
			return 0;
		if (stats_now_ns() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}
