/*
 * targets.c - handoff's performance targets, judged against the figures
 * of this run: for each, what is wanted, what the run measured, and
 * whether it holds.  The targets are ratios against in-process GnuTLS
 * measured in the same run (bench/README.md, "The targets"), so someone
 * deciding whether offload pays on their machine reads the verdict for
 * that machine, not ours.  A target whose figures the run did not
 * measure (--only, or --quick's subset) is left out, never guessed.
 * Where the run measured what bounds a target on this machine, the
 * verdict says it too (ceiling_*), so that a target out of reach here
 * reads as such, whatever handoff does.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

enum bound { AT_LEAST, AT_MOST };

struct target {
	char what[64]; /* what is measured */
	enum bound bound;
	double wanted;    /* in unit */
	double measured;  /* in unit */
	const char *unit; /* "x" (a ratio), "us" or "KiB" */
	int met;
	char detail[160]; /* what else the reader needs, or "" */
};

static struct target targets[16]; /* room for more than judged */
static int ntargets;

static struct target *
add_target(const char *what, enum bound bound, double wanted, double measured,
    const char *unit)
{
	if (ntargets == (int)(sizeof(targets) / sizeof(targets[0])))
		bench_die("targets.c: more targets than room for them");
	struct target *t = &targets[ntargets++];
	snprintf(t->what, sizeof(t->what), "%s", what);
	t->bound = bound;
	t->wanted = wanted;
	t->measured = measured;
	t->unit = unit;
	t->met = bound == AT_LEAST ? measured >= wanted : measured <= wanted;
	t->detail[0] = '\0';
	return t;
}

/* A target on one figure's ratio, if the run measured it. */
static struct target *
ratio_target(
    const char *what, const char *section, const char *name, double wanted)
{
	const struct bench_row *r = bench_row_find(section, name);
	if (r == NULL)
		return NULL;
	struct target *t =
	    add_target(what, AT_LEAST, wanted, bench_row_ratio(r), "x");
	/* The rounds say whether the verdict is on the line: a target met
	 * in some rounds and not in others is not settled by this run. */
	double lo, hi;
	if (bench_round_range(&r->rounds, &lo, &hi)) {
		int met = 0;
		for (int i = 0; i < r->rounds.n; i++)
			met += r->rounds.rate[i] >= wanted;
		snprintf(t->detail, sizeof(t->detail),
		    "met in %d of %d rounds: %.2f-%.2fx", met, r->rounds.n, lo,
		    hi);
	}
	return t;
}

/* Appends "; text" (or "text") to a target's detail. */
static void
detail_add(struct target *t, const char *text)
{
	size_t used = strlen(t->detail);
	snprintf(t->detail + used, sizeof(t->detail) - used, "%s%s",
	    used ? "; " : "", text);
}

/* A record target's rate against the faster cipher alone: a record layer
 * sealing with a cipher cannot outrun it, and writing through a socket
 * adds the kernel's work on top, so a target at or above 100 % of it is
 * out of reach on this machine. */
static void
ceiling_cipher(
    struct target *t, const char *name, const struct bench_cipher_speed *alone)
{
	const struct bench_row *r = bench_row_find("records", name);
	double fastest = bench_cipher_fastest(alone);
	if (t == NULL || r == NULL || fastest <= 0)
		return;
	char text[80];
	snprintf(text, sizeof(text),
	    "the target here is %.0f %% of the cipher's own speed",
	    100 * t->wanted * r->gnutls / fastest);
	detail_add(t, text);
}

/* A full-handshake target's ratio if handoff's server side cost only
 * handoffd's crypto.  The cores are shared with the load generator: in
 * process each handshake used cpus x 1e6 / rate us of CPU in all, of
 * which the row's server CPU was the server's, the rest the load's.
 * With the server at its bare crypto the same cores would make
 * cpus x 1e6 / (load + crypto) handshakes/s.  A bound, not a forecast:
 * handoff's server side also runs TCP, GnuTLS's handshake code and the
 * IPC, so a target above this is out of reach on this machine.  Cores
 * not all busy in process would make `all`, and so the bound, too high,
 * never too low. */
static void
ceiling_crypto(struct target *t, const char *key, enum bench_key k,
    const struct bench_ceilings *c)
{
	char full[64], cpu[64];
	snprintf(full, sizeof(full), "%s full", key);
	snprintf(cpu, sizeof(cpu), "%s full server CPU per hs", key);
	const struct bench_row *rate = bench_row_find("server", full);
	const struct bench_row *server = bench_row_find("server", cpu);
	/* The crypto as timed in the figure's own rounds, where it was. */
	double crypto = c->offload_limit_in_rounds[k] > 0
	    ? c->cpus * 1e6 / c->offload_limit_in_rounds[k]
	    : c->costs->offload_sign_us[k] + c->costs->offload_kx_us;
	if (t == NULL || rate == NULL || server == NULL || rate->gnutls <= 0 ||
	    crypto <= 0)
		return;
	double all = c->cpus * 1e6 / rate->gnutls;
	double load = all - server->gnutls;
	if (load <= 0)
		return; /* the figures leave the load no share: no bound */
	char text[80];
	snprintf(text, sizeof(text),
	    "the server side at handoffd's bare crypto: %.2fx",
	    all / (load + crypto));
	detail_add(t, text);
}

