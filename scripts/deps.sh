#!/usr/bin/env bash
# deps.sh - install the Debian packages handoff needs to build and test.
# As root it installs what is missing with apt-get; otherwise it prints
# the exact command to run.
set -euo pipefail

packages=(
	build-essential cmake pkg-config
	libgnutls28-dev libuv1-dev libnanomsg-dev libinih-dev libcmocka-dev
	libssl-dev libsodium-dev libgmp-dev
	# real peers and tools used by the tests
	gnutls-bin openssl curl procps util-linux strace valgrind softhsm2
	# libFuzzer target
	clang libclang-rt-14-dev clang-format
	# handoff-bench's chart
	gnuplot-nox jq
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "handoff needs these Debian packages: ${missing[*]}" >&2
	echo "run:  sudo apt-get update && sudo $cmd" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
$cmd >/dev/null
