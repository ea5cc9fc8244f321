/*
 * table.c - the run's figures: each printed as a row of the table when it
 * is measured (both sides, the ratio, and the spread of the rounds'
 * ratios), and kept for what reads them afterwards: the targets
 * (targets.c, through bench_row_find), the JSON's results and the PNG
 * chart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define ROWS_MAX 256

static struct bench_row rows[ROWS_MAX];
static int nrows;

int
bench_rows_count(void)
{
	return nrows;
}

/* A figure's row; with `ratios` (not NULL), its ratio in each
 * alternating round, whose spread follows the ratio. */
void
bench_add_row_with(const char *section, const char *name, const char *unit,
    double gnutls, double handoff, int lower_is_better,
    const struct bench_round_rates *ratios)
{
	if (nrows == ROWS_MAX)
		return;
	struct bench_row *r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->section, sizeof(r->section), "%s", section);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	r->gnutls = gnutls;
	r->handoff = handoff;
	r->lower_is_better = lower_is_better;
	if (ratios != NULL)
		r->rounds = *ratios;
	int prec = strcmp(unit, "GB/s") == 0 ? 2 : 1;
	printf("  %-44s %12.*f %12.*f %-6s %6.2fx", name, prec, gnutls, prec,
	    handoff, unit, bench_row_ratio(r));
	double lo, hi;
	if (bench_round_range(&r->rounds, &lo, &hi))
		printf("  (%d rounds: %.2f-%.2fx)", r->rounds.n, lo, hi);
	printf("\n");
	fflush(stdout);
}

void
bench_add_row(const char *section, const char *name, const char *unit,
    double gnutls, double handoff, int lower_is_better)
{
	bench_add_row_with(
	    section, name, unit, gnutls, handoff, lower_is_better, NULL);
}

/* A row with its ratio in each round, taken the way the run's is:
 * handoff / GnuTLS for a rate, GnuTLS / handoff for a time
 * (bench_round_ratios divides its second argument's rounds by its
 * first's). */
void
bench_add_rounds_row(const char *section, const char *name, const char *unit,
    double gnutls, double handoff, int lower_is_better,
    const struct bench_round_rates *g_rounds,
    const struct bench_round_rates *h_rounds)
{
	struct bench_round_rates ratios;
	if (lower_is_better)
		bench_round_ratios(h_rounds, g_rounds, &ratios);
	else
		bench_round_ratios(g_rounds, h_rounds, &ratios);
	bench_add_row_with(
	    section, name, unit, gnutls, handoff, lower_is_better, &ratios);
}

/* A rate's row (higher is better), with each round's ratio. */
void
bench_add_rate_row(const char *section, const char *name, const char *unit,
    double gnutls, double handoff, const struct bench_round_rates *g_rounds,
    const struct bench_round_rates *h_rounds)
{
	bench_add_rounds_row(
	    section, name, unit, gnutls, handoff, 0, g_rounds, h_rounds);
}

double
bench_row_ratio(const struct bench_row *r)
{
	if (r->lower_is_better)
		return r->handoff > 0 ? r->gnutls / r->handoff : 0;
	return r->gnutls > 0 ? r->handoff / r->gnutls : 0;
}

const struct bench_row *
bench_row_find(const char *section, const char *name)
{
	for (int i = 0; i < nrows; i++)
		if (strcmp(rows[i].section, section) == 0 &&
		    strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

void
bench_section(const char *title)
{
	printf("\n%s\n  %-44s %12s %12s %-6s %7s\n", title, "", "GnuTLS",
	    "handoff", "", "ratio");
}

void
bench_rows_json(FILE *f)
{
	fprintf(f, "  \"results\": [\n");
	for (int i = 0; i < nrows; i++) {
		fprintf(f,
		    "    {\"section\": \"%s\", \"name\": \"%s\", \"unit\": "
		    "\"%s\", \"gnutls\": %.6g, \"handoff\": %.6g, \"ratio\": "
		    "%.4g, \"lower_is_better\": %s",
		    rows[i].section, rows[i].name, rows[i].unit,
		    rows[i].gnutls, rows[i].handoff, bench_row_ratio(&rows[i]),
		    rows[i].lower_is_better ? "true" : "false");
		for (int k = 0; k < rows[i].rounds.n; k++)
			fprintf(f, "%s%.9g%s",
			    k ? ", " : ", \"round_ratios\": [",
			    rows[i].rounds.rate[k],
			    k + 1 < rows[i].rounds.n ? "" : "]");
		fprintf(f, "}%s\n", i + 1 < nrows ? "," : "");
	}
	fprintf(f, "  ]\n");
}

/* A bar chart of every ratio through gnuplot: a bar from 1 (parity) to
 * the ratio, on a log scale, one line per figure. */
int
bench_rows_png(const char *path, const char *dir)
{
	char data[600], script[1400];
	snprintf(data, sizeof(data), "%s/ratios.dat", dir);
	FILE *f = fopen(data, "w");
	if (f == NULL)
		return -1;
	for (int i = 0; i < nrows; i++) {
		double r = bench_row_ratio(&rows[i]);
		r = r > 0 ? r : 1e-3; /* the log scale has no 0 */
		fprintf(f, "%d \"%s: %s\" %.4f\n", nrows - 1 - i,
		    rows[i].section, rows[i].name, r);
	}
	fclose(f);
	snprintf(script, sizeof(script),
	    "gnuplot -e \"set terminal pngcairo size 1200,%d font ',9'; "
	    "set output '%s'; set title 'handoff / in-process GnuTLS, same "
	    "run (right of 1: handoff ahead)'; set logscale x 2; set grid x; "
	    "set yrange [-1:%d]; unset key; set style fill solid 0.6; "
	    "plot '%s' using 3:1:(\\$3<1?\\$3:1):(\\$3<1?1:\\$3):"
	    "(\\$1-0.35):(\\$1+0.35):ytic(2) with boxxyerror\" 2>&1",
	    160 + 16 * nrows, path, nrows, data);
	return system(script) == 0 ? 0 : -1;
}
