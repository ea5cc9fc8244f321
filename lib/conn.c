/*
 * conn.c - a TLS connection in the caller: the record layer after
 * hand-off, alerts, KeyUpdate, close_notify, and the public handoff_conn_*
 * calls that drive it (conn_io.c has its socket I/O and deadlines,
 * conn_info.c the calls that report).
 *
 * Buffers: `in` holds bytes read from the peer (whole records are opened
 * in place, so returned plaintext points into it until consumed); `out`
 * holds sealed records and handshake bytes not yet written.  The socket
 * stays the caller's: nothing here closes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff_internal.h"
#include "wipe.h"

/* Records sealed per write() system call. */
#define WRITE_BATCH_RECORDS 4

#define ALERT_CLOSE_NOTIFY 0
#define ALERT_UNEXPECTED_MESSAGE 10
#define ALERT_BAD_RECORD_MAC 20
#define ALERT_RECORD_OVERFLOW 22
#define ALERT_DECODE_ERROR 50
#define ALERT_USER_CANCELED 90
#define ALERT_NO_RENEGOTIATION 100
#define HS_HELLO_REQUEST 0
#define HS_CLIENT_HELLO 1
#define HS_NEW_SESSION_TICKET 4
#define HS_KEY_UPDATE 24

/* ---- records ---------------------------------------------------------- */

int
ho_conn_seal(
    struct handoff_conn *c, uint8_t type, const uint8_t *p, size_t len)
{
	size_t need = ho_rec_sealed_len(&c->rec, len, 0);
	size_t out_len;
	if (ho_buf_reserve(&c->out, need) != 0)
		return ho_conn_fail(c, HANDOFF_ENOMEM, "out of memory");
	int r = ho_rec_seal(&c->rec, type, p, len, 0, c->out.ptr + c->out.len,
	    c->out.cap - c->out.len, &out_len);
	if (r == HO_REC_E_SEQ)
		return ho_conn_fail(c, HANDOFF_ERECORD,
		    "write sequence number exhausted: reconnect");
	if (r != 0)
		return ho_conn_fail(c, HANDOFF_EINTERNAL,
		    "cannot encrypt a record (error %d)", r);
	ho_buf_commit(&c->out, out_len);
	return 0;
}

void
ho_conn_send_alert(struct handoff_conn *c, uint8_t desc)
{
	uint8_t alert[2] = {2, desc}; /* fatal */
	/* After our close_notify nothing more may go out (RFC 8446 6.1). */
	if (c->state != HO_CONN_CLOSED &&
	    ho_rec_ready(&c->rec, HO_REC_WRITE) &&
	    ho_conn_seal(c, HO_CT_ALERT, alert, sizeof(alert)) == 0) {
		/* Best effort: one attempt, never a wait, even on a
		 * blocking socket (the connection is failing anyway). */
		ho_conn_flush_once(c);
	}
}

/* Fails the connection with an alert to the peer. */
static int
fail_alert(struct handoff_conn *c, uint8_t desc, int code, const char *what)
{
	ho_conn_send_alert(c, desc);
	return ho_conn_fail(c, code, "%s", what);
}

static int
send_key_update(struct handoff_conn *c, uint8_t request_update)
{
	uint8_t msg[5] = {HS_KEY_UPDATE, 0, 0, 1, request_update};
	/* The KeyUpdate goes out under the old key; then the key moves. */
	if (ho_conn_seal(c, HO_CT_HANDSHAKE, msg, sizeof(msg)) != 0)
		return -1;
	if (ho_rec_update(&c->rec, HO_REC_WRITE) != 0)
		return ho_conn_fail(
		    c, HANDOFF_EINTERNAL, "cannot derive the next write key");
	return 0;
}

/* Handshake messages after the handshake: KeyUpdate and, to a client,
 * NewSessionTicket (TLS 1.3); in TLS 1.2 a renegotiating ClientHello or
 * HelloRequest, which is refused. */
