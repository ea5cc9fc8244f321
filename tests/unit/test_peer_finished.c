/*
 * test_peer_finished.c - the caller's check of a TLS 1.3 client's
 * Finished after a one-trip handshake (lib/peer_finished.c).
 *
 * A connection is set up as handoffd's one-trip DONE leaves it (server
 * application keys installed, the expected Finished and the client's
 * handshake secret stored) on one end of a socket pair; the test plays
 * the client on the other end, sealing records under keys it derives
 * from the same secret.  A good Finished completes (with or without a
 * ChangeCipherSpec before it, whole or in pieces, application data after
 * it left for the record layer); everything else fails with the alert
 * the test reads back and decrypts: a wrong Finished (decrypt_error), a
 * flipped ciphertext bit (bad_record_mac), a record of the wrong type
 * (unexpected_message), extra bytes (decode_error); the client's own
 * alert and an early close are reported as such.  The real clients
 * (openssl, gnutls-cli) are in tests/integration/one_trip.sh.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff_internal.h"

#define SUITE HO_TLS_AES_128_GCM_SHA256
#define HASH_LEN 32

struct fixture {
	struct handoff_ctx ctx;
	struct handoff_conn *c;
	int peer;             /* the client's end of the socket pair */
	struct ho_rec client; /* client: writes under its handshake key */
	struct ho_rec alerts; /* client: reads the server's records */
	uint8_t finished[4 + HASH_LEN];
};

static void
derive(const uint8_t *secret, uint8_t *key, uint8_t *iv)
{
	assert_int_equal(ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret,
	                     HASH_LEN, "key", NULL, 0, key, 16),
	    0);
	assert_int_equal(ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret,
	                     HASH_LEN, "iv", NULL, 0, iv, 12),
	    0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	f->ctx.deadline_ms = 2000;
	struct handoff_conn *c = calloc(1, sizeof(*c));
	c->ctx = &f->ctx;
	c->fd = sv[0];
	c->nonblocking = 1;
	c->role = HO_ROLE_SERVER;
	c->state = HO_CONN_HS_PEER_FINISHED;
	c->deadline_ms = ho_now_ms() + 2000;
	f->peer = sv[1];

	/* The server's application write key: its alerts are sealed so. */
	uint8_t app_key[16] = {1, 2, 3}, app_iv[12] = {4, 5, 6};
	assert_int_equal(ho_rec_init(&c->rec, HO_TLS13, SUITE), 0);
	assert_int_equal(ho_rec_set_keys(&c->rec, HO_REC_WRITE, app_key, 16,
	                     app_iv, 12, NULL, 0, 0),
	    0);
	assert_int_equal(ho_rec_init(&f->alerts, HO_TLS13, SUITE), 0);
	assert_int_equal(ho_rec_set_keys(&f->alerts, HO_REC_READ, app_key, 16,
	                     app_iv, 12, NULL, 0, 0),
	    0);

	/* What the daemon hands over: the Finished it expects, and the
	 * client's handshake secret. */
	uint8_t secret[HASH_LEN], key[16], iv[12];
	for (int i = 0; i < HASH_LEN; i++)
		secret[i] = (uint8_t)(0x40 + i);
	f->finished[0] = 20; /* Finished */
	f->finished[3] = HASH_LEN;
	for (int i = 0; i < HASH_LEN; i++)
		f->finished[4 + i] = (uint8_t)(0x90 ^ i);
	memcpy(c->peer_finished, f->finished, sizeof(f->finished));
	c->peer_finished_len = sizeof(f->finished);
	memcpy(c->peer_hs_secret, secret, HASH_LEN);
	c->peer_hs_secret_len = HASH_LEN;
	derive(secret, key, iv);
	assert_int_equal(ho_rec_init(&f->client, HO_TLS13, SUITE), 0);
	assert_int_equal(ho_rec_set_keys(&f->client, HO_REC_WRITE, key, 16, iv,
	                     12, NULL, 0, 0),
	    0);
	f->c = c;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	close(f->c->fd);
	close(f->peer);
	ho_rec_clear(&f->c->rec);
	ho_buf_free(&f->c->in);
	ho_buf_free(&f->c->out);
	free(f->c);
	ho_rec_clear(&f->client);
	ho_rec_clear(&f->alerts);
	free(f);
	return 0;
}

