/*
 * main.c - handoff-bench: runs every figure for in-process GnuTLS and for
 * handoff in the same run, then prints a table (each figure with its
 * ratio as it is measured: table.c; last the performance targets judged
 * on them: targets.c), and optionally JSON (--json) and a PNG chart
 * (--png, gnuplot).
 *
 *   handoff-bench [--quick] [--json FILE] [--png FILE] [--handoffd PATH]
 *                 [--only SECTION[,SECTION...]]
 *
 * --quick runs a subset with short measurements (under a minute); the
 * full run takes a few minutes.  Ratios are handoff / GnuTLS for rates
 * (higher is better) and GnuTLS / handoff for times (higher is better),
 * so every ratio above 1 means handoff is ahead.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "handoff.h"

static struct bench_costs costs;
static struct bench_machine machine; /* what the run measured on */
/* Full handshakes/s the cores allow with nothing but the asymmetric
 * crypto: in process (GnuTLS's signer), and with handoffd's signer. */
static double limit_per_sec[BENCH_KEY_COUNT];
static double offload_limit_per_sec[BENCH_KEY_COUNT];
/* The same, with the crypto timed before each round of the key's full
 * server figure (bench_crypto_round); 0 for a key not measured. */
static double limit_in_rounds[BENCH_KEY_COUNT];
static double offload_limit_in_rounds[BENCH_KEY_COUNT];
static struct bench_added_latency latency; /* run_latency's */
static unsigned memory_in_flight;          /* run_memory's handshakes */
static int quick;
/* Every side-by-side figure's sides take turns in this many rounds
 * (bench_alternate): 5 of 1 s in a full run, 2 of 0.5 s with --quick. */
static int rounds;
static const char *only; /* --only's sections, or NULL for all */

static int
wanted(const char *name)
{
	return bench_only_wants(only, name);
}

/* How long each steadiness check times the host (steadiness.c). */
static double checkpoint_seconds;

static int
checkpoint(const char *at)
{
	bench_steadiness_check(at, checkpoint_seconds);
	return 1;
}

/* Whether the run measures this section; if so, the host's speed is
 * timed first. */
static int
about_to_run(const char *section)
{
	return wanted(section) && checkpoint(section);
}

static const char *profile_of[BENCH_KEY_COUNT] = {"ecdsa", "rsa", "ed25519"};

/* What each handshake cost the measured side, split for handoff between
 * its callers and handoffd; the other side (the load generator, or for
 * client handshakes the server) is left out: it is the same for both. */
static void
print_usage_split(const char *what, const struct bench_hs_result *g,
    const struct bench_hs_result *h)
{
	char label[64];
	snprintf(label, sizeof(label), "(%s side per handshake)", what);
	printf("  %-44s GnuTLS %.0f us, %.1f sw; handoff: callers %.0f us, "
	       "%.1f sw + handoffd %.0f us, %.1f sw\n",
	    label, g->side.cpu_us, g->side.switches, h->side.cpu_us,
	    h->side.switches, h->daemon.cpu_us, h->daemon.switches);
}

static void
add_usage_rows(const char *section, const char *name,
    const struct bench_hs_result *g, const struct bench_hs_result *h)
{
	char row[128];
	snprintf(row, sizeof(row), "%s %s CPU per hs", name, section);
	bench_add_row(section, row, "us", g->side.cpu_us,
	    h->side.cpu_us + h->daemon.cpu_us, 1);
	snprintf(row, sizeof(row), "%s %s switches per hs", name, section);
	bench_add_row(section, row, "sw", g->side.switches,
	    h->side.switches + h->daemon.switches, 1);
	print_usage_split(section, g, h);
}

/* The rows of one handshake figure: rate, latency p50 and p99, and what
 * a handshake cost each side; then any failures, and any handshakes of
 * a resumed figure that ran full, which make it partly a full one. */
static void
add_hs_rows(const char *section, const char *name,
    const struct bench_hs_result *g, const struct bench_hs_result *h)
{
	char row[128];
	bench_add_rate_row(section, name, "hs/s", g->per_sec, h->per_sec,
	    &g->rounds, &h->rounds);
	snprintf(row, sizeof(row), "%s latency p50", name);
	bench_add_row(section, row, "us", g->p50_us, h->p50_us, 1);
	snprintf(row, sizeof(row), "%s latency p99", name);
	bench_add_row(section, row, "us", g->p99_us, h->p99_us, 1);
	add_usage_rows(section, name, g, h);
	if (g->failures + h->failures > 0)
		printf("  (failures: GnuTLS %lu, handoff %lu)\n", g->failures,
		    h->failures);
	if (g->unresumed + h->unresumed > 0)
		printf("  (did not resume, ran full: GnuTLS %lu of %lu, "
		       "handoff %lu of %lu)\n",
		    g->unresumed, g->count, h->unresumed, h->count);
}

