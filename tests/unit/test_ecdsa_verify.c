/*
 * test_ecdsa_verify.c - handoffd's ECDSA P-256 signature checks on
 * libcrypto (daemon/ecdsa_verify.c): the function that stands in for
 * nettle's ecdsa_verify must answer as nettle's own does, since GnuTLS
 * takes its answer as the truth about a certificate or a handshake.
 * Checked on RFC 6979's P-256 vector, on signatures nettle makes with
 * random keys over digests of every length TLS uses and some it does not
 * (cut to 256 bits by both), on each of them altered (a digest bit, r, s,
 * r and s swapped, s negated modulo the order, which ECDSA accepts), on
 * r and s at and beyond the edges of 1..q-1 (zero, negative, q, 2^256,
 * longer), and through GnuTLS's own API.  Also that the export is in
 * effect (a lookup by name finds this function, and GnuTLS's checks move
 * its count), that other curves and verify_backend = gnutls go on to
 * nettle's own, and that the count moves only when libcrypto checked.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT, RTLD_NEXT */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <gmp.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <nettle/dsa.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <nettle/knuth-lfib.h>

#include "handoffd.h"

typedef int verify_fn(const struct ecc_point *pub, size_t length,
    const uint8_t *digest, const struct dsa_signature *signature);

/* P-256's group order. */
static const char P256_ORDER[] =
    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

/* libhogweed's own ecdsa_verify, which the daemon's hides. */
static verify_fn *
nettle_own(void)
{
	verify_fn *f = (verify_fn *)dlsym(RTLD_NEXT, "nettle_ecdsa_verify");
	assert_non_null(f);
	assert_ptr_not_equal(f, nettle_ecdsa_verify);
	return f;
}

/* Both checks' answer, which must be the same; the stand-in's count
 * must move by one exactly when `counted`. */
static int
both(const struct ecc_point *pub, size_t len, const uint8_t *digest,
    const struct dsa_signature *sig, int counted)
{
	unsigned long long before = ho_ecdsa_verify_libcrypto_checks();
	int ours = nettle_ecdsa_verify(pub, len, digest, sig);
	unsigned long long after = ho_ecdsa_verify_libcrypto_checks();
	int theirs = nettle_own()(pub, len, digest, sig);
	if (ours != theirs)
		fail_msg("digest length %zu: the stand-in says %d, nettle %d",
		    len, ours, theirs);
	assert_int_equal(after - before, counted ? 1 : 0);
	return ours;
}

static void
setup_done(void **state)
{
	(void)state;
	const char *what = ho_ecdsa_verify_setup(1);
	assert_non_null(what);
	assert_string_equal(what,
	    "libcrypto for P-256, GnuTLS's own (nettle) for other curves");
	assert_ptr_equal(dlsym(RTLD_DEFAULT, "nettle_ecdsa_verify"),
	    (void *)nettle_ecdsa_verify);
}

/* RFC 6979 A.2.5: P-256, SHA-256, message "sample". */
static void
rfc6979_vector(void **state)
{
	(void)state;
	assert_non_null(ho_ecdsa_verify_setup(1));
	static const uint8_t digest[32] = {0xaf, 0x2b, 0xdb, 0xe1, 0xaa, 0x9b,
	    0x6e, 0xc1, 0xe2, 0xad, 0xe1, 0xd6, 0x94, 0xf4, 0x1f, 0xc7, 0x1a,
	    0x83, 0x1d, 0x02, 0x68, 0xe9, 0x89, 0x15, 0x62, 0x11, 0x3d, 0x8a,
	    0x62, 0xad, 0xd1, 0xbf};
	mpz_t x, y;
	mpz_init_set_str(x,
	    "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
	    16);
	mpz_init_set_str(y,
	    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
	    16);
	struct ecc_point pub;
	ecc_point_init(&pub, nettle_get_secp_256r1());
	assert_int_equal(ecc_point_set(&pub, x, y), 1);
	struct dsa_signature sig;
	dsa_signature_init(&sig);
	mpz_set_str(sig.r,
	    "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
	    16);
	mpz_set_str(sig.s,
	    "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
	    16);
	assert_int_equal(both(&pub, sizeof(digest), digest, &sig, 1), 1);
	mpz_add_ui(sig.s, sig.s, 1);
	assert_int_equal(both(&pub, sizeof(digest), digest, &sig, 1), 0);
	dsa_signature_clear(&sig);
	ecc_point_clear(&pub);
	mpz_clear(x);
	mpz_clear(y);
}

