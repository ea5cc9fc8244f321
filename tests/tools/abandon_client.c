/*
 * abandon_client.c - handshakes a program gives up on while handoffd
 * still works on them, for abandon.sh.
 *
 *   abandon_client DAEMON_URL N
 *
 * N times: a client connection on a socket pair (the server end never
 * answers), one non-blocking handoff_handshake() call, which sends the
 * first request to handoffd and returns HANDOFF_WANT_POLLIN, then, a
 * millisecond later, handoff_conn_free() before the daemon's reply (with
 * the session's token) has been read.  Then N (at most 64) connections
 * driven until their ClientHello is out (each holds its token), freed
 * together right before the context and the process end.  Then frees the
 * context and exits 0, or 1 if a first step did not return
 * HANDOFF_WANT_POLLIN.  handoffd must not keep the N sessions until their
 * timeout: libhandoff aborts each one when its reply arrives for a connection
 * that is gone.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handoff.h"

#define MAX_HELD 64

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: abandon_client URL N\n");
		return 2;
	}
	struct handoff_config *cfg = handoff_config_new();
	if (handoff_config_set_daemon(cfg, argv[1]) != 0)
		return 2;
	handoff_config_insecure_noverifycert(cfg);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	int n = atoi(argv[2]), ok = 1;
	/* First one handshake the daemon answers (its peer has closed, so
	 * it fails after the first step): nanomsg is connected from then
	 * on, and each first request below goes out at once instead of
	 * waiting in the queue, where freeing its connection would drop
	 * it before handoffd ever saw it. */
	int sv[2];
	struct handoff_conn *c = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    handoff_connect_socket(ctx, &c, sv[0], "localhost") != 0)
		return 2;
	close(sv[1]);
	handoff_handshake(c);
	handoff_conn_free(c);
	close(sv[0]);
	for (int i = 0; i < n; i++) {
		c = NULL;
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
		    fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0 ||
		    handoff_connect_socket(ctx, &c, sv[0], "localhost") != 0)
			return 2;
		int r = handoff_handshake(c);
		if (r != HANDOFF_WANT_POLLIN) {
			printf("first step returned %d (%s), not "
			       "HANDOFF_WANT_POLLIN\n",
			    r, handoff_conn_error(c));
			ok = 0;
		}
		/* Time for nanomsg to send it (it sends one message at a
		 * time, and a request still queued when its connection is
		 * freed is dropped unsent); its reply may be in by then or
		 * not: both must leave nothing behind. */
		usleep(1000);
		handoff_conn_free(c);
		close(sv[0]);
		close(sv[1]);
	}
	/* Then N connections that hold their daemon session's token (the
	 * ClientHello is out, the server's answer awaited), all freed at
	 * once right before the context and the process end: their ABORTs
	 * must reach handoffd before nanomsg's socket closes. */
	struct handoff_conn *held[MAX_HELD];
	int fds[MAX_HELD][2], m = n < MAX_HELD ? n : MAX_HELD;
	for (int i = 0; i < m; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]) != 0 ||
		    fcntl(fds[i][0], F_SETFL, O_NONBLOCK) != 0 ||
		    handoff_connect_socket(
		        ctx, &held[i], fds[i][0], "localhost") != 0)
			return 2;
		int r;
		while (
		    (r = handoff_handshake(held[i])) == HANDOFF_WANT_POLLIN &&
		    handoff_conn_pollfd(held[i]) != fds[i][0]) {
			struct pollfd p = {
			    handoff_conn_pollfd(held[i]), POLLIN, 0};
			poll(&p, 1, handoff_conn_poll_timeout(held[i]));
		}
		if (r != HANDOFF_WANT_POLLIN) {
			printf("client %d did not get to wait for its server: "
			       "%s\n",
			    i, handoff_conn_error(held[i]));
			ok = 0;
		}
	}
	for (int i = 0; i < m; i++) {
		handoff_conn_free(held[i]);
		close(fds[i][0]);
		close(fds[i][1]);
	}
	handoff_ctx_free(ctx);
	if (ok)
		printf("%d handshakes abandoned after their first request, %d "
		       "with their session token, right before exit\n",
		    n, m);
	return ok ? 0 : 1;
}
