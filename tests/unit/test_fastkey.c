/*
 * test_fastkey.c - handoffd's keys that sign through libcrypto and
 * libsodium (daemon/fastkey.c).  Each RSA or ECDSA key keeps one ready
 * signing context per way it signs and every signature starts from a
 * copy of it, so these tests check what a shared, reused context could
 * get wrong: every way a TLS handshake asks for (ECDSA with each hash,
 * RSA-PSS with SHA-256/384/512, PKCS#1 v1.5) gives a signature GnuTLS
 * verifies with the public key, and not over other data; PKCS#1 v1.5,
 * which is deterministic, gives the very bytes GnuTLS's own signer gives;
 * ECDSA signatures from the same context differ (a fresh nonce each
 * time); and two threads signing with one key at once both get valid
 * signatures.  Ed25519, signed by libsodium from the key's seed, is
 * deterministic too: its bytes must be GnuTLS's.  Keys are made at run
 * time in a temporary folder, never kept.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "handoffd.h"

static char tmpdir[] = "/tmp/handoff-fastkey.XXXXXX";
static char ec_path[128], rsa_path[128], ed_path[128], ed448_path[128];
/* GnuTLS's own copies of the RSA and Ed25519 keys, for the expected
 * bytes of their deterministic signatures. */
static gnutls_privkey_t rsa_gnutls, ed_gnutls;
/* The public keys, from GnuTLS's copies (a key wrapped with
 * gnutls_privkey_import_ext4 has none to give). */
static gnutls_pubkey_t ec_pub, rsa_pub, ed_pub;

/* A new key of kind pk written as PKCS#8 PEM to path; returned in
 * GnuTLS's own form too when own is not NULL. */
static void
make_key(gnutls_pk_algorithm_t pk, unsigned bits, const char *path,
    gnutls_privkey_t *own)
{
	gnutls_x509_privkey_t x;
	assert_int_equal(gnutls_x509_privkey_init(&x), 0);
	assert_int_equal(gnutls_x509_privkey_generate(x, pk, bits, 0), 0);
	gnutls_datum_t pem;
	assert_int_equal(
	    gnutls_x509_privkey_export2_pkcs8(
	        x, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &pem),
	    0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(pem.data, 1, pem.size, f), pem.size);
	assert_int_equal(fclose(f), 0);
	gnutls_free(pem.data);
	if (own != NULL) {
		assert_int_equal(gnutls_privkey_init(own), 0);
		assert_int_equal(gnutls_privkey_import_x509(
		                     *own, x, GNUTLS_PRIVKEY_IMPORT_COPY),
		    0);
	}
	gnutls_x509_privkey_deinit(x);
}

static int
make_keys(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(ec_path, sizeof(ec_path), "%s/ec.pem", tmpdir);
	snprintf(rsa_path, sizeof(rsa_path), "%s/rsa.pem", tmpdir);
	snprintf(ed_path, sizeof(ed_path), "%s/ed25519.pem", tmpdir);
	snprintf(ed448_path, sizeof(ed448_path), "%s/ed448.pem", tmpdir);
	gnutls_privkey_t ec_gnutls;
	make_key(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), ec_path,
	    &ec_gnutls);
	make_key(GNUTLS_PK_RSA, 2048, rsa_path, &rsa_gnutls);
	make_key(GNUTLS_PK_EDDSA_ED25519,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519), ed_path,
	    &ed_gnutls);
	make_key(GNUTLS_PK_EDDSA_ED448,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED448), ed448_path, NULL);
	int bad = gnutls_pubkey_init(&ec_pub) < 0 ||
	    gnutls_pubkey_import_privkey(ec_pub, ec_gnutls, 0, 0) < 0 ||
	    gnutls_pubkey_init(&rsa_pub) < 0 ||
	    gnutls_pubkey_import_privkey(rsa_pub, rsa_gnutls, 0, 0) < 0 ||
	    gnutls_pubkey_init(&ed_pub) < 0 ||
	    gnutls_pubkey_import_privkey(ed_pub, ed_gnutls, 0, 0) < 0;
	gnutls_privkey_deinit(ec_gnutls);
	return bad ? -1 : 0;
}

static int
remove_keys(void **state)
{
	(void)state;
	gnutls_privkey_deinit(rsa_gnutls);
	gnutls_privkey_deinit(ed_gnutls);
	gnutls_pubkey_deinit(ed_pub);
	unlink(ed448_path);
	gnutls_pubkey_deinit(ec_pub);
	gnutls_pubkey_deinit(rsa_pub);
	unlink(ec_path);
	unlink(rsa_path);
	unlink(ed_path);
	return rmdir(tmpdir);
}

