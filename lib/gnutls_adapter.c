/*
 * gnutls_adapter.c - handoff_gnutls.h: a GnuTLS private key that signs in
 * handoffd.
 *
 * The key is a gnutls_privkey_import_ext4() object whose callbacks send
 * each signature GnuTLS asks for to handoffd (a SIGN request on the
 * context's profile: the algorithm by GnuTLS's name, the hash or the
 * whole message) and wait for the answer on the context's socket, like
 * a blocking handshake step, up to the context's deadline.  The profile's
 * certificate chain comes from handoffd too (KEY_INFO), so the program
 * holds neither the key nor a copy of what goes with it.  handoffd signs
 * only for profiles that allow it (daemon/keyops.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "handoff_gnutls.h"
#include "handoff_internal.h"

#define MAX_CHAIN 16
/* The flags handoffd passes on (daemon/keyops.c); GnuTLS's others
 * describe what the algorithm already says. */
#define SIGN_FLAGS_SENT                                                       \
	(GNUTLS_PRIVKEY_FLAG_RSA_PSS_FIXED_SALT_LENGTH |                      \
	    GNUTLS_PRIVKEY_FLAG_REPRODUCIBLE)

struct remote_key {
	struct handoff_ctx *ctx;
	gnutls_pk_algorithm_t pk;
	unsigned bits;
	uint8_t key_id[32]; /* the key handoffd gave the chain of */
};

/* One SIGN request: the hash (hashed) or the whole message in. */
static int
remote_sign(struct remote_key *k, gnutls_sign_algorithm_t algo, unsigned flags,
    int hashed, const gnutls_datum_t *in, gnutls_datum_t *sig)
{
	struct handoff_ctx *ctx = k->ctx;
	const char *name = algo == GNUTLS_SIGN_RSA_RAW
	    ? "RSA-RAW" /* TLS 1.2's PKCS#1 v1.5 over a DigestInfo */
	    : gnutls_sign_get_name(algo);
	if (name == NULL) {
		ho_ctx_fail(ctx,
		    "GnuTLS asked for signature algorithm %d, "
		    "which has no name to send handoffd",
		    (int)algo);
		return GNUTLS_E_UNKNOWN_ALGORITHM;
	}
	uint64_t id = ho_ipc_new_id(&ctx->ipc);
	struct ho_proto_buf req;
	ho_proto_begin(&req, HO_MSG_SIGN);
	ho_proto_put_u64(&req, HO_F_REQUEST_ID, id);
	ho_proto_put_str(&req, HO_F_PROFILE, ctx->profile);
	ho_proto_put_str(&req, HO_F_SIGN_ALGO, name);
	ho_proto_put_u8(&req, HO_F_HASHED, hashed ? 1 : 0);
	ho_proto_put_u32(&req, HO_F_SIGN_FLAGS, flags & SIGN_FLAGS_SENT);
	ho_proto_put(&req, HO_F_KEY_ID, k->key_id, sizeof(k->key_id));
	ho_proto_put(&req, HO_F_INPUT, in->data, in->size);
	if (ho_proto_finish(&req) != 0) {
		ho_ctx_fail(
		    ctx, "cannot build a sign request of %u bytes", in->size);
		ho_proto_buf_free(&req);
		return GNUTLS_E_PK_SIGN_FAILED;
	}
	struct ho_proto_msg m;
	size_t len = 0;
	void *msg = ho_ctx_request(
	    ctx, &req, id, HO_MSG_SIGNATURE, &m, &len, "signing in handoffd");
	ho_proto_buf_free(&req);
	if (msg == NULL)
		return GNUTLS_E_PK_SIGN_FAILED;
	const struct ho_proto_field *out = &m.f[HO_F_OUTPUT];
	int ret = 0;
	if (!out->present || out->len == 0) {
		ho_ctx_fail(ctx, "handoffd's signature reply is empty");
		ret = GNUTLS_E_PK_SIGN_FAILED;
	} else if ((sig->data = gnutls_malloc(out->len)) == NULL) {
		ret = GNUTLS_E_MEMORY_ERROR;
	} else {
		memcpy(sig->data, out->ptr, out->len);
		sig->size = out->len;
	}
	ho_ipc_freemsg(msg, len);
	return ret;
}

static int
sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
    unsigned int flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	(void)key;
	return remote_sign(userdata, algo, flags, 1, hash, sig);
}

static int
sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
    unsigned int flags, const gnutls_datum_t *data, gnutls_datum_t *sig)
{
	(void)key;
	return remote_sign(userdata, algo, flags, 0, data, sig);
}

static int
info(gnutls_privkey_t key, unsigned int flags, void *userdata)
{
	struct remote_key *k = userdata;
	(void)key;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return (int)k->pk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return (int)k->bits;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		return (int)gnutls_sign_supports_pk_algorithm(
		    GNUTLS_FLAGS_TO_SIGN_ALGO(flags), k->pk);
	return -1; /* "don't know", as GnuTLS asks of ext4 keys */
}

static void
deinit(gnutls_privkey_t key, void *userdata)
{
	(void)key;
	gnutls_free(userdata);
}

/* The profile's chain from a KEY_INFO reply into pcerts; the count, or
 * -1 with ho_ctx_fail. */
static int
import_chain(struct handoff_ctx *ctx, const struct ho_proto_field *f,
    gnutls_pcert_st *pcerts)
{
	size_t pos = 0, len;
	const uint8_t *p;
	int n = 0, r;
	while (
	    (r = ho_proto_chain_next(f->ptr, f->len, &pos, &p, &len)) == 1) {
		gnutls_datum_t der = {(unsigned char *)p, (unsigned)len};
		if (n == MAX_CHAIN ||
		    gnutls_pcert_import_x509_raw(
		        &pcerts[n], &der, GNUTLS_X509_FMT_DER, 0) < 0)
			break;
		n++;
	}
	if (r == 0 && n > 0)
		return n;
	for (int i = 0; i < n; i++)
		gnutls_pcert_deinit(&pcerts[i]);
	ho_ctx_fail(ctx,
	    "handoffd sent profile %s's certificate chain in a form this "
	    "library cannot read (daemon and library versions differ?)",
	    ctx->profile);
	return -1;
}

