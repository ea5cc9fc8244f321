#!/usr/bin/env bash
# trickle.sh - a peer that sends its ClientHello one byte per record, a
# record every 200 ms, is cut off by the whole handshake's limit (2.5 s
# here, handoff_config_set_handshake_timeout_ms) with HANDOFF_ETIMEOUT,
# on a blocking and a non-blocking socket; before the limit existed it
# kept the handshake going for about a minute.  The library waits for
# the whole ClientHello before its first trip to handoffd, so the trickle
# costs the daemon no step (it cost one per record before).  The tool is
# tests/tools/trickle_peer.c.
source "$TESTS_DIR/integration/lib.sh"
: "${TRICKLE_PEER:?run through ctest}"

start_daemon
for mode in blocking nonblocking; do
	before=$(stat_value requests)
	rc=0
	timeout 30 "$TRICKLE_PEER" "$DAEMON_URL" "$mode" >"$T/$mode.log" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "$mode (exit $rc): $(cat "$T/$mode.log")"
	pass "$(cat "$T/$mode.log")"
	# Counted: the tool's client making the ClientHello (START, and ABORT
	# at its free) and the stats query itself.  The trickled server side
	# must cost handoffd nothing, as its ClientHello never completes (it
	# cost a step per record before: ~12 here).
	requests=$(($(stat_value requests) - before))
	[ "$requests" -le 3 ] ||
		fail "$mode: $requests requests reached handoffd for one ClientHello that never completed"
	pass "$mode: $requests requests reached handoffd (the ClientHello's maker's and the stats query)"
done
finish
