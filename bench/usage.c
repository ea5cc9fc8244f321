/*
 * usage.c - what a process spends: the CPU time and the context switches
 * of all its threads, read from /proc, so a figure can say what each
 * handshake cost the server side (in-process GnuTLS, or libhandoff's
 * caller plus handoffd) besides how many there were.
 *
 * /proc/PID/stat counts CPU time in clock ticks (10 ms here), too coarse
 * for a second of handshakes; each thread's schedstat has its run time in
 * nanoseconds, and its status its voluntary and involuntary switches.  A
 * thread that ends between two readings takes its share with it, so
 * other processes are measured only while they keep their threads; for
 * this process, whose load threads come and go, getrusage() keeps the
 * count of the threads that ended.
 *
 * The record-layer figures also want one thread's user-space CPU time
 * alone (the record layer's own work, without the system calls that
 * move its bytes): getrusage(RUSAGE_THREAD), a Linux extension.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

/* Reads one thread's counters; 0 on success. */
static int
read_task(int pid, const char *tid, struct bench_usage *u)
{
	char path[400], line[256];
	unsigned long long run_ns;
	snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", pid, tid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	int ok = fscanf(f, "%llu", &run_ns) == 1;
	fclose(f);
	if (!ok)
		return -1;
	u->cpu_us += (double)run_ns / 1e3;
	snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, tid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long n;
		if (sscanf(line, "voluntary_ctxt_switches: %lu", &n) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %lu", &n) == 1)
			u->switches += (double)n;
	}
	fclose(f);
	return 0;
}

void
bench_usage_add(int pid, struct bench_usage *u)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			read_task(pid, e->d_name, u);
	closedir(d);
}

void
bench_usage_self(struct bench_usage *u)
{
	struct rusage ru;
	memset(u, 0, sizeof(*u));
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return;
	u->cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	u->switches = (double)(ru.ru_nvcsw + ru.ru_nivcsw);
}

double
bench_thread_user_us(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
}
