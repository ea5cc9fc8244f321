/*
 * requests.c - what handoffd does with each request a worker receives
 * (server.c): a handshake's steps, the tickets a client-role caller
 * relays, aborts, pings and statistics, and the stateless signatures and
 * verifications of programs that keep their own handshake.
 *
 * The bookkeeping (session table, statistics, shutdown) is under the
 * daemon's one lock; the step's crypto runs outside it, on the worker
 * that received the request.  A caller may send its next step before the
 * worker that sent the previous reply has done its bookkeeping: such a
 * request waits in the session (one at most), and that worker runs it
 * next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nanomsg/nn.h>

#include "handoff.h"
#include "server.h"

/* A request that arrived while its session's previous step was still
 * finishing (its reply already sent by the worker). */
struct ho_early {
	void *control, *body;
	struct ho_proto_msg msg; /* points into body */
};

/* A step claimed for its session (busy), run by the worker that holds
 * it. */
struct ho_work {
	struct ho_daemon *d;
	struct ho_session *session;
	void *control;           /* routing header, owned until the reply */
	void *body;              /* the request frame (nanomsg buffer) */
	struct ho_proto_msg msg; /* points into body */
	uint64_t started_us;
	struct ho_step_result result;
	int alone;                   /* claimed when no other step ran */
	struct ho_hello_ahead ahead; /* its ServerHello, sent ahead */
};

static void
send_reply(struct ho_daemon *d, void **control, const uint8_t *buf, size_t len)
{
	struct nn_iovec iov = {(void *)buf, len};
	struct nn_msghdr hdr;
	ho_server_msghdr(&hdr, &iov, control);
	/* A raw REP socket drops a reply to a peer that has gone away, so
	 * a failure here is only logged: the caller's deadline covers it. */
	if (nn_sendmsg(d->sock, &hdr, NN_DONTWAIT) < 0) {
		ho_log_debug("reply not sent: %s", nn_strerror(nn_errno()));
		nn_freemsg(*control);
	}
	*control = NULL;
}

static void
reply_error(struct ho_daemon *d, void **control,
    const struct ho_proto_msg *req, int code, const char *text)
{
	struct ho_proto_buf b;
	uint64_t id;
	ho_proto_begin(&b, HO_MSG_ERROR);
	if (req != NULL && ho_proto_get_u64(req, HO_F_REQUEST_ID, &id) == 0)
		ho_proto_put_u64(&b, HO_F_REQUEST_ID, id);
	ho_proto_put_u32(&b, HO_F_ERROR_CODE, (uint32_t)code);
	ho_proto_put_str(&b, HO_F_ERROR_TEXT, text);
	if (ho_proto_finish(&b) == 0) {
		send_reply(d, control, b.buf, b.len);
	} else {
		nn_freemsg(*control);
		*control = NULL;
	}
	ho_proto_buf_free(&b);
}

static void
reply_simple(struct ho_daemon *d, void **control,
    const struct ho_proto_msg *req, struct ho_proto_buf *b)
{
	uint64_t id;
	if (ho_proto_get_u64(req, HO_F_REQUEST_ID, &id) == 0)
		ho_proto_put_u64(b, HO_F_REQUEST_ID, id);
	if (ho_proto_finish(b) == 0)
		send_reply(d, control, b->buf, b->len);
	else
		reply_error(d, control, req, HANDOFF_EINTERNAL,
		    "reply did not fit in one message");
	ho_proto_buf_free(b);
}

/* Whether a step may send its ServerHello ahead: the caller takes it, it
 * opens the handshake, and handoffd has nothing else to do (no other
 * step running, no request waiting).  Under load the extra message
 * would cost every handshake CPU time (~20 us in the caller, a little
 * here) for a latency that queueing hides anyway. */
static int
may_send_ahead(const struct ho_work *w)
{
	return w->session->output_ahead && w->msg.type == HO_MSG_HS_START &&
	    w->alone && ho_hello_ahead_idle(w->d->rcv_fd);
}

