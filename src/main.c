/*
 * main.c - lfserver's lifecycle: options, configuration, listening sockets,
 * the engine, and a main loop that handles signals (through signalfd, never
 * in a handler), the stats timer, the watchdog and sd_notify.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "accesslog.h"
#include "admin.h"
#include "conn.h"
#include "docroot.h"
#include "engine.h"
#include "fdstore.h"
#include "journal.h"
#include "lfconfig.h"
#include "listen.h"
#include "log.h"
#include "reloadctl.h"
#include "server.h"
#include "stats.h"

#define DEFAULT_CONFIG	LF_DEFAULT_CONFIG_PATH
/* Where `lfserver --reload` looks without $RUNTIME_DIRECTORY (RuntimeDirectory=lfserver). */
#define DEFAULT_RUNDIR	"/run/lfserver"
/* How long `lfserver --reload` waits for the verdict (systemd's own reload
 * timeout, TimeoutStartSec=, may end it sooner). */
#define RELOAD_WAIT_MS	90000u
/* While idle, a periodic stats entry is written at most this often. */
#define IDLE_STATS_NS	(300 * 1000000000ull)
/* A daemon holding for a valid configuration rereads it this often. */
#define HOLD_RETRY_NS	(5 * 1000000000ull)

/* Command-line settings: they override the file, at start and on reload. */
struct overrides {
	const char	*mode, *workers, *queue_capacity, *listen;
};

struct daemon {
	const char		*config_path;
	bool			 config_explicit;
	bool			 check, debug, reload;	/* -t, -d, --reload */
	const char		*reload_pid;
	struct overrides	 ov;
	struct stats		*stats;
	struct stats_interval_state interval;
	struct server		*srv;
	struct engine		*engine;
	struct listen_set	 ls;
	char			 rundir[4096];	/* $RUNTIME_DIRECTORY; "" without */
	uint64_t		 reloads;	/* reload verdicts written */
	char			 reload_error[512]; /* the last reload's, until a good one */
	uint64_t		 last_entry_ns;	/* the last periodic stats entry */
	uint64_t		 watchdog_ns;	/* 0: no watchdog */
	uint64_t		 next_watchdog;
	bool			 watchdog_quiet;	/* a stall was logged */
	/* LFSERVER_TEST_FAULT, for the test suite (lfserver(8) ENVIRONMENT) */
	bool			 fault_start;	/* every reload's new engine fails */
	uint64_t		 fault_stall_at; /* the reactor stalls then (0: never) */
	struct admin		*admin;		/* the admin listener's thread, or NULL */
	int			*afds;
	size_t			 nafds;
	char			*admin_path;	/* a Unix socket file we made, or NULL */
};

/* An engine drained by its own thread, so that the main loop keeps the
 * watchdog fed meanwhile (daemon_drain). */
struct daemon_drain {
	struct engine		*engine;
	struct conn		*handoff;
	int			 donefd;
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: lfserver [-c FILE] [-m MODE] [-w N] [-q N] [-l ADDR:PORT] [-t] [-d] [-h] [-V]\n"
"       lfserver --reload[=PID]\n"
"\n"
"An HTTP/1.1 server with a choice of concurrency engine.\n"
"\n"
"  -c, --config FILE          settings file (default " DEFAULT_CONFIG ";\n"
"                             built-in defaults when that file does not exist)\n"
"  -m, --mode MODE            concurrency engine (default lockfree):\n"
"      lockfree               worker pool fed by a lock-free bounded queue: the\n"
"                             fastest for many short requests on several cores\n"
"      locked                 worker pool fed by a mutex/condvar queue: the\n"
"                             classic pool, for comparison\n"
"      thread-per-connection  one thread per client: simplest, suits few\n"
"                             long-lived or blocking connections\n"
"      sequential             one worker: the baseline of the original study\n"
"                             (the study's numbers 1, 2, 3 are accepted too)\n"
"  -w, --workers N            worker threads, 0 = number of CPUs (default 0)\n"
"  -q, --queue-capacity N     bounded queue capacity, >= 1 (default 64)\n"
"  -l, --listen ADDR:PORT     address to bind without socket activation\n"
"                             (default 127.0.0.1:7878; [IPV6]:PORT, *:PORT)\n"
"  -t, --check-config         validate the configuration and exit\n"
"      --reload[=PID]         reload the daemon (PID, default $MAINPID) and\n"
"                             wait for its verdict: exit 0 when the new\n"
"                             configuration serves, 1 with its error if not\n"
"  -d, --debug                log each connection's accept, requests and close\n"
"  -h, --help                 this help\n"
"  -V, --version              print the version\n"
"\n"
"Options override the file, on reload too. Signals: HUP reloads (drains the\n"
"engine and rebuilds it), TERM/INT stop gracefully, USR1 logs the stats,\n"
"USR2 reopens the access log file.\n"
"Exit status: 0 done, 1 failure, 64 bad usage, 78 bad configuration.\n"
"See lfserver(8), lfserver.ini(5), lfserver.routes(5).\n");
}

