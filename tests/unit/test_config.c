/*
 * test_config.c - handoffd's INI parser: a full file read right, and each
 * refusal reported at the right line with the key named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char dir[] = "/tmp/handoff-test-config.XXXXXX";

/* Writes text to a file and loads it; returns ho_config_load's result. */
static int
load(const char *text, struct ho_config *cfg, char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/handoffd.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	ho_config_defaults(cfg);
	err[0] = '\0';
	int r = ho_config_load(cfg, path, err, errlen);
	if (r == 0)
		r = ho_config_check(cfg, path, err, errlen);
	unlink(path);
	return r;
}

/* Expects a refusal at line `line` whose message contains `words`. */
static void
refused(const char *text, int line, const char *words)
{
	struct ho_config cfg;
	char err[600], where[32];
	if (load(text, &cfg, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", text);
	if (line > 0) {
		snprintf(where, sizeof(where), "handoffd.conf:%d: ", line);
		if (strstr(err, where) == NULL)
			fail_msg("expected \"%s\" in \"%s\"", where, err);
	}
	if (strstr(err, words) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", words, err);
	ho_config_free(&cfg);
}

static void
test_full_file(void **state)
{
	struct ho_config cfg;
	char err[600];
	assert_int_equal(load("; comment\n"
	                      "[daemon]\n"
	                      "listen = ipc:///tmp/x.sock\n"
	                      "workers = 3\n"
	                      "scheduling = normal\n"
	                      "kx_backend = gnutls\n"
	                      "hash_backend = auto\n"
	                      "session_timeout = 12\n"
	                      "max_sessions = 500\n"
	                      "log_level = debug\n"
	                      "user = nobody\n"
	                      "verify_cache_size = 0\n"
	                      "\n"
	                      "[profile web-1]\n"
	                      "certificate = /etc/c.pem\n"
	                      "key = /etc/k.pem\n"
	                      "priority = NORMAL:-VERS-ALL:+VERS-TLS1.3\n"
	                      "alpn = h2, http/1.1\n"
	                      "server_names = www.example.com, *.example.org\n"
	                      "client_auth = require\n"
	                      "allow_sign = yes\n"
	                      "trust = /etc/ca.pem\n"
	                      "[profile other]\n"
	                      "certificate = c2\n"
	                      "key = k2\n",
	                     &cfg, err, sizeof(err)),
	    0);
	assert_string_equal(cfg.listen, "ipc:///tmp/x.sock");
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.scheduling, HO_SCHEDULING_NORMAL);
	assert_int_equal(cfg.kx_backend, HO_BACKEND_GNUTLS);
	assert_int_equal(cfg.hash_backend, HO_BACKEND_AUTO);
	assert_int_equal(cfg.session_timeout_ms, 12000);
	assert_int_equal(cfg.max_sessions, 500);
	assert_int_equal(cfg.log_level, HO_LOG_DEBUG);
	assert_string_equal(cfg.user, "nobody");
	assert_int_equal(cfg.verify_cache_size, 0);
	assert_int_equal(cfg.profile_count, 2);
	struct ho_profile_config *p = &cfg.profiles[0];
	assert_string_equal(p->name, "web-1");
	assert_string_equal(p->certificate, "/etc/c.pem");
	assert_string_equal(p->key, "/etc/k.pem");
	assert_string_equal(p->priority, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
	assert_int_equal(p->alpn_count, 2);
	assert_string_equal(p->alpn[0], "h2");
	assert_string_equal(p->alpn[1], "http/1.1");
	assert_int_equal(p->server_name_count, 2);
	assert_string_equal(p->server_names[1], "*.example.org");
	assert_int_equal(p->client_auth, HO_CLIENT_AUTH_REQUIRE);
	assert_int_equal(p->allow_sign, 1);
	assert_string_equal(p->trust, "/etc/ca.pem");
	assert_string_equal(cfg.profiles[1].name, "other");
	assert_int_equal(cfg.profiles[1].allow_sign, 0); /* off by default */
	assert_null(cfg.profiles[1].priority);
	ho_config_free(&cfg);

	/* The three backends are set apart. */
	assert_int_equal(load("[daemon]\nhash_backend = gnutls\n"
	                      "[profile p]\ncertificate = c\nkey = k\n",
	                     &cfg, err, sizeof(err)),
	    0);
	assert_int_equal(cfg.hash_backend, HO_BACKEND_GNUTLS);
	assert_int_equal(cfg.kx_backend, HO_BACKEND_AUTO);
	assert_int_equal(cfg.verify_backend, HO_BACKEND_AUTO);
	ho_config_free(&cfg);
	assert_int_equal(load("[daemon]\nverify_backend = gnutls\n"
	                      "[profile p]\ncertificate = c\nkey = k\n",
	                     &cfg, err, sizeof(err)),
	    0);
	assert_int_equal(cfg.verify_backend, HO_BACKEND_GNUTLS);
	assert_int_equal(cfg.hash_backend, HO_BACKEND_AUTO);
	assert_int_equal(cfg.kx_backend, HO_BACKEND_AUTO);
	ho_config_free(&cfg);
}

static void
test_defaults(void **state)
{
	struct ho_config cfg;
	ho_config_defaults(&cfg);
	assert_null(cfg.listen);
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(cfg.scheduling, HO_SCHEDULING_BATCH);
	assert_int_equal(cfg.kx_backend, HO_BACKEND_AUTO);
	assert_int_equal(cfg.hash_backend, HO_BACKEND_AUTO);
	assert_int_equal(cfg.verify_backend, HO_BACKEND_AUTO);
	assert_int_equal(cfg.session_timeout_ms, 30000);
	assert_int_equal(cfg.max_sessions, 10000);
	assert_int_equal(cfg.verify_cache_size, 1024);
	assert_int_equal(cfg.profile_count, 0);
}

static void
test_refusals(void **state)
{
	const char *p = "[profile a]\ncertificate = c\nkey = k\n";
	char text[512];
#define WITH(daemon_lines)                                                    \
	(snprintf(text, sizeof(text), "[daemon]\n%s%s", daemon_lines, p), text)
	refused(WITH("bogus = 1\n"), 2, "unknown key \"bogus\"");
	refused(WITH("workers = abc\n"), 2, "workers = \"abc\"");
	refused(WITH("workers = 0\n"), 2, "from 1 to 1024");
	refused(WITH("workers = 2x\n"), 2, "workers");
	refused(WITH("workers = 99999999999999999999\n"), 2, "workers");
	refused(WITH("session_timeout = -1\n"), 2, "session_timeout");
	refused(WITH("max_sessions = 0\n"), 2, "max_sessions");
	refused(WITH("log_level = loud\n"), 2, "log_level");
	refused(WITH("verify_cache_size = -1\n"), 2, "verify_cache_size");
	refused(WITH("verify_cache_size = 1000001\n"), 2, "verify_cache_size");
	refused(WITH("scheduling = fifo\n"), 2,
	    "scheduling = \"fifo\": expected batch or normal");
	refused(WITH("kx_backend = openssl\n"), 2,
	    "kx_backend = \"openssl\": expected auto or gnutls");
	refused(WITH("hash_backend = openssl\n"), 2,
	    "hash_backend = \"openssl\": expected auto or gnutls");
	refused(WITH("verify_backend = libcrypto\n"), 2,
	    "verify_backend = \"libcrypto\": expected auto or gnutls");
	refused(WITH("listen = http://x\n"), 2, "ipc:// or tcp://");
	refused(WITH("workers = 1\nworkers = 2\n"), 3, "twice");
	refused(WITH("workers =\n"), 2, "no value");
	refused("[daemon]\n[nonsense]\nx = 1\n", 3, "unknown section");
	refused("[profile a]\ncertificate = c\nkey = k\nclient_auth = maybe\n",
	    4, "client_auth");
	refused("[profile a]\ncertificate = c\nkey = k\nallow_sign = 1\n", 4,
	    "allow_sign = \"1\": expected yes or no");
	refused("[profile a]\ncertificate = c\nkey = k\nfoo = 1\n", 4,
	    "unknown key \"foo\"");
	refused("[profile a]\ncertificate = c\n[profile a]\nkey = k\n", 3,
	    "appears twice");
	refused("[daemon]\nworkers = 1\n[daemon]\nworkers = 2\n", 3,
	    "appears twice");
	refused("[profile bad name!]\nkey = k\n", 2, "profile name");
	refused("[profile a]\ncertificate = c\nkey = k\nserver_names = "
	        "a.example, bad name\n",
	    4, "server_names");
	refused("[profile a]\ncertificate = c\nkey = k\nserver_names = "
	        "*.\n",
	    4, "server_names");
	refused("[profile a]\ncertificate = c\nkey = k\nalpn = h2,,x\n", 4,
	    "alpn");
	refused("[daemon]\nnot an ini line\n", 2, "not valid INI");
	/* Cross-field rules, checked after parsing. */
	refused("[profile a]\ncertificate = c\n", 0, "has no key");
	refused("[profile a]\nkey = k\n", 0, "has no certificate");
	refused("[profile a]\ncrl = c\n", 0, "sets crl but no trust");
	refused("[profile a]\nallow_sign = yes\n", 0,
	    "sets allow_sign but has no certificate");
	refused("[profile a]\ncertificate = c\nkey = k\nclient_auth = "
	        "request\n",
	    0, "no trust");
	refused("[daemon]\nworkers = 1\n", 0, "no [profile");
#undef WITH
}

static void
test_missing_file(void **state)
{
	struct ho_config cfg;
	char err[300];
	ho_config_defaults(&cfg);
	assert_int_equal(ho_config_load(&cfg, "/nonexistent/handoffd.conf",
	                     err, sizeof(err)),
	    -1);
	assert_non_null(
	    strstr(err, "/nonexistent/handoffd.conf: cannot open"));
	ho_config_free(&cfg);
}

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
