/*
 * cpus.h - how many CPUs this process may use (cpus.c).  handoffd starts
 * one worker per such CPU unless its config says otherwise, and
 * handoff-bench, which compiles cpus.c too, sizes its run the same way.
 */
#ifndef HANDOFFD_CPUS_H
#define HANDOFFD_CPUS_H

struct ho_cpus {
	unsigned online;   /* CPUs online in the machine, at least 1 */
	unsigned usable;   /* of those, what this process may use: 1..online */
	const char *limit; /* what holds usable below online: "its CPU
	                      affinity", "its cgroup's CPU quota"; "" */
};

/* Counts them now: the online CPUs, fewer when the CPU affinity
 * (taskset, a cpuset, systemd's CPUAffinity=) or the tightest CPU quota
 * on this process's cgroup and its ancestors (cgroup v2's cpu.max, v1's
 * cpu.cfs_quota_us: `docker run --cpus`, systemd's CPUQuota=), rounded
 * up, allows fewer. */
void ho_cpus_count(struct ho_cpus *out);

#endif
