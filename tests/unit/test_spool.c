/* Unit tests for spool.c: files dropped in [import] spool are imported and
 * moved to done/ or failed/ with a .log; a bad file stores nothing; a file
 * still being written, a link or one others may write is not taken; a spool
 * open to others is not read (design.md §8.6). */
#include "store_fixture.h"

#include <dirent.h>
#include <sys/stat.h>
#include <utime.h>

#include "audit.h"
#include "config.h"
#include "spool.h"

#define HEADER "pupil_ref,pgn,given_name,family_name,birth_date,program,cohort,exit_date," \
	       "destination_type,destination_institution\n"
#define ROW(ref, pgn) ref "," pgn ",Eva,Smit,2008-05-01,pro,2024-2025,2025-06-30,mbo_entree," PEER "\n"

struct sfx {
	struct fx *f;
	struct peer_cfg peer;
	struct config cfg;
	struct hctx h;
	struct spool sp;
	char dir[160];
};

static void s_init(struct sfx *x, struct fx *f)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	snprintf(x->dir, sizeof(x->dir), "%s/spool", f->dir);
	assert_int_equal(mkdir(x->dir, 0770), 0);
	assert_int_equal(chmod(x->dir, 0770), 0);
	strcpy(x->peer.id, PEER);
	strcpy(x->peer.endpoint, "tcp://127.0.0.1:7470");
	x->cfg.peers = &x->peer;
	x->cfg.n_peers = 1;
	str_copy(x->cfg.import_spool, sizeof(x->cfg.import_spool), x->dir);
	x->cfg.import_spool_settle_s = 0;
	x->cfg.import_spool_interval_s = 1;
	x->h = (struct hctx){ .store = f->s, .cfg = &x->cfg };
}

static void s_write(struct sfx *x, const char *name, const char *text, unsigned mode)
{
	char path[400];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", x->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/* Run the spool until it has nothing left to take (each call takes one file). */
static void s_run(struct sfx *x)
{
	for (int i = 0; i < 10; i++) {
		int64_t wake = 1000;
		unsigned before = x->sp.done + x->sp.failed;

		x->sp.next = 0;
		spool_run(&x->sp, &x->h, time_mono_ms(), &wake);
		if (x->sp.done + x->sp.failed == before)
			return;
	}
}

/* The one file in dir/sub whose name ends with suffix, read; NULL if none. */
static char *s_moved(struct sfx *x, const char *sub, const char *suffix)
{
	char path[600], *buf = NULL;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", x->dir, sub);
	d = opendir(path);
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name), k = strlen(suffix);

		if (n > k && strcmp(e->d_name + n - k, suffix) == 0) {
			snprintf(path, sizeof(path), "%s/%s/%s", x->dir, sub, e->d_name);
			assert_null(buf);	/* only one */
			fx_slurp(path, &buf);
			buf = realloc(buf, 1 << 16);
			buf[(1 << 16) - 1] = '\0';
		}
	}
	closedir(d);
	return buf;
}

static int s_in_spool(struct sfx *x, const char *name)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", x->dir, name);
	return access(path, F_OK) == 0;
}

static unsigned s_count_cb_n;
static int s_count_cb(const struct leaver *l, void *arg)
{
	(void)l;
	(void)arg;
	s_count_cb_n++;
	return 0;
}

static unsigned s_leavers(struct sfx *x)
{
	s_count_cb_n = 0;
	assert_int_equal(store_leavers_each(x->f->s, -1, NULL, 0, s_count_cb, NULL), 0);
	return s_count_cb_n;
}

static void test_good_and_bad_file(void **state)
{
	struct sfx x;
	char *log;

	s_init(&x, *state);
	s_write(&x, "leavers-1.csv", HEADER ROW("S1", "123456782") ROW("S2", "111222333"), 0640);
	s_write(&x, "leavers-2.csv", HEADER ROW("S3", "123456782") ROW("S4", "123456789"), 0640);
	s_write(&x, ".leavers-3.csv", HEADER ROW("S5", "123456782"), 0640);	/* being written */
	s_write(&x, "README", "not a csv", 0640);
	s_run(&x);
	assert_int_equal(x.sp.done, 1);
	assert_int_equal(x.sp.failed, 1);
	assert_false(s_in_spool(&x, "leavers-1.csv"));
	assert_false(s_in_spool(&x, "leavers-2.csv"));
	assert_true(s_in_spool(&x, ".leavers-3.csv"));
	assert_true(s_in_spool(&x, "README"));
	assert_int_equal(s_leavers(&x), 2);	/* S1, S2; nothing of the bad file */

	log = s_moved(&x, "done", "-leavers-1.csv.log");
	assert_non_null(log);
	assert_non_null(strstr(log, "leavers-1.csv: done: 2 added, 0 updated, 0 unchanged"));
	free(log);
	log = s_moved(&x, "done", "-leavers-1.csv");
	assert_non_null(log);
	free(log);
	log = s_moved(&x, "failed", "-leavers-2.csv.log");
	assert_non_null(log);
	assert_non_null(strstr(log, "leavers-2.csv:3: pgn: "));
	assert_non_null(strstr(log, "leavers-2.csv: failed: 1 error, nothing imported"));
	assert_null(strstr(log, "123456789"));	/* never a PGN in a message */
	free(log);
	assert_string_equal(x.sp.last_outcome, "failed");

	/* the same export again, the next night: nothing changes */
	s_write(&x, "leavers-1.csv", HEADER ROW("S1", "123456782") ROW("S2", "111222333"), 0640);
	s_run(&x);
	assert_int_equal(x.sp.done, 2);
	assert_string_equal(x.sp.last_summary,
			    "0 added, 0 updated, 2 unchanged, 0 unchanged (already sent), 0 refused,"
			    " 0 warnings");
	assert_int_equal(s_leavers(&x), 2);
}

