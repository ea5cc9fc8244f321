/*
 * handoff_internal.h - libhandoff's private header, a section per file.
 */
#ifndef HANDOFF_INTERNAL_H
#define HANDOFF_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
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
	unsigned handshake_timeout_ms; /* 0: none */
	int no_verify;        /* handoff_config_insecure_noverifycert() */
	struct ho_buf ca_pem; /* handoff_config_set_ca_file(), or empty */
	char err[HO_ERR_MAX];
};

/* ---- ipc.c: request/reply with the daemon ----------------------------- */

#define HO_IPC_BUCKETS 4096
/*
 * Requests awaiting replies on the context's socket.  handoffd's raw REP
 * socket silently drops a reply when the kernel buffer towards this
 * process is full, so the window keeps the replies in transit (a few KiB
 * each) well inside it; more requests wait in the library's queue.
 * Two workers' worth of steps are far fewer than this anyway.
 */
#define HO_IPC_WINDOW 32

/* One request waiting for its reply; lives in a connection. */
struct ho_ipc_queued;

struct ho_ipc_call {
	uint64_t id; /* REQUEST_ID while registered, else 0 */
	int sent;    /* handed to nanomsg (counts in window) */
	int efd;     /* eventfd signalled on reply, or -1 */
	/* A server's first step: its peer's socket, where the receiver
	 * writes a ServerHello handoffd sends ahead (HS_AHEAD), or -1;
	 * what the socket did not take waits in ahead_rest, written
	 * before the reply's output (ho_ipc_call_take_ahead). */
	int ahead_fd;
	uint8_t *ahead_rest;
	size_t ahead_rest_len;
	void *reply; /* nanomsg message, set by the receiver */
	int reply_len;
	struct ho_ipc_call *next; /* hash chain */
	int failed;               /* a reply of no use came: see err */
	int errnum;               /* why ho_ipc_call_take returned -1 */
	char err[HO_ERR_MAX];
};

/* A context's connection to the daemon: one raw REQ socket, a receiver
 * thread and the table of calls waiting for replies. */
struct ho_ipc {
	pthread_mutex_t lock; /* guards everything below but url, made_in */
	_Atomic unsigned made_in; /* process generation (ipc.c) that made
	                             sock and thread, or 0 */
	int sock;                 /* -1 until the first request */
	pthread_t thread;         /* the I/O thread, once sock exists */
	int wake_fd;              /* eventfd that wakes the I/O thread */
	int stopping;             /* the context is being freed */
	struct ho_ipc_queued *queue, *queue_tail; /* not yet sent */
	unsigned sent_calls; /* sent requests awaiting replies (window) */
	unsigned oneway_out; /* one-way requests sent, not answered yet */
	uint64_t oneway_progress_ms; /* last answer, or first sent */
	struct ho_ipc_call *buckets[HO_IPC_BUCKETS];
	/* The call whose eventfd the I/O thread is signalling outside the
	 * lock (ipc_reply.c), or NULL: set under the lock, cleared without
	 * it; ho_ipc_call_free of that call leaves the descriptor to the
	 * I/O thread to close, marked with ho_ipc_handed_over. */
	struct ho_ipc_call *_Atomic signalling;
	_Atomic uint64_t next_id; /* atomic: no lock, safe after fork() */
	char url[HO_URL_MAX];
};

int ho_ipc_init(struct ho_ipc *ipc, const char *url);
void ho_ipc_free(struct ho_ipc *ipc);
/* A context-unique REQUEST_ID for the next request. */
uint64_t ho_ipc_new_id(struct ho_ipc *ipc);
/*
 * Sends a request nobody waits for (type HO_MSG_HS_ABORT, or
 * HO_MSG_HS_TICKET with input) on the session of token; its answer is
 * dropped, it takes no window slot, and ho_ipc_free waits briefly for
 * the answers to such requests, so that a process that exits right after
 * does not lose them.  Returns 0, or a HANDOFF_E* code (best effort:
 * callers need not look).
 */
int ho_ipc_send_oneway(struct ho_ipc *ipc, int type, const uint8_t *token,
    const uint8_t *input, size_t len);
/*
 * Sends a frame whose REQUEST_ID is id (queued if nanomsg cannot take it
 * yet) and, if call is not NULL, registers call for the reply.  Returns
 * 0, or the HANDOFF_E* code that fits with err: HANDOFF_ESTATE in a
 * child forked after the context's socket was made, else
 * HANDOFF_ENODAEMON.
 */
