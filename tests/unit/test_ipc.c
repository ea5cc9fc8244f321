/*
 * test_ipc.c - libhandoff's conversation with handoffd (lib/ipc.c) as a
 * program sees it: the library's I/O thread takes none of the program's
 * signals; a context used before fork() fails at once in the child, and
 * freeing it there returns.
 *
 * The I/O thread signals a call's eventfd after releasing the context's
 * lock (so that the woken thread does not find it held): a count that
 * lands after its reply was taken is drained by the next take, and
 * freeing the call waits for a signal in progress.
 *
 * A stand-in for handoffd, a raw REP nanomsg socket on a temporary
 * ipc:// path served by a thread of this test, answers each request the
 * way a test asks, so the library meets replies a real daemon would not
 * send.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <poll.h>
#include <stdatomic.h>

#include "handoff.h"
#include "handoff_internal.h"
#include "ipc_internal.h"
#include "proto.h"

/* How the stand-in answers a request. */
enum answer {
	ANSWER_NONE,        /* reads requests, never answers */
	ANSWER_ERROR,       /* an ERROR with the request's REQUEST_ID */
	ANSWER_SECRET,      /* the same, its text holding SECRET */
	ANSWER_SECRET_LATE, /* ANSWER_SECRET after 300 ms */
	ANSWER_GARBAGE,     /* bytes that are no handoff message */
	ANSWER_ERROR_NO_ID, /* an ERROR without REQUEST_ID */
};

/* What a daemon of another protocol version says. */
#define VERSION_TEXT "unsupported protocol version 9"

/* Stands for key material in a reply: wiped before it is freed. */
#define SECRET "SECRET-b1d4f00dcafe"

#define STANDIN_TEXT "stand-in: no such profile"

struct standin {
	char dir[64];
	char url[128];
	int sock;
	_Atomic int answer; /* enum answer */
	pthread_t thread;
};

/* The next poll() of the library with two descriptors or more (only
 * its I/O thread polls so many) fails with ENOMEM; the library's poll
 * calls come here through the linker's --wrap=poll. */
static atomic_int poll_faults;
int __real_poll(struct pollfd *p, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *p, nfds_t n, int timeout);
int
__wrap_poll(struct pollfd *p, nfds_t n, int timeout)
{
	int one = 1;
	if (n >= 2 && atomic_compare_exchange_strong(&poll_faults, &one, 0)) {
		errno = ENOMEM;
		return -1;
	}
	return __real_poll(p, n, timeout);
}

/*
 * The messages nanomsg hands this process that hold SECRET, and how many
 * of them were freed with SECRET still in them (through the linker's
 * --wrap of nn_recv, nn_recvmsg and nn_freemsg).
 */
static struct {
	pthread_mutex_t lock;
	void *msg[64];
	size_t len[64];
	int received, freed, freed_unwiped;
} secrets = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void
note_received(void *msg, int n)
{
	if (n <= 0 || memmem(msg, (size_t)n, SECRET, strlen(SECRET)) == NULL)
		return;
	pthread_mutex_lock(&secrets.lock);
	for (int i = 0; i < 64; i++) {
		if (secrets.msg[i] == NULL) {
			secrets.msg[i] = msg;
			secrets.len[i] = (size_t)n;
			secrets.received++;
			break;
		}
	}
	pthread_mutex_unlock(&secrets.lock);
}

int __real_nn_recv(int s, void *buf, size_t len, int flags);
int __wrap_nn_recv(int s, void *buf, size_t len, int flags);
int
__wrap_nn_recv(int s, void *buf, size_t len, int flags)
{
	int n = __real_nn_recv(s, buf, len, flags);
	if (n > 0 && len == NN_MSG)
		note_received(*(void **)buf, n);
	return n;
}