/* Reads the file and applies the overrides. 0, or -errno with ERR filled. */
static int
daemon_config(const struct daemon *d, struct lf_config *cfg, char *err, size_t errlen)
{
	static const struct { const char *key, *opt; size_t off; } map[] = {
		{ "mode", "--mode", offsetof(struct overrides, mode) },
		{ "workers", "--workers", offsetof(struct overrides, workers) },
		{ "queue_capacity", "--queue-capacity", offsetof(struct overrides, queue_capacity) },
		{ "listen", "--listen", offsetof(struct overrides, listen) },
	};
	size_t i;
	int r;

	config_init(cfg);
	r = config_load(cfg, d->config_path, !d->config_explicit, err, errlen);
	for (i = 0; r == 0 && i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = *(const char *const *)((const char *)&d->ov + map[i].off);

		if (v != NULL)
			r = config_set(cfg, "server", map[i].key, v, map[i].opt, err, errlen);
	}
	if (r < 0)
		config_free(cfg);
	return r;
}

/* What /metrics and the admin /stats say about the running configuration. */
static void
daemon_info(struct daemon *d)
{
	struct stats_info info = {
		.mode = d->srv->cfg.mode,
		.workers = d->srv->workers,
		.queue_capacity = d->srv->cfg.queue_capacity,
		.reactors = d->srv->reactors,
	};

	server_docroot_counts(d->srv, &info.docroot_files, &info.docroot_skipped);

	stats_set_info(d->stats, &info);
}

/* The access log SRV's configuration asks for (none when off). */
static int
daemon_accesslog(struct server *srv, struct stats *st, char *err, size_t errlen)
{
	if (srv->cfg.access_log == NULL)
		return 0;
	return accesslog_open(&srv->alog, srv->cfg.access_log,
	    srv->cfg.access_log_format, st, err, errlen);
}