void
bench_targets_judge(const struct bench_added_latency *lat,
    unsigned memory_in_flight, const struct bench_ceilings *c)
{
	struct target *t;
	ntargets = 0;
	t = ratio_target("AES-128-GCM 16 KiB records written", "records",
	    "AES-128-GCM 16 KiB write", 2.0);
	ceiling_cipher(t, "AES-128-GCM 16 KiB write", &c->aes128);
	t = ratio_target("ChaCha20-Poly1305 16 KiB records written", "records",
	    "CHACHA20-POLY1305 16 KiB write", 5.0);
	ceiling_cipher(t, "CHACHA20-POLY1305 16 KiB write", &c->chacha);
	t = ratio_target("full server handshakes/s, ECDSA-P256", "server",
	    "ECDSA-P256 full", 1.0);
	ceiling_crypto(t, "ECDSA-P256", BENCH_ECDSA, c);
	t = ratio_target("full server handshakes/s, RSA-2048", "server",
	    "RSA-2048 full", 2.5);
	ceiling_crypto(t, "RSA-2048", BENCH_RSA, c);

	/* Handoff's own resumed rate over its own full rate; in-process
	 * GnuTLS's beside it, since the key exchange bounds both. */
	const struct bench_row *full =
	    bench_row_find("server", "ECDSA-P256 full");
	const struct bench_row *resumed =
	    bench_row_find("server", "ECDSA-P256 resumed");
	if (full != NULL && resumed != NULL && full->handoff > 0 &&
	    full->gnutls > 0) {
		t = add_target("resumed / full handshakes/s (handoff, ECDSA)",
		    AT_LEAST, 4.0, resumed->handoff / full->handoff, "x");
		snprintf(t->detail, sizeof(t->detail),
		    "in-process GnuTLS: %.2fx",
		    resumed->gnutls / full->gnutls);
	}

	/* The wall clock's p99, with the loop thread's own CPU time beside
	 * it: the wall clock also counts time the loop sat preempted. */
	t = ratio_target("event-loop iteration p99, GnuTLS / handoff", "stall",
	    "ECDSA-P256 loop iteration p99", 10.0);
	const struct bench_row *cpu = bench_row_find(
	    "stall", "ECDSA-P256 iteration p99, loop's CPU time");
	if (t != NULL && cpu != NULL) {
		char text[48];
		snprintf(text, sizeof(text), "in the loop's CPU time: %.1fx",
		    bench_row_ratio(cpu));
		detail_add(t, text);
	}

	const struct bench_row *held = bench_row_find(
	    "memory", "handoffd, session held (cert requested)");
	if (held != NULL) {
		t = add_target("handoffd's memory per handshake in flight",
		    AT_MOST, 64.0, held->handoff, "KiB");
		snprintf(t->detail, sizeof(t->detail), "%u in flight%s",
		    memory_in_flight,
		    memory_in_flight < 5000 ? "; the target's figure: 5000"
		                            : "");
	}

	if (lat->rounds > 0) {
		t = add_target("added latency of a full handshake, low load",
		    AT_MOST, lat->target_us, lat->added_us, "us");
		snprintf(t->detail, sizeof(t->detail),
		    "2 x %.0f us round trip + 50; %d of %d rounds within",
		    lat->rtt_p50_us, lat->rounds_met, lat->rounds);
	}
}

static void
format_value(
    char *buf, size_t len, const char *prefix, double v, const char *unit)
{
	if (strcmp(unit, "x") == 0)
		snprintf(buf, len, "%s%.2fx", prefix, v);
	else
		snprintf(buf, len, "%s%.1f %s", prefix, v, unit);
}

void
bench_targets_print(int quick)
{
	if (ntargets == 0)
		return;
	printf("\nTargets: handoff against in-process GnuTLS, judged in this "
	       "run (bench/README.md)%s\n  %-44s %12s %12s\n",
	    quick ? "; --quick's 1 s figures move a lot: judge a full run"
	          : "",
	    "", "wanted", "measured");
	int met = 0;
	for (int i = 0; i < ntargets; i++) {
		const struct target *t = &targets[i];
		char wanted[32], measured[32];
		format_value(wanted, sizeof(wanted),
		    t->bound == AT_LEAST ? ">= " : "<= ", t->wanted, t->unit);
		format_value(
		    measured, sizeof(measured), "", t->measured, t->unit);
		/* The status last, so no line ends in a ratio: a figure's
		 * row is one that does. */
		printf("  %-44s %12s %12s  %s%s%s%s\n", t->what, wanted,
		    measured, t->met ? "met" : "NOT met",
		    t->detail[0] ? " (" : "", t->detail,
		    t->detail[0] ? ")" : "");
		met += t->met;
	}
	printf("  %d of %d targets met in this run\n", met, ntargets);
}

void
bench_targets_json(FILE *f)
{
	fprintf(f, "  \"targets\": [");
	for (int i = 0; i < ntargets; i++) {
		const struct target *t = &targets[i];
		fprintf(f,
		    "%s\n    {\"target\": \"%s\", \"bound\": \"%s\", "
		    "\"wanted\": %.6g, \"measured\": %.6g, \"unit\": \"%s\", "
		    "\"met\": %s, \"detail\": \"%s\"}",
		    i ? "," : "", t->what,
		    t->bound == AT_LEAST ? "at least" : "at most", t->wanted,
		    t->measured, t->unit, t->met ? "true" : "false",
		    t->detail);
	}
	fprintf(f, "%s],\n", ntargets ? "\n  " : "");
}
