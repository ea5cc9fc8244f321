/*
 * test_sha512.c - handoffd's SHA-384/512 blocks on libcrypto
 * (daemon/sha512.c): with the stand-in for nettle's internal block
 * function in place, every digest nettle's API gives (SHA-384, SHA-512,
 * SHA-512/256; whole or in pieces; every length around the block size;
 * HMAC-SHA384 as GnuTLS's HKDF uses it) must be libcrypto's own, since
 * GnuTLS cannot tell them apart.  Also that the export is in effect
 * under nettle's internal version (libnettle's calls reach the stand-in:
 * setup says "libcrypto" only if they did), and that before setup and
 * with hash_backend = gnutls the calls go to nettle's own function.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT, dlvsym */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "handoffd.h"

static uint8_t msg[20000];

/* nettle's digest `which` (384, 512, or 256 for SHA-512/256) of len
 * bytes of msg, fed in pieces of `piece` bytes. */
static void
nettle_digest(int which, size_t len, size_t piece, uint8_t *out)
{
	struct sha512_ctx c;
	if (which == 384)
		sha384_init(&c);
	else if (which == 512)
		sha512_init(&c);
	else
		sha512_256_init(&c);
	for (size_t off = 0; off < len; off += piece)
		sha512_update(
		    &c, len - off < piece ? len - off : piece, msg + off);
	if (which == 384)
		sha384_digest(&c, SHA384_DIGEST_SIZE, out);
	else if (which == 512)
		sha512_digest(&c, SHA512_DIGEST_SIZE, out);
	else
		sha512_256_digest(&c, SHA512_256_DIGEST_SIZE, out);
}

static void
assert_same_digests(size_t len, size_t piece)
{
	static const struct {
		int which;
		size_t size;
		const char *evp;
	} kinds[] = {
	    {384, 48, "SHA384"}, {512, 64, "SHA512"}, {256, 32, "SHA512-256"}};
	for (size_t i = 0; i < 3; i++) {
		uint8_t got[64], want[64];
		unsigned n;
		nettle_digest(kinds[i].which, len, piece, got);
		EVP_MD *md = EVP_MD_fetch(NULL, kinds[i].evp, NULL);
		assert_non_null(md);
		assert_int_equal(EVP_Digest(msg, len, want, &n, md, NULL), 1);
		EVP_MD_free(md);
		if (memcmp(got, want, kinds[i].size) != 0)
			fail_msg(
			    "SHA-%d of %zu bytes in pieces of %zu differs "
			    "from libcrypto's",
			    kinds[i].which, len, piece);
	}
}

static int
fill_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 131 + (i >> 8));
	return 0;
}

static void
before_setup_nettle_computes(void **state)
{
	(void)state;
	assert_same_digests(3, 3);
	assert_same_digests(1000, 1000);
}

static void
setup_done(void **state)
{
	(void)state;
	const char *what = ho_sha512_setup(1);
	assert_non_null(what);
	assert_string_equal(what, "libcrypto");
	/* What libnettle's versioned call resolves to. */
	assert_ptr_equal(dlvsym(RTLD_DEFAULT, "_nettle_sha512_compress",
	                     "NETTLE_INTERNAL_8_6"),
	    (void *)_nettle_sha512_compress);
}

/* Every length from empty to past four blocks, whole and in pieces
 * that straddle the 128-byte blocks; then long messages. */
static void
digests_match_libcrypto(void **state)
{
	(void)state;
	for (size_t len = 0; len <= 600; len++) {
		assert_same_digests(len, len > 0 ? len : 1);
		assert_same_digests(len, 7);
		assert_same_digests(len, 127);
	}
	assert_same_digests(sizeof(msg), sizeof(msg));
	assert_same_digests(sizeof(msg), 1000);
	assert_same_digests(16384, 129);
}

/* HMAC-SHA384 as GnuTLS's HKDF makes it: a new key for each label. */
static void
hmac_sha384_matches_libcrypto(void **state)
{
	(void)state;
	for (size_t klen = 0; klen <= 200; klen += 25) {
		for (size_t len = 0; len <= 300; len += 61) {
			struct hmac_sha384_ctx c;
			uint8_t got[SHA384_DIGEST_SIZE], want[64];
			unsigned n;
			hmac_sha384_set_key(&c, klen, msg + 5000);
			hmac_sha384_update(&c, len, msg);
			hmac_sha384_digest(&c, sizeof(got), got);
			assert_non_null(HMAC(EVP_sha384(), msg + 5000,
			    (int)klen, msg, len, want, &n));
			assert_int_equal(n, SHA384_DIGEST_SIZE);
			assert_memory_equal(got, want, SHA384_DIGEST_SIZE);
		}
	}
}

/* hash_backend = gnutls: named, and nettle's own function computes. */
static void
gnutls_backend_passes_calls_on(void **state)
{
	(void)state;
	const char *what = ho_sha512_setup(0);
	assert_non_null(what);
	assert_string_equal(
	    what, "GnuTLS's own, nettle (hash_backend = gnutls)");
	assert_same_digests(3, 3);
	assert_same_digests(5000, 300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(before_setup_nettle_computes),
	    cmocka_unit_test(setup_done),
	    cmocka_unit_test(digests_match_libcrypto),
	    cmocka_unit_test(hmac_sha384_matches_libcrypto),
	    cmocka_unit_test(gnutls_backend_passes_calls_on),
	};
	return cmocka_run_group_tests(tests, fill_message, NULL);
}
