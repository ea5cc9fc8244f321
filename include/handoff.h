/*
 * handoff.h - TLS with the handshake offloaded to handoffd.
 *
 * A program that links libhandoff terminates (or, later, originates) TLS
 * without ever holding a private key: handoffd performs the handshake's
 * asymmetric work and returns the session keys, and this library then
 * encrypts and decrypts records in the caller's process.
 *
 * Shape (modelled on OpenBSD libtls):
 *   - a handoff_config holds settings (daemon URL, profile, deadline);
 *   - a handoff_ctx holds the connection to the daemon and is shared by
 *     many connections (it is thread-safe);
 *   - a handoff_conn is one TLS connection on a socket the caller owns.
 * Functions return 0 (or a byte count) on success, -1 on error, or
 * HANDOFF_WANT_POLLIN / HANDOFF_WANT_POLLOUT when a non-blocking socket
 * (or the daemon) is not ready, or a blocking socket's own SO_RCVTIMEO or
 * SO_SNDTIMEO passed: wait for that event on handoff_conn_pollfd() and
 * call again with the same arguments.
 * The reason for an error is on the object: handoff_conn_error(),
 * handoff_ctx_error(), with a code from handoff_conn_errno().
 * Every *_free(NULL) does nothing.
 */
#ifndef HANDOFF_H
#define HANDOFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HANDOFF_BUILDING) && defined(__GNUC__)
#define HANDOFF_EXPORT __attribute__((visibility("default")))
#else
#define HANDOFF_EXPORT
#endif

#define HANDOFF_VERSION_STRING "0.1.0"

#define HANDOFF_WANT_POLLIN (-2)
#define HANDOFF_WANT_POLLOUT (-3)

/* Default deadline for each wait during a handshake, in milliseconds. */
#define HANDOFF_DEFAULT_DEADLINE_MS 5000
/* Default limit on a whole handshake, in milliseconds. */
#define HANDOFF_DEFAULT_HANDSHAKE_TIMEOUT_MS 30000
/* Environment variable naming the daemon's URL. */
#define HANDOFF_DAEMON_ENV "HANDOFF_DAEMON"

/*
 * Error codes: X(name, number, text).  Numbers are positive here and are
 * also what handoffd sends on the wire; they never change meaning.
 */
#define HANDOFF_ERRNO_MAP(X)                                                  \
	X(OK, 0, "no error")                                                  \
	X(NOMEM, 1, "out of memory")                                          \
	X(INVAL, 2, "invalid argument")                                       \
	X(NODAEMON, 3, "handoffd could not be reached")                       \
	X(TIMEOUT, 4, "deadline passed")                                      \
	X(PROTO, 5, "malformed or unexpected message")                        \
	X(BUSY, 6, "handoffd is at its session limit")                        \
	X(SESSION, 7, "unknown or expired session")                           \
	X(PROFILE, 8, "unknown profile")                                      \
	X(HANDSHAKE, 9, "TLS handshake failed")                               \
	X(SHUTDOWN, 10, "handoffd is shutting down")                          \
	X(IO, 11, "socket error")                                             \
	X(EOF, 12, "peer closed the connection")                              \
	X(ALERT, 13, "peer sent a fatal alert")                               \
	X(RECORD, 14, "bad TLS record")                                       \
	X(UNSUPPORTED, 15, "negotiated something this library cannot run")    \
	X(INTERNAL, 16, "internal error")                                     \
	X(STATE, 17, "call not valid in this state")                          \
	X(VERIFY, 18, "peer certificate verification failed")                 \
	X(PERM, 19, "not allowed by handoffd's configuration")

enum handoff_errno {
#define HANDOFF_X(name, num, text) HANDOFF_E##name = num,
	HANDOFF_ERRNO_MAP(HANDOFF_X)
#undef HANDOFF_X
};

/* Short text for an error code ("handoffd is at its session limit"). */
HANDOFF_EXPORT const char *handoff_strerror(int err);
/* Name of an error code ("HANDOFF_EBUSY"). */
HANDOFF_EXPORT const char *handoff_err_name(int err);

