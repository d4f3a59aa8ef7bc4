/*
 * journal.h - lfserver's structured events: one journal entry each (MESSAGE
 * plus LF_* fields) through sd_journal_send when stderr is the journal, else
 * the same facts as one line on stderr. The only module that talks to
 * sd_journal_send.
 */
#ifndef LF_JOURNAL_H
#define LF_JOURNAL_H

#include "lfconfig.h"
#include "stats.h"

struct server;

/* What a reload event adds. */
struct journal_reload {
	enum lf_mode	old_mode;
	unsigned	old_workers;
	unsigned	old_queue_capacity;
	double		drain_ms;
	const char	*listen;	/* the addresses served, "127.0.0.1:7878, ..." */
};

/* EVENT: "start", "stats", "stop". */
void journal_stats(const char *event, const struct server *srv,
    const struct stats_snapshot *s);
void journal_reload(const struct server *srv, const struct stats_snapshot *s,
    const struct journal_reload *r);
void journal_reload_failed(const struct server *srv, const char *error);
/* One access log entry (accesslog.c): IOV holds "FIELD=value" items. 0 or -errno. */
struct iovec;
int journal_sendv(const struct iovec *iov, int n);
/* The sd_notify STATUS= text for SRV and S. */
void journal_status(char *buf, size_t len, const struct server *srv,
    const struct stats_snapshot *s);

#endif
