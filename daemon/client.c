/*
 * client.c - the client role: handoffd originates the TLS connection.
 *
 * The first step has no input: GnuTLS writes the ClientHello.  The
 * server's flight comes back in the next step, and GnuTLS verifies its
 * chain against the profile's trust file (or the system's CAs) and the
 * host name the caller gave, unless the caller explicitly turned
 * verification off.  Resumption: TLS 1.2 session data is cached when the
 * handshake ends; a TLS 1.3 server sends its NewSessionTicket after the
 * handshake, under keys only the caller holds by then, so the caller
 * decrypts it and relays the message here (HS_TICKET), and the finished
 * session, kept for that, turns it into cached session data.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "handoff.h"
#include "handoffd.h"

/* A session must only resume for a caller that would have accepted the
 * same server: the verification mode and the caller's own CAs (by
 * digest) are part of the key, and so is the address, since one name
 * on two ports can be two servers (which may not even share a
 * protocol version). */
static void
cache_server_key(const struct ho_session *s, char *buf, size_t len)
{
	char ca[24] = "";
	const uint8_t *d = s->trust_digest;
	if (s->caller_cas)
		snprintf(ca, sizeof(ca),
		    "#ca=%02x%02x%02x%02x%02x%02x%02x%02x", d[0], d[1], d[2],
		    d[3], d[4], d[5], d[6], d[7]);
	snprintf(buf, len, "%s@%s%s%s", s->server_name, s->peer,
	    s->no_verify ? "#unverified" : "", ca);
}

