#!/usr/bin/env bash
# peer_gone.sh - a TLS peer that goes away while a libhandoff program
# writes to it costs that program an error, not its life.  The server
# (peer_gone_server) keeps SIGPIPE at its default action, as a program
# that never thought about it would; the client sends a line and is then
# killed, so its socket closes for good.  Writing to it must fail with
# HANDOFF_EIO and an error saying the peer closed the connection; before
# libhandoff sent with MSG_NOSIGNAL, SIGPIPE ended the process (141).
source "$TESTS_DIR/integration/lib.sh"
: "${PEER_GONE_SERVER:?run through ctest}"

write_config
start_daemon
PORT=$(free_port)
"$PEER_GONE_SERVER" "$PORT" "$DAEMON_URL" >"$T/server.log" 2>&1 &
server=$!
wait_for "peer_gone_server to listen" 10 grep -q listening "$T/server.log"
# 2 s for the handshake and the line (tens of ms, slower under ASan).
(
	printf 'hi\n'
	sleep 4
) | timeout 2 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
	-CAfile "$T/server-cert.pem" >"$T/client.log" 2>&1 || true
rc=0
wait "$server" || rc=$?
[ "$rc" -ne 141 ] ||
	fail "SIGPIPE ended the program that wrote to a closed peer (exit 141)"
[ "$rc" -eq 0 ] || fail "peer_gone_server exited $rc: $(cat "$T/server.log")"
grep -q "write: HANDOFF_EIO: the peer closed the connection" "$T/server.log" ||
	fail "unclear error: $(cat "$T/server.log")"
pass "writing to a peer that went away: $(grep '^write:' "$T/server.log")"
finish
