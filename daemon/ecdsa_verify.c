/*
 * ecdsa_verify.c - handoffd's ECDSA P-256 signature checks on libcrypto.
 *
 * GnuTLS checks every ECDSA signature with nettle's ecdsa_verify(): in a
 * client handshake the server's CertificateVerify and each certificate of
 * its chain, in mutual TLS the client's, and each certificate a caller's
 * handoff_gnutls_verify_chain() sends.  For P-256, the curve nearly every
 * ECDSA certificate uses, nettle takes ~129 us on the reference machine
 * and libcrypto (OpenSSL 3.0's P-256 code) ~75, its key made from
 * nettle's point included.  GnuTLS has no hook for its signature
 * checks (gnutls_crypto_register_* are no-ops since 3.7), so, as
 * x25519.c does for X25519, handoffd defines nettle_ecdsa_verify itself
 * and exports it (daemon/standin.dynlist): libgnutls's calls land here.
 * P-256 keys go to libcrypto; every other curve goes on to nettle's own
 * (P-384, the next most used, is slower in libcrypto 3.0 here: ~590
 * against 331 us).  A check libcrypto cannot make (an allocation failing)
 * also goes on to nettle's, which gives the same answer.  With
 * verify_backend = gnutls every call goes on to nettle's.
 *
 * libcrypto's check goes through its EC_KEY interface, deprecated in
 * OpenSSL 3.0, not through EVP: an EVP key made from a point for each
 * check cost ~12 us more on one thread, and under handoffd's load its
 * provider look-ups (names, properties, locks shared by all threads)
 * cost about what libcrypto's check saved (client handshakes were no
 * cheaper).  An EC_KEY on a P-256 group made once costs ~2 us.
 * tests/unit/test_ecdsa_verify.c holds the answers to nettle's own.
 */
#define _GNU_SOURCE                 /* RTLD_DEFAULT */
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY, ECDSA_do_verify: above */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <gmp.h>
#include <nettle/dsa.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "handoffd.h"

#define P256_BYTES 32

typedef int verify_fn(const struct ecc_point *pub, size_t length,
    const uint8_t *digest, const struct dsa_signature *signature);

static atomic_int libcrypto_ready;
static _Atomic(void *) nettle_own;     /* libhogweed's ecdsa_verify */
static atomic_ullong libcrypto_checks; /* P-256 checks libcrypto made */
/* P-256's group, made once before libcrypto_ready and only read after:
 * each check makes a key of its own on it. */
static EC_GROUP *p256;

static verify_fn *
nettle_verify(void)
{
	return (verify_fn *)ho_nettle_own(
	    &nettle_own, "nettle_ecdsa_verify", NULL);
}

/* v as P256_BYTES big-endian bytes; 0 if it is negative or too long. */
static int
put_be(uint8_t out[P256_BYTES], const mpz_t v)
{
	if (mpz_sgn(v) < 0 || mpz_sizeinbase(v, 2) > 8 * P256_BYTES)
		return 0;
	uint8_t tmp[P256_BYTES];
	size_t n = 0;
	mpz_export(tmp, &n, 1, 1, 1, 0, v); /* writes nothing for 0 */
	memset(out, 0, P256_BYTES);
	memcpy(out + P256_BYTES - n, tmp, n);
	return 1;
}

/* Whether r and s could be in 1..q-1: positive and no longer than q.
 * nettle refuses the others without computing, and so does the
 * stand-in; libcrypto checks the rest of the range itself. */
static int
could_be_in_range(const struct dsa_signature *signature)
{
	return mpz_sgn(signature->r) > 0 && mpz_sgn(signature->s) > 0 &&
	    mpz_sizeinbase(signature->r, 2) <= 8 * P256_BYTES &&
	    mpz_sizeinbase(signature->s, 2) <= 8 * P256_BYTES;
}

/* 1 valid, 0 not, -1 if libcrypto could not check.  r and s could be
 * in range. */
static int
libcrypto_verify(const struct ecc_point *pub, size_t length,
    const uint8_t *digest, const struct dsa_signature *signature)
{
	uint8_t r[P256_BYTES], s[P256_BYTES];
	uint8_t point[1 + 2 * P256_BYTES];
	mpz_t x, y;
	mpz_init(x);
	mpz_init(y);
	ecc_point_get(pub, x, y);
	point[0] = 4; /* uncompressed */
	int ok = put_be(point + 1, x) && put_be(point + 1 + P256_BYTES, y) &&
	    put_be(r, signature->r) && put_be(s, signature->s);
	mpz_clear(x);
	mpz_clear(y);
	if (!ok)
		return -1;

	/* Failures queue errors on this thread: leave its queue as found
	 * for whoever reads it next (fastkey.c's signers). */
	ERR_set_mark();
	int valid = -1;
	EC_KEY *key = EC_KEY_new();
	EC_POINT *q = EC_POINT_new(p256);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r, P256_BYTES, NULL);
	BIGNUM *bs = BN_bin2bn(s, P256_BYTES, NULL);
	if (sig != NULL && br != NULL && bs != NULL &&
	    ECDSA_SIG_set0(sig, br, bs) == 1) {
		br = bs = NULL; /* the signature owns them now */
	} else {
		ECDSA_SIG_free(sig);
		sig = NULL;
	}
	/* A digest longer than the curve's order counts by its leftmost
	 * 256 bits alone in both libraries (FIPS 186-4 6.4): cut here, so
	 * that any length fits libcrypto's int. */
	static const uint8_t none[1];
	if (key != NULL && q != NULL && sig != NULL &&
	    EC_KEY_set_group(key, p256) == 1 &&
	    EC_POINT_oct2point(p256, q, point, sizeof(point), NULL) == 1 &&
	    EC_KEY_set_public_key(key, q) == 1)
		valid = ECDSA_do_verify(digest != NULL ? digest : none,
		    (int)(length < P256_BYTES ? length : P256_BYTES), sig,
		    key);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	EC_POINT_free(q);
	EC_KEY_free(key);
	ERR_pop_to_mark();
	return valid == 1 ? 1 : valid == 0 ? 0 : -1;
}

