/*
 * json_mini.h - a small, strict JSON reader for the test vectors.
 *
 * Test-only code: parses a whole file into a tree; numbers are kept as
 * their text so 64-bit sequence numbers survive exactly.
 */
#ifndef JSON_MINI_H
#define JSON_MINI_H

#include <stddef.h>
#include <stdint.h>

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

struct json {
	enum json_type type;
	char *key;  /* member name when inside an object */
	char *text; /* string value, or a number's digits */
	int boolean;
	struct json *child; /* first element or member */
	struct json *next;  /* next sibling */
};

/* Parses a file; NULL (with a message on stderr) if it is not JSON. */
struct json *json_load(const char *path);
void json_free(struct json *j);
/* Member of an object by name, or NULL. */
const struct json *json_get(const struct json *obj, const char *key);
/* The string member key, or NULL if absent or not a string. */
const char *json_str(const struct json *obj, const char *key);
/* The unsigned integer member key; -1 if absent or not one. */
int json_u64(const struct json *obj, const char *key, uint64_t *out);
/* Decodes a hex string into out (at most cap bytes); length or -1. */
long json_hex(const char *hex, uint8_t *out, size_t cap);

#endif
