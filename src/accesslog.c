/*
 * accesslog.c - buffered access log and its writer thread; see accesslog.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "http.h"
#include "journal.h"
#include "stats.h"

#define ACCESSLOG_BUF		(64 * 1024)
#define ACCESSLOG_KICK		(ACCESSLOG_BUF / 2)	/* wake the writer early */
#define ACCESSLOG_FIELD_MAX	2048	/* longer targets and headers are cut */
#define ACCESSLOG_JOURNAL_FIELDS 16

struct accesslog_slot {
	pthread_mutex_t	 mu;
	char		*buf;		/* ACCESSLOG_BUF bytes, made on first use */
	size_t		 len;
	time_t		 date_sec;	/* the second date[] shows */
	char		 date[40];
} __attribute__((aligned(64)));

struct accesslog {
	struct accesslog_slot	 slot[STATS_SHARDS];
	struct stats		*stats;
	enum lf_log_format	 format;
	bool			 journal;
	char			*path;
	int			 fd;		/* the writer's */
	pthread_t		 writer;
	pthread_mutex_t		 mu;		/* the writer's wait */
	pthread_cond_t		 cond;
	bool			 stop;		/* under mu */
	/*
	 * Set by a serving thread or the main thread, then cond signalled
	 * without mu: a wakeup lost in the gap costs at most the writer's
	 * one-second wait, which is its schedule anyway.
	 */
	atomic_bool		 kick;
	atomic_bool		 reopen;
};

/* An output buffer that says when it did not fit, rather than write past. */
struct lb {
	char	*p;
	size_t	 len, cap;
	bool	 full;
};

static void
lb_put(struct lb *b, const char *s, size_t n)
{
	if (b->full || n > b->cap - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
lb_str(struct lb *b, const char *s)
{
	lb_put(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
lb_printf(struct lb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->full = true;
	else
		b->len += (size_t)n;
}

enum lb_quote { Q_COMBINED, Q_JSON, Q_JOURNAL };

/*
 * S[0..N) quoted for the format: combined escapes '"', '\' and bytes outside
 * printable ASCII as \xHH (as nginx does), JSON as \" \\ \u00HH, a journal
 * field value keeps everything but a newline (which would end the field).
 */
static void
lb_quoted(struct lb *b, const char *s, size_t n, enum lb_quote q)
{
	char esc[8];
	size_t i;

	if (n > ACCESSLOG_FIELD_MAX)
		n = ACCESSLOG_FIELD_MAX;
	for (i = 0; i < n && !b->full; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (q == Q_JOURNAL) {
			lb_put(b, ch == '\n' || ch == '\0' ? "?" : &s[i], 1);
			continue;
		}
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			lb_put(b, esc, 2);
		} else if (ch < 0x20 || ch >= 0x7f) {
			if (q == Q_JSON)
				snprintf(esc, sizeof(esc), "\\u%04x", ch);
			else
				snprintf(esc, sizeof(esc), "\\x%02X", ch);
			lb_str(b, esc);
		} else
			lb_put(b, &s[i], 1);
	}
}

/*
 * The value of header NAME in REQ's head (which the parser has found
 * complete: it ends with a blank line), or NULL.
 */
static const char *
accesslog_header(const struct http_request *req, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = req->target + req->target_len, *eol, *v;

	/* past the request line */
	if ((p = strchr(p, '\n')) == NULL)
		return NULL;
	for (p++; *p != '\r' && *p != '\n' && *p != '\0'; p = eol + 1) {
		if ((eol = strchr(p, '\n')) == NULL)
			return NULL;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			v = p + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			while (*vlen > 0 && (v[*vlen - 1] == '\r' ||
			    v[*vlen - 1] == ' ' || v[*vlen - 1] == '\t'))
				(*vlen)--;
			return v;
		}
	}
	return NULL;
}

static void
accesslog_remote(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	snprintf(out, len, "-");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)len);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)len);
	else if (ss.ss_family == AF_UNIX)
		snprintf(out, len, "unix");
}

/* The slot's cached time text for NOW (one strftime a second at most). */
static const char *
accesslog_date(struct accesslog_slot *sl, enum lf_log_format format, time_t now)
{
	struct tm tm;

	if (sl->date_sec != now) {
		localtime_r(&now, &tm);
		strftime(sl->date, sizeof(sl->date), format == LF_LOG_JSON ?
		    "%Y-%m-%dT%H:%M:%S%z" : "%d/%b/%Y:%H:%M:%S %z", &tm);
		sl->date_sec = now;
	}
	return sl->date;
}

