#!/usr/bin/env bash
# valgrind_check.sh SCRIPT... - runs integration scripts with handoffd,
# handoff-demo and many_inflight under valgrind memcheck, and fails on any
# memory error or definite leak it reports (the daemon and many_inflight
# exit cleanly, so their leaks are checked; the demo is killed, so only its
# errors are).  Threads are scheduled fairly (--fair-sched=yes): by
# default valgrind may leave a thread waiting long while others run, the
# likely reason shutdown_load lost a step now and then in CI (a thread
# late to see SIGTERM or to pass a message on while handoffd's 1 s drain
# ran out; not reproduced here).  The volume scripts run at a smaller
# volume here (MALFORMED_FRAMES, INFLIGHT_PAIRS, LOAD_SECONDS,
# LOAD_PAIRS): the same code paths, a tenth (malformed frames) to a
# fiftieth (load: 200 handshakes in flight, three rounds) of the
# repetitions.  Each script's time is printed: the two halves should
# take about as long, since ctest runs them side by side.
# --vgdb=no: by default each valgrind makes three FIFOs in /tmp for its
# gdb server and only removes them when it exits itself; the demo is
# killed, and its FIFOs were left behind after every run.
set -euo pipefail
: "${HANDOFFD:?run through ctest}" "${HANDOFF_DEMO:?run through ctest}"
: "${MANY_INFLIGHT:?run through ctest}"
command -v valgrind >/dev/null || {
	echo "SKIP: valgrind is not installed (apt-get install valgrind)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}
vg=$(mktemp -d /tmp/handoff-vg.XXXXXX)
trap 'rm -rf "$vg"' EXIT
# Scripts run some programs as another user (failures.sh: a caller that
# may not reach the daemon): they too run the wrappers and write logs,
# and valgrind opens the programs as that user, so it runs copies (with
# libhandoff and the suppressions) from here, not from the build, which
# may sit in a folder only its owner can enter.
chmod 1777 "$vg"
mkdir "$vg/bin"
lib=$(ldd "$HANDOFF_DEMO" | awk '$1 ~ /^libhandoff\.so/ {print $3}')
[ -z "$lib" ] || cp "$lib" "$vg/bin/"
cp "$TESTS_DIR/valgrind.supp" "$vg/bin/"
for name in handoffd handoff-demo many_inflight; do
	case $name in
	handoffd) real=$HANDOFFD ;;
	handoff-demo) real=$HANDOFF_DEMO ;;
	many_inflight) real=$MANY_INFLIGHT ;;
	esac
	cp "$real" "$vg/bin/$name"
	cat >"$vg/$name" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH=$vg/bin exec valgrind -q --vgdb=no --fair-sched=yes \\
	--leak-check=full --errors-for-leak-kinds=definite \\
	--suppressions=$vg/bin/valgrind.supp \\
	--log-file=$vg/$name.%p.log "$vg/bin/$name" "\$@"
WRAP
	chmod +x "$vg/$name"
done
chmod -R a+rX "$vg/bin"
passed=0
for script in "$@"; do
	started=$SECONDS
	HANDOFFD=$vg/handoffd HANDOFF_DEMO=$vg/handoff-demo \
		MANY_INFLIGHT=$vg/many_inflight HANDOFF_VALGRIND=1 TIME_SCALE=4 \
		MALFORMED_FRAMES=10000 INFLIGHT_PAIRS=100 LOAD_SECONDS=1 \
		LOAD_PAIRS=100 bash "$TESTS_DIR/integration/$script.sh" >"$vg/$script.out" 2>&1 || {
		tail -20 "$vg/$script.out"
		# The script's own FAIL line comes before the logs it dumps, which
		# the tail above may not reach.
		grep -m1 "^FAIL: " "$vg/$script.out" || true
		echo "FAIL: $script failed under valgrind"
		echo "$passed passed, 1 failed"
		exit 1
	}
	passed=$((passed + 1))
	echo "ok $passed - $script under valgrind: $(tail -1 "$vg/$script.out")" \
		"($((SECONDS - started)) s)"
done
# Memory errors and definite leaks fail; "possibly lost" blocks of a
# demo killed with live threads do not.
bad=$(grep -lE "Invalid (read|write|free)|uninitialised|Mismatched free|are definitely lost|overlap|Syscall param|fishy" \
	"$vg"/*.log 2>/dev/null || true)
if [ -n "$bad" ]; then
	head -60 $bad
	echo "FAIL: valgrind reported errors"
	echo "$passed passed, 1 failed"
	exit 1
fi
echo "ok - no memcheck errors in $(ls "$vg"/*.log | wc -l) process logs"
echo "$((passed + 1)) passed, 0 failed"
