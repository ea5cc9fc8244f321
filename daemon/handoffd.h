/*
 * handoffd.h - the daemon's private header, one section per file.
 *
 * Threading rule: the session table, each session's bookkeeping fields
 * and the statistics are guarded by the daemon's lock (server.h); a
 * session marked busy belongs, TLS state and all, to the one worker
 * running its handshake step, until that worker clears the mark under the
 * lock.  The client cache has its own lock; profiles are read-only.
 */
#ifndef HANDOFFD_H
#define HANDOFFD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <uv.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "proto.h"

#define HO_DAEMON_NAME "handoffd"

/* ---- log.c ------------------------------------------------------------ */

void ho_log_init(int foreground, int level);
void ho_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define ho_log_error(...) ho_log(HO_LOG_ERROR, __VA_ARGS__)
#define ho_log_warning(...) ho_log(HO_LOG_WARNING, __VA_ARGS__)
#define ho_log_info(...) ho_log(HO_LOG_INFO, __VA_ARGS__)
#define ho_log_debug(...) ho_log(HO_LOG_DEBUG, __VA_ARGS__)

/* ---- stats.c ---------------------------------------------------------- */

#define HO_STATS_MAX_REASONS 32
#define HO_STATS_BUCKETS 256

struct ho_stats {
	uint64_t started_ms;
	uint64_t requests;
	uint64_t handshakes_ok;
	uint64_t handshakes_resumed;
	uint64_t handshakes_one_trip; /* TLS 1.3 server, finish_ahead.c */
	uint64_t hellos_ahead; /* ServerHellos sent ahead (requests.c) */
	uint64_t handshakes_failed;
	uint64_t sessions_expired;
	uint64_t busy_refusals;
	uint64_t client_handshakes; /* of handshakes_ok, client role */
	uint64_t private_key_ops;   /* signatures and RSA decryptions */
	uint64_t sign_requests;     /* keyops.c: SIGN answered with one */
	uint64_t verify_requests;   /* verify.c: VERIFY answered */
	uint64_t verify_cache_hits; /* of them, from the cache */
	uint64_t tickets_stored;    /* TLS 1.3 client tickets relayed */
	uint64_t caller_ca_parsed;  /* trust_cache.c: files parsed */
	uint64_t caller_ca_sent;    /* client starts carrying a CA file */
	uint64_t caller_ca_asked;   /* digests not held: HS_NEED_CAS */
	uint64_t bad_requests;
	uint64_t early_requests; /* steps that beat their step_finish */
	struct {
		char name[48];
		uint64_t count;
	} reasons[HO_STATS_MAX_REASONS]; /* failures by reason */
	int reason_count;
	uint64_t latency[HO_STATS_BUCKETS]; /* step latency histogram */
	uint64_t latency_count;
};

void ho_stats_init(struct ho_stats *st);
/* Counts one failed handshake under reason (a short identifier). */
void ho_stats_fail(struct ho_stats *st, const char *reason);
void ho_stats_latency(struct ho_stats *st, uint64_t us);
/* Latency at quantile q (0..1) in microseconds, 0 if no samples. */
uint64_t ho_stats_quantile(const struct ho_stats *st, double q);
/* Writes "name value" lines; returns the length written. */
size_t ho_stats_format(
    const struct ho_stats *st, unsigned open_sessions, char *buf, size_t len);

/* ---- profile.c -------------------------------------------------------- */

/* A loaded [profile]: credentials and priorities ready for sessions. */
struct ho_profile {
	char name[HO_PROFILE_NAME_MAX];
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t priority;
	gnutls_datum_t alpn[HO_MAX_ALPN];
	int alpn_count;
	enum ho_client_auth client_auth;
	int has_certificate;     /* can serve (and present a client cert) */
	const char *key_backend; /* who signs: "openssl", "libsodium",
	                            "gnutls", "pkcs11" */
	gnutls_privkey_t signer; /* the key, owned by cred; NULL when GnuTLS
	                            read the key file itself */
	int system_trust;        /* no trust file: the system's CAs */
	int allow_sign;          /* keyops.c: signatures on request */
	uint8_t key_id[32];      /* SHA-256 key ID of the signer's key */
	/* This profile's own session-ticket key: a ticket resumes only
	 * under the profile that issued it, so one with looser rules
	 * (no client certificate, another CA) cannot open a stricter one. */
	gnutls_datum_t ticket_key;
	char *const *server_names; /* SNI names (owned by the config) */
	int server_name_count;
};

