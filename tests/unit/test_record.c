/*
 * test_record.c - the caller-side record layer against published vectors
 * (RFC 8448 section 3, and 96 cross-implementation TLS 1.3 / TLS 1.2
 * records), both directions, plus its refusals: tampered records, oversize
 * records, all-zero inner plaintext, sequence exhaustion, KeyUpdate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_mini.h"
#include "record.h"

#define BUF_MAX (HO_REC_MAX_RECORD + 64)

static uint16_t
suite_by_name(const char *name)
{
	for (unsigned s = 0; s <= 0xffff; s++) {
		const char *n = ho_rec_suite_name((uint16_t)s);
		if (n != NULL && strncmp(name, n, strlen(n)) == 0 &&
		    (name[strlen(n)] == '\0' || name[strlen(n)] == ' '))
			return (uint16_t)s;
	}
	return 0;
}

/* Seals the vector's content and compares with its record, then opens
 * the record and compares with its content. */
static void
check_vector(const struct json *v, uint16_t version)
{
	static uint8_t key[32], iv[12], content[BUF_MAX], want[BUF_MAX],
	    out[BUF_MAX];
	const char *suite_name = json_str(v, "cipher_suite");
	uint16_t suite = suite_by_name(suite_name);
	uint64_t seq, type, pad = 0;
	assert_int_not_equal(suite, 0);
	assert_int_equal(json_u64(v, "seq", &seq), 0);
	assert_int_equal(json_u64(v, "content_type", &type), 0);
	json_u64(v, "padding_len", &pad); /* TLS 1.2 vectors have none */
	long kl = json_hex(json_str(v, "key"), key, sizeof(key));
	long il = json_hex(json_str(v, "iv"), iv, sizeof(iv));
	long cl = json_hex(json_str(v, "content"), content, sizeof(content));
	long wl = json_hex(json_str(v, "record"), want, sizeof(want));
	assert_true(kl > 0 && il > 0 && cl >= 0 && wl > 0);

	struct ho_rec w, r;
	assert_int_equal(ho_rec_init(&w, version, suite), 0);
	assert_int_equal(ho_rec_init(&r, version, suite), 0);
	assert_int_equal(ho_rec_set_keys(&w, HO_REC_WRITE, key, (size_t)kl, iv,
	                     (size_t)il, NULL, 0, seq),
	    0);
	assert_int_equal(ho_rec_set_keys(&r, HO_REC_READ, key, (size_t)kl, iv,
	                     (size_t)il, NULL, 0, seq),
	    0);
	size_t out_len = 0;
	assert_int_equal(
	    ho_rec_sealed_len(&w, (size_t)cl, (size_t)pad), (size_t)wl);
	assert_int_equal(ho_rec_seal(&w, (uint8_t)type, content, (size_t)cl,
	                     (size_t)pad, out, sizeof(out), &out_len),
	    0);
	assert_int_equal(out_len, (size_t)wl);
	assert_memory_equal(out, want, (size_t)wl);

	uint8_t t, *plain;
	size_t plain_len;
	assert_int_equal(
	    ho_rec_open(&r, want, (size_t)wl, &t, &plain, &plain_len), 0);
	assert_int_equal(t, type);
	assert_int_equal(plain_len, (size_t)cl);
	if (cl > 0)
		assert_memory_equal(plain, content, (size_t)cl);
	ho_rec_clear(&w);
	ho_rec_clear(&r);
}

static void
test_rfc8448_records(void **state)
{
	struct json *doc = json_load(VECTORS_DIR "/rfc8448_sec3_records.json");
	assert_non_null(doc);
	int n = 0;
	for (const struct json *v = json_get(doc, "records")->child; v;
	     v = v->next, n++)
		check_vector(v, HO_TLS13);
	assert_true(n >= 4);
	json_free(doc);
}

