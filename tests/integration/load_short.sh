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
# A sanitizer's allocator keeps freed memory in quarantine, so RSS says
# nothing about leaks there: such a build checks only that every handshake
# completes (growth limit "none").
# So does valgrind's queue of freed blocks; valgrind_check.sh also asks
# for a smaller load (LOAD_SECONDS, LOAD_PAIRS) and checks leaks at exit.
growth=20
if [ -n "${HANDOFF_SANITIZE:-}${HANDOFF_VALGRIND:-}" ]; then
	echo "SKIP (memory only): RSS growth not checked under ${HANDOFF_SANITIZE:-valgrind}"
	growth=none
fi
bash "$TESTS_DIR/../bench/load.sh" "$BUILD_DIR" "${LOAD_SECONDS:-30}" \
	"${LOAD_PAIRS:-5000}" "$growth" >"$T/load.log" 2>&1 ||
	fail "load: $(tail -5 "$T/load.log")"
cat "$T/load.log"
pass "$(grep '^total' "$T/load.log"); $(grep '^daemon RSS' "$T/load.log")"
finish