/* The step's crypto, outside the lock: only this worker touches the
 * session's TLS state while it is busy.  Sends the reply. */
static void
step_run(struct ho_work *w)
{
	const struct ho_proto_field *in = &w->msg.f[HO_F_INPUT];
	struct ho_step_result *r = &w->result;
	struct ho_session *s = w->session;
	if (may_send_ahead(w)) {
		w->ahead = (struct ho_hello_ahead){
		    w->d->sock, &w->control, &w->msg, 0};
		s->send_ahead = ho_hello_ahead_send;
		s->send_ahead_arg = &w->ahead;
	}
	if (w->msg.type == HO_MSG_HS_TICKET)
		ho_client_ticket(s, in->ptr, in->len, &w->msg, r);
	else
		ho_handshake_step(s, in->ptr, in->len, &w->msg, r);
	s->send_ahead = NULL;
	if (ho_proto_finish(&r->reply) == 0)
		send_reply(w->d, &w->control, r->reply.buf, r->reply.len);
	else /* out of memory building it: the caller's deadline answers */
		nn_freemsg(w->control);
	w->control = NULL;
	ho_proto_buf_free(&r->reply); /* wipes the keys it carried */
}

static struct ho_work *handle_step(struct ho_daemon *d, void **control,
    void **body, const struct ho_proto_msg *msg);
static struct ho_work *handle_ticket(struct ho_daemon *d, void **control,
    void **body, const struct ho_proto_msg *msg);

/* Under the lock: claims (or refuses, if its session is gone) a request
 * that came early; returns the step to run next, or NULL. */
static struct ho_work *
run_early(struct ho_daemon *d, struct ho_early *e)
{
	struct ho_work *next = e->msg.type == HO_MSG_HS_TICKET
	    ? handle_ticket(d, &e->control, &e->body, &e->msg)
	    : handle_step(d, &e->control, &e->body, &e->msg);
	if (e->control != NULL) /* every path replies; belt and braces */
		nn_freemsg(e->control);
	if (e->body != NULL)
		nn_freemsg(e->body);
	free(e);
	return next;
}

/* Under the lock: the step's bookkeeping, after step_run.  Returns the
 * session's early request, claimed, for this worker to run next. */
static struct ho_work *
step_finish(struct ho_daemon *d, struct ho_work *w)
{
	struct ho_session *s = w->session;
	struct ho_step_result *r = &w->result;

	d->inflight--;
	ho_stats_latency(&d->stats, ho_now_us() - w->started_us);
	/* Taken now: the session may be freed below, and the request then
	 * gets the same answer as any other for a session that is gone. */
	struct ho_early *early = s->early;
	s->early = NULL;
	d->stats.private_key_ops += r->key_ops;
	d->stats.hellos_ahead += (unsigned)w->ahead.sent;
	d->stats.caller_ca_parsed += r->ca_parsed;
	switch (r->outcome) {
	case HO_STEP_DONE:
		d->stats.handshakes_ok++;
		d->stats.handshakes_resumed += (unsigned)r->resumed;
		d->stats.handshakes_one_trip += (unsigned)r->one_trip;
		d->stats.client_handshakes += s->role == HO_ROLE_CLIENT;
		if (r->keep && !s->abandoned && !d->stopping) {
			s->busy = 0;
			s->awaiting_ticket = 1;
			s->last_used_ms = ho_now_ms();
		} else {
			ho_session_destroy(&d->sessions, s);
		}
		break;
	case HO_STEP_CLOSED:
		d->stats.tickets_stored += (unsigned)r->ticket_stored;
		if (!r->ticket_stored)
			ho_log_debug(
			    "session ticket not stored: %s", r->reason);
		ho_session_destroy(&d->sessions, s);
		break;
	case HO_STEP_FAILED:
		ho_stats_fail(&d->stats, r->reason);
		ho_log_debug("handshake failed: %s", r->reason);
		ho_session_destroy(&d->sessions, s);
		break;
	case HO_STEP_CONTINUE:
		s->busy = 0;
		s->last_used_ms = ho_now_ms();
		/* Stopping, it stays: the caller's next step, which the
		 * drain waits for, then hears "shutting down" (not "unknown
		 * session", or nothing once handoffd is gone). */
		if (s->abandoned)
			ho_session_destroy(&d->sessions, s);
		break;
	}
	nn_freemsg(w->body);
	free(w);
	struct ho_work *next = early != NULL ? run_early(d, early) : NULL;
	ho_server_maybe_finish_shutdown(d);
	return next;
}

