# lib.sh - shared helpers for handoff's integration tests (sourced).
#
# Each test gets a private temporary folder, a handoffd on an ipc:// path
# inside it, and free 127.0.0.1 ports; everything it starts is killed and
# the folder removed on exit, whatever happens.  Binaries come from the
# environment CTest sets: HANDOFFD, HANDOFFCTL, HANDOFF_DEMO, TESTS_DIR.
#
# With pipefail, "cmd | grep -q X" fails at random: grep -q exits at the
# first match and cmd may die of SIGPIPE writing the rest.  Tests grep a
# pipe with "grep X >/dev/null" (reads it all) or a here-string instead.
set -euo pipefail

: "${HANDOFFD:?run through ctest (HANDOFFD unset)}"
: "${HANDOFFCTL:?run through ctest}"
: "${HANDOFF_DEMO:?run through ctest}"

T=$(mktemp -d /tmp/handoff-test.XXXXXX)
chmod 755 "$T"
PASSED=0
DAEMON_URL="ipc://$T/handoffd.sock"

# stop_children: ends this test's own background jobs that are still
# around.  Only jobs bash has not reaped are signalled, so a PID that the
# system has since given to another test's process is never hit (pid_max
# is 32768 here and the suite wraps it).
stop_children() {
	local pids
	pids=$(jobs -p)
	if [ -n "$pids" ]; then
		kill -CONT $pids 2>/dev/null || true
		kill -TERM $pids 2>/dev/null || true
	fi
	wait 2>/dev/null || true
}

# A test may set EXTRA_CLEANUP to a command for what is not its own job.
EXTRA_CLEANUP=
cleanup() {
	[ -z "$EXTRA_CLEANUP" ] || eval "$EXTRA_CLEANUP" || true
	stop_children
	rm -rf "$T"
}
trap cleanup EXIT

dump_logs() {
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last 30 lines)"
		tail -n 30 "$f"
	done
}

fail() {
	echo "FAIL: $*"
	dump_logs
	echo "$PASSED passed, 1 failed"
	exit 1
}

pass() {
	PASSED=$((PASSED + 1))
	echo "ok $PASSED - $*"
}

# finish: stops everything, fails if a sanitizer reported anything in a
# log (in sanitizer builds), then prints the closing count.
finish() {
	stop_children
	if grep -lE "(ERROR|WARNING): (Address|Leak|Thread)Sanitizer|runtime error:" \
		"$T"/*.log >/dev/null 2>&1; then
		fail "sanitizer report in $(grep -lE 'Sanitizer|runtime error:' "$T"/*.log)"
	fi
	echo "$PASSED passed, 0 failed"
}

# free_port: prints a TCP port nobody listens on, below the kernel's
# ephemeral range (32768+), so that other tests' outgoing connections
# (inflight.sh makes thousands) never hold it.
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((10000 + RANDOM % 22000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# first_allowed_cpu: prints the first CPU this test may run on (not
# always CPU 0 in a cpuset), for taskset -c.
first_allowed_cpu() {
	taskset -pc $$ | sed 's/.*: *//; s/[-,].*//'
}

# make_quota_cgroup: makes a cgroup whose CPU quota is one CPU (cgroup
# v2's cpu.max, or v1's cpu.cfs_quota_us: what `docker run --cpus=1`
# sets) and sets QUOTA_CGROUP to it.  At exit whatever still runs in it
# is killed (it holds only this test's processes) and it is removed; this
# takes EXTRA_CLEANUP.  Returns 1, QUOTA_CGROUP empty, where the test
# cannot make one (it needs root and a writable cpu controller).
QUOTA_CGROUP=
make_quota_cgroup() {
	local cg
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		cg=/sys/fs/cgroup/handoff-test-quota-$$
		mkdir "$cg" 2>/dev/null || return 1
		{ echo "100000 100000" >"$cg/cpu.max"; } 2>/dev/null ||
			{ rmdir "$cg"; return 1; }
	elif [ -d /sys/fs/cgroup/cpu ]; then
		cg=/sys/fs/cgroup/cpu/handoff-test-quota-$$
		mkdir "$cg" 2>/dev/null || return 1
		{ echo 100000 >"$cg/cpu.cfs_period_us" &&
			echo 100000 >"$cg/cpu.cfs_quota_us"; } 2>/dev/null ||
			{ rmdir "$cg"; return 1; }
	else
		return 1
	fi
	QUOTA_CGROUP=$cg
	IN_QUOTA_CGROUP[3]=$cg
	EXTRA_CLEANUP=remove_quota_cgroup
}

