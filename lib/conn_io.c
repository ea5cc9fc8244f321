/*
 * conn_io.c - a connection's socket I/O: its error record, the deadlines
 * of handshake waits, and the reads and writes that keep them.  Writes
 * never raise SIGPIPE, and during a handshake never block past the
 * deadline, whatever the socket's O_NONBLOCK says (conn.c is the record
 * layer on top of these).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "handoff_internal.h"

/* Read buffer: room for a few full records per read() call. */
#define IN_BUF_SIZE (4 * HO_REC_MAX_RECORD)
/* Room per read while handshaking: a ClientHello or a server flight is
 * a few KiB, and thousands of handshakes in flight each hold this buffer
 * (a bigger record still arrives: each read makes room again). */
#define HS_READ_ROOM 4096

/* ---- errors ----------------------------------------------------------- */

int
ho_conn_fail(struct handoff_conn *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->errnum = code;
	c->state = HO_CONN_FAILED;
	return -1;
}

const char *
handoff_conn_error(struct handoff_conn *c)
{
	return c->err[0] ? c->err : "no error";
}

int
handoff_conn_errno(struct handoff_conn *c)
{
	return c->errnum;
}

/* ---- deadlines -------------------------------------------------------- */

void
ho_conn_start_deadline(struct handoff_conn *c)
{
	uint64_t end = ho_now_ms() + c->ctx->deadline_ms;
	unsigned total = c->ctx->handshake_timeout_ms;
	c->deadline_is_total = total != 0 && c->born_ms + total < end;
	c->deadline_ms = c->deadline_is_total ? c->born_ms + total : end;
}

