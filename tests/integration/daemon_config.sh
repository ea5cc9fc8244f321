#!/usr/bin/env bash
# daemon_config.sh - `handoffd --check` refuses bad configurations at
# start with FILE:LINE and the reason, and accepts a good one.
source "$TESTS_DIR/integration/lib.sh"
make_cert server
make_cert other
C="$T/c.conf"

# refused LINE_PATTERN: --check must exit 1 with that text on stderr.
refused() {
	local want=$1 out rc=0
	out=$("$HANDOFFD" --check --config "$C" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "exit $rc (want 1) for: $(cat "$C")"
	grep -qF -- "$want" <<<"$out" || fail "want '$want', got: $out"
	pass "refused: $out"
}
profile() {
	printf '[profile default]\ncertificate = %s\nkey = %s\n' \
		"${1:-$T/server-cert.pem}" "${2:-$T/server-key.pem}"
}

{ profile; echo "colour = blue"; } >"$C"
refused "$C:4: unknown key \"colour\""
{ echo "[daemon]"; echo "workers = many"; profile; } >"$C"
refused "$C:2: workers = \"many\": expected a whole number from 1 to 1024"
{ echo "[daemon]"; echo "workers = 5000"; profile; } >"$C"
refused "$C:2: workers = \"5000\""
{ echo "[daemon]"; echo "scheduling = realtime"; profile; } >"$C"
refused "$C:2: scheduling = \"realtime\": expected batch or normal"
{ echo "[deamon]"; echo "workers = 2"; } >"$C"
refused "$C:2: unknown section [deamon]"
{ profile; echo "client_auth = sometimes"; } >"$C"
refused "$C:4: client_auth = \"sometimes\": expected none, request or require"
profile "$T/server-cert.pem" "$T/missing-key.pem" >"$C"
refused "cannot read key file $T/missing-key.pem"
profile "$T/server-cert.pem" "$T" >"$C"
refused "profile default: cannot load certificate $T/server-cert.pem with key $T"
profile "$T/server-cert.pem" "$T/other-key.pem" >"$C"
refused "profile default: cannot load certificate"
{ profile; echo "priority = NORMAL:+NOT-A-THING"; } >"$C"
refused "bad priority string"
# SSL 3.0 is never spoken, whatever the priority string says (GnuTLS
# may refuse the keyword itself, or handoffd refuses the protocol).
{ profile; echo "priority = NORMAL:+VERS-SSL3.0"; } >"$C"
out=$("$HANDOFFD" --check --config "$C" 2>&1) && fail "SSL 3.0 accepted: $out"
grep -qE "SSL 3.0|bad priority string" <<<"$out" || fail "SSL 3.0: $out"
pass "refused: $out"
# TLS 1.0/1.1 in a profile start with a warning (legacy_tls.sh).
{ profile; echo "crl = $T/server-cert.pem"; } >"$C"
refused "sets crl but no trust file"
printf '[profile client]\ntrust = %s\n' "$T/other-cert.pem" >"$C"
"$HANDOFFD" --check --config "$C" >/dev/null 2>&1 ||
	fail "a client-only profile (trust, no certificate) was refused"
pass "a profile without certificate and key is accepted (it only connects)"
{ echo "[daemon]"; echo "ticket_lifetime = 0"; profile; } >"$C"
refused "ticket_lifetime = \"0\": expected a whole number from 1"

{ echo "[daemon]"; echo "listen = ipc://$T/x.sock"; profile; } >"$C"
out=$("$HANDOFFD" --check --config "$C" 2>&1) || fail "good config refused: $out"
grep -q "configuration OK" <<<"$out" || fail "good config: $out"
pass "good config: $out"
finish