remove_quota_cgroup() {
	local i
	for i in $(seq 1 50); do
		xargs -r kill -KILL <"$QUOTA_CGROUP/cgroup.procs" 2>/dev/null || true
		rmdir "$QUOTA_CGROUP" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "warning: could not remove $QUOTA_CGROUP"
}

# "${IN_QUOTA_CGROUP[@]}" CMD...: runs CMD (a program) in QUOTA_CGROUP,
# as the same process: started with &, $! is CMD's PID.
# shellcheck disable=SC2016 # $$ is the inner shell's
IN_QUOTA_CGROUP=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"')

# nap SECONDS: sleeps SECONDS times $TIME_SCALE (valgrind_check.sh sets
# it: everything runs several times slower under valgrind).
nap() {
	sleep "$(awk -v s="$1" -v k="${TIME_SCALE:-1}" 'BEGIN {print s * k}')"
}

# await SECONDS COMMAND...: polls until COMMAND succeeds, for SECONDS
# times $TIME_SCALE; returns 1 if it never did.  For the side of a pipe
# that feeds a peer, where fail's words would go to the peer: the checks
# after the pipe say what did not come.
await() {
	local end=$((SECONDS + $1 * ${TIME_SCALE:-1}))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# wait_for DESCRIPTION SECONDS COMMAND...: as await, but fails the test
# when time runs out (under valgrind a daemon starting while the suite's
# other test runs can take longer than the plain limit).
wait_for() {
	local what=$1
	shift
	await "$@" || fail "timed out waiting for $what"
}

# other_user_demo: sets OTHER_USER_DEMO to a command that runs
# handoff-demo as another user can, wherever the build lives (a clone in
# a `mktemp -d` folder is 0700, and the dynamic loader then cannot open
# libhandoff for that user): a copy in $T with its libhandoff beside it.
# valgrind_check.sh's wrappers already run copies of their own.
other_user_demo() {
	if [ -n "${HANDOFF_VALGRIND:-}" ]; then
		OTHER_USER_DEMO=("$HANDOFF_DEMO")
		return
	fi
	local lib
	lib=$(ldd "$HANDOFF_DEMO" | awk '$1 ~ /^libhandoff\.so/ {print $3}')
	mkdir -p "$T/bin"
	cp "$HANDOFF_DEMO" "$T/bin/handoff-demo"
	[ -z "$lib" ] || cp "$lib" "$T/bin/"
	chmod -R a+rX "$T/bin"
	OTHER_USER_DEMO=(env "LD_LIBRARY_PATH=$T/bin" "$T/bin/handoff-demo")
}

# make_cert NAME: ECDSA P-256 self-signed cert for localhost/127.0.0.1
# in $T/NAME-cert.pem and $T/NAME-key.pem (made now, never committed).
make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1-key.pem" -out "$T/$1-cert.pem" -days 2 \
		-subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
}

# make_rsa_cert NAME: RSA-2048 self-signed cert, same names.
make_rsa_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes \
		-keyout "$T/$1-key.pem" -out "$T/$1-cert.pem" -days 2 \
		-subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
}

# write_config [EXTRA DAEMON LINES...]: a config with one profile
# "default" using $T/server-*.pem; extra lines go into [daemon].
write_config() {
	[ -f "$T/server-cert.pem" ] || make_cert server
	{
		echo "[daemon]"
		echo "listen = $DAEMON_URL"
		local line
		[[ " $* " == *" workers ="* ]] || echo "workers = 2"
		for line in "$@"; do echo "$line"; done
		echo
		echo "[profile default]"
		echo "certificate = $T/server-cert.pem"
		echo "key = $T/server-key.pem"
	} >"$T/handoffd.conf"
}

