/*
 * bench.h - handoff-bench's private header, a section per file.
 *
 * handoff-bench measures handoff against in-process GnuTLS doing the same
 * work, in one run on one machine, and reports every figure with its
 * ratio.  Both sides get the same certificates, priority strings, buffer
 * sizes, compiler flags and load generator.
 */
#ifndef HANDOFF_BENCH_H
#define HANDOFF_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

/* TLS 1.3 with X25519, as the targets are stated. */
#define BENCH_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519"

/* ---- util.c ----------------------------------------------------------- */

double bench_now(void); /* seconds, monotonic */
/* Latency samples (seconds), thread-safe appends. */
struct bench_samples {
	double *v;
	size_t n, cap;
};
void bench_samples_add(struct bench_samples *s, double x);
/* Adds every sample of from to to (rounds and threads pooled). */
void bench_samples_append(
    struct bench_samples *to, const struct bench_samples *from);
/* Quantile q in 0..1 (sorts in place); 0 when empty. */
double bench_quantile(struct bench_samples *s, double q);
void bench_samples_free(struct bench_samples *s);
/* Listening TCP socket on 127.0.0.1, port in *port. */
int bench_listen(int *port);
int bench_connect(int port);
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- cli.c: the command line ----------------------------------------- */

struct bench_options {
	int quick;
	const char *json, *png; /* output files, or NULL */
	const char *only;       /* sections, comma-separated, or NULL */
	char handoffd[1024];    /* the handoffd to start */
};
/* Parses the command line into *o and checks it (a known section, an
 * executable handoffd, writable output paths).  Returns -1 to go on, or
 * the exit status: 0 after --help, 2 after a usage error it printed. */
int bench_parse_options(int argc, char **argv, struct bench_options *o);
/* Whether --only's list (NULL: every section) names section `name`. */
int bench_only_wants(const char *only, const char *name);

/* ---- rundir.c: the run's folder, children that do not outlive it ----- */

/* Makes the run's folder under $TMPDIR (or /tmp), removed however the
 * run ends (exit, bench_die, SIGINT, SIGTERM, SIGHUP), after removing
 * those that runs killed with SIGKILL left.  Dies with what to do if it
 * cannot. */
const char *bench_make_run_dir(void);
/* Removes it now (the end of a run). */
void bench_remove_run_dir(void);
/* fork(), the child getting death_signal when this process ends, however
 * it ends.  Dies if it cannot fork. */
pid_t bench_fork(int death_signal);

/* ---- certs.c ---------------------------------------------------------- */

enum bench_key { BENCH_ECDSA, BENCH_RSA, BENCH_ED25519, BENCH_KEY_COUNT };
extern const char *const bench_key_names[BENCH_KEY_COUNT];

struct bench_cert {
	char cert[512], key[512]; /* PEM files in the run's folder */
};
/* Makes a self-signed certificate for localhost of each kind in dir. */
void bench_make_certs(const char *dir, struct bench_cert *out);

/* ---- daemon.c: a handoffd child ---------------------------------------- */

/* Starts handoffd with one profile per certificate ("ecdsa", "rsa",
 * "ed25519") and `workers` workers, its client cache off (full client
 * handshakes, like GnuTLS's); waits until it answers.  Returns the URL
 * (allocated; freed at exit) and the child's pid in *pid. */
const char *bench_daemon_start(const char *handoffd, const char *dir,
    const struct bench_cert *certs, unsigned workers, int *pid);
/* The same with the lines given for its [daemon] section ("key =
 * value\n") instead: the client cache at its default unless they say. */
const char *bench_daemon_start_with(const char *handoffd, const char *dir,
    const struct bench_cert *certs, unsigned workers, const char *daemon_lines,
    int *pid);
/* SIGTERM, then waits; a handoffd that does not exit with status 0 is
 * reported on stderr with its log, and counted. */
void bench_daemon_stop(int pid);
/* How many stopped handoffds did not exit with status 0. */
int bench_daemon_unclean_stops(void);
/* The daemon's resident memory in KiB (from /proc), 0 if unknown. */
long bench_daemon_rss_kib(int pid);

/* ---- usage.c: CPU time and context switches from /proc --------------- */

struct bench_usage {
	double cpu_us;   /* run time of all threads */
	double switches; /* voluntary and involuntary context switches */
};
/* Adds process pid's counters (all its threads) to *u. */
void bench_usage_add(int pid, struct bench_usage *u);
/* This process's counters, ended threads included. */
void bench_usage_self(struct bench_usage *u);
/* The calling thread's user-space CPU time so far, in us. */
double bench_thread_user_us(void);