static void
test_crosscheck_records(void **state)
{
	struct json *doc =
	    json_load(VECTORS_DIR "/tls_record_crosscheck_vectors.json");
	assert_non_null(doc);
	int n13 = 0, n12 = 0;
	for (const struct json *v = json_get(doc, "vectors")->child; v;
	     v = v->next) {
		int is13 = strcmp(json_str(v, "version"), "TLS1.3") == 0;
		check_vector(v, is13 ? HO_TLS13 : HO_TLS12);
		is13 ? n13++ : n12++;
	}
	assert_int_equal(n13, 48);
	assert_int_equal(n12, 48);
	json_free(doc);
}

/* A writer and a reader sharing fresh keys for suite. */
static void
pair(struct ho_rec *w, struct ho_rec *r, uint16_t version, uint16_t suite)
{
	uint8_t key[32], iv[12], secret[48];
	memset(key, 0x21, sizeof(key));
	memset(iv, 0x43, sizeof(iv));
	memset(secret, 0x65, sizeof(secret));
	assert_int_equal(ho_rec_init(w, version, suite), 0);
	assert_int_equal(ho_rec_init(r, version, suite), 0);
	size_t sl =
	    version == HO_TLS13 ? (size_t)gnutls_hmac_get_len(w->hash) : 0;
	assert_int_equal(ho_rec_set_keys(w, HO_REC_WRITE, key, w->key_len, iv,
	                     w->iv_len, sl ? secret : NULL, sl, 0),
	    0);
	assert_int_equal(ho_rec_set_keys(r, HO_REC_READ, key, r->key_len, iv,
	                     r->iv_len, sl ? secret : NULL, sl, 0),
	    0);
}

static void
test_tampering_detected(void **state)
{
	static const uint16_t suites[][2] = {
	    {HO_TLS13, HO_TLS_AES_128_GCM_SHA256},
	    {HO_TLS13, HO_TLS_CHACHA20_POLY1305_SHA256},
	    {HO_TLS12, HO_TLS_ECDHE_RSA_AES_256_GCM_SHA384},
	    {HO_TLS12, HO_TLS_ECDHE_ECDSA_CHACHA20_POLY1305}};
	for (size_t s = 0; s < 4; s++) {
		struct ho_rec w, r;
		pair(&w, &r, suites[s][0], suites[s][1]);
		uint8_t rec[128], copy[128], t, *p;
		size_t len, pl;
		assert_int_equal(ho_rec_seal(&w, HO_CT_APPLICATION_DATA,
		                     (const uint8_t *)"hello", 5, 0, rec,
		                     sizeof(rec), &len),
		    0);
		/* Flip one bit anywhere after the length: header type and
		 * version bytes, ciphertext and tag are all authenticated. */
		for (size_t i = 0; i < len; i++) {
			if (i == 3 || i == 4)
				continue; /* length bytes change the framing */
			memcpy(copy, rec, len);
			copy[i] ^= 0x01;
			int e = ho_rec_open(&r, copy, len, &t, &p, &pl);
			assert_true(
			    e == HO_REC_E_BAD_MAC || e == HO_REC_E_DECODE);
			assert_true(r.dir[HO_REC_READ].seq == 0);
		}
		assert_int_equal(ho_rec_open(&r, rec, len, &t, &p, &pl), 0);
		assert_int_equal(r.dir[HO_REC_READ].seq, 1);
		/* A replayed record fails: the sequence number moved on. */
		memcpy(copy, rec, len);
		assert_int_equal(
		    ho_rec_open(&r, copy, len, &t, &p, &pl), HO_REC_E_BAD_MAC);
		ho_rec_clear(&w);
		ho_rec_clear(&r);
	}
}

