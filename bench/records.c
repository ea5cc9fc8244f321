/*
 * records.c - record-layer throughput: handoff_write/handoff_read
 * (libhandoff's record layer, keys from handoffd) against
 * gnutls_record_send/gnutls_record_recv, same cipher, same record size,
 * same socket pair, same peer.
 *
 * The measured side is a server-role connection; its peer is a GnuTLS
 * client in another thread.  Writing: the peer only drains the raw bytes,
 * so the figure is the measured side's sealing and sending.  Reading: the
 * peer first seals a fixed volume of records into memory, then pushes the
 * raw bytes, so the figure is the measured side's receiving and opening.
 * Each also gives the measured thread's user-space CPU time per record,
 * the record layer's own cost without the socket's.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "handoff.h"

struct peer {
	int fd;
	char prio[256];
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	int handshake_ok;
	/* reading test: sealed records to push */
	uint8_t *stream;
	size_t stream_len, stream_cap;
};

static void *
peer_handshake(void *arg)
{
	struct peer *p = arg;
	gnutls_certificate_allocate_credentials(&p->cred);
	gnutls_init(&p->tls, GNUTLS_CLIENT);
	gnutls_priority_set_direct(p->tls, p->prio, NULL);
	gnutls_credentials_set(p->tls, GNUTLS_CRD_CERTIFICATE, p->cred);
	gnutls_server_name_set(p->tls, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_transport_set_int(p->tls, p->fd);
	int r;
	do {
		r = gnutls_handshake(p->tls);
	} while (r < 0 && !gnutls_error_is_fatal(r));
	p->handshake_ok = r == 0;
	return NULL;
}

static void *
peer_drain(void *arg)
{
	struct peer *p = arg;
	static char buf[1 << 16];
	while (read(p->fd, buf, sizeof(buf)) > 0) {
	}
	return NULL;
}

static ssize_t
push_to_memory(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct peer *p = ptr;
	if (p->stream_len + len > p->stream_cap)
		return -1;
	memcpy(p->stream + p->stream_len, data, len);
	p->stream_len += len;
	return (ssize_t)len;
}

/*
 * Lets the kernel read every page of the sealed stream once, before the
 * timing.  On this VM (shadow paging) the kernel's first read of a user
 * page costs ~8 us: pushing a freshly sealed stream ran at 0.4 GB/s
 * instead of 3 GB/s, whatever the measured side did, so both sides' read
 * figures were the peer's page cost.  A real peer writes from buffers it
 * reuses.  Writing each 64 KiB to the same spot of a memory file is the
 * cheapest way to have the kernel copy from every page.
 */
static void
touch_stream_from_kernel(const struct peer *p)
{
	int fd = memfd_create("handoff-bench-stream", MFD_CLOEXEC);
	if (fd < 0)
		return; /* only slower: the figure stays right for both */
	for (size_t off = 0; off < p->stream_len; off += 1 << 16) {
		size_t n = p->stream_len - off < (1 << 16)
		    ? p->stream_len - off
		    : (1 << 16);
		if (pwrite(fd, p->stream + off, n, 0) < 0)
			break;
	}
	close(fd);
}

static void *
peer_push(void *arg)
{
	struct peer *p = arg;
	size_t off = 0;
	while (off < p->stream_len) {
		ssize_t n = write(p->fd, p->stream + off, p->stream_len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return NULL;
}

/* The measured side: a GnuTLS server session or a handoff connection. */
struct measured {
	enum bench_side side;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	struct handoff_ctx *hctx;
	struct handoff_conn *h;
};

static int
measured_handshake(struct measured *m, int fd, const struct bench_cert *c,
    const char *prio, const char *daemon_url)
{
	if (m->side == BENCH_GNUTLS) {
		gnutls_certificate_allocate_credentials(&m->cred);
		gnutls_certificate_set_x509_key_file(
		    m->cred, c->cert, c->key, GNUTLS_X509_FMT_PEM);
		gnutls_init(&m->tls, GNUTLS_SERVER);
		gnutls_priority_set_direct(m->tls, prio, NULL);
		gnutls_credentials_set(
		    m->tls, GNUTLS_CRD_CERTIFICATE, m->cred);
		gnutls_transport_set_int(m->tls, fd);
		int r;
		do {
			r = gnutls_handshake(m->tls);
		} while (r < 0 && !gnutls_error_is_fatal(r));
		return r;
	}
	/* handoffd's profile for this cipher restricts the suite. */
	struct handoff_config *cfg = handoff_config_new();
	handoff_config_set_daemon(cfg, daemon_url);
	handoff_config_set_profile(cfg, prio);
	m->hctx = handoff_ctx_new(cfg);
	handoff_config_free(cfg);
	if (m->hctx == NULL || handoff_accept_socket(m->hctx, &m->h, fd) != 0)
		return -1;
	return handoff_handshake(m->h);
}

static void
measured_free(struct measured *m)
{
	if (m->tls != NULL)
		gnutls_deinit(m->tls);
	if (m->cred != NULL)
		gnutls_certificate_free_credentials(m->cred);
	handoff_conn_free(m->h);
	handoff_ctx_free(m->hctx);
}

/* gnutls priority for one cipher, and the matching handoffd profile. */
static void
cipher_names(const char *cipher, char *prio, size_t plen)
{
	snprintf(prio, plen,
	    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+%s:-GROUP-ALL:"
	    "+GROUP-X25519",
	    cipher);
}

/* What one direction moved, over one or more rounds: GB/s and user CPU
 * per record come from these sums (rec_result). */
struct rec_sums {
	double bytes, seconds;
	double user_us; /* the measured thread's user-space CPU time: the
	                 * record layer's own work (sealing or opening, copies,
	                 * bookkeeping), the system calls' kernel time left
	                 * out */
	struct bench_round_rates rounds; /* GB/s of each round */
};

/* One round's bytes in `seconds` added to *sum. */
static void
rec_sums_add(
    struct rec_sums *sum, double bytes, double seconds, double user_us)
{
	sum->bytes += bytes;
	sum->seconds += seconds;
	sum->user_us += user_us;
	bench_round_rates_add(&sum->rounds, bytes / seconds / 1e9);
}

static void
measure_write(
    struct measured *m, size_t record, double seconds, struct rec_sums *sum)
{
	static uint8_t buf[16384];
	uint64_t bytes = 0;
	double user = bench_thread_user_us();
	double start = bench_now(), end = start + seconds;
	while (bench_now() < end) {
		for (int i = 0; i < 64; i++) {
			ssize_t n = m->side == BENCH_GNUTLS
			    ? gnutls_record_send(m->tls, buf, record)
			    : handoff_write(m->h, buf, record);
			if (n <= 0)
				bench_die("record write failed");
			bytes += (uint64_t)n;
		}
	}
	rec_sums_add(sum, (double)bytes, bench_now() - start,
	    bench_thread_user_us() - user);
}

static void
measure_read(struct measured *m, size_t total, struct rec_sums *sum)
{
	static uint8_t buf[16384];
	size_t got = 0;
	double user = bench_thread_user_us();
	double start = bench_now();
	while (got < total) {
		ssize_t n = m->side == BENCH_GNUTLS
		    ? gnutls_record_recv(m->tls, buf, sizeof(buf))
		    : handoff_read(m->h, buf, sizeof(buf));
		if (n <= 0)
			bench_die("record read failed after %zu bytes", got);
		got += (size_t)n;
	}
	rec_sums_add(sum, (double)got, bench_now() - start,
	    bench_thread_user_us() - user);
}

/* One connection through a socket pair; returns its measured side. */
static void
connect_pair(struct measured *m, struct peer *p, int sv[2], const char *cipher,
    const struct bench_cert *c, const char *daemon_url, const char *profile)
{
	char prio[256];
	cipher_names(cipher, prio, sizeof(prio));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		bench_die("socketpair failed");
	int size = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	p->fd = sv[0];
	snprintf(p->prio, sizeof(p->prio), "%s", prio);
	pthread_t t;
	pthread_create(&t, NULL, peer_handshake, p);
	int r = measured_handshake(
	    m, sv[1], c, m->side == BENCH_GNUTLS ? prio : profile, daemon_url);
	pthread_join(t, NULL);
	if (r != 0 || !p->handshake_ok)
		bench_die("record bench: %s handshake failed (%s)",
		    m->side == BENCH_GNUTLS ? "GnuTLS" : "handoff",
		    m->h ? handoff_conn_error(m->h) : "GnuTLS");
}

/* One round of one side: a connection written to for `seconds`, then
 * another read from for about as long. */
static void
records_round(enum bench_side side, const char *cipher, size_t record,
    const struct bench_cert *c, const char *daemon_url, double seconds,
    struct rec_sums *write, struct rec_sums *read)
{
	static const struct {
		const char *cipher, *profile;
	} profiles[] = {{"AES-128-GCM", "rec-aes128"},
	    {"AES-256-GCM", "rec-aes256"},
	    {"CHACHA20-POLY1305", "rec-chacha20"}};
	const char *profile = NULL;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(profiles[i].cipher, cipher) == 0)
			profile = profiles[i].profile;

	/* Writing. */
	struct measured m = {.side = side};
	struct peer p;
	int sv[2];
	memset(&p, 0, sizeof(p));
	connect_pair(&m, &p, sv, cipher, c, daemon_url, profile);
	pthread_t t;
	pthread_create(&t, NULL, peer_drain, &p);
	measure_write(&m, record, seconds, write);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(t, NULL);
	measured_free(&m);
	gnutls_deinit(p.tls);
	gnutls_certificate_free_credentials(p.cred);
	close(sv[0]);
	close(sv[1]);

	/* Reading: the peer seals a fixed volume first. */
	memset(&m, 0, sizeof(m));
	m.side = side;
	memset(&p, 0, sizeof(p));
	connect_pair(&m, &p, sv, cipher, c, daemon_url, profile);
	size_t total = (size_t)(seconds * 256) << 20; /* 256 MiB per second */
	p.stream_cap = total + total / 8 + (1 << 20);
	p.stream = malloc(p.stream_cap);
	if (p.stream == NULL)
		bench_die("out of memory for the record stream");
	gnutls_transport_set_ptr(p.tls, &p);
	gnutls_transport_set_push_function(p.tls, push_to_memory);
	static uint8_t buf[16384];
	for (size_t sent = 0; sent < total; sent += record)
		if (gnutls_record_send(p.tls, buf, record) != (ssize_t)record)
			bench_die("cannot seal the record stream");
	touch_stream_from_kernel(&p);
	pthread_create(&t, NULL, peer_push, &p);
	measure_read(&m, total, read);
	pthread_join(t, NULL);
	measured_free(&m);
	gnutls_deinit(p.tls);
	gnutls_certificate_free_credentials(p.cred);
	free(p.stream);
	close(sv[0]);
	close(sv[1]);
}

static void
rec_result(const struct rec_sums *write, const struct rec_sums *read,
    size_t record, struct bench_rec_result *out)
{
	out->write_gbps = write->bytes / write->seconds / 1e9;
	out->write_user_us = write->user_us / (write->bytes / (double)record);
	out->read_gbps = read->bytes / read->seconds / 1e9;
	out->read_user_us = read->user_us / (read->bytes / (double)record);
	out->write_rounds = write->rounds;
	out->read_rounds = read->rounds;
}

/* bench_records' state across its rounds. */
struct records_rounds {
	const char *cipher;
	size_t record;
	const struct bench_cert *cert;
	const char *daemon_url;
	struct rec_sums write[2], read[2];
};

static void
records_turn(int side, double seconds, void *arg)
{
	struct records_rounds *r = arg;
	records_round(side ? BENCH_HANDOFF : BENCH_GNUTLS, r->cipher,
	    r->record, r->cert, r->daemon_url, seconds, &r->write[side],
	    &r->read[side]);
}

void
bench_records(const char *cipher, size_t record, const struct bench_cert *c,
    const char *daemon_url, double seconds, int rounds,
    struct bench_rec_result *gnutls, struct bench_rec_result *handoff)
{
	struct records_rounds r = {.cipher = cipher,
	    .record = record,
	    .cert = c,
	    .daemon_url = daemon_url};
	bench_alternate(rounds, seconds, records_turn, &r);
	rec_result(&r.write[0], &r.read[0], record, gnutls);
	rec_result(&r.write[1], &r.read[1], record, handoff);
}
