/*
 * scheduling.c - the CPU scheduling policy handoffd's threads run under.
 *
 * handoffd shares the cores with the programs it serves.  Under Linux's
 * default policy a thread that wakes preempts the running one when it
 * has slept more, which a daemon thread woken by a request always has:
 * the request's sender (most often an event loop with other connections
 * to serve) was interrupted for a key exchange and a signature right
 * after sending, the very stall offload exists to avoid.  SCHED_BATCH
 * keeps handoffd's fair share of CPU time but makes its woken threads
 * wait for the running thread to block or end its turn instead.  On an
 * idle machine nothing changes.  The policy is set on the main thread
 * before any other thread exists, so every thread inherits it:
 * nanomsg's own I/O thread, which handoffd cannot reach otherwise, and
 * the workers.
 */
#define _GNU_SOURCE /* SCHED_BATCH, SCHED_IDLE, SCHED_RESET_ON_FORK */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "handoffd.h"

static const char *
policy_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER: return "SCHED_OTHER";
	case SCHED_BATCH: return "SCHED_BATCH";
	case SCHED_IDLE: return "SCHED_IDLE";
	case SCHED_FIFO: return "SCHED_FIFO";
	case SCHED_RR: return "SCHED_RR";
	default: return "another policy";
	}
}

int
ho_scheduling_apply(enum ho_scheduling wanted, char *note, size_t len)
{
	int raw = sched_getscheduler(0);
	if (raw < 0) {
		snprintf(note, len,
		    "cannot read the scheduling policy (%s): threads keep it",
		    strerror(errno));
		return wanted == HO_SCHEDULING_NORMAL ? 0 : -1;
	}
	/* systemd's CPUSchedulingResetOnFork= adds this flag; keep it. */
	int reset_on_fork = raw & SCHED_RESET_ON_FORK;
	int current = raw & ~SCHED_RESET_ON_FORK;
	if (wanted == HO_SCHEDULING_NORMAL) {
		snprintf(note, len, "threads keep %s (scheduling = normal)",
		    policy_name(current));
		return 0;
	}
	/* A policy chosen by whoever started us (chrt, systemd's
	 * CPUSchedulingPolicy=) is theirs to keep. */
	if (current != SCHED_OTHER) {
		snprintf(note, len,
		    "threads keep %s, which handoffd was started with",
		    policy_name(current));
		return 0;
	}
	struct sched_param param = {.sched_priority = 0};
	if (sched_setscheduler(0, SCHED_BATCH | reset_on_fork, &param) != 0) {
		snprintf(note, len,
		    "cannot run threads as SCHED_BATCH (%s): a thread woken "
		    "by a request may preempt its caller; set scheduling = "
		    "normal to silence this",
		    strerror(errno));
		return -1;
	}
	snprintf(note, len,
	    "threads run as SCHED_BATCH: a thread woken by a request "
	    "does not preempt a running program (scheduling = batch)");
	return 0;
}
