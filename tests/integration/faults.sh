#!/usr/bin/env bash
# faults.sh - handshakes that never finish cost nothing but a session slot:
# a peer that stalls after its ClientHello holds no worker (other
# handshakes go through a one-worker daemon meanwhile), and a caller
# killed mid-handshake leaves a session that the idle timeout frees.
source "$TESTS_DIR/integration/lib.sh"

write_config "workers = 1" "session_timeout = 2"
start_daemon
start_demo --deadline 20000
CA="$T/server-cert.pem"
get() {
	timeout 10 curl -sS --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" \
		"https://localhost:$PORT/" 2>&1
}

# A peer that starts a ClientHello and never finishes it: one whole
# record holding the first 4 bytes of a handshake message.  It declares
# 16 KiB + 1 bytes, more than the caller gathers itself before a trip
# (lib/hs_input.c), so the caller passes the record to the daemon, whose
# GnuTLS then waits for the rest.
STALL='\x16\x03\x01\x00\x04\x01\x00\x40\x01'
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf "$STALL" >&3
wait_for "the stalled handshake's session" 5 \
	bash -c "[ \$('$HANDOFFCTL' --daemon '$DAEMON_URL' stats | awk '/^open_sessions/ {print \$2}') -ge 1 ]"
start=$(date +%s%N)
for _ in 1 2 3; do
	get | grep TLSv1.3 >/dev/null || fail "a handshake waited behind a stalled one"
done
elapsed=$((($(date +%s%N) - start) / 1000000))
pass "3 handshakes through a 1-worker daemon in ${elapsed} ms while a peer stalls"

wait_for "the stalled session to expire" 10 \
	bash -c "[ \$('$HANDOFFCTL' --daemon '$DAEMON_URL' stats | awk '/^sessions_expired/ {print \$2}') -ge 1 ]"
exec 3<&-
pass "the stalled peer's session expired after the idle timeout"

# A caller killed with SIGKILL between two steps of its handshake.
stop_demo
start_demo --deadline 20000
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf "$STALL" >&3
before=$(stat_value sessions_expired)
wait_for "the caller's session" 5 \
	bash -c "[ \$('$HANDOFFCTL' --daemon '$DAEMON_URL' stats | awk '/^open_sessions/ {print \$2}') -ge 1 ]"
kill -KILL "$DEMO_PID"
wait "$DEMO_PID" 2>/dev/null || true
exec 3<&-
wait_for "the dead caller's session to be freed" 10 \
	bash -c "[ \$('$HANDOFFCTL' --daemon '$DAEMON_URL' stats | awk '/^open_sessions/ {print \$2}') -eq 0 ]"
[ "$(stat_value sessions_expired)" -gt "$before" ] ||
	fail "the session was not freed by expiry"
pass "a SIGKILLed caller's session freed by the idle timeout"
"$HANDOFFCTL" --daemon "$DAEMON_URL" ping >/dev/null || fail "daemon gone"
finish
