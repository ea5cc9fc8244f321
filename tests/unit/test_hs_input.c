/*
 * test_hs_input.c - when a handshake's buffered peer bytes go to handoffd
 * (lib/hs_input.c): a whole record, or for a server's first message the
 * whole ClientHello, however it is cut into records.  The records are
 * built here; trickle.sh checks the same against the real daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "handoff_internal.h"

#define HELLO_LEN 300 /* handshake body: a typical ClientHello's size */

static uint8_t wire[128 * 1024];

/* A handshake message: type 1 (ClientHello), 3-byte length, body. */
static size_t
make_hello(uint8_t *msg, size_t body_len)
{
	msg[0] = 1;
	msg[1] = (uint8_t)(body_len >> 16);
	msg[2] = (uint8_t)(body_len >> 8);
	msg[3] = (uint8_t)body_len;
	for (size_t i = 0; i < body_len; i++)
		msg[4 + i] = (uint8_t)(i * 7);
	return 4 + body_len;
}

/* Appends a record of the given type holding len bytes of data. */
static size_t
put_record(uint8_t *out, uint8_t type, const uint8_t *data, size_t len)
{
	out[0] = type;
	out[1] = 3;
	out[2] = 1;
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	memcpy(out + 5, data, len);
	return 5 + len;
}

/* msg cut into records of at most frag bytes; returns the wire length
 * and, in ends, where each record ends. */
static size_t
fragment(
    const uint8_t *msg, size_t len, size_t frag, size_t *ends, size_t *nrec)
{
	size_t off = 0, w = 0;
	*nrec = 0;
	while (off < len) {
		size_t take = len - off < frag ? len - off : frag;
		w += put_record(wire + w, HO_CT_HANDSHAKE, msg + off, take);
		ends[(*nrec)++] = w;
		off += take;
	}
	return w;
}

static void
test_short_and_partial(void **state)
{
	(void)state;
	uint8_t msg[4 + HELLO_LEN];
	size_t len = make_hello(msg, HELLO_LEN);
	size_t w = put_record(wire, HO_CT_HANDSHAKE, msg, len);
	for (size_t n = 0; n < w; n++)
		assert_int_equal(ho_hs_input_ready(wire, n, 1), 0);
	assert_int_equal(ho_hs_input_ready(wire, w, 1), 1);
	assert_int_equal(ho_hs_input_ready(wire, w, 0), 1);
}

static void
test_not_tls_goes_at_once(void **state)
{
	(void)state;
	/* The daemon's GnuTLS answers these with the right alert. */
	assert_int_equal(
	    ho_hs_input_ready((const uint8_t *)"GET / ", 6, 1), 1);
	uint8_t big[5] = {HO_CT_HANDSHAKE, 3, 1, 0xff, 0xff}; /* too long */
	assert_int_equal(ho_hs_input_ready(big, sizeof(big), 1), 1);
	uint8_t v2[5] = {0x80, 0x2e, 0x01, 0x03, 0x01}; /* SSLv2 hello */
	assert_int_equal(ho_hs_input_ready(v2, sizeof(v2), 1), 1);
}

/* One byte per record (the trickling peer): nothing goes until the last
 * byte, when it all goes; past the first message, each record goes. */
static void
test_hello_in_tiny_records(void **state)
{
	(void)state;
	static uint8_t msg[4 + HELLO_LEN];
	static size_t ends[4 + HELLO_LEN];
	size_t len = make_hello(msg, HELLO_LEN), nrec;
	size_t w = fragment(msg, len, 1, ends, &nrec);
	assert_int_equal(nrec, len);
	for (size_t r = 0; r + 1 < nrec; r++) {
		assert_int_equal(ho_hs_input_ready(wire, ends[r], 1), 0);
		assert_int_equal(ho_hs_input_ready(wire, ends[r], 0), 1);
	}
	assert_int_equal(ho_hs_input_ready(wire, w, 1), 1);
}

/* Cuts at every size, so the message header itself is split too. */
static void
test_hello_cut_every_way(void **state)
{
	(void)state;
	static uint8_t msg[4 + HELLO_LEN];
	static size_t ends[4 + HELLO_LEN];
	size_t len = make_hello(msg, HELLO_LEN), nrec;
	for (size_t frag = 1; frag <= len; frag++) {
		size_t w = fragment(msg, len, frag, ends, &nrec);
		for (size_t n = 0; n < w; n++)
			assert_int_equal(ho_hs_input_ready(wire, n, 1), 0);
		assert_int_equal(ho_hs_input_ready(wire, w, 1), 1);
	}
}

/* A declared length beyond what is waited for: whole records go. */
static void
test_huge_declared_length(void **state)
{
	(void)state;
	uint8_t msg[4 + 100];
	make_hello(msg, 100);
	msg[1] = 0x01; /* declares 64 KiB + 100 */
	size_t w = put_record(wire, HO_CT_HANDSHAKE, msg, sizeof(msg));
	assert_int_equal(ho_hs_input_ready(wire, w, 1), 1);
	assert_int_equal(ho_hs_input_ready(wire, w - 1, 1), 0);
}

/* Another record in the middle of the first message ends the wait: the
 * daemon says what is wrong with it. */
static void
test_other_record_ends_wait(void **state)
{
	(void)state;
	uint8_t msg[4 + HELLO_LEN];
	size_t len = make_hello(msg, HELLO_LEN);
	size_t w = put_record(wire, HO_CT_HANDSHAKE, msg, len / 2);
	assert_int_equal(ho_hs_input_ready(wire, w, 1), 0);
	static const uint8_t alert[2] = {2, 40};
	w += put_record(wire + w, HO_CT_ALERT, alert, sizeof(alert));
	assert_int_equal(ho_hs_input_ready(wire, w - 1, 1), 0);
	assert_int_equal(ho_hs_input_ready(wire, w, 1), 1);
	/* And an alert first goes at once. */
	w = put_record(wire, HO_CT_ALERT, alert, sizeof(alert));
	assert_int_equal(ho_hs_input_ready(wire, w, 1), 1);
}

/* Empty handshake records never complete a message: past 32 KiB of them
 * the bytes go anyway, so the buffer and the walk stay bounded. */
static void
test_empty_records_bounded(void **state)
{
	(void)state;
	size_t w = 0;
	while (w <= 32 * 1024) {
		assert_int_equal(ho_hs_input_ready(wire, w, 1), 0);
		w += put_record(wire + w, HO_CT_HANDSHAKE, wire, 0);
	}
	assert_int_equal(ho_hs_input_ready(wire, w, 1), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_short_and_partial),
	    cmocka_unit_test(test_not_tls_goes_at_once),
	    cmocka_unit_test(test_hello_in_tiny_records),
	    cmocka_unit_test(test_hello_cut_every_way),
	    cmocka_unit_test(test_huge_declared_length),
	    cmocka_unit_test(test_other_record_ends_wait),
	    cmocka_unit_test(test_empty_records_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