int __real_nn_recvmsg(int s, struct nn_msghdr *hdr, int flags);
int __wrap_nn_recvmsg(int s, struct nn_msghdr *hdr, int flags);
int
__wrap_nn_recvmsg(int s, struct nn_msghdr *hdr, int flags)
{
	int n = __real_nn_recvmsg(s, hdr, flags);
	if (n > 0 && hdr->msg_iovlen == 1 && hdr->msg_iov[0].iov_len == NN_MSG)
		note_received(*(void **)hdr->msg_iov[0].iov_base, n);
	return n;
}

int __real_nn_freemsg(void *msg);
int __wrap_nn_freemsg(void *msg);
int
__wrap_nn_freemsg(void *msg)
{
	pthread_mutex_lock(&secrets.lock);
	for (int i = 0; i < 64; i++) {
		if (msg != NULL && secrets.msg[i] == msg) {
			secrets.freed++;
			if (memmem(msg, secrets.len[i], SECRET,
			        strlen(SECRET)) != NULL)
				secrets.freed_unwiped++;
			secrets.msg[i] = NULL;
		}
	}
	pthread_mutex_unlock(&secrets.lock);
	return __real_nn_freemsg(msg);
}

/* The reply to body as the test asked, or NULL for none. */
static struct ho_proto_buf *
standin_reply(struct standin *s, const void *body, int n)
{
	struct ho_proto_msg m;
	uint64_t id = 0;
	if (ho_proto_parse(body, (size_t)n, &m) != 0)
		return NULL;
	ho_proto_get_u64(&m, HO_F_REQUEST_ID, &id);
	struct ho_proto_buf *b = calloc(1, sizeof(*b));
	switch (s->answer) {
	case ANSWER_NONE: free(b); return NULL;
	case ANSWER_ERROR:
	case ANSWER_SECRET:
	case ANSWER_SECRET_LATE:
		if (s->answer == ANSWER_SECRET_LATE)
			usleep(300 * 1000);
		ho_proto_begin(b, HO_MSG_ERROR);
		ho_proto_put_u64(b, HO_F_REQUEST_ID, id);
		ho_proto_put_u32(b, HO_F_ERROR_CODE, HANDOFF_EPROFILE);
		ho_proto_put_str(b, HO_F_ERROR_TEXT,
		    s->answer == ANSWER_ERROR ? STANDIN_TEXT : SECRET);
		break;
	case ANSWER_GARBAGE:
		/* ho_proto_buf_free frees buf */
		b->buf = (uint8_t *)strdup("HTTP/1.0 400 Bad Request\r\n");
		b->len = strlen((char *)b->buf);
		return b;
	case ANSWER_ERROR_NO_ID:
		ho_proto_begin(b, HO_MSG_ERROR);
		ho_proto_put_u32(b, HO_F_ERROR_CODE, HANDOFF_EPROTO);
		ho_proto_put_str(b, HO_F_ERROR_TEXT, VERSION_TEXT);
		break;
	}
	if (ho_proto_finish(b) != 0) {
		ho_proto_buf_free(b);
		free(b);
		return NULL;
	}
	return b;
}

/* Reads requests until the socket closes, answering each as asked. */
static void *
standin_run(void *arg)
{
	struct standin *s = arg;
	for (;;) {
		void *body = NULL, *control = NULL;
		struct nn_iovec iov = {&body, NN_MSG};
		struct nn_msghdr hdr = {&iov, 1, &control, NN_MSG};
		int n = nn_recvmsg(s->sock, &hdr, 0);
		if (n < 0)
			return NULL; /* closed by teardown */
		struct ho_proto_buf *b = standin_reply(s, body, n);
		nn_freemsg(body);
		if (b == NULL) {
			nn_freemsg(control);
			continue;
		}
		/* The routing header goes back as it came. */
		struct nn_iovec out = {b->buf, b->len};
		struct nn_msghdr reply = {&out, 1, &control, NN_MSG};
		if (nn_sendmsg(s->sock, &reply, 0) < 0)
			nn_freemsg(control);
		ho_proto_buf_free(b);
		free(b);
	}
}

