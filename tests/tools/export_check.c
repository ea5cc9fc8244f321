/*
 * export_check.c - proves handoff_conn_export_keys() hands over keys
 * that really protect the connection.
 *
 *   export_check PORT DAEMON_URL
 *
 * Accepts one connection, completes the handshake through handoffd,
 * echoes one line with libhandoff, exports the keys, then stops using
 * libhandoff's connection: it opens the peer's next record itself with a
 * record layer keyed only from the exported struct, and seals its answer
 * the same way.  Prints what it saw; exits 0 only if both directions
 * worked and the export was refused before the handshake.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handoff.h"
#include "record.h"

static int
read_full(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
fail(const char *what, struct handoff_conn *c)
{
	printf("FAIL: %s%s%s\n", what, c ? ": " : "",
	    c ? handoff_conn_error(c) : "");
	return 1;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: export_check PORT DAEMON_URL\n");
		return 2;
	}
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, argv[2]);
	struct handoff_ctx *ctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ctx == NULL ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 1) != 0)
		return fail("listen", NULL);
	printf("listening\n");
	fflush(stdout);
	int fd = accept(lfd, NULL, NULL);
	struct handoff_conn *c = NULL;
	struct handoff_keys keys;
	if (fd < 0 || handoff_accept_socket(ctx, &c, fd) != 0)
		return fail("accept", NULL);
	if (handoff_conn_export_keys(c, &keys) != -1 ||
	    handoff_conn_errno(c) != HANDOFF_ESTATE)
		return fail("export before the handshake was not refused", c);
	if (handoff_handshake(c) != 0)
		return fail("handshake", c);
	char line[256];
	ssize_t n = handoff_read(c, line, sizeof(line));
	if (n <= 0 || handoff_write(c, line, (size_t)n) != n)
		return fail("echo through libhandoff", c);
	if (handoff_conn_export_keys(c, &keys) != 0)
		return fail("export", c);
	if (handoff_read(c, line, sizeof(line)) != -1)
		return fail("handoff_read still worked after export", NULL);
	printf("exported %s 0x%04x: read seq %llu, write seq %llu\n",
	    keys.version == 0x0304 ? "TLSv1.3" : "TLSv1.2", keys.cipher_suite,
	    (unsigned long long)keys.read.seq,
	    (unsigned long long)keys.write.seq);

	/* From here on only the exported keys protect the connection. */
	struct ho_rec rec;
	if (ho_rec_init(&rec, keys.version, keys.cipher_suite) != 0 ||
	    ho_rec_set_keys(&rec, HO_REC_READ, keys.read.key,
	        keys.read.key_len, keys.read.iv, keys.read.iv_len,
	        keys.read.secret_len ? keys.read.secret : NULL,
	        keys.read.secret_len, keys.read.seq) != 0 ||
	    ho_rec_set_keys(&rec, HO_REC_WRITE, keys.write.key,
	        keys.write.key_len, keys.write.iv, keys.write.iv_len,
	        keys.write.secret_len ? keys.write.secret : NULL,
	        keys.write.secret_len, keys.write.seq) != 0)
		return fail("exported keys do not fit the suite", NULL);
	explicit_bzero(&keys, sizeof(keys));
	static uint8_t buf[HO_REC_MAX_RECORD];
	uint8_t type, *plain;
	size_t plain_len, out_len;
	size_t body;
	do { /* skip nothing but application data */
		if (read_full(fd, buf, 5) != 0)
			return fail("reading the next record", NULL);
		body = (size_t)buf[3] << 8 | buf[4];
		if (body > HO_REC_MAX_BODY ||
		    read_full(fd, buf + 5, body) != 0)
			return fail("reading the next record", NULL);
		if (ho_rec_open(
		        &rec, buf, 5 + body, &type, &plain, &plain_len) != 0)
			return fail("the exported read key does not open the "
			            "peer's record",
			    NULL);
	} while (type != HO_CT_APPLICATION_DATA);
	printf("opened with exported keys: %.*s", (int)plain_len, plain);
	const char *msg = "sealed-with-exported-keys\n";
	if (ho_rec_seal(&rec, HO_CT_APPLICATION_DATA, (const uint8_t *)msg,
	        strlen(msg), 0, buf, sizeof(buf), &out_len) != 0 ||
	    write(fd, buf, out_len) != (ssize_t)out_len)
		return fail("sealing with the exported write key", NULL);
	sleep(1); /* let the peer read it before the socket closes */
	ho_rec_clear(&rec);
	handoff_conn_free(c);
	handoff_ctx_free(ctx);
	close(fd);
	printf("ok\n");
	return 0;
}
