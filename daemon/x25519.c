/*
 * x25519.c - handoffd's X25519 shared secrets on libsodium's ladder.
 *
 * GnuTLS computes every X25519 shared secret with nettle's
 * curve25519_mul(), a generic Montgomery ladder over GMP: ~57 us on the
 * reference machine, against ~30 us for libsodium's
 * crypto_scalarmult_curve25519(), which returns the same bytes
 * (tests/unit/test_x25519.c holds them to nettle's own on RFC 7748's
 * vectors, low-order points and random inputs).  GnuTLS has no hook for
 * its key exchange (gnutls_crypto_register_* are no-ops since 3.7), so
 * handoffd defines nettle_curve25519_mul itself and exports it
 * (daemon/x25519.dynlist): the dynamic linker looks in the executable
 * before libhogweed, so libgnutls's call lands here.  The fixed-base half
 * (making the key share, curve25519_mul_g) stays on nettle, which is as
 * fast at it.  With kx_backend = gnutls in the config, or if libsodium
 * cannot start, the calls go on to nettle's own function.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <nettle/curve25519.h>
#include <sodium.h>

#include "handoffd.h"

typedef void mul_fn(uint8_t *q, const uint8_t *n, const uint8_t *p);

static atomic_int sodium_ready;
static _Atomic(mul_fn *) nettle_own;
static atomic_ullong sodium_calls;

/* libhogweed's curve25519_mul, the one this file stands in for. */
static mul_fn *
nettle_mul(void)
{
	mul_fn *f = atomic_load(&nettle_own);
	if (f == NULL) {
		f = (mul_fn *)dlsym(RTLD_NEXT, "nettle_curve25519_mul");
		atomic_store(&nettle_own, f);
	}
	return f;
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

const char *
ho_x25519_setup(int use_sodium)
{
	if (nettle_mul() == NULL)
		return NULL; /* nothing this function could pass calls on to */
	if (!use_sodium)
		return "GnuTLS's own, nettle (kx_backend = gnutls)";
	/* The export (x25519.dynlist) is what makes libgnutls call the
	 * function above: without it this file would be dead code. */
	if (dlsym(RTLD_DEFAULT, "nettle_curve25519_mul") !=
	    (void *)nettle_curve25519_mul)
		return "GnuTLS's own, nettle (handoffd was linked without "
		       "exporting its X25519 function)";
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
