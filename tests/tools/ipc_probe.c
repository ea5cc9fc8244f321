/*
 * ipc_probe.c - speaks the raw wire protocol to a running handoffd, for
 * the robustness tests.
 *
 *   ipc_probe URL malformed N     N malformed frames: each must get an
 *                                 ERROR with HANDOFF_EPROTO; then PING
 *   ipc_probe URL fill N          N sessions opened with empty input, then
 *                                 one more START must get HANDOFF_EBUSY
 *   ipc_probe URL bad-token       STEP with a random token: ESESSION
 *   ipc_probe URL expired SECS    START, wait SECS, STEP: ESESSION with
 *                                 the very words bad-token gets
 *   ipc_probe URL abort           START, ABORT (OK), STEP (ESESSION)
 *   ipc_probe URL sizes           PINGs padded to the largest frame (PONG)
 *                                 and one byte over it (EPROTO), then PING
 *   ipc_probe URL late-step PID LOG
 *                                 START, SIGTERM to PID, and once LOG says
 *                                 it is stopping, 500 ms later a STEP:
 *                                 ESHUTDOWN
 *   ipc_probe URL sign-hostile EC CLOSED RSA ED
 *                                 SIGN and KEY_INFO requests that must be
 *                                 refused, each with its code (EC, RSA,
 *                                 ED: ECDSA P-256, RSA and Ed25519
 *                                 profiles with allow_sign, CLOSED: one
 *                                 without), a PING after each; and good
 *                                 SIGNs, whose signatures must verify
 *                                 with the certificate's key
 *   ipc_probe URL ca-digest     client STARTs naming their CAs by a
 *                                 digest: one of 31 bytes (EPROTO), one
 *                                 handoffd never computed (HS_NEED_CAS:
 *                                 no session without the file), a PING
 *                                 after each
 *   ipc_probe URL verify-hostile PROFILE
 *                                 VERIFY requests with malformed chains
 *                                 or fields, each refused with its code
 *                                 and a PING after it
 *
 * Exits 0 when the daemon behaved, 1 with a message when it did not.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "handoff.h"
#include "proto.h"

static const char *url;

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "ipc_probe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static int
open_req(void)
{
	int s = nn_socket(AF_SP, NN_REQ), ms = 2000;
	if (s < 0 || nn_connect(s, url) < 0)
		die("cannot connect to %s", url);
	nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &ms, sizeof(ms));
	nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &ms, sizeof(ms));
	return s;
}

/* One request, one reply (parsed into *m; *raw must be nn_freemsg'd). */
static void
exchange(
    int s, const void *buf, size_t len, struct ho_proto_msg *m, void **raw)
{
	if (nn_send(s, buf, len, 0) < 0)
		die("send failed: %s", nn_strerror(nn_errno()));
	int n = nn_recv(s, raw, NN_MSG, 0);
	if (n < 0)
		die("no reply within 2 s: %s", nn_strerror(nn_errno()));
	int err = ho_proto_parse(*raw, (size_t)n, m);
	if (err != 0)
		die("unparsable reply: %s", ho_proto_strerror(err));
}

static void
expect_error(
    const struct ho_proto_msg *m, uint32_t code, char *text, size_t textlen)
{
	uint32_t got = 0;
	if (m->type != HO_MSG_ERROR ||
	    ho_proto_get_u32(m, HO_F_ERROR_CODE, &got) != 0 || got != code) {
		fprintf(stderr, "ipc_probe: expected %s, got %s %s\n",
		    handoff_err_name((int)code), ho_proto_msg_name(m->type),
		    handoff_err_name((int)got));
		exit(1);
	}
	if (text != NULL &&
	    ho_proto_get_str(m, HO_F_ERROR_TEXT, text, textlen) != 0)
		die("%s error without text", handoff_err_name((int)code));
}

static void
send_built(int s, struct ho_proto_buf *b, struct ho_proto_msg *m, void **raw)
{
	if (ho_proto_finish(b) != 0)
		die("cannot build request: %s", ho_proto_strerror(b->err));
	exchange(s, b->buf, b->len, m, raw);
	ho_proto_buf_free(b);
}

