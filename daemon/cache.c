/*
 * cache.c - client-role sessions kept for resumption.
 *
 * When handoffd completes a client handshake (TLS 1.2) or receives the
 * server's NewSessionTicket through the caller (TLS 1.3), it stores the
 * GnuTLS session data here under "profile / server name"; the next client
 * handshake from any caller process to that server resumes with it.  The
 * data holds a resumption secret, so entries are wiped when dropped.  The
 * cache is small and bounded: a linear scan over at most a few thousand
 * entries costs far less than the handshake it saves.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoffd.h"

struct cache_entry {
	/* "profile/server", "" = free */
	char key[HO_PROFILE_NAME_MAX + 1 + HO_CACHE_SERVER_KEY_MAX];
	gnutls_datum_t data; /* gnutls_session_get_data2 */
	uint64_t stored;     /* insertion order, for LRU */
};

struct ho_client_cache {
	pthread_mutex_t lock;
	struct cache_entry *entries;
	unsigned capacity;
	uint64_t clock;
};

struct ho_client_cache *
ho_cache_new(unsigned capacity)
{
	struct ho_client_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->capacity = capacity;
	if (capacity > 0 &&
	    (c->entries = calloc(capacity, sizeof(*c->entries))) == NULL) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

int
ho_cache_enabled(const struct ho_client_cache *c)
{
	return c != NULL && c->capacity > 0;
}

static void
entry_clear(struct cache_entry *e)
{
	if (e->data.data != NULL) {
		gnutls_memset(e->data.data, 0, e->data.size);
		gnutls_free(e->data.data);
	}
	memset(e, 0, sizeof(*e));
}

void
ho_cache_free(struct ho_client_cache *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->capacity; i++)
		entry_clear(&c->entries[i]);
	free(c->entries);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void
make_key(char *key, size_t len, const char *profile, const char *server)
{
	snprintf(key, len, "%s/%s", profile, server);
}

void
ho_cache_put(struct ho_client_cache *c, const char *profile,
    const char *server, const gnutls_datum_t *data)
{
	if (c == NULL || c->capacity == 0 || data->size == 0)
		return;
	char key[sizeof(c->entries[0].key)];
	make_key(key, sizeof(key), profile, server);
	uint8_t *copy = gnutls_malloc(data->size);
	if (copy == NULL)
		return; /* resumption is an optimisation: skip it */
	memcpy(copy, data->data, data->size);
	pthread_mutex_lock(&c->lock);
	/* The same server's entry, else a free one, else the oldest. */
	struct cache_entry *slot = NULL, *oldest = &c->entries[0];
	for (unsigned i = 0; i < c->capacity && slot == NULL; i++) {
		struct cache_entry *e = &c->entries[i];
		if (strcmp(e->key, key) == 0)
			slot = e;
		else if (e->key[0] == '\0' ||
		    (oldest->key[0] != '\0' && e->stored < oldest->stored))
			oldest = e;
	}
	if (slot == NULL)
		slot = oldest;
	entry_clear(slot);
	snprintf(slot->key, sizeof(slot->key), "%s", key);
	slot->data.data = copy;
	slot->data.size = data->size;
	slot->stored = ++c->clock;
	pthread_mutex_unlock(&c->lock);
}

int
ho_cache_apply(struct ho_client_cache *c, const char *profile,
    const char *server, gnutls_session_t tls)
{
	if (c == NULL || c->capacity == 0)
		return 0;
	char key[sizeof(c->entries[0].key)];
	make_key(key, sizeof(key), profile, server);
	int found = 0;
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < c->capacity; i++) {
		struct cache_entry *e = &c->entries[i];
		if (e->key[0] != '\0' && strcmp(e->key, key) == 0) {
			/* GnuTLS copies the data: the lock covers only this.
			 */
			found = gnutls_session_set_data(
			            tls, e->data.data, e->data.size) == 0;
			if (!found)
				entry_clear(e); /* stale or corrupt: drop it */
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}
