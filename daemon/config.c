/*
 * config.c - reads handoffd's INI file with libinih, strictly.
 *
 * Debian's libinih does not pass line numbers to the handler, so the
 * handler records why it refused a line and returns 0; ini_parse() then
 * returns that line's number and the message becomes "FILE:LINE: why".
 * Every refusal names the key and says what would be accepted.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys seen in the current section, to refuse duplicates. */
#define MAX_KEYS 32

struct parse_state {
	struct ho_config *cfg;
	char why[512];
	char section[128];
	char seen[MAX_KEYS][32];
	int seen_count;
	struct ho_profile_config *profile; /* NULL in [daemon] */
};

void
ho_config_defaults(struct ho_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 0;
	cfg->scheduling = HO_SCHEDULING_BATCH;
	cfg->session_timeout_ms = HO_DEFAULT_SESSION_TIMEOUT_MS;
	cfg->max_sessions = HO_DEFAULT_MAX_SESSIONS;
	cfg->ticket_lifetime_s = HO_DEFAULT_TICKET_LIFETIME_S;
	cfg->client_cache_size = HO_DEFAULT_CLIENT_CACHE_SIZE;
	cfg->verify_cache_size = HO_DEFAULT_VERIFY_CACHE_SIZE;
	cfg->log_level = HO_LOG_INFO;
}

/* The index of s in names (which list an enum's values in order), or -1:
 * every word-valued key is one of these tables. */
static int
name_index(const char *s, const char *const *names, int count)
{
	for (int i = 0; i < count; i++) {
		if (strcmp(s, names[i]) == 0)
			return i;
	}
	return -1;
}

int
ho_config_parse_client_auth(const char *s)
{
	/* HO_CLIENT_AUTH_NONE, _REQUEST, _REQUIRE */
	static const char *const names[] = {"none", "request", "require"};
	return name_index(s, names, 3);
}

int
ho_config_parse_log_level(const char *s)
{
	/* HO_LOG_ERROR, _WARNING, _INFO, _DEBUG */
	static const char *const names[] = {
	    "error", "warning", "info", "debug"};
	return name_index(s, names, 4);
}

int
ho_config_parse_scheduling(const char *s)
{
	/* HO_SCHEDULING_BATCH, _NORMAL */
	static const char *const names[] = {"batch", "normal"};
	return name_index(s, names, 2);
}

int
ho_config_parse_backend(const char *s)
{
	/* HO_BACKEND_AUTO, _GNUTLS */
	static const char *const names[] = {"auto", "gnutls"};
	return name_index(s, names, 2);
}

static int refuse(struct parse_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct parse_state *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->why, sizeof(st->why), fmt, ap);
	va_end(ap);
	return 0;
}

