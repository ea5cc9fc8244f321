/*
 * handshake.c - one step of a TLS handshake (either role), on a worker.
 *
 * The GnuTLS session reads from and writes to memory: pull hands out the
 * peer bytes the library sent, push collects what GnuTLS wants sent.  A
 * step feeds the new bytes and runs gnutls_handshake() until it needs
 * more; then the reply carries the output (CONTINUE), or, once the
 * handshake is complete, the keys and the bytes GnuTLS did not read
 * (DONE), or the alert and the reason in words (ERROR).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "handoff.h"
#include "handoffd.h"
#include "record.h"
#include "wipe.h"

/* TLS extension number of record_size_limit (RFC 8449). */
#define EXT_RECORD_SIZE_LIMIT 28
#define EXT_SERVER_NAME 0
#define EXT_EARLY_DATA 42

/* Ticket lifetime; GnuTLS rotates the key it derives from a profile's
 * ticket key every three lifetimes (its TOTP scheme), so this is the
 * schedule.  Each profile has its own key (profile.c), shared by every
 * session of that profile, so a session made through one caller resumes
 * through any other. */
static unsigned ticket_lifetime_s = HO_DEFAULT_TICKET_LIFETIME_S;

int
ho_handshake_global_init(unsigned lifetime_s, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	ticket_lifetime_s = lifetime_s;
	return 0;
}

void
ho_handshake_global_free(void)
{
}

static ssize_t
pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct ho_session *s = ptr;
	size_t avail = ho_buf_used(&s->in);
	if (avail == 0) {
		gnutls_transport_set_errno(s->tls, EAGAIN);
		return -1;
	}
	size_t n = len < avail ? len : avail;
	memcpy(buf, ho_buf_data(&s->in), n);
	ho_buf_consume(&s->in, n);
	ho_record_tail_feed(&s->tail_in, buf, n);
	return (ssize_t)n;
}

static ssize_t
push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	struct ho_session *s = ptr;
	/* GnuTLS flushes a TLS 1.3 ServerHello before it signs: the client
	 * may start on it (its X25519, its handshake keys) while the rest
	 * of the flight is made, as it would from an in-process server. */
	if (s->send_ahead != NULL) {
		int sent = ho_buf_used(&s->out) == 0 &&
		    gnutls_protocol_get_version(s->tls) == GNUTLS_TLS1_3 &&
		    s->send_ahead(s->send_ahead_arg, buf, len) == 0;
		s->send_ahead = NULL; /* the first record only */
		if (sent) {
			ho_record_tail_feed(&s->tail_out, buf, len);
			return (ssize_t)len;
		}
	}
	if (ho_buf_append(&s->out, buf, len) != 0) {
		gnutls_transport_set_errno(s->tls, ENOMEM);
		return -1;
	}
	ho_record_tail_feed(&s->tail_out, buf, len);
	return (ssize_t)len;
}

/* Keeps the TLS 1.3 application traffic secrets for KeyUpdate, and a
 * server's client handshake secret for finish_ahead.c. */
static int
secret_cb(gnutls_session_t tls, gnutls_record_encryption_level_t level,
    const void *secret_read, const void *secret_write, size_t size)
{
	struct ho_session *s = gnutls_session_get_ptr(tls);
	if (level == GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE && s->finish.wanted)
		ho_finish_ahead_secret(&s->finish, secret_read, size);
	if (level != GNUTLS_ENCRYPTION_LEVEL_APPLICATION ||
	    size > sizeof(s->secret_read))
		return 0;
	s->secret_len = size;
	if (secret_read != NULL)
		memcpy(s->secret_read, secret_read, size);
	if (secret_write != NULL)
		memcpy(s->secret_write, secret_write, size);
	return 0;
}

/*
 * Verifies a client certificate against the profile's trust file while
 * the handshake runs, so a bad one gets its alert.  No certificate is
 * fine here: GnuTLS itself refuses that when the profile requires one.
 */
