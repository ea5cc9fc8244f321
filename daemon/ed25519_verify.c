/*
 * ed25519_verify.c - handoffd's Ed25519 signature checks on libsodium.
 *
 * GnuTLS checks every Ed25519 signature (a CertificateVerify, a
 * certificate's signature in a chain) with nettle's
 * ed25519_sha512_verify(): ~91 us on the reference machine, against ~45
 * for libsodium's crypto_sign_ed25519_verify_detached().  As
 * ecdsa_verify.c does for ECDSA, handoffd defines the nettle function
 * itself and exports it (daemon/standin.dynlist), so libgnutls's calls
 * land here.  With verify_backend = gnutls they go on to nettle's own.
 *
 * The two agree on every signature a signer makes honestly, and on
 * every alteration of one (tests/unit/test_ed25519_verify.c).  libsodium
 * is stricter on crafted ones: it refuses a public key or an R of small
 * order (a "signature" by the neutral point verifies under nettle for
 * any message) and encodings that are not canonical.  No key pair made
 * from a seed is like that, so refusing them costs an honest peer
 * nothing.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <nettle/eddsa.h>
#include <sodium.h>

#include "handoffd.h"

typedef int verify_fn(const uint8_t *pub, size_t length, const uint8_t *msg,
    const uint8_t *signature);

static atomic_int sodium_ready;
static _Atomic(void *) nettle_own;  /* libhogweed's own */
static atomic_ullong sodium_checks; /* checks libsodium made */

static verify_fn *
nettle_verify(void)
{
	return (verify_fn *)ho_nettle_own(
	    &nettle_own, "nettle_ed25519_sha512_verify", NULL);
}

/* 1 valid, 0 not, as nettle answers. */
static int
sodium_verify(const uint8_t *pub, size_t length, const uint8_t *msg,
    const uint8_t *signature)
{
	/* libsodium reads no byte of an empty message. */
	static const uint8_t none[1];
	return crypto_sign_ed25519_verify_detached(
	           signature, msg != NULL ? msg : none, length, pub) == 0;
}

/* Default visibility: the project builds with hidden, and a hidden
 * symbol cannot be exported. */
__attribute__((visibility("default"))) int
nettle_ed25519_sha512_verify(const uint8_t *pub, size_t length,
    const uint8_t *msg, const uint8_t *signature)
{
	if (!atomic_load_explicit(&sodium_ready, memory_order_acquire))
		return nettle_verify()(pub, length, msg, signature);
	atomic_fetch_add_explicit(&sodium_checks, 1, memory_order_relaxed);
	return sodium_verify(pub, length, msg, signature);
}

/* Whether both checks accept a signature libsodium made and refuse it
 * on a message one bit off. */
static int
agrees_with_nettle(void)
{
	uint8_t pk[crypto_sign_ed25519_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
	uint8_t sig[crypto_sign_ed25519_BYTES], msg[100];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 5);
	crypto_sign_ed25519_keypair(pk, sk);
	crypto_sign_ed25519_detached(sig, NULL, msg, sizeof(msg), sk);
	sodium_memzero(sk, sizeof(sk));
	int agree = sodium_verify(pk, sizeof(msg), msg, sig) == 1 &&
	    nettle_verify()(pk, sizeof(msg), msg, sig) == 1;
	msg[42] ^= 2;
	return agree && sodium_verify(pk, sizeof(msg), msg, sig) == 0 &&
	    nettle_verify()(pk, sizeof(msg), msg, sig) == 0;
}

const char *
ho_ed25519_verify_setup(int use_sodium)
{
	/* Without nettle's own, nothing to pass calls on to. */
	if (nettle_verify() == NULL)
		return NULL;
	if (!use_sodium) {
		atomic_store_explicit(&sodium_ready, 0, memory_order_release);
		return "GnuTLS's own, nettle (verify_backend = gnutls)";
	}
	/* The export (standin.dynlist) is what makes libgnutls call the
	 * function above: without it this file would be dead code. */
	if (dlsym(RTLD_DEFAULT, "nettle_ed25519_sha512_verify") !=
	    (void *)nettle_ed25519_sha512_verify)
		return "GnuTLS's own, nettle (handoffd was linked without "
		       "exporting its nettle_ed25519_sha512_verify)";
	if (sodium_init() < 0)
		return "GnuTLS's own, nettle (libsodium failed to start)";
	if (!agrees_with_nettle())
		return "GnuTLS's own, nettle (libsodium's check of an Ed25519 "
		       "signature differed from nettle's: rebuild handoffd "
		       "against this libsodium and libhogweed)";
	atomic_store_explicit(&sodium_ready, 1, memory_order_release);
	return "libsodium";
}

unsigned long long
ho_ed25519_verify_sodium_checks(void)
{
	return atomic_load_explicit(&sodium_checks, memory_order_relaxed);
}
