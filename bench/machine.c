/*
 * machine.c - what a run measured on: the CPU's model and the features
 * its crypto speed depends on, whether it is a virtual machine (where
 * a thread waking another costs many times what it costs on bare
 * metal, and with it every IPC trip), the kernel and the OpenSSL
 * version (handoffd signs ECDSA and RSA with libcrypto, libhandoff
 * seals ChaCha20-Poly1305 with it).  Printed under the run's first line
 * and written to the JSON, so that runs from two machines can be told
 * apart and their figures read with what explains them; and how many
 * CPUs the run may use, counted as handoffd counts them for its workers
 * (daemon/cpus.c), which sizes the run's threads and handoffd's workers.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <openssl/crypto.h>

#include "bench.h"
#include "cpus.h"

/* CPU features that move the figures, as /proc/cpuinfo names them:
 * AES-GCM (aes, vaes, pclmulqdq, vpclmulqdq; ARM: aes, pmull), wide
 * vectors for ChaCha20-Poly1305 (avx2, avx512f; ARM: asimd), RSA in
 * OpenSSL 3 (avx512ifma), SHA-256/384 (sha_ni; ARM: sha2, sha512). */
static const char *const features[] = {"aes", "vaes", "pclmulqdq",
    "vpclmulqdq", "avx2", "avx512f", "avx512ifma", "sha_ni", "pmull", "asimd",
    "sha2", "sha512"};

/* Keeps printable ASCII but quotes and backslashes, so that the text
 * goes into the JSON as it is printed. */
static void
keep_plain(char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s) || *s == '"' || *s == '\\')
			*s = ' ';
}

/* Whether the space-separated list holds the word. */
static int
has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The value of the first "name<tabs>: value" line, without the
 * newline; "" if there is none. */
static void
cpuinfo_value(const char *name, char *out, size_t len)
{
	out[0] = '\0';
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (f == NULL)
		return;
	char line[4096];
	size_t n = strlen(name);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');
		if (strncmp(line, name, n) != 0 || colon == NULL ||
		    strspn(line + n, " \t") != (size_t)(colon - line - n))
			continue;
		snprintf(out, len, "%s", colon + 1 + strspn(colon + 1, " "));
		out[strcspn(out, "\n")] = '\0';
		break;
	}
	fclose(f);
}

void
bench_machine_read(struct bench_machine *m)
{
	memset(m, 0, sizeof(*m));
	cpuinfo_value("model name", m->cpu_model, sizeof(m->cpu_model));
	if (m->cpu_model[0] == '\0')
		snprintf(m->cpu_model, sizeof(m->cpu_model), "unknown CPU");
	char flags[4096];
	cpuinfo_value("flags", flags, sizeof(flags));
	if (flags[0] == '\0')
		cpuinfo_value("Features", flags, sizeof(flags)); /* ARM */
	m->virtual_machine = has_word(flags, "hypervisor");
	size_t used = 0;
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (has_word(flags, features[i]) &&
		    used < sizeof(m->cpu_features))
			used += (size_t)snprintf(m->cpu_features + used,
			    sizeof(m->cpu_features) - used, "%s%s",
			    used ? " " : "", features[i]);
	struct utsname u;
	snprintf(m->kernel, sizeof(m->kernel), "%s",
	    uname(&u) == 0 ? u.release : "unknown");
	snprintf(m->openssl, sizeof(m->openssl), "%s",
	    OpenSSL_version(OPENSSL_VERSION));
	keep_plain(m->cpu_model);
	keep_plain(m->kernel);
	keep_plain(m->openssl);
}

/* Counted once: every section sizes its threads by the same count. */
static const struct ho_cpus *
run_cpus(void)
{
	static struct ho_cpus cpus;
	if (cpus.online == 0)
		ho_cpus_count(&cpus);
	return &cpus;
}

unsigned
bench_cpus(void)
{
	return run_cpus()->usable;
}

unsigned
bench_cpus_online(void)
{
	return run_cpus()->online;
}

const char *
bench_cpus_limit(void)
{
	return run_cpus()->limit;
}
