/*
 * selfsigned.c - the default profile's certificate, made on first start.
 *
 * With no configuration handoffd must still serve TLS, so it keeps an
 * ECDSA P-256 self-signed certificate for "localhost" in its state
 * directory.  The key file is written 0600 through a temporary name and
 * renamed, so a crash never leaves a half-written key behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "handoffd.h"
#include "paths.h"

static int
write_file(const char *path, const gnutls_datum_t *d, mode_t mode, char *err,
    size_t errlen)
{
	char tmp[1100];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(
		    err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t off = 0;
	while (off < d->size) {
		ssize_t n = write(fd, d->data + off, d->size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp,
			    strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(
		    err, errlen, "cannot save %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
generate(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t key_pem = {NULL, 0}, crt_pem = {NULL, 0};
	unsigned char serial[16];
	int ret, rc = -1;
	time_t now = time(NULL);

	if ((ret = gnutls_x509_privkey_init(&key)) < 0 ||
	    (ret = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto out;
	serial[0] &= 0x7f; /* a positive serial number */
	if ((ret = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) <
	        0 ||
	    (ret = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(
	         crt, now + 3650 * 86400L)) < 0 ||
	    (ret = gnutls_x509_crt_set_dn_by_oid(
	         crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_alt_name(crt,
	         GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_SET)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_alt_name(crt,
	         GNUTLS_SAN_IPADDRESS, "\x7f\x00\x00\x01", 4,
	         GNUTLS_FSAN_APPEND)) < 0 ||
	    (ret = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (ret = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_usage(
	         crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_purpose_oid(
	         crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (ret = gnutls_x509_crt_sign2(
	         crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (ret = gnutls_x509_privkey_export2(
	         key, GNUTLS_X509_FMT_PEM, &key_pem)) < 0 ||
	    (ret = gnutls_x509_crt_export2(
	         crt, GNUTLS_X509_FMT_PEM, &crt_pem)) < 0)
		goto out;
	/* Key first: a certificate without its key would be useless. */
	if (write_file(key_path, &key_pem, 0600, err, errlen) == 0 &&
	    write_file(cert_path, &crt_pem, 0644, err, errlen) == 0)
		rc = 0;
	ret = 0;
out:
	if (ret < 0)
		snprintf(err, errlen,
		    "cannot generate the default "
		    "certificate: %s",
		    gnutls_strerror(ret));
	if (key_pem.data) {
		gnutls_memset(key_pem.data, 0, key_pem.size);
		gnutls_free(key_pem.data);
	}
	gnutls_free(crt_pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return rc;
}

int
ho_selfsigned_ensure(const char *state_dir, char *cert_path, char *key_path,
    size_t path_len, char *err, size_t errlen)
{
	if (ho_mkdir_p(state_dir, 0700) != 0) {
		snprintf(err, errlen, "cannot create state directory %s: %s",
		    state_dir, strerror(errno));
		return -1;
	}
	int a =
	    snprintf(cert_path, path_len, "%s/default-cert.pem", state_dir);
	int b = snprintf(key_path, path_len, "%s/default-key.pem", state_dir);
	if (a < 0 || b < 0 || (size_t)a >= path_len || (size_t)b >= path_len) {
		snprintf(err, errlen, "state directory path too long: %s",
		    state_dir);
		return -1;
	}
	if (access(cert_path, F_OK) == 0 && access(key_path, F_OK) == 0)
		return 0;
	ho_log_info(
	    "generating the default self-signed certificate in %s", state_dir);
	return generate(cert_path, key_path, err, errlen);
}