/* Keeps a request for a busy session until its work is done; 0, or -1
 * after replying with an error (one early request at most). */
static int
keep_early(struct ho_daemon *d, struct ho_session *s, void **control,
    void **body, const struct ho_proto_msg *msg)
{
	struct ho_early *e = s->early == NULL ? malloc(sizeof(*e)) : NULL;
	if (e == NULL) {
		reply_error(d, control, msg, HANDOFF_EPROTO,
		    "a step for this session is already running");
		return -1;
	}
	e->control = *control;
	e->body = *body;
	e->msg = *msg;
	*control = NULL;
	*body = NULL;
	s->early = e;
	d->stats.early_requests++;
	return 0;
}

/* Claims s for a step this worker runs next (step_run, step_finish).
 * Returns the step, or NULL after replying with the error. */
static struct ho_work *
claim_step(struct ho_daemon *d, struct ho_session *s, void **control,
    void **body, const struct ho_proto_msg *msg)
{
	struct ho_work *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		reply_error(d, control, msg, HANDOFF_ENOMEM,
		    "handoffd is out of memory");
		return NULL;
	}
	w->d = d;
	w->session = s;
	w->control = *control;
	w->body = *body;
	w->msg = *msg;
	w->started_us = ho_now_us();
	s->busy = 1;
	*control = NULL; /* both now belong to the step */
	*body = NULL;
	w->alone = d->inflight == 0;
	d->inflight++;
	return w;
}

/* A client handshake's CAs named by their SHA-256 (TRUST_DIGEST): the
 * session holds that file for its verification.  A file handoffd does
 * not hold (restarted, or it made room for others) is asked for
 * (HS_NEED_CAS), and the caller starts again with it; the session goes.
 * Returns 1, or 0 once replied.  Under the lock. */
static int
hold_caller_cas(struct ho_daemon *d, void **control,
    const struct ho_proto_msg *msg, struct ho_session *s,
    const struct ho_proto_field *digest)
{
	if (digest->len != sizeof(s->trust_digest)) {
		ho_session_destroy(&d->sessions, s);
		reply_error(d, control, msg, HANDOFF_EPROTO,
		    "the CA file's digest is not a SHA-256");
		return 0;
	}
	s->held_trust = ho_trust_find(d->trusts, digest->ptr);
	if (s->held_trust == NULL) {
		ho_session_destroy(&d->sessions, s);
		d->stats.caller_ca_asked++;
		struct ho_proto_buf b;
		ho_proto_begin(&b, HO_MSG_HS_NEED_CAS);
		reply_simple(d, control, msg, &b);
		return 0;
	}
	memcpy(s->trust_digest, digest->ptr, sizeof(s->trust_digest));
	return 1;
}