static int
verify_client(gnutls_session_t tls)
{
	struct ho_session *s = gnutls_session_get_ptr(tls);
	unsigned n = 0, status = 0;
	if (gnutls_certificate_get_peers(tls, &n) == NULL || n == 0)
		return 0;
	if (gnutls_certificate_verify_peers2(tls, &status) < 0)
		status = GNUTLS_CERT_INVALID;
	if (status == 0)
		return 0;
	gnutls_datum_t text = {NULL, 0};
	if (gnutls_certificate_verification_status_print(
	        status, GNUTLS_CRT_X509, &text, 0) == 0) {
		snprintf(s->verify_reason, sizeof(s->verify_reason), "%s",
		    (const char *)text.data);
		gnutls_free(text.data);
	}
	return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

/* Puts a profile's policy on a server session: priorities, certificate,
 * ALPN, client certificates, and its ticket key (set again when SNI picks
 * another profile, before GnuTLS reads the ClientHello's tickets). */
static int
apply_profile(struct ho_session *s, const struct ho_profile *p)
{
	int ret;
	if ((ret = gnutls_priority_set(s->tls, p->priority)) < 0 ||
	    (ret = gnutls_credentials_set(
	         s->tls, GNUTLS_CRD_CERTIFICATE, p->cred)) < 0 ||
	    (ret = gnutls_session_ticket_enable_server(
	         s->tls, &p->ticket_key)) < 0)
		return ret;
	if (p->alpn_count > 0 &&
	    (ret = gnutls_alpn_set_protocols(s->tls, p->alpn,
	         (unsigned)p->alpn_count, GNUTLS_ALPN_SERVER_PRECEDENCE)) < 0)
		return ret;
	gnutls_certificate_server_set_request(s->tls,
	    p->client_auth == HO_CLIENT_AUTH_REQUIRE ? GNUTLS_CERT_REQUIRE
	        : p->client_auth == HO_CLIENT_AUTH_REQUEST
	        ? GNUTLS_CERT_REQUEST
	        : GNUTLS_CERT_IGNORE);
	if (p->client_auth != HO_CLIENT_AUTH_NONE)
		gnutls_session_set_verify_function(s->tls, verify_client);
	s->profile = p;
	return 0;
}

/* What the ClientHello carries that GnuTLS does not report in time. */
struct hello_facts {
	struct ho_session *s;
	char sni[256]; /* first host_name, "" if none */
};

static int
hello_ext(void *ctx, unsigned tls_id, const unsigned char *data, unsigned size)
{
	struct hello_facts *h = ctx;
	/* Offered 0-RTT records may follow the ClientHello, and GnuTLS
	 * skips them: the client's Finished is not ours to write. */
	if (tls_id == EXT_EARLY_DATA)
		ho_finish_ahead_rule_out(&h->s->finish);
	if (tls_id == EXT_RECORD_SIZE_LIMIT && size == 2)
		h->s->peer_record_limit = (uint16_t)(data[0] << 8 | data[1]);
	/* server_name: list length, then (type 0, length, name). */
	if (tls_id == EXT_SERVER_NAME && size >= 5 && data[2] == 0) {
		size_t len = (size_t)data[3] << 8 | data[4];
		if (len > 0 && len < sizeof(h->sni) && len <= size - 5u) {
			memcpy(h->sni, data + 5, len);
			h->sni[len] = '\0';
		}
	}
	return 0;
}

/*
 * Runs before GnuTLS processes the ClientHello: notes the peer's
 * record_size_limit (GnuTLS honours it but does not report it, and the
 * caller's record layer must), and lets a profile that lists the SNI name
 * take over from the caller's, before GnuTLS picks ciphers, certificate
 * or ALPN protocol.
 */
static int
on_client_hello(struct ho_session *s, const gnutls_datum_t *msg)
{
	struct hello_facts h = {s, ""};
	gnutls_ext_raw_parse(
	    &h, hello_ext, msg, GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO);
	if (h.sni[0] == '\0' || h.s->profiles == NULL)
		return 0;
	const struct ho_profile *p = ho_profile_for_name(h.s->profiles, h.sni);
	if (p == NULL || p == h.s->profile)
		return 0;
	return apply_profile(h.s, p);
}

/*
 * One hook for every handshake message (GnuTLS keeps only one):
 *  - the ClientHello, before GnuTLS reads it (server role, above);
 *  - the server's EncryptedExtensions (TLS 1.3 client role), for its
 *    record_size_limit;
 *  - the messages that cost a private-key operation, counted so that
 *    stats show resumed handshakes performing none: our CertificateVerify
 *    or ServerKeyExchange (a signature), or a TLS 1.2 RSA ClientKeyExchange
 *    (a decryption);
 *  - every message of a server session that may finish in one trip, for
 *    the transcript (finish_ahead.c).
 */
static int
handshake_hook(gnutls_session_t tls, unsigned htype, unsigned when,
    unsigned incoming, const gnutls_datum_t *msg)
{
	struct ho_session *s = gnutls_session_get_ptr(tls);
	if (when == GNUTLS_HOOK_PRE && incoming) {
		if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO)
			return on_client_hello(s, msg);
		if (htype == GNUTLS_HANDSHAKE_ENCRYPTED_EXTENSIONS) {
			struct hello_facts h = {s, ""};
			gnutls_ext_raw_parse(&h, hello_ext, msg, 0);
		}
		return 0;
	}
	if (when != GNUTLS_HOOK_POST)
		return 0;
	ho_finish_ahead_note(&s->finish, tls, htype, incoming, msg);
	if (!incoming &&
	    (htype == GNUTLS_HANDSHAKE_CERTIFICATE_VERIFY ||
	        htype == GNUTLS_HANDSHAKE_SERVER_KEY_EXCHANGE))
		s->key_ops++;
	if (incoming && htype == GNUTLS_HANDSHAKE_CLIENT_KEY_EXCHANGE &&
	    gnutls_kx_get(tls) == GNUTLS_KX_RSA)
		s->key_ops++;
	return 0;
}

