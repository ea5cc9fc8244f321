#!/usr/bin/env bash
# verify_backend.sh - handoffd checks ECDSA P-256 signatures with
# libcrypto and Ed25519 ones with libsodium (daemon/ecdsa_verify.c and
# ed25519_verify.c stand in for nettle's ecdsa_verify and
# ed25519_sha512_verify under GnuTLS).  The log says so, which it only
# does after checking at start that each agrees with nettle on a
# signature and on a forgery.  A client handshake against openssl
# s_server with a P-256 chain moves handoffd's ecdsa_verify_libcrypto
# count by at least two (the certificate's signature by the CA, the
# server's CertificateVerify) and completes; the same certificate with
# one bit of its signature changed is refused as unverified, so a "no"
# from libcrypto fails the handshake; a P-384 server key's
# CertificateVerify goes on to nettle (the count moves by the P-256 CA's
# signature alone); an Ed25519 server key's moves ed25519_verify_libsodium
# by one.  With verify_backend = gnutls, nettle checks them all: named in
# the log, the same handshakes complete, and nothing is counted.
source "$(dirname "$0")/lib.sh"

make_ca
make_leaf server ecdsa
write_config
printf 'trust = %s\n' "$T/ca-cert.pem" >>"$T/handoffd.conf"
start_daemon
grep -q "ECDSA signature checks: libcrypto for P-256, GnuTLS's own (nettle) for other curves" \
	"$T/handoffd.log" ||
	fail "handoffd does not say libcrypto checks P-256 signatures: $(cat "$T/handoffd.log")"
grep -q "Ed25519 signature checks: libsodium" "$T/handoffd.log" ||
	fail "handoffd does not say libsodium checks Ed25519 signatures: $(cat "$T/handoffd.log")"
pass "handoffd: ECDSA P-256 signature checks on libcrypto, Ed25519 on libsodium (their start-up checks passed)"

# client_handshake PORT WHAT: handoff-demo connects through handoffd and
# must get its line back reversed.
client_handshake() {
	local out
	out=$(echo "handoff-ecdsa" | demo_connect "$1" --cafile "$T/ca-cert.pem") ||
		fail "$2: $(cat "$T/connect.err")"
	[ "$out" = "$(echo "handoff-ecdsa" | rev)" ] ||
		fail "$2: the server sent back \"$out\""
}

port=$(free_port)
start_openssl_server "$port" -cert "$T/server-cert.pem" \
	-key "$T/server-key.pem" -tls1_3
n=$(stat_value ecdsa_verify_libcrypto)
client_handshake "$port" "client role, P-256 chain"
moved=$(($(stat_value ecdsa_verify_libcrypto) - n))
[ "$moved" -ge 2 ] ||
	fail "a P-256 chain and CertificateVerify moved ecdsa_verify_libcrypto by $moved, not at least 2"
pass "client role, P-256 chain: completed, $moved signatures checked by libcrypto"

# The same certificate with one bit of the CA's signature changed (the
# last byte of its DER is the end of s): libcrypto must say no, and the
# handshake fail as unverified.
openssl x509 -in "$T/server-cert.pem" -outform DER -out "$T/forged.der"
last=$(tail -c 1 "$T/forged.der" | od -An -tu1 | tr -d ' ')
{
	head -c -1 "$T/forged.der"
	printf "\\$(printf '%03o' $((last ^ 1)))"
} >"$T/forged-flipped.der"
openssl x509 -inform DER -in "$T/forged-flipped.der" -out "$T/forged-cert.pem" ||
	fail "could not write the altered certificate"
cmp -s "$T/forged-cert.pem" "$T/server-cert.pem" &&
	fail "the altered certificate is the original"
forged_port=$(free_port)
start_openssl_server "$forged_port" -cert "$T/forged-cert.pem" \
	-key "$T/server-key.pem" -tls1_3
n=$(stat_value ecdsa_verify_libcrypto)
if echo "forged" | demo_connect "$forged_port" --cafile "$T/ca-cert.pem" >/dev/null; then
	fail "a certificate whose signature was altered was accepted"
