/*
 * engine_tpc.c - thread-per-connection: an acceptor thread and one detached
 * thread per connection, with a small explicit stack. Each connection thread
 * waits in poll() on its socket (with the keep-alive or request timeout) and
 * on the engine's stop eventfd, and serves with the same conn.c as the pools.
 *
 * max_connections bounds the threads: at the bound the acceptor waits for a
 * thread to finish, and clients wait in the kernel's listen backlog. If a
 * thread cannot be created the client gets 503 and the failure is counted.
 *
 * Stop: the stop eventfd is written once and never read, so it stays readable
 * and every poll() sees it. A thread between requests then hands its
 * connection over (or closes it); a thread in the middle of a request
 * finishes it first. stop() returns when the last thread has signalled.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "conn.h"
#include "engine.h"
#include "log.h"
#include "server.h"
#include "stats.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TPC_STACK_SIZE	(1024 * 1024)	/* sanitizers need much more stack */
#else
#define TPC_STACK_SIZE	(128 * 1024)
#endif

struct tpc {
	struct engine		 base;
	const struct server	*srv;
	struct stats_shard	*shard;		/* the acceptor's */
	const int		*lfds;
	size_t			 nlfds;
	int			 stopfd;
	pthread_t		 acceptor;
	bool			 acceptor_started;
	pthread_attr_t		 attr;
	pthread_mutex_t		 mu;		/* guards active, handoff */
	pthread_cond_t		 cond;		/* a thread ended */
	unsigned		 active;
	struct conn		*handoff;	/* connections given back at stop */
	bool			 handing_off;
	atomic_bool		 stopping;
};

struct tpc_thread_arg {
	struct tpc	*t;
	struct conn	*c;
};

static bool
tpc_stopping(struct tpc *t)
{
	return atomic_load_explicit(&t->stopping, memory_order_relaxed);
}

static void *
tpc_thread(void *arg)
{
	struct tpc_thread_arg *ta = arg;
	struct tpc *t = ta->t;
	struct conn *c = ta->c;
	struct conn_worker cw;
	struct pollfd pfd[2];
	uint64_t now, deadline;
	bool keep = false;
	int n;

	free(ta);
	pthread_setname_np(pthread_self(), "lf-conn");
	if (conn_worker_init(&cw, t->srv, stats_shard(t->srv->stats, -1)) < 0) {
		log_warnx("thread-per-connection: out of memory, answering 503");
		conn_reject(c, t->srv, t->shard);
		stats_conn_closed(t->shard);
		c = NULL;
		goto out;
	}
	pfd[0].fd = c->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = t->stopfd;
	pfd[1].events = POLLIN;
	for (;;) {
		enum conn_status st;

		stats_work_begin(cw.shard);
		st = conn_serve(c, &cw);
		stats_work_end(cw.shard);
		if (st == CONN_CLOSE)
			break;
		if (tpc_stopping(t)) {
			keep = true;
			break;
		}
		/* input left in c->pending raises no poll event */
		if (st == CONN_MORE)
			continue;
		now = stats_now_ns();
		deadline = conn_deadline(c, cw.request_timeout_ns, cw.keepalive_timeout_ns);
		if (now >= deadline) {
			conn_expire(c, t->srv, cw.shard);
			break;
		}
		n = poll(pfd, 2, (int)((deadline - now) / 1000000u) + 1);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (pfd[1].revents & POLLIN)) {
			keep = true;
			break;
		}
		c->ready_ns = stats_now_ns();
		if (n == 0 && c->ready_ns >= deadline) {
			conn_expire(c, t->srv, cw.shard);
			break;
		}
	}
	conn_worker_fini(&cw);
out:
	pthread_mutex_lock(&t->mu);
	if (c != NULL && keep && t->handing_off) {
		conn_list_push(&t->handoff, c);
		c = NULL;
	}
	pthread_mutex_unlock(&t->mu);
	if (c != NULL) {
		stats_conn_closed(t->shard);
		conn_free(c);
	}
	/* the last touch of the engine: stop() may free it once active is 0 */
	pthread_mutex_lock(&t->mu);
	t->active--;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Starts a thread for C; counts it in active first. On failure: 503. */
static void
tpc_spawn(struct tpc *t, struct conn *c)
{
	struct tpc_thread_arg *ta;
	pthread_t th;
	int r = ENOMEM;

	pthread_mutex_lock(&t->mu);
	t->active++;
	pthread_mutex_unlock(&t->mu);
	ta = malloc(sizeof(*ta));
	if (ta != NULL) {
		ta->t = t;
		ta->c = c;
		r = pthread_create(&th, &t->attr, tpc_thread, ta);
	}
	if (r == 0)
		return;
	errno = r;
	log_warn("thread-per-connection: cannot start a thread, answering 503");
	free(ta);
	conn_reject(c, t->srv, t->shard);
	stats_conn_closed(t->shard);
	pthread_mutex_lock(&t->mu);
	t->active--;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->mu);
}

