/*
 * handoff-demo.c - a small TLS server (and client) built on libhandoff.
 *
 *   handoff-demo serve --port P [--echo] [--daemon URL] [--profile NAME]
 *                      [--deadline MS] [--idle-timeout MS]
 *   handoff-demo connect --host H --port P ...   (see connect.c)
 *
 * Listens on 127.0.0.1:P; each connection gets a thread, a handshake
 * done by handoffd, and then either a one-page HTTP answer naming the
 * negotiated version and cipher, or (--echo) its own bytes back.  A
 * client that sends nothing, or reads nothing, for --idle-timeout ms
 * (default 60000) after its handshake is closed: the socket's own
 * SO_RCVTIMEO and SO_SNDTIMEO bound the library's blocking reads and
 * writes.  It is also the example of how a program uses the library.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "demo.h"
#include "handoff.h"

#define DEFAULT_IDLE_TIMEOUT_MS 60000

struct server {
	struct handoff_ctx *ctx;
	int echo;
	unsigned idle_timeout_ms; /* 0: a client may stay idle for ever */
};

struct client {
	struct server *srv;
	int fd;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: handoff-demo serve --port P [--echo] [--daemon URL] "
	    "[--profile NAME] [--deadline MS]\n"
	    "                          [--idle-timeout MS (default %d, 0: "
	    "none)]\n"
	    "       handoff-demo connect --host H --port P [--servername N] "
	    "[--cafile F] ...\n"
	    "Serves TLS on 127.0.0.1:P, or connects to H:P, with the "
	    "handshake done by\nhandoffd.  "
	    "The daemon URL defaults to $%s, else handoffd's default path.\n",
	    DEFAULT_IDLE_TIMEOUT_MS, HANDOFF_DAEMON_ENV);
}

