/*
 * peer_gone_server.c - a blocking libhandoff server that writes to a
 * client which has gone away, with SIGPIPE left at its default action
 * (which ends the process), as a program that never thought about
 * SIGPIPE would have it.
 *
 *   peer_gone_server PORT DAEMON_URL
 *
 * Accepts one connection on 127.0.0.1:PORT, completes the handshake,
 * reads the client's first bytes, waits for the client to close (its
 * FIN), then writes 256 KiB at a time with handoff_write() (several
 * write() batches each: the first draws the client's RST, a later one
 * meets the closed connection), up to 4 MiB.  Prints "listening", then
 * "write: ..." with the outcome, and exits 0 if a write failed with an
 * error (as it must) or 1 otherwise.  Killed by SIGPIPE, it exits 141
 * and prints no outcome.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handoff.h"

/* Waits (about 5 s at most) until the client has closed its end: its
 * FIN makes the socket readable with nothing after the TLS bytes it
 * sent. */
static void
wait_for_fin(int fd)
{
	char b[4096];
	struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
	for (int i = 0; i < 500 && poll(&p, 1, 5000) > 0; i++) {
		if (p.revents & (POLLRDHUP | POLLHUP))
			return;
		if (recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT) == 0)
			return;
		usleep(10000);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: peer_gone_server PORT DAEMON_URL\n");
		return 2;
	}
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(lfd, 4) != 0) {
		perror("bind");
		return 2;
	}
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, argv[2]);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	printf("listening\n");
	fflush(stdout);
	int fd = accept(lfd, NULL, NULL);
	struct handoff_conn *conn = NULL;
	if (fd < 0 || handoff_accept_socket(ctx, &conn, fd) != 0 ||
	    handoff_handshake(conn) != 0) {
		printf("handshake: %s\n",
		    conn ? handoff_conn_error(conn) : "accept failed");
		return 2;
	}
	char buf[256];
	if (handoff_read(conn, buf, sizeof(buf)) <= 0) {
		printf("read: %s\n", handoff_conn_error(conn));
		return 2;
	}
	wait_for_fin(fd);
	/* The first write draws the client's reset; a later one meets the
	 * closed connection.  Up to 4 MiB, in case resets are slow. */
	size_t len = 256 * 1024;
	char *big = calloc(1, len);
	ssize_t n = 0;
	for (int i = 0; i < 16 && n >= 0; i++)
		n = handoff_write(conn, big, len);
	if (n < 0)
		printf("write: %s: %s\n",
		    handoff_err_name(handoff_conn_errno(conn)),
		    handoff_conn_error(conn));
	else
		printf("write: %zd bytes taken by a closed connection\n", n);
	free(big);
	handoff_conn_free(conn);
	handoff_ctx_free(ctx);
	close(fd);
	close(lfd);
	return n < 0 ? 0 : 1;
}
