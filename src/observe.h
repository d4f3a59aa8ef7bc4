/*
 * observe.h - what is recorded when a request has been answered: its
 * counters (by route and status class, latency) and, when on, its access
 * log line. The one call conn.c makes for it.
 */
#ifndef LF_OBSERVE_H
#define LF_OBSERVE_H

#include <stdint.h>

#include <stddef.h>

struct conn;
struct conn_worker;
struct http_request;
struct response;
struct server;
struct stats_shard;

/*
 * REQ on connection C was answered with RESP; T0 is when it became readable.
 * Called before the response is written, so that a client holding its
 * response always finds it counted when it scrapes /metrics next.
 */
void observe_request(const struct conn_worker *w, struct conn *c,
    const struct http_request *req, const struct response *resp, uint64_t t0);
/*
 * A request refused before it was parsed whole (the parser's 400, 414, 431,
 * 501, 505..., 408 at a timeout, 503 when no thread can serve it), answered
 * with STATUS after US microseconds. BUF[0..LEN) is what arrived of it (may
 * be empty): its first line goes into the access log. Also called before
 * the write. C's client address is kept in it for the next line.
 */
void observe_refused(const struct server *srv, struct stats_shard *sh,
    struct conn *c, const char *buf, size_t len, int status, uint64_t us);

#endif
