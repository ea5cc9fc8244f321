/*
 * test_ed25519_verify.c - handoffd's Ed25519 signature checks on
 * libsodium (daemon/ed25519_verify.c): the stand-in for nettle's
 * ed25519_sha512_verify must answer as nettle's own does on every
 * signature made honestly and on every alteration of one, since GnuTLS
 * takes its answer as the truth: RFC 8032's first two vectors; keys from
 * random seeds signing messages of 0 to 1,000 bytes, accepted, and
 * refused with a bit of the message, of R, of S or of the public key
 * changed, or with S + L (S must be below the group order L).  Where
 * the two differ by design, on crafted signatures (a small-order public
 * key and R, which nettle can accept for any message), the stand-in
 * must refuse.  Also that GnuTLS's own checks reach it (its count moves
 * by one each), and that verify_backend = gnutls leaves them to nettle.
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
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <nettle/eddsa.h>
#include <nettle/knuth-lfib.h>

#include "handoffd.h"

typedef int verify_fn(const uint8_t *pub, size_t length, const uint8_t *msg,
    const uint8_t *signature);

/* libhogweed's own ed25519_sha512_verify, which the daemon's hides. */
static verify_fn *
nettle_own(void)
{
	verify_fn *f =
	    (verify_fn *)dlsym(RTLD_NEXT, "nettle_ed25519_sha512_verify");
	assert_non_null(f);
	assert_ptr_not_equal(f, nettle_ed25519_sha512_verify);
	return f;
}

/* The stand-in's answer, which must be nettle's; its count must move
 * by one. */
static int
both(const uint8_t *pub, size_t len, const uint8_t *msg, const uint8_t *sig)
{
	unsigned long long before = ho_ed25519_verify_sodium_checks();
	int ours = nettle_ed25519_sha512_verify(pub, len, msg, sig);
	assert_int_equal(ho_ed25519_verify_sodium_checks() - before, 1);
	int theirs = nettle_own()(pub, len, msg, sig);
	if (ours != theirs)
		fail_msg("message length %zu: the stand-in says %d, nettle %d",
		    len, ours, theirs);
	return ours;
}

static void
from_hex(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
}

static void
setup_done(void **state)
{
	(void)state;
	const char *what = ho_ed25519_verify_setup(1);
	assert_non_null(what);
	assert_string_equal(what, "libsodium");
	assert_ptr_equal(dlsym(RTLD_DEFAULT, "nettle_ed25519_sha512_verify"),
	    (void *)nettle_ed25519_sha512_verify);
}

/* RFC 8032 section 7.1, TEST 1 (the empty message) and TEST 2. */
static void
rfc8032_vectors(void **state)
{
	(void)state;
	assert_non_null(ho_ed25519_verify_setup(1));
	uint8_t pub[32], sig[64], msg[1] = {0x72};
	from_hex("d75a980182b10ab7d54bfed3c964073a"
	         "0ee172f3daa62325af021a68f707511a",
	    pub, 32);
	from_hex("e5564300c360ac729086e2cc806e828a"
	         "84877f1eb8e5d974d873e06522490155"
	         "5fb8821590a33bacc61e39701cf9b46b"
	         "d25bf5f0595bbe24655141438e7a100b",
	    sig, 64);
	assert_int_equal(both(pub, 0, (const uint8_t *)"", sig), 1);
	assert_int_equal(both(pub, 1, msg, sig), 0);
	from_hex("3d4017c3e843895a92b70aa74d1b7ebc"
	         "9c982ccf2ec4968cc0cd55f12af4660c",
	    pub, 32);
	from_hex("92a009a9f0d4cab8720e820b5f642540"
	         "a2b27b5416503f8fb3762223ebdb69da"
	         "085ac1e43e15996e458f3613d0f11d8c"
	         "387b2eaeb4302aeeb00d291612bb0c00",
	    sig, 64);
	assert_int_equal(both(pub, 1, msg, sig), 1);
	sig[63] ^= 1;
	assert_int_equal(both(pub, 1, msg, sig), 0);
}

/* Adds the group order L to the little-endian S of sig (S < L before, so
 * S + L < 2^253 fits). */
static void
add_order(uint8_t sig[64])
{
	static const uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63,
	    0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
	unsigned carry = 0;
	for (int i = 0; i < 32; i++) {
		carry += (unsigned)sig[32 + i] + order[i];
		sig[32 + i] = (uint8_t)carry;
		carry >>= 8;
	}
}

/* Keys from random seeds, messages of many lengths, each signature
 * accepted as made and refused altered, by both. */
