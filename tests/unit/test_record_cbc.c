/*
 * test_record_cbc.c - the CBC + HMAC records of TLS 1.0-1.2 (record_cbc.c).
 *
 * Records sealed by the record layer are taken apart here with GnuTLS's
 * raw AES-CBC and HMAC and checked against RFC 5246 6.2.3.2 (and RFC 7366
 * for encrypt-then-MAC, RFC 2246 for TLS 1.0's chained IVs); records built
 * here by hand, some with a bad MAC or bad padding, are fed to the
 * opening side.  The real peers (openssl, gnutls) are in
 * tests/integration/legacy_tls.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"

#define BLOCK 16

static const uint8_t KEY[32] = {0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30};
static const uint8_t IV[BLOCK] = {0x43, 0x44, 0x45};
static uint8_t MAC_KEY[HO_REC_MAX_MAC] = {0x65, 0x66, 0x67};

struct cbc_case {
	uint16_t version, suite;
	int etm;
};

static const struct cbc_case cases[] = {
    {HO_TLS10, HO_TLS_ECDHE_RSA_AES_128_CBC_SHA, 0},
    {HO_TLS10, HO_TLS_ECDHE_ECDSA_AES_256_CBC_SHA, 1},
    {HO_TLS11, HO_TLS_RSA_AES_128_CBC_SHA, 0},
    {HO_TLS11, HO_TLS_ECDHE_RSA_AES_256_CBC_SHA, 1},
    {HO_TLS12, HO_TLS_ECDHE_ECDSA_AES_128_CBC_SHA256, 0},
    {HO_TLS12, HO_TLS_ECDHE_RSA_AES_256_CBC_SHA384, 1},
    {HO_TLS12, HO_TLS_RSA_AES_256_CBC_SHA256, 0},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void
setup_dir(struct ho_rec *r, const struct cbc_case *c, int dir)
{
	assert_int_equal(ho_rec_init(r, c->version, c->suite), 0);
	assert_true(r->cbc);
	r->etm = c->etm;
	assert_int_equal(ho_rec_set_mac_key(r, dir, MAC_KEY, r->mac_len), 0);
	assert_int_equal(
	    ho_rec_set_keys(r, dir, KEY, r->key_len, IV, BLOCK, NULL, 0, 0),
	    0);
}

/* HMAC(seq || type || version || length || data), by hand. */
static void
expected_mac(const struct ho_rec *r, uint64_t seq, uint8_t type,
    const uint8_t *data, size_t len, uint8_t *out)
{
	uint8_t h[13];
	for (int i = 7; i >= 0; i--, seq >>= 8)
		h[i] = (uint8_t)seq;
	h[8] = type;
	h[9] = (uint8_t)(r->version >> 8);
	h[10] = (uint8_t)r->version;
	h[11] = (uint8_t)(len >> 8);
	h[12] = (uint8_t)len;
	gnutls_hmac_hd_t hm;
	assert_int_equal(
	    gnutls_hmac_init(&hm, r->mac, MAC_KEY, r->mac_len), 0);
	gnutls_hmac(hm, h, sizeof(h));
	gnutls_hmac(hm, data, len);
	gnutls_hmac_deinit(hm, out);
}

static void
cbc(const struct ho_rec *r, int enc, const uint8_t *iv, uint8_t *p, size_t n)
{
	gnutls_cipher_hd_t h;
	gnutls_datum_t k = {(void *)KEY, (unsigned)r->key_len};
	gnutls_datum_t v = {(void *)iv, BLOCK};
	assert_int_equal(gnutls_cipher_init(&h, r->cipher, &k, &v), 0);
	if (enc)
		assert_int_equal(gnutls_cipher_encrypt(h, p, n), 0);
	else
		assert_int_equal(gnutls_cipher_decrypt(h, p, n), 0);
	gnutls_cipher_deinit(h);
}

/*
 * Takes one sealed record apart by hand and checks every part: header,
 * IV, padding, MAC.  *chain is the IV TLS 1.0 expects (updated).  Returns
 * the record's length.
 */
