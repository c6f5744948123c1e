/* bench_report: time `overstap report` over a store of N leavers in 10
 * cohorts with their consents, statuses and outcomes (issue 4's benchmark).
 *
 * The store is made by overstapd's own store_open (schema, pragmas), then
 * filled over a second sqlite connection with synthetic, non-personal rows:
 * the report reads only the pseudonymous columns, so the personal data of
 * the leavers is a placeholder. Then report_build (what the daemon does for
 * a request) and each renderer of the CLI are timed; peak RSS is printed.
 *
 *   bench_report [-n N] [--dir DIR]        (default N = 1000000)
 * With --dir naming a directory that holds a store from an earlier run, that
 * store is reused (and N is only what is printed).
 */
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "report.h"
#include "report_out.h"
#include "store.h"

#define COHORTS 10

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long s_rss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

static int s_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench_report: %s: %s\n", sql, err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* A deterministic generator: the same store for the same N. */
static uint64_t s_rng = 88172645463325252ULL;
static unsigned s_rand(unsigned n)
{
	s_rng ^= s_rng << 13;
	s_rng ^= s_rng >> 7;
	s_rng ^= s_rng << 17;
	return (unsigned)(s_rng % n);
}

static int s_fill(const char *path, long n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *lv = NULL, *cs = NULL, *ev = NULL;
	static const char *const dests[] = { "25LZ00", "25LZ01", "25LZ02", "25LZ03", "" };
	int r = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK || s_exec(db, "PRAGMA synchronous = OFF") < 0 ||
	    s_exec(db, "BEGIN") < 0 ||
	    s_exec(db, "INSERT INTO pupil_keys(id, wrapped, created_at) VALUES (1, x'00', 0)") < 0)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO leavers(id, key_id, ref_hash, pseudonym, pii, program,"
			       " cohort, exit_date, destination, destination_institution, advice,"
			       " advice_followed, level_taal, level_rekenen, state, record_id,"
			       " delivered_at, imported_at, imported_by) VALUES (?1, 1, ?2, ?2, x'00',"
			       " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0, 'bench')",
			       -1, &lv, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO consents(id, leaver_id, purpose, counterpart, grantor,"
			       " granted_at, valid_until, evidence_method, evidence_ref, recorded_by,"
			       " recorded_at) VALUES (?1, ?2, 2, '*', 1, '2020-01-01', '', 'form', x'00',"
			       " 'bench', '2020-01-01')", -1, &cs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO events(message_id, record_id, inbound, peer, event, date,"
			       " level, consent_id, at, actor) VALUES (?1, ?2, 1, '25LZ00', ?3, ?4, ?5,"
			       " '', 0, 'peer:25LZ00')", -1, &ev, NULL) != SQLITE_OK)
		goto out;
	for (long i = 1; i <= n; i++) {
		int y = 2015 + (int)(i % COHORTS), handed = s_rand(100) < 85, consent = s_rand(100) < 60;
		const char *dest = dests[s_rand(5)];
		char cohort[24], exitd[24], rid[48], hash[32], id[64], date[24];
		long nev = 0;

		snprintf(cohort, sizeof(cohort), "%d-%d", y - 1, y);
		snprintf(exitd, sizeof(exitd), "%d-07-01", y);
		snprintf(rid, sizeof(rid), "00000000-0000-7000-8000-%012ld", i);
		memset(hash, 0, sizeof(hash));
		memcpy(hash, &i, sizeof(i));
		handed = handed && dest[0];
		sqlite3_reset(lv);
		sqlite3_clear_bindings(lv);
		sqlite3_bind_int64(lv, 1, i);
		sqlite3_bind_blob(lv, 2, hash, sizeof(hash), SQLITE_TRANSIENT);
		sqlite3_bind_int(lv, 3, 1 + (int)s_rand(13));
		sqlite3_bind_text(lv, 4, cohort, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(lv, 5, exitd, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(lv, 6, 1 + (int)s_rand(10));
		if (dest[0])
			sqlite3_bind_text(lv, 7, dest, -1, SQLITE_STATIC);
		sqlite3_bind_int(lv, 8, 1 + (int)s_rand(9));
		sqlite3_bind_int(lv, 9, 1 + (int)s_rand(2));
		sqlite3_bind_int(lv, 10, 1 + (int)s_rand(4));
		sqlite3_bind_int(lv, 11, 1 + (int)s_rand(4));
		sqlite3_bind_int(lv, 12, handed ? 2 : 0);
		if (handed) {
			sqlite3_bind_text(lv, 13, rid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(lv, 14, 1);
		}
		if (sqlite3_step(lv) != SQLITE_DONE)
			goto out;
		if (handed && consent) {
			snprintf(id, sizeof(id), "c-%ld", i);
			sqlite3_reset(cs);
			sqlite3_bind_text(cs, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(cs, 2, i);
			if (sqlite3_step(cs) != SQLITE_DONE)
				goto out;
		}
		if (!handed)
			continue;
		/* enrolled (mostly before the peildatum), then for the consented an outcome */
		int evs[2] = { 5, consent ? 7 + (int)s_rand(5) : 0 };
		for (int k = 0; k < 2 && evs[k]; k++) {
			snprintf(id, sizeof(id), "e-%ld-%ld", i, nev++);
			snprintf(date, sizeof(date), k ? "%d-10-01" : "%d-0%d-20", k ? y + 1 : y,
				 k ? 0 : 8 + (int)s_rand(3));
			sqlite3_reset(ev);
			sqlite3_bind_text(ev, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ev, 2, rid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(ev, 3, evs[k]);
			sqlite3_bind_text(ev, 4, date, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(ev, 5, evs[k] == 8 || evs[k] == 9 ? 2 : 0);
			if (sqlite3_step(ev) != SQLITE_DONE)
				goto out;
		}
	}
	r = s_exec(db, "COMMIT");
out:
	if (r < 0)
		fprintf(stderr, "bench_report: filling the store failed: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(lv);
	sqlite3_finalize(cs);
	sqlite3_finalize(ev);
	sqlite3_close(db);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' }, { "by", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },	 { 0 },
	};
	long n = 1000000;
	char dir[256] = "", path[512], why[256];
	uint8_t master[CRYPTO_KEY_LEN];
	struct store *s = NULL;
	struct config cfg;
	static const char *const formats[] = { "json", "text", "csv", "html" };
	static const char *const bys_default[] = { "cohort", "program", "destination", "institution" };
	const char *const *bys = bys_default;
	size_t nbys = sizeof(bys_default) / sizeof(*bys_default);
	char *by_list[8];
	size_t n_by_list = 0;
	int c;

	while ((c = getopt_long(argc, argv, "n:d:b:h", opts, NULL)) != -1) {
		if (c == 'b') {
			/* one breakdown of several dimensions, e.g. institution,program,advice */
			for (char *t = strtok(optarg, ","); t && n_by_list < 8; t = strtok(NULL, ","))
				by_list[n_by_list++] = t;
		} else if (c == 'n')
			n = atol(optarg);
		else if (c == 'd')
			snprintf(dir, sizeof(dir), "%s", optarg);
		else {
			fprintf(stderr, "usage: bench_report [-n N] [--dir DIR] [--by DIM,...]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/overstap-bench-report-XXXXXX");
		if (!mkdtemp(dir))
			return 1;
	}
	snprintf(path, sizeof(path), "%s/store.db", dir);
	/* a fixed master key: --dir with a store from an earlier run reuses it */
	memset(master, 0x5a, sizeof(master));
	double t0 = s_now();
	int reuse = access(path, F_OK) == 0;
	if (store_open(path, master, &s, why, sizeof(why)) < 0) {
		fprintf(stderr, "bench_report: %s\n", why);
		return 1;
	}
	store_close(&s);
	if (!reuse && s_fill(path, n) < 0)
		return 1;
	if (store_open(path, master, &s, why, sizeof(why)) < 0)
		return 1;
	fprintf(stderr, "store of %ld leavers in %d cohorts made in %.1f s\n", n, COHORTS, s_now() - t0);

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.institution_id, sizeof(cfg.institution_id), "12AB00");
	snprintf(cfg.institution_name, sizeof(cfg.institution_name), "Bench school");
	cfg.report_min_cell = 5;

	printf("%-12s %-8s %10s %10s %10s %12s\n", "by", "format", "build ms", "render ms",
	       "total ms", "leavers/s");
	if (n_by_list)
		nbys = 1;
	for (size_t b = 0; b < nbys; b++) {
		for (size_t f = 0; f < sizeof(formats) / sizeof(*formats); f++) {
			Overstapctl__ReportQuery q = OVERSTAPCTL__REPORT_QUERY__INIT;
			Overstapctl__Report *rep = NULL;
			char *by = (char *)bys[b];
			FILE *out = fopen("/dev/null", "w");
			double a, m, e;

			q.by = n_by_list ? by_list : &by;
			q.n_by = n_by_list ? n_by_list : 1;
			q.side = "sending";
			q.format = (char *)formats[f];
			a = s_now();
			if (report_build(s, &cfg, &q, strcmp(formats[f], "html") == 0, &rep, why, sizeof(why)) < 0) {
				fprintf(stderr, "bench_report: %s\n", why);
				return 1;
			}
			m = s_now();
			if (f == 0)
				report_write_json(out, rep);
			else if (f == 1)
				report_write_text(out, rep);
			else if (f == 2)
				report_write_csv(out, rep, REPORT_CSV_EXCEL_NL);
			else
				report_write_html(out, rep);
			fclose(out);
			e = s_now();
			printf("%-12s %-8s %10.0f %10.1f %10.0f %12.0f\n", n_by_list ? "(--by)" : bys[b],
			       formats[f], (m - a) * 1e3,
			       (e - m) * 1e3, (e - a) * 1e3, (double)n / (e - a));
			report_free(&rep);
		}
	}
	printf("peak RSS %ld MB; store %s\n", s_rss_mb(), path);
	printf("rerun: bench/report -n %ld\n", n);
	store_close(&s);
	return 0;
}
