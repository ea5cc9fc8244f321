/*
 * server.c - handoffd's nanomsg socket and the worker threads that
 * receive requests and answer them (requests.c), idle expiry and
 * graceful shutdown.
 *
 * The socket is a raw (AF_SP_RAW) REP socket, so many requests can be in
 * hand at once; each request's routing header arrives as a control
 * message and goes back unchanged with the reply.  Every worker thread
 * receives requests itself and runs a handshake step on the thread that
 * received it.  (Until 2026-11 one loop thread received everything and
 * handed steps to libuv's pool with uv_queue_work: measured on a 2-core
 * VM, that hand-off and the completion's trip back to the loop cost two
 * thread wake-ups and ~45 us of handoffd's ~280 us per handshake.)  The
 * libuv loop keeps the signals and timers and never runs crypto.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "server.h"

/* How long an idle worker waits in a receive before it looks at
 * whether handoffd is stopping. */
#define RECV_TIMEOUT_MS 200
/* Bytes nanomsg may take beyond our largest frame (see open_socket). */
#define RECV_SLACK 4096
/* How long stopping workers go on answering requests still queued. */
#define DRAIN_MS 1000
/* How long shutdown waits for running steps before giving up. */
#define SHUTDOWN_GRACE_MS 10000

void
ho_server_feed(
    struct ho_daemon *d, void *control, const uint8_t *frame, size_t len)
{
	void *body = nn_allocmsg(len > 0 ? len : 1, 0);
	if (body == NULL) {
		nn_freemsg(control);
		return;
	}
	memcpy(body, frame, len);
	ho_requests_handle(d, control, body, len);
}

unsigned
ho_server_inflight(struct ho_daemon *d)
{
	uv_mutex_lock(&d->lock);
	unsigned n = d->inflight;
	uv_mutex_unlock(&d->lock);
	return n;
}

void
ho_server_hold_steps(struct ho_daemon *d, int hold)
{
	uv_mutex_lock(&d->lock);
	d->hold_steps = hold;
	if (!hold)
		uv_cond_broadcast(&d->unheld);
	uv_mutex_unlock(&d->lock);
}

static int
handshakes_open(struct ho_daemon *d)
{
	uv_mutex_lock(&d->lock);
	int open = d->sessions.count > 0;
	uv_mutex_unlock(&d->lock);
	return open;
}

/* Receives the next request: 1, 0 when handoffd is stopping.  One worker
 * at a time waits in the receive (recv_lock): nanomsg wakes every thread
 * waiting on a socket for each message, so with all of them waiting each
 * request would wake every worker and all but one for nothing.  Once
 * quit is set, the workers still answer what is queued (with "shutting
 * down", as d->stopping is set), so that its callers hear it now rather
 * than at their deadline, and stop at the first quiet receive timeout
 * with no handshake half-way, or after DRAIN_MS. */
static int
next_request(struct ho_daemon *d, void **control, void **body, size_t *len)
{
	int got = 0;
	uv_mutex_lock(&d->recv_lock);
	while (!got && !d->recv_done) {
		if (atomic_load(&d->quit) &&
		    ho_now_ms() - d->quit_at_ms >= DRAIN_MS) {
			d->recv_done = 1;
			break;
		}
		*body = *control = NULL;
		struct nn_iovec iov = {body, NN_MSG};
		struct nn_msghdr hdr;
		ho_server_msghdr(&hdr, &iov, control);
		int n = nn_recvmsg(d->sock, &hdr, 0);
		if (n >= 0 && *control == NULL) { /* cannot reply: no route */
			nn_freemsg(*body);
		} else if (n >= 0) {
			*len = (size_t)n;
			got = 1;
		} else if (nn_errno() == EBADF || nn_errno() == ETERM) {
			d->recv_done = 1;
		} else if (nn_errno() == ETIMEDOUT) {
			/* Queue empty: done, unless a handshake is still
			 * half-way, whose caller's next step may be on its way
			 * (its peer can take longer than one receive timeout
			 * to answer): it gets "shutting down" until DRAIN_MS.
			 */
			d->recv_done =
			    atomic_load(&d->quit) && !handshakes_open(d);
		} else if (nn_errno() != EAGAIN && nn_errno() != EINTR) {
			ho_log_warning(
			    "receive failed: %s", nn_strerror(nn_errno()));
			uv_sleep(10); /* do not spin on a lasting error */
		}
	}
	uv_mutex_unlock(&d->recv_lock);
	return got;
}

