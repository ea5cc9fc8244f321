#!/usr/bin/env bash
# verify_offload.sh - certificate verification offload (handoff_gnutls.h):
# plain GnuTLS programs have handoffd check their peer's chain against a
# profile's trust file.  A GnuTLS client (keyonly_client) verifies
# openssl s_server's chain and host name: a good chain, its IP address,
# a wrong name, an unknown CA and an expired certificate, each judged with
# the reason in words; a GnuTLS server (keyonly_server --verify-clients,
# its key in handoffd too) verifies openssl s_client's client
# certificate: one from the CA gets in, a stranger's is refused.
# handoffd keeps results: the same chain and name again is a cache hit
# (verify_cache_hits), another name is not, with verify_cache_size = 0
# nothing is kept, and a cache of 4 keeps 4.  Malformed VERIFY requests are refused with their codes
# (ipc_probe) and handoffd goes on.
source "$TESTS_DIR/integration/lib.sh"
: "${KEYONLY_SERVER:?run through ctest}" "${KEYONLY_CLIENT:?run through ctest}"
: "${IPC_PROBE:?run through ctest}"

# A stranger: a leaf from a CA handoffd does not trust.
make_ca
make_leaf stranger ecdsa
mv "$T/ca-cert.pem" "$T/other-ca-cert.pem"
mv "$T/ca-key.pem" "$T/other-ca-key.pem"
make_ca
make_leaf server ecdsa
make_leaf client ecdsa
make_leaf expired ecdsa 'activation_date = "2020-01-01 00:00:00"' \
	'expiration_date = "2021-01-01 00:00:00"'

# write_verify_config [DAEMON LINES...]
write_verify_config() {
	{
		echo "[daemon]"
		echo "listen = $DAEMON_URL"
		printf '%s\n' "$@"
		echo
		echo "[profile verify]"
		echo "trust = $T/ca-cert.pem"
		echo
		echo "[profile srv]"
		echo "certificate = $T/server-cert.pem"
		echo "key = $T/server-key.pem"
		echo "trust = $T/ca-cert.pem"
		echo "allow_sign = yes"
	} >"$T/handoffd.conf"
}
write_verify_config
start_daemon

# client_run NAME CERT HOST COUNT: openssl s_server with CERT
# (NAME-cert.pem) for COUNT connections, keyonly_client checking HOST;
# its output in $out, its status in $rc.
client_run() {
	local port
	port=$(free_port)
	# One accept more: the readiness probe's connection is one.
	start_openssl_server "$port" -naccept "$(($4 + 1))" -cert "$T/$2-cert.pem" \
		-key "$T/$2-key.pem"
	rc=0
	out=$(timeout 20 "$KEYONLY_CLIENT" "$port" "$DAEMON_URL" verify "$3" \
		"$4" 2>&1) || rc=$?
}

# ---- a client verifying servers -----------------------------------------
reqs0=$(stat_value verify_requests)
hits0=$(stat_value verify_cache_hits)
client_run good server localhost 3
[ "$rc" -eq 0 ] && [ "$(grep -c '^ok trusted' <<<"$out")" -eq 3 ] ||
	fail "the CA's server for localhost was not trusted 3 times (exit $rc): $out"
reqs=$(stat_value verify_requests)
hits=$(stat_value verify_cache_hits)
[ "$((reqs - reqs0))" -eq 3 ] ||
	fail "3 handshakes made $((reqs - reqs0)) verify requests, not 3"
[ "$((hits - hits0))" -eq 2 ] ||
	fail "the same chain and name 3 times: $((hits - hits0)) cache hits, not 2"
pass "server chain for localhost trusted 3 times: 3 verify requests, the 2nd and 3rd from the cache"

client_run ip server 127.0.0.1 1
[ "$rc" -eq 0 ] || fail "the server's IP address (in its certificate) was refused: $out"
[ "$(stat_value verify_cache_hits)" -eq "$hits" ] ||
	fail "another host name came from the cache"
pass "server chain for 127.0.0.1 trusted, verified afresh (another name)"

# refused NAME CERT HOST WORDS: the handshake fails with WORDS in the
# library's reason.
refused() {
	client_run "$1" "$2" "$3" 1
	[ "$rc" -ne 0 ] || fail "$1: keyonly_client trusted it: $out"
	grep -q "^handshake failed: .* / peer certificate not trusted: profile verify: .*$4" <<<"$out" ||
		fail "$1: not refused with '$4': $out"
	pass "$1 refused: ${out#handshake failed: }"
}
refused "wrong name" server wrong.example \
	'host name mismatch (it is not valid for "wrong.example")'