static size_t
check_sealed(const struct ho_rec *r, const uint8_t *rec, uint64_t seq,
    uint8_t type, const uint8_t *plain, size_t len, uint8_t *chain)
{
	uint8_t buf[HO_REC_MAX_RECORD], mac[HO_REC_MAX_MAC];
	size_t body = (size_t)rec[3] << 8 | rec[4];
	size_t ex = r->version >= HO_TLS11 ? BLOCK : 0;
	size_t tail = r->etm ? r->mac_len : 0;
	assert_int_equal(rec[0], type);
	assert_int_equal(rec[1] << 8 | rec[2], r->version);
	assert_int_equal((body - ex - tail) % BLOCK, 0);
	memcpy(buf, rec + 5, body);
	const uint8_t *iv = ex ? buf : chain;
	uint8_t *ct = buf + ex;
	size_t ct_len = body - ex - tail;
	uint8_t next[BLOCK];
	memcpy(next, ct + ct_len - BLOCK, BLOCK);
	if (r->etm) {
		expected_mac(r, seq, type, buf, ex + ct_len, mac);
		assert_memory_equal(mac, buf + ex + ct_len, r->mac_len);
	}
	cbc(r, 0, iv, ct, ct_len);
	size_t pad = ct[ct_len - 1];
	for (size_t i = 0; i <= pad; i++)
		assert_int_equal(ct[ct_len - 1 - i], pad);
	assert_int_equal(ct_len - pad - 1, len + (r->etm ? 0 : r->mac_len));
	assert_memory_equal(ct, plain, len);
	if (!r->etm) {
		expected_mac(r, seq, type, plain, len, mac);
		assert_memory_equal(mac, ct + len, r->mac_len);
	}
	memcpy(chain, next, BLOCK);
	return 5 + body;
}

static void
test_sealed_records_follow_the_rfcs(void **state)
{
	(void)state;
	static uint8_t data[HO_REC_MAX_PLAIN], out[2 * HO_REC_MAX_RECORD];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	static const size_t lens[] = {
	    0, 1, 15, 16, 17, 1000, HO_REC_MAX_PLAIN};
	for (size_t c = 0; c < NCASES; c++) {
		struct ho_rec w;
		memset(&w, 0, sizeof(w));
		setup_dir(&w, &cases[c], HO_REC_WRITE);
		uint8_t chain[BLOCK];
		memcpy(chain, IV, BLOCK);
		uint64_t seq = 0;
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			size_t n, len = lens[l];
			assert_int_equal(
			    ho_rec_seal(&w, HO_CT_APPLICATION_DATA, data, len,
			        0, out, sizeof(out), &n),
			    0);
			assert_true(n <= ho_rec_sealed_len(&w, len, 0));
			size_t off = 0;
			if (w.version == HO_TLS10 && len > 1) {
				/* 1/n-1 split: the first byte alone. */
				off = check_sealed(&w, out, seq++,
				    HO_CT_APPLICATION_DATA, data, 1, chain);
				off += check_sealed(&w, out + off, seq++,
				    HO_CT_APPLICATION_DATA, data + 1, len - 1,
				    chain);
			} else {
				off = check_sealed(&w, out, seq++,
				    HO_CT_APPLICATION_DATA, data, len, chain);
			}
			assert_int_equal(off, n);
			assert_int_equal(w.dir[HO_REC_WRITE].seq, seq);
		}
		/* Alerts are never split. */
		size_t n;
		uint8_t alert[2] = {1, 0};
		assert_int_equal(ho_rec_seal(&w, HO_CT_ALERT, alert, 2, 0, out,
		                     sizeof(out), &n),
		    0);
		assert_int_equal(
		    check_sealed(&w, out, seq, HO_CT_ALERT, alert, 2, chain),
		    n);
		ho_rec_clear(&w);
	}
}

