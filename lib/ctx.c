/*
 * ctx.c - the context: settings copied from a config plus the pool of
 * sockets to the daemon, shared by every connection made from it; and
 * one request and its reply on it, for calls with no connection.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "handoff_internal.h"

struct handoff_ctx *
handoff_ctx_new(const struct handoff_config *config)
{
	if (config == NULL || config->daemon_url[0] == '\0')
		return NULL;
	struct handoff_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	snprintf(ctx->profile, sizeof(ctx->profile), "%s", config->profile);
	ctx->deadline_ms = config->deadline_ms;
	ctx->handshake_timeout_ms = config->handshake_timeout_ms;
	ctx->no_verify = config->no_verify;
	if (ho_buf_append(&ctx->ca_pem, ho_buf_data(&config->ca_pem),
	        ho_buf_used(&config->ca_pem)) != 0 ||
	    (ho_buf_used(&ctx->ca_pem) > 0 &&
	        gnutls_hash_fast(GNUTLS_DIG_SHA256, ho_buf_data(&ctx->ca_pem),
	            ho_buf_used(&ctx->ca_pem), ctx->ca_digest) < 0)) {
		ho_buf_free(&ctx->ca_pem);
		free(ctx);
		return NULL;
	}
	if (ho_ipc_init(&ctx->ipc, config->daemon_url) != 0) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

void
handoff_ctx_free(struct handoff_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ho_ipc_free(&ctx->ipc);
	ho_buf_free(&ctx->ca_pem);
	free(ctx);
}

/* A context is shared between threads, so the reason for a failure is
 * kept per thread, as errno is: each thread reads the reason for its own
 * last failed call, never another thread's text, whole or half written.
 */
static _Thread_local struct {
	const struct handoff_ctx *ctx; /* the context that failed */
	char text[HO_ERR_MAX];
} last_failure;

void
ho_ctx_fail(struct handoff_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_failure.text, sizeof(last_failure.text), fmt, ap);
	va_end(ap);
	last_failure.ctx = ctx;
}

const char *
handoff_ctx_error(struct handoff_ctx *ctx)
{
	return last_failure.ctx == ctx ? last_failure.text : "";
}

/* A blocking request for handoff_gnutls.h's calls, which have no
 * connection to keep state in (handoff_internal.h). */
void *
ho_ctx_request(struct handoff_ctx *ctx, struct ho_proto_buf *req, uint64_t id,
    int want, struct ho_proto_msg *m, size_t *len, const char *what)
{
	struct ho_ipc_call call;
	memset(&call, 0, sizeof(call));
	call.efd = -1;
	call.ahead_fd = -1;
	char err[HO_ERR_MAX];
	void *msg = NULL;
	int n = ho_ipc_call_send(
	    &ctx->ipc, &call, id, req->buf, req->len, err, sizeof(err));
	if (n != 0) {
		ho_ctx_fail(ctx, "%s: %s", what, err);
		goto out;
	}
	uint64_t deadline = ho_now_ms() + ctx->deadline_ms;
	while ((n = ho_ipc_call_take(&ctx->ipc, &call, &msg)) == 0) {
		uint64_t now = ho_now_ms();
		if (now >= deadline) {
			ho_ctx_fail(ctx,
			    "%s: no reply from handoffd at %s within %u ms: "
			    "is it running (handoffctl ping), and may this "
			    "user use its socket?",
			    what, ctx->ipc.url, ctx->deadline_ms);
			goto out;
		}
		uint64_t left = deadline - now;
		if (ho_ipc_call_wait(
		        &call, left > INT_MAX ? INT_MAX : (int)left) < 0) {
			ho_ctx_fail(
			    ctx, "%s: poll: %s", what, strerror(errno));
			goto out;
		}
	}
	if (n < 0) {
		ho_ctx_fail(ctx, "%s: %s", what, call.err);
		goto out;
	}
	*len = (size_t)n;
	uint32_t code = HANDOFF_EPROTO;
	char text[HO_ERR_MAX] = "";
	if (ho_proto_parse(msg, *len, m) != 0) {
		ho_ctx_fail(ctx, "%s: handoffd's reply is malformed", what);
	} else if (m->type == HO_MSG_ERROR) {
		(void)ho_proto_get_u32(m, HO_F_ERROR_CODE, &code);
		(void)ho_proto_get_str(m, HO_F_ERROR_TEXT, text, sizeof(text));
		ho_ctx_fail(ctx, "%s: %s (%s)", what, text,
		    handoff_err_name((int)code));
	} else if (m->type != want) {
		ho_ctx_fail(ctx,
		    "%s: unexpected %s message from handoffd (daemon and "
		    "library versions differ?)",
		    what, ho_proto_msg_name(m->type));
	} else {
		goto out; /* the reply we wanted */
	}
	ho_ipc_freemsg(msg, *len);
	msg = NULL;
out:
	ho_ipc_call_free(&ctx->ipc, &call);
	return msg;
}
