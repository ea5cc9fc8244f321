/*
 * ipc.c - the library's side of the nanomsg conversation with handoffd.
 *
 * One raw (AF_SP_RAW) REQ socket per context carries every request of
 * every connection, so one thread can keep thousands of handshakes in
 * flight (a cooked REQ socket holds one request at a time, and nanomsg
 * allows only a few hundred sockets per process).  Each request carries
 * a context-unique REQUEST_ID, which handoffd echoes in its reply; a
 * receiver thread reads replies and hands each to the waiting call by
 * that id, then signals the call's eventfd.  That eventfd is what a
 * non-blocking caller polls (a descriptor of its own per connection, so
 * event loops can watch thousands), and what a blocking caller waits on
 * with its deadline.  A request nanomsg cannot take at once (no
 * connection yet, or the daemon is slow to read) waits in a queue that
 * the same thread flushes when the socket becomes writable, so callers
 * never retry.  Before a request is queued, the daemon's socket file is
 * checked (ho_ipc_check), so that a daemon that is not running, or a
 * socket this user may not use, is named at once instead of at the
 * deadline; a request nanomsg takes at once has a connection and needs
 * no check (two system calls saved on every request).  Nothing is
 * re-sent: a step must never be applied twice, and the caller's deadline
 * decides when to give up; a reply (or a queued request) whose call gave
 * up is dropped.
 *
 * What the receiver does with each reply is in ipc_reply.c.
 *
 * The receiver thread and nanomsg's own worker do not survive fork():
 * create contexts after forking.  A child that uses its parent's context
 * anyway gets HANDOFF_ESTATE at once, and freeing the context there
 * returns (see forked()).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "handoff_internal.h"
#include "ipc_internal.h"
#include "paths.h"
#include "wipe.h"

/* Longest wait in ho_ipc_free for the next answer to a one-way request. */
#define ONEWAY_WAIT_MS 200
/* With the one-way window full and no answer for this long, the
 * requests in it are taken for lost (the daemon went away). */
#define ONEWAY_LOST_MS 1000
/* Room in nanomsg's queues for thousands of handshake messages. */
#define SOCKET_BUFFER (8 * 1024 * 1024)

/* A frame not sent yet: the window was full, or nanomsg could not take
 * it (no connection yet, or the daemon is slow to read). */
struct ho_ipc_queued {
	void *frame; /* nn_allocmsg'd, header included */
	size_t len;  /* of frame */
	uint64_t id; /* its call's id, 0 if nobody waits for a reply */
	struct ho_ipc_queued *next;
};

int
ho_ipc_init(struct ho_ipc *ipc, const char *url)
{
	memset(ipc, 0, sizeof(*ipc));
	ipc->sock = -1;
	ipc->wake_fd = -1;
	snprintf(ipc->url, sizeof(ipc->url), "%s", url);
	return pthread_mutex_init(&ipc->lock, NULL) == 0 ? 0 : -1;
}

/* Which process this is: 1 in the first, one more in each child forked
 * since (a pthread_atfork handler counts), so that telling a child from
 * its parent on every request costs a load, not getpid()'s system call. */
static atomic_uint process_generation = 1;
static pthread_once_t count_forks_once = PTHREAD_ONCE_INIT;

static void
on_fork_child(void)
{
	atomic_fetch_add_explicit(
	    &process_generation, 1, memory_order_relaxed);
}

static void
count_forks(void)
{
	pthread_atfork(NULL, NULL, on_fork_child);
}

/*
 * 1 in a process forked after the context's socket and I/O thread were
 * made.  Neither exists here: nanomsg's worker thread stayed in the
 * parent, so nn_close() would wait for it for ever and a request would
 * never be sent.  Such a process takes no lock either: a thread of the
 * parent may have held it at the fork.
 */
static int
forked(struct ho_ipc *ipc)
{
	unsigned made =
	    atomic_load_explicit(&ipc->made_in, memory_order_relaxed);
	return made != 0 &&
	    made !=
	    atomic_load_explicit(&process_generation, memory_order_relaxed);
}

static void
forked_error(char *err, size_t errlen)
{
	snprintf(err, errlen,
	    "this handoff context was created before fork() and used in the "
	    "parent: its connection to handoffd does not exist in this "
	    "process; create contexts in the child, after fork()");
}

static size_t
bucket_of(uint64_t id)
{
	return (size_t)(id % HO_IPC_BUCKETS);
}

