/*
 * handshakes.c - handshake throughput and latency, both sides driven by
 * the same load generator.
 *
 * A service connection is: TCP connect, TLS 1.3 handshake, the server
 * writes one byte, the client reads it (taking the NewSessionTickets on
 * the way), both close without close_notify.  Latency is measured by the
 * client from connect to that byte.  In a resumed figure each client
 * first makes one full handshake for a ticket, not counted; GnuTLS
 * clients then resume with that session, libhandoff's through handoffd's
 * client cache, which the caller's relay of the ticket filled; any that
 * ran full instead are counted.  The server is a pool of blocking
 * threads that accept on one socket: in process (GnuTLS), through
 * handoffd (libhandoff, the keys in the daemon), or GnuTLS in process
 * with only its key in handoffd (handoff_gnutls.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "handoff.h"
#include "handoff_gnutls.h"

struct server {
	int lfd;
	enum bench_side side;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_datum_t ticket_key;
	struct handoff_ctx *hctx;
};

static int
gnutls_serve_one(struct server *s, int fd)
{
	gnutls_session_t tls;
	int ret;
	gnutls_init(&tls, GNUTLS_SERVER);
	gnutls_priority_set(tls, s->prio);
	gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, s->cred);
	gnutls_session_ticket_enable_server(tls, &s->ticket_key);
	gnutls_transport_set_int(tls, fd);
	do {
		ret = gnutls_handshake(tls);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret == 0)
		ret = gnutls_record_send(tls, "x", 1) == 1 ? 0 : -1;
	gnutls_deinit(tls);
	return ret;
}

static int
handoff_serve_one(struct server *s, int fd)
{
	struct handoff_conn *conn = NULL;
	int ret = -1;
	if (handoff_accept_socket(s->hctx, &conn, fd) == 0 &&
	    handoff_handshake(conn) == 0 && handoff_write(conn, "x", 1) == 1)
		ret = 0;
	handoff_conn_free(conn);
	return ret;
}

/* Serves until its process is killed (server_process). */
static void *
server_thread(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (s->side == BENCH_HANDOFF)
			handoff_serve_one(s, fd);
		else /* GnuTLS's handshake, the key here or in handoffd */
			gnutls_serve_one(s, fd);
		close(fd);
	}
	return NULL; /* not reached */
}

static void
server_init(struct server *s, enum bench_side side, const struct bench_cert *c,
    const char *daemon_url, const char *profile)
{
	int lfd = s->lfd;
	memset(s, 0, sizeof(*s));
	s->lfd = lfd;
	s->side = side;
	gnutls_certificate_allocate_credentials(&s->cred);
	gnutls_priority_init(&s->prio, BENCH_PRIORITY, NULL);
	gnutls_session_ticket_key_generate(&s->ticket_key);
	if (side != BENCH_GNUTLS) {
		struct handoff_config *cfg = handoff_config_new();
		handoff_config_set_daemon(cfg, daemon_url);
		handoff_config_set_profile(cfg, profile);
		s->hctx = handoff_ctx_new(cfg);
		handoff_config_free(cfg);
		if (s->hctx == NULL)
			bench_die("cannot create a handoff context");
	}
	if (side == BENCH_KEYONLY) {
		if (handoff_gnutls_certificate_set_key(s->hctx, s->cred) != 0)
			bench_die("key-only credentials: %s",
			    handoff_ctx_error(s->hctx));
	} else if (gnutls_certificate_set_x509_key_file(
	               s->cred, c->cert, c->key, GNUTLS_X509_FMT_PEM) < 0) {
		bench_die("cannot load %s", c->cert);
	}
}

/* Runs `threads` server threads until the parent kills this process. */
static void
server_process(struct server *s, unsigned threads)
{
	pthread_t t[64];
	for (unsigned i = 0; i < threads && i < 64; i++)
		pthread_create(&t[i], NULL, server_thread, s);
	pause();
	_exit(0);
}

/* ---- the load generator ----------------------------------------------- */

struct load;
static void run_load(struct load *l, unsigned clients, double seconds,
    struct bench_hs_result *out);

struct load {
	int port;
	int resumed;
	const char *trust; /* client role bench: verify in process with it */
	enum bench_side client_side;
	struct handoff_ctx *hctx;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	double end;
	struct bench_samples lat;
	struct bench_samples *pool; /* also gets every sample, or NULL */
	unsigned long count, failures;
	unsigned long unresumed; /* meant to resume, ran full */
	pthread_mutex_t lock;
};

/* One GnuTLS client connection; *data in: session to resume, out: the
 * session to resume next time (when asked).  *resumed: whether it did. */
