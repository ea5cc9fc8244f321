# bench_cpus.sh - handoff-bench sizes its run by the CPUs it may use, not
# by those the machine has: under taskset (its CPU affinity) and in a
# cgroup with a CPU quota (what `docker run --cpus` sets) it counts
# fewer, and its first lines and JSON say how many of how many, and why.
source "$(dirname "$0")/lib.sh"
: "${HANDOFF_BENCH:?run through ctest}"
export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"

online=$(getconf _NPROCESSORS_ONLN)

# Runs the shortest section; its JSON in $T/$1.json, its output in $T/$1.log.
bench_run() {
	local name=$1
	shift
	"$@" "$HANDOFF_BENCH" --quick --only memory --handoffd "$HANDOFFD" \
		--json "$T/$name.json" >"$T/$name.log" 2>&1 ||
		fail "$name: the bench failed: $(tail -5 "$T/$name.log")"
}

# Checks a run counted one CPU of $online, for the reason given.
one_cpu() {
	local name=$1 why=$2
	jq -e --argjson online "$online" --arg why "$why" \
		'.cpus == 1 and .cpus_online == $online and .cpus_limit == $why' \
		"$T/$name.json" >/dev/null ||
		fail "$name: JSON $(jq -c '{cpus, cpus_online, cpus_limit}' "$T/$name.json")"
	grep -q "^handoff-bench [^:]*: 1 CPU, " "$T/$name.log" &&
		grep -q "; 1 of $online online CPUs usable ($why)$" "$T/$name.log" ||
		fail "$name: the first lines do not say 1 of $online CPUs ($why): $(head -2 "$T/$name.log")"
}

# As the test runs: no more than its affinity allows (nproc), and a
# limit named exactly when it counts fewer than are online.
bench_run as_is
allowed=$(nproc)
base=$(jq .cpus "$T/as_is.json")
limit=$(jq -r .cpus_limit "$T/as_is.json")
jq -e --argjson online "$online" --argjson allowed "$allowed" \
	'.cpus_online == $online and .cpus >= 1 and .cpus <= $allowed and ((.cpus_limit == "") == (.cpus == $online))' \
	"$T/as_is.json" >/dev/null ||
	fail "as the test runs ($allowed of $online CPUs allowed): $(jq -c '{cpus, cpus_online, cpus_limit}' "$T/as_is.json")"
if [ -z "$limit" ]; then
	if grep -q "online CPUs usable" "$T/as_is.log"; then
		fail "with nothing limiting it, the Machine line names a limit: $(sed -n 2p "$T/as_is.log")"
	fi
	pass "nothing limiting it: all $online CPUs, no limit named"
else
	grep -q "; $base of $online online CPUs usable ($limit)$" "$T/as_is.log" ||
		fail "the Machine line does not name the limit ($limit): $(sed -n 2p "$T/as_is.log")"
	pass "as the test runs: $base of $online CPUs, $limit named"
fi

if [ "$base" -lt 2 ]; then
	echo "SKIP: the bench may use one CPU already: nothing can hold it lower"
	finish
	exit 0
fi

first=$(first_allowed_cpu)
bench_run affinity taskset -c "$first"
one_cpu affinity "its CPU affinity"
pass "under taskset -c $first: 1 of $online CPUs, its CPU affinity named"

if ! make_quota_cgroup; then
	echo "SKIP: cannot make a cgroup with a CPU quota here (needs root and a writable cgroup cpu controller): the quota is not checked"
	finish
	exit 0
fi
rc=0
"${IN_QUOTA_CGROUP[@]}" "$HANDOFF_BENCH" --quick --only memory --handoffd "$HANDOFFD" \
	--json "$T/quota.json" >"$T/quota.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "in a cgroup: the bench failed: $(tail -5 "$T/quota.log")"
one_cpu quota "its cgroup's CPU quota"
pass "in a cgroup with a one-CPU quota: 1 of $online CPUs, the quota named"
finish
