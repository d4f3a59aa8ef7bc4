/*
 * reloadctl.h - the reload handshake between `lfserver --reload` (systemd's
 * ExecReload=) and the running daemon.
 *
 * systemd 252 has no Type=notify-reload, and `kill -HUP` returns before the
 * daemon has read the new file, so a failed reload looked like a success.
 * Here the reload command signals the daemon (SIGHUP to $MAINPID) and waits
 * for its verdict in the runtime directory ($RUNTIME_DIRECTORY, systemd's
 * RuntimeDirectory=lfserver, i.e. /run/lfserver): the file "reload-status",
 * replaced atomically by the daemon after each reload, holds
 *
 *	lfserver-reload GENERATION STARTED_NS ok|failed
 *	MESSAGE (the FILE:LINE error, or what the reload now serves)
 *
 * STARTED_NS (CLOCK_MONOTONIC, shared by every process of the machine) is
 * when the daemon took the signal and began to read the configuration: a
 * verdict counts for a request sent at T only when STARTED_NS >= T, so a
 * reload already running when the request came is never mistaken for its
 * answer, and two requests that the kernel merges into one pending SIGHUP
 * both get the verdict of the reload that read the file after both.
 *
 * The reload command runs with the daemon's user and sandbox (ExecReload=
 * shares them), so it can signal the daemon and read the directory.
 */
#ifndef LF_RELOADCTL_H
#define LF_RELOADCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RELOADCTL_FILE		"reload-status"

struct reloadctl_verdict {
	uint64_t	generation;
	uint64_t	started_ns;
	bool		ok;
	char		message[1024];
};

/* The runtime directory: the first entry of $RUNTIME_DIRECTORY, or NULL. */
const char *reloadctl_dir(char *buf, size_t len);
/* Replaces DIR/reload-status with V. 0 or -errno. */
int reloadctl_write(const char *dir, const struct reloadctl_verdict *v);
/* Reads DIR/reload-status. 0, -ENOENT when none yet, -EBADMSG, or -errno. */
int reloadctl_read(const char *dir, struct reloadctl_verdict *v);
/*
 * Sends SIGHUP to PID and waits up to TIMEOUT_MS for a verdict that started
 * after the signal. 0 with *V filled (V->ok says how the reload went),
 * -ETIMEDOUT, or -errno from kill().
 */
int reloadctl_request(pid_t pid, const char *dir, unsigned timeout_ms,
    struct reloadctl_verdict *v);

#endif