/* The admin listener: systemd's "admin" sockets or admin_listen, if any. */
static void
daemon_admin_start(struct daemon *d)
{
	const char *addr = d->srv->cfg.admin_listen;
	char err[1024];
	bool bound_path;
	int r;

	if (listen_admin(addr, &d->afds, &d->nafds, &bound_path, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (bound_path && (d->admin_path = strdup(addr)) == NULL)
		fatalx("out of memory");
	if (d->nafds == 0)
		return;
	r = admin_start(&d->admin, d->afds, d->nafds, d->stats);
	if (r < 0) {
		errno = -r;
		fatal("cannot start the admin listener");
	}
}

static void
daemon_admin_stop(struct daemon *d)
{
	admin_stop(d->admin);
	listen_close(d->afds, d->nafds);
	if (d->admin_path != NULL)
		unlink(d->admin_path);
	free(d->admin_path);
}

/* Reads the file, applies the overrides and builds the server into *OUT. */
static int
daemon_build(const struct daemon *d, struct server **out, char *err, size_t errlen)
{
	struct lf_config cfg;
	int r;

	r = daemon_config(d, &cfg, err, errlen);
	if (r < 0)
		return r;
	r = server_build(out, &cfg, d->stats, err, errlen);
	config_free(&cfg);
	if (r == 0 && (r = daemon_accesslog(*out, d->stats, err, errlen)) < 0) {
		server_free(*out);
		*out = NULL;
	}
	return r;
}

static void
daemon_status(struct daemon *d, const struct stats_snapshot *s)
{
	char status[256];

	journal_status(status, sizeof(status), d->srv, s);
	/* a failed reload stays in sight until a good one */
	if (d->reload_error[0] != '\0')
		sd_notifyf(0, "STATUS=reload failed, old configuration kept: %s | %s",
		    d->reload_error, status);
	else
		sd_notifyf(0, "STATUS=%s", status);
}

static void
daemon_stats(struct daemon *d, const char *event)
{
	struct stats_snapshot s;

	stats_interval(d->stats, &d->interval, &s);
	journal_stats(event, d->srv, &s);
	daemon_status(d, &s);
}

/*
 * The periodic entry: one per interval while requests come, and while idle
 * one every IDLE_STATS_NS at most (an idle day would otherwise add 8,640
 * entries that say nothing). STATUS= is refreshed either way.
 */
static void
daemon_stats_tick(struct daemon *d, uint64_t now)
{
	struct stats_snapshot s;

	stats_interval(d->stats, &d->interval, &s);
	if (s.interval_requests == 0 && d->last_entry_ns != 0 &&
	    now - d->last_entry_ns < IDLE_STATS_NS) {
		daemon_status(d, &s);
		return;
	}
	d->last_entry_ns = now;
	journal_stats("stats", d->srv, &s);
	daemon_status(d, &s);
}

/* One docroot's line: how many files it serves, and which it left out and why. */
static void
daemon_log_docroot(const char *root, const struct docroot *dr)
{
	char note[512];
	size_t skipped = docroot_skipped(dr);

	if (skipped == 0)
		log_info("docroot %s: %zu files", root, docroot_count(dr));
	else
		log_warnx("docroot %s: %zu files, %zu skipped: %s%s", root,
		    docroot_count(dr), skipped,
		    docroot_skipped_note(dr, note, sizeof(note)),
		    skipped > 5 ? ", ..." : "");
}

static void
daemon_log_docroots(const struct server *srv)
{
	size_t i;

	if (srv->cfg.docroot != NULL)
		daemon_log_docroot(srv->cfg.docroot, srv->docroot);
	for (i = 0; i < srv->routes.n; i++)
		if (srv->docroots[i] != NULL)
			daemon_log_docroot(srv->routes.v[i].docroot, srv->docroots[i]);
}

/* The reload verdict for `lfserver --reload`, when systemd gave a runtime directory. */
static void
daemon_verdict(struct daemon *d, uint64_t started_ns, bool ok, const char *msg)
{
	struct reloadctl_verdict v = { .started_ns = started_ns, .ok = ok };
	int r;

	if (d->rundir[0] == '\0')
		return;
	v.generation = ++d->reloads;
	snprintf(v.message, sizeof(v.message), "%s", msg);
	r = reloadctl_write(d->rundir, &v);
	if (r < 0) {
		errno = -r;
		log_warn("reload: cannot write %s/%s", d->rundir, RELOADCTL_FILE);
	}
}

static void
daemon_reload_failed(struct daemon *d, uint64_t started_ns, const char *err)
{
	struct stats_snapshot s;

	atomic_fetch_add_explicit(&d->stats->reloads_failed, 1, memory_order_relaxed);
	journal_reload_failed(d->srv, err);
	snprintf(d->reload_error, sizeof(d->reload_error), "%s", err);
	stats_total(d->stats, &s);
	daemon_status(d, &s);
	daemon_verdict(d, started_ns, false, err);
	sd_notify(0, "READY=1");
}

/*
 * A reload cannot move the listening sockets: a changed `listen` is a
 * warning, every time, and the new server keeps the address really served,
 * so that what it reports stays true. 0 or -ENOMEM.
 */
static int
daemon_listen_reload(const struct daemon *d, struct lf_config *cfg, char *err,
    size_t errlen)
{
	char addrs[512], *keep;

	if (d->ls.activated) {
		if (d->ov.listen == NULL && strcmp(cfg->listen, LF_DEFAULT_LISTEN) != 0 &&
		    !listen_serves(&d->ls, cfg->listen)) {
			listen_describe(&d->ls, addrs, sizeof(addrs));
			log_warnx("reload: listen = %s ignored: serving on %s, the "
			    "sockets systemd passed", cfg->listen, addrs);
		}
		return 0;
	}
	if (strcmp(cfg->listen, d->srv->cfg.listen) == 0)
		return 0;
	log_warnx("reload: listen changed to %s: a restart is needed to apply it; "
	    "still listening on %s", cfg->listen, d->srv->cfg.listen);
	if ((keep = strdup(d->srv->cfg.listen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	free(cfg->listen);
	cfg->listen = keep;
	return 0;
}

/*
 * WATCHDOG=1 every half period, but only while the engine shows progress
 * (engine_alive): a wedged reactor or worker pool gets the service restarted.
 */
static void
daemon_watchdog(struct daemon *d, uint64_t now)
{
	if (d->watchdog_ns == 0 || now < d->next_watchdog)
		return;
	d->next_watchdog = now + d->watchdog_ns / 2;
	if (engine_alive(d->engine)) {
		sd_notify(0, "WATCHDOG=1");
		d->watchdog_quiet = false;
	} else if (!d->watchdog_quiet) {
		log_warnx("watchdog: the engine made no progress; not pinging systemd");
		d->watchdog_quiet = true;
	}
}

static void *
daemon_drain_run(void *arg)
{
	struct daemon_drain *dr = arg;
	uint64_t one = 1;

	engine_stop(dr->engine, &dr->handoff);
	if (write(dr->donefd, &one, sizeof(one)) < 0)
		log_warn("drain: eventfd write");
	return NULL;
}

/*
 * Stops d->engine and returns its connections. The drain runs in a thread
 * while this one keeps the watchdog fed as long as the draining engine
 * progresses. A drain is bounded by construction: each worker finishes the
 * turn it is in (CONN_REQUESTS_PER_TURN requests at most, each within its
 * handler's cap), queued connections travel unserved; one that stops
 * progressing stops the watchdog. Signals wait in the signalfd meanwhile.
 */
static struct conn *
daemon_drain(struct daemon *d)
{
	struct daemon_drain dr = { .engine = d->engine, .donefd = -1 };
	struct pollfd pfd = { .events = POLLIN };
	pthread_t th;
	uint64_t now;

	dr.donefd = eventfd(0, EFD_CLOEXEC);
	if (dr.donefd < 0 || pthread_create(&th, NULL, daemon_drain_run, &dr) != 0) {
		/* no thread: drain here, without pings */
		engine_stop(d->engine, &dr.handoff);
	} else {
		pfd.fd = dr.donefd;
		for (;;) {
			now = stats_now_ns();
			daemon_watchdog(d, now);
			if (poll(&pfd, 1, d->watchdog_ns == 0 ? -1 :
			    (int)((d->next_watchdog - now) / 1000000u) + 1) > 0)
				break;
		}
		pthread_join(th, NULL);
	}
	if (dr.donefd >= 0)
		close(dr.donefd);
	engine_free(d->engine);
	d->engine = NULL;
	return dr.handoff;
}

/*
 * SIGHUP: validate the new configuration completely first; only then drain
 * the running engine, hand its idle connections to the new one and start it.
 * The listening sockets stay open throughout.
 */
static void
daemon_reload(struct daemon *d)
{
	struct lf_config cfg;
	struct server *nsrv, *osrv = d->srv;
	struct journal_reload jr;
	struct engine_params prm;
	struct stats_snapshot s;
	struct conn *handoff = NULL;
	char err[1024], addrs[512], msg[1024];
	uint64_t t0, started = stats_now_ns();
	int r;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)(started / 1000u));
	r = daemon_config(d, &cfg, err, sizeof(err));
	if (r == 0) {
		if ((cfg.admin_listen == NULL) != (osrv->cfg.admin_listen == NULL) ||
		    (cfg.admin_listen != NULL &&
		    strcmp(cfg.admin_listen, osrv->cfg.admin_listen) != 0))
			log_warnx("reload: admin_listen changed: a restart is "
			    "needed to apply it");
		r = daemon_listen_reload(d, &cfg, err, sizeof(err));
		if (r == 0)
			r = server_build(&nsrv, &cfg, d->stats, err, sizeof(err));
		config_free(&cfg);
		if (r == 0 && (r = daemon_accesslog(nsrv, d->stats, err, sizeof(err))) < 0)
			server_free(nsrv);
		if (r == 0 && server_warning(nsrv) != NULL)
			log_warnx("%s", server_warning(nsrv));
	}
	if (r < 0) {
		daemon_reload_failed(d, started, err);
		return;
	}
	jr.old_mode = osrv->cfg.mode;
	jr.old_workers = osrv->workers;
	jr.old_queue_capacity = osrv->cfg.queue_capacity;
	listen_describe(&d->ls, addrs, sizeof(addrs));
	jr.listen = addrs;
	t0 = stats_now_ns();
	handoff = daemon_drain(d);
	jr.drain_ms = (double)(stats_now_ns() - t0) / 1e6;
	prm.srv = nsrv;
	prm.lfds = d->ls.fds;
	prm.nlfds = d->ls.n;
	if (d->fault_start)
		atomic_store(&engine_fault, ENGINE_FAULT_START);
	r = engine_start(&d->engine, &prm, &handoff);
	atomic_store(&engine_fault, ENGINE_FAULT_NONE);
	if (r < 0) {
		errno = -r;
		log_warn("reload: cannot start the %s engine; restarting the old one",
		    lf_mode_name(nsrv->cfg.mode));
		snprintf(err, sizeof(err), "cannot start the %s engine: %s",
		    lf_mode_name(nsrv->cfg.mode), strerror(-r));
		server_free(nsrv);
		/* with the connections the failed start gave back */
		prm.srv = osrv;
		r = engine_start(&d->engine, &prm, &handoff);
		if (r < 0) {
			errno = -r;
			fatal("reload: cannot restart the old engine");
		}
		daemon_reload_failed(d, started, err);
		return;
	}
	d->srv = nsrv;
	server_free(osrv);
	daemon_info(d);
	d->reload_error[0] = '\0';
	daemon_log_docroots(d->srv);
	atomic_fetch_add_explicit(&d->stats->reloads, 1, memory_order_relaxed);
	stats_interval(d->stats, &d->interval, &s);
	journal_reload(d->srv, &s, &jr);
	daemon_status(d, &s);
	snprintf(msg, sizeof(msg), "reloaded %s: mode=%s, serving on %s",
	    d->srv->cfg.path ? d->srv->cfg.path : "built-in defaults",
	    lf_mode_name(d->srv->cfg.mode), addrs);
	daemon_verdict(d, started, true, msg);
	sd_notify(0, "READY=1");
}

/* LFSERVER_TEST_FAULT=engine-start | stall-reactor:MS (test suite only). */
static void
daemon_fault(struct daemon *d)
{
	const char *f = getenv("LFSERVER_TEST_FAULT");
	unsigned long ms;
	char *end;

	if (f == NULL || *f == '\0')
		return;
	if (strcmp(f, "engine-start") == 0)
		d->fault_start = true;
	else if (strncmp(f, "stall-reactor:", 14) == 0 &&
	    (ms = strtoul(f + 14, &end, 10), *end == '\0'))
		d->fault_stall_at = stats_now_ns() + (uint64_t)ms * 1000000u + 1;
	else {
		log_warnx("LFSERVER_TEST_FAULT=%s not understood: ignored", f);
		return;
	}
	log_warnx("LFSERVER_TEST_FAULT=%s: a fault for the test suite is armed", f);
}

/* When the next periodic stats entry is due; 0 when [stats] interval is 0. */
static uint64_t
daemon_next_stats(const struct daemon *d, uint64_t now)
{
	unsigned s = d->srv->cfg.stats_interval;

	return s ? now + (uint64_t)s * 1000000000u : 0;
}

static int
daemon_loop(struct daemon *d, int sfd)
{
	uint64_t watchdog_usec = 0, next_stats = 0, now, next;
	struct signalfd_siginfo si;
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	int timeout;

	if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
		watchdog_usec = 0;
	now = stats_now_ns();
	d->watchdog_ns = watchdog_usec * 1000u;
	d->next_watchdog = now;
	next_stats = daemon_next_stats(d, now);
	for (;;) {
		now = stats_now_ns();
		if (d->fault_stall_at && now >= d->fault_stall_at) {
			atomic_store(&engine_fault, ENGINE_FAULT_STALL_REACTOR);
			d->fault_stall_at = 0;
		}
		daemon_watchdog(d, now);
		if (next_stats && now >= next_stats) {
			daemon_stats_tick(d, now);
			next_stats = daemon_next_stats(d, now);
		}
		next = next_stats;
		if (d->watchdog_ns && (next == 0 || d->next_watchdog < next))
			next = d->next_watchdog;
		timeout = next == 0 ? -1 : next <= now ? 0 : (int)((next - now) / 1000000u) + 1;
		if (poll(&pfd, 1, timeout) <= 0)
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			daemon_reload(d);
			/* the interval may have changed */
			now = stats_now_ns();
			next_stats = daemon_next_stats(d, now);
			break;
		case SIGUSR1:
			daemon_stats(d, "stats");
			break;
		case SIGUSR2:
			accesslog_reopen(d->srv->alog);
			break;
		case SIGTERM:
		case SIGINT:
			return 0;
		}
	}
}

/*
 * A bad configuration at start while clients wait (the connection that made
 * systemd start us, or connections from the fd store). Exiting would only
 * make the socket unit start lfserver again at once, for the same waiting
 * client, until systemd's start limit fails the socket: the site would be
 * down until someone restarts lfserver.socket. So lfserver stays, accepting
 * nothing (the clients wait in the backlog), says why in STATUS=, and
 * rereads the configuration on SIGHUP (`systemctl reload`, which reports the
 * verdict) and every HOLD_RETRY_NS. 0 once it is valid (d->srv built), or
 * EX_CONFIG when told to stop first.
 */
static int
daemon_hold(struct daemon *d, int sfd, char *err, size_t errlen)
{
	uint64_t watchdog_usec = 0, now, next_retry, next_watchdog = 0, next, started;
	struct signalfd_siginfo si;
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	char last[1024];
	bool retry;
	int r;

	if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
		watchdog_usec = 0;
	log_warnx("clients are waiting: not serving until the configuration is "
	    "valid (systemctl reload lfserver, or a retry every %llu s)",
	    HOLD_RETRY_NS / 1000000000ull);
	sd_notifyf(0, "READY=1\nSTATUS=configuration error, not serving: %s", err);
	snprintf(last, sizeof(last), "%s", err);
	now = stats_now_ns();
	next_retry = now + HOLD_RETRY_NS;
	for (;;) {
		now = stats_now_ns();
		if (watchdog_usec && now >= next_watchdog) {
			sd_notify(0, "WATCHDOG=1");
			next_watchdog = now + watchdog_usec * 1000u / 2;
		}
		next = next_retry;
		if (watchdog_usec && next_watchdog < next)
			next = next_watchdog;
		retry = false;
		started = 0;
		if (poll(&pfd, 1, next <= now ? 0 : (int)((next - now) / 1000000u) + 1) > 0 &&
		    read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				sd_notify(0, "STOPPING=1");
				return EX_CONFIG;
			}
			if (si.ssi_signo == SIGHUP) {
				retry = true;
				started = stats_now_ns();
			}
		}
		if (!retry && stats_now_ns() < next_retry)
			continue;
		next_retry = stats_now_ns() + HOLD_RETRY_NS;
		r = daemon_build(d, &d->srv, err, errlen);
		if (r == 0) {
			log_info("the configuration is valid now: serving");
			if (started)
				daemon_verdict(d, started, true, "configuration valid: serving");
			return 0;
		}
		if (started)
			daemon_verdict(d, started, false, err);
		if (strcmp(err, last) != 0 || started) {
			log_errx("%s", err);
			sd_notifyf(0, "STATUS=configuration error, not serving: %s", err);
			snprintf(last, sizeof(last), "%s", err);
		}
	}
}

/* One line saying what is wrong, one pointing at --help: not the whole usage. */
static int __attribute__((format(printf, 1, 2)))
main_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lfserver: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'lfserver --help' for more information.\n");
	return EX_USAGE;
}

