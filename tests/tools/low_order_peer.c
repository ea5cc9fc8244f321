/*
 * low_order_peer.c - a TLS 1.3 peer whose X25519 key share is a point of
 * small order, against libhandoff in either role.  Any scalar times such
 * a point is the point at infinity, so the shared secret comes out all
 * zeros whatever the other side's key: a peer could force a secret it
 * knows.  RFC 8446 7.4.2 requires the all-zero check, which GnuTLS makes
 * on the bytes curve25519_mul() returns.  In handoffd that function is
 * daemon/x25519.c on libsodium, which refuses such a point with -1; the
 * stand-in then writes zeros, as nettle does, so that GnuTLS's check sees
 * them (Debian 12's libsodium writes them itself; a build that leaves the
 * output unwritten would hand GnuTLS whatever the buffer held).
 * tests/unit/test_x25519.c holds the bytes; this tool checks the refusal
 * end to end, through handoffd, on whichever backend it runs.
 *
 *   low_order_peer DAEMON_URL
 *
 * Server role: a real ClientHello (made by handoffd for a client-role
 * connection), its X25519 share replaced by each point of RFC 7748's
 * small-order list (tests/x25519_small_order.h), goes to a libhandoff server
 * connection on a socket pair.  handoff_handshake must fail, and the first
 * record on the wire must be a fatal alert, never a ServerHello. Client role:
 * a libhandoff client's ClientHello is answered with a ServerHello made here
 * that picks X25519 with each of those points: handoff_handshake must fail and
 * send a fatal alert. Controls, so that a refusal is the point's doing and not
 * the replay's: the ClientHello with its own share must get a ServerHello, and
 * a ServerHello with a random share must leave the client waiting for the
 * server's next flight.
 * Prints one line per case and exits 0 only if every case went as it
 * must.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../x25519_small_order.h"
#include "client_hello.h"
#include "handoff.h"

#define CASE_LIMIT_MS 10000
/* drive()'s result when CASE_LIMIT_MS passed: no handoff_handshake()
 * result, so no case takes it for one. */
#define TIMED_OUT 1000
#define X25519_GROUP 0x001d
#define KEY_SHARE_EXT 51
#define SUPPORTED_GROUPS_EXT 10

