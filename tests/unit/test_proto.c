/*
 * test_proto.c - the wire format: round trips, and one test per refusal.
 *
 * The parser is the daemon's first line of defence against whatever a
 * local process sends, so every way a frame can be wrong has a test that
 * the parser names it, and the builder refuses to produce it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "proto.h"

/* A hand-made frame: header plus raw TLV bytes, for malformed inputs. */
struct frame {
	uint8_t buf[HO_PROTO_MAX_MSG + 64];
	size_t len;
};

static void
frame_begin(struct frame *f, int type)
{
	memcpy(f->buf, "HOFF", 4);
	f->buf[4] = HO_PROTO_VERSION;
	f->buf[5] = (uint8_t)type;
	f->buf[6] = 0;
	f->buf[7] = 0;
	f->len = 8;
}

static void
frame_field(
    struct frame *f, unsigned type, uint32_t len, const void *p, size_t actual)
{
	uint8_t *q = f->buf + f->len;
	q[0] = (uint8_t)(type >> 8);
	q[1] = (uint8_t)type;
	q[2] = (uint8_t)(len >> 24);
	q[3] = (uint8_t)(len >> 16);
	q[4] = (uint8_t)(len >> 8);
	q[5] = (uint8_t)len;
	if (actual > 0)
		memcpy(q + 6, p, actual);
	f->len += 6 + actual;
}

static int
parse(const struct frame *f)
{
	struct ho_proto_msg m;
	return ho_proto_parse(f->buf, f->len, &m);
}

static void
test_round_trip_every_kind(void **state)
{
	struct ho_proto_buf b;
	uint8_t token[HO_PROTO_TOKEN_LEN], key[32];
	memset(token, 0xab, sizeof(token));
	memset(key, 0x11, sizeof(key));
	ho_proto_begin(&b, HO_MSG_HS_DONE);
	ho_proto_put(&b, HO_F_TOKEN, token, sizeof(token));
	ho_proto_put_str(&b, HO_F_PROFILE, "web");
	ho_proto_put_u8(&b, HO_F_ROLE, HO_ROLE_SERVER);
	ho_proto_put(&b, HO_F_INPUT, "", 0);
	ho_proto_put(&b, HO_F_OUTPUT, "\x16\x03\x03", 3);
	ho_proto_put_u16(&b, HO_F_VERSION, 0x0304);
	ho_proto_put_u32(&b, HO_F_ERROR_CODE, 0xdeadbeef);
	ho_proto_put_u64(&b, HO_F_READ_SEQ, UINT64_MAX - 1);
	ho_proto_put(&b, HO_F_READ_KEY, key, sizeof(key));
	ho_proto_put_str(&b, HO_F_ERROR_TEXT, "");
	assert_int_equal(ho_proto_finish(&b), 0);

	struct ho_proto_msg m;
	assert_int_equal(ho_proto_parse(b.buf, b.len, &m), 0);
	assert_int_equal(m.type, HO_MSG_HS_DONE);
	assert_memory_equal(m.f[HO_F_TOKEN].ptr, token, sizeof(token));
	char s[16];
	assert_int_equal(ho_proto_get_str(&m, HO_F_PROFILE, s, sizeof(s)), 0);
	assert_string_equal(s, "web");
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	assert_int_equal(ho_proto_get_u8(&m, HO_F_ROLE, &u8), 0);
	assert_int_equal(u8, HO_ROLE_SERVER);
	assert_int_equal(ho_proto_get_u16(&m, HO_F_VERSION, &u16), 0);
	assert_int_equal(u16, 0x0304);
	assert_int_equal(ho_proto_get_u32(&m, HO_F_ERROR_CODE, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(ho_proto_get_u64(&m, HO_F_READ_SEQ, &u64), 0);
	assert_true(u64 == UINT64_MAX - 1);
	assert_true(m.f[HO_F_INPUT].present);
	assert_int_equal(m.f[HO_F_INPUT].len, 0);
	assert_int_equal(m.f[HO_F_OUTPUT].len, 3);
	assert_memory_equal(m.f[HO_F_READ_KEY].ptr, key, sizeof(key));
	assert_true(m.f[HO_F_ERROR_TEXT].present);
	assert_false(m.f[HO_F_ALPN].present);
	ho_proto_buf_free(&b);
	assert_null(b.buf);
}

static void
test_every_prefix_is_refused(void **state)
{
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_HS_STEP);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, 7);
	ho_proto_put(&b, HO_F_INPUT, "abcdef", 6);
	assert_int_equal(ho_proto_finish(&b), 0);
	struct ho_proto_msg m;
	for (size_t n = 0; n < b.len; n++) {
		/* Cutting exactly between fields leaves a valid frame. */
		int r = ho_proto_parse(b.buf, n, &m);
		if (n == 8 || n == 8 + 6 + 8)
			assert_int_equal(r, 0);
		else
			assert_int_equal(r, HO_PROTO_E_TRUNCATED);
	}
	assert_int_equal(ho_proto_parse(b.buf, b.len, &m), 0);
	ho_proto_buf_free(&b);
}

