/*
 * handoffctl.c - ask a running handoffd how it is: `ping` and `stats`.
 *
 * One request, one reply, over a cooked REQ socket with a deadline, so a
 * missing or wedged daemon is reported instead of waited on forever.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "handoff.h"
#include "paths.h"
#include "proto.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: handoffctl [-d|--daemon URL] [-t|--timeout MS] "
	    "ping|stats\n"
	    "The URL defaults to $%s, else the daemon's default "
	    "path.  See handoffctl(8).\n",
	    HANDOFF_DAEMON_ENV);
}

/* Sends one request and waits for its reply.  Returns the reply length
 * and *reply (free with nn_freemsg), or -1 after printing why. */
static int
exchange(const char *url, int timeout_ms, int type, void **reply)
{
	char err[512];
	if (ho_ipc_check(url, err, sizeof(err)) != 0) {
		fprintf(stderr, "handoffctl: %s\n", err);
		return -1;
	}
	int s = nn_socket(AF_SP, NN_REQ);
	if (s < 0) {
		fprintf(stderr, "handoffctl: nn_socket: %s\n",
		    nn_strerror(nn_errno()));
		return -1;
	}
	nn_setsockopt(
	    s, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
	nn_setsockopt(
	    s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
	if (nn_connect(s, url) < 0) {
		fprintf(stderr, "handoffctl: cannot connect to %s: %s\n", url,
		    nn_strerror(nn_errno()));
		nn_close(s);
		return -1;
	}
	struct ho_proto_buf b;
	ho_proto_begin(&b, type);
	int n = -1;
	if (ho_proto_finish(&b) == 0 && nn_send(s, b.buf, b.len, 0) >= 0)
		n = nn_recv(s, reply, NN_MSG, 0);
	if (n < 0)
		fprintf(stderr,
		    "handoffctl: no reply from handoffd at %s within %d ms "
		    "(%s): is it running, and may this user use its socket?\n",
		    url, timeout_ms, nn_strerror(nn_errno()));
	ho_proto_buf_free(&b);
	nn_close(s);
	return n;
}

static int
check_reply(const struct ho_proto_msg *m, int want)
{
	if (m->type == want)
		return 0;
	char text[HO_PROTO_MAX_TEXT + 1] = "no reason given";
	uint32_t code = 0;
	ho_proto_get_u32(m, HO_F_ERROR_CODE, &code);
	ho_proto_get_str(m, HO_F_ERROR_TEXT, text, sizeof(text));
	fprintf(stderr, "handoffctl: handoffd answered %s: %s (%s)\n",
	    ho_proto_msg_name(m->type), text, handoff_err_name((int)code));
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"daemon", required_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	char url[1024] = "";
	int timeout_ms = 2000, c;
	const char *env = getenv(HANDOFF_DAEMON_ENV);
	if (env != NULL && env[0] != '\0')
		snprintf(url, sizeof(url), "%s", env);
	else
		handoff_default_daemon_url(url, sizeof(url));
	while ((c = getopt_long(argc, argv, "d:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': snprintf(url, sizeof(url), "%s", optarg); break;
		case 't':
			timeout_ms = atoi(optarg);
			if (timeout_ms <= 0) {
				fprintf(stderr,
				    "handoffctl: --timeout takes "
				    "a positive number of ms\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	int type, want;
	if (strcmp(cmd, "ping") == 0) {
		type = HO_MSG_PING;
		want = HO_MSG_PONG;
	} else if (strcmp(cmd, "stats") == 0) {
		type = HO_MSG_STATS;
		want = HO_MSG_STATS_REPLY;
	} else {
		fprintf(stderr, "handoffctl: unknown command \"%s\"\n", cmd);
		usage(stderr);
		return 2;
	}
	void *reply = NULL;
	int n = exchange(url, timeout_ms, type, &reply);
	if (n < 0)
		return 1;
	struct ho_proto_msg m;
	int err = ho_proto_parse(reply, (size_t)n, &m);
	int rc = 1;
	if (err != 0) {
		fprintf(stderr, "handoffctl: bad reply from %s: %s\n", url,
		    ho_proto_strerror(err));
	} else if (check_reply(&m, want) == 0) {
		rc = 0;
		if (type == HO_MSG_PING) {
			char version[HO_PROTO_MAX_STR + 1] = "?";
			uint64_t up = 0;
			ho_proto_get_str(
			    &m, HO_F_DAEMON_VERSION, version, sizeof(version));
			ho_proto_get_u64(&m, HO_F_UPTIME_MS, &up);
			printf("handoffd %s at %s, up %llu.%03llu s\n",
			    version, url, (unsigned long long)(up / 1000),
			    (unsigned long long)(up % 1000));
		} else {
			const struct ho_proto_field *f = &m.f[HO_F_STATS_TEXT];
			fwrite(f->ptr, 1, f->len, stdout);
		}
	}
	nn_freemsg(reply);
	return rc;
}
