#!/usr/bin/env bash
# scheduling.sh - every handoffd thread runs as SCHED_BATCH by default
# (nanomsg's own thread and the workers inherit it from the main thread),
# "scheduling = normal" leaves the policy alone, a policy handoffd was
# started with (here SCHED_IDLE, through chrt) is kept, and so is the
# reset-on-fork flag.  Each case checks every thread, answers a
# handshake, and reads what the log says.
source "$TESTS_DIR/integration/lib.sh"

command -v chrt >/dev/null || fail "chrt (util-linux) is missing"

# policies: every thread's policy name, one per line, sorted and counted.
policies() {
	local task
	for task in /proc/"$DAEMON_PID"/task/*; do
		chrt -p "${task##*/}" | sed -n 's/.*policy: //p'
	done | sort | uniq -c
}

# expect_all POLICY LOG_TEXT: all threads (at least main, nanomsg's and
# two workers) run under POLICY (an extended regular expression for the
# name chrt prints), a handshake goes through, the log says LOG_TEXT.
expect_all() {
	local want=$1 text=$2 got count out
	out=$(timeout 10 curl -sS --cacert "$T/server-cert.pem" \
		--resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/" 2>&1) ||
		fail "handshake under $want: $out"
	grep -q TLSv1.3 <<<"$out" || fail "handshake under $want: $out"
	got=$(policies)
	count=$(awk '{n += $1} END {print n}' <<<"$got")
	[ "$count" -ge 4 ] || fail "only $count threads: $got"
	if grep -vqE "^ *[0-9]+ ($want)\$" <<<"$got"; then
		fail "want every thread $want, got: $got"
	fi
	grep -qF "$text" "$T/handoffd.log" ||
		fail "log does not say '$text': $(head -3 "$T/handoffd.log")"
	pass "$want on all $count threads; log: $text"
}

restart() {
	stop_demo 2>/dev/null || true
	stop_daemon
	: >"$T/handoffd.log"
	start_daemon
	start_demo
}

write_config
start_daemon
start_demo
if grep -q "cannot run threads as SCHED_BATCH" "$T/handoffd.log"; then
	echo "SKIP: this system refuses SCHED_BATCH: $(grep SCHED_BATCH "$T/handoffd.log")"
	exit 77
fi
expect_all SCHED_BATCH "threads run as SCHED_BATCH"

write_config "scheduling = normal"
restart
expect_all SCHED_OTHER "threads keep SCHED_OTHER (scheduling = normal)"

write_config
HANDOFFD="chrt --idle 0 $HANDOFFD" restart
expect_all SCHED_IDLE "threads keep SCHED_IDLE, which handoffd was started with"

# systemd's CPUSchedulingResetOnFork= flag stays on the main thread (the
# kernel gives no thread the flag itself, only the policy).
HANDOFFD="chrt --other --reset-on-fork 0 $HANDOFFD" restart
expect_all "SCHED_BATCH(\|SCHED_RESET_ON_FORK)?" "threads run as SCHED_BATCH"
grep -q "SCHED_BATCH|SCHED_RESET_ON_FORK" <(chrt -p "$DAEMON_PID") ||
	fail "reset-on-fork lost: $(chrt -p "$DAEMON_PID")"
pass "started with reset-on-fork: kept on the main thread"
finish
