/*
 * engine_pool.c - the worker-pool engines: lockfree, locked and sequential.
 *
 * One reactor thread owns an epoll set. It accepts new connections and
 * watches idle keep-alive connections; a connection that becomes readable is
 * pushed to the bounded queue as one work item, so the queue distributes
 * requests, not connections, and an idle connection costs no worker and no
 * read buffer. A worker pops a connection, serves what is readable (conn.c),
 * then gives it back as described below. When the queue is full the reactor
 * waits in queue_push (backpressure) and new clients wait in the kernel's
 * listen backlog: nothing is dropped.
 *
 * Why edge-triggered: a connection is registered once (EPOLLIN | EPOLLET)
 * and stays registered, so serving a keep-alive request costs no epoll_ctl.
 * (EPOLLONESHOT would need an EPOLL_CTL_MOD re-arm after every request.) The
 * price is that the kernel may report a connection while a worker owns it,
 * which the state word below absorbs, and that a worker must not stop
 * reading before the socket is drained unless it serves the connection again
 * (conn_serve says CONN_MORE then): an edge is reported only for new data.
 *
 * Ownership of a connection is one atomic `state` (pool_state.c):
 *   WORKING  a worker (or the queue) has it
 *   ARMED    idle: the reactor queues it at the next report
 *   EVENTED  the reactor got a report while a worker had it
 * The reactor exchanges to EVENTED on a report and queues the connection
 * only if the old value was ARMED. A worker gives a connection back with a
 * compare-and-swap WORKING -> ARMED; when it fails the state is EVENTED: new
 * input came while it was serving, and the worker stores WORKING and serves
 * the connection again. The state never passes through ARMED on that path,
 * so one worker at most owns a connection. No input is left unserved: input
 * arriving after the worker's last read raises a report, and whether the
 * reactor handles it before the give-back (the worker sees EVENTED) or after
 * it (the reactor sees ARMED), one of the two serves the connection. After a
 * give-back to ARMED a worker never touches the connection again, and only
 * the reactor moves a connection out of ARMED, so the reactor can close
 * expired ARMED connections without a race.
 *
 * A report can name a connection that its worker is closing at that moment,
 * so a worker never frees one: it removes it from the epoll set, closes the
 * socket and leaves the struct on the `dead` list, which the reactor frees
 * before its next epoll_wait, when no report it holds can name it.
 * Connections are added to the epoll set at their first give-back.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "conn.h"
#include "engine.h"
#include "log.h"
#include "pool_state.h"
#include "queue.h"
#include "server.h"
#include "stats.h"

#define POOL_EVENTS		256
#define POOL_ACCEPT_BURST	64
#define POOL_SWEEP_NS		1000000000ull
/* Pushed once per worker at stop; never a valid connection pointer. */
#define POOL_STOP		((void *)&pool_stop_token)

static const char pool_stop_token;

struct pool {
	struct engine		 base;
	const struct server	*srv;
	struct stats		*stats;
	struct stats_shard	*shard;		/* the reactor's */
	struct queue		*q;
	int			 epfd;
	int			 wakefd;	/* eventfd: stop, or accepting may resume */
	const int		*lfds;
	size_t			 nlfds;
	char			*ltag;		/* &ltag[i] is listener i's epoll cookie */
	pthread_t		 reactor;
	bool			 reactor_started;
	pthread_t		*workers;
	unsigned		 nworkers;	/* started */
	pthread_mutex_t		 mu;		/* guards conns, nconns, accept_paused, dead */
	struct conn		*conns;
	struct conn		*dead;		/* closed by workers, freed by the reactor */
	atomic_uint		 ndead;		/* lets the reactor skip the lock */
	size_t			 nconns;
	bool			 accept_paused;
	atomic_bool		 stopping;
	atomic_bool		 handing_off;	/* set before stopping, at a reload */
	struct conn		**kick;		/* adopted with input: the reactor queues them */
	size_t			 nkick;
	uint64_t		 rto_ns, kto_ns;
	/* liveness (pool_alive): bumped by the reactor's loop and by workers */
	atomic_ulong		 reactor_beat, worker_beat;
	atomic_uint		 stop_tokens;	/* POOL_STOP pushed, not yet popped */
	unsigned long		 seen_reactor, seen_worker;	/* pool_alive's thread only */
	uint64_t		 seen_requests;
	bool			 seen_queued, watched;
};

