/*
 * ipc.c - the library's side of the nanomsg conversation with handoffd.
 *
 * Each in-flight handshake holds its own cooked REQ socket, taken from a
 * per-context pool of idle ones, so requests never queue behind each
 * other.  Automatic re-sending is switched off: a re-sent step would be
 * applied twice, and the caller's deadline decides when to give up.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "handoff_internal.h"
#include "paths.h"

/* Idle sockets kept per context; more are closed when released. */
#define IDLE_MAX 256

int
ho_ipc_pool_init(struct ho_ipc_pool *pool, const char *url)
{
	memset(pool, 0, sizeof(*pool));
	snprintf(pool->url, sizeof(pool->url), "%s", url);
	return pthread_mutex_init(&pool->lock, NULL) == 0 ? 0 : -1;
}

void
ho_ipc_pool_free(struct ho_ipc_pool *pool)
{
	for (size_t i = 0; i < pool->idle_count; i++)
		nn_close(pool->idle[i]);
	free(pool->idle);
	pthread_mutex_destroy(&pool->lock);
}

static int
open_socket(const char *url, char *err, size_t errlen)
{
	if (ho_ipc_check(url, err, errlen) != 0)
		return -1;
	int s = nn_socket(AF_SP, NN_REQ);
	if (s < 0) {
		snprintf(err, errlen, "cannot create a nanomsg socket: %s",
		    nn_strerror(nn_errno()));
		return -1;
	}
	int never = INT_MAX;
	nn_setsockopt(s, NN_REQ, NN_REQ_RESEND_IVL, &never, sizeof(never));
	int maxsize = HO_PROTO_MAX_MSG;
	nn_setsockopt(
	    s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize));
	if (nn_connect(s, url) < 0) {
		snprintf(err, errlen, "cannot connect to handoffd at %s: %s",
		    url, nn_strerror(nn_errno()));
		nn_close(s);
		return -1;
	}
	return s;
}

int
ho_ipc_acquire(struct ho_ipc_pool *pool, char *err, size_t errlen)
{
	int s = -1;
	pthread_mutex_lock(&pool->lock);
	if (pool->idle_count > 0)
		s = pool->idle[--pool->idle_count];
	pthread_mutex_unlock(&pool->lock);
	if (s >= 0) {
		/* A pooled socket outlives a daemon restart, but if the
		 * socket file went away, say so now, not at the deadline. */
		if (ho_ipc_check(pool->url, err, errlen) != 0) {
			nn_close(s);
			return -1;
		}
		return s;
	}
	return open_socket(pool->url, err, errlen);
}

void
ho_ipc_release(struct ho_ipc_pool *pool, int sock, int healthy)
{
	if (sock < 0)
		return;
	if (healthy) {
		pthread_mutex_lock(&pool->lock);
		if (pool->idle_count == pool->idle_cap &&
		    pool->idle_cap < IDLE_MAX) {
			size_t cap = pool->idle_cap ? pool->idle_cap * 2 : 8;
			int *p = realloc(pool->idle, cap * sizeof(*p));
			if (p != NULL) {
				pool->idle = p;
				pool->idle_cap = cap;
			}
		}
		if (pool->idle_count < pool->idle_cap) {
			pool->idle[pool->idle_count++] = sock;
			sock = -1;
		}
		pthread_mutex_unlock(&pool->lock);
	}
	if (sock >= 0)
		nn_close(sock);
}

int
ho_ipc_send(int sock, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	/* A REQ socket queues the request even with no daemon connected,
	 * so this does not block; the reply's deadline catches a dead
	 * daemon. */
	if (nn_send(sock, buf, len, NN_DONTWAIT) < 0) {
		snprintf(err, errlen, "cannot send to handoffd: %s",
		    nn_strerror(nn_errno()));
		return -1;
	}
	return 0;
}

int
ho_ipc_try_recv(int sock, void **msg)
{
	int n = nn_recv(sock, msg, NN_MSG, NN_DONTWAIT);
	if (n > 0)
		return n;
	if (n == 0) { /* an empty frame is never valid */
		nn_freemsg(*msg);
		*msg = NULL;
		return -1;
	}
	if (nn_errno() == EAGAIN || nn_errno() == EINTR)
		return 0;
	return -1;
}

int
ho_ipc_pollfd(int sock)
{
	int fd = -1;
	size_t len = sizeof(fd);
	if (nn_getsockopt(sock, NN_SOL_SOCKET, NN_RCVFD, &fd, &len) < 0)
		return -1;
	return fd;
}

void
ho_ipc_freemsg(void *msg)
{
	if (msg != NULL)
		nn_freemsg(msg);
}
