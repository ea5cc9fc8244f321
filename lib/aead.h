/*
 * aead.h - one direction's AEAD for the record layer (aead.c): keyed once,
 * then one call per record with its nonce; sealing gathers the plaintext
 * from pieces into the record (no copy first), opening works in place;
 * each cipher on the backend that measured fastest.
 */
#ifndef HANDOFF_AEAD_H
#define HANDOFF_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#define HO_AEAD_NONCE_LEN 12
#define HO_AEAD_TAG_LEN 16

struct ho_aead;

/* A context for cipher (AES-128/256-GCM or ChaCha20-Poly1305) keyed with
 * key (copied into the backend), sealing when encrypt is 1, else
 * opening.  NULL on an unknown cipher, a wrong key length or no memory. */
struct ho_aead *ho_aead_new(gnutls_cipher_algorithm_t cipher,
    const uint8_t *key, size_t key_len, int encrypt);

/* Frees the context, wiping its key.  NULL does nothing. */
void ho_aead_free(struct ho_aead *a);

/* Encrypts the concatenation of the count pieces in `plain` into out,
 * followed by the 16-byte tag: out MUST have room for their total
 * length + HO_AEAD_TAG_LEN, and MUST NOT overlap any piece.
 * Returns 0, or -1 on a backend failure or an opening context. */
int ho_aead_seal(struct ho_aead *a, const uint8_t *nonce, const uint8_t *aad,
    size_t aad_len, const giovec_t *plain, int count, uint8_t *out);

/* Decrypts len bytes of data in place if tag authenticates them with
 * aad.  Returns 0, or -1 (forged or failed: data is wiped). */
int ho_aead_open(struct ho_aead *a, const uint8_t *nonce, const uint8_t *aad,
    size_t aad_len, uint8_t *data, size_t len, const uint8_t *tag);

#endif /* HANDOFF_AEAD_H */
