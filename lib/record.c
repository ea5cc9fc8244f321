/*
 * record.c - seals and opens TLS records with keys handed over by
 * handoffd (TLS 1.3, and TLS 1.2 AEAD suites).
 *
 * No I/O happens here: the caller passes whole records.  Sealing copies
 * the plaintext once into the output buffer and encrypts it in place;
 * opening decrypts in place.  Every length is checked before use, and a
 * sequence number never wraps: the record that would reuse a nonce is
 * refused instead.
 */
#include "record.h"
#include "record_cbc.h"

#include <string.h>

#include "wipe.h"

#define TAG_LEN 16
#define TLS12_EXPLICIT_NONCE 8

struct suite_info {
	uint16_t suite;
	uint16_t version; /* the one version (AEAD), or the highest (CBC) */
	gnutls_cipher_algorithm_t cipher;
	gnutls_mac_algorithm_t hash; /* AEAD: HKDF hash; CBC: record MAC */
	uint8_t key_len;
	uint8_t iv_len;
	uint8_t explicit_nonce;
	const char *name;
};

/* TLS 1.3 padding, sealed from here (never written). */
static const uint8_t tls13_zeros[HO_REC_MAX_PLAIN];

/* CBC suites run in TLS 1.0 up to `version`; iv_len 16 is the last
 * ciphertext block handoffd saw (TLS 1.0 chains it on). */
#define CBC(num, cipher, mac, key_len, ver, name)                             \
	{                                                                     \
		num, ver, cipher, mac, key_len, 16, 0, name                   \
	}

