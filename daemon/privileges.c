/*
 * privileges.c - start as root, drop to an unprivileged user.
 *
 * Root is needed only to read key files and create the socket in a
 * system directory.  After that handoffd gives the socket (and its
 * default directory) to the user's group, so members of that group can
 * connect, and becomes that user for good: a bug in the handshake code
 * then cannot touch anything root owns.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoffd.h"
#include "paths.h"

int
ho_priv_lookup(
    const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "user = %s: no such user%s%s", user,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen,
		    "user = %s: that is root; name an unprivileged user",
		    user);
		return -1;
	}
	if (geteuid() != 0) {
		snprintf(err, errlen,
		    "user = %s is set, but handoffd was not started as root "
		    "(start it as root, or remove the user line)",
		    user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
ho_priv_drop(const char *user, uid_t uid, gid_t gid, const char *listen_url,
    const char *own_dir, char *err, size_t errlen)
{
	const char *sock = ho_ipc_path(listen_url);
	if (sock != NULL && chown(sock, uid, gid) != 0) {
		snprintf(err, errlen, "cannot give %s to user %s: %s", sock,
		    user, strerror(errno));
		return -1;
	}
	/* The default directory was made 0700 for root: open it to the
	 * group, which is who may use the socket. */
	if (own_dir != NULL &&
	    (chown(own_dir, uid, gid) != 0 || chmod(own_dir, 0750) != 0)) {
		snprintf(err, errlen, "cannot give %s to user %s: %s", own_dir,
		    user, strerror(errno));
		return -1;
	}
	if (initgroups(user, gid) != 0 || setgid(gid) != 0 ||
	    setuid(uid) != 0) {
		snprintf(err, errlen, "cannot become user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) { /* must be impossible now */
		snprintf(err, errlen, "could regain root after dropping to %s",
		    user);
		return -1;
	}
	ho_log_info("running as user %s (uid %u, gid %u)", user, (unsigned)uid,
	    (unsigned)gid);
	return 0;
}

int
ho_priv_can_remove_socket(const char *listen_url)
{
	const char *sock = ho_ipc_path(listen_url);
	if (sock == NULL)
		return 1; /* not a file */
	char dir[1024];
	const char *slash = strrchr(sock, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == sock)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - sock), sock);
	/* The socket belongs to this user by now, so a sticky directory
	 * (/tmp) lets it go; what matters is writing the directory. */
	return access(dir, W_OK | X_OK) == 0;
}