static int
setup(void **state)
{
	struct standin *s = calloc(1, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/test_ipc.XXXXXX");
	if (s == NULL || mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->url, sizeof(s->url), "ipc://%s/handoffd.sock", s->dir);
	s->sock = nn_socket(AF_SP_RAW, NN_REP);
	if (s->sock < 0 || nn_bind(s->sock, s->url) < 0)
		return -1;
	/* The stand-in's thread takes no signals either, so that the
	 * signal test sees only the library's threads unblocked. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&s->thread, NULL, standin_run, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -1;
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct standin *s = *state;
	nn_close(s->sock);
	pthread_join(s->thread, NULL);
	char path[160];
	snprintf(path, sizeof(path), "%s/handoffd.sock", s->dir);
	unlink(path);
	rmdir(s->dir);
	free(s);
	return 0;
}

static struct handoff_ctx *
new_ctx(const struct standin *s, unsigned deadline_ms)
{
	struct handoff_config *cfg = handoff_config_new();
	assert_non_null(cfg);
	assert_int_equal(handoff_config_set_daemon(cfg, s->url), 0);
	assert_int_equal(handoff_config_set_deadline_ms(cfg, deadline_ms), 0);
	handoff_config_insecure_noverifycert(cfg);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	assert_non_null(ctx);
	return ctx;
}

/* Starts a client handshake on a non-blocking socket pair: its first
 * request goes to the daemon, which starts the context's I/O thread.
 * Returns the connection; *peer is the other end. */
static struct handoff_conn *
start_client(struct handoff_ctx *ctx, int *peer)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	struct handoff_conn *c = NULL;
	assert_int_equal(handoff_connect_socket(ctx, &c, sv[0], NULL), 0);
	assert_int_equal(handoff_handshake(c), HANDOFF_WANT_POLLIN);
	*peer = sv[1];
	return c;
}

/* glibc's own signals (32 and 33), which a program cannot block. */
#define GLIBC_SIGS (3ULL << 31)

/* The blocked-signal mask of thread tid, from /proc. */
static unsigned long long
blocked_signals(const char *tid)
{
	char path[64], line[128];
	unsigned long long mask = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			break;
	fclose(f);
	return mask;
}

/* A program that blocks SIGTERM to read it from a signalfd relies on no
 * thread of the process taking it: every thread but the program's own
 * (nanomsg's worker, our I/O thread) blocks all signals. */
static void
io_thread_blocks_signals(void **state)
{
	struct standin *s = *state;
	struct handoff_ctx *ctx = new_ctx(s, 2000);
	int peer;
	/* The program's thread takes these signals; each thread started
	 * from it must still not. */
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	struct handoff_conn *c = start_client(ctx, &peer);
	static const int sigs[] = {
	    SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD, SIGPIPE, SIGALRM};
	char self[32];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	int others = 0;
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, self) == 0)
			continue;
		/* glibc starts a thread with every signal blocked, its own
		 * two included, and sets the thread's mask once it runs:
		 * wait for that, or the bug hides. */
		unsigned long long mask = blocked_signals(e->d_name);
		for (int i = 0; i < 200 && (mask & GLIBC_SIGS); i++) {
			usleep(10000);
			mask = blocked_signals(e->d_name);
		}
		assert_false(mask & GLIBC_SIGS);
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			if (!(mask & (1ULL << (sigs[i] - 1))))
				fail_msg("thread %s may take signal %d "
				         "(SigBlk %llx)",
				    e->d_name, sigs[i], mask);
		}
		others++;
	}
	closedir(d);
	/* nanomsg's worker, the stand-in, and the I/O thread at least */
	assert_true(others >= 3);
	handoff_conn_free(c);
	handoff_ctx_free(ctx);
	close(peer);
}

static uint64_t
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* In a child: a handshake on a context its parent used fails at once
 * with HANDOFF_ESTATE and a message that says what to do.  Returns 0, or
 * a number naming the check that failed. */