/* The nginx "combined" line, without its newline. */
static void
accesslog_combined(struct lb *b, const struct accesslog_entry *e,
    const char *remote, const char *date)
{
	const struct http_request *r = e->req;
	const char *v;
	size_t vlen;

	lb_printf(b, "%s - - [%s] \"", remote, date);
	if (r == NULL) {
		if (e->line_len > 0)
			lb_quoted(b, e->line, e->line_len, Q_COMBINED);
		else
			lb_str(b, "-");
		lb_printf(b, "\" %d ", e->status);
	} else {
		lb_quoted(b, r->method_str, r->method_len, Q_COMBINED);
		lb_str(b, " ");
		lb_quoted(b, r->target, r->target_len, Q_COMBINED);
		lb_printf(b, " HTTP/1.%d\" %d ", r->minor, e->status);
	}
	if (e->bytes > 0)
		lb_printf(b, "%llu \"", (unsigned long long)e->bytes);
	else
		lb_str(b, "- \"");
	if (r != NULL && (v = accesslog_header(r, "referer", &vlen)) != NULL)
		lb_quoted(b, v, vlen, Q_COMBINED);
	else
		lb_str(b, "-");
	lb_str(b, "\" \"");
	if (r != NULL && (v = accesslog_header(r, "user-agent", &vlen)) != NULL)
		lb_quoted(b, v, vlen, Q_COMBINED);
	else
		lb_str(b, "-");
	lb_str(b, "\"");
}

/*
 * A refused request's JSON line: the same keys, empty where nothing was
 * parsed, and "request" with its first line as received.
 */
static void
accesslog_json_refused(struct lb *b, const struct accesslog_entry *e,
    const char *remote, const char *date)
{
	lb_printf(b, "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":\"\","
	    "\"path\":\"\",\"query\":\"\",\"protocol\":\"\",\"request\":\"",
	    date, remote);
	lb_quoted(b, e->line, e->line_len, Q_JSON);
	lb_printf(b, "\",\"status\":%d,\"bytes\":%llu,\"duration_us\":%llu,"
	    "\"referer\":\"\",\"user_agent\":\"\"}", e->status,
	    (unsigned long long)e->bytes, (unsigned long long)e->us);
}

static void
accesslog_json(struct lb *b, const struct accesslog_entry *e,
    const char *remote, const char *date)
{
	const struct http_request *r = e->req;
	const char *v;
	size_t vlen;

	if (r == NULL) {
		accesslog_json_refused(b, e, remote, date);
		return;
	}
	lb_printf(b, "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":\"", date, remote);
	lb_quoted(b, r->method_str, r->method_len, Q_JSON);
	lb_str(b, "\",\"path\":\"");
	lb_quoted(b, r->path, r->path_len, Q_JSON);
	lb_str(b, "\",\"query\":\"");
	lb_quoted(b, r->query, r->query_len, Q_JSON);
	lb_printf(b, "\",\"protocol\":\"HTTP/1.%d\",\"status\":%d,\"bytes\":%llu,"
	    "\"duration_us\":%llu,\"referer\":\"", r->minor, e->status,
	    (unsigned long long)e->bytes, (unsigned long long)e->us);
	if ((v = accesslog_header(r, "referer", &vlen)) != NULL)
		lb_quoted(b, v, vlen, Q_JSON);
	lb_str(b, "\",\"user_agent\":\"");
	if ((v = accesslog_header(r, "user-agent", &vlen)) != NULL)
		lb_quoted(b, v, vlen, Q_JSON);
	lb_str(b, "\"}");
}