/* Takes handshake figure f, certificate kind k, on both sides in
 * alternating rounds, and adds its rows to `section`. */
static void
run_hs_figure(const char *section, const struct bench_hs_figure *f, int k,
    double secs, struct bench_hs_result *g, struct bench_hs_result *h)
{
	bench_hs_alternating(f, BENCH_HANDOFF, secs, rounds, g, h);
	char name[96];
	snprintf(name, sizeof(name), "%s %s", bench_key_names[k],
	    f->resumed ? "resumed" : "full");
	add_hs_rows(section, name, g, h);
}

static void
run_server_handshakes(const struct bench_cert *certs, const char *url,
    int daemon_pid, double secs, unsigned cpus)
{
	bench_section(
	    "Server handshakes, TLS 1.3 X25519 (handshakes/s; latency us)");
	int kinds = quick ? 2 : BENCH_KEY_COUNT;
	for (int k = 0; k < kinds; k++) {
		for (int resumed = 0; resumed < 2; resumed++) {
			if (quick && k > 0 && resumed)
				continue;
			struct bench_hs_result g, h;
			struct bench_crypto_rounds crypto = {.certs = certs,
			    .key = (enum bench_key)k,
			    .seconds = quick ? 0.02 : 0.08};
			struct bench_hs_figure f = {.role = BENCH_SERVER_ROLE,
			    .cert = &certs[k],
			    .daemon_url = url,
			    .profile = profile_of[k],
			    .daemon_pid = daemon_pid,
			    .resumed = resumed,
			    .servers = 4 * cpus,
			    .processes = 1,
			    .clients = 4 * cpus,
			    .before_round =
			        resumed ? NULL : bench_crypto_round,
			    .before_arg = &crypto};
			run_hs_figure("server", &f, k, secs, &g, &h);
			double *lim = &limit_in_rounds[k];
			double *off = &offload_limit_in_rounds[k];
			if (bench_crypto_rounds_limits(
			        &crypto, cpus, lim, off))
				printf("  %-44s %11.0f%% %11.0f%%  of each "
				       "side's crypto limit, timed in these "
				       "rounds (%.0f, %.0f hs/s)\n",
				    "", 100 * g.per_sec / *lim,
				    100 * h.per_sec / *off, *lim, *off);
		}
	}
}

/* Added latency at low load: one client, one connection at a time.  The
 * two sides take turns in short rounds (which one goes first alternates),
 * and each round also measures an IPC round trip: the host's speed drifts
 * over seconds on a VM, and a figure taken as a difference of two
 * measurements made apart would carry that drift.  The table gives the
 * p50 of all rounds together and the spread of the rounds' own. */
