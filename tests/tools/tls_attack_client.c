/*
 * tls_attack_client.c - a GnuTLS client that completes a TLS 1.3
 * handshake with an echo server, checks one echo, then misbehaves on
 * purpose so the test can see how the server's record layer reacts.
 *
 *   tls_attack_client PORT CAFILE MODE
 *     badmac    send a forged application-data record: the server must
 *               answer with a bad_record_mac alert
 *     overflow  send a record longer than 2^14 + 256: record_overflow
 *     alert     send a fatal alert (internal_error) and stop
 *     big       send 64 KiB of application data, check it echoes back
 *     limit     advertise a 512-byte record_size_limit, echo 8 KiB
 *
 * Prints what happened and exits 0 only if the server did the right
 * thing.  No mocks: GnuTLS on one side, libhandoff on the other.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

static int
connect_tcp(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		exit(2);
	}
	return fd;
}

static void
write_raw(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			perror("write");
			exit(2);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Reads until the server's reaction: returns the alert it sent, or -1. */
static int
await_alert(gnutls_session_t s)
{
	char buf[256];
	for (;;) {
		ssize_t r = gnutls_record_recv(s, buf, sizeof(buf));
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
			return (int)gnutls_alert_get(s);
		if (r <= 0) {
			printf("no alert: %s\n",
			    r == 0 ? "connection closed"
			           : gnutls_strerror((int)r));
			return -1;
		}
	}
}

/* Sends len bytes and reads them back. */
static int
echo(gnutls_session_t s, size_t len)
{
	char *out = malloc(len), *in = malloc(len);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)('a' + i % 26);
	size_t off = 0, got = 0;
	while (off < len) {
		ssize_t w = gnutls_record_send(s, out + off, len - off);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	while (got < len) {
		ssize_t r = gnutls_record_recv(s, in + got, len - got);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue; /* after a NewSessionTicket, GnuTLS returns
			             this */
		if (r <= 0) {
			printf("echo failed: %s\n",
			    r == 0 ? "closed" : gnutls_strerror((int)r));
			return -1;
		}
		got += (size_t)r;
	}
	int same = memcmp(in, out, len) == 0;
	free(in);
	free(out);
	return same ? 0 : -1;
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr,
		    "usage: tls_attack_client PORT CAFILE "
		    "badmac|overflow|alert|big|limit\n");
		return 2;
	}
	const char *mode = argv[3];
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_trust_file(
	        cred, argv[2], GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "cannot read CA file %s\n", argv[2]);
		return 2;
	}
	gnutls_init(&s, GNUTLS_CLIENT);
	/* limit: advertise record_size_limit = 512 (plus the content type
	 * byte in TLS 1.3); GnuTLS then refuses any larger record. */
	if (strcmp(mode, "limit") == 0)
		gnutls_record_set_max_recv_size(s, 512);
	gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_session_set_verify_cert(s, "localhost", 0);
	int fd = connect_tcp(atoi(argv[1]));
	gnutls_transport_set_int(s, fd);
	int ret;
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0) {
		printf("handshake failed: %s\n", gnutls_strerror(ret));
		return 1;
	}
	if (echo(s, 6) != 0) {
		printf("first echo failed\n");
		return 1;
	}
	int want = -1;
	if (strcmp(mode, "badmac") == 0) {
		uint8_t rec[5 + 48] = {23, 3, 3, 0, 48};
		for (size_t i = 5; i < sizeof(rec); i++)
			rec[i] = (uint8_t)(i * 7);
		write_raw(fd, rec, sizeof(rec));
		want = GNUTLS_A_BAD_RECORD_MAC;
	} else if (strcmp(mode, "overflow") == 0) {
		size_t body = 16384 + 256 + 1;
		uint8_t *rec = calloc(1, 5 + body);
		rec[0] = 23, rec[1] = 3, rec[2] = 3;
		rec[3] = (uint8_t)(body >> 8), rec[4] = (uint8_t)body;
		write_raw(fd, rec, 5 + body);
		free(rec);
		want = GNUTLS_A_RECORD_OVERFLOW;
	} else if (strcmp(mode, "alert") == 0) {
		gnutls_alert_send(s, GNUTLS_AL_FATAL, GNUTLS_A_INTERNAL_ERROR);
		printf("sent internal_error\n");
		return 0;
	} else if (strcmp(mode, "limit") == 0) {
		/* 8 KiB in one echo: the server must split its answer into
		 * records of at most 512 bytes, or GnuTLS fails the read. */
		int r = echo(s, 8192);
		printf("8 KiB echo under a 512-byte record limit %s\n",
		    r == 0 ? "intact" : "FAILED");
		gnutls_bye(s, GNUTLS_SHUT_WR);
		return r == 0 ? 0 : 1;
	} else if (strcmp(mode, "big") == 0) {
		int r = echo(s, 65536);
		printf("64 KiB echo %s\n", r == 0 ? "intact" : "FAILED");
		gnutls_bye(s, GNUTLS_SHUT_WR);
		return r == 0 ? 0 : 1;
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	int got = await_alert(s);
	printf("server answered with alert %s (%d)\n",
	    got >= 0 ? gnutls_alert_get_name((gnutls_alert_description_t)got)
	             : "none",
	    got);
	close(fd);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	return got == want ? 0 : 1;
}
