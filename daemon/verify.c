/*
 * verify.c - certificate chains verified on request, with a cache; and
 * verification results in words, for this and the client role.
 *
 * A GnuTLS program that keeps its own handshake (handoff_gnutls.h) may
 * have handoffd verify its peer's chain against a profile's trust (its
 * trust file and CRL, or the system's CAs): a server's chain for the TLS
 * server purpose and a host name, or a client's for the TLS client
 * purpose, as a handshake through handoffd would.  Chains are public, so
 * every profile answers.  A verification costs a signature check per
 * certificate, and programs meet the same few chains again and again (a
 * backend's, a fleet's client certificates), so each result is kept,
 * keyed by a SHA-256 of profile, host name and chain, for
 * VERIFY_CACHE_TTL_MS at most and never past the first expiry in the
 * chain.  The cache is 4-way set-associative: a new result replaces the
 * least recently used one of its set.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "handoff.h"
#include "handoffd.h"

#define VERIFY_CACHE_TTL_MS 60000
#define MAX_CHAIN 16

struct cached_result {
	uint8_t key[32];
	int used;
	uint64_t expires_ms; /* monotonic */
	uint64_t last_used;  /* the cache's clock when last read or written */
	unsigned status;
};

/* Results go to one set of WAYS slots chosen by the key; within the set
 * the least recently used result makes room.  (A direct-mapped cache let
 * two chains whose keys met in one slot evict each other for ever.) */
#define WAYS 4

struct ho_verify_cache {
	uv_mutex_t lock;
	struct cached_result *slots;
	unsigned capacity;
	unsigned sets, ways; /* sets * ways <= capacity (up to 3 unused) */
	uint64_t clock;
};

struct ho_verify_cache *
ho_verify_cache_new(unsigned capacity)
{
	struct ho_verify_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->capacity = capacity;
	c->ways = capacity < WAYS ? capacity : WAYS;
	c->sets = c->ways > 0 ? capacity / c->ways : 0;
	if ((capacity > 0 &&
	        (c->slots = calloc(capacity, sizeof(*c->slots))) == NULL) ||
	    uv_mutex_init(&c->lock) != 0) {
		free(c->slots);
		free(c);
		return NULL;
	}
	return c;
}