static void
test_round_trip_and_tampering(void **state)
{
	(void)state;
	for (size_t c = 0; c < NCASES; c++) {
		struct ho_rec w, r;
		memset(&w, 0, sizeof(w));
		memset(&r, 0, sizeof(r));
		setup_dir(&w, &cases[c], HO_REC_WRITE);
		setup_dir(&r, &cases[c], HO_REC_READ);
		uint8_t rec[256], copy[256], t, *p;
		size_t len, pl;
		/* Two records first, so TLS 1.0's chained IV moves on. */
		for (int i = 0; i < 2; i++) {
			assert_int_equal(ho_rec_seal(&w, HO_CT_HANDSHAKE,
			                     (const uint8_t *)"warm-up", 7, 0,
			                     rec, sizeof(rec), &len),
			    0);
			assert_int_equal(
			    ho_rec_open(&r, rec, len, &t, &p, &pl), 0);
			assert_int_equal(pl, 7);
			assert_memory_equal(p, "warm-up", 7);
		}
		assert_int_equal(
		    ho_rec_seal(&w, HO_CT_ALERT, (const uint8_t *)"\x01\x00",
		        2, 0, rec, sizeof(rec), &len),
		    0);
		/* Any flipped bit but the length's: bad_record_mac (or, for
		 * the version bytes, decode_error), and nothing consumed. */
		for (size_t i = 0; i < len; i++) {
			if (i == 3 || i == 4)
				continue;
			for (int bit = 0; bit < 8; bit += 7) {
				memcpy(copy, rec, len);
				copy[i] ^= (uint8_t)(1 << bit);
				int e =
				    ho_rec_open(&r, copy, len, &t, &p, &pl);
				if (i == 1 || i == 2)
					assert_int_equal(e, HO_REC_E_DECODE);
				else
					assert_int_equal(e, HO_REC_E_BAD_MAC);
				assert_int_equal(r.dir[HO_REC_READ].seq, 2);
			}
		}
		/* Cut to a non-block length or below the minimum. */
		for (size_t cut = 1; cut < 40 && cut < len - 5; cut += 5) {
			memcpy(copy, rec, len);
			size_t body = len - 5 - cut;
			copy[3] = (uint8_t)(body >> 8);
			copy[4] = (uint8_t)body;
			assert_int_equal(
			    ho_rec_open(&r, copy, len - cut, &t, &p, &pl),
			    HO_REC_E_BAD_MAC);
		}
		assert_int_equal(ho_rec_open(&r, rec, len, &t, &p, &pl), 0);
		assert_int_equal(t, HO_CT_ALERT);
		assert_int_equal(pl, 2);
		/* Replayed: the sequence number moved on. */
		assert_int_equal(
		    ho_rec_open(&r, rec, len, &t, &p, &pl), HO_REC_E_BAD_MAC);
		ho_rec_clear(&w);
		ho_rec_clear(&r);
	}
}

/*
 * MAC-then-encrypt records built by hand with the padding given: pad_len
 * bytes of value pad_len, or one wrong byte at distance `wrong` from the
 * end (0 = none).  Returns the record's length.
 */
static size_t
hand_record(const struct ho_rec *r, uint8_t *rec, const uint8_t *data,
    size_t len, size_t pad_len, size_t wrong, int bad_mac)
{
	size_t ex = r->version >= HO_TLS11 ? BLOCK : 0;
	uint8_t *iv = rec + 5, *ct = iv + ex;
	memset(iv, 0x77, ex);
	memcpy(ct, data, len);
	expected_mac(r, 0, HO_CT_APPLICATION_DATA, data, len, ct + len);
	if (bad_mac)
		ct[len] ^= 0x80;
	size_t n = len + r->mac_len;
	memset(ct + n, (int)pad_len, pad_len + 1);
	n += pad_len + 1;
	if (wrong > 0)
		ct[n - 1 - wrong] ^= 0x01;
	assert_int_equal(n % BLOCK, 0);
	cbc(r, 1, ex ? iv : IV, ct, n);
	size_t body = ex + n;
	rec[0] = HO_CT_APPLICATION_DATA;
	rec[1] = (uint8_t)(r->version >> 8);
	rec[2] = (uint8_t)r->version;
	rec[3] = (uint8_t)(body >> 8);
	rec[4] = (uint8_t)body;
	return 5 + body;
}

static void
test_padding_checked_in_full(void **state)
{
	(void)state;
	/* SHA-1: 20-byte MAC.  12 + 20 + 1 + pad is a block multiple for
	 * pad = 15, 31, ..., 255: the longest legal padding included. */
	const struct cbc_case *c = &cases[2]; /* TLS 1.1, MAC-then-encrypt */
	uint8_t data[12], rec[512], t, *p;
	memset(data, 'd', sizeof(data));
	size_t pl;
	for (size_t pad = 15; pad <= 255; pad += 16) {
		struct ho_rec r;
		memset(&r, 0, sizeof(r));
		setup_dir(&r, c, HO_REC_READ);
		size_t n = hand_record(&r, rec, data, 12, pad, 0, 0);
		assert_int_equal(ho_rec_open(&r, rec, n, &t, &p, &pl), 0);
		assert_int_equal(pl, 12);
		assert_memory_equal(p, data, 12);
		ho_rec_clear(&r);
		/* One wrong padding byte anywhere, the MAC good, or the
		 * padding good and the MAC bad: the same refusal. */
		size_t wrongs[] = {1, pad / 2 + 1, pad};
		for (size_t w = 0; w < 3; w++) {
			setup_dir(&r, c, HO_REC_READ);
			n = hand_record(&r, rec, data, 12, pad, wrongs[w], 0);
			assert_int_equal(ho_rec_open(&r, rec, n, &t, &p, &pl),
			    HO_REC_E_BAD_MAC);
			ho_rec_clear(&r);
		}
		setup_dir(&r, c, HO_REC_READ);
		n = hand_record(&r, rec, data, 12, pad, 0, 1);
		assert_int_equal(
		    ho_rec_open(&r, rec, n, &t, &p, &pl), HO_REC_E_BAD_MAC);
		ho_rec_clear(&r);
	}
	/* A padding length that runs into the MAC. */
	struct ho_rec r;
	memset(&r, 0, sizeof(r));
	setup_dir(&r, c, HO_REC_READ);
	uint8_t all[48];
	memset(all, 47, sizeof(all)); /* every byte says "47 bytes of pad" */
	memcpy(rec + 5, "0123456789abcdef", 16);
	memcpy(rec + 21, all, sizeof(all));
	cbc(&r, 1, rec + 5, rec + 21, sizeof(all));
	rec[0] = 23, rec[1] = 3, rec[2] = 2, rec[3] = 0, rec[4] = 64;
	assert_int_equal(
	    ho_rec_open(&r, rec, 69, &t, &p, &pl), HO_REC_E_BAD_MAC);
	ho_rec_clear(&r);
}

