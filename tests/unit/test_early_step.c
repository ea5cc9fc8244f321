/*
 * test_early_step.c - a handshake step that reaches handoffd before the
 * worker that sent the previous step's reply has done its bookkeeping.
 *
 * A worker sends a step's reply before it marks the session free, so a
 * quick caller's next step can be received by another worker while the
 * session is still busy; the daemon must keep that request and have the
 * first worker run it next (server.c, struct ho_early).  The race is
 * made certain here: handoffd's real sessions and worker threads run in
 * this process on an inproc:// address, and the test holds the workers
 * between a step's reply and its bookkeeping (ho_server_hold_steps).
 * Step one goes through a real nanomsg socket; its reply is read while
 * the worker is held, and the client's Finished is fed to dispatch
 * before the worker is let go.  Also held: a step that finishes after
 * SIGTERM, whose session must stay for the caller's next step.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "handoff.h"
#include "handoffd.h"
#include "../sp_route.h"

#define URL "inproc://handoff-test-early-step"

/* The client's side of the handshake, in memory. */
struct wire {
	uint8_t in[65536], out[65536];
	size_t in_len, in_off, out_len;
};

static ssize_t
pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	struct wire *w = p;
	size_t n = w->in_len - w->in_off;
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(buf, w->in + w->in_off, n);
	w->in_off += n;
	return (ssize_t)n;
}

static ssize_t
push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	struct wire *w = p;
	assert_true(w->out_len + len <= sizeof(w->out));
	memcpy(w->out + w->out_len, buf, len);
	w->out_len += len;
	return (ssize_t)len;
}

/* Sends a finished frame on the raw REQ socket (4-byte header first). */
static void
send_frame(int sock, struct ho_proto_buf *b)
{
	assert_int_equal(ho_proto_finish(b), 0);
	uint8_t *f = nn_allocmsg(b->len + 4, 0);
	f[0] = 0x80, f[1] = f[2] = f[3] = 0;
	memcpy(f + 4, b->buf, b->len);
	void *m = f;
	assert_true(nn_send(sock, &m, NN_MSG, 0) >= 0);
	ho_proto_buf_free(b);
}

/* handoffd's server, in this process, with a self-signed default
 * profile in a new folder; stop_daemon takes it all down. */
static char dir[] = "/tmp/handoff-test-early.XXXXXX";
static struct ho_config cfg;
static struct ho_profiles profiles;

static struct ho_daemon *
start_daemon(void)
{
	char cert[1024], key[1024], err[512];
	strcpy(dir, "/tmp/handoff-test-early.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ho_selfsigned_ensure(
	                     dir, cert, key, sizeof(cert), err, sizeof(err)),
	    0);
	ho_config_defaults(&cfg);
	struct ho_profile_config *p = &cfg.profiles[cfg.profile_count++];
	snprintf(p->name, sizeof(p->name), "default");
	p->certificate = cert;
	p->key = key;
	assert_int_equal(
	    ho_profiles_load(&profiles, &cfg, err, sizeof(err)), 0);
	static int global_done;
	if (!global_done++)
		assert_int_equal(
		    ho_handshake_global_init(3600, err, sizeof(err)), 0);
	ho_log_init(1, HO_LOG_ERROR);
	struct ho_daemon *d;
	assert_int_equal(
	    ho_server_start(&d, uv_default_loop(), &cfg, &profiles, URL), 0);
	assert_int_equal(ho_server_start_workers(d, 2, "the test's two"), 0);
	return d;
}

static void
stop_daemon(struct ho_daemon *d)
{
	raise(SIGTERM); /* handoffd's own shutdown: the loop ends */
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	ho_server_free(d);
	ho_profiles_free(&profiles);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static int
connect_req(void)
{
	int sock = nn_socket(AF_SP_RAW, NN_REQ);
	assert_true(sock >= 0);
	assert_true(nn_connect(sock, URL) >= 0);
	int ms = 5000;
	nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &ms, sizeof(ms));
	return sock;
}

