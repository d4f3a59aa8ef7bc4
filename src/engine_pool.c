/*
 * engine_pool.c - the worker-pool engines: lockfree, locked and sequential.
 *
 * Each reactor thread (`reactors`, one by default on a small machine) owns
 * an epoll set. It accepts new connections from the shared listening
 * sockets (registered with EPOLLEXCLUSIVE in every reactor's set, so a new
 * client wakes one reactor) and watches its own idle keep-alive connections;
 * a connection that becomes readable is pushed to the one bounded queue as
 * one work item, so the queue distributes requests, not connections, and an
 * idle connection costs no worker and no read buffer. A worker pops a
 * connection, serves what is readable (conn.c), then gives it back to the
 * reactor that owns it, as described below. When the queue is full a
 * reactor waits in queue_push (backpressure) and new clients wait in the
 * kernel's listen backlog: nothing is dropped. max_connections counts the
 * connections of all reactors; reaching it pauses accepting in all.
 *
 * One batch at a time: after queueing what one epoll_wait reported, a
 * reactor waits until the workers have emptied the queue (queue_wait_empty,
 * at most POOL_DRAIN_NS, so that a reactor whose neighbours keep the queue
 * busy still polls) before it polls again. Polling at once, it found one or
 * two connections ready and slept in epoll_wait in between, or, with a
 * small queue, slept on the full queue in the middle of a batch: either way
 * a sleep and a wake-up for every few requests. Waiting, its next poll
 * gathers in one batch what became ready while the workers served. The
 * queue's capacity bounds the batch, hence a default of 64. Measured the
 * suite's way (server in its own session, static page, wrk -t2 -c64 -d4s,
 * 2 workers, 2 shared CPUs, 6 interleaved rounds, medians): lockfree
 * 5.57 -> 5.15 us of server CPU and 0.34 -> 0.11 voluntary context
 * switches per request, req/s within the spread (189k and 189k); locked
 * 5.60 -> 4.73 us, 0.32 -> 0.12, 180k -> 200k; lighttpd 4.44 us, 207k.
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
 * its reactor (the only one whose epoll set holds it) moves a connection out
 * of ARMED, so that reactor can close expired ARMED connections without a
 * race.
 *
 * A report can name a connection that its worker is closing at that moment,
 * so a worker never frees one: it removes it from the epoll set, closes the
 * socket and pushes the struct on its reactor's `dead` stack, which that
 * reactor takes whole and frees before its next epoll_wait, when no report
 * it holds can name it. Connections are added to the epoll set at their
 * first give-back.
 *
 * Each reactor's list of connections is its own: only that thread links and
 * unlinks (at accept, sweep and reap; pool_stop and pool_adopt run when no
 * reactor does), so neither a new connection nor a close takes a lock. The
 * count against max_connections is one atomic shared by all reactors: a
 * reactor reserves a slot with a compare-and-swap before accept(), so two
 * reactors never pass the limit between them, and a close gives it back
 * with a subtraction. Only pausing and resuming the listeners, at the
 * limit, takes the pool's mutex; see pool_accept_pause for why no close
 * can be missed by a pause.
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
#include "spin.h"
#include "stats.h"

#define POOL_EVENTS		256
#define POOL_ACCEPT_BURST	64
#define POOL_SWEEP_NS		1000000000ull
/* The longest a reactor waits for the workers to empty the queue (above). */
#define POOL_DRAIN_NS		1000000L
/* Pushed once per worker at stop; never a valid connection pointer. */
#define POOL_STOP		((void *)&pool_stop_token)

static const char pool_stop_token;

struct pool;

/* One reactor: its epoll set and the connections registered in it. */
struct pool_reactor {
	struct pool		*p;
	unsigned		 index;
	pthread_t		 thread;
	bool			 started;
	int			 epfd;
	int			 wakefd;	/* eventfd: stop, accepting may resume, watchdog */
	struct stats_shard	*shard;		/* its own: reactors count in parallel */
	struct conn		*conns;		/* this reactor's thread only */
	struct conn *_Atomic	 dead;		/* closed by workers, via dead_next */
	struct conn		**kick;		/* adopted with input: queued at start */
	size_t			 nkick;
	bool			 queued;	/* pushed work since its last poll */
	atomic_ulong		 beat;		/* bumped every loop (pool_alive) */
	unsigned long		 seen_beat;	/* pool_alive's thread only */
};