int ho_ipc_call_send(struct ho_ipc *ipc, struct ho_ipc_call *call, uint64_t id,
    const uint8_t *buf, size_t len, char *err, size_t errlen);
/* Takes the reply if it came: its length and *msg (ho_ipc_freemsg it),
 * 0 if not yet, or -1 if the call failed without a reply to act on
 * (call->errnum and call->err say why; nothing more will come). */
int ho_ipc_call_take(struct ho_ipc *ipc, struct ho_ipc_call *call, void **msg);
/* Appends to out what of an HS_AHEAD's output the peer's socket did
 * not take (none, almost always).  0, or -1 out of memory. */
int ho_ipc_call_take_ahead(
    struct ho_ipc *ipc, struct ho_ipc_call *call, struct ho_buf *out);
/* 1 while a reply is expected or waiting to be taken. */
int ho_ipc_call_pending(struct ho_ipc *ipc, struct ho_ipc_call *call);
/* Stops waiting; a reply that comes later is dropped. */
void ho_ipc_call_cancel(struct ho_ipc *ipc, struct ho_ipc_call *call);
/* Cancels and closes the eventfd. */
void ho_ipc_call_free(struct ho_ipc *ipc, struct ho_ipc_call *call);
/* Waits up to timeout_ms for the call's eventfd; -1 on poll failure. */
int ho_ipc_call_wait(struct ho_ipc_call *call, int timeout_ms);
/* Wipes (it may hold keys) and frees a reply of len bytes, as taken. */
void ho_ipc_freemsg(void *msg, size_t len);

/* ---- ctx.c ------------------------------------------------------------ */

struct handoff_ctx {
	char profile[HO_PROTO_MAX_STR + 1];
	unsigned deadline_ms;
	unsigned handshake_timeout_ms; /* 0: none */
	int no_verify;
	struct ho_buf ca_pem;  /* handoff_config_set_ca_file(), or empty */
	uint8_t ca_digest[32]; /* its SHA-256 */
	/* handoffd took ca_pem: client handshakes send ca_digest instead
	 * until it asks for the file again (HS_NEED_CAS). */
	atomic_int ca_held;
	struct ho_ipc ipc;
};

/*
 * One request on the context's socket (REQUEST_ID id, built in req) and
 * its reply, waited for up to the context's deadline.  Returns the reply
 * (ho_ipc_freemsg it, *len bytes) parsed into *m and of type want, or
 * NULL with the reason, `what` first, given to ho_ctx_fail (an ERROR
 * reply's text and code too).
 */
void *ho_ctx_request(struct handoff_ctx *ctx, struct ho_proto_buf *req,
    uint64_t id, int want, struct ho_proto_msg *m, size_t *len,
    const char *what);

/* Records the reason a call on ctx failed, for handoff_ctx_error() in
 * the calling thread (ctx.c). */
