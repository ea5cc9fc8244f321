#!/usr/bin/env bash
# failures.sh - the library's failure modes are fast and clear: no daemon,
# a daemon that stopped, a daemon that does not answer, a socket this user may not use, a
# handshake the daemon rejects, hostile bytes, an unknown profile, and a
# peer that sends nothing.  Each must fail within its deadline with a
# message that says what is wrong and names the socket where it matters.
source "$TESTS_DIR/integration/lib.sh"
CA="$T/server-cert.pem"

# demo_error PATTERN SECONDS: waits for a handshake error in demo.log.
demo_error() {
	wait_for "the demo to report: $1" "$2" grep -q "$1" "$T/demo.log"
}

# connect_silently: a TLS client whose outcome we do not need.
tls_client() {
	timeout 10 openssl s_client -connect "127.0.0.1:$PORT" "$@" \
		</dev/null >"$T/client.out" 2>&1 || true
}

# https_get: one request through the demo, printing the reply.
https_get() {
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet \
		-connect "127.0.0.1:$PORT" -CAfile "$CA" 2>/dev/null || true
}

# expect_no_daemon WHAT: a handshake through the demo (deadline 3 s)
# fails well before the deadline with HANDOFF_ENODAEMON and an error that
# names the socket and says what to do; sets elapsed (ms).
expect_no_daemon() {
	local start
	start=$(date +%s%N)
	tls_client
	demo_error "handshake failed" 5
	elapsed=$((($(date +%s%N) - start) / 1000000))
	grep -q "no handoffd socket at $T/handoffd.sock" "$T/demo.log" ||
		fail "$1: the error does not name the socket: $(tail -2 "$T/demo.log")"
	grep -q "start handoffd" "$T/demo.log" ||
		fail "$1: the error does not say what to do"
	grep -q "HANDOFF_ENODAEMON" "$T/demo.log" || fail "$1: wrong error code"
	[ "$elapsed" -lt 2000 ] || fail "$1: the error took ${elapsed} ms"
}

# (a) no daemon at the URL: refused at once, naming the socket.
write_config
start_demo --deadline 3000
expect_no_daemon "no daemon"
pass "no daemon: clear error naming the socket after ${elapsed} ms"
rc=0
out=$("$HANDOFFCTL" --daemon "$DAEMON_URL" ping 2>&1) || rc=$?
[ "$rc" -eq 1 ] && grep -q "no handoffd socket at $T/handoffd.sock" <<<"$out" ||
	fail "handoffctl without a daemon: exit $rc, $out"
pass "handoffctl without a daemon: $out"
stop_demo
: >"$T/demo.log"

# (b) a daemon that does not answer: the deadline ends the wait.  Under
# valgrind (TIME_SCALE) the daemon's first handshake after it resumes may
# itself take over a second, so the deadline stretches with the scale.
deadline=$((1000 * ${TIME_SCALE:-1}))
start_daemon
start_demo --deadline "$deadline"
kill -STOP "$DAEMON_PID"
start=$(date +%s%N)
tls_client
demo_error "handshake failed" 6
elapsed=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$DAEMON_PID"
grep -q "no reply from handoffd at $DAEMON_URL within $deadline ms" "$T/demo.log" ||
	fail "stalled-daemon error unclear: $(tail -2 "$T/demo.log")"
grep -q "HANDOFF_ETIMEOUT" "$T/demo.log" || fail "wrong error code"
[ "$elapsed" -ge $((deadline * 8 / 10)) ] && [ "$elapsed" -lt $((deadline + 3000)) ] ||
	fail "stalled daemon: gave up after ${elapsed} ms, deadline $deadline ms"
pass "stalled daemon: timed out after ${elapsed} ms (deadline $deadline ms)"
# The same demo process works again once the daemon does.
: >"$T/demo.log"
out=$(https_get)
grep -q "TLSv1.3" <<<"$out" ||
	fail "no recovery after the daemon resumed: $out $(tail -3 "$T/demo.log")"