static void
run_latency(const struct bench_cert *certs, const char *url, int daemon_pid,
    const char *dir, double secs)
{
	enum { ROUNDS = 5 };
	bench_section(
	    "Latency at low load: one client, sequential full handshakes "
	    "(us)");
	struct bench_samples pooled[2] = {{0}};
	struct bench_hs_result total[2];
	memset(total, 0, sizeof(total));
	double added[ROUNDS], rtt[ROUNDS], rtt_p99;
	int met = 0;
	struct bench_hs_figure f = {.role = BENCH_SERVER_ROLE,
	    .cert = &certs[BENCH_ECDSA],
	    .daemon_url = url,
	    .profile = profile_of[BENCH_ECDSA],
	    .daemon_pid = daemon_pid,
	    .servers = 1,
	    .processes = 1,
	    .clients = 1};
	/* bench_hs_alternating's rounds, with a round trip after each. */
	for (int r = 0; r < ROUNDS; r++) {
		struct bench_hs_result one[2];
		for (int turn = 0; turn < 2; turn++) {
			int side = (r + turn) % 2; /* 0: GnuTLS, 1: handoff */
			bench_hs_measure(&f,
			    side ? BENCH_HANDOFF : BENCH_GNUTLS, secs / ROUNDS,
			    &pooled[side], &one[side]);
			bench_hs_total_add(&total[side], &one[side]);
		}
		bench_ipc_round_trip(
		    dir, quick ? 0.1 : 0.3, &rtt[r], &rtt_p99);
		added[r] = one[1].p50_us - one[0].p50_us;
		met += added[r] <= 2 * rtt[r] + 50;
	}
	struct bench_hs_result *g = &total[0], *h = &total[1];
	for (int side = 0; side < 2; side++)
		bench_hs_total_finish(&total[side], &pooled[side]);
	struct bench_samples rtts = {0};
	double lowest = added[0], highest = added[0];
	for (int r = 0; r < ROUNDS; r++) {
		bench_samples_add(&rtts, rtt[r]);
		lowest = added[r] < lowest ? added[r] : lowest;
		highest = added[r] > highest ? added[r] : highest;
	}
	double rtt_p50 = bench_quantile(&rtts, 0.50);
	bench_samples_free(&rtts);
	latency.added_us = h->p50_us - g->p50_us;
	latency.target_us = 2 * rtt_p50 + 50;
	latency.rtt_p50_us = rtt_p50;
	latency.rounds = ROUNDS;
	latency.rounds_met = met;
	latency.lowest_us = lowest;
	latency.highest_us = highest;

	bench_add_row(
	    "latency", "ECDSA-P256 full p50", "us", g->p50_us, h->p50_us, 1);
	bench_add_row(
	    "latency", "ECDSA-P256 full p99", "us", g->p99_us, h->p99_us, 1);
	printf("  %-44s %12s %12.0f us over the in-process baseline (p50)\n",
	    "added by offload", "", latency.added_us);
	/* The target, in round trips measured between the rounds. */
	printf("  %-44s %12s %12.0f us: 2 IPC round trips (p50 %.0f us) + "
	       "50 us; added = %.1f round trips\n",
	    "(target)", "", latency.target_us, rtt_p50,
	    rtt_p50 > 0 ? latency.added_us / rtt_p50 : 0);
	printf("  %-44s %12s %5.0f-%.0f us; within the target in %d of %d "
	       "rounds\n",
	    "(each round, sides alternating)", "", lowest, highest, met,
	    ROUNDS);
	print_usage_split("server", g, h);
}

/* Resumed client handshakes need handoffd's client cache, which the
 * run's daemon keeps off (its full figures must be full): a daemon of
 * their own, with the cache at its default. */
static void
run_client_handshakes(const struct bench_cert *certs, const char *url,
    int daemon_pid, const char *handoffd, const char *dir, double secs,
    unsigned cpus)
{
	bench_section(
	    "Client handshakes with chain verification (handshakes/s; "
	    "latency us)");
	int cache_pid;
	const char *cache_url = bench_daemon_start_with(
	    handoffd, dir, certs, cpus, "", &cache_pid);
	int kinds = quick ? 1 : BENCH_KEY_COUNT;
	for (int k = 0; k < kinds; k++) {
		for (int resumed = 0; resumed < 2; resumed++) {
			struct bench_hs_result g, h;
			struct bench_hs_figure f = {.role = BENCH_CLIENT_ROLE,
			    .cert = &certs[k],
			    .daemon_url = resumed ? cache_url : url,
			    .profile = profile_of[k],
			    .daemon_pid = resumed ? cache_pid : daemon_pid,
			    .resumed = resumed,
			    .clients = 4 * cpus};
			run_hs_figure("client", &f, k, secs, &g, &h);
		}
	}
	bench_daemon_stop(cache_pid);
	free((char *)cache_url);
}

static const char *record_ciphers[] = {
    "AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305"};
/* Each cipher alone (bench/ciphers.c), when the records section ran. */
static struct bench_cipher_speed cipher_alone[3];

