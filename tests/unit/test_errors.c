/*
 * test_errors.c - the public error table: every code has its own text
 * and a HANDOFF_E<NAME> name, and unknown codes fall back safely; a
 * context's error text is each thread's own.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* Two threads fail on one context in different ways; each must read its
 * own reason every time (the text used to be one buffer in the context,
 * written by whichever thread failed last). */
#define FAILURES_PER_THREAD 20000
static struct handoff_ctx *shared_ctx;
static int pair[2];

static void *
fail_bad_fd(void *arg)
{
	long *wrong = arg;
	for (int i = 0; i < FAILURES_PER_THREAD; i++) {
		struct handoff_conn *c;
		if (handoff_accept_socket(shared_ctx, &c, -1) != -1 ||
		    strstr(handoff_ctx_error(shared_ctx),
		        "invalid descriptor") == NULL)
			(*wrong)++;
	}
	return NULL;
}

static void *
fail_no_name(void *arg)
{
	long *wrong = arg;
	for (int i = 0; i < FAILURES_PER_THREAD; i++) {
		struct handoff_conn *c;
		if (handoff_connect_socket(shared_ctx, &c, pair[0], NULL) !=
		        -1 ||
		    strstr(handoff_ctx_error(shared_ctx), "server name") ==
		        NULL)
			(*wrong)++;
	}
	return NULL;
}

static void
test_ctx_error_per_thread(void **state)
{
	(void)state;
	struct handoff_config *cfg = handoff_config_new();
	shared_ctx = handoff_ctx_new(cfg); /* verifies: names are needed */
	handoff_config_free(cfg);
	assert_non_null(shared_ctx);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	assert_string_equal(handoff_ctx_error(shared_ctx), "");
	long wrong[2] = {0, 0};
	pthread_t a, b;
	assert_int_equal(pthread_create(&a, NULL, fail_bad_fd, &wrong[0]), 0);
	assert_int_equal(pthread_create(&b, NULL, fail_no_name, &wrong[1]), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(wrong[0], 0);
	assert_int_equal(wrong[1], 0);
	/* This thread failed nothing on it. */
	assert_string_equal(handoff_ctx_error(shared_ctx), "");
	close(pair[0]);
	close(pair[1]);
	handoff_ctx_free(shared_ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_code_named),
	    cmocka_unit_test(test_unknown_codes),
	    cmocka_unit_test(test_ctx_error_per_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
