#!/usr/bin/env bash
# keyupdate.sh - TLS 1.3 KeyUpdate handled by the caller's record layer
# after the hand-off: a peer's KeyUpdate with update_requested (openssl
# s_client's `K` command, gnutls-cli's ^rekey^) changes the read key, and
# the library answers with its own KeyUpdate; data keeps flowing.
source "$TESTS_DIR/integration/lib.sh"

start_daemon
start_demo --echo
CA="$T/server-cert.pem"

# holds FILE PATTERN COUNT: FILE has COUNT lines matching PATTERN.
holds() {
	[ "$(grep -c -- "$2" "$1")" -ge "$3" ]
}

for suite in TLS_AES_128_GCM_SHA256 TLS_CHACHA20_POLY1305_SHA256; do
	# No -quiet: s_client only takes command letters without it, and
	# only from the start of what one read of its input gets: each line
	# goes once the one before has done its work (the echo came back,
	# or s_client said KEYUPDATE on its standard error, unbuffered),
	# and the input ends, closing the connection, once the last echo is
	# back.
	: >"$T/ku.out"
	: >"$T/s_client.log"
	{
		echo "before-$suite"
		await 10 holds "$T/ku.out" "^before-$suite" 1
		echo K
		await 10 holds "$T/s_client.log" KEYUPDATE 1
		echo k
		await 10 holds "$T/s_client.log" KEYUPDATE 2
		echo "after-$suite"
		await 10 holds "$T/ku.out" "^after-$suite" 1
	} | timeout $((20 * ${TIME_SCALE:-1})) openssl s_client -msg \
		-connect "127.0.0.1:$PORT" \
		-servername localhost -tls1_3 -ciphersuites "$suite" \
		-CAfile "$CA" >"$T/ku.out" 2>"$T/s_client.log" || true
	grep -q "KEYUPDATE" "$T/ku.out" "$T/s_client.log" ||
		fail "s_client did not send a KeyUpdate ($suite)"
	# -msg shows each handshake message: ">>>" sent, "<<<" received.
	# `K` asks for update_requested, so the library must answer with
	# its own KeyUpdate.
	grep -q "<<< TLS 1.3, Handshake \[length 0005\], KeyUpdate" "$T/ku.out" ||
		fail "the library did not answer update_requested with a KeyUpdate ($suite)"
	grep -q "^before-$suite" "$T/ku.out" ||
		fail "no echo before the KeyUpdate ($suite): $(tail -5 "$T/ku.out")"
	grep -q "^after-$suite" "$T/ku.out" ||
		fail "no echo after the KeyUpdate ($suite): $(tail -8 "$T/ku.out"; tail -5 "$T/s_client.log")"
	pass "openssl s_client K and k keep the connection working ($suite)"
done

out=$( (echo before; nap 0.5; echo '^rekey^'; nap 0.5; echo after;
	nap 1) | timeout 20 gnutls-cli --inline-commands \
	--x509cafile "$CA" --sni-hostname localhost \
	--verify-hostname localhost -p "$PORT" 127.0.0.1 2>"$T/gnutls-cli.log") ||
	fail "gnutls-cli failed: $(tail -5 "$T/gnutls-cli.log")"
grep -q "^after" <<<"$out" ||
	fail "no echo after gnutls-cli's rekey: $out $(tail -5 "$T/gnutls-cli.log")"
pass "gnutls-cli ^rekey^ keeps the connection working"

grep -q "connection ended" "$T/demo.log" &&
	fail "the demo reported a connection error: $(grep 'connection ended' "$T/demo.log")"
pass "no connection errors on the server side"
finish