/* ---- handshakes.c: servers, clients and the load generator ------------ */

/* BENCH_KEYONLY: a GnuTLS server or signer whose key is in handoffd
 * (handoff_gnutls.h); the handshake itself in process. */
enum bench_side { BENCH_GNUTLS, BENCH_HANDOFF, BENCH_KEYONLY };

/* One side's rate in each alternating round (rounds.c), in order, so
 * that a figure's ratio can be given with its spread across rounds. */
#define BENCH_ROUNDS_MAX 8 /* main.c runs 5 */
struct bench_round_rates {
	double rate[BENCH_ROUNDS_MAX];
	int n;
};

struct bench_hs_result {
	double per_sec;
	double p50_us, p99_us;
	double seconds; /* how long the load ran */
	unsigned long count, failures;
	/* Handshakes of a resumed figure that ran full instead (counted in
	 * count: the figure is then partly full handshakes). */
	unsigned long unresumed;
	/* What each handshake cost the measured side: its processes (the
	 * servers, in process or libhandoff's callers; for client
	 * handshakes, the clients) and handoffd. */
	struct bench_usage side, daemon;
	struct bench_round_rates rounds; /* per_sec of each round */
};

enum bench_role { BENCH_SERVER_ROLE, BENCH_CLIENT_ROLE };

/* One handshake figure, the same for every side measured on it. */
struct bench_hs_figure {
	enum bench_role role;
	const struct bench_cert *cert;
	/* handoffd and its profile for the handoff sides (the GnuTLS side
	 * ignores them); the daemon's usage goes to out->daemon. */
	const char *daemon_url, *profile;
	int daemon_pid;
	/* Server role: each load client resumes its first session's ticket.
	 * Client role: GnuTLS clients the same; libhandoff's clients through
	 * handoffd's client cache, which daemon_url's handoffd must have. */
	int resumed;
	unsigned servers;   /* server role: server threads per process */
	unsigned processes; /* server role: processes (> 1: forked callers) */
	unsigned clients;   /* load threads */
	/* When not NULL, bench_hs_alternating calls it with before_arg at
	 * the start of each round (for what must see the same stretch of
	 * the host's speed as the figure, bench_crypto_round). */
	void (*before_round)(void *arg);
	void *before_arg;
};

/*
 * Measures one side of figure f for `seconds`; every latency sample also
 * goes to *pool unless it is NULL.
 * Server role: f->servers threads (in f->processes forked processes)
 * accept on 127.0.0.1 and handshake in process (BENCH_GNUTLS), through
 * handoffd (BENCH_HANDOFF) or in process with the key in handoffd
 * (BENCH_KEYONLY), while f->clients GnuTLS load threads connect,
 * handshake (resuming when f->resumed) and close.
 * Client role: the load threads are the clients, verifying the server's
 * chain in process (BENCH_GNUTLS) or through handoffd (BENCH_HANDOFF),
 * against in-process GnuTLS servers.
 */
void bench_hs_measure(const struct bench_hs_figure *f, enum bench_side side,
    double seconds, struct bench_samples *pool, struct bench_hs_result *out);

/* Full-handshake GnuTLS clients against 127.0.0.1:port for `seconds`. */
void bench_run_gnutls_load(
    int port, unsigned clients, double seconds, struct bench_hs_result *out);

/* ---- rounds.c: both sides of a figure in alternating rounds ---------- */

/* Calls measure(side, seconds / rounds, arg) for side 0 (in-process
 * GnuTLS) and side 1 (handoff) in each of `rounds` rounds, the side
 * going first alternating: a VM's speed drifts over seconds, and a side
 * measured whole before the other would carry the drift into the
 * ratio.  Every side-by-side figure is taken this way. */
void bench_alternate(int rounds, double seconds,
    void (*measure)(int side, double seconds, void *arg), void *arg);

/* Rounds added up: out's rate and per-handshake usage over all of them
 * (bench_hs_total_finish turns the sums into those, and the pooled
 * samples into p50 and p99). */
void bench_hs_total_add(
    struct bench_hs_result *total, const struct bench_hs_result *round);
void bench_hs_total_finish(
    struct bench_hs_result *total, struct bench_samples *pool);

/* Adds one round's rate (ignored past BENCH_ROUNDS_MAX). */
void bench_round_rates_add(struct bench_round_rates *r, double rate);
/* The rounds' own ratios, theirs / gnutls, each round's two sides taken
 * together, into *ratios (rounds with no GnuTLS rate left out). */
