/*
 * relay_client.c - many long-lived TLS 1.3 client connections on one
 * context whose session tickets are relayed to a daemon that never
 * answers, for relay.sh.
 *
 *   relay_client DAEMON_URL PORT CA_FILE N
 *
 * Makes N client connections to 127.0.0.1:PORT (a TLS 1.3 echo server
 * that sends tickets, serving many at once), prints "connected", and waits
 * for a line on stdin (meanwhile the script freezes handoffd).  Then
 * each connection writes a line and reads the answer, which takes the
 * server's tickets and relays them to the frozen daemon; prints
 * "relayed" and waits for another line (the script kills handoffd and
 * starts a new one).  Then, with all N connections still open, makes a
 * new connection on the same context, which must succeed (relays nobody
 * answered must not hold the context's window), frees the N connections,
 * which must take under a second in all (freeing must not wait for
 * answers), and prints the outcome.  Exits 0 when both held, 1 if not.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"

#define MAX_CONNS 64

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A connection through ctx with its handshake done, or NULL (printed). */
static struct handoff_conn *
connect_one(struct handoff_ctx *ctx, int port)
{
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct handoff_conn *c = NULL;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("connect");
		return NULL;
	}
	if (handoff_connect_socket(ctx, &c, fd, "localhost") != 0) {
		printf("connect_socket: %s\n", handoff_ctx_error(ctx));
		return NULL;
	}
	if (handoff_handshake(c) != 0) {
		printf("handshake: %s: %s\n",
		    handoff_err_name(handoff_conn_errno(c)),
		    handoff_conn_error(c));
		handoff_conn_free(c);
		return NULL;
	}
	return c;
}

static void
wait_for_line(void)
{
	char line[64];
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		exit(1);
}

int
main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: relay_client URL PORT CA_FILE N\n");
		return 2;
	}
	int port = atoi(argv[2]), n = atoi(argv[4]);
	if (n < 1 || n > MAX_CONNS)
		return 2;
	struct handoff_config *cfg = handoff_config_new();
	if (handoff_config_set_daemon(cfg, argv[1]) != 0 ||
	    handoff_config_set_ca_file(cfg, argv[3]) != 0 ||
	    handoff_config_set_deadline_ms(cfg, 3000) != 0) {
		printf("config: %s\n", handoff_config_error(cfg));
		return 1;
	}
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	struct handoff_conn *c[MAX_CONNS];
	for (int i = 0; i < n; i++)
		if ((c[i] = connect_one(ctx, port)) == NULL)
			return 1;
	printf("connected\n");
	wait_for_line();
	for (int i = 0; i < n; i++) {
		char buf[64];
		ssize_t k = handoff_write(c[i], "relay\n", 6);
		if (k == 6)
			k = handoff_read(c[i], buf, sizeof(buf));
		if (k <= 0) {
			printf("connection %d: %s\n", i,
			    handoff_conn_error(c[i]));
			return 1;
		}
	}
	printf("relayed\n");
	wait_for_line();
	int ok = 1;
	double t = now_s();
	struct handoff_conn *fresh = connect_one(ctx, port);
	if (fresh == NULL) {
		printf("a new handshake on the context failed after %.2f s, "
		       "with %d relays unanswered\n",
		    now_s() - t, n);
		ok = 0;
	}
	handoff_conn_free(fresh);
	t = now_s();
	for (int i = 0; i < n; i++)
		handoff_conn_free(c[i]);
	double freeing = now_s() - t;
	if (freeing >= 1.0) {
		printf("freeing %d connections took %.2f s\n", n, freeing);
		ok = 0;
	}
	if (ok)
		printf("new handshake ok with %d relays unanswered; %d "
		       "connections freed in %.3f s\n",
		    n, n, freeing);
	handoff_ctx_free(ctx);
	return ok ? 0 : 1;
}
