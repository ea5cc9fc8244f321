/*
 * stats.c - counters and step-latency quantiles for `handoffctl stats`.
 *
 * No lock of its own: server.c and requests.c touch it under the
 * daemon's lock.
 * Latency goes into a log-linear histogram: 8 buckets per power of two,
 * so quantiles are within 12.5% without storing samples.
 */
#include <stdio.h>
#include <string.h>

#include "handoffd.h"

void
ho_stats_init(struct ho_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->started_ms = ho_now_ms();
}

void
ho_stats_fail(struct ho_stats *st, const char *reason)
{
	st->handshakes_failed++;
	int i;
	for (i = 0; i < st->reason_count; i++) {
		if (strcmp(st->reasons[i].name, reason) == 0)
			break;
	}
	if (i == st->reason_count) {
		/* The last slot collects every reason that did not fit. */
		if (i == HO_STATS_MAX_REASONS) {
			i = HO_STATS_MAX_REASONS - 1;
		} else {
			if (i == HO_STATS_MAX_REASONS - 1)
				reason = "other";
			snprintf(st->reasons[i].name,
			    sizeof(st->reasons[i].name), "%s", reason);
			st->reason_count++;
		}
	}
	st->reasons[i].count++;
}

static unsigned
bucket_of(uint64_t us)
{
	if (us < 8)
		return (unsigned)us;
	unsigned msb = 63 - (unsigned)__builtin_clzll(us);
	unsigned sub = (unsigned)(us >> (msb - 3)) & 7;
	unsigned b = (msb - 2) * 8 + sub;
	return b < HO_STATS_BUCKETS ? b : HO_STATS_BUCKETS - 1;
}

/* The smallest value that falls into bucket b. */
static uint64_t
bucket_floor(unsigned b)
{
	if (b < 8)
		return b;
	unsigned msb = b / 8 + 2;
	return ((uint64_t)(8 + b % 8)) << (msb - 3);
}

void
ho_stats_latency(struct ho_stats *st, uint64_t us)
{
	st->latency[bucket_of(us)]++;
	st->latency_count++;
}

uint64_t
ho_stats_quantile(const struct ho_stats *st, double q)
{
	if (st->latency_count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)(st->latency_count - 1)) + 1;
	uint64_t seen = 0;
	for (unsigned b = 0; b < HO_STATS_BUCKETS; b++) {
		seen += st->latency[b];
		if (seen >= rank)
			return bucket_floor(b);
	}
	return bucket_floor(HO_STATS_BUCKETS - 1);
}

size_t
ho_stats_format(
    const struct ho_stats *st, unsigned open_sessions, char *buf, size_t len)
{
	size_t off = 0;
#define PUT(...)                                                              \
	do {                                                                  \
		int n_ = snprintf(buf + off, len - off, __VA_ARGS__);         \
		if (n_ < 0 || (size_t)n_ >= len - off)                        \
			return off;                                           \
		off += (size_t)n_;                                            \
	} while (0)
	PUT("uptime_ms %llu\n",
	    (unsigned long long)(ho_now_ms() - st->started_ms));
	PUT("open_sessions %u\n", open_sessions);
	PUT("requests %llu\n", (unsigned long long)st->requests);
	PUT("handshakes_completed %llu\n",
	    (unsigned long long)st->handshakes_ok);
	PUT("handshakes_resumed %llu\n",
	    (unsigned long long)st->handshakes_resumed);
	PUT("handshakes_one_trip %llu\n",
	    (unsigned long long)st->handshakes_one_trip);
	PUT("server_hellos_ahead %llu\n",
	    (unsigned long long)st->hellos_ahead);
	PUT("client_handshakes %llu\n",
	    (unsigned long long)st->client_handshakes);
	PUT("private_key_ops %llu\n", (unsigned long long)st->private_key_ops);
	PUT("x25519_libsodium %llu\n", ho_x25519_sodium_calls());
	PUT("x25519_shares_libsodium %llu\n", ho_x25519_sodium_shares());
	PUT("ecdsa_verify_libcrypto %llu\n",
	    ho_ecdsa_verify_libcrypto_checks());
	PUT("ed25519_verify_libsodium %llu\n",
	    ho_ed25519_verify_sodium_checks());
	PUT("sign_requests %llu\n", (unsigned long long)st->sign_requests);
	PUT("verify_requests %llu\n", (unsigned long long)st->verify_requests);
	PUT("verify_cache_hits %llu\n",
	    (unsigned long long)st->verify_cache_hits);
	PUT("tickets_stored %llu\n", (unsigned long long)st->tickets_stored);
	PUT("caller_ca_files_received %llu\n",
	    (unsigned long long)st->caller_ca_sent);
	PUT("caller_ca_files_parsed %llu\n",
	    (unsigned long long)st->caller_ca_parsed);
	PUT("caller_ca_files_asked_for %llu\n",
	    (unsigned long long)st->caller_ca_asked);
	PUT("handshakes_failed %llu\n",
	    (unsigned long long)st->handshakes_failed);
	for (int i = 0; i < st->reason_count; i++)
		PUT("failed.%s %llu\n", st->reasons[i].name,
		    (unsigned long long)st->reasons[i].count);
	PUT("sessions_expired %llu\n",
	    (unsigned long long)st->sessions_expired);
	PUT("busy_refusals %llu\n", (unsigned long long)st->busy_refusals);
	PUT("bad_requests %llu\n", (unsigned long long)st->bad_requests);
	PUT("early_requests %llu\n", (unsigned long long)st->early_requests);
	PUT("step_latency_p50_us %llu\n",
	    (unsigned long long)ho_stats_quantile(st, 0.50));
	PUT("step_latency_p99_us %llu\n",
	    (unsigned long long)ho_stats_quantile(st, 0.99));
#undef PUT
	return off;
}