void
ho_verify_cache_free(struct ho_verify_cache *c)
{
	if (c == NULL)
		return;
	uv_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

/* The first slot of key's set. */
static struct cached_result *
set_of(struct ho_verify_cache *c, const uint8_t *key)
{
	uint32_t i = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
	    (uint32_t)key[2] << 8 | key[3];
	return &c->slots[(i % c->sets) * c->ways];
}

/* A result still valid for key: 1 and *status, else 0. */
static int
cache_get(struct ho_verify_cache *c, const uint8_t *key, unsigned *status)
{
	if (c == NULL || c->capacity == 0)
		return 0;
	int hit = 0;
	uv_mutex_lock(&c->lock);
	struct cached_result *set = set_of(c, key);
	for (unsigned w = 0; w < c->ways && !hit; w++) {
		struct cached_result *r = &set[w];
		if (r->used && memcmp(r->key, key, sizeof(r->key)) == 0 &&
		    ho_now_ms() < r->expires_ms) {
			*status = r->status;
			r->last_used = ++c->clock;
			hit = 1;
		}
	}
	uv_mutex_unlock(&c->lock);
	return hit;
}

static void
cache_put(struct ho_verify_cache *c, const uint8_t *key, unsigned status,
    uint64_t expires_ms)
{
	if (c == NULL || c->capacity == 0)
		return;
	uv_mutex_lock(&c->lock);
	struct cached_result *set = set_of(c, key), *r = &set[0];
	/* The same key's slot (an expired result, or a race with another
	 * worker), else the least recently used: a free slot has never
	 * been used (last_used 0). */
	for (unsigned w = 0; w < c->ways; w++) {
		struct cached_result *x = &set[w];
		if (x->used && memcmp(x->key, key, sizeof(x->key)) == 0) {
			r = x;
			break;
		}
		if (x->last_used < r->last_used)
			r = x;
	}
	memcpy(r->key, key, sizeof(r->key));
	r->used = 1;
	r->status = status;
	r->expires_ms = expires_ms;
	r->last_used = ++c->clock;
	uv_mutex_unlock(&c->lock);
}

size_t
ho_verify_status_words(
    unsigned status, const char *host, char *buf, size_t len)
{
	static const struct {
		unsigned flag;
		const char *words;
	} reasons[] = {
	    {GNUTLS_CERT_SIGNER_NOT_FOUND,
	        "unknown issuer (no CA in the profile's trust file signed "
	        "it)"},
	    {GNUTLS_CERT_SIGNER_NOT_CA, "its issuer is not a CA"},
	    {GNUTLS_CERT_EXPIRED, "the certificate has expired"},
	    {GNUTLS_CERT_NOT_ACTIVATED, "the certificate is not yet valid"},
	    {GNUTLS_CERT_REVOKED, "the certificate is revoked (CRL)"},
	    {GNUTLS_CERT_UNEXPECTED_OWNER, "host name mismatch"},
	    {GNUTLS_CERT_INSECURE_ALGORITHM,
	        "it is signed with an insecure algorithm"},
	    {GNUTLS_CERT_SIGNATURE_FAILURE, "its signature does not verify"},
	    {GNUTLS_CERT_PURPOSE_MISMATCH,
	        "it is not for this use (key purpose)"},
	};
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (!(status & reasons[i].flag) || used >= len)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s",
		    used ? "; " : "", reasons[i].words);
		if (n > 0)
			used += (size_t)n;
		if (reasons[i].flag == GNUTLS_CERT_UNEXPECTED_OWNER &&
		    host != NULL && used < len) {
			n = snprintf(buf + used, len - used,
			    " (it is not valid for \"%s\")", host);
			if (n > 0)
				used += (size_t)n;
		}
	}
	if (used == 0) {
		gnutls_datum_t text = {NULL, 0};
		if (gnutls_certificate_verification_status_print(
		        status, GNUTLS_CRT_X509, &text, 0) == 0) {
			snprintf(buf, len, "%s", (const char *)text.data);
			gnutls_free(text.data);
		}
	}
	return used < len ? used : len - 1;
}

/* The chain field into crts: the count, or -1. */
static int
import_chain(const struct ho_proto_field *f, gnutls_x509_crt_t *crts)
{
	size_t pos = 0, len;
	const uint8_t *p;
	int n = 0, r;
	while (
	    (r = ho_proto_chain_next(f->ptr, f->len, &pos, &p, &len)) == 1) {
		gnutls_datum_t der = {(unsigned char *)p, (unsigned)len};
		if (n == MAX_CHAIN || gnutls_x509_crt_init(&crts[n]) < 0)
			break;
		if (gnutls_x509_crt_import(
		        crts[n], &der, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crts[n]);
			break;
		}
		n++;
	}
	if (r == 0 && n > 0)
		return n;
	for (int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return -1;
}

/* SHA-256 of what decides the result. */
static void
cache_key(const struct ho_profile *p, const char *host, int for_server,
    const struct ho_proto_field *chain, uint8_t *key)
{
	gnutls_hash_hd_t h;
	uint8_t role = for_server ? 1 : 2;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		memset(key, 0, 32); /* cannot happen; a key no result has */
		return;
	}
	gnutls_hash(h, p->name, strlen(p->name) + 1);
	gnutls_hash(h, host, strlen(host) + 1);
	gnutls_hash(h, &role, 1);
	gnutls_hash(h, chain->ptr, chain->len);
	gnutls_hash_deinit(h, key);
}

/* Verifies crts against the profile's trust; *expires_ms: the first
 * expiry in the chain, as a monotonic time. */
