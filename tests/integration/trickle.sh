#!/usr/bin/env bash
# trickle.sh - a peer that sends its ClientHello one byte per record, each
# record well within the 1 s deadline, is cut off by the whole
# handshake's limit (2.5 s here, handoff_config_set_handshake_timeout_ms)
# with HANDOFF_ETIMEOUT, on a blocking and a non-blocking socket; before
# the limit existed it kept the handshake (and a daemon step per record)
# going for about a minute.  The tool is tests/tools/trickle_peer.c.
source "$TESTS_DIR/integration/lib.sh"
: "${TRICKLE_PEER:?run through ctest}"

start_daemon
for mode in blocking nonblocking; do
	rc=0
	timeout 30 "$TRICKLE_PEER" "$DAEMON_URL" "$mode" >"$T/$mode.log" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "$mode (exit $rc): $(cat "$T/$mode.log")"
	pass "$(cat "$T/$mode.log")"
done
finish
