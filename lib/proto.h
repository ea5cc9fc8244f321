/*
 * proto.h - the wire format spoken between libhandoff and handoffd.
 *
 * Every nanomsg message is one frame: an 8-byte header (magic "HOFF",
 * protocol version, message type, flags) followed by TLV fields (16-bit
 * type, 32-bit length, value).  The parser is strict: unknown versions,
 * message types and field types, duplicate fields, truncated or oversized
 * frames and fields whose length does not fit their kind are all refused
 * with an error code.  This file is shared by the library and the daemon
 * and is never installed.  No message type carries a private key.
 */
#ifndef HANDOFF_PROTO_H
#define HANDOFF_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define HO_PROTO_MAGIC "HOFF"
#define HO_PROTO_VERSION 1
#define HO_PROTO_HEADER_LEN 8
#define HO_PROTO_FIELD_HEADER_LEN 6
/* Whole frame: room for a large handshake flight plus a certificate chain. */
#define HO_PROTO_MAX_MSG (256 * 1024)
#define HO_PROTO_MAX_BYTES (128 * 1024) /* one bytes-valued field */
#define HO_PROTO_MAX_STR 255            /* one string-valued field */
#define HO_PROTO_MAX_TEXT (64 * 1024)   /* free text such as stats */
#define HO_PROTO_TOKEN_LEN 16

/* Message types.  Requests go library -> daemon, replies come back. */
#define HO_PROTO_MSG_MAP(X)                                                   \
	X(PING, 1, "ping")                                                    \
	X(STATS, 2, "stats")                                                  \
	X(HS_START, 3, "handshake start")                                     \
	X(HS_STEP, 4, "handshake step")                                       \
	X(HS_ABORT, 5, "handshake abort")                                     \
	X(HS_TICKET, 6, "session ticket")                                     \
	X(KEY_INFO, 7, "key info")                                            \
	X(SIGN, 8, "sign")                                                    \
	X(VERIFY, 9, "verify")                                                \
	X(PONG, 64, "pong")                                                   \
	X(STATS_REPLY, 65, "stats reply")                                     \
	X(HS_CONTINUE, 66, "handshake continue")                              \
	X(HS_DONE, 67, "handshake done")                                      \
	X(ERROR, 68, "error")                                                 \
	X(OK, 69, "ok")                                                       \
	X(KEY_INFO_REPLY, 70, "key info reply")                               \
	X(SIGNATURE, 71, "signature")                                         \
	X(VERIFY_REPLY, 72, "verify reply")                                   \
	X(HS_NEED_CAS, 73, "handshake needs the CA file")                     \
	X(HS_AHEAD, 74, "handshake output ahead")

enum ho_proto_msg_type {
#define X(name, num, text) HO_MSG_##name = num,
	HO_PROTO_MSG_MAP(X)
#undef X
};

/* Value kinds decide which lengths a field may have. */
enum ho_proto_kind {
	HO_KIND_U8,    /* exactly 1 byte */
	HO_KIND_U16,   /* exactly 2 bytes, big endian */
	HO_KIND_U32,   /* exactly 4 bytes, big endian */
	HO_KIND_U64,   /* exactly 8 bytes, big endian */
	HO_KIND_TOKEN, /* exactly HO_PROTO_TOKEN_LEN bytes */
	HO_KIND_STR,   /* 1..HO_PROTO_MAX_STR bytes, no NUL */
	HO_KIND_TEXT,  /* 0..HO_PROTO_MAX_TEXT bytes, no NUL */
	HO_KIND_BYTES, /* 0..HO_PROTO_MAX_BYTES bytes */
	HO_KIND_SECRET /* 1..64 bytes: keys, IVs, traffic secrets */
};

/*
 * Field types: X(name, number, kind).  Numbers are dense from 1 so that a
 * parsed message is a plain array indexed by field number.
 */
