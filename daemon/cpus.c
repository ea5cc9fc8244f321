/*
 * cpus.c - how many CPUs this process may use: the online ones, or fewer
 * when its CPU affinity (taskset, a cpuset) or its cgroup's CPU quota
 * (cgroup v2's cpu.max, or v1's cpu.cfs_quota_us: what `docker run
 * --cpus` and systemd's CPUQuota= set) allows fewer.  handoffd's default
 * worker count and handoff-bench's threads come from it: in a container
 * or under taskset, threads sized for all the machine's CPUs only queue
 * for the few they may use, and under a quota they spend it in a burst
 * and then wait out the rest of each period (CFS throttling).
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpus.h"

/* The cgroup path of this process in the hierarchy whose line in
 * /proc/self/cgroup has `controllers` ("" for cgroup v2's "0::"), e.g.
 * "/user.slice/x"; "" if there is none. */
static void
cgroup_path(const char *controllers, char *out, size_t len)
{
	out[0] = '\0';
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (f == NULL)
		return;
	char line[1024];
	while (fgets(line, sizeof(line), f) != NULL) {
		char *list = strchr(line, ':');
		char *path = list ? strchr(list + 1, ':') : NULL;
		if (path == NULL)
			continue;
		*path++ = '\0';
		list++;
		int match = controllers[0] == '\0' ? list[0] == '\0' : 0;
		/* v1 lists its controllers comma-separated: "cpu,cpuacct". */
		char *save = NULL;
		for (char *c = strtok_r(list, ",", &save); !match && c != NULL;
		     c = strtok_r(NULL, ",", &save))
			match = strcmp(c, controllers) == 0;
		if (match) {
			path[strcspn(path, "\n")] = '\0';
			snprintf(out, len, "%s", path);
			break;
		}
	}
	fclose(f);
}

/* Reads up to two numbers from a file; returns how many it read.  "max"
 * (cgroup v2's "no limit") reads as -1. */
static int
read_numbers(const char *path, long long *a, long long *b)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	char first[32] = "";
	int n = fscanf(f, "%31s %lld", first, b);
	fclose(f);
	if (n < 1)
		return 0;
	*a = strcmp(first, "max") == 0 ? -1 : atoll(first);
	return n;
}

/* The CPUs a quota allows, rounded up: at least 1; 0 for no quota. */
static unsigned
quota_cpus(long long quota, long long period)
{
	if (quota <= 0 || period <= 0)
		return 0;
	long long n = (quota + period - 1) / period;
	return n < 1 ? 1 : (unsigned)n;
}

/* The tightest CPU quota on this process's cgroup and its ancestors
 * (cgroup v2's cpu.max, or v1's cpu.cfs_quota_us over
 * cpu.cfs_period_us: what `docker run --cpus` and systemd's CPUQuota=
 * set), in CPUs; 0 when none limits it. */
static unsigned
cgroup_quota_cpus(void)
{
	char rel[512], dir[1024];
	unsigned best = 0;
	int v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
	if (v2)
		cgroup_path("", rel, sizeof(rel));
	else
		cgroup_path("cpu", rel, sizeof(rel));
	if (rel[0] != '/')
		return 0;
	for (;;) {
		long long quota = 0, period = 0;
		unsigned n = 0;
		if (v2) {
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s/cpu.max",
			    strcmp(rel, "/") == 0 ? "" : rel);
			if (read_numbers(dir, &quota, &period) == 2)
				n = quota_cpus(quota, period);
		} else {
			const char *base = "/sys/fs/cgroup/cpu";
			const char *sub = strcmp(rel, "/") == 0 ? "" : rel;
			long long unused;
			snprintf(dir, sizeof(dir), "%s%s/cpu.cfs_quota_us",
			    base, sub);
			if (read_numbers(dir, &quota, &unused) >= 1) {
				snprintf(dir, sizeof(dir),
				    "%s%s/cpu.cfs_period_us", base, sub);
				if (read_numbers(dir, &period, &unused) >= 1)
					n = quota_cpus(quota, period);
			}
		}
		if (n > 0 && (best == 0 || n < best))
			best = n;
		char *slash = strrchr(rel, '/');
		if (slash == NULL || strcmp(rel, "/") == 0)
			break;
		if (slash == rel)
			rel[1] = '\0'; /* the root, last */
		else
			*slash = '\0';
	}
	return best;
}

void
ho_cpus_count(struct ho_cpus *out)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	out->online = out->usable = online > 0 ? (unsigned)online : 1;
	out->limit = "";
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    CPU_COUNT(&set) > 0 && (unsigned)CPU_COUNT(&set) < out->usable) {
		out->usable = (unsigned)CPU_COUNT(&set);
		out->limit = "its CPU affinity";
	}
	unsigned quota = cgroup_quota_cpus();
	if (quota > 0 && quota < out->usable) {
		out->usable = quota;
		out->limit = "its cgroup's CPU quota";
	}
}
