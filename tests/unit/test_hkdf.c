/*
 * test_hkdf.c - HKDF-Expand-Label (RFC 8446 7.1) against the RFC 8448
 * section 3 values, and its refusals.  KeyUpdate in the caller rests on
 * it, so a wrong label encoding would break every rekeyed connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json_mini.h"
#include "record.h"

static void
test_rfc8448_labels(void **state)
{
	struct json *doc =
	    json_load(VECTORS_DIR "/rfc8446_hkdf_expand_label.json");
	assert_non_null(doc);
	int n = 0;
	for (const struct json *t = json_get(doc, "tests")->child; t;
	     t = t->next, n++) {
		uint8_t secret[64], context[64], want[255], out[255];
		uint64_t len;
		long sl =
		    json_hex(json_str(t, "secret"), secret, sizeof(secret));
		long cl =
		    json_hex(json_str(t, "context"), context, sizeof(context));
		long wl = json_hex(json_str(t, "out"), want, sizeof(want));
		assert_int_equal(json_u64(t, "L", &len), 0);
		assert_true(sl > 0 && cl >= 0 && wl == (long)len);
		assert_int_equal(
		    ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret, (size_t)sl,
		        json_str(t, "label"), cl ? context : NULL, (size_t)cl,
		        out, (size_t)len),
		    0);
		assert_memory_equal(out, want, (size_t)len);
	}
	assert_true(n >= 5);
	json_free(doc);
}

static void
test_refusals(void **state)
{
	uint8_t secret[32] = {0}, out[32];
	char label[252];
	memset(label, 'a', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0'; /* 251 + "tls13 " > 255 */
	assert_int_equal(ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret, 32,
	                     label, NULL, 0, out, 32),
	    -1);
	label[249] = '\0'; /* 249 + 6 = 255: allowed */
	assert_int_equal(ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret, 32,
	                     label, NULL, 0, out, 32),
	    0);
	assert_int_equal(ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret, 32,
	                     "key", NULL, 0, out, 0),
	    -1);
	assert_int_equal(ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret, 32,
	                     "key", NULL, 0, out, 255 * 32 + 1),
	    -1);
	assert_int_equal(ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret, 32,
	                     NULL, NULL, 0, out, 16),
	    -1);
	assert_int_equal(ho_hkdf_expand_label(GNUTLS_MAC_SHA256, secret, 32,
	                     "key", NULL, 5, out, 16),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc8448_labels),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
