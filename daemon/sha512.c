/*
 * sha512.c - handoffd's SHA-384 and SHA-512 blocks on libcrypto.
 *
 * A TLS 1.3 handshake on a SHA-384 suite (TLS_AES_256_GCM_SHA384, what
 * GnuTLS picks by default) hashes ~130 blocks of 128 bytes in handoffd:
 * GnuTLS hashes the whole transcript again for each secret it derives,
 * and its HKDF sets an HMAC key, two more blocks, for every label.  perf
 * put 18-19 % of handoffd's time in nettle's block function,
 * _nettle_sha512_compress (~218 ns a block on the reference machine);
 * libcrypto's SHA512_Transform does one in ~155 ns, which took ~12 us
 * off each handshake.  GnuTLS has no hook for its hashes
 * (gnutls_crypto_register_* are no-ops since 3.7), so, as x25519.c does
 * for X25519, handoffd defines the function itself and exports it.
 *
 * That function is nettle's internal interface, not its API: libnettle
 * exports it as _nettle_sha512_compress@NETTLE_INTERNAL_8_6, and its
 * next release may change it.  So handoffd exports its own under that
 * version (daemon/sha512.map), and the dynamic linker binds libnettle's
 * calls to it only if the libnettle loaded asks for exactly that
 * version; any other keeps nettle's own.  ho_sha512_setup() checks at
 * start that the calls really arrive here and that SHA-384 and SHA-512
 * digests come out as libcrypto's own; if either fails, or with
 * hash_backend = gnutls, the calls go on to nettle's function.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA512_Transform: no EVP form */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <nettle/sha2.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "handoffd.h"
#include "wipe.h"

/* The version libnettle 3.8 gives its internal symbols; sha512.map
 * must name the same. */
#define NETTLE_INTERNAL_VERSION "NETTLE_INTERNAL_8_6"

typedef void compress_fn(
    uint64_t *state, const uint8_t *input, const uint64_t *k);

static atomic_int libcrypto_ready;
static _Atomic(void *) nettle_own;
/* While setup checks, blocks that arrived here (none if libnettle's
 * calls were not bound to this function). */
static atomic_int probing;
static atomic_uint probe_blocks;

static compress_fn *
nettle_compress(void)
{
	return (compress_fn *)ho_nettle_own(
	    &nettle_own, "_nettle_sha512_compress", NETTLE_INTERNAL_VERSION);
}

/* Default visibility: the project builds with hidden. */
__attribute__((visibility("default"))) void
_nettle_sha512_compress(
    uint64_t *state, const uint8_t *input, const uint64_t *k)
{
	if (atomic_load_explicit(&probing, memory_order_relaxed))
		atomic_fetch_add_explicit(
		    &probe_blocks, 1, memory_order_relaxed);
	if (!atomic_load_explicit(&libcrypto_ready, memory_order_acquire)) {
		nettle_compress()(state, input, k);
		return;
	}
	/* k is nettle's copy of SHA-512's round constants: libcrypto
	 * has its own. */
	SHA512_CTX c;
	memcpy(c.h, state, sizeof(c.h));
	SHA512_Transform(&c, input);
	memcpy(state, c.h, sizeof(c.h));
	/* The state may be an HMAC key's (GnuTLS's HKDF). */
	ho_wipe(&c, sizeof(c));
}

/* Whether nettle's SHA-384 and SHA-512 of `len` bytes of a pattern
 * equal libcrypto's own digests. */
static int
digests_match(size_t len)
{
	uint8_t msg[1000], want[64], got[64];
	for (size_t i = 0; i < len; i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	unsigned n;
	struct sha384_ctx c384;
	sha384_init(&c384);
	sha384_update(&c384, len, msg);
	sha384_digest(&c384, SHA384_DIGEST_SIZE, got);
	if (EVP_Digest(msg, len, want, &n, EVP_sha384(), NULL) != 1 ||
	    memcmp(got, want, SHA384_DIGEST_SIZE) != 0)
		return 0;
	struct sha512_ctx c512;
	sha512_init(&c512);
	sha512_update(&c512, len, msg);
	sha512_digest(&c512, SHA512_DIGEST_SIZE, got);
	return EVP_Digest(msg, len, want, &n, EVP_sha512(), NULL) == 1 &&
	    memcmp(got, want, SHA512_DIGEST_SIZE) == 0;
}

const char *
ho_sha512_setup(int use_libcrypto)
{
	if (!use_libcrypto) {
		atomic_store_explicit(
		    &libcrypto_ready, 0, memory_order_release);
		return "GnuTLS's own, nettle (hash_backend = gnutls)";
	}
	atomic_store_explicit(&libcrypto_ready, 1, memory_order_release);
	atomic_store(&probe_blocks, 0);
	atomic_store(&probing, 1);
	int same = digests_match(3) && digests_match(111) &&
	    digests_match(112) && digests_match(1000);
	atomic_store(&probing, 0);
	unsigned arrived = atomic_load(&probe_blocks);
	if (same && arrived > 0)
		return "libcrypto";
	atomic_store_explicit(&libcrypto_ready, 0, memory_order_release);
	if (arrived == 0)
		return "GnuTLS's own, nettle (libnettle is not the version "
		       "handoffd was built for: its "
		       "internal " NETTLE_INTERNAL_VERSION " is missing)";
	if (nettle_compress() == NULL)
		return NULL;
	return "GnuTLS's own, nettle (libcrypto's digests differed from "
	       "nettle's: rebuild handoffd against this libnettle)";
}