/* The daemon still answers a PING after what went before. */
static void
ping_ok(int s, const char *after)
{
	struct ho_proto_buf b;
	struct ho_proto_msg m;
	void *raw;
	ho_proto_begin(&b, HO_MSG_PING);
	send_built(s, &b, &m, &raw);
	if (m.type != HO_MSG_PONG) {
		fprintf(stderr, "ipc_probe: PING after %s got %s\n", after,
		    ho_proto_msg_name(m.type));
		exit(1);
	}
	nn_freemsg(raw);
}

/* A client START naming its CAs by a digest of len bytes: the reply. */
static void
start_with_digest(int s, size_t len, struct ho_proto_msg *m, void **raw)
{
	uint8_t digest[33];
	struct ho_proto_buf b;
	gnutls_rnd(GNUTLS_RND_NONCE, digest, sizeof(digest));
	ho_proto_begin(&b, HO_MSG_HS_START);
	ho_proto_put_u8(&b, HO_F_ROLE, HO_ROLE_CLIENT);
	ho_proto_put_str(&b, HO_F_SERVER_NAME, "localhost");
	ho_proto_put(&b, HO_F_TRUST_DIGEST, digest, len);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, 7);
	send_built(s, &b, m, raw);
}

static void
ca_digest(int s)
{
	struct ho_proto_msg m;
	void *raw;
	start_with_digest(s, 31, &m, &raw);
	expect_error(&m, HANDOFF_EPROTO, NULL, 0);
	nn_freemsg(raw);
	ping_ok(s, "a 31-byte CA digest");
	start_with_digest(s, 32, &m, &raw);
	uint64_t id = 0;
	if (m.type != HO_MSG_HS_NEED_CAS || m.f[HO_F_TOKEN].present ||
	    ho_proto_get_u64(&m, HO_F_REQUEST_ID, &id) != 0 || id != 7)
		die("a CA digest handoffd never computed was answered %s",
		    ho_proto_msg_name(m.type));
	nn_freemsg(raw);
	ping_ok(s, "an unknown CA digest");
	printf("a malformed CA digest refused (EPROTO); an unknown one asked "
	       "for its file, no session\n");
}

/* START with empty input; returns the session token. */
static void
start(int s, uint8_t *token)
{
	struct ho_proto_buf b;
	struct ho_proto_msg m;
	void *raw;
	ho_proto_begin(&b, HO_MSG_HS_START);
	ho_proto_put(&b, HO_F_INPUT, "", 0);
	send_built(s, &b, &m, &raw);
	if (m.type != HO_MSG_HS_CONTINUE || !m.f[HO_F_TOKEN].present)
		die("START answered %s, not continue",
		    ho_proto_msg_name(m.type));
	memcpy(token, m.f[HO_F_TOKEN].ptr, HO_PROTO_TOKEN_LEN);
	nn_freemsg(raw);
}

static void
step(int s, const uint8_t *token, uint32_t code, char *text, size_t textlen)
{
	struct ho_proto_buf b;
	struct ho_proto_msg m;
	void *raw;
	ho_proto_begin(&b, HO_MSG_HS_STEP);
	ho_proto_put(&b, HO_F_TOKEN, token, HO_PROTO_TOKEN_LEN);
	ho_proto_put(&b, HO_F_INPUT, "\x16\x03\x01\x00", 4);
	send_built(s, &b, &m, &raw);
	expect_error(&m, code, text, textlen);
	nn_freemsg(raw);
}

/* Whether the file at path holds needle (read whole, small logs only). */
static int
file_has(const char *path, const char *needle)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* A profile's key as KEY_INFO gives it: ID and the leaf's public key. */
struct probe_key {
	const char *profile;
	uint8_t id[32];
	gnutls_pubkey_t pub;
};

