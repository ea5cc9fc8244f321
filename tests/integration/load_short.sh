# load_short.sh - a short run of bench/load.sh: 10,000 handshakes in flight
# at once against one daemon, round after round for 30 s (at least three
# rounds): no failure, and the daemon's memory flat after warm-up (within
# 20 % over the short run; the long run uses 10 %).
source "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?run through ctest}"
if [ "$(id -u)" -ne 0 ] && [ "$(ulimit -Hn)" -lt 10064 ]; then
	echo "SKIP: needs 10064 file descriptors (ulimit -Hn, or run as root)"
	exit 77
fi
if ldd "$HANDOFFD" | grep -q libasan; then
	echo "SKIP: memory growth is not measured in a sanitizer build"
	exit 77
fi
bash "$TESTS_DIR/../bench/load.sh" "$BUILD_DIR" 30 5000 20 >"$T/load.log" 2>&1 ||
	fail "load: $(tail -5 "$T/load.log")"
cat "$T/load.log"
pass "$(grep '^total' "$T/load.log"); $(grep '^daemon RSS' "$T/load.log")"
finish
