/*
 * proto.c - strict parser and builder for the handoff wire format.
 *
 * The parser trusts nothing: every length is checked against what is left
 * of the buffer and against the limits of its field's kind before a byte
 * is read.  The builder applies the same limits, so the daemon and the
 * library can never produce a frame the other side would refuse.
 */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "wipe.h"

static const struct {
	uint8_t known;
	uint8_t kind;
} field_table[HO_F_COUNT] = {
#define X(name, num, kind) [num] = {1, kind},
    HO_PROTO_FIELD_MAP(X)
#undef X
};

static int
kind_allows(int kind, size_t len)
{
	switch (kind) {
	case HO_KIND_U8: return len == 1;
	case HO_KIND_U16: return len == 2;
	case HO_KIND_U32: return len == 4;
	case HO_KIND_U64: return len == 8;
	case HO_KIND_TOKEN: return len == HO_PROTO_TOKEN_LEN;
	case HO_KIND_STR: return len >= 1 && len <= HO_PROTO_MAX_STR;
	case HO_KIND_TEXT: return len <= HO_PROTO_MAX_TEXT;
	case HO_KIND_BYTES: return len <= HO_PROTO_MAX_BYTES;
	case HO_KIND_SECRET: return len >= 1 && len <= 64;
	}
	return 0;
}

static int
is_text_kind(int kind)
{
	return kind == HO_KIND_STR || kind == HO_KIND_TEXT;
}

static int
msg_type_known(int type)
{
	switch (type) {
#define X(name, num, text) case num:
		HO_PROTO_MSG_MAP(X)
#undef X
		return 1;
	}
	return 0;
}

