/*
 * profile.c - turns [profile] sections into loaded GnuTLS credentials.
 *
 * Everything that can fail on a bad file fails here, at start, with the
 * file's name: a key that cannot be read, a certificate that does not
 * match its key, a priority string GnuTLS refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/abstract.h>

#include "handoffd.h"

/* Names the unreadable file, which GnuTLS's own message does not.  A
 * token's URL is no file: ho_token_import says what is wrong with it.
 */
static int
check_readable(const char *profile, const char *what, const char *path,
    char *err, size_t errlen)
{
	if (ho_token_is_url(path))
		return 0;
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		fclose(f);
		return 0;
	}
	snprintf(err, errlen, "profile %s: cannot read %s file %s: %s",
	    profile, what, path, strerror(errno));
	return -1;
}

/* The CAs (and CRL) that verify peers: the profile's trust file, else,
 * for connecting to servers, the system's CAs. */
static int
load_trust(struct ho_profile *p, const struct ho_profile_config *pc, char *err,
    size_t errlen)
{
	int ret;
	if (pc->trust == NULL) {
		ret = gnutls_certificate_set_x509_system_trust(p->cred);
		p->system_trust = ret > 0;
		return 0; /* none is fine until a client handshake needs it */
	}
	ret = gnutls_certificate_set_x509_trust_file(
	    p->cred, pc->trust, GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		snprintf(err, errlen,
		    "profile %s: no CA certificates loaded from trust file "
		    "%s: %s",
		    pc->name, pc->trust,
		    ret < 0 ? gnutls_strerror(ret) : "file is empty");
		return -1;
	}
	if (pc->crl == NULL)
		return 0;
	ret = gnutls_certificate_set_x509_crl_file(
	    p->cred, pc->crl, GNUTLS_X509_FMT_PEM);
	if (ret < 0) {
		snprintf(err, errlen,
		    "profile %s: cannot load CRL file %s: %s (it must be "
		    "PEM and signed by a CA in %s)",
		    pc->name, pc->crl, gnutls_strerror(ret), pc->trust);
		return -1;
	}
	return 0;
}

/* Whether this profile's key should sign through libcrypto or libsodium
 * (fastkey.c): the default for RSA, ECDSA and Ed25519 keys, unless the
 * profile allows RSA key transport, whose decryption GnuTLS must do. */
static int
wants_fastkey(const struct ho_profile_config *pc)
{
	if (pc->key_backend == HO_KEY_BACKEND_GNUTLS)
		return 0;
	const char *prio = pc->priority ? pc->priority : "";
	const char *rsa = strstr(prio, ":+RSA");
	int rsa_kx = rsa != NULL && (rsa[5] == '\0' || rsa[5] == ':');
	return !rsa_kx;
}

int
ho_key_probe(gnutls_privkey_t key, gnutls_pubkey_t pub)
{
	gnutls_sign_algorithm_t algo;
	gnutls_digest_algorithm_t hash = GNUTLS_DIG_SHA256;
	switch (gnutls_privkey_get_pk_algorithm(key, NULL)) {
	case GNUTLS_PK_RSA: algo = GNUTLS_SIGN_RSA_PSS_RSAE_SHA256; break;
	case GNUTLS_PK_RSA_PSS:
		/* A certificate may bind the key to one hash. */
		if (pub != NULL)
			gnutls_pubkey_get_preferred_hash_algorithm(
			    pub, &hash, NULL);
		algo = gnutls_pk_to_sign(GNUTLS_PK_RSA_PSS, hash);
		break;
	case GNUTLS_PK_EDDSA_ED25519: algo = GNUTLS_SIGN_EDDSA_ED25519; break;
	case GNUTLS_PK_EDDSA_ED448: algo = GNUTLS_SIGN_EDDSA_ED448; break;
	default: algo = GNUTLS_SIGN_ECDSA_SHA256; break;
	}
	unsigned char probe[32] = "handoffd key check";
	gnutls_datum_t data = {probe, sizeof(probe)}, sig = {NULL, 0};
	int ret = gnutls_privkey_sign_data2(key, algo, 0, &data, &sig);
	if (ret >= 0 && pub != NULL)
		ret = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig);
	gnutls_free(sig.data);
	return ret < 0 ? ret : 0;
}

