# bench_quick.sh - `handoff-bench --quick` runs to the end and its output
# is complete and well formed: the table, the JSON (every section, every
# figure a positive number for both sides, ratios consistent) and the PNG
# chart.  The numbers themselves are not judged here.
source "$(dirname "$0")/lib.sh"
: "${HANDOFF_BENCH:?run through ctest}"

# A section --only does not know is refused at once, naming the ones it
# knows, rather than running nothing.
rc=0
"$HANDOFF_BENCH" --only nosuch --handoffd "$HANDOFFD" >"$T/only.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q 'no section "nosuch"' "$T/only.log" &&
	grep -q 'SECTION: one of server latency scaling keyonly client records stall memory' "$T/only.log" ||
	fail "--only nosuch: exit $rc, $(cat "$T/only.log")"
rc=0
"$HANDOFF_BENCH" --only stall,nosuch --handoffd "$HANDOFFD" >"$T/only2.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q 'no section "nosuch"' "$T/only2.log" ||
	fail "--only stall,nosuch: exit $rc, $(cat "$T/only2.log")"
pass "--only refuses an unknown section, alone or in a list, and lists the known ones"

# A handoffd that does not exit cleanly when the run stops it (a crash, or
# a sanitizer's report in a sanitizer build, whose log would go with the
# run's folder) fails the run, saying so.  This one exits 3 on SIGTERM.
cat >"$T/handoffd-exit3" <<EOF
#!/usr/bin/env bash
trap 'kill -TERM \$child; wait \$child; exit 3' TERM
"$HANDOFFD" "\$@" &
child=\$!
wait \$child
EOF
chmod +x "$T/handoffd-exit3"
rc=0
"$HANDOFF_BENCH" --quick --only stall --handoffd "$T/handoffd-exit3" \
	>"$T/unclean.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "ended with exit status 3 when stopped" "$T/unclean.log" &&
	grep -q "1 handoffd(s) did not exit cleanly" "$T/unclean.log" ||
	fail "a handoffd exiting 3 when stopped: exit $rc, $(tail -5 "$T/unclean.log")"
pass "a handoffd that does not exit cleanly when stopped fails the run, saying so"

# A list runs those sections and no other.
"$HANDOFF_BENCH" --quick --only stall,memory --json "$T/two.json" \
	--handoffd "$HANDOFFD" >"$T/two.log" 2>&1 ||
	fail "--only stall,memory failed: $(tail -5 "$T/two.log")"
got=$(jq -r '[.results[].section] | unique | join(",")' "$T/two.json")
[ "$got" = "memory,stall" ] || fail "--only stall,memory measured: $got"
# The host's speed is timed at the start, before each section it runs
# and at the end.
got=$(jq -r '[.steadiness.points[].at] | join(",")' "$T/two.json")
[ "$got" = "start,stall,memory,end" ] || fail "--only stall,memory: steadiness points $got"
pass "--only stall,memory measures those two sections and no other"

# The manual page describes every section and option the bench knows.
man="$(dirname "$0")/../../doc/handoff-bench.1"
for s in $(sed -n 's/^SECTION: one of //p' "$T/only.log"); do
	grep -qx "\.B $s" "$man" || fail "handoff-bench(1) does not describe section $s"
done
for o in quick only json png handoffd; do
	grep -q "^\.BI\? \\\\-\\\\-$o" "$man" || fail "handoff-bench(1) does not describe --$o"
done
pass "handoff-bench(1) describes every section and option"

start=$SECONDS
"$HANDOFF_BENCH" --quick --json "$T/bench.json" --png "$T/bench.png" \
	--handoffd "$HANDOFFD" >"$T/bench.log" 2>&1 ||
	fail "handoff-bench --quick failed: $(tail -5 "$T/bench.log")"
took=$((SECONDS - start))
grep -q "figures in" "$T/bench.log" || fail "table incomplete"
pass "handoff-bench --quick ran in ${took} s"

