/*
 * ciphers.c - the ceiling under the record-layer figures: how fast each
 * AEAD seals one 16 KiB record in place on one core, with GnuTLS's call
 * (what gnutls_record_send and libhandoff's AES-GCM use) and with
 * libcrypto's EVP (libhandoff's ChaCha20-Poly1305).  A record layer that
 * seals with a cipher cannot beat that cipher: these say how far above
 * GnuTLS's record layer any record layer on this machine can go.
 * Each side's figure is its fastest of five short rounds, the two sides
 * taking turns (below).
 */
#include <string.h>

#include <gnutls/crypto.h>
#include <openssl/evp.h>

#include "bench.h"

#define RECORD 16384

static uint8_t data[RECORD + 16];

static double
gnutls_speed(gnutls_cipher_algorithm_t algo, double seconds)
{
	uint8_t key[32] = {1}, nonce[12] = {0}, aad[5] = {23, 3, 3};
	gnutls_datum_t k = {key, (unsigned)gnutls_cipher_get_key_size(algo)};
	gnutls_aead_cipher_hd_t h;
	if (gnutls_aead_cipher_init(&h, algo, &k) < 0)
		bench_die(
		    "GnuTLS cannot set up %s", gnutls_cipher_get_name(algo));
	unsigned long n = 0;
	double start = bench_now(), end = start + seconds;
	while (bench_now() < end) {
		for (int i = 0; i < 16; i++, n++) {
			giovec_t a = {aad, sizeof(aad)}, d = {data, RECORD};
			size_t tag_len = 16;
			/* A fresh nonce per record, as a record layer's. */
			nonce[0] = (uint8_t)n;
			if (gnutls_aead_cipher_encryptv2(h, nonce,
			        sizeof(nonce), &a, 1, &d, 1, data + RECORD,
			        &tag_len) < 0)
				bench_die("GnuTLS sealing failed");
		}
	}
	double took = bench_now() - start;
	gnutls_aead_cipher_deinit(h);
	return (double)n * RECORD / took / 1e9;
}

static double
libcrypto_speed(const EVP_CIPHER *algo, double seconds)
{
	uint8_t key[32] = {1}, nonce[12] = {0}, aad[5] = {23, 3, 3}, rest[32];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL || EVP_EncryptInit_ex(ctx, algo, NULL, key, NULL) != 1)
		bench_die("libcrypto cannot set up a cipher");
	unsigned long n = 0;
	double start = bench_now(), end = start + seconds;
	while (bench_now() < end) {
		for (int i = 0; i < 16; i++, n++) {
			int len;
			nonce[0] = (uint8_t)n;
			if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) !=
			        1 ||
			    EVP_EncryptUpdate(
			        ctx, NULL, &len, aad, sizeof(aad)) != 1 ||
			    EVP_EncryptUpdate(ctx, data, &len, data, RECORD) !=
			        1 ||
			    EVP_EncryptFinal_ex(ctx, rest, &len) != 1 ||
			    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16,
			        data + RECORD) != 1)
				bench_die("libcrypto sealing failed");
		}
	}
	double took = bench_now() - start;
	EVP_CIPHER_CTX_free(ctx);
	return (double)n * RECORD / took / 1e9;
}

/* A VM's speed drifts over seconds, and one 0.5 s reading of a side
 * measured whole before the other carried that drift (libcrypto's
 * AES-128-GCM once read 1.45 GB/s against 2.9 in a quiet moment).  A
 * ceiling is what the cipher can do, so each side takes turns in short
 * rounds, the one going first alternating, and keeps its fastest. */
#define ROUNDS 5

static double
fastest(double a, double b)
{
	return a > b ? a : b;
}

void
bench_cipher_alone(
    const char *cipher, double seconds, struct bench_cipher_speed *out)
{
	gnutls_cipher_algorithm_t g = GNUTLS_CIPHER_CHACHA20_POLY1305;
	const EVP_CIPHER *l = EVP_chacha20_poly1305();
	if (strcmp(cipher, "AES-128-GCM") == 0) {
		g = GNUTLS_CIPHER_AES_128_GCM;
		l = EVP_aes_128_gcm();
	} else if (strcmp(cipher, "AES-256-GCM") == 0) {
		g = GNUTLS_CIPHER_AES_256_GCM;
		l = EVP_aes_256_gcm();
	}
	double round = seconds / ROUNDS;
	out->gnutls_gbps = out->libcrypto_gbps = 0;
	for (int r = 0; r < ROUNDS; r++) {
		if (r % 2 == 0)
			out->gnutls_gbps =
			    fastest(out->gnutls_gbps, gnutls_speed(g, round));
		out->libcrypto_gbps =
		    fastest(out->libcrypto_gbps, libcrypto_speed(l, round));
		if (r % 2 == 1)
			out->gnutls_gbps =
			    fastest(out->gnutls_gbps, gnutls_speed(g, round));
	}
}

double
bench_cipher_fastest(const struct bench_cipher_speed *s)
{
	return fastest(s->gnutls_gbps, s->libcrypto_gbps);
}
