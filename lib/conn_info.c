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
	const uint8_t *p = ho_buf_data(&c->peer_chain);
	size_t left = ho_buf_used(&c->peer_chain);
	for (size_t i = 0; left >= 3; i++) {
		size_t n = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
		if (n > left - 3)
			break; /* malformed: the daemon never sends this */
		if (i == index) {
			*len = n;
			return p + 3;
		}
		p += 3 + n;
		left -= 3 + n;
	}
	*len = 0;
	return NULL;
}
