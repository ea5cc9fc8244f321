#!/usr/bin/env bash
# hello_ahead.sh - at low load handoffd sends a TLS 1.3 ServerHello ahead
# of the rest of the flight, and libhandoff's I/O thread writes it to the
# client at once, so the client starts on it while handoffd signs (as it
# would with an in-process server).  handoff-demo runs under strace,
# which records what goes to the client: the first write of a TLS 1.3
# handshake must be exactly one ServerHello record, from another thread
# than the one that writes the rest.  TLS 1.2 keeps its one write, and
# both handshakes complete.  handoffd's stats count the hellos sent ahead.
source "$TESTS_DIR/integration/lib.sh"

command -v strace >/dev/null || {
	echo "SKIP: strace is not installed (apt-get install strace)"
	exit 77
}

write_config
start_daemon
PORT=$(free_port)
strace -f -qq -xx -s 8 -e trace=sendto,sendmsg,write -o "$T/demo.strace" \
	"$HANDOFF_DEMO" serve --port "$PORT" --daemon "$DAEMON_URL" \
	>>"$T/demo.log" 2>&1 &
STRACE_PID=$!
# The demo is strace's child, not ours: stop it too, whatever happens.
EXTRA_CLEANUP='for p in $(pgrep -P "$STRACE_PID"); do kill -TERM "$p"; done'
wait_for "handoff-demo to listen on $PORT" 20 \
	grep -q "serving .*:$PORT/" "$T/demo.log"
REQ='GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'

# handshake VERSION_FLAG: one openssl client; fails unless it completes.
handshake() {
	local out
	out=$(printf "$REQ" | timeout 20 openssl s_client -quiet "$1" \
		-connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$T/server-cert.pem" -verify_return_error 2>"$T/client.log") ||
		fail "openssl s_client $1 failed: $(tail -3 "$T/client.log")"
	grep -q "handoff-demo: TLSv1" <<<"$out" || fail "$1 got: $out"
}

# tls_sends: the demo's writes of TLS records (one line each: thread id,
# first 8 bytes as \xNN, bytes written), in order.
tls_sends() {
	sed -n 's/^\([0-9]*\) *sendto([0-9]*, "\(\\x1[4-7]\\x03\\x0[1-4][^"]*\)".*) = \([0-9]*\)$/\1 \2 \3/p' \
		"$T/demo.strace"
}

ahead0=$(stat_value server_hellos_ahead)
handshake -tls1_3
[ "$(stat_value server_hellos_ahead)" -eq $((ahead0 + 1)) ] ||
	fail "server_hellos_ahead went from $ahead0 to $(stat_value server_hellos_ahead) for one TLS 1.3 handshake"
mapfile -t sends < <(tls_sends)
[ "${#sends[@]}" -ge 2 ] || fail "fewer than two TLS writes to the client: $(cat "$T/demo.strace")"
read -r tid1 head1 len1 <<<"${sends[0]}"
read -r tid2 _ <<<"${sends[1]}"
# A handshake record (0x16) holding a ServerHello (handshake type 2),
# and nothing after it: 5 header bytes plus the record's length.
[[ $head1 == '\x16\x03\x03'* ]] && [[ $head1 == *'\x02\x00\x00' ]] ||
	fail "the first write is not a ServerHello record: ${sends[0]}"
reclen=$((16#${head1:14:2}${head1:18:2}))
[ "$len1" -eq $((5 + reclen)) ] ||
	fail "the first write holds $len1 bytes, not one ServerHello record of $((5 + reclen))"
[ "$tid1" != "$tid2" ] ||
	fail "the ServerHello and the rest came from the same thread ($tid1): not sent ahead"
pass "TLS 1.3: the ServerHello ($len1 bytes) went out alone, ahead, from the I/O thread; the rest after it"

before=$(tls_sends | wc -l)
ahead1=$(stat_value server_hellos_ahead)
handshake -tls1_2
[ "$(stat_value server_hellos_ahead)" -eq "$ahead1" ] ||
	fail "a TLS 1.2 handshake counted a ServerHello ahead"
mapfile -t sends < <(tls_sends)
read -r _ head len <<<"${sends[$before]}"
[[ $head == '\x16\x03\x03'*'\x02\x00\x00' ]] ||
	fail "TLS 1.2: the first write does not open with a ServerHello: ${sends[$before]}"
reclen=$((16#${head:14:2}${head:18:2}))
[ "$len" -gt $((5 + reclen)) ] ||
	fail "TLS 1.2: the first write holds only the ServerHello (${sends[$before]})"
pass "TLS 1.2: the ServerHello goes with the rest of its flight, none sent ahead"
eval "$EXTRA_CLEANUP"
wait "$STRACE_PID" || true
finish