/* Asks handoffd for the profile's chain and its key's ID: the count,
 * or -1. */
static int
fetch_chain(struct handoff_ctx *ctx, gnutls_pcert_st *pcerts, uint8_t *key_id)
{
	uint64_t id = ho_ipc_new_id(&ctx->ipc);
	struct ho_proto_buf req;
	ho_proto_begin(&req, HO_MSG_KEY_INFO);
	ho_proto_put_u64(&req, HO_F_REQUEST_ID, id);
	ho_proto_put_str(&req, HO_F_PROFILE, ctx->profile);
	if (ho_proto_finish(&req) != 0) {
		ho_ctx_fail(ctx, "out of memory");
		ho_proto_buf_free(&req);
		return -1;
	}
	struct ho_proto_msg m;
	size_t len = 0;
	char what[HO_PROTO_MAX_STR + 64];
	snprintf(
	    what, sizeof(what), "profile %s's key in handoffd", ctx->profile);
	void *msg = ho_ctx_request(
	    ctx, &req, id, HO_MSG_KEY_INFO_REPLY, &m, &len, what);
	ho_proto_buf_free(&req);
	if (msg == NULL)
		return -1;
	const struct ho_proto_field *kid = &m.f[HO_F_KEY_ID];
	int n = -1;
	if (!kid->present || kid->len != 32)
		ho_ctx_fail(ctx,
		    "handoffd's key info has no key ID (daemon "
		    "and library versions differ?)");
	else if ((n = import_chain(ctx, &m.f[HO_F_CERT_CHAIN], pcerts)) > 0)
		memcpy(key_id, kid->ptr, 32);
	ho_ipc_freemsg(msg, len);
	return n;
}

/* The key object for a chain whose leaf is pcerts[0]. */
static int
import_key(struct handoff_ctx *ctx, gnutls_privkey_t key,
    const gnutls_pcert_st *leaf, const uint8_t *key_id)
{
	struct remote_key *k = gnutls_calloc(1, sizeof(*k));
	if (k == NULL) {
		ho_ctx_fail(ctx, "out of memory");
		return -1;
	}
	k->ctx = ctx;
	memcpy(k->key_id, key_id, sizeof(k->key_id));
	int pk = gnutls_pubkey_get_pk_algorithm(leaf->pubkey, &k->bits);
	k->pk = pk < 0 ? GNUTLS_PK_UNKNOWN : (gnutls_pk_algorithm_t)pk;
	int ret = gnutls_privkey_import_ext4(key, k, sign_data, sign_hash,
	    NULL, deinit, info, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
	if (ret < 0) {
		gnutls_free(k);
		ho_ctx_fail(ctx,
		    "cannot make a GnuTLS key that signs in "
		    "handoffd: %s",
		    gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

int
handoff_gnutls_privkey_import(struct handoff_ctx *ctx, gnutls_privkey_t key,
    gnutls_pcert_st **chain, unsigned *chain_len)
{
	if (ctx == NULL)
		return -1;
	if (key == NULL || (chain != NULL && chain_len == NULL)) {
		ho_ctx_fail(ctx,
		    "handoff_gnutls_privkey_import: key is NULL, "
		    "or chain without chain_len");
		return -1;
	}
	gnutls_pcert_st pcerts[MAX_CHAIN];
	uint8_t key_id[32];
	int n = fetch_chain(ctx, pcerts, key_id);
	if (n < 0)
		return -1;
	int ret = import_key(ctx, key, &pcerts[0], key_id);
	if (ret == 0 && chain != NULL) {
		*chain = gnutls_malloc(sizeof(pcerts[0]) * (size_t)n);
		if (*chain == NULL) {
			ho_ctx_fail(ctx, "out of memory");
			ret = -1;
		} else {
			memcpy(*chain, pcerts, sizeof(pcerts[0]) * (size_t)n);
			*chain_len = (unsigned)n;
			return 0; /* the caller owns them now */
		}
	}
	for (int i = 0; i < n; i++)
		gnutls_pcert_deinit(&pcerts[i]);
	return ret;
}

int
handoff_gnutls_certificate_set_key(
    struct handoff_ctx *ctx, gnutls_certificate_credentials_t cred)
{
	if (ctx == NULL)
		return -1;
	gnutls_privkey_t key;
	gnutls_pcert_st *chain = NULL;
	unsigned n = 0;
	if (cred == NULL || gnutls_privkey_init(&key) < 0) {
		ho_ctx_fail(ctx,
		    "handoff_gnutls_certificate_set_key: cred is "
		    "NULL, or out of memory");
		return -1;
	}
	if (handoff_gnutls_privkey_import(ctx, key, &chain, &n) != 0) {
		gnutls_privkey_deinit(key);
		return -1;
	}
	/* On success cred owns the key and the certificates (not the
	 * array, which it copies). */
	int ret = gnutls_certificate_set_key(cred, NULL, 0, chain, n, key);
	if (ret < 0) {
		for (unsigned i = 0; i < n; i++)
			gnutls_pcert_deinit(&chain[i]);
		gnutls_privkey_deinit(key);
		ho_ctx_fail(ctx, "gnutls_certificate_set_key: %s",
		    gnutls_strerror(ret));
	}
	gnutls_free(chain);
	return ret < 0 ? -1 : 0;
}
