/*
 * fuzz_record.c - libFuzzer target for the caller's record receive path:
 * hostile records under a fixed key, TLS 1.3 and TLS 1.2.
 *
 * The first byte picks the suite; the rest is what a peer sends after the
 * handshake.  Records are cut from the stream as conn.c does (5-byte
 * header, bounded length) and opened in place; a TLS 1.3 KeyUpdate that
 * opens moves the read key on, as conn.c would.  Whatever the bytes, open
 * must not crash or read or write outside the record, and what it
 * returns must lie inside the record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record_keys.h"

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
	static uint8_t rec[HO_REC_MAX_RECORD];
	struct ho_rec r;
	if (size < 1 || fuzz_record_setup(&r, data[0], HO_REC_READ) != 0)
		return 0;
	const uint8_t *p = data + 1;
	size_t left = size - 1;
	while (left >= HO_REC_HEADER_LEN) {
		size_t body = (size_t)p[3] << 8 | p[4];
		if (body > HO_REC_MAX_BODY || HO_REC_HEADER_LEN + body > left)
			break; /* conn.c: record_overflow, or wait for more */
		size_t len = HO_REC_HEADER_LEN + body;
		memcpy(rec, p, len);
		uint8_t type, *plain;
		size_t plain_len;
		if (ho_rec_open(&r, rec, len, &type, &plain, &plain_len) ==
		    0) {
			check(plain >= rec && plain + plain_len <= rec + len);
			check(plain_len <= HO_REC_MAX_PLAIN);
			if (r.version == HO_TLS13 && type == HO_CT_HANDSHAKE &&
			    plain_len == 5 && plain[0] == 24)
				check(ho_rec_update(&r, HO_REC_READ) == 0);
		}
		p += len;
		left -= len;
	}
	ho_rec_clear(&r);
	return 0;
}
