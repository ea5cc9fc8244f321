/*
 * log.c - the daemon's logging: syslog, or stderr in the foreground.
 *
 * GnuTLS's own debug log is routed here too at log_level = debug, so one
 * switch shows everything.
 */
#include <stdio.h>
#include <syslog.h>

#include "handoffd.h"

static int log_to_stderr = 1;
static int log_level = HO_LOG_INFO;

static void
gnutls_log(int level, const char *msg)
{
	ho_log(HO_LOG_DEBUG, "gnutls[%d]: %s", level, msg);
}

void
ho_log_init(int foreground, int level)
{
	log_to_stderr = foreground;
	log_level = level;
	if (!foreground)
		openlog(HO_DAEMON_NAME, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if (level >= HO_LOG_DEBUG) {
		gnutls_global_set_log_function(gnutls_log);
		gnutls_global_set_log_level(2);
	}
}

void
ho_log(int level, const char *fmt, ...)
{
	static const int syslog_prio[] = {
	    LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *names[] = {"error", "warning", "info", "debug"};
	if (level > log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (log_to_stderr) {
		char line[1024];
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%s: %s: %s\n", HO_DAEMON_NAME, names[level],
		    line);
	} else {
		vsyslog(syslog_prio[level], fmt, ap);
	}
	va_end(ap);
}