jq -e . "$T/bench.json" >/dev/null || fail "JSON does not parse"
for s in server latency scaling keyonly client records stall sign verify memory; do
	n=$(jq --arg s "$s" '[.results[] | select(.section == $s)] | length' "$T/bench.json")
	[ "$n" -gt 0 ] || fail "no $s figures in the JSON"
done
bad=$(jq '[.results[] | select((.gnutls > 0 and .handoff > 0 and .ratio > 0) | not)] | length' "$T/bench.json")
[ "$bad" -eq 0 ] || fail "$bad figures are zero or missing: $(jq -c '[.results[] | select((.gnutls > 0 and .handoff > 0) | not) | .name]' "$T/bench.json")"
# Every ratio is handoff/GnuTLS for rates and GnuTLS/handoff for times.
off=$(jq '[.results[] | (if .lower_is_better then .gnutls / .handoff else .handoff / .gnutls end) / .ratio - 1 | fabs | select(. > 0.01)] | length' "$T/bench.json")
[ "$off" -eq 0 ] || fail "$off ratios do not match their figures"
jq -e '.cpus > 0 and (.crypto_limit_hs_per_s | length) == 3' "$T/bench.json" >/dev/null ||
	fail "JSON lacks the machine or the crypto limit"
# Whether the host kept one speed: eleven points (the start, before each
# of nine sections, sign and verify's included, and the end), each a
# positive time, and the verdict and its cause that follow from the
# spreads (X25519 over 15 %, the wake-up over 2x; then X25519's over
# three times the dependent chain's or not).
jq -e '.steadiness as $s | ($s.points | length) == 11 and
	all($s.points[]; .x25519_us > 0 and .chain_us > 0 and .thread_wakeup_us > 0) and
	$s.x25519_spread >= 0 and $s.chain_spread >= 0 and $s.thread_wakeup_spread >= 1 and
	(($s.steady == true) == ($s.x25519_spread <= 0.15 and $s.thread_wakeup_spread <= 2)) and
	$s.cause == (if $s.steady then "none" elif $s.x25519_spread <= 0.15 then "scheduling"
		elif $s.x25519_spread > 3 * $s.chain_spread then "shared core" else "clock" end)' \
	"$T/bench.json" >/dev/null ||
	fail "JSON steadiness incomplete or inconsistent: $(jq -c .steadiness "$T/bench.json")"
grep -q "^Host steadiness: " "$T/bench.log" &&
	grep -qE "^  spread: X25519 [0-9]+\.[0-9] %, dependent chain [0-9]+\.[0-9] %, wake-up [0-9]+\.[0-9]{3}x: the host" "$T/bench.log" ||
	fail "the table lacks the host's steadiness"
pass "the host's speed timed at 11 points ($(grep -o 'spread: .*x:' "$T/bench.log"))"
# handoffd signs ECDSA and RSA key files with libcrypto and Ed25519 ones
# with libsodium (timed apart from GnuTLS's), and computes X25519 secrets
# with libsodium: its own limit, from its own crypto's costs, beside
# in-process GnuTLS's.
jq -e '(.crypto_limit_offload_hs_per_s | length) == 3 and ([.costs_us | to_entries[] | select(.key | startswith("sign_offload_")) | .value | select(. > 0)] | length) == 3 and .costs_us["sign_offload_Ed25519"] != .costs_us["sign_Ed25519"] and .costs_us.x25519 > 0 and .costs_us.x25519_offload > 0' "$T/bench.json" >/dev/null ||
	fail "JSON lacks handoffd's crypto costs and limit: $(jq -c '.costs_us, .crypto_limit_offload_hs_per_s' "$T/bench.json")"