/* A whole number in [min, max] with nothing after it. */
static int
parse_number(const char *v, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
number_key(struct parse_state *st, const char *key, const char *value,
    long min, long max, long *out)
{
	if (parse_number(value, min, max, out) != 0)
		return refuse(st,
		    "%s = \"%s\": expected a whole number from %ld to %ld",
		    key, value, min, max);
	return 1;
}

static int
set_string(char **slot, const char *value)
{
	free(*slot);
	*slot = strdup(value);
	return *slot != NULL;
}

static int
daemon_key(struct parse_state *st, const char *key, const char *value)
{
	struct ho_config *cfg = st->cfg;
	long n = 0; /* number_key sets it; GCC -O3 cannot see that */
	if (strcmp(key, "listen") == 0) {
		if (strncmp(value, "ipc://", 6) != 0 &&
		    strncmp(value, "tcp://", 6) != 0)
			return refuse(st,
			    "listen = \"%s\": expected an ipc:// or tcp:// "
			    "nanomsg URL",
			    value);
		free(cfg->listen);
		cfg->listen = strdup(value);
		return cfg->listen != NULL;
	}
	if (strcmp(key, "workers") == 0) {
		if (!number_key(st, key, value, 1, 1024, &n))
			return 0;
		cfg->workers = (int)n;
		return 1;
	}
	if (strcmp(key, "scheduling") == 0) {
		int policy = ho_config_parse_scheduling(value);
		if (policy < 0)
			return refuse(st,
			    "scheduling = \"%s\": expected batch or normal",
			    value);
		cfg->scheduling = (enum ho_scheduling)policy;
		return 1;
	}
	enum ho_backend *backend_key = strcmp(key, "kx_backend") == 0
	    ? &cfg->kx_backend
	    : strcmp(key, "hash_backend") == 0   ? &cfg->hash_backend
	    : strcmp(key, "verify_backend") == 0 ? &cfg->verify_backend
	                                         : NULL;
	if (backend_key != NULL) {
		int backend = ho_config_parse_backend(value);
		if (backend < 0)
			return refuse(st,
			    "%s = \"%s\": expected auto or gnutls", key,
			    value);
		*backend_key = (enum ho_backend)backend;
		return 1;
	}
	if (strcmp(key, "session_timeout") == 0) {
		if (!number_key(st, key, value, 1, 3600, &n))
			return 0;
		cfg->session_timeout_ms = (unsigned)n * 1000u;
		return 1;
	}
	if (strcmp(key, "max_sessions") == 0) {
		if (!number_key(st, key, value, 1, 1000000, &n))
			return 0;
		cfg->max_sessions = (unsigned)n;
		return 1;
	}
	if (strcmp(key, "log_level") == 0) {
		int level = ho_config_parse_log_level(value);
		if (level < 0)
			return refuse(st,
			    "log_level = \"%s\": expected error, warning, "
			    "info or debug",
			    value);
		cfg->log_level = (enum ho_log_level)level;
		return 1;
	}
	if (strcmp(key, "user") == 0)
		return set_string(&cfg->user, value);
	if (strcmp(key, "ticket_lifetime") == 0) {
		if (!number_key(st, key, value, 1, 7 * 24 * 3600, &n))
			return 0;
		cfg->ticket_lifetime_s = (unsigned)n;
		return 1;
	}
	if (strcmp(key, "client_cache_size") == 0) {
		if (!number_key(st, key, value, 0, 1000000, &n))
			return 0;
		cfg->client_cache_size = (unsigned)n;
		return 1;
	}
	if (strcmp(key, "verify_cache_size") == 0) {
		if (!number_key(st, key, value, 0, 1000000, &n))
			return 0;
		cfg->verify_cache_size = (unsigned)n;
		return 1;
	}
	return refuse(st,
	    "unknown key \"%s\" in [daemon] (known: listen, workers, "
	    "scheduling, kx_backend, hash_backend, verify_backend, "
	    "session_timeout, max_sessions, log_level, user, ticket_lifetime, "
	    "client_cache_size, verify_cache_size)",
	    key);
}

/* A comma-separated list into items[] (at most max, each 1..255 bytes);
 * what names the key and its items in messages. */
static int
parse_list(struct parse_state *st, const char *key, const char *what,
    const char *value, char **items, int *count, int max)
{
	const char *s = value;
	while (*s != '\0') {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 0 || len > 255)
			return refuse(st,
			    "%s = \"%s\": each %s must be 1 to 255 bytes, "
			    "separated by commas",
			    key, value, what);
		if (*count == max)
			return refuse(st, "%s = \"%s\": at most %d %ss", key,
			    value, max, what);
		items[*count] = strndup(s, len);
		if (items[*count] == NULL)
			return 0;
		(*count)++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	return 1;
}

/* Server names are host names, or "*." and a name for one more label. */
static int
valid_server_name(const char *n)
{
	const char *s = strncmp(n, "*.", 2) == 0 ? n + 2 : n;
	if (*s == '\0' || *s == '.' || s[strlen(s) - 1] == '.')
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int
parse_server_names(
    struct parse_state *st, struct ho_profile_config *p, const char *value)
{
	if (!parse_list(st, "server_names", "name", value, p->server_names,
	        &p->server_name_count, HO_MAX_SERVER_NAMES))
		return 0;
	for (int i = 0; i < p->server_name_count; i++) {
		if (!valid_server_name(p->server_names[i]))
			return refuse(st,
			    "server_names: \"%s\" is not a host name or "
			    "\"*.\" followed by one",
			    p->server_names[i]);
	}
	return 1;
}

static int
profile_key(struct parse_state *st, const char *key, const char *value)
{
	struct ho_profile_config *p = st->profile;
	if (strcmp(key, "certificate") == 0)
		return set_string(&p->certificate, value);
	if (strcmp(key, "key") == 0)
		return set_string(&p->key, value);
	if (strcmp(key, "priority") == 0)
		return set_string(&p->priority, value);
	if (strcmp(key, "trust") == 0)
		return set_string(&p->trust, value);
	if (strcmp(key, "crl") == 0)
		return set_string(&p->crl, value);
	if (strcmp(key, "key_backend") == 0) {
		if (strcmp(value, "auto") == 0)
			p->key_backend = HO_KEY_BACKEND_AUTO;
		else if (strcmp(value, "gnutls") == 0)
			p->key_backend = HO_KEY_BACKEND_GNUTLS;
		else
			return refuse(st,
			    "key_backend = \"%s\": expected auto or gnutls",
			    value);
		return 1;
	}
	if (strcmp(key, "allow_sign") == 0) {
		if (strcmp(value, "yes") == 0)
			p->allow_sign = 1;
		else if (strcmp(value, "no") == 0)
			p->allow_sign = 0;
		else
			return refuse(st,
			    "allow_sign = \"%s\": expected yes or no", value);
		return 1;
	}
	if (strcmp(key, "alpn") == 0)
		return parse_list(st, key, "protocol", value, p->alpn,
		    &p->alpn_count, HO_MAX_ALPN);
	if (strcmp(key, "server_names") == 0)
		return parse_server_names(st, p, value);
	if (strcmp(key, "client_auth") == 0) {
		int mode = ho_config_parse_client_auth(value);
		if (mode < 0)
			return refuse(st,
			    "client_auth = \"%s\": expected none, request or "
			    "require",
			    value);
		p->client_auth = (enum ho_client_auth)mode;
		return 1;
	}
	return refuse(st,
	    "unknown key \"%s\" in [%s] (known: certificate, key, priority, "
	    "alpn, client_auth, trust, crl, server_names, key_backend, "
	    "allow_sign)",
	    key, st->section);
}

static int
valid_profile_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= HO_PROFILE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-'))
			return 0;
	}
	return 1;
}