void ho_ctx_fail(struct handoff_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- conn.c / handshake.c --------------------------------------------- */

enum ho_conn_state {
	HO_CONN_HS_READ,          /* need bytes from the peer */
	HO_CONN_HS_SEND,          /* a request for the daemon is ready */
	HO_CONN_HS_WAIT,          /* waiting for the daemon's reply */
	HO_CONN_HS_WRITE,         /* flushing daemon output to the peer */
	HO_CONN_HS_PEER_FINISHED, /* checking the client's Finished here */
	HO_CONN_OPEN,             /* handshake done, records flow */
	HO_CONN_CLOSED,           /* close_notify sent */
	HO_CONN_EXPORTED, /* keys handed to the caller: no more records */
	HO_CONN_FAILED    /* an error ended the connection */
};

struct handoff_conn {
	struct handoff_ctx *ctx;
	int fd;          /* the caller's socket, never closed here */
	int nonblocking; /* fd has O_NONBLOCK */
	int not_socket;  /* send() said ENOTSOCK: write() to it */
	int role;        /* HO_ROLE_SERVER or HO_ROLE_CLIENT */
	enum ho_conn_state state;
	enum ho_conn_state after_write; /* state once out is flushed */

	/* handshake */
	struct ho_ipc_call call; /* the request in flight to handoffd */
	uint8_t token[HO_PROTO_TOKEN_LEN];
	int have_token;
	uint64_t request_id;
	int sent_ca_pem;             /* the request in flight carries ca_pem */
	struct ho_proto_buf request; /* built, not yet sent */
	uint64_t deadline_ms;        /* of the current wait, 0 = none */
	uint64_t born_ms;            /* when the handshake started */
	int deadline_is_total;       /* deadline_ms is the handshake's end */
	int failed_after_write;      /* HS_WRITE then FAILED (alert flush) */
	/* TLS 1.3 client: the daemon session that turns the server's
	 * NewSessionTicket into a resumable session (client.c). */
	uint8_t ticket_token[HO_PROTO_TOKEN_LEN];
	int have_ticket_token;
	/* TLS 1.3 server in one trip: the client Finished the daemon
	 * expects, and the client's handshake secret (peer_finished.c). */
	uint8_t peer_finished[4 + 48];
	size_t peer_finished_len;
	uint8_t peer_hs_secret[48];
	size_t peer_hs_secret_len;

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
	int idle_records;     /* records in a row with no application data */
	/* Replies the peer asked for, owed until there is room to send them:
	 * flags, not queued records, so that a peer that asks again and
	 * again without reading gets one reply (RFC 8446 4.6.3 allows one
	 * KeyUpdate for several requests) and cannot grow `out`. */
	int key_update_owed;     /* KeyUpdate(update_not_requested) */
	int renego_refusal_owed; /* TLS 1.2 no_renegotiation warning */

	/* info */
	char version[16];
	char cipher[64];
	char alpn[HO_PROTO_MAX_STR + 1];
	char servername[HO_PROTO_MAX_STR + 1];
	char peer[64]; /* client: the server's "address:port", or "" */
	int resumed;
	struct ho_buf peer_chain; /* (u24 length, DER)* from the daemon */

	int errnum;
	char err[HO_ERR_MAX];
};

/*
 * Records in a row that may carry no application data (empty records,
 * warning alerts, KeyUpdates, tickets, refused renegotiations) before
 * the connection fails with unexpected_message: else one handoff_read
 * call could open such records for as long as the peer sends them.
 * OpenSSL allows 32 empty records and 32 KeyUpdates in a row, so peers
 * already stay within 32; GnuTLS's 200 (empty records only) would let a
 * peer make one call open six times more records for nothing.
 */
#define HO_CONN_MAX_IDLE_RECORDS 32

/* A connection's socket I/O and deadlines (conn_io.c). */

/* Records an error on the connection; returns -1 for tail calls. */
int ho_conn_fail(struct handoff_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads what the socket has into c->in.  Returns bytes read, 0 at EOF,
 * HANDOFF_WANT_POLLIN, or -1 (error recorded).  Blocking sockets wait
 * up to the current deadline (if any). */
int ho_conn_fill(struct handoff_conn *c);
/* ho_conn_fill while a handshake waits for `awaited` from the peer: the
 * deadline passing and the peer closing are errors that name it.
 * Returns bytes read (> 0), HANDOFF_WANT_POLLIN, or -1. */
int ho_conn_fill_awaiting(struct handoff_conn *c, const char *awaited);
/* Writes c->out.  Returns 0 when empty, HANDOFF_WANT_POLLOUT, or -1. */
int ho_conn_flush(struct handoff_conn *c);
/* One attempt at writing c->out that never waits, for a best-effort
 * alert or close_notify.  Returns as ho_conn_flush. */
int ho_conn_flush_once(struct handoff_conn *c);
/* Starts the deadline of a handshake wait: the per-wait deadline, or
 * the whole handshake's end if that comes first. */
void ho_conn_start_deadline(struct handoff_conn *c);
/* Fails the connection because its deadline passed: with the message fmt
 * when the wait's own deadline ran out, or one naming awaited (a phrase)
 * when the whole handshake's limit did. */
int ho_conn_timed_out(struct handoff_conn *c, const char *awaited,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Drives the handshake state machine (handshake.c). */
int ho_handshake_run(struct handoff_conn *c);
/* Releases the daemon socket, telling the daemon to drop the session. */
void ho_handshake_abandon(struct handoff_conn *c);
/* Whether the n peer bytes at p, buffered during a handshake, are worth
 * a trip to the daemon (hs_input.c): a whole record, or, for the first
 * message of a server's handshake (first_message), the whole ClientHello
 * however many records carry it. */
int ho_hs_input_ready(const uint8_t *p, size_t n, int first_message);
/* Reads and checks the client's Finished (HO_CONN_HS_PEER_FINISHED).
 * Returns 0 when it matched, HANDOFF_WANT_POLLIN, or -1 (error recorded,
 * alert sent). */
int ho_peer_finished_run(struct handoff_conn *c);

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

#endif /* HANDOFF_INTERNAL_H */
