/*
 * many_inflight.c - one thread, one epoll loop, one handoff context,
 * thousands of handshakes in flight at once.
 *
 *   many_inflight DAEMON_URL PAIRS [DEADLINE_MS]
 *
 * Opens PAIRS TCP connections to itself on 127.0.0.1 and runs both ends
 * through libhandoff: each accepted socket is a server-role connection,
 * each connecting socket a client-role one (the profile's certificate is
 * also its trust anchor), so 2 x PAIRS handshakes are in flight at the
 * same time through the same context.  Every socket is non-blocking and
 * every wait goes through epoll on handoff_conn_pollfd(); after its
 * handshake each client sends 8 bytes that its server must read back
 * intact.  Prints the peak number of handshakes in flight, how many
 * completed, the longest single libhandoff call (a blocking call would
 * show as seconds) and the first errors; then, with every connection
 * open and idle (a read that would block), the heap each one holds (0
 * where a sanitizer's or valgrind's allocator hides it from malloc's
 * count), and how many failed with each error (failed_HANDOFF_E...).
 * Exits 0 only if every connection completed.  DEADLINE_MS
 * (default 120000) is each libhandoff call's deadline.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"

enum phase { HANDSHAKE, SEND, RECEIVE, DONE, FAILED };

struct end {
	struct handoff_conn *conn;
	int fd;
	int server;     /* 1 = accepted (server role) */
	int watched_fd; /* fd registered with epoll, -1 if none */
	enum phase phase;
	char got[8];
	size_t got_len;
};

static int ep;
static unsigned in_flight, peak_in_flight, completed, failed;
static double longest_call_ms;
static unsigned failed_by[HANDOFF_EVERIFY + 1]; /* failures per error */

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Registers the end for what libhandoff asked (want), on its pollfd. */
static void
watch(struct end *e, int want)
{
	int fd = handoff_conn_pollfd(e->conn);
	struct epoll_event ev = {
	    .events = (want == HANDOFF_WANT_POLLOUT ? EPOLLOUT : EPOLLIN) |
	        EPOLLONESHOT,
	    .data.ptr = e};
	if (fd != e->watched_fd) {
		if (e->watched_fd >= 0)
			epoll_ctl(ep, EPOLL_CTL_DEL, e->watched_fd, NULL);
		e->watched_fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	} else {
		epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	}
}

static void
finish(struct end *e, enum phase p)
{
	if (e->watched_fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, e->watched_fd, NULL);
	e->watched_fd = -1;
	e->phase = p;
	if (p == FAILED) {
		/* As a server would: its peer sees the end, not silence. */
		shutdown(e->fd, SHUT_RDWR);
		int err = handoff_conn_errno(e->conn);
		if (err >= 0 && err <= HANDOFF_EVERIFY)
			failed_by[err]++;
		if (failed++ < 5)
			fprintf(stderr, "many_inflight: %s failed: %s (%s)\n",
			    e->server ? "server" : "client",
			    handoff_conn_error(e->conn),
			    handoff_err_name(handoff_conn_errno(e->conn)));
	} else {
		completed++;
	}
}

/* Runs the end as far as it goes without waiting. */
static void
step(struct end *e)
{
	for (;;) {
		double t0 = now_ms();
		int r = 0;
		switch (e->phase) {
		case HANDSHAKE: r = handoff_handshake(e->conn); break;
		case SEND: {
			ssize_t n = handoff_write(e->conn, "inflight", 8);
			r = n == 8 ? 0 : n < 0 ? (int)n : -1;
			break;
		}
		case RECEIVE: {
			ssize_t n = handoff_read(e->conn, e->got + e->got_len,
			    sizeof(e->got) - e->got_len);
			r = n > 0 ? 0 : n == 0 ? -1 : (int)n;
			if (n > 0)
				e->got_len += (size_t)n;
			break;
		}
		default: return;
		}
		double took = now_ms() - t0;
		if (took > longest_call_ms)
			longest_call_ms = took;
		if (r == HANDOFF_WANT_POLLIN || r == HANDOFF_WANT_POLLOUT) {
			watch(e, r);
			return;
		}
		if (r != 0) {
			if (e->phase == HANDSHAKE)
				in_flight--;
			finish(e, FAILED);
			return;
		}
		switch (e->phase) {
		case HANDSHAKE:
			in_flight--;
			e->phase = e->server ? RECEIVE : SEND;
			break;
		case SEND: finish(e, DONE); return;
		case RECEIVE:
			if (e->got_len < sizeof(e->got))
				break;
			finish(e,
			    memcmp(e->got, "inflight", 8) == 0 ? DONE
			                                       : FAILED);
			return;
		default: return;
		}
	}
}

/* Steps every unfinished end whose wait has reached its deadline
 * (handoff_conn_poll_timeout() 0): libhandoff then fails it with the
 * deadline's error, as an event loop honouring the timeout would. */
static void
step_expired(struct end *ends, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (ends[i].conn != NULL && ends[i].phase < DONE &&
		    handoff_conn_poll_timeout(ends[i].conn) == 0)
			step(&ends[i]);
}

