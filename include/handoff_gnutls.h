/*
 * handoff_gnutls.h - key-only offload for programs that keep GnuTLS.
 *
 * A GnuTLS program keeps its own sessions, handshakes and record layer,
 * and hands handoffd only its private key and, if it likes, the checking
 * of its peers' certificates (handoff_gnutls_verify_peers()).  The key
 * object made here signs by asking handoffd, on the profile of the
 * context, for each signature a handshake needs (TLS 1.3, 1.2 and older;
 * RSA, RSA-PSS, ECDSA, Ed25519 and Ed448 keys).  The profile must allow
 * it with `allow_sign = yes` in handoffd.conf(5): its key then signs, with
 * the algorithms its priority string allows, whatever a program that may
 * open handoffd's socket sends.  If handoffd restarts with another key
 * under the profile, signatures are refused until the program sets up
 * again.  RSA key transport (TLS 1.2 "RSA" key exchange) needs a
 * decryption, which handoffd does not offer: leave it out of the
 * priorities (GnuTLS's default ones prefer ECDHE anyway).
 *
 * Each signature is one blocking round trip to handoffd, bounded by the
 * context's deadline (handoff_config_set_deadline_ms()); on failure the
 * handshake fails with GNUTLS_E_PK_SIGN_FAILED and handoff_ctx_error(),
 * called in the same thread, says why.  The context must outlive every
 * key and credentials made from it.
 */
#ifndef HANDOFF_GNUTLS_H
#define HANDOFF_GNUTLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "handoff.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Puts the certificate chain of the context's profile on cred, with a
 * private key that signs in handoffd, as gnutls_certificate_set_key()
 * does with a key of one's own.  Asks handoffd for the chain once, now.
 * Returns 0, or -1 with handoff_ctx_error(ctx) saying why.
 */
HANDOFF_EXPORT int handoff_gnutls_certificate_set_key(
    struct handoff_ctx *ctx, gnutls_certificate_credentials_t cred);

/*
 * Lower level: imports into key (made with gnutls_privkey_init()) the
 * profile's key as one that signs in handoffd, and, if chain is not
 * NULL, returns the profile's certificate chain (leaf first; free each
 * with gnutls_pcert_deinit() and the array with gnutls_free()).
 * Returns 0, or -1 with handoff_ctx_error(ctx) saying why.
 */
HANDOFF_EXPORT int handoff_gnutls_privkey_import(struct handoff_ctx *ctx,
    gnutls_privkey_t key, gnutls_pcert_st **chain, unsigned *chain_len);

/*
 * Verifies a peer's certificate chain (DER, leaf first, at most 16) in
 * handoffd against the profile's trust (its trust file and CRL, or the
 * system's CAs): a server's chain for the TLS server purpose and
 * hostname (a name or an IP address), or, with hostname NULL, a
 * client's for the TLS client purpose.  handoffd keeps recent results
 * (verify_cache_size in handoffd.conf(5)).  Returns 0 with *status as
 * gnutls_certificate_verify_peers3() gives it (0: trusted, else
 * GNUTLS_CERT_* bits, and handoff_ctx_error() says why in words), or -1
 * when there is no verdict (handoffd unreachable, bad arguments), with
 * handoff_ctx_error() saying why.
 */
HANDOFF_EXPORT int handoff_gnutls_verify_chain(struct handoff_ctx *ctx,
    const gnutls_datum_t *chain, unsigned chain_len, const char *hostname,
    unsigned *status);

/*
 * The same for a session's peer (gnutls_certificate_get_peers()): call
 * it where gnutls_certificate_verify_peers3() would be called, in a
 * function set with gnutls_session_set_verify_function() or after the
 * handshake.  A peer that sent no certificate is -1.
 */
HANDOFF_EXPORT int handoff_gnutls_verify_peers(struct handoff_ctx *ctx,
    gnutls_session_t session, const char *hostname, unsigned *status);

#ifdef __cplusplus
}
#endif

#endif /* HANDOFF_GNUTLS_H */
