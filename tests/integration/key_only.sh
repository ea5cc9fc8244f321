#!/usr/bin/env bash
# key_only.sh - key-only offload (handoff_gnutls.h): a plain GnuTLS server
# (keyonly_server) keeps its own handshake and records while the private
# key stays in handoffd, which signs on request for profiles with
# allow_sign = yes.  ECDSA P-256, RSA-2048 and Ed25519 profiles serve
# openssl s_client over TLS 1.3 and 1.2 (RSA also PKCS#1 v1.5 in TLS 1.2
# and 1.0, which GnuTLS signs as "RSA-RAW" over a DigestInfo or MD5+SHA-1),
# and gnutls-cli over TLS 1.3; so do keys GnuTLS signs with in handoffd
# (ECDSA and RSA with key_backend = gnutls, Ed448, an RSA-PSS key bound
# to SHA-384), and 8 threads sign through one context at once, every
# signature verified; every client verifies the profile's
# certificate, and handoffd's sign_requests grows with each handshake, so
# the signatures were made there.  A profile without allow_sign, an
# unknown profile and a missing daemon are refused at set-up with the
# advice that fixes them, and so are hostile SIGN requests on the wire
# (ipc_probe); handoffd still answers afterwards.  A daemon that stops
# answering after set-up fails the next handshake at the deadline, one
# restarted with another key under the profile refuses to sign for the
# old chain, and one that is gone fails it at once, each saying so; the
# server does not hang.
source "$TESTS_DIR/integration/lib.sh"
: "${KEYONLY_SERVER:?run through ctest (KEYONLY_SERVER unset)}"
: "${IPC_PROBE:?run through ctest}" "${KEYONLY_THREADS:?run through ctest}"

make_cert ecdsa
make_rsa_cert rsa
openssl req -x509 -newkey ed25519 -nodes -keyout "$T/ed25519-key.pem" \
	-out "$T/ed25519-cert.pem" -days 2 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
# Key kinds GnuTLS signs with in handoffd (the others go to libcrypto
# unless key_backend = gnutls): Ed448, and RSA-PSS keys bound to SHA-384.
openssl req -x509 -newkey ed448 -nodes -keyout "$T/ed448-key.pem" \
	-out "$T/ed448-cert.pem" -days 2 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 \
	-pkeyopt rsa_pss_keygen_md:sha384 -pkeyopt rsa_pss_keygen_mgf1_md:sha384 \
	-pkeyopt rsa_pss_keygen_saltlen:48 -out "$T/rsapss-key.pem" 2>/dev/null
openssl req -x509 -key "$T/rsapss-key.pem" -out "$T/rsapss-cert.pem" \
	-days 2 -subj "/CN=localhost" -sha384 -sigopt rsa_padding_mode:pss \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
for k in ecdsa rsa ed25519 ed448 rsapss; do
	[ -s "$T/$k-cert.pem" ] && [ -s "$T/$k-key.pem" ] ||
		fail "openssl could not make the $k certificate"
done
{
	echo "[daemon]"
	echo "listen = $DAEMON_URL"
	echo "workers = 2"
	for k in ecdsa rsa ed25519 ed448 rsapss; do
		echo
		echo "[profile $k]"
		echo "certificate = $T/$k-cert.pem"
		echo "key = $T/$k-key.pem"
		echo "allow_sign = yes"
	done
	for k in ecdsa rsa; do
		echo
		echo "[profile $k-gnutls]"
		echo "certificate = $T/$k-cert.pem"
		echo "key = $T/$k-key.pem"
		echo "key_backend = gnutls"
		echo "allow_sign = yes"
	done
	echo
	echo "[profile nosign]"
	echo "certificate = $T/ecdsa-cert.pem"
	echo "key = $T/ecdsa-key.pem"
} >"$T/handoffd.conf"
start_daemon

# start_keyonly NAME PROFILE COUNT [PRIORITY]: keyonly_server on a free
# port ($KPORT, pid $KPID, output in $KLOG), once it listens.
start_keyonly() {
	local name=$1
	shift
	KPORT=$(free_port)
	KLOG="$T/keyonly-$name.log"
	"$KEYONLY_SERVER" "$KPORT" "$DAEMON_URL" "$@" >"$KLOG" 2>&1 &
	KPID=$!
	wait_for "keyonly_server $* to set up" 10 \
		grep -qE "^(listening|setup failed)" "$KLOG"
	grep -q "^listening" "$KLOG" ||
		fail "keyonly_server $* did not set up: $(cat "$KLOG")"
}

