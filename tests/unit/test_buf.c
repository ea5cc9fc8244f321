/*
 * test_buf.c - the shared byte buffer: appends (empty ones too), consume,
 * sliding live bytes to the front before growing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_append_consume(void **state)
{
	struct ho_buf b = {0};
	assert_int_equal(ho_buf_append(&b, NULL, 0), 0); /* empty field */
	assert_int_equal(ho_buf_used(&b), 0);
	assert_int_equal(ho_buf_append(&b, "hello", 5), 0);
	assert_int_equal(ho_buf_append(&b, " world", 6), 0);
	assert_int_equal(ho_buf_used(&b), 11);
	assert_memory_equal(ho_buf_data(&b), "hello world", 11);
	ho_buf_consume(&b, 6);
	assert_memory_equal(ho_buf_data(&b), "world", 5);
	ho_buf_consume(&b, 5);
	assert_int_equal(ho_buf_used(&b), 0);
	assert_int_equal(b.off, 0); /* emptied buffers restart at 0 */
	ho_buf_free(&b);
	assert_null(b.ptr);
	ho_buf_free(&b); /* twice is fine */
}

static void
test_slides_before_growing(void **state)
{
	struct ho_buf b = {0};
	uint8_t chunk[1000];
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 4; i++)
		assert_int_equal(ho_buf_append(&b, chunk, sizeof(chunk)), 0);
	size_t cap = b.cap;
	ho_buf_consume(&b, 3500);
	/* Room exists once the 500 live bytes move to the front. */
	assert_int_equal(ho_buf_reserve(&b, cap - 600), 0);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.off, 0);
	assert_int_equal(ho_buf_used(&b), 500);
	assert_int_equal(ho_buf_append(&b, "end", 3), 0);
	assert_memory_equal(ho_buf_data(&b) + 500, "end", 3);
	ho_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_consume),
	    cmocka_unit_test(test_slides_before_growing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
