/*
 * stalled_peer.c - a libhandoff server whose peer sends a ClientHello and
 * then never reads: the handshake must give up at its deadline with
 * HANDOFF_ETIMEOUT, on a blocking socket (no send() that blocks for ever)
 * and on a non-blocking one (no WANT_POLLOUT for ever).
 *
 *   stalled_peer DAEMON_URL blocking|nonblocking DEADLINE_MS
 *
 * The ClientHello comes from a libhandoff client on a socketpair (so the
 * daemon makes it); it is copied into a second socketpair, whose server
 * end has a small send buffer (SO_SNDBUF 4096, 8 KiB after the kernel
 * doubles it) and whose peer end is never read.  The daemon's profile
 * must have a certificate big enough that its flight does not fit
 * (stalled_peer.sh makes one of about 20 KiB).
 *
 * Prints one line "<mode>: ..." and exits 0 when the handshake failed
 * with HANDOFF_ETIMEOUT no earlier than the deadline and no later than
 * DEADLINE_MS + SLACK_MS after it started; 1 otherwise, also when a call
 * is still stuck SLACK_MS after the deadline (an alarm ends the process).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_hello.h"
#include "handoff.h"

/* Room for a slow (sanitizer, valgrind) build past the deadline. */
#define SLACK_MS 3000

static const char *mode = "?";

static void
on_alarm(int sig)
{
	(void)sig;
	/* printf is not async-signal-safe: write a fixed message. */
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
	    "%s: FAIL: handoff_handshake still blocked %d ms after its "
	    "deadline (stuck writing to a peer that does not read)\n",
	    mode, SLACK_MS);
	if (write(STDOUT_FILENO, msg, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

int
main(int argc, char **argv)
{
	if (argc != 4 ||
	    (strcmp(argv[2], "blocking") != 0 &&
	        strcmp(argv[2], "nonblocking") != 0)) {
		fprintf(stderr,
		    "usage: stalled_peer DAEMON_URL "
		    "blocking|nonblocking DEADLINE_MS\n");
		return 2;
	}
	mode = argv[2];
	int nonblocking = strcmp(mode, "nonblocking") == 0;
	long deadline = atol(argv[3]);
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, argv[1]);
	handoff_config_set_deadline_ms(cfg, (unsigned)deadline);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	if (ctx == NULL)
		return 2;

	uint8_t hello[16384];
	ssize_t hello_len = daemon_client_hello(ctx, hello, sizeof(hello));
	if (hello_len <= 0) {
		printf("%s: no ClientHello from the daemon\n", mode);
		return 2;
	}

	int sv[2], small = 4096;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) !=
	        0 ||
	    send(sv[1], hello, (size_t)hello_len, 0) != hello_len) {
		perror("socketpair");
		return 2;
	}
	if (nonblocking)
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
	/* sv[1] is never read from here on. */

	struct handoff_conn *c = NULL;
	if (handoff_accept_socket(ctx, &c, sv[0]) != 0) {
		printf("%s: accept: %s\n", mode, handoff_ctx_error(ctx));
		return 2;
	}
	signal(SIGALRM, on_alarm);
	alarm((unsigned)((deadline + SLACK_MS) / 1000 + 1));
	long t0 = now_ms();
	int r, pollouts = 0, bad_timeouts = 0, zero_timeouts = 0;
	for (;;) {
		r = handoff_handshake(c);
		if (r != HANDOFF_WANT_POLLIN && r != HANDOFF_WANT_POLLOUT)
			break;
		int timeout = handoff_conn_poll_timeout(c);
		if (r == HANDOFF_WANT_POLLOUT) {
			pollouts++;
			/* While it waits to write, the caller must be told
			 * how long it may wait. */
			if (timeout < 0 || timeout > deadline)
				bad_timeouts++;
			/* 0 means the deadline has passed: the next call
			 * must fail, not ask to wait again (once is a clock
			 * tick between the two). */
			if (timeout == 0)
				zero_timeouts++;
		}
		if (now_ms() - t0 > deadline + SLACK_MS) {
			printf("%s: FAIL: still %s %d ms after the deadline "
			       "(%d WANT_POLLOUT, poll_timeout() now %d)\n",
			    mode,
			    r == HANDOFF_WANT_POLLOUT ? "HANDOFF_WANT_POLLOUT"
			                              : "HANDOFF_WANT_POLLIN",
			    SLACK_MS, pollouts, timeout);
			return 1;
		}
		struct pollfd p = {handoff_conn_pollfd(c),
		    r == HANDOFF_WANT_POLLIN ? POLLIN : POLLOUT, 0};
		poll(&p, 1, timeout);
	}
	alarm(0);
	long took = now_ms() - t0;
	int err = handoff_conn_errno(c);
	printf("%s: handoff_handshake -> %d (%s) after %ld ms, %d "
	       "WANT_POLLOUT: %s\n",
	    mode, r, handoff_err_name(err), took, pollouts,
	    handoff_conn_error(c));
	int ok = r == -1 && err == HANDOFF_ETIMEOUT && took >= deadline - 10 &&
	    took <= deadline + SLACK_MS && bad_timeouts == 0 &&
	    (!nonblocking || pollouts > 0);
	if (bad_timeouts > 0)
		printf("%s: FAIL: poll_timeout() was not the time left in %d "
		       "of %d WANT_POLLOUT\n",
		    mode, bad_timeouts, pollouts);
	if (zero_timeouts > 1)
		printf(
		    "%s: FAIL: %d WANT_POLLOUT after the deadline (a caller "
		    "would spin)\n",
		    mode, zero_timeouts);
	handoff_conn_free(c);
	handoff_ctx_free(ctx);
	close(sv[0]);
	close(sv[1]);
	return ok ? 0 : 1;
}
