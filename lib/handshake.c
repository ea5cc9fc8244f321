/*
 * handshake.c - the caller's half of an offloaded handshake (both roles).
 *
 * A small state machine: read TLS records from the peer, send them to
 * handoffd, write its answer back to the peer, and repeat until the
 * daemon says DONE (keys arrive, the record layer takes over) or ERROR
 * (its alert goes to the peer, its reason to the caller).  Every state
 * can be left and re-entered, so non-blocking callers get WANT_POLLIN /
 * WANT_POLLOUT, and every wait has a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff_internal.h"
#include "wipe.h"

static void
start_deadline(struct handoff_conn *c)
{
	ho_conn_start_deadline(c);
}

static int
build_request(struct handoff_conn *c)
{
	struct ho_proto_buf *b = &c->request;
	ho_proto_buf_free(b);
	ho_proto_begin(b, c->have_token ? HO_MSG_HS_STEP : HO_MSG_HS_START);
	c->request_id = ho_ipc_new_id(&c->ctx->ipc);
	ho_proto_put_u64(b, HO_F_REQUEST_ID, c->request_id);
	if (c->have_token) {
		ho_proto_put(b, HO_F_TOKEN, c->token, sizeof(c->token));
	} else {
		ho_proto_put_str(b, HO_F_PROFILE, c->ctx->profile);
		ho_proto_put_u8(b, HO_F_ROLE, (uint8_t)c->role);
		if (c->role == HO_ROLE_SERVER) {
			/* A TLS 1.3 server handshake may end in one trip: we
			 * check the client's Finished (peer_finished.c). */
			ho_proto_put_u8(b, HO_F_ONE_TRIP, 1);
			/* Its ServerHello may come ahead of the reply: the
			 * I/O thread writes it to the peer (ipc.c's
			 * write_ahead). */
			ho_proto_put_u8(b, HO_F_OUTPUT_AHEAD, 1);
			c->call.ahead_fd = c->fd;
		}
		if (c->role == HO_ROLE_CLIENT && c->servername[0] != '\0')
			ho_proto_put_str(b, HO_F_SERVER_NAME, c->servername);
		if (c->role == HO_ROLE_CLIENT && c->peer[0] != '\0')
			ho_proto_put_str(b, HO_F_PEER, c->peer);
		if (c->role == HO_ROLE_CLIENT && c->ctx->no_verify)
			ho_proto_put_u8(b, HO_F_NO_VERIFY, 1);
		/* The caller's CAs: the file once, then its digest while
		 * handoffd holds it (daemon/trust_cache.c). */
		const struct ho_buf *cas = &c->ctx->ca_pem;
		c->sent_ca_pem = 0;
		if (c->role == HO_ROLE_CLIENT && ho_buf_used(cas) > 0) {
			c->sent_ca_pem = !atomic_load(&c->ctx->ca_held);
			if (c->sent_ca_pem)
				ho_proto_put(b, HO_F_TRUST_PEM,
				    ho_buf_data(cas), ho_buf_used(cas));
			else
				ho_proto_put(b, HO_F_TRUST_DIGEST,
				    c->ctx->ca_digest,
				    sizeof(c->ctx->ca_digest));
		}
	}
	size_t n = ho_buf_used(&c->in);
	if (n > HO_PROTO_MAX_BYTES)
		n = HO_PROTO_MAX_BYTES;
	ho_proto_put(b, HO_F_INPUT, ho_buf_data(&c->in), n);
	ho_buf_consume(&c->in, n);
	if (ho_proto_finish(b) != 0)
		return ho_conn_fail(c, HANDOFF_EINTERNAL,
		    "cannot build a request for handoffd: %s",
		    ho_proto_strerror(b->err));
	start_deadline(c); /* for getting it sent and answered */
	return 0;
}

static int
send_request(struct handoff_conn *c)
{
	char err[HO_ERR_MAX];
	int r = ho_ipc_call_send(&c->ctx->ipc, &c->call, c->request_id,
	    c->request.buf, c->request.len, err, sizeof(err));
	ho_proto_buf_free(&c->request);
	if (r != 0)
		return ho_conn_fail(c, r, "%s", err);
	return 0;
}

/* The protocol's name as OpenSSL and GnuTLS print it. */
static const char *
version_name(uint16_t version)
{
	switch (version) {
	case HO_TLS13: return "TLSv1.3";
	case HO_TLS12: return "TLSv1.2";
	case HO_TLS11: return "TLSv1.1";
	default: return "TLSv1";
	}
}