struct handoff_config;
struct handoff_ctx;
struct handoff_conn;

/* ---- configuration ---------------------------------------------------- */

/* Returns a config with defaults, or NULL when out of memory. */
HANDOFF_EXPORT struct handoff_config *handoff_config_new(void);
HANDOFF_EXPORT void handoff_config_free(struct handoff_config *config);
/*
 * The daemon's nanomsg URL (copied).  Default: $HANDOFF_DAEMON, else the
 * daemon's default path (see handoff_default_daemon_url()).
 */
HANDOFF_EXPORT int handoff_config_set_daemon(
    struct handoff_config *config, const char *url);
/* The daemon profile to use (copied).  Default: "default". */
HANDOFF_EXPORT int handoff_config_set_profile(
    struct handoff_config *config, const char *profile);
/* Longest wait during a handshake: for the daemon, for the peer's next
 * message, and for the peer to read what the handshake writes to it. */
HANDOFF_EXPORT int handoff_config_set_deadline_ms(
    struct handoff_config *config, unsigned int ms);
/* Longest a whole handshake may take, from the connection's creation
 * (0: no limit): a peer that sends or reads a little at a time, each
 * step within the deadline above, is cut off here.  Default
 * HANDOFF_DEFAULT_HANDSHAKE_TIMEOUT_MS.  Returns 0. */
HANDOFF_EXPORT int handoff_config_set_handshake_timeout_ms(
    struct handoff_config *config, unsigned int ms);
/*
 * Client role: verify servers against the CA certificates (PEM) in path
 * instead of the daemon profile's trust file.  The file is read now, by
 * this process; it holds only public certificates, up to 128 KiB.  A
 * context sends it to handoffd once (again if handoffd restarted) and
 * names it by its SHA-256 afterwards; handoffd parses each distinct file
 * once.  Returns 0, or -1 (see handoff_config_error()).
 */
HANDOFF_EXPORT int handoff_config_set_ca_file(
    struct handoff_config *config, const char *path);
/*
 * INSECURE: client connections accept any server certificate, for any
 * name.  Anyone on the path can then read and change the traffic.  For
 * tests and for servers whose identity is checked some other way only.
 */
HANDOFF_EXPORT void handoff_config_insecure_noverifycert(
    struct handoff_config *config);
/* Last error on the config object. */
HANDOFF_EXPORT const char *handoff_config_error(struct handoff_config *config);

/*
 * Writes the URL handoffd listens on by default for this user
 * ("ipc:///run/handoff/handoffd.sock" for root, else under
 * $XDG_RUNTIME_DIR/handoff or /tmp/handoff-UID) into buf.
 * Returns 0, or -1 if it does not fit.
 */
HANDOFF_EXPORT int handoff_default_daemon_url(char *buf, size_t len);

/* ---- context ---------------------------------------------------------- */

/*
 * A context for many connections.  handoff_ctx_new() copies what it needs
 * from config; the caller may free config afterwards.  It does not
 * contact the daemon: a missing daemon shows at the first handshake.
 * Returns NULL when out of memory or when config is invalid.
 */
HANDOFF_EXPORT struct handoff_ctx *handoff_ctx_new(
    const struct handoff_config *config);
/* Frees the context.  All its connections MUST be freed first. */
HANDOFF_EXPORT void handoff_ctx_free(struct handoff_ctx *ctx);
/* The reason for the calling thread's last failed call on ctx (the
 * context is shared between threads; like errno, each thread has its
 * own), or "" if it had none. */
HANDOFF_EXPORT const char *handoff_ctx_error(struct handoff_ctx *ctx);

/* ---- connections ------------------------------------------------------ */

/*
 * Starts a server-role TLS connection on an accepted TCP socket fd.  The
 * caller keeps owning fd (handoff never closes it), and MUST NOT read,
 * write or close it until the handshake has ended and, to close it, the
 * connection is freed: while the handshake waits for handoffd,
 * libhandoff's I/O thread may write a TLS 1.3 ServerHello to fd.  If fd
 * is non-blocking, every call on the connection may return
 * HANDOFF_WANT_POLLIN/POLLOUT.  Returns 0 and sets *conn, or -1 with the
 * reason in handoff_ctx_error().
 */
