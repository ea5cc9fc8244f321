/*
 * rounds.c - both sides of a figure measured in alternating rounds.  On
 * this kind of machine (a VM on a shared host) the speed drifts over
 * seconds: in-process GnuTLS measured for five seconds and then handoff
 * for five carried that drift into the ratio (the same build read GnuTLS
 * at 2222 and at 2778 ECDSA handshakes/s in two runs).  Taken in short
 * rounds, the sides taking turns and the one going first alternating,
 * both see the same stretch of the host's speed.  bench_alternate runs
 * the rounds of any figure (handshakes, records, the stall, signatures
 * and verifications); for handshakes, a round's counts, run time and
 * usage add up here, and the latency quantiles come from the rounds'
 * samples pooled.
 */
#include <string.h>

#include "bench.h"

void
bench_hs_total_add(
    struct bench_hs_result *total, const struct bench_hs_result *round)
{
	/* Usage is per handshake in a round: weighted back into sums. */
	double n = (double)round->count;
	total->side.cpu_us += round->side.cpu_us * n;
	total->side.switches += round->side.switches * n;
	total->daemon.cpu_us += round->daemon.cpu_us * n;
	total->daemon.switches += round->daemon.switches * n;
	total->count += round->count;
	total->failures += round->failures;
	total->unresumed += round->unresumed;
	total->seconds += round->seconds;
	bench_round_rates_add(&total->rounds, round->per_sec);
}

void
bench_round_rates_add(struct bench_round_rates *r, double rate)
{
	if (r->n < BENCH_ROUNDS_MAX)
		r->rate[r->n++] = rate;
}

void
bench_round_ratios(const struct bench_round_rates *gnutls,
    const struct bench_round_rates *theirs, struct bench_round_rates *ratios)
{
	ratios->n = 0;
	for (int i = 0; i < gnutls->n && i < theirs->n; i++)
		if (gnutls->rate[i] > 0)
			bench_round_rates_add(
			    ratios, theirs->rate[i] / gnutls->rate[i]);
}

int
bench_round_range(const struct bench_round_rates *r, double *lo, double *hi)
{
	for (int i = 0; i < r->n; i++) {
		if (i == 0 || r->rate[i] < *lo)
			*lo = r->rate[i];
		if (i == 0 || r->rate[i] > *hi)
			*hi = r->rate[i];
	}
	return r->n > 0;
}

void
bench_hs_total_finish(
    struct bench_hs_result *total, struct bench_samples *pool)
{
	double n = total->count > 0 ? (double)total->count : 1;
	total->side.cpu_us /= n;
	total->side.switches /= n;
	total->daemon.cpu_us /= n;
	total->daemon.switches /= n;
	total->per_sec =
	    total->seconds > 0 ? (double)total->count / total->seconds : 0;
	total->p50_us = bench_quantile(pool, 0.50) * 1e6;
	total->p99_us = bench_quantile(pool, 0.99) * 1e6;
	bench_samples_free(pool);
}

void
bench_alternate(int rounds, double seconds,
    void (*measure)(int side, double seconds, void *arg), void *arg)
{
	rounds = rounds < 1 ? 1 : rounds;
	for (int r = 0; r < rounds; r++)
		for (int turn = 0; turn < 2; turn++)
			measure((r + turn) % 2, seconds / rounds, arg);
}

/* bench_hs_alternating's state across its rounds. */
struct hs_rounds {
	const struct bench_hs_figure *figure;
	enum bench_side sides[2];
	struct bench_samples pool[2];
	struct bench_hs_result *total[2];
	int turns; /* taken so far: a round starts at each even count */
};

static void
hs_round(int side, double seconds, void *arg)
{
	struct hs_rounds *h = arg;
	struct bench_hs_result one;
	if (h->turns++ % 2 == 0 && h->figure->before_round != NULL)
		h->figure->before_round(h->figure->before_arg);
	bench_hs_measure(
	    h->figure, h->sides[side], seconds, &h->pool[side], &one);
	bench_hs_total_add(h->total[side], &one);
}

void
bench_hs_alternating(const struct bench_hs_figure *f, enum bench_side other,
    double seconds, int rounds, struct bench_hs_result *gnutls,
    struct bench_hs_result *theirs)
{
	struct hs_rounds h = {.figure = f,
	    .sides = {BENCH_GNUTLS, other},
	    .total = {gnutls, theirs}};
	memset(gnutls, 0, sizeof(*gnutls));
	memset(theirs, 0, sizeof(*theirs));
	bench_alternate(rounds, seconds, hs_round, &h);
	for (int i = 0; i < 2; i++)
		bench_hs_total_finish(h.total[i], &h.pool[i]);
}
