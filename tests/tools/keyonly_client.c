/*
 * keyonly_client.c - a plain GnuTLS client that has handoffd verify the
 * server's certificate chain (handoff_gnutls_verify_peers()), from the
 * verify function where gnutls_certificate_verify_peers3() would be.
 *
 *   keyonly_client PORT DAEMON_URL PROFILE HOSTNAME COUNT
 *
 * Connects COUNT times to 127.0.0.1:PORT one after another (TLS 1.3 or
 * 1.2, as the server likes) checking the server for HOSTNAME, and prints
 * for each "ok trusted VERSION" or "handshake failed: GNUTLS ERROR /
 * HANDOFF'S REASON".  Exits 0 if every handshake succeeded, else 1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "handoff.h"
#include "handoff_gnutls.h"

static struct handoff_ctx *ctx;
static const char *hostname;

/* GnuTLS calls it with the server's chain received. */
static int
verify_server(gnutls_session_t s)
{
	unsigned status;
	if (handoff_gnutls_verify_peers(ctx, s, hostname, &status) != 0 ||
	    status != 0)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return 0;
}

static int
connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("keyonly_client: connect");
		exit(1);
	}
	return fd;
}

static int
one(int port, gnutls_certificate_credentials_t cred)
{
	gnutls_session_t s;
	int fd = connect_to(port), ret;
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, hostname, strlen(hostname));
	gnutls_session_set_verify_function(s, verify_server);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 10000);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0)
		printf("handshake failed: %s / %s\n", gnutls_strerror(ret),
		    handoff_ctx_error(ctx));
	else
		printf("ok trusted %s\n",
		    gnutls_protocol_get_name(gnutls_protocol_get_version(s)));
	fflush(stdout);
	if (ret == 0)
		gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
	return ret < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr,
		    "usage: keyonly_client PORT DAEMON_URL PROFILE "
		    "HOSTNAME COUNT\n");
		return 2;
	}
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, argv[2]);
	handoff_config_set_profile(cfg, argv[3]);
	handoff_config_set_deadline_ms(cfg, 3000);
	ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	if (ctx == NULL) {
		printf("setup failed: no context\n");
		return 1;
	}
	hostname = argv[4];
	/* No CAs here: handoffd holds the trust. */
	gnutls_certificate_credentials_t cred;
	gnutls_certificate_allocate_credentials(&cred);
	int failures = 0;
	for (int i = 0; i < atoi(argv[5]); i++)
		failures += one(atoi(argv[1]), cred) != 0;
	gnutls_certificate_free_credentials(cred);
	handoff_ctx_free(ctx);
	return failures == 0 ? 0 : 1;
}
