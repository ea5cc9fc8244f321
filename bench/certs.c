/*
 * certs.c - the run's certificates: one self-signed certificate for
 * localhost per key kind (ECDSA P-256, RSA-2048, Ed25519), made with
 * GnuTLS in a temporary folder and removed with it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "bench.h"

const char *const bench_key_names[BENCH_KEY_COUNT] = {
    "ECDSA-P256", "RSA-2048", "Ed25519"};

static void
write_file(const char *path, const gnutls_datum_t *d)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fwrite(d->data, 1, d->size, f) != d->size)
		bench_die("cannot write %s", path);
	fclose(f);
}

static void
make_one(const char *dir, enum bench_key kind, struct bench_cert *out)
{
	static const char *files[] = {"ecdsa", "rsa", "ed25519"};
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem;
	gnutls_pk_algorithm_t algo = kind == BENCH_RSA ? GNUTLS_PK_RSA
	    : kind == BENCH_ECDSA                      ? GNUTLS_PK_ECDSA
	                          : GNUTLS_PK_EDDSA_ED25519;
	unsigned bits = kind == BENCH_RSA ? 2048
	    : kind == BENCH_ECDSA
	    ? GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1)
	    : 256;
	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(key, algo, bits, 0) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0)
		bench_die("cannot generate a %s key", bench_key_names[kind]);
	time_t now = time(NULL);
	unsigned char serial[8] = {1, 2, 3, 4, 5, 6, 7, (unsigned char)kind};
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, now - 3600);
	gnutls_x509_crt_set_expiration_time(crt, now + 2 * 86400);
	gnutls_x509_crt_set_dn_by_oid(
	    crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9);
	gnutls_x509_crt_set_subject_alt_name(
	    crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_SET);
	gnutls_x509_crt_set_key(crt, key);
	gnutls_x509_crt_set_key_usage(crt,
	    GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN |
	        GNUTLS_KEY_KEY_ENCIPHERMENT);
	gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
	/* Ed25519 signs with its own hash (SHA-512 in GnuTLS's terms). */
	gnutls_digest_algorithm_t dig =
	    kind == BENCH_ED25519 ? GNUTLS_DIG_SHA512 : GNUTLS_DIG_SHA256;
	if (gnutls_x509_crt_sign2(crt, crt, key, dig, 0) < 0)
		bench_die(
		    "cannot sign the %s certificate", bench_key_names[kind]);
	snprintf(
	    out->cert, sizeof(out->cert), "%s/%s-cert.pem", dir, files[kind]);
	snprintf(
	    out->key, sizeof(out->key), "%s/%s-key.pem", dir, files[kind]);
	gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem);
	write_file(out->cert, &pem);
	gnutls_free(pem.data);
	gnutls_x509_privkey_export2_pkcs8(
	    key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &pem);
	write_file(out->key, &pem);
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

void
bench_make_certs(const char *dir, struct bench_cert *out)
{
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		make_one(dir, (enum bench_key)k, &out[k]);
}
