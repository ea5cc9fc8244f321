/*
 * buf.h - a growable byte buffer, used by the library for socket data and
 * by the daemon for a session's handshake bytes.  Live data is
 * [off, len); the buffer is wiped whenever it moves or is freed, because
 * it may hold record plaintext or handshake secrets in transit (as far
 * as it was ever written: a connection that lets go of an idle 64 KiB
 * read buffer after a 1 KiB message wipes 1 KiB).
 */
#ifndef HANDOFF_BUF_H
#define HANDOFF_BUF_H

#include <stddef.h>
#include <stdint.h>

struct ho_buf {
	uint8_t *ptr;
	size_t off; /* first live byte */
	size_t len; /* one past the last live byte */
	size_t cap;
	size_t high; /* bytes ever written from ptr: what a wipe covers */
};

/* Makes room for n more bytes after len (sliding or growing).
 * Returns 0 or -1 (out of memory). */
int ho_buf_reserve(struct ho_buf *b, size_t n);
int ho_buf_append(struct ho_buf *b, const void *p, size_t n);
/* Counts n bytes written in place after len (after ho_buf_reserve). */
void ho_buf_commit(struct ho_buf *b, size_t n);
/* Drops n live bytes from the front. */
void ho_buf_consume(struct ho_buf *b, size_t n);
void ho_buf_free(struct ho_buf *b);

static inline size_t
ho_buf_used(const struct ho_buf *b)
{
	return b->len - b->off;
}

static inline const uint8_t *
ho_buf_data(const struct ho_buf *b)
{
	return b->ptr + b->off;
}

#endif /* HANDOFF_BUF_H */
