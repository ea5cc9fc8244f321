/*
 * trickle_peer.c - a libhandoff server whose peer sends its ClientHello
 * one byte per record, a record every 200 ms.  The library waits for
 * the whole ClientHello before it goes to handoffd, within one wait's
 * deadline; that deadline is 5000 ms here, so the whole handshake's
 * limit (2500 ms) comes first and must end it, with HANDOFF_ETIMEOUT and
 * a message naming that limit.  (The limit also bounds a peer that
 * trickles whole records in later flights, each a step in handoffd.)
 * Without either the handshake would go on for the whole ClientHello (a
 * minute).
 *
 *   trickle_peer DAEMON_URL blocking|nonblocking
 *
 * The ClientHello comes from a libhandoff client on a socket pair (the
 * daemon makes it).  Prints one line "<mode>: ..." and exits 0 when the
 * handshake failed as it must, between 2500 ms and 2500 + SLACK_MS after
 * it started; 1 otherwise (an alarm ends a call still running then).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_hello.h"
#include "handoff.h"

#define DEADLINE_MS 5000
#define HANDSHAKE_LIMIT_MS 2500
#define RECORD_EVERY_MS 200
/* Room for a slow (sanitizer, valgrind) build past the limit. */
#define SLACK_MS 3000

static const char *mode = "?";
static uint8_t hello[16384];
static size_t hello_len;
static int peer_fd;
static volatile int stop;

static void
on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "FAIL: the handshake was still running "
	                          "past its limit plus slack\n";
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* A ClientHello record made by the daemon for a client connection. */
static int
make_client_hello(const char *url)
{
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, url);
	handoff_config_insecure_noverifycert(cfg);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	ssize_t n =
	    ctx != NULL ? daemon_client_hello(ctx, hello, sizeof(hello)) : -1;
	handoff_ctx_free(ctx);
	if (n < 5 || hello[0] != 22)
		return -1;
	hello_len = (size_t)n;
	return 0;
}

/* Sends the ClientHello's handshake bytes one per record. */
static void *
trickle(void *arg)
{
	(void)arg;
	for (size_t i = 5; i < hello_len && !stop; i++) {
		uint8_t rec[6] = {22, 3, 1, 0, 1, hello[i]};
		if (send(peer_fd, rec, sizeof(rec), MSG_NOSIGNAL) < 0)
			break;
		usleep(RECORD_EVERY_MS * 1000);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(
		    stderr, "usage: trickle_peer URL blocking|nonblocking\n");
		return 2;
	}
	mode = argv[2];
	int nonblocking = strcmp(mode, "nonblocking") == 0;
	if (make_client_hello(argv[1]) != 0) {
		printf("%s: FAIL: no ClientHello from the daemon\n", mode);
		return 1;
	}
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, argv[1]);
	handoff_config_set_deadline_ms(cfg, DEADLINE_MS);
	handoff_config_set_handshake_timeout_ms(cfg, HANDSHAKE_LIMIT_MS);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	int sv[2];
	struct handoff_conn *c = NULL;
	if (ctx == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    (nonblocking && fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0))
		return 2;
	peer_fd = sv[1];
	signal(SIGALRM, on_alarm);
	alarm((HANDSHAKE_LIMIT_MS + SLACK_MS) / 1000 + 1);
	long t0 = now_ms();
	pthread_t writer;
	if (handoff_accept_socket(ctx, &c, sv[0]) != 0 ||
	    pthread_create(&writer, NULL, trickle, NULL) != 0)
		return 2;
	int r;
	while ((r = handoff_handshake(c)) == HANDOFF_WANT_POLLIN ||
	    r == HANDOFF_WANT_POLLOUT) {
		struct pollfd p = {handoff_conn_pollfd(c),
		    r == HANDOFF_WANT_POLLIN ? POLLIN : POLLOUT, 0};
		poll(&p, 1, handoff_conn_poll_timeout(c));
	}
	long took = now_ms() - t0;
	stop = 1;
	pthread_join(writer, NULL);
	int ok = r == -1 && handoff_conn_errno(c) == HANDOFF_ETIMEOUT &&
	    strstr(handoff_conn_error(c),
	        "handoff_config_set_handshake_timeout_ms") != NULL &&
	    took >= HANDSHAKE_LIMIT_MS &&
	    took <= HANDSHAKE_LIMIT_MS + SLACK_MS;
	printf("%s: %s: handoff_handshake -> %d (%s) after %ld ms: %s\n", mode,
	    ok ? "ok" : "FAIL", r, handoff_err_name(handoff_conn_errno(c)),
	    took, handoff_conn_error(c));
	handoff_conn_free(c);
	handoff_ctx_free(ctx);
	close(sv[0]);
	close(sv[1]);
	return ok ? 0 : 1;
}
