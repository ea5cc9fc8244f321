/*
 * main.c - handoffd's entry point: options, configuration, start-up.
 *
 * Only wiring lives here: read the config (or make the built-in default),
 * set the scheduling policy, load the profiles, bind, drop privileges,
 * start the workers, and run the loop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpus.h"
#include "handoff.h"
#include "handoffd.h"
#include "paths.h"

struct options {
	const char *config;
	const char *listen;
	int foreground;
	int verbose;
	int check;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: handoffd [options]\n"
	    "  -c, --config FILE   read this INI file (default: built-in "
	    "config)\n"
	    "  -l, --listen URL    nanomsg URL to listen on (overrides the "
	    "config)\n"
	    "  -f, --foreground    log to stderr instead of syslog\n"
	    "  -v, --verbose       log at debug level\n"
	    "  -t, --check         check the config and profiles, then exit\n"
	    "  -V, --version       print the version\n"
	    "  -h, --help          this text\n"
	    "See handoffd(8) and handoffd.conf(5).\n");
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"check", no_argument, NULL, 't'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;
	memset(o, 0, sizeof(*o));
	while (
	    (c = getopt_long(argc, argv, "c:l:fvtVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'v': o->verbose = 1; break;
		case 't': o->check = 1; break;
		case 'V':
			printf("handoffd %s\n", HANDOFF_VERSION_STRING);
			exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "handoffd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		exit(2);
	}
	return 0;
}

/* The built-in configuration: one "default" profile with a self-signed
 * certificate kept in the state directory. */
