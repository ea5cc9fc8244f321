/*
 * test_errors.c - the public error table: every code has its own text
 * and a HANDOFF_E<NAME> name, and unknown codes fall back safely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "handoff.h"

static void
test_every_code_named(void **state)
{
	static const struct {
		int code;
		const char *name;
	} codes[] = {
#define HANDOFF_X(name, num, text) {num, "HANDOFF_E" #name},
	    HANDOFF_ERRNO_MAP(HANDOFF_X)
#undef HANDOFF_X
	};
	size_t n = sizeof(codes) / sizeof(codes[0]);
	for (size_t i = 0; i < n; i++) {
		const char *text = handoff_strerror(codes[i].code);
		assert_non_null(text);
		assert_true(strlen(text) > 0);
		assert_string_not_equal(text, "unknown error");
		assert_string_equal(
		    handoff_err_name(codes[i].code), codes[i].name);
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(codes[i].code, codes[j].code);
			assert_string_not_equal(
			    text, handoff_strerror(codes[j].code));
		}
	}
}

static void
test_unknown_codes(void **state)
{
	assert_string_equal(handoff_strerror(-1), "unknown error");
	assert_string_equal(handoff_strerror(9999), "unknown error");
	assert_string_equal(handoff_err_name(9999), "HANDOFF_E?");
	assert_string_equal(handoff_err_name(HANDOFF_EBUSY), "HANDOFF_EBUSY");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_code_named),
	    cmocka_unit_test(test_unknown_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