static int
gnutls_client_one(
    struct load *l, int fd, gnutls_datum_t *data, int keep, int *resumed)
{
	gnutls_session_t tls;
	int ret;
	char byte;
	gnutls_init(&tls, GNUTLS_CLIENT);
	gnutls_priority_set(tls, l->prio);
	gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, l->cred);
	gnutls_server_name_set(tls, GNUTLS_NAME_DNS, "localhost", 9);
	if (l->trust != NULL)
		gnutls_session_set_verify_cert(tls, "localhost", 0);
	if (data->size > 0)
		gnutls_session_set_data(tls, data->data, data->size);
	gnutls_transport_set_int(tls, fd);
	do {
		ret = gnutls_handshake(tls);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret == 0) {
		do {
			ret = (int)gnutls_record_recv(tls, &byte, 1);
		} while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
		ret = ret == 1 ? 0 : -1;
	}
	*resumed = ret == 0 && gnutls_session_is_resumed(tls);
	if (ret == 0 && keep) {
		gnutls_free(data->data);
		data->data = NULL;
		data->size = 0;
		gnutls_session_get_data2(tls, data);
	}
	gnutls_deinit(tls);
	return ret;
}

/* One libhandoff client connection; handoffd resumes it when its client
 * cache holds a ticket for the server (relayed by an earlier one). */
static int
handoff_client_one(struct load *l, int fd, int *resumed)
{
	struct handoff_conn *conn = NULL;
	char byte;
	int ret = -1;
	if (handoff_connect_socket(l->hctx, &conn, fd, "localhost") == 0 &&
	    handoff_handshake(conn) == 0 && handoff_read(conn, &byte, 1) == 1)
		ret = 0;
	*resumed = ret == 0 && handoff_conn_resumed(conn) == 1;
	handoff_conn_free(conn);
	return ret;
}

/* One connection by this load's clients; *data as gnutls_client_one's. */
static int
client_one(struct load *l, gnutls_datum_t *data, int keep, int *resumed)
{
	int fd = bench_connect(l->port), ret = -1;
	*resumed = 0;
	if (fd >= 0) {
		ret = l->client_side == BENCH_HANDOFF
		    ? handoff_client_one(l, fd, resumed)
		    : gnutls_client_one(l, fd, data, keep, resumed);
		close(fd);
	}
	return ret;
}

