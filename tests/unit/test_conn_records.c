/*
 * test_conn_records.c - what an open connection (lib/conn.c) does with
 * hostile or unusual records from its peer.
 *
 * A connection is put in the OPEN state, as handoffd's DONE leaves it,
 * on one end of a socket pair with fixed keys; the test plays the peer
 * on the other end, sealing records under the mirrored keys and opening
 * what the connection sends back.  Covered: a peer that floods requests
 * for a reply (KeyUpdate update_requested, TLS 1.2 renegotiation) while
 * never reading must not make the output grow or block a reader; nothing
 * goes out after our close_notify; a KeyUpdate ends its record; records
 * without data are limited and empty handshake records refused; reads
 * after a close during the handshake, reads of length 0, a write to a
 * pipe nobody reads (no SIGPIPE), and a blocking socket's own receive and
 * send timeouts (SO_RCVTIMEO, SO_SNDTIMEO) ending a read, write or close.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff_internal.h"

#define TLS13_SUITE HO_TLS_AES_128_GCM_SHA256
#define TLS12_SUITE HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256

struct fixture {
	struct handoff_ctx ctx;
	struct handoff_conn *c;
	int peer;           /* the peer's end of the socket pair */
	struct ho_rec prec; /* peer: WRITE = our READ key, READ = our WRITE */
};

/* What the peer read back from the connection. */
struct seen {
	uint8_t type;
	size_t len;
	uint8_t head[8];
};

static int
teardown(void **state)
{
	struct fixture *f = *state;
	if (f == NULL)
		return 0;
	alarm(0);
	close(f->c->fd);
	close(f->peer);
	ho_rec_clear(&f->c->rec);
	ho_buf_free(&f->c->in);
	ho_buf_free(&f->c->out);
	free(f->c);
	ho_rec_clear(&f->prec);
	free(f);
	return 0;
}

static void
on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "test_conn_records: a call did not return "
	                        "within its time (blocked)\n";
	(void)!write(2, m, sizeof(m) - 1);
	_exit(1);
}

/* Opens a connection of `version`; the fixture goes to *state so that
 * teardown frees it. */
static struct fixture *
open_conn(void **state, uint16_t version, uint16_t suite, int nonblocking)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	*state = f;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (nonblocking)
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
	f->ctx.deadline_ms = 2000;
	pthread_mutex_init(&f->ctx.ipc.lock, NULL);
	struct handoff_conn *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->ctx = &f->ctx;
	c->fd = sv[0];
	c->nonblocking = nonblocking;
	c->role = HO_ROLE_SERVER;
	c->state = HO_CONN_OPEN;
	c->max_plain = HO_REC_MAX_PLAIN;
	c->call.efd = -1;
	f->c = c;
	f->peer = sv[1];

	uint8_t k1[32], k2[32], iv1[12], iv2[12], s1[48], s2[48];
	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	memset(iv1, 3, sizeof(iv1));
	memset(iv2, 4, sizeof(iv2));
	memset(s1, 5, sizeof(s1));
	memset(s2, 6, sizeof(s2));
	assert_int_equal(ho_rec_init(&c->rec, version, suite), 0);
	assert_int_equal(ho_rec_init(&f->prec, version, suite), 0);
	size_t sl = version == HO_TLS13 ? gnutls_hmac_get_len(c->rec.hash) : 0;
	size_t kl = c->rec.key_len, il = c->rec.iv_len;
	assert_int_equal(ho_rec_set_keys(&c->rec, HO_REC_READ, k1, kl, iv1, il,
	                     sl ? s1 : NULL, sl, 0),
	    0);
	assert_int_equal(ho_rec_set_keys(&c->rec, HO_REC_WRITE, k2, kl, iv2,
	                     il, sl ? s2 : NULL, sl, 0),
	    0);
	assert_int_equal(ho_rec_set_keys(&f->prec, HO_REC_WRITE, k1, kl, iv1,
	                     il, sl ? s1 : NULL, sl, 0),
	    0);
	assert_int_equal(ho_rec_set_keys(&f->prec, HO_REC_READ, k2, kl, iv2,
	                     il, sl ? s2 : NULL, sl, 0),
	    0);
	signal(SIGALRM, on_alarm);
	alarm(30);
	return f;
}

/* The peer seals one record into out; returns its length.  A KeyUpdate
 * moves the peer's write key after it, as the connection's read key
 * will. */
