/*
 * config.c - the library's settings object (handoff_config_*).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff_internal.h"

struct handoff_config *
handoff_config_new(void)
{
	struct handoff_config *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	const char *env = getenv(HANDOFF_DAEMON_ENV);
	if (env != NULL && env[0] != '\0' &&
	    strlen(env) < sizeof(c->daemon_url))
		snprintf(c->daemon_url, sizeof(c->daemon_url), "%s", env);
	else if (handoff_default_daemon_url(
	             c->daemon_url, sizeof(c->daemon_url)) != 0)
		c->daemon_url[0] = '\0';
	snprintf(c->profile, sizeof(c->profile), "default");
	c->deadline_ms = HANDOFF_DEFAULT_DEADLINE_MS;
	c->handshake_timeout_ms = HANDOFF_DEFAULT_HANDSHAKE_TIMEOUT_MS;
	return c;
}

void
handoff_config_free(struct handoff_config *config)
{
	if (config == NULL)
		return;
	ho_buf_free(&config->ca_pem);
	free(config);
}

int
handoff_config_set_ca_file(struct handoff_config *config, const char *path)
{
	FILE *f = path != NULL ? fopen(path, "r") : NULL;
	if (f == NULL) {
		snprintf(config->err, sizeof(config->err),
		    "cannot read CA file %s: %s", path ? path : "(null)",
		    path ? strerror(errno) : "no path given");
		return -1;
	}
	struct ho_buf pem = {0};
	char chunk[4096];
	size_t n;
	int bad = 0;
	while (!bad && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		bad = ho_buf_append(&pem, chunk, n) != 0 ||
		    ho_buf_used(&pem) > HO_PROTO_MAX_BYTES;
	bad = bad || ferror(f);
	fclose(f);
	if (bad || ho_buf_used(&pem) == 0 ||
	    memmem(ho_buf_data(&pem), ho_buf_used(&pem),
	        "-----BEGIN CERTIFICATE-----", 27) == NULL) {
		snprintf(config->err, sizeof(config->err), "CA file %s: %s",
		    path,
		    ho_buf_used(&pem) > HO_PROTO_MAX_BYTES
		        ? "larger than 128 KiB"
		        : "holds no PEM certificate");
		ho_buf_free(&pem);
		return -1;
	}
	ho_buf_free(&config->ca_pem);
	config->ca_pem = pem;
	return 0;
}

int
handoff_config_set_daemon(struct handoff_config *config, const char *url)
{
	if (url == NULL ||
	    (strncmp(url, "ipc://", 6) != 0 &&
	        strncmp(url, "tcp://", 6) != 0)) {
		snprintf(config->err, sizeof(config->err),
		    "daemon URL must start with ipc:// or tcp://");
		return -1;
	}
	if (strlen(url) >= sizeof(config->daemon_url)) {
		snprintf(config->err, sizeof(config->err),
		    "daemon URL is longer than %zu bytes",
		    sizeof(config->daemon_url) - 1);
		return -1;
	}
	snprintf(config->daemon_url, sizeof(config->daemon_url), "%s", url);
	return 0;
}

int
handoff_config_set_profile(struct handoff_config *config, const char *profile)
{
	if (profile == NULL || profile[0] == '\0' ||
	    strlen(profile) > HO_PROTO_MAX_STR) {
		snprintf(config->err, sizeof(config->err),
		    "profile name must be 1 to %d bytes", HO_PROTO_MAX_STR);
		return -1;
	}
	snprintf(config->profile, sizeof(config->profile), "%s", profile);
	return 0;
}

int
handoff_config_set_deadline_ms(struct handoff_config *config, unsigned ms)
{
	if (ms == 0) {
		snprintf(config->err, sizeof(config->err),
		    "deadline must be at least 1 ms");
		return -1;
	}
	config->deadline_ms = ms;
	return 0;
}

int
handoff_config_set_handshake_timeout_ms(
    struct handoff_config *config, unsigned ms)
{
	config->handshake_timeout_ms = ms;
	return 0;
}

void
handoff_config_insecure_noverifycert(struct handoff_config *config)
{
	config->no_verify = 1;
}

const char *
handoff_config_error(struct handoff_config *config)
{
	return config->err;
}
