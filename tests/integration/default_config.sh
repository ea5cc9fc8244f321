#!/usr/bin/env bash
# default_config.sh - handoffd with no config file: it makes a private
# runtime directory and a socket nobody else may use, generates a
# self-signed localhost certificate on first start (and reuses it after),
# and handoff-demo finds it with no URL given.  Run as an unprivileged
# user (nobody, when the suite runs as root) with XDG directories inside
# the test folder, so the system's /run and /var/lib are never touched.
source "$TESTS_DIR/integration/lib.sh"

as_user=()
if [ "$(id -u)" -eq 0 ]; then
	as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	chown nobody:nogroup "$T"
fi
export XDG_RUNTIME_DIR="$T/run" XDG_STATE_HOME="$T/state"
unset HANDOFF_DAEMON
"${as_user[@]}" mkdir -p "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME"

"${as_user[@]}" "$HANDOFFD" --foreground >>"$T/handoffd.log" 2>&1 &
DAEMON_PID=$!
sock="$T/run/handoff/handoffd.sock"
wait_for "the default socket" 10 test -S "$sock"

[ "$(stat -c %a "$T/run/handoff")" = 700 ] ||
	fail "runtime directory mode is $(stat -c %a "$T/run/handoff"), want 700"
[ "$(stat -c %a "$sock")" = 660 ] ||
	fail "socket mode is $(stat -c %a "$sock"), want 660"
pass "private runtime directory (700) and socket (660) at $sock"

cert="$T/state/handoff/default-cert.pem"
key="$T/state/handoff/default-key.pem"
[ -f "$cert" ] && [ "$(stat -c %a "$key")" = 600 ] ||
	fail "no default certificate, or key not 0600"
openssl x509 -in "$cert" -noout -text | grep "DNS:localhost" >/dev/null ||
	fail "default certificate is not for localhost"
openssl x509 -in "$cert" -noout -text | grep "id-ecPublicKey" >/dev/null ||
	fail "default certificate is not ECDSA"
pass "self-signed ECDSA certificate for localhost generated"

# The demo, with no --daemon and no HANDOFF_DAEMON, finds the same socket.
PORT=$(free_port)
other_user_demo
"${as_user[@]}" "${OTHER_USER_DEMO[@]}" serve --port "$PORT" \
	>>"$T/demo.log" 2>&1 &
wait_for "demo" 10 grep -q "serving .*:$PORT/" "$T/demo.log"
out=$(timeout 10 curl -sS --cacert "$cert" \
	--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/") ||
	fail "curl against the default setup failed"
grep -q "TLSv1.3" <<<"$out" || fail "unexpected answer: $out"
pass "curl --cacert default-cert.pem works: $out"

# A restart keeps the same certificate.
fingerprint=$(openssl x509 -in "$cert" -noout -fingerprint)
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "handoffd did not exit 0 on SIGTERM"
"${as_user[@]}" "$HANDOFFD" --foreground >>"$T/handoffd.log" 2>&1 &
DAEMON_PID=$!
wait_for "the restarted daemon" 10 \
	"${as_user[@]}" "$HANDOFFCTL" ping
[ "$(openssl x509 -in "$cert" -noout -fingerprint)" = "$fingerprint" ] ||
	fail "the certificate changed across restarts"
pass "restart reuses the certificate"
finish