static int
post_handshake(struct handoff_conn *c, const uint8_t *p, size_t len)
{
	while (len > 0) {
		if (len < 4)
			return fail_alert(c, ALERT_DECODE_ERROR,
			    HANDOFF_ERECORD,
			    "peer sent a truncated handshake message");
		size_t mlen = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		if (mlen > len - 4)
			return fail_alert(c, ALERT_UNEXPECTED_MESSAGE,
			    HANDOFF_EUNSUPPORTED,
			    "peer split a post-handshake message across "
			    "records, which this library does not support");
		if (p[0] == HS_NEW_SESSION_TICKET &&
		    c->role == HO_ROLE_CLIENT && c->rec.version == HO_TLS13) {
			ho_client_relay_ticket(c, p, 4 + mlen);
			p += 4 + mlen;
			len -= 4 + mlen;
			continue;
		}
		if ((p[0] == HS_CLIENT_HELLO || p[0] == HS_HELLO_REQUEST) &&
		    c->rec.version != HO_TLS13) {
			/* Renegotiation: the keys live here, the handshake
			 * code in the daemon, so it cannot happen.  Say so
			 * (a warning, see send_owed) and carry on with the
			 * old keys. */
			c->renego_refusal_owed = 1;
			p += 4 + mlen;
			len -= 4 + mlen;
			continue;
		}
		if (p[0] != HS_KEY_UPDATE || c->rec.version != HO_TLS13)
			return fail_alert(c, ALERT_UNEXPECTED_MESSAGE,
			    HANDOFF_ERECORD,
			    "peer sent an unexpected handshake message after "
			    "the handshake");
		if (mlen != 1 || p[4] > 1)
			return fail_alert(c, ALERT_DECODE_ERROR,
			    HANDOFF_ERECORD,
			    "peer sent a malformed KeyUpdate");
		/* RFC 8446 5.1: a key change falls on a record boundary;
		 * what follows in this record would be under the old key. */
		if (len > 4 + mlen)
			return fail_alert(c, ALERT_UNEXPECTED_MESSAGE,
			    HANDOFF_ERECORD,
			    "peer sent more handshake data after a KeyUpdate "
			    "in the same record (a key change must end its "
			    "record)");
		if (ho_rec_update(&c->rec, HO_REC_READ) != 0)
			return ho_conn_fail(c, HANDOFF_EINTERNAL,
			    "cannot derive the next read key");
		/* update_requested: a KeyUpdate of ours is owed (see
		 * send_owed); several requests get one answer. */
		if (p[4] == 1)
			c->key_update_owed = 1;
		p += 4 + mlen;
		len -= 4 + mlen;
	}
	return 0;
}

/* Seals the replies the peer asked for: a KeyUpdate that requests none
 * (RFC 8446 4.6.3: before our next application data) and the
 * no_renegotiation warning. */
static int
seal_owed(struct handoff_conn *c)
{
	if (c->state != HO_CONN_OPEN) {
		/* After our close_notify nothing more may go out (RFC 8446
		 * 6.1): the replies are dropped, the read key still moves. */
		c->key_update_owed = 0;
		c->renego_refusal_owed = 0;
		return 0;
	}
	if (c->key_update_owed) {
		c->key_update_owed = 0;
		if (send_key_update(c, 0) != 0)
			return -1;
	}
	if (c->renego_refusal_owed) {
		uint8_t alert[2] = {1, ALERT_NO_RENEGOTIATION};
		c->renego_refusal_owed = 0;
		if (ho_conn_seal(c, HO_CT_ALERT, alert, sizeof(alert)) != 0)
			return -1;
	}
	return 0;
}

/*
 * The read path's writes: owed replies, and what a WANT_POLLOUT write
 * left.  Replies are sealed only once `out` has drained, so a peer that
 * keeps asking without reading finds at most one reply queued, and one
 * send attempt is made that never waits, even on a blocking socket: a
 * reader must not stall on a peer that does not read (it may be busy
 * writing to us).  What does not go now goes with the next call.
 */
static int
send_replies(struct handoff_conn *c)
{
	if (ho_buf_used(&c->out) == 0 && seal_owed(c) != 0)
		return -1;
	if (ho_buf_used(&c->out) > 0 && ho_conn_flush_once(c) == -1)
		return -1;
	return 0;
}

static int
on_alert(struct handoff_conn *c, const uint8_t *p, size_t len)
{
	if (len != 2)
		return fail_alert(c, ALERT_DECODE_ERROR, HANDOFF_ERECORD,
		    "peer sent a malformed alert");
	if (p[1] == ALERT_CLOSE_NOTIFY) {
		c->peer_closed = 1;
		return 0;
	}
	if (p[1] == ALERT_USER_CANCELED)
		return 0; /* a close_notify should follow */
	/* Also warning-level alerts other than the two above end the
	 * connection: TLS 1.3 has no others, and TLS 1.2 peers send none
	 * that matter after the handshake. */
	const char *name =
	    gnutls_alert_get_name((gnutls_alert_description_t)p[1]);
	return ho_conn_fail(c, HANDOFF_EALERT, "peer sent alert %u: %s", p[1],
	    name ? name : "unknown alert");
}