/* The key at path as handoffd loads it, signed by `signer`. */
static gnutls_privkey_t
load_by(const char *path, const char *signer)
{
	gnutls_privkey_t key = NULL;
	const char *by = NULL;
	char err[256] = "";
	int r = ho_fastkey_load(path, &key, &by, err, sizeof(err));
	if (r != 0)
		fail_msg("ho_fastkey_load(%s) = %d: %s", path, r, err);
	assert_string_equal(by, signer);
	return key;
}

static gnutls_privkey_t
load(const char *path)
{
	return load_by(path, "openssl");
}

/* Signs text with algo and checks the signature verifies with pub, and
 * not over other text; the signature is returned (gnutls_free it). */
static gnutls_datum_t
sign_and_verify(gnutls_privkey_t key, gnutls_pubkey_t pub,
    gnutls_sign_algorithm_t algo, const char *text)
{
	gnutls_datum_t data = {(unsigned char *)text, (unsigned)strlen(text)};
	gnutls_datum_t sig = {NULL, 0};
	int r = gnutls_privkey_sign_data2(key, algo, 0, &data, &sig);
	if (r < 0)
		fail_msg("signing with %s: %s", gnutls_sign_get_name(algo),
		    gnutls_strerror(r));
	r = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig);
	if (r < 0)
		fail_msg("a %s signature does not verify: %s",
		    gnutls_sign_get_name(algo), gnutls_strerror(r));
	char other[64];
	snprintf(other, sizeof(other), "%s!", text);
	gnutls_datum_t changed = {
	    (unsigned char *)other, (unsigned)strlen(other)};
	assert_int_equal(
	    gnutls_pubkey_verify_data2(pub, algo, 0, &changed, &sig),
	    GNUTLS_E_PK_SIG_VERIFY_FAILED);
	return sig;
}

static void
ecdsa_signs_with_each_hash(void **state)
{
	(void)state;
	gnutls_privkey_t key = load(ec_path);
	static const gnutls_sign_algorithm_t algos[] = {
	    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, GNUTLS_SIGN_ECDSA_SHA256,
	    GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_SIGN_ECDSA_SHA512};
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		gnutls_datum_t sig =
		    sign_and_verify(key, ec_pub, algos[i], "ecdsa, each hash");
		gnutls_free(sig.data);
	}
	gnutls_privkey_deinit(key);
}

/* The same ready context, used again: a fresh nonce every time. */
static void
ecdsa_signatures_differ(void **state)
{
	(void)state;
	gnutls_privkey_t key = load(ec_path);
	gnutls_datum_t a = sign_and_verify(key, ec_pub,
	    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, "the same message");
	gnutls_datum_t b = sign_and_verify(key, ec_pub,
	    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, "the same message");
	assert_false(a.size == b.size && memcmp(a.data, b.data, a.size) == 0);
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_privkey_deinit(key);
}

static void
rsa_pss_signs_with_each_hash(void **state)
{
	(void)state;
	gnutls_privkey_t key = load(rsa_path);
	static const gnutls_sign_algorithm_t algos[] = {
	    GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, GNUTLS_SIGN_RSA_PSS_RSAE_SHA384,
	    GNUTLS_SIGN_RSA_PSS_RSAE_SHA512};
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		/* Twice: the second starts from the context the first
		 * copied. */
		for (int round = 0; round < 2; round++) {
			gnutls_datum_t sig =
			    sign_and_verify(key, rsa_pub, algos[i], "rsa-pss");
			assert_int_equal(sig.size, 256);
			gnutls_free(sig.data);
		}
	}
	gnutls_privkey_deinit(key);
}

/* PKCS#1 v1.5 is deterministic: libcrypto's bytes must be GnuTLS's. */
static void
rsa_pkcs1_matches_gnutls(void **state)
{
	(void)state;
	gnutls_privkey_t key = load(rsa_path);
	static const gnutls_sign_algorithm_t algos[] = {
	    GNUTLS_SIGN_RSA_SHA256, GNUTLS_SIGN_RSA_SHA384};
	const char *text = "pkcs#1 v1.5";
	gnutls_datum_t data = {(unsigned char *)text, (unsigned)strlen(text)};
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		gnutls_datum_t ours =
		    sign_and_verify(key, rsa_pub, algos[i], text);
		gnutls_datum_t theirs = {NULL, 0};
		assert_int_equal(gnutls_privkey_sign_data2(
		                     rsa_gnutls, algos[i], 0, &data, &theirs),
		    0);
		assert_int_equal(ours.size, theirs.size);
		assert_memory_equal(ours.data, theirs.data, ours.size);
		gnutls_free(ours.data);
		gnutls_free(theirs.data);
	}
	gnutls_privkey_deinit(key);
}

