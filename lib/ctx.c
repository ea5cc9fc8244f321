/*
 * ctx.c - the context: settings copied from a config plus the pool of
 * sockets to the daemon, shared by every connection made from it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	        ho_buf_used(&config->ca_pem)) != 0) {
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
