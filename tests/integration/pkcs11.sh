#!/usr/bin/env bash
# pkcs11.sh - keys in a PKCS#11 token (SoftHSM2, with a token made for
# this test): handoffd signs in the token for openssl, gnutls-cli and curl
# peers, ECDSA and RSA, the RSA certificate read from the token too, with
# no key file anywhere; the PIN comes from the URL (pin-value= or
# pin-source=).  A wrong PIN, no PIN, a missing object or a certificate
# that is not the key's (also a token's certificate with a key file)
# stop handoffd at start with the reason, and the PIN never appears in
# what it prints.  As root, with user = nobody: a
# token nobody cannot open is refused at start, and one it can works.
source "$TESTS_DIR/integration/lib.sh"
if ! command -v softhsm2-util >/dev/null || ! command -v p11tool >/dev/null; then
	echo "SKIP: needs softhsm2-util and p11tool (apt-get install softhsm2 gnutls-bin)"
	exit 77
fi

# A token of our own: SoftHSM2 reads its token directory from this file.
export SOFTHSM2_CONF="$T/softhsm2.conf"
mkdir "$T/tokens"
printf '%s\n' "directories.tokendir = $T/tokens" "objectstore.backend = file" \
	"log.level = ERROR" >"$SOFTHSM2_CONF"
PIN=4711
softhsm2-util --init-token --free --label handoff-test --pin $PIN \
	--so-pin 0815 >/dev/null || fail "cannot make a SoftHSM2 token"
make_cert server
make_rsa_cert rsa
for k in server rsa; do
	openssl pkcs8 -topk8 -nocrypt -in "$T/$k-key.pem" -out "$T/$k-p8.pem"
done
softhsm2-util --import "$T/server-p8.pem" --token handoff-test --label ec \
	--id 01 --pin $PIN >/dev/null || fail "cannot import the ECDSA key"
softhsm2-util --import "$T/rsa-p8.pem" --token handoff-test --label rsa \
	--id 02 --pin $PIN >/dev/null || fail "cannot import the RSA key"
GNUTLS_PIN=$PIN p11tool --login --write --load-certificate "$T/rsa-cert.pem" \
	--label rsa --id 02 "pkcs11:token=handoff-test" >/dev/null 2>&1 ||
	fail "cannot store the RSA certificate in the token"