static void
test_step_before_step_finish(void **state)
{
	(void)state;
	struct ho_daemon *d = start_daemon();
	ho_server_hold_steps(d, 1);
	int sock = connect_req();

	/* The client's ClientHello. */
	static struct wire w;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t c;
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_init(&c, GNUTLS_CLIENT);
	gnutls_set_default_priority(c);
	gnutls_credentials_set(c, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_ptr(c, &w);
	gnutls_transport_set_pull_function(c, pull);
	gnutls_transport_set_push_function(c, push);
	assert_int_equal(gnutls_handshake(c), GNUTLS_E_AGAIN);

	/* Step one through the socket, to a worker. */
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_HS_START);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, 1);
	ho_proto_put_str(&b, HO_F_PROFILE, "default");
	ho_proto_put_u8(&b, HO_F_ROLE, HO_ROLE_SERVER);
	ho_proto_put(&b, HO_F_INPUT, w.out, w.out_len);
	w.out_len = 0;
	send_frame(sock, &b);

	/* Its reply comes while the worker is held before its bookkeeping. */
	void *reply = NULL;
	int n = nn_recv(sock, &reply, NN_MSG, 0);
	assert_true(n > 0);
	assert_int_equal(ho_server_inflight(d), 1); /* step_finish not run */
	struct ho_proto_msg m;
	assert_int_equal(ho_proto_parse(reply, (size_t)n, &m), 0);
	assert_int_equal(m.type, HO_MSG_HS_CONTINUE);
	assert_true(m.f[HO_F_TOKEN].present && m.f[HO_F_OUTPUT].present);
	memcpy(w.in, m.f[HO_F_OUTPUT].ptr, m.f[HO_F_OUTPUT].len);
	w.in_len = m.f[HO_F_OUTPUT].len;
	assert_int_equal(gnutls_handshake(c), 0); /* Finished written */

	/* Step two, dispatched at once: the session is still busy. */
	ho_proto_begin(&b, HO_MSG_HS_STEP);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, 2);
	ho_proto_put(&b, HO_F_TOKEN, m.f[HO_F_TOKEN].ptr, m.f[HO_F_TOKEN].len);
	ho_proto_put(&b, HO_F_INPUT, w.out, w.out_len);
	assert_int_equal(ho_proto_finish(&b), 0);
	void *route = sp_route_to_nowhere();
	assert_non_null(route);
	ho_server_feed(d, route, b.buf, b.len); /* kept: returns at once */
	ho_proto_buf_free(&b);
	nn_freemsg(reply);
	assert_int_equal(ho_server_inflight(d), 1);
	ho_server_hold_steps(d, 0); /* step one finishes, then runs two */
	for (int i = 0; i < 5000 && ho_server_inflight(d) > 0; i++)
		usleep(1000);
	assert_int_equal(ho_server_inflight(d), 0);

	/* The kept step ran after step one's work and completed. */
	ho_proto_begin(&b, HO_MSG_STATS);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, 3);
	send_frame(sock, &b);
	reply = NULL;
	n = nn_recv(sock, &reply, NN_MSG, 0); /* a worker answers */
	assert_true(n > 0);
	assert_int_equal(ho_proto_parse(reply, (size_t)n, &m), 0);
	char text[4096];
	assert_true(m.f[HO_F_STATS_TEXT].len < sizeof(text));
	memcpy(text, m.f[HO_F_STATS_TEXT].ptr, m.f[HO_F_STATS_TEXT].len);
	text[m.f[HO_F_STATS_TEXT].len] = '\0';
	assert_non_null(strstr(text, "early_requests 1\n"));
	assert_non_null(strstr(text, "handshakes_completed 1\n"));
	assert_non_null(strstr(text, "handshakes_failed 0\n"));
	nn_freemsg(reply);

	nn_close(sock);
	gnutls_deinit(c);
	gnutls_certificate_free_credentials(cred);
	stop_daemon(d);
}

/* A step still finishing when SIGTERM comes keeps its session: the
 * caller's next step, which the shutdown's drain waits for, hears
 * "shutting down" (it heard "unknown session", or nothing once handoffd
 * had gone). */
static void
test_step_finishing_at_sigterm(void **state)
{
	(void)state;
	struct ho_daemon *d = start_daemon();
	ho_server_hold_steps(d, 1);
	int sock = connect_req();
	struct ho_proto_buf b;
	ho_proto_begin(&b, HO_MSG_HS_START);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, 1);
	ho_proto_put_str(&b, HO_F_PROFILE, "default");
	ho_proto_put_u8(&b, HO_F_ROLE, HO_ROLE_SERVER);
	ho_proto_put(&b, HO_F_INPUT, "", 0);
	send_frame(sock, &b);
	void *reply = NULL;
	int n = nn_recv(sock, &reply, NN_MSG, 0);
	assert_true(n > 0);
	struct ho_proto_msg m;
	assert_int_equal(ho_proto_parse(reply, (size_t)n, &m), 0);
	assert_int_equal(m.type, HO_MSG_HS_CONTINUE);
	uint8_t token[HO_PROTO_TOKEN_LEN];
	assert_int_equal(m.f[HO_F_TOKEN].len, sizeof(token));
	memcpy(token, m.f[HO_F_TOKEN].ptr, sizeof(token));
	nn_freemsg(reply);
	assert_int_equal(ho_server_inflight(d), 1); /* step_finish not run */

	raise(SIGTERM); /* the loop sees it: handoffd is stopping */
	uv_run(uv_default_loop(), UV_RUN_NOWAIT);
	ho_server_hold_steps(d, 0); /* the step finishes, stopping */
	for (int i = 0; i < 5000 && ho_server_inflight(d) > 0; i++)
		usleep(1000);
	assert_int_equal(ho_server_inflight(d), 0);

	ho_proto_begin(&b, HO_MSG_HS_STEP);
	ho_proto_put_u64(&b, HO_F_REQUEST_ID, 2);
	ho_proto_put(&b, HO_F_TOKEN, token, sizeof(token));
	ho_proto_put(&b, HO_F_INPUT, "\x16\x03\x01\x00", 4);
	send_frame(sock, &b);
	reply = NULL;
	n = nn_recv(sock, &reply, NN_MSG, 0);
	assert_true(n > 0);
	assert_int_equal(ho_proto_parse(reply, (size_t)n, &m), 0);
	uint32_t code = 0;
	assert_int_equal(m.type, HO_MSG_ERROR);
	assert_int_equal(ho_proto_get_u32(&m, HO_F_ERROR_CODE, &code), 0);
	assert_string_equal(
	    handoff_err_name((int)code), handoff_err_name(HANDOFF_ESHUTDOWN));
	nn_freemsg(reply);
	nn_close(sock);
	stop_daemon(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_step_before_step_finish),
	    cmocka_unit_test(test_step_finishing_at_sigterm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