static int
session_setup(struct ho_session *s)
{
	int client = s->role == HO_ROLE_CLIENT;
	int ret = gnutls_init(&s->tls,
	    (client ? GNUTLS_CLIENT : GNUTLS_SERVER) | GNUTLS_NONBLOCK);
	if (ret < 0)
		return ret;
	gnutls_session_set_ptr(s->tls, s);
	if (client) {
		if ((ret = ho_client_setup(s)) < 0)
			return ret;
	} else {
		if ((ret = apply_profile(s, s->profile)) < 0)
			return ret;
		gnutls_db_set_cache_expiration(s->tls, (int)ticket_lifetime_s);
	}
	gnutls_transport_set_ptr(s->tls, s);
	gnutls_transport_set_pull_function(s->tls, pull);
	gnutls_transport_set_push_function(s->tls, push);
	/* With a memory transport GnuTLS's default pull-timeout function
	 * would select() on our pointer: no handshake timeout here; the
	 * session's idle timeout bounds it instead. */
	gnutls_handshake_set_timeout(s->tls, 0);
	gnutls_handshake_set_secret_function(s->tls, secret_cb);
	gnutls_handshake_set_hook_function(
	    s->tls, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH, handshake_hook);
	return 0;
}

/* TLS 1.0-1.2 suite for a key exchange, cipher and MAC; 0 if the record
 * layer does not run it (DHE, 3DES, CCM, RSA with ChaCha20, ...). */
