/*
 * x25519_small_order.h - RFC 7748's X25519 points of small order and
 * their non-canonical encodings (u + p), little-endian hex: what a
 * hostile peer sends to force an all-zero shared secret.  The product of
 * any scalar and one of these is u = 0.  Shared by the unit test of
 * handoffd's X25519 (tests/unit/test_x25519.c) and the peer that sends
 * them through handoffd (tests/tools/low_order_peer.c).
 */
#ifndef HANDOFF_TEST_X25519_SMALL_ORDER_H
#define HANDOFF_TEST_X25519_SMALL_ORDER_H

static const char *const x25519_small_order_points[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};
#define X25519_SMALL_ORDER_POINTS                                             \
	(sizeof(x25519_small_order_points) /                                  \
	    sizeof(x25519_small_order_points[0]))

#endif
