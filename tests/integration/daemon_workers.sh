#!/usr/bin/env bash
# daemon_workers.sh - with no workers in its config, handoffd starts one
# worker per CPU it may use: fewer than the machine's online CPUs under
# taskset (its CPU affinity) or in a cgroup with a CPU quota (what
# `docker run --cpus` and systemd's CPUQuota= set), and its log says how
# many and why.  The threads it runs are counted too, and a handshake
# goes through with the one worker.
source "$TESTS_DIR/integration/lib.sh"

online=$(getconf _NPROCESSORS_ONLN)

# A config with no workers key (write_config adds one).
write_config "workers = 2"
sed -i '/^workers = /d' "$T/handoffd.conf"
cp "$T/handoffd.conf" "$T/default.conf"

# run_daemon CONFIG [PREFIX...]: starts handoffd on CONFIG (under PREFIX,
# e.g. taskset) with a fresh log, waits for its ping, and sets THREADS to
# how many threads it runs.
run_daemon() {
	local config=$1
	shift
	: >"$T/handoffd.log"
	"$@" "$HANDOFFD" --foreground --config "$config" \
		>>"$T/handoffd.log" 2>&1 &
	DAEMON_PID=$!
	wait_for "handoffd to answer ping" 10 \
		"$HANDOFFCTL" --daemon "$DAEMON_URL" ping
	THREADS=$(ls /proc/"$DAEMON_PID"/task | wc -l)
}

# expect_log TEXT: handoffd's log has TEXT on a line.
expect_log() {
	grep -qF "$1" "$T/handoffd.log" ||
		fail "the log does not say '$1': $(grep -i worker "$T/handoffd.log")"
}

# Threads besides the workers (main, nanomsg's, libuv's), measured with
# the config's one worker, then three.
cp "$T/default.conf" "$T/one.conf"
sed -i 's/^\[daemon\]$/&\nworkers = 1/' "$T/one.conf"
run_daemon "$T/one.conf"
expect_log "1 worker thread (workers = 1 in the config)"
one=$THREADS
stop_daemon
sed 's/^workers = 1$/workers = 3/' "$T/one.conf" >"$T/three.conf"
run_daemon "$T/three.conf"
expect_log "3 worker threads (workers = 3 in the config)"
[ "$THREADS" -eq $((one + 2)) ] ||
	fail "3 workers run $THREADS threads, 1 worker $one: two more expected"
stop_daemon
pass "workers = N runs N workers ($one threads with one, $THREADS with three)"

# As the test runs: one per CPU it may use, at most nproc, and a reason
# named exactly when that is fewer than are online.
run_daemon "$T/default.conf"
allowed=$(nproc)
workers=$(sed -n 's/.*info: \([0-9]*\) worker threads\{0,1\} (.*/\1/p' "$T/handoffd.log")
[ -n "$workers" ] || fail "no worker count in the log: $(cat "$T/handoffd.log")"
[ "$workers" -ge 1 ] && [ "$workers" -le "$allowed" ] ||
	fail "$workers workers with $allowed of $online CPUs allowed"
[ "$THREADS" -eq $((one + workers - 1)) ] ||
	fail "the log says $workers workers, handoffd runs $THREADS threads ($one with one worker)"
if [ "$workers" -eq "$online" ]; then
	expect_log "info: $workers worker thread$([ "$workers" -eq 1 ] || echo s) (one per online CPU)"
else
	expect_log "info: $workers worker threads (one per CPU handoffd may use: $workers of $online online, as its "
fi
stop_daemon
pass "by default: $workers workers of $online online CPUs, $allowed allowed"

if [ "$workers" -lt 2 ]; then
	echo "SKIP: handoffd may use one CPU already: nothing can hold it lower"
	finish
	exit 0
fi

first=$(first_allowed_cpu)
run_daemon "$T/default.conf" taskset -c "$first"
expect_log "1 worker thread (one per CPU handoffd may use: 1 of $online online, as its CPU affinity allows; set workers in the config to change it)"
[ "$THREADS" -eq "$one" ] ||
	fail "under taskset: $THREADS threads, one worker runs $one"
stop_daemon
pass "under taskset -c $first: 1 worker, its CPU affinity named"

if ! make_quota_cgroup; then
	echo "SKIP: cannot make a cgroup with a CPU quota here (needs root and a writable cgroup cpu controller): the quota is not checked"
	finish
	exit 0
fi
run_daemon "$T/default.conf" "${IN_QUOTA_CGROUP[@]}"
expect_log "1 worker thread (one per CPU handoffd may use: 1 of $online online, as its cgroup's CPU quota allows; set workers in the config to change it)"
[ "$THREADS" -eq "$one" ] ||
	fail "in the cgroup: $THREADS threads, one worker runs $one"
start_demo
out=$(timeout 10 curl -sS --cacert "$T/server-cert.pem" \
	--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/" 2>&1) ||
	fail "a handshake through the one worker: $out"
stop_demo
stop_daemon
pass "in a cgroup with a one-CPU quota: 1 worker, the quota named; it serves"
finish
