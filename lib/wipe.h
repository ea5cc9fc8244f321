/*
 * wipe.h - erase secrets before memory is freed or reused.
 *
 * explicit_bzero() cannot be optimised away; every buffer that held a key,
 * an IV, a traffic secret or a raw handshake frame goes through here.
 */
#ifndef HANDOFF_WIPE_H
#define HANDOFF_WIPE_H

#include <stddef.h>
#include <string.h>

static inline void
ho_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

#endif /* HANDOFF_WIPE_H */
