#!/usr/bin/env bash
# check_exports.sh LIB LIST - libhandoff.so must export exactly the public
# API listed in LIST: nothing internal leaks, nothing public is missing.
set -euo pipefail
lib=$1 list=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {sub(/@.*/, "", $3); print $3}' | sort -u)
if ! diff -u "$list" <(echo "$actual"); then
	echo "FAIL: exported symbols of $lib differ from $list (- expected, + actual)"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "ok - $(wc -l <"$list") symbols exported, as listed"
echo "1 passed, 0 failed"
