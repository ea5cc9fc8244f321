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
	# The second line goes only once the first is echoed: sent earlier,
	# s_client may put both in one record, which libhandoff would read
	# (a slow daemon, e.g. under valgrind, made that happen).
	rm -f "$T/in" && mkfifo "$T/in" && : >"$T/out"
	timeout 30 openssl s_client -quiet "$v" -connect "127.0.0.1:$PORT" \
		-CAfile "$T/server-cert.pem" <"$T/in" >"$T/out" 2>&1 &
	client=$!
	exec 3>"$T/in"
	echo "through-libhandoff" >&3
	wait_for "the echo through libhandoff ($v)" 20 \
		grep -q "^through-libhandoff" "$T/out"
	echo "to-exported-keys" >&3
	wait_for "the record sealed with exported keys ($v)" 20 \
		grep -q "^sealed-with-exported-keys" "$T/out"
	exec 3>&-
	wait "$client" || true
	out=$(cat "$T/out")
	wait "$pid" || fail "export_check ($v): $(cat "$T/export.log")"
	grep -q "^through-libhandoff" <<<"$out" || fail "no echo ($v): $out"
	grep -q "opened with exported keys: to-exported-keys" "$T/export.log" ||
		fail "peer's record not opened ($v): $(cat "$T/export.log")"
	grep -q "^sealed-with-exported-keys" <<<"$out" ||
		fail "peer did not accept our record ($v): $out"
	pass "$v: $(grep '^exported' "$T/export.log"); both directions work outside libhandoff"
done
finish