/* A worker thread: receives requests and answers them until quit. */
static void
worker_main(void *arg)
{
	struct ho_daemon *d = arg;
	void *control, *body;
	size_t len;
	while (next_request(d, &control, &body, &len))
		ho_requests_handle(d, control, body, len);
}

static void
on_sweep(uv_timer_t *t)
{
	struct ho_daemon *d = t->data;
	uv_mutex_lock(&d->lock);
	unsigned n = ho_sessions_expire(
	    &d->sessions, ho_now_ms(), d->cfg->session_timeout_ms);
	d->stats.sessions_expired += n;
	uv_mutex_unlock(&d->lock);
	if (n > 0)
		ho_log_debug("expired %u idle sessions", n);
}

/* Loop thread, once (on_drained): uv_run then returns. */
static void
close_all(struct ho_daemon *d)
{
	uv_close((uv_handle_t *)&d->sweep_timer, NULL);
	uv_close((uv_handle_t *)&d->grace_timer, NULL);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->drained, NULL);
}

/* uv_async_send may be called on any thread. */
void
ho_server_maybe_finish_shutdown(struct ho_daemon *d)
{
	if (d->stopping && d->inflight == 0 && !d->closing)
		uv_async_send(&d->drained);
}

static void
on_drained(uv_async_t *h)
{
	struct ho_daemon *d = h->data;
	uv_mutex_lock(&d->lock);
	/* A relayed ticket may have been claimed since the send; and a
	 * second send may have come before the first was seen. */
	int done = d->stopping && d->inflight == 0 && !d->closing;
	d->closing |= done;
	uv_mutex_unlock(&d->lock);
	if (done)
		close_all(d);
}

static void
on_grace_expired(uv_timer_t *t)
{
	struct ho_daemon *d = t->data;
	uv_mutex_lock(&d->lock);
	unsigned running = d->inflight;
	uv_mutex_unlock(&d->lock);
	ho_log_warning("%u handshake steps still running after %d ms; "
	               "exiting without them",
	    running, SHUTDOWN_GRACE_MS);
	/* Steps cannot be cancelled, and the workers running them use the
	 * profiles, the sessions and GnuTLS's global state, which an
	 * orderly exit would free under them: leave at once. */
	_exit(1);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct ho_daemon *d = h->data;
	uv_mutex_lock(&d->lock);
	int already = d->stopping;
	d->stopping = 1;
	unsigned running = d->inflight;
	ho_server_maybe_finish_shutdown(d);
	uv_mutex_unlock(&d->lock);
	if (already)
		return;
	ho_log_info("signal %d: refusing new sessions, finishing %u running "
	            "steps",
	    signum, running);
	uv_timer_start(
	    &d->grace_timer, on_grace_expired, SHUTDOWN_GRACE_MS, 0);
}

static int
open_socket(struct ho_daemon *d, const char *url)
{
	d->sock = nn_socket(AF_SP_RAW, NN_REP);
	if (d->sock < 0) {
		ho_log_error("cannot create nanomsg socket: %s",
		    nn_strerror(nn_errno()));
		return -1;
	}
	/* nanomsg counts the raw REQ routing header in a message's size,
	 * and drops the sender's whole connection (every request on it)
	 * for a message over the limit: room for the header, and for a
	 * frame a little too big to reach the parser and be refused. */
	int maxsize = HO_PROTO_MAX_MSG + RECV_SLACK;
	nn_setsockopt(
	    d->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize));
	if (nn_bind(d->sock, url) < 0) {
		ho_log_error("cannot listen on %s: %s (is another handoffd "
		             "running there, and does its directory exist?)",
		    url, nn_strerror(nn_errno()));
		return -1;
	}
	int timeout = RECV_TIMEOUT_MS;
	nn_setsockopt(
	    d->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout));
	size_t fd_len = sizeof(d->rcv_fd);
	if (nn_getsockopt(
	        d->sock, NN_SOL_SOCKET, NN_RCVFD, &d->rcv_fd, &fd_len) < 0)
		d->rcv_fd = -1; /* no ServerHello goes ahead */
	return 0;
}

