/*
 * make_seeds.c - writes the seed corpora: for fuzz_proto one valid frame
 * of each message type with typical fields, and a few broken ones
 * (make_seeds DIR: tests/fuzz/corpus/proto came from it); for fuzz_record
 * a stream of valid records per suite under the fuzzer's fixed keys
 * (make_seeds --record DIR: tests/fuzz/corpus/record).
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "record_keys.h"

static void
save(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		return;
	}
	fwrite(p, 1, n, f);
	fclose(f);
}

static void
save_msg(const char *dir, const char *name, struct ho_proto_buf *b)
{
	if (ho_proto_finish(b) == 0)
		save(dir, name, b->buf, b->len);
	ho_proto_buf_free(b);
}

/* Appends one sealed record to out; returns the new length. */
static size_t
seal(struct ho_rec *w, uint8_t type, const void *p, size_t n, uint8_t *out,
    size_t len, size_t cap)
{
	size_t got = 0;
	if (ho_rec_seal(w, type, p, n, 0, out + len, cap - len, &got) != 0)
		return len;
	return len + got;
}

static int
record_seeds(const char *dir)
{
	static uint8_t stream[3 * HO_REC_MAX_RECORD], big[16384];
	memset(big, 'b', sizeof(big));
	for (unsigned i = 0; i < FUZZ_SUITE_COUNT; i++) {
		struct ho_rec w;
		if (fuzz_record_setup(&w, i, HO_REC_WRITE) != 0)
			return 1;
		size_t n = 0;
		stream[n++] = (uint8_t)i;
		n = seal(&w, HO_CT_APPLICATION_DATA, "hello", 5, stream, n,
		    sizeof(stream));
		if (w.version == HO_TLS13) { /* KeyUpdate, then the new key */
			uint8_t ku[5] = {24, 0, 0, 1, 0};
			n = seal(&w, HO_CT_HANDSHAKE, ku, 5, stream, n,
			    sizeof(stream));
			ho_rec_update(&w, HO_REC_WRITE);
		}
		n = seal(&w, HO_CT_APPLICATION_DATA, big, sizeof(big), stream,
		    n, sizeof(stream));
		uint8_t alert[2] = {1, 0};
		n = seal(&w, HO_CT_ALERT, alert, 2, stream, n, sizeof(stream));
		char name[32];
		snprintf(name, sizeof(name), "suite%u", i);
		save(dir, name, stream, n);
		ho_rec_clear(&w);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "--record") == 0)
		return record_seeds(argv[2]);
	const char *dir = argc > 1 ? argv[1] : ".";
	uint8_t token[16], key[32], hello[300];
	memset(token, 0x5a, sizeof(token));
	memset(key, 0x42, sizeof(key));
	memset(hello, 0x16, sizeof(hello));
	struct ho_proto_buf b;

	ho_proto_begin(&b, HO_MSG_PING);
	save_msg(dir, "ping", &b);
	ho_proto_begin(&b, HO_MSG_STATS);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, 1);
	save_msg(dir, "stats", &b);
	ho_proto_begin(&b, HO_MSG_HS_START);
	ho_proto_put_str(&b, HO_F_PROFILE, "default");
	ho_proto_put_u8(&b, HO_F_ROLE, HO_ROLE_SERVER);
	ho_proto_put(&b, HO_F_INPUT, hello, sizeof(hello));
	save_msg(dir, "start", &b);
	ho_proto_begin(&b, HO_MSG_HS_STEP);
	ho_proto_put(&b, HO_F_TOKEN, token, sizeof(token));
	ho_proto_put(&b, HO_F_INPUT, hello, 64);
	save_msg(dir, "step", &b);
	ho_proto_begin(&b, HO_MSG_HS_ABORT);
	ho_proto_put(&b, HO_F_TOKEN, token, sizeof(token));
	save_msg(dir, "abort", &b);
	ho_proto_begin(&b, HO_MSG_HS_DONE);
	ho_proto_put_u16(&b, HO_F_VERSION, 0x0304);
	ho_proto_put_u16(&b, HO_F_SUITE, 0x1301);
	ho_proto_put(&b, HO_F_READ_KEY, key, 16);
	ho_proto_put(&b, HO_F_READ_IV, key, 12);
	ho_proto_put_u64(&b, HO_F_READ_SEQ, 0);
	ho_proto_put(&b, HO_F_READ_SECRET, key, 32);
	ho_proto_put(&b, HO_F_WRITE_KEY, key, 16);
	ho_proto_put(&b, HO_F_WRITE_IV, key, 12);
	ho_proto_put_u64(&b, HO_F_WRITE_SEQ, 2);
	ho_proto_put(&b, HO_F_WRITE_SECRET, key, 32);
	ho_proto_put_str(&b, HO_F_ALPN, "h2");
	ho_proto_put_str(&b, HO_F_SERVER_NAME, "localhost");
	ho_proto_put_u8(&b, HO_F_RESUMED, 0);
	ho_proto_put_u16(&b, HO_F_RECORD_LIMIT, 16385);
	save_msg(dir, "done", &b);
	ho_proto_begin(&b, HO_MSG_ERROR);
	ho_proto_put_u32(&b, HO_F_ERROR_CODE, 9);
	ho_proto_put_str(&b, HO_F_ERROR_TEXT, "TLS handshake failed");
	ho_proto_put(&b, HO_F_OUTPUT, "\x15\x03\x03\x00\x02\x02\x46", 7);
	save_msg(dir, "error", &b);
	ho_proto_begin(&b, HO_MSG_STATS_REPLY);
	ho_proto_put_str(&b, HO_F_STATS_TEXT, "open_sessions 0\n");
	save_msg(dir, "stats_reply", &b);

	save(dir, "bad_magic", "HOFX\x01\x01\x00\x00", 8);
	save(dir, "bad_version", "HOFF\x09\x01\x00\x00", 8);
	save(dir, "truncated_field",
	    "HOFF\x01\x03\x00\x00\x00\x04\x00\x00\x01", 13);
	return 0;
}
