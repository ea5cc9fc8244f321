#!/usr/bin/env bash
# stalled_peer.sh - a peer that sends its ClientHello and then never
# reads: the server's flight (a certificate of about 20 KiB) does not fit
# in the socket's send buffer, and the handshake must fail with
# HANDOFF_ETIMEOUT at its deadline instead of blocking in send() for ever
# (blocking socket) or returning HANDOFF_WANT_POLLOUT for ever with a
# poll timeout of 0 (non-blocking socket).
source "$TESTS_DIR/integration/lib.sh"
: "${STALLED_PEER:?run through ctest}"

# ~700 extra names make the certificate, and so the flight, ~20 KiB:
# more than the 8 KiB a socket with SO_SNDBUF 4096 holds.
sans="DNS:localhost,IP:127.0.0.1"
for i in $(seq 1 700); do sans="$sans,DNS:n$i.stalled.test"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/server-key.pem" -out "$T/server-cert.pem" -days 2 \
	-subj "/CN=localhost" -addext "subjectAltName=$sans" 2>/dev/null
size=$(openssl x509 -in "$T/server-cert.pem" -outform DER | wc -c)
[ "$size" -gt 12000 ] || fail "test certificate only $size bytes"
start_daemon

for mode in blocking nonblocking; do
	rc=0
	timeout 30 "$STALLED_PEER" "$DAEMON_URL" "$mode" 1000 \
		>"$T/$mode.log" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "$mode (exit $rc): $(cat "$T/$mode.log")"
	grep -q "did not read" "$T/$mode.log" ||
		fail "$mode: the message does not say the peer did not read: $(cat "$T/$mode.log")"
	pass "$(cat "$T/$mode.log")"
done
finish