static void
key_info(int s, const char *profile, struct probe_key *k)
{
	struct ho_proto_buf b;
	struct ho_proto_msg m;
	void *raw;
	ho_proto_begin(&b, HO_MSG_KEY_INFO);
	ho_proto_put_str(&b, HO_F_PROFILE, profile);
	send_built(s, &b, &m, &raw);
	const struct ho_proto_field *c = &m.f[HO_F_CERT_CHAIN];
	if (m.type != HO_MSG_KEY_INFO_REPLY || !c->present || c->len < 4 ||
	    m.f[HO_F_KEY_ID].len != 32)
		die("KEY_INFO on %s: no chain or key ID", profile);
	gnutls_datum_t der = {(unsigned char *)c->ptr + 3,
	    (unsigned)(c->ptr[0] << 16 | c->ptr[1] << 8 | c->ptr[2])};
	gnutls_x509_crt_t crt;
	if (der.size > c->len - 3 || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_pubkey_init(&k->pub) < 0 ||
	    gnutls_pubkey_import_x509(k->pub, crt, 0) < 0)
		die("KEY_INFO on %s: the leaf does not parse", profile);
	gnutls_x509_crt_deinit(crt);
	memcpy(k->id, m.f[HO_F_KEY_ID].ptr, 32);
	k->profile = profile;
	nn_freemsg(raw);
}

/* A SIGN request (fields left out where NULL / negative) and the code
 * its answer must carry, 0 for a signature that verifies. */
struct sign_case {
	const char *what;
	const struct probe_key *key;
	const char *algo;
	int hashed;
	long flags;
	size_t input_len; /* (size_t)-1: no INPUT */
	uint32_t code;
	const uint8_t *input; /* NULL: 0x11 bytes */
	int bad_id;           /* send another key's ID */
};

static void
sign_case(int s, const struct sign_case *c)
{
	static uint8_t filler[70000];
	memset(filler, 0x11, sizeof(filler));
	const uint8_t *input = c->input ? c->input : filler;
	struct ho_proto_buf b;
	struct ho_proto_msg m;
	void *raw;
	uint8_t id[32];
	memcpy(id, c->key->id, sizeof(id));
	id[0] ^= (uint8_t)c->bad_id;
	ho_proto_begin(&b, HO_MSG_SIGN);
	if (c->key->profile != NULL)
		ho_proto_put_str(&b, HO_F_PROFILE, c->key->profile);
	ho_proto_put(&b, HO_F_KEY_ID, id, sizeof(id));
	if (c->algo != NULL)
		ho_proto_put_str(&b, HO_F_SIGN_ALGO, c->algo);
	if (c->hashed >= 0)
		ho_proto_put_u8(&b, HO_F_HASHED, (uint8_t)c->hashed);
	if (c->flags >= 0)
		ho_proto_put_u32(&b, HO_F_SIGN_FLAGS, (uint32_t)c->flags);
	if (c->input_len != (size_t)-1)
		ho_proto_put(&b, HO_F_INPUT, input, c->input_len);
	send_built(s, &b, &m, &raw);
	if (c->code == 0) {
		const struct ho_proto_field *o = &m.f[HO_F_OUTPUT];
		gnutls_datum_t sig = {(unsigned char *)o->ptr, o->len};
		gnutls_datum_t in = {
		    (unsigned char *)input, (unsigned)c->input_len};
		gnutls_sign_algorithm_t algo = gnutls_sign_get_id(c->algo);
		if (m.type != HO_MSG_SIGNATURE || !o->present)
			die("%s: no signature", c->what);
		int ret = c->hashed ? gnutls_pubkey_verify_hash2(
		                          c->key->pub, algo, 0, &in, &sig)
		                    : gnutls_pubkey_verify_data2(
		                          c->key->pub, algo, 0, &in, &sig);
		if (ret < 0)
			die("%s: the signature does not verify with the "
			    "certificate's key",
			    c->what);
		printf("%s: signed, verified\n", c->what);
	} else {
		char text[HO_PROTO_MAX_TEXT + 1];
		uint32_t got = 0;
		if (m.type != HO_MSG_ERROR ||
		    ho_proto_get_u32(&m, HO_F_ERROR_CODE, &got) != 0 ||
		    got != c->code)
			die("%s: not refused with the right code", c->what);
		expect_error(&m, c->code, text, sizeof(text));
		printf(
		    "%s: %s: %s\n", c->what, handoff_err_name((int)got), text);
	}
	nn_freemsg(raw);
	ping_ok(s, c->what);
}

