# weak_suites.sh - handoffd's default profile refuses what it must never
# speak: TLS 1.0 and 1.1, 3DES, NULL encryption, RC4, export ciphers:
# each client that offers only one of them fails its handshake, while the
# same client with defaults succeeds (so each refusal is the server's
# doing).  What a client here cannot even offer (SSL 3; RC4 and export in
# Debian's OpenSSL 3 and GnuTLS) is reported as not checked, not passed.
source "$(dirname "$0")/lib.sh"

start_daemon
start_demo
CA="$T/server-cert.pem"

# Each prints the client's output to $T/try.out; 0 if a handshake
# completed.
openssl_try() { # openssl_try ARGS...
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -quiet \
		-connect "127.0.0.1:$PORT" -CAfile "$CA" "$@" >"$T/try.out" 2>&1 || true
	grep -q "handoff-demo: TLS" "$T/try.out"
}
gnutls_try() { # gnutls_try PRIORITY
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 gnutls-cli --logfile=/dev/null \
		--priority "$1" --x509cafile "$CA" -p "$PORT" localhost >"$T/try.out" 2>&1 || true
	grep -q "handoff-demo: TLS" "$T/try.out"
}
# refused WHAT: the last try failed; a client that could not offer WHAT
# at all is said so instead.
refused() {
	if grep -qiE "no cipher match|no ciphers available|syntax error|invalid|unknown|no protocols available" "$T/try.out"; then
		echo "not checked (this client cannot offer it): $1"
	else
		pass "refused: $1"
	fi
}

openssl_try || fail "control: openssl with its defaults did not connect"
gnutls_try NORMAL || fail "control: gnutls-cli with NORMAL did not connect"
pass "controls: default clients connect"

for offer in "-tls1 -cipher DEFAULT:@SECLEVEL=0" \
	"-tls1_1 -cipher DEFAULT:@SECLEVEL=0" \
	"-tls1_2 -cipher DES-CBC3-SHA:@SECLEVEL=0" \
	"-tls1_2 -cipher NULL-SHA256:@SECLEVEL=0" \
	"-tls1_2 -cipher ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0" \
	"-tls1_2 -cipher EXP:@SECLEVEL=0" \
	"-tls1_2 -cipher RC4:@SECLEVEL=0"; do
	# shellcheck disable=SC2086
	openssl_try $offer && fail "handshake completed offering only: $offer"
	refused "openssl s_client $offer"
done
for prio in "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1:%VERIFY_ALLOW_SIGN_WITH_SHA1" \
	"NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+3DES-CBC" \
	"NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+NULL" \
	"NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+ARCFOUR-128"; do
	gnutls_try "$prio" && fail "handshake completed offering only: $prio"
	refused "gnutls-cli --priority $prio"
done
"$HANDOFFCTL" --daemon "$DAEMON_URL" ping >/dev/null || fail "daemon gone"
finish
