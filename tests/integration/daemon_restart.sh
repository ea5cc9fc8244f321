#!/usr/bin/env bash
# daemon_restart.sh - handoffd killed with SIGKILL while a caller waits on
# it: the caller fails within its deadline with a clear error, and once a
# new handoffd is up the same caller process completes handshakes again
# without being restarted.
source "$TESTS_DIR/integration/lib.sh"
CA="$T/server-cert.pem"
get() {
	timeout 10 curl -sS --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" \
		"https://localhost:$PORT/" 2>&1
}

# Under valgrind (TIME_SCALE) a cold daemon's and demo's first handshake
# alone takes about a second: the deadline stretches with the scale.
deadline=$((1500 * ${TIME_SCALE:-1}))
start_daemon
start_demo --deadline "$deadline"
get | grep TLSv1.3 >/dev/null || fail "first handshake failed"
pass "handshake through the first daemon"

# Freeze the daemon so a handshake is certainly waiting on it, then kill.
kill -STOP "$DAEMON_PID"
get >/dev/null &
client=$!
sleep 0.5 # the ClientHello is now queued for the frozen daemon
start=$(date +%s%N)
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
wait_for "the waiting caller to fail" 5 grep -q "handshake failed" "$T/demo.log"
elapsed=$((($(date +%s%N) - start) / 1000000))
wait "$client" || true
grep -q "HANDOFF_ETIMEOUT" "$T/demo.log" ||
	fail "unexpected error: $(grep 'handshake failed' "$T/demo.log")"
[ "$elapsed" -lt $((deadline + 1500)) ] ||
	fail "caller waited ${elapsed} ms after the kill (deadline $deadline ms)"
pass "caller failed ${elapsed} ms after the kill: $(grep -o 'failed: .*' "$T/demo.log" | head -c 110)"

# While no daemon runs, callers fail fast and say so.
out=$(get) && fail "a handshake succeeded with no daemon"
pass "no daemon: handshake refused"

start_daemon
out=$(get)
grep -q TLSv1.3 <<<"$out" || fail "no recovery after restart: $out $(tail -3 "$T/demo.log")"
for _ in 1 2 3; do get | grep TLSv1.3 >/dev/null || fail "later handshake failed"; done
pass "the same caller process completes handshakes with the new daemon"
finish