static void
test_sizes_refused(void **state)
{
	struct ho_rec w, r;
	pair(&w, &r, HO_TLS13, HO_TLS_AES_128_GCM_SHA256);
	static uint8_t big[HO_REC_MAX_PLAIN + 1], out[BUF_MAX];
	size_t len;
	uint8_t t, *p;
	size_t pl;
	assert_int_equal(ho_rec_seal(&w, HO_CT_APPLICATION_DATA, big,
	                     sizeof(big), 0, out, sizeof(out), &len),
	    HO_REC_E_INTERNAL);
	assert_int_equal(ho_rec_seal(&w, HO_CT_APPLICATION_DATA, big,
	                     HO_REC_MAX_PLAIN, 0, out, 100, &len),
	    HO_REC_E_SPACE);
	assert_int_equal(ho_rec_seal(&w, HO_CT_APPLICATION_DATA, big,
	                     HO_REC_MAX_PLAIN, 0, out, sizeof(out), &len),
	    0);
	assert_int_equal(len, HO_REC_HEADER_LEN + HO_REC_MAX_PLAIN + 17);
	assert_int_equal(ho_rec_open(&r, out, len, &t, &p, &pl), 0);
	assert_int_equal(pl, HO_REC_MAX_PLAIN);

	/* A body over 2^14 + 256 is record_overflow, before any crypto. */
	size_t body = HO_REC_MAX_BODY_TLS13 + 1;
	out[0] = 23, out[1] = 3, out[2] = 3;
	out[3] = (uint8_t)(body >> 8), out[4] = (uint8_t)body;
	assert_int_equal(
	    ho_rec_open(&r, out, HO_REC_HEADER_LEN + body, &t, &p, &pl),
	    HO_REC_E_OVERFLOW);
	/* Shorter than a tag. */
	out[3] = 0, out[4] = 10;
	assert_int_equal(
	    ho_rec_open(&r, out, 15, &t, &p, &pl), HO_REC_E_BAD_MAC);
	/* Length field that disagrees with what was passed. */
	assert_int_equal(
	    ho_rec_open(&r, out, 14, &t, &p, &pl), HO_REC_E_DECODE);
	ho_rec_clear(&w);
	ho_rec_clear(&r);
}

/* TLS 1.2 allows record bodies up to 2^14 + 2048 (RFC 5246 6.2.3; a CBC
 * record may need more than TLS 1.3's 2^14 + 256, test_record_cbc opens
 * one), one more is record_overflow before any crypto.  An AEAD record
 * over TLS 1.3's limit holds more than 2^14 bytes of plaintext: also
 * record_overflow. */
static void
test_tls12_body_limit(void **state)
{
	(void)state;
	struct ho_rec w, r;
	pair(&w, &r, HO_TLS12, HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256);
	static uint8_t out[HO_REC_HEADER_LEN + HO_REC_MAX_BODY + 1];
	uint8_t t, *p;
	size_t pl;
	assert_int_equal(ho_rec_max_body(&r), 16384 + 2048);
	size_t bodies[] = {HO_REC_MAX_BODY_TLS13 + 1, HO_REC_MAX_BODY + 1};
	for (size_t i = 0; i < 2; i++) {
		out[0] = 23, out[1] = 3, out[2] = 3;
		out[3] = (uint8_t)(bodies[i] >> 8);
		out[4] = (uint8_t)bodies[i];
		assert_int_equal(
		    ho_rec_open(
		        &r, out, HO_REC_HEADER_LEN + bodies[i], &t, &p, &pl),
		    HO_REC_E_OVERFLOW);
	}
	ho_rec_clear(&w);
	ho_rec_clear(&r);
	pair(&w, &r, HO_TLS13, HO_TLS_AES_128_GCM_SHA256);
	assert_int_equal(ho_rec_max_body(&r), 16384 + 256);
	ho_rec_clear(&w);
	ho_rec_clear(&r);
}

static void
test_all_zero_inner_plaintext(void **state)
{
	/* Build a record whose inner plaintext is only zeros by sealing
	 * "type 0": TLS 1.3 must refuse it after decryption. */
	struct ho_rec w, r;
	pair(&w, &r, HO_TLS13, HO_TLS_AES_256_GCM_SHA384);
	uint8_t out[64], t, *p;
	size_t len, pl;
	assert_int_equal(ho_rec_seal(&w, 0, (const uint8_t *)"", 0, 3, out,
	                     sizeof(out), &len),
	    0);
	assert_int_equal(
	    ho_rec_open(&r, out, len, &t, &p, &pl), HO_REC_E_DECODE);
	ho_rec_clear(&w);
	ho_rec_clear(&r);
}

