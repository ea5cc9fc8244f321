#!/usr/bin/env bash
# records.sh - the caller's record layer meets a misbehaving GnuTLS peer
# after the hand-off: a forged record gets bad_record_mac, an oversized
# one record_overflow, a peer's fatal alert becomes a clear error, the
# peer's record_size_limit (RFC 8449) and max_fragment_length (RFC 6066,
# which OpenSSL enforces on what it receives) are honoured, and 64 KiB
# round-trips intact.
source "$TESTS_DIR/integration/lib.sh"
: "${TLS_ATTACK_CLIENT:?run through ctest}"

start_daemon
start_demo --echo
CA="$T/server-cert.pem"

out=$(timeout 20 "$TLS_ATTACK_CLIENT" "$PORT" "$CA" big) || fail "big: $out"
pass "$out"

out=$(timeout 20 "$TLS_ATTACK_CLIENT" "$PORT" "$CA" limit) || fail "limit: $out"
pass "peer's record_size_limit honoured: $out"

# max_fragment_length: 8 KiB in one line comes back in 512-byte records,
# else OpenSSL fails with record_overflow (DATA_LENGTH_TOO_LONG).
# s_client's input stays open until the whole line has come back, then
# ends it, and -no_ign_eof (after -quiet, which turns ignoring on) makes
# s_client close there: the echo server never closes, and waiting for it
# ran each check into the 20 s timeout.  -nocommands: without ignoring,
# s_client reads a line starting with Q, R, k or K as a command.
head -c 6000 /dev/urandom | base64 -w 0 >"$T/line"
echo >>"$T/line"
echoed() {
	[ "$(stat -c %s "$T/mfl.out")" -ge "$(stat -c %s "$T/line")" ]
}
for v in tls1_2 tls1_3; do
	: >"$T/mfl.out"
	{
		cat "$T/line"
		await 20 echoed
	} | timeout $((20 * ${TIME_SCALE:-1})) openssl s_client -quiet \
		-no_ign_eof -nocommands -connect "127.0.0.1:$PORT" \
		-CAfile "$CA" -maxfraglen 512 "-$v" \
		>"$T/mfl.out" 2>"$T/mfl.log" || true
	cmp -s "$T/line" "$T/mfl.out" ||
		fail "$v max_fragment_length 512: $(grep -i error "$T/mfl.log" | head -2)"
	pass "$v: 8 KiB echoed to a client that negotiated max_fragment_length 512"
done

out=$(timeout 20 "$TLS_ATTACK_CLIENT" "$PORT" "$CA" badmac) ||
	fail "forged record: $out"
wait_for "the demo to report the forged record" 5 \
	grep -q "failed authentication (bad_record_mac)" "$T/demo.log"
pass "forged record: $out; caller told: $(grep -o 'a record from the peer[^(]*' "$T/demo.log" | head -1)"

out=$(timeout 20 "$TLS_ATTACK_CLIENT" "$PORT" "$CA" overflow) ||
	fail "oversized record: $out"
pass "oversized record: $out"

out=$(timeout 20 "$TLS_ATTACK_CLIENT" "$PORT" "$CA" alert) || fail "alert: $out"
wait_for "the demo to report the peer's alert" 5 \
	grep -q "peer sent alert 80: Internal error" "$T/demo.log"
pass "peer's fatal alert reported: $(grep -o "peer sent alert 80: [A-Za-z ]*" "$T/demo.log" | head -1)"

"$HANDOFFCTL" --daemon "$DAEMON_URL" ping >/dev/null || fail "daemon gone"
finish