refused "unknown CA" stranger localhost "unknown issuer"
refused "expired" expired localhost "has expired"

# ---- a server verifying clients ------------------------------------------
port=$(free_port)
"$KEYONLY_SERVER" --verify-clients "$port" "$DAEMON_URL" srv 2 \
	>"$T/keyonly-server.log" 2>&1 &
kpid=$!
wait_for "keyonly_server to listen" 10 grep -qE "^(listening|setup failed)" \
	"$T/keyonly-server.log"
grep -q "^listening" "$T/keyonly-server.log" ||
	fail "keyonly_server did not set up: $(cat "$T/keyonly-server.log")"
out=$(timeout 15 openssl s_client -connect "127.0.0.1:$port" \
	-servername localhost -CAfile "$T/ca-cert.pem" -verify_return_error \
	-cert "$T/client-cert.pem" -key "$T/client-key.pem" -ign_eof \
	</dev/null 2>&1) || true
grep -q "^hello from keyonly$" <<<"$out" ||
	fail "a client certificate from the CA: no line from the server: $out"
pass "client certificate from the CA accepted ($(grep -m1 '^ok' "$T/keyonly-server.log"))"
out=$(timeout 15 openssl s_client -connect "127.0.0.1:$port" \
	-servername localhost -CAfile "$T/ca-cert.pem" \
	-cert "$T/stranger-cert.pem" -key "$T/stranger-key.pem" -ign_eof \
	</dev/null 2>&1) || true
grep -q "hello from keyonly" <<<"$out" &&
	fail "a stranger's client certificate got the server's line: $out"
wait_for "keyonly_server's second report" 10 grep -q "^handshake failed" \
	"$T/keyonly-server.log"
line=$(grep "^handshake failed" "$T/keyonly-server.log")
grep -q "peer certificate not trusted: profile srv: unknown issuer" <<<"$line" ||
	fail "a stranger's client certificate: not refused for its issuer: $line"
wait "$kpid" || true
pass "a stranger's client certificate refused: ${line#handshake failed: }"

# ---- malformed requests ----------------------------------------------------
out=$("$IPC_PROBE" "$DAEMON_URL" verify-hostile verify 2>&1) ||
	fail "ipc_probe verify-hostile: $out"
pass "$(tail -1 <<<"$out") ($(($(wc -l <<<"$out") - 1)) of them)"

# ---- the cache off -----------------------------------------------------------
stop_daemon
write_verify_config "verify_cache_size = 0"
start_daemon
client_run nocache server localhost 2
[ "$rc" -eq 0 ] || fail "with the cache off the server was refused: $out"
[ "$(stat_value verify_requests)" -eq 2 ] && [ "$(stat_value verify_cache_hits)" -eq 0 ] ||
	fail "verify_cache_size = 0: $(stat_value verify_requests) requests, $(stat_value verify_cache_hits) hits (want 2, 0)"
pass "verify_cache_size = 0: 2 verifications, no hits"

# A cache of 4 keeps 4 results: four chain-and-name pairs verified in
# turn, then again, are all hits the second time.  (A result goes to one
# set of 4 slots and the least recently used one makes room; a
# direct-mapped cache of 4 lets pairs whose keys meet in a slot evict each
# other, which 4 random keys do 91 % of the time.)
stop_daemon
write_verify_config "verify_cache_size = 4"
start_daemon
for round in 1 2; do
	for cert in server client; do
		for host in localhost 127.0.0.1; do
			client_run "$cert for $host" "$cert" "$host" 1
			[ "$rc" -eq 0 ] || fail "$cert for $host, round $round: $out"
		done
	done
	[ "$round" -eq 1 ] && hits1=$(stat_value verify_cache_hits)
done
[ "$hits1" -eq 0 ] || fail "four new pairs gave $hits1 cache hits, not 0"
[ "$(($(stat_value verify_cache_hits) - hits1))" -eq 4 ] ||
	fail "four pairs again in a cache of 4: $(($(stat_value verify_cache_hits) - hits1)) hits, not 4"
pass "verify_cache_size = 4: four chain-and-name pairs verified again are four cache hits"
finish