static void *
load_thread(void *arg)
{
	struct load *l = arg;
	gnutls_datum_t data = {NULL, 0};
	unsigned long count = 0, failures = 0, unresumed = 0;
	int resumed;
	/* One full handshake for the ticket: GnuTLS clients keep it, and
	 * libhandoff's relays it to handoffd's client cache. */
	if (l->resumed && client_one(l, &data, 1, &resumed) != 0)
		failures++;
	while (bench_now() < l->end) {
		double t0 = bench_now();
		if (client_one(l, &data, 0, &resumed) == 0) {
			count++;
			bench_samples_add(&l->lat, bench_now() - t0);
			unresumed += l->resumed && !resumed;
		} else {
			failures++;
		}
	}
	gnutls_free(data.data);
	pthread_mutex_lock(&l->lock);
	l->count += count;
	l->failures += failures;
	l->unresumed += unresumed;
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

void
bench_run_gnutls_load(
    int port, unsigned clients, double seconds, struct bench_hs_result *out)
{
	struct load l;
	memset(&l, 0, sizeof(l));
	l.port = port;
	l.client_side = BENCH_GNUTLS;
	run_load(&l, clients, seconds, out);
}

static void
run_load(struct load *l, unsigned clients, double seconds,
    struct bench_hs_result *out)
{
	pthread_t t[256];
	pthread_mutex_init(&l->lock, NULL);
	gnutls_certificate_allocate_credentials(&l->cred);
	if (l->trust != NULL &&
	    gnutls_certificate_set_x509_trust_file(
	        l->cred, l->trust, GNUTLS_X509_FMT_PEM) <= 0)
		bench_die("cannot load trust file %s", l->trust);
	gnutls_priority_init(&l->prio, BENCH_PRIORITY, NULL);
	double start = bench_now();
	l->end = start + seconds;
	if (clients > 256)
		clients = 256;
	for (unsigned i = 0; i < clients; i++)
		pthread_create(&t[i], NULL, load_thread, l);
	for (unsigned i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	double took = bench_now() - start;
	out->count = l->count;
	out->failures = l->failures;
	out->unresumed = l->unresumed;
	out->seconds = took;
	out->per_sec = (double)l->count / took;
	out->p50_us = bench_quantile(&l->lat, 0.50) * 1e6;
	out->p99_us = bench_quantile(&l->lat, 0.99) * 1e6;
	if (l->pool != NULL)
		bench_samples_append(l->pool, &l->lat);
	bench_samples_free(&l->lat);
	gnutls_certificate_free_credentials(l->cred);
	gnutls_priority_deinit(l->prio);
	pthread_mutex_destroy(&l->lock);
}

/* Starts the server: `processes` forked children of `threads` threads
 * (children create their own handoff context after fork). */
static void
start_servers(struct server *s, enum bench_side side,
    const struct bench_cert *c, const char *daemon_url, const char *profile,
    unsigned threads, unsigned processes, pid_t *pids)
{
	for (unsigned p = 0; p < processes; p++) {
		pids[p] = bench_fork(SIGKILL);
		if (pids[p] == 0) {
			server_init(s, side, c, daemon_url, profile);
			server_process(s, threads);
		}
	}
}

static void
stop_servers(pid_t *pids, unsigned processes)
{
	for (unsigned p = 0; p < processes; p++) {
		kill(pids[p], SIGKILL);
		waitpid(pids[p], NULL, 0);
	}
}

/* handoffd's counters now; zero when there is no daemon (GnuTLS). */
static void
daemon_usage(int daemon_pid, struct bench_usage *daemon)
{
	memset(daemon, 0, sizeof(*daemon));
	if (daemon_pid > 0)
		bench_usage_add(daemon_pid, daemon);
}

/* The server side's counters now: the server processes, and handoffd. */
static void
server_usage(const pid_t *pids, unsigned processes, int daemon_pid,
    struct bench_usage *server, struct bench_usage *daemon)
{
	memset(server, 0, sizeof(*server));
	for (unsigned p = 0; p < processes; p++)
		bench_usage_add(pids[p], server);
	daemon_usage(daemon_pid, daemon);
}

/* What each of n handshakes cost, from counters before and after. */
static void
per_handshake(
    struct bench_usage *u, const struct bench_usage *before, unsigned long n)
{
	u->cpu_us = n > 0 ? (u->cpu_us - before->cpu_us) / (double)n : 0;
	u->switches = n > 0 ? (u->switches - before->switches) / (double)n : 0;
}

/* Server role: f->servers threads in f->processes processes accept and
 * handshake as `side`; the load generator's clients are GnuTLS. */
static void
server_handshakes(const struct bench_hs_figure *f, enum bench_side side,
    double seconds, struct bench_samples *pool, struct bench_hs_result *out)
{
	struct server s;
	pid_t pids[16];
	int port;
	unsigned processes = f->processes > 16 ? 16 : f->processes;
	memset(&s, 0, sizeof(s));
	s.lfd = bench_listen(&port);
	start_servers(&s, side, f->cert, f->daemon_url, f->profile, f->servers,
	    processes, pids);
	struct load l;
	memset(&l, 0, sizeof(l));
	l.port = port;
	l.resumed = f->resumed;
	l.client_side = BENCH_GNUTLS;
	l.pool = pool;
	struct bench_usage server0, daemon0;
	int daemon_pid = side == BENCH_GNUTLS ? 0 : f->daemon_pid;
	server_usage(pids, processes, daemon_pid, &server0, &daemon0);
	run_load(&l, f->clients, seconds, out);
	server_usage(pids, processes, daemon_pid, &out->side, &out->daemon);
	/* The resumed run's first full handshake per client is counted in
	 * the usage but not in out->count: a few in thousands. */
	per_handshake(&out->side, &server0, out->count);
	per_handshake(&out->daemon, &daemon0, out->count);
	stop_servers(pids, processes);
	close(s.lfd);
}

/* Client role: the load generator's clients are `side` (GnuTLS verifying
 * in process, or libhandoff with handoffd verifying) against in-process
 * GnuTLS servers. */
static void
client_handshakes(const struct bench_hs_figure *f, enum bench_side side,
    double seconds, struct bench_samples *pool, struct bench_hs_result *out)
{
	struct server s;
	pid_t pid;
	int port;
	memset(&s, 0, sizeof(s));
	s.lfd = bench_listen(&port);
	/* The server is in-process GnuTLS for both client sides. */
	start_servers(
	    &s, BENCH_GNUTLS, f->cert, NULL, NULL, bench_cpus(), 1, &pid);
	struct load l;
	memset(&l, 0, sizeof(l));
	l.port = port;
	l.resumed = f->resumed;
	l.client_side = side;
	l.trust = f->cert->cert; /* self-signed: its own trust anchor */
	l.pool = pool;
	if (side == BENCH_HANDOFF) {
		struct handoff_config *cfg = handoff_config_new();
		handoff_config_set_daemon(cfg, f->daemon_url);
		handoff_config_set_profile(cfg, f->profile);
		l.hctx = handoff_ctx_new(cfg);
		handoff_config_free(cfg);
	}
	/* The clients are this process's threads (and, for handoff, its
	 * I/O thread and nanomsg's); the GnuTLS server is left out. */
	struct bench_usage self0, daemon0;
	int daemon_pid = side == BENCH_GNUTLS ? 0 : f->daemon_pid;
	bench_usage_self(&self0);
	daemon_usage(daemon_pid, &daemon0);
	run_load(&l, f->clients, seconds, out);
	bench_usage_self(&out->side);
	daemon_usage(daemon_pid, &out->daemon);
	per_handshake(&out->side, &self0, out->count);
	per_handshake(&out->daemon, &daemon0, out->count);
	handoff_ctx_free(l.hctx);
	stop_servers(&pid, 1);
	close(s.lfd);
}

void
bench_hs_measure(const struct bench_hs_figure *f, enum bench_side side,
    double seconds, struct bench_samples *pool, struct bench_hs_result *out)
{
	memset(out, 0, sizeof(*out));
	if (f->role == BENCH_CLIENT_ROLE)
		client_handshakes(f, side, seconds, pool, out);
	else
		server_handshakes(f, side, seconds, pool, out);
}
