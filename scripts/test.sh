#!/usr/bin/env bash
# test.sh - the whole test suite: dependencies, a -Werror build, then
# every CTest test (unit, integration, interop, slow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j2 "$@"
