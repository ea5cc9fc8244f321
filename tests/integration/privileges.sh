#!/usr/bin/env bash
# privileges.sh - handoffd started as root with `user = nobody` loads its
# keys and binds as root, then runs as nobody for good; the socket belongs
# to nobody's group; handshakes work; a socket in a directory nobody may
# not write stays behind at stop, with a warning at start, and handoffd
# still exits 0.  A bad user is refused at start.
source "$TESTS_DIR/integration/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: dropping privileges needs the suite to run as root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi
nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)

write_config "user = nosuchuser"
out=$("$HANDOFFD" --check --config "$T/handoffd.conf" 2>&1) && fail "accepted: $out"
grep -q "user = nosuchuser: no such user" <<<"$out" || fail "unclear: $out"
pass "unknown user refused: $out"

write_config "user = root"
out=$("$HANDOFFD" --check --config "$T/handoffd.conf" 2>&1) && fail "accepted: $out"
grep -q "that is root" <<<"$out" || fail "unclear: $out"
pass "user = root refused"

write_config "user = nobody"
chmod 600 "$T/server-key.pem" # readable by root only, as a real key is
start_daemon
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$DAEMON_PID/status")
[ "$uids" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
	fail "daemon uids are '$uids', want nobody ($nobody_uid) in all four"
gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$DAEMON_PID/status")
[ "$gids" = "$nobody_gid $nobody_gid $nobody_gid $nobody_gid" ] ||
	fail "daemon gids are '$gids'"
grep -q "^CapEff:[[:space:]]*0*$" "/proc/$DAEMON_PID/status" ||
	fail "daemon kept capabilities: $(grep CapEff "/proc/$DAEMON_PID/status")"
pass "running as nobody (uid/gid $uids / $gids), no capabilities"
[ "$(stat -c %u:%g "$T/handoffd.sock")" = "$nobody_uid:$nobody_gid" ] ||
	fail "socket owned by $(stat -c %u:%g "$T/handoffd.sock")"
pass "socket given to nobody's group, mode $(stat -c %a "$T/handoffd.sock")"

start_demo
out=$(timeout 10 curl -sS --cacert "$T/server-cert.pem" \
	--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/") ||
	fail "handshake through the unprivileged daemon failed"
grep -q TLSv1.3 <<<"$out" || fail "unexpected answer: $out"
pass "handshakes work after the drop (key loaded while root)"

# $T is root's: nobody cannot remove the socket when handoffd stops, and
# nanomsg used to abort the process trying to.
grep -q "user nobody cannot remove the socket" "$T/handoffd.log" ||
	fail "no warning that the socket's directory is root's"
stop_demo
term_daemon
pass "stops with status 0 although it cannot remove its socket (warned at start)"
start_daemon
pass "the next start replaces the socket left behind"
finish
