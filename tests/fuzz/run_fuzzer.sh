#!/usr/bin/env bash
# run_fuzzer.sh BINARY SEED_DIR SECONDS - runs a libFuzzer target for
# SECONDS on a copy of its seed corpus (the source tree is never written),
# prints executions and coverage, and fails on any crash, leak or timeout.
set -euo pipefail
bin=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp "$seeds"/* "$work/corpus/" 2>/dev/null || true
set +e
"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" \
	>"$work/log" 2>&1
rc=$?
set -e
grep -E "^#[0-9]+.*(DONE|cov:)" "$work/log" | tail -1
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" || true
if [ $rc -ne 0 ]; then
	tail -40 "$work/log"
	echo "FAIL: fuzzer exited $rc (crash, leak or timeout above)"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "ok - $(basename "$bin") ran ${secs}s with no crash"
echo "1 passed, 0 failed"