static void
test_sequence_exhaustion(void **state)
{
	struct ho_rec w, r;
	uint8_t key[16] = {1}, iv[12] = {2}, out[64], t, *p;
	size_t len, pl;
	assert_int_equal(
	    ho_rec_init(&w, HO_TLS13, HO_TLS_AES_128_GCM_SHA256), 0);
	assert_int_equal(
	    ho_rec_init(&r, HO_TLS13, HO_TLS_AES_128_GCM_SHA256), 0);
	ho_rec_set_keys(
	    &w, HO_REC_WRITE, key, 16, iv, 12, NULL, 0, UINT64_MAX - 1);
	ho_rec_set_keys(
	    &r, HO_REC_READ, key, 16, iv, 12, NULL, 0, UINT64_MAX - 1);
	for (int i = 0; i < 2; i++) { /* 2^64-2 and 2^64-1 are usable */
		assert_int_equal(ho_rec_seal(&w, 23, (const uint8_t *)"x", 1,
		                     0, out, sizeof(out), &len),
		    0);
		assert_int_equal(ho_rec_open(&r, out, len, &t, &p, &pl), 0);
	}
	/* The next one would reuse a nonce. */
	assert_int_equal(ho_rec_seal(&w, 23, (const uint8_t *)"x", 1, 0, out,
	                     sizeof(out), &len),
	    HO_REC_E_SEQ);
	assert_int_equal(ho_rec_open(&r, out, len, &t, &p, &pl), HO_REC_E_SEQ);
	ho_rec_clear(&w);
	ho_rec_clear(&r);
}

static void
test_key_update(void **state)
{
	struct ho_rec w, r, stale, unused;
	pair(&w, &r, HO_TLS13, HO_TLS_CHACHA20_POLY1305_SHA256);
	/* A reader that misses the KeyUpdate. */
	pair(&unused, &stale, HO_TLS13, HO_TLS_CHACHA20_POLY1305_SHA256);
	ho_rec_clear(&unused);
	uint8_t expect[48], old[48];
	size_t hl = w.dir[HO_REC_WRITE].secret_len;
	memcpy(old, w.dir[HO_REC_WRITE].secret, hl);
	assert_int_equal(ho_hkdf_expand_label(w.hash, old, hl, "traffic upd",
	                     NULL, 0, expect, hl),
	    0);

	assert_int_equal(ho_rec_update(&w, HO_REC_WRITE), 0);
	assert_int_equal(ho_rec_update(&r, HO_REC_READ), 0);
	assert_memory_equal(w.dir[HO_REC_WRITE].secret, expect, hl);
	assert_memory_not_equal(w.dir[HO_REC_WRITE].secret, old, hl);
	assert_int_equal(w.dir[HO_REC_WRITE].seq, 0);

	uint8_t out[64], copy[64], t, *p;
	size_t len, pl;
	assert_int_equal(ho_rec_seal(&w, 23, (const uint8_t *)"after", 5, 0,
	                     out, sizeof(out), &len),
	    0);
	memcpy(copy, out, len);
	assert_int_equal(
	    ho_rec_open(&stale, copy, len, &t, &p, &pl), HO_REC_E_BAD_MAC);
	assert_int_equal(ho_rec_open(&r, out, len, &t, &p, &pl), 0);
	assert_int_equal(pl, 5);
	assert_memory_equal(p, "after", 5);
	/* TLS 1.2 has no KeyUpdate. */
	struct ho_rec w12, r12;
	pair(&w12, &r12, HO_TLS12, HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256);
	assert_int_equal(ho_rec_update(&w12, HO_REC_WRITE), HO_REC_E_INTERNAL);
	ho_rec_clear(&w12);
	ho_rec_clear(&r12);
	ho_rec_clear(&w);
	ho_rec_clear(&r);
	ho_rec_clear(&stale);
}

/* RFC 8446 5.5: an AES-GCM key is retired after 2^24 records, in time
 * for its 2^24.5 limit; ChaCha20-Poly1305 and TLS 1.2 never ask. */
