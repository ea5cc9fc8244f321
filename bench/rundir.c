/*
 * rundir.c - the run's temporary folder, and the children that must not
 * outlive the run.
 *
 * A run keeps its certificates (private keys included), handoffd's
 * configs, sockets and log in one folder under $TMPDIR (or /tmp).  It
 * is removed however the run ends: at the end, by bench_die(), or on
 * SIGINT, SIGTERM or SIGHUP, so an interrupted run leaves no keys
 * behind.  The signal handler removes it with system calls alone
 * (getdents64, unlinkat, rmdir), which are safe in a handler while
 * other threads hold locks; the folder is flat, so that is enough.
 * Children (handoffd, forked servers, the IPC echo) ask the kernel for
 * a signal when the bench dies (PR_SET_PDEATHSIG), so none is left
 * running after a crash or a SIGKILL either.  Every fork happens on the
 * main thread, which lives as long as the process: the signal follows
 * the thread that forked.
 */
#define _GNU_SOURCE /* struct dirent64 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

/* A socket path (sun_path) holds 107 bytes; the longest file name the
 * run puts in its folder is "handoffd-NN.sock". */
#define RUN_DIR_MAX 80

static char run_dir[RUN_DIR_MAX + 32];
static pid_t owner; /* only this process removes the folder */

/* Removes the flat folder with system calls alone (see above). */
static void
remove_run_dir(void)
{
	if (run_dir[0] == '\0' || getpid() != owner)
		return;
	int fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		char buf[4096];
		long n;
		while (
		    (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				struct dirent64 *e = (void *)(buf + off);
				off += e->d_reclen;
				if (strcmp(e->d_name, ".") != 0 &&
				    strcmp(e->d_name, "..") != 0)
					unlinkat(fd, e->d_name, 0);
			}
		}
		close(fd);
	}
	rmdir(run_dir);
	run_dir[0] = '\0';
}

static void
on_fatal_signal(int sig)
{
	remove_run_dir();
	signal(sig, SIG_DFL);
	raise(sig); /* ends the process as the signal would have */
}

const char *
bench_make_run_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	static const char name[] = "/handoff-bench.XXXXXX";
	int n = snprintf(run_dir, sizeof(run_dir), "%s%s", tmp, name);
	if (n < 0 || n > RUN_DIR_MAX) {
		run_dir[0] = '\0';
		bench_die("TMPDIR (%s) is too long for handoffd's socket "
		          "paths: set TMPDIR to a folder of at most %d "
		          "characters",
		    tmp, RUN_DIR_MAX - (int)strlen(name));
	}
	if (mkdtemp(run_dir) == NULL) {
		int err = errno;
		run_dir[0] = '\0';
		bench_die("cannot make a folder in %s: %s (set TMPDIR to a "
		          "folder you can write to)",
		    tmp, strerror(err));
	}
	owner = getpid();
	atexit(remove_run_dir); /* bench_die() exits through it too */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return run_dir;
}

void
bench_remove_run_dir(void)
{
	remove_run_dir();
}

pid_t
bench_fork(int death_signal)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		bench_die("cannot fork: %s", strerror(errno));
	if (pid == 0) {
		/* The parent may have died before the request took hold. */
		if (prctl(PR_SET_PDEATHSIG, death_signal) != 0 ||
		    getppid() != parent)
			_exit(1);
		/* A fatal signal here must not run the parent's handler. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
	}
	return pid;
}