static int
add_default_profile(struct ho_config *cfg, char *err, size_t errlen)
{
	char dir[512], cert[1024], key[1024];
	if (ho_default_state_dir(dir, sizeof(dir)) != 0) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	if (ho_selfsigned_ensure(dir, cert, key, sizeof(cert), err, errlen) !=
	    0)
		return -1;
	struct ho_profile_config *p = &cfg->profiles[cfg->profile_count++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "default");
	p->certificate = strdup(cert);
	p->key = strdup(key);
	if (p->certificate == NULL || p->key == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The default listen URL; creates its private directory. */
static int
default_listen(char *url, size_t len, char *err, size_t errlen)
{
	char dir[512];
	if (ho_default_runtime_dir(dir, sizeof(dir)) != 0 ||
	    handoff_default_daemon_url(url, len) != 0) {
		snprintf(err, errlen, "runtime directory path too long");
		return -1;
	}
	if (ho_mkdir_p(dir, 0700) != 0) {
		snprintf(err, errlen, "cannot create runtime directory %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || st.st_uid != geteuid() ||
	    (st.st_mode & 0007) != 0) {
		snprintf(err, errlen,
		    "runtime directory %s must belong to this user and not "
		    "be world-accessible (chmod 700 it)",
		    dir);
		return -1;
	}
	return 0;
}

/* What the start-up log says about who makes a profile's signatures. */
static const char *
signer_words(const struct ho_profile *p)
{
	if (!p->has_certificate)
		return "connects only (no certificate)";
	if (strcmp(p->key_backend, "openssl") == 0)
		return "signs with OpenSSL's libcrypto";
	if (strcmp(p->key_backend, "libsodium") == 0)
		return "signs with libsodium";
	if (strcmp(p->key_backend, "pkcs11") == 0)
		return "signs in its PKCS#11 token";
	return "signs with GnuTLS";
}

/* The config's workers, or one per CPU handoffd may use when it says 0;
 * `why` says which, for the log. */
static int
worker_count(int workers, char *why, size_t len)
{
	if (workers > 0) {
		snprintf(why, len, "workers = %d in the config", workers);
		return workers;
	}
	struct ho_cpus cpus;
	ho_cpus_count(&cpus);
	if (cpus.limit[0] != '\0')
		snprintf(why, len,
		    "one per CPU handoffd may use: %u of %u online, as %s "
		    "allows; set workers in the config to change it",
		    cpus.usable, cpus.online, cpus.limit);
	else
		snprintf(why, len, "one per online CPU");
	return (int)cpus.usable;
}

/* The stand-ins for nettle's functions (x25519.c, sha512.c,
 * ecdsa_verify.c, ed25519_verify.c): logs who does `what` now, as the
 * stand-in's setup said, or, if it said NULL (nettle's own function is
 * missing), puts `missing` in err and returns -1. */
static int
standin_ready(const char *what, const char *who, const char *missing,
    char *err, size_t errlen)
{
	if (who == NULL) {
		snprintf(err, errlen, "%s", missing);
		return -1;
	}
	ho_log_info("%s: %s", what, who);
	return 0;
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct ho_config cfg;
	struct ho_profiles profiles = {NULL, 0};
	struct ho_daemon *daemon = NULL;
	char err[1024], url[1024];
	int rc = 1;

	parse_options(argc, argv, &opt);
	signal(SIGPIPE, SIG_IGN);
	ho_config_defaults(&cfg);
	ho_log_init(opt.foreground || opt.check, HO_LOG_INFO);
	if (opt.config != NULL) {
		if (ho_config_load(&cfg, opt.config, err, sizeof(err)) != 0 ||
		    ho_config_check(&cfg, opt.config, err, sizeof(err)) != 0)
			goto fail;
	} else if (add_default_profile(&cfg, err, sizeof(err)) != 0) {
		goto fail;
	}
	ho_log_init(opt.foreground || opt.check,
	    opt.verbose ? HO_LOG_DEBUG : (int)cfg.log_level);
	/* First, while handoffd has one thread: later ones inherit it (a
	 * PKCS#11 module may start its own while the profiles load). */
	if (!opt.check) {
		char note[256];
		if (ho_scheduling_apply(cfg.scheduling, note, sizeof(note)) ==
		    0)
			ho_log_info("%s", note);
		else
			ho_log_warning("%s", note);
	}
	uid_t uid = 0;
	gid_t gid = 0;
	if (cfg.user != NULL &&
	    ho_priv_lookup(cfg.user, &uid, &gid, err, sizeof(err)) != 0)
		goto fail;
	if (ho_profiles_load(&profiles, &cfg, err, sizeof(err)) != 0)
		goto fail;
	for (int i = 0; i < profiles.count; i++)
		ho_log_info("profile %s: %s", profiles.list[i].name,
		    signer_words(&profiles.list[i]));
	if (opt.check) {
		printf("handoffd: configuration OK (%d profile(s))\n",
		    profiles.count);
		rc = 0;
		goto out;
	}
	const char *listen = opt.listen ? opt.listen : cfg.listen;
	char runtime_dir[512] = "";
	if (listen == NULL) {
		if (default_listen(url, sizeof(url), err, sizeof(err)) != 0)
			goto fail;
		listen = url;
		ho_default_runtime_dir(runtime_dir, sizeof(runtime_dir));
	}
	if (ho_handshake_global_init(
	        cfg.ticket_lifetime_s, err, sizeof(err)) != 0)
		goto fail;
	int verify_auto = cfg.verify_backend == HO_BACKEND_AUTO;
	if (standin_ready("X25519 key shares and shared secrets",
	        ho_x25519_setup(cfg.kx_backend == HO_BACKEND_AUTO),
	        "nettle's curve25519_mul or curve25519_mul_g, which "
	        "GnuTLS's X25519 needs, was not found: reinstall "
	        "libhogweed6 and libgnutls30",
	        err, sizeof(err)) != 0 ||
	    standin_ready("SHA-384/512 blocks",
	        ho_sha512_setup(cfg.hash_backend == HO_BACKEND_AUTO),
	        "nettle's own SHA-512 block function was not found, and "
	        "libcrypto's differed: reinstall libnettle8 and libssl3",
	        err, sizeof(err)) != 0 ||
	    standin_ready("ECDSA signature checks",
	        ho_ecdsa_verify_setup(verify_auto),
	        "nettle's ecdsa_verify, which GnuTLS's ECDSA signature "
	        "checks need, was not found: reinstall libhogweed6 and "
	        "libgnutls30",
	        err, sizeof(err)) != 0 ||
	    standin_ready("Ed25519 signature checks",
	        ho_ed25519_verify_setup(verify_auto),
	        "nettle's ed25519_sha512_verify, which GnuTLS's Ed25519 "
	        "signature checks need, was not found: reinstall "
	        "libhogweed6 and libgnutls30",
	        err, sizeof(err)) != 0)
		goto fail;
	/* The socket file gets mode 0660: never world-accessible. */
	umask(0117);
	if (ho_server_start(
	        &daemon, uv_default_loop(), &cfg, &profiles, listen) != 0)
		goto out;
	/* Keys are loaded and the socket is bound: root is no longer needed.
	 */
	if (cfg.user != NULL &&
	    ho_priv_drop(cfg.user, uid, gid, listen,
	        runtime_dir[0] ? runtime_dir : NULL, err, sizeof(err)) != 0)
		goto fail;
	if (cfg.user != NULL && !ho_priv_can_remove_socket(listen)) {
		ho_log_warning(
		    "user %s cannot remove the socket of %s when "
		    "handoffd stops (its directory is not "
		    "writable by that user): it stays behind until "
		    "the next start replaces it, and callers wait "
		    "for their deadline instead of hearing at once "
		    "that handoffd is gone; listen in a directory "
		    "that user may write to (the default socket's is)",
		    cfg.user, listen);
		ho_server_keep_socket_file(daemon);
	}
	if (cfg.user != NULL &&
	    ho_token_check_after_drop(&profiles, cfg.user, err, sizeof(err)) !=
	        0)
		goto fail;
	char why[256];
	int workers = worker_count(cfg.workers, why, sizeof(why));
	if (ho_server_start_workers(daemon, workers, why) != 0)
		goto out;
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	ho_log_info("stopped");
	rc = 0;
	goto out;
fail:
	ho_log_error("%s", err);
out:
	ho_server_free(daemon);
	ho_profiles_free(&profiles);
	ho_config_free(&cfg);
	ho_handshake_global_free();
	return rc;
}