static size_t
peer_seal(
    struct fixture *f, uint8_t type, const void *p, size_t len, uint8_t *out)
{
	size_t n = 0;
	assert_int_equal(
	    ho_rec_seal(&f->prec, type, p, len, 0, out, HO_REC_MAX_RECORD, &n),
	    0);
	const uint8_t *m = p;
	for (size_t i = 0; type == HO_CT_HANDSHAKE &&
	     f->prec.version == HO_TLS13 && i + 4 <= len;) {
		if (m[i] == 24)
			assert_int_equal(
			    ho_rec_update(&f->prec, HO_REC_WRITE), 0);
		i += 4 +
		    ((size_t)m[i + 1] << 16 | (size_t)m[i + 2] << 8 |
		        m[i + 3]);
	}
	return n;
}

static void
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

static void
peer_sends(struct fixture *f, uint8_t type, const void *p, size_t len)
{
	static uint8_t rec[HO_REC_MAX_RECORD];
	write_all(f->peer, rec, peer_seal(f, type, p, len, rec));
}

/* The peer reads everything the connection sent so far and opens it;
 * returns the number of records (at most max are described). */
static size_t
peer_reads(struct fixture *f, struct seen *seen, size_t max)
{
	static uint8_t b[1 << 20];
	size_t have = 0, count = 0;
	for (;;) {
		ssize_t r =
		    recv(f->peer, b + have, sizeof(b) - have, MSG_DONTWAIT);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	size_t off = 0;
	while (have - off >= HO_REC_HEADER_LEN) {
		size_t len =
		    HO_REC_HEADER_LEN + ((size_t)b[off + 3] << 8 | b[off + 4]);
		assert_true(have - off >= len);
		uint8_t type = 0, *pl = NULL;
		size_t pl_len = 0;
		assert_int_equal(
		    ho_rec_open(&f->prec, b + off, len, &type, &pl, &pl_len),
		    0);
		if (count < max) {
			seen[count].type = type;
			seen[count].len = pl_len;
			memcpy(seen[count].head, pl,
			    pl_len < sizeof(seen[count].head)
			        ? pl_len
			        : sizeof(seen[count].head));
		}
		if (f->prec.version == HO_TLS13 && type == HO_CT_HANDSHAKE &&
		    pl[0] == 24)
			assert_int_equal(
			    ho_rec_update(&f->prec, HO_REC_READ), 0);
		count++;
		off += len;
	}
	assert_int_equal(off, have);
	return count;
}

/* ---- a peer that asks for replies and never reads ---------------------- */

#define FLOOD_REQUESTS 20000
#define FLOOD_DATA_EVERY 8 /* requests between two data records */
/* What the read path may leave queued: one KeyUpdate or alert record. */
#define READ_OUT_BOUND 64

/*
 * The peer sends FLOOD_REQUESTS copies of msg (each asking for a reply),
 * a one-byte data record after every FLOOD_DATA_EVERY of them, and reads
 * nothing; the connection's send buffer is small.  The connection reads
 * it all: the output it queues stays within one reply.
 */
static void
flood_unread(void **state, uint16_t version, uint16_t suite,
    const uint8_t *msg, size_t msg_len, uint8_t reply_type)
{
	struct fixture *f = open_conn(state, version, suite, 1);
	int small = 4096;
	setsockopt(f->c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	fcntl(f->peer, F_SETFL, O_NONBLOCK);
	size_t cap = (FLOOD_REQUESTS + FLOOD_REQUESTS / FLOOD_DATA_EVERY) *
	    (HO_REC_HEADER_LEN + msg_len + 32);
	uint8_t *wire = malloc(cap);
	assert_non_null(wire);
	size_t wire_len = 0, sent = 0, data_expected = 0, data_got = 0;
	for (int i = 0; i < FLOOD_REQUESTS; i++) {
		wire_len += peer_seal(
		    f, HO_CT_HANDSHAKE, msg, msg_len, wire + wire_len);
		if (i % FLOOD_DATA_EVERY == FLOOD_DATA_EVERY - 1) {
			wire_len += peer_seal(f, HO_CT_APPLICATION_DATA, "d",
			    1, wire + wire_len);
			data_expected++;
		}
	}
	size_t max_out = 0;
	while (data_got < data_expected) {
		if (sent < wire_len) {
			ssize_t w = send(f->peer, wire + sent, wire_len - sent,
			    MSG_DONTWAIT);
			if (w > 0)
				sent += (size_t)w;
		}
		char buf[16];
		ssize_t r;
		while ((r = handoff_read(f->c, buf, sizeof(buf))) > 0) {
			data_got += (size_t)r;
			if (ho_buf_used(&f->c->out) > max_out)
				max_out = ho_buf_used(&f->c->out);
		}
		if (ho_buf_used(&f->c->out) > max_out)
			max_out = ho_buf_used(&f->c->out);
		if (r != HANDOFF_WANT_POLLIN && r != HANDOFF_WANT_POLLOUT)
			fail_msg("handoff_read: %zd (%s)", r,
			    handoff_conn_error(f->c));
	}
	free(wire);
	if (max_out > READ_OUT_BOUND)
		fail_msg("the output grew to %zu bytes for a peer that does "
		         "not read",
		    max_out);

	/* The peer reads at last: every record opens under the keys it
	 * expects, and each is a reply (a KeyUpdate that requests none,
	 * or a no_renegotiation warning). */
	static struct seen seen[1 << 14];
	size_t n = peer_reads(f, seen, 1 << 14);
	peer_sends(f, HO_CT_APPLICATION_DATA, "z", 1);
	char buf[4];
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), 1);
	n += peer_reads(f, seen + n, (1 << 14) - n);
	assert_true(n >= 1);
	for (size_t i = 0; i < n && i < (1 << 14); i++) {
		assert_int_equal(seen[i].type, reply_type);
		if (reply_type == HO_CT_HANDSHAKE)
			assert_memory_equal(seen[i].head, "\x18\0\0\x01\0", 5);
		else
			assert_memory_equal(seen[i].head, "\x01\x64", 2);
	}
	assert_int_equal(ho_buf_used(&f->c->out), 0);
}