/* An export under the name a school system gives it: Eduarte's TAB-separated
 * .tsv, a name in capitals, .txt (before: not looked at, never moved, no
 * word in status). A name of no known kind goes to failed/ saying so. */
static void test_export_names(void **state)
{
	static const char csv[] = HEADER ROW("T1", "123456782");
	char tsv[sizeof(csv)];
	struct sfx x;
	char *log;

	for (size_t i = 0; i < sizeof(csv); i++)
		tsv[i] = csv[i] == ',' ? '\t' : csv[i];
	s_init(&x, *state);
	s_write(&x, "Leavers-Eduarte.TSV", tsv, 0640);
	s_run(&x);
	assert_int_equal(x.sp.done, 1);
	assert_false(s_in_spool(&x, "Leavers-Eduarte.TSV"));
	assert_int_equal(s_leavers(&x), 1);
	s_write(&x, "LEAVERS.txt", csv, 0640);
	s_run(&x);
	assert_int_equal(x.sp.done, 2);
	s_write(&x, "leerlingen.csv", csv, 0640);
	s_run(&x);
	assert_int_equal(x.sp.failed, 1);
	log = s_moved(&x, "failed", "-leerlingen.csv.log");
	assert_non_null(log);
	assert_non_null(strstr(log, "unknown kind of file"));
	free(log);
}

/* [import] spool_map: a school whose export no built-in name covers writes
 * its map once, and the nightly spool file goes in with it as `import
 * leavers --map` would (before: no way to give the spool a map). A map that
 * cannot be used leaves the file in the spool and says why in status. */
static void test_spool_map(void **state)
{
	static const char csv[] =
		"Leerling ID;BSN;Roepnaam;Naam;Geb;Uitstroomprofiel;Jaar;Weg op;Naar;BRIN\n"
		"M1;123456782;Eva;Smit;01-05-2008;Arbeidsmarktgericht;2024-2025;30-06-2025;"
		"Entree;" PEER "\n";
	struct sfx x;
	char map[300];
	FILE *fp;

	s_init(&x, *state);
	snprintf(map, sizeof(map), "%s/export.ini", x.f->dir);
	fp = fopen(map, "w");
	assert_non_null(fp);
	fputs("[columns]\nLeerling ID = pupil_ref\nNaam = family_name\nGeb = birth_date\n"
	      "Uitstroomprofiel = program\nJaar = cohort\nWeg op = exit_date\n"
	      "Naar = destination_type\nBRIN = destination_institution\n"
	      "[values.program]\nArbeidsmarktgericht = vso_arbeid\n", fp);
	fclose(fp);
	str_copy(x.cfg.import_spool_map, sizeof(x.cfg.import_spool_map), map);
	s_write(&x, "leavers-eigen.csv", csv, 0640);
	s_run(&x);
	assert_int_equal(x.sp.done, 1);
	assert_int_equal(s_leavers(&x), 1);

	/* a map that cannot be used: the file waits, status says why */
	fp = fopen(map, "w");
	assert_non_null(fp);
	fputs("[kolommen]\nx = y\n", fp);
	fclose(fp);
	s_write(&x, "leavers-eigen.csv", csv, 0640);
	s_run(&x);
	assert_true(s_in_spool(&x, "leavers-eigen.csv"));
	assert_int_equal(x.sp.done + x.sp.failed, 1);
	assert_non_null(strstr(x.sp.problem, "cannot use the map file (spool_map): "));
	assert_non_null(strstr(x.sp.problem, "export.ini:1: unknown section [kolommen]"));
	x.cfg.import_spool_map[0] = '\0';	/* the administrator takes it out: no map */
	s_run(&x);
	assert_false(s_in_spool(&x, "leavers-eigen.csv"));
	assert_int_equal(x.sp.failed, 1);	/* its names mean nothing without the map */
	assert_string_equal(x.sp.problem, "");
}