static void
from_hex(const char *hex, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Offsets into a ClientHello record: what a ServerHello must echo (its
 * legacy_session_id), its X25519 share's 32 bytes, and the other groups
 * it names, which the server role's cases hide. */
struct hello_fields {
	size_t session_id; /* offset of the length byte */
	size_t x25519;     /* offset of the 32-byte share */
	size_t others[8];  /* offsets of the other shares' group ids */
	unsigned nothers;
	size_t groups;    /* offset of supported_groups' list */
	unsigned ngroups; /* its length in groups */
};

/* Fills f from the ClientHello record h; -1 if h does not parse or has
 * no X25519 share. */
static int
parse_client_hello(const uint8_t *h, size_t len, struct hello_fields *f)
{
	/* record (5), handshake header (4), version (2), random (32) */
	size_t at = 5 + 4 + 2 + 32;
	memset(f, 0, sizeof(*f));
	if (len < at + 1 || h[0] != 22 || h[5] != 1)
		return -1;
	f->session_id = at;
	at += 1 + h[at];
	if (at + 2 > len)
		return -1;
	at += 2 + be16(h + at); /* cipher suites */
	if (at + 1 > len)
		return -1;
	at += 1 + h[at]; /* compression methods */
	if (at + 2 > len)
		return -1;
	size_t end = at + 2 + be16(h + at);
	if (end > len)
		return -1;
	for (at += 2; at + 4 <= end;) {
		unsigned type = be16(h + at), size = be16(h + at + 2);
		size_t body = at + 4;
		if (body + size > end)
			return -1;
		if (type == SUPPORTED_GROUPS_EXT && size >= 2) {
			f->groups = body + 2;
			f->ngroups = (size - 2) / 2;
		}
		if (type == KEY_SHARE_EXT) {
			/* past client_shares' length */
			size_t share = body + 2;
			while (share + 4 <= body + size) {
				unsigned group = be16(h + share);
				unsigned klen = be16(h + share + 2);
				if (share + 4 + klen > body + size)
					return -1;
				if (group == X25519_GROUP && klen == 32)
					f->x25519 = share + 4;
				else if (f->nothers < 8)
					f->others[f->nothers++] = share;
				share += 4 + klen;
			}
		}
		at = body + size;
	}
	return f->x25519 != 0 ? 0 : -1;
}

/* A TLS 1.3 ServerHello record for the ClientHello `ch`: TLS_AES_128_GCM
 * _SHA256, X25519 with the share `point`.  Returns its length. */
static size_t
server_hello(const uint8_t *ch, const struct hello_fields *f,
    const uint8_t point[32], uint8_t *out)
{
	size_t sid_len = ch[f->session_id];
	uint8_t *p = out + 5 + 4;
	*p++ = 3, *p++ = 3; /* legacy_version */
	for (int i = 0; i < 32; i++)
		*p++ = (uint8_t)rand(); /* random: anything but HRR's */
	*p++ = (uint8_t)sid_len;
	memcpy(p, ch + f->session_id + 1, sid_len);
	p += sid_len;
	*p++ = 0x13, *p++ = 0x01;            /* TLS_AES_128_GCM_SHA256 */
	*p++ = 0;                            /* compression: null */
	static const uint8_t ext[] = {0, 46, /* extensions' length */
	    0, 43, 0, 2, 3, 4,               /* supported_versions: TLS 1.3 */
	    0, 51, 0, 36, 0, 29, 0, 32};     /* key_share: X25519, 32 bytes */
	memcpy(p, ext, sizeof(ext));
	p += sizeof(ext);
	memcpy(p, point, 32);
	p += 32;
	size_t body = (size_t)(p - out) - 9;
	out[5] = 2; /* server_hello */
	out[6] = 0, out[7] = (uint8_t)(body >> 8), out[8] = (uint8_t)body;
	out[0] = 22, out[1] = 3, out[2] = 3;
	out[3] = (uint8_t)((body + 4) >> 8), out[4] = (uint8_t)(body + 4);
	return body + 9;
}

/* Drives c's handshake until it fails, completes, or has taken a step
 * in handoffd and waits on its socket for the peer again; returns the
 * last handoff_handshake() result, or TIMED_OUT. */
static int
drive(struct handoff_conn *c, int sock)
{
	int went_to_daemon = 0, r;
	for (long end = now_ms() + CASE_LIMIT_MS; now_ms() < end;) {
		r = handoff_handshake(c);
		if (r != HANDOFF_WANT_POLLIN && r != HANDOFF_WANT_POLLOUT)
			return r;
		int fd = handoff_conn_pollfd(c);
		if (fd != sock)
			went_to_daemon = 1;
		else if (went_to_daemon && r == HANDOFF_WANT_POLLIN)
			return r;
		struct pollfd p = {
		    fd, r == HANDOFF_WANT_POLLIN ? POLLIN : POLLOUT, 0};
		poll(&p, 1, 100);
	}
	return TIMED_OUT;
}

/* The group a ServerHello record's key_share names; -1 if none. */
static int
server_hello_group(const uint8_t *h, size_t len)
{
	/* record (5), handshake header (4), version (2), random (32) */
	size_t at = 5 + 4 + 2 + 32;
	if (len < at + 1)
		return -1;
	at += 1 + h[at] + 2 + 1; /* session id, cipher suite, compression */
	if (at + 2 > len)
		return -1;
	size_t end = at + 2 + be16(h + at);
	for (at += 2; at + 6 <= end && end <= len;
	     at += 4 + be16(h + at + 2)) {
		if (be16(h + at) == KEY_SHARE_EXT)
			return (int)be16(h + at + 4);
	}
	return -1;
}

/* What the peer side of the socket pair holds: a fatal alert, an X25519
 * ServerHello (not a HelloRetryRequest, which names no share), nothing,
 * or another first record; said in `out`. */
static void
describe_wire(int peer, char *out, size_t len, int *fatal_alert,
    int *x25519_server_hello)
{
	uint8_t buf[4096];
	ssize_t n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
	*fatal_alert = n >= 7 && buf[0] == 21 && buf[5] == 2;
	int hello = n >= 6 && buf[0] == 22 && buf[5] == 2;
	int group = hello ? server_hello_group(buf, (size_t)n) : -1;
	*x25519_server_hello = group == X25519_GROUP;
	if (n <= 0)
		snprintf(out, len, "nothing on the wire");
	else if (*fatal_alert)
		snprintf(out, len, "a fatal alert (%u) first", buf[6]);
	else if (hello)
		snprintf(out, len, "a ServerHello first, group 0x%04x",
		    (unsigned)group);
	else
		snprintf(out, len, "a record of type %u first", buf[0]);
}

/* Judges a case whose handshake stopped at r, prints its line, and frees
 * the connection and the socket pair.  A refusal is -1 with a fatal
 * alert first on the wire.  Otherwise the handshake must be waiting for
 * the peer; a server must have sent an X25519 ServerHello first (the
 * client sends no handshake record before the server's Finished).
 * Returns 1 if the case went as it must. */
static int
judge(int server, const char *what, struct handoff_conn *c, int r, int sv[2],
    int want_refusal)
{
	char wire[64];
	int fatal, x25519_hello;
	describe_wire(sv[1], wire, sizeof(wire), &fatal, &x25519_hello);
	int ok = want_refusal
	    ? r == -1 && fatal
	    : r == HANDOFF_WANT_POLLIN && (!server || x25519_hello);
	printf("%s role, %s: %s: handoff_handshake -> %d (%s), %s%s%s\n",
	    server ? "server" : "client", what, ok ? "ok" : "FAIL", r,
	    r == -1              ? handoff_err_name(handoff_conn_errno(c))
	        : r == TIMED_OUT ? "timed out"
	                         : "waiting",
	    wire, r == -1 ? ": " : "", r == -1 ? handoff_conn_error(c) : "");
	handoff_conn_free(c);
	close(sv[0]);
	close(sv[1]);
	return ok;
}

static struct handoff_ctx *
new_ctx(const char *url)
{
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, url);
	handoff_config_insecure_noverifycert(cfg);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	return ctx;
}