static unsigned
verify_now(const struct ho_profile *p, gnutls_x509_crt_t *crts, int n,
    const char *host, int for_server, uint64_t *expires_ms)
{
	gnutls_x509_trust_list_t list = NULL;
	gnutls_typed_vdata_st data[2];
	unsigned ndata = 0, status = GNUTLS_CERT_INVALID;
	data[ndata].type = GNUTLS_DT_KEY_PURPOSE_OID;
	data[ndata].data =
	    (unsigned char *)(for_server ? GNUTLS_KP_TLS_WWW_SERVER
	                                 : GNUTLS_KP_TLS_WWW_CLIENT);
	data[ndata++].size = 0;
	if (host[0] != '\0') {
		data[ndata].type = GNUTLS_DT_DNS_HOSTNAME;
		data[ndata].data = (unsigned char *)host;
		data[ndata++].size = 0;
	}
	gnutls_certificate_get_trust_list(p->cred, &list);
	if (list == NULL ||
	    gnutls_x509_trust_list_verify_crt2(
	        list, crts, (unsigned)n, data, ndata, 0, &status, NULL) < 0)
		status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND;
	time_t first = (time_t)-1, now = time(NULL);
	for (int i = 0; i < n; i++) {
		time_t t = gnutls_x509_crt_get_expiration_time(crts[i]);
		if (t != (time_t)-1 && (first == (time_t)-1 || t < first))
			first = t;
	}
	uint64_t ttl = VERIFY_CACHE_TTL_MS;
	if (first != (time_t)-1 && first > now &&
	    (uint64_t)(first - now) * 1000 < ttl)
		ttl = (uint64_t)(first - now) * 1000;
	else if (first != (time_t)-1 && first <= now)
		ttl = 0;
	*expires_ms = ho_now_ms() + ttl;
	return status;
}

int
ho_verify_answer(const struct ho_profiles *ps, struct ho_verify_cache *cache,
    const struct ho_proto_msg *req, struct ho_proto_buf *reply)
{
	char host[HO_PROTO_MAX_STR + 1] = "", why[400], words[300];
	uint8_t role = HO_ROLE_CLIENT;
	const struct ho_proto_field *chain = &req->f[HO_F_PEER_CHAIN];
	ho_proto_begin(reply, HO_MSG_VERIFY_REPLY);
	const struct ho_profile *p = ho_request_profile(ps, req, reply);
	if (p == NULL)
		return 0;
	if (!chain->present) {
		ho_reply_fail(
		    reply, HANDOFF_EPROTO, "verify request without a chain");
		return 0;
	}
	(void)ho_proto_get_str(req, HO_F_SERVER_NAME, host, sizeof(host));
	(void)ho_proto_get_u8(req, HO_F_ROLE, &role);
	/* The caller's role: a client verifies a server, and back. */
	int for_server = role != HO_ROLE_SERVER;
	uint8_t key[32];
	unsigned status;
	int hit = 0;
	cache_key(p, host, for_server, chain, key);
	if (cache_get(cache, key, &status)) {
		hit = 1;
	} else {
		gnutls_x509_crt_t crts[MAX_CHAIN];
		int n = import_chain(chain, crts);
		if (n < 0) {
			ho_reply_fail(reply, HANDOFF_EINVAL,
			    "verify request: the chain is not (3-byte length, "
			    "DER certificate)*, 1 to 16 of them");
			return 0;
		}
		uint64_t expires_ms;
		status = verify_now(p, crts, n, host, for_server, &expires_ms);
		for (int i = 0; i < n; i++)
			gnutls_x509_crt_deinit(crts[i]);
		cache_put(cache, key, status, expires_ms);
	}
	ho_proto_put_u32(reply, HO_F_VERIFY_STATUS, status);
	ho_proto_put_u8(reply, HO_F_CACHED, (uint8_t)hit);
	if (status != 0) {
		ho_verify_status_words(
		    status, host[0] ? host : NULL, words, sizeof(words));
		snprintf(why, sizeof(why), "profile %s: %s", p->name, words);
		ho_proto_put_str(reply, HO_F_ERROR_TEXT, why);
	}
	return hit;
}
