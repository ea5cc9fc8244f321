/*
 * ipc_rtt.c - one IPC round trip on this machine, the unit the latency
 * target is stated in ("2 IPC round trips + 50 us"): a 2 KiB request and
 * its 2 KiB reply over nanomsg REQ/REP on ipc://, between this process
 * and a forked echo process, one at a time.  Only the transport: no
 * handoffd, no handshake, no worker pool.  Beside it, the same trip over
 * a bare unix stream socket (the kind nanomsg's ipc:// uses), which
 * shows what nanomsg's own threads add: each side's nanomsg hands every
 * message between the caller's thread and its worker thread.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "bench.h"

#define MESSAGE 2048

/* The echo side: answers every request with its own bytes until killed
 * (and killed with the bench, should the bench die first). */
static void
echo_forever(const char *url)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int s = nn_socket(AF_SP, NN_REP);
	if (s < 0 || nn_bind(s, url) < 0)
		_exit(1);
	for (;;) {
		char *msg = NULL;
		if (nn_recv(s, &msg, NN_MSG, 0) < 0) {
			if (nn_errno() == EINTR)
				continue;
			_exit(1); /* the bench then reports no answer */
		}
		nn_send(s, &msg, NN_MSG, 0); /* takes the message */
	}
}

void
bench_ipc_round_trip(
    const char *dir, double seconds, double *p50_us, double *p99_us)
{
	char path[600], url[640];
	snprintf(path, sizeof(path), "%s/rtt.sock", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	pid_t pid = bench_fork(SIGKILL);
	if (pid == 0)
		echo_forever(url);
	int s = nn_socket(AF_SP, NN_REQ);
	int timeout_ms = 2000;
	if (s < 0 || nn_connect(s, url) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout_ms,
	        sizeof(timeout_ms)) < 0)
		bench_die("nanomsg: %s", nn_strerror(nn_errno()));
	static char out[MESSAGE], in[MESSAGE];
	struct bench_samples rtt = {0};
	/* The first trips wait for the echo side to bind: not timed. */
	double warm_until = bench_now() + 5;
	int warm = 0;
	while (warm < 10) {
		if (nn_send(s, out, sizeof(out), 0) == MESSAGE &&
		    nn_recv(s, in, sizeof(in), 0) == MESSAGE)
			warm++;
		else if (bench_now() > warm_until)
			bench_die("the IPC echo process does not answer on "
			          "%s (is %s writable?)",
			    url, dir);
	}
	double end = bench_now() + seconds;
	while (bench_now() < end) {
		double t0 = bench_now();
		if (nn_send(s, out, sizeof(out), 0) != MESSAGE ||
		    nn_recv(s, in, sizeof(in), 0) != MESSAGE)
			bench_die("IPC round trip failed: %s",
			    nn_strerror(nn_errno()));
		bench_samples_add(&rtt, bench_now() - t0);
	}
	nn_close(s);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
	*p50_us = bench_quantile(&rtt, 0.50) * 1e6;
	*p99_us = bench_quantile(&rtt, 0.99) * 1e6;
	bench_samples_free(&rtt);
}

/* Moves exactly len bytes through a blocking stream socket: 0, or -1 on
 * an error or end of stream. */
static int
move_all(int fd, char *buf, size_t len, int sending)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = sending ? write(fd, buf + done, len - done)
		                    : read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

void
bench_bare_round_trip(double seconds, double *p50_us, double *p99_us)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		bench_die("socketpair: %s", strerror(errno));
	static char out[MESSAGE], in[MESSAGE];
	pid_t pid = bench_fork(SIGKILL);
	if (pid == 0) {
		close(sv[0]);
		while (move_all(sv[1], in, sizeof(in), 0) == 0 &&
		    move_all(sv[1], in, sizeof(in), 1) == 0) {
		}
		_exit(0);
	}
	close(sv[1]);
	struct bench_samples rtt = {0};
	double end = bench_now() + seconds;
	while (bench_now() < end) {
		double t0 = bench_now();
		if (move_all(sv[0], out, sizeof(out), 1) != 0 ||
		    move_all(sv[0], in, sizeof(in), 0) != 0)
			bench_die("unix socket round trip failed: %s",
			    strerror(errno));
		bench_samples_add(&rtt, bench_now() - t0);
	}
	close(sv[0]); /* the echo sees the end of the stream and exits */
	waitpid(pid, NULL, 0);
	*p50_us = bench_quantile(&rtt, 0.50) * 1e6;
	*p99_us = bench_quantile(&rtt, 0.99) * 1e6;
	bench_samples_free(&rtt);
}
