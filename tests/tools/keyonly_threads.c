/*
 * keyonly_threads.c - one context's key-only key used by many threads at
 * once, as a threaded GnuTLS server's handshakes use it.
 *
 *   keyonly_threads DAEMON_URL PROFILE THREADS COUNT
 *
 * Imports the profile's key (handoff_gnutls_privkey_import()) once; then
 * THREADS threads each make COUNT ECDSA P-256 signatures over hashes of
 * their own, verifying every one with the certificate's public key, and
 * between them ask handoffd to verify the profile's own certificate for
 * "localhost" (the same verdict every time).  Prints the totals and exits
 * 0 if every signature verified and every verdict matched the first, 1
 * otherwise (naming the first failure).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "handoff.h"
#include "handoff_gnutls.h"

static struct handoff_ctx *ctx;
static gnutls_privkey_t key;
static gnutls_pcert_st *chain;
static unsigned chain_len, first_status;
static int count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int failures, signed_ok, verdicts_ok;
static char first_failure[600];

static void
failed(const char *fmt, const char *arg)
{
	pthread_mutex_lock(&lock);
	if (failures++ == 0)
		snprintf(first_failure, sizeof(first_failure), fmt, arg);
	pthread_mutex_unlock(&lock);
}

static void *
worker(void *arg)
{
	unsigned char buf[32];
	unsigned seed = (unsigned)(size_t)arg;
	int sigs = 0, verdicts = 0;
	for (int i = 0; i < count; i++) {
		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (unsigned char)rand_r(&seed);
		gnutls_datum_t hash = {buf, sizeof(buf)}, sig = {NULL, 0};
		if (gnutls_privkey_sign_hash2(key,
		        GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &hash,
		        &sig) < 0)
			failed(
			    "a signature failed: %s", handoff_ctx_error(ctx));
		else if (gnutls_pubkey_verify_hash2(chain[0].pubkey,
		             GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 0, &hash,
		             &sig) < 0)
			failed("a signature did not verify%s", "");
		else
			sigs++;
		gnutls_free(sig.data);
		unsigned status;
		if (handoff_gnutls_verify_chain(
		        ctx, &chain[0].cert, 1, "localhost", &status) != 0)
			failed("no verdict: %s", handoff_ctx_error(ctx));
		else if (status != first_status)
			failed("a verdict differed from the first%s", "");
		else
			verdicts++;
	}
	pthread_mutex_lock(&lock);
	signed_ok += sigs;
	verdicts_ok += verdicts;
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr,
		    "usage: keyonly_threads DAEMON_URL PROFILE THREADS "
		    "COUNT\n");
		return 2;
	}
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, argv[1]);
	handoff_config_set_profile(cfg, argv[2]);
	ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	int threads = atoi(argv[3]);
	count = atoi(argv[4]);
	if (ctx == NULL || threads < 1 || threads > 64 || count < 1 ||
	    gnutls_privkey_init(&key) < 0 ||
	    handoff_gnutls_privkey_import(ctx, key, &chain, &chain_len) != 0 ||
	    handoff_gnutls_verify_chain(
	        ctx, &chain[0].cert, 1, "localhost", &first_status) != 0) {
		printf("setup failed: %s\n",
		    ctx ? handoff_ctx_error(ctx) : "no context");
		return 1;
	}
	pthread_t t[64];
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(size_t)(i + 1));
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("%d threads: %d signatures verified, %d equal verdicts "
	       "(status 0x%x), %d failures%s%s\n",
	    threads, signed_ok, verdicts_ok, first_status, failures,
	    failures ? "; first: " : "", first_failure);
	for (unsigned i = 0; i < chain_len; i++)
		gnutls_pcert_deinit(&chain[i]);
	gnutls_free(chain);
	gnutls_privkey_deinit(key);
	handoff_ctx_free(ctx);
	return failures == 0 ? 0 : 1;
}
