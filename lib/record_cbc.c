/*
 * record_cbc.c - AES-CBC + HMAC records (RFC 5246 6.2.3.2), the only
 * protection TLS 1.0 and 1.1 have.  handoffd negotiates them only when a
 * profile's priority string turns them on.
 *
 * Both orders are here: MAC-then-encrypt, the default, and
 * encrypt-then-MAC (RFC 7366) when the peer offered it.  Opening a
 * MAC-then-encrypt record is where CBC suites leak (padding oracles,
 * Lucky Thirteen): the padding check looks at the same bytes whatever the
 * padding says, a bad padding is treated as none and still MACed, the
 * MAC is padded out to the compression calls of the longest possible
 * record (the countermeasure GnuTLS uses), and every failure is the same
 * bad_record_mac.  TLS 1.0 chains IVs across records, so the IV of the
 * next record is public: the first byte of application data goes in a
 * record of its own (the 1/n-1 split) so that an attacker cannot choose
 * a whole block under a known IV (BEAST).
 */
#include "record_cbc.h"

#include <string.h>

#include "wipe.h"

#define BLOCK HO_REC_CBC_BLOCK
/* seq (8) || type (1) || version (2) || length (2) */
#define MAC_HEADER_LEN 13

/* All ones when a < b, else 0; both below 2^31. */
static uint32_t
ct_lt(uint32_t a, uint32_t b)
{
	return 0u - ((a - b) >> 31);
}

/* All ones when a == b, else 0. */
static uint32_t
ct_eq8(uint8_t a, uint8_t b)
{
	uint32_t x = (uint32_t)(a ^ b);
	return 0u - ((x - 1) >> 31);
}

/* All ones when the n bytes are equal, else 0; time independent of
 * where they differ. */
static uint32_t
ct_memeq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return ct_eq8(diff, 0);
}

static size_t
explicit_iv_len(const struct ho_rec *r)
{
	return r->version >= HO_TLS11 ? BLOCK : 0;
}

int
ho_cbc_key_dir(const struct ho_rec *r, struct ho_rec_dir *d)
{
	ho_cbc_clear_dir(d);
	gnutls_datum_t key = {d->key, (unsigned)d->key_len};
	gnutls_datum_t iv = {d->iv, BLOCK};
	if (d->mac_key_len != r->mac_len ||
	    gnutls_cipher_init(&d->cbc, r->cipher, &key, &iv) < 0) {
		d->cbc = NULL;
		return HO_REC_E_INTERNAL;
	}
	if (gnutls_hmac_init(&d->hmac, r->mac, d->mac_key, d->mac_key_len) <
	    0) {
		d->hmac = NULL;
		ho_cbc_clear_dir(d);
		return HO_REC_E_INTERNAL;
	}
	return 0;
}

void
ho_cbc_clear_dir(struct ho_rec_dir *d)
{
	if (d->cbc != NULL)
		gnutls_cipher_deinit(d->cbc);
	if (d->hmac != NULL)
		gnutls_hmac_deinit(d->hmac, NULL);
	d->cbc = NULL;
	d->hmac = NULL;
}

/* One record's body length for len bytes of plaintext. */
static size_t
body_len(const struct ho_rec *r, size_t len)
{
	size_t inner = len + (r->etm ? 0 : r->mac_len);
	size_t padded = inner + (BLOCK - inner % BLOCK); /* 1..16 pad bytes */
	return explicit_iv_len(r) + padded + (r->etm ? r->mac_len : 0);
}

size_t
ho_cbc_sealed_len(const struct ho_rec *r, size_t len)
{
	size_t one = HO_REC_HEADER_LEN + body_len(r, len);
	if (r->version == HO_TLS10) /* room for the 1/n-1 split */
		one += HO_REC_HEADER_LEN + body_len(r, 1);
	return one;
}

/* HMAC(seq || type || version || len || data) into out (mac_len bytes). */
static int
record_mac(const struct ho_rec *r, struct ho_rec_dir *d, uint8_t type,
    const uint8_t *data, size_t len, uint8_t *out)
{
	uint8_t h[MAC_HEADER_LEN];
	ho_rec_store64(h, d->seq);
	h[8] = type;
	h[9] = (uint8_t)(r->version >> 8);
	h[10] = (uint8_t)r->version;
	h[11] = (uint8_t)(len >> 8);
	h[12] = (uint8_t)len;
	if (gnutls_hmac(d->hmac, h, sizeof(h)) < 0 ||
	    gnutls_hmac(d->hmac, data, len) < 0)
		return HO_REC_E_INTERNAL;
	gnutls_hmac_output(d->hmac, out); /* also resets the handle */
	return 0;
}