struct signer {
	gnutls_privkey_t key;
	gnutls_pubkey_t pub;
	int verified; /* signatures that verified */
};

enum { SIGNATURES_PER_THREAD = 200 };

static void *
sign_many(void *arg)
{
	struct signer *s = arg;
	unsigned char text[32];
	for (int i = 0; i < SIGNATURES_PER_THREAD; i++) {
		memset(text, i, sizeof(text));
		gnutls_datum_t data = {text, sizeof(text)}, sig = {NULL, 0};
		if (gnutls_privkey_sign_data2(s->key,
		        GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &data,
		        &sig) == 0 &&
		    gnutls_pubkey_verify_data2(s->pub,
		        GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &data,
		        &sig) >= 0)
			s->verified++;
		gnutls_free(sig.data);
	}
	return NULL;
}

/* handoffd's workers share each key: two threads sign at once. */
static void
two_threads_share_a_key(void **state)
{
	(void)state;
	gnutls_privkey_t key = load(ec_path);
	struct signer s[2] = {{key, ec_pub, 0}, {key, ec_pub, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, sign_many, &s[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(s[0].verified, SIGNATURES_PER_THREAD);
	assert_int_equal(s[1].verified, SIGNATURES_PER_THREAD);
	gnutls_privkey_deinit(key);
}

/* Ed25519 is deterministic: libsodium's bytes must be GnuTLS's, for
 * short and long messages (a TLS 1.3 CertificateVerify signs ~130
 * bytes; key-only callers may send more). */
static void
ed25519_matches_gnutls(void **state)
{
	(void)state;
	gnutls_privkey_t key = load_by(ed_path, "libsodium");
	static char text[3000];
	for (size_t i = 0; i + 1 < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	size_t lengths[] = {1, 130, sizeof(text) - 1};
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		text[lengths[i]] = '\0';
		gnutls_datum_t ours = sign_and_verify(
		    key, ed_pub, GNUTLS_SIGN_EDDSA_ED25519, text);
		gnutls_datum_t data = {
		    (unsigned char *)text, (unsigned)lengths[i]};
		gnutls_datum_t theirs = {NULL, 0};
		assert_int_equal(
		    gnutls_privkey_sign_data2(ed_gnutls,
		        GNUTLS_SIGN_EDDSA_ED25519, 0, &data, &theirs),
		    0);
		assert_int_equal(ours.size, 64);
		assert_int_equal(theirs.size, 64);
		assert_memory_equal(ours.data, theirs.data, 64);
		gnutls_free(ours.data);
		gnutls_free(theirs.data);
		text[lengths[i]] = 'x';
	}
	/* It signs nothing else. */
	const char *t = "not ecdsa";
	gnutls_datum_t data = {(unsigned char *)t, (unsigned)strlen(t)};
	gnutls_datum_t sig = {NULL, 0};
	assert_true(
	    gnutls_privkey_sign_data2(
	        key, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &data, &sig) < 0);
	gnutls_privkey_deinit(key);
}

/* A kind neither library signs faster (Ed448) is left to GnuTLS; a
 * missing file is named. */
static void
other_kinds_and_missing_files(void **state)
{
	(void)state;
	gnutls_privkey_t key = NULL;
	const char *by = NULL;
	char err[256] = "";
	assert_int_equal(
	    ho_fastkey_load(ed448_path, &key, &by, err, sizeof(err)), 1);
	assert_null(key);
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/absent.pem", tmpdir);
	assert_int_equal(
	    ho_fastkey_load(missing, &key, &by, err, sizeof(err)), -1);
	assert_null(key);
	assert_non_null(strstr(err, missing));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ecdsa_signs_with_each_hash),
	    cmocka_unit_test(ecdsa_signatures_differ),
	    cmocka_unit_test(rsa_pss_signs_with_each_hash),
	    cmocka_unit_test(rsa_pkcs1_matches_gnutls),
	    cmocka_unit_test(two_threads_share_a_key),
	    cmocka_unit_test(ed25519_matches_gnutls),
	    cmocka_unit_test(other_kinds_and_missing_files),
	};
	return cmocka_run_group_tests(tests, make_keys, remove_keys);
}