static int s_audit_cb(const struct audit_entry *e, void *arg)
{
	char *seen = arg;

	if (strcmp(e->actor, "daemon") == 0 && strstr(e->detail, "leavers-a.csv"))
		strcat(seen, strcmp(e->action, "import.leavers") == 0 ? "I" :
			     strcmp(e->action, "leaver.imported") == 0 ? "L" : "?");
	return 0;
}

static void test_audited_as_daemon(void **state)
{
	struct sfx x;
	char seen[16] = "";

	s_init(&x, *state);
	s_write(&x, "leavers-a.csv", HEADER ROW("S1", "123456782"), 0640);
	s_run(&x);
	assert_int_equal(audit_each(store_audit_peek(x.f->s), 1, s_audit_cb, seen), 0);
	assert_string_equal(seen, "LI");
}

static void test_not_taken(void **state)
{
	struct sfx x;
	char path[400], link[400];
	struct utimbuf old = { 1000000000, 1000000000 };
	char *log;

	s_init(&x, *state);
	x.cfg.import_spool_settle_s = 60;
	s_write(&x, "leavers-new.csv", HEADER ROW("S1", "123456782"), 0640);
	s_run(&x);
	assert_true(s_in_spool(&x, "leavers-new.csv"));	/* written just now */
	assert_int_equal(x.sp.done + x.sp.failed, 0);
	snprintf(path, sizeof(path), "%s/leavers-new.csv", x.dir);
	assert_int_equal(utime(path, &old), 0);		/* settled */
	s_run(&x);
	assert_int_equal(x.sp.done, 1);

	/* others may write it: refused; a link: not followed */
	x.cfg.import_spool_settle_s = 0;
	s_write(&x, "leavers-ww.csv", HEADER ROW("S2", "111222333"), 0646);
	snprintf(link, sizeof(link), "%s/leavers-ln.csv", x.dir);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	s_run(&x);
	assert_int_equal(x.sp.failed, 2);
	log = s_moved(&x, "failed", "-leavers-ww.csv.log");
	assert_non_null(strstr(log, "writable by others"));
	free(log);
	log = s_moved(&x, "failed", "-leavers-ln.csv.log");
	assert_non_null(strstr(log, "symbolic link"));
	free(log);
	assert_int_equal(s_leavers(&x), 1);
}

static void test_open_spool_not_read(void **state)
{
	struct sfx x;

	s_init(&x, *state);
	assert_int_equal(chmod(x.dir, 0775), 0);
	s_write(&x, "leavers-1.csv", HEADER ROW("S1", "123456782"), 0640);
	s_run(&x);
	assert_true(s_in_spool(&x, "leavers-1.csv"));
	assert_non_null(strstr(x.sp.problem, "open to others (mode 0775)"));
	assert_int_equal(chmod(x.dir, 0770), 0);
	s_run(&x);
	assert_string_equal(x.sp.problem, "");
	assert_int_equal(x.sp.done, 1);
}

/* A file of more than one chunk (5,000 rows) is streamed into an import
 * session (design.md §8.6): all of a good one imported; a bad value and a
 * pupil_ref repeated across chunks both in the log, nothing imported. */
static void test_big_file_streamed(void **state)
{
	struct sfx x;
	size_t cap = 6100 * 160, used;
	char *text = malloc(cap), *log;

	s_init(&x, *state);
	assert_non_null(text);
	for (int bad = 0; bad < 2; bad++) {
		used = (size_t)snprintf(text, cap, "%s", HEADER);
		for (unsigned i = 1; i <= 6000; i++) {
			char ref[16];

			snprintf(ref, sizeof(ref), "%s%05u", bad ? "B" : "G", bad && i == 5500 ? 10 : i);
			used += (size_t)snprintf(text + used, cap - used,
						 "%s,123456782,Eva,Smit,%s,pro,2024-2025,2025-06-30,"
						 "mbo_entree," PEER "\n", ref,
						 bad && i == 3000 ? "2008-02-30" : "2008-05-01");
		}
		s_write(&x, bad ? "leavers-bad.csv" : "leavers-big.csv", text, 0640);
		s_run(&x);
	}
	assert_int_equal(x.sp.done, 1);
	assert_int_equal(x.sp.failed, 1);
	assert_int_equal(s_leavers(&x), 6000);
	log = s_moved(&x, "failed", "-leavers-bad.csv.log");
	assert_non_null(log);
	assert_non_null(strstr(log, "leavers-bad.csv:3001: birth_date"));
	assert_non_null(strstr(log, "leavers-bad.csv:5501: pupil_ref: duplicate of line 11"));
	assert_non_null(strstr(log, "leavers-bad.csv: failed: 2 errors, nothing imported"));
	free(log);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_good_and_bad_file),
		FX_TEST(test_export_names),
		FX_TEST(test_spool_map),
		FX_TEST(test_big_file_streamed),
		FX_TEST(test_audited_as_daemon),
		FX_TEST(test_not_taken),
		FX_TEST(test_open_spool_not_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
