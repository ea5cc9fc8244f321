#!/usr/bin/env bash
# x25519.sh - handoffd makes X25519 key shares and computes X25519 shared
# secrets with libsodium (daemon/x25519.c stands in for nettle's
# curve25519_mul_g and curve25519_mul under GnuTLS).  The log says so;
# each X25519 handshake, TLS 1.3 and 1.2, server and client role, moves
# handoffd's x25519_shares_libsodium and x25519_libsodium counts by one
# each, and a P-256 handshake does not: so GnuTLS's key exchange really
# goes through them, and every one of those handshakes completes against
# a real peer, which it could not if a share or a secret came out wrong.
# With kx_backend = gnutls, GnuTLS's own functions compute them and
# nothing is counted.  A peer's X25519 share of small order is refused
# with a fatal alert in either role, on either backend
# (tests/tools/low_order_peer.c): the stand-in's all-zero secret reaches
# GnuTLS's check (RFC 8446 7.4.2).
source "$(dirname "$0")/lib.sh"
: "${LOW_ORDER_PEER:?run through ctest}"

make_ca
make_leaf server ecdsa
# TLS 1.2 ties an ECDSA certificate's curve to the groups offered, so
# the TLS 1.2 handshake offering X25519 alone uses an RSA one.
make_leaf rsaserver rsa
cat >"$T/handoffd.conf" <<CONF
[daemon]
listen = $DAEMON_URL
workers = 2

[profile default]
certificate = $T/server-cert.pem
key = $T/server-key.pem
trust = $T/ca-cert.pem

[profile rsa]
certificate = $T/rsaserver-cert.pem
key = $T/rsaserver-key.pem
CONF
start_daemon
grep -q "X25519 key shares and shared secrets: libsodium" "$T/handoffd.log" ||
	fail "handoffd does not say libsodium computes X25519: $(cat "$T/handoffd.log")"
pass "handoffd: X25519 key shares and shared secrets on libsodium"
start_demo

# server_handshake GROUP OPENSSL_ARGS...: one openssl client through
# handoff-demo; fails unless it completes on that group.
server_handshake() {
	local group=$1
	shift
	demo_handshake "openssl s_client -groups $group $*" -groups "$group" "$@"
}

# counts: both of libsodium's counts, "SHARES SECRETS".
counts() {
	echo "$(stat_value x25519_shares_libsodium) $(stat_value x25519_libsodium)"
}

# expect_count_after BEFORE DELTA WHAT: both counts must have moved by
# DELTA since BEFORE (from counts).
expect_count_after() {
	local shares secrets
	read -r shares secrets <<<"$(counts)"
	[ "$shares" -eq $((${1% *} + $2)) ] ||
		fail "$3: x25519_shares_libsodium went from ${1% *} to $shares, not by $2"
	[ "$secrets" -eq $((${1#* } + $2)) ] ||
		fail "$3: x25519_libsodium went from ${1#* } to $secrets, not by $2"
}

n=$(counts)
server_handshake X25519 -tls1_3
expect_count_after "$n" 1 "a TLS 1.3 server handshake on X25519"
pass "server role, TLS 1.3, X25519: completed, one key share and one shared secret on libsodium"

n=$(counts)
server_handshake P-256 -tls1_3
expect_count_after "$n" 0 "a TLS 1.3 server handshake on P-256"
pass "server role, TLS 1.3, P-256: completed, libsodium not involved"
stop_demo

start_demo --profile rsa
n=$(counts)
server_handshake X25519 -tls1_2
expect_count_after "$n" 1 "a TLS 1.2 ECDHE server handshake on X25519"
pass "server role, TLS 1.2 ECDHE-RSA, X25519: completed, one key share and one shared secret on libsodium"
stop_demo

# The client role: handoffd makes the key share, openssl s_server picks
# X25519.
port=$(free_port)
start_openssl_server "$port" -cert "$T/server-cert.pem" \
	-key "$T/server-key.pem" -tls1_3 -groups X25519
n=$(counts)
out=$(echo "handoff-x25519" | demo_connect "$port" --cafile "$T/ca-cert.pem") ||
	fail "client role against openssl s_server: $(cat "$T/connect.err")"
[ "$out" = "$(echo "handoff-x25519" | rev)" ] ||
	fail "client role: the server sent back \"$out\""
expect_count_after "$n" 1 "a TLS 1.3 client handshake on X25519"
pass "client role, TLS 1.3, X25519: completed, one key share and one shared secret on libsodium"

# low_order_peer WHAT: the tool's cases against the running daemon; each
# must go as it must.  Sets CASES to how many did.
low_order_peer() {
	"$LOW_ORDER_PEER" "$DAEMON_URL" >"$T/low_order.log" 2>&1 ||
		fail "$1: $(grep -v ': ok:' "$T/low_order.log")"
	CASES=$(grep -c ': ok:' "$T/low_order.log")
}

# Small-order shares: 7 points in each role, and a control each (the
# ClientHello's own share, a random share from the server).  Each case
# computes one shared secret on libsodium; each server-role case and each
# ClientHello makes one key share.
read -r shares secrets <<<"$(counts)"
low_order_peer "small-order X25519 shares, libsodium"
[ "$(stat_value x25519_libsodium)" -eq $((secrets + 16)) ] ||
	fail "small-order shares: x25519_libsodium went from $secrets to $(stat_value x25519_libsodium), not by 16"
[ "$(stat_value x25519_shares_libsodium)" -eq $((shares + 17)) ] ||
	fail "small-order shares: x25519_shares_libsodium went from $shares to $(stat_value x25519_shares_libsodium), not by 17"
kill -0 "$DAEMON_PID" || fail "handoffd is gone after the small-order shares"
pass "small-order X25519 shares on libsodium: refused with a fatal alert before any ServerHello (server role) and after the ServerHello (client role); $CASES cases as they must, controls included"

stop_daemon
sed -i 's/^workers = 2$/workers = 2\nkx_backend = gnutls/' "$T/handoffd.conf"
start_daemon
grep -q "X25519 key shares and shared secrets: GnuTLS's own, nettle (kx_backend = gnutls)" "$T/handoffd.log" ||
	fail "with kx_backend = gnutls the log does not name GnuTLS: $(tail -5 "$T/handoffd.log")"
start_demo
server_handshake X25519 -tls1_3
[ "$(counts)" = "0 0" ] ||
	fail "kx_backend = gnutls: libsodium made key shares and secrets: $(counts)"
stop_demo
pass "kx_backend = gnutls: GnuTLS's own X25519, named in the log; the handshake completes, libsodium unused"
low_order_peer "small-order X25519 shares, kx_backend = gnutls"
[ "$(counts)" = "0 0" ] ||
	fail "kx_backend = gnutls: libsodium computed for the small-order shares: $(counts)"
pass "small-order X25519 shares on nettle (kx_backend = gnutls): refused the same way; $CASES cases as they must"
finish
