/*
 * steadiness.c - whether the host kept one speed through the run.  On a
 * shared virtual machine a run can fall into a slow spell: every figure
 * that crosses threads then reads lower, on one side more than the other,
 * and nothing in the table says so.  So the run times the same three
 * things at its start, before each section and at its end: GnuTLS's
 * X25519 on one core (the median of nettle's key share and secret: the
 * CPU's speed for crypto), a chain of dependent multiplies (the core's
 * clock: one instruction at a time leaves its execution units to
 * whoever shares them) and one thread waking another (what every IPC
 * hop pays).  The table's last lines give each point, how far the
 * points spread, and whether the host's speed moved during the run and
 * why; the JSON carries the same.  Across runs, compare their points
 * the same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/curve25519.h>

#include "bench.h"

/* The start, nine sections (sign and verify apart from keyonly's
 * handshakes) and the end: 11, with room. */
#define MAX_POINTS 12
/* Points further apart than this (X25519) or this many times (the
 * wake-up) mean the host's speed moved during the run.  On the AMD EPYC
 * guest of 2026-12-07 it often did: in half-minute `--only
 * latency,stall` runs X25519's median moved by 15-84 % between points
 * (105 against 185 us in one), the wake-up by 1.2-1.5x (up to 5x
 * in `--quick` runs, whose points are timed for less). */
#define KX_CHANGE 0.15
#define WAKEUP_CHANGE 2.0
/* X25519 moving over KX_CHANGE and more than this many times as far as
 * the dependent chain means the core's execution units were shared,
 * not its clock slowed (a slower clock moves both alike).  On that host
 * X25519 and a loop of independent multiplies swung ~1.8x together while
 * the chain's median held within 10 % (bench/HISTORY.md, "Two speeds
 * of one core"); in one full run X25519 spread 94 % and the chain 11 %. */
#define SHARED_CORE_FACTOR 3.0
/* Steps in one timed chain: ~5 cycles each, a few microseconds in all,
 * so that the clock read around it is a small part. */
#define CHAIN_STEPS 4096

enum column { KX, CHAIN, WAKEUP };

struct point {
	const char *at;   /* "start", a section's name, "end" */
	double kx_us;     /* GnuTLS's X25519 key share and secret */
	double chain_us;  /* CHAIN_STEPS dependent multiplies */
	double wakeup_us; /* one thread waking another */
};

static struct point points[MAX_POINTS];
static int npoints;