static struct ho_work *
handle_start(struct ho_daemon *d, void **control, void **body,
    const struct ho_proto_msg *msg)
{
	uint8_t role = HO_ROLE_SERVER, no_verify = 0;
	if (msg->f[HO_F_ROLE].present)
		ho_proto_get_u8(msg, HO_F_ROLE, &role);
	if (role != HO_ROLE_SERVER && role != HO_ROLE_CLIENT) {
		reply_error(d, control, msg, HANDOFF_EPROTO,
		    "unknown handshake role in request");
		return NULL;
	}
	ho_proto_get_u8(msg, HO_F_NO_VERIFY, &no_verify);
	if (d->stopping) {
		reply_error(d, control, msg, HANDOFF_ESHUTDOWN,
		    "handoffd is shutting down: retry when it is back");
		return NULL;
	}
	if (d->sessions.count >= d->cfg->max_sessions) {
		d->stats.busy_refusals++;
		reply_error(d, control, msg, HANDOFF_EBUSY,
		    "handoffd is at its session limit (max_sessions): retry "
		    "later or raise the limit");
		return NULL;
	}
	const char *name = "default";
	size_t name_len = 7;
	if (msg->f[HO_F_PROFILE].present) {
		name = (const char *)msg->f[HO_F_PROFILE].ptr;
		name_len = msg->f[HO_F_PROFILE].len;
	}
	const struct ho_profile *p =
	    ho_profile_find(d->profiles, name, name_len);
	if (p == NULL) {
		char text[400];
		snprintf(text, sizeof(text),
		    "handoffd has no profile named \"%.*s\" (check the "
		    "profile set in the caller and handoffd's config)",
		    (int)name_len, name);
		reply_error(d, control, msg, HANDOFF_EPROFILE, text);
		return NULL;
	}
	if (role == HO_ROLE_SERVER && !p->has_certificate) {
		char text[400];
		snprintf(text, sizeof(text),
		    "handoffd's profile \"%s\" has no certificate and key, "
		    "so it can only connect to servers, not accept clients",
		    p->name);
		reply_error(d, control, msg, HANDOFF_EPROFILE, text);
		return NULL;
	}
	struct ho_session *s = ho_session_new(&d->sessions, p);
	if (s == NULL) {
		reply_error(d, control, msg, HANDOFF_ENOMEM,
		    "handoffd cannot create a session (out of memory)");
		return NULL;
	}
	s->profiles = d->profiles; /* SNI may pick another one */
	s->role = role;
	uint8_t one_trip = 0;
	ho_proto_get_u8(msg, HO_F_ONE_TRIP, &one_trip);
	s->finish.wanted = role == HO_ROLE_SERVER && one_trip != 0;
	uint8_t ahead = 0;
	ho_proto_get_u8(msg, HO_F_OUTPUT_AHEAD, &ahead);
	s->output_ahead = role == HO_ROLE_SERVER && ahead != 0;
	s->no_verify = no_verify != 0;
	s->cache = d->cache;
	s->trust_cache = d->trusts;
	const struct ho_proto_field *ca = &msg->f[HO_F_TRUST_PEM];
	const struct ho_proto_field *ca_id = &msg->f[HO_F_TRUST_DIGEST];
	if (role == HO_ROLE_CLIENT) {
		ho_proto_get_str(msg, HO_F_SERVER_NAME, s->server_name,
		    sizeof(s->server_name));
		ho_proto_get_str(msg, HO_F_PEER, s->peer, sizeof(s->peer));
		d->stats.caller_ca_sent += ca->present;
		if (ca->present &&
		    ho_buf_append(&s->trust_pem, ca->ptr, ca->len) != 0) {
			ho_session_destroy(&d->sessions, s);
			reply_error(d, control, msg, HANDOFF_ENOMEM,
			    "handoffd is out of memory");
			return NULL;
		}
		if (!ca->present && ca_id->present &&
		    !hold_caller_cas(d, control, msg, s, ca_id))
			return NULL;
	}
	struct ho_work *w = claim_step(d, s, control, body, msg);
	if (w == NULL)
		ho_session_destroy(&d->sessions, s);
	return w;
}

