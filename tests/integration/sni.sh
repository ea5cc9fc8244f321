#!/usr/bin/env bash
# sni.sh - the ClientHello's server name picks the profile: exact names,
# "*." wildcards for one label, and the caller's profile otherwise.
source "$TESTS_DIR/integration/lib.sh"

# cert_for NAME CN: an ECDSA certificate for CN.
cert_for() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1-key.pem" -out "$T/$1-cert.pem" -days 2 \
		-subj "/CN=$2" -addext "subjectAltName=DNS:$2" 2>/dev/null
}
cert_for a a.test
cert_for wild '*.w.test'
write_config
cat >>"$T/handoffd.conf" <<CONF

[profile site-a]
certificate = $T/a-cert.pem
key = $T/a-key.pem
server_names = a.test, A2.test
alpn = h2, http/1.1

[profile wild]
certificate = $T/wild-cert.pem
key = $T/wild-key.pem
server_names = *.w.test
CONF
start_daemon
start_demo

# subject_for NAME [ARGS...]: the CN the server presents for SNI NAME.
subject_for() {
	local name=$1
	shift
	timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
		-servername "$name" "$@" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}

[ "$(subject_for a.test)" = a.test ] || fail "a.test got $(subject_for a.test)"
[ "$(subject_for a2.TEST)" = a.test ] || fail "names are not case-insensitive"
pass "exact server name selects its profile (case-insensitive)"
[ "$(subject_for x.w.test)" = '*.w.test' ] || fail "x.w.test got $(subject_for x.w.test)"
pass "*.w.test covers x.w.test"
[ "$(subject_for y.x.w.test)" = localhost ] ||
	fail "wildcard matched two labels: $(subject_for y.x.w.test)"
[ "$(subject_for w.test)" = localhost ] || fail "wildcard matched its own base"
[ "$(subject_for other.example)" = localhost ] || fail "unknown name not on default"
pass "other names stay on the caller's profile"

out=$(timeout 10 curl -sS --http1.1 --cacert "$T/a-cert.pem" \
	--resolve "a.test:$PORT:127.0.0.1" "https://a.test:$PORT/" 2>&1) ||
	fail "curl a.test: $out"
grep -q "alpn=http/1.1 sni=a.test" <<<"$out" || fail "curl a.test: $out"
pass "curl verifies a.test's own certificate: $out"

out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -alpn h2 \
	-servername a.test </dev/null 2>&1)
grep -q "ALPN protocol: h2" <<<"$out" ||
	fail "the SNI profile's ALPN was not applied: $(grep -i alpn <<<"$out")"
pass "the selected profile's ALPN applies"
finish
