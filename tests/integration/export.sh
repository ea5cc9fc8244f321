#!/usr/bin/env bash
# export.sh - handoff_conn_export_keys() gives keys that carry on the
# connection outside libhandoff, TLS 1.3 and TLS 1.2 (see export_check.c).
source "$TESTS_DIR/integration/lib.sh"
: "${EXPORT_CHECK:?run through ctest}"
start_daemon

for v in -tls1_3 -tls1_2; do
	PORT=$(free_port)
	: >"$T/export.log"
	"$EXPORT_CHECK" "$PORT" "$DAEMON_URL" >"$T/export.log" 2>&1 &
	pid=$!
	wait_for "export_check to listen" 10 grep -q listening "$T/export.log"
	out=$( (echo "through-libhandoff"; sleep 0.5; echo "to-exported-keys";
		sleep 1.5) | timeout 20 openssl s_client -quiet "$v" \
		-connect "127.0.0.1:$PORT" -CAfile "$T/server-cert.pem" 2>&1) || true
	wait "$pid" || fail "export_check ($v): $(cat "$T/export.log")"
	grep -q "^through-libhandoff" <<<"$out" || fail "no echo ($v): $out"
	grep -q "opened with exported keys: to-exported-keys" "$T/export.log" ||
		fail "peer's record not opened ($v): $(cat "$T/export.log")"
	grep -q "^sealed-with-exported-keys" <<<"$out" ||
		fail "peer did not accept our record ($v): $out"
	pass "$v: $(grep '^exported' "$T/export.log"); both directions work outside libhandoff"
done
finish
