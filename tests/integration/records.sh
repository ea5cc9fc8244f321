#!/usr/bin/env bash
# records.sh - the caller's record layer meets a misbehaving GnuTLS peer
# after the hand-off: a forged record gets bad_record_mac, an oversized
# one record_overflow, a peer's fatal alert becomes a clear error, the
# peer's record_size_limit (RFC 8449) is honoured, and 64 KiB round-trips
# intact.
source "$TESTS_DIR/integration/lib.sh"
: "${TLS_ATTACK_CLIENT:?run through ctest}"

start_daemon
start_demo --echo
CA="$T/server-cert.pem"

out=$(timeout 20 "$TLS_ATTACK_CLIENT" "$PORT" "$CA" big) || fail "big: $out"
pass "$out"

out=$(timeout 20 "$TLS_ATTACK_CLIENT" "$PORT" "$CA" limit) || fail "limit: $out"
pass "peer's record_size_limit honoured: $out"

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