/* Frees a nanomsg message we own, wiped first: replies hold keys and
 * traffic secrets, requests session tokens and handshake bytes. */
void
ho_ipc_free_wiped(void *msg, size_t len)
{
	ho_wipe(msg, len);
	nn_freemsg(msg);
}

/* Unlinks a call from the table; the lock is held. */
void
ho_ipc_unlink_call(struct ho_ipc *ipc, struct ho_ipc_call *call)
{
	struct ho_ipc_call **pp = &ipc->buckets[bucket_of(call->id)];
	while (*pp != NULL && *pp != call)
		pp = &(*pp)->next;
	if (*pp == call)
		*pp = call->next;
	call->next = NULL;
	call->id = 0;
	if (call->sent) { /* its slot in the window is free again */
		ipc->sent_calls--;
		call->sent = 0;
	}
}

/*
 * Whether a one-way request may go now; the lock is held.  One-way
 * requests have a window of their own: a process freeing thousands of
 * connections at once must not pour thousands of requests on handoffd
 * (its memory grew by half under bench/load.sh).  They hold no call, so
 * a daemon that died with some unanswered would leave the window shut
 * for good: with no answer for ONEWAY_LOST_MS, they count as lost.
 */
static int
oneway_room(struct ho_ipc *ipc)
{
	if (ipc->oneway_out < HO_IPC_WINDOW)
		return 1;
	if (ho_now_ms() - ipc->oneway_progress_ms < ONEWAY_LOST_MS)
		return 0;
	ipc->oneway_out = 0;
	return 1;
}

/* Sends a frame now if the window and nanomsg allow; the lock is held.
 * call NULL: a one-way request.  Returns 0 if sent, 1 if the window is
 * full, 2 if nanomsg cannot take it yet (or one-way requests wait for
 * answers: try again soon), -1 on a hard error. */
static int
try_send(struct ho_ipc *ipc, void *frame, struct ho_ipc_call *call)
{
	if (call != NULL && ipc->sent_calls >= HO_IPC_WINDOW)
		return 1;
	if (call == NULL && !oneway_room(ipc))
		return 2;
	void *msg = frame;
	if (nn_send(ipc->sock, &msg, NN_MSG, NN_DONTWAIT) < 0)
		return nn_errno() == EAGAIN || nn_errno() == EINTR ? 2 : -1;
	if (call != NULL) {
		call->sent = 1;
		ipc->sent_calls++;
	} else if (ipc->oneway_out++ == 0) {
		ipc->oneway_progress_ms = ho_now_ms();
	}
	return 0;
}

struct ho_ipc_call *
ho_ipc_find_call(struct ho_ipc *ipc, uint64_t id)
{
	struct ho_ipc_call *c = ipc->buckets[bucket_of(id)];
	while (c != NULL && c->id != id)
		c = c->next;
	return c;
}

/* The call whose REQUEST_ID's low bits are route, or NULL.  Ids are
 * handed out in order, so two calls in flight share them only 2^31
 * requests apart. */
struct ho_ipc_call *
ho_ipc_find_call_by_route(struct ho_ipc *ipc, uint32_t route)
{
	/* HO_IPC_BUCKETS divides 2^31: the low bits pick the bucket. */
	struct ho_ipc_call *c = ipc->buckets[bucket_of(route)];
	while (c != NULL && (uint32_t)(c->id & SP_ROUTE_MASK) != route)
		c = c->next;
	return c;
}

/* Frees a reply nobody will take.  One that leaves a session open in
 * handoffd (a handshake to go on, or a client session waiting for its
 * ticket) was for a connection freed or timed out meanwhile: handoffd is
 * asked to drop that session now rather than keep it until its timeout.
 * The lock must not be held. */
void
ho_ipc_drop_reply(struct ho_ipc *ipc, void *msg, size_t len)
{
	struct ho_proto_msg m;
	if (ho_proto_parse(msg, len, &m) == 0 && m.f[HO_F_TOKEN].present &&
	    (m.type == HO_MSG_HS_CONTINUE || m.type == HO_MSG_HS_DONE))
		ho_ipc_send_oneway(
		    ipc, HO_MSG_HS_ABORT, m.f[HO_F_TOKEN].ptr, NULL, 0);
	ho_ipc_free_wiped(msg, len);
}

/* Forgets the ServerHello bytes a call still held for its reply. */
static void
drop_ahead(struct ho_ipc_call *call)
{
	free(call->ahead_rest);
	call->ahead_rest = NULL;
	call->ahead_rest_len = 0;
}