/* A P-256 key pair made by nettle from rnd. */
static void
new_key(
    struct ecc_point *pub, struct ecc_scalar *key, struct knuth_lfib_ctx *rnd)
{
	ecc_point_init(pub, nettle_get_secp_256r1());
	ecc_scalar_init(key, nettle_get_secp_256r1());
	ecdsa_generate_keypair(
	    pub, key, rnd, (nettle_random_func *)knuth_lfib_random);
}

/* Random keys and digests signed by nettle, and each altered. */
static void
random_signatures(void **state)
{
	(void)state;
	assert_non_null(ho_ecdsa_verify_setup(1));
	static const size_t lengths[] = {32, 0, 1, 20, 31, 33, 48, 64, 100};
	struct knuth_lfib_ctx rnd;
	knuth_lfib_init(&rnd, 6979);
	mpz_t q, t;
	mpz_init_set_str(q, P256_ORDER, 16);
	mpz_init(t);
	int accepted = 0, refused = 0;
	for (int k = 0; k < 40; k++) {
		struct ecc_point pub;
		struct ecc_scalar key;
		new_key(&pub, &key, &rnd);
		for (size_t l = 0; l < sizeof(lengths) / sizeof(*lengths);
		     l++) {
			uint8_t digest[100];
			size_t len = lengths[l];
			knuth_lfib_random(&rnd, sizeof(digest), digest);
			struct dsa_signature sig;
			dsa_signature_init(&sig);
			ecdsa_sign(&key, &rnd,
			    (nettle_random_func *)knuth_lfib_random, len,
			    digest, &sig);
			accepted += both(&pub, len, digest, &sig, 1);
			/* -s mod q: the same signature, ECDSA accepts it */
			mpz_sub(t, q, sig.s);
			mpz_swap(t, sig.s);
			accepted += both(&pub, len, digest, &sig, 1);
			mpz_swap(t, sig.s);
			if (len > 0) {
				/* one bit of the digest the curve keeps */
				size_t byte =
				    (size_t)k % (len < 32 ? len : 32);
				digest[byte] ^= (uint8_t)(1u << (k % 8));
				refused += !both(&pub, len, digest, &sig, 1);
				digest[byte] ^= (uint8_t)(1u << (k % 8));
			}
			if (len > 32) {
				/* past the curve's 256 bits: cut by both */
				digest[len - 1] ^= 1;
				accepted += both(&pub, len, digest, &sig, 1);
				digest[len - 1] ^= 1;
			}
			mpz_add_ui(sig.r, sig.r, 1);
			refused += !both(&pub, len, digest, &sig, 1);
			mpz_sub_ui(sig.r, sig.r, 1);
			mpz_sub_ui(sig.s, sig.s, 1);
			refused += !both(&pub, len, digest, &sig, 1);
			mpz_add_ui(sig.s, sig.s, 1);
			mpz_swap(sig.r, sig.s);
			refused += !both(&pub, len, digest, &sig, 1);
			dsa_signature_clear(&sig);
		}
		ecc_scalar_clear(&key);
		ecc_point_clear(&pub);
	}
	/* Each signature twice (as made and with -s), plus the cut
	 * digests of the four lengths over 32; every alteration refused:
	 * r, s, swapped for all nine lengths, a digest bit for eight. */
	assert_int_equal(accepted, 40 * (9 * 2 + 4));
	assert_int_equal(refused, 40 * (9 * 3 + 8));
	mpz_clear(q);
	mpz_clear(t);
}

/* r and s at and beyond the edges of 1..q-1: every one refused, by
 * both; the valid signature still accepted beside them. */
