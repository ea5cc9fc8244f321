/*
 * finish_ahead.c - TLS 1.3 server handshakes in one round trip.
 *
 * RFC 8446 4.6.1 lets a server that asks for no client certificate
 * "compute the remainder of the transcript independently": the client's
 * Finished is an HMAC of the transcript under a key from the client's
 * handshake secret, both of which the server knows once its own Finished
 * is out.  So after the first step the daemon writes that Finished
 * itself, seals it as the client would, feeds it to its GnuTLS session
 * and completes the handshake there (tickets included).  The DONE reply
 * then carries the Finished it expects and the client's handshake
 * secret, and the caller checks the real one against it before any
 * application data counts (lib/peer_finished.c).  The handshake costs the
 * caller one trip to the daemon instead of two, and the daemon holds no
 * session while the client's second flight travels.
 *
 * Only when the caller asks (HO_F_ONE_TRIP), for TLS 1.3, and never with
 * a HelloRetryRequest, a CertificateRequest or early data offered: those
 * take the ordinary two steps.
 */
#include <string.h>

#include <gnutls/crypto.h>

#include "handoffd.h"
#include "record.h"
#include "wipe.h"

void
ho_finish_ahead_rule_out(struct ho_finish_ahead *f)
{
	f->ruled_out = 1;
	ho_buf_free(&f->transcript);
}

void
ho_finish_ahead_note(struct ho_finish_ahead *f, gnutls_session_t tls,
    unsigned htype, unsigned incoming, const gnutls_datum_t *body)
{
	if (!f->wanted || f->ruled_out)
		return;
	switch (htype) {
	case GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC: return; /* not hashed */
	case GNUTLS_HANDSHAKE_NEW_SESSION_TICKET:
		/* GnuTLS sends its tickets right after its Finished (it too
		 * computes the transcript ahead); they are not hashed. */
		if (!incoming)
			return;
		ho_finish_ahead_rule_out(f);
		return;
	case GNUTLS_HANDSHAKE_CLIENT_HELLO: /* early data: handshake.c */
		break;
	case GNUTLS_HANDSHAKE_SERVER_HELLO:
		if (gnutls_protocol_get_version(tls) != GNUTLS_TLS1_3) {
			ho_finish_ahead_rule_out(f);
			return;
		}
		break;
	case GNUTLS_HANDSHAKE_ENCRYPTED_EXTENSIONS:
	case GNUTLS_HANDSHAKE_CERTIFICATE_PKT:
	case GNUTLS_HANDSHAKE_CERTIFICATE_VERIFY:
	case GNUTLS_HANDSHAKE_FINISHED: break;
	default:
		/* HelloRetryRequest, CertificateRequest, EndOfEarlyData,
		 * a client Certificate, a TLS 1.2 message: two steps. */
		ho_finish_ahead_rule_out(f);
		return;
	}
	/* The transcript hashes whole messages: type, u24 length, body. */
	uint8_t hdr[4] = {(uint8_t)htype, (uint8_t)(body->size >> 16),
	    (uint8_t)(body->size >> 8), (uint8_t)body->size};
	if (ho_buf_append(&f->transcript, hdr, sizeof(hdr)) != 0 ||
	    ho_buf_append(&f->transcript, body->data, body->size) != 0) {
		ho_finish_ahead_rule_out(f);
		return;
	}
	f->last_was_our_finished =
	    !incoming && htype == GNUTLS_HANDSHAKE_FINISHED;
}

void
ho_finish_ahead_secret(
    struct ho_finish_ahead *f, const void *client_secret, size_t len)
{
	if (client_secret == NULL || len > sizeof(f->hs_secret)) {
		ho_finish_ahead_rule_out(f);
		return;
	}
	memcpy(f->hs_secret, client_secret, len);
	f->hs_secret_len = len;
}

