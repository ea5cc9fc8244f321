/*
 * session.c - the table of handshakes in progress, keyed by token.
 *
 * Tokens are 128 random bits from GnuTLS's key-grade generator: nanomsg
 * cannot tell the daemon who a peer is, so holding the token is what
 * proves a request belongs to a session.  Lookups compare tokens in
 * constant time, and an unknown token and an expired one get the same
 * answer from the server.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "handoffd.h"
#include "wipe.h"

int
ho_sessions_init(struct ho_session_table *t, unsigned expected)
{
	size_t n = 64;
	while (n < expected)
		n *= 2;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (t->buckets == NULL)
		return -1;
	t->nbuckets = n;
	t->count = 0;
	return 0;
}

static size_t
bucket_index(const struct ho_session_table *t, const uint8_t *token)
{
	/* Tokens are uniformly random, so their first bytes hash well. */
	uint64_t h;
	memcpy(&h, token, sizeof(h));
	return (size_t)(h & (t->nbuckets - 1));
}

static int
token_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;
	for (int i = 0; i < HO_PROTO_TOKEN_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

struct ho_session *
ho_session_new(struct ho_session_table *t, const struct ho_profile *profile)
{
	struct ho_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	if (gnutls_rnd(GNUTLS_RND_KEY, s->token, sizeof(s->token)) != 0) {
		free(s);
		return NULL;
	}
	s->profile = profile;
	s->last_used_ms = ho_now_ms();
	size_t i = bucket_index(t, s->token);
	s->next = t->buckets[i];
	t->buckets[i] = s;
	t->count++;
	return s;
}

struct ho_session *
ho_session_find(struct ho_session_table *t, const uint8_t *token)
{
	for (struct ho_session *s = t->buckets[bucket_index(t, token)]; s;
	     s = s->next) {
		if (token_equal(s->token, token))
			return s;
	}
	return NULL;
}

static void
session_free(struct ho_session *s)
{
	ho_handshake_free(s);
	ho_buf_free(&s->in);
	ho_buf_free(&s->out);
	ho_buf_free(&s->trust_pem);
	if (s->held_trust != NULL)
		ho_trust_release(s->trust_cache, s->held_trust);
	ho_wipe(s, sizeof(*s));
	free(s);
}

void
ho_session_destroy(struct ho_session_table *t, struct ho_session *s)
{
	struct ho_session **pp = &t->buckets[bucket_index(t, s->token)];
	while (*pp != NULL && *pp != s)
		pp = &(*pp)->next;
	if (*pp == s) {
		*pp = s->next;
		t->count--;
	}
	session_free(s);
}

unsigned
ho_sessions_expire(
    struct ho_session_table *t, uint64_t now_ms, uint64_t timeout_ms)
{
	unsigned n = 0;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ho_session **pp = &t->buckets[i];
		while (*pp != NULL) {
			struct ho_session *s = *pp;
			uint64_t limit = s->awaiting_ticket &&
			        timeout_ms > HO_TICKET_WAIT_MS
			    ? HO_TICKET_WAIT_MS
			    : timeout_ms;
			if (!s->busy && now_ms - s->last_used_ms >= limit) {
				*pp = s->next;
				t->count--;
				session_free(s);
				n++;
			} else {
				pp = &s->next;
			}
		}
	}
	return n;
}

void
ho_sessions_free(struct ho_session_table *t)
{
	for (size_t i = 0; t->buckets != NULL && i < t->nbuckets; i++) {
		while (t->buckets[i] != NULL) {
			struct ho_session *s = t->buckets[i];
			t->buckets[i] = s->next;
			/* A busy session belongs to a worker still running;
			 * only reached at exit, when the process ends. */
			if (!s->busy)
				session_free(s);
		}
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}
