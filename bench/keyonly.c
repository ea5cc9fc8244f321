/*
 * keyonly.c - signatures and chain verifications per second through
 * handoff_gnutls.h, against the same operation in process.
 *
 * Signatures: both sides call gnutls_privkey_sign_hash2() (Ed25519:
 * gnutls_privkey_sign_data2(), which hashes itself) on a key object, as a
 * GnuTLS server's handshake does: one read from the key file with GnuTLS,
 * or one made by handoff_gnutls_privkey_import(), whose every signature is
 * a round trip to handoffd.  Verifications: a leaf signed by the ECDSA
 * certificate (a CA as well as the server's own), checked for localhost
 * and the TLS server purpose with gnutls_x509_trust_list_verify_crt2() in
 * process, or with handoff_gnutls_verify_chain() by handoffd, whose cache
 * answers a chain it has seen unless verify_cache_size is 0.  Several
 * threads work at once, as a server's handshakes would.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "bench.h"
#include "handoff.h"
#include "handoff_gnutls.h"

/* ---- the runner: one operation, many threads, a deadline ---------------- */

struct runner {
	int (*op)(void *arg); /* 0 on success */
	void *arg;
	double until;
	struct bench_samples lat; /* us */
	unsigned long count, failures;
	pthread_mutex_t lock;
};

static void *
run_thread(void *p)
{
	struct runner *r = p;
	unsigned long count = 0, failures = 0;
	struct bench_samples lat = {0};
	while (bench_now() < r->until) {
		double t0 = bench_now();
		if (r->op(r->arg) != 0) {
			failures++;
			continue;
		}
		bench_samples_add(&lat, (bench_now() - t0) * 1e6);
		count++;
	}
	pthread_mutex_lock(&r->lock);
	r->count += count;
	r->failures += failures;
	bench_samples_append(&r->lat, &lat);
	pthread_mutex_unlock(&r->lock);
	bench_samples_free(&lat);
	return NULL;
}

/* What one side's rounds did, added up (rate_result). */
struct rate_pool {
	struct bench_samples lat; /* us */
	unsigned long count, failures;
	double seconds;
	struct bench_round_rates rounds; /* ops/s of each round */
};

static void
run(int (*op)(void *), void *arg, unsigned threads, double seconds,
    struct rate_pool *pool)
{
	struct runner r;
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.lock, NULL);
	r.op = op;
	r.arg = arg;
	pthread_t t[64];
	if (threads > 64)
		threads = 64;
	double start = bench_now();
	r.until = start + seconds;
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run_thread, &r);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double took = bench_now() - start;
	bench_round_rates_add(&pool->rounds, (double)r.count / took);
	pool->seconds += took;
	pool->count += r.count;
	pool->failures += r.failures;
	bench_samples_append(&pool->lat, &r.lat);
	bench_samples_free(&r.lat);
	pthread_mutex_destroy(&r.lock);
}

static void
rate_result(struct rate_pool *pool, struct bench_rate *out)
{
	out->per_sec =
	    pool->seconds > 0 ? (double)pool->count / pool->seconds : 0;
	out->p50_us = bench_quantile(&pool->lat, 0.5);
	out->p99_us = bench_quantile(&pool->lat, 0.99);
	out->failures = pool->failures;
	out->rounds = pool->rounds;
	bench_samples_free(&pool->lat);
}

static struct handoff_ctx *
new_ctx(const char *daemon_url, const char *profile)
{
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, daemon_url);
	handoff_config_set_profile(cfg, profile);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	if (ctx == NULL)
		bench_die("cannot create a handoff context");
	return ctx;
}

/* ---- signatures ------------------------------------------------------------
 */

struct signer {
	gnutls_privkey_t key;
	gnutls_sign_algorithm_t algo;
	int whole_message; /* EdDSA signs the message, not a hash */
};

