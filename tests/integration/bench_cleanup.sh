# bench_cleanup.sh - handoff-bench leaves nothing behind, however it ends.
# Its run folder (certificates with their private keys, handoffd's
# configs, sockets and log) goes, and its children (handoffd, forked
# servers) end: on SIGTERM or SIGINT in the middle of a figure, and when
# it dies on a handoffd that does not start.  On SIGKILL nothing can
# remove the folder, but the children still end, and the next run
# removes the folder (and only the folders of runs that have ended).  An
# output path it cannot write is refused before anything is measured.
source "$(dirname "$0")/lib.sh"
: "${HANDOFF_BENCH:?run through ctest}"

# The bench's folders go here (TMPDIR), so this test sees only its own.
export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"

folders() { find "$TMPDIR" -mindepth 1 -maxdepth 1 | wc -l; }

# A JSON or chart path that cannot be written: refused at once.
start=$SECONDS
rc=0
"$HANDOFF_BENCH" --quick --json "$T/missing/out.json" --handoffd "$HANDOFFD" \
	>"$T/json.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "cannot write the JSON to $T/missing/out.json: No such file or directory (give a path in a folder you can write to)" "$T/json.log" ||
	fail "unwritable --json: exit $rc, $(cat "$T/json.log")"
rc=0
"$HANDOFF_BENCH" --quick --png "$TMPDIR" --handoffd "$HANDOFFD" >"$T/png.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "cannot write the chart to $TMPDIR: Is a directory" "$T/png.log" ||
	fail "--png naming a folder: exit $rc, $(cat "$T/png.log")"
[ $((SECONDS - start)) -le 5 ] || fail "refusing the paths took $((SECONDS - start)) s"
[ "$(folders)" -eq 0 ] || fail "a refused run left $(ls "$TMPDIR")"
pass "unwritable --json and --png paths are refused before measuring"

# A "handoffd" that exits at once: the bench says so, with its output,
# without waiting for its readiness deadline, and removes its folder.
printf '#!/bin/sh\necho "no config for you" >&2\nexit 3\n' >"$T/bad-handoffd"
chmod +x "$T/bad-handoffd"
rc=0
"$HANDOFF_BENCH" --quick --only records --handoffd "$T/bad-handoffd" >"$T/bad.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "exited before it was ready (exit status 3)" "$T/bad.log" &&
	grep -q "no config for you" "$T/bad.log" ||
	fail "a daemon that exits: exit $rc, $(tail -5 "$T/bad.log")"
[ "$(folders)" -eq 0 ] || fail "dying on its daemon left $(ls -R "$TMPDIR")"
pass "a daemon that does not start: named with its own output, folder removed"

# The bench's children, one "pid command-name" a line.
children_of() { ps -o pid=,comm= --ppid "$1" 2>/dev/null || true; }

# Starts a server figure and waits until the bench has both handoffd and
# a forked server process running; prints their pids.
start_mid_figure() {
	"$HANDOFF_BENCH" --quick --only server --handoffd "$HANDOFFD" \
		>"$T/mid.log" 2>&1 &
	BENCH=$!
	local i kids
	for i in $(seq 1 300); do
		kids=$(children_of "$BENCH")
		if grep -q handoffd <<<"$kids" && grep -q handoff-bench <<<"$kids"; then
			CHILDREN=$(awk '{print $1}' <<<"$kids" | paste -sd' ')
			return 0
		fi
		sleep 0.1
	done
	fail "no handoffd and server children within 30 s: $(tail -3 "$T/mid.log")"
}

# Every pid given ends within 5 s; any left running is killed (so a
# failure leaves nothing either) and named.
children_end() {
	local p i left=""
	for p in $1; do
		for i in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$p" 2>/dev/null; then
			left="$left $p ($(cat /proc/"$p"/comm 2>/dev/null || true))"
		fi
	done
	[ -z "$left" ] && return 0
	for p in $1; do kill -KILL "$p" 2>/dev/null || true; done
	fail "children outlived the bench ($2):$left"
}

for sig in TERM INT; do
	start_mid_figure
	kill -"$sig" "$BENCH"
	rc=0
	wait "$BENCH" || rc=$?
	want=$((128 + $(kill -l "$sig")))
	[ "$rc" -eq "$want" ] || fail "SIG$sig: exit $rc, not $want: $(tail -3 "$T/mid.log")"
	children_end "$CHILDREN" "SIG$sig"
	[ "$(folders)" -eq 0 ] || fail "SIG$sig left $(ls -R "$TMPDIR")"
	pass "SIG$sig in the middle of a figure: folder removed, children ($CHILDREN) ended"
done

# SIGKILL: no handler runs, but the kernel still signals the children.
start_mid_figure
kill -KILL "$BENCH"
wait "$BENCH" 2>/dev/null || true
children_end "$CHILDREN" "SIGKILL"
pass "SIGKILL: the children ($CHILDREN) ended with the bench"

# What SIGKILL left, the next run removes, and nothing else: beside the
# killed run's folder, folders whose owner file names a process that
# runs (this shell), a pid reused by another process (this shell's pid,
# another start time), a process of another pid namespace, or nothing.
# Without an owner file, an empty folder untouched for a minute (two,
# here) is removed (what an interrupted run leaves when a child made a
# file in it after the handler emptied it, and removed it as it ended);
# a fresh empty one, or one holding a file, stays.
killed=$(find "$TMPDIR" -mindepth 1 -maxdepth 1)
[ "$(wc -l <<<"$killed")" -eq 1 ] && [ -f "$killed/owner" ] ||
	fail "SIGKILL should leave one folder with its owner file: $(ls -R "$TMPDIR")"
stat=$(cat /proc/$$/stat)
read -ra fields <<<"${stat##*) }" # fields from the third on
ns=$(readlink /proc/$$/ns/pid)
decoy() { mkdir "$TMPDIR/handoff-bench.$1" && echo "$2" >"$TMPDIR/handoff-bench.$1/owner"; }
decoy running "$$ ${fields[19]} $ns"
decoy reused "$$ 1 $ns"
decoy elsewhere "$$ 1 pid:[1]"
mkdir "$TMPDIR/handoff-bench.noowner"
mkdir "$TMPDIR/handoff-bench.emptyold" "$TMPDIR/handoff-bench.emptynew"
touch -d '2 minutes ago' "$TMPDIR/handoff-bench.emptyold"
mkdir "$TMPDIR/handoff-bench.fullold"
: >"$TMPDIR/handoff-bench.fullold/handoffd.sock"
touch -d '2 minutes ago' "$TMPDIR/handoff-bench.fullold"
rc=0
"$HANDOFF_BENCH" --quick --only records --handoffd "$T/bad-handoffd" >"$T/next.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "the run after SIGKILL: exit $rc, $(tail -5 "$T/next.log")"
grep -q "removed $killed, left by a run (pid $BENCH) that was killed" "$T/next.log" &&
	grep -q "removed $TMPDIR/handoff-bench.reused, left by a run (pid $$)" "$T/next.log" &&
	grep -q "removed $TMPDIR/handoff-bench.emptyold, an empty folder an interrupted run left" "$T/next.log" ||
	fail "the run after SIGKILL did not say what it removed: $(cat "$T/next.log")"
left=$(cd "$TMPDIR" && ls | paste -sd' ')
[ "$left" = "handoff-bench.elsewhere handoff-bench.emptynew handoff-bench.fullold handoff-bench.noowner handoff-bench.running" ] ||
	fail "after the run that cleans up, $TMPDIR holds: $left"
pass "the next run removed what SIGKILL left, a reused pid's folder and an old empty one, and kept the rest"
finish