static int
seal_one(struct ho_rec *r, uint8_t type, const uint8_t *plain, size_t len,
    uint8_t *out, size_t *out_len)
{
	struct ho_rec_dir *d = &r->dir[HO_REC_WRITE];
	if (d->exhausted)
		return HO_REC_E_SEQ;
	size_t body = body_len(r, len), ex = explicit_iv_len(r);
	out[0] = type;
	out[1] = (uint8_t)(r->version >> 8);
	out[2] = (uint8_t)r->version;
	out[3] = (uint8_t)(body >> 8);
	out[4] = (uint8_t)body;
	uint8_t *iv = out + HO_REC_HEADER_LEN, *ct = iv + ex;
	if (ex > 0 && gnutls_rnd(GNUTLS_RND_NONCE, iv, ex) < 0)
		return HO_REC_E_INTERNAL;
	memcpy(ct, plain, len);
	size_t n = len;
	if (!r->etm) {
		if (record_mac(r, d, type, ct, len, ct + n) != 0)
			return HO_REC_E_INTERNAL;
		n += r->mac_len;
	}
	size_t pad = BLOCK - n % BLOCK; /* pad bytes, each pad - 1 */
	memset(ct + n, (int)(pad - 1), pad);
	n += pad;
	gnutls_cipher_set_iv(d->cbc, ex > 0 ? iv : d->iv, BLOCK);
	if (gnutls_cipher_encrypt(d->cbc, ct, n) < 0)
		return HO_REC_E_INTERNAL;
	if (r->etm && record_mac(r, d, type, iv, ex + n, ct + n) != 0)
		return HO_REC_E_INTERNAL;
	memcpy(d->iv, ct + n - BLOCK, BLOCK); /* TLS 1.0's next IV */
	ho_rec_advance(d);
	*out_len = HO_REC_HEADER_LEN + body;
	return 0;
}

int
ho_cbc_seal(struct ho_rec *r, uint8_t type, const uint8_t *plain, size_t len,
    uint8_t *out, size_t *out_len)
{
	size_t first = 0;
	if (r->version == HO_TLS10 && type == HO_CT_APPLICATION_DATA &&
	    len > 1) {
		int ret = seal_one(r, type, plain, 1, out, &first);
		if (ret != 0)
			return ret;
		plain++;
		len--;
	}
	size_t second;
	int ret = seal_one(r, type, plain, len, out + first, &second);
	if (ret != 0)
		return ret;
	*out_len = first + second;
	return 0;
}

/*
 * Feeds the HMAC the compression-function blocks that a record of
 * max_len data bytes would have cost beyond one of len bytes, so that
 * the time to check the MAC does not tell how much padding there was.
 */
static void
mac_equalize(
    const struct ho_rec *r, struct ho_rec_dir *d, size_t len, size_t max_len)
{
	static const uint8_t zeros[5 * 128];
	size_t bs = r->mac == GNUTLS_MAC_SHA384 ? 128 : 64;
	size_t tail = r->mac == GNUTLS_MAC_SHA384 ? 17 : 9; /* 0x80, length */
	size_t real = (bs + MAC_HEADER_LEN + len + tail + bs - 1) / bs;
	size_t most = (bs + MAC_HEADER_LEN + max_len + tail + bs - 1) / bs;
	uint8_t trash[HO_REC_MAX_MAC];
	size_t extra = (most - real) * bs;
	gnutls_hmac(d->hmac, zeros, extra <= sizeof(zeros) ? extra : 0);
	gnutls_hmac_output(d->hmac, trash);
}

/* MAC-then-encrypt: ct (ct_len bytes, a whole number of blocks) is
 * already decrypted.  Sets *data_len; returns 0 or HO_REC_E_BAD_MAC. */