static void
random_signatures(void **state)
{
	(void)state;
	assert_non_null(ho_ed25519_verify_setup(1));
	static const size_t lengths[] = {0, 1, 63, 64, 100, 1000};
	struct knuth_lfib_ctx rnd;
	knuth_lfib_init(&rnd, 8032);
	int accepted = 0, refused = 0;
	for (int k = 0; k < 60; k++) {
		uint8_t seed[32], pub[32], sig[64], msg[1000];
		knuth_lfib_random(&rnd, sizeof(seed), seed);
		ed25519_sha512_public_key(pub, seed);
		for (size_t l = 0; l < sizeof(lengths) / sizeof(*lengths);
		     l++) {
			size_t len = lengths[l];
			knuth_lfib_random(&rnd, sizeof(msg), msg);
			ed25519_sha512_sign(pub, seed, len, msg, sig);
			accepted += both(pub, len, msg, sig);
			if (len > 0) {
				msg[(size_t)k % len] ^= 0x20;
				refused += !both(pub, len, msg, sig);
				msg[(size_t)k % len] ^= 0x20;
			}
			sig[k % 32] ^= 1; /* R */
			refused += !both(pub, len, msg, sig);
			sig[k % 32] ^= 1;
			sig[32 + k % 31] ^= 4; /* S, below its top byte */
			refused += !both(pub, len, msg, sig);
			sig[32 + k % 31] ^= 4;
			pub[k % 32] ^= 8;
			refused += !both(pub, len, msg, sig);
			pub[k % 32] ^= 8;
			add_order(sig); /* the same S modulo L */
			refused += !both(pub, len, msg, sig);
		}
	}
	assert_int_equal(accepted, 60 * 6);
	/* Four alterations of each, and the message for five lengths. */
	assert_int_equal(refused, 60 * (6 * 4 + 5));
}

/* Crafted signatures nettle can accept and libsodium refuses: a public
 * key of small order (the neutral point, y = 1) with R the neutral
 * point too and S = 0 makes h*A + R - S*B the neutral point for any
 * message. */
static void
small_order_refused(void **state)
{
	(void)state;
	assert_non_null(ho_ed25519_verify_setup(1));
	uint8_t pub[32] = {1}, sig[64] = {1};
	const uint8_t msg[] = "any message at all";
	int theirs = nettle_own()(pub, sizeof(msg), msg, sig);
	unsigned long long before = ho_ed25519_verify_sodium_checks();
	assert_int_equal(
	    nettle_ed25519_sha512_verify(pub, sizeof(msg), msg, sig), 0);
	assert_int_equal(ho_ed25519_verify_sodium_checks() - before, 1);
	print_message("nettle's own says %d to the neutral point's "
	              "\"signature\"; the stand-in refuses it\n",
	    theirs);
}

/* An Ed25519 key made by GnuTLS, and its signature over msg. */
static void
gnutls_signed(gnutls_pubkey_t *pub, gnutls_datum_t *msg, gnutls_datum_t *sig)
{
	gnutls_privkey_t key;
	assert_int_equal(gnutls_privkey_init(&key), 0);
	assert_int_equal(
	    gnutls_privkey_generate(key, GNUTLS_PK_EDDSA_ED25519, 256, 0), 0);
	assert_int_equal(gnutls_pubkey_init(pub), 0);
	assert_int_equal(gnutls_pubkey_import_privkey(*pub, key, 0, 0), 0);
	assert_int_equal(gnutls_privkey_sign_data2(
	                     key, GNUTLS_SIGN_EDDSA_ED25519, 0, msg, sig),
	    0);
	gnutls_privkey_deinit(key);
}

/* GnuTLS's own checks reach the stand-in, or with verify_backend =
 * gnutls nettle's own; right answers both ways. */
static void
through_gnutls(void **state)
{
	(void)state;
	for (int backend = 1; backend >= 0; backend--) {
		assert_non_null(ho_ed25519_verify_setup(backend));
		uint8_t text[] = "handoff's Ed25519 check through GnuTLS";
		gnutls_datum_t msg = {text, sizeof(text)}, sig;
		gnutls_pubkey_t pub;
		gnutls_signed(&pub, &msg, &sig);
		unsigned long long before = ho_ed25519_verify_sodium_checks();
		assert_int_equal(gnutls_pubkey_verify_data2(pub,
		                     GNUTLS_SIGN_EDDSA_ED25519, 0, &msg, &sig),
		    0);
		text[5] ^= 1;
		assert_int_equal(gnutls_pubkey_verify_data2(pub,
		                     GNUTLS_SIGN_EDDSA_ED25519, 0, &msg, &sig),
		    GNUTLS_E_PK_SIG_VERIFY_FAILED);
		assert_int_equal(ho_ed25519_verify_sodium_checks() - before,
		    backend ? 2 : 0);
		gnutls_free(sig.data);
		gnutls_pubkey_deinit(pub);
	}
	assert_string_equal(ho_ed25519_verify_setup(0),
	    "GnuTLS's own, nettle (verify_backend = gnutls)");
	assert_non_null(ho_ed25519_verify_setup(1)); /* as it was */
}

int
main(void)
{
	gnutls_global_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(setup_done),
	    cmocka_unit_test(rfc8032_vectors),
	    cmocka_unit_test(random_signatures),
	    cmocka_unit_test(small_order_refused),
	    cmocka_unit_test(through_gnutls),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	gnutls_global_deinit();
	return failed;
}