HANDOFF_EXPORT int handoff_accept_socket(
    struct handoff_ctx *ctx, struct handoff_conn **conn, int fd);

/*
 * Starts a client-role TLS connection on a connected TCP socket fd (the
 * caller keeps owning it).  handoffd builds the ClientHello with
 * servername as SNI (not sent for an IP address) and the profile's
 * ALPN list, and verifies the server's chain against the profile's trust
 * file (else the system's CAs) and servername (a host name or an IP
 * address).  servername MAY be NULL only after
 * handoff_config_insecure_noverifycert().  A failed verification fails
 * the handshake with HANDOFF_EVERIFY and the reason in words.  A session
 * from an earlier connection to the same server, made by any process
 * using the same profile, is resumed when the server agrees.  Returns 0
 * and sets *conn, or -1 with the reason in handoff_ctx_error().
 */
HANDOFF_EXPORT int handoff_connect_socket(struct handoff_ctx *ctx,
    struct handoff_conn **conn, int fd, const char *servername);

/*
 * Runs the handshake.  Returns 0 once it is complete, -1 on failure (see
 * handoff_conn_error()), or HANDOFF_WANT_POLLIN/POLLOUT: wait for that
 * event on handoff_conn_pollfd() (which may be the daemon's descriptor,
 * not the socket), for at most handoff_conn_poll_timeout() ms, and call
 * again.  handoff_read() and handoff_write() run it implicitly.
 */
HANDOFF_EXPORT int handoff_handshake(struct handoff_conn *conn);

/* The descriptor to wait on after HANDOFF_WANT_POLLIN/POLLOUT. */
HANDOFF_EXPORT int handoff_conn_pollfd(struct handoff_conn *conn);
/* Milliseconds until the current wait's deadline, -1 if none. */
HANDOFF_EXPORT int handoff_conn_poll_timeout(struct handoff_conn *conn);

/*
 * Reads up to len bytes of application data.  Returns the count, 0 when
 * the peer sent close_notify, -1 on error, or HANDOFF_WANT_*.  With len 0
 * it returns 0 at once, as read(2) does, without reading, waiting or
 * running the handshake (-1 if the connection can no longer carry records).
 * On a blocking socket it waits as read(2) does: HANDOFF_WANT_POLLIN
 * when the socket's SO_RCVTIMEO passes first (handoff_conn_errno() is
 * then HANDOFF_ETIMEOUT; the connection stays usable).
 */
HANDOFF_EXPORT ssize_t handoff_read(
    struct handoff_conn *conn, void *buf, size_t len);

/*
 * Writes application data (split into records).  Returns the number of
 * bytes taken: all len on a blocking socket, possibly fewer on a
 * non-blocking one.  Returns -1 on error, or HANDOFF_WANT_*: then call
 * again with the same buffer and length.  A blocking socket whose
 * SO_SNDTIMEO passes gives HANDOFF_WANT_POLLOUT too (handoff_conn_errno()
 * HANDOFF_ETIMEOUT), and handoff_close() likewise.
 */
HANDOFF_EXPORT ssize_t handoff_write(
    struct handoff_conn *conn, const void *buf, size_t len);

/* Asks for a TLS 1.3 KeyUpdate: the write key changes and the peer is
 * asked to change its key too.  Takes effect with the next write.
 * Returns -1 (HANDOFF_ESTATE, the connection stays usable) when the
 * connection is not an open TLS 1.3 one. */
HANDOFF_EXPORT int handoff_conn_rekey(struct handoff_conn *conn);

/*
 * Sends close_notify (if the handshake finished) and stops the
 * connection; the socket stays open and owned by the caller.  Nothing is
 * sent after close_notify; handoff_read() may still read the peer's
 * remaining data.  Before the handshake finished there are no keys:
 * handoff_read() and handoff_write() then fail with HANDOFF_ESTATE.
 * Returns 0, -1, or HANDOFF_WANT_POLLOUT.
 */
