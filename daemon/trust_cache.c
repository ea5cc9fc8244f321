/*
 * trust_cache.c - the CA files client-role callers send, parsed once.
 *
 * A caller may verify servers against its own CAs
 * (handoff_config_set_ca_file): up to 128 KiB of PEM.  Parsing that into
 * a GnuTLS trust list costs ~44 us per certificate here, so a bundle of
 * 80 CAs cost handoffd ~3.5 ms on every full handshake, several times the
 * handshake itself.  Each distinct file, known by its SHA-256, is parsed
 * once and shared: a session takes a reference for its verification and
 * gives it back right after.
 *
 * A context sends its file with its first handshake and only the SHA-256
 * afterwards (TRUST_DIGEST), which finds the file here; one no longer
 * here is asked for again (HS_NEED_CAS, requests.c).  Only digests handoffd
 * computed itself are ever stored: a caller cannot place CAs under
 * another file's digest.
 *
 * A few files are kept (TRUST_CACHE_SLOTS); a new one takes the place of
 * the least recently used file nobody holds, and when every slot is held
 * it is parsed for that session alone.  Trust lists are only read once
 * built, as GnuTLS's credentials share theirs between sessions and
 * threads.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "handoffd.h"

#define TRUST_CACHE_SLOTS 8

struct ho_trust {
	uint8_t digest[32];
	gnutls_x509_trust_list_t list;
	unsigned refs;      /* sessions verifying with it now */
	uint64_t last_used; /* cache->clock when last taken */
	int cached;         /* in a slot; else freed at its last release */
};

struct ho_trust_cache {
	uv_mutex_t lock;
	uint64_t clock;
	struct ho_trust *slots[TRUST_CACHE_SLOTS];
};

struct ho_trust_cache *
ho_trust_cache_new(void)
{
	struct ho_trust_cache *c = calloc(1, sizeof(*c));
	if (c != NULL && uv_mutex_init(&c->lock) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void
trust_free(struct ho_trust *t)
{
	gnutls_x509_trust_list_deinit(t->list, 1);
	free(t);
}

void
ho_trust_cache_free(struct ho_trust_cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < TRUST_CACHE_SLOTS; i++)
		if (c->slots[i] != NULL)
			trust_free(c->slots[i]);
	uv_mutex_destroy(&c->lock);
	free(c);
}

/* The slot holding digest, or -1.  Under the lock. */
static int
find(struct ho_trust_cache *c, const uint8_t *digest)
{
	for (int i = 0; i < TRUST_CACHE_SLOTS; i++)
		if (c->slots[i] != NULL &&
		    memcmp(c->slots[i]->digest, digest, 32) == 0)
			return i;
	return -1;
}

/* An empty slot, else the least recently used one nobody holds (its list
 * freed), else -1.  Under the lock. */
static int
make_room(struct ho_trust_cache *c)
{
	int victim = -1;
	for (int i = 0; i < TRUST_CACHE_SLOTS; i++) {
		struct ho_trust *t = c->slots[i];
		if (t == NULL)
			return i;
		if (t->refs == 0 &&
		    (victim < 0 || t->last_used < c->slots[victim]->last_used))
			victim = i;
	}
	if (victim >= 0) {
		trust_free(c->slots[victim]);
		c->slots[victim] = NULL;
	}
	return victim;
}

static struct ho_trust *
parse(const uint8_t *pem, size_t len, const uint8_t *digest)
{
	struct ho_trust *t = calloc(1, sizeof(*t));
	gnutls_datum_t data = {(unsigned char *)pem, (unsigned)len};
	if (t == NULL)
		return NULL;
	memcpy(t->digest, digest, 32);
	if (gnutls_x509_trust_list_init(&t->list, 0) < 0) {
		free(t);
		return NULL;
	}
	/* No certificate in it is no CA to verify with: refused, and the
	 * verification fails as for an unknown issuer. */
	if (gnutls_x509_trust_list_add_trust_mem(
	        t->list, &data, NULL, GNUTLS_X509_FMT_PEM, 0, 0) <= 0) {
		trust_free(t);
		return NULL;
	}
	return t;
}

struct ho_trust *
ho_trust_find(struct ho_trust_cache *c, const uint8_t *digest)
{
	uv_mutex_lock(&c->lock);
	int i = find(c, digest);
	struct ho_trust *t = i >= 0 ? c->slots[i] : NULL;
	if (t != NULL) {
		t->refs++;
		t->last_used = ++c->clock;
	}
	uv_mutex_unlock(&c->lock);
	return t;
}

struct ho_trust *
ho_trust_get(struct ho_trust_cache *c, const uint8_t *pem, size_t len,
    const uint8_t *digest, int *parsed)
{
	*parsed = 0;
	uv_mutex_lock(&c->lock);
	int i = find(c, digest);
	if (i >= 0) {
		struct ho_trust *t = c->slots[i];
		t->refs++;
		t->last_used = ++c->clock;
		uv_mutex_unlock(&c->lock);
		return t;
	}
	uv_mutex_unlock(&c->lock);

	/* Parsed outside the lock: it takes milliseconds for a bundle. */
	struct ho_trust *t = parse(pem, len, digest);
	if (t == NULL)
		return NULL;
	*parsed = 1;
	t->refs = 1;
	uv_mutex_lock(&c->lock);
	if ((i = find(c, digest)) >= 0) {
		/* Another session parsed the same file meanwhile. */
		struct ho_trust *theirs = c->slots[i];
		theirs->refs++;
		theirs->last_used = ++c->clock;
		uv_mutex_unlock(&c->lock);
		trust_free(t);
		return theirs;
	}
	if ((i = make_room(c)) >= 0) {
		t->cached = 1;
		t->last_used = ++c->clock;
		c->slots[i] = t;
	}
	uv_mutex_unlock(&c->lock);
	return t;
}

gnutls_x509_trust_list_t
ho_trust_list(const struct ho_trust *t)
{
	return t->list;
}

void
ho_trust_release(struct ho_trust_cache *c, struct ho_trust *t)
{
	if (t == NULL)
		return;
	uv_mutex_lock(&c->lock);
	int last = --t->refs == 0 && !t->cached;
	uv_mutex_unlock(&c->lock);
	if (last)
		trust_free(t);
}