static void
run_records(const struct bench_cert *certs, const char *url, double secs)
{
	static const size_t sizes[] = {1024, 16384};
	bench_section("Record layer, TLS 1.3 (GB/s of plaintext; the measured "
	              "thread's user CPU us per record)");
	for (int i = 0; i < 3; i++) {
		if (quick && i == 1)
			continue;
		/* The ceiling for this cipher's rows. */
		bench_cipher_alone(
		    record_ciphers[i], quick ? 0.2 : 0.5, &cipher_alone[i]);
		printf("  (%s alone, 16 KiB sealed in place on one core: "
		       "GnuTLS %.2f GB/s, libcrypto %.2f GB/s)\n",
		    record_ciphers[i], cipher_alone[i].gnutls_gbps,
		    cipher_alone[i].libcrypto_gbps);
		for (int j = 0; j < 2; j++) {
			if (quick && j == 0)
				continue;
			struct bench_rec_result g, h;
			bench_records(record_ciphers[i], sizes[j],
			    &certs[BENCH_ECDSA], url, secs, rounds, &g, &h);
			char name[96];
			const char *c = record_ciphers[i];
			size_t kib = sizes[j] / 1024;
			snprintf(
			    name, sizeof(name), "%s %zu KiB write", c, kib);
			bench_add_rate_row("records", name, "GB/s",
			    g.write_gbps, h.write_gbps, &g.write_rounds,
			    &h.write_rounds);
			snprintf(name, sizeof(name),
			    "%s %zu KiB write, user CPU", c, kib);
			bench_add_row("records", name, "us", g.write_user_us,
			    h.write_user_us, 1);
			snprintf(
			    name, sizeof(name), "%s %zu KiB read", c, kib);
			bench_add_rate_row("records", name, "GB/s",
			    g.read_gbps, h.read_gbps, &g.read_rounds,
			    &h.read_rounds);
			snprintf(name, sizeof(name),
			    "%s %zu KiB read, user CPU", c, kib);
			bench_add_row("records", name, "us", g.read_user_us,
			    h.read_user_us, 1);
		}
	}
}

static void
run_stall(const struct bench_cert *certs, const char *url, double secs,
    unsigned cpus)
{
	bench_section(
	    "Event-loop stall: one epoll thread under handshake load "
	    "(us busy per iteration)");
	struct bench_stall_result g, h;
	bench_event_loop_stall(&certs[BENCH_ECDSA], url,
	    profile_of[BENCH_ECDSA], 2 * cpus, secs, rounds, &g, &h);
	/* Iterations are pooled across rounds for the run's quantiles, so
	 * a run's ratio need not lie between its rounds' own. */
	bench_add_rounds_row("stall", "ECDSA-P256 loop iteration p99", "us",
	    g.p99_us, h.p99_us, 1, &g.p99_rounds, &h.p99_rounds);
	bench_add_rounds_row("stall", "ECDSA-P256 loop iteration max", "us",
	    g.max_us, h.max_us, 1, &g.max_rounds, &h.max_rounds);
	bench_add_rounds_row("stall",
	    "ECDSA-P256 iteration p99, loop's CPU time", "us", g.cpu_p99_us,
	    h.cpu_p99_us, 1, &g.cpu_p99_rounds, &h.cpu_p99_rounds);
	bench_add_rate_row("stall", "ECDSA-P256 handshakes by the loop",
	    "hs/s", g.per_sec, h.per_sec, &g.rate_rounds, &h.rate_rounds);
}

/* handoff's server with 1, 2 and 4 daemon workers and 1 or 2 caller
 * processes.  Each row's GnuTLS column is in-process GnuTLS with the same
 * server threads and processes, measured in rounds alternating with that
 * row's handoff side: the host's speed moves by up to ~1.8x over minutes,
 * so a baseline timed in another section would carry that move into the
 * ratio. */
static void
run_scaling(const struct bench_cert *certs, const char *handoffd,
    const char *dir, double secs, unsigned cpus)
{
	bench_section(
	    "Scaling: handoff ECDSA-P256 full handshakes/s by daemon "
	    "workers and caller processes (GnuTLS column: in-process with "
	    "the same threads and processes, in alternating rounds)");
	unsigned workers[] = {1, 2, 4};
	unsigned procs[] = {1, 2};
	for (int w = 0; w < 3; w++) {
		if (workers[w] > 2 * cpus || (quick && w == 2))
			continue;
		int pid;
		const char *url =
		    bench_daemon_start(handoffd, dir, certs, workers[w], &pid);
		for (int p = 0; p < 2; p++) {
			if (quick && p == 1)
				continue;
			struct bench_hs_result g, h;
			struct bench_hs_figure f = {.role = BENCH_SERVER_ROLE,
			    .cert = &certs[BENCH_ECDSA],
			    .daemon_url = url,
			    .profile = "ecdsa",
			    .daemon_pid = pid,
			    .servers = 4 * cpus,
			    .processes = procs[p],
			    .clients = 4 * cpus};
			/* --quick keeps its one second a row, both sides
			 * together, to stay within its minute. */
			bench_hs_alternating(&f, BENCH_HANDOFF,
			    quick ? secs / 2 : secs, rounds, &g, &h);
			char name[96];
			snprintf(name, sizeof(name),
			    "%u worker(s), %u caller process(es)", workers[w],
			    procs[p]);
			bench_add_rate_row("scaling", name, "hs/s", g.per_sec,
			    h.per_sec, &g.rounds, &h.rounds);
			if (g.failures + h.failures > 0)
				printf("  (failures: GnuTLS %lu, handoff "
				       "%lu)\n",
				    g.failures, h.failures);
		}
		bench_daemon_stop(pid);
		free((char *)url);
	}
}