/*
 * An open connection waiting for its peer with nothing buffered holds no
 * buffers: an event loop may keep thousands idle, and the read buffer
 * alone is 64 KiB.  The next read or write allocates again (malloc, far
 * cheaper than the system call that follows).
 */
static void
release_idle_buffers(struct handoff_conn *c)
{
	if (ho_buf_used(&c->in) == 0 && c->plain_len == 0)
		ho_buf_free(&c->in);
	if (ho_buf_used(&c->out) == 0)
		ho_buf_free(&c->out);
}

/* Reads and opens the next record; leaves application data in c->plain.
 * Returns 0, HANDOFF_WANT_POLLIN or -1. */
static int
next_record(struct handoff_conn *c)
{
	for (;;) {
		size_t used = ho_buf_used(&c->in);
		const uint8_t *h = ho_buf_data(&c->in);
		if (used >= HO_REC_HEADER_LEN) {
			size_t body = (size_t)h[3] << 8 | h[4];
			if (body > ho_rec_max_body(&c->rec))
				return fail_alert(c, ALERT_RECORD_OVERFLOW,
				    HANDOFF_ERECORD,
				    "peer sent a record longer than TLS "
				    "allows");
			if (used >= HO_REC_HEADER_LEN + body)
				break;
		}
		int r = ho_conn_fill(c);
		if (r == 0)
			return ho_conn_fail(c, HANDOFF_EEOF,
			    "the peer closed the connection without "
			    "close_notify (data may be truncated)");
		if (r == HANDOFF_WANT_POLLIN)
			release_idle_buffers(c);
		if (r < 0)
			return r;
	}
	uint8_t *rec = c->in.ptr + c->in.off;
	size_t rec_len = HO_REC_HEADER_LEN + ((size_t)rec[3] << 8 | rec[4]);
	/* TLS 1.3 hides the real type inside; TLS 1.2 shows it outside. */
	int outer_ok = c->rec.version == HO_TLS13
	    ? rec[0] == HO_CT_APPLICATION_DATA
	    : rec[0] >= HO_CT_ALERT && rec[0] <= HO_CT_APPLICATION_DATA;
	if (!outer_ok)
		return fail_alert(c, ALERT_UNEXPECTED_MESSAGE, HANDOFF_ERECORD,
		    "peer sent a record of an unexpected type after the "
		    "handshake");
	uint8_t type, *plain;
	size_t plain_len;
	int r = ho_rec_open(&c->rec, rec, rec_len, &type, &plain, &plain_len);
	/* The plaintext stays valid: `in` is only compacted by a later fill,
	 * which happens after it has been returned. */
	ho_buf_consume(&c->in, rec_len);
	switch (r) {
	case 0: break;
	case HO_REC_E_BAD_MAC:
		return fail_alert(c, ALERT_BAD_RECORD_MAC, HANDOFF_ERECORD,
		    "a record from the peer failed authentication "
		    "(bad_record_mac): connection closed");
	case HO_REC_E_OVERFLOW:
		return fail_alert(c, ALERT_RECORD_OVERFLOW, HANDOFF_ERECORD,
		    "peer sent a record longer than TLS allows");
	case HO_REC_E_SEQ:
		return ho_conn_fail(c, HANDOFF_ERECORD,
		    "read sequence number exhausted: reconnect");
	default:
		return fail_alert(c, ALERT_UNEXPECTED_MESSAGE, HANDOFF_ERECORD,
		    "peer sent a malformed record");
	}
	if (type == HO_CT_APPLICATION_DATA && plain_len > 0)
		c->idle_records = 0;
	else if (++c->idle_records > HO_CONN_MAX_IDLE_RECORDS) {
		/* A peer that stalls the reader on purpose. */
		ho_conn_send_alert(c, ALERT_UNEXPECTED_MESSAGE);
		return ho_conn_fail(c, HANDOFF_ERECORD,
		    "peer sent more than %d records in a row with no "
		    "application data (empty records, alerts or handshake "
		    "messages): connection closed",
		    HO_CONN_MAX_IDLE_RECORDS);
	}
	switch (type) {
	case HO_CT_APPLICATION_DATA:
		c->plain = plain;
		c->plain_len = plain_len;
		return 0;
	case HO_CT_ALERT: return on_alert(c, plain, plain_len);
	case HO_CT_HANDSHAKE:
		/* RFC 8446 5.1, RFC 5246 6.2.1: never zero-length. */
		if (plain_len == 0)
			return fail_alert(c, ALERT_UNEXPECTED_MESSAGE,
			    HANDOFF_ERECORD,
			    "peer sent an empty handshake record, which TLS "
			    "forbids");
		return post_handshake(c, plain, plain_len);
	default:
		return fail_alert(c, ALERT_UNEXPECTED_MESSAGE, HANDOFF_ERECORD,
		    "peer sent a record of an unexpected content type");
	}
}