static const struct suite_info suites[] = {
    {HO_TLS_AES_128_GCM_SHA256, HO_TLS13, GNUTLS_CIPHER_AES_128_GCM,
        GNUTLS_MAC_SHA256, 16, 12, 0, "TLS_AES_128_GCM_SHA256"},
    {HO_TLS_AES_256_GCM_SHA384, HO_TLS13, GNUTLS_CIPHER_AES_256_GCM,
        GNUTLS_MAC_SHA384, 32, 12, 0, "TLS_AES_256_GCM_SHA384"},
    {HO_TLS_CHACHA20_POLY1305_SHA256, HO_TLS13,
        GNUTLS_CIPHER_CHACHA20_POLY1305, GNUTLS_MAC_SHA256, 32, 12, 0,
        "TLS_CHACHA20_POLY1305_SHA256"},
    {HO_TLS_ECDHE_ECDSA_AES_128_GCM_SHA256, HO_TLS12,
        GNUTLS_CIPHER_AES_128_GCM, GNUTLS_MAC_SHA256, 16, 4, 1,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {HO_TLS_ECDHE_ECDSA_AES_256_GCM_SHA384, HO_TLS12,
        GNUTLS_CIPHER_AES_256_GCM, GNUTLS_MAC_SHA384, 32, 4, 1,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {HO_TLS_ECDHE_RSA_AES_128_GCM_SHA256, HO_TLS12, GNUTLS_CIPHER_AES_128_GCM,
        GNUTLS_MAC_SHA256, 16, 4, 1, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {HO_TLS_ECDHE_RSA_AES_256_GCM_SHA384, HO_TLS12, GNUTLS_CIPHER_AES_256_GCM,
        GNUTLS_MAC_SHA384, 32, 4, 1, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {HO_TLS_ECDHE_RSA_CHACHA20_POLY1305, HO_TLS12,
        GNUTLS_CIPHER_CHACHA20_POLY1305, GNUTLS_MAC_SHA256, 32, 12, 0,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {HO_TLS_ECDHE_ECDSA_CHACHA20_POLY1305, HO_TLS12,
        GNUTLS_CIPHER_CHACHA20_POLY1305, GNUTLS_MAC_SHA256, 32, 12, 0,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {HO_TLS_RSA_AES_128_GCM_SHA256, HO_TLS12, GNUTLS_CIPHER_AES_128_GCM,
        GNUTLS_MAC_SHA256, 16, 4, 1, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {HO_TLS_RSA_AES_256_GCM_SHA384, HO_TLS12, GNUTLS_CIPHER_AES_256_GCM,
        GNUTLS_MAC_SHA384, 32, 4, 1, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    CBC(HO_TLS_ECDHE_ECDSA_AES_128_CBC_SHA, GNUTLS_CIPHER_AES_128_CBC,
        GNUTLS_MAC_SHA1, 16, HO_TLS12, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    CBC(HO_TLS_ECDHE_ECDSA_AES_256_CBC_SHA, GNUTLS_CIPHER_AES_256_CBC,
        GNUTLS_MAC_SHA1, 32, HO_TLS12, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    CBC(HO_TLS_ECDHE_RSA_AES_128_CBC_SHA, GNUTLS_CIPHER_AES_128_CBC,
        GNUTLS_MAC_SHA1, 16, HO_TLS12, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    CBC(HO_TLS_ECDHE_RSA_AES_256_CBC_SHA, GNUTLS_CIPHER_AES_256_CBC,
        GNUTLS_MAC_SHA1, 32, HO_TLS12, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    CBC(HO_TLS_RSA_AES_128_CBC_SHA, GNUTLS_CIPHER_AES_128_CBC, GNUTLS_MAC_SHA1,
        16, HO_TLS12, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    CBC(HO_TLS_RSA_AES_256_CBC_SHA, GNUTLS_CIPHER_AES_256_CBC, GNUTLS_MAC_SHA1,
        32, HO_TLS12, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    CBC(HO_TLS_ECDHE_ECDSA_AES_128_CBC_SHA256, GNUTLS_CIPHER_AES_128_CBC,
        GNUTLS_MAC_SHA256, 16, HO_TLS12,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    CBC(HO_TLS_ECDHE_ECDSA_AES_256_CBC_SHA384, GNUTLS_CIPHER_AES_256_CBC,
        GNUTLS_MAC_SHA384, 32, HO_TLS12,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    CBC(HO_TLS_ECDHE_RSA_AES_128_CBC_SHA256, GNUTLS_CIPHER_AES_128_CBC,
        GNUTLS_MAC_SHA256, 16, HO_TLS12,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    CBC(HO_TLS_ECDHE_RSA_AES_256_CBC_SHA384, GNUTLS_CIPHER_AES_256_CBC,
        GNUTLS_MAC_SHA384, 32, HO_TLS12,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    CBC(HO_TLS_RSA_AES_128_CBC_SHA256, GNUTLS_CIPHER_AES_128_CBC,
        GNUTLS_MAC_SHA256, 16, HO_TLS12, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    CBC(HO_TLS_RSA_AES_256_CBC_SHA256, GNUTLS_CIPHER_AES_256_CBC,
        GNUTLS_MAC_SHA256, 32, HO_TLS12, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
};

static int
is_cbc(const struct suite_info *s)
{
	return s->cipher == GNUTLS_CIPHER_AES_128_CBC ||
	    s->cipher == GNUTLS_CIPHER_AES_256_CBC;
}

static const struct suite_info *
find_suite(uint16_t suite)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (suites[i].suite == suite)
			return &suites[i];
	}
	return NULL;
}

const char *
ho_rec_suite_name(uint16_t suite)
{
	const struct suite_info *s = find_suite(suite);
	return s ? s->name : NULL;
}

int
ho_rec_init(struct ho_rec *r, uint16_t version, uint16_t suite)
{
	const struct suite_info *s = find_suite(suite);
	memset(r, 0, sizeof(*r));
	if (s == NULL ||
	    (is_cbc(s) ? version < HO_TLS10 || version > s->version
	               : version != s->version))
		return HO_REC_E_INTERNAL;
	/* SHA-256/384 MACs came with TLS 1.2. */
	if (is_cbc(s) && s->hash != GNUTLS_MAC_SHA1 && version != HO_TLS12)
		return HO_REC_E_INTERNAL;
	r->version = version;
	r->suite = suite;
	r->cipher = s->cipher;
	r->hash = s->hash;
	r->key_len = s->key_len;
	r->iv_len = s->iv_len;
	r->explicit_nonce = s->explicit_nonce;
	if (is_cbc(s)) {
		r->cbc = 1;
		r->mac = s->hash;
		r->mac_len = gnutls_hmac_get_len(s->hash);
	}
	return 0;
}

int
ho_rec_set_mac_key(
    struct ho_rec *r, int dir, const uint8_t *key, size_t key_len)
{
	if ((dir != HO_REC_READ && dir != HO_REC_WRITE) || !r->cbc ||
	    key_len != r->mac_len)
		return HO_REC_E_INTERNAL;
	memcpy(r->dir[dir].mac_key, key, key_len);
	r->dir[dir].mac_key_len = key_len;
	return 0;
}

int
ho_rec_ready(const struct ho_rec *r, int dir)
{
	return r->dir[dir].aead != NULL || r->dir[dir].cbc != NULL;
}

size_t
ho_rec_max_body(const struct ho_rec *r)
{
	return r->version == HO_TLS13 ? HO_REC_MAX_BODY_TLS13
	                              : HO_REC_MAX_BODY;
}

static int
rekey_handle(struct ho_rec *r, struct ho_rec_dir *d)
{
	ho_aead_free(d->aead);
	d->aead = NULL;
	d->records = 0;
	d->exhausted = 0;
	if (r->cbc)
		return ho_cbc_key_dir(r, d);
	d->aead = ho_aead_new(
	    r->cipher, d->key, d->key_len, d == &r->dir[HO_REC_WRITE]);
	return d->aead != NULL ? 0 : HO_REC_E_INTERNAL;
}

int
ho_rec_set_keys(struct ho_rec *r, int dir, const uint8_t *key, size_t key_len,
    const uint8_t *iv, size_t iv_len, const uint8_t *secret, size_t secret_len,
    uint64_t seq)
{
	if ((dir != HO_REC_READ && dir != HO_REC_WRITE) || r->key_len == 0 ||
	    key_len != r->key_len || iv_len != r->iv_len ||
	    secret_len > sizeof(r->dir[0].secret) ||
	    (r->version == HO_TLS13 && secret != NULL &&
	        secret_len != (size_t)gnutls_hmac_get_len(r->hash)))
		return HO_REC_E_INTERNAL;
	struct ho_rec_dir *d = &r->dir[dir];
	memcpy(d->key, key, key_len);
	d->key_len = key_len;
	memcpy(d->iv, iv, iv_len);
	d->iv_len = iv_len;
	ho_wipe(d->secret, sizeof(d->secret));
	d->secret_len = 0;
	if (secret != NULL && secret_len > 0) {
		memcpy(d->secret, secret, secret_len);
		d->secret_len = secret_len;
	}
	d->seq = seq;
	return rekey_handle(r, d);
}

void
ho_rec_clear(struct ho_rec *r)
{
	for (int i = 0; i < 2; i++) {
		ho_aead_free(r->dir[i].aead);
		r->dir[i].aead = NULL;
		ho_cbc_clear_dir(&r->dir[i]);
	}
	ho_wipe(r, sizeof(*r));
}

size_t
ho_rec_sealed_len(const struct ho_rec *r, size_t len, size_t pad)
{
	if (r->version == HO_TLS13)
		return HO_REC_HEADER_LEN + len + 1 + pad + TAG_LEN;
	if (r->cbc)
		return ho_cbc_sealed_len(r, len);
	return HO_REC_HEADER_LEN +
	    (r->explicit_nonce ? TLS12_EXPLICIT_NONCE : 0) + len + TAG_LEN;
}

void
ho_rec_store64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* nonce = IV XOR left-padded seq (TLS 1.3, RFC 7905), or salt || seq
 * (TLS 1.2 AES-GCM, where seq doubles as the explicit nonce). */
static void
make_nonce(const struct ho_rec *r, const struct ho_rec_dir *d, uint8_t *n)
{
	uint8_t seq[8];
	ho_rec_store64(seq, d->seq);
	if (r->explicit_nonce) {
		memcpy(n, d->iv, 4);
		memcpy(n + 4, seq, 8);
		return;
	}
	memcpy(n, d->iv, 12);
	for (int i = 0; i < 8; i++)
		n[4 + i] ^= seq[i];
}

/* Moves to the next sequence number; the last one ends the key's life,
 * since wrapping would reuse a nonce (RFC 8446 5.3). */
void
ho_rec_advance(struct ho_rec_dir *d)
{
	if (d->seq == UINT64_MAX)
		d->exhausted = 1;
	else
		d->seq++;
	d->records++;
}

int
ho_rec_wants_update(const struct ho_rec *r, int dir)
{
	return r->version == HO_TLS13 &&
	    r->cipher != GNUTLS_CIPHER_CHACHA20_POLY1305 &&
	    r->dir[dir].records >= HO_REC_AES_GCM_RECORD_LIMIT;
}

/* TLS 1.2 AAD: seq || type || version || plaintext length. */
static void
tls12_aad(const struct ho_rec_dir *d, uint8_t type, size_t len, uint8_t *aad)
{
	ho_rec_store64(aad, d->seq);
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = (uint8_t)(len >> 8);
	aad[12] = (uint8_t)len;
}

int
ho_rec_seal(struct ho_rec *r, uint8_t type, const uint8_t *plain, size_t len,
    size_t pad, uint8_t *out, size_t out_cap, size_t *out_len)
{
	struct ho_rec_dir *d = &r->dir[HO_REC_WRITE];
	if (!ho_rec_ready(r, HO_REC_WRITE) || len > HO_REC_MAX_PLAIN ||
	    (r->version == HO_TLS13 ? len + pad > HO_REC_MAX_PLAIN : pad != 0))
		return HO_REC_E_INTERNAL;
	if (d->exhausted)
		return HO_REC_E_SEQ;
	size_t total = ho_rec_sealed_len(r, len, pad);
	if (out_cap < total)
		return HO_REC_E_SPACE;
	if (r->cbc)
		return ho_cbc_seal(r, type, plain, len, out, out_len);

	size_t body = total - HO_REC_HEADER_LEN;
	uint8_t *p = out + HO_REC_HEADER_LEN; /* where ciphertext goes */
	uint8_t nonce[12], aad12[13];
	const uint8_t *aad = out;
	size_t aad_len = HO_REC_HEADER_LEN;
	/* The plaintext is sealed from where it is, with TLS 1.3's content
	 * type and padding after it: no copy into the record first. */
	giovec_t pieces[3] = {
	    {(void *)plain, len}, {&type, 1}, {(void *)tls13_zeros, pad}};
	int count = 3;

	out[0] = r->version == HO_TLS13 ? HO_CT_APPLICATION_DATA : type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(body >> 8);
	out[4] = (uint8_t)body;
	if (r->version != HO_TLS13) {
		if (r->explicit_nonce) {
			ho_rec_store64(p, d->seq);
			p += TLS12_EXPLICIT_NONCE;
		}
		tls12_aad(d, type, len, aad12);
		aad = aad12;
		aad_len = sizeof(aad12);
		count = 1;
	}
	make_nonce(r, d, nonce);
	int ret = ho_aead_seal(d->aead, nonce, aad, aad_len, pieces, count, p);
	ho_wipe(nonce, sizeof(nonce));
	if (ret != 0)
		return HO_REC_E_INTERNAL;
	ho_rec_advance(d);
	*out_len = total;
	return 0;
}

int
ho_rec_open(struct ho_rec *r, uint8_t *rec, size_t rec_len, uint8_t *type,
    uint8_t **plain, size_t *plain_len)
{
	struct ho_rec_dir *d = &r->dir[HO_REC_READ];
	if (!ho_rec_ready(r, HO_REC_READ) || rec_len < HO_REC_HEADER_LEN)
		return HO_REC_E_INTERNAL;
	size_t body = (size_t)rec[3] << 8 | rec[4];
	if (body != rec_len - HO_REC_HEADER_LEN)
		return HO_REC_E_DECODE;
	if (body > ho_rec_max_body(r))
		return HO_REC_E_OVERFLOW;
	if (d->exhausted)
		return HO_REC_E_SEQ;
	if (r->cbc)
		return ho_cbc_open(r, rec, rec_len, type, plain, plain_len);

	uint8_t nonce[12], aad12[13];
	uint8_t *p = rec + HO_REC_HEADER_LEN;
	size_t ct_len;
	const uint8_t *aad = rec;
	size_t aad_len = HO_REC_HEADER_LEN;
	if (r->version == HO_TLS13) {
		if (rec[0] != HO_CT_APPLICATION_DATA)
			return HO_REC_E_DECODE;
		if (body < TAG_LEN + 1) /* not even a type byte and a tag */
			return HO_REC_E_BAD_MAC;
		ct_len = body - TAG_LEN;
		if (ct_len > HO_REC_MAX_PLAIN + 1)
			return HO_REC_E_OVERFLOW;
	} else {
		/* TLS 1.2's AAD carries the negotiated version, not the
		 * header's: check the header's here. */
		if (rec[1] != 3 || rec[2] != 3)
			return HO_REC_E_DECODE;
		size_t extra = r->explicit_nonce ? TLS12_EXPLICIT_NONCE : 0;
		if (body < extra + TAG_LEN)
			return HO_REC_E_BAD_MAC;
		ct_len = body - extra - TAG_LEN;
		if (ct_len > HO_REC_MAX_PLAIN)
			return HO_REC_E_OVERFLOW;
		tls12_aad(d, rec[0], ct_len, aad12);
		aad = aad12;
		aad_len = sizeof(aad12);
	}
	make_nonce(r, d, nonce);
	if (r->version == HO_TLS12 && r->explicit_nonce) {
		/* The peer chooses the explicit part; it is authenticated
		 * through the nonce, so take it as sent. */
		memcpy(nonce + 4, p, TLS12_EXPLICIT_NONCE);
		p += TLS12_EXPLICIT_NONCE;
	}
	int ret =
	    ho_aead_open(d->aead, nonce, aad, aad_len, p, ct_len, p + ct_len);
	ho_wipe(nonce, sizeof(nonce));
	if (ret != 0)
		return HO_REC_E_BAD_MAC;

	size_t n = ct_len;
	uint8_t t = rec[0];
	if (r->version == HO_TLS13) {
		/* Strip zero padding; the last non-zero byte is the type. */
		while (n > 0 && p[n - 1] == 0)
			n--;
		if (n == 0)
			return HO_REC_E_DECODE;
		t = p[--n];
		if (n > HO_REC_MAX_PLAIN)
			return HO_REC_E_OVERFLOW;
	}
	ho_rec_advance(d);
	*type = t;
	*plain = p;
	*plain_len = n;
	return 0;
}

int
ho_hkdf_expand_label(gnutls_mac_algorithm_t hash, const uint8_t *secret,
    size_t secret_len, const char *label, const uint8_t *context,
    size_t context_len, uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	size_t label_len = label ? strlen(label) : 0;
	size_t hash_len = gnutls_hmac_get_len(hash);
	/* The label vector holds at most 255 bytes including "tls13 ". */
	if (label == NULL || hash_len == 0 || out_len == 0 ||
	    out_len > 255 * hash_len || out_len > 0xffff ||
	    label_len + sizeof(prefix) - 1 > 255 || context_len > 255 ||
	    (context_len > 0 && context == NULL) || secret == NULL)
		return -1;
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t n = 0;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(label_len + sizeof(prefix) - 1);
	memcpy(info + n, prefix, sizeof(prefix) - 1);
	n += sizeof(prefix) - 1;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = (uint8_t)context_len;
	if (context_len > 0)
		memcpy(info + n, context, context_len);
	n += context_len;
	gnutls_datum_t key = {(void *)secret, (unsigned)secret_len};
	gnutls_datum_t inf = {info, (unsigned)n};
	return gnutls_hkdf_expand(hash, &key, &inf, out, out_len) < 0 ? -1 : 0;
}

int
ho_rec_update(struct ho_rec *r, int dir)
{
	if (r->version != HO_TLS13 ||
	    (dir != HO_REC_READ && dir != HO_REC_WRITE))
		return HO_REC_E_INTERNAL;
	struct ho_rec_dir *d = &r->dir[dir];
	size_t hl = d->secret_len;
	uint8_t next[sizeof(d->secret)];
	if (hl == 0 ||
	    ho_hkdf_expand_label(
	        r->hash, d->secret, hl, "traffic upd", NULL, 0, next, hl) != 0)
		return HO_REC_E_INTERNAL;
	memcpy(d->secret, next, hl);
	ho_wipe(next, sizeof(next));
	if (ho_hkdf_expand_label(r->hash, d->secret, hl, "key", NULL, 0,
	        d->key, d->key_len) != 0 ||
	    ho_hkdf_expand_label(
	        r->hash, d->secret, hl, "iv", NULL, 0, d->iv, d->iv_len) != 0)
		return HO_REC_E_INTERNAL;
	d->seq = 0;
	return rekey_handle(r, d);
}
