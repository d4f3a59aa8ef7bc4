/*
 * admin.h - the admin listener: GET /metrics (Prometheus) and GET /stats
 * (JSON) for operators, on its own sockets (lfserver-admin.socket, or the
 * `admin_listen` setting), kept off the public port. Anything else is 404.
 *
 * One small thread with a poll loop serves it, apart from the engines: it
 * works the same in every mode, lives across reloads, and a scrape never
 * waits for (or holds) a worker. One request per connection, each with a
 * deadline, a bounded number at a time.
 */
#ifndef LF_ADMIN_H
#define LF_ADMIN_H

#include <stddef.h>

struct admin;
struct stats;

/*
 * Serves the listening sockets FDS (non-blocking; they stay the caller's)
 * with the counters of S. 0 or -errno.
 */
int admin_start(struct admin **out, const int *fds, size_t n, struct stats *s);
/* Stops the thread and closes its client connections. Accepts NULL. */
void admin_stop(struct admin *a);

#endif
