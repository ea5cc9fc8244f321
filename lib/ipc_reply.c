/*
 * ipc_reply.c - what libhandoff's I/O thread (ipc.c) does with each
 * reply from handoffd: it reads the routing header nanomsg hands back,
 * finds the waiting call by REQUEST_ID (or, for a reply it cannot read,
 * by that header, and fails the call at once with the reason), writes a
 * ServerHello sent ahead (HS_AHEAD) straight to the peer's socket, and
 * wakes the call's waiter through its eventfd, after releasing the
 * context's lock.  A reply whose call gave up is dropped, and the
 * session it leaves open in handoffd is aborted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nanomsg/nn.h>

#include "ipc_internal.h"
#include "proto.h"

/* Says in call->err why a reply matched by its header is of no use; m is
 * NULL when the body could not be parsed (perr says why). */
static void
explain_unreadable(struct ho_ipc *ipc, struct ho_ipc_call *call,
    const struct ho_proto_msg *m, int perr)
{
	static const char fix[] = "the daemon and library versions differ: "
	                          "install handoffd and libhandoff of the "
	                          "same version";
	char text[200] = ""; /* with the rest, fits call->err */
	call->errnum = HANDOFF_EPROTO;
	if (m == NULL)
		snprintf(call->err, sizeof(call->err),
		    "handoffd at %.160s sent a reply this library cannot read "
		    "(%s): %s",
		    ipc->url, ho_proto_strerror(perr), fix);
	else if (m->type == HO_MSG_ERROR &&
	    ho_proto_get_str(m, HO_F_ERROR_TEXT, text, sizeof(text)) == 0)
		snprintf(call->err, sizeof(call->err),
		    "handoffd at %.160s could not read our request (it says: "
		    "\"%s\"): %s",
		    ipc->url, text, fix);
	else
		snprintf(call->err, sizeof(call->err),
		    "handoffd at %.160s answered with %s but no request id: "
		    "%s",
		    ipc->url, ho_proto_msg_name(m->type), fix);
}

/* An HS_AHEAD for call (under the lock): its output straight to the
 * peer's socket, without waiting, as the caller would write it on the
 * reply (the caller writes nothing to it while it waits); what the
 * socket does not take, or all of it if the descriptor is no socket (or
 * the call has none), waits for the reply in call->ahead_rest. */
