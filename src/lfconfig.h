/*
 * lfconfig.h - lfserver's settings: /etc/lfserver.ini read with inih.
 *
 * (Named lfconfig.h because config.h is autoconf's generated header.)
 * A config is parsed into a fresh struct and only swapped in by the caller
 * when it is valid, so a bad file never disturbs a running server.
 * Every error message has the form "FILE:LINE: key 'KEY': problem" (or
 * "FILE: problem" when no line applies), ready to print as is.
 */
#ifndef LF_CONFIG_H
#define LF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum lf_mode {
	LF_MODE_LOCKFREE,
	LF_MODE_LOCKED,
	LF_MODE_TPC,		/* thread-per-connection */
	LF_MODE_SEQUENTIAL,
};

#define LF_WORKERS_MAX		1024
#define LF_REACTORS_MAX		64
#define LF_QUEUE_CAPACITY_MAX	(1u << 20)
#define LF_MAX_CONNECTIONS_MAX	1000000
#define LF_TIMEOUT_MAX_S	3600
#define LF_STATS_INTERVAL_MAX_S	86400
#define LF_WORKER_SPIN_AUTO	(-1)	/* worker_spin_us = auto */
#define LF_WORKER_SPIN_US_MAX	10000

#define LF_DEFAULT_LISTEN		"127.0.0.1:7878"
#define LF_DEFAULT_QUEUE_CAPACITY	64
#define LF_DEFAULT_KEEPALIVE_S		5
#define LF_DEFAULT_REQUEST_TIMEOUT_S	10
#define LF_DEFAULT_MAX_CONNECTIONS	10000
#define LF_DEFAULT_STATS_INTERVAL_S	10
#define LF_DEFAULT_STATIC_MEMORY_MAX	(256u << 10)
#define LF_STATIC_MEMORY_MAX_MAX	(64u << 20)

#ifdef SYSCONFDIR
#define LF_DEFAULT_CONFIG_PATH		SYSCONFDIR "/lfserver.ini"
#endif

enum lf_log_format {
	LF_LOG_COMBINED,	/* nginx's and Apache's "combined" */
	LF_LOG_JSON,		/* one JSON object per line */
};

struct lf_config {
	char		*path;			/* file read; NULL: built-in defaults */
	enum lf_mode	 mode;			/* [server] mode, default lockfree */
	unsigned	 workers;		/* [server] workers, 0 = usable CPUs (default 0) */
	unsigned	 queue_capacity;	/* [server] queue_capacity, >= 1, default 64 */
	unsigned	 reactors;		/* [server] reactors, 0 = auto (engine_pool.c) */
	int		 worker_spin_us;	/* [server] 0..10000, LF_WORKER_SPIN_AUTO (default): spin_plan */
	char		*listen;		/* [server] listen, "ADDR:PORT" or "[V6]:PORT" */
	char		*docroot;		/* [server] docroot; NULL: built-in page */
	char		*routes;		/* [server] routes (libconfig file); NULL: built-in table */
	unsigned	 keepalive_timeout;	/* [server] seconds, 1..3600, default 5 */
	unsigned	 request_timeout;	/* [server] seconds, 1..3600, default 10 */
	unsigned	 max_connections;	/* [server] 1..1000000, default 10000 */
	unsigned	 stats_interval;	/* [stats] interval, seconds, 0 = off, default 10 */
	/* static files (docroot.h) */
	unsigned	 static_memory_max;	/* [server] bytes, 0..64 MiB, default 256 KiB */
	char		*cache_control;		/* [server] Cache-Control value; NULL: none */
	char		*mime_types;		/* [server] mime.types file; NULL: /etc/mime.types if present */
	bool		 docroot_watch;		/* [server] follow docroot changes, default yes */
	bool		 public_stats;		/* [server] public_stats: /stats on the public port, default off */
	char		*admin_listen;		/* [server] admin_listen: ADDR:PORT or /unix/path; NULL: none */
	char		*access_log;		/* [server] access_log: NULL = off, "journal", or an absolute path */
	enum lf_log_format access_log_format;	/* [server] access_log_format, default combined */
};

/* "lockfree", "locked", "thread-per-connection", "sequential" */
const char *lf_mode_name(enum lf_mode m);
/* Accepts the four names and the study's numbers "1", "2", "3". 0 or -EINVAL. */
int lf_mode_parse(const char *s, enum lf_mode *out);

/*
 * libconfig (routes.c) exports a config_init() of its own; linked into one
 * program, ours would silently replace it. The macro gives ours a different
 * symbol. A file that includes both headers includes this one last and
 * #undefs config_init to call libconfig's.
 */
#define config_init	lfconfig_init

/* Fills the built-in defaults (strings are strdup'ed). */
void config_init(struct lf_config *c);
/*
 * Reads PATH over the values already in C. If OPTIONAL and the file does not
 * exist, C is left with its defaults and 0 is returned. Otherwise a missing or
 * unreadable file, an unknown section or key, a key set twice, a malformed or
 * out-of-range value is an error: returns -errno / -EINVAL with the message
 * (the first error only) in ERR, and C is left as it was. Relative docroot
 * and routes paths are resolved against PATH's directory and stored absolute.
 */
int config_load(struct lf_config *c, const char *path, bool optional,
    char *err, size_t errlen);
/*
 * Sets one key with the same validation as the file; ORIGIN names where the
 * value came from in error messages ("--workers: value 'x' is not a number
 * (...)"; NULL: "key 'workers': ..."). C is unchanged on error. 0, -EINVAL
 * or -ENOMEM. Relative docroot and routes paths are taken from the working
 * directory.
 */
int config_set(struct lf_config *c, const char *section, const char *key,
    const char *value, const char *origin, char *err, size_t errlen);
/* Deep copy into DST (overwritten, not freed first); 0 or -ENOMEM. */
int config_copy(struct lf_config *dst, const struct lf_config *src);
/* Frees the strings; accepts NULL and a zeroed struct. */
void config_free(struct lf_config *c);

/*
 * Parses a `listen` value: "A.B.C.D:PORT", "[IPv6]:PORT" or "*:PORT" (all
 * IPv4 addresses, as nginx reads it; "[::]:PORT" is the IPv6 wildcard).
 * PORT is 1..65535. 0 or -EINVAL; SS/SSLEN may be NULL to only validate.
 */
int config_listen_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen);
/*
 * PATH made absolute: as is when it begins with '/', else relative to the
 * directory of the file RELTO (relative to the working directory when RELTO
 * is NULL). A malloc'ed string, or NULL with errno set.
 */
char *config_path_resolve(const char *relto, const char *path);

#endif