# start_daemon [HANDOFFD ARGS...]: runs handoffd on $T/handoffd.conf.
start_daemon() {
	[ -f "$T/handoffd.conf" ] || write_config
	$HANDOFFD --foreground --config "$T/handoffd.conf" "$@" \
		>>"$T/handoffd.log" 2>&1 &
	DAEMON_PID=$!
	wait_for "handoffd to answer ping" 10 \
		"$HANDOFFCTL" --daemon "$DAEMON_URL" ping
}

stop_daemon() {
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || true
}

# term_daemon: SIGTERM to handoffd and wait for it; fails unless it exits
# 0, and sets TERM_MS to how long it took.
term_daemon() {
	local start rc=0
	start=$(date +%s%N)
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || rc=$?
	TERM_MS=$((($(date +%s%N) - start) / 1000000))
	[ "$rc" -eq 0 ] || fail "handoffd exited $rc on SIGTERM"
}

# start_daemon_for_many_inflight PAIRS: skips (77) without the 4 x PAIRS
# + 64 descriptors many_inflight needs, then starts handoffd with a
# server certificate that its profile also trusts (many_inflight runs
# both ends of every connection through the one profile).
start_daemon_for_many_inflight() {
	local need=$((4 * $1 + 64)) hard
	hard=$(ulimit -Hn)
	if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
		echo "SKIP: needs $need file descriptors, the hard limit is $hard (raise it with ulimit -Hn)"
		exit 77
	fi
	make_cert server
	write_config "max_sessions = 10000"
	cat >>"$T/handoffd.conf" <<CONF
trust = $T/server-cert.pem
CONF
	start_daemon
}

# start_demo [DEMO ARGS...]: handoff-demo serve on a free port ($PORT).
start_demo() {
	PORT=$(free_port)
	$HANDOFF_DEMO serve --port "$PORT" --daemon "$DAEMON_URL" "$@" \
		>>"$T/demo.log" 2>&1 &
	DEMO_PID=$!
	wait_for "handoff-demo to listen on $PORT" 10 \
		grep -q "serving .*:$PORT/" "$T/demo.log"
}

stop_demo() {
	kill "$DEMO_PID" 2>/dev/null || true
	wait "$DEMO_PID" 2>/dev/null || true
}

# gnutls_priority SUITE: a gnutls-cli priority string that offers only
# the given TLS 1.3 suite (IANA name).
gnutls_priority() {
	local cipher
	case $1 in
	TLS_AES_128_GCM_SHA256) cipher=AES-128-GCM ;;
	TLS_AES_256_GCM_SHA384) cipher=AES-256-GCM ;;
	TLS_CHACHA20_POLY1305_SHA256) cipher=CHACHA20-POLY1305 ;;
	*) fail "no gnutls name for $1" ;;
	esac
	echo "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+$cipher"
}

# echo_roundtrip PORT PRIORITY CA: 200 KiB through an echo server with
# gnutls-cli (many full-size records both ways), compared byte for byte;
# fails the test unless all of it comes back.  gnutls-cli's own messages go
# to --logfile so its stdout holds only what came back.
echo_roundtrip() {
	head -c 204800 /dev/urandom | base64 -w 76 >"$T/payload"
	(cat "$T/payload"; sleep 1) | timeout 30 gnutls-cli \
		--logfile="$T/gnutls-cli-echo.log" --priority "$2" \
		--x509cafile "$3" --sni-hostname localhost \
		--verify-hostname localhost -p "$1" 127.0.0.1 \
		>"$T/echoed" 2>>"$T/gnutls-cli-echo.log" || true
	cmp -s "$T/payload" "$T/echoed" ||
		fail "echo with $2: $(wc -c <"$T/echoed") of $(wc -c <"$T/payload") bytes came back intact"
}

# expect_line FD WORDS: the next line read from FD (a coprocess's output)
# within 30 s must be WORDS.
expect_line() {
	local line=
	read -r -t 30 line <&"$1" || true
	[ "$line" = "$2" ] || fail "the client said '$line', not '$2'"
}