static uint16_t
tls12_suite(gnutls_kx_algorithm_t kx, gnutls_cipher_algorithm_t cipher,
    gnutls_mac_algorithm_t mac)
{
	static const struct {
		gnutls_kx_algorithm_t kx;
		gnutls_cipher_algorithm_t cipher;
		gnutls_mac_algorithm_t mac; /* GNUTLS_MAC_AEAD for AEADs */
		uint16_t suite;
	} map[] = {
#define AEAD(kx, cipher, suite)                                               \
	{GNUTLS_KX_##kx, cipher, GNUTLS_MAC_AEAD, suite}
	    AEAD(ECDHE_ECDSA, GNUTLS_CIPHER_AES_128_GCM,
	        HO_TLS_ECDHE_ECDSA_AES_128_GCM_SHA256),
	    AEAD(ECDHE_ECDSA, GNUTLS_CIPHER_AES_256_GCM,
	        HO_TLS_ECDHE_ECDSA_AES_256_GCM_SHA384),
	    AEAD(ECDHE_ECDSA, GNUTLS_CIPHER_CHACHA20_POLY1305,
	        HO_TLS_ECDHE_ECDSA_CHACHA20_POLY1305),
	    AEAD(ECDHE_RSA, GNUTLS_CIPHER_AES_128_GCM,
	        HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256),
	    AEAD(ECDHE_RSA, GNUTLS_CIPHER_AES_256_GCM,
	        HO_TLS_ECDHE_RSA_AES_256_GCM_SHA384),
	    AEAD(ECDHE_RSA, GNUTLS_CIPHER_CHACHA20_POLY1305,
	        HO_TLS_ECDHE_RSA_CHACHA20_POLY1305),
	    AEAD(
	        RSA, GNUTLS_CIPHER_AES_128_GCM, HO_TLS_RSA_AES_128_GCM_SHA256),
	    AEAD(
	        RSA, GNUTLS_CIPHER_AES_256_GCM, HO_TLS_RSA_AES_256_GCM_SHA384),
#undef AEAD
	/* CBC + HMAC: only when a profile's priority string asks. */
#define CBC(kx, bits, mac, suite)                                             \
	{GNUTLS_KX_##kx, GNUTLS_CIPHER_AES_##bits##_CBC, GNUTLS_MAC_##mac,    \
	    suite}
	    CBC(ECDHE_ECDSA, 128, SHA1, HO_TLS_ECDHE_ECDSA_AES_128_CBC_SHA),
	    CBC(ECDHE_ECDSA, 256, SHA1, HO_TLS_ECDHE_ECDSA_AES_256_CBC_SHA),
	    CBC(ECDHE_RSA, 128, SHA1, HO_TLS_ECDHE_RSA_AES_128_CBC_SHA),
	    CBC(ECDHE_RSA, 256, SHA1, HO_TLS_ECDHE_RSA_AES_256_CBC_SHA),
	    CBC(RSA, 128, SHA1, HO_TLS_RSA_AES_128_CBC_SHA),
	    CBC(RSA, 256, SHA1, HO_TLS_RSA_AES_256_CBC_SHA),
	    CBC(ECDHE_ECDSA, 128, SHA256,
	        HO_TLS_ECDHE_ECDSA_AES_128_CBC_SHA256),
	    CBC(ECDHE_ECDSA, 256, SHA384,
	        HO_TLS_ECDHE_ECDSA_AES_256_CBC_SHA384),
	    CBC(ECDHE_RSA, 128, SHA256, HO_TLS_ECDHE_RSA_AES_128_CBC_SHA256),
	    CBC(ECDHE_RSA, 256, SHA384, HO_TLS_ECDHE_RSA_AES_256_CBC_SHA384),
	    CBC(RSA, 128, SHA256, HO_TLS_RSA_AES_128_CBC_SHA256),
	    CBC(RSA, 256, SHA256, HO_TLS_RSA_AES_256_CBC_SHA256),
#undef CBC
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].kx == kx && map[i].cipher == cipher &&
		    map[i].mac == mac)
			return map[i].suite;
	}
	return 0;
}

/* Maps what was negotiated to a version and suite the caller's record
 * layer runs; 0 if it runs none. */
static uint16_t
negotiated_suite(gnutls_session_t tls, uint16_t *version)
{
	gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(tls);
	switch (gnutls_protocol_get_version(tls)) {
	case GNUTLS_TLS1_3:
		*version = HO_TLS13;
		switch (cipher) {
		case GNUTLS_CIPHER_AES_128_GCM:
			return HO_TLS_AES_128_GCM_SHA256;
		case GNUTLS_CIPHER_AES_256_GCM:
			return HO_TLS_AES_256_GCM_SHA384;
		case GNUTLS_CIPHER_CHACHA20_POLY1305:
			return HO_TLS_CHACHA20_POLY1305_SHA256;
		default: return 0;
		}
	case GNUTLS_TLS1_2: *version = HO_TLS12; break;
	case GNUTLS_TLS1_1: *version = HO_TLS11; break;
	case GNUTLS_TLS1_0: *version = HO_TLS10; break;
	default: return 0;
	}
	return tls12_suite(gnutls_kx_get(tls), cipher, gnutls_mac_get(tls));
}

static void
put_output(struct ho_session *s, struct ho_proto_buf *b)
{
	if (ho_buf_used(&s->out) > 0)
		ho_proto_put(b, HO_F_OUTPUT, ho_buf_data(&s->out),
		    ho_buf_used(&s->out));
	ho_buf_consume(&s->out, ho_buf_used(&s->out));
}

void
ho_step_begin_reply(
    struct ho_step_result *res, int type, const struct ho_proto_msg *req)
{
	uint64_t id;
	ho_proto_begin(&res->reply, type);
	if (req != NULL && ho_proto_get_u64(req, HO_F_REQUEST_ID, &id) == 0)
		ho_proto_put_u64(&res->reply, HO_F_REQUEST_ID, id);
}