/* Sends queued frames while the window and nanomsg allow; returns 0
 * when the queue is empty, else what stopped it (as try_send).  Frames
 * whose call gave up are dropped unsent. */
static int
flush_queue(struct ho_ipc *ipc)
{
	int stopped = 0;
	pthread_mutex_lock(&ipc->lock);
	while (ipc->queue != NULL) {
		struct ho_ipc_queued *q = ipc->queue;
		struct ho_ipc_call *call =
		    q->id != 0 ? ho_ipc_find_call(ipc, q->id) : NULL;
		if (q->id == 0 || call != NULL) {
			int r = try_send(ipc, q->frame, call);
			if (r > 0) {
				stopped = r;
				break;
			}
			if (r < 0) /* its call times out */
				ho_ipc_free_wiped(q->frame, q->len);
		} else {
			ho_ipc_free_wiped(q->frame, q->len);
		}
		ipc->queue = q->next;
		free(q);
	}
	if (ipc->queue == NULL)
		ipc->queue_tail = NULL;
	pthread_mutex_unlock(&ipc->lock);
	return stopped;
}

static void
wake_io_thread(struct ho_ipc *ipc)
{
	uint64_t one = 1;
	if (write(ipc->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is far from full */
	}
}

static int
sock_fd(int sock, int option)
{
	int fd = -1;
	size_t len = sizeof(fd);
	nn_getsockopt(sock, NN_SOL_SOCKET, option, &fd, &len);
	return fd;
}

/* The context's I/O thread: delivers replies and flushes the queue. */
static void *
receiver(void *arg)
{
	struct ho_ipc *ipc = arg;
	struct pollfd p[3] = {{sock_fd(ipc->sock, NN_RCVFD), POLLIN, 0},
	    {ipc->wake_fd, POLLIN, 0},
	    {sock_fd(ipc->sock, NN_SNDFD), POLLIN, 0}};
	int stopped = 0;
	for (;;) {
		/* Replies free window slots; when nanomsg itself pushed
		 * back, also wake when it can take more (and retry now and
		 * then: it may be waiting for the daemon to come back). */
		int pushed_back = stopped == 2;
		int r = poll(p, pushed_back ? 3 : 2, pushed_back ? 50 : -1);
		if (r < 0 && errno != EINTR) {
			/* ENOMEM, the one failure three valid descriptors
			 * allow, passes.  Ending the thread would leave
			 * every later request of the context waiting for
			 * its deadline: pause, and try again (the socket is
			 * still read and the queue flushed below). */
			struct timespec pause = {0, 10 * 1000 * 1000};
			nanosleep(&pause, NULL);
		}
		if (r > 0 && (p[1].revents & POLLIN)) {
			uint64_t count;
			if (read(ipc->wake_fd, &count, sizeof(count)) < 0) {
				/* drained already */
			}
		}
		pthread_mutex_lock(&ipc->lock);
		int stop = ipc->stopping;
		pthread_mutex_unlock(&ipc->lock);
		if (stop)
			return NULL;
		for (;;) {
			void *msg = NULL;
			int64_t route;
			int n = ho_ipc_recv_reply(ipc, &msg, &route);
			if (n < 0)
				break;
			ho_ipc_deliver(ipc, msg, n, route);
		}
		stopped = flush_queue(ipc);
	}
}

/* Starts the I/O thread with every signal blocked (it inherits the mask
 * of the thread that creates it): a signal the program blocks in its own
 * threads, to read it from a signalfd or sigwait(), would otherwise be
 * delivered to our thread and run its default action, killing the
 * program.  nanomsg's worker thread blocks them the same way. */
static int
start_thread(struct ho_ipc *ipc)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&ipc->thread, NULL, receiver, ipc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Named so that the program's top -H, perf or gdb tell it from
	 * the program's own threads (it would inherit its creator's). */
	if (r == 0)
		pthread_setname_np(ipc->thread, "handoff-io");
	return r;
}

