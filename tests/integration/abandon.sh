#!/usr/bin/env bash
# abandon.sh - a program that frees connections whose first request is
# still with handoffd leaves no session behind: the daemon's reply, with
# the new session's token, reaches a connection that is gone, and
# libhandoff aborts that session at once instead of leaving it to
# session_timeout (30 s by default; the 50 sessions used to stay); and
# connections that hold their token, freed right before the process
# exits, get their ABORTs to handoffd before nanomsg closes.
source "$TESTS_DIR/integration/lib.sh"
: "${ABANDON_CLIENT:?run through ctest}"

start_daemon
out=$("$ABANDON_CLIENT" "$DAEMON_URL" 50) || fail "abandon_client: $out"
# Each first request reached handoffd (else nothing would be left).
[ "$(stat_value requests)" -ge 100 ] ||
	fail "only $(stat_value requests) requests reached handoffd"
for _ in $(seq 50); do
	open=$(stat_value open_sessions)
	[ "$open" = 0 ] && break
	nap 0.1
done
[ "$open" = 0 ] || fail "handoffd still holds $open sessions of abandoned handshakes"
pass "$out; handoffd holds none of their sessions"
finish
