/*
 * fastkey.c - private keys from files, signing through OpenSSL's
 * libcrypto inside GnuTLS sessions.
 *
 * GnuTLS's own RSA signing is several times slower than libcrypto's on
 * this kind of machine (RSA-2048: 709/s against 3,354/s per core, ECDSA
 * P-256: 23k/s against 49k/s; see DESIGN.md), and signing is most of a
 * full handshake's server-side cost.  gnutls_privkey_import_ext4() lets a
 * GnuTLS session sign through callbacks, so the key is read once with
 * libcrypto and every signature is made there; the handshake itself stays
 * GnuTLS's.  Ed25519 stays with GnuTLS, which is faster at it, and so does
 * a key whose profile allows RSA key transport (its PKCS#1 v1.5 decryption
 * must not leak timing, and GnuTLS handles that case itself).
 *
 * GnuTLS hands us what to sign: a hash (ECDSA; RSA-PSS; for RSA PKCS#1
 * v1.5 the DigestInfo, as GNUTLS_SIGN_RSA_RAW) or the whole message
 * (EdDSA, not used here).  Every call makes its own EVP_PKEY_CTX, so the
 * workers sign in parallel with one shared, read-only key.
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "handoffd.h"

struct fastkey {
	EVP_PKEY *pkey;
	gnutls_pk_algorithm_t pk;
	int bits;
};

/* The digest a signature algorithm hashes with, NULL if unknown. */
static const EVP_MD *
sign_md(gnutls_sign_algorithm_t algo)
{
	switch (gnutls_sign_get_hash_algorithm(algo)) {
	case GNUTLS_DIG_SHA256: return EVP_sha256();
	case GNUTLS_DIG_SHA384: return EVP_sha384();
	case GNUTLS_DIG_SHA512: return EVP_sha512();
	case GNUTLS_DIG_SHA1: return EVP_sha1();
	default: return NULL;
	}
}

static int
sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
    unsigned int flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	struct fastkey *k = userdata;
	(void)key;
	(void)flags;
	int ret = GNUTLS_E_PK_SIGN_FAILED;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
	size_t len = 0;
	if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0)
		goto out;
	if (k->pk == GNUTLS_PK_RSA) {
		if (algo == GNUTLS_SIGN_RSA_RAW) {
			/* PKCS#1 v1.5 over the DigestInfo GnuTLS built. */
			if (EVP_PKEY_CTX_set_rsa_padding(
			        ctx, RSA_PKCS1_PADDING) <= 0)
				goto out;
		} else if (gnutls_sign_get_pk_algorithm(algo) ==
		    GNUTLS_PK_RSA_PSS) {
			/* TLS 1.3's rsa_pss_rsae_*: salt as long as the hash.
			 */
			const EVP_MD *md = sign_md(algo);
			if (md == NULL ||
			    EVP_PKEY_CTX_set_rsa_padding(
			        ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
			    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
			    EVP_PKEY_CTX_set_rsa_pss_saltlen(
			        ctx, RSA_PSS_SALTLEN_DIGEST) <= 0)
				goto out;
		} else {
			goto out; /* GnuTLS passes PKCS#1 v1.5 as RSA_RAW */
		}
	}
	/* ECDSA signs the hash as given and returns DER, as TLS wants. */
	if (EVP_PKEY_sign(ctx, NULL, &len, hash->data, hash->size) <= 0 ||
	    (sig->data = gnutls_malloc(len)) == NULL)
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
		if (k->pk == GNUTLS_PK_RSA)
			return (pk == GNUTLS_PK_RSA ||
			           pk == GNUTLS_PK_RSA_PSS) &&
			    sign_md(algo) != NULL;
		return pk == k->pk && sign_md(algo) != NULL;
	}
	return -1; /* "don't know", as GnuTLS asks of ext4 keys */
}

static void
deinit(gnutls_privkey_t key, void *userdata)
{
	struct fastkey *k = userdata;
	(void)key;
	EVP_PKEY_free(k->pkey); /* OpenSSL cleanses key material */
	gnutls_free(k);
}

int
ho_fastkey_load(
    const char *path, gnutls_privkey_t *out, char *err, size_t errlen)
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
	gnutls_pk_algorithm_t pk = EVP_PKEY_base_id(pkey) == EVP_PKEY_RSA
	    ? GNUTLS_PK_RSA
	    : EVP_PKEY_base_id(pkey) == EVP_PKEY_EC ? GNUTLS_PK_ECDSA
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
	k->pkey = pkey;
	k->pk = pk;
	k->bits = EVP_PKEY_get_bits(pkey);
	int ret = gnutls_privkey_import_ext4(priv, k, NULL, sign_hash, NULL,
	    deinit, info, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
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