static void
test_bad_magic(void **state)
{
	struct frame f;
	frame_begin(&f, HO_MSG_PING);
	f.buf[0] = 'X';
	assert_int_equal(parse(&f), HO_PROTO_E_MAGIC);
	struct ho_proto_msg m;
	assert_int_equal(ho_proto_parse((const uint8_t *)"GET / HTTP", 10, &m),
	    HO_PROTO_E_MAGIC);
	assert_int_equal(ho_proto_parse((const uint8_t *)"GET", 3, &m),
	    HO_PROTO_E_TRUNCATED);
}

static void
test_unknown_version(void **state)
{
	struct frame f;
	frame_begin(&f, HO_MSG_PING);
	f.buf[4] = HO_PROTO_VERSION + 1;
	assert_int_equal(parse(&f), HO_PROTO_E_VERSION);
	f.buf[4] = 0;
	assert_int_equal(parse(&f), HO_PROTO_E_VERSION);
}

static void
test_unknown_type(void **state)
{
	struct frame f;
	frame_begin(&f, 0);
	assert_int_equal(parse(&f), HO_PROTO_E_TYPE);
	frame_begin(&f, 200);
	assert_int_equal(parse(&f), HO_PROTO_E_TYPE);
}

static void
test_flags_refused(void **state)
{
	struct frame f;
	frame_begin(&f, HO_MSG_PING);
	f.buf[7] = 1;
	assert_int_equal(parse(&f), HO_PROTO_E_FLAGS);
}

static void
test_truncated_field_header(void **state)
{
	struct frame f;
	frame_begin(&f, HO_MSG_PING);
	f.buf[f.len++] = 0;
	f.buf[f.len++] = HO_F_PROFILE;
	f.buf[f.len++] = 0;
	assert_int_equal(parse(&f), HO_PROTO_E_TRUNCATED);
}

static void
test_field_past_end(void **state)
{
	struct frame f;
	frame_begin(&f, HO_MSG_HS_START);
	frame_field(&f, HO_F_INPUT, 100, "abc", 3);
	assert_int_equal(parse(&f), HO_PROTO_E_TRUNCATED);
	/* A length near 2^32 must not wrap an offset computation. */
	frame_begin(&f, HO_MSG_HS_START);
	frame_field(&f, HO_F_INPUT, 0xffffffffu, "abc", 3);
	assert_int_equal(parse(&f), HO_PROTO_E_TRUNCATED);
}

static void
test_unknown_field_type(void **state)
{
	struct frame f;
	frame_begin(&f, HO_MSG_PING);
	frame_field(&f, 0, 1, "x", 1);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_TYPE);
	frame_begin(&f, HO_MSG_PING);
	frame_field(&f, HO_F_COUNT, 1, "x", 1);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_TYPE);
	frame_begin(&f, HO_MSG_PING);
	frame_field(&f, 0xffff, 1, "x", 1);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_TYPE);
}

static void
test_fixed_sizes_enforced(void **state)
{
	static const struct {
		int field;
		size_t good;
	} cases[] = {{HO_F_ROLE, 1}, {HO_F_VERSION, 2}, {HO_F_ERROR_CODE, 4},
	    {HO_F_READ_SEQ, 8}, {HO_F_TOKEN, HO_PROTO_TOKEN_LEN}};
	uint8_t zeros[32] = {0};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t sizes[] = {0, cases[i].good - 1, cases[i].good + 1};
		for (size_t j = 0; j < 3; j++) {
			if (j == 1 && cases[i].good == 1)
				continue; /* same as 0 */
			struct frame f;
			frame_begin(&f, HO_MSG_HS_STEP);
			frame_field(&f, (unsigned)cases[i].field,
			    (uint32_t)sizes[j], zeros, sizes[j]);
			assert_int_equal(parse(&f), HO_PROTO_E_FIELD_LEN);
		}
		struct frame f;
		frame_begin(&f, HO_MSG_HS_STEP);
		frame_field(&f, (unsigned)cases[i].field,
		    (uint32_t)cases[i].good, zeros, cases[i].good);
		assert_int_equal(parse(&f), 0);
	}
}