static int
sign_once(void *arg)
{
	struct signer *s = arg;
	unsigned char buf[130];
	memset(buf, 0x5a, sizeof(buf));
	gnutls_datum_t hash = {buf, 32}, msg = {buf, sizeof(buf)};
	gnutls_datum_t sig = {NULL, 0};
	int ret = s->whole_message
	    ? gnutls_privkey_sign_data2(s->key, s->algo, 0, &msg, &sig)
	    : gnutls_privkey_sign_hash2(s->key, s->algo, 0, &hash, &sig);
	gnutls_free(sig.data);
	return ret < 0 ? -1 : 0;
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

/* One round of one side's signatures. */
static void
sign_round(enum bench_side side, const struct bench_cert *c,
    const char *daemon_url, const char *profile, unsigned threads,
    double seconds, struct rate_pool *pool)
{
	struct signer s;
	struct handoff_ctx *ctx = NULL;
	gnutls_privkey_init(&s.key);
	if (side == BENCH_KEYONLY) {
		ctx = new_ctx(daemon_url, profile);
		if (handoff_gnutls_privkey_import(ctx, s.key, NULL, NULL) != 0)
			bench_die(
			    "key in handoffd: %s", handoff_ctx_error(ctx));
	} else {
		load_key_file(s.key, c->key);
	}
	s.algo = tls13_algorithm(s.key);
	s.whole_message = s.algo == GNUTLS_SIGN_EDDSA_ED25519;
	run(sign_once, &s, threads, seconds, pool);
	gnutls_privkey_deinit(s.key);
	handoff_ctx_free(ctx);
}

/* ---- chain verifications --------------------------------------------------
 */

struct verifier {
	struct handoff_ctx *ctx;       /* handoff */
	gnutls_x509_trust_list_t list; /* GnuTLS */
	const gnutls_datum_t *leaf_der;
};

static int
verify_in_process(void *arg)
{
	struct verifier *v = arg;
	gnutls_x509_crt_t crt;
	gnutls_typed_vdata_st data[2] = {
	    {GNUTLS_DT_KEY_PURPOSE_OID,
	        (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0},
	    {GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)"localhost", 0}};
	unsigned status = 1;
	/* As a session does: the peer's chain arrives as DER. */
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, v->leaf_der, GNUTLS_X509_FMT_DER) == 0)
		gnutls_x509_trust_list_verify_crt2(
		    v->list, &crt, 1, data, 2, 0, &status, NULL);
	gnutls_x509_crt_deinit(crt);
	return status == 0 ? 0 : -1;
}

static int
verify_in_handoffd(void *arg)
{
	struct verifier *v = arg;
	unsigned status = 1;
	if (handoff_gnutls_verify_chain(
	        v->ctx, v->leaf_der, 1, "localhost", &status) != 0)
		return -1;
	return status == 0 ? 0 : -1;
}

/* One round of one side's verifications. */
static void
verify_round(enum bench_side side, const struct bench_cert *ca,
    const gnutls_datum_t *leaf_der, const char *daemon_url,
    const char *profile, unsigned threads, double seconds,
    struct rate_pool *pool)
{
	struct verifier v;
	memset(&v, 0, sizeof(v));
	v.leaf_der = leaf_der;
	if (side == BENCH_KEYONLY) {
		v.ctx = new_ctx(daemon_url, profile);
		run(verify_in_handoffd, &v, threads, seconds, pool);
		handoff_ctx_free(v.ctx);
		return;
	}
	if (gnutls_x509_trust_list_init(&v.list, 0) < 0 ||
	    gnutls_x509_trust_list_add_trust_file(
	        v.list, ca->cert, NULL, GNUTLS_X509_FMT_PEM, 0, 0) <= 0)
		bench_die("cannot load %s as a CA", ca->cert);
	run(verify_in_process, &v, threads, seconds, pool);
	gnutls_x509_trust_list_deinit(v.list, 1);
}

/* ---- both sides in alternating rounds -------------------------------- */

/* The state of bench_sign_rates' or bench_verify_rates' rounds. */
struct rate_rounds {
	const struct bench_cert *cert;  /* signing key, or the CA */
	const gnutls_datum_t *leaf_der; /* NULL: signatures */
	const char *daemon_url, *profile;
	unsigned threads;
	struct rate_pool pool[2];
};

static void
rate_turn(int side, double seconds, void *arg)
{
	struct rate_rounds *r = arg;
	enum bench_side s = side ? BENCH_KEYONLY : BENCH_GNUTLS;
	if (r->leaf_der == NULL)
		sign_round(s, r->cert, r->daemon_url, r->profile, r->threads,
		    seconds, &r->pool[side]);
	else
		verify_round(s, r->cert, r->leaf_der, r->daemon_url,
		    r->profile, r->threads, seconds, &r->pool[side]);
}

static void
rates(struct rate_rounds *r, double seconds, int rounds,
    struct bench_rate *gnutls, struct bench_rate *handoff)
{
	bench_alternate(rounds, seconds, rate_turn, r);
	rate_result(&r->pool[0], gnutls);
	rate_result(&r->pool[1], handoff);
}

void
bench_sign_rates(const struct bench_cert *c, const char *daemon_url,
    const char *profile, unsigned threads, double seconds, int rounds,
    struct bench_rate *gnutls, struct bench_rate *handoff)
{
	struct rate_rounds r = {.cert = c,
	    .daemon_url = daemon_url,
	    .profile = profile,
	    .threads = threads};
	rates(&r, seconds, rounds, gnutls, handoff);
}

void
bench_verify_rates(const struct bench_cert *ca, const gnutls_datum_t *leaf_der,
    const char *daemon_url, const char *profile, unsigned threads,
    double seconds, int rounds, struct bench_rate *gnutls,
    struct bench_rate *handoff)
{
	struct rate_rounds r = {.cert = ca,
	    .leaf_der = leaf_der,
	    .daemon_url = daemon_url,
	    .profile = profile,
	    .threads = threads};
	rates(&r, seconds, rounds, gnutls, handoff);
}
