/*
 * profile.c - turns [profile] sections into loaded GnuTLS credentials.
 *
 * Everything that can fail on a bad file fails here, at start, with the
 * file's name: a key that cannot be read, a certificate that does not
 * match its key, a priority string GnuTLS refuses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handoffd.h"

/* Names the unreadable file, which GnuTLS's own message does not. */
static int
check_readable(const char *profile, const char *what, const char *path,
    char *err, size_t errlen)
{
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

/* SSL 3 is never allowed, whatever a priority string asks for. */
static int
refuses_ssl3(gnutls_priority_t prio)
{
	const unsigned *list = NULL;
	int n = gnutls_priority_protocol_list(prio, &list);
	for (int i = 0; i < n; i++) {
		if (list[i] == GNUTLS_SSL3)
			return 0;
	}
	return 1;
}

static int
load_one(struct ho_profile *p, const struct ho_profile_config *pc, char *err,
    size_t errlen)
{
	int ret;
	snprintf(p->name, sizeof(p->name), "%s", pc->name);
	p->client_auth = pc->client_auth;
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
	if ((ret = gnutls_certificate_allocate_credentials(&p->cred)) < 0)
		goto gnutls_fail;
	if (pc->certificate != NULL) {
		ret = gnutls_certificate_set_x509_key_file2(p->cred,
		    pc->certificate, pc->key, GNUTLS_X509_FMT_PEM, NULL, 0);
		if (ret < 0) {
			snprintf(err, errlen,
			    "profile %s: cannot load certificate %s with key "
			    "%s: %s (check that both files exist, are "
			    "readable by this user, are PEM, and belong "
			    "together)",
			    pc->name, pc->certificate, pc->key,
			    gnutls_strerror(ret));
			return -1;
		}
		p->has_certificate = 1;
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
	if (!refuses_ssl3(p->priority) || strstr(prio, "+VERS-SSL3.0")) {
		snprintf(err, errlen,
		    "profile %s: priority string \"%s\" enables SSL 3.0, "
		    "which handoffd never speaks",
		    pc->name, prio);
		return -1;
	}
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
	}
	free(ps->list);
	ps->list = NULL;
	ps->count = 0;
}