/* The client sends one record of `type` sealed under its handshake key;
 * flip >= 0 flips that bit of the sealed record. */
static void
client_sends(
    struct fixture *f, uint8_t type, const uint8_t *p, size_t len, int flip)
{
	uint8_t rec[256];
	size_t n = 0;
	assert_int_equal(
	    ho_rec_seal(&f->client, type, p, len, 0, rec, sizeof(rec), &n), 0);
	if (flip >= 0)
		rec[flip / 8] ^= (uint8_t)(1u << (flip % 8));
	assert_int_equal(write(f->peer, rec, n), (ssize_t)n);
}

static void
client_sends_raw(struct fixture *f, const void *p, size_t len)
{
	assert_int_equal(write(f->peer, p, len), (ssize_t)len);
}

/* The alert the connection sent the client: its description. */
static int
alert_received(struct fixture *f)
{
	uint8_t rec[256], type = 0, *plain = NULL;
	size_t plain_len = 0;
	ssize_t n = read(f->peer, rec, sizeof(rec));
	if (n <= 0)
		return -1;
	if (ho_rec_open(
	        &f->alerts, rec, (size_t)n, &type, &plain, &plain_len) != 0 ||
	    type != HO_CT_ALERT || plain_len != 2 || plain[0] != 2)
		return -2;
	return plain[1];
}

static int
secret_wiped(const struct handoff_conn *c)
{
	for (size_t i = 0; i < sizeof(c->peer_hs_secret); i++)
		if (c->peer_hs_secret[i] != 0)
			return 0;
	return 1;
}

static void
good_finished(void **state)
{
	struct fixture *f = *state;
	client_sends(f, HO_CT_HANDSHAKE, f->finished, sizeof(f->finished), -1);
	client_sends_raw(f, "\x17\x03\x03\x00\x01Z", 6); /* next record */
	assert_int_equal(ho_peer_finished_run(f->c), 0);
	/* What follows the Finished stays for the record layer. */
	assert_int_equal(ho_buf_used(&f->c->in), 6);
	assert_memory_equal(
	    ho_buf_data(&f->c->in), "\x17\x03\x03\x00\x01Z", 6);
	assert_true(secret_wiped(f->c));
}

static void
change_cipher_spec_first(void **state)
{
	struct fixture *f = *state;
	client_sends_raw(f, "\x14\x03\x03\x00\x01\x01", 6);
	client_sends(f, HO_CT_HANDSHAKE, f->finished, sizeof(f->finished), -1);
	assert_int_equal(ho_peer_finished_run(f->c), 0);
	assert_int_equal(ho_buf_used(&f->c->in), 0);
}

static void
finished_in_pieces(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(ho_peer_finished_run(f->c), HANDOFF_WANT_POLLIN);
	uint8_t rec[256];
	size_t n = 0;
	assert_int_equal(ho_rec_seal(&f->client, HO_CT_HANDSHAKE, f->finished,
	                     sizeof(f->finished), 0, rec, sizeof(rec), &n),
	    0);
	client_sends_raw(f, rec, 3);
	assert_int_equal(ho_peer_finished_run(f->c), HANDOFF_WANT_POLLIN);
	client_sends_raw(f, rec + 3, n - 3);
	assert_int_equal(ho_peer_finished_run(f->c), 0);
}