/* Loads the peer's chain as X.509 objects; returns the count (<= max). */
static unsigned
peer_chain(gnutls_session_t tls, gnutls_x509_crt_t *out, unsigned max)
{
	unsigned n = 0, got = 0;
	const gnutls_datum_t *der = gnutls_certificate_get_peers(tls, &n);
	for (unsigned i = 0; der != NULL && i < n && got < max; i++) {
		if (gnutls_x509_crt_init(&out[got]) < 0)
			break;
		if (gnutls_x509_crt_import(
		        out[got], &der[i], GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(out[got]);
			break;
		}
		got++;
	}
	return got;
}

/*
 * Verification against the CAs the caller sent (handoff_config_set_ca_
 * file): the same checks GnuTLS makes against a profile's trust file —
 * chain, validity dates, TLS server purpose, host name or IP address.
 * The file is parsed once for all sessions that send it (trust_cache.c).
 */
static int
verify_with_caller_cas(gnutls_session_t tls)
{
	struct ho_session *s = gnutls_session_get_ptr(tls);
	gnutls_x509_crt_t chain[16];
	unsigned n = peer_chain(tls, chain, 16), status = GNUTLS_CERT_INVALID;
	int parsed = 0;
	/* Held since the request named it by digest, or found (or parsed)
	 * now from the file the request carried. */
	struct ho_trust *trust = s->held_trust;
	s->held_trust = NULL;
	if (trust == NULL && n > 0)
		trust =
		    ho_trust_get(s->trust_cache, ho_buf_data(&s->trust_pem),
		        ho_buf_used(&s->trust_pem), s->trust_digest, &parsed);
	s->ca_parsed += (unsigned)parsed;
	if (trust != NULL && n > 0) {
		gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
		    (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0};
		if (gnutls_x509_trust_list_verify_crt2(ho_trust_list(trust),
		        chain, n, &purpose, 1, 0, &status, NULL) < 0)
			status = GNUTLS_CERT_INVALID;
		if (s->server_name[0] != '\0' &&
		    !gnutls_x509_crt_check_hostname(chain[0], s->server_name))
			status |=
			    GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER;
	} else if (n > 0) {
		status |= GNUTLS_CERT_SIGNER_NOT_FOUND; /* no usable CA */
	}
	ho_trust_release(s->trust_cache, trust);
	/* Up to 128 KiB, and the session may wait for a ticket a while
	 * yet: the digest is all it needs from now on. */
	ho_buf_free(&s->trust_pem);
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(chain[i]);
	s->verify_status = status;
	return status == 0 ? 0 : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

/* SNI carries host names only, never address literals (RFC 6066). */
static int
is_ip_literal(const char *name)
{
	unsigned char addr[16];
	return inet_pton(AF_INET, name, addr) == 1 ||
	    inet_pton(AF_INET6, name, addr) == 1;
}

int
ho_client_setup(struct ho_session *s)
{
	const struct ho_profile *p = s->profile;
	int ret;
	if ((ret = gnutls_priority_set(s->tls, p->priority)) < 0 ||
	    (ret = gnutls_credentials_set(
	         s->tls, GNUTLS_CRD_CERTIFICATE, p->cred)) < 0)
		return ret;
	if (s->server_name[0] != '\0' && !is_ip_literal(s->server_name) &&
	    (ret = gnutls_server_name_set(s->tls, GNUTLS_NAME_DNS,
	         s->server_name, strlen(s->server_name))) < 0)
		return ret;
	if (p->alpn_count > 0 &&
	    (ret = gnutls_alpn_set_protocols(
	         s->tls, p->alpn, (unsigned)p->alpn_count, 0)) < 0)
		return ret;
	/* GnuTLS checks the chain and the name (DNS or IP address) while
	 * the handshake runs, so a bad certificate gets its alert. */
	s->caller_cas =
	    ho_buf_used(&s->trust_pem) > 0 || s->held_trust != NULL;
	if (!s->no_verify && s->caller_cas)
		gnutls_session_set_verify_function(
		    s->tls, verify_with_caller_cas);
	else if (!s->no_verify)
		gnutls_session_set_verify_cert(s->tls,
		    s->server_name[0] != '\0' ? s->server_name : NULL, 0);
	/* The caller's CAs are known by their digest: in the resumption
	 * cache's key, and to find them parsed (trust_cache.c). */
	if (ho_buf_used(&s->trust_pem) > 0 &&
	    (ret = gnutls_hash_fast(GNUTLS_DIG_SHA256,
	         ho_buf_data(&s->trust_pem), ho_buf_used(&s->trust_pem),
	         s->trust_digest)) < 0)
		return ret;
	char server[HO_CACHE_SERVER_KEY_MAX];
	cache_server_key(s, server, sizeof(server));
	ho_cache_apply(s->cache, p->name, server, s->tls);
	return 0;
}

/* The alert that names a verification failure best (RFC 8446 6.2). */
static gnutls_alert_description_t
verify_alert(unsigned status)
{
	if (status & GNUTLS_CERT_REVOKED)
		return GNUTLS_A_CERTIFICATE_REVOKED;
	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return GNUTLS_A_CERTIFICATE_EXPIRED;
	if (status &
	    (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return GNUTLS_A_UNKNOWN_CA;
	return GNUTLS_A_BAD_CERTIFICATE;
}

int
ho_client_verify_reason(struct ho_session *s, char *buf, size_t len)
{
	unsigned status = s->verify_status != 0
	    ? s->verify_status
	    : gnutls_session_get_verify_cert_status(s->tls);
	/* (unsigned)-1: no verification took place. */
	if (status == 0 || status == (unsigned)-1 || s->no_verify)
		return 0;
	ho_verify_status_words(status, s->server_name, buf, len);
	/* Replace GnuTLS's generic bad_certificate with the precise one;
	 * the first alert on the wire ends the connection, so send it. */
	gnutls_alert_send(s->tls, GNUTLS_AL_FATAL, verify_alert(status));
	return 1;
}

int
ho_client_finished(struct ho_session *s)
{
	/* With client_cache_size = 0 nothing is kept: no token goes to
	 * the caller, so it relays no ticket (an IPC trip saved). */
	if (!ho_cache_enabled(s->cache))
		return 0;
	if (gnutls_protocol_get_version(s->tls) == GNUTLS_TLS1_3)
		return 1; /* wait for the server's ticket */
	gnutls_datum_t data = {NULL, 0};
	if (gnutls_session_get_data2(s->tls, &data) == 0) {
		char server[HO_CACHE_SERVER_KEY_MAX];
		cache_server_key(s, server, sizeof(server));
		ho_cache_put(s->cache, s->profile->name, server, &data);
		gnutls_memset(data.data, 0, data.size);
		gnutls_free(data.data);
	}
	return 0;
}

/* GnuTLS wants somewhere to send post-handshake output once messages
 * are fed with gnutls_handshake_write(); a ticket needs no answer. */
static int
ignore_output(gnutls_session_t tls, gnutls_record_encryption_level_t level,
    gnutls_handshake_description_t htype, const void *data, size_t len)
{
	(void)tls;
	(void)level;
	(void)htype;
	(void)data;
	(void)len;
	return 0;
}

void
ho_client_ticket(struct ho_session *s, const uint8_t *msg, size_t len,
    const struct ho_proto_msg *req, struct ho_step_result *res)
{
	memset(res, 0, sizeof(*res));
	res->outcome = HO_STEP_CLOSED; /* whatever happens, it is over */
	/* requests.c let through only sessions that awaited a ticket. */
	if (s->tls == NULL || len < 4 || msg[0] != 4) {
		snprintf(res->reason, sizeof(res->reason), "bad_ticket");
		ho_step_fail_text(res, HANDOFF_EPROTO,
		    "not a NewSessionTicket for a finished TLS 1.3 client "
		    "session",
		    req);
		return;
	}
	gnutls_handshake_set_read_function(s->tls, ignore_output);
	int ret = gnutls_handshake_write(
	    s->tls, GNUTLS_ENCRYPTION_LEVEL_APPLICATION, msg, len);
	gnutls_datum_t data = {NULL, 0};
	if (ret < 0 || gnutls_session_get_data2(s->tls, &data) < 0) {
		char text[200];
		snprintf(res->reason, sizeof(res->reason), "ticket_refused");
		snprintf(text, sizeof(text),
		    "handoffd could not use the server's session ticket: %s",
		    gnutls_strerror(ret < 0 ? ret : GNUTLS_E_INTERNAL_ERROR));
		ho_step_fail_text(res, HANDOFF_EHANDSHAKE, text, req);
		return;
	}
	char server[HO_CACHE_SERVER_KEY_MAX];
	cache_server_key(s, server, sizeof(server));
	ho_cache_put(s->cache, s->profile->name, server, &data);
	gnutls_memset(data.data, 0, data.size);
	gnutls_free(data.data);
	res->ticket_stored = 1;
	ho_step_begin_reply(res, HO_MSG_OK, req);
}
