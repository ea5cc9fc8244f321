/*
 * limit.c - what the crypto alone allows: the cost of one signature per
 * key kind and of one X25519 exchange, measured with GnuTLS (and the
 * nettle functions it calls) on this machine, from which main.c derives the
 * handshakes/s the cores could do if a server did nothing but its handshake's
 * asymmetric work.  handoffd signs with another library for ECDSA and RSA key
 * files (libcrypto, daemon/fastkey.c), so those signatures are also timed the
 * way it makes them, and its X25519 key shares and shared secrets come
 * from libsodium (daemon/x25519.c): each side gets the limit of its own
 * crypto; bench_crypto_round times one key kind's again before each round
 * of its full-handshake figure, so that the figure is judged against the
 * crypto of its own stretch of the host.  Also what
 * this machine charges for the two things handoff adds to a handshake:
 * system calls and one thread waking another (IPC is made of them),
 * and one whole IPC round trip (ipc_rtt.c).
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <nettle/curve25519.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "bench.h"
#include "x25519_share.h"

static gnutls_privkey_t
load_key(const char *path)
{
	gnutls_privkey_t key;
	gnutls_datum_t pem;
	if (gnutls_load_file(path, &pem) < 0)
		bench_die("cannot read %s", path);
	gnutls_privkey_init(&key);
	if (gnutls_privkey_import_x509_raw(
	        key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
		bench_die("cannot import %s", path);
	gnutls_free(pem.data);
	return key;
}

static double
sign_cost(const char *path, double seconds)
{
	gnutls_privkey_t key = load_key(path);
	unsigned char msg[64] = {0};
	gnutls_datum_t data = {msg, sizeof(msg)}, sig;
	gnutls_sign_algorithm_t algo;
	switch (gnutls_privkey_get_pk_algorithm(key, NULL)) {
	case GNUTLS_PK_RSA: algo = GNUTLS_SIGN_RSA_PSS_RSAE_SHA256; break;
	case GNUTLS_PK_EDDSA_ED25519: algo = GNUTLS_SIGN_EDDSA_ED25519; break;
	default: algo = GNUTLS_SIGN_ECDSA_SECP256R1_SHA256; break;
	}
	unsigned long n = 0;
	double start = bench_now(), end = start + seconds;
	while (bench_now() < end) {
		if (gnutls_privkey_sign_data2(key, algo, 0, &data, &sig) < 0)
			bench_die("signing with %s failed", path);
		gnutls_free(sig.data);
		n++;
	}
	gnutls_privkey_deinit(key);
	return (bench_now() - start) / (double)n * 1e6;
}

/* The key file at path as libcrypto reads it (as handoffd does). */
static EVP_PKEY *
read_pkey(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pkey =
	    f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f != NULL)
		fclose(f);
	if (pkey == NULL)
		bench_die("libcrypto cannot read %s", path);
	return pkey;
}

/* One signature as handoffd's fastkey.c makes it for a key file: a
 * SHA-256 hash signed through libcrypto, each from a copy of one ready
 * EVP_PKEY_CTX (RSA: PSS, salt as long as the hash, as TLS 1.3 asks). */
static double
libcrypto_sign_cost(const char *path, double seconds)
{
	EVP_PKEY *pkey = read_pkey(path);
	int rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
	EVP_PKEY_CTX *ready = EVP_PKEY_CTX_new(pkey, NULL);
	if (ready == NULL || EVP_PKEY_sign_init(ready) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ready, EVP_sha256()) <= 0 ||
	    (rsa &&
	        (EVP_PKEY_CTX_set_rsa_padding(ready, RSA_PKCS1_PSS_PADDING) <=
	                0 ||
	            EVP_PKEY_CTX_set_rsa_pss_saltlen(
	                ready, RSA_PSS_SALTLEN_DIGEST) <= 0)))
		bench_die("libcrypto cannot sign with %s", path);
	unsigned char hash[32] = {0}, sig[512];
	unsigned long n = 0;
	double start = bench_now(), end = start + seconds;
	while (bench_now() < end) {
		size_t len = sizeof(sig);
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_dup(ready);
		if (ctx == NULL ||
		    EVP_PKEY_sign(ctx, sig, &len, hash, sizeof(hash)) <= 0)
			bench_die("libcrypto could not sign with %s", path);
		EVP_PKEY_CTX_free(ctx);
		n++;
	}
	EVP_PKEY_CTX_free(ready);
	EVP_PKEY_free(pkey);
	return (bench_now() - start) / (double)n * 1e6;
}

