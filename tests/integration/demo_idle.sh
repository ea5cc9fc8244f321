#!/usr/bin/env bash
# demo_idle.sh - handoff-demo closes a client that stays idle past
# --idle-timeout after its handshake, with close_notify, and says why: the
# socket's SO_RCVTIMEO ends libhandoff's blocking read (it returns
# HANDOFF_WANT_POLLIN with HANDOFF_ETIMEOUT instead of waiting for ever).
# A client that keeps talking, each pause shorter than the timeout, is
# served for longer than it.
source "$TESTS_DIR/integration/lib.sh"

# A value that is not a number of milliseconds is refused, not read as 0
# (no timeout at all).
rc=0
"$HANDOFF_DEMO" serve --port 1 --idle-timeout 5s >"$T/bad.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q 'takes milliseconds.*not "5s"' "$T/bad.log" ||
	fail "--idle-timeout 5s: exit $rc, $(cat "$T/bad.log")"
pass "--idle-timeout 5s is refused: $(cat "$T/bad.log")"

write_config
start_daemon
start_demo --echo --idle-timeout 500

# An idle client: its input stays open for 30 s, so only the server can
# end the connection early.  s_client prints "closed" on close_notify.
start=$(date +%s%N)
sleep 30 | openssl s_client -connect "127.0.0.1:$PORT" \
	-CAfile "$T/server-cert.pem" >"$T/idle.log" 2>&1 &
wait_for "handoff-demo to close the idle client" 10 \
	grep -qx closed "$T/idle.log"
took_ms=$((($(date +%s%N) - start) / 1000000))
grep -q "Verify return code: 0" "$T/idle.log" ||
	fail "the idle client's handshake did not complete"
[ "$took_ms" -ge 500 ] || fail "the idle client was closed after only ${took_ms} ms"
wait_for "handoff-demo to say why" 5 grep -q \
	"connection ended: the socket's receive timeout (SO_RCVTIMEO) passed.*(HANDOFF_ETIMEOUT)" \
	"$T/demo.log"
pass "an idle client gets close_notify after ${took_ms} ms (timeout 500 ms), and the log says why"

# A talking client: eight lines 200 ms apart, 1.6 s in all, each echoed.
(
	for i in 1 2 3 4 5 6 7 8; do
		echo "line $i"
		sleep 0.2
	done
) | timeout 20 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
	-CAfile "$T/server-cert.pem" >"$T/talk.log" 2>&1 || true
for i in 1 2 3 4 5 6 7 8; do
	grep -qx "line $i" "$T/talk.log" ||
		fail "line $i was not echoed back to a client that kept talking"
done
pass "a client that pauses less than the timeout is served past it (8 lines in 1.6 s)"
finish
