#!/usr/bin/env bash
# install_check.sh BUILD_DIR - `cmake --install` lays out the library,
# header, pkg-config file, binaries, man pages and example config, and a
# program builds and links against the installed copy via pkg-config.
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
missing=0
for f in include/handoff.h include/handoff_gnutls.h lib/libhandoff.so lib/libhandoff.a \
	lib/pkgconfig/handoff.pc bin/handoffd bin/handoffctl bin/handoff-demo \
	bin/handoff-bench share/man/man1/handoff-bench.1 \
	share/man/man8/handoffd.8 share/man/man8/handoffctl.8 \
	share/man/man5/handoffd.conf.5 share/man/man3/handoff.3 \
	share/doc/handoff/examples/handoffd.conf.example; do
	# lib may be lib/ or lib/<multiarch>/ depending on GNUInstallDirs
	if ! compgen -G "$prefix/${f/lib\//lib*/}" >/dev/null &&
		! compgen -G "$prefix/${f/lib\//lib/*/}" >/dev/null; then
		echo "missing after install: $f"
		missing=1
	fi
done
[ $missing -eq 0 ] || { echo "0 passed, 1 failed"; exit 1; }
pc=$(dirname "$(find "$prefix" -name handoff.pc | head -1)")
cat >"$prefix/t.c" <<'C'
#include <handoff.h>
#include <stdio.h>
int main(void) {
	struct handoff_config *c = handoff_config_new();
	printf("%s\n", handoff_strerror(HANDOFF_EBUSY));
	handoff_config_free(c);
	return 0;
}
C
libdir=$(PKG_CONFIG_PATH=$pc pkg-config --variable=libdir handoff)
cc "$prefix/t.c" -o "$prefix/t" $(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs handoff)
out=$(LD_LIBRARY_PATH=$libdir "$prefix/t")
[ "$out" = "handoffd is at its session limit" ] || { echo "bad output: $out"; echo "0 passed, 1 failed"; exit 1; }
# A GnuTLS program using the key-only adapter builds the same way.
cat >"$prefix/g.c" <<'C'
#include <handoff_gnutls.h>
#include <stdio.h>
int main(void) {
	gnutls_certificate_credentials_t cred;
	gnutls_certificate_allocate_credentials(&cred);
	int r = handoff_gnutls_certificate_set_key(NULL, cred);
	gnutls_certificate_free_credentials(cred);
	printf("%d\n", r);
	return 0;
}
C
cc "$prefix/g.c" -o "$prefix/g" $(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs handoff gnutls)
out=$(LD_LIBRARY_PATH=$libdir "$prefix/g")
[ "$out" = "-1" ] || { echo "bad output from the handoff_gnutls.h program: $out"; echo "0 passed, 1 failed"; exit 1; }
echo "ok - installed layout complete; a program links via pkg-config"
echo "1 passed, 0 failed"
