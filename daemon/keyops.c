/*
 * keyops.c - key-only offload: signatures with a profile's key on request.
 *
 * A GnuTLS program that keeps its own handshake (include/handoff_gnutls.h)
 * asks for the profile's certificate chain once (KEY_INFO) and then for
 * each signature its handshakes need (SIGN: GnuTLS's name of the
 * algorithm, and the hash or, for EdDSA, the whole message).  The key
 * stays here, as in every other request.  But unlike a handshake, whose
 * signature covers what handoffd itself put in the transcript, SIGN signs
 * whatever the caller sends, so a profile answers it only when its
 * operator wrote `allow_sign = yes`.  Requests are stateless and run on
 * the worker that received them, outside the daemon's lock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "handoff.h"
#include "handoffd.h"

/* GnuTLS has no name for the DigestInfo-in, PKCS#1 v1.5-out signature
 * of TLS 1.2 and earlier; the adapter and handoffd call it this. */
#define RSA_RAW_NAME "RSA-RAW"
/* Longest DigestInfo (SHA-512: 19 + 64 bytes) with room to spare. */
#define RSA_RAW_MAX 128
/* Longest message signed whole (EdDSA): a TLS 1.3 CertificateVerify's is
 * ~150 bytes, a TLS 1.2 ServerKeyExchange's well under 1 KiB. */
#define SIGN_DATA_MAX 16384
/* Flags a caller may pass through; the rest are refused. */
#define SIGN_FLAGS_ALLOWED                                                    \
	(GNUTLS_PRIVKEY_FLAG_RSA_PSS_FIXED_SALT_LENGTH |                      \
	    GNUTLS_PRIVKEY_FLAG_REPRODUCIBLE)

int
ho_keyops_is_request(int type)
{
	return type == HO_MSG_KEY_INFO || type == HO_MSG_SIGN;
}