static void
key_update_requests_unread(void **state)
{
	static const uint8_t ku[5] = {24, 0, 0, 1, 1};
	flood_unread(
	    state, HO_TLS13, TLS13_SUITE, ku, sizeof(ku), HO_CT_HANDSHAKE);
}

static void
hello_requests_unread(void **state)
{
	static const uint8_t hr[4] = {0, 0, 0, 0};
	flood_unread(
	    state, HO_TLS12, TLS12_SUITE, hr, sizeof(hr), HO_CT_ALERT);
}

/* The same flood on a blocking socket: handoff_read must not wait for
 * room to send a reply the peer will never read. */
struct blocking_flood {
	struct fixture *f;
	uint8_t *wire;
	size_t len;
};

static void *
blocking_flood_writer(void *arg)
{
	struct blocking_flood *b = arg;
	write_all(b->f->peer, b->wire, b->len);
	return NULL;
}

static void
key_update_requests_unread_blocking(void **state)
{
	struct fixture *f = open_conn(state, HO_TLS13, TLS13_SUITE, 0);
	int small = 4096;
	setsockopt(f->c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	static const uint8_t ku[5] = {24, 0, 0, 1, 1};
	struct blocking_flood b = {f, NULL, 0};
	b.wire = malloc((size_t)FLOOD_REQUESTS * 64);
	assert_non_null(b.wire);
	size_t data_expected = 0, data_got = 0;
	for (int i = 0; i < FLOOD_REQUESTS; i++) {
		b.len += peer_seal(
		    f, HO_CT_HANDSHAKE, ku, sizeof(ku), b.wire + b.len);
		if (i % FLOOD_DATA_EVERY == FLOOD_DATA_EVERY - 1) {
			b.len += peer_seal(
			    f, HO_CT_APPLICATION_DATA, "d", 1, b.wire + b.len);
			data_expected++;
		}
	}
	pthread_t t;
	assert_int_equal(
	    pthread_create(&t, NULL, blocking_flood_writer, &b), 0);
	while (data_got < data_expected) {
		char buf[16];
		ssize_t r = handoff_read(f->c, buf, sizeof(buf));
		if (r <= 0)
			fail_msg("handoff_read: %zd (%s)", r,
			    handoff_conn_error(f->c));
		data_got += (size_t)r;
		assert_true(ho_buf_used(&f->c->out) <= READ_OUT_BOUND);
	}
	pthread_join(t, NULL);
	free(b.wire);
}

/* ---- after our close_notify -------------------------------------------- */

/* Once close_notify is sent, nothing follows it: not the KeyUpdate a
 * peer asks for (its own KeyUpdate still moves our read key), not a
 * fatal alert. */
static void
nothing_after_close_notify(void **state)
{
	struct fixture *f = open_conn(state, HO_TLS13, TLS13_SUITE, 0);
	assert_int_equal(handoff_close(f->c), 0);
	static const uint8_t ku[5] = {24, 0, 0, 1, 1};
	peer_sends(f, HO_CT_HANDSHAKE, ku, sizeof(ku));
	peer_sends(f, HO_CT_APPLICATION_DATA, "hi", 2);
	char buf[16];
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "hi", 2);
	/* A forged record fails the connection, silently now. */
	uint8_t rec[64];
	size_t n = peer_seal(f, HO_CT_APPLICATION_DATA, "x", 1, rec);
	rec[n - 1] ^= 1;
	write_all(f->peer, rec, n);
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), -1);
	assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ERECORD);

	struct seen seen[4];
	assert_int_equal(peer_reads(f, seen, 4), 1);
	assert_int_equal(seen[0].type, HO_CT_ALERT);
	assert_memory_equal(seen[0].head, "\x01\x00", 2); /* close_notify */
}