pass "the same caller recovers when the daemon answers again"

# (d) a handshake the daemon rejects: the client offers only a CBC suite.
: >"$T/demo.log"
tls_client -tls1_2 -cipher AES128-SHA
grep -qiE "alert (protocol version|handshake failure)" "$T/client.out" ||
	fail "peer did not get an alert: $(tail -3 "$T/client.out")"
demo_error "TLS handshake failed in handoffd:" 5
grep -q "HANDOFF_EHANDSHAKE" "$T/demo.log" || fail "wrong error code"
pass "rejected handshake: alert to the peer, reason to the caller ($(grep -o 'handoffd: [^(]*' "$T/demo.log" | head -1))"

# (e) hostile bytes: plain HTTP to the TLS port.
: >"$T/demo.log"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET / HTTP/1.0\r\n\r\n' >&3
timeout 5 cat <&3 >/dev/null || true
exec 3<&-
demo_error "handshake failed" 5
"$HANDOFFCTL" --daemon "$DAEMON_URL" ping >/dev/null ||
	fail "daemon stopped answering after hostile bytes"
pass "hostile bytes: handshake refused ($(grep -o 'failed: [^(]*' "$T/demo.log" | head -1)), daemon still serving"

# (g) a peer that connects and sends nothing.
: >"$T/demo.log"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
start=$(date +%s%N)
demo_error "handshake failed" 6
elapsed=$((($(date +%s%N) - start) / 1000000))
exec 3<&-
grep -q "HANDOFF_ETIMEOUT" "$T/demo.log" ||
	fail "silent peer: $(tail -1 "$T/demo.log")"
[ "$elapsed" -lt $((deadline + 3000)) ] || fail "silent peer held for ${elapsed} ms"
pass "silent peer dropped after ${elapsed} ms"
stop_demo

# (f) an unknown profile.
: >"$T/demo.log"
start_demo --profile nope
tls_client
demo_error "handshake failed" 5
grep -q 'no profile named "nope"' "$T/demo.log" ||
	fail "unknown profile: $(tail -1 "$T/demo.log")"
grep -q "HANDOFF_EPROFILE" "$T/demo.log" || fail "wrong error code"
pass "unknown profile named in the error"
stop_demo

# (h) a daemon stopped while a caller is connected to it: the caller's
# next handshake fails at once, naming the socket (handoffd removes it on
# SIGTERM), not at its deadline.
: >"$T/demo.log"
start_demo --deadline 3000
out=$(https_get)
grep -q "TLSv1.3" <<<"$out" || fail "no handshake before the stop: $out"
term_daemon
: >"$T/demo.log"
expect_no_daemon "daemon stopped"
pass "daemon stopped under a connected caller: clear error after ${elapsed} ms"
stop_demo

# (c) a socket this user may not use: needs a second uid.
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: permission check needs root to run a client as another uid"
else
	stop_daemon
	mkdir -m 700 "$T/private"
	DAEMON_URL="ipc://$T/private/handoffd.sock"
	write_config
	sed -i "s|^listen = .*|listen = $DAEMON_URL|" "$T/handoffd.conf"
	start_daemon
	: >"$T/demo.log"
	chmod 755 "$T"
	PORT=$(free_port)
	other_user_demo
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"${OTHER_USER_DEMO[@]}" serve --port "$PORT" \
		--daemon "$DAEMON_URL" >>"$T/demo.log" 2>&1 &
	wait_for "demo as nobody" 10 grep -q "serving .*:$PORT/" "$T/demo.log"
	tls_client
	demo_error "handshake failed" 5
	grep -q "$T/private/handoffd.sock" "$T/demo.log" ||
		fail "permission error does not name the socket: $(tail -1 "$T/demo.log")"
	grep -qi "permission" "$T/demo.log" ||
		fail "permission error does not say permission: $(tail -1 "$T/demo.log")"
	pass "another uid: refused, naming the socket ($(grep -o 'failed: .*' "$T/demo.log" | head -c 120))"
fi
finish