# report N: keyonly_server's report ("ok ..." or "handshake failed: ...")
# on its Nth connection, once it has written it.
report() {
	wait_for "keyonly_server's report on connection $1" 10 \
		awk -v n="$1" '/^(ok|handshake failed)/ {c++} END {exit c < n}' "$KLOG"
	awk -v n="$1" '/^(ok|handshake failed)/ && ++c == n' "$KLOG"
}

# server_done WHAT: keyonly_server has served its COUNT and exits 0.
server_done() {
	local rc=0
	wait "$KPID" || rc=$?
	[ "$rc" -eq 0 ] || fail "keyonly_server ($1) exited $rc: $(cat "$KLOG")"
}

# signed BEFORE WHAT: sign_requests grew since BEFORE (one handshake).
signed() {
	local after
	after=$(stat_value sign_requests)
	[ -n "$after" ] && [ "$after" -ge $(($1 + 1)) ] ||
		fail "$2: sign_requests went from $1 to '$after': the handshake's signature was not made in handoffd"
	SIGNED="sign_requests $1 -> $after"
}

# openssl_conn KIND N WANT ARGS...: the Nth connection to KIND's server,
# by openssl s_client with ARGS; the client gets the line over a verified
# connection, the server reports "ok" matching the regex WANT, and
# handoffd signed for it.
openssl_conn() {
	local kind=$1 n=$2 want=$3 before out line
	shift 3
	before=$(stat_value sign_requests)
	out=$(timeout 15 openssl s_client -connect "127.0.0.1:$KPORT" \
		-servername localhost -CAfile "$T/$kind-cert.pem" \
		-verify_return_error -ign_eof "$@" </dev/null 2>&1) || true
	line=$(report "$n")
	grep -q "^hello from keyonly$" <<<"$out" ||
		fail "$kind, openssl $*: no line from the server (server: $line): $out"
	grep -q "Verify return code: 0 (ok)" <<<"$out" ||
		fail "$kind, openssl $*: certificate not verified: $(grep -i verif <<<"$out")"
	[[ $line =~ ^ok\ $want ]] ||
		fail "$kind, openssl $*: server reports '$line', expected 'ok $want'"
	signed "$before" "$kind, openssl $*"
	pass "$kind, openssl s_client $*: $line, verified ($SIGNED)"
}

# ---- ECDSA: openssl TLS 1.3 and 1.2, gnutls-cli TLS 1.3 ----------------
start_keyonly ecdsa ecdsa 3
openssl_conn ecdsa 1 "TLS1.3 ECDSA" -tls1_3
openssl_conn ecdsa 2 "TLS1.2 ECDSA" -tls1_2
before=$(stat_value sign_requests)
# gnutls-cli quits at the end of its stdin: keep that open a while.
out=$(sleep 1 | timeout 15 gnutls-cli --x509cafile "$T/ecdsa-cert.pem" \
	--verify-hostname localhost --priority "NORMAL:-VERS-ALL:+VERS-TLS1.3" \
	-p "$KPORT" 127.0.0.1 2>&1) || true
line=$(report 3)
grep -q "^hello from keyonly$" <<<"$out" ||
	fail "ecdsa, gnutls-cli: no line from the server (server: $line): $out"
grep -q "Status: The certificate is trusted" <<<"$out" ||
	fail "ecdsa, gnutls-cli: certificate not trusted: $(grep -i status <<<"$out")"
[[ $line =~ ^ok\ TLS1.3\ ECDSA ]] ||
	fail "ecdsa, gnutls-cli: server reports '$line', expected 'ok TLS1.3 ECDSA'"
signed "$before" "ecdsa, gnutls-cli"
pass "ecdsa, gnutls-cli TLS 1.3: $line, trusted ($SIGNED)"
server_done ecdsa

# ---- RSA: TLS 1.3 and 1.2 (RSA-PSS), TLS 1.2 PKCS#1 v1.5 ----------------
start_keyonly rsa rsa 3
openssl_conn rsa 1 "TLS1.3 RSA-PSS" -tls1_3
openssl_conn rsa 2 "TLS1.2 RSA-PSS" -tls1_2
openssl_conn rsa 3 "TLS1.2 RSA-SHA256$" -tls1_2 -sigalgs RSA+SHA256
server_done rsa

