/*
 * conn_info.c - what a connection reports once its handshake is done:
 * protocol version, cipher suite, ALPN protocol, server name, whether it
 * was resumed, and the peer's certificate chain (DER, as handoffd sent
 * it).  Every string and buffer returned belongs to the connection.
 */
#include "handoff_internal.h"

const char *
handoff_conn_version(struct handoff_conn *c)
{
	return c->version[0] ? c->version : NULL;
}

const char *
handoff_conn_cipher(struct handoff_conn *c)
{
	return c->cipher[0] ? c->cipher : NULL;
}

const char *
handoff_conn_alpn(struct handoff_conn *c)
{
	return c->alpn[0] ? c->alpn : NULL;
}

const char *
handoff_conn_servername(struct handoff_conn *c)
{
	return c->servername[0] ? c->servername : NULL;
}

int
handoff_conn_resumed(struct handoff_conn *c)
{
	return c->resumed;
}

const uint8_t *
handoff_conn_peer_cert(struct handoff_conn *c, size_t index, size_t *len)
{
	size_t pos = 0;
	const uint8_t *der;
	for (size_t i = 0;
	     ho_proto_chain_next(ho_buf_data(&c->peer_chain),
	         ho_buf_used(&c->peer_chain), &pos, &der, len) == 1;
	     i++)
		if (i == index)
			return der;
	*len = 0;
	return NULL;
}
