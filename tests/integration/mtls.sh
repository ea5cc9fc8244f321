#!/usr/bin/env bash
# mtls.sh - client certificates verified in handoffd: client_auth =
# require refuses a missing or untrusted certificate with an alert and
# accepts a trusted one; request accepts no certificate too; the caller
# sees the peer's chain (the demo counts it); openssl and gnutls peers,
# TLS 1.3 and 1.2.
source "$TESTS_DIR/integration/lib.sh"

# ca NAME: a CA; leaf NAME CA CN: a client certificate issued by CA.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1-key.pem" -out "$T/$1.pem" -days 2 -subj "/CN=$1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1-key.pem" -out "$T/$1.csr" -subj "/CN=$3" 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' >"$T/ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2-key.pem" \
		-set_serial "$RANDOM" -days 2 -extfile "$T/ext" \
		-out "$T/$1-cert.pem" 2>/dev/null
}
ca goodca
ca rogueca
leaf client goodca client.test
leaf rogue rogueca rogue.test

write_config
cat >>"$T/handoffd.conf" <<CONF

[profile require]
certificate = $T/server-cert.pem
key = $T/server-key.pem
client_auth = require
trust = $T/goodca.pem

[profile request]
certificate = $T/server-cert.pem
key = $T/server-key.pem
client_auth = request
trust = $T/goodca.pem
CONF
start_daemon
start_demo --profile require; REQUIRE=$PORT
start_demo --profile request; REQUEST=$PORT
REQ='GET / HTTP/1.0\r\n\r\n'

# get PORT [s_client ARGS...]: one HTTP exchange with openssl.
get() {
	local port=$1
	shift
	printf "$REQ" | timeout 20 openssl s_client -quiet \
		-connect "127.0.0.1:$port" -servername localhost \
		-CAfile "$T/server-cert.pem" "$@" 2>&1 || true
}
with_cert() { echo -cert "$T/$1-cert.pem" -key "$T/$1-key.pem"; }

for v in -tls1_3 -tls1_2; do
	out=$(get "$REQUIRE" $v $(with_cert client))
	grep -q "handoff-demo: TLSv1.[23] .* client-certs=1" <<<"$out" ||
		fail "trusted client certificate ($v): $out"
	pass "require, trusted certificate ($v): $(grep -o 'TLSv.*' <<<"$out")"
done

out=$(get "$REQUIRE" -tls1_3)
grep -q "handoff-demo:" <<<"$out" && fail "require accepted no certificate"
grep -qi "alert certificate required" <<<"$out" ||
	fail "no certificate_required alert: $out"
pass "require, no certificate: certificate_required alert"

out=$(get "$REQUIRE" -tls1_3 $(with_cert rogue))
grep -q "handoff-demo:" <<<"$out" && fail "untrusted certificate accepted"
grep -qiE "alert (unknown ca|bad certificate|certificate unknown|decrypt error)" <<<"$out" ||
	fail "no alert for an untrusted certificate: $out"
pass "require, untrusted certificate: $(grep -oiE 'alert [a-z ]+' <<<"$out" | head -1)"
wait_for "the caller to hear why" 5 grep -q "client certificate refused:" "$T/demo.log"
pass "the caller is told why: $(grep -o 'client certificate refused: [^(]*' "$T/demo.log" | head -1)"

out=$(get "$REQUEST" -tls1_3)
grep -q "handoff-demo: TLSv1.3" <<<"$out" || fail "request, no certificate: $out"
grep -q "client-certs" <<<"$out" && fail "a chain appeared from nowhere: $out"
pass "request, no certificate: accepted, no chain"
out=$(get "$REQUEST" -tls1_3 $(with_cert client))
grep -q "client-certs=1" <<<"$out" || fail "request, trusted certificate: $out"
pass "request, trusted certificate: chain handed to the caller"

out=$( (printf "$REQ"; sleep 0.5) | timeout 20 gnutls-cli \
	--logfile="$T/gnutls-cli.log" --x509cafile "$T/server-cert.pem" \
	--x509certfile "$T/client-cert.pem" --x509keyfile "$T/client-key.pem" \
	--sni-hostname localhost --verify-hostname localhost \
	-p "$REQUIRE" 127.0.0.1 2>&1) || true
grep -q "client-certs=1" <<<"$out" || fail "gnutls-cli with a certificate: $out"
pass "gnutls-cli with a client certificate"
finish
