#!/usr/bin/env bash
# key_isolation.sh - the private key never crosses the IPC socket.
# handoffd runs under strace, which records every byte it sends and
# receives; after several handshakes the capture must hold known request
# bytes (proof the capture works) and never the key's private scalar.
source "$TESTS_DIR/integration/lib.sh"
command -v strace >/dev/null || {
	echo "SKIP: strace is not installed (apt-get install strace)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
}
make_cert server
scalar=$(openssl pkey -in "$T/server-key.pem" -noout -text |
	sed -n '/priv:/,/pub:/p' | grep -v 'priv:\|pub:' | tr -d ' :\n')
scalar=${scalar: -64} # 32 bytes; the dump may add a leading 00
[ ${#scalar} -eq 64 ] || fail "could not read the private scalar"

write_config
# Only socket traffic: the key file itself is read with read(2), which is
# not traced here, and its bytes are PEM text anyway.
strace -f -qq -xx -s 1000000 -o "$T/strace.out" \
	-e trace=sendmsg,recvmsg,sendto,recvfrom,writev,readv \
	"$HANDOFFD" --foreground --config "$T/handoffd.conf" \
	>>"$T/handoffd.log" 2>&1 &
DAEMON_PID=$!
# handoffd is strace's child, not ours: stop it too if the test fails.
EXTRA_CLEANUP='for p in $(pgrep -P "$DAEMON_PID"); do kill -TERM "$p"; done'
wait_for "handoffd under strace" 20 "$HANDOFFCTL" --daemon "$DAEMON_URL" ping
start_demo
for _ in 1 2 3 4 5; do
	timeout 10 curl -sS --cacert "$T/server-cert.pem" \
		--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/" |
		grep -q TLSv1.3 || fail "handshake under strace failed"
done
stop_demo
# $DAEMON_PID is strace; handoffd is its child.  Stop handoffd, and strace
# ends with it.
daemon=$(pgrep -P "$DAEMON_PID" | head -1)
[ -n "$daemon" ] || fail "cannot find handoffd under strace"
kill -TERM "$daemon"
wait "$DAEMON_PID" 2>/dev/null || true
EXTRA_CLEANUP= # strace is reaped: its PID may belong to anyone now

# One hex stream per traced call: keep only the \xNN bytes.
grep -oE '"(\\x[0-9a-f]{2})+"' "$T/strace.out" | tr -d '"\\x' >"$T/hex"
lines=$(wc -l <"$T/hex")
[ "$lines" -ge 20 ] || fail "capture too small ($lines calls with data)"
# "HOFF" frame magic and the profile name "default" must be there.
grep -q "484f4646" "$T/hex" || fail "no handoff frames in the capture"
grep -q "64656661756c74" "$T/hex" || fail "profile name not in the capture"
pass "captured $lines IPC calls carrying handoff frames"
if grep -q "$scalar" "$T/hex"; then
	fail "the private key's scalar crossed the IPC socket"
fi
pass "the private key's 32-byte scalar appears in none of them"
finish