/* ---- post-handshake messages -------------------------------------------- */

/* The alert the connection sent last: its level and description. */
static void
peer_gets_alert(struct fixture *f, uint8_t level, uint8_t desc)
{
	struct seen seen[4];
	size_t n = peer_reads(f, seen, 4);
	assert_true(n >= 1 && n <= 4);
	assert_int_equal(seen[n - 1].type, HO_CT_ALERT);
	assert_int_equal(seen[n - 1].head[0], level);
	assert_int_equal(seen[n - 1].head[1], desc);
}

/* RFC 8446 5.1: a KeyUpdate ends its record, since the next message is
 * under the next key. */
static void
key_update_not_last_in_record(void **state)
{
	static const uint8_t two[10] = {24, 0, 0, 1, 0, 24, 0, 0, 1, 0};
	static const uint8_t then_ticket[13] = {
	    24, 0, 0, 1, 0, 4, 0, 0, 4, 0, 0, 0, 0};
	const uint8_t *msgs[] = {two, then_ticket};
	size_t lens[] = {sizeof(two), sizeof(then_ticket)};
	for (int i = 0; i < 2; i++) {
		struct fixture *f = open_conn(state, HO_TLS13, TLS13_SUITE, 1);
		peer_sends(f, HO_CT_HANDSHAKE, msgs[i], lens[i]);
		char buf[16];
		assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), -1);
		assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ERECORD);
		assert_non_null(strstr(handoff_conn_error(f->c), "KeyUpdate"));
		peer_gets_alert(f, 2, 10); /* fatal unexpected_message */
		teardown(state);
		*state = NULL;
	}
}

/* ---- records that carry no data ----------------------------------------- */

/* n records that carry no application data, cycling through `kinds`
 * of them: 0 empty application data, 1 KeyUpdate(update_not_requested),
 * 2 user_canceled warning. */
static void
peer_sends_idle(struct fixture *f, int n, const int *kinds, int nkinds)
{
	static const uint8_t ku[5] = {24, 0, 0, 1, 0};
	static const uint8_t uc[2] = {1, 90};
	for (int i = 0; i < n; i++) {
		switch (kinds[i % nkinds]) {
		case 0: peer_sends(f, HO_CT_APPLICATION_DATA, "", 0); break;
		case 1: peer_sends(f, HO_CT_HANDSHAKE, ku, sizeof(ku)); break;
		case 2: peer_sends(f, HO_CT_ALERT, uc, sizeof(uc)); break;
		}
	}
}

/* Up to HO_CONN_MAX_IDLE_RECORDS records in a row may carry no data; the
 * next one fails the connection (else one handoff_read call could open
 * them for ever). */