/* Called for the first key of every section: sets up where keys go. */
static int
enter_section(struct parse_state *st, const char *section)
{
	snprintf(st->section, sizeof(st->section), "%s", section);
	st->seen_count = 0;
	st->profile = NULL;
	if (strcmp(section, "daemon") == 0)
		return 1;
	if (strncmp(section, "profile ", 8) != 0)
		return refuse(st,
		    "unknown section [%s] (expected [daemon] or "
		    "[profile NAME])",
		    section);
	const char *name = section + 8;
	if (!valid_profile_name(name))
		return refuse(st,
		    "profile name \"%s\" must be 1 to %d letters, digits, "
		    "'.', '_' or '-'",
		    name, HO_PROFILE_NAME_MAX - 1);
	struct ho_config *cfg = st->cfg;
	for (int i = 0; i < cfg->profile_count; i++) {
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return refuse(
			    st, "profile \"%s\" is defined twice", name);
	}
	if (cfg->profile_count == HO_MAX_PROFILES)
		return refuse(st, "more than %d profiles", HO_MAX_PROFILES);
	st->profile = &cfg->profiles[cfg->profile_count++];
	memset(st->profile, 0, sizeof(*st->profile));
	snprintf(st->profile->name, sizeof(st->profile->name), "%s", name);
	return 1;
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_state *st = user;
	if (strcmp(section, st->section) != 0 || st->section[0] == '\0') {
		if (!enter_section(st, section))
			return 0;
	}
	for (int i = 0; i < st->seen_count; i++) {
		if (strcmp(st->seen[i], key) == 0)
			return refuse(
			    st, "%s is given twice in [%s]", key, section);
	}
	if (st->seen_count < MAX_KEYS)
		snprintf(st->seen[st->seen_count++], sizeof(st->seen[0]), "%s",
		    key);
	if (value == NULL || value[0] == '\0')
		return refuse(st, "%s has no value", key);
	int ok = st->profile ? profile_key(st, key, value)
	                     : daemon_key(st, key, value);
	if (!ok && st->why[0] == '\0')
		snprintf(st->why, sizeof(st->why), "out of memory");
	return ok;
}

