/*
 * cli.c - handoff-bench's command line: its options, the sections --only
 * takes, the usage text, and the checks made before anything is
 * measured (the handoffd to start, the output paths), so that a mistake
 * is named at once rather than after minutes of measuring.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

/* What --only takes: every name main.c's wanted() is asked about. */
static const char *const sections[] = {"server", "latency", "scaling",
    "keyonly", "client", "records", "stall", "memory"};
#define SECTION_COUNT (sizeof(sections) / sizeof(sections[0]))

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: handoff-bench [--quick] [--json FILE] [--png FILE] "
	    "[--handoffd PATH] [--only SECTION[,SECTION...]]\n"
	    "Measures handoff against in-process GnuTLS on this "
	    "machine; see handoff-bench(1).\n"
	    "SECTION: one of");
	for (size_t i = 0; i < SECTION_COUNT; i++)
		fprintf(f, " %s", sections[i]);
	fprintf(f, "\n");
}

static int
known_section(const char *name, size_t len)
{
	for (size_t i = 0; i < SECTION_COUNT; i++)
		if (strlen(sections[i]) == len &&
		    strncmp(sections[i], name, len) == 0)
			return 1;
	return 0;
}

/* --only takes one section or several, comma-separated; each must be
 * known.  Returns 1, or 0 after naming the first that is not. */
static int
check_sections(const char *list)
{
	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		if (!known_section(p, len)) {
			fprintf(stderr, "handoff-bench: no section \"%.*s\"\n",
			    (int)len, p);
			return 0;
		}
		p += len;
		if (*p == '\0')
			return 1;
	}
}

int
bench_only_wants(const char *only, const char *name)
{
	if (only == NULL)
		return 1;
	size_t n = strlen(name);
	for (const char *p = only;; p++) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
		if (*p == '\0')
			return 0;
	}
}

/* Whether `path` (NULL: not asked for) can be written: a file there, or
 * the folder it would be made in.  Says why not, and what to do. */
static int
can_write(const char *what, const char *path)
{
	if (path == NULL)
		return 1;
	char folder[1024];
	snprintf(folder, sizeof(folder), "%s", path);
	struct stat st;
	int ok;
	if (stat(path, &st) == 0)
		ok = S_ISDIR(st.st_mode) ? (errno = EISDIR, 0)
		                         : access(path, W_OK) == 0;
	else if (stat(dirname(folder), &st) == 0)
		ok = S_ISDIR(st.st_mode) ? access(folder, W_OK) == 0
		                         : (errno = ENOTDIR, 0);
	else
		ok = 0;
	if (!ok)
		fprintf(stderr,
		    "handoff-bench: cannot write %s to %s: %s (give a path in "
		    "a folder you can write to)\n",
		    what, path, strerror(errno));
	return ok;
}

int
bench_parse_options(int argc, char **argv, struct bench_options *o)
{
	static const struct option opts[] = {{"quick", no_argument, NULL, 'q'},
	    {"json", required_argument, NULL, 'j'},
	    {"png", required_argument, NULL, 'p'},
	    {"handoffd", required_argument, NULL, 'd'},
	    {"only", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	memset(o, 0, sizeof(*o));
	int c;
	while ((c = getopt_long(argc, argv, "qj:p:d:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q': o->quick = 1; break;
		case 'o':
			o->only = optarg;
			if (!check_sections(o->only)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'j': o->json = optarg; break;
		case 'p': o->png = optarg; break;
		case 'd':
			snprintf(
			    o->handoffd, sizeof(o->handoffd), "%s", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o->handoffd[0] == '\0') { /* next to this program */
		char self[1024];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			bench_die("cannot find myself: use --handoffd");
		self[n] = '\0';
		snprintf(o->handoffd, sizeof(o->handoffd), "%s/handoffd",
		    dirname(self));
	}
	if (access(o->handoffd, X_OK) != 0)
		bench_die(
		    "no handoffd at %s (use --handoffd PATH)", o->handoffd);
	if (!can_write("the JSON", o->json) || !can_write("the chart", o->png))
		return 2;
	return -1;
}
