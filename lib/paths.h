/*
 * paths.h - where handoffd lives by default, and checks on ipc:// URLs.
 *
 * Shared by the daemon (to create its runtime and state directories), the
 * library (to find the daemon) and handoffctl, so that all three agree.
 */
#ifndef HANDOFF_PATHS_H
#define HANDOFF_PATHS_H

#include <stddef.h>

#define HO_SOCKET_NAME "handoffd.sock"

/* /run/handoff as root, else $XDG_RUNTIME_DIR/handoff, else
 * /tmp/handoff-UID.  Returns 0, or -1 if it does not fit. */
int ho_default_runtime_dir(char *buf, size_t len);

/* /var/lib/handoff as root, else $XDG_STATE_HOME/handoff, else
 * $HOME/.local/state/handoff.  Returns 0, or -1. */
int ho_default_state_dir(char *buf, size_t len);

/* The path of an ipc:// URL, or NULL for other transports. */
const char *ho_ipc_path(const char *url);

/*
 * When a daemon at url cannot be reached at once (libhandoff: nanomsg
 * cannot take a request): for ipc:// URLs, checks that the socket file
 * exists and that this process may connect to it, because nanomsg itself
 * would only retry silently.  Returns 0, or -1 with a
 * sentence that names the socket and says what to do written to err.
 */
int ho_ipc_check(const char *url, char *err, size_t errlen);

/* Creates dir (and missing parents) with mode; an existing dir is fine.
 * Returns 0, or -1 with errno set. */
int ho_mkdir_p(const char *dir, unsigned mode);

#endif /* HANDOFF_PATHS_H */