# stat_value NAME: one counter from `handoffctl stats`.
stat_value() {
	"$HANDOFFCTL" --daemon "$DAEMON_URL" stats | awk -v k="$1" '$1 == k {print $2}'
}

# make_ca: a test CA in $T/ca-cert.pem / $T/ca-key.pem (certtool).
make_ca() {
	certtool --generate-privkey --key-type ecdsa --curve secp256r1 \
		--outfile "$T/ca-key.pem" 2>/dev/null
	printf '%s\n' 'cn = "handoff test CA"' ca cert_signing_key \
		crl_signing_key 'expiration_days = 2' >"$T/ca.tmpl"
	certtool --generate-self-signed --load-privkey "$T/ca-key.pem" \
		--template "$T/ca.tmpl" --outfile "$T/ca-cert.pem" 2>/dev/null
}

# demo_handshake WHAT OPENSSL_ARGS...: one openssl s_client through
# handoff-demo on $PORT, verifying its chain against the test CA
# (make_ca); fails, naming WHAT, unless the handshake completes and the
# demo answers.
demo_handshake() {
	local what=$1 out
	shift
	out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 openssl s_client \
		-connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$T/ca-cert.pem" -verify_return_error -quiet "$@" 2>&1) ||
		fail "$what: $out"
	grep -q "handoff-demo: TLSv1" <<<"$out" || fail "$what: no answer: $out"
}

# make_leaf NAME KEYTYPE [TEMPLATE LINES...]: a certificate for
# localhost/127.0.0.1 signed by the test CA, valid for servers and
# clients, in $T/NAME-cert.pem / $T/NAME-key.pem.  KEYTYPE is ecdsa or
# rsa; extra lines (e.g. dates) go into the certtool template.
make_leaf() {
	local name=$1 type=$2
	shift 2
	if [ "$type" = rsa ]; then
		certtool --generate-privkey --key-type rsa --bits 2048 \
			--outfile "$T/$name-key.pem" 2>/dev/null
	else
		certtool --generate-privkey --key-type ecdsa \
			--curve secp256r1 --outfile "$T/$name-key.pem" 2>/dev/null
	fi
	{
		printf '%s\n' 'cn = "localhost"' 'dns_name = "localhost"' \
			'ip_address = "127.0.0.1"' tls_www_server \
			tls_www_client signing_key encryption_key
		if [ $# -gt 0 ]; then printf '%s\n' "$@"; else
			echo 'expiration_days = 2'; fi
	} >"$T/$name.tmpl"
	certtool --generate-certificate --load-privkey "$T/$name-key.pem" \
		--load-ca-certificate "$T/ca-cert.pem" \
		--load-ca-privkey "$T/ca-key.pem" --template "$T/$name.tmpl" \
		--outfile "$T/$name-cert.pem" 2>/dev/null
}

# start_openssl_server PORT ARGS...: openssl s_server reversing lines
# (-rev) on 127.0.0.1:PORT, logging to $T/s_server-PORT.log.
start_openssl_server() {
	local port=$1
	shift
	openssl s_server -accept "127.0.0.1:$port" -rev "$@" \
		>"$T/s_server-$port.log" 2>&1 &
	wait_for "openssl s_server on $port" 10 \
		bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}

# start_gnutls_server PORT ARGS...: gnutls-serv --echo on PORT.
start_gnutls_server() {
	local port=$1
	shift
	gnutls-serv --echo -p "$port" "$@" >"$T/gnutls-serv-$port.log" 2>&1 &
	wait_for "gnutls-serv on $port" 10 \
		bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}

# demo_connect PORT ARGS...: handoff-demo connect to 127.0.0.1:PORT as
# "localhost" through $DAEMON_URL; stdin goes to the server.  Its
# stdout is the server's data; stderr goes to $T/connect.err (appended to
# $T/connect.log too).  Returns handoff-demo's status.
demo_connect() {
	local port=$1 rc=0
	shift
	timeout 20 "$HANDOFF_DEMO" connect --host 127.0.0.1 --port "$port" \
		--servername localhost --daemon "$DAEMON_URL" "$@" \
		2>"$T/connect.err" || rc=$?
	cat "$T/connect.err" >>"$T/connect.log"
	return $rc
}
