/*
 * nb_echo_server.c - a test server that drives libhandoff only through
 * non-blocking sockets and poll(), the way an event-loop program does.
 *
 *   nb_echo_server PORT DAEMON_URL CONNECTIONS [--rekey]
 *
 * Serves CONNECTIONS connections one after another on 127.0.0.1:PORT.
 * Each handshake is pumped by waiting on handoff_conn_pollfd() for the
 * event handoff_handshake() asked for; then bytes are echoed until the
 * peer closes.  With --rekey the server asks for a KeyUpdate after the
 * first echoed chunk (handoff_conn_rekey).  Prints one line per
 * connection ("conn N: ok ..." or "conn N: error ...") and counts how
 * often each wait kind was seen, so the test can check the non-blocking
 * paths were really taken.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handoff.h"

static unsigned waits_in, waits_out, waits_daemon;

/* Waits for what a WANT_* result asked for; -1 on poll failure. */
static int
wait_for(struct handoff_conn *conn, int fd, int want)
{
	int pfd = handoff_conn_pollfd(conn);
	struct pollfd p = {
	    pfd, want == HANDOFF_WANT_POLLIN ? POLLIN : POLLOUT, 0};
	if (pfd != fd)
		waits_daemon++;
	else if (want == HANDOFF_WANT_POLLIN)
		waits_in++;
	else
		waits_out++;
	int timeout = handoff_conn_poll_timeout(conn);
	if (poll(&p, 1, timeout < 0 ? 10000 : timeout) < 0 && errno != EINTR)
		return -1;
	return 0;
}

static int
serve(struct handoff_conn *conn, int fd, int rekey)
{
	int r;
	while ((r = handoff_handshake(conn)) != 0) {
		if (r != HANDOFF_WANT_POLLIN && r != HANDOFF_WANT_POLLOUT)
			return -1;
		if (wait_for(conn, fd, r) != 0)
			return -1;
	}
	char buf[16384];
	int chunks = 0;
	for (;;) {
		ssize_t n = handoff_read(conn, buf, sizeof(buf));
		if (n == HANDOFF_WANT_POLLIN || n == HANDOFF_WANT_POLLOUT) {
			if (wait_for(conn, fd, (int)n) != 0)
				return -1;
			continue;
		}
		if (n == 0)
			return 0;
		if (n < 0)
			return handoff_conn_errno(conn) == HANDOFF_EEOF ? 0
			                                                : -1;
		size_t off = 0;
		while (off < (size_t)n) {
			ssize_t w =
			    handoff_write(conn, buf + off, (size_t)n - off);
			if (w == HANDOFF_WANT_POLLIN ||
			    w == HANDOFF_WANT_POLLOUT) {
				if (wait_for(conn, fd, (int)w) != 0)
					return -1;
				continue;
			}
			if (w < 0)
				return -1;
			off += (size_t)w;
		}
		if (rekey && ++chunks == 1 && handoff_conn_rekey(conn) != 0)
			return -1;
	}
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr,
		    "usage: nb_echo_server PORT DAEMON_URL "
		    "CONNECTIONS [--rekey]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int port = atoi(argv[1]), count = atoi(argv[3]);
	int rekey = argc > 4 && strcmp(argv[4], "--rekey") == 0;
	struct handoff_config *cfg = handoff_config_new();
	if (cfg == NULL || handoff_config_set_daemon(cfg, argv[2]) != 0) {
		fprintf(stderr, "nb_echo_server: bad daemon URL\n");
		return 2;
	}
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ctx == NULL ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 16) != 0) {
		perror("nb_echo_server: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	int failures = 0;
	for (int i = 1; i <= count; i++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			perror("accept");
			return 1;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		struct handoff_conn *conn = NULL;
		if (handoff_accept_socket(ctx, &conn, fd) != 0) {
			printf(
			    "conn %d: error %s\n", i, handoff_ctx_error(ctx));
			failures++;
		} else if (serve(conn, fd, rekey) != 0) {
			printf("conn %d: error %s (%s)\n", i,
			    handoff_conn_error(conn),
			    handoff_err_name(handoff_conn_errno(conn)));
			failures++;
		} else {
			int r;
			while (
			    (r = handoff_close(conn)) == HANDOFF_WANT_POLLOUT)
				wait_for(conn, fd, r);
			printf("conn %d: ok %s %s\n", i,
			    handoff_conn_version(conn),
			    handoff_conn_cipher(conn));
		}
		fflush(stdout);
		handoff_conn_free(conn);
		close(fd);
	}
	printf("waits: peer-in %u peer-out %u daemon %u\n", waits_in,
	    waits_out, waits_daemon);
	handoff_ctx_free(ctx);
	close(lfd);
	return failures ? 1 : 0;
}