/*
 * The certificate chain (a file or a token's URL) with a loaded key; the
 * credentials own both from here on, and the key is freed on failure.
 * A test signature, verified with the certificate's public key, proves
 * they belong together.  p->signer keeps a borrowed pointer to the key.
 */
static int
use_key(struct ho_profile *p, const struct ho_profile_config *pc,
    gnutls_privkey_t key, const char *backend, char *err, size_t errlen)
{
	char cert[512], key_name[512];
	ho_token_redact(pc->certificate, cert, sizeof(cert));
	ho_token_redact(pc->key, key_name, sizeof(key_name));
	gnutls_pcert_st pcerts[16];
	unsigned n = 16;
	int ret = gnutls_pcert_list_import_x509_file(
	    pcerts, &n, pc->certificate, GNUTLS_X509_FMT_PEM, NULL, NULL, 0);
	if (ret < 0 || n == 0) {
		gnutls_privkey_deinit(key);
		snprintf(err, errlen,
		    "profile %s: cannot load certificate chain %s: %s",
		    pc->name, cert,
		    ret < 0 ? gnutls_strerror(ret) : "no certificate");
		return -1;
	}
	ret = ho_key_probe(key, pcerts[0].pubkey);
	if (ret < 0) {
		for (unsigned i = 0; i < n; i++)
			gnutls_pcert_deinit(&pcerts[i]);
		gnutls_privkey_deinit(key);
		snprintf(err, errlen,
		    "profile %s: cannot load certificate %s with key %s: %s "
		    "(check that they belong together)",
		    pc->name, cert, key_name, gnutls_strerror(ret));
		return -1;
	}
	ret = gnutls_certificate_set_key(p->cred, NULL, 0, pcerts, n, key);
	if (ret < 0) {
		for (unsigned i = 0; i < n; i++)
			gnutls_pcert_deinit(&pcerts[i]);
		gnutls_privkey_deinit(key);
		snprintf(err, errlen, "profile %s: %s", pc->name,
		    gnutls_strerror(ret));
		return -1;
	}
	p->signer = key;
	p->key_backend = backend;
	/* Names the key for key-only callers (keyops.c): a program that
	 * fetched another key's chain must not get this key's signatures.
	 * The credentials now own pcerts[0]. */
	size_t id_len = sizeof(p->key_id);
	if (gnutls_pubkey_get_key_id(pcerts[0].pubkey, GNUTLS_KEYID_USE_SHA256,
	        p->key_id, &id_len) < 0 ||
	    id_len != sizeof(p->key_id))
		memset(p->key_id, 0, sizeof(p->key_id));
	return 0;
}

/* A key file and its certificate did not load, for why. */
static void
files_error(const struct ho_profile_config *pc, const char *why, char *err,
    size_t errlen)
{
	char cert[512]; /* a token's URL may hold its PIN */
	ho_token_redact(pc->certificate, cert, sizeof(cert));
	snprintf(err, errlen,
	    "profile %s: cannot load certificate %s with key %s: %s (check "
	    "that both files exist, are readable by this user, are PEM, and "
	    "belong together)",
	    pc->name, cert, pc->key, why);
}

/* The key with libcrypto or libsodium (fastkey.c).  Returns 0 when
 * loaded, 1 when the key is of a kind left to GnuTLS, -1 with err. */
static int
load_fastkey(struct ho_profile *p, const struct ho_profile_config *pc,
    char *err, size_t errlen)
{
	gnutls_privkey_t key;
	const char *signer = NULL;
	char why[300];
	int r = ho_fastkey_load(pc->key, &key, &signer, why, sizeof(why));
	if (r < 0)
		files_error(pc, why, err, errlen);
	if (r != 0)
		return r;
	return use_key(p, pc, key, signer, err, errlen);
}

/* The whole key file into one buffer of its size, which the caller
 * wipes and frees (gnutls_load_file() would leave copies behind: stdio's
 * buffer, reallocations).  0, or a GnuTLS error. */
static int
read_key_file(const char *path, gnutls_datum_t *out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = GNUTLS_E_FILE_ERROR;
	out->data = NULL;
	out->size = 0;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    st.st_size > 1024 * 1024 ||
	    (out->data = gnutls_malloc((size_t)st.st_size)) == NULL)
		goto out;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n =
		    read(fd, out->data + got, (size_t)st.st_size - got);
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	out->size = (unsigned)got;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret != 0 && out->data != NULL) {
		gnutls_memset(out->data, 0, (size_t)st.st_size);
		gnutls_free(out->data);
		out->data = NULL;
	}
	return ret;
}

