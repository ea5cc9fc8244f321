/*
 * standin.c - what handoffd's stand-ins for nettle functions share
 * (x25519.c, sha512.c): finding nettle's own definition of a function,
 * to pass calls on to when handoffd's is not wanted.
 */
#define _GNU_SOURCE /* RTLD_NEXT, dlvsym */
#include <dlfcn.h>
#include <stdatomic.h>

#include "handoffd.h"

void *
ho_nettle_own(_Atomic(void *) *cached, const char *name, const char *version)
{
	void *f = atomic_load(cached);
	if (f == NULL) {
		if (version != NULL)
			f = dlvsym(RTLD_NEXT, name, version);
		if (f == NULL)
			f = dlsym(RTLD_NEXT, name);
		atomic_store(cached, f);
	}
	return f;
}
