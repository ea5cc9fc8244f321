/*
 * steadiness.c - whether the host kept one speed through the run.  On a
 * shared virtual machine a run can fall into a slow spell: every figure
 * that crosses threads then reads lower, on one side more than the other,
 * and nothing in the table says so.  So the run times the same two things
 * at its start, before each section and at its end: GnuTLS's X25519 on
 * one core (the median of nettle's key share and secret: the CPU's
 * speed) and one thread waking another (what every IPC hop pays).  The
 * table's last lines give each point, how far the points spread, and
 * whether the host's speed moved during the run; the JSON carries the
 * same.  Across runs, compare their points the same way.
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

struct point {
	const char *at;   /* "start", a section's name, "end" */
	double kx_us;     /* GnuTLS's X25519 key share and secret */
	double wakeup_us; /* one thread waking another */
};

static struct point points[MAX_POINTS];
static int npoints;

static void
add(const char *at, double kx_us, double wakeup_us)
{
	if (npoints == MAX_POINTS)
		return;
	points[npoints++] = (struct point){at, kx_us, wakeup_us};
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
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
	qsort(took, n, sizeof(took[0]), by_value);
	return n > 0 ? took[n / 2] : 0;
}

void
bench_steadiness_check(const char *at, double seconds)
{
	double kx_us = kx_median_us(seconds);
	add(at, kx_us, bench_wakeup_cost(seconds / 2));
}

/* max / min - 1 of one column; 0 with fewer than two points. */
static double
spread(int wakeup)
{
	double lo = 0, hi = 0;
	for (int i = 0; i < npoints; i++) {
		double v = wakeup ? points[i].wakeup_us : points[i].kx_us;
		if (i == 0 || v < lo)
			lo = v;
		if (i == 0 || v > hi)
			hi = v;
	}
	return lo > 0 ? hi / lo - 1 : 0;
}

static int
steady(void)
{
	return spread(0) <= KX_CHANGE && spread(1) + 1 <= WAKEUP_CHANGE;
}

void
bench_steadiness_print(void)
{
	if (npoints < 2)
		return;
	printf("\nHost steadiness: GnuTLS's X25519 on one core / one thread "
	       "waking another (us), at the start, before each section and "
	       "at the end\n ");
	for (int i = 0; i < npoints; i++)
		printf(" %s %.1f / %.1f%s", points[i].at, points[i].kx_us,
		    points[i].wakeup_us, i + 1 < npoints ? "," : "\n");
	printf("  spread: X25519 %.0f %%, wake-up %.1fx: ", 100 * spread(0),
	    spread(1) + 1);
	if (steady())
		printf("the host held one speed through the run\n");
	else
		printf("the host's speed moved during the run (over %.0f %% "
		       "or %.0fx): each ratio compares sides measured in "
		       "alternating rounds, but figures compare less well "
		       "across sections and runs\n",
		    100 * KX_CHANGE, WAKEUP_CHANGE);
}

void
bench_steadiness_json(FILE *f)
{
	fprintf(f, "  \"steadiness\": {\"points\": [");
	for (int i = 0; i < npoints; i++)
		fprintf(f,
		    "%s{\"at\": \"%s\", \"x25519_us\": %.1f, "
		    "\"thread_wakeup_us\": %.2f}",
		    i ? ", " : "", points[i].at, points[i].kx_us,
		    points[i].wakeup_us);
	fprintf(f,
	    "], \"x25519_spread\": %.3f, \"thread_wakeup_spread\": %.3f, "
	    "\"steady\": %s},\n",
	    spread(0), spread(1) + 1, steady() ? "true" : "false");
}