void bench_round_ratios(const struct bench_round_rates *gnutls,
    const struct bench_round_rates *theirs, struct bench_round_rates *ratios);
/* The lowest and highest of r's values; 0 if r holds none. */
int bench_round_range(
    const struct bench_round_rates *r, double *lo, double *hi);

/* Figure f for in-process GnuTLS (*gnutls) and for `other` (*theirs),
 * `seconds` each, in `rounds` alternating rounds (bench_alternate). */
void bench_hs_alternating(const struct bench_hs_figure *f,
    enum bench_side other, double seconds, int rounds,
    struct bench_hs_result *gnutls, struct bench_hs_result *theirs);

/* ---- stall.c ---------------------------------------------------------- */

struct bench_stall_result {
	double p99_us, max_us; /* work per loop iteration (wall clock) */
	double cpu_p99_us;     /* the same iterations' own CPU time: the wall
	                        * clock also counts time the loop thread sat
	                        * preempted by other threads */
	double per_sec;        /* handshakes completed by the loop */
	/* Each alternating round's own p99, max, CPU p99 (us) and rate. */
	struct bench_round_rates p99_rounds, max_rounds, cpu_p99_rounds,
	    rate_rounds;
};

/* One single-threaded epoll server under handshake load: how long one
 * loop iteration is busy, in process (*gnutls) and through handoffd
 * (*handoff), `seconds` each in `rounds` alternating rounds
 * (bench_alternate). */
void bench_event_loop_stall(const struct bench_cert *c, const char *daemon_url,
    const char *profile, unsigned clients, double seconds, int rounds,
    struct bench_stall_result *gnutls, struct bench_stall_result *handoff);

/* ---- records.c -------------------------------------------------------- */

struct bench_rec_result {
	double write_gbps, read_gbps; /* plaintext GB/s */
	/* The measured thread's user-space CPU time per record: the record
	 * layer's own work, without the kernel's (same on both sides). */
	double write_user_us, read_user_us;
	struct bench_round_rates write_rounds, read_rounds; /* GB/s */
};

/* Record-layer throughput for one cipher ("AES-128-GCM", ...) and record
 * size: gnutls_record_send/recv (*gnutls) against handoff_write and
 * handoff_read (*handoff), `seconds` each way per side, in `rounds`
 * alternating rounds (bench_alternate). */
void bench_records(const char *cipher, size_t record,
    const struct bench_cert *c, const char *daemon_url, double seconds,
    int rounds, struct bench_rec_result *gnutls,
    struct bench_rec_result *handoff);

/* The cipher alone: one 16 KiB buffer sealed in place, again and again,
 * with GnuTLS's AEAD call and with libcrypto's (EVP), on this core: what
 * either library's record layer could reach at most.  GB/s. */
struct bench_cipher_speed {
	double gnutls_gbps, libcrypto_gbps;
};
void bench_cipher_alone(
    const char *cipher, double seconds, struct bench_cipher_speed *out);
/* The faster of the two, GB/s: the ceiling for any record layer here. */
double bench_cipher_fastest(const struct bench_cipher_speed *s);

/* ---- memory.c --------------------------------------------------------- */

struct bench_mem_result {
	double self_kib;   /* this process's heap per handshake in flight */
	double daemon_kib; /* handoffd's resident memory per handshake */
};

/* n ECDSA-P256 server handshakes held in flight at once, in process or
 * through handoffd (pid daemon_pid) on the given profile: "ecdsa" (TLS
 * 1.3 in one trip: the daemon holds nothing while the client's Finished
 * travels) or "ecdsa-held" (a client certificate requested: the daemon
 * holds the session until the client answers). */
void bench_memory(enum bench_side side, const struct bench_cert *c,
    const char *daemon_url, const char *profile, int daemon_pid, unsigned n,
    struct bench_mem_result *out);

/* ---- limit.c ---------------------------------------------------------- */

struct bench_costs {
	double sign_us[BENCH_KEY_COUNT]; /* one signature, GnuTLS */
	/* One signature as handoffd makes it for a key file: libcrypto for
	 * ECDSA and RSA, libsodium for Ed25519 (daemon/fastkey.c). */
	double offload_sign_us[BENCH_KEY_COUNT];
	double kx_us; /* one X25519 key share + secret, nettle */
	/* The same as handoffd computes it: the secret with libsodium. */
	double offload_kx_us;
	double syscall_us;                     /* one trivial system call */
	double wakeup_us;                      /* one thread waking another */
	double ipc_rtt_p50_us, ipc_rtt_p99_us; /* one IPC round trip */
	/* The same trip over a bare unix socket, without nanomsg. */
	double bare_rtt_p50_us, bare_rtt_p99_us;
};
/* dir: a private directory for the IPC round trip's socket. */
void bench_measure_costs(const struct bench_cert *c, const char *dir,
    double seconds, struct bench_costs *out);