static void fail(struct ho_proto_buf *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct ho_proto_buf *reply, int code, const char *fmt, ...)
{
	char text[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ho_proto_buf_free(reply);
	ho_proto_begin(reply, HO_MSG_ERROR);
	ho_proto_put_u32(reply, HO_F_ERROR_CODE, (uint32_t)code);
	ho_proto_put_str(reply, HO_F_ERROR_TEXT, text);
}

/* The profile the request names, if it may sign on request; else NULL
 * with the error in reply. */
static const struct ho_profile *
signing_profile(const struct ho_profiles *ps, const struct ho_proto_msg *req,
    struct ho_proto_buf *reply)
{
	char name[HO_PROTO_MAX_STR + 1];
	if (ho_proto_get_str(req, HO_F_PROFILE, name, sizeof(name)) != 0) {
		fail(reply, HANDOFF_EPROTO, "%s request without a profile",
		    ho_proto_msg_name(req->type));
		return NULL;
	}
	const struct ho_profile *p = ho_profile_find(ps, name, strlen(name));
	if (p == NULL) {
		fail(reply, HANDOFF_EPROFILE,
		    "handoffd has no profile \"%s\" (see the [profile NAME] "
		    "sections of its configuration)",
		    name);
		return NULL;
	}
	if (!p->allow_sign || p->signer == NULL) {
		fail(reply, HANDOFF_EPERM,
		    "profile %s does not sign on request: add \"allow_sign = "
		    "yes\" to its section in handoffd's configuration (anyone "
		    "who may open handoffd's socket can then sign with its "
		    "key)",
		    p->name);
		return NULL;
	}
	return p;
}

/* KEY_INFO: the profile's certificate chain, (u24 length, DER)*. */
static void
key_info(const struct ho_profile *p, struct ho_proto_buf *reply)
{
	struct ho_buf chain = {0};
	gnutls_datum_t der;
	int failed = 0;
	for (unsigned i = 0;
	     gnutls_certificate_get_crt_raw(p->cred, 0, i, &der) >= 0; i++) {
		uint8_t len[3] = {(uint8_t)(der.size >> 16),
		    (uint8_t)(der.size >> 8), (uint8_t)der.size};
		failed |= ho_buf_append(&chain, len, 3) != 0 ||
		    ho_buf_append(&chain, der.data, der.size) != 0;
	}
	if (failed || ho_buf_used(&chain) == 0)
		fail(reply, HANDOFF_EINTERNAL,
		    "profile %s: cannot read its certificate chain", p->name);
	else
		ho_proto_put(reply, HO_F_CERT_CHAIN, ho_buf_data(&chain),
		    ho_buf_used(&chain));
	ho_buf_free(&chain);
}

/* SIGN: returns 1 if the key signed. */
static int
sign(const struct ho_profile *p, const struct ho_proto_msg *req,
    struct ho_proto_buf *reply)
{
	char name[HO_PROTO_MAX_STR + 1];
	uint8_t hashed = 0;
	uint32_t flags = 0;
	const struct ho_proto_field *in = &req->f[HO_F_INPUT];
	if (ho_proto_get_str(req, HO_F_SIGN_ALGO, name, sizeof(name)) != 0 ||
	    !in->present) {
		fail(reply, HANDOFF_EPROTO,
		    "sign request without an algorithm or input");
		return 0;
	}
	(void)ho_proto_get_u8(req, HO_F_HASHED, &hashed);
	(void)ho_proto_get_u32(req, HO_F_SIGN_FLAGS, &flags);
	if (flags & ~(uint32_t)SIGN_FLAGS_ALLOWED) {
		fail(reply, HANDOFF_EINVAL, "sign flags 0x%x not supported",
		    flags);
		return 0;
	}
	int raw = strcmp(name, RSA_RAW_NAME) == 0;
	gnutls_sign_algorithm_t algo =
	    raw ? GNUTLS_SIGN_RSA_RAW : gnutls_sign_get_id(name);
	gnutls_pk_algorithm_t pk =
	    gnutls_privkey_get_pk_algorithm(p->signer, NULL);
	if (algo == GNUTLS_SIGN_UNKNOWN) {
		fail(reply, HANDOFF_EINVAL,
		    "\"%s\" is not a signature algorithm GnuTLS knows", name);
		return 0;
	}
	if ((raw ? pk != GNUTLS_PK_RSA
	         : !gnutls_sign_supports_pk_algorithm(algo, pk))) {
		fail(reply, HANDOFF_EINVAL,
		    "profile %s: its %s key cannot sign with \"%s\"", p->name,
		    gnutls_pk_get_name(pk), name);
		return 0;
	}
	/* A hash must be as long as the algorithm's; a whole message only
	 * for the algorithms that hash it themselves. */
	size_t want = raw
	    ? 0
	    : gnutls_hash_get_len(
	          (gnutls_digest_algorithm_t)gnutls_sign_get_hash_algorithm(
	              algo));
	int bad_len = hashed ? (raw ? in->len == 0 || in->len > RSA_RAW_MAX
	                            : in->len != want || want == 0)
	                     : raw || in->len > SIGN_DATA_MAX;
	if (bad_len) {
		fail(reply, HANDOFF_EINVAL,
		    "sign request: %u bytes of %s do not fit %s", in->len,
		    hashed ? "hash" : "data", name);
		return 0;
	}
	gnutls_datum_t data = {(unsigned char *)in->ptr, in->len};
	gnutls_datum_t sig = {NULL, 0};
	int ret = !hashed
	    ? gnutls_privkey_sign_data2(p->signer, algo, flags, &data, &sig)
	    : raw
	    ? gnutls_privkey_sign_hash2(p->signer, GNUTLS_SIGN_UNKNOWN,
	          flags | GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, &data, &sig)
	    : gnutls_privkey_sign_hash2(p->signer, algo, flags, &data, &sig);
	if (ret < 0) {
		fail(reply, HANDOFF_EINTERNAL,
		    "profile %s: signing failed: %s", p->name,
		    gnutls_strerror(ret));
		return 0;
	}
	ho_proto_put(reply, HO_F_OUTPUT, sig.data, sig.size);
	gnutls_free(sig.data);
	return 1;
}

int
ho_keyops_answer(const struct ho_profiles *ps, const struct ho_proto_msg *req,
    struct ho_proto_buf *reply)
{
	ho_proto_begin(reply,
	    req->type == HO_MSG_SIGN ? HO_MSG_SIGNATURE
	                             : HO_MSG_KEY_INFO_REPLY);
	const struct ho_profile *p = signing_profile(ps, req, reply);
	if (p == NULL)
		return 0;
	if (req->type == HO_MSG_KEY_INFO) {
		key_info(p, reply);
		return 0;
	}
	return sign(p, req, reply);
}
