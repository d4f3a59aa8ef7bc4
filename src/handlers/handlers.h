/*
 * handlers.h - the request handlers (the original study's four workloads plus
 * /stats) and the response they fill in.
 *
 * A handler never does socket I/O: it sets a status and a body that points
 * either at long-lived data (the docroot cache) or into the response's own
 * small buffer. A status >= 400 without a body gets the standard error page.
 */
#ifndef LF_HANDLERS_H
#define LF_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "routes.h"
#include "server.h"

struct response {
	int		 status;
	const char	*content_type;
	const char	*body;
	size_t		 body_len;
	const char	*etag;		/* quoted entity tag, or NULL */
	const struct route *route;	/* the route that matched, or NULL */
	char		 buf[1024];
};

/* Path is the normalised request path. */
typedef void (*handler_fn)(const struct server *, const struct route *,
    const struct http_request *, const char *path, size_t path_len,
    struct response *);

void handler_static(const struct server *, const struct route *,
    const struct http_request *, const char *, size_t, struct response *);
void handler_cpu(const struct server *, const struct route *,
    const struct http_request *, const char *, size_t, struct response *);
void handler_io(const struct server *, const struct route *,
    const struct http_request *, const char *, size_t, struct response *);
void handler_mixed(const struct server *, const struct route *,
    const struct http_request *, const char *, size_t, struct response *);
void handler_stats(const struct server *, const struct route *,
    const struct http_request *, const char *, size_t, struct response *);

/* The cpu and io workloads with a given parameter (no query string). */
void handler_cpu_run(uint64_t n, struct response *resp);
void handler_io_run(uint64_t ms, struct response *resp);

/* Counts primes <= N by trial division: deterministic CPU work (10000 -> 1229). */
unsigned long primes_count(unsigned long n);

/*
 * Reads the integer query parameter NAME (0..MAX) into *VAL, which keeps its
 * default when the parameter is absent. A malformed or too large value sets
 * a 400 response naming the range and returns false.
 */
bool handler_param(const struct http_request *req, const char *name,
    unsigned max, uint64_t *val, struct response *resp);

/* Sets a text/plain body formatted into resp->buf. */
void response_printf(struct response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