/*
 * `lfserver --reload[=PID]`, systemd's ExecReload=: signals the daemon and
 * exits with its verdict (see reloadctl.h).
 */
static int
main_reload(const char *pidarg)
{
	struct reloadctl_verdict v;
	char buf[4096], *end;
	const char *dir;
	long pid;
	int r;

	if (pidarg == NULL)
		pidarg = getenv("MAINPID");
	if (pidarg == NULL || pidarg[0] == '\0')
		return main_usage_error("--reload: no PID given and $MAINPID is not "
		    "set (systemd sets it for ExecReload=)");
	errno = 0;
	pid = strtol(pidarg, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 1)
		return main_usage_error("--reload: '%s' is not a process id", pidarg);
	dir = reloadctl_dir(buf, sizeof(buf));
	if (dir == NULL)
		dir = DEFAULT_RUNDIR;
	r = reloadctl_request((pid_t)pid, dir, RELOAD_WAIT_MS, &v);
	if (r == -ETIMEDOUT) {
		log_errx("reload: no verdict from pid %ld in %s/%s after %u s", pid,
		    dir, RELOADCTL_FILE, RELOAD_WAIT_MS / 1000);
		return 1;
	}
	if (r < 0) {
		log_errx("reload: cannot signal pid %ld: %s", pid, strerror(-r));
		return 1;
	}
	if (!v.ok) {
		log_errx("reload failed, old configuration kept: %s", v.message);
		return 1;
	}
	printf("lfserver: %s\n", v.message);
	return 0;
}