static void
idle_records_limit(void **state, uint16_t version, uint16_t suite,
    const int *kinds, int nkinds)
{
	struct fixture *f = open_conn(state, version, suite, 1);
	char buf[16];
	peer_sends_idle(f, HO_CONN_MAX_IDLE_RECORDS, kinds, nkinds);
	peer_sends(f, HO_CT_APPLICATION_DATA, "X", 1);
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), 1);
	/* Data resets the count. */
	peer_sends_idle(f, HO_CONN_MAX_IDLE_RECORDS, kinds, nkinds);
	peer_sends(f, HO_CT_APPLICATION_DATA, "Y", 1);
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'Y');
	peer_sends_idle(f, HO_CONN_MAX_IDLE_RECORDS + 1, kinds, nkinds);
	peer_sends(f, HO_CT_APPLICATION_DATA, "Z", 1);
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), -1);
	assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ERECORD);
	assert_non_null(strstr(handoff_conn_error(f->c), "no application"));
	peer_gets_alert(f, 2, 10); /* fatal unexpected_message */
}

static void
empty_records_limit(void **state)
{
	static const int empty[] = {0};
	idle_records_limit(state, HO_TLS13, TLS13_SUITE, empty, 1);
	teardown(state);
	*state = NULL;
	idle_records_limit(state, HO_TLS12, TLS12_SUITE, empty, 1);
}

static void
mixed_idle_records_limit(void **state)
{
	static const int mixed[] = {0, 1, 2};
	idle_records_limit(state, HO_TLS13, TLS13_SUITE, mixed, 3);
}

/* RFC 8446 5.1 (and RFC 5246 6.2.1): no zero-length handshake
 * fragments. */
static void
empty_handshake_record(void **state)
{
	uint16_t versions[] = {HO_TLS13, HO_TLS12};
	uint16_t suites[] = {TLS13_SUITE, TLS12_SUITE};
	for (int i = 0; i < 2; i++) {
		struct fixture *f =
		    open_conn(state, versions[i], suites[i], 1);
		peer_sends(f, HO_CT_HANDSHAKE, "", 0);
		peer_sends(f, HO_CT_APPLICATION_DATA, "X", 1);
		char buf[16];
		assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), -1);
		assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ERECORD);
		peer_gets_alert(f, 2, 10); /* fatal unexpected_message */
		teardown(state);
		*state = NULL;
	}
}

/* ---- misuse ------------------------------------------------------------- */

/* Closed before the handshake finished: there are no keys, so reads and
 * writes are refused (HANDOFF_ESTATE) without touching the socket. */
static void
read_after_close_during_handshake(void **state)
{
	struct fixture *f = open_conn(state, HO_TLS13, TLS13_SUITE, 0);
	ho_rec_clear(&f->c->rec); /* no keys yet: still handshaking */
	f->c->state = HO_CONN_HS_READ;
	assert_int_equal(handoff_close(f->c), 0);
	uint8_t junk[22] = {0x17, 3, 3, 0, 17};
	memset(junk + 5, 'a', 17);
	write_all(f->peer, junk, sizeof(junk));
	char buf[32];
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), -1);
	assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ESTATE);
	assert_non_null(strstr(handoff_conn_error(f->c), "handshake"));
	assert_int_equal(handoff_write(f->c, "x", 1), -1);
	assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ESTATE);
	assert_non_null(strstr(handoff_conn_error(f->c), "handshake"));
	/* The peer's bytes are still the caller's to read. */
	assert_int_equal(recv(f->c->fd, buf, sizeof(buf), MSG_DONTWAIT),
	    (ssize_t)sizeof(junk));
}

/* Writing after our close_notify is refused (HANDOFF_ESTATE) without
 * failing the connection: the peer's data can still be read. */
static void
write_after_close(void **state)
{
	struct fixture *f = open_conn(state, HO_TLS13, TLS13_SUITE, 1);
	assert_int_equal(handoff_close(f->c), 0);
	assert_int_equal(handoff_write(f->c, "x", 1), -1);
	assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ESTATE);
	peer_sends(f, HO_CT_APPLICATION_DATA, "late", 4);
	char buf[16];
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "late", 4);
}

/* A descriptor that is not a socket (a pipe) gets write(), which raises
 * SIGPIPE when nobody reads: its default action would end the program.
 * A write to a pipe whose reader is gone fails with HANDOFF_EIO instead,
 * no SIGPIPE is left pending, and the thread's signal mask is as it was.
 * (A SIGPIPE the program has pending already is left to it.) */