static void
fail(struct ho_session *s, int gnutls_err, int code, const char *text,
    const struct ho_proto_msg *req, struct ho_step_result *res)
{
	char msg[HO_PROTO_MAX_STR + 600];
	res->outcome = HO_STEP_FAILED;
	char why[300];
	if (gnutls_err == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR &&
	    s->role == HO_ROLE_CLIENT && s->tls != NULL &&
	    ho_client_verify_reason(s, why, sizeof(why))) {
		/* The server's certificate was refused (alert sent). */
		snprintf(res->reason, sizeof(res->reason), "verify_failed");
		snprintf(msg, sizeof(msg),
		    "server certificate verification failed for \"%s\": %s",
		    s->server_name, why);
		code = HANDOFF_EVERIFY;
		text = msg;
	} else if (gnutls_err < 0) {
		/* GnuTLS sends no alert by itself on failure. */
		if (s->tls != NULL)
			gnutls_alert_send_appropriate(s->tls, gnutls_err);
		snprintf(res->reason, sizeof(res->reason), "%s",
		    gnutls_strerror_name(gnutls_err)
		        ? gnutls_strerror_name(gnutls_err)
		        : "GNUTLS_E_UNKNOWN");
		if (gnutls_err == GNUTLS_E_FATAL_ALERT_RECEIVED)
			snprintf(msg, sizeof(msg),
			    "TLS handshake failed in handoffd: %s (%s)",
			    gnutls_strerror(gnutls_err),
			    gnutls_alert_get_name(gnutls_alert_get(s->tls)));
		else if (s->verify_reason[0] != '\0')
			snprintf(msg, sizeof(msg),
			    "TLS handshake failed in handoffd: client "
			    "certificate refused: %s",
			    s->verify_reason);
		else if (gnutls_err == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
		    gnutls_err == GNUTLS_E_NO_PRIORITIES_WERE_SET)
			snprintf(msg, sizeof(msg),
			    "TLS handshake failed in handoffd: %s (the peer "
			    "offered only TLS versions this profile refuses: "
			    "handoffd speaks TLS 1.3 and 1.2 by default, "
			    "never SSL 3)",
			    gnutls_strerror(gnutls_err));
		else
			snprintf(msg, sizeof(msg),
			    "TLS handshake failed in handoffd: %s",
			    gnutls_strerror(gnutls_err));
		text = msg;
	} else {
		snprintf(res->reason, sizeof(res->reason), "%s",
		    handoff_err_name(code));
	}
	ho_step_fail_text(res, code, text, req);
	put_output(s, &res->reply);
}

void
ho_step_fail_text(struct ho_step_result *res, int code, const char *text,
    const struct ho_proto_msg *req)
{
	ho_step_begin_reply(res, HO_MSG_ERROR, req);
	ho_proto_put_u32(&res->reply, HO_F_ERROR_CODE, (uint32_t)code);
	ho_proto_put_str(&res->reply, HO_F_ERROR_TEXT, text);
}

/* Copies one direction's keys from GnuTLS into the reply. */
static int
put_direction(struct ho_session *s, int read, struct ho_proto_buf *b)
{
	gnutls_datum_t mac, iv, key;
	unsigned char seq[8];
	int ret = gnutls_record_get_state(
	    s->tls, read ? 1 : 0, &mac, &iv, &key, seq);
	if (ret < 0)
		return ret;
	uint64_t seqnum = 0;
	for (int i = 0; i < 8; i++)
		seqnum = (seqnum << 8) | seq[i];
	ho_proto_put(
	    b, read ? HO_F_READ_KEY : HO_F_WRITE_KEY, key.data, key.size);
	if (mac.size > 0) {
		/* CBC: the HMAC key, and as "IV" the direction's last cipher
		 * block, which TLS 1.0 chains into the next record (GnuTLS
		 * reports only the IV the key block gave). */
		uint8_t block[16];
		size_t skip = gnutls_session_etm_status(s->tls) ? mac.size : 0;
		if (ho_record_tail_block(
		        read ? &s->tail_in : &s->tail_out, skip, block) != 0)
			return GNUTLS_E_INTERNAL_ERROR;
		ho_proto_put(b, read ? HO_F_READ_MAC_KEY : HO_F_WRITE_MAC_KEY,
		    mac.data, mac.size);
		ho_proto_put(b, read ? HO_F_READ_IV : HO_F_WRITE_IV, block,
		    sizeof(block));
	} else {
		ho_proto_put(
		    b, read ? HO_F_READ_IV : HO_F_WRITE_IV, iv.data, iv.size);
	}
	ho_proto_put_u64(b, read ? HO_F_READ_SEQ : HO_F_WRITE_SEQ, seqnum);
	if (s->secret_len > 0) /* TLS 1.3 only */
		ho_proto_put(b, read ? HO_F_READ_SECRET : HO_F_WRITE_SECRET,
		    read ? s->secret_read : s->secret_write, s->secret_len);
	return 0;
}

