/*
 * fuzz_handshake.c - libFuzzer target for one handshake step in handoffd:
 * hostile ClientHello bytes to a server-role session, hostile server
 * flights to a client-role session, exactly as the daemon's workers run
 * ho_handshake_step() (in process, no sockets).
 *
 * The first byte picks the role (bit 0) and, for a server, whether the
 * caller asked for one trip (bit 1: the daemon then writes the client's
 * Finished itself, finish_ahead.c); the rest is the peer's bytes.  A client
 * session first makes its ClientHello (a step with no input), then gets
 * the bytes.  Whatever the bytes, the step must not crash, must build a
 * well-formed reply frame, and must free the session's GnuTLS state when
 * it does not continue.  The profile (ECDSA P-256, self-signed, also its
 * own trust anchor) is made once in a temporary state directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoffd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct ho_profiles profiles;
static struct ho_config cfg;

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
	char dir[] = "/tmp/handoff-fuzz-hs.XXXXXX", cert[1024], key[1024];
	char err[512];
	check(mkdtemp(dir) != NULL);
	check(ho_selfsigned_ensure(
	          dir, cert, key, sizeof(cert), err, sizeof(err)) == 0);
	ho_config_defaults(&cfg);
	struct ho_profile_config *p = &cfg.profiles[cfg.profile_count++];
	snprintf(p->name, sizeof(p->name), "default");
	p->certificate = strdup(cert);
	p->key = strdup(key);
	p->trust = strdup(cert);
	check(ho_profiles_load(&profiles, &cfg, err, sizeof(err)) == 0);
	/* Loaded: the generated key need not stay on disk. */
	check(unlink(cert) == 0 && unlink(key) == 0 && rmdir(dir) == 0);
	check(ho_handshake_global_init(3600, err, sizeof(err)) == 0);
	return 0;
}

/* One step; checks the reply and frees what a finished step leaves. */
static enum ho_step_outcome
step(struct ho_session *s, const uint8_t *in, size_t len)
{
	struct ho_step_result res;
	int one_trip = s->finish.wanted;
	ho_handshake_step(s, in, len, NULL, &res);
	struct ho_proto_msg m;
	check(ho_proto_parse(res.reply.buf, res.reply.len, &m) == 0);
	check(m.type == HO_MSG_HS_CONTINUE || m.type == HO_MSG_HS_DONE ||
	    m.type == HO_MSG_ERROR);
	/* A server done in its first step was done in one trip: the reply
	 * must carry what the caller checks the client's Finished with. */
	if (m.type == HO_MSG_HS_DONE && s->role == HO_ROLE_SERVER)
		check(one_trip && m.f[HO_F_PEER_FINISHED].present &&
		    m.f[HO_F_HS_READ_SECRET].present);
	if (res.outcome != HO_STEP_CONTINUE && !res.keep)
		check(s->tls == NULL);
	ho_proto_buf_free(&res.reply);
	return res.outcome;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct ho_session *s = calloc(1, sizeof(*s));
	check(s != NULL);
	s->profile = &profiles.list[0];
	s->profiles = &profiles;
	s->role = data[0] & 1 ? HO_ROLE_CLIENT : HO_ROLE_SERVER;
	s->finish.wanted = s->role == HO_ROLE_SERVER && (data[0] & 2);
	snprintf(s->server_name, sizeof(s->server_name), "localhost");
	if (s->role == HO_ROLE_CLIENT)
		check(step(s, NULL, 0) == HO_STEP_CONTINUE);
	step(s, data + 1, size - 1);
	ho_handshake_free(s);
	ho_buf_free(&s->in);
	ho_buf_free(&s->out);
	ho_buf_free(&s->trust_pem);
	free(s);
	return 0;
}