/* The key read by GnuTLS into a key object of our own, for a profile
 * that signs on request (keyops.c) and so needs p->signer.  Returns 0,
 * or -1 with err. */
static int
load_with_gnutls(struct ho_profile *p, const struct ho_profile_config *pc,
    char *err, size_t errlen)
{
	gnutls_datum_t pem = {NULL, 0};
	gnutls_privkey_t key = NULL;
	int ret = read_key_file(pc->key, &pem);
	if (ret >= 0)
		ret = gnutls_privkey_init(&key);
	if (ret >= 0)
		ret = gnutls_privkey_import_x509_raw(
		    key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (pem.data != NULL) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
	}
	if (ret < 0) {
		gnutls_privkey_deinit(key);
		files_error(pc, gnutls_strerror(ret), err, errlen);
		return -1;
	}
	return use_key(p, pc, key, "gnutls", err, errlen);
}

/* The lowest protocol a priority list enables (GNUTLS_TLS1_2 if none). */
static gnutls_protocol_t
lowest_version(gnutls_priority_t prio)
{
	const unsigned *list = NULL;
	gnutls_protocol_t low = GNUTLS_TLS1_2;
	int n = gnutls_priority_protocol_list(prio, &list);
	for (int i = 0; i < n; i++) {
		if (list[i] == GNUTLS_SSL3 || list[i] == GNUTLS_TLS1_0 ||
		    list[i] == GNUTLS_TLS1_1)
			if (low == GNUTLS_TLS1_2 || list[i] < low)
				low = (gnutls_protocol_t)list[i];
	}
	return low;
}

static int
load_one(struct ho_profile *p, const struct ho_profile_config *pc, char *err,
    size_t errlen)
{
	int ret;
	snprintf(p->name, sizeof(p->name), "%s", pc->name);
	p->client_auth = pc->client_auth;
	p->allow_sign = pc->allow_sign;
	if ((pc->certificate != NULL &&
	        (check_readable(pc->name, "certificate", pc->certificate, err,
	             errlen) != 0 ||
	            check_readable(pc->name, "key", pc->key, err, errlen) !=
	                0)) ||
	    (pc->trust != NULL &&
	        check_readable(pc->name, "trust", pc->trust, err, errlen) !=
	            0) ||
	    (pc->crl != NULL &&
	        check_readable(pc->name, "crl", pc->crl, err, errlen) != 0))
		return -1;
	if ((ret = gnutls_certificate_allocate_credentials(&p->cred)) < 0 ||
	    (ret = gnutls_session_ticket_key_generate(&p->ticket_key)) < 0)
		goto gnutls_fail;
	if (pc->certificate != NULL && ho_token_is_url(pc->key)) {
		/* The token signs: its key may never leave it. */
		gnutls_privkey_t key;
		if (ho_token_import(pc->name, pc->key, &key, err, errlen) !=
		        0 ||
		    use_key(p, pc, key, "pkcs11", err, errlen) != 0)
			return -1;
		p->has_certificate = 1;
	} else if (pc->certificate != NULL) {
		ret = wants_fastkey(pc) ? load_fastkey(p, pc, err, errlen) : 1;
		if (ret < 0)
			return -1;
		if (ret == 1 && pc->allow_sign) {
			/* keyops.c signs with p->signer */
			if (load_with_gnutls(p, pc, err, errlen) != 0)
				return -1;
		} else if (ret == 1) { /* GnuTLS signs with it itself */
			ret = gnutls_certificate_set_x509_key_file2(p->cred,
			    pc->certificate, pc->key, GNUTLS_X509_FMT_PEM,
			    NULL, 0);
			if (ret < 0) {
				files_error(
				    pc, gnutls_strerror(ret), err, errlen);
				return -1;
			}
		}
		p->has_certificate = 1;
		if (p->key_backend == NULL)
			p->key_backend = "gnutls";
	}
	if (load_trust(p, pc, err, errlen) != 0)
		return -1;
	const char *prio = pc->priority ? pc->priority : HO_DEFAULT_PRIORITY;
	const char *errpos = NULL;
	ret = gnutls_priority_init2(&p->priority, prio, &errpos, 0);
	if (ret < 0) {
		snprintf(err, errlen,
		    "profile %s: bad priority string \"%s\" at \"%s\": %s",
		    pc->name, prio, errpos ? errpos : "?",
		    gnutls_strerror(ret));
		return -1;
	}
	/* Also the mere request: Debian's GnuTLS drops SSL 3.0 silently,
	 * and an operator who asks for it should hear "no" at start. */
	gnutls_protocol_t low = lowest_version(p->priority);
	if (low == GNUTLS_SSL3 || strstr(prio, "+VERS-SSL3.0")) {
		snprintf(err, errlen,
		    "profile %s: priority string \"%s\" enables SSL 3.0, "
		    "which handoffd never speaks",
		    pc->name, prio);
		return -1;
	}
	/* TLS 1.0 and 1.1 only when the operator asks for them here; the
	 * default priority never does. */
	if (low == GNUTLS_TLS1_0 || low == GNUTLS_TLS1_1)
		ho_log_warning("profile %s: priority string \"%s\" enables "
		               "TLS %s, with only CBC cipher suites: turn it "
		               "off once the old peers are gone",
		    pc->name, prio, low == GNUTLS_TLS1_0 ? "1.0" : "1.1");
	for (int i = 0; i < pc->alpn_count; i++) {
		p->alpn[i].data = (unsigned char *)pc->alpn[i];
		p->alpn[i].size = (unsigned)strlen(pc->alpn[i]);
	}
	p->alpn_count = pc->alpn_count;
	p->server_names = pc->server_names;
	p->server_name_count = pc->server_name_count;
	return 0;
gnutls_fail:
	snprintf(
	    err, errlen, "profile %s: %s", pc->name, gnutls_strerror(ret));
	return -1;
}

