#!/usr/bin/env bash
# one_trip.sh - TLS 1.3 server handshakes in one trip to handoffd: the
# daemon writes the client's Finished itself (RFC 8446 4.6.1) and the
# caller checks the real one.  Counted by handoffd's stats: a one-trip
# handshake costs exactly one request, full or resumed, with openssl and
# gnutls clients and every TLS 1.3 suite; TLS 1.2, a HelloRetryRequest
# and a profile that asks for client certificates take the two steps
# they need, and still complete.
source "$TESTS_DIR/integration/lib.sh"

make_ca
make_leaf client ecdsa
write_config
cat >>"$T/handoffd.conf" <<CONF

[profile mtls]
certificate = $T/server-cert.pem
key = $T/server-key.pem
client_auth = require
trust = $T/ca-cert.pem

[profile x25519]
certificate = $T/server-cert.pem
key = $T/server-key.pem
priority = NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519
CONF
start_daemon
start_demo
HTTP_PORT=$PORT
start_demo --profile mtls
MTLS_PORT=$PORT
start_demo --profile x25519
X25519_PORT=$PORT
CA="$T/server-cert.pem"
REQ='GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'

# run_counted WHAT COMMAND...: runs one client; sets trips (requests the
# daemon got) and one_trip (how many handshakes it finished in one).
run_counted() {
	local what=$1
	shift
	local req0 one0
	req0=$(stat_value requests)
	one0=$(stat_value handshakes_one_trip)
	out=$("$@" 2>"$T/client.log") || fail "$what failed: $(tail -5 "$T/client.log")"
	# The demo answers after the handshake: its request count is final.
	# Two of the requests counted are our own stats queries.
	trips=$(($(stat_value requests) - req0 - 2))
	one_trip=$(($(stat_value handshakes_one_trip) - one0))
}

s_client() {
	printf "$REQ" | timeout 20 openssl s_client -quiet \
		-connect "127.0.0.1:${PORT_TO:-$HTTP_PORT}" -servername localhost \
		-CAfile "$CA" -verify_return_error "$@"
}

for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 \
	TLS_CHACHA20_POLY1305_SHA256; do
	run_counted "openssl s_client $suite" s_client -tls1_3 -ciphersuites "$suite"
	grep -q "handoff-demo: TLSv1.3 $suite" <<<"$out" || fail "openssl $suite got: $out"
	[ "$trips" -eq 1 ] && [ "$one_trip" -eq 1 ] ||
		fail "openssl $suite: $trips requests, $one_trip one-trip handshakes (want 1 and 1)"
	pass "openssl s_client, $suite: one request, the caller checked the client's Finished"
done

prio=$(gnutls_priority TLS_AES_128_GCM_SHA256)
run_counted "gnutls-cli" bash -c "(printf '$REQ'; sleep 1) | timeout 20 gnutls-cli \
	--priority '$prio' --x509cafile '$CA' --sni-hostname localhost \
	--verify-hostname localhost -p $HTTP_PORT 127.0.0.1"
grep -q "handoff-demo: TLSv1.3" <<<"$out" || fail "gnutls-cli got: $out"
[ "$trips" -eq 1 ] && [ "$one_trip" -eq 1 ] ||
	fail "gnutls-cli: $trips requests, $one_trip one-trip handshakes"
pass "gnutls-cli: one request"

# A resumed handshake (PSK with ECDHE) in one trip as well.
printf "$REQ" | timeout 20 openssl s_client -quiet -connect "127.0.0.1:$HTTP_PORT" \
	-servername localhost -CAfile "$CA" -tls1_3 -sess_out "$T/sess.pem" \
	>/dev/null 2>&1 || fail "openssl s_client (ticket) failed"
resumed0=$(stat_value handshakes_resumed)
run_counted "openssl s_client -sess_in" bash -c "printf '$REQ' | timeout 20 \
	openssl s_client -connect 127.0.0.1:$HTTP_PORT -servername localhost \
	-CAfile '$CA' -tls1_3 -sess_in '$T/sess.pem' -ign_eof"
grep -q "^Reused, TLSv1.3" <<<"$out" || fail "not resumed: $(grep -E '^(New|Reused)' <<<"$out")"
[ "$(stat_value handshakes_resumed)" -eq $((resumed0 + 1)) ] || fail "resumption not counted"
[ "$trips" -eq 1 ] && [ "$one_trip" -eq 1 ] ||
	fail "resumed: $trips requests, $one_trip one-trip handshakes"
pass "a resumed TLS 1.3 handshake: one request"

# The middlebox-compatible client sends a ChangeCipherSpec before its
# Finished (openssl does by default); -no_middlebox does not.
run_counted "openssl s_client -no_middlebox" s_client -tls1_3 -no_middlebox
[ "$one_trip" -eq 1 ] || fail "-no_middlebox: not in one trip"
pass "without middlebox compatibility too"

# A key share the profile does not take (openssl sends one, for the
# first group): HelloRetryRequest, then the ordinary steps (three
# requests: hello, second hello, Finished).
PORT_TO=$X25519_PORT run_counted "openssl s_client -groups P-256:X25519" \
	s_client -tls1_3 -groups P-256:X25519
grep -q "handoff-demo: TLSv1.3" <<<"$out" || fail "HRR handshake got: $out"
[ "$one_trip" -eq 0 ] && [ "$trips" -ge 3 ] ||
	fail "after a HelloRetryRequest: $trips requests, $one_trip one-trip"
pass "HelloRetryRequest: $trips requests, completed"

run_counted "openssl s_client -tls1_2" s_client -tls1_2
grep -q "handoff-demo: TLSv1.2" <<<"$out" || fail "TLS 1.2 got: $out"
[ "$one_trip" -eq 0 ] && [ "$trips" -eq 2 ] ||
	fail "TLS 1.2: $trips requests, $one_trip one-trip"
pass "TLS 1.2: two requests, as it needs"

PORT_TO=$MTLS_PORT run_counted "openssl s_client (client certificate)" \
	s_client -tls1_3 -cert "$T/client-cert.pem" -key "$T/client-key.pem"
grep -q "handoff-demo: TLSv1.3" <<<"$out" || fail "mTLS got: $out"
[ "$one_trip" -eq 0 ] && [ "$trips" -eq 2 ] ||
	fail "client certificates: $trips requests, $one_trip one-trip"
pass "a profile asking for client certificates: two requests (the daemon checks them)"
finish