/* Creates the socket and the receiver on first use; the lock is held. */
static int
ensure_socket(struct ho_ipc *ipc, char *err, size_t errlen)
{
	if (ipc->sock >= 0)
		return 0;
	int s = nn_socket(AF_SP_RAW, NN_REQ);
	if (s < 0) {
		snprintf(err, errlen, "cannot create a nanomsg socket: %s",
		    nn_strerror(nn_errno()));
		return -1;
	}
	int maxsize = HO_PROTO_MAX_MSG + SP_HEADER_LEN,
	    bufsize = SOCKET_BUFFER;
	nn_setsockopt(
	    s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize));
	nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDBUF, &bufsize, sizeof(bufsize));
	nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVBUF, &bufsize, sizeof(bufsize));
	if (nn_connect(s, ipc->url) < 0) {
		snprintf(err, errlen, "cannot connect to handoffd at %s: %s",
		    ipc->url, nn_strerror(nn_errno()));
		nn_close(s);
		return -1;
	}
	ipc->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ipc->sock = s;
	if (ipc->wake_fd < 0 || start_thread(ipc) != 0) {
		snprintf(err, errlen, "cannot start the reply thread");
		nn_close(s);
		ipc->sock = -1;
		if (ipc->wake_fd >= 0)
			close(ipc->wake_fd);
		ipc->wake_fd = -1;
		return -1;
	}
	pthread_once(&count_forks_once, count_forks);
	atomic_store_explicit(&ipc->made_in,
	    atomic_load_explicit(&process_generation, memory_order_relaxed),
	    memory_order_relaxed);
	return 0;
}

void
ho_ipc_free(struct ho_ipc *ipc)
{
	if (forked(ipc)) {
		/* Leaked on purpose: joining a thread that is not in this
		 * process, or closing a socket whose nanomsg worker is not,
		 * would wait for ever, and the lock may be held by a
		 * parent's thread.  The memory is this process's copy of
		 * the parent's and goes when it exits or execs. */
		close(ipc->wake_fd);
		return;
	}
	if (ipc->sock >= 0) {
		/* nanomsg drops what it has not sent when its socket closes:
		 * let one-way requests (a connection's ticket relay or
		 * ABORT), sent or still queued behind their window, reach the
		 * daemon, which their answers prove, for as long as answers
		 * keep coming (ONEWAY_WAIT_MS without one ends the wait). */
		uint64_t started = ho_now_ms();
		for (;;) {
			pthread_mutex_lock(&ipc->lock);
			int done = ipc->oneway_out == 0 && ipc->queue == NULL;
			uint64_t last = ipc->oneway_progress_ms > started
			    ? ipc->oneway_progress_ms
			    : started;
			pthread_mutex_unlock(&ipc->lock);
			if (done || ho_now_ms() - last >= ONEWAY_WAIT_MS)
				break;
			usleep(1000);
		}
		pthread_mutex_lock(&ipc->lock);
		ipc->stopping = 1;
		pthread_mutex_unlock(&ipc->lock);
		wake_io_thread(ipc);
		pthread_join(ipc->thread, NULL);
		/* Give what is still queued one last chance. */
		flush_queue(ipc);
		nn_close(ipc->sock);
		close(ipc->wake_fd);
	}
	while (ipc->queue != NULL) {
		struct ho_ipc_queued *q = ipc->queue;
		ipc->queue = q->next;
		ho_ipc_free_wiped(q->frame, q->len);
		free(q);
	}
	pthread_mutex_destroy(&ipc->lock);
}

uint64_t
ho_ipc_new_id(struct ho_ipc *ipc)
{
	return atomic_fetch_add(&ipc->next_id, 1) + 1;
}

/* Sends one frame behind the raw REQ header, or, once the daemon's
 * socket file checks out, queues it for the I/O thread; -1 with err on
 * error.  call (registered already) or NULL. */
