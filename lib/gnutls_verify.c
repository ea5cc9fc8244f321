/*
 * gnutls_verify.c - handoff_gnutls.h's verification: a peer's certificate
 * chain checked by handoffd against a profile's trust.
 *
 * The chain goes to handoffd in a VERIFY request (each certificate's DER
 * with a 3-byte length, leaf first), with the host name for a server's
 * chain or none for a client's; handoffd answers with GnuTLS's status
 * bits and, when they are not 0, the reason in words, which becomes the
 * context's error text for the calling thread.  handoffd keeps results,
 * so a chain it has seen lately costs it no signature check
 * (daemon/verify.c).
 */
#include <stdio.h>
#include <string.h>

#include "handoff_gnutls.h"
#include "handoff_internal.h"

#define MAX_CHAIN 16

/* Handles the VERIFY_REPLY m: 0 and *status, or -1. */
static int
read_verdict(
    struct handoff_ctx *ctx, const struct ho_proto_msg *m, unsigned *status)
{
	uint32_t st;
	char words[HO_ERR_MAX];
	if (ho_proto_get_u32(m, HO_F_VERIFY_STATUS, &st) != 0) {
		ho_ctx_fail(ctx,
		    "handoffd's verify reply has no status "
		    "(daemon and library versions differ?)");
		return -1;
	}
	*status = st;
	if (st != 0) {
		if (ho_proto_get_str(
		        m, HO_F_ERROR_TEXT, words, sizeof(words)) != 0)
			snprintf(words, sizeof(words), "status 0x%x", st);
		ho_ctx_fail(ctx, "peer certificate not trusted: %s", words);
	}
	return 0;
}

int
handoff_gnutls_verify_chain(struct handoff_ctx *ctx,
    const gnutls_datum_t *chain, unsigned chain_len, const char *hostname,
    unsigned *status)
{
	if (ctx == NULL)
		return -1;
	if (chain == NULL || status == NULL || chain_len == 0 ||
	    chain_len > MAX_CHAIN ||
	    (hostname != NULL &&
	        (hostname[0] == '\0' ||
	            strlen(hostname) > HO_PROTO_MAX_STR))) {
		ho_ctx_fail(ctx,
		    "handoff_gnutls_verify_chain: needs 1 to %d certificates, "
		    "a status to fill and a host name of 1 to %d bytes or "
		    "NULL",
		    MAX_CHAIN, HO_PROTO_MAX_STR);
		return -1;
	}
	struct ho_buf der = {0};
	int failed = 0;
	for (unsigned i = 0; i < chain_len; i++)
		failed |=
		    ho_proto_chain_add(&der, chain[i].data, chain[i].size);
	uint64_t id = ho_ipc_new_id(&ctx->ipc);
	struct ho_proto_buf req;
	ho_proto_begin(&req, HO_MSG_VERIFY);
	ho_proto_put_u64(&req, HO_F_REQUEST_ID, id);
	ho_proto_put_str(&req, HO_F_PROFILE, ctx->profile);
	/* A host name: the peer is a server; none: a client. */
	ho_proto_put_u8(&req, HO_F_ROLE,
	    hostname != NULL ? HO_ROLE_CLIENT : HO_ROLE_SERVER);
	if (hostname != NULL)
		ho_proto_put_str(&req, HO_F_SERVER_NAME, hostname);
	ho_proto_put(
	    &req, HO_F_PEER_CHAIN, ho_buf_data(&der), ho_buf_used(&der));
	ho_buf_free(&der);
	if (failed || ho_proto_finish(&req) != 0) {
		ho_ctx_fail(ctx,
		    "handoff_gnutls_verify_chain: the chain is too "
		    "large for one request (or out of memory)");
		ho_proto_buf_free(&req);
		return -1;
	}
	struct ho_proto_msg m;
	size_t len = 0;
	void *msg = ho_ctx_request(ctx, &req, id, HO_MSG_VERIFY_REPLY, &m,
	    &len, "verifying in handoffd");
	ho_proto_buf_free(&req);
	if (msg == NULL)
		return -1;
	int r = read_verdict(ctx, &m, status);
	ho_ipc_freemsg(msg, len);
	return r;
}

int
handoff_gnutls_verify_peers(struct handoff_ctx *ctx, gnutls_session_t session,
    const char *hostname, unsigned *status)
{
	if (ctx == NULL)
		return -1;
	unsigned n = 0;
	const gnutls_datum_t *chain =
	    session != NULL ? gnutls_certificate_get_peers(session, &n) : NULL;
	if (chain == NULL || n == 0) {
		ho_ctx_fail(ctx,
		    "handoff_gnutls_verify_peers: the peer sent "
		    "no certificate");
		return -1;
	}
	return handoff_gnutls_verify_chain(ctx, chain, n, hostname, status);
}