static void
out_of_range(void **state)
{
	(void)state;
	assert_non_null(ho_ecdsa_verify_setup(1));
	struct knuth_lfib_ctx rnd;
	knuth_lfib_init(&rnd, 7);
	struct ecc_point pub;
	struct ecc_scalar key;
	new_key(&pub, &key, &rnd);
	uint8_t digest[32];
	knuth_lfib_random(&rnd, sizeof(digest), digest);
	struct dsa_signature sig;
	dsa_signature_init(&sig);
	ecdsa_sign(&key, &rnd, (nettle_random_func *)knuth_lfib_random,
	    sizeof(digest), digest, &sig);
	assert_int_equal(both(&pub, sizeof(digest), digest, &sig, 1), 1);

	mpz_t q, edge, keep;
	mpz_init_set_str(q, P256_ORDER, 16);
	mpz_init(edge);
	mpz_init(keep);
	/* Edges: 0, -1, -r (negative, the same magnitude), q, q + r
	 * (r again modulo q), 2^256, 2^256 + r, 2^300. */
	for (int which = 0; which < 2; which++) {
		mpz_t *v = which == 0 ? &sig.r : &sig.s;
		mpz_set(keep, *v);
		for (int e = 0; e < 8; e++) {
			mpz_set_ui(edge, 0);
			if (e == 1)
				mpz_set_si(edge, -1);
			else if (e == 2)
				mpz_neg(edge, keep);
			else if (e == 3)
				mpz_set(edge, q);
			else if (e == 4)
				mpz_add(edge, q, keep);
			else if (e == 5 || e == 6)
				mpz_setbit(edge, 256);
			else if (e == 7)
				mpz_setbit(edge, 300);
			if (e == 6)
				mpz_add(edge, edge, keep);
			mpz_set(*v, edge);
			/* Negative or over 256 bits: refused before
			 * libcrypto, as nettle refuses them, uncounted. */
			int counted = mpz_sgn(edge) > 0 &&
			    mpz_sizeinbase(edge, 2) <= 256;
			if (both(&pub, sizeof(digest), digest, &sig,
			        counted) != 0)
				fail_msg("%s edge %d accepted",
				    which == 0 ? "r" : "s", e);
		}
		mpz_set(*v, keep);
	}
	assert_int_equal(both(&pub, sizeof(digest), digest, &sig, 1), 1);
	mpz_clear(q);
	mpz_clear(edge);
	mpz_clear(keep);
	dsa_signature_clear(&sig);
	ecc_scalar_clear(&key);
	ecc_point_clear(&pub);
}

/* A key on `curve` made by GnuTLS signs a message with `algo`; GnuTLS's
 * own check must accept it and refuse it a bit off, and the stand-in's
 * count must move by `counted` in all. */
static void
check_through_gnutls(
    int curve, gnutls_sign_algorithm_t algo, unsigned long long counted)
{
	gnutls_privkey_t key;
	gnutls_pubkey_t pub;
	uint8_t text[] = "handoff's ECDSA check through GnuTLS";
	gnutls_datum_t msg = {text, sizeof(text)}, sig;
	assert_int_equal(gnutls_privkey_init(&key), 0);
	assert_int_equal(gnutls_privkey_generate(key, GNUTLS_PK_ECDSA,
	                     GNUTLS_CURVE_TO_BITS(curve), 0),
	    0);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_privkey(pub, key, 0, 0), 0);
	assert_int_equal(
	    gnutls_privkey_sign_data2(key, algo, 0, &msg, &sig), 0);
	gnutls_privkey_deinit(key);
	unsigned long long before = ho_ecdsa_verify_libcrypto_checks();
	assert_int_equal(
	    gnutls_pubkey_verify_data2(pub, algo, 0, &msg, &sig), 0);
	text[0] ^= 1;
	assert_int_equal(gnutls_pubkey_verify_data2(pub, algo, 0, &msg, &sig),
	    GNUTLS_E_PK_SIG_VERIFY_FAILED);
	assert_int_equal(ho_ecdsa_verify_libcrypto_checks() - before, counted);
	gnutls_free(sig.data);
	gnutls_pubkey_deinit(pub);
}

/* GnuTLS's own signature checks reach the stand-in for P-256 (the
 * count moves) and get the right answers; P-384's go on to nettle. */
static void
through_gnutls(void **state)
{
	(void)state;
	assert_non_null(ho_ecdsa_verify_setup(1));
	check_through_gnutls(
	    GNUTLS_ECC_CURVE_SECP256R1, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 2);
	check_through_gnutls(
	    GNUTLS_ECC_CURVE_SECP384R1, GNUTLS_SIGN_ECDSA_SECP384R1_SHA384, 0);
}

/* verify_backend = gnutls: named, and nettle's own checks P-256. */
static void
gnutls_backend_passes_calls_on(void **state)
{
	(void)state;
	const char *what = ho_ecdsa_verify_setup(0);
	assert_non_null(what);
	assert_string_equal(
	    what, "GnuTLS's own, nettle (verify_backend = gnutls)");
	check_through_gnutls(
	    GNUTLS_ECC_CURVE_SECP256R1, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0);
	assert_non_null(ho_ecdsa_verify_setup(1)); /* as it was */
}

int
main(void)
{
	gnutls_global_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(setup_done),
	    cmocka_unit_test(rfc6979_vector),
	    cmocka_unit_test(random_signatures),
	    cmocka_unit_test(out_of_range),
	    cmocka_unit_test(through_gnutls),
	    cmocka_unit_test(gnutls_backend_passes_calls_on),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	gnutls_global_deinit();
	return failed;
}
