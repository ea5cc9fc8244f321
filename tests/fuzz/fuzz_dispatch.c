/*
 * fuzz_dispatch.c - libFuzzer target for handoffd's request dispatch, in
 * process: the daemon's real session table and step code, bound to an
 * inproc:// nanomsg address (no OS socket), fed one request frame per
 * input through the same dispatch() its workers feed.
 *
 * Each input is a frame with a routing header for a peer that does not
 * exist, so replies are built and sent but go nowhere.  Starts run their
 * first handshake step with the input's bytes on the calling thread, as
 * a worker would.  Tokens are random, so steps on live sessions are left
 * to fuzz_handshake.  Whatever the bytes: no crash, no leak, nothing left
 * running.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nanomsg/nn.h>

#include "handoffd.h"
#include "../sp_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct ho_config cfg;
static struct ho_profiles profiles;
static struct ho_daemon *daemon_;

static void
check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char dir[] = "/tmp/handoff-fuzz-dispatch.XXXXXX", cert[1024],
	     key[1024], err[512];
	check(mkdtemp(dir) != NULL);
	check(ho_selfsigned_ensure(
	          dir, cert, key, sizeof(cert), err, sizeof(err)) == 0);
	ho_config_defaults(&cfg);
	cfg.max_sessions = 256; /* reach "busy" too */
	cfg.session_timeout_ms = 1000;
	struct ho_profile_config *p = &cfg.profiles[cfg.profile_count++];
	snprintf(p->name, sizeof(p->name), "default");
	p->certificate = strdup(cert);
	p->key = strdup(key);
	p->trust = strdup(cert);
	p->allow_sign = 1; /* reach keyops.c's signing too */
	check(ho_profiles_load(&profiles, &cfg, err, sizeof(err)) == 0);
	/* Loaded: the generated key need not stay on disk. */
	check(unlink(cert) == 0 && unlink(key) == 0 && rmdir(dir) == 0);
	check(ho_handshake_global_init(3600, err, sizeof(err)) == 0);
	ho_log_init(1, HO_LOG_ERROR);
	check(ho_server_start(&daemon_, uv_default_loop(), &cfg, &profiles,
	          "inproc://handoff-fuzz-dispatch") == 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *route = sp_route_to_nowhere();
	check(route != NULL);
	ho_server_feed(daemon_, route, data, size);
	/* The step ran in the feed: nothing may be left claimed. */
	check(ho_server_inflight(daemon_) == 0);
	uv_run(uv_default_loop(), UV_RUN_NOWAIT);
	return 0;
}