static uint16_t
tls13_suite(gnutls_cipher_algorithm_t cipher)
{
	switch (cipher) {
	case GNUTLS_CIPHER_AES_128_GCM: return HO_TLS_AES_128_GCM_SHA256;
	case GNUTLS_CIPHER_AES_256_GCM: return HO_TLS_AES_256_GCM_SHA384;
	case GNUTLS_CIPHER_CHACHA20_POLY1305:
		return HO_TLS_CHACHA20_POLY1305_SHA256;
	default: return 0;
	}
}

/* The client's Finished message for this transcript (RFC 8446 4.4.4),
 * into f->finished; and that message sealed as the client's first
 * handshake-key record into rec. */
static int
forge(struct ho_finish_ahead *f, struct ho_rec *r, uint8_t *rec,
    size_t rec_cap, size_t *rec_len)
{
	size_t hlen = gnutls_hmac_get_len(r->hash);
	uint8_t th[48], fkey[48], key[32], iv[12];
	int ok = hlen <= sizeof(th) && hlen == f->hs_secret_len &&
	    gnutls_hash_fast((gnutls_digest_algorithm_t)r->hash,
	        ho_buf_data(&f->transcript), ho_buf_used(&f->transcript),
	        th) == 0 &&
	    ho_hkdf_expand_label(r->hash, f->hs_secret, hlen, "finished", NULL,
	        0, fkey, hlen) == 0 &&
	    gnutls_hmac_fast(r->hash, fkey, hlen, th, hlen, f->finished + 4) ==
	        0 &&
	    ho_hkdf_expand_label(r->hash, f->hs_secret, hlen, "key", NULL, 0,
	        key, r->key_len) == 0 &&
	    ho_hkdf_expand_label(r->hash, f->hs_secret, hlen, "iv", NULL, 0,
	        iv, sizeof(iv)) == 0 &&
	    ho_rec_set_keys(r, HO_REC_WRITE, key, r->key_len, iv, sizeof(iv),
	        NULL, 0, 0) == 0;
	if (ok) {
		f->finished[0] = GNUTLS_HANDSHAKE_FINISHED;
		f->finished[1] = 0;
		f->finished[2] = 0;
		f->finished[3] = (uint8_t)hlen;
		f->finished_len = 4 + hlen;
		ok = ho_rec_seal(r, HO_CT_HANDSHAKE, f->finished,
		         f->finished_len, 0, rec, rec_cap, rec_len) == 0;
	}
	ho_wipe(fkey, sizeof(fkey));
	ho_wipe(key, sizeof(key));
	ho_wipe(iv, sizeof(iv));
	return ok ? 0 : -1;
}

int
ho_finish_ahead_feed(struct ho_session *s)
{
	struct ho_finish_ahead *f = &s->finish;
	if (!f->wanted || f->ruled_out || f->finished_len > 0 ||
	    !f->last_was_our_finished || f->hs_secret_len == 0 ||
	    ho_buf_used(&s->in) != 0 ||
	    s->profile->client_auth != HO_CLIENT_AUTH_NONE)
		return -1;
	struct ho_rec r;
	memset(&r, 0, sizeof(r));
	uint8_t rec[HO_REC_HEADER_LEN + 4 + 48 + 1 + 16];
	size_t rec_len = 0;
	uint16_t suite = tls13_suite(gnutls_cipher_get(s->tls));
	int ret = suite != 0 && ho_rec_init(&r, HO_TLS13, suite) == 0 &&
	        forge(f, &r, rec, sizeof(rec), &rec_len) == 0 &&
	        ho_buf_append(&s->in, rec, rec_len) == 0
	    ? 0
	    : -1;
	ho_rec_clear(&r);
	ho_buf_free(&f->transcript);
	if (ret != 0) {
		f->finished_len = 0;
		ho_finish_ahead_rule_out(f);
	}
	return ret;
}

void
ho_finish_ahead_free(struct ho_finish_ahead *f)
{
	ho_buf_free(&f->transcript);
	ho_wipe(f, sizeof(*f));
}