/* One thread waking another (us), timed for `seconds`. */
double bench_wakeup_cost(double seconds);
/*
 * The crypto of one full server handshake with key kind `key` (both
 * signers, both X25519s), timed again before each round of that key's
 * full-handshake figure (bench_hs_figure.before_round): the host's speed
 * moves by up to ~1.8x over minutes, so a limit timed at the start of the
 * run would judge the figure against another stretch of it.
 */
struct bench_crypto_rounds {
	const struct bench_cert *certs; /* every kind, as for the start's */
	enum bench_key key;
	double seconds;         /* for each of the four, each round */
	int n;                  /* rounds timed */
	struct bench_costs sum; /* key's sign columns and X25519s, summed */
};
/* A before_round callback: arg is a struct bench_crypto_rounds. */
void bench_crypto_round(void *arg);
/* The rounds' mean as handshakes/s on cpus cores, in process and with
 * handoffd's crypto; 0 (and nothing set) when no round was timed. */
int bench_crypto_rounds_limits(const struct bench_crypto_rounds *r,
    unsigned cpus, double *in_process, double *offload);

/* ---- steadiness.c: whether the host kept one speed through the run */

/* Records the host's speed at a point of the run named `at` ("start", a
 * section about to start, "end"): X25519 timed for `seconds`, a
 * dependent chain and a wake-up for a quarter and a half of that. */
void bench_steadiness_check(const char *at, double seconds);
/* The lines after the targets: each point, the spreads, and whether the
 * host's speed moved during the run, and why. */
void bench_steadiness_print(void);
/* The same as a JSON member: `  "steadiness": {...},\n`. */
void bench_steadiness_json(FILE *f);

/* ---- keyonly.c: signatures and verifications through handoff_gnutls.h */

/* One operation repeated by many threads. */
struct bench_rate {
	double per_sec;        /* operations per second, all threads */
	double p50_us, p99_us; /* one operation's latency */
	unsigned long failures;
	struct bench_round_rates rounds; /* per_sec of each round */
};

/* `threads` threads sign a SHA-256 hash (Ed25519: a 130-byte message,
 * as TLS 1.3 hands it) for `seconds` per side: with the key read from
 * its file (*gnutls), and with the key in handoffd on profile
 * (*handoff), in `rounds` alternating rounds (bench_alternate). */
void bench_sign_rates(const struct bench_cert *c, const char *daemon_url,
    const char *profile, unsigned threads, double seconds, int rounds,
    struct bench_rate *gnutls, struct bench_rate *handoff);

/* A leaf for localhost signed by ca (the ECDSA certificate, a CA too),
 * DER in memory: the chain the VERIFY figures check. */
void bench_make_leaf(const struct bench_cert *ca, gnutls_datum_t *leaf_der);

/* `threads` threads verify leaf_der for localhost and the TLS server
 * purpose for `seconds` per side: in process against ca (*gnutls), and
 * in handoffd on profile (*handoff), whose cache may answer; in `rounds`
 * alternating rounds (bench_alternate). */
void bench_verify_rates(const struct bench_cert *ca,
    const gnutls_datum_t *leaf_der, const char *daemon_url,
    const char *profile, unsigned threads, double seconds, int rounds,
    struct bench_rate *gnutls, struct bench_rate *handoff);

/* ---- machine.c: the CPUs the run may use (daemon/cpus.c counts) ------ */

/* The online CPUs, or fewer when this process's affinity mask or its
 * cgroup's CPU quota allows fewer.  The run sizes its threads and
 * handoffd's workers by it. */
unsigned bench_cpus(void);
/* sysconf's count of online CPUs. */
unsigned bench_cpus_online(void);
/* What holds bench_cpus() below the online count ("its CPU affinity",
 * "its cgroup's CPU quota"), or "". */
const char *bench_cpus_limit(void);

/* ---- machine.c: what the run measured on ---------------------------- */

struct bench_machine {
	char cpu_model[128];    /* /proc/cpuinfo's model name */
	char cpu_features[128]; /* those of the list in machine.c present */
	int virtual_machine;    /* the CPU reports a hypervisor */
	char kernel[80];        /* uname's release */
	char openssl[80];       /* libcrypto's version */
};
/* Reads them; text is printable ASCII without quotes, ready for JSON. */
void bench_machine_read(struct bench_machine *m);