static void
write_to_pipe_without_reader(void **state)
{
	for (int blocking = 0; blocking < 2; blocking++) {
		struct fixture *f =
		    open_conn(state, HO_TLS13, TLS13_SUITE, !blocking);
		int p[2];
		assert_int_equal(pipe(p), 0);
		close(p[0]);
		close(f->c->fd);
		f->c->fd = p[1];
		signal(SIGPIPE, SIG_DFL);
		sigset_t before, after, pending;
		pthread_sigmask(SIG_SETMASK, NULL, &before);
		assert_int_equal(handoff_write(f->c, "x", 1), -1);
		assert_int_equal(handoff_conn_errno(f->c), HANDOFF_EIO);
		assert_non_null(strstr(handoff_conn_error(f->c), "closed"));
		pthread_sigmask(SIG_SETMASK, NULL, &after);
		assert_int_equal(sigismember(&after, SIGPIPE),
		    sigismember(&before, SIGPIPE));
		sigpending(&pending);
		assert_false(sigismember(&pending, SIGPIPE));
		teardown(state);
		*state = NULL;
	}
}

/* len 0 returns 0 at once, as read(2) does: no record is read (0 from a
 * read would otherwise mean close_notify), nothing waits. */
static void
read_len_zero(void **state)
{
	struct fixture *f = open_conn(state, HO_TLS13, TLS13_SUITE, 1);
	char buf[16];
	assert_int_equal(handoff_read(f->c, buf, 0), 0);
	peer_sends(f, HO_CT_APPLICATION_DATA, "data", 4);
	assert_int_equal(handoff_read(f->c, buf, 0), 0);
	assert_int_equal(f->c->rec.dir[HO_REC_READ].records, 0);
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "data", 4);
	/* A failed connection still says so. */
	uint8_t rec[64];
	size_t n = peer_seal(f, HO_CT_APPLICATION_DATA, "x", 1, rec);
	rec[n - 1] ^= 1;
	write_all(f->peer, rec, n);
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), -1);
	assert_int_equal(handoff_read(f->c, buf, 0), -1);
}

/* ---- a blocking socket with the caller's own timeouts ----------------- */

static void
set_socket_timeout(int fd, int option, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	assert_int_equal(
	    setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv)), 0);
}

static double
seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Asserts that call's result came after the socket's 200 ms timeout, not
 * at once and not after a wait of its own. */