fi
grep -qi "verif" "$T/connect.err" ||
	fail "the altered certificate failed, but not as unverified: $(cat "$T/connect.err")"
[ "$(stat_value ecdsa_verify_libcrypto)" -gt "$n" ] ||
	fail "the altered signature was not checked by libcrypto"
pass "a P-256 certificate with a bad signature is refused as unverified: $(tr '\n' ' ' <"$T/connect.err")"

# server_with_key NAME CERTTOOL_KEY_ARGS...: a server key of that kind,
# its certificate from the test CA (make_leaf's template), and openssl
# s_server with them on SERVER_PORT.
server_with_key() {
	local name=$1
	shift
	certtool --generate-privkey "$@" --outfile "$T/$name-key.pem" 2>/dev/null
	certtool --generate-certificate --load-privkey "$T/$name-key.pem" \
		--load-ca-certificate "$T/ca-cert.pem" \
		--load-ca-privkey "$T/ca-key.pem" --template "$T/server.tmpl" \
		--outfile "$T/$name-cert.pem" 2>/dev/null ||
		fail "could not make the $name certificate"
	SERVER_PORT=$(free_port)
	start_openssl_server "$SERVER_PORT" -cert "$T/$name-cert.pem" \
		-key "$T/$name-key.pem" -tls1_3
}

# P-384 server key under the P-256 CA: the CA's signature on it is
# P-256 (libcrypto), the CertificateVerify P-384 (nettle).
server_with_key p384 --key-type ecdsa --curve secp384r1
p384_port=$SERVER_PORT
n=$(stat_value ecdsa_verify_libcrypto)
client_handshake "$p384_port" "client role, P-384 key under a P-256 CA"
p384_moved=$(($(stat_value ecdsa_verify_libcrypto) - n))
[ "$p384_moved" -eq $((moved - 1)) ] ||
	fail "a P-384 CertificateVerify under a P-256 CA moved the count by $p384_moved, not $((moved - 1)) (one less than a P-256 key's $moved)"
pass "client role, P-384 key: completed, its CertificateVerify left to nettle ($p384_moved P-256 signatures by libcrypto)"

# Ed25519 server key under the P-256 CA: the CertificateVerify is
# libsodium's, the CA's signature libcrypto's.
server_with_key ed25519 --key-type ed25519
ed25519_port=$SERVER_PORT
n=$(stat_value ed25519_verify_libsodium)
client_handshake "$ed25519_port" "client role, Ed25519 key under a P-256 CA"
[ "$(stat_value ed25519_verify_libsodium)" -eq $((n + 1)) ] ||
	fail "an Ed25519 CertificateVerify moved ed25519_verify_libsodium from $n to $(stat_value ed25519_verify_libsodium), not by 1"
pass "client role, Ed25519 key: completed, its CertificateVerify checked by libsodium"

stop_daemon
sed -i 's/^workers = 2$/workers = 2\nverify_backend = gnutls/' "$T/handoffd.conf"
start_daemon
grep -q "ECDSA signature checks: GnuTLS's own, nettle (verify_backend = gnutls)" "$T/handoffd.log" ||
	fail "with verify_backend = gnutls the log does not name GnuTLS: $(tail -5 "$T/handoffd.log")"
grep -q "Ed25519 signature checks: GnuTLS's own, nettle (verify_backend = gnutls)" "$T/handoffd.log" ||
	fail "with verify_backend = gnutls the log does not name GnuTLS for Ed25519: $(tail -5 "$T/handoffd.log")"
client_handshake "$port" "verify_backend = gnutls, P-256 chain"
client_handshake "$ed25519_port" "verify_backend = gnutls, Ed25519 key"
[ "$(stat_value ecdsa_verify_libcrypto) $(stat_value ed25519_verify_libsodium)" = "0 0" ] ||
	fail "verify_backend = gnutls: libcrypto and libsodium checked $(stat_value ecdsa_verify_libcrypto) and $(stat_value ed25519_verify_libsodium) signatures"
pass "verify_backend = gnutls: nettle's own checks, named in the log; the handshakes complete, libcrypto and libsodium unused"
finish
