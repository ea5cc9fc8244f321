/*
 * ipc_internal.h - what ipc.c (the socket, the I/O thread, the calls'
 * API) and ipc_reply.c (what the I/O thread does with a reply) share:
 * the raw REQ header's layout and the table of calls waiting for
 * replies.  Private to those two files.
 */
#ifndef HO_IPC_INTERNAL_H
#define HO_IPC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "handoff_internal.h"

/* The raw REQ header: a 32-bit word with the top bit set, which
 * handoffd's raw REP socket routes back unchanged.  Its low 31 bits are
 * the low bits of the call's REQUEST_ID: a reply is matched by its
 * REQUEST_ID, but one whose body we cannot read, or an ERROR without
 * REQUEST_ID (handoffd could not read the request: the versions differ),
 * is still matched to its call by the header, and fails it at once. */
#define SP_HEADER_LEN 4
#define SP_ROUTE_MASK 0x7fffffffu
/* Set in the REQUEST_ID of a one-way request (ho_ipc_send_oneway). */
#define HO_IPC_ONEWAY_ID (UINT64_C(1) << 63)
/* Frees a nanomsg message we own, wiped first: replies hold keys and
 * traffic secrets, requests session tokens and handshake bytes. */
void ho_ipc_free_wiped(void *msg, size_t len);
/* The call registered under REQUEST_ID id, or NULL; the lock is held. */
struct ho_ipc_call *ho_ipc_find_call(struct ho_ipc *ipc, uint64_t id);
/* The call whose REQUEST_ID's low bits are route, or NULL; the lock is
 * held. */
struct ho_ipc_call *ho_ipc_find_call_by_route(
    struct ho_ipc *ipc, uint32_t route);
/* Unlinks a call from the table; the lock is held. */
void ho_ipc_unlink_call(struct ho_ipc *ipc, struct ho_ipc_call *call);
/* What ho_ipc_call_free leaves in ipc->signalling when it hands the
 * eventfd under way to the I/O thread to close (ipc_reply.c). */
extern struct ho_ipc_call ho_ipc_handed_over;
/* Frees a reply nobody will take, asking handoffd to drop the session
 * it leaves open; the lock must not be held. */
void ho_ipc_drop_reply(struct ho_ipc *ipc, void *msg, size_t len);

/* ---- ipc_reply.c ------------------------------------------------------ */

/* Receives one reply without waiting: its length and *msg, and in
 * *route the low bits of its raw REQ header (-1 if it has none), or -1
 * when there is none. */
int ho_ipc_recv_reply(struct ho_ipc *ipc, void **msg, int64_t *route);
/* Hands one reply (n bytes, taken) to its call, or drops it.  route is
 * from ho_ipc_recv_reply.  The lock must not be held. */
void ho_ipc_deliver(struct ho_ipc *ipc, void *msg, int n, int64_t route);

#endif