struct pool {
	struct engine		 base;
	const struct server	*srv;
	struct stats		*stats;
	struct queue		*q;
	struct pool_reactor	*reactors;
	unsigned		 nreactors;
	const int		*lfds;
	size_t			 nlfds;
	char			*ltag;		/* &ltag[i] is listener i's epoll cookie */
	pthread_t		*workers;
	unsigned		 nworkers;	/* started */
	pthread_mutex_t		 accept_mu;	/* pause and resume of the listeners */
	atomic_size_t		 nconns;	/* of all reactors, <= max_connections */
	atomic_bool		 accept_paused;	/* written under accept_mu */
	atomic_bool		 stopping;
	atomic_bool		 handing_off;	/* set before stopping, at a reload */
	uint64_t		 rto_ns, kto_ns;
	/* liveness (pool_alive): bumped by workers */
	atomic_ulong		 worker_beat;
	atomic_uint		 stop_tokens;	/* POOL_STOP pushed, not yet popped */
	unsigned long		 seen_worker;	/* pool_alive's thread only */
	uint64_t		 seen_requests;
	bool			 seen_queued, watched;
};

struct pool_worker_arg {
	struct pool	*p;
	unsigned	 index;
};

/*
 * Accepting on or off in every reactor (accept_mu held). EPOLLEXCLUSIVE cannot be
 * modified, so a pause removes the listeners and a resume adds them again.
 */
static void
pool_listeners_arm(struct pool *p, bool on)
{
	struct epoll_event ev;
	unsigned r;
	size_t i;

	for (r = 0; r < p->nreactors; r++) {
		for (i = 0; i < p->nlfds; i++) {
			ev.events = EPOLLIN | EPOLLEXCLUSIVE;
			ev.data.ptr = &p->ltag[i];
			epoll_ctl(p->reactors[r].epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
			    p->lfds[i], &ev);
		}
	}
}

