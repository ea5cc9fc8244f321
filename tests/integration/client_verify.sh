# client_verify.sh - handoffd refuses servers it cannot verify, each
# failure with its own words and its own alert: unknown issuer, wrong
# host name, expired, not yet valid, revoked (CRL).  The caller's own CA
# file (--cafile) works like a profile's trust file.  Verification off
# takes an explicit, loudly named option, and an unverified session is
# never resumed by a caller that verifies.
source "$(dirname "$0")/lib.sh"

make_ca
make_leaf good ecdsa
make_leaf expired ecdsa 'activation_date = "2020-01-01 00:00:00"' \
	'expiration_date = "2020-01-02 00:00:00"'
make_leaf future ecdsa 'activation_date = "2099-01-01 00:00:00"' \
	'expiration_date = "2099-01-02 00:00:00"'
make_leaf revoked ecdsa
make_cert stranger # self-signed: no CA we trust signed it
printf '%s\n' 'crl_next_update = 2' 'crl_number = 1' >"$T/crl.tmpl"
certtool --generate-crl --load-ca-privkey "$T/ca-key.pem" \
	--load-ca-certificate "$T/ca-cert.pem" \
	--load-certificate "$T/revoked-cert.pem" --template "$T/crl.tmpl" \
	--outfile "$T/crl.pem" 2>/dev/null
cat >"$T/handoffd.conf" <<CONF
[daemon]
listen = $DAEMON_URL
workers = 2

[profile default]
trust = $T/ca-cert.pem
crl = $T/crl.pem

[profile othertrust]
trust = $T/stranger-cert.pem
CONF
start_daemon

serve() { # serve NAME: openssl s_server with NAME's certificate; sets PORT
	PORT=$(free_port)
	start_openssl_server "$PORT" -cert "$T/$1-cert.pem" -key "$T/$1-key.pem"
}

# refused NAME WORDS ALERT [DEMO ARGS...]: the connection to a server
# using NAME's certificate fails with HANDOFF_EVERIFY and WORDS, and the
# server's log shows ALERT arriving.
refused() {
	local name=$1 words=$2 alert=$3
	shift 3
	serve "$name"
	echo hi | demo_connect "$PORT" "$@" >/dev/null &&
		fail "$name: connected despite a bad certificate"
	grep -q "HANDOFF_EVERIFY" "$T/connect.err" ||
		fail "$name: not a verification error: $(cat "$T/connect.err")"
	grep -q "$words" "$T/connect.err" ||
		fail "$name: expected \"$words\": $(cat "$T/connect.err")"
	wait_for "$alert alert at the server" 5 \
		grep -qi "alert $alert\|alert number" "$T/s_server-$PORT.log"
	grep -qi "$alert" "$T/s_server-$PORT.log" ||
		fail "$name: server did not get a $alert alert: $(grep -i alert "$T/s_server-$PORT.log")"
	pass "$name: $(sed 's/.*failed for //' "$T/connect.err")"
}

serve good
out=$(echo hello | demo_connect "$PORT") || fail "good certificate: $(cat "$T/connect.err")"
[ "$out" = "olleh" ] || fail "good certificate: got \"$out\""
pass "a certificate from the trusted CA, for localhost, is accepted"

refused stranger "unknown issuer" "unknown ca"
refused good "host name mismatch" "bad certificate" --servername other.example
refused expired "has expired" "certificate expired"
refused future "not yet valid" "certificate expired"
refused revoked "revoked" "certificate revoked"

# The caller's own CAs instead of the profile's.
serve stranger
out=$(echo abc | demo_connect "$PORT" --profile othertrust --cafile "$T/stranger-cert.pem") ||
	fail "--cafile with the right CA: $(cat "$T/connect.err")"
[ "$out" = "cba" ] || fail "--cafile: got \"$out\""
echo abc | demo_connect "$PORT" --cafile "$T/ca-cert.pem" >/dev/null &&
	fail "--cafile with the wrong CA accepted the server"
grep -q "unknown issuer" "$T/connect.err" ||
	fail "--cafile, wrong CA: $(cat "$T/connect.err")"
echo abc | demo_connect "$PORT" --cafile "$T/stranger-cert.pem" \
	--servername other.example >/dev/null &&
	fail "--cafile: wrong host name accepted"
grep -q "host name mismatch" "$T/connect.err" ||
	fail "--cafile, wrong name: $(cat "$T/connect.err")"
pass "--cafile: the caller's CA file verifies chain and host name"

# A CA file is parsed once however many handshakes send it (trust_cache.c):
# three full handshakes (the server issues no tickets) with a bundle of
# two CAs, one of them the right one, parse it once; the wrong CA file
# parsed before is still its own and still refuses.
PORT=$(free_port)
start_openssl_server "$PORT" -cert "$T/stranger-cert.pem" \
	-key "$T/stranger-key.pem" -num_tickets 0
cat "$T/ca-cert.pem" "$T/stranger-cert.pem" >"$T/bundle.pem"
parsed=$(stat_value caller_ca_files_parsed)
resumed=$(stat_value handshakes_resumed)
for i in 1 2 3; do
	out=$(echo abc | demo_connect "$PORT" --profile othertrust --cafile "$T/bundle.pem") ||
		fail "--cafile bundle, handshake $i: $(cat "$T/connect.err")"
	[ "$out" = "cba" ] || fail "--cafile bundle, handshake $i: got \"$out\""
done
[ "$(stat_value handshakes_resumed)" = "$resumed" ] ||
	fail "the bundle's handshakes resumed: nothing was verified"
[ "$(stat_value caller_ca_files_parsed)" = "$((parsed + 1))" ] ||
	fail "3 handshakes with one CA file parsed it $(($(stat_value caller_ca_files_parsed) - parsed)) times, not once"
echo abc | demo_connect "$PORT" --cafile "$T/ca-cert.pem" >/dev/null &&
	fail "--cafile with the wrong CA accepted the server after the bundle"
grep -q "unknown issuer" "$T/connect.err" ||
	fail "--cafile, wrong CA after the bundle: $(cat "$T/connect.err")"
pass "a CA file is parsed once for three full handshakes; another file keeps its own verdict"
demo_connect "$PORT" --cafile "$T/nonexistent.pem" </dev/null &&
	fail "a missing CA file was accepted"
grep -q "cannot read CA file .*nonexistent.pem" "$T/connect.err" ||
	fail "missing CA file: $(cat "$T/connect.err")"
pass "a missing CA file is named in the error"

# Verification off: explicit, warned about, and kept apart in the cache.
serve stranger
out=$(echo abc | demo_connect "$PORT" --insecure) ||
	fail "--insecure: $(cat "$T/connect.err")"
[ "$out" = "cba" ] || fail "--insecure: got \"$out\""
grep -q "WARNING: --insecure" "$T/connect.err" || fail "--insecure gave no warning"
echo abc | demo_connect "$PORT" >/dev/null &&
	fail "a verifying caller resumed or accepted an unverified session"
grep -q "unknown issuer" "$T/connect.err" ||
	fail "after --insecure, verifying caller: $(cat "$T/connect.err")"
pass "--insecure connects with a warning; its session never serves a verifying caller"

[ "$(stat_value failed.verify_failed)" -ge 8 ] ||
	fail "verification failures not counted: $(stat_value failed.verify_failed)"
finish