static void
test_strings(void **state)
{
	struct frame f;
	char big[HO_PROTO_MAX_STR + 2];
	memset(big, 'a', sizeof(big));
	frame_begin(&f, HO_MSG_HS_START);
	frame_field(&f, HO_F_PROFILE, 0, "", 0);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_LEN);
	frame_begin(&f, HO_MSG_HS_START);
	frame_field(
	    &f, HO_F_PROFILE, HO_PROTO_MAX_STR + 1, big, HO_PROTO_MAX_STR + 1);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_LEN);
	frame_begin(&f, HO_MSG_HS_START);
	frame_field(&f, HO_F_PROFILE, HO_PROTO_MAX_STR, big, HO_PROTO_MAX_STR);
	assert_int_equal(parse(&f), 0);
	frame_begin(&f, HO_MSG_HS_START);
	frame_field(&f, HO_F_PROFILE, 3, "a\0b", 3);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_LEN);
	frame_begin(&f, HO_MSG_ERROR);
	frame_field(&f, HO_F_ERROR_TEXT, 3, "a\0b", 3);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_LEN);
}

static void
test_bytes_and_secrets_bounded(void **state)
{
	static struct frame f;
	static uint8_t data[HO_PROTO_MAX_BYTES + 1];
	frame_begin(&f, HO_MSG_HS_STEP);
	frame_field(&f, HO_F_INPUT, sizeof(data), data, sizeof(data));
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_LEN);
	frame_begin(&f, HO_MSG_HS_STEP);
	frame_field(
	    &f, HO_F_INPUT, HO_PROTO_MAX_BYTES, data, HO_PROTO_MAX_BYTES);
	assert_int_equal(parse(&f), 0);
	frame_begin(&f, HO_MSG_HS_DONE);
	frame_field(&f, HO_F_READ_KEY, 0, data, 0);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_LEN);
	frame_begin(&f, HO_MSG_HS_DONE);
	frame_field(&f, HO_F_READ_KEY, 65, data, 65);
	assert_int_equal(parse(&f), HO_PROTO_E_FIELD_LEN);
}

static void
test_duplicate_field(void **state)
{
	struct frame f;
	frame_begin(&f, HO_MSG_HS_START);
	frame_field(&f, HO_F_PROFILE, 1, "a", 1);
	frame_field(&f, HO_F_PROFILE, 1, "b", 1);
	assert_int_equal(parse(&f), HO_PROTO_E_DUPLICATE);
}

static void
test_too_big(void **state)
{
	static uint8_t buf[HO_PROTO_MAX_MSG + 1];
	struct ho_proto_msg m;
	memcpy(buf, "HOFF\x01\x01\x00\x00", 8);
	assert_int_equal(
	    ho_proto_parse(buf, sizeof(buf), &m), HO_PROTO_E_TOO_BIG);
	/* The builder stops at the same limit. */
	struct ho_proto_buf b;
	static uint8_t chunk[HO_PROTO_MAX_BYTES];
	ho_proto_begin(&b, HO_MSG_HS_DONE);
	ho_proto_put(&b, HO_F_INPUT, chunk, sizeof(chunk));
	ho_proto_put(&b, HO_F_OUTPUT, chunk, sizeof(chunk));
	ho_proto_put(&b, HO_F_LEFTOVER, chunk, sizeof(chunk));
	assert_int_equal(ho_proto_finish(&b), HO_PROTO_E_TOO_BIG);
	ho_proto_buf_free(&b);
}

static void
test_builder_refusals_stick(void **state)
{
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_PING);
	ho_proto_put(&b, HO_F_PROFILE, "a\0b", 3);
	ho_proto_put_str(&b, HO_F_PROFILE, "fine"); /* does not clear it */
	assert_int_equal(ho_proto_finish(&b), HO_PROTO_E_FIELD_LEN);
	ho_proto_buf_free(&b);

	ho_proto_begin(&b, HO_MSG_PING);
	ho_proto_put(&b, HO_F_COUNT, "x", 1);
	assert_int_equal(ho_proto_finish(&b), HO_PROTO_E_FIELD_TYPE);
	ho_proto_buf_free(&b);

	ho_proto_begin(&b, HO_MSG_PING);
	ho_proto_put_u16(&b, HO_F_ROLE, 1); /* ROLE is one byte */
	assert_int_equal(ho_proto_finish(&b), HO_PROTO_E_FIELD_LEN);
	ho_proto_buf_free(&b);

	ho_proto_begin(&b, 99);
	assert_int_equal(ho_proto_finish(&b), HO_PROTO_E_TYPE);
	ho_proto_buf_free(&b);

	ho_proto_begin(&b, HO_MSG_PING);
	ho_proto_put_str(&b, HO_F_PROFILE, "");
	assert_int_equal(ho_proto_finish(&b), HO_PROTO_E_FIELD_LEN);
	ho_proto_buf_free(&b);
}