/* A full 16 KiB record with the longest padding (a peer may add up to
 * 255 bytes to hide lengths): its body, 16 + 16384 + 32 + 256, is over
 * TLS 1.3's limit but within TLS 1.2's, and opens. */
static void
test_full_record_longest_padding(void **state)
{
	(void)state;
	const struct cbc_case *c = &cases[4]; /* TLS 1.2, SHA-256, MtE */
	static uint8_t data[HO_REC_MAX_PLAIN], rec[HO_REC_MAX_RECORD];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	struct ho_rec r;
	memset(&r, 0, sizeof(r));
	setup_dir(&r, c, HO_REC_READ);
	size_t n = hand_record(&r, rec, data, sizeof(data), 255, 0, 0);
	assert_true(n - 5 > HO_REC_MAX_BODY_TLS13);
	uint8_t t, *p;
	size_t pl;
	assert_int_equal(ho_rec_open(&r, rec, n, &t, &p, &pl), 0);
	assert_int_equal(pl, sizeof(data));
	assert_memory_equal(p, data, sizeof(data));
	ho_rec_clear(&r);
}

static void
test_suites_and_versions(void **state)
{
	(void)state;
	struct ho_rec r;
	/* SHA-256/384 MACs are TLS 1.2's; CBC has no TLS 1.3. */
	assert_int_equal(
	    ho_rec_init(&r, HO_TLS10, HO_TLS_ECDHE_RSA_AES_128_CBC_SHA256),
	    HO_REC_E_INTERNAL);
	assert_int_equal(
	    ho_rec_init(&r, HO_TLS13, HO_TLS_ECDHE_RSA_AES_128_CBC_SHA),
	    HO_REC_E_INTERNAL);
	/* AEAD suites are not for TLS 1.0/1.1. */
	assert_int_equal(
	    ho_rec_init(&r, HO_TLS11, HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256),
	    HO_REC_E_INTERNAL);
	/* Keys without the MAC key, or a MAC key of the wrong size. */
	assert_int_equal(
	    ho_rec_init(&r, HO_TLS12, HO_TLS_ECDHE_RSA_AES_128_CBC_SHA), 0);
	assert_int_equal(ho_rec_set_mac_key(&r, HO_REC_READ, MAC_KEY, 32),
	    HO_REC_E_INTERNAL);
	assert_int_equal(
	    ho_rec_set_keys(&r, HO_REC_READ, KEY, 16, IV, BLOCK, NULL, 0, 0),
	    HO_REC_E_INTERNAL);
	assert_false(ho_rec_ready(&r, HO_REC_READ));
	ho_rec_clear(&r);
	assert_int_equal(
	    ho_rec_init(&r, HO_TLS12, HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256), 0);
	assert_int_equal(ho_rec_set_mac_key(&r, HO_REC_READ, MAC_KEY, 20),
	    HO_REC_E_INTERNAL);
	ho_rec_clear(&r);
	/* Names for what the daemon may negotiate. */
	assert_string_equal(ho_rec_suite_name(HO_TLS_RSA_AES_256_CBC_SHA),
	    "TLS_RSA_WITH_AES_256_CBC_SHA");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sealed_records_follow_the_rfcs),
	    cmocka_unit_test(test_round_trip_and_tampering),
	    cmocka_unit_test(test_padding_checked_in_full),
	    cmocka_unit_test(test_full_record_longest_padding),
	    cmocka_unit_test(test_suites_and_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