static void
wrong_finished(void **state)
{
	struct fixture *f = *state;
	uint8_t bad[sizeof(f->finished)];
	memcpy(bad, f->finished, sizeof(bad));
	bad[sizeof(bad) - 1] ^= 1;
	client_sends(f, HO_CT_HANDSHAKE, bad, sizeof(bad), -1);
	assert_int_equal(ho_peer_finished_run(f->c), -1);
	assert_int_equal(f->c->errnum, HANDOFF_EHANDSHAKE);
	assert_non_null(strstr(f->c->err, "does not match"));
	assert_int_equal(f->c->state, HO_CONN_FAILED);
	assert_int_equal(alert_received(f), 51); /* decrypt_error */
	assert_true(secret_wiped(f->c));
}

static void
flipped_bit(void **state)
{
	struct fixture *f = *state;
	/* A bit of the body (past the 5-byte header). */
	client_sends(
	    f, HO_CT_HANDSHAKE, f->finished, sizeof(f->finished), 8 * 5 + 3);
	assert_int_equal(ho_peer_finished_run(f->c), -1);
	assert_non_null(strstr(f->c->err, "bad_record_mac"));
	assert_int_equal(alert_received(f), 20); /* bad_record_mac */
}

static void
extra_bytes(void **state)
{
	struct fixture *f = *state;
	uint8_t more[sizeof(f->finished) + 4];
	memcpy(more, f->finished, sizeof(f->finished));
	memcpy(more + sizeof(f->finished), "\x18\x00\x00\x00", 4);
	client_sends(f, HO_CT_HANDSHAKE, more, sizeof(more), -1);
	assert_int_equal(ho_peer_finished_run(f->c), -1);
	assert_int_equal(alert_received(f), 50); /* decode_error */
}

static void
application_data_instead(void **state)
{
	struct fixture *f = *state;
	client_sends(
	    f, HO_CT_APPLICATION_DATA, f->finished, sizeof(f->finished), -1);
	assert_int_equal(ho_peer_finished_run(f->c), -1);
	assert_int_equal(alert_received(f), 10); /* unexpected_message */
}

static void
unprotected_handshake(void **state)
{
	struct fixture *f = *state;
	uint8_t rec[5 + sizeof(f->finished)] = {
	    22, 3, 3, 0, (uint8_t)sizeof(f->finished)};
	memcpy(rec + 5, f->finished, sizeof(f->finished));
	client_sends_raw(f, rec, sizeof(rec));
	assert_int_equal(ho_peer_finished_run(f->c), -1);
	assert_int_equal(alert_received(f), 10); /* unexpected_message */
}

static void
client_alert(void **state)
{
	struct fixture *f = *state;
	client_sends(f, HO_CT_ALERT, (const uint8_t *)"\x02\x2a", 2, -1);
	assert_int_equal(ho_peer_finished_run(f->c), -1);
	assert_int_equal(f->c->errnum, HANDOFF_EALERT);
	assert_non_null(strstr(f->c->err, "refused the handshake"));
	assert_non_null(strstr(f->c->err, "42"));
}

static void
closed_early(void **state)
{
	struct fixture *f = *state;
	shutdown(f->peer, SHUT_WR);
	assert_int_equal(ho_peer_finished_run(f->c), -1);
	assert_int_equal(f->c->errnum, HANDOFF_EEOF);
	assert_non_null(strstr(f->c->err, "before its Finished"));
}

static void
oversized_record(void **state)
{
	struct fixture *f = *state;
	client_sends_raw(f, "\x17\x03\x03\x7f\xff", 5);
	assert_int_equal(ho_peer_finished_run(f->c), -1);
	assert_int_equal(alert_received(f), 50); /* decode_error */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(good_finished),
	    T(change_cipher_spec_first),
	    T(finished_in_pieces),
	    T(wrong_finished),
	    T(flipped_bit),
	    T(extra_bytes),
	    T(application_data_instead),
	    T(unprotected_handshake),
	    T(client_alert),
	    T(closed_early),
	    T(oversized_record),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
