/*
 * metrics.h - the stats as the outside world reads them: the Prometheus text
 * exposition format 0.0.4 (GET /metrics) and the JSON of GET /stats. Both
 * read only the summed shards (stats.h), so a scrape costs the workers
 * nothing but the cache lines it reads.
 */
#ifndef LF_METRICS_H
#define LF_METRICS_H

#include <stddef.h>

#include "stats.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/*
 * The Prometheus exposition of S into *OUT (malloc'ed, *LEN bytes, not NUL
 * terminated), with the process metrics of the calling process. 0 or -ENOMEM.
 */
int metrics_prometheus(struct stats *s, char **out, size_t *len);
/*
 * The /stats JSON object (one line) for S and the configuration INFO into
 * BUF. Returns its length, or -1 when CAP is too small.
 */
int metrics_json(char *buf, size_t cap, struct stats *s,
    const struct stats_info *info);

#endif
