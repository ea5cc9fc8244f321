/*
 * memory.c - memory held per handshake in flight: N server handshakes
 * stopped half way (the server's flight sent, the client's Finished not
 * yet), in process with GnuTLS or through handoffd.
 *
 * Each handshake runs over a socket pair.  The client side is a GnuTLS
 * session that writes its ClientHello and is never driven again, so every
 * server handshake stays in flight while memory is read: the bench
 * process's heap in use (malloc's own count, so memory freed by earlier
 * figures and reused here does not hide anything) for the in-process
 * server or libhandoff's side, and handoffd's resident memory (a fresh
 * daemon: main.c starts one for this figure).  Client sessions are made
 * before the baseline, so they count on neither side.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "handoff.h"

struct pair {
	int fd[2]; /* [0] client (GnuTLS), [1] measured server */
	gnutls_session_t client, server;
	struct handoff_conn *conn;
	int parked; /* the server waits for the client's Finished */
};

/* A sanitizer's allocator replaces glibc's malloc, whose mallinfo2()
 * then reports nothing, and resident memory moves with its quarantine:
 * it has a count of its own (defined only in such builds). */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

/* Bytes this process has allocated and not freed. */
static double
heap_in_use(void)
{
	if (__sanitizer_get_current_allocated_bytes != NULL)
		return (double)__sanitizer_get_current_allocated_bytes();
	struct mallinfo2 m = mallinfo2();
	return (double)m.uordblks + (double)m.hblkhd;
}

static gnutls_session_t
new_session(int fd, unsigned flags, gnutls_certificate_credentials_t cred)
{
	gnutls_session_t s;
	if (gnutls_init(&s, flags | GNUTLS_NONBLOCK) < 0)
		bench_die("gnutls_init failed");
	gnutls_priority_set_direct(s, BENCH_PRIORITY, NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, fd);
	return s;
}

/* Socket pairs whose client has sent its ClientHello. */
static struct pair *
make_pairs(unsigned n, gnutls_certificate_credentials_t client_cred)
{
	struct pair *p = calloc(n, sizeof(*p));
	if (p == NULL)
		bench_die("out of memory");
	for (unsigned i = 0; i < n; i++) {
		if (socketpair(
		        AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p[i].fd) != 0)
			bench_die("socketpair: %s (raise the descriptor "
			          "limit: ulimit -n)",
			    strerror(errno));
		p[i].client =
		    new_session(p[i].fd[0], GNUTLS_CLIENT, client_cred);
		gnutls_server_name_set(
		    p[i].client, GNUTLS_NAME_DNS, "localhost", 9);
		if (gnutls_handshake(p[i].client) != GNUTLS_E_AGAIN)
			bench_die("client did not stop after its ClientHello");
	}
	return p;
}

static void
free_pairs(struct pair *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		handoff_conn_free(p[i].conn);
		if (p[i].server != NULL)
			gnutls_deinit(p[i].server);
		gnutls_deinit(p[i].client);
		close(p[i].fd[0]);
		close(p[i].fd[1]);
	}
	free(p);
}

/* In process: each GnuTLS server answers its ClientHello and stops. */
static void
park_gnutls(struct pair *p, unsigned n, gnutls_certificate_credentials_t cred)
{
	for (unsigned i = 0; i < n; i++) {
		p[i].server = new_session(p[i].fd[1], GNUTLS_SERVER, cred);
		int r;
		do {
			r = gnutls_handshake(p[i].server);
		} while (r == GNUTLS_E_INTERRUPTED);
		if (r != GNUTLS_E_AGAIN)
			bench_die("GnuTLS server: %s", gnutls_strerror(r));
	}
}

/* One step of a connection not yet parked: steps it, and either parks
 * it (it waits on its socket for the client: for its Finished, which the
 * caller checks, after a one-trip TLS 1.3 step; for its certificate and
 * Finished, with the daemon holding the session, where one is requested)
 * or fills *w with what to wait for.  Returns 1 if parked. */
