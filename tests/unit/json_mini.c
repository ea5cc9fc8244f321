/*
 * json_mini.c - see json_mini.h.  Recursive descent over a buffer that
 * holds the whole file; every failure says where it happened.
 */
#include "json_mini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	const char *p;
	const char *end;
	int failed;
};

static struct json *parse_value(struct reader *r, int depth);

static void
skip_ws(struct reader *r)
{
	while (r->p < r->end &&
	    (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

static int
expect(struct reader *r, char c)
{
	skip_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return 1;
	}
	r->failed = 1;
	return 0;
}

/* Strings in the vector files are plain ASCII; \uXXXX is refused. */
static char *
parse_string(struct reader *r)
{
	if (!expect(r, '"'))
		return NULL;
	size_t cap = 64, n = 0;
	char *s = malloc(cap);
	while (s != NULL && r->p < r->end && *r->p != '"') {
		char c = *r->p++;
		if (c == '\\') {
			if (r->p >= r->end)
				break;
			c = *r->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '"':
			case '\\':
			case '/': break;
			default:
				free(s);
				r->failed = 1;
				return NULL;
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);
			if (t == NULL) {
				free(s);
				s = NULL;
				break;
			}
			s = t;
		}
		s[n++] = c;
	}
	if (s == NULL || r->p >= r->end) {
		free(s);
		r->failed = 1;
		return NULL;
	}
	r->p++; /* closing quote */
	s[n] = '\0';
	return s;
}

static struct json *
new_node(enum json_type t)
{
	struct json *j = calloc(1, sizeof(*j));
	if (j != NULL)
		j->type = t;
	return j;
}

static struct json *
parse_container(struct reader *r, int depth, int is_object)
{
	struct json *j = new_node(is_object ? JSON_OBJECT : JSON_ARRAY);
	struct json **tail = &j->child;
	r->p++; /* '{' or '[' */
	skip_ws(r);
	if (r->p < r->end && *r->p == (is_object ? '}' : ']')) {
		r->p++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		if (is_object) {
			skip_ws(r);
			key = parse_string(r);
			if (key == NULL || !expect(r, ':')) {
				free(key);
				break;
			}
		}
		struct json *v = parse_value(r, depth + 1);
		if (v == NULL) {
			free(key);
			break;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (expect(r, is_object ? '}' : ']'))
			return j;
		break;
	}
	r->failed = 1;
	json_free(j);
	return NULL;
}

static struct json *
parse_value(struct reader *r, int depth)
{
	skip_ws(r);
	if (r->p >= r->end || depth > 32) {
		r->failed = 1;
		return NULL;
	}
	char c = *r->p;
	if (c == '{' || c == '[')
		return parse_container(r, depth, c == '{');
	if (c == '"') {
		char *s = parse_string(r);
		if (s == NULL)
			return NULL;
		struct json *j = new_node(JSON_STRING);
		j->text = s;
		return j;
	}
	static const struct {
		const char *word;
		enum json_type type;
		int value;
	} words[] = {{"true", JSON_BOOL, 1}, {"false", JSON_BOOL, 0},
	    {"null", JSON_NULL, 0}};
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i].word);
		if ((size_t)(r->end - r->p) >= n &&
		    memcmp(r->p, words[i].word, n) == 0) {
			r->p += n;
			struct json *j = new_node(words[i].type);
			j->boolean = words[i].value;
			return j;
		}
	}
	const char *start = r->p;
	while (r->p < r->end && strchr("-+0123456789.eE", *r->p) != NULL)
		r->p++;
	if (r->p == start) {
		r->failed = 1;
		return NULL;
	}
	struct json *j = new_node(JSON_NUMBER);
	j->text = strndup(start, (size_t)(r->p - start));
	return j;
}

struct json *
json_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)size + 1);
	if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	struct reader r = {buf, buf + size, 0};
	struct json *j = parse_value(&r, 0);
	skip_ws(&r);
	if (j == NULL || r.failed || r.p != r.end) {
		fprintf(stderr, "%s: not valid JSON near byte %ld\n", path,
		    (long)(r.p - buf));
		json_free(j);
		j = NULL;
	}
	free(buf);
	return j;
}

void
json_free(struct json *j)
{
	while (j != NULL) {
		struct json *next = j->next;
		json_free(j->child);
		free(j->key);
		free(j->text);
		free(j);
		j = next;
	}
}

const struct json *
json_get(const struct json *obj, const char *key)
{
	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json *c = obj->child; c != NULL; c = c->next) {
		if (strcmp(c->key, key) == 0)
			return c;
	}
	return NULL;
}

const char *
json_str(const struct json *obj, const char *key)
{
	const struct json *v = json_get(obj, key);
	return v != NULL && v->type == JSON_STRING ? v->text : NULL;
}

int
json_u64(const struct json *obj, const char *key, uint64_t *out)
{
	const struct json *v = json_get(obj, key);
	if (v == NULL || v->type != JSON_NUMBER || v->text[0] == '-')
		return -1;
	char *end;
	unsigned long long n = strtoull(v->text, &end, 10);
	if (*end != '\0')
		return -1;
	*out = n;
	return 0;
}

long
json_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);
	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (long)(n / 2);
}
