#!/usr/bin/env bash
# server_interop.sh - real TLS clients against handoff-demo, whose
# handshakes handoffd performs: openssl s_client, gnutls-cli and curl
# each complete a TLS 1.3 handshake and exchange data both ways, for each
# of the three TLS 1.3 cipher suites; larger data round-trips through
# the echo server; handoffctl sees the handshakes.
source "$TESTS_DIR/integration/lib.sh"

write_config
cat >>"$T/handoffd.conf" <<CONF

[profile web]
certificate = $T/server-cert.pem
key = $T/server-key.pem
alpn = h2, http/1.1
CONF
start_daemon
start_demo
HTTP_PORT=$PORT
start_demo --echo
ECHO_PORT=$PORT
CA="$T/server-cert.pem"
REQ='GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'


# A ClientHello over several records (OpenSSL cuts its records at 512
# bytes with -max_send_frag, and three long ALPN names make the hello
# longer): the library gathers it whole before its trip to handoffd.
long=$(printf 'x%.0s' $(seq 200))
for v in tls1_3 tls1_2; do
	out=$(printf "$REQ" | timeout 20 openssl s_client -quiet -msg \
		-connect "127.0.0.1:$HTTP_PORT" -servername localhost "-$v" \
		-max_send_frag 512 -alpn "a$long,b$long,c$long,http/1.1" \
		-CAfile "$CA" -verify_return_error 2>"$T/s_client.log") ||
		fail "$v fragmented ClientHello: $(tail -5 "$T/s_client.log")"
	grep -q "handoff-demo: TLSv1\.[23]" <<<"$out" ||
		fail "$v fragmented ClientHello got: $out"
	# Records written before the ClientHello's own line: its fragments.
	records=$(sed -n '/ClientHello/q; /^>>> .*RecordHeader/p' <<<"$out" | wc -l)
	[ "$records" -ge 2 ] ||
		fail "$v: the ClientHello went in $records record(s), not several"
	pass "$v ClientHello in $records records of at most 512 bytes"
done

for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 \
	TLS_CHACHA20_POLY1305_SHA256; do
	want="handoff-demo: TLSv1.3 $suite"

	out=$(printf "$REQ" | timeout 20 openssl s_client -quiet \
		-connect "127.0.0.1:$HTTP_PORT" -servername localhost \
		-tls1_3 -ciphersuites "$suite" -CAfile "$CA" \
		-verify_return_error 2>"$T/s_client.log") ||
		fail "openssl s_client ($suite) failed: $(cat "$T/s_client.log")"
	grep -q "$want" <<<"$out" || fail "openssl s_client ($suite) got: $out"
	grep -q "sni=localhost" <<<"$out" ||
		fail "server name not reported to the caller: $out"
	pass "openssl s_client, $suite"

	prio=$(gnutls_priority "$suite")
	out=$( (printf "$REQ"; sleep 1) | timeout 20 gnutls-cli \
		--priority "$prio" --x509cafile "$CA" \
		--sni-hostname localhost --verify-hostname localhost \
		-p "$HTTP_PORT" 127.0.0.1 2>"$T/gnutls-cli.log") ||
		fail "gnutls-cli ($suite) failed: $(tail -5 "$T/gnutls-cli.log")"
	grep -q "$want" <<<"$out" || fail "gnutls-cli ($suite) got: $out"
	pass "gnutls-cli, $suite"

	out=$(timeout 20 curl -sS --cacert "$CA" --tlsv1.3 \
		--tls13-ciphers "$suite" \
		--resolve "localhost:$HTTP_PORT:127.0.0.1" \
		"https://localhost:$HTTP_PORT/" 2>"$T/curl.log") ||
		fail "curl ($suite) failed: $(cat "$T/curl.log")"
	grep -q "$want" <<<"$out" || fail "curl ($suite) got: $out"
	pass "curl, $suite"

	echo_roundtrip "$ECHO_PORT" "$prio" "$CA"
	pass "200 KiB echoed intact, $suite"
done

# Many clients at once: the demo serves each on its own thread.
pids=()
for i in $(seq 1 20); do
	timeout 20 curl -sS --cacert "$CA" \
		--resolve "localhost:$HTTP_PORT:127.0.0.1" \
		"https://localhost:$HTTP_PORT/" >"$T/par.$i" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
ok=$(grep -l "handoff-demo: TLSv1.3" "$T"/par.* | wc -l)
[ "$ok" -eq 20 ] || fail "only $ok of 20 concurrent curls succeeded: $(cat "$T"/par.* | grep -v TLSv1.3 | head -3)"
pass "20 concurrent curl handshakes"

# ALPN from the profile reaches the caller (the demo prints it).
start_demo --profile web
out=$(timeout 20 curl -sS --http1.1 --cacert "$CA" \
	--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/" 2>&1) ||
	fail "curl with ALPN failed: $out"
grep -q "alpn=http/1.1" <<<"$out" || fail "ALPN not reported: $out"
out=$(printf "$REQ" | timeout 20 openssl s_client -quiet -alpn h2 \
	-connect "127.0.0.1:$PORT" -servername localhost -CAfile "$CA" 2>&1) || true
grep -q "alpn=h2" <<<"$out" || fail "ALPN h2 not reported: $out"
pass "ALPN negotiated in handoffd and reported to the caller (http/1.1, h2)"

# A session made through one caller process resumes through another:
# the session-ticket key lives in the daemon, not in the callers.
HTTP_PORT_1=$HTTP_PORT
start_demo
HTTP_PORT_2=$PORT
ops_before_full=$(stat_value private_key_ops)
printf "$REQ" | timeout 20 openssl s_client -quiet -sess_out "$T/sess.pem" \
	-connect "127.0.0.1:$HTTP_PORT_1" -servername localhost -tls1_3 \
	-CAfile "$CA" >"$T/first.out" 2>&1 || true
ops_before_resumed=$(stat_value private_key_ops)
[ "$ops_before_resumed" -eq $((ops_before_full + 1)) ] ||
	fail "a full handshake counted $((ops_before_resumed - ops_before_full)) private-key operations, expected 1"
out=$(printf "$REQ" | timeout 20 openssl s_client -sess_in "$T/sess.pem" \
	-connect "127.0.0.1:$HTTP_PORT_2" -servername localhost -tls1_3 \
	-CAfile "$CA" -ign_eof 2>&1) || true
grep -q "^Reused, TLSv1.3" <<<"$out" ||
	fail "no resumption across caller processes: $(grep -E '^(New|Reused)' <<<"$out")"
grep -q "handoff-demo: TLSv1.3 .* resumed" <<<"$out" ||
	fail "the caller was not told the session resumed"
[ "$(stat_value handshakes_resumed)" -ge 1 ] || fail "handshakes_resumed not counted"
[ "$(stat_value private_key_ops)" -eq "$ops_before_resumed" ] ||
	fail "the resumed handshake performed a private-key operation"
pass "TLS 1.3 session from one caller process resumed through another, with no private-key operation"

completed=$(stat_value handshakes_completed)
[ "${completed:-0}" -ge 32 ] ||
	fail "handoffctl stats reports $completed completed handshakes, expected >= 32"
open=$(stat_value open_sessions)
[ "$open" -eq 0 ] || fail "sessions left open after all handshakes: $open"
pass "handoffctl stats: $completed handshakes completed, none left open"

finish