/* One Ed25519 signature as handoffd's fastkey.c makes it: libsodium's,
 * from the key's seed as libcrypto reads it, over the same 64 bytes as
 * sign_cost's. */
static double
libsodium_sign_cost(const char *path, double seconds)
{
	EVP_PKEY *pkey = read_pkey(path);
	unsigned char seed[crypto_sign_ed25519_SEEDBYTES];
	unsigned char pk[crypto_sign_ed25519_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_ed25519_SECRETKEYBYTES];
	size_t len = sizeof(seed);
	if (sodium_init() < 0 ||
	    EVP_PKEY_get_raw_private_key(pkey, seed, &len) != 1 ||
	    len != sizeof(seed) ||
	    crypto_sign_ed25519_seed_keypair(pk, sk, seed) != 0)
		bench_die("libsodium cannot sign with %s", path);
	EVP_PKEY_free(pkey);
	unsigned char msg[64] = {0}, sig[crypto_sign_ed25519_BYTES];
	unsigned long n = 0;
	double start = bench_now(), end = start + seconds;
	while (bench_now() < end) {
		crypto_sign_ed25519_detached(sig, NULL, msg, sizeof(msg), sk);
		n++;
	}
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	return (bench_now() - start) / (double)n * 1e6;
}

/*
 * A server's X25519 exchange is two scalar multiplications: its key share
 * (fixed base) and the shared secret (the client's share).  Timed as the
 * functions GnuTLS calls for them in a handshake, nettle's
 * curve25519_mul_g and curve25519_mul (one of each per handshake, as a
 * shim counting GnuTLS's calls showed; its work around them is not
 * asymmetric crypto).  handoffd makes both with libsodium instead
 * (daemon/x25519.c: the key share as x25519_share.c makes it), so its
 * exchange is timed with those.  Alternating rounds of the four, so that
 * both sums see the same machine.
 */
static void
kx_costs(double seconds, double *in_process_us, double *offload_us)
{
	uint8_t scalar[32], point[32], out[32];
	unsigned long rounds = 0;
	double nettle_g = 0, nettle = 0, sodium_g = 0, sodium = 0;
	if (sodium_init() < 0)
		bench_die("libsodium failed to start");
	randombytes_buf(scalar, sizeof(scalar));
	curve25519_mul_g(point, scalar);
	double end = bench_now() + seconds;
	while (bench_now() < end) {
		scalar[0] = (uint8_t)rounds; /* a new secret each round */
		double t0 = bench_now();
		curve25519_mul_g(out, scalar);
		double t1 = bench_now();
		curve25519_mul(out, scalar, point);
		double t2 = bench_now();
		if (ho_x25519_share(out, scalar) != 0)
			bench_die("an X25519 key share with libsodium failed");
		double t3 = bench_now();
		if (crypto_scalarmult_curve25519(out, scalar, point) != 0)
			bench_die("X25519 with libsodium failed");
		double t4 = bench_now();
		nettle_g += t1 - t0;
		nettle += t2 - t1;
		sodium_g += t3 - t2;
		sodium += t4 - t3;
		rounds++;
	}
	*in_process_us = (nettle_g + nettle) / (double)rounds * 1e6;
	*offload_us = (sodium_g + sodium) / (double)rounds * 1e6;
}

/* The cheapest system call there is, made directly. */
static double
syscall_cost(double seconds)
{
	unsigned long n = 0;
	double start = bench_now(), end = start + seconds;
	while (bench_now() < end) {
		for (int i = 0; i < 1000; i++)
			syscall(SYS_getppid);
		n += 1000;
	}
	/* bench_now() is a vDSO read, not a system call: left in. */
	return (bench_now() - start) / (double)n * 1e6;
}

