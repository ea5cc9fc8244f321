/*
 * error.c - the error table's names and texts (HANDOFF_ERRNO_MAP).
 */
#include "handoff.h"

const char *
handoff_strerror(int err)
{
	switch (err) {
#define HANDOFF_X(name, num, text)                                            \
	case num: return text;
		HANDOFF_ERRNO_MAP(HANDOFF_X)
#undef HANDOFF_X
	}
	return "unknown error";
}

const char *
handoff_err_name(int err)
{
	switch (err) {
#define HANDOFF_X(name, num, text)                                            \
	case num: return "HANDOFF_E" #name;
		HANDOFF_ERRNO_MAP(HANDOFF_X)
#undef HANDOFF_X
	}
	return "HANDOFF_E?";
}
