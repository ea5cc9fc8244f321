#!/usr/bin/env bash
# sha512.sh - handoffd hashes SHA-384/512 blocks with libcrypto
# (daemon/sha512.c stands in for nettle's internal block function under
# GnuTLS).  The log says so, which it only does after checking at start
# that libnettle's calls reach the stand-in and that the digests are
# libcrypto's own; handshakes on SHA-384 suites, TLS 1.3 and TLS 1.2,
# complete against openssl, which they could not if a transcript hash,
# a Finished or a key came out wrong.  With hash_backend = gnutls the
# log names nettle's and the same handshakes complete.
source "$(dirname "$0")/lib.sh"

make_ca
make_leaf server ecdsa
write_config

# both_suites LABEL: a TLS 1.3 and a TLS 1.2 handshake on SHA-384 suites.
both_suites() {
	demo_handshake "$1, TLS 1.3 TLS_AES_256_GCM_SHA384" -tls1_3 \
		-ciphersuites TLS_AES_256_GCM_SHA384
	demo_handshake "$1, TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384" -tls1_2 \
		-cipher ECDHE-ECDSA-AES256-GCM-SHA384
}

start_daemon
grep -q "SHA-384/512 blocks: libcrypto" "$T/handoffd.log" ||
	fail "handoffd does not say libcrypto hashes SHA-384/512: $(cat "$T/handoffd.log")"
pass "handoffd: SHA-384/512 blocks on libcrypto (its start-up check passed)"
start_demo
both_suites "libcrypto's blocks"
stop_demo
pass "TLS 1.3 and TLS 1.2 handshakes on SHA-384 suites complete and verify"

stop_daemon
write_config "hash_backend = gnutls"
start_daemon
grep -q "SHA-384/512 blocks: GnuTLS's own, nettle (hash_backend = gnutls)" "$T/handoffd.log" ||
	fail "with hash_backend = gnutls the log does not name GnuTLS: $(tail -5 "$T/handoffd.log")"
start_demo
both_suites "nettle's blocks"
stop_demo
pass "hash_backend = gnutls: GnuTLS's own, named in the log; the same handshakes complete"
finish