static void
pool_wake(struct pool_reactor *r)
{
	uint64_t one = 1;

	if (write(r->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("pool: eventfd write");
}

static struct pool_reactor *
pool_reactor_of(struct pool *p, const struct conn *c)
{
	return &p->reactors[c->reactor];
}

/*
 * Gives back a slot of max_connections. Sequentially consistent, with the
 * load of accept_paused after it: pool_accept_pause stores accept_paused
 * and then loads nconns, so either this close sees the pause and wakes a
 * reactor to resume, or the pause sees this close and resumes at once.
 */
static void
pool_release_slot(struct pool *p, struct pool_reactor *r)
{
	atomic_fetch_sub(&p->nconns, 1);
	if (atomic_load(&p->accept_paused))
		pool_wake(r);
}

/* A worker closes a connection it owns; its reactor unlinks and frees it. */
static void
pool_close(struct pool *p, struct conn *c, struct stats_shard *shard)
{
	struct pool_reactor *r = pool_reactor_of(p, c);
	struct conn *head;

	if (c->polled)
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	conn_close_fd(c);
	/* release: pairs with pool_reap's acquire exchange, which then sees
	 * the connection as this worker left it */
	head = atomic_load_explicit(&r->dead, memory_order_relaxed);
	do
		c->dead_next = head;
	while (!atomic_compare_exchange_weak_explicit(&r->dead, &head, c,
	    memory_order_release, memory_order_relaxed));
	stats_conn_closed(shard);
	pool_release_slot(p, r);
}

/* Unlinks and frees the connections workers closed (its thread, between
 * epoll_waits; or pool_stop, when no thread runs). */
static void
pool_reap(struct pool_reactor *r)
{
	struct conn *c, *dead;

	/* relaxed: a cheap look before the exchange, which orders */
	if (atomic_load_explicit(&r->dead, memory_order_relaxed) == NULL)
		return;
	/* acquire: pairs with pool_close's release push. Taking the whole
	 * stack at once leaves no ABA window: workers only push */
	dead = atomic_exchange_explicit(&r->dead, NULL, memory_order_acquire);
	while ((c = dead) != NULL) {
		dead = c->dead_next;
		conn_list_remove(&r->conns, c);
		conn_free(c);
	}
}

/* The events a connection waits for: input (and its end, for peer_shut), or
 * room for its unsent output. */
static uint32_t
pool_events(const struct conn *c)
{
	return EPOLLIN | EPOLLRDHUP | EPOLLET | (conn_output_pending(c) ? EPOLLOUT : 0);
}

/*
 * Gives a served connection back to the reactor. Returns true when new input
 * came while it was being served: the caller still owns it and serves it again.
 */
static bool
pool_giveback(struct pool *p, struct conn *c, struct stats_shard *shard)
{
	struct epoll_event ev = { .events = pool_events(c), .data.ptr = c };
	bool want_out = conn_output_pending(c);

	/* registered once; changed only when waiting for output starts or ends */
	if (!c->polled || want_out != c->poll_out) {
		if (epoll_ctl(pool_reactor_of(p, c)->epfd,
		    c->polled ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0) {
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

		stats_dequeued(cw.shard);
		/* at a reload, what is still queued goes to the next engine unserved
		 * (it stays on its reactor's list, WORKING): the drain waits for no new turn */
		if (atomic_load_explicit(&p->handing_off, memory_order_relaxed))
			continue;
		stats_work_begin(cw.shard);
		for (;;) {
			enum conn_status st = conn_serve(c, &cw);

			if (st == CONN_CLOSE) {
				pool_close(p, c, cw.shard);
				break;
			}
			/* undrained input raises no new edge: queue it again, or go
			 * on; a stopping engine keeps the rest for the handoff */
			if (st == CONN_MORE) {
				if (atomic_load_explicit(&p->stopping, memory_order_relaxed))
					break;
				if (queue_try_push(p->q, c)) {
					stats_queued(cw.shard);
					break;
				}
				continue;
			}
			if (!pool_giveback(p, c, cw.shard))
				break;
		}
		stats_work_end(cw.shard);
		/* relaxed: a counter pool_alive only compares */
		atomic_fetch_add_explicit(&p->worker_beat, 1, memory_order_relaxed);
	}
	/* relaxed: an approximate count for pool_alive */
	atomic_fetch_sub_explicit(&p->stop_tokens, 1, memory_order_relaxed);
	conn_worker_fini(&cw);
	return NULL;
}

/* Queues C for a worker (its reactor R's thread). */
static void
pool_queue(struct pool_reactor *r, struct conn *c)
{
	stats_queued(r->shard);
	if (queue_push(r->p->q, c))
		atomic_fetch_add_explicit(&r->p->stats->queue_full, 1, memory_order_relaxed);
	r->queued = true;
}

/* Accepts again if a connection closed below max_connections meanwhile
 * (accept_mu held). */
static void
pool_accept_resume_locked(struct pool *p)
{
	/* seq_cst: see pool_release_slot */
	if (atomic_load(&p->accept_paused) &&
	    atomic_load(&p->nconns) < p->srv->cfg.max_connections) {
		atomic_store(&p->accept_paused, false);
		pool_listeners_arm(p, true);
	}
}

/*
 * Stops watching the listening sockets: at max_connections, or (OUT_OF_FDS)
 * when accept() ran out of descriptors. The store of accept_paused comes
 * before the load of nconns (both seq_cst), so a close that pool_release_slot
 * made before the store is seen here and resumes at once, and a later one
 * sees the pause and wakes a reactor. Out of descriptors, a close wakes a
 * reactor as well (it freed one), and the sweep retries within a second.
 */
static void
pool_accept_pause(struct pool *p, bool out_of_fds)
{
	pthread_mutex_lock(&p->accept_mu);
	if (!atomic_load(&p->accept_paused)) {
		atomic_store(&p->accept_paused, true);
		pool_listeners_arm(p, false);
	}
	if (!out_of_fds)
		pool_accept_resume_locked(p);
	pthread_mutex_unlock(&p->accept_mu);
}

/* Accepts again once a connection closed below max_connections (a reactor's
 * thread: woken by a close, or its sweep). */
static void
pool_accept_resume(struct pool *p)
{
	/* seq_cst: after the eventfd read of pool_release_slot's wake-up */
	if (!atomic_load(&p->accept_paused))
		return;
	pthread_mutex_lock(&p->accept_mu);
	pool_accept_resume_locked(p);
	pthread_mutex_unlock(&p->accept_mu);
}

/* Takes one of max_connections' slots; false when none is left. */
static bool
pool_reserve_slot(struct pool *p)
{
	size_t n = atomic_load_explicit(&p->nconns, memory_order_relaxed);

	/* relaxed on success: the count orders nothing else; the pause and
	 * its re-check (seq_cst) are what a closing worker pairs with */
	do
		if (n >= p->srv->cfg.max_connections)
			return false;
	while (!atomic_compare_exchange_weak_explicit(&p->nconns, &n, n + 1,
	    memory_order_relaxed, memory_order_relaxed));
	return true;
}

static void
pool_accept(struct pool_reactor *rc, int lfd)
{
	struct pool *p = rc->p;
	struct conn *c;
	int i, r;

	for (i = 0; i < POOL_ACCEPT_BURST; i++) {
		/* the slot is taken before accept(): reactors accept concurrently */
		if (!pool_reserve_slot(p)) {
			/* leave clients in the backlog until a connection closes */
			pool_accept_pause(p, false);
			return;
		}
		r = conn_accept(lfd, &c);
		if (r == -EMFILE || r == -ENFILE) {
			/* out of descriptors: retry at the next sweep instead of spinning */
			errno = -r;
			log_warn("accept: pausing for a second");
			atomic_fetch_sub(&p->nconns, 1);
			pool_accept_pause(p, true);
			return;
		}
		if (r < 0) {
			/* another reactor may have paused on the slot this one held */
			pool_release_slot(p, rc);
			if (r == -EAGAIN)
				return;
			errno = -r;
			log_warn("accept");
			continue;
		}
		atomic_store_explicit(&c->state, POOL_WORKING, memory_order_relaxed);
		c->reactor = rc->index;
		conn_list_push(&rc->conns, c);
		stats_conn_opened(rc->shard);
		/* clients usually send at once: serve now rather than after a poll round */
		pool_queue(rc, c);
	}
}

/* Closes its idle connections past their deadline (reactor R's thread only). */
static void
pool_sweep(struct pool_reactor *r, uint64_t now)
{
	struct pool *p = r->p;
	struct conn *c, *next;

	for (c = r->conns; c != NULL; c = next) {
		next = c->next;
		if (!pool_state_idle(&c->state))
			continue;
		if (now < conn_deadline(c, p->rto_ns, p->kto_ns))
			continue;
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		conn_list_remove(&r->conns, c);
		conn_expire(c, p->srv, r->shard);
		stats_conn_closed(r->shard);
		conn_free(c);
		atomic_fetch_sub(&p->nconns, 1);
	}
	pool_accept_resume(p);
}

static void *
pool_reactor(void *arg)
{
	struct pool_reactor *r = arg;
	struct pool *p = r->p;
	struct epoll_event evs[POOL_EVENTS];
	uint64_t next_sweep = stats_now_ns() + POOL_SWEEP_NS, now;
	char name[16];
	int n, i, timeout;

	snprintf(name, sizeof(name), "lf-reactor-%u", r->index);
	pthread_setname_np(pthread_self(), name);
	/* adopted connections holding input: no edge will report them */
	for (i = 0; i < (int)r->nkick; i++) {
		r->kick[i]->ready_ns = stats_now_ns();
		pool_queue(r, r->kick[i]);
	}
	while (!atomic_load_explicit(&p->stopping, memory_order_relaxed)) {
		/* relaxed: a counter pool_alive only compares */
		atomic_fetch_add_explicit(&r->beat, 1, memory_order_relaxed);
		while (atomic_load_explicit(&engine_fault, memory_order_relaxed) ==
		    ENGINE_FAULT_STALL_REACTOR &&
		    !atomic_load_explicit(&p->stopping, memory_order_relaxed))
			usleep(10000);
		pool_reap(r);
		now = stats_now_ns();
		timeout = now >= next_sweep ? 0 : (int)((next_sweep - now) / 1000000u) + 1;
		n = epoll_wait(r->epfd, evs, POOL_EVENTS, timeout);
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

			if (tag == &r->wakefd) {
				uint64_t v;

				if (read(r->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_warn("pool: eventfd read");
				pool_accept_resume(p);
				continue;
			}
			if ((char *)tag >= p->ltag && (char *)tag < p->ltag + p->nlfds) {
				pool_accept(r, p->lfds[(char *)tag - p->ltag]);
				continue;
			}
			c = tag;
			/* before the report, whose exchange releases it */
			if (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				atomic_store_explicit(&c->peer_shut, true, memory_order_relaxed);
			if (!pool_state_report(&c->state))
				continue;	/* its worker serves the new input */
			c->ready_ns = now;
			pool_queue(r, c);
		}
		/* one batch at a time (top of this file) */
		if (r->queued) {
			queue_wait_empty(p->q, POOL_DRAIN_NS);
			r->queued = false;
		}
		if (now >= next_sweep) {
			pool_sweep(r, now);
			next_sweep = now + POOL_SWEEP_NS;
		}
	}
	return NULL;
}

static void
pool_free(struct engine *e)
{
	struct pool *p = (struct pool *)e;

	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; p->reactors != NULL && i < p->nreactors; i++) {
		if (p->reactors[i].epfd >= 0)
			close(p->reactors[i].epfd);
		if (p->reactors[i].wakefd >= 0)
			close(p->reactors[i].wakefd);
		free(p->reactors[i].kick);
	}
	free(p->reactors);
	queue_free(p->q);
	pthread_mutex_destroy(&p->accept_mu);
	free(p->workers);
	free(p->ltag);
	free(p);
}

static void
pool_stop(struct engine *e, struct conn **handoff)
{
	struct pool *p = (struct pool *)e;
	struct pool_reactor *r;
	struct conn *c;
	unsigned i;

	/* both read by workers after their pop: the queue's own ordering, and
	 * the joins below, are all that is needed */
	atomic_store_explicit(&p->handing_off, handoff != NULL, memory_order_relaxed);
	atomic_store_explicit(&p->stopping, true, memory_order_relaxed);
	for (i = 0; i < p->nreactors; i++) {
		r = &p->reactors[i];
		if (r->started) {
			pool_wake(r);
			pthread_join(r->thread, NULL);
			r->started = false;
		}
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
	/* no thread touches a connection now: each is idle (armed in an epoll
	 * set nobody reads) or was left by a worker with its input (WORKING) */
	for (i = 0; i < p->nreactors; i++) {
		r = &p->reactors[i];
		pool_reap(r);
		while ((c = r->conns) != NULL) {
			conn_list_remove(&r->conns, c);
			atomic_fetch_sub(&p->nconns, 1);
			if (c->polled)
				epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL);
			c->polled = c->poll_out = false;
			atomic_store_explicit(&c->state, POOL_WORKING, memory_order_relaxed);
			if (handoff != NULL)
				conn_list_push(handoff, c);
			else {
				stats_conn_closed(r->shard);
				conn_free(c);
			}
		}
	}
}

/* Shares the adopted connections out among the reactors, idle ones armed
 * (before any thread runs). */
static int
pool_adopt(struct pool *p, struct conn **adopt)
{
	struct pool_reactor *r;
	struct epoll_event ev;
	struct conn *c;
	size_t n = 0;
	unsigned i, next = 0;

	for (c = adopt != NULL ? *adopt : NULL; c != NULL; c = c->next)
		n++;
	for (i = 0; i < p->nreactors; i++) {
		p->reactors[i].kick = calloc(n / p->nreactors + 1, sizeof(struct conn *));
		if (p->reactors[i].kick == NULL)
			return -ENOMEM;
	}
	while (adopt != NULL && (c = *adopt) != NULL) {
		r = &p->reactors[next];
		next = (next + 1) % p->nreactors;
		conn_list_remove(adopt, c);
		c->reactor = r->index;
		conn_list_push(&r->conns, c);
		atomic_fetch_add_explicit(&p->nconns, 1, memory_order_relaxed);
		ev.events = pool_events(c);
		ev.data.ptr = c;
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			return -errno;
		c->polled = true;
		c->poll_out = conn_output_pending(c);
		if (c->pending != NULL) {
			atomic_store_explicit(&c->state, POOL_WORKING, memory_order_relaxed);
			r->kick[r->nkick++] = c;
		} else
			atomic_store_explicit(&c->state, POOL_ARMED, memory_order_relaxed);
	}
	return 0;
}

_Static_assert(LF_WORKER_SPIN_AUTO == SPIN_AUTO, "worker_spin_us = auto");

/* How long idle workers poll the queue before they park (worker_spin_us). */
static void
pool_spin(struct pool *p)
{
	unsigned us, max;

	spin_plan(p->srv->cfg.worker_spin_us, server_usable_cpus(),
	    p->nreactors, &us, &max);
	queue_set_spin(p->q, us, max);
}

/* Reactor R's epoll set, with its eventfd and the listening sockets. */
static int
pool_reactor_init(struct pool *p, struct pool_reactor *r)
{
	struct epoll_event ev;
	size_t k;

	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->epfd < 0 || r->wakefd < 0)
		return -errno;
	ev.events = EPOLLIN;
	ev.data.ptr = &r->wakefd;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->wakefd, &ev) < 0)
		return -errno;
	for (k = 0; k < p->nlfds; k++) {
		/* a new client wakes one reactor, not all of them */
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = &p->ltag[k];
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, p->lfds[k], &ev) < 0)
			return -errno;
	}
	return 0;
}