/* Says where the connections that made no progress for long are. */
static void
report_stuck(struct end *ends, unsigned count)
{
	static const char *names[] = {
	    "handshake", "send", "receive", "done", "failed"};
	unsigned by[2][5] = {{0}};
	for (unsigned i = 0; i < count; i++)
		by[ends[i].server][ends[i].phase]++;
	for (int s = 0; s < 2; s++)
		for (int p = 0; p < 3; p++)
			if (by[s][p] > 0)
				fprintf(stderr,
				    "many_inflight: stuck: %u %s ends in %s\n",
				    by[s][p], s ? "server" : "client",
				    names[p]);
}

int
main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr,
		    "usage: many_inflight DAEMON_URL PAIRS [DEADLINE_MS]\n");
		return 2;
	}
	/* Long by default: thousands of handshakes queue for the workers. */
	unsigned deadline_ms = argc == 4 ? (unsigned)atoi(argv[3]) : 120000;
	signal(SIGPIPE, SIG_IGN);
	unsigned pairs = (unsigned)atoi(argv[2]);
	/* Two sockets and two eventfds per pair, and some to spare. */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 4 * pairs + 64) {
		fprintf(stderr,
		    "many_inflight: need %u descriptors, have %lu\n",
		    4 * pairs + 64, (unsigned long)rl.rlim_cur);
		return 2;
	}

	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, argv[1]);
	handoff_config_set_deadline_ms(cfg, deadline_ms);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	if (ctx == NULL)
		return 1;

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 4096) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0) {
		perror("many_inflight: listen");
		return 1;
	}
	ep = epoll_create1(0);
	struct end *ends = calloc(2 * (size_t)pairs, sizeof(*ends));
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);

	double start = now_ms(), last_progress = start, last_sweep = start;
	/* All clients start before the loop runs: every handshake is in
	 * flight at once. */
	for (unsigned i = 0; i < pairs; i++) {
		struct end *e = &ends[i];
		e->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (e->fd < 0 ||
		    (connect(e->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
		        errno != EINPROGRESS)) {
			perror("many_inflight: connect");
			return 1;
		}
		e->watched_fd = -1;
		if (handoff_connect_socket(
		        ctx, &e->conn, e->fd, "localhost") != 0) {
			fprintf(stderr, "many_inflight: %s\n",
			    handoff_ctx_error(ctx));
			return 1;
		}
		in_flight++;
		step(e);
	}
	unsigned accepted = 0;
	while (completed + failed < 2 * pairs) {
		if (in_flight > peak_in_flight)
			peak_in_flight = in_flight;
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, 100);
		if (n < 0 && errno != EINTR) {
			perror("many_inflight: epoll_wait");
			return 1;
		}
		if (n > 0)
			last_progress = now_ms();
		if (now_ms() - last_sweep >= 100) {
			step_expired(ends, 2 * pairs);
			last_sweep = now_ms();
		}
		if (n == 0 && now_ms() - last_progress > 30000) {
			report_stuck(ends, 2 * pairs);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct end *e = evs[i].data.ptr;
			if (e != NULL) {
				step(e);
				continue;
			}
			int fd;
			while (accepted < pairs &&
			    (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >=
			        0) {
				e = &ends[pairs + accepted++];
				e->fd = fd;
				e->server = 1;
				e->watched_fd = -1;
				if (handoff_accept_socket(ctx, &e->conn, fd) !=
				    0)
					return 1;
				in_flight++;
				step(e);
			}
		}
	}
	double secs = (now_ms() - start) / 1e3;
	printf("pairs %u\npeak_in_flight %u\ncompleted %u\nfailed %u\n"
	       "seconds %.2f\nlongest_call_ms %.1f\n",
	    pairs, peak_in_flight, completed, failed, secs, longest_call_ms);
	for (int err = 0; err <= HANDOFF_EVERIFY; err++)
		if (failed_by[err] > 0)
			printf("failed_%s %u\n", handoff_err_name(err),
			    failed_by[err]);
	/* Every connection idle: nothing more comes, so a read would block.
	 * What freeing them all gives back is what they held. */
	unsigned idle = 0;
	for (unsigned i = 0; i < 2 * pairs; i++) {
		char byte;
		if (ends[i].phase == DONE &&
		    handoff_read(ends[i].conn, &byte, 1) ==
		        HANDOFF_WANT_POLLIN)
			idle++;
	}
	size_t heap_open = mallinfo2().uordblks;
	for (unsigned i = 0; i < 2 * pairs; i++) {
		handoff_conn_free(ends[i].conn);
		if (ends[i].fd > 0)
			close(ends[i].fd);
	}
	size_t heap_closed = mallinfo2().uordblks;
	printf("idle_connections %u\nidle_conn_heap_kib %.1f\n", idle,
	    heap_open > heap_closed && idle > 0
	        ? (double)(heap_open - heap_closed) / 1024 / (2.0 * pairs)
	        : 0.0);
	free(ends);
	handoff_ctx_free(ctx);
	return completed == 2 * pairs ? 0 : 1;
}