/* A GnuTLS server that keeps its handshake and puts only its key in
 * handoffd (handoff_gnutls.h), against the same server holding its key:
 * same threads, same load. */
static void
run_keyonly_handshakes(const struct bench_cert *certs, const char *url,
    int daemon_pid, double secs, unsigned cpus)
{
	bench_section(
	    "Key-only offload (handoff_gnutls.h): GnuTLS servers, the "
	    "key in process or in handoffd (handshakes/s)");
	int kinds = quick ? 2 : BENCH_KEY_COUNT;
	for (int k = 0; k < kinds; k++) {
		struct bench_hs_result g, h;
		char profile[32], name[96];
		snprintf(profile, sizeof(profile), "%s-sign", profile_of[k]);
		struct bench_hs_figure f = {.role = BENCH_SERVER_ROLE,
		    .cert = &certs[k],
		    .daemon_url = url,
		    .profile = profile,
		    .daemon_pid = daemon_pid,
		    .servers = 4 * cpus,
		    .processes = 1,
		    .clients = 4 * cpus};
		bench_hs_alternating(&f, BENCH_KEYONLY, secs, rounds, &g, &h);
		snprintf(name, sizeof(name), "%s full", bench_key_names[k]);
		bench_add_rate_row("keyonly", name, "hs/s", g.per_sec,
		    h.per_sec, &g.rounds, &h.rounds);
		snprintf(name, sizeof(name), "%s full latency p50",
		    bench_key_names[k]);
		bench_add_row("keyonly", name, "us", g.p50_us, h.p50_us, 1);
		snprintf(name, sizeof(name), "%s full", bench_key_names[k]);
		add_usage_rows("keyonly", name, &g, &h);
		if (g.failures + h.failures > 0)
			printf("  (failures: GnuTLS %lu, handoff %lu)\n",
			    g.failures, h.failures);
	}
}

/* Signatures alone through handoff_gnutls.h's key object, and chain
 * verifications, from handoffd's cache (the main daemon) or not (one
 * started with verify_cache_size = 0). */
static void
run_sign_verify(const struct bench_cert *certs, const char *url,
    const char *handoffd, const char *dir, double secs, unsigned cpus)
{
	bench_section(
	    "SIGN and VERIFY offload (handoff_gnutls.h): the operation "
	    "in process or in handoffd, 2 x CPUs threads");
	struct bench_rate g, h;
	char profile[32], name[96];
	for (int k = 0; k < BENCH_KEY_COUNT; k++) {
		snprintf(profile, sizeof(profile), "%s-sign", profile_of[k]);
		bench_sign_rates(
		    &certs[k], url, profile, 2 * cpus, secs, rounds, &g, &h);
		snprintf(name, sizeof(name), "%s sign", bench_key_names[k]);
		bench_add_rate_row("sign", name, "ops/s", g.per_sec, h.per_sec,
		    &g.rounds, &h.rounds);
		snprintf(name, sizeof(name), "%s sign latency p50",
		    bench_key_names[k]);
		bench_add_row("sign", name, "us", g.p50_us, h.p50_us, 1);
		if (g.failures + h.failures > 0)
			printf("  (failures: GnuTLS %lu, handoff %lu)\n",
			    g.failures, h.failures);
	}
	/* A leaf signed by the ECDSA certificate, which profile "ecdsa"
	 * trusts. */
	gnutls_datum_t leaf = {NULL, 0};
	const struct bench_cert *ca = &certs[BENCH_ECDSA];
	bench_make_leaf(ca, &leaf);
	int pid;
	const char *nocache = bench_daemon_start_with(
	    handoffd, dir, certs, cpus, "verify_cache_size = 0\n", &pid);
	for (int hit = 0; hit < 2; hit++) {
		struct bench_rate v;
		bench_verify_rates(ca, &leaf, hit ? url : nocache, "ecdsa",
		    2 * cpus, secs, rounds, &g, &v);
		snprintf(name, sizeof(name), "ECDSA-P256 chain verify, %s",
		    hit ? "cache hit" : "cache miss");
		bench_add_rate_row("verify", name, "ops/s", g.per_sec,
		    v.per_sec, &g.rounds, &v.rounds);
		snprintf(name, sizeof(name),
		    "ECDSA-P256 chain verify latency p50, %s",
		    hit ? "hit" : "miss");
		bench_add_row("verify", name, "us", g.p50_us, v.p50_us, 1);
		if (g.failures + v.failures > 0)
			printf("  (failures: GnuTLS %lu, handoff %lu)\n",
			    g.failures, v.failures);
	}
	bench_daemon_stop(pid);
	free((char *)nocache);
	gnutls_free(leaf.data);
}