static struct ho_session *
lookup(struct ho_daemon *d, void **control, const struct ho_proto_msg *msg)
{
	struct ho_session *s = NULL;
	if (msg->f[HO_F_TOKEN].present)
		s = ho_session_find(&d->sessions, msg->f[HO_F_TOKEN].ptr);
	if (s == NULL || s->abandoned) {
		/* The same words whether the token never existed or has
		 * expired: a reply must not reveal which. */
		reply_error(d, control, msg, HANDOFF_ESESSION,
		    "unknown or expired handshake session (it may have "
		    "passed handoffd's session_timeout): start a new "
		    "handshake");
		return NULL;
	}
	return s;
}

static struct ho_work *
handle_step(struct ho_daemon *d, void **control, void **body,
    const struct ho_proto_msg *msg)
{
	struct ho_session *s = lookup(d, control, msg);
	if (s == NULL)
		return NULL;
	if (s->busy) {
		keep_early(d, s, control, body, msg);
		return NULL;
	}
	if (s->awaiting_ticket) {
		reply_error(d, control, msg, HANDOFF_EPROTO,
		    "this handshake is already complete");
		return NULL;
	}
	if (d->stopping) {
		ho_session_destroy(&d->sessions, s);
		reply_error(d, control, msg, HANDOFF_ESHUTDOWN,
		    "handoffd is shutting down: retry when it is back");
		return NULL;
	}
	return claim_step(d, s, control, body, msg);
}

/* A TLS 1.3 server's NewSessionTicket, relayed by the caller. */
static struct ho_work *
handle_ticket(struct ho_daemon *d, void **control, void **body,
    const struct ho_proto_msg *msg)
{
	struct ho_session *s = lookup(d, control, msg);
	if (s == NULL)
		return NULL;
	if (s->busy) { /* the DONE reply may beat its step_finish here */
		keep_early(d, s, control, body, msg);
		return NULL;
	}
	if (!s->awaiting_ticket) {
		reply_error(d, control, msg, HANDOFF_EPROTO,
		    "this session is not waiting for a session ticket");
		return NULL;
	}
	s->awaiting_ticket = 0; /* one ticket per session is enough */
	return claim_step(d, s, control, body, msg);
}

static void
handle_abort(
    struct ho_daemon *d, void **control, const struct ho_proto_msg *msg)
{
	struct ho_session *s = lookup(d, control, msg);
	if (s == NULL)
		return;
	if (s->busy)
		s->abandoned = 1; /* freed when its worker is done */
	else
		ho_session_destroy(&d->sessions, s);
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_OK);
	reply_simple(d, control, msg, &b);
}

static void
handle_ping(
    struct ho_daemon *d, void **control, const struct ho_proto_msg *msg)
{
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_PONG);
	ho_proto_put_str(&b, HO_F_DAEMON_VERSION, HANDOFF_VERSION_STRING);
	ho_proto_put_u64(
	    &b, HO_F_UPTIME_MS, ho_now_ms() - d->stats.started_ms);
	reply_simple(d, control, msg, &b);
}

static void
handle_stats(
    struct ho_daemon *d, void **control, const struct ho_proto_msg *msg)
{
	char text[4096];
	size_t n =
	    ho_stats_format(&d->stats, d->sessions.count, text, sizeof(text));
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_STATS_REPLY);
	ho_proto_put(&b, HO_F_STATS_TEXT, text, n);
	reply_simple(d, control, msg, &b);
}

/* Under the lock: one request, msg parsed from body (err: the parse's
 * result).  Takes ownership of control and body; returns the step it
 * claimed for the caller to run, or NULL. */