[ "$(grep -cE "^ +[0-9]+% +[0-9]+%  of each side's crypto limit, timed in these rounds \([0-9]+, [0-9]+ hs/s\)$" "$T/bench.log")" -eq 2 ] ||
	fail "the full-handshake rows do not give each side's share of its own crypto limit"
# That limit is the key's crypto timed in the figure's rounds: one per
# full figure (two kinds in --quick), handoffd's above GnuTLS's for ECDSA.
jq -e '.crypto_limit_in_rounds_hs_per_s | length == 2 and all(.[]; .gnutls > 0 and .handoffd > 0) and .["ECDSA-P256"].handoffd > .["ECDSA-P256"].gnutls' "$T/bench.json" >/dev/null ||
	fail "JSON lacks the crypto limit timed in the rounds: $(jq -c .crypto_limit_in_rounds_hs_per_s "$T/bench.json")"
pass "JSON: $(jq '.results | length' "$T/bench.json") figures in 10 sections, all positive, ratios consistent"
# What the run measured on, printed and in the JSON, the same text.
jq -e '(.cpu_model | length) > 0 and (.cpu_features | type) == "string" and (.virtual_machine | type) == "boolean" and (.kernel | length) > 0 and (.openssl | startswith("OpenSSL "))' "$T/bench.json" >/dev/null ||
	fail "JSON lacks the machine: $(jq -c '{cpu_model, cpu_features, virtual_machine, kernel, openssl}' "$T/bench.json")"
grep -qxF "$(jq -r '"Machine: \(.cpu_model)\(if .virtual_machine then ", a virtual machine" else "" end) (CPU features: \(if .cpu_features == "" then "none listed" else .cpu_features end)), Linux \(.kernel), \(.openssl)\(if .cpus_limit == "" then "" else "; \(.cpus) of \(.cpus_online) online CPUs usable (\(.cpus_limit))" end)"' "$T/bench.json")" "$T/bench.log" ||
	fail "the Machine line does not match the JSON: $(grep '^Machine' "$T/bench.log")"
jq -e '.costs_us.syscall > 0 and .costs_us.thread_wakeup > 0' "$T/bench.json" >/dev/null ||
	fail "JSON lacks the cost of a system call or of a thread wake-up"
# The latency target is stated in IPC round trips: the run measures one.
jq -e '.costs_us.ipc_round_trip_p50 > 0 and .costs_us.ipc_round_trip_p99 >= .costs_us.ipc_round_trip_p50' "$T/bench.json" >/dev/null ||
	fail "JSON lacks the IPC round trip (p50 > 0, p99 >= p50)"
# Beside it, the bare unix socket's trip: what nanomsg adds.
jq -e '.costs_us.bare_round_trip_p50 > 0 and .costs_us.bare_round_trip_p99 >= .costs_us.bare_round_trip_p50' "$T/bench.json" >/dev/null ||
	fail "JSON lacks the bare unix socket's round trip (p50 > 0, p99 >= p50)"
grep -qE '; the same over a bare unix socket \(no nanomsg\) p50 [0-9]+ us, p99 [0-9]+ us$' "$T/bench.log" ||
	fail "the IPC line does not give the bare unix socket's round trip"
grep -qE '\(target\) +[0-9]+ us: 2 IPC round trips \(p50 [0-9]+ us\)' "$T/bench.log" ||
	fail "the latency table does not state the target in this run's round trips"
# Added latency comes from alternating rounds, with their spread.
jq -e '.added_latency | .rounds == 5 and .target_us > 50 and .ipc_round_trip_p50_us > 0 and .rounds_within_target >= 0 and .rounds_within_target <= .rounds and .lowest_round_us <= .highest_round_us' "$T/bench.json" >/dev/null ||
	fail "JSON lacks the added latency against its target: $(jq -c .added_latency "$T/bench.json")"
grep -qE '\(each round, sides alternating\) +-?[0-9]+--?[0-9]+ us; within the target in [0-5] of 5 rounds' "$T/bench.log" ||
	fail "the latency table does not give the rounds' spread"
pass "the run measures an IPC round trip and states the latency target in it, round by round"
# Every handshake figure says what a handshake cost the measured side.
for fig in "full server" "resumed server" "full client" "resumed client"; do
	for per in "CPU per hs" "switches per hs"; do
		n=$(jq --arg n "ECDSA-P256 $fig $per" '[.results[] | select(.name == $n)] | length' "$T/bench.json")
		[ "$n" -eq 1 ] || fail "no \"ECDSA-P256 $fig $per\" figure"
	done
done
for side in server client; do
	grep -q "($side side per handshake).*handoffd" "$T/bench.log" ||
		fail "the $side table does not split handoff's cost between callers and handoffd"
done
pass "server and client figures carry CPU time and context switches per handshake"
# Client figures as server ones: full and resumed, latency p50 and p99.
for fig in full resumed; do
	for q in p50 p99; do
		n=$(jq --arg n "ECDSA-P256 $fig latency $q" '[.results[] | select(.section == "client" and .name == $n)] | length' "$T/bench.json")
		[ "$n" -eq 1 ] || fail "no client figure \"ECDSA-P256 $fig latency $q\""
	done
done
# A resumed figure is resumed handshakes: the bench counts any that ran
# full (a few of handoff's may, the first of a round racing its ticket's
# relay to handoffd's client cache); more than 2 % would mislabel it.
while read -r g gn h hn; do
	[ $((g * 50)) -le "$gn" ] && [ $((h * 50)) -le "$hn" ] ||
		fail "a resumed figure ran full too often: GnuTLS $g of $gn, handoff $h of $hn"
done < <(sed -nE 's/^  \(did not resume, ran full: GnuTLS ([0-9]+) of ([0-9]+), handoff ([0-9]+) of ([0-9]+)\)$/\1 \2 \3 \4/p' "$T/bench.log")
pass "client figures are full and resumed, with p99; resumed figures resumed"

# Every record figure has the record layer's own CPU cost beside it, and
# the run says what each cipher alone reaches (the ceiling).
for c in AES-128-GCM CHACHA20-POLY1305; do
	for dir in write read; do
		n=$(jq --arg n "$c 16 KiB $dir, user CPU" '[.results[] | select(.name == $n)] | length' "$T/bench.json")
		[ "$n" -eq 1 ] || fail "no \"$c 16 KiB $dir, user CPU\" figure"
	done
	jq -e --arg c "$c" '.cipher_alone_gbps[$c].gnutls > 0 and .cipher_alone_gbps[$c].libcrypto > 0' "$T/bench.json" >/dev/null ||
		fail "JSON lacks $c alone for GnuTLS and libcrypto"
	grep -q "($c alone, 16 KiB sealed in place" "$T/bench.log" ||
		fail "the record table does not say what $c alone reaches"
done
pass "record figures carry user CPU per record and each cipher's own speed"

# The run judges every target on its own figures: all eight measured in
# --quick, each verdict agreeing with its numbers, and the ratio targets
# with the very figures of the table.
jq -e '(.targets | length) == 8 and all(.targets[]; .measured > 0 and .wanted > 0 and (.met | type) == "boolean" and .met == (if .bound == "at least" then .measured >= .wanted elif .bound == "at most" then .measured <= .wanted else null end))' "$T/bench.json" >/dev/null ||
	fail "JSON's targets are missing or contradict their numbers: $(jq -c .targets "$T/bench.json")"
for pair in "full server handshakes/s, ECDSA-P256=ECDSA-P256 full" \
	"AES-128-GCM 16 KiB records written=AES-128-GCM 16 KiB write" \
	"event-loop iteration p99, GnuTLS / handoff=ECDSA-P256 loop iteration p99"; do
	jq -e --arg t "${pair%%=*}" --arg n "${pair#*=}" '([.targets[] | select(.target == $t)][0].measured) as $m | ([.results[] | select(.name == $n)][0].ratio) as $r | ($m - $r | fabs) <= 0.001 * $r' "$T/bench.json" >/dev/null ||
		fail "target \"${pair%%=*}\" is not the ratio of \"${pair#*=}\""
done
jq -e '([.targets[] | select(.target | startswith("added latency"))][0].wanted - .added_latency.target_us | fabs) < 0.1' "$T/bench.json" >/dev/null ||
	fail "the added-latency target is not the latency section's"
met=$(jq '[.targets[] | select(.met)] | length' "$T/bench.json")
grep -q "^  $met of 8 targets met in this run$" "$T/bench.log" ||
	fail "the table's targets summary does not say $met of 8 met: $(grep 'targets met' "$T/bench.log")"
[ "$(grep -cE '^  .* (>=|<=) [0-9.]+(x| us| KiB) +[0-9.]+(x| us| KiB)  (met|NOT met)' "$T/bench.log")" -eq 8 ] ||
	fail "the table does not list eight targets with wanted, measured and verdict"
pass "the run judges all 8 targets on its own figures ($met met in this quick run)"

# Handshake, record, signature and verification rates, taken in
# alternating rounds, give each round's own ratio too: two with --quick,
# all positive, the whole run's ratio among them (a weighted mean of
# theirs), and the table's spread the same.
bad=$(jq '[.results[] | select(.unit | IN("hs/s", "GB/s", "ops/s")) | select(.section | IN("server", "scaling", "client", "keyonly", "records", "sign", "verify", "stall")) | select((.round_ratios | length) != 2 or ([.round_ratios[] | select(. <= 0)] | length) > 0 or .ratio < (.round_ratios | min) * 0.98 or .ratio > (.round_ratios | max) * 1.02)] | map(.name)' "$T/bench.json")
[ "$bad" = "[]" ] || fail "rates without two rounds' ratios around the run's: $bad"
# The stall's times too (GnuTLS / handoff, each round's own quantiles;
# the run's pools the rounds' iterations, so it may lie outside them).
bad=$(jq '[.results[] | select(.section == "stall" and .unit == "us") | select((.round_ratios | length) != 2 or ([.round_ratios[] | select(. <= 0)] | length) > 0)] | map(.name)' "$T/bench.json")
[ "$bad" = "[]" ] && [ "$(jq '[.results[] | select(.section == "stall" and .unit == "us")] | length' "$T/bench.json")" -eq 3 ] ||
	fail "the stall's three times lack two rounds' ratios each: $bad"
# ...taken the same way up as the run's: the pooled p99 lies near the
# rounds' own, far within a factor of three of them (GnuTLS's p99 is
# several times handoff's here, so rounds divided the wrong way round
# would be a factor of 20 or more off).
bad=$(jq '[.results[] | select(.section == "stall" and (.name | contains("p99"))) | select(.ratio > (.round_ratios | max) * 3 or .ratio < (.round_ratios | min) / 3)] | map(.name)' "$T/bench.json")
[ "$bad" = "[]" ] || fail "the stall's p99 rounds stray a factor of 3 from the run's ratio: $bad"
while IFS=$'\t' read -r lo hi name; do
	want=$(printf '(2 rounds: %.2f-%.2fx)' "$lo" "$hi")
	grep -F "  $name " "$T/bench.log" | grep -qF "$want" ||
		fail "the table's row \"$name\" lacks its rounds $want"
done < <(jq -r '.results[] | select(.round_ratios) | "\(.round_ratios | min)\t\(.round_ratios | max)\t\(.name)"' "$T/bench.json")
# A ratio target says in how many rounds it was met, from those ratios.
for pair in "full server handshakes/s, ECDSA-P256=ECDSA-P256 full=1" \
	"full server handshakes/s, RSA-2048=RSA-2048 full=2.5" \
	"ChaCha20-Poly1305 16 KiB records written=CHACHA20-POLY1305 16 KiB write=5" \
	"event-loop iteration p99, GnuTLS / handoff=ECDSA-P256 loop iteration p99=10"; do
	t=${pair%%=*} rest=${pair#*=}
	n=${rest%=*} w=${rest##*=}
	want=$(jq -r --arg n "$n" --argjson w "$w" '[.results[] | select(.name == $n)][0].round_ratios | "met in \([.[] | select(. >= $w)] | length) of \(length) rounds"' "$T/bench.json")
	jq -e --arg t "$t" --arg d "$want" '[.targets[] | select(.target == $t)][0].detail | startswith($d)' "$T/bench.json" >/dev/null ||
		fail "target \"$t\" does not say \"$want\""
done
pass "rates carry each round's ratio, in the JSON, the table and the targets"

# The record and full-handshake targets state what bounds them on this
# machine, worked out again here from the run's own figures: the target's
# rate against the faster cipher alone, and the ratio the cores would
# allow with handoff's server side at handoffd's bare crypto (as timed in
# the figure's rounds).
detail() { jq -r --arg t "$1" '[.targets[] | select(.target == $t)][0].detail' "$T/bench.json"; }
for pair in "AES-128-GCM 16 KiB records written=AES-128-GCM=2" \
	"ChaCha20-Poly1305 16 KiB records written=CHACHA20-POLY1305=5"; do
	t=${pair%%=*} rest=${pair#*=}
	c=${rest%=*} w=${rest##*=}
	pct=$(detail "$t" | sed -n "s/.*the target here is \([0-9]*\) % of the cipher's own speed.*/\1/p")
	[ -n "$pct" ] || fail "target \"$t\" does not set itself against the cipher alone: $(detail "$t")"
	jq -e --arg c "$c" --argjson w "$w" --argjson pct "$pct" '([.results[] | select(.name == "\($c) 16 KiB write")][0].gnutls) as $g | ([.cipher_alone_gbps[$c][]] | max) as $alone | (100 * $w * $g / $alone - $pct | fabs) <= 1 + 0.02 * $pct' "$T/bench.json" >/dev/null ||
		fail "target \"$t\": $pct % does not follow from the run's figures"
done
for pair in "full server handshakes/s, ECDSA-P256=ECDSA-P256" \
	"full server handshakes/s, RSA-2048=RSA-2048"; do
	t=${pair%%=*} k=${pair#*=}
	bound=$(detail "$t" | sed -n "s/.*the server side at handoffd's bare crypto: \([0-9.]*\)x.*/\1/p")
	# The bound, or "none" when the in-process server's CPU per
	# handshake is all the cores' time, leaving the load generator no
	# share to base a bound on: then none is stated.
	want=$(jq -r --arg k "$k" '([.results[] | select(.section == "server" and .name == "\($k) full")][0].gnutls) as $rate | ([.results[] | select(.section == "server" and .name == "\($k) full server CPU per hs")][0].gnutls) as $server | (.cpus * 1e6 / $rate) as $all | (.cpus * 1e6 / .crypto_limit_in_rounds_hs_per_s[$k].handoffd) as $crypto | if $all > $server then $all / ($all - $server + $crypto) else "none" end' "$T/bench.json")
	if [ "$want" = none ]; then
		[ -z "$bound" ] || fail "target \"$t\" states a bound ${bound}x with no load generator's share to base it on"
	else
		[ -n "$bound" ] || fail "target \"$t\" states no bound from the crypto: $(detail "$t")"
		jq -en --argjson w "$want" --argjson b "$bound" '($w - $b | fabs) <= 0.02 * $b' >/dev/null ||
			fail "target \"$t\": the bound ${bound}x does not follow from the run's figures (${want}x)"
	fi
done
pass "record and handshake targets state what bounds them here, from the run's own figures"

rows=$(grep -cE '^  .* [0-9.]+x(  \([0-9]+ rounds: [0-9.]+-[0-9.]+x\))?$' "$T/bench.log")
[ "$rows" -eq "$(jq '.results | length' "$T/bench.json")" ] ||
	fail "table has $rows rows, JSON $(jq '.results | length' "$T/bench.json")"
pass "table: one row per figure, each with its ratio"

if command -v gnuplot >/dev/null; then
	[ "$(head -c 4 "$T/bench.png" | od -An -c | tr -d ' ')" = "211PNG" ] ||
		fail "chart is not a PNG: $(grep chart "$T/bench.log")"
	pass "PNG chart written"
else
	echo "SKIP: gnuplot is not installed: chart not checked (apt-get install gnuplot-nox)"
fi
finish