/* Copies the keys and facts of a DONE reply into the record layer. */
static int
install_keys(struct handoff_conn *c, const struct ho_proto_msg *m)
{
	uint16_t version, suite, limit;
	uint64_t rseq, wseq;
	const struct ho_proto_field *f = m->f;
	if (ho_proto_get_u16(m, HO_F_VERSION, &version) != 0 ||
	    ho_proto_get_u16(m, HO_F_SUITE, &suite) != 0 ||
	    ho_proto_get_u64(m, HO_F_READ_SEQ, &rseq) != 0 ||
	    ho_proto_get_u64(m, HO_F_WRITE_SEQ, &wseq) != 0 ||
	    !f[HO_F_READ_KEY].present || !f[HO_F_READ_IV].present ||
	    !f[HO_F_WRITE_KEY].present || !f[HO_F_WRITE_IV].present)
		return ho_conn_fail(c, HANDOFF_EPROTO,
		    "handoffd's DONE reply lacks keys (daemon and library "
		    "versions differ?)");
	if (ho_rec_init(&c->rec, version, suite) != 0)
		return ho_conn_fail(c, HANDOFF_EUNSUPPORTED,
		    "handoffd negotiated cipher suite 0x%04x, which this "
		    "library's record layer does not run",
		    suite);
	const struct ho_proto_field *rs = &f[HO_F_READ_SECRET];
	const struct ho_proto_field *ws = &f[HO_F_WRITE_SECRET];
	const struct ho_proto_field *rm = &f[HO_F_READ_MAC_KEY];
	const struct ho_proto_field *wm = &f[HO_F_WRITE_MAC_KEY];
	uint8_t etm = 0;
	ho_proto_get_u8(m, HO_F_ETM, &etm);
	c->rec.etm = etm != 0;
	if (c->rec.cbc &&
	    (ho_rec_set_mac_key(&c->rec, HO_REC_READ, rm->ptr, rm->len) != 0 ||
	        ho_rec_set_mac_key(&c->rec, HO_REC_WRITE, wm->ptr, wm->len) !=
	            0))
		return ho_conn_fail(c, HANDOFF_EPROTO,
		    "handoffd's DONE reply lacks the MAC keys of %s (daemon "
		    "and library versions differ?)",
		    ho_rec_suite_name(suite));
	if (ho_rec_set_keys(&c->rec, HO_REC_READ, f[HO_F_READ_KEY].ptr,
	        f[HO_F_READ_KEY].len, f[HO_F_READ_IV].ptr, f[HO_F_READ_IV].len,
	        rs->present ? rs->ptr : NULL, rs->len, rseq) != 0 ||
	    ho_rec_set_keys(&c->rec, HO_REC_WRITE, f[HO_F_WRITE_KEY].ptr,
	        f[HO_F_WRITE_KEY].len, f[HO_F_WRITE_IV].ptr,
	        f[HO_F_WRITE_IV].len, ws->present ? ws->ptr : NULL, ws->len,
	        wseq) != 0)
		return ho_conn_fail(c, HANDOFF_EPROTO,
		    "handoffd sent keys of the wrong size for %s",
		    ho_rec_suite_name(suite));
	snprintf(c->version, sizeof(c->version), "%s", version_name(version));
	snprintf(c->cipher, sizeof(c->cipher), "%s", ho_rec_suite_name(suite));
	ho_proto_get_str(m, HO_F_ALPN, c->alpn, sizeof(c->alpn));
	ho_proto_get_str(
	    m, HO_F_SERVER_NAME, c->servername, sizeof(c->servername));
	const struct ho_proto_field *chain = &m->f[HO_F_PEER_CHAIN];
	if (chain->present &&
	    ho_buf_append(&c->peer_chain, chain->ptr, chain->len) != 0)
		return ho_conn_fail(c, HANDOFF_ENOMEM, "out of memory");
	uint8_t resumed = 0;
	ho_proto_get_u8(m, HO_F_RESUMED, &resumed);
	c->resumed = resumed != 0;
	c->max_plain = HO_REC_MAX_PLAIN;
	if (ho_proto_get_u16(m, HO_F_RECORD_LIMIT, &limit) == 0) {
		/* RFC 8449: in TLS 1.3 the limit counts the content type. */
		size_t l = version == HO_TLS13 ? (size_t)limit - 1 : limit;
		if (l < c->max_plain)
			c->max_plain = l < 63 ? 63 : l;
	}
	return 0;
}