struct ping_pong {
	int ping, pong; /* eventfds */
	unsigned long rounds;
};

static void *
ponger(void *arg)
{
	struct ping_pong *p = arg;
	uint64_t v;
	for (unsigned long i = 0; i < p->rounds; i++) {
		if (read(p->ping, &v, sizeof(v)) != sizeof(v))
			break;
		v = 1;
		if (write(p->pong, &v, sizeof(v)) != sizeof(v))
			break;
	}
	return NULL;
}

/* One thread waking another that sleeps on an eventfd and being woken
 * back: half the round trip is one wake-up, as in every IPC hop (the
 * scheduler places the two threads as it would anyone's). */
double
bench_wakeup_cost(double seconds)
{
	struct ping_pong p = {
	    eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC), 0};
	if (p.ping < 0 || p.pong < 0)
		bench_die("eventfd failed");
	/* A first guess of the count, so the run lasts about `seconds`. */
	p.rounds = (unsigned long)(seconds / 20e-6);
	pthread_t t;
	pthread_create(&t, NULL, ponger, &p);
	double start = bench_now();
	uint64_t v;
	unsigned long i;
	for (i = 0; i < p.rounds; i++) {
		v = 1;
		if (write(p.ping, &v, sizeof(v)) != sizeof(v) ||
		    read(p.pong, &v, sizeof(v)) != sizeof(v))
			break;
	}
	double took = bench_now() - start;
	pthread_join(t, NULL);
	close(p.ping);
	close(p.pong);
	if (i < p.rounds)
		bench_die("the wake-up ping-pong failed");
	return took / (double)(2 * p.rounds) * 1e6;
}

/* One signature with key kind k, by GnuTLS and by handoffd's signer. */
static void
sign_costs(const struct bench_cert *c, enum bench_key k, double seconds,
    struct bench_costs *out)
{
	out->sign_us[k] = sign_cost(c[k].key, seconds);
	out->offload_sign_us[k] = k == BENCH_ED25519
	    ? libsodium_sign_cost(c[k].key, seconds)
	    : libcrypto_sign_cost(c[k].key, seconds);
}

void
bench_measure_costs(const struct bench_cert *c, const char *dir,
    double seconds, struct bench_costs *out)
{
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		sign_costs(c, (enum bench_key)k, seconds, out);
	kx_costs(seconds, &out->kx_us, &out->offload_kx_us);
	out->syscall_us = syscall_cost(seconds / 4);
	out->wakeup_us = bench_wakeup_cost(seconds / 2);
	bench_ipc_round_trip(
	    dir, seconds, &out->ipc_rtt_p50_us, &out->ipc_rtt_p99_us);
	bench_bare_round_trip(
	    seconds, &out->bare_rtt_p50_us, &out->bare_rtt_p99_us);
}

void
bench_crypto_round(void *arg)
{
	struct bench_crypto_rounds *r = arg;
	struct bench_costs one;
	memset(&one, 0, sizeof(one));
	sign_costs(r->certs, r->key, r->seconds, &one);
	kx_costs(r->seconds, &one.kx_us, &one.offload_kx_us);
	r->sum.sign_us[r->key] += one.sign_us[r->key];
	r->sum.offload_sign_us[r->key] += one.offload_sign_us[r->key];
	r->sum.kx_us += one.kx_us;
	r->sum.offload_kx_us += one.offload_kx_us;
	r->n++;
}

int
bench_crypto_rounds_limits(const struct bench_crypto_rounds *r, unsigned cpus,
    double *in_process, double *offload)
{
	if (r->n == 0)
		return 0;
	double sign = r->sum.sign_us[r->key] / r->n;
	double offload_sign = r->sum.offload_sign_us[r->key] / r->n;
	*in_process = cpus * 1e6 / (sign + r->sum.kx_us / r->n);
	*offload = cpus * 1e6 / (offload_sign + r->sum.offload_kx_us / r->n);
	return 1;
}
