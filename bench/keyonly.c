/*
 * keyonly.c - signatures per second through handoff_gnutls.h, against the
 * same signature with the key in process.
 *
 * Both sides call gnutls_privkey_sign_hash2() (Ed25519:
 * gnutls_privkey_sign_data2(), which hashes itself) on a key object, as a
 * GnuTLS server's handshake does: one read from the key file with GnuTLS,
 * or one made by handoff_gnutls_privkey_import(), whose every signature is
 * a round trip to handoffd.  Several threads sign at once, as a server's
 * handshakes would.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>

#include "bench.h"
#include "handoff.h"
#include "handoff_gnutls.h"

struct signer {
	gnutls_privkey_t key;
	gnutls_sign_algorithm_t algo;
	int whole_message; /* EdDSA signs the message, not a hash */
	double until;
	struct bench_samples lat;
	unsigned long count, failures;
	pthread_mutex_t lock;
};

static void *
sign_thread(void *arg)
{
	struct signer *s = arg;
	unsigned char buf[130];
	memset(buf, 0x5a, sizeof(buf));
	gnutls_datum_t hash = {buf, 32}, msg = {buf, sizeof(buf)};
	unsigned long count = 0, failures = 0;
	struct bench_samples lat = {0};
	while (bench_now() < s->until) {
		gnutls_datum_t sig = {NULL, 0};
		double t0 = bench_now();
		int ret = s->whole_message
		    ? gnutls_privkey_sign_data2(s->key, s->algo, 0, &msg, &sig)
		    : gnutls_privkey_sign_hash2(
		          s->key, s->algo, 0, &hash, &sig);
		if (ret < 0) {
			failures++;
			continue;
		}
		bench_samples_add(&lat, (bench_now() - t0) * 1e6);
		gnutls_free(sig.data);
		count++;
	}
	pthread_mutex_lock(&s->lock);
	s->count += count;
	s->failures += failures;
	for (size_t i = 0; i < lat.n; i++)
		bench_samples_add(&s->lat, lat.v[i]);
	pthread_mutex_unlock(&s->lock);
	bench_samples_free(&lat);
	return NULL;
}

/* The key as a GnuTLS program holding it would load it. */
static void
load_key_file(gnutls_privkey_t key, const char *path)
{
	gnutls_datum_t pem = {NULL, 0};
	if (gnutls_load_file(path, &pem) < 0 ||
	    gnutls_privkey_import_x509_raw(
	        key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
		bench_die("cannot load the key %s", path);
	gnutls_free(pem.data);
}

/* What TLS 1.3 signs with each kind of key. */
static gnutls_sign_algorithm_t
tls13_algorithm(gnutls_privkey_t key)
{
	switch (gnutls_privkey_get_pk_algorithm(key, NULL)) {
	case GNUTLS_PK_RSA: return GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	case GNUTLS_PK_EDDSA_ED25519: return GNUTLS_SIGN_EDDSA_ED25519;
	default: return GNUTLS_SIGN_ECDSA_SECP256R1_SHA256;
	}
}

void
bench_sign_rate(enum bench_side side, const struct bench_cert *c,
    const char *daemon_url, const char *profile, unsigned threads,
    double seconds, struct bench_sign_result *out)
{
	struct signer s;
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	struct handoff_ctx *ctx = NULL;
	gnutls_privkey_init(&s.key);
	if (side == BENCH_KEYONLY) {
		struct handoff_config *cfg = handoff_config_new();
		handoff_config_set_daemon(cfg, daemon_url);
		handoff_config_set_profile(cfg, profile);
		ctx = handoff_ctx_new(cfg);
		handoff_config_free(cfg);
		if (ctx == NULL ||
		    handoff_gnutls_privkey_import(ctx, s.key, NULL, NULL) != 0)
			bench_die("key in handoffd: %s",
			    ctx ? handoff_ctx_error(ctx) : "no context");
	} else {
		load_key_file(s.key, c->key);
	}
	s.algo = tls13_algorithm(s.key);
	s.whole_message = s.algo == GNUTLS_SIGN_EDDSA_ED25519;
	pthread_t t[64];
	if (threads > 64)
		threads = 64;
	double start = bench_now();
	s.until = start + seconds;
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, sign_thread, &s);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double elapsed = bench_now() - start;
	out->per_sec = (double)s.count / elapsed;
	out->p50_us = bench_quantile(&s.lat, 0.5);
	out->p99_us = bench_quantile(&s.lat, 0.99);
	out->failures = s.failures;
	bench_samples_free(&s.lat);
	gnutls_privkey_deinit(s.key);
	handoff_ctx_free(ctx);
	pthread_mutex_destroy(&s.lock);
}