/* Default visibility: the project builds with hidden, and a hidden
 * symbol cannot be exported. */
__attribute__((visibility("default"))) int
nettle_ecdsa_verify(const struct ecc_point *pub, size_t length,
    const uint8_t *digest, const struct dsa_signature *signature)
{
	if (atomic_load_explicit(&libcrypto_ready, memory_order_acquire) &&
	    pub->ecc == nettle_get_secp_256r1()) {
		if (!could_be_in_range(signature))
			return 0;
		int valid = libcrypto_verify(pub, length, digest, signature);
		if (valid >= 0) {
			atomic_fetch_add_explicit(
			    &libcrypto_checks, 1, memory_order_relaxed);
			return valid;
		}
	}
	return nettle_verify()(pub, length, digest, signature);
}

/* mpz from big-endian bytes. */
static void
get_be(mpz_t v, const uint8_t *in, size_t n)
{
	mpz_import(v, n, 1, 1, 1, 0, in);
}

/* Whether both checks, libcrypto's and nettle's own, accept a signature
 * libcrypto made and refuse it on a digest one bit off. */
static int
agrees_with_nettle(void)
{
	uint8_t digest[P256_BYTES], point[1 + 2 * P256_BYTES], der[80];
	for (int i = 0; i < P256_BYTES; i++)
		digest[i] = (uint8_t)(i * 29 + 3);
	size_t pointlen = 0, derlen = sizeof(der);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	EVP_PKEY_CTX *ctx = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	int made = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
	    EVP_PKEY_sign(ctx, der, &derlen, digest, sizeof(digest)) == 1 &&
	    EVP_PKEY_get_octet_string_param(key,
	        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point),
	        &pointlen) == 1 &&
	    pointlen == sizeof(point);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	const uint8_t *p = der;
	ECDSA_SIG *sig = made ? d2i_ECDSA_SIG(NULL, &p, (long)derlen) : NULL;
	if (sig == NULL)
		return 0;
	uint8_t r[P256_BYTES], s[P256_BYTES];
	made = BN_bn2binpad(ECDSA_SIG_get0_r(sig), r, P256_BYTES) > 0 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), s, P256_BYTES) > 0;
	ECDSA_SIG_free(sig);

	struct ecc_point pub;
	struct dsa_signature signature;
	mpz_t x, y;
	mpz_init(x);
	mpz_init(y);
	get_be(x, point + 1, P256_BYTES);
	get_be(y, point + 1 + P256_BYTES, P256_BYTES);
	ecc_point_init(&pub, nettle_get_secp_256r1());
	dsa_signature_init(&signature);
	get_be(signature.r, r, P256_BYTES);
	get_be(signature.s, s, P256_BYTES);
	int agree = made && ecc_point_set(&pub, x, y) &&
	    libcrypto_verify(&pub, sizeof(digest), digest, &signature) == 1 &&
	    nettle_verify()(&pub, sizeof(digest), digest, &signature) == 1;
	digest[7] ^= 0x10;
	agree = agree &&
	    libcrypto_verify(&pub, sizeof(digest), digest, &signature) == 0 &&
	    nettle_verify()(&pub, sizeof(digest), digest, &signature) == 0;
	dsa_signature_clear(&signature);
	ecc_point_clear(&pub);
	mpz_clear(x);
	mpz_clear(y);
	ERR_clear_error();
	return agree;
}

const char *
ho_ecdsa_verify_setup(int use_libcrypto)
{
	/* Without nettle's own, nothing to pass calls on to. */
	if (nettle_verify() == NULL)
		return NULL;
	if (!use_libcrypto) {
		atomic_store_explicit(
		    &libcrypto_ready, 0, memory_order_release);
		return "GnuTLS's own, nettle (verify_backend = gnutls)";
	}
	/* The export (standin.dynlist) is what makes libgnutls call the
	 * function above: without it this file would be dead code. */
	if (dlsym(RTLD_DEFAULT, "nettle_ecdsa_verify") !=
	    (void *)nettle_ecdsa_verify)
		return "GnuTLS's own, nettle (handoffd was linked without "
		       "exporting its nettle_ecdsa_verify)";
	if (p256 == NULL) {
		p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
		ERR_clear_error();
	}
	if (p256 == NULL)
		return "GnuTLS's own, nettle (libcrypto has no P-256)";
	if (!agrees_with_nettle())
		return "GnuTLS's own, nettle (libcrypto's check of a P-256 "
		       "signature differed from nettle's: rebuild handoffd "
		       "against this libcrypto and libhogweed)";
	atomic_store_explicit(&libcrypto_ready, 1, memory_order_release);
	return "libcrypto for P-256, GnuTLS's own (nettle) for other curves";
}

unsigned long long
ho_ecdsa_verify_libcrypto_checks(void)
{
	return atomic_load_explicit(&libcrypto_checks, memory_order_relaxed);
}
