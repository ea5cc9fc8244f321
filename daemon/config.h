/*
 * config.h - handoffd's configuration: the INI file and its defaults.
 *
 * The file has one [daemon] section and any number of [profile NAME]
 * sections.  Parsing is strict: an unknown section or key, a bad value or
 * a duplicate profile stops the daemon at start with FILE:LINE: reason.
 */
#ifndef HANDOFFD_CONFIG_H
#define HANDOFFD_CONFIG_H

#include <stddef.h>

#define HO_MAX_PROFILES 64
#define HO_PROFILE_NAME_MAX 64
#define HO_MAX_ALPN 8
#define HO_MAX_SERVER_NAMES 32

enum ho_client_auth {
	HO_CLIENT_AUTH_NONE = 0,
	HO_CLIENT_AUTH_REQUEST,
	HO_CLIENT_AUTH_REQUIRE
};

enum ho_key_backend {
	HO_KEY_BACKEND_AUTO = 0, /* fastkey.c: RSA, ECDSA, Ed25519 keys */
	HO_KEY_BACKEND_GNUTLS
};

/* What handoffd's threads run under (scheduling.c says why). */
enum ho_scheduling {
	HO_SCHEDULING_BATCH = 0, /* SCHED_BATCH, unless started otherwise */
	HO_SCHEDULING_NORMAL     /* whatever it was started with */
};

/* Who does a piece of GnuTLS's crypto that handoffd can do faster:
 * X25519 (kx_backend, x25519.c), SHA-384/512 blocks (hash_backend,
 * sha512.c) or ECDSA P-256 and Ed25519 signature checks (verify_backend,
 * ecdsa_verify.c, ed25519_verify.c). */
enum ho_backend {
	HO_BACKEND_AUTO = 0, /* handoffd's: libsodium, libcrypto */
	HO_BACKEND_GNUTLS    /* GnuTLS's own, in nettle */
};

enum ho_log_level {
	HO_LOG_ERROR = 0,
	HO_LOG_WARNING,
	HO_LOG_INFO,
	HO_LOG_DEBUG
};

/* One [profile NAME] section.  Paths are as written in the file. */
struct ho_profile_config {
	char name[HO_PROFILE_NAME_MAX];
	/* PEM chain (leaf first) and its private key: both or neither.
	 * Needed to serve; optional to connect (a client certificate). */
	char *certificate;
	char *key;
	char *priority;          /* GnuTLS priority string, NULL = default */
	char *alpn[HO_MAX_ALPN]; /* protocols in preference order */
	int alpn_count;
	/* SNI names that select this profile: exact, or "*.example.com"
	 * for exactly one more label. */
	char *server_names[HO_MAX_SERVER_NAMES];
	int server_name_count;
	enum ho_client_auth client_auth;
	/* PEM CA file: verifies client certificates (server role) and
	 * servers (client role; the system's CAs when absent). */
	char *trust;
	char *crl; /* PEM CRL file checked with trust, or NULL */
	enum ho_key_backend key_backend; /* who signs with the key */
	/* Programs using handoff_gnutls.h may have the key sign what they
	 * choose (daemon/keyops.c); off unless the operator says yes. */
	int allow_sign;
	int line; /* line of the section header, for messages */
};

struct ho_config {
	char *listen;                   /* nanomsg URL, NULL = default path */
	int workers;                    /* 0 = number of CPUs */
	enum ho_scheduling scheduling;  /* policy of every thread */
	enum ho_backend kx_backend;     /* X25519 */
	enum ho_backend hash_backend;   /* SHA-384/512 blocks */
	enum ho_backend verify_backend; /* P-256 and Ed25519 checks */
	unsigned session_timeout_ms;    /* idle session lifetime */
	unsigned max_sessions;          /* open sessions before "busy" */
	enum ho_log_level log_level;
	char *user; /* drop to this user after start, or NULL */
	/* Lifetime of the session tickets handoffd issues; GnuTLS derives
	 * a fresh ticket key from the daemon's master key every 3x this. */
	unsigned ticket_lifetime_s;
	/* Client role: resumable sessions kept per (profile, server). */
	unsigned client_cache_size;
	/* Certificate chains' verification results kept (verify.c). */
	unsigned verify_cache_size;
	struct ho_profile_config profiles[HO_MAX_PROFILES];
	int profile_count;
};

#define HO_DEFAULT_SESSION_TIMEOUT_MS 30000
#define HO_DEFAULT_MAX_SESSIONS 10000
#define HO_DEFAULT_TICKET_LIFETIME_S 3600
#define HO_DEFAULT_CLIENT_CACHE_SIZE 1024
#define HO_DEFAULT_VERIFY_CACHE_SIZE 1024
/* TLS 1.3 and 1.2, only the AEADs the caller's record layer runs, and in
 * TLS 1.2 only ECDHE key exchange (RSA key transport is opt-in). */
#define HO_DEFAULT_PRIORITY                                                   \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-"    \
	"GCM:"                                                                \
	"+AES-256-GCM:+CHACHA20-POLY1305:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

/* Fills cfg with the built-in defaults (no profiles). */
void ho_config_defaults(struct ho_config *cfg);

/*
 * Reads an INI file into cfg (which holds defaults already).  Returns 0,
 * or -1 with "FILE:LINE: reason" (or "FILE: reason") written to err.
 */
int ho_config_load(
    struct ho_config *cfg, const char *path, char *err, size_t errlen);

/* Checks cross-field rules (certificate and key come together, trust
 * is set when client_auth is not none).  Returns 0 or -1 with err filled. */
int ho_config_check(
    const struct ho_config *cfg, const char *path, char *err, size_t errlen);

/* Frees every string the config owns and zeroes it. */
void ho_config_free(struct ho_config *cfg);

/* Parses "none|request|require" etc.; -1 if not one of them. */
int ho_config_parse_client_auth(const char *s);
int ho_config_parse_log_level(const char *s);
int ho_config_parse_scheduling(const char *s);
int ho_config_parse_backend(const char *s);

#endif /* HANDOFFD_CONFIG_H */
