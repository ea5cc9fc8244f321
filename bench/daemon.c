/*
 * daemon.c - handoffd as a child of handoff-bench: its config (one
 * profile per certificate kind, the bench's priority string), start,
 * readiness, memory and stop.  A handoffd that does not exit cleanly when
 * stopped (a crash, or a sanitizer's report in a sanitizer build) is
 * reported with its log, and the run's exit status says so.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static char daemon_log[600]; /* every start's handoffd logs here */
static int unclean_stops;    /* handoffds that did not exit with 0 */

/* The last lines of handoffd's log on stderr; 0 if it has none. */
static int
print_log_tail(const char *log)
{
	char text[2048];
	FILE *f = fopen(log, "r");
	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f,
	    size > (long)sizeof(text) - 1 ? size - (long)sizeof(text) + 1 : 0,
	    SEEK_SET);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (n == 0)
		return 0;
	fprintf(stderr, "---- %s\n%s%s----\n", log, text,
	    text[n - 1] != '\n' ? "\n" : "");
	return 1;
}

const char *
bench_daemon_start(const char *handoffd, const char *dir,
    const struct bench_cert *certs, unsigned workers, int *pid)
{
	/* Client figures are full handshakes, like GnuTLS's. */
	return bench_daemon_start_with(
	    handoffd, dir, certs, workers, "client_cache_size = 0\n", pid);
}

const char *
bench_daemon_start_with(const char *handoffd, const char *dir,
    const struct bench_cert *certs, unsigned workers, const char *daemon_lines,
    int *pid)
{
	static const char *profiles[] = {"ecdsa", "rsa", "ed25519"};
	char conf[600], sock[600], log[600], url[700]; /* dir: /tmp/... */
	/* A name per start: two daemons never share a socket path (one
	 * exiting would remove the other's socket file). */
	static unsigned starts;
	starts++;
	snprintf(conf, sizeof(conf), "%s/handoffd-%u.conf", dir, starts);
	snprintf(sock, sizeof(sock), "%s/handoffd-%u.sock", dir, starts);
	snprintf(log, sizeof(log), "%s/handoffd.log", dir);
	snprintf(daemon_log, sizeof(daemon_log), "%s", log);
	snprintf(url, sizeof(url), "ipc://%s", sock);
	FILE *f = fopen(conf, "w");
	if (f == NULL)
		bench_die("cannot write %s", conf);
	fprintf(f,
	    "[daemon]\nlisten = %s\nworkers = %u\nmax_sessions = 100000\n"
	    "log_level = warning\n%s",
	    url, workers, daemon_lines);
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		fprintf(f,
		    "\n[profile %s]\ncertificate = %s\nkey = %s\n"
		    "trust = %s\npriority = %s\n",
		    profiles[k], certs[k].cert, certs[k].key, certs[k].cert,
		    BENCH_PRIORITY);
	/* Key-only offload (handoff_gnutls.h): the same keys, signing on
	 * request, in profiles of their own so the handshake figures'
	 * profiles stay as a program would run them. */
	for (int k = 0; k < BENCH_KEY_COUNT; k++)
		fprintf(f,
		    "\n[profile %s-sign]\ncertificate = %s\nkey = %s\n"
		    "allow_sign = yes\n",
		    profiles[k], certs[k].cert, certs[k].key);
	/* The memory figure's session held in the daemon: asking for a
	 * client certificate (which the bench's clients never send) keeps
	 * a TLS 1.3 handshake in handoffd until the client answers, as
	 * TLS 1.2 and HelloRetryRequests do. */
	fprintf(f,
	    "\n[profile ecdsa-held]\ncertificate = %s\nkey = %s\n"
	    "trust = %s\npriority = %s\nclient_auth = request\n",
	    certs[BENCH_ECDSA].cert, certs[BENCH_ECDSA].key,
	    certs[BENCH_ECDSA].cert, BENCH_PRIORITY);
	/* One profile per cipher for the record-layer figures. */
	static const char *ciphers[][2] = {{"rec-aes128", "AES-128-GCM"},
	    {"rec-aes256", "AES-256-GCM"},
	    {"rec-chacha20", "CHACHA20-POLY1305"}};
	for (int i = 0; i < 3; i++)
		fprintf(f,
		    "\n[profile %s]\ncertificate = %s\nkey = %s\n"
		    "priority = NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+%s:"
		    "-GROUP-ALL:+GROUP-X25519\n",
		    ciphers[i][0], certs[BENCH_ECDSA].cert,
		    certs[BENCH_ECDSA].key, ciphers[i][1]);
	fclose(f);
	/* SIGTERM when the bench ends: handoffd stops cleanly. */
	*pid = bench_fork(SIGTERM);
	if (*pid == 0) {
		FILE *l = freopen(log, "a", stderr);
		(void)l;
		execl(handoffd, handoffd, "--foreground", "--config", conf,
		    (char *)NULL);
		_exit(127);
	}
	/* Ready when the socket exists (a short pause then lets it
	 * listen); a daemon that exits first is reported at once. */
	int status;
	for (int i = 0; i < 200; i++) {
		if (access(sock, F_OK) == 0)
			break;
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			print_log_tail(log);
			bench_die("handoffd (%s) exited before it was ready "
			          "(%s %d)%s",
			    handoffd,
			    WIFEXITED(status) ? "exit status" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status)
			                      : WTERMSIG(status),
			    WIFEXITED(status) && WEXITSTATUS(status) == 127
			        ? ": it could not be run"
			        : "");
		}
		usleep(20000);
	}
	if (access(sock, F_OK) != 0) {
		/* The log goes with the run's folder: show it first. */
		print_log_tail(log);
		bench_die("handoffd (%s) did not start within 4 s (its log, "
		          "if it wrote one, is above)",
		    handoffd);
	}
	usleep(100000);
	return strdup(url); /* each start its own: callers keep several */
}

void
bench_daemon_stop(int pid)
{
	kill(pid, SIGTERM);
	int status;
	if (waitpid(pid, &status, 0) != pid ||
	    (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return;
	/* The log goes with the run's folder: show it now. */
	int logged = print_log_tail(daemon_log);
	fprintf(stderr,
	    "handoff-bench: handoffd (pid %d) ended with %s %d when stopped, "
	    "not exit status 0: the figures it served are suspect (%s)\n",
	    pid, WIFEXITED(status) ? "exit status" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
	    logged ? "its log is above" : "its log is empty");
	unclean_stops++;
}

int
bench_daemon_unclean_stops(void)
{
	return unclean_stops;
}

long
bench_daemon_rss_kib(int pid)
{
	char path[64], line[256];
	long kib = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}
