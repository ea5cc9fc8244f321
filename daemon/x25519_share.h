/*
 * x25519_share.h - an X25519 key share made the fast way (x25519_share.c).
 * handoffd's stand-in for nettle's curve25519_mul_g calls it (x25519.c),
 * and handoff-bench, which compiles x25519_share.c too, times it as
 * handoffd's cost of a key share.
 */
#ifndef HANDOFFD_X25519_SHARE_H
#define HANDOFFD_X25519_SHARE_H

#include <stdint.h>

/* Writes to q the X25519 public key of the secret n (RFC 7748: n clamped,
 * times the base point u = 9), the same 32 bytes as nettle's
 * curve25519_mul_g(q, n).  Returns 0, or -1 with q unwritten if
 * libsodium refused the scalar, which a clamped one never is: call
 * nettle's then.  Like nettle's, it aborts if GMP runs out of memory. */
int ho_x25519_share(uint8_t q[32], const uint8_t n[32]);

#endif
