/*
 * keyonly_server.c - a plain GnuTLS server whose private key is in
 * handoffd (handoff_gnutls.h): the handshake and the records are
 * GnuTLS's own, in this process; only the signatures go to handoffd.
 *
 *   keyonly_server [--verify-clients] PORT DAEMON_URL PROFILE COUNT
 *                  [PRIORITY]
 *
 * With --verify-clients it requires a client certificate and has
 * handoffd verify it (handoff_gnutls_verify_peers(), no host name): a
 * refused one fails the handshake with handoff's reason.
 * Sets up its credentials from handoffd (printing "setup failed: WHY"
 * and exiting 1 if that fails), prints "listening", then serves COUNT
 * connections on 127.0.0.1:PORT one after another: handshake, write
 * "hello from keyonly\n", close.  For each it prints "ok VERSION SIGALG"
 * or "handshake failed: GNUTLS ERROR / HANDOFF'S REASON".  Exits 0 if
 * every connection got its line, else 1.
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

static const char *const default_priority = "NORMAL:-RSA";
static struct handoff_ctx *ctx;
static int verify_clients;

/* GnuTLS calls it with the client's chain received. */
static int
verify_client(gnutls_session_t s)
{
	unsigned status;
	if (handoff_gnutls_verify_peers(ctx, s, NULL, &status) != 0 ||
	    status != 0)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return 0;
}

static int
listen_on(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fd, 8) != 0) {
		perror("keyonly_server: listen");
		exit(1);
	}
	return fd;
}

/* One connection; 0 if the client got its line. */
static int
serve(int fd, gnutls_certificate_credentials_t cred, gnutls_priority_t prio)
{
	gnutls_session_t s;
	static const char line[] = "hello from keyonly\n";
	gnutls_init(&s, GNUTLS_SERVER);
	gnutls_priority_set(s, prio);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	if (verify_clients) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_function(s, verify_client);
	}
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 10000);
	int ret;
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0) {
		printf("handshake failed: %s / %s\n", gnutls_strerror(ret),
		    handoff_ctx_error(ctx));
	} else {
		printf("ok %s %s\n",
		    gnutls_protocol_get_name(gnutls_protocol_get_version(s)),
		    gnutls_sign_get_name(gnutls_sign_algorithm_get(s)));
		ret = (int)gnutls_record_send(s, line, sizeof(line) - 1);
		gnutls_bye(s, GNUTLS_SHUT_WR);
	}
	fflush(stdout);
	gnutls_deinit(s);
	return ret < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--verify-clients") == 0) {
		verify_clients = 1;
		argv++;
		argc--;
	}
	if (argc != 5 && argc != 6) {
		fprintf(stderr,
		    "usage: keyonly_server [--verify-clients] PORT "
		    "DAEMON_URL PROFILE COUNT [PRIORITY]\n");
		return 2;
	}
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, argv[2]);
	handoff_config_set_profile(cfg, argv[3]);
	handoff_config_set_deadline_ms(cfg, 3000);
	ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_certificate_allocate_credentials(&cred);
	if (ctx == NULL ||
	    handoff_gnutls_certificate_set_key(ctx, cred) != 0) {
		printf("setup failed: %s\n",
		    ctx ? handoff_ctx_error(ctx) : "no context");
		return 1;
	}
	const char *p = argc == 6 ? argv[5] : default_priority;
	if (gnutls_priority_init(&prio, p, NULL) < 0) {
		printf("setup failed: bad priority %s\n", p);
		return 1;
	}
	int lfd = listen_on(atoi(argv[1])), failures = 0;
	printf("listening\n");
	fflush(stdout);
	for (int i = 0; i < atoi(argv[4]); i++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			perror("keyonly_server: accept");
			return 1;
		}
		failures += serve(fd, cred, prio) != 0;
		close(fd);
	}
	close(lfd);
	gnutls_priority_deinit(prio);
	gnutls_certificate_free_credentials(cred);
	handoff_ctx_free(ctx);
	return failures == 0 ? 0 : 1;
}
