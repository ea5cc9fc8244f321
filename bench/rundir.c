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
 * the thread that forked.  A SIGKILL still leaves the folder, so each
 * folder names its run in an `owner` file (pid, start time, pid
 * namespace), and every run first removes the folders of this user's
 * runs that have ended, and empty ones a minute old (a child may make
 * a file in the folder just after the handler emptied it).
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* A socket path (sun_path) holds 107 bytes; the longest file name the
 * run puts in its folder is "handoffd-NN.sock". */
#define RUN_DIR_MAX 80

#define RUN_DIR_PREFIX "handoff-bench."
/* The file in each run's folder that names the run. */
#define OWNER_FILE "owner"

static char run_dir[RUN_DIR_MAX + 32];
static pid_t owner; /* only this process removes the folder */

/* Removes a flat folder with system calls alone (see above); one that
 * holds a folder, or is a symbolic link, stays. */
static void
remove_flat_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
	rmdir(path);
}

static void
remove_run_dir(void)
{
	if (run_dir[0] == '\0' || getpid() != owner)
		return;
	remove_flat_dir(run_dir);
	run_dir[0] = '\0';
}

/* What names a running process beyond its pid, which the kernel reuses:
 * its start time in clock ticks since boot (/proc/PID/stat, field 22),
 * and its pid namespace (a pid means nothing in another).  Returns -1
 * when the process does not exist (here). */
static int
process_identity(pid_t pid, char *out, size_t len)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	/* The command name, in brackets, may hold spaces: count fields
	 * from after its closing one, which is field 2. */
	char *p = strrchr(line, ')');
	unsigned long long start = 0;
	if (p == NULL ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d "
	        "%*d %*d %*d %*d %*d %llu",
	        &start) != 1)
		return -1;
	char ns[64] = "-";
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	ssize_t m = readlink(path, ns, sizeof(ns) - 1);
	ns[m > 0 ? m : 1] = '\0';
	snprintf(out, len, "%d %llu %s", (int)pid, start, ns);
	return 0;
}

/* Whether the folder at `path` (a name of RUN_DIR_PREFIX's) is a run of
 * this user's that has ended: its owner file names a process of this pid
 * namespace (my_ns) that is gone, or whose pid another process now has.
 * A folder without one (a run just starting, or not ours) stays. */
static int
is_ended_run(const char *path, const char *my_ns, pid_t *pid)
{
	struct stat st;
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid())
		return 0;
	char file[RUN_DIR_MAX + 64], recorded[160] = "";
	snprintf(file, sizeof(file), "%s/%s", path, OWNER_FILE);
	FILE *f = fopen(file, "re");
	if (f == NULL)
		return 0;
	int ok = fgets(recorded, sizeof(recorded), f) != NULL;
	fclose(f);
	recorded[strcspn(recorded, "\n")] = '\0';
	int owner_pid;
	char ns[64], now[160];
	if (!ok || sscanf(recorded, "%d %*u %63s", &owner_pid, ns) != 2 ||
	    owner_pid <= 0 || strcmp(my_ns, ns) != 0)
		return 0;
	*pid = owner_pid;
	return process_identity(owner_pid, now, sizeof(now)) != 0 ||
	    strcmp(now, recorded) != 0;
}

/* Removes the folder at `path` (a name of RUN_DIR_PREFIX's) if it is an
 * empty folder of this user's, untouched for a minute, and says whether
 * it did.  Such a folder is what an interrupted run leaves when a child
 * (handoffd starting, say) makes a file in it after the signal handler
 * emptied it, so that the handler's rmdir fails, and removes that file
 * itself as it ends; its owner file is gone with the rest.  A run just
 * starting holds its owner file a moment after making its folder, and
 * rmdir removes only an empty one. */
static int
remove_if_empty_leftover(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid() || time(NULL) - st.st_mtime < 60)
		return 0;
	return rmdir(path) == 0;
}

/* Removes what runs killed by SIGKILL left in `tmp`, and the empty
 * folders interrupted ones may leave, saying so. */
static void
remove_ended_runs(const char *tmp)
{
	char me[160];
	if (process_identity(getpid(), me, sizeof(me)) != 0)
		return; /* no /proc: nothing can be judged */
	const char *my_ns = strrchr(me, ' ') + 1;
	DIR *d = opendir(tmp);
	if (d == NULL)
		return; /* mkdtemp below says what is wrong */
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[RUN_DIR_MAX + 32];
		pid_t pid;
		if (strncmp(e->d_name, RUN_DIR_PREFIX,
		        strlen(RUN_DIR_PREFIX)) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name) >=
		        (int)sizeof(path))
			continue;
		if (!is_ended_run(path, my_ns, &pid)) {
			if (remove_if_empty_leftover(path))
				fprintf(stderr,
				    "handoff-bench: removed %s, an empty "
				    "folder an interrupted run left\n",
				    path);
			continue;
		}
		remove_flat_dir(path);
		fprintf(stderr,
		    "handoff-bench: removed %s, left by a run (pid %d) that "
		    "was killed\n",
		    path, (int)pid);
	}
	closedir(d);
}

/* Names this run in its folder, for remove_ended_runs of later runs.  A
 * folder whose owner file is missing or torn is never removed by them,
 * so a failure here costs only that. */
static void
write_owner_file(void)
{
	char path[sizeof(run_dir) + 16], me[160];
	if (process_identity(getpid(), me, sizeof(me)) != 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", run_dir, OWNER_FILE);
	FILE *f = fopen(path, "we");
	if (f == NULL)
		return;
	fprintf(f, "%s\n", me);
	fclose(f);
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
	static const char name[] = "/" RUN_DIR_PREFIX "XXXXXX";
	int n = snprintf(run_dir, sizeof(run_dir), "%s%s", tmp, name);
	if (n < 0 || n > RUN_DIR_MAX) {
		run_dir[0] = '\0';
		bench_die("TMPDIR (%s) is too long for handoffd's socket "
		          "paths: set TMPDIR to a folder of at most %d "
		          "characters",
		    tmp, RUN_DIR_MAX - (int)strlen(name));
	}
	remove_ended_runs(tmp);
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
	write_owner_file();
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
