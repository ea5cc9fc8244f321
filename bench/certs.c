/*
 * certs.c - the run's certificates: one self-signed certificate for
 * localhost per key kind (ECDSA P-256, RSA-2048, Ed25519), made with
 * GnuTLS in a temporary folder and removed with it; and a leaf signed by
 * the ECDSA one (a CA too), in memory, for the VERIFY figures.
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

/* A certificate for localhost, valid for two days, with key's public
 * half; serial_end tells the run's certificates apart. */
static void
for_localhost(
    gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, unsigned char serial_end)
{
	time_t now = time(NULL);
	unsigned char serial[8] = {1, 2, 3, 4, 5, 6, 7, serial_end};
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, now - 3600);
	gnutls_x509_crt_set_expiration_time(crt, now + 2 * 86400);
	gnutls_x509_crt_set_dn_by_oid(
	    crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9);
	gnutls_x509_crt_set_subject_alt_name(
	    crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_SET);
	gnutls_x509_crt_set_key(crt, key);
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
	for_localhost(crt, key, (unsigned char)kind);
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

void
bench_make_leaf(const struct bench_cert *ca, gnutls_datum_t *leaf_der)
{
	gnutls_datum_t pem = {NULL, 0};
	gnutls_x509_crt_t ca_crt, crt;
	gnutls_x509_privkey_t ca_key, key;
	if (gnutls_load_file(ca->cert, &pem) < 0 ||
	    gnutls_x509_crt_init(&ca_crt) < 0 ||
	    gnutls_x509_crt_import(ca_crt, &pem, GNUTLS_X509_FMT_PEM) < 0)
		bench_die("cannot read %s", ca->cert);
	gnutls_free(pem.data);
	if (gnutls_load_file(ca->key, &pem) < 0 ||
	    gnutls_x509_privkey_init(&ca_key) < 0 ||
	    gnutls_x509_privkey_import(ca_key, &pem, GNUTLS_X509_FMT_PEM) < 0)
		bench_die("cannot read %s", ca->key);
	gnutls_free(pem.data);
	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	        GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0)
		bench_die("cannot make the leaf's key");
	for_localhost(crt, key, BENCH_KEY_COUNT); /* after the run's own */
	gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
	gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
	if (gnutls_x509_crt_sign2(crt, ca_crt, ca_key, GNUTLS_DIG_SHA256, 0) <
	        0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, leaf_der) < 0)
		bench_die("cannot sign the leaf");
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca_crt);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(ca_key);
}
