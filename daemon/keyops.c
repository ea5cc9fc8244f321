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
 * operator wrote `allow_sign = yes`, and only with the signature
 * algorithms its priority string allows (RSA-RAW, GnuTLS's PKCS#1 v1.5
 * over a DigestInfo, counts as the algorithm of that DigestInfo).  Each
 * SIGN names the key it expects (KEY_INFO's SHA-256 key ID): a program
 * that fetched the chain of a key since replaced gets an error, not
 * signatures its peers will refuse.  Requests are stateless and run on
 * the worker that received them, outside the daemon's lock.  The profile
 * lookup and error reply every stateless request needs live here too
 * (verify.c uses them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "handoff.h"
#include "handoffd.h"

/* GnuTLS has no name for the DigestInfo-in, PKCS#1 v1.5-out signature
 * of TLS 1.2 and earlier; the adapter and handoffd call it this. */
#define RSA_RAW_NAME "RSA-RAW"
/* Longest message signed whole (EdDSA): a TLS 1.3 CertificateVerify's is
 * ~150 bytes, a TLS 1.2 ServerKeyExchange's well under 1 KiB; a TLS 1.2
 * client's CertificateVerify covers the whole handshake so far. */
#define SIGN_DATA_MAX 65536
/* Flags a caller may pass through; the rest are refused. */
#define SIGN_FLAGS_ALLOWED                                                    \
	(GNUTLS_PRIVKEY_FLAG_RSA_PSS_FIXED_SALT_LENGTH |                      \
	    GNUTLS_PRIVKEY_FLAG_REPRODUCIBLE)

int
ho_keyops_is_request(int type)
{
	return type == HO_MSG_KEY_INFO || type == HO_MSG_SIGN;
}

void
ho_reply_fail(struct ho_proto_buf *reply, int code, const char *fmt, ...)
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

const struct ho_profile *
ho_request_profile(const struct ho_profiles *ps,
    const struct ho_proto_msg *req, struct ho_proto_buf *reply)
{
	char name[HO_PROTO_MAX_STR + 1];
	if (ho_proto_get_str(req, HO_F_PROFILE, name, sizeof(name)) != 0) {
		ho_reply_fail(reply, HANDOFF_EPROTO,
		    "%s request without a profile",
		    ho_proto_msg_name(req->type));
		return NULL;
	}
	const struct ho_profile *p = ho_profile_find(ps, name, strlen(name));
	if (p == NULL)
		ho_reply_fail(reply, HANDOFF_EPROFILE,
		    "handoffd has no profile \"%s\" (see the [profile NAME] "
		    "sections of its configuration)",
		    name);
	return p;
}

/* The profile the request names, if it may sign on request; else NULL
 * with the error in reply. */
static const struct ho_profile *
signing_profile(const struct ho_profiles *ps, const struct ho_proto_msg *req,
    struct ho_proto_buf *reply)
{
	const struct ho_profile *p = ho_request_profile(ps, req, reply);
	if (p != NULL && (!p->allow_sign || p->signer == NULL)) {
		ho_reply_fail(reply, HANDOFF_EPERM,
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
	     gnutls_certificate_get_crt_raw(p->cred, 0, i, &der) >= 0; i++)
		failed |= ho_proto_chain_add(&chain, der.data, der.size);
	if (failed || ho_buf_used(&chain) == 0)
		ho_reply_fail(reply, HANDOFF_EINTERNAL,
		    "profile %s: cannot read its certificate chain", p->name);
	else {
		ho_proto_put(reply, HO_F_CERT_CHAIN, ho_buf_data(&chain),
		    ho_buf_used(&chain));
		ho_proto_put(reply, HO_F_KEY_ID, p->key_id, sizeof(p->key_id));
	}
	ho_buf_free(&chain);
}

/* Whether the profile's priority string allows algo. */
static int
profile_allows(const struct ho_profile *p, gnutls_sign_algorithm_t algo)
{
	const unsigned *list = NULL;
	int n = gnutls_priority_sign_list(p->priority, &list);
	for (int i = 0; i < n; i++)
		if (list[i] == (unsigned)algo)
			return 1;
	return 0;
}

/* RSA-RAW input GnuTLS makes: the MD5 and SHA-1 hashes of TLS 1.0/1.1
 * (36 bytes), or a DigestInfo (RFC 8017 9.2) of a SHA-2 or SHA-1 hash.
 * Returns the PKCS#1 v1.5 algorithm it amounts to (RSA-SHA1 for the
 * 36 bytes), or GNUTLS_SIGN_UNKNOWN for anything else. */
static gnutls_sign_algorithm_t
rsa_raw_algorithm(const uint8_t *in, size_t len)
{
	static const struct {
		gnutls_sign_algorithm_t algo;
		uint8_t prefix[19];
		size_t prefix_len, hash_len;
	} infos[] = {
	    {GNUTLS_SIGN_RSA_SHA1,
	        {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02,
	            0x1a, 0x05, 0x00, 0x04, 0x14},
	        15, 20},
	    {GNUTLS_SIGN_RSA_SHA256,
	        {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	            0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	        19, 32},
	    {GNUTLS_SIGN_RSA_SHA384,
	        {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	            0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	        19, 48},
	    {GNUTLS_SIGN_RSA_SHA512,
	        {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	            0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
	        19, 64},
	};
	if (len == 36)
		return GNUTLS_SIGN_RSA_SHA1;
	for (size_t i = 0; i < sizeof(infos) / sizeof(infos[0]); i++)
		if (len == infos[i].prefix_len + infos[i].hash_len &&
		    memcmp(in, infos[i].prefix, infos[i].prefix_len) == 0)
			return infos[i].algo;
	return GNUTLS_SIGN_UNKNOWN;
}

/* What a SIGN request asks for, checked against the profile: 0, or -1
 * with the error in reply.  *algo is what GnuTLS signs with (RSA-RAW
 * for a DigestInfo). */
static int
check_request(const struct ho_profile *p, const char *name, int hashed,
    const struct ho_proto_field *in, gnutls_sign_algorithm_t *algo,
    struct ho_proto_buf *reply)
{
	int raw = strcasecmp(name, RSA_RAW_NAME) == 0;
	gnutls_pk_algorithm_t pk =
	    gnutls_privkey_get_pk_algorithm(p->signer, NULL);
	*algo = raw ? GNUTLS_SIGN_RSA_RAW : gnutls_sign_get_id(name);
	if (*algo == GNUTLS_SIGN_UNKNOWN) {
		ho_reply_fail(reply, HANDOFF_EINVAL,
		    "\"%s\" is not a signature algorithm GnuTLS knows", name);
		return -1;
	}
	if (raw ? pk != GNUTLS_PK_RSA
	        : !gnutls_sign_supports_pk_algorithm(*algo, pk)) {
		ho_reply_fail(reply, HANDOFF_EINVAL,
		    "profile %s: its %s key cannot sign with \"%s\"", p->name,
		    gnutls_pk_get_name(pk), name);
		return -1;
	}
	/* RSA-RAW stands for the PKCS#1 v1.5 algorithm of its DigestInfo:
	 * what the profile allows decides, as for any other. */
	gnutls_sign_algorithm_t policy =
	    raw && hashed ? rsa_raw_algorithm(in->ptr, in->len) : *algo;
	int eddsa =
	    pk == GNUTLS_PK_EDDSA_ED25519 || pk == GNUTLS_PK_EDDSA_ED448;
	size_t want = raw
	    ? 0
	    : gnutls_hash_get_len(
	          (gnutls_digest_algorithm_t)gnutls_sign_get_hash_algorithm(
	              *algo));
	if (raw && (!hashed || policy == GNUTLS_SIGN_UNKNOWN)) {
		ho_reply_fail(reply, HANDOFF_EINVAL,
		    "sign request: RSA-RAW signs a DigestInfo of SHA-1 or "
		    "SHA-2, or TLS 1.0's 36 bytes; %u bytes are neither",
		    in->len);
		return -1;
	}
	if (hashed && (eddsa || (!raw && (in->len != want || want == 0)))) {
		ho_reply_fail(reply, HANDOFF_EINVAL,
		    "sign request: %u bytes of hash do not fit %s%s", in->len,
		    name, eddsa ? " (EdDSA signs the whole message)" : "");
		return -1;
	}
	if (!hashed && in->len > SIGN_DATA_MAX) {
		ho_reply_fail(reply, HANDOFF_EINVAL,
		    "sign request: %u bytes of data, more than %d", in->len,
		    SIGN_DATA_MAX);
		return -1;
	}
	if (!profile_allows(p, policy)) {
		ho_reply_fail(reply, HANDOFF_EPERM,
		    "profile %s: its priority string does not allow %s "
		    "signatures",
		    p->name, gnutls_sign_get_name(policy));
		return -1;
	}
	return 0;
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
	const struct ho_proto_field *id = &req->f[HO_F_KEY_ID];
	if (ho_proto_get_str(req, HO_F_SIGN_ALGO, name, sizeof(name)) != 0 ||
	    !in->present || !id->present) {
		ho_reply_fail(reply, HANDOFF_EPROTO,
		    "sign request without an algorithm, input or key ID");
		return 0;
	}
	if (id->len != sizeof(p->key_id) ||
	    memcmp(id->ptr, p->key_id, sizeof(p->key_id)) != 0) {
		ho_reply_fail(reply, HANDOFF_EPROFILE,
		    "profile %s has another key than the one this program "
		    "set up with (handoffd restarted with a new "
		    "certificate?): "
		    "set the credentials up again",
		    p->name);
		return 0;
	}
	(void)ho_proto_get_u8(req, HO_F_HASHED, &hashed);
	(void)ho_proto_get_u32(req, HO_F_SIGN_FLAGS, &flags);
	if (flags & ~(uint32_t)SIGN_FLAGS_ALLOWED) {
		ho_reply_fail(reply, HANDOFF_EINVAL,
		    "sign flags 0x%x not supported", flags);
		return 0;
	}
	gnutls_sign_algorithm_t algo;
	if (check_request(p, name, hashed, in, &algo, reply) != 0)
		return 0;
	gnutls_datum_t data = {(unsigned char *)in->ptr, in->len};
	gnutls_datum_t sig = {NULL, 0};
	int ret = !hashed
	    ? gnutls_privkey_sign_data2(p->signer, algo, flags, &data, &sig)
	    : algo == GNUTLS_SIGN_RSA_RAW
	    ? gnutls_privkey_sign_hash2(p->signer, GNUTLS_SIGN_UNKNOWN,
	          flags | GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, &data, &sig)
	    : gnutls_privkey_sign_hash2(p->signer, algo, flags, &data, &sig);
	if (ret < 0) {
		int theirs = ret == GNUTLS_E_INVALID_REQUEST ||
		    ret == GNUTLS_E_CONSTRAINT_ERROR;
		ho_reply_fail(reply,
		    theirs ? HANDOFF_EINVAL : HANDOFF_EINTERNAL,
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
