# tickets.sh - session tickets follow the daemon's schedule: with
# ticket_lifetime = 2 a ticket resumes at once but not after it expires
# (GnuTLS also derives a fresh ticket key from the daemon's master key
# every 3 x ticket_lifetime), and a restarted daemon (new master key)
# honours no old ticket.
source "$(dirname "$0")/lib.sh"

write_config "ticket_lifetime = 2"
start_daemon
start_demo
CA="$T/server-cert.pem"
REQ='GET / HTTP/1.0\r\n\r\n'

connect() { # connect SESSION_ARGS...: prints s_client's session line
	printf "$REQ" | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
		-servername localhost -tls1_3 -CAfile "$CA" -ign_eof "$@" 2>&1 |
		grep -E '^(New|Reused),' | head -1
}

out=$(connect -sess_out "$T/sess.pem")
grep -q "^New" <<<"$out" || fail "first connection: $out"
grep -q "TLS session ticket lifetime hint: 2 " <(openssl sess_id -in "$T/sess.pem" -text -noout 2>/dev/null) ||
	fail "ticket lifetime hint is not 2 s: $(openssl sess_id -in "$T/sess.pem" -text -noout | grep -i lifetime)"
out=$(connect -sess_in "$T/sess.pem")
grep -q "^Reused" <<<"$out" || fail "fresh ticket not honoured: $out"
pass "a fresh ticket resumes (lifetime hint 2 s)"

out=$(connect -sess_out "$T/sess2.pem")
sleep 4
out=$(connect -sess_in "$T/sess2.pem")
grep -q "^New" <<<"$out" || fail "a ticket past its lifetime resumed: $out"
pass "a ticket past ticket_lifetime is refused (full handshake)"

out=$(connect -sess_out "$T/sess3.pem")
stop_daemon
start_daemon
out=$(connect -sess_in "$T/sess3.pem")
grep -q "^New" <<<"$out" || fail "a ticket from before the restart resumed: $out"
pass "after a restart (new master key) old tickets are refused"
finish
