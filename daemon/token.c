/*
 * token.c - keys (and certificates) that live in a PKCS#11 token, named
 * by an RFC 7512 URL in a profile instead of a file.
 *
 * The key never enters handoffd: GnuTLS asks the token to sign, through
 * whatever PKCS#11 modules p11-kit has registered (an HSM's, SoftHSM2's).
 * These keys keep that signing path; handoffd's libcrypto and
 * libsodium signing (fastkey.c) is for key files only.  The token's PIN comes
 * from the URL (pin-value=, or pin-source= naming a file), as for every GnuTLS
 * program; a URL is therefore shown only with its PIN hidden.  GnuTLS
 * logs into the token again by itself when it must (after a fork, or a
 * token that was reset), with the same PIN.
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "handoffd.h"

int
ho_token_is_url(const char *s)
{
	return s != NULL && strncmp(s, "pkcs11:", 7) == 0;
}

void
ho_token_redact(const char *url, char *out, size_t outlen)
{
	static const char attr[] = "pin-value=";
	size_t n = 0;
	if (outlen == 0)
		return;
	for (const char *p = url; *p != '\0' && n + 1 < outlen;) {
		if (strncmp(p, attr, sizeof(attr) - 1) == 0) {
			int w =
			    snprintf(out + n, outlen - n, "%s(hidden)", attr);
			n += w > 0 ? (size_t)w : 0;
			p += sizeof(attr) - 1;
			while (*p != '\0' && *p != '&' && *p != ';')
				p++; /* the PIN itself */
		} else {
			out[n++] = *p++;
		}
	}
	out[n < outlen ? n : outlen - 1] = '\0';
}

/* What to check for each way loading from a token fails. */
static const char *
token_hint(int ret)
{
	switch (ret) {
	case GNUTLS_E_PKCS11_PIN_ERROR:
		return "the token refused the PIN, or none was given: put "
		       "it in the URL as pin-source=FILE (a file that only "
		       "the user handoffd starts as can read) or "
		       "pin-value=PIN";
	case GNUTLS_E_PKCS11_REQUESTED_OBJECT_NOT_AVAILBLE:
	case GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE:
		return "no such token or object: list what the tokens hold "
		       "with `p11tool --list-all-privkeys --login`, and check "
		       "that the token's PKCS#11 module is registered with "
		       "p11-kit (`p11-kit list-modules`)";
	default: return "check the URL, the PIN and that the token is present";
	}
}

int
ho_token_import(const char *profile, const char *url, gnutls_privkey_t *out,
    char *err, size_t errlen)
{
	gnutls_privkey_t key;
	int ret = gnutls_privkey_init(&key);
	if (ret >= 0) {
		ret = gnutls_privkey_import_url(key, url, 0);
		if (ret < 0)
			gnutls_privkey_deinit(key);
	}
	if (ret >= 0) {
		*out = key;
		return 0;
	}
	char shown[512];
	ho_token_redact(url, shown, sizeof(shown));
	snprintf(err, errlen, "profile %s: cannot use key %s: %s (%s)",
	    profile, shown, gnutls_strerror(ret), token_hint(ret));
	return -1;
}

int
ho_token_check_after_drop(
    const struct ho_profiles *ps, const char *user, char *err, size_t errlen)
{
	for (int i = 0; i < ps->count; i++) {
		const struct ho_profile *p = &ps->list[i];
		if (p->signer == NULL || strcmp(p->key_backend, "pkcs11") != 0)
			continue;
		/* A token's module may read files or a device each time it
		 * signs (SoftHSM2 reads its token directory): one signature
		 * as the new user, or every handshake would fail. */
		int ret = ho_key_probe(p->signer, NULL);
		if (ret < 0) {
			snprintf(err, errlen,
			    "profile %s: the key in its PKCS#11 token cannot "
			    "sign once handoffd runs as user %s: %s (give %s "
			    "access to the token, e.g. for SoftHSM2 add it "
			    "to the softhsm group, which owns its token "
			    "directory)",
			    p->name, user, gnutls_strerror(ret), user);
			return -1;
		}
	}
	return 0;
}
