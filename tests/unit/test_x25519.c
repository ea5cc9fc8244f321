/*
 * test_x25519.c - handoffd's X25519 shared secrets and key shares
 * (daemon/x25519.c, x25519_share.c): the functions that stand in for
 * nettle's curve25519_mul and curve25519_mul_g must return what nettle's
 * own return, byte for byte, since GnuTLS cannot tell them apart: on RFC
 * 7748's vectors (sections 5.2 and 6.1, and the iterated one to 1,000),
 * on the low-order points a hostile peer could send (all zeros, which
 * GnuTLS then refuses), on random inputs, non-canonical and
 * top-bit-set coordinates included, and on the scalars clamping treats
 * at its edges.  It also checks that the exports are in effect: a lookup
 * by name finds these functions, not libhogweed's, and libsodium's counts
 * move with each call.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/curve25519.h>
#include <sodium.h>

#include "../x25519_small_order.h"
#include "handoffd.h"

typedef void mul_fn(uint8_t *q, const uint8_t *n, const uint8_t *p);
typedef void mul_g_fn(uint8_t *q, const uint8_t *n);

/* libhogweed's own curve25519_mul, which the daemon's hides. */
static mul_fn *
nettle_own(void)
{
	mul_fn *f = (mul_fn *)dlsym(RTLD_NEXT, "nettle_curve25519_mul");
	assert_non_null(f);
	assert_ptr_not_equal(f, nettle_curve25519_mul);
	return f;
}

/* libhogweed's own curve25519_mul_g. */
static mul_g_fn *
nettle_own_g(void)
{
	mul_g_fn *f = (mul_g_fn *)dlsym(RTLD_NEXT, "nettle_curve25519_mul_g");
	assert_non_null(f);
	assert_ptr_not_equal(f, nettle_curve25519_mul_g);
	return f;
}

static void
from_hex(const char *hex, uint8_t out[32])
{
	assert_int_equal(strlen(hex), 64);
	for (int i = 0; i < 32; i++)
		assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
}

static void
assert_bytes(const uint8_t *got, const uint8_t *want, const char *what)
{
	if (memcmp(got, want, 32) != 0) {
		char g[65], w[65];
		for (int i = 0; i < 32; i++) {
			snprintf(g + 2 * i, 3, "%02x", got[i]);
			snprintf(w + 2 * i, 3, "%02x", want[i]);
		}
		fail_msg("%s: got %s, want %s", what, g, w);
	}
}

/* Before ho_x25519_setup() (handoffd calls it before any handshake) the
 * stand-in passes the call on to nettle's own, and counts nothing. */
static void
before_setup_nettle_computes(void **state)
{
	(void)state;
	uint8_t n[32], p[32] = {9}, q[32], q_nettle[32];
	randombytes_buf(n, sizeof(n));
	nettle_curve25519_mul(q, n, p);
	nettle_own()(q_nettle, n, p);
	assert_bytes(q, q_nettle, "before setup");
	nettle_curve25519_mul_g(q, n);
	nettle_own_g()(q_nettle, n);
	assert_bytes(q, q_nettle, "a key share before setup");
	assert_int_equal(ho_x25519_sodium_calls(), 0);
	assert_int_equal(ho_x25519_sodium_shares(), 0);
}

static void
setup_done(void **state)
{
	(void)state;
	const char *what = ho_x25519_setup(1);
	assert_non_null(what);
	assert_string_equal(what, "libsodium");
	/* What libgnutls's call resolves to, by the same lookup. */
	assert_ptr_equal(dlsym(RTLD_DEFAULT, "nettle_curve25519_mul"),
	    (void *)nettle_curve25519_mul);
	assert_ptr_equal(dlsym(RTLD_DEFAULT, "nettle_curve25519_mul_g"),
	    (void *)nettle_curve25519_mul_g);
}

/* RFC 7748 5.2: two scalar multiplications, and the iterated one. */
static void
rfc7748_section_5_2(void **state)
{
	(void)state;
	static const struct {
		const char *scalar, *u, *out;
	} v[] = {
	    {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac"
	     "4",
	        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1"
	        "c4c",
	        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28"
	        "552"},
	    {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0"
	     "d",
	        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a"
	        "493",
	        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7"
	        "957"},
	};
	uint8_t n[32], p[32], want[32], q[32];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		from_hex(v[i].scalar, n);
		from_hex(v[i].u, p);
		from_hex(v[i].out, want);
		nettle_curve25519_mul(q, n, p);
		assert_bytes(q, want, "RFC 7748 5.2 vector");
	}

	/* k = u = 9; then k <- f(k, u), u <- old k. */
	uint8_t k[32] = {9}, u[32] = {9}, next[32];
	for (int i = 1; i <= 1000; i++) {
		nettle_curve25519_mul(next, k, u);
		memcpy(u, k, 32);
		memcpy(k, next, 32);
		if (i == 1) {
			from_hex(
			    "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b78"
			    "3c60e80311ae3079",
			    want);
			assert_bytes(k, want, "RFC 7748 5.2, 1 iteration");
		}
	}
	from_hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d"
	         "99532c51",
	    want);
	assert_bytes(k, want, "RFC 7748 5.2, 1,000 iterations");
}

