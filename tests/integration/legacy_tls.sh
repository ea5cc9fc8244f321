#!/usr/bin/env bash
# legacy_tls.sh - TLS 1.0 and 1.1 (and TLS 1.2 CBC suites) where a
# profile's priority string turns them on, and only there: both roles,
# against openssl and gnutls peers, MAC-then-encrypt and encrypt-then-MAC
# (RFC 7366), TLS 1.0's chained IVs and 1/n-1 split over 200 KiB echoed
# both ways, sessions resumed across caller processes in both roles.
# The default profile still refuses them (also weak_suites.sh).
source "$TESTS_DIR/integration/lib.sh"

CBC_PRIORITY="NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:-MAC-ALL:+SHA1:+SHA256:+SHA384:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"
write_config
cat >>"$T/handoffd.conf" <<CONF

[profile legacy]
certificate = $T/server-cert.pem
key = $T/server-key.pem
priority = $CBC_PRIORITY

[profile legacy-client]
priority = $CBC_PRIORITY
CONF
start_daemon
grep -q "profile legacy: priority string .* enables TLS 1.0" "$T/handoffd.log" ||
	fail "no warning that profile legacy enables TLS 1.0"
pass "handoffd warns that profile legacy enables TLS 1.0"
start_demo; DEFAULT=$PORT
start_demo --profile legacy; LEGACY=$PORT
start_demo --profile legacy --echo; ECHO=$PORT
REQ='GET / HTTP/1.0\r\n\r\n'
OLD='DEFAULT:@SECLEVEL=0' # Debian's OpenSSL refuses TLS 1.0/1.1 otherwise

