/*
 * export.c - hands a connection's record keys to the caller, for a
 * record layer of its own or kernel TLS (handoff_conn_export_keys).
 */
#include <stdio.h>
#include <string.h>

#include "handoff_internal.h"
#include "wipe.h"

static void
copy_dir(struct handoff_key_state *out, const struct ho_rec_dir *d)
{
	memcpy(out->key, d->key, d->key_len);
	out->key_len = d->key_len;
	memcpy(out->iv, d->iv, d->iv_len);
	out->iv_len = d->iv_len;
	out->seq = d->seq;
	memcpy(out->secret, d->secret, d->secret_len);
	out->secret_len = d->secret_len;
}

/* Refuses without failing the connection: it stays usable. */
static int
refuse(struct handoff_conn *c, const char *why)
{
	c->errnum = HANDOFF_ESTATE;
	snprintf(c->err, sizeof(c->err), "cannot export keys: %s", why);
	return -1;
}

int
handoff_conn_export_keys(struct handoff_conn *c, struct handoff_keys *keys)
{
	if (keys == NULL)
		return refuse(c, "no struct to fill");
	if (c->state != HO_CONN_OPEN)
		return refuse(c,
		    "the connection is not open (finish the "
		    "handshake first)");
	if (c->plain_len > 0 || ho_buf_used(&c->in) > 0)
		return refuse(c,
		    "bytes from the peer are buffered: read them "
		    "with handoff_read() first");
	if (ho_buf_used(&c->out) > 0 || c->rekey_pending)
		return refuse(c,
		    "bytes for the peer are still queued: let "
		    "handoff_write() finish first");
	if (c->rec.cbc)
		return refuse(c,
		    "only AEAD cipher suites can be exported (this "
		    "connection runs a CBC suite, which kernel TLS lacks "
		    "too)");
	if (c->rec.dir[HO_REC_READ].exhausted ||
	    c->rec.dir[HO_REC_WRITE].exhausted)
		return refuse(c, "a sequence number is exhausted");
	memset(keys, 0, sizeof(*keys));
	keys->version = c->rec.version;
	keys->cipher_suite = c->rec.suite;
	keys->max_plaintext = c->max_plain;
	copy_dir(&keys->read, &c->rec.dir[HO_REC_READ]);
	copy_dir(&keys->write, &c->rec.dir[HO_REC_WRITE]);
	/* One owner for the keys from now on: the caller. */
	ho_rec_clear(&c->rec);
	c->state = HO_CONN_EXPORTED;
	return 0;
}
