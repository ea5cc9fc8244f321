#!/usr/bin/env bash
# load.sh - sustained load on one handoffd: rounds of PAIRS x 2 concurrent
# handshakes (PAIRS client-role and PAIRS server-role connections, driven
# by two tests/tools/many_inflight processes of one thread each, so each
# stays within 20,000 descriptors) for SECONDS, recording the
# daemon's resident memory after each round.  Fails on any failed
# handshake, or when the daemon's memory after warm-up (the first two
# rounds) grows by more than GROWTH_PCT percent (GROWTH_PCT "none": memory
# is reported, not checked, e.g. in a sanitizer build).
#
#   bench/load.sh [BUILD_DIR] [SECONDS] [PAIRS] [GROWTH_PCT]
#   defaults:      build       180       5000    10
# HANDOFFD and MANY_INFLIGHT, when set, name the programs to run instead
# of BUILD_DIR's (tests/valgrind_check.sh runs them under valgrind).
set -euo pipefail
build=${1:-build}
seconds=${2:-180}
pairs=${3:-5000}
growth=${4:-10}
daemon=${HANDOFFD:-$build/handoffd}
tool=${MANY_INFLIGHT:-$build/tests/many_inflight}
[ -x "$tool" ] || { echo "load.sh: $tool not built"; exit 2; }
# Two driver processes; four descriptors per pair in each, and room for
# the descriptors valgrind keeps for itself when a driver runs under it.
half=$((pairs / 2))
need=$((4 * half + 128))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
	ulimit -Hn "$need" 2>/dev/null || {
		echo "load.sh: needs $need descriptors (ulimit -Hn), have $(ulimit -Hn)"
		exit 2
	}
fi
ulimit -n "$need"

T=$(mktemp -d /tmp/handoff-load.XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/key.pem" -out "$T/cert.pem" -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost 2>/dev/null
cat >"$T/handoffd.conf" <<CONF
[daemon]
listen = ipc://$T/handoffd.sock
max_sessions = $((2 * pairs + 1000))
log_level = warning

[profile default]
certificate = $T/cert.pem
key = $T/key.pem
trust = $T/cert.pem
CONF
"$daemon" --foreground --config "$T/handoffd.conf" 2>"$T/d.log" &
pid=$!
for _ in $(seq 400); do [ -S "$T/handoffd.sock" ] && break; sleep 0.05; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

echo "round  in-flight  completed  failed  seconds  hs/s  daemon RSS KiB"
end=$((SECONDS + seconds))
round=0 total=0 failed=0 base=0 peak=0
while [ $SECONDS -lt $end ] || [ $round -lt 3 ]; do
	round=$((round + 1))
	"$tool" "ipc://$T/handoffd.sock" "$half" >"$T/a.out" 2>"$T/a.err" &
	a=$!
	"$tool" "ipc://$T/handoffd.sock" "$((pairs - half))" >"$T/b.out" 2>"$T/b.err" || true
	wait "$a" || true
	v() { awk -v k="$1" '$1 == k {s += $2; if ($2 > m) m = $2} END {print (k == "seconds" ? m : s)}' "$T/a.out" "$T/b.out"; }
	done_=$(v completed) fail=$(v failed) secs=$(v seconds)
	[ "$(v pairs)" = "$pairs" ] || { echo "round $round: a driver failed: $(cat "$T/a.err" "$T/b.err")"; exit 1; }
	mem=$(rss)
	total=$((total + done_))
	failed=$((failed + 2 * pairs - done_)) # failed or never finished
	[ $round -eq 2 ] && base=$mem
	[ $round -gt 2 ] && [ "$mem" -gt "$peak" ] && peak=$mem
	printf "%5d  %9d  %9d  %6d  %7s  %4.0f  %14d\n" "$round" "$(v peak_in_flight)" \
		"$done_" "$fail" "$secs" "$(awk -v d="$done_" -v s="$secs" 'BEGIN {print d / s}')" "$mem"
done
echo "total: $total handshakes in $round rounds, $failed failed"
echo "daemon RSS after warm-up: $base KiB; highest after: $peak KiB"
[ "$failed" -eq 0 ] || { echo "FAIL: $failed handshakes failed"; exit 1; }
if [ "$growth" = none ]; then
	echo "ok: no failures (memory growth not checked)"
	exit 0
fi
if [ "$peak" -gt $((base + base * growth / 100)) ]; then
	echo "FAIL: daemon memory grew more than $growth% after warm-up"
	exit 1
fi
echo "ok: no failures, daemon memory flat after warm-up"
