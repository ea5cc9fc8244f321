/*
 * test_buf.c - the shared byte buffer: appends (empty ones too), consume,
 * sliding live bytes to the front before growing; and that buffers and
 * protocol frames (which carry session keys) are wiped before their memory
 * is freed, seen by wrapping free() (linked with -Wl,--wrap=free).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "proto.h"

/* free() of the watched block records whether it was all zeros. */
void __real_free(void *p);
void __wrap_free(void *p);
static const void *watched;
static size_t watched_len;
static int watched_freed, watched_clean;

void
__wrap_free(void *p)
{
	if (p != NULL && p == watched) {
		watched_freed = 1;
		watched_clean = 1;
		for (size_t i = 0; i < watched_len; i++)
			if (((const uint8_t *)p)[i] != 0)
				watched_clean = 0;
		watched = NULL;
	}
	__real_free(p);
}

static void
watch(const void *p, size_t len)
{
	watched = p;
	watched_len = len;
	watched_freed = watched_clean = 0;
}

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

static void
test_wiped_before_free(void **state)
{
	(void)state;
	uint8_t secret[100];
	memset(secret, 0xab, sizeof(secret));
	struct ho_buf b = {0};
	assert_int_equal(ho_buf_append(&b, secret, sizeof(secret)), 0);
	/* Growing moves the bytes: the old block is wiped first (as far
	 * as anything was ever written to it). */
	assert_int_equal(b.high, sizeof(secret));
	watch(b.ptr, b.high);
	assert_int_equal(ho_buf_reserve(&b, b.cap * 4), 0);
	assert_true(watched_freed);
	assert_true(watched_clean);
	/* Bytes written in place (a socket read) count once committed, and
	 * consumed ones still do: all of them are wiped. */
	size_t at = b.len;
	memset(b.ptr + at, 0xcd, 200);
	ho_buf_commit(&b, 200);
	assert_int_equal(b.high, at + 200);
	ho_buf_consume(&b, ho_buf_used(&b));
	assert_int_equal(ho_buf_used(&b), 0);
	watch(b.ptr, at + 200);
	ho_buf_free(&b);
	assert_true(watched_freed);
	assert_true(watched_clean);

	/* A frame holding keys (a DONE reply) is wiped by its builder. */
	struct ho_proto_buf f;
	ho_proto_begin(&f, HO_MSG_HS_DONE);
	ho_proto_put(&f, HO_F_WRITE_KEY, secret, 32);
	assert_int_equal(ho_proto_finish(&f), 0);
	watch(f.buf, f.cap);
	ho_proto_buf_free(&f);
	assert_true(watched_freed);
	assert_true(watched_clean);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_consume),
	    cmocka_unit_test(test_slides_before_growing),
	    cmocka_unit_test(test_wiped_before_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