static void
write_json(const char *path, unsigned cpus)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		bench_die("cannot write %s", path);
	time_t now = time(NULL);
	char date[64];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f,
	    "{\n  \"tool\": \"handoff-bench\",\n  \"version\": \"%s\",\n"
	    "  \"date\": \"%s\",\n  \"quick\": %s,\n  \"cpus\": %u,\n"
	    "  \"cpus_online\": %u,\n  \"cpus_limit\": \"%s\",\n"
	    "  \"gnutls\": \"%s\",\n  \"cpu_model\": \"%s\",\n"
	    "  \"cpu_features\": \"%s\",\n  \"virtual_machine\": %s,\n"
	    "  \"kernel\": \"%s\",\n  \"openssl\": \"%s\",\n",
	    HANDOFF_VERSION_STRING, date, quick ? "true" : "false", cpus,
	    bench_cpus_online(), bench_cpus_limit(),
	    gnutls_check_version(NULL), machine.cpu_model,
	    machine.cpu_features, machine.virtual_machine ? "true" : "false",
	    machine.kernel, machine.openssl);
	fprintf(f, "  \"costs_us\": {");
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		fprintf(f, "\"sign_%s\": %.2f, \"sign_offload_%s\": %.2f, ",
		    bench_key_names[k], costs.sign_us[k], bench_key_names[k],
		    costs.offload_sign_us[k]);
	fprintf(f,
	    "\"x25519\": %.2f, \"x25519_offload\": %.2f, \"syscall\": "
	    "%.3f, \"thread_wakeup\": "
	    "%.2f, \"ipc_round_trip_p50\": %.1f, \"ipc_round_trip_p99\": "
	    "%.1f, \"bare_round_trip_p50\": %.1f, \"bare_round_trip_p99\": "
	    "%.1f},\n  \"crypto_limit_hs_per_s\": {",
	    costs.kx_us, costs.offload_kx_us, costs.syscall_us,
	    costs.wakeup_us, costs.ipc_rtt_p50_us, costs.ipc_rtt_p99_us,
	    costs.bare_rtt_p50_us, costs.bare_rtt_p99_us);
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		fprintf(f, "%s\"%s\": %.0f", k ? ", " : "", bench_key_names[k],
		    limit_per_sec[k]);
	fprintf(f, "},\n  \"crypto_limit_offload_hs_per_s\": {");
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		fprintf(f, "%s\"%s\": %.0f", k ? ", " : "", bench_key_names[k],
		    offload_limit_per_sec[k]);
	fprintf(f, "},\n  \"crypto_limit_in_rounds_hs_per_s\": {");
	for (int k = 0, n = 0; k < BENCH_KEY_COUNT; k++)
		if (limit_in_rounds[k] > 0)
			fprintf(f,
			    "%s\"%s\": {\"gnutls\": %.0f, "
			    "\"handoffd\": %.0f}",
			    n++ ? ", " : "", bench_key_names[k],
			    limit_in_rounds[k], offload_limit_in_rounds[k]);
	fprintf(f, "},\n  \"cipher_alone_gbps\": {");
	for (int i = 0, n = 0; i < 3; i++)
		if (cipher_alone[i].gnutls_gbps > 0)
			fprintf(f,
			    "%s\"%s\": {\"gnutls\": %.3f, \"libcrypto\": "
			    "%.3f}",
			    n++ ? ", " : "", record_ciphers[i],
			    cipher_alone[i].gnutls_gbps,
			    cipher_alone[i].libcrypto_gbps);
	fprintf(f, "},\n");
	bench_steadiness_json(f);
	if (latency.rounds > 0)
		fprintf(f,
		    "  \"added_latency\": {\"added_us\": %.1f, \"target_us\": "
		    "%.1f, \"ipc_round_trip_p50_us\": %.1f, \"rounds\": %d, "
		    "\"rounds_within_target\": %d, \"lowest_round_us\": %.1f, "
		    "\"highest_round_us\": %.1f},\n",
		    latency.added_us, latency.target_us, latency.rtt_p50_us,
		    latency.rounds, latency.rounds_met, latency.lowest_us,
		    latency.highest_us);
	bench_targets_json(f);
	bench_rows_json(f);
	fprintf(f, "}\n");
	fclose(f);
}

