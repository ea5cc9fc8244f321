/*
 * fastkey.c - private keys from files, signing through OpenSSL's
 * libcrypto (RSA, ECDSA) or libsodium (Ed25519) inside GnuTLS sessions.
 *
 * GnuTLS's own RSA signing is several times slower than libcrypto's on
 * this kind of machine (RSA-2048: 709/s against 3,354/s per core, ECDSA
 * P-256: 23k/s against 49k/s; see DESIGN.md), and signing is most of a
 * full handshake's server-side cost.  gnutls_privkey_import_ext4() lets a
 * GnuTLS session sign through callbacks, so the key is read once with
 * libcrypto and every signature is made there; the handshake itself stays
 * GnuTLS's.  Ed25519 signs with libsodium, which is faster at it than
 * both (16-18 us against GnuTLS's ~29 us and libcrypto's ~35 us here).
 * A key whose profile allows RSA key transport stays with GnuTLS (its
 * PKCS#1 v1.5 decryption must not leak timing, and GnuTLS handles that
 * case itself), and so does Ed448.
 *
 * GnuTLS hands us what to sign: a hash (ECDSA; RSA-PSS; for RSA PKCS#1
 * v1.5 the DigestInfo, as GNUTLS_SIGN_RSA_RAW) or the whole message
 * (EdDSA).
 *
 * Every call signs with its own EVP_PKEY_CTX, so the workers sign in
 * parallel with one shared key.  Making a context from the key costs
 * OpenSSL 3.0 a provider lookup by name under its locks (~2 us of a ~20 us
 * ECDSA P-256 signature here, more with two workers at it), so each key
 * keeps one ready context per way it signs, made at load, and a signature
 * starts from a copy of it (EVP_PKEY_CTX_dup only reads the template).
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "handoffd.h"

/* The ways a key signs, each with its ready context. */
enum fastkey_way {
	WAY_ECDSA,          /* ECDSA over the hash as given */
	WAY_RSA_PKCS1,      /* PKCS#1 v1.5 over GnuTLS's DigestInfo */
	WAY_RSA_PSS_SHA256, /* TLS 1.3's rsa_pss_rsae_* and rsa_pss_pss_* */
	WAY_RSA_PSS_SHA384,
	WAY_RSA_PSS_SHA512,
	WAY_COUNT
};

struct fastkey {
	EVP_PKEY *pkey; /* RSA, ECDSA; NULL for Ed25519 */
	gnutls_pk_algorithm_t pk;
	int bits;
	size_t sig_max; /* longest signature the key makes */
	/* Initialised for each way this kind of key signs, NULL for the
	 * others; read-only once loaded. */
	EVP_PKEY_CTX *ready[WAY_COUNT];
	/* Ed25519: libsodium's secret key (the seed, then the public key),
	 * wiped at deinit. */
	unsigned char ed25519_sk[crypto_sign_ed25519_SECRETKEYBYTES];
};

/* libcrypto's digest for GnuTLS's, NULL if unknown. */
static const EVP_MD *
digest_md(gnutls_digest_algorithm_t hash)
{
	switch (hash) {
	case GNUTLS_DIG_SHA256: return EVP_sha256();
	case GNUTLS_DIG_SHA384: return EVP_sha384();
	case GNUTLS_DIG_SHA512: return EVP_sha512();
	case GNUTLS_DIG_SHA1: return EVP_sha1();
	default: return NULL;
	}
}

/* The way k signs for algo, or WAY_COUNT if it cannot. */
static enum fastkey_way
way_for(const struct fastkey *k, gnutls_sign_algorithm_t algo)
{
	if (k->pk == GNUTLS_PK_ECDSA)
		return WAY_ECDSA;
	if (algo == GNUTLS_SIGN_RSA_RAW)
		return WAY_RSA_PKCS1; /* GnuTLS passes PKCS#1 v1.5 this way */
	if (gnutls_sign_get_pk_algorithm(algo) != GNUTLS_PK_RSA_PSS)
		return WAY_COUNT;
	switch (gnutls_sign_get_hash_algorithm(algo)) {
	case GNUTLS_DIG_SHA256: return WAY_RSA_PSS_SHA256;
	case GNUTLS_DIG_SHA384: return WAY_RSA_PSS_SHA384;
	case GNUTLS_DIG_SHA512: return WAY_RSA_PSS_SHA512;
	default: return WAY_COUNT;
	}
}