struct pool_worker_arg {
	struct pool	*p;
	unsigned	 index;
};

static void
pool_listeners_arm(struct pool *p, bool on)
{
	struct epoll_event ev;
	size_t i;

	for (i = 0; i < p->nlfds; i++) {
		ev.events = on ? EPOLLIN : 0;
		ev.data.ptr = &p->ltag[i];
		epoll_ctl(p->epfd, EPOLL_CTL_MOD, p->lfds[i], &ev);
	}
}

static void
pool_wake(struct pool *p)
{
	uint64_t one = 1;

	if (write(p->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("pool: eventfd write");
}

/* A worker closes a connection it owns; the reactor frees it later. */
static void
pool_close(struct pool *p, struct conn *c, struct stats_shard *shard)
{
	bool resume;

	if (c->polled)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	conn_close_fd(c);
	pthread_mutex_lock(&p->mu);
	conn_list_remove(&p->conns, c);
	p->nconns--;
	conn_list_push(&p->dead, c);
	atomic_fetch_add_explicit(&p->ndead, 1, memory_order_relaxed);
	resume = p->accept_paused && p->nconns < p->srv->cfg.max_connections;
	pthread_mutex_unlock(&p->mu);
	if (resume)
		pool_wake(p);
	stats_conn_closed(shard);
}

/* Frees the connections workers closed (reactor, between epoll_waits). */
static void
pool_reap(struct pool *p)
{
	struct conn *c, *dead;

	if (atomic_load_explicit(&p->ndead, memory_order_relaxed) == 0)
		return;
	pthread_mutex_lock(&p->mu);
	dead = p->dead;
	p->dead = NULL;
	atomic_store_explicit(&p->ndead, 0, memory_order_relaxed);
	pthread_mutex_unlock(&p->mu);
	while ((c = dead) != NULL) {
		dead = c->next;
		conn_free(c);
	}
}

/* The events a connection waits for: input, or room for its unsent output. */
static uint32_t
pool_events(const struct conn *c)
{
	return EPOLLIN | EPOLLET | (c->out != NULL ? EPOLLOUT : 0);
}

/*
 * Gives a served connection back to the reactor. Returns true when new input
 * came while it was being served: the caller still owns it and serves it again.
 */
static bool
pool_giveback(struct pool *p, struct conn *c, struct stats_shard *shard)
{
	struct epoll_event ev = { .events = pool_events(c), .data.ptr = c };
	bool want_out = c->out != NULL;

	/* registered once; changed only when waiting for output starts or ends */
	if (!c->polled || want_out != c->poll_out) {
		if (epoll_ctl(p->epfd, c->polled ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		    c->fd, &ev) < 0) {
			pool_close(p, c, shard);
			return false;
		}
		c->polled = true;
		c->poll_out = want_out;
	}
	if (!pool_state_giveback(&c->state))
		return false;
	c->ready_ns = stats_now_ns();
	return true;
}

static void *
pool_worker(void *arg)
{
	struct pool_worker_arg *wa = arg;
	struct pool *p = wa->p;
	struct conn_worker cw;
	char name[16];
	void *item;

	snprintf(name, sizeof(name), "lf-worker-%u", wa->index);
	pthread_setname_np(pthread_self(), name);
	/* buffer allocation was checked by pool_start, which made it */
	cw = *(struct conn_worker *)(wa + 1);
	free(wa);
	while ((item = queue_pop(p->q)) != POOL_STOP) {
		struct conn *c = item;

		/* at a reload, what is still queued goes to the next engine unserved
		 * (it stays on p->conns, WORKING): the drain waits for no new turn */
		if (atomic_load_explicit(&p->handing_off, memory_order_relaxed))
			continue;
		for (;;) {
			enum conn_status st = conn_serve(c, &cw);

			if (st == CONN_CLOSE) {
				pool_close(p, c, cw.shard);
				break;
			}
			/* undrained input raises no new edge: queue it again, or go
			 * on; a stopping engine keeps the rest for the handoff */
			if (st == CONN_MORE) {
				if (atomic_load_explicit(&p->stopping, memory_order_relaxed) ||
				    queue_try_push(p->q, c))
					break;
				continue;
			}
			if (!pool_giveback(p, c, cw.shard))
				break;
		}
		/* relaxed: a counter pool_alive only compares */
		atomic_fetch_add_explicit(&p->worker_beat, 1, memory_order_relaxed);
	}
	/* relaxed: an approximate count for pool_alive */
	atomic_fetch_sub_explicit(&p->stop_tokens, 1, memory_order_relaxed);
	conn_worker_fini(&cw);
	return NULL;
}

/* Stops watching the listening sockets until pool_accept_resume (mu held). */
static void
pool_accept_pause_locked(struct pool *p)
{
	if (!p->accept_paused) {
		p->accept_paused = true;
		pool_listeners_arm(p, false);
	}
}

static void
pool_accept(struct pool *p, int lfd)
{
	struct conn *c;
	int i, r;

	for (i = 0; i < POOL_ACCEPT_BURST; i++) {
		pthread_mutex_lock(&p->mu);
		if (p->nconns >= p->srv->cfg.max_connections) {
			/* leave clients in the backlog until a connection closes */
			pool_accept_pause_locked(p);
			pthread_mutex_unlock(&p->mu);
			return;
		}
		pthread_mutex_unlock(&p->mu);
		r = conn_accept(lfd, &c);
		if (r == -EAGAIN)
			return;
		if (r == -EMFILE || r == -ENFILE) {
			/* out of descriptors: retry at the next sweep instead of spinning */
			errno = -r;
			log_warn("accept: pausing for a second");
			pthread_mutex_lock(&p->mu);
			pool_accept_pause_locked(p);
			pthread_mutex_unlock(&p->mu);
			return;
		}
		if (r < 0) {
			errno = -r;
			log_warn("accept");
			continue;
		}
		atomic_store_explicit(&c->state, POOL_WORKING, memory_order_relaxed);
		pthread_mutex_lock(&p->mu);
		conn_list_push(&p->conns, c);
		p->nconns++;
		pthread_mutex_unlock(&p->mu);
		stats_conn_opened(p->shard);
		/* clients usually send at once: serve now rather than after a poll round */
		if (queue_push(p->q, c))
			atomic_fetch_add_explicit(&p->stats->queue_full, 1, memory_order_relaxed);
	}
}

/* Accepts again once a connection closed below max_connections (reactor thread). */
static void
pool_accept_resume(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->accept_paused && p->nconns < p->srv->cfg.max_connections) {
		p->accept_paused = false;
		pool_listeners_arm(p, true);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Closes idle connections past their deadline (reactor thread only). */
static void
pool_sweep(struct pool *p, uint64_t now)
{
	struct conn *c, *next;

	pthread_mutex_lock(&p->mu);
	for (c = p->conns; c != NULL; c = next) {
		next = c->next;
		if (!pool_state_idle(&c->state))
			continue;
		if (now < conn_deadline(c, p->rto_ns, p->kto_ns))
			continue;
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		conn_list_remove(&p->conns, c);
		p->nconns--;
		conn_expire(c, p->shard);
		stats_conn_closed(p->shard);
		conn_free(c);
	}
	pthread_mutex_unlock(&p->mu);
	pool_accept_resume(p);
}

static void *
pool_reactor(void *arg)
{
	struct pool *p = arg;
	struct epoll_event evs[POOL_EVENTS];
	uint64_t next_sweep = stats_now_ns() + POOL_SWEEP_NS, now;
	int n, i, timeout;

	pthread_setname_np(pthread_self(), "lf-reactor");
	/* adopted connections holding input: no edge will report them */
	for (i = 0; i < (int)p->nkick; i++) {
		p->kick[i]->ready_ns = stats_now_ns();
		if (queue_push(p->q, p->kick[i]))
			atomic_fetch_add_explicit(&p->stats->queue_full, 1, memory_order_relaxed);
	}
	while (!atomic_load_explicit(&p->stopping, memory_order_relaxed)) {
		/* relaxed: a counter pool_alive only compares */
		atomic_fetch_add_explicit(&p->reactor_beat, 1, memory_order_relaxed);
		while (atomic_load_explicit(&engine_fault, memory_order_relaxed) ==
		    ENGINE_FAULT_STALL_REACTOR &&
		    !atomic_load_explicit(&p->stopping, memory_order_relaxed))
			usleep(10000);
		pool_reap(p);
		now = stats_now_ns();
		timeout = now >= next_sweep ? 0 : (int)((next_sweep - now) / 1000000u) + 1;
		n = epoll_wait(p->epfd, evs, POOL_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			break;
		}
		now = stats_now_ns();
		for (i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;
			struct conn *c;

			if (tag == &p->wakefd) {
				uint64_t v;

				if (read(p->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_warn("pool: eventfd read");
				pool_accept_resume(p);
				continue;
			}
			if ((char *)tag >= p->ltag && (char *)tag < p->ltag + p->nlfds) {
				pool_accept(p, p->lfds[(char *)tag - p->ltag]);
				continue;
			}
			c = tag;
			if (!pool_state_report(&c->state))
				continue;	/* its worker serves the new input */
			c->ready_ns = now;
			if (queue_push(p->q, c))
				atomic_fetch_add_explicit(&p->stats->queue_full, 1,
				    memory_order_relaxed);
		}
		if (now >= next_sweep) {
			pool_sweep(p, now);
			next_sweep = now + POOL_SWEEP_NS;
		}
	}
	return NULL;
}

static void
pool_free(struct engine *e)
{
	struct pool *p = (struct pool *)e;

	if (p == NULL)
		return;
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->wakefd >= 0)
		close(p->wakefd);
	queue_free(p->q);
	pthread_mutex_destroy(&p->mu);
	free(p->workers);
	free(p->ltag);
	free(p->kick);
	free(p);
}

static void
pool_stop(struct engine *e, struct conn **handoff)
{
	struct pool *p = (struct pool *)e;
	struct conn *c;
	unsigned i;

	/* both read by workers after their pop: the queue's own ordering, and
	 * the joins below, are all that is needed */
	atomic_store_explicit(&p->handing_off, handoff != NULL, memory_order_relaxed);
	atomic_store_explicit(&p->stopping, true, memory_order_relaxed);
	if (p->reactor_started) {
		pool_wake(p);
		pthread_join(p->reactor, NULL);
		p->reactor_started = false;
	}
	/* FIFO: every connection queued before the stop tokens is popped first
	 * (given one turn, or at a reload left for the handoff) */
	for (i = 0; i < p->nworkers; i++) {
		atomic_fetch_add_explicit(&p->stop_tokens, 1, memory_order_relaxed);
		queue_push(p->q, POOL_STOP);
	}
	for (i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i], NULL);
	p->nworkers = 0;
	pool_reap(p);
	/* no thread touches a connection now: each is idle (armed in an epoll
	 * set nobody reads) or was left by a worker with its input (WORKING) */
	while ((c = p->conns) != NULL) {
		conn_list_remove(&p->conns, c);
		p->nconns--;
		if (c->polled)
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->polled = c->poll_out = false;
		atomic_store_explicit(&c->state, POOL_WORKING, memory_order_relaxed);
		if (handoff != NULL)
			conn_list_push(handoff, c);
		else {
			stats_conn_closed(p->shard);
			conn_free(c);
		}
	}
}

/* Registers the adopted connections, idle ones armed (before any thread runs). */
static int
pool_adopt(struct pool *p, struct conn **adopt)
{
	struct epoll_event ev;
	struct conn *c;
	size_t n = 0;

	for (c = adopt != NULL ? *adopt : NULL; c != NULL; c = c->next)
		n++;
	p->kick = calloc(n ? n : 1, sizeof(*p->kick));
	if (p->kick == NULL)
		return -ENOMEM;
	while (adopt != NULL && (c = *adopt) != NULL) {
		conn_list_remove(adopt, c);
		conn_list_push(&p->conns, c);
		p->nconns++;
		ev.events = pool_events(c);
		ev.data.ptr = c;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			return -errno;
		c->polled = true;
		c->poll_out = c->out != NULL;
		if (c->pending != NULL) {
			atomic_store_explicit(&c->state, POOL_WORKING, memory_order_relaxed);
			p->kick[p->nkick++] = c;
		} else
			atomic_store_explicit(&c->state, POOL_ARMED, memory_order_relaxed);
	}
	return 0;
}

static int
pool_start(struct engine **out, const struct engine_params *prm, struct conn **adopt)
{
	const struct server *srv = prm->srv;
	struct pool *p;
	struct epoll_event ev;
	pthread_attr_t attr;
	unsigned i, nworkers = srv->workers;
	size_t k;
	int r;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->base.ops = &engine_pool_ops;
	p->srv = srv;
	p->stats = srv->stats;
	p->shard = stats_shard(srv->stats, 0);
	p->lfds = prm->lfds;
	p->nlfds = prm->nlfds;
	p->epfd = p->wakefd = -1;
	p->rto_ns = (uint64_t)srv->cfg.request_timeout * 1000000000u;
	p->kto_ns = (uint64_t)srv->cfg.keepalive_timeout * 1000000000u;
	pthread_mutex_init(&p->mu, NULL);
	p->ltag = calloc(prm->nlfds ? prm->nlfds : 1, 1);
	p->workers = calloc(nworkers, sizeof(*p->workers));
	if (p->ltag == NULL || p->workers == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = queue_create(&p->q, srv->cfg.mode == LF_MODE_LOCKFREE ? QUEUE_LOCKFREE :
	    QUEUE_LOCKED, srv->cfg.queue_capacity);
	if (r < 0)
		goto fail;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->epfd < 0 || p->wakefd < 0) {
		r = -errno;
		goto fail;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &p->wakefd;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &ev) < 0) {
		r = -errno;
		goto fail;
	}
	for (k = 0; k < p->nlfds; k++) {
		ev.events = EPOLLIN;
		ev.data.ptr = &p->ltag[k];
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->lfds[k], &ev) < 0) {
			r = -errno;
			goto fail;
		}
	}
	r = pool_adopt(p, adopt);
	if (r < 0)
		goto fail;
	pthread_attr_init(&attr);
	for (i = 0; i < nworkers; i++) {
		struct pool_worker_arg *wa;
		struct conn_worker *cw;

		wa = malloc(sizeof(*wa) + sizeof(*cw));
		if (wa == NULL) {
			r = -ENOMEM;
			break;
		}
		wa->p = p;
		wa->index = i;
		cw = (struct conn_worker *)(wa + 1);
		r = conn_worker_init(cw, srv, stats_shard(srv->stats, (int)i));
		cw->defer_writes = true;
		if (r == 0)
			r = -pthread_create(&p->workers[i], &attr, pool_worker, wa);
		if (r < 0) {
			conn_worker_fini(cw);
			free(wa);
			break;
		}
		p->nworkers++;
	}
	if (r == 0 && atomic_load_explicit(&engine_fault, memory_order_relaxed) ==
	    ENGINE_FAULT_START)
		r = -EAGAIN;	/* as if the reactor's thread could not be made */
	if (r == 0) {
		r = -pthread_create(&p->reactor, &attr, pool_reactor, p);
		p->reactor_started = r == 0;
	}
	pthread_attr_destroy(&attr);
	if (r < 0)
		goto fail;
	*out = &p->base;
	return 0;
fail:
	/* nothing was queued without the reactor: every adopted connection is
	 * idle or kicked, and goes back on *adopt (closed when ADOPT is NULL) */
	pool_stop(&p->base, adopt);
	pool_free(&p->base);
	return r;
}