static void
add(const struct point *p)
{
	if (npoints == MAX_POINTS)
		return;
	points[npoints++] = *p;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The middle one of `n` timings, which it sorts; 0 if there are none. */
static double
median(double *took, size_t n)
{
	qsort(took, n, sizeof(took[0]), by_value);
	return n > 0 ? took[n / 2] : 0;
}

/* The median of GnuTLS's X25519 (nettle's key share and secret, as in
 * limit.c), timed one at a time for `seconds`: a median, so that the
 * few exchanges preempted in the middle do not move it, where a slower
 * CPU moves them all. */
static double
kx_median_us(double seconds)
{
	static double took[4096];
	uint8_t scalar[32], point[32], out[32];
	memset(scalar, 7, sizeof(scalar));
	curve25519_mul_g(point, scalar);
	size_t n = 0;
	double end = bench_now() + seconds;
	while (n < sizeof(took) / sizeof(took[0]) && bench_now() < end) {
		scalar[0] = (uint8_t)n;
		double t0 = bench_now();
		curve25519_mul_g(out, scalar);
		curve25519_mul(out, scalar, point);
		took[n++] = (bench_now() - t0) * 1e6;
	}
	return median(took, n);
}

/* Kept where the compiler must assume it is read, so that the chain is
 * computed. */
static volatile uint64_t chain_end;

/* The median time of CHAIN_STEPS dependent multiplies, timed one chain at
 * a time for `seconds`: each step waits for the one before, so the
 * time follows the core's clock and hardly what else the core runs. */
static double
chain_median_us(double seconds)
{
	static double took[8192];
	uint64_t x = chain_end | 1;
	size_t n = 0;
	double end = bench_now() + seconds;
	while (n < sizeof(took) / sizeof(took[0]) && bench_now() < end) {
		double t0 = bench_now();
		for (int i = 0; i < CHAIN_STEPS; i++) {
			x *= 0x9E3779B97F4A7C15u;
			x ^= x >> 29;
		}
		took[n++] = (bench_now() - t0) * 1e6;
	}
	chain_end = x;
	return median(took, n);
}

void
bench_steadiness_check(const char *at, double seconds)
{
	struct point p = {.at = at};
	p.kx_us = kx_median_us(seconds);
	p.chain_us = chain_median_us(seconds / 4);
	p.wakeup_us = bench_wakeup_cost(seconds / 2);
	add(&p);
}

static double
value(const struct point *p, enum column c)
{
	return c == KX ? p->kx_us : c == CHAIN ? p->chain_us : p->wakeup_us;
}

/* x as the JSON prints it, three decimals: the verdict and its cause
 * are judged on these, so that anyone reading the JSON (the slow test
 * does) reaches the same ones, even at a threshold's edge. */
static double
as_printed(double x)
{
	char text[64];
	snprintf(text, sizeof(text), "%.3f", x);
	return strtod(text, NULL);
}

/* max / min - 1 of one column, as printed; 0 with fewer than two
 * points. */
static double
spread(enum column c)
{
	double lo = 0, hi = 0;
	for (int i = 0; i < npoints; i++) {
		double v = value(&points[i], c);
		if (i == 0 || v < lo)
			lo = v;
		if (i == 0 || v > hi)
			hi = v;
	}
	return lo > 0 ? as_printed(hi / lo - 1) : 0;
}

static int
steady(void)
{
	return spread(KX) <= KX_CHANGE && spread(WAKEUP) + 1 <= WAKEUP_CHANGE;
}

/* Why the host's speed moved, from which columns moved: one word for
 * the JSON, and the clause the table prints after it. */
static const char *
cause(const char **why)
{
	if (steady()) {
		*why = "";
		return "none";
	}
	if (spread(KX) <= KX_CHANGE) {
		*why = "only the wake-up moved: the host's scheduling";
		return "scheduling";
	}
	if (spread(KX) > SHARED_CORE_FACTOR * spread(CHAIN)) {
		*why =
		    "X25519 moved far more than the dependent chain: the "
		    "core's execution units were shared with work outside "
		    "this run (an SMT sibling's), more than its clock moved";
		return "shared core";
	}
	*why = "X25519 and the dependent chain moved alike: the core's "
	       "clock";
	return "clock";
}

void
bench_steadiness_print(void)
{
	if (npoints < 2)
		return;
	printf("\nHost steadiness: GnuTLS's X25519 on one core / %d "
	       "dependent multiplies / one thread waking another (us), at "
	       "the start, before each section and at the end\n ",
	    CHAIN_STEPS);
	for (int i = 0; i < npoints; i++)
		printf(" %s %.1f / %.1f / %.1f%s", points[i].at,
		    points[i].kx_us, points[i].chain_us, points[i].wakeup_us,
		    i + 1 < npoints ? "," : "\n");
	/* At the verdict's precision (as_printed), so that a spread on a
	 * threshold reads as the verdict takes it. */
	printf("  spread: X25519 %.1f %%, dependent chain %.1f %%, wake-up "
	       "%.3fx: ",
	    100 * spread(KX), 100 * spread(CHAIN), spread(WAKEUP) + 1);
	const char *why;
	cause(&why);
	if (steady())
		printf("the host held one speed through the run\n");
	else
		printf("the host's speed moved during the run (over %.0f %% "
		       "or %.0fx); %s. Each ratio compares sides measured in "
		       "alternating rounds, but figures compare less well "
		       "across sections and runs\n",
		    100 * KX_CHANGE, WAKEUP_CHANGE, why);
}

void
bench_steadiness_json(FILE *f)
{
	fprintf(f, "  \"steadiness\": {\"points\": [");
	for (int i = 0; i < npoints; i++)
		fprintf(f,
		    "%s{\"at\": \"%s\", \"x25519_us\": %.1f, "
		    "\"chain_us\": %.2f, \"thread_wakeup_us\": %.2f}",
		    i ? ", " : "", points[i].at, points[i].kx_us,
		    points[i].chain_us, points[i].wakeup_us);
	const char *why;
	fprintf(f,
	    "], \"x25519_spread\": %.3f, \"chain_spread\": %.3f, "
	    "\"thread_wakeup_spread\": %.3f, \"steady\": %s, "
	    "\"cause\": \"%s\"},\n",
	    spread(KX), spread(CHAIN), spread(WAKEUP) + 1,
	    steady() ? "true" : "false", cause(&why));
}