static int
pool_start(struct engine **out, const struct engine_params *prm, struct conn **adopt)
{
	const struct server *srv = prm->srv;
	struct pool *p;
	pthread_attr_t attr;
	unsigned i, nworkers = srv->workers;
	int r;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->base.ops = &engine_pool_ops;
	p->srv = srv;
	p->stats = srv->stats;
	p->lfds = prm->lfds;
	p->nlfds = prm->nlfds;
	p->rto_ns = (uint64_t)srv->cfg.request_timeout * 1000000000u;
	p->kto_ns = (uint64_t)srv->cfg.keepalive_timeout * 1000000000u;
	pthread_mutex_init(&p->accept_mu, NULL);
	p->ltag = calloc(prm->nlfds ? prm->nlfds : 1, 1);
	p->workers = calloc(nworkers, sizeof(*p->workers));
	p->nreactors = srv->reactors ? srv->reactors : 1;
	p->reactors = calloc(p->nreactors, sizeof(*p->reactors));
	if (p->ltag == NULL || p->workers == NULL || p->reactors == NULL) {
		p->nreactors = 0;
		r = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < p->nreactors; i++) {
		p->reactors[i].p = p;
		p->reactors[i].index = i;
		/* after the workers' shards (wrapping past STATS_SHARDS) */
		p->reactors[i].shard = stats_shard(srv->stats, (int)(nworkers + i));
		p->reactors[i].epfd = p->reactors[i].wakefd = -1;
	}
	r = queue_create(&p->q, srv->cfg.mode == LF_MODE_LOCKFREE ? QUEUE_LOCKFREE :
	    QUEUE_LOCKED, srv->cfg.queue_capacity);
	if (r < 0)
		goto fail;
	pool_spin(p);
	for (i = 0; i < p->nreactors; i++) {
		r = pool_reactor_init(p, &p->reactors[i]);
		if (r < 0)
			goto fail;
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
	for (i = 0; r == 0 && i < p->nreactors; i++) {
		r = -pthread_create(&p->reactors[i].thread, &attr, pool_reactor,
		    &p->reactors[i]);
		p->reactors[i].started = r == 0;
	}
	pthread_attr_destroy(&attr);
	if (r < 0)
		goto fail;
	*out = &p->base;
	return 0;
fail:
	/* at most the reactors started before the failure queued anything, and
	 * pool_stop drains them: every connection goes back on *adopt (closed
	 * when ADOPT is NULL) */
	pool_stop(&p->base, adopt);
	pool_free(&p->base);
	return r;
}

/*
 * The watchdog's question, once per period: did every reactor loop since the
 * last call (the call wakes them, so idle ones loop too), and, when work was
 * queued at both calls, did a worker finish a turn or a request?
 */
static bool
pool_alive(struct engine *e)
{
	struct pool *p = (struct pool *)e;
	unsigned long beat, wb;
	uint64_t requests = 0;
	bool queued, stopping, ok = true;
	unsigned i;

	/* relaxed: counters, only compared with their previous values */
	stopping = atomic_load_explicit(&p->stopping, memory_order_relaxed);
	for (i = 0; i < p->nreactors; i++) {
		beat = atomic_load_explicit(&p->reactors[i].beat, memory_order_relaxed);
		/* a stopping engine's reactors have ended: only its workers count */
		if (p->watched && !stopping && beat == p->reactors[i].seen_beat)
			ok = false;
		p->reactors[i].seen_beat = beat;
		if (!stopping)
			pool_wake(&p->reactors[i]);
	}
	wb = atomic_load_explicit(&p->worker_beat, memory_order_relaxed);
	for (i = 0; i < p->srv->workers && i < STATS_SHARDS; i++)
		requests += atomic_load_explicit(&stats_shard(p->stats, (int)i)->requests,
		    memory_order_relaxed);
	/* a stopping engine's queue holds stop tokens: they are not work */
	queued = queue_size_approx(p->q) >
	    atomic_load_explicit(&p->stop_tokens, memory_order_relaxed);
	if (p->watched && queued && p->seen_queued && wb == p->seen_worker &&
	    requests == p->seen_requests)
		ok = false;
	p->watched = true;
	p->seen_worker = wb;
	p->seen_requests = requests;
	p->seen_queued = queued;
	return ok;
}

const struct engine_ops engine_pool_ops = {
	.name = "pool",
	.start = pool_start,
	.stop = pool_stop,
	.free = pool_free,
	.alive = pool_alive,
};