int
ho_server_start(struct ho_daemon **out, uv_loop_t *loop,
    const struct ho_config *cfg, const struct ho_profiles *profiles,
    const char *listen_url)
{
	struct ho_daemon *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -1;
	d->loop = loop;
	d->cfg = cfg;
	d->profiles = profiles;
	d->sock = -1;
	d->rcv_fd = -1;
	ho_stats_init(&d->stats);
	*out = d;
	if (uv_mutex_init(&d->lock) != 0 || uv_cond_init(&d->unheld) != 0 ||
	    uv_mutex_init(&d->recv_lock) != 0) {
		ho_log_error("cannot create the daemon's lock");
		return -1;
	}
	d->lock_ready = 1;
	d->cache = ho_cache_new(cfg->client_cache_size);
	d->verified = ho_verify_cache_new(cfg->verify_cache_size);
	d->trusts = ho_trust_cache_new();
	if (d->cache == NULL || d->verified == NULL || d->trusts == NULL ||
	    ho_sessions_init(&d->sessions, cfg->max_sessions) != 0) {
		ho_log_error("out of memory for the session table");
		return -1;
	}
	if (open_socket(d, listen_url) != 0)
		return -1;
	uint64_t sweep = cfg->session_timeout_ms / 4;
	sweep = sweep < 50 ? 50 : sweep > 1000 ? 1000 : sweep;
	uv_timer_init(loop, &d->sweep_timer);
	d->sweep_timer.data = d;
	uv_timer_start(&d->sweep_timer, on_sweep, sweep, sweep);
	uv_timer_init(loop, &d->grace_timer);
	d->grace_timer.data = d;
	uv_signal_init(loop, &d->sig_term);
	uv_signal_init(loop, &d->sig_int);
	d->sig_term.data = d->sig_int.data = d;
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	uv_async_init(loop, &d->drained, on_drained);
	d->drained.data = d;
	ho_log_info(
	    "listening on %s with %d profile(s)", listen_url, profiles->count);
	return 0;
}

int
ho_server_start_workers(struct ho_daemon *d, int count, const char *why)
{
	d->workers = calloc((size_t)count, sizeof(*d->workers));
	if (d->workers == NULL) {
		ho_log_error("out of memory for %d worker threads", count);
		return -1;
	}
	for (; d->nworkers < count; d->nworkers++) {
		int e =
		    uv_thread_create(&d->workers[d->nworkers], worker_main, d);
		if (e != 0) {
			ho_log_error("cannot start worker thread %d of %d: %s "
			             "(lower workers in the config)",
			    d->nworkers + 1, count, uv_strerror(e));
			return -1;
		}
		/* Named for top -H, perf and gdb ("handoffd-w0"...); nanomsg's
		 * thread keeps the process's name.  A name that does not fit
		 * the kernel's 15 characters is only cosmetic: ignored. */
		char name[16];
		snprintf(name, sizeof(name), "handoffd-w%d", d->nworkers);
		pthread_setname_np(d->workers[d->nworkers], name);
	}
	ho_log_info(
	    "%d worker thread%s (%s)", count, count == 1 ? "" : "s", why);
	return 0;
}

void
ho_server_keep_socket_file(struct ho_daemon *d)
{
	d->keep_socket = 1;
}

void
ho_server_free(struct ho_daemon *d)
{
	if (d == NULL)
		return;
	/* Stopping already after a signal; after a failed start too, so
	 * that the drain below only refuses. */
	if (d->lock_ready) {
		uv_mutex_lock(&d->lock);
		d->stopping = 1;
		uv_mutex_unlock(&d->lock);
	}
	d->quit_at_ms = ho_now_ms();
	atomic_store(&d->quit, 1); /* publishes quit_at_ms with it */
	/* Each worker leaves once the socket is drained: within DRAIN_MS,
	 * one receive timeout and the step it may be running. */
	for (int i = 0; i < d->nworkers; i++)
		uv_thread_join(&d->workers[i]);
	free(d->workers);
	if (d->sock >= 0 && !d->keep_socket)
		nn_close(d->sock);
	ho_sessions_free(&d->sessions);
	ho_cache_free(d->cache);
	ho_verify_cache_free(d->verified);
	ho_trust_cache_free(d->trusts);
	if (d->lock_ready) {
		uv_cond_destroy(&d->unheld);
		uv_mutex_destroy(&d->lock);
		uv_mutex_destroy(&d->recv_lock);
	}
	free(d);
}
