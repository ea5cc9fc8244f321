#!/usr/bin/env bash
# tls12.sh - TLS 1.2 through handoffd, server role: ECDHE with ECDSA and
# RSA certificates and every AEAD suite the record layer runs, against
# openssl, gnutls-cli and curl; RSA key transport only where a profile's
# priority enables it; renegotiation refused with no_renegotiation; a
# session resumed through another caller process; TLS 1.1 refused.  RSA
# and ECDSA keys sign through OpenSSL's libcrypto in handoffd (PKCS#1
# v1.5 in TLS 1.2, RSA-PSS in TLS 1.3), Ed25519 keys through libsodium,
# or through GnuTLS where the profile says key_backend = gnutls or
# allows RSA key transport.
source "$TESTS_DIR/integration/lib.sh"

write_config
make_rsa_cert rsa
openssl req -x509 -newkey ed25519 -nodes -keyout "$T/ed25519-key.pem" \
	-out "$T/ed25519-cert.pem" -days 2 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
cat >>"$T/handoffd.conf" <<CONF

[profile ed25519]
certificate = $T/ed25519-cert.pem
key = $T/ed25519-key.pem

[profile ed25519gnutls]
certificate = $T/ed25519-cert.pem
key = $T/ed25519-key.pem
key_backend = gnutls

[profile rsa]
certificate = $T/rsa-cert.pem
key = $T/rsa-key.pem

[profile rsagnutls]
certificate = $T/rsa-cert.pem
key = $T/rsa-key.pem
key_backend = gnutls

[profile rsakx]
certificate = $T/rsa-cert.pem
key = $T/rsa-key.pem
priority = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+RSA
CONF
start_daemon
start_demo; EC=$PORT
start_demo --profile rsa; RSA=$PORT
start_demo --profile rsakx; RSAKX=$PORT
start_demo --profile rsagnutls; RSAGNUTLS=$PORT
start_demo --profile ed25519; ED=$PORT
start_demo --profile ed25519gnutls; EDGNUTLS=$PORT
start_demo --echo; ECHO=$PORT
REQ='GET / HTTP/1.0\r\n\r\n'
for line in "profile default: signs with OpenSSL" "profile rsa: signs with OpenSSL" \
	"profile rsagnutls: signs with GnuTLS" "profile rsakx: signs with GnuTLS" \
	"profile ed25519: signs with libsodium" \
	"profile ed25519gnutls: signs with GnuTLS"; do
	grep -q "$line" "$T/handoffd.log" || fail "handoffd did not log \"$line\""
done
pass "RSA and ECDSA keys sign with OpenSSL, Ed25519 with libsodium; key_backend = gnutls and RSA key transport keep GnuTLS"
for p in "$ED" "$EDGNUTLS"; do
	for v in tls1_2 tls1_3; do
		out=$(printf "$REQ" | timeout 20 openssl s_client -quiet "-$v" \
			-connect "127.0.0.1:$p" -servername localhost \
			-CAfile "$T/ed25519-cert.pem" -verify_return_error 2>&1) || true
		grep -q "handoff-demo: TLSv1.[23]" <<<"$out" ||
			fail "Ed25519 certificate, $v, port $p: $out"
	done
done
pass "Ed25519 signatures verify in TLS 1.2 and 1.3 with both signers"
for p in "$RSA" "$RSAGNUTLS"; do
	for v in tls1_2 tls1_3; do
		out=$(printf "$REQ" | timeout 20 openssl s_client -quiet "-$v" \
			-connect "127.0.0.1:$p" -servername localhost \
			-CAfile "$T/rsa-cert.pem" 2>&1) || true
		grep -q "handoff-demo: TLSv1.[23]" <<<"$out" ||
			fail "RSA certificate, $v, port $p: $out"
	done
done
# Force PKCS#1 v1.5 (GnuTLS passes the DigestInfo: GNUTLS_SIGN_RSA_RAW).
for p in "$RSA" "$RSAGNUTLS"; do
	out=$(printf "$REQ" | timeout 20 gnutls-cli --logfile=/dev/null \
		--priority "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-RSA-SHA256" \
		--x509cafile "$T/rsa-cert.pem" -p "$p" localhost 2>&1) || true
	grep -q "handoff-demo: TLSv1.2" <<<"$out" ||
		fail "RSA PKCS#1 v1.5 signature, port $p: $out"
done
pass "RSA signatures verify in TLS 1.2 (PKCS#1 v1.5 and RSA-PSS) and TLS 1.3 (RSA-PSS) with both signers"

# s_client12 PORT CA CIPHER [ARGS...]: one HTTP exchange over TLS 1.2.
s_client12() {
	local port=$1 ca=$2 cipher=$3
	shift 3
	printf "$REQ" | timeout 20 openssl s_client -quiet -tls1_2 \
		-cipher "$cipher" -connect "127.0.0.1:$port" \
		-servername localhost -CAfile "$ca" "$@" 2>&1 || true
}