int
ho_profiles_load(struct ho_profiles *ps, const struct ho_config *cfg,
    char *err, size_t errlen)
{
	ps->list = calloc((size_t)cfg->profile_count + 1, sizeof(*ps->list));
	ps->count = 0;
	if (ps->list == NULL) {
		snprintf(err, errlen, "out of memory loading profiles");
		return -1;
	}
	for (int i = 0; i < cfg->profile_count; i++) {
		/* Count it first so a failed half-load is freed too. */
		ps->count++;
		if (load_one(&ps->list[i], &cfg->profiles[i], err, errlen) !=
		    0)
			return -1;
	}
	return 0;
}

const struct ho_profile *
ho_profile_find(
    const struct ho_profiles *ps, const char *name, size_t name_len)
{
	for (int i = 0; i < ps->count; i++) {
		if (strlen(ps->list[i].name) == name_len &&
		    memcmp(ps->list[i].name, name, name_len) == 0)
			return &ps->list[i];
	}
	return NULL;
}

const struct ho_profile *
ho_profile_for_name(const struct ho_profiles *ps, const char *host)
{
	/* Exact names win over wildcards, whatever the profile order. */
	for (int i = 0; i < ps->count; i++) {
		for (int j = 0; j < ps->list[i].server_name_count; j++) {
			if (strcasecmp(ps->list[i].server_names[j], host) == 0)
				return &ps->list[i];
		}
	}
	/* "*.example.com" covers exactly one more label. */
	const char *dot = strchr(host, '.');
	if (dot == NULL || dot == host)
		return NULL;
	for (int i = 0; i < ps->count; i++) {
		for (int j = 0; j < ps->list[i].server_name_count; j++) {
			const char *n = ps->list[i].server_names[j];
			if (n[0] == '*' && n[1] == '.' &&
			    strcasecmp(n + 1, dot) == 0)
				return &ps->list[i];
		}
	}
	return NULL;
}

void
ho_profiles_free(struct ho_profiles *ps)
{
	for (int i = 0; i < ps->count; i++) {
		if (ps->list[i].cred)
			gnutls_certificate_free_credentials(ps->list[i].cred);
		if (ps->list[i].priority)
			gnutls_priority_deinit(ps->list[i].priority);
		gnutls_datum_t *k = &ps->list[i].ticket_key;
		if (k->data != NULL) {
			gnutls_memset(k->data, 0, k->size);
			gnutls_free(k->data);
		}
	}
	free(ps->list);
	ps->list = NULL;
	ps->count = 0;
}
