/*
 * connect.c - handoff-demo connect: a TLS client built on libhandoff.
 *
 *   handoff-demo connect --host H --port P [--servername N] [--cafile F]
 *                        [--profile NAME] [--daemon URL] [--insecure]
 *
 * Connects to H:P, lets handoffd do the handshake (and verify the server
 * as N, default H), then copies standard input to the server and what
 * the server sends to standard output, like gnutls-cli.  At the end of
 * standard input it sends close_notify and waits (up to the deadline) for
 * the server to finish.  Exits 0 on a clean end, 1 with the error on
 * failure.  The socket is non-blocking, so this is also the example of
 * driving libhandoff from a poll() loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "demo.h"
#include "handoff.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: handoff-demo connect --host H --port P [--servername N] "
	    "[--cafile F]\n"
	    "                            [--profile NAME] [--daemon URL] "
	    "[--deadline MS] [--insecure]\n"
	    "Connects with TLS, the handshake done by handoffd; copies stdin "
	    "to the server\nand the server's data to stdout.  --insecure "
	    "turns certificate verification off.\n");
}

static int
tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	int err = getaddrinfo(host, port, &hints, &res);
	if (err != 0) {
		fprintf(stderr, "handoff-demo: cannot resolve %s: %s\n", host,
		    gai_strerror(err));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr,
		    "handoff-demo: cannot connect to %s port %s: %s\n", host,
		    port, strerror(err));
	return fd;
}

/* Waits for what a WANT_* result asks for; -1 when the deadline passes. */
static int
wait_for(struct handoff_conn *conn, int want)
{
	struct pollfd p = {handoff_conn_pollfd(conn),
	    want == HANDOFF_WANT_POLLOUT ? POLLOUT : POLLIN, 0};
	int r = poll(&p, 1, handoff_conn_poll_timeout(conn));
	return r < 0 && errno != EINTR ? -1 : 0;
}

static int
fail(struct handoff_conn *conn, const char *what)
{
	fprintf(stderr, "handoff-demo: %s: %s (%s)\n", what,
	    handoff_conn_error(conn),
	    handoff_err_name(handoff_conn_errno(conn)));
	return 1;
}

static int
write_all(struct handoff_conn *conn, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = handoff_write(conn, p, len);
		if (n == HANDOFF_WANT_POLLIN || n == HANDOFF_WANT_POLLOUT) {
			wait_for(conn, (int)n);
			continue;
		}
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies the server's data to stdout until it would block; 1 when the
 * server has finished, 0 to go on, -1 on error. */
static int
drain_server(struct handoff_conn *conn)
{
	char buf[16384];
	for (;;) {
		ssize_t n = handoff_read(conn, buf, sizeof(buf));
		if (n == HANDOFF_WANT_POLLIN || n == HANDOFF_WANT_POLLOUT)
			return 0;
		if (n == 0)
			return 1;
		if (n < 0)
			return -1;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -1;
		fflush(stdout);
	}
}

static int
run(struct handoff_conn *conn, unsigned deadline_ms)
{
	int r;
	while ((r = handoff_handshake(conn)) == HANDOFF_WANT_POLLIN ||
	    r == HANDOFF_WANT_POLLOUT)
		wait_for(conn, r);
	if (r != 0)
		return fail(conn, "handshake failed");
	const char *alpn = handoff_conn_alpn(conn);
	fprintf(stderr, "handoff-demo: connected: %s %s%s%s%s\n",
	    handoff_conn_version(conn), handoff_conn_cipher(conn),
	    alpn ? " alpn=" : "", alpn ? alpn : "",
	    handoff_conn_resumed(conn) ? " resumed" : "");
	int stdin_open = 1;
	for (;;) {
		r = drain_server(conn);
		if (r == 1)
			break;
		if (r < 0) {
			/* After our close_notify a bare TCP close is the
			 * end the server chose, not an error. */
			if (!stdin_open &&
			    handoff_conn_errno(conn) == HANDOFF_EEOF)
				break;
			return fail(conn, "connection failed");
		}
		struct pollfd p[2] = {{handoff_conn_pollfd(conn), POLLIN, 0},
		    {STDIN_FILENO, POLLIN, 0}};
		int n = poll(
		    p, stdin_open ? 2 : 1, stdin_open ? -1 : (int)deadline_ms);
		if (n == 0) {
			fprintf(stderr,
			    "handoff-demo: the server did not close within "
			    "%u ms of our close_notify; closing\n",
			    deadline_ms);
			break;
		}
		if (!stdin_open || !(p[1].revents & (POLLIN | POLLHUP)))
			continue;
		char buf[16384];
		ssize_t got = read(STDIN_FILENO, buf, sizeof(buf));
		if (got > 0 && write_all(conn, buf, (size_t)got) != 0)
			return fail(conn, "write failed");
		if (got <= 0) {
			stdin_open = 0;
			while (
			    (r = handoff_close(conn)) == HANDOFF_WANT_POLLOUT)
				wait_for(conn, r);
		}
	}
	return 0;
}

int
demo_connect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"port", required_argument, NULL, 'p'},
	    {"servername", required_argument, NULL, 'n'},
	    {"cafile", required_argument, NULL, 'c'},
	    {"profile", required_argument, NULL, 'P'},
	    {"daemon", required_argument, NULL, 'd'},
	    {"deadline", required_argument, NULL, 't'},
	    {"insecure", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *host = NULL, *port = NULL, *servername = NULL;
	unsigned deadline = HANDOFF_DEFAULT_DEADLINE_MS;
	int c;
	struct handoff_config *cfg = handoff_config_new();
	if (cfg == NULL) {
		fprintf(stderr, "handoff-demo: out of memory\n");
		return 1;
	}
	while ((c = getopt_long(
	            argc, argv, "H:p:n:c:P:d:t:kh", longopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'H': host = optarg; break;
		case 'p': port = optarg; break;
		case 'n': servername = optarg; break;
		case 'c': bad = handoff_config_set_ca_file(cfg, optarg); break;
		case 'P': bad = handoff_config_set_profile(cfg, optarg); break;
		case 'd': bad = handoff_config_set_daemon(cfg, optarg); break;
		case 't':
			deadline = (unsigned)atoi(optarg);
			bad = handoff_config_set_deadline_ms(cfg, deadline);
			break;
		case 'k':
			handoff_config_insecure_noverifycert(cfg);
			fprintf(stderr,
			    "handoff-demo: WARNING: --insecure: "
			    "the server's certificate is not "
			    "verified\n");
			break;
		case 'h':
			usage(stdout);
			handoff_config_free(cfg);
			return 0;
		default:
			usage(stderr);
			handoff_config_free(cfg);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "handoff-demo: %s\n",
			    handoff_config_error(cfg));
			handoff_config_free(cfg);
			return 2;
		}
	}
	if (host == NULL || port == NULL) {
		fprintf(stderr,
		    "handoff-demo: connect needs --host and "
		    "--port\n");
		usage(stderr);
		handoff_config_free(cfg);
		return 2;
	}
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	if (ctx == NULL) {
		fprintf(stderr, "handoff-demo: cannot create a context\n");
		return 1;
	}
	int rc = 1, fd = tcp_connect(host, port);
	struct handoff_conn *conn = NULL;
	if (fd >= 0) {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (handoff_connect_socket(
		        ctx, &conn, fd, servername ? servername : host) != 0)
			fprintf(stderr, "handoff-demo: %s\n",
			    handoff_ctx_error(ctx));
		else
			rc = run(conn, deadline);
	}
	handoff_conn_free(conn);
	if (fd >= 0)
		close(fd);
	handoff_ctx_free(ctx);
	return rc;
}