struct ho_profiles {
	struct ho_profile *list;
	int count;
};

/* Loads every profile of cfg (certificate, key, trust, priority).
 * Returns 0, or -1 with a message naming the file and the reason. */
int ho_profiles_load(struct ho_profiles *ps, const struct ho_config *cfg,
    char *err, size_t errlen);
const struct ho_profile *ho_profile_find(
    const struct ho_profiles *ps, const char *name, size_t name_len);
/* The profile whose server_names match an SNI host name (exact names
 * first, then "*." wildcards), or NULL. */
const struct ho_profile *ho_profile_for_name(
    const struct ho_profiles *ps, const char *host);
void ho_profiles_free(struct ho_profiles *ps);
/* One test signature with key, in the algorithm its kind signs TLS 1.3
 * with, verified with pub unless NULL: 0, or a GnuTLS error. */
int ho_key_probe(gnutls_privkey_t key, gnutls_pubkey_t pub);

/* ---- fastkey.c -------------------------------------------------------- */

/* Reads a PEM private key with OpenSSL's libcrypto and wraps it so GnuTLS
 * sessions sign through libcrypto (RSA, ECDSA) or libsodium (Ed25519).
 * Returns 0, *out and in *signer the library's name ("openssl",
 * "libsodium"); 1 if the key is of a kind left to GnuTLS (Ed448...); or
 * -1 with err. */
int ho_fastkey_load(const char *path, gnutls_privkey_t *out,
    const char **signer, char *err, size_t errlen);

/* ---- token.c ---------------------------------------------------------- */

/* Whether a profile's certificate or key names an object in a PKCS#11
 * token ("pkcs11:..." URL, RFC 7512) rather than a file. */
int ho_token_is_url(const char *s);
/* Copies url to out with the value of any pin-value= hidden, for
 * messages and logs. */
void ho_token_redact(const char *url, char *out, size_t outlen);
/* Opens the private key a token's URL names (GnuTLS signs through the
 * token).  Returns 0 and *out, or -1 with err saying what to check (PINs
 * hidden). */
int ho_token_import(const char *profile, const char *url,
    gnutls_privkey_t *out, char *err, size_t errlen);

/* After dropping privileges: one signature with every token's key, as
 * the new user.  Returns 0, or -1 with err naming the profile and what to
 * give the user. */
int ho_token_check_after_drop(
    const struct ho_profiles *ps, const char *user, char *err, size_t errlen);

/* ---- selfsigned.c ----------------------------------------------------- */

/*
 * Makes sure state_dir holds default-cert.pem and default-key.pem (an
 * ECDSA P-256 self-signed certificate for "localhost"), generating them
 * on first use.  Returns 0 with the paths filled, or -1 with err.
 */
int ho_selfsigned_ensure(const char *state_dir, char *cert_path,
    char *key_path, size_t path_len, char *err, size_t errlen);

/* ---- privileges.c ----------------------------------------------------- */