static void
sign_hostile(int s, const char *ec_name, const char *closed_name,
    const char *rsa_name, const char *ed_name)
{
	struct probe_key ec, rsa, ed, none = {NULL, {0}, NULL},
	                              unknown = {"no-such-profile", {0}, NULL};
	struct probe_key closed = {closed_name, {0}, NULL};
	key_info(s, ec_name, &ec);
	key_info(s, rsa_name, &rsa);
	key_info(s, ed_name, &ed);
	const size_t no = (size_t)-1;
	/* A DigestInfo of SHA-256, and one of MD5 (not allowed). */
	static uint8_t sha256_info[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
	    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
	    0x04, 0x20};
	static const uint8_t md5_info[34] = {0x30, 0x20, 0x30, 0x0c, 0x06,
	    0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00,
	    0x04, 0x10};
	const struct sign_case cases[] = {
	    {"no profile", &none, "ECDSA-SHA256", 1, 0, 32, HANDOFF_EPROTO,
	        NULL, 0},
	    {"unknown profile", &unknown, "ECDSA-SHA256", 1, 0, 32,
	        HANDOFF_EPROFILE, NULL, 0},
	    {"profile without allow_sign", &closed, "ECDSA-SHA256", 1, 0, 32,
	        HANDOFF_EPERM, NULL, 0},
	    {"another key's ID", &ec, "ECDSA-SHA256", 1, 0, 32,
	        HANDOFF_EPROFILE, NULL, 1},
	    {"no algorithm", &ec, NULL, 1, 0, 32, HANDOFF_EPROTO, NULL, 0},
	    {"no input", &ec, "ECDSA-SHA256", 1, 0, no, HANDOFF_EPROTO, NULL,
	        0},
	    {"unknown algorithm", &ec, "ECDSA-SHA999", 1, 0, 32,
	        HANDOFF_EINVAL, NULL, 0},
	    {"algorithm of another key kind", &ec, "RSA-PSS-RSAE-SHA256", 1, 0,
	        32, HANDOFF_EINVAL, NULL, 0},
	    {"RSA-RAW on an ECDSA key", &ec, "RSA-RAW", 1, 0, 36,
	        HANDOFF_EINVAL, NULL, 0},
	    {"hash too short", &ec, "ECDSA-SHA256", 1, 0, 31, HANDOFF_EINVAL,
	        NULL, 0},
	    {"hash too long", &ec, "ECDSA-SHA256", 1, 0, 33, HANDOFF_EINVAL,
	        NULL, 0},
	    {"empty hash", &ec, "ECDSA-SHA256", 1, 0, 0, HANDOFF_EINVAL, NULL,
	        0},
	    {"data too long", &ec, "ECDSA-SHA256", 0, 0, 65537, HANDOFF_EINVAL,
	        NULL, 0},
	    {"unknown flags", &ec, "ECDSA-SHA256", 1, 1 << 4, 32,
	        HANDOFF_EINVAL, NULL, 0},
	    {"an algorithm the profile's priorities leave out", &ec,
	        "ECDSA-SHA3-256", 1, 0, 32, HANDOFF_EPERM, NULL, 0},
	    {"RSA-RAW over bytes that are no DigestInfo", &rsa, "RSA-RAW", 1,
	        0, 51, HANDOFF_EINVAL, NULL, 0},
	    {"RSA-RAW over 128 bytes", &rsa, "RSA-RAW", 1, 0, 128,
	        HANDOFF_EINVAL, NULL, 0},
	    {"RSA-RAW unhashed", &rsa, "RSA-RAW", 0, 0, 51, HANDOFF_EINVAL,
	        sha256_info, 0},
	    {"RSA-RAW over an MD5 DigestInfo", &rsa, "rsa-raw", 1, 0, 34,
	        HANDOFF_EINVAL, md5_info, 0},
	    {"EdDSA given a hash", &ed, "EdDSA-Ed25519", 1, 0, 64,
	        HANDOFF_EINVAL, NULL, 0},
	    {"good hash", &ec, "ECDSA-SHA256", 1, -1, 32, 0, NULL, 0},
	    {"good message", &ec, "ECDSA-SECP256R1-SHA256", 0, 0, 130, 0, NULL,
	        0},
	    {"good RSA-PSS hash", &rsa, "RSA-PSS-RSAE-SHA256", 1, 0, 32, 0,
	        NULL, 0},
	    {"good Ed25519 message", &ed, "EdDSA-Ed25519", 0, 0, 130, 0, NULL,
	        0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		sign_case(s, &cases[i]);
	const char *kinfo[2] = {closed_name, NULL};
	uint32_t kcode[2] = {HANDOFF_EPERM, HANDOFF_EPROTO};
	for (int i = 0; i < 2; i++) {
		struct ho_proto_buf b;
		struct ho_proto_msg m;
		void *raw;
		ho_proto_begin(&b, HO_MSG_KEY_INFO);
		if (kinfo[i] != NULL)
			ho_proto_put_str(&b, HO_F_PROFILE, kinfo[i]);
		send_built(s, &b, &m, &raw);
		expect_error(&m, kcode[i], NULL, 0);
		nn_freemsg(raw);
	}
	gnutls_pubkey_deinit(ec.pub);
	gnutls_pubkey_deinit(rsa.pub);
	gnutls_pubkey_deinit(ed.pub);
	printf("hostile sign requests refused, good ones signed and "
	       "verified; ping ok\n");
}

/* One VERIFY request with chain (len bytes; NULL: no chain field) that
 * must be refused with code. */
static void
verify_refused(int s, const char *what, const char *profile,
    const uint8_t *chain, size_t len, uint32_t code)
{
	struct ho_proto_buf b;
	struct ho_proto_msg m;
	void *raw;
	char text[HO_PROTO_MAX_TEXT + 1];
	ho_proto_begin(&b, HO_MSG_VERIFY);
	ho_proto_put_str(&b, HO_F_PROFILE, profile);
	if (chain != NULL)
		ho_proto_put(&b, HO_F_PEER_CHAIN, chain, len);
	send_built(s, &b, &m, &raw);
	uint32_t got = 0;
	if (m.type != HO_MSG_ERROR ||
	    ho_proto_get_u32(&m, HO_F_ERROR_CODE, &got) != 0 || got != code)
		die("%s: not refused with the right code", what);
	expect_error(&m, code, text, sizeof(text));
	printf("%s: %s: %s\n", what, handoff_err_name((int)got), text);
	nn_freemsg(raw);
	ping_ok(s, what);
}

static void
verify_hostile(int s, const char *profile)
{
	static uint8_t chain[17 * 4];
	/* 17 entries of one byte each: too many, and not DER either. */
	for (int i = 0; i < 17; i++)
		memcpy(chain + 4 * i, "\x00\x00\x01\x30", 4);
	verify_refused(s, "no chain", profile, NULL, 0, HANDOFF_EPROTO);
	verify_refused(s, "unknown profile", "no-such-profile", chain, 4,
	    HANDOFF_EPROFILE);
	verify_refused(s, "empty chain", profile, chain, 0, HANDOFF_EINVAL);
	verify_refused(
	    s, "one byte, not DER", profile, chain, 4, HANDOFF_EINVAL);
	verify_refused(s, "17 certificates", profile, chain, sizeof(chain),
	    HANDOFF_EINVAL);
	verify_refused(s, "length past the end", profile,
	    (const uint8_t *)"\x00\x10\x00\x30\x82", 5, HANDOFF_EINVAL);
	verify_refused(s, "zero length", profile,
	    (const uint8_t *)"\x00\x00\x00", 3, HANDOFF_EINVAL);
	verify_refused(s, "truncated length", profile,
	    (const uint8_t *)"\x00\x01", 2, HANDOFF_EINVAL);
	printf("hostile verify requests refused; ping ok\n");
}

/* Malformed frame number i (many kinds, cycling). */
static size_t
malformed(unsigned i, uint8_t *buf, size_t cap)
{
	static const uint8_t good[] = {
	    'H', 'O', 'F', 'F', 1, HO_MSG_PING, 0, 0};
	memcpy(buf, good, sizeof(good));
	size_t len = sizeof(good);
	switch (i % 10) {
	case 0: /* random bytes */
		len = 1 + (size_t)rand() % (cap - 1);
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rand();
		buf[0] = 'X';
		return len;
	case 1: return 3;                  /* truncated header */
	case 2: buf[0] = 'h'; return len;  /* bad magic */
	case 3: buf[4] = 9; return len;    /* unknown version */
	case 4: buf[5] = 0x7f; return len; /* unknown type */
	case 5: buf[7] = 1; return len;    /* flags */
	case 6:                            /* field past the end */
		memcpy(buf + len, "\x00\x04\x00\x00\x10\x00xx", 8);
		return len + 8;
	case 7: /* unknown field */
		memcpy(buf + len, "\x00\x63\x00\x00\x00\x01x", 7);
		return len + 7;
	case 8: /* token of the wrong size */
		memcpy(buf + len,
		    "\x00\x01\x00\x00\x00\x03"
		    "abc",
		    9);
		return len + 9;
	default: /* a reply type sent as a request */
		buf[5] = HO_MSG_PONG;
		return len;
	}
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		    "usage: ipc_probe URL malformed N | fill N | "
		    "bad-token | expired SECS | abort | sizes | "
		    "late-step PID LOG | sign-hostile EC CLOSED RSA ED | "
		    "verify-hostile PROFILE\n");
		return 2;
	}
	url = argv[1];
	const char *cmd = argv[2];
	int s = open_req();
	struct ho_proto_msg m;
	void *raw;
	uint8_t token[HO_PROTO_TOKEN_LEN];
	char text[HO_PROTO_MAX_TEXT + 1], text2[HO_PROTO_MAX_TEXT + 1];

	if (strcmp(cmd, "malformed") == 0 && argc == 4) {
		static uint8_t buf[4096];
		unsigned n = (unsigned)atoi(argv[3]);
		srand(42);
		for (unsigned i = 0; i < n; i++) {
			size_t len = malformed(i, buf, sizeof(buf));
			exchange(s, buf, len, &m, &raw);
			expect_error(&m, HANDOFF_EPROTO, NULL, 0);
			nn_freemsg(raw);
		}
		ping_ok(s, "malformed frames");
		printf("%u malformed frames refused with HANDOFF_EPROTO; ping "
		       "ok\n",
		    n);
	} else if (strcmp(cmd, "fill") == 0 && argc == 4) {
		int n = atoi(argv[3]);
		for (int i = 0; i < n; i++)
			start(s, token);
		struct ho_proto_buf b;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ho_proto_begin(&b, HO_MSG_HS_START);
		ho_proto_put(&b, HO_F_INPUT, "", 0);
		send_built(s, &b, &m, &raw);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		expect_error(&m, HANDOFF_EBUSY, text, sizeof(text));
		nn_freemsg(raw);
		printf("%d sessions open; the next START was refused busy in "
		       "%.1f ms: %s\n",
		    n,
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		        (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		    text);
	} else if (strcmp(cmd, "ca-digest") == 0) {
		ca_digest(s);
	} else if (strcmp(cmd, "bad-token") == 0) {
		gnutls_rnd(GNUTLS_RND_NONCE, token, sizeof(token));
		step(s, token, HANDOFF_ESESSION, text, sizeof(text));
		printf("%s\n", text);
	} else if (strcmp(cmd, "expired") == 0 && argc == 4) {
		start(s, token);
		sleep((unsigned)atoi(argv[3]));
		step(s, token, HANDOFF_ESESSION, text, sizeof(text));
		gnutls_rnd(GNUTLS_RND_NONCE, token, sizeof(token));
		step(s, token, HANDOFF_ESESSION, text2, sizeof(text2));
		if (strcmp(text, text2) != 0)
			die("expired and unknown tokens get different words: "
			    "%s",
			    text);
		printf("expired token refused with the same words as an "
		       "unknown one\n");
	} else if (strcmp(cmd, "abort") == 0) {
		start(s, token);
		struct ho_proto_buf b;
		ho_proto_begin(&b, HO_MSG_HS_ABORT);
		ho_proto_put(&b, HO_F_TOKEN, token, sizeof(token));
		send_built(s, &b, &m, &raw);
		if (m.type != HO_MSG_OK)
			die("ABORT answered %s", ho_proto_msg_name(m.type));
		nn_freemsg(raw);
		step(s, token, HANDOFF_ESESSION, text, sizeof(text));
		printf("aborted session is gone\n");
	} else if (strcmp(cmd, "sizes") == 0) {
		/* A PING padded to len bytes with two byte fields that PING
		 * ignores (one may hold at most HO_PROTO_MAX_BYTES): header
		 * 8, each field header 6. */
		static uint8_t buf[HO_PROTO_MAX_MSG + 1];
		size_t sizes[] = {HO_PROTO_MAX_MSG, HO_PROTO_MAX_MSG + 1};
		for (int i = 0; i < 2; i++) {
			size_t len = sizes[i], half = (len - 20) / 2;
			size_t n[2] = {half, len - 20 - half};
			unsigned type[2] = {HO_F_INPUT, HO_F_OUTPUT};
			memcpy(buf, "HOFF\x01", 5);
			buf[5] = HO_MSG_PING;
			buf[6] = buf[7] = 0;
			size_t off = 8;
			for (int f = 0; f < 2; f++) {
				buf[off] = (uint8_t)(type[f] >> 8);
				buf[off + 1] = (uint8_t)type[f];
				for (int k = 0; k < 4; k++)
					buf[off + 2 + k] =
					    (uint8_t)(n[f] >> (24 - 8 * k));
				memset(buf + off + 6, 'x', n[f]);
				off += 6 + n[f];
			}
			exchange(s, buf, len, &m, &raw);
			if (i == 0 && m.type != HO_MSG_PONG)
				die("a frame of the largest size got %s",
				    ho_proto_msg_name(m.type));
			if (i == 1)
				expect_error(&m, HANDOFF_EPROTO, NULL, 0);
			nn_freemsg(raw);
		}
		ping_ok(s, "the big frames");
		printf("largest frame answered, one byte more refused with "
		       "HANDOFF_EPROTO; ping ok\n");
	} else if (strcmp(cmd, "late-step") == 0 && argc == 5) {
		/* A caller whose peer answers slowly: its next step comes
		 * after handoffd's receive timeout (200 ms) has passed with
		 * nothing queued. */
		start(s, token);
		if (kill((pid_t)atoi(argv[3]), SIGTERM) != 0)
			die("cannot signal handoffd %s", argv[3]);
		for (int i = 0; !file_has(argv[4], "refusing new sessions");
		     i++) {
			if (i == 1000)
				die("%s never said it is stopping", argv[4]);
			usleep(10000);
		}
		usleep(500000);
		step(s, token, HANDOFF_ESHUTDOWN, text, sizeof(text));
		printf("a step 500 ms into the shutdown heard: %s\n", text);
	} else if (strcmp(cmd, "verify-hostile") == 0 && argc == 4) {
		verify_hostile(s, argv[3]);
	} else if (strcmp(cmd, "sign-hostile") == 0 && argc == 7) {
		sign_hostile(s, argv[3], argv[4], argv[5], argv[6]);
	} else {
		fprintf(stderr, "ipc_probe: bad command\n");
		return 2;
	}
	nn_close(s);
	return 0;
}