static int
child_fails_fast(struct handoff_conn *c, int check)
{
	uint64_t t0 = now_ms();
	int r = handoff_handshake(c);
	uint64_t took = now_ms() - t0;
	const char *err = handoff_conn_error(c);
	fprintf(stderr, "child: handshake %d after %llu ms: %s: %s\n", r,
	    (unsigned long long)took, handoff_err_name(handoff_conn_errno(c)),
	    err);
	if (r != -1 || took > 1000)
		return check;
	if (handoff_conn_errno(c) != HANDOFF_ESTATE)
		return check + 1;
	if (strstr(err, "fork()") == NULL ||
	    strstr(err, "create contexts in the child") == NULL)
		return check + 2;
	return 0;
}

/* handoff(3) says to create contexts after fork(); a child that uses
 * its parent's anyway must get an error at once, not at the deadline,
 * and handoff_ctx_free must not wait for a thread that is not there. */
static void
fork_child_fails_fast(void **state)
{
	struct standin *s = *state;
	struct handoff_ctx *ctx = new_ctx(s, 3000);
	int peer;
	/* The parent's request stays unanswered: its call is still
	 * waiting when the child is made. */
	struct handoff_conn *waiting = start_client(ctx, &peer);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r = child_fails_fast(waiting, 10);
		int sv[2];
		struct handoff_conn *c = NULL;
		if (r == 0 &&
		    (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
		        handoff_connect_socket(ctx, &c, sv[0], NULL) != 0))
			r = 20;
		if (r == 0)
			r = child_fails_fast(c, 30);
		handoff_conn_free(c);
		handoff_conn_free(waiting);
		handoff_ctx_free(ctx);
		_exit(r);
	}
	int status = 0;
	pid_t done = 0;
	for (int i = 0; i < 500 && done == 0; i++) {
		usleep(10000);
		done = waitpid(pid, &status, WNOHANG);
	}
	if (done == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the child hung (handoff_ctx_free after fork?)");
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	handoff_conn_free(waiting);
	handoff_ctx_free(ctx);
	close(peer);
}

/* A blocking handshake whose daemon answers with an error: the error
 * comes back at once (not at the deadline). */
static void
expect_standin_error(struct handoff_ctx *ctx)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct handoff_conn *c = NULL;
	assert_int_equal(handoff_connect_socket(ctx, &c, sv[0], NULL), 0);
	uint64_t t0 = now_ms();
	assert_int_equal(handoff_handshake(c), -1);
	uint64_t took = now_ms() - t0;
	if (handoff_conn_errno(c) != HANDOFF_EPROFILE || took > 1000)
		fail_msg("after %llu ms: %s: %s", (unsigned long long)took,
		    handoff_err_name(handoff_conn_errno(c)),
		    handoff_conn_error(c));
	assert_string_equal(handoff_conn_error(c), STANDIN_TEXT);
	handoff_conn_free(c);
	close(sv[0]);
	close(sv[1]);
}

/* poll() failing once (ENOMEM) must not end the I/O thread: the reply
 * that comes next still reaches its call. */
static void
poll_failure_retried(void **state)
{
	struct standin *s = *state;
	s->answer = ANSWER_ERROR;
	struct handoff_ctx *ctx = new_ctx(s, 3000);
	atomic_store(&poll_faults, 1);
	expect_standin_error(ctx);
	assert_int_equal(atomic_load(&poll_faults), 0); /* it did fail */
	expect_standin_error(ctx);
	handoff_ctx_free(ctx);
}

/* Replies carry keys and traffic secrets: whichever way the library
 * frees one (taken by its call, dropped when it came after its call gave
 * up, or dropped with a connection that never took it), it is wiped
 * first. */