/* A fresh daemon of its own, so that its resident memory grows only by
 * what the handshakes in flight hold. */
static void
run_memory(const struct bench_cert *certs, const char *handoffd,
    const char *dir, unsigned cpus)
{
	unsigned n = quick ? 500 : 5000;
	memory_in_flight = n;
	char title[128];
	snprintf(title, sizeof(title),
	    "Memory: %u ECDSA-P256 server handshakes in flight at once "
	    "(KiB each)",
	    n);
	bench_section(title);
	int pid;
	const char *url = bench_daemon_start(handoffd, dir, certs, cpus, &pid);
	struct bench_mem_result g, h, held;
	const struct bench_cert *c = &certs[BENCH_ECDSA];
	bench_memory(BENCH_GNUTLS, c, url, NULL, pid, n, &g);
	bench_memory(BENCH_HANDOFF, c, url, "ecdsa", pid, n, &h);
	bench_memory(BENCH_HANDOFF, c, url, "ecdsa-held", pid, n, &held);
	bench_daemon_stop(pid);
	free((char *)url);
	/* GnuTLS column: the in-process server's heap, the whole state. */
	bench_add_row("memory", "server process's heap (handoff: the caller)",
	    "KiB", g.self_kib, h.self_kib, 1);
	bench_add_row("memory", "handoffd, session held (cert requested)",
	    "KiB", g.self_kib, held.daemon_kib, 1);
	bench_add_row("memory", "in total, one trip (caller + handoffd)",
	    "KiB", g.self_kib, h.self_kib + h.daemon_kib, 1);
	printf("  (one trip: handoffd grew %.1f KiB per handshake, holding no "
	       "session while the client's Finished travels)\n",
	    h.daemon_kib);
	printf("  (target: handoffd <= 64 KiB per handshake in flight)\n");
}

