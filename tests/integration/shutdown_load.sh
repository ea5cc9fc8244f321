#!/usr/bin/env bash
# shutdown_load.sh - SIGTERM while handshakes are in flight.  handoffd
# must finish the steps it is running (their replies go out), answer the
# requests still queued with a clear "shutting down" error rather than
# leave their callers to their deadlines, stop its workers and exit 0 well
# within its 10 s grace period, without the "exiting without them"
# warning.  On the callers' side every one of many_inflight's handshakes
# ends, and none by its deadline.  A caller half-way whose next step
# comes after a quiet moment (a slow peer) hears "shutting down" too.
source "$(dirname "$0")/lib.sh"

PAIRS=${INFLIGHT_PAIRS:-500}
DEADLINE_MS=3000
start_daemon_for_many_inflight "$PAIRS"

"$MANY_INFLIGHT" "$DAEMON_URL" "$PAIRS" "$DEADLINE_MS" \
	>"$T/inflight.out" 2>"$T/inflight.log" &
load=$!
wait_for "handshake requests to reach handoffd" 30 \
	bash -c "[ \"\$('$HANDOFFCTL' --daemon '$DAEMON_URL' stats | awk '\$1 == \"requests\" {print \$2}')\" -gt 50 ]"

term_daemon
[ "$TERM_MS" -lt $((5000 * ${TIME_SCALE:-1})) ] ||
	fail "SIGTERM under load took $TERM_MS ms"
running=$(sed -n 's/.*finishing \([0-9]*\) running steps.*/\1/p' "$T/handoffd.log")
[ -n "$running" ] || fail "no 'finishing N running steps' line in the log"
! grep -q "exiting without them" "$T/handoffd.log" ||
	fail "handoffd gave up on running steps: $(grep 'exiting without' "$T/handoffd.log")"
grep -q "stopped" "$T/handoffd.log" || fail "no 'stopped' line in the log"
pass "SIGTERM with handshakes in flight: exit 0 after $TERM_MS ms ($running steps were running and finished)"

# Each caller's wait is bounded by its deadline: the load ends soon after
# (wait_for scales the limit under valgrind).
limit=$((DEADLINE_MS / 1000 + 20))
wait_for "many_inflight to end" "$limit" bash -c "! kill -0 $load"
wait "$load" || true
value() { awk -v k="$1" '$1 == k {print $2}' "$T/inflight.out"; }
done_count=$(($(value completed) + $(value failed)))
[ "$done_count" -eq $((2 * PAIRS)) ] ||
	fail "only $done_count of $((2 * PAIRS)) handshakes ended: $(cat "$T/inflight.out" "$T/inflight.log")"
pass "every handshake ended: $(value completed) completed, $(value failed) failed, in $(value seconds) s"
[ "$(value failed_HANDOFF_ESHUTDOWN)" -gt 0 ] ||
	fail "no caller was told handoffd is shutting down: $(cat "$T/inflight.out")"
[ -z "$(value failed_HANDOFF_ETIMEOUT)" ] ||
	fail "$(value failed_HANDOFF_ETIMEOUT) callers waited for their deadline instead of an answer"
pass "callers told at once: $(value failed_HANDOFF_ESHUTDOWN) \"shutting down\", none left to its deadline"

# A handshake half-way at SIGTERM whose caller's next step comes after a
# quiet receive timeout (its peer is slow): handoffd waits for it (up to
# its 1 s drain) and answers "shutting down", not the caller's deadline.
: "${IPC_PROBE:?run through ctest}"
mv "$T/handoffd.log" "$T/handoffd-first.log" # the probe reads a new one
start_daemon
out=$("$IPC_PROBE" "$DAEMON_URL" late-step "$DAEMON_PID" "$T/handoffd.log" 2>&1) ||
	fail "late step: $out"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "handoffd exited $rc after the late step"
pass "$out"
finish
