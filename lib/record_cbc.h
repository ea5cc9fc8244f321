/*
 * record_cbc.h - the CBC + HMAC half of the record layer, private to
 * record.c and record_cbc.c.  record.c keeps the public entry points and
 * the checks every suite shares; it calls in here for CBC suites.
 */
#ifndef HANDOFF_RECORD_CBC_H
#define HANDOFF_RECORD_CBC_H

#include "record.h"

/* Shared with record.c: big-endian store, and moving a direction to its
 * next sequence number (the last one exhausts the key). */
void ho_rec_store64(uint8_t *p, uint64_t v);
void ho_rec_advance(struct ho_rec_dir *d);

/* Keys the direction's cipher and HMAC handles from d->key and
 * d->mac_key.  Returns 0 or HO_REC_E_INTERNAL. */
int ho_cbc_key_dir(const struct ho_rec *r, struct ho_rec_dir *d);

/* Frees the direction's handles (the caller wipes the key bytes). */
void ho_cbc_clear_dir(struct ho_rec_dir *d);

/* Most bytes ho_cbc_seal() writes for len bytes of plaintext. */
size_t ho_cbc_sealed_len(const struct ho_rec *r, size_t len);

/* As ho_rec_seal(), once the shared checks passed. */
int ho_cbc_seal(struct ho_rec *r, uint8_t type, const uint8_t *plain,
    size_t len, uint8_t *out, size_t *out_len);

/* As ho_rec_open(), once the header length and overflow checks passed. */
int ho_cbc_open(struct ho_rec *r, uint8_t *rec, size_t rec_len, uint8_t *type,
    uint8_t **plain, size_t *plain_len);

#endif /* HANDOFF_RECORD_CBC_H */
