/*
 * journal.c - structured events to the journal or stderr; see journal.h.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>

#include <systemd/sd-journal.h>

#include "journal.h"
#include "log.h"
#include "server.h"

#define ULL(x)	((unsigned long long)(x))

/* "mode=lockfree workers=2 queue_capacity=64 requests=10 rps=1.0 ..." */
static void
journal_facts(char *buf, size_t len, const struct server *srv,
    const struct stats_snapshot *s)
{
	snprintf(buf, len, "mode=%s workers=%u queue_capacity=%u requests=%llu "
	    "rps=%.1f errors=%llu connections=%llu queue_full=%llu p50_us=%llu "
	    "p99_us=%llu max_us=%llu", lf_mode_name(srv->cfg.mode), srv->workers,
	    srv->cfg.queue_capacity, ULL(s->requests), s->rps, ULL(s->errors),
	    ULL(s->connections), ULL(s->queue_full), ULL(s->p50_us), ULL(s->p99_us),
	    ULL(s->max_us));
}

void
journal_status(char *buf, size_t len, const struct server *srv,
    const struct stats_snapshot *s)
{
	/* thread-per-connection has neither workers nor a queue to show */
	if (srv->cfg.mode == LF_MODE_TPC)
		snprintf(buf, len, "mode=%s | requests=%llu rps=%.1f p99=%lluus",
		    lf_mode_name(srv->cfg.mode), ULL(s->requests), s->rps,
		    ULL(s->p99_us));
	else
		snprintf(buf, len, "mode=%s workers=%u queue=%u | requests=%llu "
		    "rps=%.1f p99=%lluus", lf_mode_name(srv->cfg.mode), srv->workers,
		    srv->cfg.queue_capacity, ULL(s->requests), s->rps, ULL(s->p99_us));
}

#define LF_FIELDS(srv, s)						\
	"LF_MODE=%s", lf_mode_name((srv)->cfg.mode),			\
	"LF_WORKERS=%u", (srv)->workers,				\
	"LF_QUEUE_CAPACITY=%u", (srv)->cfg.queue_capacity,		\
	"LF_REQUESTS=%llu", ULL((s)->requests),				\
	"LF_RPS=%.1f", (s)->rps,					\
	"LF_ERRORS=%llu", ULL((s)->errors),				\
	"LF_CONNECTIONS=%llu", ULL((s)->connections),			\
	"LF_QUEUE_FULL=%llu", ULL((s)->queue_full),			\
	"LF_P50_US=%llu", ULL((s)->p50_us),				\
	"LF_P99_US=%llu", ULL((s)->p99_us),				\
	"LF_MAX_US=%llu", ULL((s)->max_us)

void
journal_stats(const char *event, const struct server *srv,
    const struct stats_snapshot *s)
{
	char facts[512];

	journal_facts(facts, sizeof(facts), srv, s);
	if (!log_to_journal()) {
		fprintf(stderr, "lfserver: %s: %s\n", event, facts);
		return;
	}
	sd_journal_send("MESSAGE=%s: %s", event, facts, "PRIORITY=6",
	    "LF_EVENT=%s", event, LF_FIELDS(srv, s), NULL);
}

void
journal_reload(const struct server *srv, const struct stats_snapshot *s,
    const struct journal_reload *r)
{
	char what[256], facts[512];
	bool tpc = srv->cfg.mode == LF_MODE_TPC, old_tpc = r->old_mode == LF_MODE_TPC;

	/* thread-per-connection has neither workers nor a queue: claim no change */
	if (tpc || old_tpc)
		snprintf(what, sizeof(what), "%s -> %s", lf_mode_name(r->old_mode),
		    lf_mode_name(srv->cfg.mode));
	else
		snprintf(what, sizeof(what), "%s -> %s, workers %u -> %u, queue %u -> %u",
		    lf_mode_name(r->old_mode), lf_mode_name(srv->cfg.mode),
		    r->old_workers, srv->workers, r->old_queue_capacity,
		    srv->cfg.queue_capacity);
	if (!log_to_journal()) {
		/* the words for people, then the facts for scripts (drain_ms=...) */
		journal_facts(facts, sizeof(facts), srv, s);
		fprintf(stderr, "lfserver: reload: %s, serving on %s, drained in %.1f ms; "
		    "old_mode=%s drain_ms=%.1f %s\n", what, r->listen, r->drain_ms,
		    lf_mode_name(r->old_mode), r->drain_ms, facts);
		return;
	}
	sd_journal_send("MESSAGE=reload: %s, serving on %s, drained in %.1f ms", what,
	    r->listen, r->drain_ms, "PRIORITY=5", "LF_EVENT=reload", LF_FIELDS(srv, s),
	    "LF_OLD_MODE=%s", lf_mode_name(r->old_mode),
	    "LF_OLD_WORKERS=%u", r->old_workers,
	    "LF_OLD_QUEUE_CAPACITY=%u", r->old_queue_capacity,
	    "LF_LISTEN=%s", r->listen,
	    "LF_DRAIN_MS=%.1f", r->drain_ms, NULL);
}

int
journal_sendv(const struct iovec *iov, int n)
{
	return sd_journal_sendv(iov, n);
}

void
journal_reload_failed(const struct server *srv, const char *error)
{
	if (!log_to_journal()) {
		fprintf(stderr, "lfserver: reload_failed: %s (still serving mode=%s "
		    "workers=%u queue_capacity=%u)\n", error, lf_mode_name(srv->cfg.mode),
		    srv->workers, srv->cfg.queue_capacity);
		return;
	}
	sd_journal_send("MESSAGE=reload failed, old configuration kept: %s", error,
	    "PRIORITY=3", "LF_EVENT=reload_failed", "LF_ERROR=%s", error,
	    "LF_MODE=%s", lf_mode_name(srv->cfg.mode), "LF_WORKERS=%u", srv->workers,
	    "LF_QUEUE_CAPACITY=%u", srv->cfg.queue_capacity, NULL);
}
