/*
 * hs_input.c - when the peer's bytes buffered during a handshake are
 * worth a trip to handoffd.
 *
 * Each trip is a step in the daemon (a GnuTLS call on a worker), so a
 * trip that cannot move the handshake on is wasted work there.  A whole
 * record is the least worth sending.  A server's first trip waits for
 * more: the whole ClientHello, which a peer may spread over many records
 * (a hostile one, one byte per record, every 200 ms, cost one step per
 * record until the handshake's time limit ended it).  The ClientHello is
 * plaintext, so its length can be read here; later flights are encrypted
 * (TLS 1.3) and go record by record.
 */
#include "handoff_internal.h"

/* A ClientHello declared longer than this is not waited for: whole
 * records go as they come, and the daemon's GnuTLS judges it.  Real ones
 * are well under it (a few hundred bytes; ~2 KiB with a post-quantum key
 * share). */
#define HO_HS_HELLO_WAIT_MAX (16 * 1024)
/* Nor once this much is buffered: the bytes are walked again at each
 * read, so a peer sending thousands of tiny records must not make that
 * walk long (and the buffer stays small). */
#define HO_HS_WAIT_BUFFERED_MAX (32 * 1024)
/* Handshake message header: type (1), length (3). */
#define HO_HS_MSG_HEADER_LEN 4

/* The record header at p: its body length, or -1 when it is not TLS
 * (then the daemon's GnuTLS refuses it with the right alert, rather than
 * this side waiting for a "record" that never completes). */
static long
record_body(const uint8_t *p)
{
	size_t body = (size_t)p[3] << 8 | p[4];
	if (p[0] < HO_CT_CHANGE_CIPHER_SPEC || p[0] > HO_CT_APPLICATION_DATA ||
	    p[1] != 3 || body > HO_REC_MAX_BODY)
		return -1;
	return (long)body;
}

/* Whether the handshake records at the start of p hold a whole first
 * handshake message; any other record, or a declared length beyond
 * HO_HS_HELLO_WAIT_MAX, ends the wait too. */
static int
first_message_complete(const uint8_t *p, size_t n)
{
	uint8_t header[HO_HS_MSG_HEADER_LEN];
	size_t got = 0; /* handshake bytes in the whole records so far */
	for (size_t off = 0; off + HO_REC_HEADER_LEN <= n;) {
		long body = record_body(p + off);
		if (body < 0)
			return 1;
		if (off + HO_REC_HEADER_LEN + (size_t)body > n)
			return 0; /* this record is still coming */
		if (p[off] != HO_CT_HANDSHAKE)
			return 1;
		const uint8_t *b = p + off + HO_REC_HEADER_LEN;
		for (long i = 0;
		     i < body && got + (size_t)i < HO_HS_MSG_HEADER_LEN; i++)
			header[got + (size_t)i] = b[i];
		got += (size_t)body;
		if (got >= HO_HS_MSG_HEADER_LEN) {
			size_t len = (size_t)header[1] << 16 |
			    (size_t)header[2] << 8 | header[3];
			if (len > HO_HS_HELLO_WAIT_MAX ||
			    got >= HO_HS_MSG_HEADER_LEN + len)
				return 1;
		}
		off += HO_REC_HEADER_LEN + (size_t)body;
	}
	return 0;
}

int
ho_hs_input_ready(const uint8_t *p, size_t n, int first_message)
{
	if (n < HO_REC_HEADER_LEN)
		return 0;
	long body = record_body(p);
	if (body < 0)
		return 1;
	if (n < HO_REC_HEADER_LEN + (size_t)body)
		return 0;
	if (!first_message || p[0] != HO_CT_HANDSHAKE)
		return 1;
	if (n > HO_HS_WAIT_BUFFERED_MAX)
		return 1;
	return first_message_complete(p, n);
}