/* The command line into D. -1 to go on, else the exit status. */
static int
main_options(struct daemon *d, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "queue-capacity", required_argument, NULL, 'q' },
		{ "listen", required_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "reload", optional_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:m:w:q:l:tdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d->config_path = optarg;
			d->config_explicit = true;
			break;
		case 'm': d->ov.mode = optarg; break;
		case 'w': d->ov.workers = optarg; break;
		case 'q': d->ov.queue_capacity = optarg; break;
		case 'l': d->ov.listen = optarg; break;
		case 't': d->check = true; break;
		case 'd': d->debug = true; break;
		case 'R':
			d->reload = true;
			d->reload_pid = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("lfserver %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			return main_usage_error("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				return main_usage_error("unknown option '-%c'", optopt);
			return main_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return main_usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
}

/* Every thread inherits this mask: signals reach only the returned signalfd. */
static int
main_signals(void)
{
	sigset_t mask;
	int sfd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
		fatalx("cannot block signals");
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		fatal("signalfd");
	return sfd;
}

/* The listening sockets: bound from the settings, or checked against them. */
static void
daemon_listen(struct daemon *d)
{
	char err[1024], addrs[512];

	if (!d->ls.activated) {
		if (listen_bind(&d->ls, d->srv->cfg.listen, err, sizeof(err)) < 0)
			fatalx("%s", err);
		return;
	}
	if (d->ov.listen != NULL)
		log_warnx("--listen %s ignored: systemd passed the listening sockets",
		    d->ov.listen);
	else if (strcmp(d->srv->cfg.listen, LF_DEFAULT_LISTEN) != 0 &&
	    !listen_serves(&d->ls, d->srv->cfg.listen)) {
		listen_describe(&d->ls, addrs, sizeof(addrs));
		log_warnx("%s: listen = %s ignored: serving on %s, the sockets "
		    "systemd passed (lfserver.socket's ListenStream=)",
		    d->srv->cfg.path ? d->srv->cfg.path : "(defaults)",
		    d->srv->cfg.listen, addrs);
	}
}

/* Starts the engine on the sockets, with the connections from the fd store. */
static void
daemon_start(struct daemon *d)
{
	struct engine_params prm = { d->srv, d->ls.fds, d->ls.n };
	struct stats_snapshot s;
	struct conn *adopt;
	char addrs[512];
	size_t taken;
	int r;

	daemon_info(d);
	daemon_admin_start(d);
	adopt = fdstore_take(d->ls.conns, d->ls.nconns, stats_shard(d->stats, 0), &taken);
	if (d->ls.nconns > 0)
		log_info("adopted %zu connections from systemd's fd store", taken);
	r = engine_start(&d->engine, &prm, &adopt);
	if (r < 0) {
		errno = -r;
		fatal("cannot start the %s engine", lf_mode_name(d->srv->cfg.mode));
	}
	daemon_fault(d);
	listen_describe(&d->ls, addrs, sizeof(addrs));
	if (d->srv->cfg.mode == LF_MODE_TPC)
		log_info("serving on %s%s (%s): mode=%s", addrs,
		    d->ls.activated ? " (from systemd)" : "",
		    d->srv->cfg.path ? d->srv->cfg.path : "built-in defaults",
		    lf_mode_name(d->srv->cfg.mode));
	else
		log_info("serving on %s%s (%s): mode=%s workers=%u reactors=%u "
		    "queue_capacity=%u", addrs,
		    d->ls.activated ? " (from systemd)" : "",
		    d->srv->cfg.path ? d->srv->cfg.path : "built-in defaults",
		    lf_mode_name(d->srv->cfg.mode), d->srv->workers,
		    d->srv->reactors, d->srv->cfg.queue_capacity);
	daemon_log_docroots(d->srv);
	stats_interval(d->stats, &d->interval, &s);
	journal_stats("start", d->srv, &s);
	d->last_entry_ns = stats_now_ns();
	daemon_status(d, &s);
	sd_notify(0, "READY=1");
}

/*
 * Drains the engine (the watchdog fed meanwhile, see daemon_drain), then
 * hands its idle keep-alive connections to systemd's fd store (see
 * fdstore.h) for the next lfserver, if there is one.
 */
static void
daemon_stop(struct daemon *d)
{
	struct conn *idle, *c;
	size_t n = 0, stored;
	int r;

	sd_notify(0, "STOPPING=1");
	idle = daemon_drain(d);
	for (c = idle; c != NULL; c = c->next)
		n++;
	r = fdstore_put(&idle, stats_shard(d->stats, 0), &stored);
	if (r < 0) {
		errno = -r;
		log_warn("stop: cannot hand connections to systemd's fd store");
	}
	if (n > 0 && getenv("NOTIFY_SOCKET") != NULL)
		log_info("stop: %zu idle connections kept in systemd's fd store, "
		    "%zu closed", stored, n - stored);
	daemon_stats(d, "stop");
	daemon_admin_stop(d);
}

/*
 * A bad configuration at start: EX_CONFIG at once, unless clients already
 * wait (see daemon_hold). 0 once the configuration is valid.
 */
static int
daemon_bad_start(struct daemon *d, int sfd, char *err, size_t errlen)
{
	/* at priority err, so that `systemctl status` and `journalctl -p err` show it */
	log_errx("%s", err);
	if ((!d->ls.activated && d->ls.nadmin == 0) ||
	    (d->ls.nconns == 0 && !listen_pending(&d->ls)))
		return EX_CONFIG;
	return daemon_hold(d, sfd, err, errlen);
}

int
main(int argc, char **argv)
{
	struct daemon d = { .config_path = DEFAULT_CONFIG };
	char err[1024];
	int sfd, r;

	r = main_options(&d, argc, argv);
	if (r >= 0)
		return r;
	log_init(d.debug);
	if (d.reload)
		return main_reload(d.reload_pid);
	/* before any thread starts (the access log's writer starts in daemon_build) */
	sfd = main_signals();
	if (stats_create(&d.stats) < 0)
		fatalx("out of memory");
	r = daemon_build(&d, &d.srv, err, sizeof(err));
	if (r == 0 && server_warning(d.srv) != NULL)
		log_warnx("%s", server_warning(d.srv));
	if (d.check) {
		if (r < 0)
			log_errx("%s", err);
		else
			printf("%s: configuration OK\n", d.srv->cfg.path ?
			    d.srv->cfg.path : "(built-in defaults)");
		server_free(d.srv);
		stats_free(d.stats);
		close(sfd);
		return r < 0 ? EX_CONFIG : 0;
	}
	if (reloadctl_dir(d.rundir, sizeof(d.rundir)) == NULL)
		d.rundir[0] = '\0';
	if (listen_passed(&d.ls, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (r < 0 && (r = daemon_bad_start(&d, sfd, err, sizeof(err))) != 0) {
		listen_fini(&d.ls);
		close(sfd);
		stats_free(d.stats);
		return r;
	}
	daemon_listen(&d);
	daemon_start(&d);
	daemon_loop(&d, sfd);
	daemon_stop(&d);
	listen_fini(&d.ls);
	close(sfd);
	server_free(d.srv);
	stats_free(d.stats);
	return 0;
}
