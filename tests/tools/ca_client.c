/*
 * ca_client.c - client connections on one context with a CA file of the
 * caller's own, for ca_digest.sh.
 *
 *   ca_client DAEMON_URL PORT CA_FILE N
 *
 * Makes N connections one after another to 127.0.0.1:PORT (openssl
 * s_server -rev), each writing a line and reading it back reversed, and
 * prints "ok N" when all did.  Then it waits for a line on stdin (the
 * script restarts handoffd meanwhile) and does the same again.  Any
 * failure is printed with its reason and ends the program with 1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handoff.h"

/* One connection: handshake, a line out, its reverse back. */
static int
round_trip(struct handoff_ctx *ctx, int port, int i)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		printf("connection %d: cannot connect\n", i);
		return -1;
	}
	struct handoff_conn *c = NULL;
	char buf[64];
	ssize_t k = -1;
	if (handoff_connect_socket(ctx, &c, fd, "localhost") == 0 &&
	    handoff_handshake(c) == 0 && handoff_write(c, "abc\n", 4) == 4)
		k = handoff_read(c, buf, sizeof(buf));
	int ok = k == 4 && memcmp(buf, "cba\n", 4) == 0;
	if (!ok)
		printf("connection %d: %s\n", i,
		    c != NULL ? handoff_conn_error(c)
		              : handoff_ctx_error(ctx));
	handoff_conn_free(c);
	close(fd);
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: ca_client URL PORT CA_FILE N\n");
		return 2;
	}
	int port = atoi(argv[2]), n = atoi(argv[4]);
	struct handoff_config *cfg = handoff_config_new();
	if (handoff_config_set_daemon(cfg, argv[1]) != 0 ||
	    handoff_config_set_ca_file(cfg, argv[3]) != 0 ||
	    handoff_config_set_deadline_ms(cfg, 3000) != 0) {
		printf("config: %s\n", handoff_config_error(cfg));
		return 1;
	}
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	if (ctx == NULL) {
		printf("cannot create a context\n");
		return 1;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++)
			if (round_trip(ctx, port, i) != 0)
				return 1;
		printf("ok %d\n", n);
		fflush(stdout);
		char line[64];
		if (pass == 0 && fgets(line, sizeof(line), stdin) == NULL)
			return 1;
	}
	handoff_ctx_free(ctx);
	return 0;
}
