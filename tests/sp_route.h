/*
 * sp_route.h - for tests that feed handoffd's dispatch directly
 * (ho_server_feed): the routing header a raw REP socket attaches to a
 * request, as a control message, here naming a peer that does not exist
 * (pipe id 1, request id 1), so the daemon's reply goes nowhere.
 */
#ifndef HANDOFF_TEST_SP_ROUTE_H
#define HANDOFF_TEST_SP_ROUTE_H

#include <stdint.h>
#include <string.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

/* An nn_allocmsg'd control message (ho_server_feed takes it), or NULL
 * when out of memory. */
static inline void *
sp_route_to_nowhere(void)
{
	size_t space = NN_CMSG_SPACE(8);
	uint8_t *c = nn_allocmsg(space, 0);
	if (c == NULL)
		return NULL;
	memset(c, 0, space);
	struct nn_cmsghdr *h = (struct nn_cmsghdr *)c;
	h->cmsg_len = NN_CMSG_LEN(8);
	h->cmsg_level = PROTO_SP;
	h->cmsg_type = SP_HDR;
	static const uint8_t route[8] = {0, 0, 0, 1, 0x80, 0, 0, 1};
	memcpy(NN_CMSG_DATA(h), route, sizeof(route));
	return c;
}

#endif /* HANDOFF_TEST_SP_ROUTE_H */
