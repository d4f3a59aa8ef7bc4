/*
 * accesslog.c - buffered access log and its writer thread; see accesslog.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
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
	size_t		 date_len;	/* 0: none yet */
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

/*
 * An output buffer that says when it did not fit, rather than write past.
 * Lines are built with direct appends (no printf, no strlen of literals):
 * they are made in the serving thread, so every instruction here is paid
 * per request.
 */
struct lb {
	char	*p;
	size_t	 len, cap;
	bool	 full;
};

static inline void
lb_put(struct lb *b, const char *s, size_t n)
{
	if (n > b->cap - b->len) {
		b->full = true;
		b->len = b->cap;	/* later appends fail too */
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* A string literal, its length known at compile time. */
#define lb_lit(b, s)	lb_put((b), "" s, sizeof(s) - 1)

/* Room for N more bytes at the end, or NULL (and the buffer full). */
static inline char *
lb_room(struct lb *b, size_t n)
{
	if (n > b->cap - b->len) {
		b->full = true;
		b->len = b->cap;
		return NULL;
	}
	return b->p + b->len;
}

static void
lb_uint(struct lb *b, uint64_t v)
{
	char *q;
	size_t n = 1;
	uint64_t t;

	for (t = v; t >= 10; t /= 10)
		n++;
	if ((q = lb_room(b, n)) == NULL)
		return;
	b->len += n;
	q += n;
	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
}

/* As printf's %d. */
static void
lb_int(struct lb *b, int v)
{
	if (v < 0) {
		lb_lit(b, "-");
		lb_uint(b, -(uint64_t)(int64_t)v);
	} else
		lb_uint(b, (uint64_t)v);
}

enum lb_quote { Q_COMBINED = 1, Q_JSON = 1 << 1, Q_JOURNAL = 1 << 2 };

/*
 * The quotings that rewrite each byte: combined and JSON every byte outside
 * printable ASCII and '"' and '\'; the journal '\n' and NUL.
 */
#define Q_TEXT	(Q_COMBINED | Q_JSON)
static const uint8_t lb_special[256] = {
	[0] = Q_TEXT | Q_JOURNAL,
	[1 ... 0x09] = Q_TEXT, ['\n'] = Q_TEXT | Q_JOURNAL, [0x0b ... 0x1f] = Q_TEXT,
	['"'] = Q_TEXT, ['\\'] = Q_TEXT, [0x7f ... 0xff] = Q_TEXT,
};

/*
 * S[0..N) quoted for the format: combined escapes '"', '\' and bytes outside
 * printable ASCII as \xHH (as nginx does), JSON as \" \\ \u00HH, a journal
 * field value keeps everything but a newline (which would end the field).
 * Runs of plain bytes are copied whole.
 */
static void
lb_quoted(struct lb *b, const char *s, size_t n, enum lb_quote q)
{
	static const char upper[] = "0123456789ABCDEF", lower[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char esc[6];
	size_t i = 0, run;
	unsigned char ch;

	if (n > ACCESSLOG_FIELD_MAX)
		n = ACCESSLOG_FIELD_MAX;
	while (i < n && !b->full) {
		for (run = i; run < n && !(lb_special[u[run]] & q); run++)
			;
		if (run > i) {
			lb_put(b, s + i, run - i);
			i = run;
			continue;
		}
		ch = u[i++];
		if (q == Q_JOURNAL)
			lb_lit(b, "?");
		else if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			lb_put(b, esc, 2);
		} else if (q == Q_JSON) {
			memcpy(esc, "\\u00", 4);
			esc[4] = lower[ch >> 4];
			esc[5] = lower[ch & 15];
			lb_put(b, esc, 6);
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = upper[ch >> 4];
			esc[3] = upper[ch & 15];
			lb_put(b, esc, 4);
		}
	}
}

/* The values of the Referer and User-Agent fields of a request, NULL when absent. */
struct accesslog_hdrs {
	const char	*referer, *agent;
	size_t		 referer_len, agent_len;
};

/* VALUE[0..*LEN) of the field line P..EOL whose name (NLEN bytes) was matched. */
static const char *
accesslog_value(const char *p, const char *eol, size_t nlen, size_t *len)
{
	const char *v = p + nlen + 1;

	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	*len = (size_t)(eol - v);
	while (*len > 0 && (v[*len - 1] == '\r' || v[*len - 1] == ' ' ||
	    v[*len - 1] == '\t'))
		(*len)--;
	return v;
}

/*
 * Fills H from REQ's head (which the parser has found complete: it ends with
 * a blank line) in one pass; the first field of each name counts.
 */
static void
accesslog_headers(const struct http_request *req, struct accesslog_hdrs *h)
{
	const char *p = req->target + req->target_len, *eol;
	size_t len;

	h->referer = h->agent = NULL;
	h->referer_len = h->agent_len = 0;
	/* past the request line */
	if ((p = strchr(p, '\n')) == NULL)
		return;
	for (p++; *p != '\r' && *p != '\n' && *p != '\0'; p = eol + 1) {
		if ((eol = strchr(p, '\n')) == NULL)
			return;
		len = (size_t)(eol - p);
		if (h->referer == NULL && (*p == 'r' || *p == 'R') && len > 7 &&
		    p[7] == ':' && strncasecmp(p, "referer", 7) == 0)
			h->referer = accesslog_value(p, eol, 7, &h->referer_len);
		else if (h->agent == NULL && (*p == 'u' || *p == 'U') && len > 10 &&
		    p[10] == ':' && strncasecmp(p, "user-agent", 10) == 0)
			h->agent = accesslog_value(p, eol, 10, &h->agent_len);
	}
}

/* PEER's text as inet_ntop writes it ("unix" for a Unix socket). */
static void
lb_peer(struct lb *b, const struct accesslog_peer *peer)
{
	char text[INET6_ADDRSTRLEN], *q, *start;
	unsigned d;
	int i;

	switch (peer->family) {
	case AF_INET:
		if ((q = lb_room(b, sizeof("255.255.255.255") - 1)) == NULL)
			return;
		start = q;
		for (i = 0; i < 4; i++) {
			d = peer->addr[i];
			if (i > 0)
				*q++ = '.';
			if (d >= 100)
				*q++ = (char)('0' + d / 100);
			if (d >= 10)
				*q++ = (char)('0' + d / 10 % 10);
			*q++ = (char)('0' + d % 10);
		}
		b->len += (size_t)(q - start);
		break;
	case AF_INET6:
		if (inet_ntop(AF_INET6, peer->addr, text, sizeof(text)) != NULL)
			lb_put(b, text, strlen(text));
		else
			lb_lit(b, "-");
		break;
	case AF_UNIX:
		lb_lit(b, "unix");
		break;
	default:
		lb_lit(b, "-");
	}
}

void
accesslog_peer_lookup(struct accesslog_peer *peer, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(peer, 0, sizeof(*peer));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET)
		memcpy(peer->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else if (ss.ss_family == AF_INET6)
		memcpy(peer->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	else if (ss.ss_family != AF_UNIX)
		return;
	peer->family = (uint8_t)ss.ss_family;
}

/* The slot's cached time text for NOW (one strftime a second at most). */
static void
accesslog_date(struct accesslog_slot *sl, enum lf_log_format format, time_t now)
{
	struct tm tm;

	if (sl->date_sec != now || sl->date_len == 0) {
		localtime_r(&now, &tm);
		sl->date_len = strftime(sl->date, sizeof(sl->date),
		    format == LF_LOG_JSON ? "%Y-%m-%dT%H:%M:%S%z" :
		    "%d/%b/%Y:%H:%M:%S %z", &tm);
		sl->date_sec = now;
	}
}

/* What every format takes besides the entry. */
struct accesslog_line {
	const struct accesslog_entry	*e;
	const struct accesslog_peer	*peer;
	const char			*date;
	size_t				 date_len;
	struct accesslog_hdrs		 h;	/* when e->req */
};

/* The nginx "combined" line, without its newline. */
static void
accesslog_combined(struct lb *b, const struct accesslog_line *l)
{
	const struct accesslog_entry *e = l->e;
	const struct http_request *r = e->req;

	lb_peer(b, l->peer);
	lb_lit(b, " - - [");
	lb_put(b, l->date, l->date_len);
	lb_lit(b, "] \"");
	if (r == NULL) {
		if (e->line_len > 0)
			lb_quoted(b, e->line, e->line_len, Q_COMBINED);
		else
			lb_lit(b, "-");
		lb_lit(b, "\" ");
	} else {
		lb_quoted(b, r->method_str, r->method_len, Q_COMBINED);
		lb_lit(b, " ");
		lb_quoted(b, r->target, r->target_len, Q_COMBINED);
		lb_lit(b, " HTTP/1.");
		lb_int(b, r->minor);
		lb_lit(b, "\" ");
	}
	lb_int(b, e->status);
	lb_lit(b, " ");
	if (e->bytes > 0)
		lb_uint(b, e->bytes);
	else
		lb_lit(b, "-");
	lb_lit(b, " \"");
	if (r != NULL && l->h.referer != NULL)
		lb_quoted(b, l->h.referer, l->h.referer_len, Q_COMBINED);
	else
		lb_lit(b, "-");
	lb_lit(b, "\" \"");
	if (r != NULL && l->h.agent != NULL)
		lb_quoted(b, l->h.agent, l->h.agent_len, Q_COMBINED);
	else
		lb_lit(b, "-");
	lb_lit(b, "\"");
}

/* ","status":S,"bytes":B,"duration_us":D,"referer":" */
static void
accesslog_json_numbers(struct lb *b, const struct accesslog_entry *e)
{
	lb_lit(b, "\",\"status\":");
	lb_int(b, e->status);
	lb_lit(b, ",\"bytes\":");
	lb_uint(b, e->bytes);
	lb_lit(b, ",\"duration_us\":");
	lb_uint(b, e->us);
	lb_lit(b, ",\"referer\":\"");
}

/*
 * A refused request's JSON line: the same keys, empty where nothing was
 * parsed, and "request" with its first line as received.
 */
static void
accesslog_json_refused(struct lb *b, const struct accesslog_line *l)
{
	lb_lit(b, "\",\"method\":\"\",\"path\":\"\",\"query\":\"\","
	    "\"protocol\":\"\",\"request\":\"");
	lb_quoted(b, l->e->line, l->e->line_len, Q_JSON);
	accesslog_json_numbers(b, l->e);
	lb_lit(b, "\",\"user_agent\":\"\"}");
}

static void
accesslog_json(struct lb *b, const struct accesslog_line *l)
{
	const struct http_request *r = l->e->req;

	lb_lit(b, "{\"time\":\"");
	lb_put(b, l->date, l->date_len);
	lb_lit(b, "\",\"remote\":\"");
	lb_peer(b, l->peer);
	if (r == NULL) {
		accesslog_json_refused(b, l);
		return;
	}
	lb_lit(b, "\",\"method\":\"");
	lb_quoted(b, r->method_str, r->method_len, Q_JSON);
	lb_lit(b, "\",\"path\":\"");
	lb_quoted(b, r->path, r->path_len, Q_JSON);
	lb_lit(b, "\",\"query\":\"");
	lb_quoted(b, r->query, r->query_len, Q_JSON);
	lb_lit(b, "\",\"protocol\":\"HTTP/1.");
	lb_int(b, r->minor);
	accesslog_json_numbers(b, l->e);
	if (l->h.referer != NULL)
		lb_quoted(b, l->h.referer, l->h.referer_len, Q_JSON);
	lb_lit(b, "\",\"user_agent\":\"");
	if (l->h.agent != NULL)
		lb_quoted(b, l->h.agent, l->h.agent_len, Q_JSON);
	lb_lit(b, "\"}");
}

/* \nLF_STATUS=S\nLF_BYTES=B\nLF_DURATION_US=D\nLF_REMOTE=A */
static void
accesslog_journal_numbers(struct lb *b, const struct accesslog_line *l)
{
	lb_lit(b, "\nLF_STATUS=");
	lb_int(b, l->e->status);
	lb_lit(b, "\nLF_BYTES=");
	lb_uint(b, l->e->bytes);
	lb_lit(b, "\nLF_DURATION_US=");
	lb_uint(b, l->e->us);
	lb_lit(b, "\nLF_REMOTE=");
	lb_peer(b, l->peer);
}

/* One journal entry: "FIELD=value" lines; the record ends with a NUL. */
static void
accesslog_journal(struct lb *b, const struct accesslog_line *l)
{
	const struct http_request *r = l->e->req;

	lb_lit(b, "MESSAGE=");
	accesslog_combined(b, l);
	lb_lit(b, "\nPRIORITY=6\nLF_EVENT=access");
	if (r == NULL) {
		lb_lit(b, "\nLF_REQUEST=");
		lb_quoted(b, l->e->line, l->e->line_len, Q_JOURNAL);
		accesslog_journal_numbers(b, l);
		return;
	}
	lb_lit(b, "\nLF_METHOD=");
	lb_quoted(b, r->method_str, r->method_len, Q_JOURNAL);
	lb_lit(b, "\nLF_PATH=");
	lb_quoted(b, r->path, r->path_len, Q_JOURNAL);
	lb_lit(b, "\nLF_QUERY=");
	lb_quoted(b, r->query, r->query_len, Q_JOURNAL);
	lb_lit(b, "\nLF_PROTOCOL=HTTP/1.");
	lb_int(b, r->minor);
	accesslog_journal_numbers(b, l);
	if (l->h.agent != NULL) {
		lb_lit(b, "\nLF_USER_AGENT=");
		lb_quoted(b, l->h.agent, l->h.agent_len, Q_JOURNAL);
	}
	if (l->h.referer != NULL) {
		lb_lit(b, "\nLF_REFERER=");
		lb_quoted(b, l->h.referer, l->h.referer_len, Q_JOURNAL);
	}
}

void
accesslog_request(struct accesslog *al, unsigned slot, const struct accesslog_entry *e)
{
	struct accesslog_slot *sl = &al->slot[slot % STATS_SHARDS];
	struct accesslog_peer own;
	struct accesslog_line l;
	struct timespec ts;
	struct lb b;
	bool kick;

	l.e = e;
	l.peer = e->peer;
	if (l.peer == NULL || l.peer->family == 0) {
		/* a connection's address is looked up once, on its first line */
		accesslog_peer_lookup(e->peer != NULL ? e->peer : &own, e->fd);
		l.peer = e->peer != NULL ? e->peer : &own;
	}
	if (e->req != NULL)
		accesslog_headers(e->req, &l.h);
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	pthread_mutex_lock(&sl->mu);
	if (sl->buf == NULL && (sl->buf = malloc(ACCESSLOG_BUF)) == NULL) {
		pthread_mutex_unlock(&sl->mu);
		atomic_fetch_add_explicit(&al->stats->log_dropped, 1, memory_order_relaxed);
		return;
	}
	accesslog_date(sl, al->format, ts.tv_sec);
	l.date = sl->date;
	l.date_len = sl->date_len;
	b.p = sl->buf;
	b.len = sl->len;
	b.cap = ACCESSLOG_BUF;
	b.full = false;
	if (al->journal) {
		accesslog_journal(&b, &l);
		lb_put(&b, "", 1);
	} else {
		if (al->format == LF_LOG_JSON)
			accesslog_json(&b, &l);
		else
			accesslog_combined(&b, &l);
		lb_lit(&b, "\n");
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
