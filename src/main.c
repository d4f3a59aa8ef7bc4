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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "accesslog.h"
#include "admin.h"
#include "conn.h"
#include "engine.h"
#include "journal.h"
#include "lfconfig.h"
#include "listen.h"
#include "log.h"
#include "server.h"
#include "stats.h"

#define DEFAULT_CONFIG	LF_DEFAULT_CONFIG_PATH

/* Command-line settings: they override the file, at start and on reload. */
struct overrides {
	const char	*mode, *workers, *queue_capacity, *listen;
};

struct daemon {
	const char		*config_path;
	bool			 config_explicit;
	struct overrides	 ov;
	struct stats		*stats;
	struct stats_interval_state interval;
	struct server		*srv;
	struct engine		*engine;
	int			*lfds;
	size_t			 nlfds;
	bool			 activated;
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
"  -q, --queue-capacity N     bounded queue capacity, >= 1 (default 8)\n"
"  -l, --listen ADDR:PORT     address to bind without socket activation\n"
"                             (default 127.0.0.1:7878; [IPV6]:PORT, *:PORT)\n"
"  -t, --check-config         validate the configuration and exit\n"
"  -d, --debug                log each connection's accept, requests and close\n"
"  -h, --help                 this help\n"
"  -V, --version              print the version\n"
"\n"
"Options override the file, on reload too. Signals: HUP reloads (drains the\n"
"engine and rebuilds it), TERM/INT stop gracefully, USR1 logs the stats,\n"
"USR2 reopens the access log file.\n"
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

static void
daemon_status(struct daemon *d, const struct stats_snapshot *s)
{
	char status[256];

	journal_status(status, sizeof(status), d->srv, s);
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
	char err[1024];
	uint64_t t0;
	int r;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)(stats_now_ns() / 1000u));
	r = daemon_config(d, &cfg, err, sizeof(err));
	if (r == 0 && strcmp(cfg.listen, osrv->cfg.listen) != 0) {
		/* not applied, so not stored: the next reload warns again */
		if (d->activated)
			log_warnx("reload: listen %s ignored: systemd passed the "
			    "listening sockets", cfg.listen);
		else
			log_warnx("reload: listen changed to %s: a restart is needed "
			    "to apply it; still listening on %s", cfg.listen,
			    osrv->cfg.listen);
		r = config_set(&cfg, "server", "listen", osrv->cfg.listen, NULL,
		    err, sizeof(err));
		if (r < 0)
			config_free(&cfg);
	}
	if (r == 0) {
		if ((cfg.admin_listen == NULL) != (osrv->cfg.admin_listen == NULL) ||
		    (cfg.admin_listen != NULL &&
		    strcmp(cfg.admin_listen, osrv->cfg.admin_listen) != 0))
			log_warnx("reload: admin_listen changed: a restart is "
			    "needed to apply it");
		r = server_build(&nsrv, &cfg, d->stats, err, sizeof(err));
		config_free(&cfg);
		if (r == 0 && (r = daemon_accesslog(nsrv, d->stats, err, sizeof(err))) < 0)
			server_free(nsrv);
		if (r == 0 && server_warning(nsrv) != NULL)
			log_warnx("%s", server_warning(nsrv));
	}
	if (r < 0) {
		atomic_fetch_add_explicit(&d->stats->reloads_failed, 1, memory_order_relaxed);
		journal_reload_failed(osrv, err);
		sd_notify(0, "READY=1");
		return;
	}
	jr.old_mode = osrv->cfg.mode;
	jr.old_workers = osrv->workers;
	jr.old_queue_capacity = osrv->cfg.queue_capacity;
	t0 = stats_now_ns();
	handoff = daemon_drain(d);
	jr.drain_ms = (double)(stats_now_ns() - t0) / 1e6;
	prm.srv = nsrv;
	prm.lfds = d->lfds;
	prm.nlfds = d->nlfds;
	if (d->fault_start)
		atomic_store(&engine_fault, ENGINE_FAULT_START);
	r = engine_start(&d->engine, &prm, &handoff);
	atomic_store(&engine_fault, ENGINE_FAULT_NONE);
	if (r < 0) {
		errno = -r;
		log_warn("reload: cannot start the %s engine; restarting the old one",
		    lf_mode_name(nsrv->cfg.mode));
		server_free(nsrv);
		/* with the connections the failed start gave back */
		prm.srv = osrv;
		r = engine_start(&d->engine, &prm, &handoff);
		if (r < 0) {
			errno = -r;
			fatal("reload: cannot restart the old engine");
		}
		atomic_fetch_add_explicit(&d->stats->reloads_failed, 1, memory_order_relaxed);
		journal_reload_failed(osrv, "cannot start the new engine");
		sd_notify(0, "READY=1");
		return;
	}
	d->srv = nsrv;
	server_free(osrv);
	daemon_info(d);
	atomic_fetch_add_explicit(&d->stats->reloads, 1, memory_order_relaxed);
	stats_interval(d->stats, &d->interval, &s);
	journal_reload(d->srv, &s, &jr);
	daemon_status(d, &s);
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
			daemon_stats(d, "stats");
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

