/*
 * x25519.c - handoffd's X25519 on libsodium: its key shares and shared
 * secrets.
 *
 * GnuTLS computes every X25519 shared secret with nettle's
 * curve25519_mul(), a generic Montgomery ladder over GMP: ~57 us on the
 * reference machine, against ~30 us for libsodium's
 * crypto_scalarmult_curve25519(), which returns the same bytes.  It
 * makes every key share with nettle's curve25519_mul_g(), ~27 us, against
 * ~16 us by way of libsodium's Ed25519 base point (x25519_share.c).
 * tests/unit/test_x25519.c holds both to nettle's own bytes (RFC 7748's
 * vectors, low-order points, random inputs).  GnuTLS has no hook for its
 * key exchange (gnutls_crypto_register_* are no-ops since 3.7), so
 * handoffd defines nettle_curve25519_mul and nettle_curve25519_mul_g
 * itself and exports them (daemon/standin.dynlist): the dynamic linker
 * looks in the executable before libhogweed, so libgnutls's calls land
 * here.  With kx_backend = gnutls in the config, or if libsodium cannot
 * start, the calls go on to nettle's own functions.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <nettle/curve25519.h>
#include <sodium.h>

#include "handoffd.h"
#include "x25519_share.h"

typedef void mul_fn(uint8_t *q, const uint8_t *n, const uint8_t *p);
typedef void mul_g_fn(uint8_t *q, const uint8_t *n);

static atomic_int sodium_ready;
static _Atomic(void *) nettle_own;   /* libhogweed's curve25519_mul */
static _Atomic(void *) nettle_own_g; /* and its curve25519_mul_g */
static atomic_ullong sodium_calls;   /* shared secrets */
static atomic_ullong sodium_shares;  /* key shares */

static mul_fn *
nettle_mul(void)
{
	return (mul_fn *)ho_nettle_own(
	    &nettle_own, "nettle_curve25519_mul", NULL);
}

static mul_g_fn *
nettle_mul_g(void)
{
	return (mul_g_fn *)ho_nettle_own(
	    &nettle_own_g, "nettle_curve25519_mul_g", NULL);
}

/* Default visibility: the project builds with hidden, and a hidden
 * symbol cannot be exported. */
__attribute__((visibility("default"))) void
nettle_curve25519_mul(uint8_t *q, const uint8_t *n, const uint8_t *p)
{
	if (!atomic_load_explicit(&sodium_ready, memory_order_acquire)) {
		nettle_mul()(q, n, p);
		return;
	}
	/* -1 means a low-order point (or an all-zero result).  nettle
	 * returns all zeros then, which GnuTLS refuses as RFC 8446 7.4.2
	 * asks; libsodium may leave q unwritten, so write them here. */
	if (crypto_scalarmult_curve25519(q, n, p) != 0)
		memset(q, 0, CURVE25519_SIZE);
	atomic_fetch_add_explicit(&sodium_calls, 1, memory_order_relaxed);
}

__attribute__((visibility("default"))) void
nettle_curve25519_mul_g(uint8_t *q, const uint8_t *n)
{
	if (!atomic_load_explicit(&sodium_ready, memory_order_acquire) ||
	    ho_x25519_share(q, n) != 0) {
		nettle_mul_g()(q, n);
		return;
	}
	atomic_fetch_add_explicit(&sodium_shares, 1, memory_order_relaxed);
}

const char *
ho_x25519_setup(int use_sodium)
{
	/* Without nettle's own, nothing to pass calls on to. */
	if (nettle_mul() == NULL || nettle_mul_g() == NULL)
		return NULL;
	if (!use_sodium)
		return "GnuTLS's own, nettle (kx_backend = gnutls)";
	/* The export (standin.dynlist) is what makes libgnutls call the
	 * functions above: without it this file would be dead code. */
	if (dlsym(RTLD_DEFAULT, "nettle_curve25519_mul") !=
	        (void *)nettle_curve25519_mul ||
	    dlsym(RTLD_DEFAULT, "nettle_curve25519_mul_g") !=
	        (void *)nettle_curve25519_mul_g)
		return "GnuTLS's own, nettle (handoffd was linked without "
		       "exporting its X25519 functions)";
	if (sodium_init() < 0)
		return "GnuTLS's own, nettle (libsodium failed to start)";
	atomic_store_explicit(&sodium_ready, 1, memory_order_release);
	return "libsodium";
}

unsigned long long
ho_x25519_sodium_calls(void)
{
	return atomic_load_explicit(&sodium_calls, memory_order_relaxed);
}

unsigned long long
ho_x25519_sodium_shares(void)
{
	return atomic_load_explicit(&sodium_shares, memory_order_relaxed);
}