/* A call the connection's state does not allow: reported, but the
 * connection is not failed by it. */
static int
misuse(struct handoff_conn *c, const char *what)
{
	c->errnum = HANDOFF_ESTATE;
	snprintf(c->err, sizeof(c->err), "%s", what);
	return -1;
}

/* Runs the handshake if needed; 0 when records may flow. */
static int
ensure_open(struct handoff_conn *c)
{
	if (c->state < HO_CONN_OPEN)
		return ho_handshake_run(c);
	if (c->state == HO_CONN_FAILED)
		return -1;
	if (c->state == HO_CONN_EXPORTED)
		return misuse(
		    c, "the keys were exported: records are the caller's now");
	if (!ho_rec_ready(&c->rec, HO_REC_READ))
		return misuse(c,
		    "handoff_close was called before the handshake finished: "
		    "there are no keys to read or write records with; free "
		    "the connection");
	return 0;
}

ssize_t
handoff_read(struct handoff_conn *c, void *buf, size_t len)
{
	/* As read(2): nothing asked, nothing done.  Reading a record here
	 * could only end in a 0 that means close_notify, or a wait. */
	if (len == 0)
		return c->state >= HO_CONN_OPEN && ensure_open(c) != 0 ? -1
		                                                       : 0;
	int r = ensure_open(c);
	if (r != 0)
		return r;
	for (;;) {
		if (send_replies(c) != 0)
			return -1;
		if (c->plain_len > 0) {
			size_t n = len < c->plain_len ? len : c->plain_len;
			memcpy(buf, c->plain, n);
			c->plain += n;
			c->plain_len -= n;
			return (ssize_t)n;
		}
		if (c->peer_closed)
			return 0;
		if ((r = next_record(c)) != 0)
			return r;
	}
}

/* Seals up to one batch of buf into `out`; returns bytes taken. */
static ssize_t
seal_batch(struct handoff_conn *c, const uint8_t *buf, size_t len)
{
	size_t taken = 0;
	for (int i = 0; i < WRITE_BATCH_RECORDS && taken < len; i++) {
		/* Before the AEAD usage limit (RFC 8446 5.5), a new key. */
		if (ho_rec_wants_update(&c->rec, HO_REC_WRITE) &&
		    send_key_update(c, 0) != 0)
			return -1;
		size_t n = len - taken;
		if (n > c->max_plain)
			n = c->max_plain;
		if (ho_conn_seal(c, HO_CT_APPLICATION_DATA, buf + taken, n) !=
		    0)
			return -1;
		taken += n;
	}
	return (ssize_t)taken;
}

ssize_t
handoff_write(struct handoff_conn *c, const void *buf, size_t len)
{
	int r = ensure_open(c);
	if (r != 0)
		return r;
	if (c->state != HO_CONN_OPEN) /* the connection itself is fine */
		return misuse(c,
		    "handoff_write after handoff_close: close_notify is "
		    "sent, nothing more may follow it");
	if ((r = ho_conn_flush(c)) != 0)
		return r;
	if (c->write_pending > 0) {
		/* The retry of a write that returned WANT_POLLOUT. */
		size_t n = c->write_pending;
		c->write_pending = 0;
		return (ssize_t)n;
	}
	if (seal_owed(c) != 0)
		return -1;
	if (c->rekey_pending) {
		c->rekey_pending = 0;
		if (send_key_update(c, 1) != 0)
			return -1;
	}
	if (len == 0)
		return 0;
	size_t done = 0;
	while (done < len) {
		ssize_t n =
		    seal_batch(c, (const uint8_t *)buf + done, len - done);
		if (n < 0)
			return -1;
		done += (size_t)n;
		r = ho_conn_flush(c);
		if (r == HANDOFF_WANT_POLLOUT) {
			c->write_pending = done;
			return r;
		}
		if (r != 0)
			return -1;
		if (c->nonblocking)
			break;
	}
	return (ssize_t)done;
}

