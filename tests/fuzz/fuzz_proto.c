/*
 * fuzz_proto.c - libFuzzer target for the wire-format parser.
 *
 * Whatever the bytes, the parser must not crash or read outside them;
 * when it accepts a frame, every field must lie inside the input, and
 * rebuilding the frame from the parsed fields must parse to the same
 * fields (parser and builder agree on what is valid).  The certificate
 * chain reader stays inside the chain fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ho_proto_msg m;
	if (ho_proto_parse(data, size, &m) != 0)
		return 0;

	struct ho_proto_buf b;
	ho_proto_begin(&b, m.type);
	for (int f = 1; f < HO_F_COUNT; f++) {
		if (!m.f[f].present)
			continue;
		check(m.f[f].ptr >= data &&
		    m.f[f].ptr + m.f[f].len <= data + size);
		ho_proto_put(&b, f, m.f[f].ptr, m.f[f].len);
	}
	check(ho_proto_finish(&b) == 0);

	struct ho_proto_msg again;
	check(ho_proto_parse(b.buf, b.len, &again) == 0);
	check(again.type == m.type);
	for (int f = 1; f < HO_F_COUNT; f++) {
		check(again.f[f].present == m.f[f].present);
		check(again.f[f].len == m.f[f].len);
		if (m.f[f].len > 0)
			check(memcmp(again.f[f].ptr, m.f[f].ptr, m.f[f].len) ==
			    0);
	}

	/* The typed getters must be safe on anything the parser accepts. */
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	char s[HO_PROTO_MAX_STR + 1];
	for (int f = 0; f <= HO_F_COUNT; f++) {
		ho_proto_get_u8(&m, f, &u8);
		ho_proto_get_u16(&m, f, &u16);
		ho_proto_get_u32(&m, f, &u32);
		ho_proto_get_u64(&m, f, &u64);
		ho_proto_get_str(&m, f, s, sizeof(s));
	}
	/* So must the chain reader: every certificate inside the field,
	 * and the walk ends. */
	int chains[] = {HO_F_PEER_CHAIN, HO_F_CERT_CHAIN};
	for (int i = 0; i < 2; i++) {
		const struct ho_proto_field *c = &m.f[chains[i]];
		size_t pos = 0, len, last = 0;
		const uint8_t *der;
		while (ho_proto_chain_next(c->ptr, c->len, &pos, &der, &len) ==
		    1) {
			check(der > c->ptr && der + len <= c->ptr + c->len);
			check(pos > last && pos <= c->len);
			last = pos;
		}
	}
	ho_proto_buf_free(&b);
	return 0;
}