#define HO_PROTO_FIELD_MAP(X)                                                 \
	X(TOKEN, 1, HO_KIND_TOKEN)    /* session token */                     \
	X(PROFILE, 2, HO_KIND_STR)    /* profile name */                      \
	X(ROLE, 3, HO_KIND_U8)        /* HO_ROLE_* */                         \
	X(INPUT, 4, HO_KIND_BYTES)    /* bytes from the peer */               \
	X(OUTPUT, 5, HO_KIND_BYTES)   /* bytes for the peer */                \
	X(LEFTOVER, 6, HO_KIND_BYTES) /* peer bytes after the handshake */    \
	X(VERSION, 7, HO_KIND_U16)    /* TLS version, 0x0304 */               \
	X(SUITE, 8, HO_KIND_U16)      /* IANA cipher suite number */          \
	X(READ_KEY, 9, HO_KIND_SECRET)                                        \
	X(READ_IV, 10, HO_KIND_SECRET)                                        \
	X(READ_SEQ, 11, HO_KIND_U64)                                          \
	X(READ_SECRET, 12, HO_KIND_SECRET)                                    \
	X(WRITE_KEY, 13, HO_KIND_SECRET)                                      \
	X(WRITE_IV, 14, HO_KIND_SECRET)                                       \
	X(WRITE_SEQ, 15, HO_KIND_U64)                                         \
	X(WRITE_SECRET, 16, HO_KIND_SECRET)                                   \
	X(ALPN, 17, HO_KIND_STR)         /* negotiated protocol */            \
	X(SERVER_NAME, 18, HO_KIND_STR)  /* SNI from the ClientHello */       \
	X(RESUMED, 19, HO_KIND_U8)       /* 1 if resumed */                   \
	X(RECORD_LIMIT, 20, HO_KIND_U16) /* peer's plaintext limit */         \
	X(ERROR_CODE, 21, HO_KIND_U32)   /* a HANDOFF_E* number */            \
	X(ERROR_TEXT, 22, HO_KIND_TEXT)  /* what went wrong, in words */      \
	X(DAEMON_VERSION, 23, HO_KIND_STR)                                    \
	X(UPTIME_MS, 24, HO_KIND_U64)                                         \
	X(STATS_TEXT, 25, HO_KIND_TEXT)  /* "name value" lines */             \
	X(REQUEST_ID, 26, HO_KIND_U64)   /* echoed back in the reply */       \
	X(PEER_CHAIN, 27, HO_KIND_BYTES) /* (u24 len, DER)*, leaf first */    \
	X(NO_VERIFY, 28, HO_KIND_U8)     /* client: 1 = skip verification */  \
	X(TRUST_PEM, 29, HO_KIND_BYTES)  /* client: the caller's CAs, PEM */  \
	X(ETM, 30, HO_KIND_U8)           /* CBC: 1 = encrypt-then-MAC */      \
	X(READ_MAC_KEY, 31, HO_KIND_SECRET) /* CBC suites' HMAC keys */       \
	X(WRITE_MAC_KEY, 32, HO_KIND_SECRET)                                  \
	X(PEER, 33, HO_KIND_STR) /* client: server address "host:port" */     \
	/* TLS 1.3 server in one trip (daemon/finish_ahead.c): the caller     \
	 * asks, and checks the client's Finished against PEER_FINISHED       \
	 * under keys from HS_READ_SECRET. */                                 \
	X(ONE_TRIP, 34, HO_KIND_U8)                                           \
	X(PEER_FINISHED, 35, HO_KIND_SECRET)                                  \
	X(HS_READ_SECRET, 36, HO_KIND_SECRET)                                 \
	/* Key-only offload (handoff_gnutls.h, daemon/keyops.c). */           \
	X(CERT_CHAIN, 37, HO_KIND_BYTES)  /* (u24 len, DER)*, leaf first */   \
	X(SIGN_ALGO, 38, HO_KIND_STR)     /* GnuTLS's name for it */          \
	X(SIGN_FLAGS, 39, HO_KIND_U32)    /* GNUTLS_PRIVKEY_SIGN_FLAG_* */    \
	X(HASHED, 40, HO_KIND_U8)         /* 1: INPUT is a hash */            \
	X(VERIFY_STATUS, 41, HO_KIND_U32) /* GNUTLS_CERT_*, 0 = trusted */    \
	X(CACHED, 42, HO_KIND_U8)         /* 1: a result handoffd kept */     \
	X(KEY_ID, 43, HO_KIND_SECRET)     /* the profile key's SHA-256 ID */  \
	/* client: instead of TRUST_PEM, the SHA-256 of a CA file handoffd    \
	 * holds (daemon/trust_cache.c); HS_NEED_CAS if it does not. */       \
	X(TRUST_DIGEST, 44, HO_KIND_SECRET)                                   \
	/* TLS 1.3 server: the caller writes a ServerHello that handoffd      \
	 * sends ahead of its reply (HS_AHEAD, OUTPUT), before the signature  \
	 * is made (daemon/hello_ahead.c). */                                 \
	X(OUTPUT_AHEAD, 45, HO_KIND_U8)

enum ho_proto_field_type {
#define X(name, num, kind) HO_F_##name = num,
	HO_PROTO_FIELD_MAP(X)
#undef X
	    HO_F_COUNT /* one past the highest field number */
};