# ---- server role -------------------------------------------------------
# s_client PORT ARGS...: one HTTP exchange through openssl s_client.
s_client() {
	local port=$1
	shift
	printf "$REQ" | timeout 20 openssl s_client -quiet -connect \
		"127.0.0.1:$port" -servername localhost \
		-CAfile "$T/server-cert.pem" "$@" 2>&1 || true
}
for args in "-tls1|TLSv1 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" \
	"-tls1 -no_etm|TLSv1 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" \
	"-tls1_1 -no_etm|TLSv1.1 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" \
	"-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256:@SECLEVEL=0|TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" \
	"-tls1_2 -no_etm -cipher ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0|TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"; do
	flags=${args%%|*} want=${args#*|}
	# shellcheck disable=SC2086 # flags are several words
	out=$(s_client "$LEGACY" -cipher "$OLD" $flags)
	grep -q "handoff-demo: $want" <<<"$out" || fail "openssl $flags: $out"
	pass "openssl s_client $flags: $want"
done
out=$(s_client "$DEFAULT" -tls1 -cipher "$OLD")
grep -q "handoff-demo:" <<<"$out" && fail "default profile accepted TLS 1.0"
pass "the default profile still refuses TLS 1.0"

for p in "+VERS-TLS1.0:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1" \
	"+VERS-TLS1.0:-CIPHER-ALL:+AES-256-CBC:-MAC-ALL:+SHA1:%NO_ETM" \
	"+VERS-TLS1.1:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1:%NO_ETM" \
	"+VERS-TLS1.2:-CIPHER-ALL:+AES-256-CBC:-MAC-ALL:+SHA384:%NO_ETM"; do
	echo_roundtrip "$ECHO" "NORMAL:-VERS-ALL:$p" "$T/server-cert.pem"
	etm=yes
	grep -q "Options:.*EtM" "$T/gnutls-cli-echo.log" || etm=no
	[ "$etm" = "$([[ $p == *NO_ETM* ]] && echo no || echo yes)" ] ||
		fail "encrypt-then-MAC $etm with $p"
	pass "200 KiB echoed with gnutls-cli $p (encrypt-then-MAC: $etm)"
done

# A TLS 1.0 session made through one caller process resumes through
# another (abbreviated handshake: the server's Finished comes first).
s_client "$LEGACY" -tls1 -cipher "$OLD" -sess_out "$T/sess10.pem" >/dev/null
start_demo --profile legacy; LEGACY2=$PORT
out=$(printf "$REQ" | timeout 20 openssl s_client -tls1 -cipher "$OLD" \
	-sess_in "$T/sess10.pem" -connect "127.0.0.1:$LEGACY2" \
	-servername localhost -CAfile "$T/server-cert.pem" -ign_eof 2>&1) || true
grep -q "^Reused, TLSv1.0," <<<"$out" ||
	fail "TLS 1.0 resumption across processes: $(grep -E '^(New|Reused)' <<<"$out")"
grep -q "handoff-demo: TLSv1 " <<<"$out" || fail "no answer after resumption: $out"
pass "TLS 1.0 session resumed through another caller process"

# ---- client role -------------------------------------------------------
P10=$(free_port)
start_openssl_server "$P10" -tls1 -cipher "$OLD" \
	-cert "$T/server-cert.pem" -key "$T/server-key.pem"
P11=$(free_port)
start_openssl_server "$P11" -tls1_1 -no_etm -cipher "$OLD" \
	-cert "$T/server-cert.pem" -key "$T/server-key.pem"
G10=$(free_port)
start_gnutls_server "$G10" --priority "NORMAL:-VERS-ALL:+VERS-TLS1.0:%NO_ETM" \
	--x509certfile "$T/server-cert.pem" --x509keyfile "$T/server-key.pem"
G12=$(free_port)
start_gnutls_server "$G12" \
	--priority "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA256" \
	--x509certfile "$T/server-cert.pem" --x509keyfile "$T/server-key.pem"

# legacy_connect PORT WANT REPLY: one line there and back.
legacy_connect() {
	local out
	out=$( (echo "hello legacy"; sleep 0.5) | demo_connect "$1" \
		--profile legacy-client --cafile "$T/server-cert.pem") ||
		fail "connect to $1: $(cat "$T/connect.err")"
	grep -q "$3" <<<"$out" || fail "port $1 answered: $out"
	grep -q "connected: $2" "$T/connect.err" ||
		fail "port $1: $(cat "$T/connect.err")"
}
legacy_connect "$P10" "TLSv1 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" "ycagel olleh"
pass "client role: openssl s_server -tls1 (encrypt-then-MAC)"
legacy_connect "$P11" "TLSv1.1 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" "ycagel olleh"
pass "client role: openssl s_server -tls1_1 -no_etm"
legacy_connect "$G10" "TLSv1 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" "hello legacy"
pass "client role: gnutls-serv TLS 1.0 without EtM"
legacy_connect "$G12" "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" "hello legacy"
pass "client role: gnutls-serv TLS 1.2 AES-128-CBC-SHA256"

# Resumed by a second process; many records both ways through TLS 1.0.
legacy_connect "$P10" "TLSv1 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA resumed" "ycagel olleh"
pass "client role: TLS 1.0 session resumed by another process"
head -c 150000 /dev/urandom | base64 -w 76 >"$T/payload"
(cat "$T/payload"; sleep 1) | demo_connect "$G10" --profile legacy-client \
	--cafile "$T/server-cert.pem" >"$T/echoed" || true
cmp -s "$T/payload" "$T/echoed" ||
	fail "client role echo: $(wc -c <"$T/echoed") of $(wc -c <"$T/payload") bytes came back intact ($(cat "$T/connect.err"))"
pass "client role: $(wc -c <"$T/payload") bytes echoed intact through TLS 1.0"

out=$( (echo hi; sleep 0.5) | demo_connect "$P10" --cafile "$T/server-cert.pem" 2>&1) &&
	fail "a default client profile connected with TLS 1.0: $out"
pass "a default client profile refuses a TLS 1.0 server: $(grep -o 'handshake failed.*' "$T/connect.err" | head -1)"
finish
