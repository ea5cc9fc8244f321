/*
 * server.h - the daemon's state, shared by server.c (the socket, the
 * worker threads, idle expiry and shutdown) and requests.c (what each
 * request does).  Private to those two files: the rest of handoffd holds
 * a struct ho_daemon only through handoffd.h's ho_server_* functions.
 */
#ifndef HO_SERVER_H
#define HO_SERVER_H

#include <stdatomic.h>
#include <string.h>

#include <nanomsg/nn.h>

#include "handoffd.h"

struct ho_daemon {
	uv_loop_t *loop;
	const struct ho_config *cfg;
	const struct ho_profiles *profiles;
	int sock;   /* nanomsg socket */
	int rcv_fd; /* nanomsg's: readable while requests wait, or -1 */
	uv_timer_t sweep_timer; /* idle-session expiry */
	uv_timer_t grace_timer; /* shutdown deadline */
	uv_signal_t sig_term, sig_int;
	uv_async_t drained; /* a worker ended the last step while stopping */
	uv_thread_t *workers;
	int nworkers;         /* started */
	atomic_int quit;      /* workers: drain the socket, then stop */
	uint64_t quit_at_ms;  /* when quit was set */
	int recv_done;        /* drained (under recv_lock) */
	int keep_socket;      /* at exit: leave the socket (and its file) */
	int lock_ready;       /* lock and unheld initialised */
	uv_mutex_t recv_lock; /* held by the one worker waiting to receive */
	uv_mutex_t lock;  /* guards what follows and sessions' bookkeeping */
	uv_cond_t unheld; /* hold_steps went to 0 */
	int hold_steps;   /* tests: workers wait before finishing a step */
	struct ho_session_table sessions;
	struct ho_client_cache *cache;    /* sessions to resume; own lock */
	struct ho_verify_cache *verified; /* chains' results; own lock */
	struct ho_trust_cache *trusts;    /* callers' CA files; own lock */
	struct ho_stats stats;
	unsigned inflight; /* steps claimed and not finished */
	int stopping;
	int closing; /* the loop is closing its handles: no more async sends */
};

/* A message header for one buffer (iov) and its routing header, which
 * nanomsg allocates on receive (control) and takes on send. */
static inline void
ho_server_msghdr(struct nn_msghdr *hdr, struct nn_iovec *iov, void **control)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->msg_iov = iov;
	hdr->msg_iovlen = 1;
	hdr->msg_control = control;
	hdr->msg_controllen = NN_MSG;
}

/* ---- requests.c ------------------------------------------------------- */

/* One request, on the calling thread, step and all: takes control (its
 * routing header) and body (the frame, len bytes), both nanomsg
 * buffers, and answers it. */
void ho_requests_handle(
    struct ho_daemon *d, void *control, void *body, size_t len);

/* ---- server.c --------------------------------------------------------- */

/* Under the lock, on any thread: once stopping and no step is left, has
 * the loop close everything. */
void ho_server_maybe_finish_shutdown(struct ho_daemon *d);

#endif