static void
replies_wiped(void **state)
{
	struct standin *s = *state;
	/* Taken: the handshake reads the error, then frees the reply. */
	s->answer = ANSWER_SECRET;
	struct handoff_ctx *ctx = new_ctx(s, 3000);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct handoff_conn *c = NULL;
	assert_int_equal(handoff_connect_socket(ctx, &c, sv[0], NULL), 0);
	assert_int_equal(handoff_handshake(c), -1);
	assert_string_equal(handoff_conn_error(c), SECRET);
	handoff_conn_free(c);
	close(sv[0]);
	close(sv[1]);
	/* Never taken: the reply (at 300 ms) waits for a non-blocking
	 * caller that frees its connection instead. */
	s->answer = ANSWER_SECRET_LATE;
	int peer;
	c = start_client(ctx, &peer);
	usleep(500 * 1000);
	handoff_conn_free(c);
	close(peer);
	handoff_ctx_free(ctx);
	/* Late: the call gave up at its deadline (100 ms), the reply
	 * comes at 300 ms. */
	ctx = new_ctx(s, 100);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(handoff_connect_socket(ctx, &c, sv[0], NULL), 0);
	assert_int_equal(handoff_handshake(c), -1);
	assert_int_equal(handoff_conn_errno(c), HANDOFF_ETIMEOUT);
	usleep(500 * 1000);
	handoff_conn_free(c);
	close(sv[0]);
	close(sv[1]);
	handoff_ctx_free(ctx);
	pthread_mutex_lock(&secrets.lock);
	int received = secrets.received, freed = secrets.freed,
	    unwiped = secrets.freed_unwiped;
	pthread_mutex_unlock(&secrets.lock);
	fprintf(stderr,
	    "replies with the secret: %d received, %d freed, %d "
	    "of them unwiped\n",
	    received, freed, unwiped);
	/* One reply per way; requests do not hold SECRET. */
	assert_int_equal(received, 3);
	assert_int_equal(freed, 3);
	assert_int_equal(unwiped, 0);
}

/* A blocking handshake against a stand-in that answers as `answer`:
 * fails at once with HANDOFF_EPROTO; returns the connection. */
static struct handoff_conn *
expect_eproto(struct standin *s, struct handoff_ctx *ctx, int *fd)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct handoff_conn *c = NULL;
	assert_int_equal(handoff_connect_socket(ctx, &c, sv[0], NULL), 0);
	uint64_t t0 = now_ms();
	assert_int_equal(handoff_handshake(c), -1);
	uint64_t took = now_ms() - t0;
	const char *err = handoff_conn_error(c);
	fprintf(stderr, "answer %d: after %llu ms: %s: %s\n", (int)s->answer,
	    (unsigned long long)took, handoff_err_name(handoff_conn_errno(c)),
	    err);
	if (handoff_conn_errno(c) != HANDOFF_EPROTO || took > 1000)
		fail_msg("not a fast HANDOFF_EPROTO");
	if (strstr(err, "versions differ") == NULL)
		fail_msg("the error does not say the versions differ");
	close(sv[1]);
	*fd = sv[0];
	return c;
}

/* DESIGN.md: unknown versions are refused with a clear error, not at
 * the deadline with "is it running?". */
static void
unreadable_replies_fail_fast(void **state)
{
	struct standin *s = *state;
	struct handoff_ctx *ctx = new_ctx(s, 3000);
	int fd;
	s->answer = ANSWER_GARBAGE;
	struct handoff_conn *c = expect_eproto(s, ctx, &fd);
	handoff_conn_free(c);
	close(fd);
	s->answer = ANSWER_ERROR_NO_ID;
	c = expect_eproto(s, ctx, &fd);
	if (strstr(handoff_conn_error(c), VERSION_TEXT) == NULL)
		fail_msg("the error does not hold the daemon's text");
	handoff_conn_free(c);
	close(fd);
	/* Replies that carry REQUEST_ID still reach their calls. */
	s->answer = ANSWER_ERROR;
	expect_standin_error(ctx);
	handoff_ctx_free(ctx);
}

/* ho_ipc_call_free on another thread: done once it returned. */
struct freeing {
	struct ho_ipc *ipc;
	struct ho_ipc_call *call;
	atomic_int done;
};