/* A new signing context for pkey, set up for way; NULL on failure. */
static EVP_PKEY_CTX *
ctx_for_way(EVP_PKEY *pkey, enum fastkey_way way)
{
	static const gnutls_digest_algorithm_t pss_hash[WAY_COUNT] = {
	    [WAY_RSA_PSS_SHA256] = GNUTLS_DIG_SHA256,
	    [WAY_RSA_PSS_SHA384] = GNUTLS_DIG_SHA384,
	    [WAY_RSA_PSS_SHA512] = GNUTLS_DIG_SHA512,
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
	if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0)
		goto fail;
	if (way == WAY_RSA_PKCS1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		goto fail;
	if (pss_hash[way] != GNUTLS_DIG_UNKNOWN) {
		/* TLS 1.3's RSA-PSS: salt as long as the hash. */
		const EVP_MD *md = digest_md(pss_hash[way]);
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <=
		        0 ||
		    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(
		        ctx, RSA_PSS_SALTLEN_DIGEST) <= 0)
			goto fail;
	}
	return ctx;
fail:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static int
sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
    unsigned int flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	struct fastkey *k = userdata;
	(void)key;
	(void)flags;
	enum fastkey_way way = way_for(k, algo);
	if (way == WAY_COUNT || k->ready[way] == NULL)
		return GNUTLS_E_PK_SIGN_FAILED;
	int ret = GNUTLS_E_PK_SIGN_FAILED;
	/* ECDSA signs the hash as given and returns DER, as TLS wants. */
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_dup(k->ready[way]);
	size_t len = k->sig_max;
	if (ctx == NULL || (sig->data = gnutls_malloc(len)) == NULL)
		goto out;
	if (EVP_PKEY_sign(ctx, sig->data, &len, hash->data, hash->size) <= 0) {
		gnutls_free(sig->data);
		sig->data = NULL;
		goto out;
	}
	sig->size = (unsigned)len;
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

/* EdDSA signs the whole message. */
static int
sign_data(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
    unsigned int flags, const gnutls_datum_t *data, gnutls_datum_t *sig)
{
	struct fastkey *k = userdata;
	(void)key;
	(void)flags;
	if (k->pk != GNUTLS_PK_EDDSA_ED25519 ||
	    algo != GNUTLS_SIGN_EDDSA_ED25519 ||
	    (sig->data = gnutls_malloc(crypto_sign_ed25519_BYTES)) == NULL)
		return GNUTLS_E_PK_SIGN_FAILED;
	crypto_sign_ed25519_detached(
	    sig->data, NULL, data->data, data->size, k->ed25519_sk);
	sig->size = crypto_sign_ed25519_BYTES;
	return 0;
}

static int
info(gnutls_privkey_t key, unsigned int flags, void *userdata)
{
	struct fastkey *k = userdata;
	(void)key;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return (int)k->pk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return k->bits;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) {
		gnutls_sign_algorithm_t algo =
		    GNUTLS_FLAGS_TO_SIGN_ALGO(flags);
		gnutls_pk_algorithm_t pk = gnutls_sign_get_pk_algorithm(algo);
		if (k->pk == GNUTLS_PK_EDDSA_ED25519)
			return algo == GNUTLS_SIGN_EDDSA_ED25519;
		int known_hash =
		    digest_md(gnutls_sign_get_hash_algorithm(algo)) != NULL;
		if (k->pk == GNUTLS_PK_RSA && pk == GNUTLS_PK_RSA)
			return known_hash && k->ready[WAY_RSA_PKCS1] != NULL;
		if (k->pk == GNUTLS_PK_RSA && pk == GNUTLS_PK_RSA_PSS) {
			enum fastkey_way way = way_for(k, algo);
			return way != WAY_COUNT && k->ready[way] != NULL;
		}
		return pk == k->pk && known_hash;
	}
	return -1; /* "don't know", as GnuTLS asks of ext4 keys */
}

static void
deinit(gnutls_privkey_t key, void *userdata)
{
	struct fastkey *k = userdata;
	(void)key;
	for (int w = 0; w < WAY_COUNT; w++)
		EVP_PKEY_CTX_free(k->ready[w]);
	EVP_PKEY_free(k->pkey); /* OpenSSL cleanses key material */
	sodium_memzero(k->ed25519_sk, sizeof(k->ed25519_sk));
	gnutls_free(k);
}