static int
send_frame(struct ho_ipc *ipc, struct ho_ipc_call *call, uint64_t id,
    const uint8_t *buf, size_t len, char *err, size_t el)
{
	uint8_t *frame = nn_allocmsg(len + SP_HEADER_LEN, 0);
	struct ho_ipc_queued *q = malloc(sizeof(*q));
	if (frame == NULL || q == NULL) {
		if (frame != NULL)
			nn_freemsg(frame);
		free(q);
		snprintf(err, el, "out of memory");
		return -1;
	}
	uint32_t word = 0x80000000u | (uint32_t)(id & SP_ROUTE_MASK);
	frame[0] = (uint8_t)(word >> 24);
	frame[1] = (uint8_t)(word >> 16);
	frame[2] = (uint8_t)(word >> 8);
	frame[3] = (uint8_t)word;
	memcpy(frame + SP_HEADER_LEN, buf, len);
	pthread_mutex_lock(&ipc->lock);
	/* Behind a queue, wait in line: the window is full or nanomsg
	 * pushes back, and order keeps the wait fair. */
	int r = ipc->queue != NULL ? 1 : try_send(ipc, frame, call);
	int e = nn_errno();
	pthread_mutex_unlock(&ipc->lock);
	if (r < 0) {
		snprintf(err, el, "cannot send to handoffd at %s: %s",
		    ipc->url, nn_strerror(e));
	} else if (r > 0 && ho_ipc_check(ipc->url, err, el) == 0) {
		/* Outside the lock: the check makes system calls.  Order
		 * with requests sent meanwhile does not matter. */
		q->frame = frame;
		q->len = len + SP_HEADER_LEN;
		q->id = call != NULL ? call->id : 0;
		q->next = NULL;
		pthread_mutex_lock(&ipc->lock);
		if (ipc->queue_tail != NULL)
			ipc->queue_tail->next = q;
		else
			ipc->queue = q;
		ipc->queue_tail = q;
		pthread_mutex_unlock(&ipc->lock);
		wake_io_thread(ipc);
		return 0;
	}
	free(q);
	if (r == 0)
		return 0;
	ho_ipc_free_wiped(frame, len + SP_HEADER_LEN);
	return -1;
}

int
ho_ipc_call_send(struct ho_ipc *ipc, struct ho_ipc_call *call, uint64_t id,
    const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	if (forked(ipc)) {
		forked_error(err, errlen);
		return HANDOFF_ESTATE;
	}
	if (call != NULL && call->efd < 0) {
		call->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (call->efd < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			return HANDOFF_ENODAEMON;
		}
	}
	pthread_mutex_lock(&ipc->lock);
	int r = ensure_socket(ipc, err, errlen);
	if (r == 0 && call != NULL) {
		/* Registered before sending: the reply may beat us back. */
		call->id = id;
		call->next = ipc->buckets[bucket_of(id)];
		ipc->buckets[bucket_of(id)] = call;
	}
	pthread_mutex_unlock(&ipc->lock);
	if (r != 0)
		return HANDOFF_ENODAEMON;
	r = send_frame(ipc, call, id, buf, len, err, errlen);
	if (r != 0 && call != NULL)
		ho_ipc_call_cancel(ipc, call);
	return r != 0 ? HANDOFF_ENODAEMON : 0;
}

int
ho_ipc_call_take(struct ho_ipc *ipc, struct ho_ipc_call *call, void **msg)
{
	int n = 0;
	if (forked(ipc)) {
		/* A call the parent made before the fork: its reply, if
		 * any, goes to the parent. */
		call->errnum = HANDOFF_ESTATE;
		forked_error(call->err, sizeof(call->err));
		return -1;
	}
	/* Drained whether or not something comes: the receiver signals
	 * after setting the reply, so a count with nothing to take is left
	 * from a reply taken before its signal landed, and would otherwise
	 * keep the descriptor readable.  Drained before the lock (one
	 * system call less under it): a reply set from now on is either
	 * taken below, leaving a count that only wakes for nothing once,
	 * or signalled after this read, leaving the descriptor readable. */
	uint64_t count;
	if (call->efd >= 0 && read(call->efd, &count, sizeof(count)) < 0) {
		/* already drained */
	}
	pthread_mutex_lock(&ipc->lock);
	if (call->reply != NULL) {
		*msg = call->reply;
		n = call->reply_len;
		call->reply = NULL;
	} else if (call->failed) {
		n = -1; /* call->err says why */
		call->failed = 0;
	}
	pthread_mutex_unlock(&ipc->lock);
	return n;
}

int
ho_ipc_call_take_ahead(
    struct ho_ipc *ipc, struct ho_ipc_call *call, struct ho_buf *out)
{
	int r = 0;
	pthread_mutex_lock(&ipc->lock);
	if (call->ahead_rest_len > 0)
		r = ho_buf_append(out, call->ahead_rest, call->ahead_rest_len);
	drop_ahead(call);
	pthread_mutex_unlock(&ipc->lock);
	return r;
}

int
ho_ipc_call_pending(struct ho_ipc *ipc, struct ho_ipc_call *call)
{
	if (forked(ipc))
		return 0; /* nothing will come in this process */
	pthread_mutex_lock(&ipc->lock);
	int pending = call->id != 0 || call->reply != NULL || call->failed;
	pthread_mutex_unlock(&ipc->lock);
	return pending;
}

