/*
 * handoff_internal.h - libhandoff's private header, a section per file.
 */
#ifndef HANDOFF_INTERNAL_H
#define HANDOFF_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "handoff.h"
#include "proto.h"
#include "record.h"

#define HO_URL_MAX 1024
#define HO_ERR_MAX 512

/* ---- config.c --------------------------------------------------------- */

struct handoff_config {
	char daemon_url[HO_URL_MAX];
	char profile[HO_PROTO_MAX_STR + 1];
	unsigned deadline_ms;
	int no_verify;        /* handoff_config_insecure_noverifycert() */
	struct ho_buf ca_pem; /* handoff_config_set_ca_file(), or empty */
	char err[HO_ERR_MAX];
};

/* ---- ipc.c: request/reply with the daemon ----------------------------- */

/*
 * Idle nanomsg REQ sockets, shared by a context's connections.  A
 * connection holds one socket from its first request to the handshake's
 * end, so many handshakes (on many threads, or one event loop) are in
 * flight at once.
 */
struct ho_ipc_pool {
	pthread_mutex_t lock;
	int *idle;
	size_t idle_count;
	size_t idle_cap;
	char url[HO_URL_MAX];
};

int ho_ipc_pool_init(struct ho_ipc_pool *pool, const char *url);
void ho_ipc_pool_free(struct ho_ipc_pool *pool);
/* Returns a connected socket, or -1 with err filled. */
int ho_ipc_acquire(struct ho_ipc_pool *pool, char *err, size_t errlen);
/* healthy = 0 closes the socket instead of keeping it. */
void ho_ipc_release(struct ho_ipc_pool *pool, int sock, int healthy);
/* Sends a frame; 0 or -1 with err. */
int ho_ipc_send(
    int sock, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* Receives without blocking: length and *msg (nn_freemsg it), 0 if
 * nothing yet, -1 on error. */
int ho_ipc_try_recv(int sock, void **msg);
/* The descriptor that becomes readable when a reply is waiting. */
int ho_ipc_pollfd(int sock);
void ho_ipc_freemsg(void *msg);

/* ---- ctx.c ------------------------------------------------------------ */

struct handoff_ctx {
	char profile[HO_PROTO_MAX_STR + 1];
	unsigned deadline_ms;
	int no_verify;
	struct ho_buf ca_pem; /* sent with each client handshake */
	struct ho_ipc_pool ipc;
	char err[HO_ERR_MAX];
};

/* ---- conn.c / handshake.c --------------------------------------------- */

enum ho_conn_state {
	HO_CONN_HS_READ,  /* need bytes from the peer */
	HO_CONN_HS_SEND,  /* a request for the daemon is ready */
	HO_CONN_HS_WAIT,  /* waiting for the daemon's reply */
	HO_CONN_HS_WRITE, /* flushing daemon output to the peer */
	HO_CONN_OPEN,     /* handshake done, records flow */
	HO_CONN_CLOSED,   /* close_notify sent */
	HO_CONN_EXPORTED, /* keys handed to the caller: no more records */
	HO_CONN_FAILED    /* an error ended the connection */
};

struct handoff_conn {
	struct handoff_ctx *ctx;
	int fd;          /* the caller's socket, never closed here */
	int nonblocking; /* fd has O_NONBLOCK */
	int role;        /* HO_ROLE_SERVER or HO_ROLE_CLIENT */
	enum ho_conn_state state;
	enum ho_conn_state after_write; /* state once out is flushed */

	/* handshake */
	int ipc_sock; /* held REQ socket, -1 if none */
	uint8_t token[HO_PROTO_TOKEN_LEN];
	int have_token;
	uint64_t request_id;
	struct ho_proto_buf request; /* built, not yet sent */
	uint64_t deadline_ms;        /* of the current wait, 0 = none */
	int failed_after_write;      /* HS_WRITE then FAILED (alert flush) */
	/* TLS 1.3 client: the daemon session that turns the server's
	 * NewSessionTicket into a resumable session (client.c). */
	uint8_t ticket_token[HO_PROTO_TOKEN_LEN];
	int have_ticket_token;
	int ticket_sock; /* REQ socket awaiting the relay's answer, or -1 */

	/* records */
	struct ho_buf in;  /* bytes from the peer */
	struct ho_buf out; /* bytes for the peer */
	struct ho_rec rec;
	uint8_t *plain; /* decrypted data not yet returned */
	size_t plain_len;
	size_t record_used;   /* bytes of in the open record occupies */
	size_t max_plain;     /* largest plaintext per record we send */
	size_t write_pending; /* bytes committed by a WANT_POLLOUT write */
	int peer_closed;      /* close_notify received */
	int rekey_pending;    /* send KeyUpdate(update_requested) */

	/* info */
	char version[16];
	char cipher[64];
	char alpn[HO_PROTO_MAX_STR + 1];
	char servername[HO_PROTO_MAX_STR + 1];
	int resumed;
	struct ho_buf peer_chain; /* (u24 length, DER)* from the daemon */

	int errnum;
	char err[HO_ERR_MAX];
};

/* Records an error on the connection; returns -1 for tail calls. */
int ho_conn_fail(struct handoff_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads what the socket has into c->in.  Returns bytes read, 0 at EOF,
 * HANDOFF_WANT_POLLIN, or -1 (error recorded).  Blocking sockets wait
 * up to the current deadline (if any). */
int ho_conn_fill(struct handoff_conn *c);
/* Writes c->out.  Returns 0 when empty, HANDOFF_WANT_POLLOUT, or -1. */
int ho_conn_flush(struct handoff_conn *c);

/* Drives the handshake state machine (handshake.c). */
int ho_handshake_run(struct handoff_conn *c);
/* Releases the daemon socket, telling the daemon to drop the session. */
void ho_handshake_abandon(struct handoff_conn *c);

/* Seals one record into c->out (conn.c). */
int ho_conn_seal(
    struct handoff_conn *c, uint8_t type, const uint8_t *p, size_t len);
/* Sends a fatal alert, best effort, and marks the connection failed. */
void ho_conn_send_alert(struct handoff_conn *c, uint8_t desc);

/* Allocates a connection on fd in the given role (conn.c); NULL with
 * ctx->err set on failure. */
struct handoff_conn *ho_conn_new(
    struct handoff_ctx *ctx, int fd, int role, const char *caller);

/* ---- client.c --------------------------------------------------------- */

/* Relays a NewSessionTicket (whole handshake message) to the daemon,
 * once per connection, without waiting: resumption is best effort.
 * msg NULL: no ticket will come, let the daemon drop the session. */
void ho_client_relay_ticket(
    struct handoff_conn *c, const uint8_t *msg, size_t len);
/* Collects the daemon's answer to a relay if it has come (wait_ms 0),
 * or waits for it up to wait_ms; then the socket returns to the pool. */
void ho_client_relay_done(struct handoff_conn *c, int wait_ms);

#endif /* HANDOFF_INTERNAL_H */