static void
write_ahead(struct ho_ipc_call *call, const struct ho_proto_msg *m)
{
	const struct ho_proto_field *o = &m->f[HO_F_OUTPUT];
	if (!o->present || o->len == 0)
		return;
	size_t done = 0;
	if (call->ahead_fd >= 0 && call->ahead_rest_len == 0) {
		ssize_t n = send(call->ahead_fd, o->ptr, o->len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		done = n > 0 ? (size_t)n : 0;
	}
	if (done == o->len)
		return;
	uint8_t *rest =
	    realloc(call->ahead_rest, call->ahead_rest_len + o->len - done);
	if (rest == NULL) {
		/* The peer would get a broken flight: fail the call. */
		call->failed = 1;
		call->errnum = HANDOFF_ENOMEM;
		snprintf(call->err, sizeof(call->err), "out of memory");
		return;
	}
	memcpy(rest + call->ahead_rest_len, o->ptr + done, o->len - done);
	call->ahead_rest = rest;
	call->ahead_rest_len += o->len - done;
}

/* The mark ho_ipc_call_free leaves in ipc->signalling when it hands the
 * eventfd being signalled over to this thread to close. */
struct ho_ipc_call ho_ipc_handed_over;

/* Wakes the thread waiting for a call through its eventfd efd (read
 * under the lock: the call itself may be freed from now on), outside
 * the lock: the write may switch this CPU to that thread at once, and
 * with the lock still held it would only find the lock taken and sleep
 * again (an event loop would sleep in a non-blocking call: ~200 times a
 * second in the bench's stall figure).  ipc->signalling, set under the
 * lock with the reply, keeps the descriptor from being closed meanwhile;
 * a call freed meanwhile leaves it to be closed here. */
static void
signal_call(struct ho_ipc *ipc, int efd)
{
	uint64_t one = 1;
	if (write(efd, &one, sizeof(one)) < 0) {
		/* cannot fail: the counter is drained on take */
	}
	if (atomic_exchange(&ipc->signalling, NULL) == &ho_ipc_handed_over)
		close(efd);
}

/* Hands one reply to its call, or drops it.  route is the low bits of
 * the raw REQ header that came back with it (SP_HEADER_LEN), or -1. */
void
ho_ipc_deliver(struct ho_ipc *ipc, void *msg, int n, int64_t route)
{
	struct ho_proto_msg m;
	uint64_t id = 0;
	int perr = ho_proto_parse(msg, (size_t)n, &m);
	if (perr == 0)
		ho_proto_get_u64(&m, HO_F_REQUEST_ID, &id);
	pthread_mutex_lock(&ipc->lock);
	struct ho_ipc_call *call = NULL;
	if (id != 0) {
		call = ho_ipc_find_call(ipc, id);
	} else if (route >= 0) {
		/* Unreadable, or no REQUEST_ID: fail its call now rather
		 * than let it wait for its deadline and blame a daemon
		 * that did answer. */
		call = ho_ipc_find_call_by_route(ipc, (uint32_t)route);
		if (call != NULL)
			explain_unreadable(
			    ipc, call, perr == 0 ? &m : NULL, perr);
	}
	if (call != NULL && perr == 0 && m.type == HO_MSG_HS_AHEAD) {
		/* Not the reply: the call waits on for it, unless the bytes
		 * the socket did not take could not be kept. */
		write_ahead(call, &m);
		int failed = call->failed, efd = call->efd;
		if (failed) {
			ho_ipc_unlink_call(ipc, call);
			atomic_store(&ipc->signalling, call);
		}
		pthread_mutex_unlock(&ipc->lock);
		if (failed)
			signal_call(ipc, efd);
		ho_ipc_free_wiped(msg, (size_t)n);
		return;
	}
	if (call == NULL && (id & HO_IPC_ONEWAY_ID) && ipc->oneway_out > 0) {
		ipc->oneway_out--;
		ipc->oneway_progress_ms = ho_now_ms();
	}
	int efd = -1;
	if (call != NULL) {
		efd = call->efd;
		ho_ipc_unlink_call(ipc, call);
		if (id != 0) {
			call->reply = msg;
			call->reply_len = n;
			msg = NULL;
		} else {
			call->failed = 1;
		}
		atomic_store(&ipc->signalling, call);
	}
	pthread_mutex_unlock(&ipc->lock);
	if (call != NULL)
		signal_call(ipc, efd);
	if (msg != NULL) /* its call gave up, or unreadable */
		ho_ipc_drop_reply(ipc, msg, (size_t)n);
}

/* Receives one reply without waiting: its length and *msg, and in
 * *route the low bits of its raw REQ header (-1 if it has none), or -1
 * when there is none. */
int
ho_ipc_recv_reply(struct ho_ipc *ipc, void **msg, int64_t *route)
{
	void *control = NULL;
	struct nn_iovec iov = {msg, NN_MSG};
	struct nn_msghdr hdr = {&iov, 1, &control, NN_MSG};
	int n = nn_recvmsg(ipc->sock, &hdr, NN_DONTWAIT);
	*route = -1;
	if (n < 0)
		return -1;
	/* The header comes as a control message: a size_t length, then
	 * the header, whose last word is the one we sent. */
	for (struct nn_cmsghdr *c = NN_CMSG_FIRSTHDR(&hdr); c != NULL;
	     c = NN_CMSG_NXTHDR(&hdr, c)) {
		size_t room = c->cmsg_len - NN_CMSG_LEN(0), sp;
		if (c->cmsg_level != PROTO_SP || c->cmsg_type != SP_HDR ||
		    room < sizeof(sp) + SP_HEADER_LEN)
			continue;
		const uint8_t *d = NN_CMSG_DATA(c);
		memcpy(&sp, d, sizeof(sp));
		if (sp < SP_HEADER_LEN || sp > room - sizeof(sp))
			continue;
		const uint8_t *w = d + sizeof(sp) + sp - SP_HEADER_LEN;
		uint32_t word = (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 |
		    (uint32_t)w[2] << 8 | w[3];
		if (word & ~SP_ROUTE_MASK)
			*route = word & SP_ROUTE_MASK;
	}
	if (control != NULL)
		nn_freemsg(control);
	return n;
}