/* ---- ipc_rtt.c -------------------------------------------------------- */

/* A 2 KiB nanomsg REQ/REP round trip over ipc:// to another process
 * (forked, its socket in dir), timed for `seconds`: p50 and p99. */
void bench_ipc_round_trip(
    const char *dir, double seconds, double *p50_us, double *p99_us);
/* The same trip, 2 KiB each way, over a bare unix stream socket pair to
 * a forked echo process: what the kernel's part of it costs. */
void bench_bare_round_trip(double seconds, double *p50_us, double *p99_us);

/* ---- main.c: the run's figures --------------------------------------- */

/* One figure, both sides; its ratio is handoff / GnuTLS for rates and
 * GnuTLS / handoff for times (lower_is_better), so above 1 is handoff
 * ahead. */
struct bench_row {
	char section[32];
	char name[96];
	char unit[16];
	double gnutls, handoff;
	int lower_is_better;
	/* The ratio in each alternating round, when the figure keeps them
	 * (n > 0): how far one round's reading strays on this machine. */
	struct bench_round_rates rounds;
};

/* ---- table.c: the run's figures, printed and kept */

/* Prints a section's title and the table's column heads. */
void bench_section(const char *title);
/* Prints and keeps a figure's row (up to 256 in a run); with `ratios`
 * (not NULL), its ratio in each alternating round, whose spread follows
 * the ratio. */
void bench_add_row_with(const char *section, const char *name,
    const char *unit, double gnutls, double handoff, int lower_is_better,
    const struct bench_round_rates *ratios);
void bench_add_row(const char *section, const char *name, const char *unit,
    double gnutls, double handoff, int lower_is_better);
/* A row with its ratio in each round, taken the way the run's is:
 * handoff / GnuTLS for a rate, GnuTLS / handoff for a time. */
void bench_add_rounds_row(const char *section, const char *name,
    const char *unit, double gnutls, double handoff, int lower_is_better,
    const struct bench_round_rates *g_rounds,
    const struct bench_round_rates *h_rounds);
/* A rate's row (higher is better), with each round's ratio. */
void bench_add_rate_row(const char *section, const char *name,
    const char *unit, double gnutls, double handoff,
    const struct bench_round_rates *g_rounds,
    const struct bench_round_rates *h_rounds);
/* The figure `name` of `section` in this run, or NULL if not measured. */
const struct bench_row *bench_row_find(const char *section, const char *name);
double bench_row_ratio(const struct bench_row *r);
int bench_rows_count(void);
/* The rows as the JSON's "results" array, with its trailing newline. */
void bench_rows_json(FILE *f);
/* A bar chart of every ratio at path (gnuplot; its data file in dir):
 * 0, or -1 if it could not be drawn. */
int bench_rows_png(const char *path, const char *dir);

/* The added-latency figure against its target (main.c's run_latency). */
struct bench_added_latency {
	double added_us;   /* p50 through handoff - p50 in process */
	double target_us;  /* 2 IPC round trips (the rounds' median) + 50 */
	double rtt_p50_us; /* that round trip */
	double lowest_us, highest_us; /* the rounds' own added latency */
	int rounds, rounds_met;       /* rounds_met: rounds within target */
};

/* ---- targets.c: the performance targets, judged in this run ---------- */

/* What bounds some targets on this machine, as this run measured it. */
struct bench_ceilings {
	const struct bench_costs *costs; /* the crypto costs line */
	/* Per key kind, handshakes/s at handoffd's crypto timed in the
	 * full figure's rounds; 0 where not measured (then costs is used). */
	const double *offload_limit_in_rounds;
	unsigned cpus; /* the cores the run used */
	/* Each cipher alone (zero when the records section did not run). */
	struct bench_cipher_speed aes128, chacha;
};
/* Judges every target whose figures this run measured: the rows above,
 * the added latency (lat->rounds == 0: not measured) and the memory
 * figure's handshakes in flight; with what bounds it here, from c. */
void bench_targets_judge(const struct bench_added_latency *lat,
    unsigned memory_in_flight, const struct bench_ceilings *c);
/* The table's last section: each target, wanted, measured, met or not;
 * quick: the run was --quick (its figures are short and noisy). */
void bench_targets_print(int quick);
/* The same as a JSON member: `  "targets": [...],\n`. */
void bench_targets_json(FILE *f);

#endif /* HANDOFF_BENCH_H */