/* One server-role case: the ClientHello `ch` to a libhandoff server.
 * Returns 1 if it went as it must. */
static int
server_case(struct handoff_ctx *ctx, const uint8_t *ch, size_t len,
    const char *what, int want_refusal)
{
	int sv[2];
	struct handoff_conn *c = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0 ||
	    handoff_accept_socket(ctx, &c, sv[0]) != 0 ||
	    send(sv[1], ch, len, 0) != (ssize_t)len) {
		printf("server role, %s: FAIL: cannot set up\n", what);
		return 0;
	}
	return judge(1, what, c, drive(c, sv[0]), sv, want_refusal);
}

/* One client-role case: a libhandoff client answered with a ServerHello
 * whose X25519 share is `point`.  Returns 1 if it went as it must. */
static int
client_case(struct handoff_ctx *ctx, const uint8_t point[32], const char *what,
    int want_refusal)
{
	int sv[2];
	struct handoff_conn *c = NULL;
	uint8_t ch[16384], sh[512];
	struct hello_fields f;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0 ||
	    handoff_connect_socket(ctx, &c, sv[0], "localhost") != 0) {
		printf("client role, %s: FAIL: cannot set up\n", what);
		return 0;
	}
	int r = drive(c, sv[0]);
	ssize_t n = recv(sv[1], ch, sizeof(ch), MSG_DONTWAIT);
	if (r != HANDOFF_WANT_POLLIN || n <= 0 ||
	    parse_client_hello(ch, (size_t)n, &f) != 0) {
		printf("client role, %s: FAIL: no ClientHello with an X25519 "
		       "share (%d: %s)\n",
		    what, r, handoff_conn_error(c));
		handoff_conn_free(c);
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	size_t len = server_hello(ch, &f, point, sh);
	send(sv[1], sh, len, 0);
	return judge(0, what, c, drive(c, sv[0]), sv, want_refusal);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: low_order_peer DAEMON_URL\n");
		return 2;
	}
	srand((unsigned)now_ms());
	struct handoff_ctx *ctx = new_ctx(argv[1]);
	uint8_t hello[16384], point[32];
	struct hello_fields f;
	ssize_t n =
	    ctx != NULL ? daemon_client_hello(ctx, hello, sizeof(hello)) : -1;
	if (n <= 0 || parse_client_hello(hello, (size_t)n, &f) != 0) {
		printf("FAIL: no ClientHello with an X25519 share from the "
		       "daemon\n");
		handoff_ctx_free(ctx);
		return 1;
	}
	/* handoffd's ClientHello offers P-256 first (GnuTLS's default
	 * order), which a server takes.  So that it takes X25519, every
	 * other group, in the list and in the shares, becomes a GREASE
	 * value (RFC 8701), which a server skips. */
	for (unsigned i = 0; i < f.nothers; i++)
		hello[f.others[i]] = 0x0a, hello[f.others[i] + 1] = 0x0a;
	for (unsigned i = 0; i < f.ngroups; i++) {
		uint8_t *g = hello + f.groups + 2 * i;
		if (be16(g) != X25519_GROUP)
			g[0] = 0x0a, g[1] = 0x0a;
	}
	int failed = 0;
	failed += !server_case(ctx, hello, (size_t)n, "its own share", 0);
	for (size_t i = 0; i < X25519_SMALL_ORDER_POINTS; i++) {
		char what[96];
		snprintf(what, sizeof(what), "share %.8s...",
		    x25519_small_order_points[i]);
		from_hex(x25519_small_order_points[i], point);
		memcpy(hello + f.x25519, point, 32);
		failed += !server_case(ctx, hello, (size_t)n, what, 1);
	}
	for (int i = 0; i < 32; i++)
		point[i] = (uint8_t)rand();
	failed += !client_case(ctx, point, "a random share", 0);
	for (size_t i = 0; i < X25519_SMALL_ORDER_POINTS; i++) {
		char what[96];
		snprintf(what, sizeof(what), "share %.8s...",
		    x25519_small_order_points[i]);
		from_hex(x25519_small_order_points[i], point);
		failed += !client_case(ctx, point, what, 1);
	}
	handoff_ctx_free(ctx);
	return failed == 0 ? 0 : 1;
}
