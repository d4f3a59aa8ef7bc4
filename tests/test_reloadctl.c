/*
 * test_reloadctl.c - the reload handshake (reloadctl.c) without systemd: a
 * forked "daemon" takes SIGHUP from a signalfd, as main.c does, and writes its
 * verdict; the requesting side must get that verdict and never an older one.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reloadctl.h"
#include "stats.h"
#include "tap.h"
#include "testdir.h"

/*
 * The daemon's side: waits for SIGHUP (blocked before the fork, so none is
 * lost), then after DELAY_MS writes a verdict that started when the signal
 * was taken. ANSWER 0: never answers (the requester must time out).
 */
static pid_t
fake_daemon(bool answer, bool verdict_ok, unsigned delay_ms)
{
	struct signalfd_siginfo si;
	struct reloadctl_verdict v = { .generation = 7, .ok = verdict_ok };
	sigset_t mask;
	pid_t pid;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	pid = fork();
	if (pid != 0)
		return pid;
	sfd = signalfd(-1, &mask, 0);
	if (sfd < 0 || read(sfd, &si, sizeof(si)) != sizeof(si))
		_exit(2);
	v.started_ns = stats_now_ns();
	if (!answer) {
		pause();
		_exit(0);
	}
	usleep(delay_ms * 1000u);
	snprintf(v.message, sizeof(v.message), "%s", verdict_ok ? "reloaded" :
	    "/etc/lfserver.ini:3: key 'mode': bad value");
	_exit(reloadctl_write(tmpdir, &v) == 0 ? 0 : 3);
}

static int
reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
main(void)
{
	struct reloadctl_verdict v, w;
	sigset_t mask;
	char buf[64];
	pid_t pid;
	int r;

	testdir_create("test_reloadctl");
	/* blocked here, so that a child that has not reached its signalfd yet keeps it pending */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	ok(reloadctl_read(tmpdir, &v) == -ENOENT, "no verdict yet: -ENOENT");

	memset(&v, 0, sizeof(v));
	v.generation = 3;
	v.started_ns = stats_now_ns();
	v.ok = false;
	snprintf(v.message, sizeof(v.message), "f.ini:2: key 'x': bad");
	r = reloadctl_write(tmpdir, &v);
	ok(r == 0 && reloadctl_read(tmpdir, &w) == 0 && w.generation == 3 &&
	    w.started_ns == v.started_ns && !w.ok &&
	    strcmp(w.message, "f.ini:2: key 'x': bad") == 0,
	    "a verdict written is read back whole");

	/* an old verdict (the one above) must not answer a new request */
	pid = fake_daemon(true, true, 150);
	r = reloadctl_request(pid, tmpdir, 5000, &v);
	ok(r == 0 && v.ok && strcmp(v.message, "reloaded") == 0 && v.generation == 7,
	    "a good reload: the requester gets 'ok' from the daemon (r=%d ok=%d '%s')",
	    r, v.ok, v.message);
	ok(reap(pid) == 0, "the daemon wrote its verdict");

	pid = fake_daemon(true, false, 50);
	r = reloadctl_request(pid, tmpdir, 5000, &v);
	ok(r == 0 && !v.ok && strstr(v.message, "/etc/lfserver.ini:3:") != NULL,
	    "a failed reload: the requester gets 'failed' with FILE:LINE (r=%d '%s')",
	    r, v.message);
	ok(reap(pid) == 0, "the daemon wrote its verdict");

	/* the previous verdict, already there, is older than this request */
	pid = fake_daemon(false, true, 0);
	r = reloadctl_request(pid, tmpdir, 300, &v);
	ok(r == -ETIMEDOUT, "a daemon that never answers: -ETIMEDOUT, not the "
	    "previous verdict (r=%d)", r);
	kill(pid, SIGKILL);
	reap(pid);

	/* a pid that exited (reaped, so it is gone) */
	pid = fork();
	if (pid == 0)
		_exit(0);
	reap(pid);
	r = reloadctl_request(pid, tmpdir, 300, &v);
	ok(r == -ESRCH, "no such process: -ESRCH (r=%d)", r);

	setenv("RUNTIME_DIRECTORY", "/run/lfserver:/run/other", 1);
	ok(reloadctl_dir(buf, sizeof(buf)) != NULL && strcmp(buf, "/run/lfserver") == 0,
	    "reloadctl_dir: the first of $RUNTIME_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");
	ok(reloadctl_dir(buf, sizeof(buf)) == NULL, "reloadctl_dir: NULL without it");

	testdir_remove();
	return done_testing();
}