# ---- RSA, TLS 1.0: GnuTLS signs MD5+SHA-1 (RSA-RAW of 36 bytes) ---------
# First whether this openssl does TLS 1.0 at all, with itself: a build
# without it has no -tls1 option, and a policy that forbids it fails the
# handshake in OpenSSL's SSL routines.  Anything else is this test's
# problem and fails it.
OLD="DEFAULT:@SECLEVEL=0" # Debian's OpenSSL refuses TLS 1.0 otherwise
PROBE=$(free_port)
openssl s_server -accept "127.0.0.1:$PROBE" -rev -tls1 -cipher "$OLD" \
	-cert "$T/rsa-cert.pem" -key "$T/rsa-key.pem" \
	>"$T/s_server-probe.log" 2>&1 &
probe_pid=$!
end=$((SECONDS + 10))
until (exec 3<>"/dev/tcp/127.0.0.1/$PROBE") 2>/dev/null; do
	kill -0 "$probe_pid" 2>/dev/null && [ $SECONDS -lt $end ] || break
	sleep 0.05
done
probe=$(timeout 10 openssl s_client -connect "127.0.0.1:$PROBE" -tls1 \
	-cipher "$OLD" </dev/null 2>&1) || true
kill "$probe_pid" 2>/dev/null || true
wait "$probe_pid" 2>/dev/null || true
probe="$(cat "$T/s_server-probe.log")
$probe"
if ! grep -q "^New, TLSv1\(\.0\)\?, Cipher is" <<<"$probe"; then
	grep -qiE "SSL routines|no protocols available|-tls1" <<<"$probe" ||
		fail "the TLS 1.0 probe (openssl with itself) failed for another reason: $probe"
	echo "SKIP (TLS 1.0 only): the installed openssl refuses a TLS 1.0 handshake even with itself (-tls1 -cipher $OLD), so RSA-RAW is not checked: $(grep -m3 -iE 'error|unknown|not available' <<<"$probe")"
else
	start_keyonly rsa-tls10 rsa 1 "NORMAL:-RSA:+VERS-TLS1.0:+VERS-TLS1.1"
	openssl_conn rsa 1 "TLS1.0 RSA" -tls1 -cipher "$OLD"
	server_done "rsa, TLS 1.0"
fi

# ---- Ed25519: TLS 1.3 and 1.2 -------------------------------------------
start_keyonly ed25519 ed25519 2
openssl_conn ed25519 1 "TLS1.3 EdDSA-Ed25519" -tls1_3
openssl_conn ed25519 2 "TLS1.2 EdDSA-Ed25519" -tls1_2
server_done ed25519

# ---- keys GnuTLS signs with in handoffd ----------------------------------
# (PKCS#1 v1.5 reaches GnuTLS as RSA-RAW over a DigestInfo, in TLS 1.2
# too.)
start_keyonly ecdsa-gnutls ecdsa-gnutls 1
openssl_conn ecdsa 1 "TLS1.3 ECDSA" -tls1_3
server_done "ecdsa, key_backend = gnutls"
start_keyonly rsa-gnutls rsa-gnutls 2
openssl_conn rsa 1 "TLS1.3 RSA-PSS" -tls1_3
openssl_conn rsa 2 "TLS1.2 RSA-SHA256$" -tls1_2 -sigalgs RSA+SHA256
server_done "rsa, key_backend = gnutls"
start_keyonly ed448 ed448 1
openssl_conn ed448 1 "TLS1.3 EdDSA-Ed448" -tls1_3
server_done ed448
start_keyonly rsapss rsapss 1
openssl_conn rsapss 1 "TLS1.3 RSA-PSS-SHA384" -tls1_3
server_done "rsa-pss, SHA-384 only"

# ---- refusals at set-up --------------------------------------------------
# setup_refused WHAT PROFILE URL: keyonly_server must print "setup
# failed:" and exit 1 within a few seconds; its output is in $out.
setup_refused() {
	local rc=0
	out=$(timeout 5 "$KEYONLY_SERVER" "$(free_port)" "$3" "$2" 1 2>&1) ||
		rc=$?
	[ "$rc" -eq 1 ] || fail "$1: keyonly_server exited $rc (want 1; 124: still running after 5 s): $out"
	grep -q "^setup failed: " <<<"$out" || fail "$1: no 'setup failed:': $out"
}
setup_refused "profile without allow_sign" nosign "$DAEMON_URL"
grep -qF "allow_sign = yes" <<<"$out" && grep -qF "HANDOFF_EPERM" <<<"$out" ||
	fail "profile without allow_sign: the message lacks 'allow_sign = yes' or HANDOFF_EPERM: $out"