#define ASSERT_AFTER_TIMEOUT(call, want)                                      \
	do {                                                                  \
		double t0_ = seconds_now();                                   \
		assert_int_equal((call), (want));                             \
		double took_ = seconds_now() - t0_;                           \
		if (took_ < 0.15 || took_ > 5)                                \
			fail_msg("%s returned after %.3f s, not after the "   \
			         "socket's 200 ms timeout",                   \
			    #call, took_);                                    \
	} while (0)

/*
 * SO_RCVTIMEO bounds a blocking handoff_read as it bounds read(2): with
 * nothing from the peer the read returns HANDOFF_WANT_POLLIN once the
 * timeout passes, and says why; the connection stays usable, and half a
 * record read before a timeout is kept.  (Waiting on regardless would
 * hang here until the alarm.)
 */
static void
read_with_receive_timeout(void **state)
{
	struct fixture *f = open_conn(state, HO_TLS13, TLS13_SUITE, 0);
	alarm(10);
	set_socket_timeout(f->c->fd, SO_RCVTIMEO, 200);
	char buf[16];
	ASSERT_AFTER_TIMEOUT(
	    handoff_read(f->c, buf, sizeof(buf)), HANDOFF_WANT_POLLIN);
	assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ETIMEOUT);
	assert_non_null(strstr(handoff_conn_error(f->c), "SO_RCVTIMEO"));
	uint8_t rec[64];
	size_t n = peer_seal(f, HO_CT_APPLICATION_DATA, "hello", 5, rec);
	write_all(f->peer, rec, 3);
	ASSERT_AFTER_TIMEOUT(
	    handoff_read(f->c, buf, sizeof(buf)), HANDOFF_WANT_POLLIN);
	write_all(f->peer, rec + 3, n - 3);
	assert_int_equal(handoff_read(f->c, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
}

/* The peer's end read to EOF by a thread, once it is started. */
struct drain {
	int fd;
	uint8_t *wire;
	size_t len, cap;
};

static void *
drain_thread(void *arg)
{
	struct drain *d = arg;
	ssize_t r;
	while (d->len < d->cap &&
	    (r = read(d->fd, d->wire + d->len, d->cap - d->len)) > 0)
		d->len += (size_t)r;
	return NULL;
}

/* Opens the drained records under the peer's keys: their application
 * data into plain (*plain_len), and the type of the last one. */
static uint8_t
open_drained(struct fixture *f, const struct drain *d, uint8_t *plain,
    size_t *plain_len)
{
	uint8_t last = 0;
	size_t off = 0;
	*plain_len = 0;
	while (d->len - off >= HO_REC_HEADER_LEN) {
		size_t len = HO_REC_HEADER_LEN +
		    ((size_t)d->wire[off + 3] << 8 | d->wire[off + 4]);
		assert_true(d->len - off >= len);
		uint8_t *pl = NULL;
		size_t pl_len = 0;
		assert_int_equal(ho_rec_open(&f->prec, d->wire + off, len,
		                     &last, &pl, &pl_len),
		    0);
		if (last == HO_CT_APPLICATION_DATA) {
			memcpy(plain + *plain_len, pl, pl_len);
			*plain_len += pl_len;
		}
		off += len;
	}
	assert_int_equal(off, d->len);
	return last;
}

#define TIMEOUT_WRITE_LEN (256 * 1024)

/*
 * SO_SNDTIMEO bounds a blocking handoff_write and handoff_close on a peer
 * that does not read: each returns HANDOFF_WANT_POLLOUT once it passes.
 * The first time, the write is retried once the peer reads (the retry
 * reports what the first call took, as on a non-blocking socket) and the
 * rest written; the second, the caller closes instead, and the close
 * completes once the peer reads.  The peer gets every byte taken, once
 * and in order, then close_notify.
 */
static void
write_and_close_with_send_timeout(void **state)
{
	static uint8_t data[TIMEOUT_WRITE_LEN], plain[TIMEOUT_WRITE_LEN];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	for (int retry = 1; retry >= 0; retry--) {
		struct fixture *f = open_conn(state, HO_TLS13, TLS13_SUITE, 0);
		alarm(10);
		int small = 4096;
		setsockopt(
		    f->c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		set_socket_timeout(f->c->fd, SO_SNDTIMEO, 200);
		ASSERT_AFTER_TIMEOUT(handoff_write(f->c, data, sizeof(data)),
		    HANDOFF_WANT_POLLOUT);
		assert_int_equal(handoff_conn_errno(f->c), HANDOFF_ETIMEOUT);
		assert_non_null(
		    strstr(handoff_conn_error(f->c), "SO_SNDTIMEO"));
		if (!retry)
			ASSERT_AFTER_TIMEOUT(
			    handoff_close(f->c), HANDOFF_WANT_POLLOUT);
		struct drain d = {f->peer, NULL, 0, 2 * sizeof(data)};
		d.wire = malloc(d.cap);
		assert_non_null(d.wire);
		pthread_t t;
		assert_int_equal(
		    pthread_create(&t, NULL, drain_thread, &d), 0);
		size_t sent = 0;
		while (retry && sent < sizeof(data)) {
			ssize_t n = handoff_write(
			    f->c, data + sent, sizeof(data) - sent);
			if (n <= 0)
				fail_msg("handoff_write: %zd (%s)", n,
				    handoff_conn_error(f->c));
			sent += (size_t)n;
		}
		assert_int_equal(handoff_close(f->c), 0);
		shutdown(f->c->fd, SHUT_WR);
		pthread_join(t, NULL);
		size_t got = 0;
		assert_int_equal(
		    open_drained(f, &d, plain, &got), HO_CT_ALERT);
		free(d.wire);
		if (retry)
			assert_int_equal(got, sizeof(data));
		else if (got == 0 || got >= sizeof(data))
			fail_msg("the write took %zu of %zu bytes before it "
			         "timed out",
			    got, sizeof(data));
		assert_memory_equal(plain, data, got);
		teardown(state);
		*state = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_teardown(fn, teardown)
	    T(key_update_requests_unread),
	    T(hello_requests_unread),
	    T(key_update_requests_unread_blocking),
	    T(nothing_after_close_notify),
	    T(key_update_not_last_in_record),
	    T(empty_records_limit),
	    T(mixed_idle_records_limit),
	    T(empty_handshake_record),
	    T(read_after_close_during_handshake),
	    T(read_len_zero),
	    T(write_after_close),
	    T(write_to_pipe_without_reader),
	    T(read_with_receive_timeout),
	    T(write_and_close_with_send_timeout),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
