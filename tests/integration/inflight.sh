# inflight.sh - thousands of handshakes in flight from one event loop.
# many_inflight opens 2,000 connections to itself and runs both ends
# through one context from one thread (epoll), so 4,000 handshakes (2,000
# client role, 2,000 server role) are in flight at once through one
# handoffd; every one must complete and carry data, and no single
# libhandoff call may block (a blocking call would take seconds).  Then,
# all of them open and idle, each may hold only a few KiB (libhandoff
# lets go of its 64 KiB read buffer while nothing is buffered).
source "$(dirname "$0")/lib.sh"

# valgrind_check.sh asks for fewer (INFLIGHT_PAIRS): valgrind runs one
# thread at a time, tens of times slower.
PAIRS=${INFLIGHT_PAIRS:-2000}
start_daemon_for_many_inflight "$PAIRS"

timeout 240 "$MANY_INFLIGHT" "$DAEMON_URL" "$PAIRS" >"$T/inflight.out" \
	2>"$T/inflight.log" || fail "many_inflight: $(cat "$T/inflight.out" "$T/inflight.log")"
value() { awk -v k="$1" '$1 == k {print $2}' "$T/inflight.out"; }
[ "$(value peak_in_flight)" -eq $((2 * PAIRS)) ] ||
	fail "only $(value peak_in_flight) handshakes were in flight at once"
[ "$(value completed)" -eq $((2 * PAIRS)) ] && [ "$(value failed)" -eq 0 ] ||
	fail "$(value completed) completed, $(value failed) failed"
pass "$((2 * PAIRS)) handshakes in flight at once from one thread: all completed in $(value seconds) s"
longest=$(value longest_call_ms)
# TIME_SCALE: valgrind slows every call down, a blocking one too.
awk -v l="$longest" -v k="${TIME_SCALE:-1}" 'BEGIN { exit !(l < 1000 * k) }' ||
	fail "a libhandoff call blocked for $longest ms"
pass "no libhandoff call blocked the loop (longest $longest ms)"
[ "$(stat_value handshakes_completed)" -eq $((2 * PAIRS)) ] ||
	fail "daemon completed $(stat_value handshakes_completed) handshakes"
[ "$(value idle_connections)" -eq $((2 * PAIRS)) ] ||
	fail "only $(value idle_connections) connections were idle at the end"
idle_kib=$(value idle_conn_heap_kib)
if [ -n "${HANDOFF_SANITIZE:-}${HANDOFF_VALGRIND:-}" ]; then
	echo "SKIP: heap per idle connection not measured under ${HANDOFF_SANITIZE:-valgrind} (its allocator hides it from malloc's count)"
else
	awk -v k="$idle_kib" 'BEGIN { exit !(k > 0 && k < 16) }' ||
		fail "an idle open connection holds $idle_kib KiB of heap (want under 16)"
	pass "an idle open connection holds $idle_kib KiB of heap"
fi
wait_for "daemon sessions to close" 15 test "$(stat_value open_sessions)" -eq 0
pass "handoffd completed all $((2 * PAIRS)) and holds no session afterwards"
finish
