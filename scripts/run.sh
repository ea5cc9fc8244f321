#!/usr/bin/env bash
# run.sh - the main job: build handoff, start handoffd on its built-in
# default configuration and handoff-demo in front of it, show a curl that
# works, and keep both running until Ctrl-C (or exit at once with --once).
set -euo pipefail
cd "$(dirname "$0")/.."
once=0
[ "${1:-}" = "--once" ] && once=1
port=${HANDOFF_DEMO_PORT:-8443}

bash scripts/deps.sh
bash scripts/build.sh
build=${BUILD_DIR:-build}

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$build/handoffd" --foreground &
pids+=($!)
for _ in $(seq 1 100); do
	"$build/handoffctl" ping >/dev/null 2>&1 && break
	sleep 0.1
done
"$build/handoffctl" ping

log=$(mktemp)
"$build/handoff-demo" serve --port "$port" > >(tee "$log") &
pids+=($!)
for _ in $(seq 1 100); do
	grep -q serving "$log" && break
	sleep 0.1
done
rm -f "$log"

if [ "$(id -u)" -eq 0 ]; then
	state=/var/lib/handoff
elif [ -n "${XDG_STATE_HOME:-}" ]; then
	state=$XDG_STATE_HOME/handoff
else
	state=$HOME/.local/state/handoff
fi
line="curl --cacert $state/default-cert.pem https://localhost:$port/"
echo
echo "handoffd is doing the TLS handshakes for handoff-demo. Try:"
echo "  $line"
echo
echo "\$ $line"
$line -sS
echo
"$build/handoffctl" stats
[ $once -eq 1 ] && exit 0
echo
echo "Running; press Ctrl-C to stop."
wait