HANDOFF_EXPORT int handoff_close(struct handoff_conn *conn);

/* Wipes the keys and frees the connection (does not close the fd). */
HANDOFF_EXPORT void handoff_conn_free(struct handoff_conn *conn);

/* The last error, in words, and its code.  Never NULL. */
HANDOFF_EXPORT const char *handoff_conn_error(struct handoff_conn *conn);
HANDOFF_EXPORT int handoff_conn_errno(struct handoff_conn *conn);

/* After the handshake: "TLSv1.3", "TLSv1.2" (or, where a profile enables
 * them, "TLSv1.1", "TLSv1"), the IANA suite name
 * ("TLS_AES_128_GCM_SHA256"), the ALPN
 * protocol and the SNI server name (NULL when there is none).  The
 * strings live as long as the connection. */
HANDOFF_EXPORT const char *handoff_conn_version(struct handoff_conn *conn);
HANDOFF_EXPORT const char *handoff_conn_cipher(struct handoff_conn *conn);
HANDOFF_EXPORT const char *handoff_conn_alpn(struct handoff_conn *conn);
HANDOFF_EXPORT const char *handoff_conn_servername(struct handoff_conn *conn);
/* 1 if the handshake resumed an earlier session, 0 if not. */
HANDOFF_EXPORT int handoff_conn_resumed(struct handoff_conn *conn);
/*
 * The index-th certificate the peer presented (0 = its own, then the
 * chain it sent), DER-encoded, verified by handoffd against the profile's
 * trust file; its length in *len.  NULL (and *len = 0) past the end, or
 * when the peer sent none (client certificates are asked for only by
 * profiles with client_auth = request or require).  Valid as long as the
 * connection.
 */
HANDOFF_EXPORT const uint8_t *handoff_conn_peer_cert(
    struct handoff_conn *conn, size_t index, size_t *len);

/* ---- key export ------------------------------------------------------- */

/* One direction's record protection state. */
struct handoff_key_state {
	uint8_t key[32]; /* AEAD key, key_len bytes */
	size_t key_len;  /* 16 or 32 */
	uint8_t iv[12];  /* TLS 1.3 and ChaCha20: 12-byte IV; TLS 1.2
	                    AES-GCM: the 4-byte salt (iv_len 4) */
	size_t iv_len;
	uint64_t seq;       /* sequence number of the next record */
	uint8_t secret[48]; /* TLS 1.3 traffic secret (for KeyUpdate) */
	size_t secret_len;  /* 0 in TLS 1.2 */
};

/* Everything a record layer of the caller's own (or kernel TLS) needs. */
struct handoff_keys {
	uint16_t version;      /* 0x0304 TLS 1.3, 0x0303 TLS 1.2 */
	uint16_t cipher_suite; /* IANA number, e.g. 0x1301 */
	size_t max_plaintext;  /* largest record plaintext the peer accepts */
	struct handoff_key_state read;  /* peer -> us */
	struct handoff_key_state write; /* us -> peer */
};

/*
 * Copies the connection's keys into *keys and hands record protection
 * over to the caller: from then on handoff_read() and handoff_write()
 * fail with HANDOFF_ESTATE, handoff_close() sends nothing, and only
 * handoff_conn_free() (and the info calls) may follow.  The handshake
 * must be complete, the suite an AEAD one (CBC suites, which only a
 * profile that enables TLS 1.0/1.1 or CBC negotiates, are refused), and
 * nothing may be buffered: no unread bytes from the
 * peer and no unsent bytes for it (else -1, HANDOFF_ESTATE, and the
 * connection stays usable).  The caller owns *keys and MUST wipe it
 * (explicit_bzero) when done.
 */
HANDOFF_EXPORT int handoff_conn_export_keys(
    struct handoff_conn *conn, struct handoff_keys *keys);

#ifdef __cplusplus
}
#endif

#endif /* HANDOFF_H */
