#!/usr/bin/env bash
# thread_names.sh - handoffd's workers are named handoffd-w0, -w1, ...
# and libhandoff's I/O thread handoff-io in the program that uses it, so
# that top -H, perf and gdb tell them from the rest: each would otherwise
# carry its creator's name.  nanomsg's own thread keeps its process's
# name (nanomsg makes it; neither side can reach it).
source "$TESTS_DIR/integration/lib.sh"

# names PID: the process's thread names, sorted, on one line.
names() {
	cat /proc/"$1"/task/*/comm | sort | tr '\n' ' '
}

write_config "workers = 3"
start_daemon
got=$(names "$DAEMON_PID")
[ "$(grep -o 'handoffd-w[0-9]*' <<<"$got" | tr '\n' ' ')" = "handoffd-w0 handoffd-w1 handoffd-w2 " ] ||
	fail "with workers = 3, handoffd's threads are named: $got"
pass "handoffd's three workers are named handoffd-w0 to handoffd-w2 (all: $got)"

start_demo
out=$(timeout 10 curl -sS --cacert "$T/server-cert.pem" \
	--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/" 2>&1) ||
	fail "a handshake through handoff-demo: $out"
got=$(names "$DEMO_PID")
[ "$(grep -o 'handoff-io' <<<"$got" | wc -l)" -eq 1 ] ||
	fail "handoff-demo, once it served a handshake, has no one thread named handoff-io: $got"
pass "a program using libhandoff runs one I/O thread named handoff-io (all: $got)"
stop_demo
stop_daemon
finish
