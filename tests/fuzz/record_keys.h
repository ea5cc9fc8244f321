/*
 * record_keys.h - the fixed keys fuzz_record opens records with, shared
 * with make_seeds, which seals its seed records under the same keys.  The
 * first input byte picks one of the suites below: the AEADs of TLS 1.3
 * and 1.2, and CBC + HMAC in TLS 1.0-1.2, both MAC orders.
 */
#ifndef HANDOFF_FUZZ_RECORD_KEYS_H
#define HANDOFF_FUZZ_RECORD_KEYS_H

#include <string.h>

#include <gnutls/crypto.h>

#include "record.h"

static const struct {
	uint16_t version, suite;
	int etm; /* CBC: encrypt-then-MAC */
} fuzz_suites[] = {
    {HO_TLS13, HO_TLS_AES_128_GCM_SHA256, 0},
    {HO_TLS13, HO_TLS_AES_256_GCM_SHA384, 0},
    {HO_TLS13, HO_TLS_CHACHA20_POLY1305_SHA256, 0},
    {HO_TLS12, HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256, 0},
    {HO_TLS12, HO_TLS_ECDHE_ECDSA_AES_256_GCM_SHA384, 0},
    {HO_TLS12, HO_TLS_ECDHE_RSA_CHACHA20_POLY1305, 0},
    {HO_TLS10, HO_TLS_ECDHE_RSA_AES_128_CBC_SHA, 0},
    {HO_TLS11, HO_TLS_ECDHE_ECDSA_AES_256_CBC_SHA, 0},
    {HO_TLS12, HO_TLS_ECDHE_RSA_AES_256_CBC_SHA384, 0},
    {HO_TLS10, HO_TLS_ECDHE_RSA_AES_128_CBC_SHA, 1},
    {HO_TLS12, HO_TLS_RSA_AES_128_CBC_SHA256, 1},
};
#define FUZZ_SUITE_COUNT (sizeof(fuzz_suites) / sizeof(fuzz_suites[0]))

/* Sets up r for suite number pick with fixed keys in direction dir.
 * Returns 0 or -1. */
static int
fuzz_record_setup(struct ho_rec *r, unsigned pick, int dir)
{
	uint8_t key[32], iv[16], secret[48], mac_key[HO_REC_MAX_MAC];
	memset(r, 0, sizeof(*r));
	pick %= FUZZ_SUITE_COUNT;
	if (ho_rec_init(
	        r, fuzz_suites[pick].version, fuzz_suites[pick].suite) != 0)
		return -1;
	memset(key, 0x4b, sizeof(key));
	memset(iv, 0x17, sizeof(iv));
	memset(secret, 0x5e, sizeof(secret));
	memset(mac_key, 0x6d, sizeof(mac_key));
	r->etm = fuzz_suites[pick].etm;
	if (r->cbc && ho_rec_set_mac_key(r, dir, mac_key, r->mac_len) != 0)
		return -1;
	size_t slen =
	    r->version == HO_TLS13 ? gnutls_hmac_get_len(r->hash) : 0;
	return ho_rec_set_keys(r, dir, key, r->key_len, iv, r->iv_len,
	    slen ? secret : NULL, slen, 0);
}

#endif /* HANDOFF_FUZZ_RECORD_KEYS_H */