static void *
tpc_acceptor(void *arg)
{
	struct tpc *t = arg;
	struct pollfd *pfd;
	size_t i, n = t->nlfds + 1;
	struct conn *c;
	int r;

	pthread_setname_np(pthread_self(), "lf-acceptor");
	pfd = calloc(n, sizeof(*pfd));
	if (pfd == NULL) {
		log_warnx("thread-per-connection: out of memory, not accepting");
		return NULL;
	}
	for (i = 0; i < t->nlfds; i++) {
		pfd[i].fd = t->lfds[i];
		pfd[i].events = POLLIN;
	}
	pfd[t->nlfds].fd = t->stopfd;
	pfd[t->nlfds].events = POLLIN;
	while (!tpc_stopping(t)) {
		/* at the bound, wait for a thread to end before accepting more */
		pthread_mutex_lock(&t->mu);
		while (t->active >= t->srv->cfg.max_connections && !tpc_stopping(t))
			pthread_cond_wait(&t->cond, &t->mu);
		pthread_mutex_unlock(&t->mu);
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("thread-per-connection: poll");
			break;
		}
		if (pfd[t->nlfds].revents & POLLIN)
			break;
		for (i = 0; i < t->nlfds; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			r = conn_accept(t->lfds[i], &c);
			if (r == -EAGAIN)
				continue;
			if (r < 0) {
				errno = -r;
				log_warn("accept");
				/* out of descriptors: do not spin on a readable socket */
				if (r == -EMFILE || r == -ENFILE)
					poll(&pfd[t->nlfds], 1, 1000);
				continue;
			}
			stats_conn_opened(t->shard);
			tpc_spawn(t, c);
		}
	}
	free(pfd);
	return NULL;
}

static void
tpc_stop(struct engine *e, struct conn **handoff)
{
	struct tpc *t = (struct tpc *)e;
	uint64_t one = 1;
	struct conn *c;

	pthread_mutex_lock(&t->mu);
	t->handing_off = handoff != NULL;
	atomic_store_explicit(&t->stopping, true, memory_order_relaxed);
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->mu);
	if (write(t->stopfd, &one, sizeof(one)) < 0)
		log_warn("thread-per-connection: eventfd write");
	if (t->acceptor_started) {
		pthread_join(t->acceptor, NULL);
		t->acceptor_started = false;
	}
	pthread_mutex_lock(&t->mu);
	while (t->active > 0)
		pthread_cond_wait(&t->cond, &t->mu);
	pthread_mutex_unlock(&t->mu);
	while ((c = t->handoff) != NULL) {
		conn_list_remove(&t->handoff, c);
		conn_list_push(handoff, c);
	}
}

static void
tpc_free(struct engine *e)
{
	struct tpc *t = (struct tpc *)e;

	if (t == NULL)
		return;
	if (t->stopfd >= 0)
		close(t->stopfd);
	pthread_attr_destroy(&t->attr);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static int
tpc_start(struct engine **out, const struct engine_params *prm, struct conn **adopt)
{
	struct tpc *t;
	struct conn *c;
	int r;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->base.ops = &engine_tpc_ops;
	t->srv = prm->srv;
	t->shard = stats_shard(prm->srv->stats, 0);
	t->lfds = prm->lfds;
	t->nlfds = prm->nlfds;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cond, NULL);
	pthread_attr_init(&t->attr);
	pthread_attr_setdetachstate(&t->attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&t->attr,
	    TPC_STACK_SIZE > PTHREAD_STACK_MIN ? TPC_STACK_SIZE : PTHREAD_STACK_MIN);
	t->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->stopfd < 0) {
		r = -errno;
		tpc_free(&t->base);
		return r;
	}
	r = -pthread_create(&t->acceptor, NULL, tpc_acceptor, t);
	if (r < 0) {
		tpc_stop(&t->base, NULL);
		tpc_free(&t->base);
		return r;
	}
	t->acceptor_started = true;
	/* after the last step that can fail: on failure they stay on *adopt */
	while (adopt != NULL && (c = *adopt) != NULL) {
		conn_list_remove(adopt, c);
		c->ready_ns = stats_now_ns();
		tpc_spawn(t, c);
	}
	*out = &t->base;
	return 0;
}

const struct engine_ops engine_tpc_ops = {
	.name = "thread-per-connection",
	.start = tpc_start,
	.stop = tpc_stop,
	.free = tpc_free,
};
