/*
 * test_trust_cache.c - handoffd's cache of callers' CA files
 * (daemon/trust_cache.c): one parse per distinct file, a file that holds
 * no certificate refused, the least recently used file nobody holds
 * making room, and a file that finds every slot held still served, for
 * its session alone.  The certificates are made here (self-signed
 * ECDSA); client_verify.sh checks the same through real handshakes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "handoffd.h"

#define FILES 10 /* more than the cache's 8 slots */

struct ca_file {
	gnutls_datum_t pem;
	uint8_t digest[32];
};

static struct ca_file files[FILES];

/* A self-signed CA certificate, PEM, named by i. */
static void
make_file(int i, struct ca_file *f)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	char cn[32];
	snprintf(cn, sizeof(cn), "trust cache test CA %d", i);
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	        GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	    0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	gnutls_x509_crt_set_version(crt, 3);
	unsigned char serial[1] = {(unsigned char)(i + 1)};
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60);
	gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 3600);
	gnutls_x509_crt_set_dn_by_oid(
	    crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn));
	gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
	gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &f->pem), 0);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, f->pem.data,
	                     f->pem.size, f->digest),
	    0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < FILES; i++)
		make_file(i, &files[i]);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < FILES; i++)
		gnutls_free(files[i].pem.data);
	return 0;
}

static struct ho_trust *
get(struct ho_trust_cache *c, int i, int *parsed)
{
	return ho_trust_get(
	    c, files[i].pem.data, files[i].pem.size, files[i].digest, parsed);
}

/* The trust list holds file i's CA: its own certificate verifies. */
static void
assert_trusts(struct ho_trust *t, int i)
{
	gnutls_x509_crt_t crt;
	unsigned status = 1;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(
	    gnutls_x509_crt_import(crt, &files[i].pem, GNUTLS_X509_FMT_PEM),
	    0);
	assert_int_equal(gnutls_x509_trust_list_verify_crt2(ho_trust_list(t),
	                     &crt, 1, NULL, 0, 0, &status, NULL),
	    0);
	assert_int_equal(status, 0);
	gnutls_x509_crt_deinit(crt);
}

static void
test_parsed_once(void **state)
{
	(void)state;
	struct ho_trust_cache *c = ho_trust_cache_new();
	int parsed;
	struct ho_trust *a = get(c, 0, &parsed);
	assert_non_null(a);
	assert_int_equal(parsed, 1);
	assert_trusts(a, 0);
	/* Held or given back, the same file is not parsed again. */
	struct ho_trust *b = get(c, 0, &parsed);
	assert_ptr_equal(a, b);
	assert_int_equal(parsed, 0);
	ho_trust_release(c, a);
	ho_trust_release(c, b);
	b = get(c, 0, &parsed);
	assert_ptr_equal(a, b);
	assert_int_equal(parsed, 0);
	ho_trust_release(c, b);
	/* Another file is its own. */
	b = get(c, 1, &parsed);
	assert_int_equal(parsed, 1);
	assert_ptr_not_equal(a, b);
	assert_trusts(b, 1);
	ho_trust_release(c, b);
	ho_trust_cache_free(c);
}

static void
test_no_certificate(void **state)
{
	(void)state;
	struct ho_trust_cache *c = ho_trust_cache_new();
	static const char junk[] = "not a certificate\n";
	uint8_t digest[32];
	int parsed = 1;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, junk, sizeof(junk), digest);
	assert_null(ho_trust_get(
	    c, (const uint8_t *)junk, sizeof(junk), digest, &parsed));
	assert_int_equal(parsed, 0);
	/* Nothing was kept for it: refused again, not served. */
	assert_null(ho_trust_get(
	    c, (const uint8_t *)junk, sizeof(junk), digest, &parsed));
	ho_trust_cache_free(c);
}

static void
test_least_recently_used_goes(void **state)
{
	(void)state;
	struct ho_trust_cache *c = ho_trust_cache_new();
	int parsed;
	/* Files 0-7 fill the slots, file 0 is then used again: file 1 is
	 * the least recently used when file 8 comes. */
	for (int i = 0; i < 8; i++)
		ho_trust_release(c, get(c, i, &parsed));
	ho_trust_release(c, get(c, 0, &parsed));
	assert_int_equal(parsed, 0);
	ho_trust_release(c, get(c, 8, &parsed));
	assert_int_equal(parsed, 1);
	ho_trust_release(c, get(c, 0, &parsed));
	assert_int_equal(parsed, 0); /* kept */
	ho_trust_release(c, get(c, 1, &parsed));
	assert_int_equal(parsed, 1); /* made room, parsed anew */
	ho_trust_cache_free(c);
}

static void
test_every_slot_held(void **state)
{
	(void)state;
	struct ho_trust_cache *c = ho_trust_cache_new();
	struct ho_trust *held[8];
	int parsed;
	for (int i = 0; i < 8; i++)
		held[i] = get(c, i, &parsed);
	/* No slot may go: file 9 is served, for this session alone. */
	struct ho_trust *alone = get(c, 9, &parsed);
	assert_non_null(alone);
	assert_int_equal(parsed, 1);
	assert_trusts(alone, 9);
	struct ho_trust *again = get(c, 9, &parsed);
	assert_int_equal(parsed, 1);
	assert_ptr_not_equal(alone, again);
	ho_trust_release(c, alone); /* freed here (ASan, valgrind) */
	ho_trust_release(c, again);
	for (int i = 0; i < 8; i++) {
		assert_trusts(held[i], i); /* none was freed under its user */
		ho_trust_release(c, held[i]);
	}
	ho_trust_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parsed_once),
	    cmocka_unit_test(test_no_certificate),
	    cmocka_unit_test(test_least_recently_used_goes),
	    cmocka_unit_test(test_every_slot_held),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