/* The peer's certificates, as TLS writes them: (u24 length, DER)*. */
static void
put_peer_chain(struct ho_session *s, struct ho_proto_buf *b)
{
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s->tls, &n);
	struct ho_buf chain = {0};
	int failed = 0;
	for (unsigned i = 0; certs != NULL && i < n && !failed; i++)
		failed =
		    ho_proto_chain_add(&chain, certs[i].data, certs[i].size);
	if (!failed && ho_buf_used(&chain) > 0)
		ho_proto_put(b, HO_F_PEER_CHAIN, ho_buf_data(&chain),
		    ho_buf_used(&chain));
	ho_buf_free(&chain);
}

static void
done(struct ho_session *s, const struct ho_proto_msg *req,
    struct ho_step_result *res)
{
	uint16_t version = 0;
	uint16_t suite = negotiated_suite(s->tls, &version);
	if (suite == 0 || (version == HO_TLS13 && s->secret_len == 0)) {
		/* The priority string let through something the caller's
		 * record layer cannot run: end the connection cleanly. */
		gnutls_alert_send(
		    s->tls, GNUTLS_AL_FATAL, GNUTLS_A_HANDSHAKE_FAILURE);
		fail(s, 0, HANDOFF_EUNSUPPORTED,
		    "negotiated a protocol or cipher the caller's record "
		    "layer does not run (check the profile's priority string)",
		    req, res);
		return;
	}
	res->outcome = HO_STEP_DONE;
	res->resumed = gnutls_session_is_resumed(s->tls) != 0;
	ho_step_begin_reply(res, HO_MSG_HS_DONE, req);
	struct ho_proto_buf *b = &res->reply;
	ho_proto_put_u16(b, HO_F_VERSION, version);
	ho_proto_put_u16(b, HO_F_SUITE, suite);
	if (gnutls_session_etm_status(s->tls))
		ho_proto_put_u8(b, HO_F_ETM, 1);
	int ret = put_direction(s, 1, b);
	if (ret == 0)
		ret = put_direction(s, 0, b);
	if (ret < 0) {
		ho_proto_buf_free(b);
		fail(s, ret, HANDOFF_EINTERNAL, NULL, req, res);
		return;
	}
	put_output(s, b);
	if (ho_buf_used(&s->in) > 0)
		ho_proto_put(b, HO_F_LEFTOVER, ho_buf_data(&s->in),
		    ho_buf_used(&s->in));
	gnutls_datum_t alpn;
	if (gnutls_alpn_get_selected_protocol(s->tls, &alpn) == 0 &&
	    alpn.size > 0 && alpn.size <= HO_PROTO_MAX_STR)
		ho_proto_put(b, HO_F_ALPN, alpn.data, alpn.size);
	char name[256];
	size_t name_len = sizeof(name);
	unsigned type;
	if (s->role == HO_ROLE_CLIENT) {
		if (s->server_name[0] != '\0')
			ho_proto_put_str(b, HO_F_SERVER_NAME, s->server_name);
	} else if (gnutls_server_name_get(s->tls, name, &name_len, &type, 0) ==
	        0 &&
	    type == GNUTLS_NAME_DNS && name_len > 0 &&
	    name_len < sizeof(name)) {
		ho_proto_put(b, HO_F_SERVER_NAME, name, name_len);
	}
	put_peer_chain(s, b);
	ho_proto_put_u8(b, HO_F_RESUMED, (uint8_t)res->resumed);
	/* The smaller of record_size_limit (seen by our hook) and a
	 * max_fragment_length GnuTLS negotiated (RFC 6066). */
	size_t limit = gnutls_record_get_max_size(s->tls);
	if (version == HO_TLS13)
		limit += 1; /* record_size_limit counts the content type */
	if (s->peer_record_limit >= 64 && s->peer_record_limit < limit)
		limit = s->peer_record_limit;
	if (limit < HO_REC_MAX_PLAIN + (version == HO_TLS13 ? 1u : 0u))
		ho_proto_put_u16(b, HO_F_RECORD_LIMIT, (uint16_t)limit);
	if (s->finish.finished_len > 0) {
		res->one_trip = 1;
		/* The caller checks the client's Finished: this one, under
		 * keys from this secret. */
		ho_proto_put(b, HO_F_PEER_FINISHED, s->finish.finished,
		    s->finish.finished_len);
		ho_proto_put(b, HO_F_HS_READ_SECRET, s->finish.hs_secret,
		    s->finish.hs_secret_len);
	}
	if (s->role == HO_ROLE_CLIENT && ho_client_finished(s)) {
		/* TLS 1.3: the caller relays the server's ticket with this
		 * token; the session waits for it (HO_TICKET_WAIT_MS). */
		res->keep = 1;
		ho_proto_put(b, HO_F_TOKEN, s->token, sizeof(s->token));
	}
}