static struct ho_work *
dispatch(struct ho_daemon *d, void *control, void *body, int err,
    const struct ho_proto_msg *msg)
{
	struct ho_work *w = NULL;
	d->stats.requests++;
	if (err != 0) {
		char text[200];
		d->stats.bad_requests++;
		snprintf(text, sizeof(text),
		    "handoffd refused a malformed request: %s (is the "
		    "library the same version as the daemon?)",
		    ho_proto_strerror(err));
		reply_error(d, &control, NULL, HANDOFF_EPROTO, text);
		nn_freemsg(body);
		return NULL;
	}
	switch (msg->type) {
	case HO_MSG_PING: handle_ping(d, &control, msg); break;
	case HO_MSG_STATS: handle_stats(d, &control, msg); break;
	case HO_MSG_HS_START: w = handle_start(d, &control, &body, msg); break;
	case HO_MSG_HS_STEP: w = handle_step(d, &control, &body, msg); break;
	case HO_MSG_HS_ABORT: handle_abort(d, &control, msg); break;
	case HO_MSG_HS_TICKET:
		w = handle_ticket(d, &control, &body, msg);
		break;
	default:
		d->stats.bad_requests++;
		reply_error(d, &control, msg, HANDOFF_EPROTO,
		    "handoffd does not take this message type as a request");
		break;
	}
	if (control != NULL) /* every path above replies; belt and braces */
		nn_freemsg(control);
	if (body != NULL)
		nn_freemsg(body);
	return w;
}

/* Runs a claimed step and, one after another, the requests that came
 * early for its session. */
static void
run_steps(struct ho_daemon *d, struct ho_work *w)
{
	while (w != NULL) {
		step_run(w);
		uv_mutex_lock(&d->lock);
		while (d->hold_steps)
			uv_cond_wait(&d->unheld, &d->lock);
		w = step_finish(d, w);
		uv_mutex_unlock(&d->lock);
	}
}

/* Requests for programs that keep their own handshake: KEY_INFO and
 * SIGN (keyops.c), VERIFY (verify.c). */
static int
is_stateless(int type)
{
	return ho_keyops_is_request(type) || type == HO_MSG_VERIFY;
}

/* A stateless request: no session, so its signature or verification
 * runs on this worker outside the lock, which counts it, and in
 * inflight like a step: shutdown waits for it, or gives up on it after
 * shutdown's grace period (server.c; a token may hang).  Takes control and
 * body. */
static void
handle_stateless(struct ho_daemon *d, void *control, void *body,
    const struct ho_proto_msg *msg)
{
	uv_mutex_lock(&d->lock);
	d->stats.requests++;
	int stopping = d->stopping;
	d->inflight += !stopping;
	uv_mutex_unlock(&d->lock);
	if (stopping) {
		reply_error(d, &control, msg, HANDOFF_ESHUTDOWN,
		    "handoffd is shutting down: retry when it is back");
		nn_freemsg(body);
		return;
	}
	struct ho_proto_buf b;
	int verify = msg->type == HO_MSG_VERIFY;
	int r = verify ? ho_verify_answer(d->profiles, d->verified, msg, &b)
	               : ho_keyops_answer(d->profiles, msg, &b);
	/* Counted before the reply goes: a caller reading the stats
	 * after its answer sees its request. */
	uv_mutex_lock(&d->lock);
	if (verify) { /* r: the cache answered */
		d->stats.verify_requests++;
		d->stats.verify_cache_hits += (unsigned)r;
	} else { /* r: the key signed */
		d->stats.sign_requests += (unsigned)r;
		d->stats.private_key_ops += (unsigned)r;
	}
	uv_mutex_unlock(&d->lock);
	reply_simple(d, &control, msg, &b);
	nn_freemsg(body);
	uv_mutex_lock(&d->lock);
	d->inflight--;
	ho_server_maybe_finish_shutdown(d);
	uv_mutex_unlock(&d->lock);
}

void
ho_requests_handle(struct ho_daemon *d, void *control, void *body, size_t len)
{
	struct ho_proto_msg msg;
	int err = ho_proto_parse(body, len, &msg);
	if (err == 0 && is_stateless(msg.type)) {
		handle_stateless(d, control, body, &msg);
		return;
	}
	uv_mutex_lock(&d->lock);
	struct ho_work *w = dispatch(d, control, body, err, &msg);
	uv_mutex_unlock(&d->lock);
	run_steps(d, w);
}
