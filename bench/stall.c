/*
 * stall.c - the event-loop stall: one single-threaded epoll server under
 * handshake load, handshakes in process (GnuTLS, crypto inline) or through
 * handoffd (libhandoff, non-blocking).  What counts is how long one loop
 * iteration is busy, i.e. how long every other connection of that loop
 * waits: its p99 and maximum; and the p99 of the CPU time the loop
 * thread itself spent in those iterations, to tell work from time spent
 * preempted on a machine shared with the load and the daemon.
 */
#define _GNU_SOURCE /* accept4, pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "handoff.h"

struct conn {
	struct conn *prev, *next; /* the loop's live connections */
	int fd;
	int watched; /* fd registered with epoll, -1 if none */
	gnutls_session_t tls;
	struct handoff_conn *h;
	int handshaken;
};

struct loop {
	enum bench_side side;
	int ep, lfd;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_datum_t ticket_key;
	struct handoff_ctx *hctx;
	atomic_int stop;   /* set by the thread that runs the load */
	struct conn *live; /* freed when the measurement ends */
	struct bench_samples busy;
	struct bench_samples busy_cpu; /* the loop thread's CPU time */
	unsigned long done;
};

static void
watch(struct loop *l, struct conn *c, int fd, int out)
{
	struct epoll_event ev = {
	    .events = (out ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT,
	    .data.ptr = c};
	if (fd != c->watched) {
		if (c->watched >= 0)
			epoll_ctl(l->ep, EPOLL_CTL_DEL, c->watched, NULL);
		c->watched = fd;
		epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
	} else {
		epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
	}
}

static void
finish(struct loop *l, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->watched >= 0)
		epoll_ctl(l->ep, EPOLL_CTL_DEL, c->watched, NULL);
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	handoff_conn_free(c->h);
	close(c->fd);
	free(c);
}

/* Advances one connection; returns when it must wait or is finished. */
static void
step(struct loop *l, struct conn *c)
{
	if (l->side == BENCH_GNUTLS) {
		int r = c->handshaken ? 0 : gnutls_handshake(c->tls);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			watch(
			    l, c, c->fd, gnutls_record_get_direction(c->tls));
			return;
		}
		c->handshaken = 1;
		if (r == 0) {
			ssize_t n = gnutls_record_send(c->tls, "x", 1);
			if (n == GNUTLS_E_AGAIN) {
				watch(l, c, c->fd, 1);
				return;
			}
			l->done += n == 1;
		}
		finish(l, c);
		return;
	}
	int r = c->handshaken ? 0 : handoff_handshake(c->h);
	if (r == HANDOFF_WANT_POLLIN || r == HANDOFF_WANT_POLLOUT) {
		watch(l, c, handoff_conn_pollfd(c->h),
		    r == HANDOFF_WANT_POLLOUT);
		return;
	}
	c->handshaken = 1;
	if (r == 0) {
		ssize_t n = handoff_write(c->h, "x", 1);
		if (n == HANDOFF_WANT_POLLOUT) {
			watch(l, c, handoff_conn_pollfd(c->h), 1);
			return;
		}
		l->done += n == 1;
	}
	finish(l, c);
}

static void
accept_all(struct loop *l)
{
	for (;;) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct conn *c = calloc(1, sizeof(*c));
		c->fd = fd;
		c->watched = -1;
		c->next = l->live;
		if (l->live != NULL)
			l->live->prev = c;
		l->live = c;
		if (l->side == BENCH_GNUTLS) {
			gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK);
			gnutls_priority_set(c->tls, l->prio);
			gnutls_credentials_set(
			    c->tls, GNUTLS_CRD_CERTIFICATE, l->cred);
			gnutls_session_ticket_enable_server(
			    c->tls, &l->ticket_key);
			gnutls_transport_set_int(c->tls, fd);
		} else if (handoff_accept_socket(l->hctx, &c->h, fd) != 0) {
			close(fd);
			free(c);
			continue;
		}
		step(l, c);
	}
}

static double
thread_cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
loop_thread(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[64];
	/* Named so that perf and /proc tell the loop from the load's threads,
	 * which share its process. */
	pthread_setname_np(pthread_self(), "bench-loop");
	while (!atomic_load_explicit(&l->stop, memory_order_relaxed)) {
		int n = epoll_wait(l->ep, evs, 64, 100);
		double t0 = bench_now(), cpu0 = thread_cpu_now();
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				accept_all(l);
			else
				step(l, evs[i].data.ptr);
		}
		if (n > 0) {
			bench_samples_add(&l->busy, bench_now() - t0);
			bench_samples_add(
			    &l->busy_cpu, thread_cpu_now() - cpu0);
		}
	}
	return NULL;
}

/* Iterations of one side's rounds, pooled, and each round's own figures
 * (the result's *_rounds), so the ratio's spread across rounds shows. */