void
ho_handshake_step(struct ho_session *s, const uint8_t *input, size_t input_len,
    const struct ho_proto_msg *req, struct ho_step_result *res)
{
	memset(res, 0, sizeof(*res));
	int ret;
	if (s->tls == NULL && (ret = session_setup(s)) < 0) {
		fail(s, ret, HANDOFF_EINTERNAL, NULL, req, res);
		return;
	}
	if (ho_buf_append(&s->in, input, input_len) != 0) {
		fail(s, 0, HANDOFF_ENOMEM, "handoffd is out of memory", req,
		    res);
		return;
	}
	/* Non-fatal results (a warning alert) mean "call again". */
	for (;;) {
		size_t unread = ho_buf_used(&s->in);
		ret = gnutls_handshake(s->tls);
		/* A TLS 1.3 server's flight is out: in one trip, the client's
		 * Finished is ours to write (finish_ahead.c). */
		if (ret == GNUTLS_E_AGAIN && ho_finish_ahead_feed(s) == 0)
			ret = GNUTLS_E_INTERRUPTED;
		/* GnuTLS returns AGAIN at the end of a record that leaves a
		 * handshake message incomplete, though the rest is here (a
		 * ClientHello over several records in one input): on while
		 * it reads. */
		if (ret == GNUTLS_E_AGAIN && ho_buf_used(&s->in) > 0 &&
		    ho_buf_used(&s->in) < unread)
			continue;
		if (ret < 0 && ret != GNUTLS_E_AGAIN &&
		    !gnutls_error_is_fatal(ret))
			continue;
		break;
	}

	if (ret == 0) {
		done(s, req, res);
	} else if (ret == GNUTLS_E_AGAIN) {
		res->outcome = HO_STEP_CONTINUE;
		ho_step_begin_reply(res, HO_MSG_HS_CONTINUE, req);
		ho_proto_put(
		    &res->reply, HO_F_TOKEN, s->token, sizeof(s->token));
		put_output(s, &res->reply);
	} else {
		fail(s, ret, HANDOFF_EHANDSHAKE, NULL, req, res);
	}
	if (ho_proto_finish(&res->reply) != 0) {
		/* Only reachable if the output outgrew a frame. */
		ho_proto_buf_free(&res->reply);
		res->outcome = HO_STEP_FAILED;
		snprintf(res->reason, sizeof(res->reason), "reply_too_big");
		ho_step_begin_reply(res, HO_MSG_ERROR, req);
		ho_proto_put_u32(
		    &res->reply, HO_F_ERROR_CODE, HANDOFF_EINTERNAL);
		ho_proto_put_str(&res->reply, HO_F_ERROR_TEXT,
		    "handshake output does not fit in one message");
	}
	res->key_ops = s->key_ops;
	s->key_ops = 0;
	res->ca_parsed = s->ca_parsed;
	s->ca_parsed = 0;
	if (res->keep && res->outcome == HO_STEP_DONE) {
		/* GnuTLS keeps what the ticket needs; ours can go. */
		ho_wipe(s->secret_read, sizeof(s->secret_read));
		ho_wipe(s->secret_write, sizeof(s->secret_write));
	} else if (res->outcome != HO_STEP_CONTINUE) {
		res->keep = 0;
		ho_handshake_free(s); /* wipe keys as early as possible */
	}
}

void
ho_handshake_free(struct ho_session *s)
{
	if (s->tls != NULL) {
		gnutls_deinit(s->tls);
		s->tls = NULL;
	}
	ho_wipe(s->secret_read, sizeof(s->secret_read));
	ho_wipe(s->secret_write, sizeof(s->secret_write));
	s->secret_len = 0;
	ho_finish_ahead_free(&s->finish);
}
