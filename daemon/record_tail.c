/*
 * record_tail.c - follows the TLS records of one direction of a handshake
 * and keeps the last bytes of the last encrypted handshake record.
 *
 * TLS 1.0 CBC uses the previous record's last cipher block as the next
 * record's IV, and GnuTLS keeps that chained state inside its cipher
 * handle: gnutls_record_get_state() returns only the IV the key block
 * gave.  The last record of the handshake in each direction is the
 * Finished, encrypted, so its last block is what the caller's record
 * layer starts from.  The bytes are ciphertext the peer sees anyway.
 */
#include <string.h>

#include "handoffd.h"

#define CT_CHANGE_CIPHER_SPEC 20
#define CT_HANDSHAKE 22
#define CBC_BLOCK 16

/* Keeps the last sizeof(t->win) bytes of the current record's body. */
static void
window_add(struct ho_record_tail *t, const uint8_t *p, size_t n)
{
	size_t cap = sizeof(t->win);
	if (n >= cap) {
		memcpy(t->win, p + n - cap, cap);
		t->win_len = cap;
		return;
	}
	size_t keep = t->win_len < cap - n ? t->win_len : cap - n;
	memmove(t->win, t->win + t->win_len - keep, keep);
	memcpy(t->win + keep, p, n);
	t->win_len = keep + n;
}

static void
record_end(struct ho_record_tail *t)
{
	if (t->hdr[0] == CT_CHANGE_CIPHER_SPEC) {
		t->encrypted = 1;
	} else if (t->encrypted && t->hdr[0] == CT_HANDSHAKE) {
		memcpy(t->last, t->win, t->win_len);
		t->last_len = t->win_len;
	}
	t->hdr_have = 0;
	t->win_len = 0;
}

void
ho_record_tail_feed(struct ho_record_tail *t, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (t->hdr_have < sizeof(t->hdr)) {
			size_t take = sizeof(t->hdr) - t->hdr_have;
			if (take > n)
				take = n;
			memcpy(t->hdr + t->hdr_have, p, take);
			t->hdr_have += take;
			p += take;
			n -= take;
			if (t->hdr_have == sizeof(t->hdr)) {
				t->body_left =
				    (size_t)t->hdr[3] << 8 | t->hdr[4];
				if (t->body_left == 0)
					record_end(t);
			}
			continue;
		}
		size_t take = t->body_left < n ? t->body_left : n;
		window_add(t, p, take);
		t->body_left -= take;
		p += take;
		n -= take;
		if (t->body_left == 0)
			record_end(t);
	}
}

int
ho_record_tail_block(
    const struct ho_record_tail *t, size_t skip, uint8_t *block)
{
	if (t->last_len < skip + CBC_BLOCK)
		return -1;
	memcpy(block, t->last + t->last_len - skip - CBC_BLOCK, CBC_BLOCK);
	return 0;
}