declare -A GNUTLS=([AES128-GCM-SHA256]=AES-128-GCM
	[AES256-GCM-SHA384]=AES-256-GCM [CHACHA20-POLY1305]=CHACHA20-POLY1305)
for c in AES128-GCM-SHA256 AES256-GCM-SHA384 CHACHA20-POLY1305; do
	iana="TLS_ECDHE_ECDSA_WITH_${c//-/_}"
	iana=${iana/AES128/AES_128}
	iana=${iana/AES256/AES_256}
	[ "$c" = CHACHA20-POLY1305 ] && iana=TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	out=$(s_client12 "$EC" "$T/server-cert.pem" "ECDHE-ECDSA-$c")
	grep -q "handoff-demo: TLSv1.2 $iana" <<<"$out" ||
		fail "openssl ECDHE-ECDSA-$c: $out"
	pass "openssl s_client TLS 1.2 $iana"

	prio="NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+${GNUTLS[$c]}:-KX-ALL:+ECDHE-ECDSA"
	out=$( (printf "$REQ"; sleep 0.5) | timeout 20 gnutls-cli \
		--logfile="$T/gnutls-cli.log" --priority "$prio" \
		--x509cafile "$T/server-cert.pem" --sni-hostname localhost \
		--verify-hostname localhost -p "$EC" 127.0.0.1 2>&1) || true
	grep -q "handoff-demo: TLSv1.2 $iana" <<<"$out" ||
		fail "gnutls-cli $prio: $out"
	pass "gnutls-cli TLS 1.2 $iana"

	echo_roundtrip "$ECHO" "$prio" "$T/server-cert.pem"
	pass "200 KiB echoed intact over TLS 1.2 $iana"
done

out=$(timeout 20 curl -sS --tls-max 1.2 --cacert "$T/server-cert.pem" \
	--resolve "localhost:$EC:127.0.0.1" "https://localhost:$EC/" 2>&1) ||
	fail "curl TLS 1.2: $out"
grep -q "handoff-demo: TLSv1.2 TLS_ECDHE_ECDSA" <<<"$out" || fail "curl: $out"
pass "curl --tls-max 1.2: $out"

for c in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 \
	ECDHE-RSA-CHACHA20-POLY1305; do
	out=$(s_client12 "$RSA" "$T/rsa-cert.pem" "$c")
	grep -q "handoff-demo: TLSv1.2 TLS_ECDHE_RSA_WITH" <<<"$out" ||
		fail "openssl $c: $out"
	pass "RSA certificate, $c: $(grep -o 'TLS_ECDHE_RSA_WITH[A-Z0-9_]*' <<<"$out")"
done

out=$(s_client12 "$RSA" "$T/rsa-cert.pem" AES128-GCM-SHA256)
grep -q "handoff-demo:" <<<"$out" && fail "RSA key transport accepted by default"
grep -qi "alert handshake failure" <<<"$out" || fail "no alert: $out"
pass "RSA key transport refused by the default priority"
out=$(s_client12 "$RSAKX" "$T/rsa-cert.pem" AES128-GCM-SHA256)
grep -q "handoff-demo: TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256" <<<"$out" ||
	fail "RSA key transport with +RSA: $out"
pass "RSA key transport where the profile enables it"

# Renegotiation: s_client's R command; the library answers no_renegotiation.
(echo one; sleep 0.5; echo R; sleep 1) | timeout 10 openssl s_client -msg \
	-tls1_2 -connect "127.0.0.1:$ECHO" -CAfile "$T/server-cert.pem" \
	>"$T/reneg.out" 2>&1 || true
grep -q "^one" "$T/reneg.out" || fail "no echo before renegotiation"
grep -q "<<< TLS 1.2, Alert \[length 0002\], warning no_renegotiation" "$T/reneg.out" ||
	fail "renegotiation not refused: $(grep -E 'Alert|RENEG' "$T/reneg.out")"
pass "renegotiation refused with no_renegotiation"

# A TLS 1.2 session ticket from one caller process works in another.
s_client12 "$EC" "$T/server-cert.pem" ECDHE-ECDSA-AES128-GCM-SHA256 \
	-sess_out "$T/sess12.pem" >/dev/null
start_demo; EC2=$PORT
out=$(printf "$REQ" | timeout 20 openssl s_client -tls1_2 -sess_in "$T/sess12.pem" \
	-connect "127.0.0.1:$EC2" -servername localhost \
	-CAfile "$T/server-cert.pem" -ign_eof 2>&1) || true
grep -q "^Reused, TLSv1.2" <<<"$out" ||
	fail "TLS 1.2 resumption across processes: $(grep -E '^(New|Reused)' <<<"$out")"
pass "TLS 1.2 session resumed through another caller process"

out=$(timeout 10 gnutls-cli --priority "NORMAL:-VERS-ALL:+VERS-TLS1.1" \
	--insecure -p "$EC" 127.0.0.1 </dev/null 2>&1) && fail "TLS 1.1 accepted: $out"
pass "TLS 1.1 refused: $(grep -o '\*\*\* .*' <<<"$out" | head -1)"
finish