enum ho_role { HO_ROLE_SERVER = 1, HO_ROLE_CLIENT = 2 };

/* Parser and builder errors, all negative. */
#define HO_PROTO_ERR_MAP(X)                                                   \
	X(TRUNCATED, -1, "message is truncated")                              \
	X(MAGIC, -2, "not a handoff message (bad magic)")                     \
	X(VERSION, -3, "unsupported protocol version")                        \
	X(TYPE, -4, "unknown message type")                                   \
	X(FIELD_TYPE, -5, "unknown field type")                               \
	X(FIELD_LEN, -6, "field length does not fit its type")                \
	X(DUPLICATE, -7, "field appears twice")                               \
	X(TOO_BIG, -8, "message is larger than the protocol allows")          \
	X(FLAGS, -9, "unknown flags set")                                     \
	X(NOMEM, -10, "out of memory")                                        \
	X(MISSING, -11, "a required field is missing")

enum ho_proto_err {
#define X(name, num, text) HO_PROTO_E_##name = num,
	HO_PROTO_ERR_MAP(X)
#undef X
};

/* One field of a parsed message: points into the parsed buffer. */
struct ho_proto_field {
	const uint8_t *ptr;
	uint32_t len;
	int present;
};

/* A parsed message.  Valid only while the parsed buffer lives. */
struct ho_proto_msg {
	uint8_t type;
	uint16_t flags;
	struct ho_proto_field f[HO_F_COUNT];
};

/*
 * Parses buf[0..len).  Returns 0 and fills *msg, or a negative
 * HO_PROTO_E_* code.  Never reads outside the buffer.
 */
int ho_proto_parse(const uint8_t *buf, size_t len, struct ho_proto_msg *msg);

/* Text for a HO_PROTO_E_* code; never NULL. */
const char *ho_proto_strerror(int err);
/* Name of a message type, or "unknown". */
const char *ho_proto_msg_name(int type);

/* Typed readers: return 0 if the field is present (and well formed). */
int ho_proto_get_u8(const struct ho_proto_msg *m, int field, uint8_t *v);
int ho_proto_get_u16(const struct ho_proto_msg *m, int field, uint16_t *v);
int ho_proto_get_u32(const struct ho_proto_msg *m, int field, uint32_t *v);
int ho_proto_get_u64(const struct ho_proto_msg *m, int field, uint64_t *v);
/* Copies a STR/TEXT field into out (NUL-terminated); -1 if absent/too long. */
int ho_proto_get_str(
    const struct ho_proto_msg *m, int field, char *out, size_t outcap);

/*
 * A message being built.  The builder owns buf; call ho_proto_buf_free()
 * (which wipes it: frames may hold session keys) when done.  After any
 * failed put the buffer is marked failed and ho_proto_finish() reports it,
 * so callers may chain puts and check once.
 */
struct ho_proto_buf {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err; /* first error, 0 if none */
};

void ho_proto_begin(struct ho_proto_buf *b, int type);
void ho_proto_put(
    struct ho_proto_buf *b, int field, const void *p, size_t len);
void ho_proto_put_u8(struct ho_proto_buf *b, int field, uint8_t v);
void ho_proto_put_u16(struct ho_proto_buf *b, int field, uint16_t v);
void ho_proto_put_u32(struct ho_proto_buf *b, int field, uint32_t v);
void ho_proto_put_u64(struct ho_proto_buf *b, int field, uint64_t v);
void ho_proto_put_str(struct ho_proto_buf *b, int field, const char *s);
/*
 * Certificate chains in PEER_CHAIN and CERT_CHAIN fields: each
 * certificate's DER after its 3-byte big-endian length, leaf first, as
 * TLS writes them.  ho_proto_chain_add appends one to chain (a struct
 * ho_buf, buf.h): 0, or -1 (out of memory, empty or over 2^24 bytes).
 * ho_proto_chain_next reads the certificate at *pos: 1 with *der and
 * *len and *pos past it, 0 at the end, -1 if what is left is not one (a
 * truncated length, a length past the end, or 0).
 */
struct ho_buf;
int ho_proto_chain_add(struct ho_buf *chain, const void *der, size_t len);
int ho_proto_chain_next(const uint8_t *chain, size_t chain_len, size_t *pos,
    const uint8_t **der, size_t *len);

/* Returns 0 if the message was built without error, else the error. */
int ho_proto_finish(struct ho_proto_buf *b);
void ho_proto_buf_free(struct ho_proto_buf *b);

#endif /* HANDOFF_PROTO_H */
