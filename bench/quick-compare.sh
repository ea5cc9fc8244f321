#!/usr/bin/env bash
# quick-compare.sh - a first, rough side-by-side until handoff-bench
# exists: full TLS 1.3 handshakes/s (openssl s_time) and handshake latency
# (curl's time_appconnect) against handoff-demo (handshakes in handoffd)
# and against gnutls-serv (handshakes in-process), same certificate, same
# machine, same run.
#   bench/quick-compare.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=${1:-build}
secs=${2:-5}
T=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/key.pem" -out "$T/cert.pem" -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost 2>/dev/null
cat >"$T/handoffd.conf" <<CONF
[daemon]
listen = ipc://$T/handoffd.sock
[profile default]
certificate = $T/cert.pem
key = $T/key.pem
CONF
"$build/handoffd" --foreground --config "$T/handoffd.conf" 2>"$T/d.log" &
pids+=($!)
sleep 1
"$build/handoff-demo" serve --port 18443 --daemon "ipc://$T/handoffd.sock" >/dev/null 2>&1 &
pids+=($!)
gnutls-serv --http --x509certfile "$T/cert.pem" --x509keyfile "$T/key.pem" \
	--priority "NORMAL:-VERS-ALL:+VERS-TLS1.3" -p 18444 >/dev/null 2>&1 &
pids+=($!)
sleep 1

rate() {
	openssl s_time -connect "127.0.0.1:$1" -new -time "$secs" \
		-CAfile "$T/cert.pem" 2>/dev/null |
		awk '/connections in [0-9.]+ real/ {printf "%.0f", $1 / $4}'
}
latency() {
	for _ in $(seq 1 200); do
		curl -so /dev/null -w '%{time_appconnect}\n' --cacert "$T/cert.pem" \
			--resolve "localhost:$1:127.0.0.1" "https://localhost:$1/"
	done | sort -n | awk '{a[NR]=$1} END {printf "p50 %.0f us, p99 %.0f us", a[int(NR*0.5)]*1e6, a[int(NR*0.99)]*1e6}'
}
echo "full TLS 1.3 handshakes, ECDSA P-256, X25519, ${secs}s each, 1 client"
printf "%-28s %8s hs/s   %s\n" "gnutls-serv (in-process)" "$(rate 18444)" "$(latency 18444)"
printf "%-28s %8s hs/s   %s\n" "handoff-demo + handoffd" "$(rate 18443)" "$(latency 18443)"