void
ho_ipc_call_cancel(struct ho_ipc *ipc, struct ho_ipc_call *call)
{
	if (forked(ipc)) {
		/* The table is the parent's (its lock too): forget the
		 * call without unlinking it; nothing here reads it. */
		if (call->reply != NULL)
			ho_ipc_free_wiped(
			    call->reply, (size_t)call->reply_len);
		call->reply = NULL;
		drop_ahead(call); /* this process's copy */
		call->id = 0;
		call->sent = 0;
		call->failed = 0;
		call->next = NULL;
		return;
	}
	pthread_mutex_lock(&ipc->lock);
	int freed_slot = call->sent;
	if (call->id != 0)
		ho_ipc_unlink_call(ipc, call);
	drop_ahead(call);
	void *late = call->reply;
	size_t late_len = (size_t)call->reply_len;
	call->reply = NULL;
	if (call->failed) { /* its eventfd was signalled too */
		call->failed = 0;
		uint64_t count;
		if (read(call->efd, &count, sizeof(count)) < 0) {
			/* already drained */
		}
	}
	int waiting = ipc->queue != NULL;
	pthread_mutex_unlock(&ipc->lock);
	if (freed_slot && waiting)
		wake_io_thread(ipc); /* a queued request may go now */
	if (late != NULL) {
		uint64_t count;
		ho_ipc_drop_reply(ipc, late, late_len);
		if (read(call->efd, &count, sizeof(count)) < 0) {
			/* already drained */
		}
	}
}

/*
 * Called when the I/O thread may be writing to call's eventfd right now:
 * the reply came as the call went, most often because that write woke
 * the caller, which took the CPU before the I/O thread could clear its
 * mark.  Rather than sleep until it has (in what may be an event loop's
 * non-blocking call, which would hand its core to whatever else can
 * run), the descriptor's number is pointed at the I/O thread's own
 * wake-up eventfd, which closes the call's eventfd (taking it out of any
 * epoll set, as close() would), and left for the I/O thread to close
 * after its write: a late write lands on the I/O thread's eventfd and
 * wakes it once for nothing.  1 when handed over, 0 if the caller must
 * close the number itself (the write is done, or dup3 failed).
 */
static int
hand_over_eventfd(struct ho_ipc *ipc, struct ho_ipc_call *call)
{
	if (atomic_load(&ipc->signalling) != call)
		return 0;
	if (dup3(ipc->wake_fd, call->efd, O_CLOEXEC) != call->efd)
		return 0;
	struct ho_ipc_call *expected = call;
	return atomic_compare_exchange_strong(
	    &ipc->signalling, &expected, &ho_ipc_handed_over);
}

void
ho_ipc_call_free(struct ho_ipc *ipc, struct ho_ipc_call *call)
{
	ho_ipc_call_cancel(ipc, call);
	if (call->efd >= 0 && !forked(ipc) && hand_over_eventfd(ipc, call)) {
		call->efd = -1;
		return;
	}
	/* The write is done (the loop below ends at once), or dup3 failed:
	 * then wait for the write, a few microseconds. */
	while (!forked(ipc) && atomic_load(&ipc->signalling) == call) {
		struct timespec pause = {0, 20 * 1000};
		nanosleep(&pause, NULL);
	}
	if (call->efd >= 0)
		close(call->efd);
	call->efd = -1;
}

int
ho_ipc_call_wait(struct ho_ipc_call *call, int timeout_ms)
{
	struct pollfd p = {call->efd, POLLIN, 0};
	int r = poll(&p, 1, timeout_ms);
	return r < 0 && errno != EINTR ? -1 : 0;
}

void
ho_ipc_freemsg(void *msg, size_t len)
{
	if (msg != NULL)
		ho_ipc_free_wiped(msg, len);
}

int
ho_ipc_send_oneway(struct ho_ipc *ipc, int type, const uint8_t *token,
    const uint8_t *input, size_t len)
{
	char err[HO_ERR_MAX];
	struct ho_proto_buf b;
	uint64_t id = ho_ipc_new_id(ipc) | HO_IPC_ONEWAY_ID;
	ho_proto_begin(&b, type);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, id);
	ho_proto_put(&b, HO_F_TOKEN, token, HO_PROTO_TOKEN_LEN);
	if (input != NULL)
		ho_proto_put(&b, HO_F_INPUT, input, len);
	int r = ho_proto_finish(&b) == 0
	    ? ho_ipc_call_send(ipc, NULL, id, b.buf, b.len, err, sizeof(err))
	    : -1;
	ho_proto_buf_free(&b);
	return r;
}