/* The key in libcrypto's hands: a ready context for each way it signs.
 * Takes pkey; 0, or -1 if libcrypto signs with it in no way. */
static int
ready_libcrypto(struct fastkey *k, EVP_PKEY *pkey)
{
	k->pkey = pkey;
	k->bits = EVP_PKEY_get_bits(pkey);
	k->sig_max = (size_t)EVP_PKEY_get_size(pkey);
	/* A way libcrypto refuses for this key is left out (info() then
	 * says so, and GnuTLS picks another); a key with none is refused. */
	int ways = 0;
	for (enum fastkey_way w = 0; w < WAY_COUNT; w++)
		if ((w == WAY_ECDSA) == (k->pk == GNUTLS_PK_ECDSA))
			ways += (k->ready[w] = ctx_for_way(pkey, w)) != NULL;
	return ways > 0 ? 0 : -1;
}

/* The Ed25519 key in libsodium's form, from its 32-byte seed.  Frees
 * pkey (OpenSSL cleanses it); 0, or -1. */
static int
ready_libsodium(struct fastkey *k, EVP_PKEY *pkey)
{
	unsigned char seed[crypto_sign_ed25519_SEEDBYTES];
	unsigned char pub[crypto_sign_ed25519_PUBLICKEYBYTES];
	size_t len = sizeof(seed);
	int ok = EVP_PKEY_get_raw_private_key(pkey, seed, &len) == 1 &&
	    len == sizeof(seed) &&
	    crypto_sign_ed25519_seed_keypair(pub, k->ed25519_sk, seed) == 0;
	sodium_memzero(seed, sizeof(seed));
	EVP_PKEY_free(pkey);
	k->bits = 256;
	k->sig_max = crypto_sign_ed25519_BYTES;
	return ok ? 0 : -1;
}

int
ho_fastkey_load(const char *path, gnutls_privkey_t *out, const char **signer,
    char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read key file %s", path);
		return -1;
	}
	EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		snprintf(
		    err, errlen, "OpenSSL cannot read the key in %s", path);
		ERR_clear_error();
		return -1;
	}
	int id = EVP_PKEY_get_base_id(pkey);
	gnutls_pk_algorithm_t pk = id == EVP_PKEY_RSA ? GNUTLS_PK_RSA
	    : id == EVP_PKEY_EC                       ? GNUTLS_PK_ECDSA
	    : id == EVP_PKEY_ED25519 && sodium_init() >= 0
	    ? GNUTLS_PK_EDDSA_ED25519
	    : GNUTLS_PK_UNKNOWN;
	if (pk == GNUTLS_PK_UNKNOWN) {
		EVP_PKEY_free(pkey);
		return 1; /* not ours to speed up: GnuTLS loads it */
	}
	struct fastkey *k = gnutls_calloc(1, sizeof(*k));
	gnutls_privkey_t priv = NULL;
	if (k == NULL || gnutls_privkey_init(&priv) < 0) {
		gnutls_free(k);
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "out of memory loading %s", path);
		return -1;
	}
	k->pk = pk;
	*signer = pk == GNUTLS_PK_EDDSA_ED25519 ? "libsodium" : "openssl";
	if ((pk == GNUTLS_PK_EDDSA_ED25519 ? ready_libsodium(k, pkey)
	                                   : ready_libcrypto(k, pkey)) != 0) {
		gnutls_privkey_deinit(priv);
		deinit(NULL, k);
		ERR_clear_error();
		snprintf(err, errlen,
		    "%s cannot sign with the key in %s (key_backend = gnutls "
		    "leaves it to GnuTLS)",
		    *signer, path);
		return -1;
	}
	int ret = gnutls_privkey_import_ext4(priv, k, sign_data, sign_hash,
	    NULL, deinit, info, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
	if (ret < 0) {
		gnutls_privkey_deinit(priv);
		deinit(NULL, k);
		snprintf(err, errlen, "cannot wrap the key in %s: %s", path,
		    gnutls_strerror(ret));
		return -1;
	}
	*out = priv;
	return 0;
}
