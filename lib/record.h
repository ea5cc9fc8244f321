/*
 * record.h - TLS record protection done in the caller's process.
 *
 * After handoffd finishes a handshake it hands over per-direction keys;
 * this module seals and opens TLS records with them.  It never does I/O
 * (BearSSL style): the caller gives it one whole record and gets one back.
 * TLS 1.3 (RFC 8446 5.2) and TLS 1.2 AEAD (RFC 5288 explicit nonce for
 * AES-GCM, RFC 7905 for ChaCha20-Poly1305) are supported, and the AES-CBC
 * + HMAC suites of TLS 1.0-1.2 (record_cbc.c) for profiles that turn the
 * old protocols on.
 */
#ifndef HANDOFF_RECORD_H
#define HANDOFF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "aead.h"

#define HO_TLS10 0x0301
#define HO_TLS11 0x0302
#define HO_TLS12 0x0303
#define HO_TLS13 0x0304

/* IANA cipher suite numbers the record layer can run. */
#define HO_TLS_AES_128_GCM_SHA256 0x1301
#define HO_TLS_AES_256_GCM_SHA384 0x1302
#define HO_TLS_CHACHA20_POLY1305_SHA256 0x1303
#define HO_TLS_ECDHE_ECDSA_AES_128_GCM_SHA256 0xC02B
#define HO_TLS_ECDHE_ECDSA_AES_256_GCM_SHA384 0xC02C
#define HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256 0xC02F
#define HO_TLS_ECDHE_RSA_AES_256_GCM_SHA384 0xC030
#define HO_TLS_ECDHE_RSA_CHACHA20_POLY1305 0xCCA8
#define HO_TLS_ECDHE_ECDSA_CHACHA20_POLY1305 0xCCA9
#define HO_TLS_RSA_AES_128_GCM_SHA256 0x009C
#define HO_TLS_RSA_AES_256_GCM_SHA384 0x009D
/* CBC + HMAC suites: only where a profile enables them (TLS 1.0/1.1
 * have nothing else). */
#define HO_TLS_ECDHE_ECDSA_AES_128_CBC_SHA 0xC009
#define HO_TLS_ECDHE_ECDSA_AES_256_CBC_SHA 0xC00A
#define HO_TLS_ECDHE_RSA_AES_128_CBC_SHA 0xC013
#define HO_TLS_ECDHE_RSA_AES_256_CBC_SHA 0xC014
#define HO_TLS_RSA_AES_128_CBC_SHA 0x002F
#define HO_TLS_RSA_AES_256_CBC_SHA 0x0035
#define HO_TLS_ECDHE_ECDSA_AES_128_CBC_SHA256 0xC023
#define HO_TLS_ECDHE_ECDSA_AES_256_CBC_SHA384 0xC024
#define HO_TLS_ECDHE_RSA_AES_128_CBC_SHA256 0xC027
#define HO_TLS_ECDHE_RSA_AES_256_CBC_SHA384 0xC028
#define HO_TLS_RSA_AES_128_CBC_SHA256 0x003C
#define HO_TLS_RSA_AES_256_CBC_SHA256 0x003D

/* TLS content types. */
#define HO_CT_CHANGE_CIPHER_SPEC 20
#define HO_CT_ALERT 21
#define HO_CT_HANDSHAKE 22
#define HO_CT_APPLICATION_DATA 23

#define HO_REC_HEADER_LEN 5
#define HO_REC_MAX_PLAIN 16384
/* Largest record body a peer may send.  TLS 1.3 allows 2^14 + 256
 * (RFC 8446 5.2); TLS 1.0-1.2 allow 2^14 + 2048 (RFC 5246 6.2.3), which a
 * full CBC record reaches with its IV, MAC and up to 256 bytes of
 * padding.  HO_REC_MAX_BODY, the larger, sizes buffers. */
#define HO_REC_MAX_BODY_TLS13 (16384 + 256)
#define HO_REC_MAX_BODY (16384 + 2048)
#define HO_REC_MAX_RECORD (HO_REC_HEADER_LEN + HO_REC_MAX_BODY)
#define HO_REC_CBC_BLOCK 16
#define HO_REC_MAX_MAC 48 /* HMAC-SHA384 */

/* Errors from ho_rec_*; each maps to the alert the caller must send. */
#define HO_REC_E_BAD_MAC (-1)  /* authentication failed: bad_record_mac */
#define HO_REC_E_OVERFLOW (-2) /* record too large: record_overflow */
/* malformed record: decode_error, or unexpected_message (all-zero inner) */
#define HO_REC_E_DECODE (-3)
#define HO_REC_E_SEQ (-4)      /* sequence number would wrap: rekey/close */
#define HO_REC_E_INTERNAL (-5) /* crypto backend failure, bad arguments */
#define HO_REC_E_SPACE (-6)    /* output buffer too small */

enum ho_rec_dir_id { HO_REC_READ = 0, HO_REC_WRITE = 1 };

/* Keys and state for one direction. */
struct ho_rec_dir {
	struct ho_aead *aead;   /* AEAD suites: keyed (aead.c), or NULL */
	gnutls_cipher_hd_t cbc; /* CBC suites: keyed handle, or NULL */
	gnutls_hmac_hd_t hmac;  /* CBC suites: keyed record MAC */
	uint8_t key[32];
	size_t key_len;
	/* TLS 1.3/ChaCha: 12-byte IV; TLS 1.2 GCM: 4-byte salt; CBC: the
	 * last ciphertext block, which is TLS 1.0's next IV (later
	 * versions send an explicit IV in each record). */
	uint8_t iv[16];
	size_t iv_len;
	uint8_t mac_key[HO_REC_MAX_MAC]; /* CBC suites: HMAC key */
	size_t mac_key_len;
	uint8_t secret[48]; /* TLS 1.3 traffic secret (for KeyUpdate) */
	size_t secret_len;
	uint64_t seq;     /* next record's sequence number */
	uint64_t records; /* records since this key was installed */
	int exhausted;    /* seq 2^64-1 was used: no record may follow */
};