/* Reads an HTTP request head (up to the blank line); 0 when seen. */
static int
read_request(struct handoff_conn *conn)
{
	char buf[8192];
	size_t len = 0;
	while (len < sizeof(buf) - 1) {
		ssize_t n =
		    handoff_read(conn, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n"))
			return 0;
	}
	return 0; /* an oversized head: answer anyway */
}

static int
write_all(struct handoff_conn *conn, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = handoff_write(conn, p, len);
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
serve_http(struct handoff_conn *conn)
{
	char body[512], resp[1024];
	if (read_request(conn) != 0)
		return -1;
	const char *alpn = handoff_conn_alpn(conn);
	const char *sni = handoff_conn_servername(conn);
	/* Client certificates (profiles with client_auth) are counted. */
	size_t certs = 0, der_len;
	while (handoff_conn_peer_cert(conn, certs, &der_len) != NULL)
		certs++;
	char client[64] = "";
	if (certs > 0)
		snprintf(client, sizeof(client), " client-certs=%zu", certs);
	int blen = snprintf(body, sizeof(body),
	    "handoff-demo: %s %s%s%s%s%s%s%s\n", handoff_conn_version(conn),
	    handoff_conn_cipher(conn), alpn ? " alpn=" : "", alpn ? alpn : "",
	    sni ? " sni=" : "", sni ? sni : "",
	    handoff_conn_resumed(conn) ? " resumed" : "", client);
	int rlen = snprintf(resp, sizeof(resp),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
	    blen, body);
	return write_all(conn, resp, (size_t)rlen);
}

static int
serve_echo(struct handoff_conn *conn)
{
	char buf[16384];
	for (;;) {
		ssize_t n = handoff_read(conn, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0)
			return handoff_conn_errno(conn) == HANDOFF_EEOF ? 0
			                                                : -1;
		if (write_all(conn, buf, (size_t)n) != 0)
			return -1;
	}
}

/*
 * Bounds how long a blocking read or write of this client's may wait.
 * The handshake keeps its own deadline (handoff_config_set_deadline_ms);
 * after it, handoff_read and handoff_write wait as read(2) and write(2)
 * do, and return HANDOFF_WANT_* (with HANDOFF_ETIMEOUT) when these pass.
 */
static void
set_idle_timeout(int fd, unsigned ms)
{
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void *
client_thread(void *arg)
{
	struct client *cl = arg;
	struct handoff_conn *conn = NULL;
	if (cl->srv->idle_timeout_ms > 0)
		set_idle_timeout(cl->fd, cl->srv->idle_timeout_ms);
	if (handoff_accept_socket(cl->srv->ctx, &conn, cl->fd) != 0) {
		fprintf(stderr, "handoff-demo: %s\n",
		    handoff_ctx_error(cl->srv->ctx));
		goto out;
	}
	if (handoff_handshake(conn) != 0) {
		fprintf(stderr, "handoff-demo: handshake failed: %s (%s)\n",
		    handoff_conn_error(conn),
		    handoff_err_name(handoff_conn_errno(conn)));
		goto out;
	}
	int r = cl->srv->echo ? serve_echo(conn) : serve_http(conn);
	if (r != 0)
		fprintf(stderr, "handoff-demo: connection ended: %s (%s)\n",
		    handoff_conn_error(conn),
		    handoff_err_name(handoff_conn_errno(conn)));
	/* Idle too long: still say goodbye (close_notify), as after a
	 * normal end; it waits at most the send timeout. */
	if (r == 0 || handoff_conn_errno(conn) == HANDOFF_ETIMEOUT)
		handoff_close(conn);
out:
	handoff_conn_free(conn);
	close(cl->fd);
	free(cl);
	return NULL;
}

static int
listen_on(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 512) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
serve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"echo", no_argument, NULL, 'e'},
	    {"daemon", required_argument, NULL, 'd'},
	    {"profile", required_argument, NULL, 'P'},
	    {"deadline", required_argument, NULL, 't'},
	    {"idle-timeout", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct server srv = {NULL, 0, DEFAULT_IDLE_TIMEOUT_MS};
	int port = 0, c;
	struct handoff_config *cfg = handoff_config_new();
	if (cfg == NULL) {
		fprintf(stderr, "handoff-demo: out of memory\n");
		return 1;
	}
	while ((c = getopt_long(argc, argv, "p:ed:P:t:i:h", longopts, NULL)) !=
	    -1) {
		int bad = 0;
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'e': srv.echo = 1; break;
		case 'd': bad = handoff_config_set_daemon(cfg, optarg); break;
		case 'P': bad = handoff_config_set_profile(cfg, optarg); break;
		case 't':
			bad = handoff_config_set_deadline_ms(
			    cfg, (unsigned)atoi(optarg));
			break;
		case 'i': {
			/* Strictly a number: "--idle-timeout 5s" must not
			 * quietly mean 0, no timeout at all. */
			char *end;
			errno = 0;
			long ms = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    ms < 0 || ms > 86400000) {
				fprintf(stderr,
				    "handoff-demo: --idle-timeout takes "
				    "milliseconds, 0 to 86400000 (0: none), "
				    "not \"%s\"\n",
				    optarg);
				handoff_config_free(cfg);
				return 2;
			}
			srv.idle_timeout_ms = (unsigned)ms;
			break;
		}
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
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "handoff-demo: --port takes 1..65535\n");
		usage(stderr);
		handoff_config_free(cfg);
		return 2;
	}
	srv.ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	if (srv.ctx == NULL) {
		fprintf(stderr, "handoff-demo: cannot create a context\n");
		return 1;
	}
	int lfd = listen_on(port);
	if (lfd < 0) {
		fprintf(stderr,
		    "handoff-demo: cannot listen on 127.0.0.1:%d: "
		    "%s\n",
		    port, strerror(errno));
		return 1;
	}
	printf("handoff-demo: serving %s on https://127.0.0.1:%d/\n",
	    srv.echo ? "echo" : "HTTP", port);
	fflush(stdout);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			fprintf(stderr, "handoff-demo: accept: %s\n",
			    strerror(errno));
			return 1;
		}
		struct client *cl = malloc(sizeof(*cl));
		pthread_t t;
		if (cl == NULL) {
			close(fd);
			continue;
		}
		cl->srv = &srv;
		cl->fd = fd;
		if (pthread_create(&t, NULL, client_thread, cl) != 0) {
			close(fd);
			free(cl);
			continue;
		}
		pthread_detach(t);
	}
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "connect") == 0)
		return demo_connect(argc - 1, argv + 1);
	fprintf(stderr, "handoff-demo: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
