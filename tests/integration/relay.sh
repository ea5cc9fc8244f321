#!/usr/bin/env bash
# relay.sh - TLS 1.3 session tickets relayed to a daemon that dies before
# it answers: 40 open client connections relay theirs to a frozen
# handoffd, which is then killed and replaced; a new handshake on the same
# context still works (unanswered relays held the context's window of 32
# requests, and every new handshake timed out), and freeing the 40
# connections takes under a second (each waited up to 200 ms for an
# answer).  The client is tests/tools/relay_client.c.
source "$TESTS_DIR/integration/lib.sh"
: "${RELAY_CLIENT:?run through ctest}"

make_cert server
start_daemon
port=$(free_port)
start_gnutls_server "$port" --x509certfile "$T/server-cert.pem" \
	--x509keyfile "$T/server-key.pem" --priority "NORMAL:-VERS-ALL:+VERS-TLS1.3"

coproc CLIENT { timeout 60 "$RELAY_CLIENT" "$DAEMON_URL" "$port" \
	"$T/server-cert.pem" 40 2>&1; }
expect_line "${CLIENT[0]}" connected
kill -STOP "$DAEMON_PID"
echo go >&"${CLIENT[1]}"
expect_line "${CLIENT[0]}" relayed
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
start_daemon
echo go >&"${CLIENT[1]}"
read -r -t 30 out <&"${CLIENT[0]}" || true
wait "$CLIENT_PID" || fail "relay_client: $out"
pass "$out"
finish