/* A record layer: one per connection. */
struct ho_rec {
	uint16_t version; /* HO_TLS10 .. HO_TLS13 */
	uint16_t suite;   /* IANA number, see above */
	gnutls_cipher_algorithm_t cipher;
	gnutls_mac_algorithm_t hash; /* suite hash, for HKDF (TLS 1.3) */
	size_t key_len;              /* expected key length */
	size_t iv_len;               /* expected IV (or salt) length */
	int explicit_nonce;          /* TLS 1.2 AES-GCM: 8-byte nonce */
	int cbc;                     /* a CBC + HMAC suite (record_cbc.c) */
	gnutls_mac_algorithm_t mac;  /* CBC: the record MAC */
	size_t mac_len;              /* CBC: its output (and key) length */
	int etm;                     /* CBC: encrypt-then-MAC (RFC 7366) */
	struct ho_rec_dir dir[2];    /* indexed by enum ho_rec_dir_id */
};

/* Sets version and suite.  Returns 0, or HO_REC_E_INTERNAL if the pair is
 * not one this layer runs. */
int ho_rec_init(struct ho_rec *r, uint16_t version, uint16_t suite);

/* CBC suites: installs one direction's HMAC key (copied), before
 * ho_rec_set_keys().  Returns 0, or HO_REC_E_INTERNAL on a wrong length
 * or an AEAD suite. */
int ho_rec_set_mac_key(
    struct ho_rec *r, int dir, const uint8_t *key, size_t key_len);

/* 1 when the direction has keys installed. */
int ho_rec_ready(const struct ho_rec *r, int dir);

/* The longest record body r's version lets a peer send. */
size_t ho_rec_max_body(const struct ho_rec *r);

/* Installs keys for one direction (copied; the caller wipes its copy).
 * secret may be NULL (TLS 1.2).  Returns 0 or HO_REC_E_INTERNAL. */
int ho_rec_set_keys(struct ho_rec *r, int dir, const uint8_t *key,
    size_t key_len, const uint8_t *iv, size_t iv_len, const uint8_t *secret,
    size_t secret_len, uint64_t seq);

/* Wipes every key and frees the AEAD handles.  Safe on a zeroed struct
 * and safe to call twice. */
void ho_rec_clear(struct ho_rec *r);

/* Most bytes ho_rec_seal() writes for len bytes of plaintext and pad
 * bytes of TLS 1.3 padding (pad must be 0 before TLS 1.3); exact but for
 * TLS 1.0 CBC, where application data may take two records. */
size_t ho_rec_sealed_len(const struct ho_rec *r, size_t len, size_t pad);

/*
 * Seals one record of content type `type` (header included) into out
 * (TLS 1.0 CBC application data: two, see record_cbc.c).
 * len MUST be <= HO_REC_MAX_PLAIN; TLS 1.3 len + pad + 1 MUST be <=
 * HO_REC_MAX_PLAIN + 1.  out MUST NOT overlap plain.  Advances the write
 * sequence number.  Returns 0 and sets *out_len, or a HO_REC_E_* code.
 */
int ho_rec_seal(struct ho_rec *r, uint8_t type, const uint8_t *plain,
    size_t len, size_t pad, uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Opens one whole record (5-byte header + body, rec_len bytes), decrypting
 * in place.  On success *type is the (inner) content type, and
 * *plain and *plain_len point into rec.  Advances the read sequence number
 * only on success.  Returns 0 or a HO_REC_E_* code.
 */
int ho_rec_open(struct ho_rec *r, uint8_t *rec, size_t rec_len, uint8_t *type,
    uint8_t **plain, size_t *plain_len);

/*
 * RFC 8446 5.5: AES-GCM keys should protect at most 2^24.5 full-size
 * records; we move to the next key at 2^24, well inside the limit.
 * ChaCha20-Poly1305's limit (above 2^60) is never reached in practice.
 */
#define HO_REC_AES_GCM_RECORD_LIMIT (UINT64_C(1) << 24)

/* 1 when the direction's TLS 1.3 key has protected enough records that
 * a KeyUpdate must come before the next one. */
int ho_rec_wants_update(const struct ho_rec *r, int dir);

/* TLS 1.3 KeyUpdate for one direction: secret' = HKDF-Expand-Label(secret,
 * "traffic upd", "", Hash.len), key and IV re-derived, seq = 0.
 * Returns 0 or HO_REC_E_INTERNAL. */
int ho_rec_update(struct ho_rec *r, int dir);

/* RFC 8446 7.1 HKDF-Expand-Label.  label is given without "tls13 ".
 * Returns 0, or -1 on bad arguments or backend failure. */
int ho_hkdf_expand_label(gnutls_mac_algorithm_t hash, const uint8_t *secret,
    size_t secret_len, const char *label, const uint8_t *context,
    size_t context_len, uint8_t *out, size_t out_len);

/* Name of a suite ("TLS_AES_128_GCM_SHA256"), or NULL if unknown. */
const char *ho_rec_suite_name(uint16_t suite);

#endif /* HANDOFF_RECORD_H */