static void
test_usage_limit(void **state)
{
	(void)state;
	struct ho_rec w, r;
	pair(&w, &r, HO_TLS13, HO_TLS_AES_128_GCM_SHA256);
	w.dir[HO_REC_WRITE].records = HO_REC_AES_GCM_RECORD_LIMIT - 1;
	assert_int_equal(ho_rec_wants_update(&w, HO_REC_WRITE), 0);
	uint8_t out[64];
	size_t len;
	assert_int_equal(ho_rec_seal(&w, 23, (const uint8_t *)"x", 1, 0, out,
	                     sizeof(out), &len),
	    0);
	assert_int_equal(ho_rec_wants_update(&w, HO_REC_WRITE), 1);
	assert_int_equal(ho_rec_wants_update(&w, HO_REC_READ), 0);
	assert_int_equal(ho_rec_update(&w, HO_REC_WRITE), 0);
	assert_int_equal(ho_rec_wants_update(&w, HO_REC_WRITE), 0);
	ho_rec_clear(&w);
	ho_rec_clear(&r);

	pair(&w, &r, HO_TLS13, HO_TLS_CHACHA20_POLY1305_SHA256);
	w.dir[HO_REC_WRITE].records = HO_REC_AES_GCM_RECORD_LIMIT * 4;
	assert_int_equal(ho_rec_wants_update(&w, HO_REC_WRITE), 0);
	ho_rec_clear(&w);
	ho_rec_clear(&r);
	pair(&w, &r, HO_TLS12, HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256);
	w.dir[HO_REC_WRITE].records = HO_REC_AES_GCM_RECORD_LIMIT * 4;
	assert_int_equal(ho_rec_wants_update(&w, HO_REC_WRITE), 0);
	ho_rec_clear(&w);
	ho_rec_clear(&r);
}

static void
test_clear_wipes(void **state)
{
	struct ho_rec w, r;
	pair(&w, &r, HO_TLS13, HO_TLS_AES_256_GCM_SHA384);
	ho_rec_clear(&w);
	ho_rec_clear(&w); /* twice is safe */
	const uint8_t *bytes = (const uint8_t *)&w;
	for (size_t i = 0; i < sizeof(w); i++)
		assert_int_equal(bytes[i], 0);
	ho_rec_clear(&r);
}

static void
test_bad_setup_refused(void **state)
{
	struct ho_rec r;
	uint8_t key[32] = {0}, iv[12] = {0};
	assert_int_equal(ho_rec_init(&r, HO_TLS13, 0x1304), HO_REC_E_INTERNAL);
	assert_int_equal(ho_rec_init(&r, HO_TLS12, HO_TLS_AES_128_GCM_SHA256),
	    HO_REC_E_INTERNAL);
	assert_int_equal(
	    ho_rec_init(&r, HO_TLS13, HO_TLS_AES_128_GCM_SHA256), 0);
	assert_int_equal(
	    ho_rec_set_keys(&r, HO_REC_READ, key, 32, iv, 12, NULL, 0, 0),
	    HO_REC_E_INTERNAL); /* AES-128 takes 16 bytes */
	assert_int_equal(
	    ho_rec_set_keys(&r, HO_REC_READ, key, 16, iv, 4, NULL, 0, 0),
	    HO_REC_E_INTERNAL);
	assert_null(ho_rec_suite_name(0x0005));
	ho_rec_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc8448_records),
	    cmocka_unit_test(test_crosscheck_records),
	    cmocka_unit_test(test_tampering_detected),
	    cmocka_unit_test(test_sizes_refused),
	    cmocka_unit_test(test_tls12_body_limit),
	    cmocka_unit_test(test_all_zero_inner_plaintext),
	    cmocka_unit_test(test_sequence_exhaustion),
	    cmocka_unit_test(test_key_update),
	    cmocka_unit_test(test_usage_limit),
	    cmocka_unit_test(test_clear_wipes),
	    cmocka_unit_test(test_bad_setup_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
