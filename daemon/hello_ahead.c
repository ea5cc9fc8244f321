/*
 * hello_ahead.c - a TLS 1.3 ServerHello sent to the caller ahead of the
 * step's reply.
 *
 * GnuTLS flushes a TLS 1.3 server's ServerHello before it signs and
 * encrypts the rest of the flight, and an in-process server's client
 * starts on it at once: its X25519 and handshake keys overlap the
 * server's signature.  A caller that waited for the whole flight in one
 * reply would lose that overlap: at low load on two cores it is most
 * of what offload adds to a handshake (bench/HISTORY.md, "The
 * ServerHello ahead").  So when the caller takes it (HO_F_OUTPUT_AHEAD)
 * and handoffd has nothing else to do, the session's first record goes
 * out at once as an HS_AHEAD message carrying the request's REQUEST_ID,
 * through the same routing header; the step's own reply follows on the
 * same connection, so in order.  Under load it is not sent: it costs
 * each handshake a message, and queueing hides the overlap anyway.
 */
#include <poll.h>
#include <string.h>

#include <nanomsg/nn.h>

#include "handoffd.h"

/* A raw REP routing header is a pipe id and the caller's request id (8
 * bytes); room for a few nanomsg devices' hops besides. */
#define ROUTE_MAX 64

int
ho_hello_ahead_send(void *arg, const void *buf, size_t len)
{
	struct ho_hello_ahead *a = arg;
	uint64_t id;
	struct nn_msghdr in;
	memset(&in, 0, sizeof(in));
	in.msg_control = (void *)a->control;
	in.msg_controllen = NN_MSG;
	struct nn_cmsghdr *route = NN_CMSG_FIRSTHDR(&in);
	if (route == NULL || route->cmsg_len < NN_CMSG_LEN(0) ||
	    route->cmsg_len - NN_CMSG_LEN(0) > ROUTE_MAX ||
	    ho_proto_get_u64(a->req, HO_F_REQUEST_ID, &id) != 0)
		return -1;
	/* The step's reply takes the original header: send a copy. */
	size_t route_len = route->cmsg_len - NN_CMSG_LEN(0);
	uint8_t control[NN_CMSG_SPACE(ROUTE_MAX)];
	memset(control, 0, sizeof(control));
	struct nn_cmsghdr *copy = (struct nn_cmsghdr *)(void *)control;
	copy->cmsg_len = NN_CMSG_LEN(route_len);
	copy->cmsg_level = route->cmsg_level;
	copy->cmsg_type = route->cmsg_type;
	memcpy(NN_CMSG_DATA(copy), NN_CMSG_DATA(route), route_len);

	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_HS_AHEAD);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, id);
	ho_proto_put(&b, HO_F_OUTPUT, buf, len);
	int r = -1;
	if (ho_proto_finish(&b) == 0) {
		struct nn_iovec iov = {b.buf, b.len};
		struct nn_msghdr hdr;
		memset(&hdr, 0, sizeof(hdr));
		hdr.msg_iov = &iov;
		hdr.msg_iovlen = 1;
		hdr.msg_control = control;
		hdr.msg_controllen = NN_CMSG_SPACE(route_len);
		r = nn_sendmsg(a->sock, &hdr, NN_DONTWAIT) < 0 ? -1 : 0;
	}
	ho_proto_buf_free(&b);
	a->sent = r == 0;
	return r;
}

int
ho_hello_ahead_idle(int rcv_fd)
{
	if (rcv_fd < 0)
		return 0;
	struct pollfd waiting = {rcv_fd, POLLIN, 0};
	return poll(&waiting, 1, 0) == 0;
}