# From here on the keys exist only in the token.
rm -f "$T"/*-key.pem "$T"/*-p8.pem
printf '%s' $PIN >"$T/pin"
chmod 600 "$T/pin"
EC="pkcs11:token=handoff-test;object=ec;type=private"
RSA="pkcs11:token=handoff-test;object=rsa"

# config [DAEMON LINES...]: profile default (ECDSA key in the token, PIN
# in the URL) and profile rsa (certificate and key in the token, PIN from
# a file); $EC_KEY overrides the default profile's key.
config() {
	{
		echo "[daemon]"
		echo "listen = $DAEMON_URL"
		echo "workers = 2"
		printf '%s\n' "$@"
		echo "[profile default]"
		echo "certificate = ${EC_CERT:-$T/server-cert.pem}"
		echo "key = ${EC_KEY:-$EC?pin-value=$PIN}"
		[ -z "${EC_BACKEND:-}" ] || echo "key_backend = $EC_BACKEND"
		echo "[profile rsa]"
		echo "certificate = $RSA;type=cert"
		echo "key = $RSA;type=private?pin-source=$T/pin"
	} >"$T/handoffd.conf"
}

# refused WHAT EXPECTED: handoffd --check must fail, say EXPECTED and
# not show the PIN.
refused() {
	local out
	out=$("$HANDOFFD" --check --config "$T/handoffd.conf" 2>&1) &&
		fail "$1 accepted: $out"
	grep -q -- "$2" <<<"$out" || fail "$1: unclear error: $out"
	grep -q "$PIN\|9999" <<<"$out" && fail "$1: the PIN shows: $out"
	pass "$1 refused at start: ${out##*error: }"
}

EC_KEY="$EC?pin-value=9999" config
refused "a wrong PIN" "refused the PIN"
EC_KEY="$EC" config
refused "no PIN" "refused the PIN"
EC_KEY="pkcs11:token=handoff-test;object=nosuch;type=private?pin-value=$PIN" config
refused "a missing object" "no such token or object"
EC_KEY="$RSA;type=private?pin-value=$PIN" config
refused "the RSA key with the ECDSA certificate" "belong together"

# A certificate in the token with a key file that is not its key, loaded
# by either path: the certificate's URL (and its PIN) in the message.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$T/other-key.pem" 2>/dev/null
for backend in gnutls auto; do
	EC_CERT="$RSA;type=cert?pin-value=$PIN" EC_KEY="$T/other-key.pem" \
		EC_BACKEND=$backend config
	refused "a token certificate with another key file ($backend)" \
		"cannot load certificate"
done

EC_KEY= config
start_daemon
for p in default rsa; do
	grep -q "profile $p: signs in its PKCS#11 token" "$T/handoffd.log" ||
		fail "profile $p does not sign in the token: $(cat "$T/handoffd.log")"
done
grep -q "$PIN" "$T/handoffd.log" && fail "the PIN shows in the log"
pass "both profiles sign in the token; no PIN in the log"

start_demo
out=$(timeout 10 curl -sS --cacert "$T/server-cert.pem" \
	--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/") ||
	fail "curl through the token's ECDSA key failed"
grep -q TLSv1.3 <<<"$out" || fail "unexpected answer: $out"
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client \
	-connect "127.0.0.1:$PORT" -servername localhost -tls1_2 \
	-CAfile "$T/server-cert.pem" -verify_return_error -ign_eof 2>&1) ||
	fail "openssl TLS 1.2 through the token's key failed: $out"
grep -q "HTTP/1.1 200" <<<"$out" || fail "openssl TLS 1.2: $out"
pass "curl (TLS 1.3) and openssl (TLS 1.2) get ECDSA signatures made in the token"

start_demo --profile rsa
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 gnutls-cli \
	--x509cafile "$T/rsa-cert.pem" --verify-hostname localhost \
	-p "$PORT" 127.0.0.1 2>&1) || fail "gnutls-cli through the token's RSA key failed: $out"
grep -q "HTTP/1.1 200" <<<"$out" || fail "gnutls-cli: $out"
ops=$(stat_value private_key_ops)
[ "${ops:-0}" -ge 3 ] || fail "private_key_ops is '$ops' after 3 full handshakes"
pass "gnutls-cli gets an RSA-PSS signature from the token's key and certificate ($ops key operations)"
stop_demo
stop_daemon

if [ "$(id -u)" -eq 0 ]; then
	mkdir -m 0777 "$T/run" # a socket directory nobody may write
	DAEMON_URL="ipc://$T/run/handoffd.sock"
	chmod 0711 "$T"
	chown -R root:root "$T/tokens"
	chmod -R go-rwx "$T/tokens"
	config "user = nobody"
	out=$(timeout 20 "$HANDOFFD" --foreground --config "$T/handoffd.conf" 2>&1) &&
		fail "started although nobody cannot open the token: $out"
	grep -q "cannot sign once handoffd runs as user nobody" <<<"$out" ||
		fail "unclear error: $out"
	pass "a token nobody cannot open is refused after the drop: ${out##*error: }"

	chgrp -R "$(id -gn nobody)" "$T/tokens"
	chmod -R g+rwX "$T/tokens"
	chmod 0755 "$T"
	chmod 0644 "$T/server-cert.pem"
	start_daemon
	start_demo
	out=$(timeout 10 curl -sS --cacert "$T/server-cert.pem" \
		--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/") ||
		fail "curl through the token as nobody failed"
	pass "as nobody, with the token open to nobody's group, the token signs"
	stop_demo
	term_daemon
else
	echo "SKIP: the user = nobody cases need root"
fi
finish