/* Certificate chains: what add writes, next reads back; malformed
 * rests are refused, never read past. */
static void
test_chains(void **state)
{
	(void)state;
	struct ho_buf c = {0};
	static const uint8_t a[] = {0x30, 0x01, 0x02}, b[300] = {0x30};
	assert_int_equal(ho_proto_chain_add(&c, a, sizeof(a)), 0);
	assert_int_equal(ho_proto_chain_add(&c, b, sizeof(b)), 0);
	assert_int_equal(ho_proto_chain_add(&c, a, 0), -1);
	assert_int_equal(ho_buf_used(&c), 3 + 3 + 3 + 300);
	const uint8_t *p = ho_buf_data(&c), *der;
	size_t pos = 0, len;
	assert_memory_equal(p, "\x00\x00\x03", 3);
	assert_memory_equal(p + 6, "\x00\x01\x2c", 3);
	assert_int_equal(ho_proto_chain_next(p, 309, &pos, &der, &len), 1);
	assert_int_equal(len, 3);
	assert_ptr_equal(der, p + 3);
	assert_int_equal(ho_proto_chain_next(p, 309, &pos, &der, &len), 1);
	assert_int_equal(len, 300);
	assert_int_equal(pos, 309);
	assert_int_equal(ho_proto_chain_next(p, 309, &pos, &der, &len), 0);
	/* The second certificate cut short, its length cut short, and a
	 * zero length: each refused where it starts. */
	pos = 6;
	assert_int_equal(ho_proto_chain_next(p, 308, &pos, &der, &len), -1);
	assert_int_equal(pos, 6);
	pos = 6;
	assert_int_equal(ho_proto_chain_next(p, 8, &pos, &der, &len), -1);
	pos = 0;
	assert_int_equal(ho_proto_chain_next(
	                     (const uint8_t *)"\0\0\0", 3, &pos, &der, &len),
	    -1);
	/* An empty or absent field is an empty chain. */
	pos = 0;
	assert_int_equal(ho_proto_chain_next(NULL, 0, &pos, &der, &len), 0);
	ho_buf_free(&c);
}

static void
test_getters_refuse(void **state)
{
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_PONG);
	ho_proto_put_str(&b, HO_F_DAEMON_VERSION, "0.1.0");
	assert_int_equal(ho_proto_finish(&b), 0);
	struct ho_proto_msg m;
	assert_int_equal(ho_proto_parse(b.buf, b.len, &m), 0);
	uint64_t v;
	assert_int_equal(ho_proto_get_u64(&m, HO_F_UPTIME_MS, &v), -1);
	assert_int_equal(ho_proto_get_u64(&m, 0, &v), -1);
	assert_int_equal(ho_proto_get_u64(&m, HO_F_COUNT, &v), -1);
	char small[5], fits[6];
	assert_int_equal(
	    ho_proto_get_str(&m, HO_F_DAEMON_VERSION, small, sizeof(small)),
	    -1);
	assert_int_equal(
	    ho_proto_get_str(&m, HO_F_DAEMON_VERSION, fits, sizeof(fits)), 0);
	assert_string_equal(fits, "0.1.0");
	ho_proto_buf_free(&b);
}

static void
test_texts_never_null(void **state)
{
	for (int e = -20; e <= 1; e++)
		assert_non_null(ho_proto_strerror(e));
	assert_string_equal(ho_proto_strerror(HO_PROTO_E_MAGIC),
	    "not a handoff message (bad magic)");
	for (int t = 0; t < 256; t++)
		assert_non_null(ho_proto_msg_name(t));
	assert_string_equal(ho_proto_msg_name(HO_MSG_PING), "ping");
	assert_string_equal(ho_proto_msg_name(250), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_every_kind),
	    cmocka_unit_test(test_every_prefix_is_refused),
	    cmocka_unit_test(test_bad_magic),
	    cmocka_unit_test(test_unknown_version),
	    cmocka_unit_test(test_unknown_type),
	    cmocka_unit_test(test_flags_refused),
	    cmocka_unit_test(test_truncated_field_header),
	    cmocka_unit_test(test_field_past_end),
	    cmocka_unit_test(test_unknown_field_type),
	    cmocka_unit_test(test_fixed_sizes_enforced),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_bytes_and_secrets_bounded),
	    cmocka_unit_test(test_duplicate_field),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_builder_refusals_stick),
	    cmocka_unit_test(test_getters_refuse),
	    cmocka_unit_test(test_chains),
	    cmocka_unit_test(test_texts_never_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
