#!/usr/bin/env bash
# build.sh - configure and build handoff into ./build (or $BUILD_DIR).
# Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DHANDOFF_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