int
ho_conn_timed_out(
    struct handoff_conn *c, const char *awaited, const char *fmt, ...)
{
	if (c->deadline_is_total) /* no single wait ran past its deadline */
		return ho_conn_fail(c, HANDOFF_ETIMEOUT,
		    "the handshake did not finish within its %u ms limit "
		    "(handoff_config_set_handshake_timeout_ms; it ran out "
		    "while waiting for %s), though no single wait ran past "
		    "its deadline: the peer (or handoffd) is sending or "
		    "reading it a little at a time; close the connection",
		    c->ctx->handshake_timeout_ms, awaited);
	char what[HO_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ho_conn_fail(c, HANDOFF_ETIMEOUT, "%s", what);
}

/* ---- socket I/O ------------------------------------------------------- */

/* The deadline passed while handshake bytes still waited to go out. */
static int
write_timeout(struct handoff_conn *c)
{
	return ho_conn_timed_out(c, "the peer to read the handshake",
	    "the peer did not read the handshake within %u ms (%zu bytes "
	    "still unsent): it is stalled or too slow; close the connection "
	    "(or allow more time with handoff_config_set_deadline_ms)",
	    c->ctx->deadline_ms, ho_buf_used(&c->out));
}

/* Waits for events on the socket until the deadline (blocking mode). */
static int
wait_socket(struct handoff_conn *c, short events)
{
	for (;;) {
		int timeout = -1;
		if (c->deadline_ms != 0) {
			uint64_t now = ho_now_ms();
			if (now >= c->deadline_ms && events == POLLOUT)
				return write_timeout(c);
			if (now >= c->deadline_ms)
				return ho_conn_timed_out(c, "the peer to send",
				    "the peer did not send within %u ms",
				    c->ctx->deadline_ms);
			timeout = (int)(c->deadline_ms - now);
		}
		struct pollfd p = {c->fd, events, 0};
		int r = poll(&p, 1, timeout);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return ho_conn_fail(
			    c, HANDOFF_EIO, "poll: %s", strerror(errno));
	}
}

/*
 * After the handshake a blocking socket's read or send waits as read(2)
 * and write(2) do, so it returns EAGAIN only when the caller's own
 * timeout on it (SO_RCVTIMEO, SO_SNDTIMEO) passed, or when the caller
 * made it non-blocking since.  Either way the caller asked not to wait
 * longer: the call returns HANDOFF_WANT_POLLIN or _POLLOUT, as on a
 * non-blocking socket (GnuTLS and OpenSSL report their "again" there
 * too), and the connection stays usable.  Waiting on regardless would
 * turn a timeout set on purpose into a wait without end.
 */
static int
socket_wait_ended(struct handoff_conn *c, short events)
{
	c->errnum = HANDOFF_ETIMEOUT;
	snprintf(c->err, sizeof(c->err),
	    "the socket's %s timeout (%s) passed %s, or the socket was made "
	    "non-blocking: the connection is intact; call again to keep "
	    "waiting, or close it",
	    events == POLLIN ? "receive" : "send",
	    events == POLLIN ? "SO_RCVTIMEO" : "SO_SNDTIMEO",
	    events == POLLIN ? "before the peer sent a whole record"
	                     : "while the peer left no room to write");
	return events == POLLIN ? HANDOFF_WANT_POLLIN : HANDOFF_WANT_POLLOUT;
}

int
ho_conn_fill(struct handoff_conn *c)
{
	size_t room =
	    c->state == HO_CONN_OPEN ? IN_BUF_SIZE / 2 : HS_READ_ROOM;
	if (ho_buf_reserve(&c->in, room) != 0)
		return ho_conn_fail(c, HANDOFF_ENOMEM, "out of memory");
	for (;;) {
		/* A blocking read would ignore the deadline: wait first. */
		if (!c->nonblocking && c->deadline_ms != 0 &&
		    wait_socket(c, POLLIN) != 0)
			return -1;
		ssize_t n =
		    read(c->fd, c->in.ptr + c->in.len, c->in.cap - c->in.len);
		if (n >= 0) {
			ho_buf_commit(&c->in, (size_t)n);
			return (int)n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return ho_conn_fail(c, HANDOFF_EIO,
			    "reading from the peer: %s", strerror(errno));
		if (c->nonblocking)
			return HANDOFF_WANT_POLLIN;
		if (c->deadline_ms == 0) /* the read blocked, then gave up */
			return socket_wait_ended(c, POLLIN);
		if (wait_socket(c, POLLIN) != 0)
			return -1;
	}
}

int
ho_conn_fill_awaiting(struct handoff_conn *c, const char *awaited)
{
	if (c->deadline_ms != 0 && ho_now_ms() >= c->deadline_ms) {
		char phrase[80];
		snprintf(phrase, sizeof(phrase), "the peer's %s", awaited);
		return ho_conn_timed_out(c, phrase,
		    "the peer sent no %s within %u ms", awaited,
		    c->ctx->deadline_ms);
	}
	int r = ho_conn_fill(c);
	if (r == 0)
		return ho_conn_fail(c, HANDOFF_EEOF,
		    "the peer closed the connection before its %s", awaited);
	return r;
}

/*
 * write() for a descriptor that is not a socket (a pipe), without
 * SIGPIPE: the signal is blocked in this thread for the call, and one
 * the write raised is taken off again (it is sent to this thread, so
 * sigtimedwait() finds it) before the mask is put back.  One that was
 * already pending is the program's, and stays.
 */
static ssize_t
write_no_sigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_only, old, pending;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	sigpending(&pending);
	int was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	ssize_t n = write(fd, buf, len);
	int saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending) {
		struct timespec none = {0, 0};
		while (sigtimedwait(&pipe_only, NULL, &none) < 0 &&
		    errno == EINTR) {
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

/*
 * write() to a peer that has gone away raises SIGPIPE, whose default
 * action ends the whole program: a TLS peer must not be able to do that
 * to a process that links us.  send() with MSG_NOSIGNAL reports EPIPE
 * instead; a descriptor that is not a socket gets write_no_sigpipe().
 *
 * Unless may_block, this never blocks, whatever O_NONBLOCK says: a
 * blocking send() of more than the socket has room for would wait for
 * the peer to read, past any deadline.  On a socket MSG_DONTWAIT does
 * it; on anything else (a pipe) poll() must first report room, and then
 * at most PIPE_BUF bytes go out, which a pipe with room takes at once.
 * Returns bytes sent, or -1 with errno (EAGAIN: no room now).
 */
static ssize_t
send_to_peer(
    struct handoff_conn *c, const void *buf, size_t len, int may_block)
{
	if (!c->not_socket) {
		int flags = MSG_NOSIGNAL | (may_block ? 0 : MSG_DONTWAIT);
		ssize_t n = send(c->fd, buf, len, flags);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		c->not_socket = 1;
	}
	if (!may_block && !c->nonblocking) {
		struct pollfd p = {c->fd, POLLOUT, 0};
		int r = poll(&p, 1, 0);
		if (r <= 0) {
			if (r == 0)
				errno = EAGAIN;
			return -1;
		}
		if (len > PIPE_BUF)
			len = PIPE_BUF;
	}
	return write_no_sigpipe(c->fd, buf, len);
}

/*
 * Writes c->out.  A handshake's deadline (deadline_ms) bounds the whole
 * write: past it, a peer that leaves no room fails the connection, on a
 * blocking socket and on a non-blocking one alike (else a caller
 * polling would get WANT_POLLOUT with a timeout of 0 for ever).  With no
 * deadline (records after the handshake) a blocking socket waits as
 * write(2) does, until its own SO_SNDTIMEO if it has one (then
 * WANT_POLLOUT: socket_wait_ended).  once: one attempt that never waits,
 * for a best-effort alert.
 */
static int
flush_out(struct handoff_conn *c, int once)
{
	while (ho_buf_used(&c->out) > 0) {
		int may_block =
		    !once && !c->nonblocking && c->deadline_ms == 0;
		ssize_t n = send_to_peer(
		    c, ho_buf_data(&c->out), ho_buf_used(&c->out), may_block);
		if (n > 0) {
			ho_buf_consume(&c->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (once)
				return HANDOFF_WANT_POLLOUT;
			if (c->deadline_ms != 0 &&
			    ho_now_ms() >= c->deadline_ms)
				return write_timeout(c);
			if (c->nonblocking)
				return HANDOFF_WANT_POLLOUT;
			if (may_block) /* the send blocked, then gave up */
				return socket_wait_ended(c, POLLOUT);
			if (wait_socket(c, POLLOUT) != 0)
				return -1;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return ho_conn_fail(c, HANDOFF_EIO,
			    "the peer closed the connection while we wrote "
			    "to it (%s)",
			    strerror(errno));
		return ho_conn_fail(c, HANDOFF_EIO, "writing to the peer: %s",
		    n < 0 ? strerror(errno) : "no progress");
	}
	return 0;
}

int
ho_conn_flush(struct handoff_conn *c)
{
	return flush_out(c, 0);
}

int
ho_conn_flush_once(struct handoff_conn *c)
{
	return flush_out(c, 1);
}
