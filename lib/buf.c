/*
 * buf.c - the growable byte buffer of buf.h.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "wipe.h"

int
ho_buf_reserve(struct ho_buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return 0;
	if (b->off > 0) { /* slide live bytes to the front first */
		size_t used = b->len - b->off;
		memmove(b->ptr, b->ptr + b->off, used);
		b->off = 0;
		b->len = used;
		if (b->cap - b->len >= n)
			return 0;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n)
		cap *= 2;
	uint8_t *p = malloc(cap);
	if (p == NULL)
		return -1;
	if (b->len > 0)
		memcpy(p, b->ptr, b->len);
	if (b->ptr != NULL) {
		ho_wipe(b->ptr, b->high);
		free(b->ptr);
	}
	b->ptr = p;
	b->cap = cap;
	b->high = b->len;
	return 0;
}

int
ho_buf_append(struct ho_buf *b, const void *p, size_t n)
{
	if (n == 0) /* p may be NULL for an empty field */
		return 0;
	if (ho_buf_reserve(b, n) != 0)
		return -1;
	memcpy(b->ptr + b->len, p, n);
	ho_buf_commit(b, n);
	return 0;
}

void
ho_buf_commit(struct ho_buf *b, size_t n)
{
	b->len += n;
	if (b->len > b->high)
		b->high = b->len;
}

void
ho_buf_consume(struct ho_buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void
ho_buf_free(struct ho_buf *b)
{
	if (b->ptr != NULL) {
		ho_wipe(b->ptr, b->high);
		free(b->ptr);
	}
	memset(b, 0, sizeof(*b));
}