int
main(int argc, char **argv)
{
	struct bench_options opt;
	int status = bench_parse_options(argc, argv, &opt);
	if (status >= 0)
		return status; /* --help, or a mistake named */
	quick = opt.quick;
	only = opt.only;
	const char *json = opt.json, *png = opt.png, *handoffd = opt.handoffd;
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);

	const char *dir = bench_make_run_dir();
	unsigned cpus = bench_cpus();
	double secs = quick ? 1.0 : 5.0;
	rounds = quick ? 2 : 5;
	checkpoint_seconds = quick ? 0.1 : 0.25;
	double start = bench_now();
	printf("handoff-bench %s%s: %u CPU%s, GnuTLS %s, %.0f s per figure\n",
	    HANDOFF_VERSION_STRING, quick ? " --quick" : "", cpus,
	    cpus == 1 ? "" : "s", gnutls_check_version(NULL), secs);
	bench_machine_read(&machine);
	printf("Machine: %s%s (CPU features: %s), Linux %s, %s",
	    machine.cpu_model,
	    machine.virtual_machine ? ", a virtual machine" : "",
	    machine.cpu_features[0] ? machine.cpu_features : "none listed",
	    machine.kernel, machine.openssl);
	if (bench_cpus_limit()[0] != '\0')
		printf("; %u of %u online CPUs usable (%s)", cpus,
		    bench_cpus_online(), bench_cpus_limit());
	printf("\n");
	struct bench_cert certs[BENCH_KEY_COUNT];
	bench_make_certs(dir, certs);

	bench_measure_costs(certs, dir, quick ? 0.3 : 1.0, &costs);
	printf("\nCrypto costs on one core: ");
	for (int k = 0; k < BENCH_KEY_COUNT; k++) {
		printf(
		    "%s sign %.1f us", bench_key_names[k], costs.sign_us[k]);
		printf(" (handoffd's signer, %s: %.1f us)",
		    k == BENCH_ED25519 ? "libsodium" : "libcrypto",
		    costs.offload_sign_us[k]);
		printf(", ");
		/* A full server handshake: one signature, one X25519. */
		limit_per_sec[k] =
		    cpus * 1e6 / (costs.sign_us[k] + costs.kx_us);
		offload_limit_per_sec[k] = cpus * 1e6 /
		    (costs.offload_sign_us[k] + costs.offload_kx_us);
	}
	printf(
	    "X25519 %.1f us (handoffd's, its key share and shared secret "
	    "by libsodium: %.1f us)\nThe limit (the cores doing nothing but a "
	    "server's asymmetric work), in process: ",
	    costs.kx_us, costs.offload_kx_us);
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		printf("%s %.0f hs/s%s", bench_key_names[k], limit_per_sec[k],
		    k + 1 < BENCH_KEY_COUNT ? ", " : "; ");
	printf("with handoffd's crypto: ");
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		printf("%s %.0f hs/s%s", bench_key_names[k],
		    offload_limit_per_sec[k],
		    k + 1 < BENCH_KEY_COUNT ? ", " : "\n");
	printf("What IPC is made of: a system call %.2f us, a thread waking "
	       "another %.1f us; one IPC round trip (nanomsg REQ/REP, "
	       "ipc://, 2 KiB, another process) p50 %.0f us, p99 %.0f us; "
	       "the same over a bare unix socket (no nanomsg) p50 %.0f us, "
	       "p99 %.0f us\n",
	    costs.syscall_us, costs.wakeup_us, costs.ipc_rtt_p50_us,
	    costs.ipc_rtt_p99_us, costs.bare_rtt_p50_us,
	    costs.bare_rtt_p99_us);

	checkpoint("start");
	int pid;
	const char *url = bench_daemon_start(handoffd, dir, certs, cpus, &pid);
	if (about_to_run("server"))
		run_server_handshakes(certs, url, pid, secs, cpus);
	if (about_to_run("latency"))
		run_latency(certs, url, pid, dir, secs);
	/* Server processes are forked, and nanomsg does not survive a fork
	 * once this process has used it (client, records and stall do):
	 * every figure that forks handoff callers runs before those. */
	if (about_to_run("scaling"))
		run_scaling(certs, handoffd, dir, secs, cpus);
	if (about_to_run("keyonly"))
		run_keyonly_handshakes(certs, url, pid, secs, cpus);
	if (about_to_run("client"))
		run_client_handshakes(
		    certs, url, pid, handoffd, dir, secs, cpus);
	if (about_to_run("records"))
		run_records(certs, url, secs);
	if (about_to_run("stall"))
		run_stall(certs, url, secs, cpus);
	if (wanted("keyonly") && checkpoint("sign"))
		run_sign_verify(certs, url, handoffd, dir, secs, cpus);
	bench_daemon_stop(pid);
	free((char *)url);
	if (about_to_run("memory"))
		run_memory(certs, handoffd, dir, cpus);

	/* cipher_alone follows record_ciphers: AES-128-GCM first,
	 * ChaCha20-Poly1305 last. */
	struct bench_ceilings ceilings = {.costs = &costs,
	    .offload_limit_in_rounds = offload_limit_in_rounds,
	    .cpus = cpus,
	    .aes128 = cipher_alone[0],
	    .chacha = cipher_alone[2]};
	bench_targets_judge(&latency, memory_in_flight, &ceilings);
	bench_targets_print(quick);
	checkpoint("end");
	bench_steadiness_print();
	printf("\n%d figures in %.0f s\n", bench_rows_count(),
	    bench_now() - start);
	if (json != NULL) {
		write_json(json, cpus);
		printf("JSON: %s\n", json);
	}
	if (png != NULL) {
		if (bench_rows_png(png, dir) == 0)
			printf("chart: %s\n", png);
		else
			printf("chart: not written (is gnuplot installed? "
			       "apt-get install gnuplot-nox)\n");
	}
	bench_remove_run_dir();
	if (bench_daemon_unclean_stops() > 0) {
		fprintf(stderr,
		    "handoff-bench: %d handoffd(s) did not exit cleanly when "
		    "stopped (above): report it with their logs\n",
		    bench_daemon_unclean_stops());
		return 1;
	}
	return 0;
}