static void *
free_call(void *arg)
{
	struct freeing *f = arg;
	ho_ipc_call_free(f->ipc, f->call);
	atomic_store(&f->done, 1);
	return NULL;
}

/* The receiver writes to a call's eventfd outside the lock: a count
 * that lands after the reply was taken must not leave the descriptor
 * readable (an event loop would be woken for nothing, again and again),
 * and a write under way must not land on a descriptor reused meanwhile:
 * freeing the call hands the number over instead of waiting. */
static void
signals_outside_the_lock(void **state)
{
	struct standin *s = *state;
	s->answer = ANSWER_ERROR;
	struct ho_ipc ipc;
	assert_int_equal(ho_ipc_init(&ipc, s->url), 0);
	struct ho_ipc_call call;
	memset(&call, 0, sizeof(call));
	call.efd = -1;
	call.ahead_fd = -1;
	uint64_t id = ho_ipc_new_id(&ipc);
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_PING);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, id);
	assert_int_equal(ho_proto_finish(&b), 0);
	char err[HO_ERR_MAX];
	assert_int_equal(
	    ho_ipc_call_send(&ipc, &call, id, b.buf, b.len, err, sizeof(err)),
	    0);
	ho_proto_buf_free(&b);
	void *msg = NULL;
	int n = 0;
	uint64_t deadline = now_ms() + 3000;
	while ((n = ho_ipc_call_take(&ipc, &call, &msg)) == 0 &&
	    now_ms() < deadline)
		ho_ipc_call_wait(&call, 100);
	assert_true(n > 0);
	ho_ipc_freemsg(msg, (size_t)n);
	/* The receiver's count, as if it landed after the take. */
	uint64_t one = 1;
	assert_int_equal(write(call.efd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(ho_ipc_call_take(&ipc, &call, &msg), 0);
	struct pollfd p = {call.efd, POLLIN, 0};
	if (poll(&p, 1, 0) != 0)
		fail_msg("the eventfd is still readable with nothing to take");
	/* The receiver clears its mark after its own signal, which can
	 * come after the take above: wait for that, or it would clear the
	 * mark set below too. */
	deadline = now_ms() + 3000;
	while (atomic_load(&ipc.signalling) != NULL && now_ms() < deadline)
		usleep(1000);
	assert_null(atomic_load(&ipc.signalling));
	/* A signal under way: freeing does not wait for it (it may be an
	 * event loop's non-blocking call), and the descriptor's number
	 * stays open for the receiver's write, no longer on the call's
	 * eventfd but on the receiver's own, for the receiver to close. */
	int number = call.efd;
	int own = dup(call.efd); /* the call's eventfd, seen from here */
	assert_true(own >= 0);
	atomic_store(&ipc.signalling, &call);
	struct freeing f = {&ipc, &call, 0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, free_call, &f), 0);
	deadline = now_ms() + 3000;
	while (!atomic_load(&f.done) && now_ms() < deadline)
		usleep(1000);
	int waited = !atomic_load(&f.done);
	/* Cleared as the receiver does after its write (which also lets a
	 * waiting free end). */
	struct ho_ipc_call *mark = atomic_exchange(&ipc.signalling, NULL);
	pthread_join(t, NULL);
	if (waited)
		fail_msg("freeing a call waited for the signal under way");
	assert_ptr_equal(mark, &ho_ipc_handed_over);
	assert_int_equal(call.efd, -1);
	assert_true(fcntl(number, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(number, &one, sizeof(one)), sizeof(one));
	struct pollfd q = {own, POLLIN, 0};
	if (poll(&q, 1, 0) != 0)
		fail_msg("the late write reached the freed call's eventfd");
	close(own);
	close(number); /* as the receiver does when it finds the mark */
	ho_ipc_free(&ipc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        io_thread_blocks_signals, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        fork_child_fails_fast, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        poll_failure_retried, setup, teardown),
	    cmocka_unit_test_setup_teardown(replies_wiped, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        unreadable_replies_fail_fast, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        signals_outside_the_lock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
