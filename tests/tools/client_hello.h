/*
 * client_hello.h - for the test tools that play a TLS client by hand: a
 * monotonic clock in ms, and a real ClientHello made by handoffd for a
 * client-role connection (written to a socket pair and read back), so a
 * tool can then send it to a server connection however it likes.
 * Header-only: each tool is one file.
 */
#ifndef TESTS_TOOLS_CLIENT_HELLO_H
#define TESTS_TOOLS_CLIENT_HELLO_H

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"

static long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Has a client-role connection through ctx write its ClientHello and
 * returns the record in buf: its length, or -1 (the reason printed). */
static ssize_t
daemon_client_hello(struct handoff_ctx *ctx, uint8_t *buf, size_t cap)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	struct handoff_conn *c = NULL;
	ssize_t n = -1;
	if (handoff_connect_socket(ctx, &c, sv[0], "localhost") != 0)
		goto out;
	for (long end = now_ms() + 10000; now_ms() < end;) {
		int r = handoff_handshake(c);
		if (r == HANDOFF_WANT_POLLIN &&
		    handoff_conn_pollfd(c) == sv[0])
			break; /* the ClientHello is out: waiting for a reply
			        */
		if (r != HANDOFF_WANT_POLLIN && r != HANDOFF_WANT_POLLOUT) {
			printf(
			    "client handshake: %s\n", handoff_conn_error(c));
			goto out;
		}
		struct pollfd p = {handoff_conn_pollfd(c),
		    r == HANDOFF_WANT_POLLIN ? POLLIN : POLLOUT, 0};
		poll(&p, 1, 100);
	}
	n = recv(sv[1], buf, cap, MSG_DONTWAIT);
out:
	handoff_conn_free(c);
	close(sv[0]);
	close(sv[1]);
	return n;
}

#endif /* TESTS_TOOLS_CLIENT_HELLO_H */