pass "profile without allow_sign refused: ${out#setup failed: }"
setup_refused "unknown profile" nosuch "$DAEMON_URL"
grep -qF "HANDOFF_EPROFILE" <<<"$out" ||
	fail "unknown profile: the message lacks HANDOFF_EPROFILE: $out"
pass "unknown profile refused: ${out#setup failed: }"
setup_refused "no daemon" ecdsa "ipc://$T/nodaemon.sock"
grep -qF "$T/nodaemon.sock" <<<"$out" ||
	fail "no daemon: the message does not name the socket $T/nodaemon.sock: $out"
pass "no daemon at the URL refused: ${out#setup failed: }"

# ---- one context's key from many threads at once -------------------------
before=$(stat_value sign_requests)
out=$("$KEYONLY_THREADS" "$DAEMON_URL" ecdsa 8 25 2>&1) ||
	fail "keyonly_threads: $out"
[ "$(stat_value sign_requests)" -ge $((before + 200)) ] ||
	fail "8 threads x 25 signatures: sign_requests went from $before to $(stat_value sign_requests)"
pass "one context, $out"

# ---- hostile signing requests on the wire --------------------------------
out=$("$IPC_PROBE" "$DAEMON_URL" sign-hostile ecdsa nosign rsa ed25519 2>&1) ||
	fail "ipc_probe sign-hostile: $out"
pass "$(tail -1 <<<"$out") ($(grep -c ': HANDOFF_E' <<<"$out") refusals, each with its code)"

# refused_handshake WHAT: one openssl s_client to keyonly_server, which
# must fail that handshake, report it and exit 1 (no hang); its report
# in $line, the time from connect to report in $elapsed (ms).
refused_handshake() {
	local out start rc=0
	start=$(date +%s%N)
	out=$(timeout 15 openssl s_client -connect "127.0.0.1:$KPORT" \
		-servername localhost -CAfile "$T/ecdsa-cert.pem" -ign_eof \
		</dev/null 2>&1) || true
	line=$(report 1)
	elapsed=$((($(date +%s%N) - start) / 1000000))
	grep -q "hello from keyonly" <<<"$out" &&
		fail "$1: the client got the server's line: $out"
	[[ $line == "handshake failed: "* ]] ||
		fail "$1: keyonly_server reports '$line', not a failed handshake"
	wait "$KPID" || rc=$?
	[ "$rc" -eq 1 ] || fail "$1: keyonly_server exited $rc (want 1)"
}

# ---- handoffd alive but not answering: the deadline ---------------------
start_keyonly stopped ecdsa 1
kill -STOP "$DAEMON_PID"
EXTRA_CLEANUP='kill -CONT $DAEMON_PID 2>/dev/null'
refused_handshake "a stopped handoffd"
kill -CONT "$DAEMON_PID"
EXTRA_CLEANUP=
grep -q "no reply from handoffd .* within 3000 ms" <<<"$line" ||
	fail "a stopped handoffd: not the deadline's words: $line"
[ "$elapsed" -ge 2900 ] && [ "$elapsed" -lt 10000 ] ||
	fail "a stopped handoffd: the handshake failed after $elapsed ms, not at the 3000 ms deadline"
pass "handoffd stopped: handshake failed after ${elapsed} ms at the deadline: $line"

kill -0 "$DAEMON_PID" 2>/dev/null || fail "handoffd is gone: $(tail -5 "$T/handoffd.log")"
"$HANDOFFCTL" -d "$DAEMON_URL" ping >/dev/null 2>&1 ||
	fail "handoffd does not answer ping after the key-only cases"
pass "handoffd still runs and answers ping"

# ---- handoffd restarted with another key under the profile --------------
start_keyonly replaced ecdsa 1
stop_daemon
make_cert ecdsa2
sed -i "s|$T/ecdsa-cert.pem|$T/ecdsa2-cert.pem|; s|$T/ecdsa-key.pem|$T/ecdsa2-key.pem|" \
	"$T/handoffd.conf"
start_daemon
refused_handshake "the profile's key replaced"
grep -q "has another key than the one this program set up with.*HANDOFF_EPROFILE" <<<"$line" ||
	fail "a replaced key: not refused in words: $line"
pass "profile's key replaced under a running program: refused, not signed with the new key: ${line#handshake failed: }"

# ---- handoffd gone after set-up ------------------------------------------
start_keyonly gone ecdsa 1
term_daemon
refused_handshake "no handoffd"
grep -q " / .*handoffd" <<<"$line" ||
	fail "the failure does not give the library's reason naming handoffd: $line"
pass "handoffd gone: handshake failed after ${elapsed} ms, server exited 1: $line"
finish
