/*
 * x25519_share.c - an X25519 key share (the public key: the clamped
 * secret times the base point u = 9) by way of Ed25519's base point.
 *
 * nettle's curve25519_mul_g, which GnuTLS calls for every X25519 key
 * share, and libsodium's crypto_scalarmult_curve25519_base are both
 * Montgomery ladders: ~27 us each on the reference machine.  Ed25519's
 * base point is the same point on the birationally equivalent Edwards
 * curve, and libsodium multiplies it with precomputed tables in ~15 us
 * (crypto_scalarmult_ed25519_base_noclamp); the map of RFC 7748 section
 * 4.1, u = (1 + y) / (1 - y) mod 2^255 - 19, turns the result into the
 * u coordinate X25519 sends, ~1 us more on GMP.  The map only sees the
 * public key being made, so GMP's timing, which depends on its input,
 * reveals nothing secret; the secret itself goes only to libsodium's
 * constant-time code.  tests/unit/test_x25519.c holds the bytes to
 * nettle's own.
 */
#include <string.h>

#include <gmp.h>
#include <sodium.h>

#include "x25519_share.h"

int
ho_x25519_share(uint8_t q[32], const uint8_t n[32])
{
	uint8_t k[32], ed[32];
	memcpy(k, n, sizeof(k));
	k[0] &= 248; /* RFC 7748 section 5's clamping, as nettle does */
	k[31] &= 127;
	k[31] |= 64;
	/* -1 only for a multiple of the group order or zero, which a
	 * clamped scalar (8 times a number below the order) never is. */
	int r = crypto_scalarmult_ed25519_base_noclamp(ed, k);
	sodium_memzero(k, sizeof(k));
	if (r != 0)
		return -1;
	ed[31] &= 127; /* x's sign: u depends on y alone */

	mpz_t p, y, num, den;
	mpz_init_set_ui(p, 1);
	mpz_mul_2exp(p, p, 255);
	mpz_sub_ui(p, p, 19);
	mpz_init(y);
	mpz_import(y, sizeof(ed), -1, 1, 0, 0, ed); /* little-endian */
	mpz_init(num);
	mpz_add_ui(num, y, 1);
	mpz_init(den);
	mpz_sub(den, p, y); /* 1 - y, kept positive: libsodium's y < p */
	mpz_add_ui(den, den, 1);
	/* y = 1 would be the neutral point, which k * B never is. */
	int ok = mpz_invert(den, den, p) != 0;
	if (ok) {
		mpz_mul(num, num, den);
		mpz_mod(num, num, p);
		memset(q, 0, 32);
		mpz_export(q, NULL, -1, 1, 0, 0, num); /* < p: 32 bytes */
	}
	mpz_clears(p, y, num, den, NULL);
	return ok ? 0 : -1;
}