static uint32_t
load_be(const uint8_t *p, int n)
{
	uint32_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int
ho_proto_parse(const uint8_t *buf, size_t len, struct ho_proto_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	if (len > HO_PROTO_MAX_MSG)
		return HO_PROTO_E_TOO_BIG;
	if (len < HO_PROTO_HEADER_LEN) {
		/* Say "not ours" rather than "truncated" for foreign bytes. */
		if (len >= 4 && memcmp(buf, HO_PROTO_MAGIC, 4) != 0)
			return HO_PROTO_E_MAGIC;
		return HO_PROTO_E_TRUNCATED;
	}
	if (memcmp(buf, HO_PROTO_MAGIC, 4) != 0)
		return HO_PROTO_E_MAGIC;
	if (buf[4] != HO_PROTO_VERSION)
		return HO_PROTO_E_VERSION;
	if (!msg_type_known(buf[5]))
		return HO_PROTO_E_TYPE;
	msg->type = buf[5];
	msg->flags = (uint16_t)load_be(buf + 6, 2);
	if (msg->flags != 0) /* no flags are defined in version 1 */
		return HO_PROTO_E_FLAGS;

	size_t off = HO_PROTO_HEADER_LEN;
	while (off < len) {
		if (len - off < HO_PROTO_FIELD_HEADER_LEN)
			return HO_PROTO_E_TRUNCATED;
		uint32_t type = load_be(buf + off, 2);
		uint32_t flen = load_be(buf + off + 2, 4);
		off += HO_PROTO_FIELD_HEADER_LEN;
		if (type >= HO_F_COUNT || !field_table[type].known)
			return HO_PROTO_E_FIELD_TYPE;
		if (flen > len - off)
			return HO_PROTO_E_TRUNCATED;
		int kind = field_table[type].kind;
		if (!kind_allows(kind, flen))
			return HO_PROTO_E_FIELD_LEN;
		if (is_text_kind(kind) && memchr(buf + off, 0, flen) != NULL)
			return HO_PROTO_E_FIELD_LEN;
		if (msg->f[type].present)
			return HO_PROTO_E_DUPLICATE;
		msg->f[type].present = 1;
		msg->f[type].ptr = buf + off;
		msg->f[type].len = flen;
		off += flen;
	}
	return 0;
}

const char *
ho_proto_strerror(int err)
{
	switch (err) {
	case 0: return "no error";
#define X(name, num, text)                                                    \
	case num: return text;
		HO_PROTO_ERR_MAP(X)
#undef X
	}
	return "unknown protocol error";
}

const char *
ho_proto_msg_name(int type)
{
	switch (type) {
#define X(name, num, text)                                                    \
	case num: return text;
		HO_PROTO_MSG_MAP(X)
#undef X
	}
	return "unknown";
}

static int
get_fixed(const struct ho_proto_msg *m, int field, int n, uint64_t *v)
{
	if (field <= 0 || field >= HO_F_COUNT || !m->f[field].present ||
	    m->f[field].len != (uint32_t)n)
		return -1;
	uint64_t x = 0;
	for (int i = 0; i < n; i++)
		x = (x << 8) | m->f[field].ptr[i];
	*v = x;
	return 0;
}

int
ho_proto_get_u8(const struct ho_proto_msg *m, int field, uint8_t *v)
{
	uint64_t x;
	if (get_fixed(m, field, 1, &x) != 0)
		return -1;
	*v = (uint8_t)x;
	return 0;
}

int
ho_proto_get_u16(const struct ho_proto_msg *m, int field, uint16_t *v)
{
	uint64_t x;
	if (get_fixed(m, field, 2, &x) != 0)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

int
ho_proto_get_u32(const struct ho_proto_msg *m, int field, uint32_t *v)
{
	uint64_t x;
	if (get_fixed(m, field, 4, &x) != 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
ho_proto_get_u64(const struct ho_proto_msg *m, int field, uint64_t *v)
{
	return get_fixed(m, field, 8, v);
}

int
ho_proto_get_str(
    const struct ho_proto_msg *m, int field, char *out, size_t outcap)
{
	if (field <= 0 || field >= HO_F_COUNT || !m->f[field].present ||
	    m->f[field].len >= outcap)
		return -1;
	memcpy(out, m->f[field].ptr, m->f[field].len);
	out[m->f[field].len] = '\0';
	return 0;
}

static void
fail(struct ho_proto_buf *b, int err)
{
	if (b->err == 0)
		b->err = err;
}

/* Makes room for n more bytes; wipes the old buffer when it moves. */
static int
reserve(struct ho_proto_buf *b, size_t n)
{
	if (b->err != 0)
		return -1;
	if (n > HO_PROTO_MAX_MSG || b->len + n > HO_PROTO_MAX_MSG) {
		fail(b, HO_PROTO_E_TOO_BIG);
		return -1;
	}
	if (b->len + n <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 512;
	while (cap < b->len + n)
		cap *= 2;
	uint8_t *p = malloc(cap);
	if (p == NULL) {
		fail(b, HO_PROTO_E_NOMEM);
		return -1;
	}
	if (b->buf != NULL) {
		memcpy(p, b->buf, b->len);
		ho_wipe(b->buf, b->cap);
		free(b->buf);
	}
	b->buf = p;
	b->cap = cap;
	return 0;
}

static void
store_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
ho_proto_begin(struct ho_proto_buf *b, int type)
{
	memset(b, 0, sizeof(*b));
	if (!msg_type_known(type)) {
		fail(b, HO_PROTO_E_TYPE);
		return;
	}
	if (reserve(b, HO_PROTO_HEADER_LEN) != 0)
		return;
	memcpy(b->buf, HO_PROTO_MAGIC, 4);
	b->buf[4] = HO_PROTO_VERSION;
	b->buf[5] = (uint8_t)type;
	b->buf[6] = 0;
	b->buf[7] = 0;
	b->len = HO_PROTO_HEADER_LEN;
}

void
ho_proto_put(struct ho_proto_buf *b, int field, const void *p, size_t len)
{
	if (field <= 0 || field >= HO_F_COUNT || !field_table[field].known) {
		fail(b, HO_PROTO_E_FIELD_TYPE);
		return;
	}
	int kind = field_table[field].kind;
	if (!kind_allows(kind, len) ||
	    (is_text_kind(kind) && memchr(p, 0, len) != NULL)) {
		fail(b, HO_PROTO_E_FIELD_LEN);
		return;
	}
	if (reserve(b, HO_PROTO_FIELD_HEADER_LEN + len) != 0)
		return;
	store_be(b->buf + b->len, (uint64_t)field, 2);
	store_be(b->buf + b->len + 2, (uint64_t)len, 4);
	if (len > 0)
		memcpy(b->buf + b->len + HO_PROTO_FIELD_HEADER_LEN, p, len);
	b->len += HO_PROTO_FIELD_HEADER_LEN + len;
}

static void
put_fixed(struct ho_proto_buf *b, int field, uint64_t v, int n)
{
	uint8_t tmp[8];
	store_be(tmp, v, n);
	ho_proto_put(b, field, tmp, (size_t)n);
}

void
ho_proto_put_u8(struct ho_proto_buf *b, int field, uint8_t v)
{
	put_fixed(b, field, v, 1);
}

void
ho_proto_put_u16(struct ho_proto_buf *b, int field, uint16_t v)
{
	put_fixed(b, field, v, 2);
}

void
ho_proto_put_u32(struct ho_proto_buf *b, int field, uint32_t v)
{
	put_fixed(b, field, v, 4);
}

void
ho_proto_put_u64(struct ho_proto_buf *b, int field, uint64_t v)
{
	put_fixed(b, field, v, 8);
}

void
ho_proto_put_str(struct ho_proto_buf *b, int field, const char *s)
{
	ho_proto_put(b, field, s, strlen(s));
}

int
ho_proto_finish(struct ho_proto_buf *b)
{
	if (b->err == 0 && b->buf == NULL)
		b->err = HO_PROTO_E_TYPE;
	return b->err;
}

void
ho_proto_buf_free(struct ho_proto_buf *b)
{
	if (b->buf != NULL) {
		ho_wipe(b->buf, b->cap);
		free(b->buf);
	}
	memset(b, 0, sizeof(*b));
}

int
ho_proto_chain_add(struct ho_buf *chain, const void *der, size_t len)
{
	uint8_t n[3] = {
	    (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
	if (len == 0 || len > 0xffffff || ho_buf_append(chain, n, 3) != 0 ||
	    ho_buf_append(chain, der, len) != 0)
		return -1;
	return 0;
}

int
ho_proto_chain_next(const uint8_t *chain, size_t chain_len, size_t *pos,
    const uint8_t **der, size_t *len)
{
	if (*pos >= chain_len)
		return 0;
	size_t left = chain_len - *pos;
	const uint8_t *p = chain + *pos;
	if (left < 3)
		return -1;
	size_t n = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
	if (n == 0 || n > left - 3)
		return -1;
	*der = p + 3;
	*len = n;
	*pos += 3 + n;
	return 1;
}