static int
queue_output(struct handoff_conn *c, const struct ho_proto_msg *m)
{
	const struct ho_proto_field *o = &m->f[HO_F_OUTPUT];
	/* A ServerHello the peer's socket did not take goes first. */
	if (ho_ipc_call_take_ahead(&c->ctx->ipc, &c->call, &c->out) != 0 ||
	    (o->present && ho_buf_append(&c->out, o->ptr, o->len) != 0))
		return ho_conn_fail(c, HANDOFF_ENOMEM, "out of memory");
	return 0;
}

/* handoffd does not hold the CA file our digest named (it restarted, or
 * made room for other files): the first request again, with the file.
 * Nothing was applied; the handshake has not begun. */
static int
send_cas_again(struct handoff_conn *c)
{
	if (c->sent_ca_pem || c->have_token)
		return ho_conn_fail(c, HANDOFF_EPROTO,
		    "handoffd asked for the CA file at the wrong time "
		    "(daemon and library versions differ?)");
	atomic_store(&c->ctx->ca_held, 0);
	c->request_id = 0;
	c->state = HO_CONN_HS_READ;
	return 0;
}

/* Acts on the daemon's reply; moves to HS_WRITE on success. */
static int
handle_reply(struct handoff_conn *c, const uint8_t *buf, size_t len)
{
	struct ho_proto_msg m;
	int err = ho_proto_parse(buf, len, &m);
	if (err != 0)
		return ho_conn_fail(c, HANDOFF_EPROTO,
		    "malformed reply from handoffd: %s",
		    ho_proto_strerror(err));
	uint64_t id = 0;
	ho_proto_get_u64(&m, HO_F_REQUEST_ID, &id);
	if (m.type != HO_MSG_ERROR && id != c->request_id)
		return ho_conn_fail(c, HANDOFF_EPROTO,
		    "reply from handoffd answers another request");
	if (m.type == HO_MSG_HS_NEED_CAS)
		return send_cas_again(c);
	if (c->sent_ca_pem && m.type != HO_MSG_ERROR)
		atomic_store(&c->ctx->ca_held, 1);
	if (queue_output(c, &m) != 0)
		return -1;
	c->state = HO_CONN_HS_WRITE;
	start_deadline(c); /* for the write to the peer */
	switch (m.type) {
	case HO_MSG_HS_CONTINUE:
		if (!m.f[HO_F_TOKEN].present)
			return ho_conn_fail(c, HANDOFF_EPROTO,
			    "handoffd's reply lacks a session token");
		memcpy(c->token, m.f[HO_F_TOKEN].ptr, sizeof(c->token));
		c->have_token = 1;
		c->after_write = HO_CONN_HS_READ;
		return 0;
	case HO_MSG_HS_DONE: {
		const struct ho_proto_field *l = &m.f[HO_F_LEFTOVER];
		if (install_keys(c, &m) != 0)
			return -1;
		if (l->present && ho_buf_append(&c->in, l->ptr, l->len) != 0)
			return ho_conn_fail(
			    c, HANDOFF_ENOMEM, "out of memory");
		if (c->role == HO_ROLE_CLIENT && m.f[HO_F_TOKEN].present) {
			/* TLS 1.3: the daemon waits for the server's ticket.
			 */
			memcpy(c->ticket_token, m.f[HO_F_TOKEN].ptr,
			    sizeof(c->ticket_token));
			c->have_ticket_token = 1;
		}
		c->after_write = HO_CONN_OPEN;
		c->have_token = 0;
		const struct ho_proto_field *pf = &m.f[HO_F_PEER_FINISHED];
		const struct ho_proto_field *hs = &m.f[HO_F_HS_READ_SECRET];
		if (pf->present || hs->present) {
			if (c->role != HO_ROLE_SERVER ||
			    c->rec.version != HO_TLS13 || !pf->present ||
			    !hs->present ||
			    pf->len > sizeof(c->peer_finished) ||
			    hs->len > sizeof(c->peer_hs_secret))
				return ho_conn_fail(c, HANDOFF_EPROTO,
				    "handoffd's one-trip DONE reply is "
				    "malformed (daemon and library versions "
				    "differ?)");
			memcpy(c->peer_finished, pf->ptr, pf->len);
			c->peer_finished_len = pf->len;
			memcpy(c->peer_hs_secret, hs->ptr, hs->len);
			c->peer_hs_secret_len = hs->len;
			c->after_write = HO_CONN_HS_PEER_FINISHED;
		}
		return 0;
	}
	case HO_MSG_ERROR: {
		uint32_t code = HANDOFF_EPROTO;
		char text[HO_ERR_MAX] = "handoffd gave no reason";
		ho_proto_get_u32(&m, HO_F_ERROR_CODE, &code);
		ho_proto_get_str(&m, HO_F_ERROR_TEXT, text, sizeof(text));
		/* The session is gone on the daemon side; the socket is
		 * fine.  Flush the daemon's alert to the peer, then fail. */
		c->have_token = 0;
		c->errnum = (int)code;
		snprintf(c->err, sizeof(c->err), "%s", text);
		c->after_write = HO_CONN_FAILED;
		return 0;
	}
	default:
		return ho_conn_fail(c, HANDOFF_EPROTO,
		    "unexpected %s message from handoffd",
		    ho_proto_msg_name(m.type));
	}
}