/* One journal entry: "FIELD=value" lines; the record ends with a NUL. */
static void
accesslog_journal(struct lb *b, const struct accesslog_entry *e,
    const char *remote, const char *date)
{
	const struct http_request *r = e->req;
	const char *v;
	size_t vlen;

	lb_str(b, "MESSAGE=");
	accesslog_combined(b, e, remote, date);
	lb_str(b, "\nPRIORITY=6\nLF_EVENT=access");
	if (r == NULL) {
		lb_str(b, "\nLF_REQUEST=");
		lb_quoted(b, e->line, e->line_len, Q_JOURNAL);
		lb_printf(b, "\nLF_STATUS=%d\nLF_BYTES=%llu\nLF_DURATION_US=%llu\n"
		    "LF_REMOTE=%s", e->status, (unsigned long long)e->bytes,
		    (unsigned long long)e->us, remote);
		return;
	}
	lb_str(b, "\nLF_METHOD=");
	lb_quoted(b, r->method_str, r->method_len, Q_JOURNAL);
	lb_str(b, "\nLF_PATH=");
	lb_quoted(b, r->path, r->path_len, Q_JOURNAL);
	lb_str(b, "\nLF_QUERY=");
	lb_quoted(b, r->query, r->query_len, Q_JOURNAL);
	lb_printf(b, "\nLF_PROTOCOL=HTTP/1.%d\nLF_STATUS=%d\nLF_BYTES=%llu\n"
	    "LF_DURATION_US=%llu\nLF_REMOTE=%s", r->minor, e->status,
	    (unsigned long long)e->bytes, (unsigned long long)e->us, remote);
	if ((v = accesslog_header(r, "user-agent", &vlen)) != NULL) {
		lb_str(b, "\nLF_USER_AGENT=");
		lb_quoted(b, v, vlen, Q_JOURNAL);
	}
	if ((v = accesslog_header(r, "referer", &vlen)) != NULL) {
		lb_str(b, "\nLF_REFERER=");
		lb_quoted(b, v, vlen, Q_JOURNAL);
	}
}

void
accesslog_request(struct accesslog *al, unsigned slot, const struct accesslog_entry *e)
{
	struct accesslog_slot *sl = &al->slot[slot % STATS_SHARDS];
	struct timespec ts;
	char remote[INET6_ADDRSTRLEN];
	const char *date;
	struct lb b;
	bool kick;

	accesslog_remote(e->fd, remote, sizeof(remote));
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	pthread_mutex_lock(&sl->mu);
	if (sl->buf == NULL && (sl->buf = malloc(ACCESSLOG_BUF)) == NULL) {
		pthread_mutex_unlock(&sl->mu);
		atomic_fetch_add_explicit(&al->stats->log_dropped, 1, memory_order_relaxed);
		return;
	}
	date = accesslog_date(sl, al->format, ts.tv_sec);
	b.p = sl->buf;
	b.len = sl->len;
	b.cap = ACCESSLOG_BUF;
	b.full = false;
	if (al->journal) {
		accesslog_journal(&b, e, remote, date);
		lb_put(&b, "", 1);
	} else {
		if (al->format == LF_LOG_JSON)
			accesslog_json(&b, e, remote, date);
		else
			accesslog_combined(&b, e, remote, date);
		lb_put(&b, "\n", 1);
	}
	if (!b.full)
		sl->len = b.len;	/* else the partial line is forgotten */
	kick = b.full || sl->len >= ACCESSLOG_KICK;
	pthread_mutex_unlock(&sl->mu);
	if (b.full)
		atomic_fetch_add_explicit(&al->stats->log_dropped, 1, memory_order_relaxed);
	if (kick && !atomic_exchange_explicit(&al->kick, true, memory_order_relaxed))
		pthread_cond_signal(&al->cond);
}

/* Sends the NUL-terminated records of BUF[0..LEN) to the journal. */
static void
accesslog_send_journal(struct accesslog *al, char *buf, size_t len)
{
	struct iovec iov[ACCESSLOG_JOURNAL_FIELDS];
	char *p = buf, *end = buf + len, *rec_end, *nl;
	int n;

	for (; p < end; p = rec_end + 1) {
		rec_end = memchr(p, '\0', (size_t)(end - p));
		if (rec_end == NULL)
			break;
		for (n = 0; p < rec_end && n < ACCESSLOG_JOURNAL_FIELDS; n++) {
			nl = memchr(p, '\n', (size_t)(rec_end - p));
			if (nl == NULL)
				nl = rec_end;
			iov[n].iov_base = p;
			iov[n].iov_len = (size_t)(nl - p);
			p = nl + (nl < rec_end);
		}
		if (journal_sendv(iov, n) < 0)
			atomic_fetch_add_explicit(&al->stats->log_dropped, 1,
			    memory_order_relaxed);
	}
}

static void
accesslog_write_file(struct accesslog *al, const char *buf, size_t len)
{
	size_t off = 0, lost = 0;
	ssize_t r;

	while (off < len) {
		r = write(al->fd, buf + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			for (; off < len; off++)
				lost += buf[off] == '\n';
			atomic_fetch_add_explicit(&al->stats->log_dropped, lost,
			    memory_order_relaxed);
			return;
		}
		off += (size_t)r;
	}
}

static int
accesslog_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