/*
 * The watchdog's question, once per period: did the reactor loop since the
 * last call (the call wakes it, so an idle one loops too), and, when work
 * was queued at both calls, did a worker finish a turn or a request?
 */
static bool
pool_alive(struct engine *e)
{
	struct pool *p = (struct pool *)e;
	unsigned long rb, wb;
	uint64_t requests = 0;
	bool queued, stopping, ok = true;
	unsigned i;

	/* relaxed: counters, only compared with their previous values */
	rb = atomic_load_explicit(&p->reactor_beat, memory_order_relaxed);
	wb = atomic_load_explicit(&p->worker_beat, memory_order_relaxed);
	for (i = 0; i < p->srv->workers && i < STATS_SHARDS; i++)
		requests += atomic_load_explicit(&stats_shard(p->stats, (int)i)->requests,
		    memory_order_relaxed);
	/* a stopping engine's queue holds stop tokens: they are not work */
	queued = queue_size_approx(p->q) >
	    atomic_load_explicit(&p->stop_tokens, memory_order_relaxed);
	stopping = atomic_load_explicit(&p->stopping, memory_order_relaxed);
	if (p->watched) {
		/* a stopping engine's reactor has ended: only its workers count */
		if (!stopping && rb == p->seen_reactor)
			ok = false;
		if (queued && p->seen_queued && wb == p->seen_worker &&
		    requests == p->seen_requests)
			ok = false;
	}
	p->watched = true;
	p->seen_reactor = rb;
	p->seen_worker = wb;
	p->seen_requests = requests;
	p->seen_queued = queued;
	if (!stopping)
		pool_wake(p);
	return ok;
}

const struct engine_ops engine_pool_ops = {
	.name = "pool",
	.start = pool_start,
	.stop = pool_stop,
	.free = pool_free,
	.alive = pool_alive,
};