/* RFC 7748 6.1: Alice and Bob reach the same secret. */
static void
rfc7748_section_6_1(void **state)
{
	(void)state;
	uint8_t alice[32], bob_public[32], want[32], q[32];
	from_hex(
	    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    alice);
	from_hex(
	    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    bob_public);
	from_hex(
	    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	    want);
	nettle_curve25519_mul(q, alice, bob_public);
	assert_bytes(q, want, "RFC 7748 6.1 shared secret");

	/* Each side's key share from its secret. */
	uint8_t bob[32];
	from_hex(
	    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    bob);
	from_hex(
	    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    want);
	nettle_curve25519_mul_g(q, alice);
	assert_bytes(q, want, "RFC 7748 6.1 Alice's public key");
	nettle_curve25519_mul_g(q, bob);
	assert_bytes(q, bob_public, "RFC 7748 6.1 Bob's public key");
}

/* Points of small order: the product is the point at infinity, u = 0.
 * nettle writes zeros; so must the stand-in, whose libsodium may refuse
 * such a point without writing anything. */
static void
low_order_points_give_zeros(void **state)
{
	(void)state;
	static const uint8_t zeros[32];
	mul_fn *own = nettle_own();
	uint8_t n[32], p[32], q[32], q_nettle[32];
	for (size_t i = 0; i < X25519_SMALL_ORDER_POINTS; i++) {
		from_hex(x25519_small_order_points[i], p);
		randombytes_buf(n, sizeof(n));
		memset(q, 0xa5, sizeof(q)); /* what a reused buffer holds */
		nettle_curve25519_mul(q, n, p);
		own(q_nettle, n, p);
		assert_bytes(q_nettle, zeros, "nettle on a low-order point");
		assert_bytes(q, zeros, "the stand-in on a low-order point");
	}
}

/* Random scalars and coordinates, some with the top bit set (ignored,
 * RFC 7748 5) and some at or just above the field's prime. */
static void
random_inputs_match_nettle(void **state)
{
	(void)state;
	mul_fn *own = nettle_own();
	uint8_t n[32], p[32], q[32], q_nettle[32];
	for (int i = 0; i < 3000; i++) {
		randombytes_buf(n, sizeof(n));
		randombytes_buf(p, sizeof(p));
		if (i % 3 == 1)
			p[31] |= 0x80;
		if (i % 3 == 2) { /* 2^255 - 19 - 8 .. 2^255 - 1 + 23 */
			memset(p, 0xff, sizeof(p));
			p[31] = 0x7f;
			p[0] = (uint8_t)(0xe5 + i % 32);
		}
		nettle_curve25519_mul(q, n, p);
		own(q_nettle, n, p);
		assert_bytes(q, q_nettle, "a random input");
	}
}

/* Key shares from random secrets, and from those whose clamped value
 * lies at clamping's edges: all bits clear (2^254) or set (2^255 - 8),
 * and each single bit that clamping keeps. */
static void
key_shares_match_nettle(void **state)
{
	(void)state;
	mul_g_fn *own = nettle_own_g();
	uint8_t n[32], q[32], q_nettle[32];
	for (int i = 0; i < 3000; i++) {
		randombytes_buf(n, sizeof(n));
		nettle_curve25519_mul_g(q, n);
		own(q_nettle, n);
		assert_bytes(q, q_nettle, "a key share from a random secret");
	}
	for (int fill = 0; fill <= 0xff; fill += 0xff) {
		memset(n, fill, sizeof(n));
		nettle_curve25519_mul_g(q, n);
		own(q_nettle, n);
		assert_bytes(q, q_nettle, "a key share at clamping's edge");
	}
	for (int bit = 3; bit < 254; bit++) {
		memset(n, 0, sizeof(n));
		n[bit / 8] = (uint8_t)(1u << (bit % 8));
		nettle_curve25519_mul_g(q, n);
		own(q_nettle, n);
		assert_bytes(q, q_nettle, "a key share from one bit");
	}
}

static void
calls_are_counted(void **state)
{
	(void)state;
	uint8_t n[32] = {1}, p[32] = {9}, q[32];
	unsigned long long before = ho_x25519_sodium_calls();
	unsigned long long shares = ho_x25519_sodium_shares();
	nettle_curve25519_mul(q, n, p);
	nettle_curve25519_mul(q, n, p);
	assert_int_equal(ho_x25519_sodium_calls(), before + 2);
	nettle_curve25519_mul_g(q, n);
	assert_int_equal(ho_x25519_sodium_shares(), shares + 1);
	assert_int_equal(ho_x25519_sodium_calls(), before + 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(before_setup_nettle_computes),
	    cmocka_unit_test(setup_done),
	    cmocka_unit_test(rfc7748_section_5_2),
	    cmocka_unit_test(rfc7748_section_6_1),
	    cmocka_unit_test(low_order_points_give_zeros),
	    cmocka_unit_test(random_inputs_match_nettle),
	    cmocka_unit_test(key_shares_match_nettle),
	    cmocka_unit_test(calls_are_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
