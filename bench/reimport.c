/* bench_reimport: a cumulative leavers import of N pupils, then the same file
 * again (issue 12's target: re-importing 100,000 unchanged rows well under
 * 5 s). Times what the daemon does for `overstap import leavers`: the CSV
 * parse (the CLI's part), then import_leavers (validation again, the lookup,
 * decryption and field-by-field comparison of every stored row). The control
 * socket's transfer is not included.
 *
 *   bench_reimport [-n N] [--dir DIR]      (default N = 100000)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "import.h"
#include "leavers.h"
#include "store.h"

#define PEER "25LZ00"

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 9-digit number passing the elfproef, from i (distinct for distinct i). */
static void s_pgn(unsigned i, char out[10])
{
	for (unsigned k = i;; k += 1000003) {
		unsigned d[8], v = 20000000 + k % 70000000, s = 0;

		for (int j = 7; j >= 0; j--, v /= 10)
			d[j] = v % 10;
		for (int j = 0; j < 8; j++)
			s += d[j] * (unsigned)(9 - j);
		if (s % 11 < 10) {
			/* digits, one character each (GCC's Release cannot see they are) */
			for (int j = 0; j < 8; j++)
				out[j] = (char)('0' + d[j]);
			out[8] = (char)('0' + s % 11);
			out[9] = '\0';
			return;
		}
	}
}

static char *s_csv(unsigned n, size_t *len)
{
	size_t cap = 128 + (size_t)n * 200, at = 0;
	char *buf = malloc(cap), pgn[10];

	if (!buf)
		return NULL;
	at += (size_t)snprintf(buf, cap, "pupil_ref,pgn,given_name,family_name,birth_date,program,"
			       "cohort,exit_date,destination_type,destination_institution,"
			       "support_needs\n");
	for (unsigned i = 0; i < n; i++) {
		s_pgn(i, pgn);
		at += (size_t)snprintf(buf + at, cap - at,
				       "L%06u,%s,Eva,Jansen,2008-05-01,pro,2024-2025,2025-06-30,"
				       "mbo_entree," PEER ",job_coach:vast rooster\n", i + 1, pgn);
	}
	*len = at;
	return buf;
}

static int s_run(struct store *s, const struct config *cfg, const char *csv, size_t len,
		 const char *what, unsigned expect_added, unsigned expect_unchanged)
{
	struct strlist errors = { 0 };
	struct import_result res = { 0 };
	Overstapctl__Leaver **rows = NULL;
	size_t n = 0;
	double t0 = s_now(), t1, t2;
	int r = leavers_parse_buffer("bench.csv", csv, len, &rows, &n, &errors, NULL, NULL);

	t1 = s_now();
	if (r == 0)
		r = import_leavers(s, cfg, "bench.csv", rows, n, "bench", 0, &res);
	t2 = s_now();
	if (r < 0 || res.added != expect_added || res.unchanged != expect_unchanged) {
		fprintf(stderr, "bench_reimport: %s: %s (added %u, unchanged %u, %zu errors)\n", what,
			r < 0 ? strerror(-r) : "unexpected counts", res.added, res.unchanged,
			errors.n + res.errors.n);
		r = -1;
	} else {
		printf("%-22s %8zu rows  parse %7.0f ms  import %7.0f ms  total %7.0f ms  %9.0f rows/s\n",
		       what, n, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t2 - t0) * 1e3,
		       (double)n / (t2 - t0));
	}
	leavers_free(&rows, n);
	strlist_clear(&errors);
	import_result_clear(&res);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "dir", required_argument, NULL, 'd' }, { 0 } };
	struct peer_cfg peer = { 0 };
	struct config cfg = { 0 };
	struct store *s = NULL;
	char dir[256] = "", path[300], err[256], cmd[300];
	uint8_t master[32];
	unsigned n = 100000;
	size_t len = 0;
	char *csv;
	int c, r = 1;

	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (c == 'n')
			n = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'd')
			snprintf(dir, sizeof(dir), "%s", optarg);
		else
			return 2;
	}
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/bench_reimport.XXXXXX");
		if (!mkdtemp(dir))
			return 1;
	}
	strcpy(peer.id, PEER);
	strcpy(peer.endpoint, "tcp://127.0.0.1:7470");
	cfg.peers = &peer;
	cfg.n_peers = 1;
	snprintf(path, sizeof(path), "%s/store.db", dir);
	if (crypto_random(master, sizeof(master)) < 0 ||
	    store_open(path, master, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_reimport: %s\n", err);
		return 1;
	}
	csv = s_csv(n, &len);
	if (csv && s_run(s, &cfg, csv, len, "first import (added)", n, 0) == 0 &&
	    s_run(s, &cfg, csv, len, "re-import (unchanged)", 0, n) == 0)
		r = 0;
	free(csv);
	store_close(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = 1;
	printf("rerun: build/bench/bench_reimport -n %u\n", n);
	return r;
}
