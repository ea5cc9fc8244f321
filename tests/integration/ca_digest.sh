#!/usr/bin/env bash
# ca_digest.sh - a caller's own CA file (handoff_config_set_ca_file)
# crosses to handoffd once per context: the first client handshake carries
# the file, the next ones only its SHA-256, which finds the file handoffd
# parsed (daemon/trust_cache.c).  A restarted handoffd no longer holds it
# and asks for it (HS_NEED_CAS): the handshake starts again with the file
# and succeeds.  Every connection is a full handshake, verified.  The
# client is tests/tools/ca_client.c.  A digest of the wrong length is
# refused, and one handoffd never computed opens no session (ipc_probe).
source "$TESTS_DIR/integration/lib.sh"
: "${CA_CLIENT:?run through ctest}" "${IPC_PROBE:?run through ctest}"

make_ca
make_leaf server ecdsa
# No tickets and no client cache: each connection verifies the server.
write_config "client_cache_size = 0"
start_daemon
port=$(free_port)
start_openssl_server "$port" -cert "$T/server-cert.pem" \
	-key "$T/server-key.pem" -num_tickets 0

coproc CLIENT { timeout 60 "$CA_CLIENT" "$DAEMON_URL" "$port" \
	"$T/ca-cert.pem" 3 2>&1; }
# stats_are NAME=VALUE...: handoffd's counters are these.
stats_are() {
	local pair
	for pair in "$@"; do
		[ "$(stat_value "${pair%%=*}")" = "${pair#*=}" ] ||
			fail "${pair%%=*} is $(stat_value "${pair%%=*}"), not ${pair#*=}"
	done
}

expect_line "${CLIENT[0]}" "ok 3"
stats_are client_handshakes=3 caller_ca_files_received=1 \
	caller_ca_files_parsed=1 caller_ca_files_asked_for=0
pass "3 verified handshakes on one context: the CA file sent and parsed once, then named by its digest"

stop_daemon
start_daemon
echo go >&"${CLIENT[1]}"
expect_line "${CLIENT[0]}" "ok 3"
wait "$CLIENT_PID" || fail "ca_client failed after the restart"
stats_are client_handshakes=3 caller_ca_files_asked_for=1 \
	caller_ca_files_received=1 caller_ca_files_parsed=1
pass "a restarted handoffd asked for the file once; 3 more handshakes verified"

out=$("$IPC_PROBE" "$DAEMON_URL" ca-digest 2>&1) || fail "ipc_probe ca-digest: $out"
[ "$(stat_value open_sessions)" = 0 ] ||
	fail "$(stat_value open_sessions) sessions left open by unknown digests"
pass "$out"
finish