/* One pass: every slot's buffer swapped with SPARE under its lock, written after. */
static void
accesslog_drain(struct accesslog *al, char **spare)
{
	size_t i, len;
	char *full;

	for (i = 0; i < STATS_SHARDS; i++) {
		struct accesslog_slot *sl = &al->slot[i];

		pthread_mutex_lock(&sl->mu);
		len = sl->len;
		full = sl->buf;
		if (len > 0) {
			sl->buf = *spare;
			sl->len = 0;
		}
		pthread_mutex_unlock(&sl->mu);
		if (len == 0)
			continue;
		if (al->journal)
			accesslog_send_journal(al, full, len);
		else
			accesslog_write_file(al, full, len);
		*spare = full;
	}
}

static void *
accesslog_writer(void *arg)
{
	struct accesslog *al = arg;
	struct timespec ts;
	char *spare;
	bool stop = false;
	int fd;

	pthread_setname_np(pthread_self(), "lf-accesslog");
	spare = malloc(ACCESSLOG_BUF);
	while (!stop) {
		pthread_mutex_lock(&al->mu);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		while (!al->stop && !atomic_load_explicit(&al->kick, memory_order_relaxed))
			if (pthread_cond_timedwait(&al->cond, &al->mu, &ts) == ETIMEDOUT)
				break;
		stop = al->stop;
		pthread_mutex_unlock(&al->mu);
		atomic_store_explicit(&al->kick, false, memory_order_relaxed);
		if (atomic_exchange_explicit(&al->reopen, false, memory_order_relaxed) &&
		    !al->journal) {
			/* lines buffered before the signal still go to the old file */
			if (spare != NULL)
				accesslog_drain(al, &spare);
			if ((fd = accesslog_open_file(al->path)) >= 0) {
				close(al->fd);
				al->fd = fd;
			}
		}
		if (spare != NULL)
			accesslog_drain(al, &spare);
	}
	free(spare);
	return NULL;
}

int
accesslog_open(struct accesslog **out, const char *target,
    enum lf_log_format format, struct stats *s, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	struct accesslog *al;
	size_t i;
	int r;

	al = aligned_alloc(64, sizeof(*al));
	if (al == NULL) {
		snprintf(err, errlen, "access_log: out of memory");
		return -ENOMEM;
	}
	memset(al, 0, sizeof(*al));
	al->stats = s;
	al->format = format;
	al->fd = -1;
	al->journal = strcmp(target, "journal") == 0;
	if (!al->journal) {
		al->path = strdup(target);
		al->fd = al->path != NULL ? accesslog_open_file(target) : -1;
		if (al->fd < 0) {
			r = al->path != NULL ? -errno : -ENOMEM;
			snprintf(err, errlen, "access_log '%s': %s", target, strerror(-r));
			free(al->path);
			free(al);
			return r;
		}
	}
	for (i = 0; i < STATS_SHARDS; i++)
		pthread_mutex_init(&al->slot[i].mu, NULL);
	pthread_mutex_init(&al->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&al->cond, &ca);
	pthread_condattr_destroy(&ca);
	r = -pthread_create(&al->writer, NULL, accesslog_writer, al);
	if (r < 0) {
		snprintf(err, errlen, "access_log: cannot start its writer: %s", strerror(-r));
		al->writer = pthread_self();	/* nothing to join */
		accesslog_free(al);
		return r;
	}
	*out = al;
	return 0;
}

void
accesslog_reopen(struct accesslog *al)
{
	if (al == NULL)
		return;
	atomic_store_explicit(&al->reopen, true, memory_order_relaxed);
	atomic_store_explicit(&al->kick, true, memory_order_relaxed);
	pthread_cond_signal(&al->cond);
}

void
accesslog_free(struct accesslog *al)
{
	size_t i;

	if (al == NULL)
		return;
	if (!pthread_equal(al->writer, pthread_self())) {
		pthread_mutex_lock(&al->mu);
		al->stop = true;
		pthread_cond_signal(&al->cond);
		pthread_mutex_unlock(&al->mu);
		/* its last pass writes what the serving threads left */
		pthread_join(al->writer, NULL);
	}
	for (i = 0; i < STATS_SHARDS; i++) {
		free(al->slot[i].buf);
		pthread_mutex_destroy(&al->slot[i].mu);
	}
	pthread_cond_destroy(&al->cond);
	pthread_mutex_destroy(&al->mu);
	if (al->fd >= 0)
		close(al->fd);
	free(al->path);
	free(al);
}