/* Waits for the daemon; blocking sockets poll here with the deadline. */
static int
wait_reply(struct handoff_conn *c)
{
	for (;;) {
		void *msg = NULL;
		int n = ho_ipc_call_take(&c->ctx->ipc, &c->call, &msg);
		if (n < 0)
			return ho_conn_fail(
			    c, c->call.errnum, "%s", c->call.err);
		if (n > 0) {
			int r = handle_reply(c, msg, (size_t)n);
			ho_ipc_freemsg(msg, (size_t)n);
			return r;
		}
		uint64_t now = ho_now_ms();
		if (now >= c->deadline_ms) {
			/* A reply that comes later is dropped. */
			ho_ipc_call_cancel(&c->ctx->ipc, &c->call);
			return ho_conn_timed_out(c, "handoffd's reply",
			    "no reply from handoffd at %s within %u ms: is it "
			    "running (handoffctl ping), and may this user use "
			    "its socket?",
			    c->ctx->ipc.url, c->ctx->deadline_ms);
		}
		if (c->nonblocking)
			return HANDOFF_WANT_POLLIN;
		if (ho_ipc_call_wait(&c->call, (int)(c->deadline_ms - now)) <
		    0)
			return ho_conn_fail(
			    c, HANDOFF_EIO, "poll: %s", strerror(errno));
	}
}

int
ho_handshake_run(struct handoff_conn *c)
{
	int r;
	for (;;) {
		switch (c->state) {
		case HO_CONN_HS_READ:
			/* A client's first request carries no input: the
			 * daemon writes the ClientHello. */
			if (ho_hs_input_ready(ho_buf_data(&c->in),
			        ho_buf_used(&c->in),
			        c->role == HO_ROLE_SERVER && !c->have_token) ||
			    (c->role == HO_ROLE_CLIENT &&
			        c->request_id == 0)) {
				if (build_request(c) != 0)
					return -1;
				c->state = HO_CONN_HS_SEND;
				break;
			}
			r = ho_conn_fill_awaiting(
			    c, "complete handshake message");
			if (r < 0)
				return r;
			break;
		case HO_CONN_HS_SEND:
			if (send_request(c) != 0)
				return -1;
			c->state = HO_CONN_HS_WAIT;
			break;
		case HO_CONN_HS_WAIT:
			if ((r = wait_reply(c)) != 0)
				return r;
			break;
		case HO_CONN_HS_WRITE:
			/* The flush fails at the deadline handle_reply set: a
			 * peer that does not read cannot hold us here. */
			if ((r = ho_conn_flush(c)) != 0)
				return r;
			c->state = c->after_write;
			if (c->state == HO_CONN_HS_READ ||
			    c->state == HO_CONN_HS_PEER_FINISHED)
				start_deadline(c);
			else
				c->deadline_ms = 0;
			break;
		case HO_CONN_HS_PEER_FINISHED:
			if ((r = ho_peer_finished_run(c)) != 0)
				return r;
			c->state = HO_CONN_OPEN;
			c->deadline_ms = 0;
			break;
		case HO_CONN_OPEN:
		case HO_CONN_CLOSED:
		case HO_CONN_EXPORTED: return 0;
		case HO_CONN_FAILED: return -1;
		}
	}
}

void
ho_handshake_abandon(struct handoff_conn *c)
{
	if (c->state < HO_CONN_OPEN)
		ho_ipc_call_cancel(&c->ctx->ipc, &c->call);
	if (c->have_token) {
		/* Free the daemon's session now rather than at its idle
		 * timeout.  Nobody waits for the answer (a step still
		 * running is dropped by the daemon when it ends). */
		ho_ipc_send_oneway(
		    &c->ctx->ipc, HO_MSG_HS_ABORT, c->token, NULL, 0);
	}
	c->have_token = 0;
	ho_wipe(c->token, sizeof(c->token));
}