int
main(int argc, char **argv)
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
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .config_path = DEFAULT_CONFIG };
	struct engine_params prm;
	struct lf_config cfg;
	struct stats_snapshot s;
	bool check = false, debug = false;
	char err[1024];
	sigset_t mask;
	int ch, sfd, r;

	while ((ch = getopt_long(argc, argv, "c:m:w:q:l:tdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.config_path = optarg;
			d.config_explicit = true;
			break;
		case 'm': d.ov.mode = optarg; break;
		case 'w': d.ov.workers = optarg; break;
		case 'q': d.ov.queue_capacity = optarg; break;
		case 'l': d.ov.listen = optarg; break;
		case 't': check = true; break;
		case 'd': debug = true; break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("lfserver %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lfserver: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	log_init(debug);
	if (stats_create(&d.stats) < 0)
		fatalx("out of memory");
	if (daemon_config(&d, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	r = server_build(&d.srv, &cfg, d.stats, err, sizeof(err));
	config_free(&cfg);
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (server_warning(d.srv) != NULL)
		log_warnx("%s", server_warning(d.srv));
	if (check) {
		printf("%s: configuration OK\n", d.srv->cfg.path ? d.srv->cfg.path :
		    "(built-in defaults)");
		server_free(d.srv);
		stats_free(d.stats);
		return 0;
	}

	/* every thread inherits this mask: signals reach only the signalfd */
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

	if (daemon_accesslog(d.srv, d.stats, err, sizeof(err)) < 0)
		fatalx("%s", err);
	daemon_info(&d);
	daemon_admin_start(&d);
	if (listen_open(d.srv->cfg.listen, &d.lfds, &d.nlfds, &d.activated, err,
	    sizeof(err)) < 0)
		fatalx("%s", err);
	if (d.activated && d.ov.listen != NULL)
		log_warnx("--listen ignored: systemd passed the listening sockets");
	prm.srv = d.srv;
	prm.lfds = d.lfds;
	prm.nlfds = d.nlfds;
	r = engine_start(&d.engine, &prm, NULL);
	if (r < 0) {
		errno = -r;
		fatal("cannot start the %s engine", lf_mode_name(d.srv->cfg.mode));
	}
	daemon_fault(&d);
	log_info("serving on %s (%s): mode=%s workers=%u queue_capacity=%u",
	    d.activated ? "sockets from systemd" : d.srv->cfg.listen,
	    d.srv->cfg.path ? d.srv->cfg.path : "built-in defaults",
	    lf_mode_name(d.srv->cfg.mode), d.srv->workers, d.srv->cfg.queue_capacity);
	stats_interval(d.stats, &d.interval, &s);
	journal_stats("start", d.srv, &s);
	daemon_status(&d, &s);
	sd_notify(0, "READY=1");

	daemon_loop(&d, sfd);

	sd_notify(0, "STOPPING=1");
	engine_stop(d.engine, NULL);
	engine_free(d.engine);
	daemon_stats(&d, "stop");
	daemon_admin_stop(&d);
	listen_close(d.lfds, d.nlfds);
	close(sfd);
	server_free(d.srv);
	stats_free(d.stats);
	return 0;
}
