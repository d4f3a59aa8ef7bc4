/*
 * observe.h - what is recorded when a request has been answered: its
 * counters (by route and status class, latency) and, when on, its access
 * log line. The one call conn.c makes for it.
 */
#ifndef LF_OBSERVE_H
#define LF_OBSERVE_H

#include <stdint.h>

struct conn_worker;
struct http_request;
struct response;

/* REQ on socket FD was answered with RESP; T0 is when it became readable. */
void observe_request(const struct conn_worker *w, int fd,
    const struct http_request *req, const struct response *resp, uint64_t t0);

#endif
