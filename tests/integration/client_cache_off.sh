# client_cache_off.sh - client_cache_size = 0 turns client resumption off,
# and with it the ticket relay: a TLS 1.3 client handshake then costs two
# requests to handoffd (ClientHello, the server's flight), not three, and
# the daemon holds nothing once it is done.  With the cache on (the
# default), the caller relays the server's ticket and the next
# connection resumes.  Counted by handoffd's stats.
source "$(dirname "$0")/lib.sh"

make_ca
make_leaf server ecdsa

# run_counted: one handoff-demo connection through the openssl server on
# $port; sets trips (requests it made) and resumed (1 if it resumed).
run_counted() {
	local req0
	req0=$(stat_value requests)
	echo hello | demo_connect "$port" >/dev/null ||
		fail "connect: $(cat "$T/connect.err")"
	# The second stats query is counted too.
	trips=$(($(stat_value requests) - req0 - 1))
	resumed=0
	grep -q "connected: .* resumed" "$T/connect.err" && resumed=1
	return 0
}

for cache in 0 1024; do
	cat >"$T/handoffd.conf" <<CONF
[daemon]
listen = $DAEMON_URL
workers = 2
client_cache_size = $cache

[profile default]
trust = $T/ca-cert.pem
CONF
	start_daemon
	port=$(free_port)
	start_openssl_server "$port" -cert "$T/server-cert.pem" \
		-key "$T/server-key.pem" -tls1_3
	run_counted
	first=$trips
	run_counted
	if [ "$cache" -eq 0 ]; then
		[ "$first" -eq 2 ] && [ "$trips" -eq 2 ] ||
			fail "cache off: $first and $trips requests per connection (want 2: no ticket relay)"
		[ "$resumed" -eq 0 ] || fail "cache off: the second connection resumed"
		[ "$(stat_value tickets_stored)" -eq 0 ] ||
			fail "cache off: a ticket was stored"
		[ "$(stat_value open_sessions)" -eq 0 ] ||
			fail "cache off: handoffd still holds $(stat_value open_sessions) session(s)"
		pass "client_cache_size = 0: two requests per TLS 1.3 client handshake, no ticket relayed, nothing held"
	else
		[ "$first" -eq 3 ] ||
			fail "cache on: $first requests for the first connection (want 3: hello, flight, ticket)"
		[ "$resumed" -eq 1 ] || fail "cache on: the second connection did not resume"
		[ "$(stat_value tickets_stored)" -ge 1 ] || fail "cache on: no ticket stored"
		pass "client cache on: the ticket is relayed (3 requests) and the next connection resumes"
	fi
	stop_daemon
done
finish
