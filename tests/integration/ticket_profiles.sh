#!/usr/bin/env bash
# ticket_profiles.sh - a session ticket resumes only under the profile
# that issued it.  A ticket from an open profile offered to one with
# client_auth = require (chosen by the caller, or by SNI after the
# caller's profile was the open one) gets a full handshake, which asks
# for the client certificate and refuses the client without one; the
# same ticket still resumes under its own profile, also where SNI picks
# that profile.  (Before each profile
# had its own ticket key, step 2 resumed without a client certificate.)
source "$TESTS_DIR/integration/lib.sh"

make_ca
make_leaf server ecdsa
write_config
cat >>"$T/handoffd.conf" <<CONF
server_names = open.test

[profile strict]
certificate = $T/server-cert.pem
key = $T/server-key.pem
client_auth = require
trust = $T/ca-cert.pem
server_names = strict.test
CONF
start_daemon
start_demo --profile default
OPEN_PORT=$PORT
start_demo --profile strict
STRICT_PORT=$PORT

# connect PORT SNI ARGS...: one HTTP request; prints s_client's output.
connect() {
	local port=$1 sni=$2
	shift 2
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client \
		-connect "127.0.0.1:$port" -servername "$sni" -tls1_3 \
		-CAfile "$T/ca-cert.pem" -ign_eof "$@" 2>&1 || true
}

out=$(connect "$OPEN_PORT" open.test -sess_out "$T/open.sess")
grep -q "^New," <<<"$out" && grep -q "HTTP/1.1 200" <<<"$out" ||
	fail "full handshake on the open profile: $out"
out=$(connect "$OPEN_PORT" open.test -sess_in "$T/open.sess")
grep -q "^Reused," <<<"$out" ||
	fail "the ticket did not resume under its own profile: $out"
pass "a ticket resumes under the profile that issued it"

out=$(connect "$STRICT_PORT" strict.test -sess_in "$T/open.sess")
grep -q "^Reused," <<<"$out" &&
	fail "the open profile's ticket resumed under client_auth = require: $out"
grep -q "HTTP/1.1 200" <<<"$out" &&
	fail "served without a client certificate: $out"
grep -qi "certificate required" <<<"$out" ||
	fail "no certificate_required alert: $out"
pass "the open profile's ticket does not open the strict profile (full handshake, certificate required)"

# The caller's profile is the open one; SNI picks the strict one.
out=$(connect "$OPEN_PORT" strict.test -sess_in "$T/open.sess")
grep -q "^Reused," <<<"$out" &&
	fail "a ticket resumed under the profile SNI picked: $out"
grep -q "HTTP/1.1 200" <<<"$out" &&
	fail "served without a client certificate after SNI: $out"
pass "nor when SNI switches to the strict profile"

out=$(connect "$STRICT_PORT" strict.test -sess_out "$T/strict.sess" \
	-cert "$T/server-cert.pem" -key "$T/server-key.pem")
grep -q "HTTP/1.1 200" <<<"$out" ||
	fail "full handshake with a client certificate: $out"
out=$(connect "$STRICT_PORT" strict.test -sess_in "$T/strict.sess")
grep -q "^Reused," <<<"$out" && grep -q "HTTP/1.1 200" <<<"$out" ||
	fail "the strict profile's own ticket did not resume: $out"
pass "the strict profile's own ticket resumes there"
# SNI picked the strict profile's ticket key in time for the ClientHello.
out=$(connect "$OPEN_PORT" strict.test -sess_in "$T/strict.sess")
grep -q "^Reused," <<<"$out" && grep -q "HTTP/1.1 200" <<<"$out" ||
	fail "the strict ticket did not resume where SNI picks the strict profile: $out"
pass "and where SNI picks the strict profile"
finish