int
handoff_conn_rekey(struct handoff_conn *c)
{
	if (c->state != HO_CONN_OPEN || c->rec.version != HO_TLS13) {
		/* A misplaced call, not a broken connection: report it
		 * without failing the connection. */
		c->errnum = HANDOFF_ESTATE;
		snprintf(c->err, sizeof(c->err),
		    "KeyUpdate needs an open TLS 1.3 connection");
		return -1;
	}
	c->rekey_pending = 1;
	return 0;
}

int
handoff_close(struct handoff_conn *c)
{
	if (c->state == HO_CONN_OPEN) {
		uint8_t alert[2] = {1, ALERT_CLOSE_NOTIFY};
		if (ho_conn_seal(c, HO_CT_ALERT, alert, sizeof(alert)) != 0)
			return -1;
		c->state = HO_CONN_CLOSED;
	} else if (c->state < HO_CONN_OPEN) {
		ho_handshake_abandon(c);
		c->state = HO_CONN_CLOSED;
		return 0;
	} else if (c->state == HO_CONN_FAILED ||
	    c->state == HO_CONN_EXPORTED) {
		return 0; /* nothing to send, or no keys to send it with */
	}
	return ho_conn_flush(c);
}

/* ---- lifecycle and info ----------------------------------------------- */

struct handoff_conn *
ho_conn_new(struct handoff_ctx *ctx, int fd, int role, const char *caller)
{
	int flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
	if (flags < 0) {
		ho_ctx_fail(ctx, "%s: fd %d: %s", caller, fd,
		    fd < 0 ? "invalid descriptor" : strerror(errno));
		return NULL;
	}
	struct handoff_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ho_ctx_fail(ctx, "out of memory");
		return NULL;
	}
	c->ctx = ctx;
	c->fd = fd;
	c->role = role;
	c->nonblocking = (flags & O_NONBLOCK) != 0;
	c->state = HO_CONN_HS_READ;
	c->call.efd = -1;
	c->call.ahead_fd = -1;
	c->max_plain = HO_REC_MAX_PLAIN;
	/* The first wait (for the ClientHello) has a deadline too, and
	 * the whole handshake's limit starts now. */
	c->born_ms = ho_now_ms();
	ho_conn_start_deadline(c);
	return c;
}

int
handoff_accept_socket(
    struct handoff_ctx *ctx, struct handoff_conn **conn, int fd)
{
	if (conn == NULL) {
		ho_ctx_fail(ctx, "handoff_accept_socket: conn is NULL");
		return -1;
	}
	*conn = ho_conn_new(ctx, fd, HO_ROLE_SERVER, "handoff_accept_socket");
	return *conn != NULL ? 0 : -1;
}

int
handoff_handshake(struct handoff_conn *c)
{
	return ensure_open(c);
}

int
handoff_conn_pollfd(struct handoff_conn *c)
{
	/* While the daemon has the turn: the eventfd its reply will
	 * signal (one per connection, so an event loop can watch many). */
	if (c->state == HO_CONN_HS_WAIT && c->call.efd >= 0)
		return c->call.efd;
	return c->fd;
}

int
handoff_conn_poll_timeout(struct handoff_conn *c)
{
	if (c->deadline_ms == 0)
		return -1;
	uint64_t now = ho_now_ms();
	return now >= c->deadline_ms ? 0 : (int)(c->deadline_ms - now);
}

void
handoff_conn_free(struct handoff_conn *c)
{
	if (c == NULL)
		return;
	ho_handshake_abandon(c);
	ho_client_relay_ticket(c, NULL, 0); /* frees the daemon session */
	ho_ipc_call_free(&c->ctx->ipc, &c->call);
	ho_proto_buf_free(&c->request);
	ho_rec_clear(&c->rec);
	ho_buf_free(&c->in);
	ho_buf_free(&c->out);
	ho_buf_free(&c->peer_chain);
	ho_wipe(c, sizeof(*c));
	free(c);
}