struct stall_pool {
	struct bench_samples busy, busy_cpu; /* wall clock, loop's CPU */
	unsigned long done;                  /* handshakes completed */
	double seconds;                      /* run time */
	struct bench_stall_result rounds;    /* only *_rounds filled */
};

/* One round of one side: the loop under load for `seconds`. */
static void
stall_round(enum bench_side side, const struct bench_cert *c,
    const char *daemon_url, const char *profile, unsigned clients,
    double seconds, struct stall_pool *pool)
{
	struct loop l;
	int port;
	memset(&l, 0, sizeof(l));
	atomic_init(&l.stop, 0);
	l.side = side;
	l.lfd = bench_listen(&port);
	fcntl(l.lfd, F_SETFL, O_NONBLOCK);
	l.ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(l.ep, EPOLL_CTL_ADD, l.lfd, &ev);
	gnutls_certificate_allocate_credentials(&l.cred);
	gnutls_certificate_set_x509_key_file(
	    l.cred, c->cert, c->key, GNUTLS_X509_FMT_PEM);
	gnutls_priority_init(&l.prio, BENCH_PRIORITY, NULL);
	gnutls_session_ticket_key_generate(&l.ticket_key);
	if (side == BENCH_HANDOFF) {
		struct handoff_config *cfg = handoff_config_new();
		handoff_config_set_daemon(cfg, daemon_url);
		handoff_config_set_profile(cfg, profile);
		l.hctx = handoff_ctx_new(cfg);
		handoff_config_free(cfg);
	}
	pthread_t t;
	pthread_create(&t, NULL, loop_thread, &l);
	struct bench_hs_result load;
	double start = bench_now();
	bench_run_gnutls_load(port, clients, seconds, &load);
	double took = bench_now() - start;
	atomic_store_explicit(&l.stop, 1, memory_order_relaxed);
	pthread_join(t, NULL);
	bench_round_rates_add(
	    &pool->rounds.p99_rounds, bench_quantile(&l.busy, 0.99) * 1e6);
	bench_round_rates_add(
	    &pool->rounds.max_rounds, bench_quantile(&l.busy, 1.0) * 1e6);
	bench_round_rates_add(&pool->rounds.cpu_p99_rounds,
	    bench_quantile(&l.busy_cpu, 0.99) * 1e6);
	bench_round_rates_add(
	    &pool->rounds.rate_rounds, took > 0 ? (double)l.done / took : 0);
	bench_samples_append(&pool->busy, &l.busy);
	bench_samples_append(&pool->busy_cpu, &l.busy_cpu);
	bench_samples_free(&l.busy);
	bench_samples_free(&l.busy_cpu);
	pool->done += l.done;
	pool->seconds += took;
	while (l.live != NULL) /* cut short when the load stopped */
		finish(&l, l.live);
	handoff_ctx_free(l.hctx);
	gnutls_certificate_free_credentials(l.cred);
	gnutls_priority_deinit(l.prio);
	gnutls_free(l.ticket_key.data);
	close(l.ep);
	close(l.lfd);
}

static void
stall_result(struct stall_pool *pool, struct bench_stall_result *out)
{
	out->p99_us = bench_quantile(&pool->busy, 0.99) * 1e6;
	out->max_us = bench_quantile(&pool->busy, 1.0) * 1e6;
	out->cpu_p99_us = bench_quantile(&pool->busy_cpu, 0.99) * 1e6;
	out->per_sec =
	    pool->seconds > 0 ? (double)pool->done / pool->seconds : 0;
	out->p99_rounds = pool->rounds.p99_rounds;
	out->max_rounds = pool->rounds.max_rounds;
	out->cpu_p99_rounds = pool->rounds.cpu_p99_rounds;
	out->rate_rounds = pool->rounds.rate_rounds;
	bench_samples_free(&pool->busy);
	bench_samples_free(&pool->busy_cpu);
}

/* bench_event_loop_stall's state across its rounds. */
struct stall_rounds {
	const struct bench_cert *cert;
	const char *daemon_url, *profile;
	unsigned clients;
	struct stall_pool pool[2];
};

static void
stall_turn(int side, double seconds, void *arg)
{
	struct stall_rounds *r = arg;
	stall_round(side ? BENCH_HANDOFF : BENCH_GNUTLS, r->cert,
	    side ? r->daemon_url : NULL, side ? r->profile : NULL, r->clients,
	    seconds, &r->pool[side]);
}

void
bench_event_loop_stall(const struct bench_cert *c, const char *daemon_url,
    const char *profile, unsigned clients, double seconds, int rounds,
    struct bench_stall_result *gnutls, struct bench_stall_result *handoff)
{
	struct stall_rounds r = {.cert = c,
	    .daemon_url = daemon_url,
	    .profile = profile,
	    .clients = clients};
	bench_alternate(rounds, seconds, stall_turn, &r);
	stall_result(&r.pool[0], gnutls);
	stall_result(&r.pool[1], handoff);
}