/* Checks that user exists, is not root, and that we run as root. */
int ho_priv_lookup(
    const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* Gives the ipc socket (and own_dir, if not NULL) to uid:gid, then
 * becomes that user for good.  Returns 0 or -1 with err. */
int ho_priv_drop(const char *user, uid_t uid, gid_t gid,
    const char *listen_url, const char *own_dir, char *err, size_t errlen);
/* After the drop: whether this user may remove the ipc socket's file
 * (write its directory), which nanomsg does when the socket closes. */
int ho_priv_can_remove_socket(const char *listen_url);

/* ---- scheduling.c ---------------------------------------------------- */

/* Sets the calling thread's CPU scheduling policy as configured (call it
 * before any thread is started: they inherit it).  Writes what handoffd
 * now runs under, or why it could not change, to note.  Returns 0, or
 * -1 if the policy could not be set (handoffd can go on without it). */
int ho_scheduling_apply(enum ho_scheduling wanted, char *note, size_t len);

/* ---- standin.c ------------------------------------------------------- */

/* nettle's own definition of the function `name` (of `version`, if not
 * NULL and there is one), the one a stand-in in handoffd hides: looked
 * up once, into *cached.  NULL if there is none. */
void *ho_nettle_own(
    _Atomic(void *) *cached, const char *name, const char *version);

/* ---- sha512.c -------------------------------------------------------- */

/* Routes nettle's SHA-384/512 blocks (_nettle_sha512_compress, which
 * handoffd defines and exports under nettle's internal version) to
 * libcrypto if use_libcrypto and a check of both digests passes, else
 * to nettle's own.  Call once before any handshake.  Returns what does
 * them now ("libcrypto", or GnuTLS's own and why), or NULL if nothing
 * can. */
const char *ho_sha512_setup(int use_libcrypto);
/* The stand-in itself, with nettle 3.8's internal prototype (k: its
 * round constants). */
void _nettle_sha512_compress(
    uint64_t *state, const uint8_t *input, const uint64_t *k);

/* ---- x25519.c -------------------------------------------------------- */

/* Routes GnuTLS's X25519 key shares and shared secrets
 * (nettle_curve25519_mul_g and nettle_curve25519_mul, which handoffd
 * defines and exports) to libsodium if use_sodium, else to nettle's own.
 * Call once before any handshake.  Returns what computes them now
 * ("libsodium", or GnuTLS's own and why), or NULL if nothing can. */
const char *ho_x25519_setup(int use_sodium);
/* Shared secrets libsodium has computed since handoffd started. */
unsigned long long ho_x25519_sodium_calls(void);
/* Key shares libsodium has made since handoffd started. */
unsigned long long ho_x25519_sodium_shares(void);

/* ---- ecdsa_verify.c ------------------------------------------------- */

/* Routes GnuTLS's ECDSA signature checks (nettle_ecdsa_verify, which
 * handoffd defines and exports) for P-256 keys to libcrypto if
 * use_libcrypto and a check of both on one signature agrees, else all
 * to nettle's own.  Returns who checks P-256 signatures now
 * ("libcrypto ...", or GnuTLS's own and why), or NULL if nothing can. */
const char *ho_ecdsa_verify_setup(int use_libcrypto);
/* P-256 signatures libcrypto has checked since handoffd started. */
unsigned long long ho_ecdsa_verify_libcrypto_checks(void);

/* ---- ed25519_verify.c ----------------------------------------------- */

/* Routes GnuTLS's Ed25519 signature checks (nettle_ed25519_sha512_verify,
 * which handoffd defines and exports) to libsodium if use_sodium and a
 * check of both on one signature agrees, else to nettle's own.  Returns
 * who checks them now ("libsodium", or GnuTLS's own and why), or NULL if
 * nothing can. */
const char *ho_ed25519_verify_setup(int use_sodium);
/* Ed25519 signatures libsodium has checked since handoffd started. */
unsigned long long ho_ed25519_verify_sodium_checks(void);

/* ---- cache.c: client-role sessions to resume ------------------------- */

/* Longest server key (client.c): name, "@address:port", "#unverified",
 * "#ca=" and 16 hex digits. */
#define HO_CACHE_SERVER_KEY_MAX (255 + 1 + 64 + 11 + 20 + 1)

struct ho_client_cache;

/* A bounded cache (oldest entry evicted); capacity 0 disables it.
 * Thread-safe: workers store and fetch. */
struct ho_client_cache *ho_cache_new(unsigned capacity);
void ho_cache_free(struct ho_client_cache *c);
/* 1 unless the cache is missing or has capacity 0. */
int ho_cache_enabled(const struct ho_client_cache *c);
/* Stores (a copy of) session data for profile + server name. */
void ho_cache_put(struct ho_client_cache *c, const char *profile,
    const char *server, const gnutls_datum_t *data);
/* Puts the cached session for profile + server name on tls; returns 1
 * if there was one.  Entries stay until replaced by a newer session or
 * evicted: servers decide how often a ticket may be used. */
int ho_cache_apply(struct ho_client_cache *c, const char *profile,
    const char *server, gnutls_session_t tls);

/* ---- record_tail.c: TLS 1.0's chained IV ------------------------------ */

/* Follows one direction's TLS records and keeps the end of the last
 * encrypted handshake record (the Finished): TLS 1.0 CBC takes the next
 * record's IV from the previous record's last cipher block. */
struct ho_record_tail {
	uint8_t hdr[5];
	size_t hdr_have;  /* header bytes of the current record seen */
	size_t body_left; /* body bytes of the current record to come */
	int encrypted;    /* a ChangeCipherSpec went by */
	uint8_t win[64];  /* the current record's last body bytes */
	size_t win_len;
	uint8_t last[64]; /* same, of the last encrypted handshake record */
	size_t last_len;
};

void ho_record_tail_feed(struct ho_record_tail *t, const uint8_t *p, size_t n);
/* The last 16-byte cipher block of that record when its last `skip`
 * bytes (an encrypt-then-MAC tag) are left out.  Returns 0, or -1 if no
 * encrypted handshake record went by. */
int ho_record_tail_block(
    const struct ho_record_tail *t, size_t skip, uint8_t *block);

/* ---- finish_ahead.c: TLS 1.3 server handshakes in one round trip ----- */

struct ho_session;

/* What a server session keeps to write its client's Finished itself. */
struct ho_finish_ahead {
	int wanted;    /* the caller checks the real Finished (ONE_TRIP) */
	int ruled_out; /* not TLS 1.3, HelloRetryRequest, early data, ... */
	struct ho_buf transcript;  /* handshake messages, headers included */
	int last_was_our_finished; /* our flight is complete */
	uint8_t hs_secret[48];     /* client_handshake_traffic_secret */
	size_t hs_secret_len;
	uint8_t finished[4 + 48]; /* the client Finished fed to GnuTLS */
	size_t finished_len;      /* > 0 once fed: DONE hands it over */
};

/* From the handshake hook (after each message, both directions). */
void ho_finish_ahead_note(struct ho_finish_ahead *f, gnutls_session_t tls,
    unsigned htype, unsigned incoming, const gnutls_datum_t *body);
/* Two steps after all (early data offered, seen by handshake.c). */
void ho_finish_ahead_rule_out(struct ho_finish_ahead *f);
/* From the secret callback: the handshake-level read secret. */
void ho_finish_ahead_secret(
    struct ho_finish_ahead *f, const void *client_secret, size_t len);
/* When GnuTLS waits for the client's second flight and one trip applies:
 * appends the client's Finished record to s->in and returns 0; else -1
 * (the handshake goes on in two steps). */
int ho_finish_ahead_feed(struct ho_session *s);
void ho_finish_ahead_free(struct ho_finish_ahead *f);

/* ---- session.c -------------------------------------------------------- */

/* One handshake in progress. */
struct ho_session {
	uint8_t token[HO_PROTO_TOKEN_LEN];
	struct ho_session *next;            /* hash chain */
	const struct ho_profile *profile;   /* current: may change by SNI */
	const struct ho_profiles *profiles; /* all, for SNI selection */
	gnutls_session_t tls;               /* NULL until the first step */
	int output_ahead; /* TLS 1.3 server: the caller takes a ServerHello
	                     ahead of the reply (HO_F_OUTPUT_AHEAD) */
	/* Set by requests.c while a first step runs with nothing else to do:
	 * sends the ServerHello ahead of the reply (HS_AHEAD); 0 if sent. */
	int (*send_ahead)(void *arg, const void *buf, size_t len);
	void *send_ahead_arg;
	struct ho_buf in;        /* peer bytes GnuTLS has not read */
	struct ho_buf out;       /* bytes GnuTLS wrote for the peer */
	uint8_t secret_read[64]; /* TLS 1.3 application secrets */
	uint8_t secret_write[64];
	size_t secret_len;
	char verify_reason[160];    /* why a peer's certificate failed */
	uint16_t peer_record_limit; /* peer's record_size_limit, 0 = none */
	struct ho_record_tail tail_in, tail_out; /* for TLS 1.0 CBC IVs */
	struct ho_finish_ahead finish; /* server role: one round trip */
	unsigned key_ops;              /* private-key operations performed */
	uint64_t last_used_ms;
	int busy;               /* a worker owns the session */
	struct ho_early *early; /* a request that came while busy, or NULL */
	int abandoned;          /* free it when the worker is done */

	/* client role (set by the loop thread before the first step) */
	int role;                /* HO_ROLE_SERVER or HO_ROLE_CLIENT */
	char server_name[256];   /* host to verify and send as SNI, or "" */
	char peer[64];           /* the server's "address:port", or "" */
	int no_verify;           /* the caller turned verification off */
	int awaiting_ticket;     /* TLS 1.3 client: done, waits for a ticket */
	struct ho_buf trust_pem; /* the caller's own CAs, until verified */
	int caller_cas;          /* the caller sent CAs, or their digest */
	uint8_t trust_digest[32]; /* the CAs' SHA-256, as handoffd made it */
	unsigned verify_status;   /* GNUTLS_CERT_* from our own check */
	unsigned ca_parsed;       /* CA files parsed this step (stats) */
	struct ho_client_cache *cache;
	struct ho_trust_cache *trust_cache; /* parsed trust_pem files */
	struct ho_trust *held_trust; /* the caller sent only the digest */
};

/* How long a finished TLS 1.3 client session waits for the server's
 * NewSessionTicket (relayed by the caller) before it is dropped. */
#define HO_TICKET_WAIT_MS 10000

struct ho_session_table {
	struct ho_session **buckets;
	size_t nbuckets; /* power of two */
	unsigned count;
};

int ho_sessions_init(struct ho_session_table *t, unsigned expected);
/* Creates a session with a fresh random token and inserts it. */
struct ho_session *ho_session_new(
    struct ho_session_table *t, const struct ho_profile *profile);
/* Finds by token (constant-time comparison); NULL if none. */
struct ho_session *ho_session_find(
    struct ho_session_table *t, const uint8_t *token);
/* Unlinks and frees (wiping its buffers and GnuTLS state). */
void ho_session_destroy(struct ho_session_table *t, struct ho_session *s);
/* Destroys idle sessions older than timeout; returns how many. */
unsigned ho_sessions_expire(
    struct ho_session_table *t, uint64_t now_ms, uint64_t timeout_ms);
void ho_sessions_free(struct ho_session_table *t);

/* ---- handshake.c (runs on worker threads) ----------------------------- */

enum ho_step_outcome {
	HO_STEP_CONTINUE, /* reply sent, session waits for more input */
	HO_STEP_DONE,     /* keys handed over, session must be destroyed */
	HO_STEP_FAILED,   /* error sent, session must be destroyed */
	HO_STEP_CLOSED    /* post-handshake work over (a ticket relayed) */
};

/* What one step produced; reply is the whole frame to send back. */
struct ho_step_result {
	enum ho_step_outcome outcome;
	struct ho_proto_buf reply;
	int resumed;
	int one_trip;       /* DONE after one step: the caller checks the
	                     * client's Finished (finish_ahead.c) */
	int keep;           /* DONE, but the session waits for a ticket */
	int ticket_stored;  /* CLOSED: a relayed ticket is now cached */
	unsigned key_ops;   /* private-key operations this step */
	unsigned ca_parsed; /* caller CA files parsed this step */
	char reason[48];    /* failure reason for stats, "" if none */
};

/* The handshake's global settings: the session-ticket lifetime (each
 * profile has its own ticket key). */
int ho_handshake_global_init(
    unsigned ticket_lifetime_s, char *err, size_t errlen);
void ho_handshake_global_free(void);

/*
 * Feeds input to the session's handshake and builds the reply.  Creates
 * the GnuTLS session on the first step.  Never touches the table.
 */
void ho_handshake_step(struct ho_session *s, const uint8_t *input,
    size_t input_len, const struct ho_proto_msg *req,
    struct ho_step_result *res);

/* Frees the session's GnuTLS state (worker or loop thread). */
void ho_handshake_free(struct ho_session *s);

/* The reply frame helpers shared with client.c. */
void ho_step_begin_reply(
    struct ho_step_result *res, int type, const struct ho_proto_msg *req);
void ho_step_fail_text(struct ho_step_result *res, int code, const char *text,
    const struct ho_proto_msg *req);

/* ---- client.c (worker threads): the client role ----------------------- */

/* Sets up a client session: SNI, ALPN, verification, resumption. */
int ho_client_setup(struct ho_session *s);
/* Why the server's certificate was refused, in words, into buf; 0 if
 * the failure was not a verification failure. */
int ho_client_verify_reason(struct ho_session *s, char *buf, size_t len);
/* After a client handshake: stores TLS 1.2 session data in the cache
 * and says whether the session must wait for a TLS 1.3 ticket. */
int ho_client_finished(struct ho_session *s);
/* Feeds a NewSessionTicket the caller relayed; stores the session. */
void ho_client_ticket(struct ho_session *s, const uint8_t *msg, size_t len,
    const struct ho_proto_msg *req, struct ho_step_result *res);

/* ---- keyops.c (worker threads): key-only offload --------------------- */

/* Replaces reply with an ERROR of code and text (printf-like). */
void ho_reply_fail(struct ho_proto_buf *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The profile a stateless request (KEY_INFO, SIGN, VERIFY) names, or
 * NULL with the error in reply. */
const struct ho_profile *ho_request_profile(const struct ho_profiles *ps,
    const struct ho_proto_msg *req, struct ho_proto_buf *reply);
/* Whether a request type is KEY_INFO or SIGN: stateless, answered by
 * ho_keyops_answer outside the daemon's lock. */
int ho_keyops_is_request(int type);
/* Builds the reply to req (a SIGNATURE, a KEY_INFO_REPLY or an ERROR;
 * the caller adds REQUEST_ID and finishes it).  Returns 1 if the
 * profile's key signed. */
int ho_keyops_answer(const struct ho_profiles *ps,
    const struct ho_proto_msg *req, struct ho_proto_buf *reply);

/* ---- trust_cache.c: callers' CA files, parsed once --------------------- */

struct ho_trust_cache;
struct ho_trust;

/* Thread-safe. */
struct ho_trust_cache *ho_trust_cache_new(void);
void ho_trust_cache_free(struct ho_trust_cache *c);
/* The trust list of pem (len bytes, SHA-256 digest), parsed now or
 * earlier; *parsed says which.  NULL if it holds no certificate (or
 * memory ran out).  Give it back with ho_trust_release. */
struct ho_trust *ho_trust_get(struct ho_trust_cache *c, const uint8_t *pem,
    size_t len, const uint8_t *digest, int *parsed);
/* The file of digest if it is kept (a reference, as above), else NULL. */
struct ho_trust *ho_trust_find(
    struct ho_trust_cache *c, const uint8_t *digest);
gnutls_x509_trust_list_t ho_trust_list(const struct ho_trust *t);
void ho_trust_release(struct ho_trust_cache *c, struct ho_trust *t);

/* ---- verify.c (worker threads): chains verified on request ---------- */

struct ho_verify_cache;

/* Results of capacity chains (0: none kept).  Thread-safe. */
struct ho_verify_cache *ho_verify_cache_new(unsigned capacity);
void ho_verify_cache_free(struct ho_verify_cache *c);
/* Builds the reply to a VERIFY request (a VERIFY_REPLY or an ERROR; the
 * caller adds REQUEST_ID and finishes it).  Returns 1 if the cache
 * answered. */
int ho_verify_answer(const struct ho_profiles *ps,
    struct ho_verify_cache *cache, const struct ho_proto_msg *req,
    struct ho_proto_buf *reply);
/* GNUTLS_CERT_* status in words into buf ("unknown issuer (...); host
 * name mismatch (it is not valid for "host")"); its length. */
size_t ho_verify_status_words(
    unsigned status, const char *host, char *buf, size_t len);

/* ---- hello_ahead.c: a TLS 1.3 ServerHello sent ahead of the reply ---- */

/* What ho_hello_ahead_send needs of the request a step runs. */
struct ho_hello_ahead {
	int sock;                       /* handoffd's nanomsg socket */
	void *const *control;           /* the request's routing header */
	const struct ho_proto_msg *req; /* for its REQUEST_ID */
	int sent;                       /* set once it went */
};
/* A session's send_ahead: bytes to the caller as an HS_AHEAD reply to
 * the request (arg: struct ho_hello_ahead).  0 if sent. */
int ho_hello_ahead_send(void *arg, const void *buf, size_t len);
/* Whether no request waits in nanomsg's queue (rcv_fd: its NN_RCVFD). */
int ho_hello_ahead_idle(int rcv_fd);

/* ---- server.c --------------------------------------------------------- */

struct ho_daemon;

/* Binds the socket and sets up the loop's signals and timers.  Returns 0
 * or -1 (logged); *out is set either way, for ho_server_free. */
int ho_server_start(struct ho_daemon **out, uv_loop_t *loop,
    const struct ho_config *cfg, const struct ho_profiles *profiles,
    const char *listen_url);
/* Starts count threads that receive and answer requests (after any
 * privilege drop: they serve as soon as they run), and logs how many and
 * why (what chose the count).  0 or -1 (logged). */
int ho_server_start_workers(struct ho_daemon *d, int count, const char *why);
/* After uv_run returns: stops the workers and closes everything. */
void ho_server_free(struct ho_daemon *d);
/* Makes ho_server_free leave the socket open (and its file in place):
 * nanomsg aborts the process when it cannot remove the file. */
void ho_server_keep_socket_file(struct ho_daemon *d);
/* For tests and the dispatch fuzz target: handles one request frame as
 * if a worker had received it with routing header control (a nanomsg
 * message, taken), step and all, on the calling thread. */
void ho_server_feed(
    struct ho_daemon *d, void *control, const uint8_t *frame, size_t len);
/* Steps claimed and not yet finished. */
unsigned ho_server_inflight(struct ho_daemon *d);
/* For tests: while hold is 1, a worker that has run a step and sent its
 * reply waits before the step's bookkeeping (the session stays busy). */
void ho_server_hold_steps(struct ho_daemon *d, int hold);

#endif /* HANDOFFD_H */
