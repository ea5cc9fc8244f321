/*
 * peer_finished.c - a TLS 1.3 server's last handshake check, in the
 * caller.
 *
 * When handoffd finishes a server handshake in one trip
 * (daemon/finish_ahead.c) it has already written the client's Finished
 * for itself, as RFC 8446 4.6.1 allows a server that asks for no client
 * certificate.  What the real client sends must match it: this reads the
 * client's next record, opens it under the client's handshake key
 * (derived here from the secret the daemon handed over) and compares the
 * Finished in constant time.  Until it matches, nothing the client sent
 * is application data and the handshake is not complete.
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "handoff_internal.h"
#include "wipe.h"

#define ALERT_UNEXPECTED_MESSAGE 10
#define ALERT_BAD_RECORD_MAC 20
#define ALERT_DECODE_ERROR 50
#define ALERT_DECRYPT_ERROR 51

static int
fail_alert(struct handoff_conn *c, uint8_t desc, const char *what)
{
	ho_conn_send_alert(c, desc);
	return ho_conn_fail(c, HANDOFF_EHANDSHAKE, "%s", what);
}

static int
equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* Opens one record under the client's handshake key (sequence 0: the
 * Finished is the first record under it) and checks it. */
static int
check_record(struct handoff_conn *c, uint8_t *rec, size_t len)
{
	struct ho_rec r;
	uint8_t key[32], iv[12], type = 0, *plain = NULL;
	size_t plain_len = 0;
	memset(&r, 0, sizeof(r));
	int ret = ho_rec_init(&r, HO_TLS13, c->rec.suite);
	if (ret == 0 && r.key_len <= sizeof(key) &&
	    ho_hkdf_expand_label(r.hash, c->peer_hs_secret,
	        c->peer_hs_secret_len, "key", NULL, 0, key, r.key_len) == 0 &&
	    ho_hkdf_expand_label(r.hash, c->peer_hs_secret,
	        c->peer_hs_secret_len, "iv", NULL, 0, iv, sizeof(iv)) == 0 &&
	    ho_rec_set_keys(&r, HO_REC_READ, key, r.key_len, iv, sizeof(iv),
	        NULL, 0, 0) == 0)
		ret = ho_rec_open(&r, rec, len, &type, &plain, &plain_len);
	else
		ret = HO_REC_E_INTERNAL;
	ho_wipe(key, sizeof(key));
	ho_wipe(iv, sizeof(iv));
	ho_rec_clear(&r);
	if (ret == HO_REC_E_INTERNAL)
		return ho_conn_fail(c, HANDOFF_EINTERNAL,
		    "cannot derive the client's handshake key");
	if (ret != 0)
		return fail_alert(c, ALERT_BAD_RECORD_MAC,
		    "the client's Finished record does not decrypt under its "
		    "handshake key (bad_record_mac)");
	if (type == HO_CT_ALERT && plain_len == 2) {
		const char *name = gnutls_alert_get_name(
		    (gnutls_alert_description_t)plain[1]);
		return ho_conn_fail(c, HANDOFF_EALERT,
		    "the client refused the handshake: alert %u: %s", plain[1],
		    name ? name : "unknown alert");
	}
	if (type != HO_CT_HANDSHAKE || plain_len < 1 ||
	    plain[0] != GNUTLS_HANDSHAKE_FINISHED)
		return fail_alert(c, ALERT_UNEXPECTED_MESSAGE,
		    "the client sent something else where its Finished "
		    "belongs (unexpected_message)");
	if (plain_len != c->peer_finished_len)
		return fail_alert(c, ALERT_DECODE_ERROR,
		    "the client's Finished has the wrong length, or shares "
		    "its record with another message (decode_error)");
	if (!equal_ct(plain, c->peer_finished, plain_len))
		return fail_alert(c, ALERT_DECRYPT_ERROR,
		    "the client's Finished does not match the handshake "
		    "transcript (decrypt_error)");
	return 0;
}

int
ho_peer_finished_run(struct handoff_conn *c)
{
	for (;;) {
		uint8_t *p = c->in.ptr + c->in.off; /* opened in place */
		size_t n = ho_buf_used(&c->in);
		size_t body =
		    n >= HO_REC_HEADER_LEN ? (size_t)p[3] << 8 | p[4] : 0;
		if (body > HO_REC_MAX_BODY_TLS13)
			return fail_alert(c, ALERT_DECODE_ERROR,
			    "the client sent a record longer than TLS allows "
			    "where its Finished belongs");
		if (n >= HO_REC_HEADER_LEN && n >= HO_REC_HEADER_LEN + body) {
			size_t len = HO_REC_HEADER_LEN + body;
			if (p[0] == HO_CT_CHANGE_CIPHER_SPEC && body == 1 &&
			    p[5] == 1) {
				/* Middlebox compatibility (RFC 8446 D.4). */
				ho_buf_consume(&c->in, len);
				continue;
			}
			if (p[0] == HO_CT_ALERT && body == 2) {
				const char *name = gnutls_alert_get_name(
				    (gnutls_alert_description_t)p[6]);
				return ho_conn_fail(c, HANDOFF_EALERT,
				    "the client refused the handshake: alert "
				    "%u: %s (unencrypted)",
				    p[6], name ? name : "unknown alert");
			}
			if (p[0] != HO_CT_APPLICATION_DATA)
				return fail_alert(c, ALERT_UNEXPECTED_MESSAGE,
				    "the client sent an unprotected record "
				    "where its Finished belongs");
			int r = check_record(c, p, len);
			ho_wipe(c->peer_hs_secret, sizeof(c->peer_hs_secret));
			if (r != 0)
				return r;
			ho_buf_consume(&c->in, len);
			return 0;
		}
		int r = ho_conn_fill_awaiting(c, "Finished");
		if (r < 0)
			return r;
	}
}