/*
 * inih reports keys, not section headers, so a repeated section would
 * pass unseen.  This first pass reads the headers with their line numbers
 * and refuses duplicates.
 */
static int
scan_sections(FILE *f, const char *path, char *err, size_t errlen)
{
	char line[1024], seen[HO_MAX_PROFILES + 1][128];
	int count = 0, lineno = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		char *end = strchr(s, ']');
		if (*s != '[' || end == NULL)
			continue; /* not a header; inih judges the syntax */
		*end = '\0';
		for (int i = 0; i < count; i++) {
			if (strcmp(seen[i], s + 1) == 0) {
				snprintf(err, errlen,
				    "%s:%d: section [%s] appears twice", path,
				    lineno, s + 1);
				return -1;
			}
		}
		if (count == HO_MAX_PROFILES + 1) {
			snprintf(err, errlen, "%s:%d: more than %d profiles",
			    path, lineno, HO_MAX_PROFILES);
			return -1;
		}
		snprintf(seen[count++], sizeof(seen[0]), "%s", s + 1);
	}
	rewind(f);
	return 0;
}

int
ho_config_load(
    struct ho_config *cfg, const char *path, char *err, size_t errlen)
{
	struct parse_state st;
	memset(&st, 0, sizeof(st));
	st.cfg = cfg;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(
		    err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (scan_sections(f, path, err, errlen) != 0) {
		fclose(f);
		return -1;
	}
	int line = ini_parse_file(f, handler, &st);
	fclose(f);
	if (line == 0)
		return 0;
	if (st.why[0] == '\0') /* inih's own syntax error */
		snprintf(st.why, sizeof(st.why),
		    "not valid INI (expected [section] or key = value)");
	snprintf(err, errlen, "%s:%d: %s", path, line, st.why);
	return -1;
}

int
ho_config_check(
    const struct ho_config *cfg, const char *path, char *err, size_t errlen)
{
	for (int i = 0; i < cfg->profile_count; i++) {
		const struct ho_profile_config *p = &cfg->profiles[i];
		/* Neither is fine: such a profile only connects. */
		const char *missing = p->certificate != NULL && p->key == NULL
		    ? "key"
		    : p->certificate == NULL && p->key != NULL ? "certificate"
		                                               : NULL;
		if (missing != NULL) {
			snprintf(err, errlen,
			    "%s: [profile %s] has no %s = line (certificate "
			    "and key go together)",
			    path, p->name, missing);
			return -1;
		}
		if (p->allow_sign && p->certificate == NULL) {
			snprintf(err, errlen,
			    "%s: [profile %s] sets allow_sign but has no "
			    "certificate and key to sign with",
			    path, p->name);
			return -1;
		}
		if (p->crl != NULL && p->trust == NULL) {
			snprintf(err, errlen,
			    "%s: [profile %s] sets crl but no trust file for "
			    "it to go with",
			    path, p->name);
			return -1;
		}
		if (p->client_auth != HO_CLIENT_AUTH_NONE &&
		    p->trust == NULL) {
			snprintf(err, errlen,
			    "%s: [profile %s] sets client_auth but no trust "
			    "file to verify client certificates with",
			    path, p->name);
			return -1;
		}
	}
	if (cfg->profile_count == 0) {
		snprintf(err, errlen,
		    "%s: no [profile NAME] section: handoffd has nothing to "
		    "serve",
		    path);
		return -1;
	}
	return 0;
}

void
ho_config_free(struct ho_config *cfg)
{
	free(cfg->listen);
	free(cfg->user);
	for (int i = 0; i < cfg->profile_count; i++) {
		struct ho_profile_config *p = &cfg->profiles[i];
		free(p->certificate);
		free(p->key);
		free(p->priority);
		free(p->trust);
		free(p->crl);
		for (int j = 0; j < p->alpn_count; j++)
			free(p->alpn[j]);
		for (int j = 0; j < p->server_name_count; j++)
			free(p->server_names[j]);
	}
	memset(cfg, 0, sizeof(*cfg));
}
