/*
 * paths.c - default runtime and state directories, and a pre-flight check
 * of ipc:// sockets.
 *
 * nanomsg exposes no error when an ipc:// socket is missing or refused by
 * file permissions: nn_connect succeeds and requests vanish.  Checking the
 * file first turns that silence into a message the user can act on.
 */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff.h"

static int
fmt(char *buf, size_t len, const char *f, const char *a, unsigned long b)
{
	int n = a ? snprintf(buf, len, f, a) : snprintf(buf, len, f, b);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int
ho_default_runtime_dir(char *buf, size_t len)
{
	if (geteuid() == 0)
		return fmt(buf, len, "%s", "/run/handoff", 0);
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg != NULL && xdg[0] == '/')
		return fmt(buf, len, "%s/handoff", xdg, 0);
	return fmt(
	    buf, len, "/tmp/handoff-%lu", NULL, (unsigned long)geteuid());
}

int
ho_default_state_dir(char *buf, size_t len)
{
	if (geteuid() == 0)
		return fmt(buf, len, "%s", "/var/lib/handoff", 0);
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg != NULL && xdg[0] == '/')
		return fmt(buf, len, "%s/handoff", xdg, 0);
	const char *home = getenv("HOME");
	if (home == NULL || home[0] != '/')
		return fmt(buf, len, "/tmp/handoff-state-%lu", NULL,
		    (unsigned long)geteuid());
	return fmt(buf, len, "%s/.local/state/handoff", home, 0);
}

int
handoff_default_daemon_url(char *buf, size_t len)
{
	char dir[512];
	if (ho_default_runtime_dir(dir, sizeof(dir)) != 0)
		return -1;
	int n = snprintf(buf, len, "ipc://%s/%s", dir, HO_SOCKET_NAME);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

const char *
ho_ipc_path(const char *url)
{
	if (url != NULL && strncmp(url, "ipc://", 6) == 0)
		return url + 6;
	return NULL;
}

int
ho_ipc_check(const char *url, char *err, size_t errlen)
{
	const char *path = ho_ipc_path(url);
	if (path == NULL)
		return 0;
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == EACCES)
			snprintf(err, errlen,
			    "cannot reach handoffd socket %s: permission "
			    "denied on its directory (run as a user allowed "
			    "to use it, or change the directory's mode)",
			    path);
		else
			snprintf(err, errlen,
			    "no handoffd socket at %s (%s): start handoffd, "
			    "or point %s at the right URL",
			    path, strerror(errno), HANDOFF_DAEMON_ENV);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		    "%s is not a socket: check the daemon URL", path);
		return -1;
	}
	if (access(path, R_OK | W_OK) != 0) {
		snprintf(err, errlen,
		    "no permission to use handoffd socket %s (%s): run as a "
		    "user or group allowed to use it",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

int
ho_mkdir_p(const char *dir, unsigned mode)
{
	char tmp[1024];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		/* Parents get the usual mode; only the leaf is private. */
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}
