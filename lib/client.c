/*
 * client.c - the client role: handoff_connect_socket() and the relay of
 * TLS 1.3 session tickets back to handoffd.
 *
 * handoffd builds the ClientHello, verifies the server and returns the
 * keys, exactly as in the server role but with the first request empty.
 * A TLS 1.3 server sends its NewSessionTicket after the handshake, under
 * application keys only this process holds, so the record layer hands the
 * decrypted message here and it goes to the daemon session that waits
 * for it; from it handoffd makes a resumable session that any caller's
 * next connection to that server uses.  The relay, and the ABORT that
 * frees the daemon's session when no ticket comes, are sent without a
 * call: nobody waits for the answer (OK or an error, either way), so
 * they hold no slot of the context's window and no connection waits on
 * a slow or restarted daemon for them.  (A relay that held a slot until
 * answered kept it for good when the daemon died first, and 32 such
 * connections stopped every new handshake on the context; freeing a
 * connection waited up to 200 ms for the answer.)  nanomsg drops a
 * request still queued when its socket closes, so freeing the context
 * waits briefly for the answers to these requests instead, once: a
 * short-lived process does not lose its ticket or leave the daemon's
 * session behind.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "handoff_internal.h"
#include "wipe.h"

/* The server's "address:port" (IP sockets only, else ""): two servers
 * with one name on two ports must not resume each other's sessions. */
static void
peer_address(int fd, char *out, size_t len)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	char host[INET6_ADDRSTRLEN], port[8];
	out[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&sa, &sl) != 0 ||
	    (sa.ss_family != AF_INET && sa.ss_family != AF_INET6) ||
	    getnameinfo((struct sockaddr *)&sa, sl, host, sizeof(host), port,
	        sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	snprintf(out, len, "%s:%s", host, port);
}

int
handoff_connect_socket(struct handoff_ctx *ctx, struct handoff_conn **conn,
    int fd, const char *servername)
{
	if (conn == NULL) {
		ho_ctx_fail(ctx, "handoff_connect_socket: conn is NULL");
		return -1;
	}
	*conn = NULL;
	if (servername != NULL &&
	    (servername[0] == '\0' || strlen(servername) > HO_PROTO_MAX_STR)) {
		ho_ctx_fail(ctx,
		    "handoff_connect_socket: server name must be 1 to %d "
		    "bytes",
		    HO_PROTO_MAX_STR);
		return -1;
	}
	if (servername == NULL && !ctx->no_verify) {
		ho_ctx_fail(ctx,
		    "handoff_connect_socket: a server name is needed to "
		    "verify the server's certificate (pass the host name or "
		    "address you connect to, or turn verification off with "
		    "handoff_config_insecure_noverifycert())");
		return -1;
	}
	struct handoff_conn *c =
	    ho_conn_new(ctx, fd, HO_ROLE_CLIENT, "handoff_connect_socket");
	if (c == NULL)
		return -1;
	if (servername != NULL)
		snprintf(
		    c->servername, sizeof(c->servername), "%s", servername);
	peer_address(fd, c->peer, sizeof(c->peer));
	*conn = c;
	return 0;
}

void
ho_client_relay_ticket(struct handoff_conn *c, const uint8_t *msg, size_t len)
{
	if (!c->have_ticket_token)
		return; /* not TLS 1.3 client, or already relayed */
	/* No ticket (the connection ends first): free the daemon's session
	 * now rather than at its timeout. */
	ho_ipc_send_oneway(&c->ctx->ipc,
	    msg != NULL ? HO_MSG_HS_TICKET : HO_MSG_HS_ABORT, c->ticket_token,
	    msg, len);
	c->have_ticket_token = 0;
	ho_wipe(c->ticket_token, sizeof(c->ticket_token));
}