static int
check_mte(const struct ho_rec *r, struct ho_rec_dir *d, uint8_t type,
    const uint8_t *ct, size_t ct_len, size_t *data_len)
{
	uint32_t mac_len = (uint32_t)r->mac_len;
	uint32_t pad = ct[ct_len - 1];
	uint32_t good = ~ct_lt((uint32_t)ct_len, pad + 1 + mac_len);
	size_t span = ct_len < 256 ? ct_len : 256;
	for (size_t i = 1; i < span; i++) {
		uint32_t in_pad = ct_lt((uint32_t)i, pad + 1);
		good &= ~(in_pad & ~ct_eq8(ct[ct_len - 1 - i], (uint8_t)pad));
	}
	pad &= good; /* bad padding: MAC as if there were none */
	size_t len = ct_len - mac_len - 1 - pad;
	uint8_t mac[HO_REC_MAX_MAC];
	if (record_mac(r, d, type, ct, len, mac) != 0)
		return HO_REC_E_INTERNAL;
	mac_equalize(r, d, len, ct_len - mac_len - 1);
	good &= ct_memeq(mac, ct + len, mac_len);
	ho_wipe(mac, sizeof(mac));
	*data_len = len;
	return good ? 0 : HO_REC_E_BAD_MAC;
}

/* Encrypt-then-MAC, after decryption: the MAC already held, so nothing
 * here is secret.  Sets *data_len; returns 0 or HO_REC_E_BAD_MAC. */
static int
check_etm_padding(const uint8_t *ct, size_t ct_len, size_t *data_len)
{
	size_t pad = ct[ct_len - 1];
	if (pad + 1 > ct_len)
		return HO_REC_E_BAD_MAC;
	for (size_t i = 1; i <= pad; i++)
		if (ct[ct_len - 1 - i] != pad)
			return HO_REC_E_BAD_MAC;
	*data_len = ct_len - pad - 1;
	return 0;
}

int
ho_cbc_open(struct ho_rec *r, uint8_t *rec, size_t rec_len, uint8_t *type,
    uint8_t **plain, size_t *plain_len)
{
	struct ho_rec_dir *d = &r->dir[HO_REC_READ];
	size_t body = rec_len - HO_REC_HEADER_LEN, ex = explicit_iv_len(r);
	size_t mac_len = r->mac_len, tail = r->etm ? mac_len : 0;
	if (rec[1] != (uint8_t)(r->version >> 8) ||
	    rec[2] != (uint8_t)r->version)
		return HO_REC_E_DECODE;
	/* Whole blocks, holding at least the padding (and, MAC-then-
	 * encrypt, the MAC): these lengths are public. */
	size_t least =
	    r->etm ? BLOCK : (mac_len + 1 + BLOCK - 1) / BLOCK * BLOCK;
	if (body < ex + least + tail || (body - ex - tail) % BLOCK != 0)
		return HO_REC_E_BAD_MAC;
	uint8_t *iv = rec + HO_REC_HEADER_LEN, *ct = iv + ex;
	size_t ct_len = body - ex - tail;
	if (r->etm) {
		uint8_t mac[HO_REC_MAX_MAC];
		if (record_mac(r, d, rec[0], iv, ex + ct_len, mac) != 0)
			return HO_REC_E_INTERNAL;
		uint32_t ok = ct_memeq(mac, ct + ct_len, mac_len);
		ho_wipe(mac, sizeof(mac));
		if (!ok)
			return HO_REC_E_BAD_MAC;
	}
	uint8_t next_iv[BLOCK];
	memcpy(next_iv, ct + ct_len - BLOCK, BLOCK);
	gnutls_cipher_set_iv(d->cbc, ex > 0 ? iv : d->iv, BLOCK);
	if (gnutls_cipher_decrypt(d->cbc, ct, ct_len) < 0)
		return HO_REC_E_INTERNAL;
	size_t len;
	int ret = r->etm ? check_etm_padding(ct, ct_len, &len)
	                 : check_mte(r, d, rec[0], ct, ct_len, &len);
	if (ret != 0)
		return ret;
	if (len > HO_REC_MAX_PLAIN)
		return HO_REC_E_OVERFLOW;
	memcpy(d->iv, next_iv, BLOCK);
	ho_rec_advance(d);
	*type = rec[0];
	*plain = ct;
	*plain_len = len;
	return 0;
}