static int
step(struct pair *p, unsigned i, struct pollfd *w)
{
	int r = handoff_handshake(p->conn);
	if (r != HANDOFF_WANT_POLLIN && r != HANDOFF_WANT_POLLOUT)
		bench_die("handshake %u stopped: %s", i,
		    r == 0 ? "completed" : handoff_conn_error(p->conn));
	int fd = handoff_conn_pollfd(p->conn);
	if (r == HANDOFF_WANT_POLLIN && fd == p->fd[1])
		return p->parked = 1;
	w->fd = fd;
	w->events = r == HANDOFF_WANT_POLLIN ? POLLIN : POLLOUT;
	w->revents = 0;
	return 0;
}

/* Through handoffd: drives every connection non-blocking, one context,
 * until all are parked.  Returns how many got there within a minute. */
static unsigned
park_handoff(struct pair *p, unsigned n, struct handoff_ctx *ctx)
{
	struct pollfd *pf = calloc(n, sizeof(*pf));
	unsigned *idx = calloc(n, sizeof(*idx));
	if (pf == NULL || idx == NULL)
		bench_die("out of memory");
	unsigned waiting = 0, parked = 0;
	for (unsigned i = 0; i < n; i++) {
		if (handoff_accept_socket(ctx, &p[i].conn, p[i].fd[1]) != 0)
			bench_die("handoff_accept_socket: %s",
			    handoff_ctx_error(ctx));
		if (step(&p[i], i, &pf[waiting]))
			parked++;
		else
			idx[waiting++] = i;
	}
	double deadline = bench_now() + 60;
	while (waiting > 0 && bench_now() < deadline) {
		if (poll(pf, waiting, 1000) < 0 && errno != EINTR)
			bench_die("poll: %s", strerror(errno));
		unsigned k = 0; /* compacts the still-waiting entries */
		for (unsigned j = 0; j < waiting; j++) {
			unsigned i = idx[j];
			struct pollfd w = pf[j];
			if (w.revents != 0) {
				if (step(&p[i], i, &w)) {
					parked++;
					continue;
				}
			}
			pf[k] = w;
			idx[k++] = i;
		}
		waiting = k;
	}
	free(pf);
	free(idx);
	return parked;
}

void
bench_memory(enum bench_side side, const struct bench_cert *c,
    const char *daemon_url, const char *profile, int daemon_pid, unsigned n,
    struct bench_mem_result *out)
{
	gnutls_certificate_credentials_t client_cred, server_cred;
	gnutls_certificate_allocate_credentials(&client_cred);
	gnutls_certificate_allocate_credentials(&server_cred);
	if (gnutls_certificate_set_x509_key_file(
	        server_cred, c->cert, c->key, GNUTLS_X509_FMT_PEM) < 0)
		bench_die("cannot load %s", c->cert);
	struct handoff_ctx *ctx = NULL;
	if (side == BENCH_HANDOFF) {
		struct handoff_config *cfg = handoff_config_new();
		handoff_config_set_daemon(cfg, daemon_url);
		handoff_config_set_profile(cfg, profile);
		ctx = handoff_ctx_new(cfg);
		handoff_config_free(cfg);
		if (ctx == NULL)
			bench_die("handoff_ctx_new failed");
	}
	struct pair *p = make_pairs(n, client_cred);
	double heap0 = heap_in_use();
	long daemon0 = bench_daemon_rss_kib(daemon_pid);
	unsigned parked = n;
	if (side == BENCH_GNUTLS)
		park_gnutls(p, n, server_cred);
	else
		parked = park_handoff(p, n, ctx);
	if (parked != n)
		bench_die(
		    "only %u of %u handshakes reached the daemon", parked, n);
	out->self_kib = (heap_in_use() - heap0) / 1024 / n;
	out->daemon_kib = side == BENCH_HANDOFF
	    ? (double)(bench_daemon_rss_kib(daemon_pid) - daemon0) / n
	    : 0;
	free_pairs(p, n);
	handoff_ctx_free(ctx);
	gnutls_certificate_free_credentials(client_cred);
	gnutls_certificate_free_credentials(server_cred);
}
