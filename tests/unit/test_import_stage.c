/* Unit tests for import_stage.c and store_stage.c: an import session (a file
 * in chunks, design.md §8.5): the rows of every chunk applied as one import
 * at the end, duplicates across chunks, errors capped, --check, a dropped
 * session storing nothing, and the staged rows never in the store's file. */
#include "store_fixture.h"

#include "config.h"
#include "import.h"
#include "store_int.h"

#define OTHER "34CD01"	/* not (yet) a configured peer */

/* n rows R<first>.. on lines first+1.. (a header on line 1), valid PGNs. */
static Overstapctl__Leaver **s_rows(unsigned first, size_t n)
{
	static const char *const pgns[] = { "123456782", "111222333" };
	static char refs[64][16];	/* R1..R63, one place each */
	Overstapctl__Leaver **v = calloc(n, sizeof(Overstapctl__Leaver *));

	assert_true(first + n <= 64);
	for (size_t i = 0; i < n; i++) {
		char *ref = refs[first + i];

		snprintf(ref, sizeof(refs[0]), "R%u", first + (unsigned)i);
		v[i] = fx_leaver(ref, pgns[i % 2], "Zwaantje", "Oudewater");
		v[i]->line = first + (unsigned)i + 1;
	}
	return v;
}

static void s_free(Overstapctl__Leaver **rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
}

static size_t s_count(struct fx *f)
{
	size_t n = 0;

	for (unsigned i = 1; i <= 40; i++) {
		char ref[16];
		struct leaver l;

		snprintf(ref, sizeof(ref), "R%u", i);
		n += store_leaver_find(f->s, ref, 0, &l) == 0;
		store_leaver_clear(&l);
	}
	return n;
}

/* Three chunks, one import: nothing stored before the last, all after. */
static void test_chunks_apply_at_the_end(void **state)
{
	struct fx *f = *state;
	struct import_stage *st = NULL;
	struct import_result res = { 0 };
	Overstapctl__Leaver **a = s_rows(1, 4), **b = s_rows(5, 4), **c = s_rows(9, 2);

	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 0, &st), 0);
	assert_true(import_stage_id(st) != 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 4), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), b, 4), 0);
	assert_int_equal(s_count(f), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), c, 2), 0);
	assert_int_equal(import_stage_staged(st), 10);
	assert_int_equal(import_stage_finish(st, "mentor1", &res), 0);
	assert_int_equal(res.added, 10);
	assert_int_equal(res.errors.n, 0);
	assert_int_equal(s_count(f), 10);
	import_stage_free(&st);
	assert_null(st);
	import_result_clear(&res);
	s_free(a, 4);
	s_free(b, 4);
	s_free(c, 2);
}

/* A pupil_ref of an earlier chunk again: refused whole, the later line named. */
static void test_duplicate_across_chunks(void **state)
{
	struct fx *f = *state;
	struct import_stage *st = NULL;
	struct import_result res = { 0 };
	Overstapctl__Leaver **a = s_rows(1, 3), **b = s_rows(4, 3);

	b[2]->pupil_ref = "R2";		/* line 7 repeats line 3 */
	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 0, &st), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 3), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), b, 3), 0);
	assert_int_equal(import_stage_finish(st, "mentor1", &res), -EINVAL);
	assert_int_equal(res.errors.n, 1);
	assert_string_equal(res.errors.v[0], "f.csv:7: pupil_ref: duplicate of line 3");
	assert_int_equal(res.refused, 1);
	assert_int_equal(s_count(f), 0);
	import_stage_free(&st);
	import_result_clear(&res);
	s_free(a, 3);
	s_free(b, 3);
}

/* --check: every count as the import would, nothing written; the unknown
 * destination warned once with the rows of all chunks. */
static void test_check_and_warnings(void **state)
{
	struct fx *f = *state;
	struct import_stage *st = NULL;
	struct import_result res = { 0 };
	Overstapctl__Leaver **a = s_rows(1, 2), **b = s_rows(3, 2);

	a[1]->destination_institution = OTHER;
	b[1]->destination_institution = OTHER;
	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 1, &st), 0);
	assert_int_equal(import_stage_check(st), 1);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 2), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), b, 2), 0);
	assert_int_equal(import_stage_finish(st, "mentor1", &res), 0);
	assert_int_equal(res.added, 4);
	assert_int_equal(res.warnings.n, 1);
	assert_string_equal(res.warnings.v[0], "f.csv:3: destination_institution: " OTHER
			    " is not a configured peer (yet): 2 rows would be imported, not sendable"
			    " until it is");
	assert_int_equal(s_count(f), 0);
	import_stage_free(&st);
	import_result_clear(&res);
	s_free(a, 2);
	s_free(b, 2);
}

/* A session dropped (its client gone) stores nothing; its errors so far
 * can be asked for; a bad row is an error with its line. */
static void test_dropped_and_errors(void **state)
{
	struct fx *f = *state;
	struct import_stage *st = NULL;
	struct import_result res = { 0 };
	Overstapctl__Leaver **a = s_rows(1, 3);

	a[1]->birth_date = "2009-02-30";
	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 0, &st), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 3), 0);
	assert_int_equal(import_stage_errors(st, &res), 0);
	assert_int_equal(res.errors.n, 1);
	assert_non_null(strstr(res.errors.v[0], "f.csv:3: birth_date"));
	assert_int_equal(res.refused, 1);
	import_stage_free(&st);
	assert_int_equal(s_count(f), 0);
	/* rows out of the file's order are refused (a confused client) */
	import_result_clear(&res);
	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 0, &st), 0);
	a[1]->birth_date = "2009-02-28";
	assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 3), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 1), 0);
	assert_int_equal(import_stage_finish(st, "mentor1", &res), -EINVAL);
	assert_int_equal(s_count(f), 0);
	import_stage_free(&st);
	import_result_clear(&res);
	s_free(a, 3);
}

/* Errors beyond IMPORT_MAX_NOTES are counted in one line. */
static void test_errors_capped(void **state)
{
	struct fx *f = *state;
	struct import_stage *st = NULL;
	struct import_result res = { 0 };
	Overstapctl__Leaver **a = s_rows(1, 1);
	unsigned line = 2;

	a[0]->program = "nonsense";
	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 0, &st), 0);
	for (unsigned i = 0; i < IMPORT_MAX_NOTES + 5; i++) {
		a[0]->line = line++;
		assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 1), 0);
	}
	assert_int_equal(import_stage_finish(st, "mentor1", &res), -EINVAL);
	/* the first of each row's duplicate error and program error ... */
	assert_int_equal(res.errors.n, IMPORT_MAX_NOTES + 1);
	assert_non_null(strstr(res.errors.v[IMPORT_MAX_NOTES], "more errors"));
	import_stage_free(&st);
	import_result_clear(&res);
	s_free(a, 1);
}

static int s_dup_cb(void *arg, unsigned line, unsigned prev)
{
	unsigned (*d)[2] = arg;
	size_t i = d[0][0] ? 1 : 0;

	d[i][0] = line;
	d[i][1] = prev;
	return 0;
}

/* The staging table is TEMP: nothing of a session in the store's file; the
 * duplicates in line order, each with the line before. */
static void test_stage_not_in_the_file(void **state)
{
	struct fx *f = *state;
	struct store_stage *g = NULL;
	uint8_t ref[32] = { 1 }, other[32] = { 2 };
	unsigned dups[2][2] = { { 0 } }, marked = 0;
	sqlite3 *db;
	sqlite3_stmt *q;

	assert_int_equal(store_stage_open(f->s, 42, &g), 0);
	assert_int_equal(store_stage_put(g, 2, ref, 0, "x", 1), 0);
	assert_int_equal(store_stage_put(g, 3, other, 1, NULL, 0), 0);
	assert_int_equal(store_stage_put(g, 5, ref, 0, "y", 1), 0);
	assert_int_equal(store_stage_put(g, 7, other, 0, "z", 1), 0);
	assert_int_equal(store_stage_duplicates(g, s_dup_cb, dups, &marked), 0);
	assert_int_equal(dups[0][0], 5);
	assert_int_equal(dups[0][1], 2);
	assert_int_equal(dups[1][0], 7);
	assert_int_equal(dups[1][1], 3);
	assert_int_equal(marked, 2);
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name "
					    "LIKE 'import_stage%'", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	store_stage_drop(&g);
	assert_null(g);
}

/* Everything in one import session's TEMP table, concatenated (its pages
 * may reach a temporary file that outlives the session on the disk). */
static size_t s_staged_bytes(struct fx *f, uint8_t *out, size_t cap)
{
	sqlite3_stmt *q;
	char name[64] = "", sql[128];
	size_t n = 0;

	assert_int_equal(sqlite3_prepare_v2(f->s->db, "SELECT name FROM sqlite_temp_master WHERE"
					    " type = 'table' AND name LIKE 'import_stage%'", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	snprintf(sql, sizeof(sql), "SELECT * FROM temp.%s", name);
	assert_int_equal(sqlite3_prepare_v2(f->s->db, sql, -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		for (int c = 0; c < sqlite3_column_count(q); c++) {
			size_t len = (size_t)sqlite3_column_bytes(q, c);

			assert_true(n + len <= cap);
			if (len)
				memcpy(out + n, sqlite3_column_blob(q, c), len);
			n += len;
		}
	sqlite3_finalize(q);
	return n;
}

/* The staged rows hold nothing the store keeps about a pupil: not its
 * ref_hash, pseudonym, wrapped key or sealed part. Those outlive the session
 * (until an erasure); a copy left in a temporary file would outlive the
 * erasure too, and with master.key open the pupil's data again (§3.9). So the
 * prepared leaver travels inside the row's seal under the session's key. */
static void test_staged_rows_hold_nothing_of_the_store(void **state)
{
	struct fx *f = *state;
	struct import_stage *st = NULL;
	struct import_result res = { 0 };
	Overstapctl__Leaver **a = s_rows(1, 3);
	static uint8_t dump[1 << 16];
	size_t n;
	sqlite3_stmt *q;
	int seen = 0;

	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 0, &st), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 3), 0);
	n = s_staged_bytes(f, dump, sizeof(dump));
	assert_true(n > 0);
	assert_int_equal(import_stage_finish(st, "mentor1", &res), 0);
	assert_int_equal(res.added, 3);
	assert_int_equal(sqlite3_prepare_v2(f->s->db, "SELECT l.ref_hash, l.pseudonym, l.pii,"
					    " k.wrapped FROM leavers l JOIN pupil_keys k"
					    " ON k.id = l.key_id", -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		seen++;
		for (int c = 0; c < 4; c++) {
			const void *v = sqlite3_column_blob(q, c);
			size_t len = (size_t)sqlite3_column_bytes(q, c);

			assert_true(len >= 16);
			if (memmem(dump, n, v, 16))
				fail_msg("column %d of a stored leaver is in the staged rows", c);
		}
	}
	sqlite3_finalize(q);
	assert_int_equal(seen, 3);
	import_stage_free(&st);
	import_result_clear(&res);
	s_free(a, 3);
}

/* A pupil new at staging is made ready then (key, pseudonyms, sealed part);
 * one stored by then is not. Either may change before the apply: a pupil
 * imported meanwhile by another request is compared, not added twice (its
 * prepared row unused), and one prepared is stored readable and findable. */
static void test_prepared_while_staged(void **state)
{
	struct fx *f = *state;
	struct import_stage *st = NULL;
	struct import_result res = { 0 }, one = { 0 };
	Overstapctl__Leaver **before = s_rows(1, 2), **a = s_rows(1, 5), **mid = s_rows(5, 1);
	struct leaver l;

	assert_int_equal(import_leavers(f->s, fx_import_cfg(), "old.csv", before, 2, "mentor1", 0,
					&one), 0);
	import_result_clear(&one);
	a[1]->given_name = "Zwaan";	/* R2 changed */
	a[3]->pgn = "222333443";	/* R4's own */
	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 0, &st), 0);
	assert_int_equal(import_stage_add(st, fx_import_cfg(), a, 5), 0);
	/* R5, prepared as new, comes in by another request before the apply */
	assert_int_equal(import_leavers(f->s, fx_import_cfg(), "mid.csv", mid, 1, "mentor2", 0,
					&one), 0);
	assert_int_equal(one.added, 1);
	import_result_clear(&one);
	assert_int_equal(import_stage_finish(st, "mentor1", &res), 0);
	assert_int_equal(res.added, 2);
	assert_int_equal(res.updated, 1);
	assert_int_equal(res.unchanged, 2);
	assert_int_equal(res.errors.n, 0);
	assert_int_equal(s_count(f), 5);
	assert_int_equal(store_leaver_find(f->s, "R3", 1, &l), 0);
	assert_non_null(l.priv);
	assert_string_equal(l.priv->pgn, "123456782");
	assert_string_equal(l.priv->given_name, "Zwaantje");
	assert_string_equal(l.pupil_ref, "R3");
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R2", 1, &l), 0);
	assert_string_equal(l.priv->given_name, "Zwaan");
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_by_pgn(f->s, "222333443", 0, &l), 0);	/* its pseudonym */
	assert_string_equal(l.pupil_ref, "R4");
	store_leaver_clear(&l);
	import_stage_free(&st);
	import_result_clear(&res);
	s_free(before, 2);
	s_free(a, 5);
	s_free(mid, 1);
}

/* A session left without a request for IMPORT_SESSION_IDLE_MS is dropped
 * (its client was killed); one still in use is kept. */
static void test_idle_session_expires(void **state)
{
	struct fx *f = *state;
	struct hctx h = { .store = f->s };
	int64_t last;

	assert_int_equal(import_stage_open(f->s, "f.csv", "mentor1", 0, &h.imports[1]), 0);
	last = import_stage_last(h.imports[1]);
	import_sessions_expire(&h, last + IMPORT_SESSION_IDLE_MS);
	assert_non_null(h.imports[1]);
	import_sessions_expire(&h, last + IMPORT_SESSION_IDLE_MS + 1);
	assert_null(h.imports[1]);
	import_sessions_clear(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_chunks_apply_at_the_end),
		FX_TEST(test_duplicate_across_chunks),
		FX_TEST(test_check_and_warnings),
		FX_TEST(test_dropped_and_errors),
		FX_TEST(test_errors_capped),
		FX_TEST(test_stage_not_in_the_file),
		FX_TEST(test_prepared_while_staged),
		FX_TEST(test_staged_rows_hold_nothing_of_the_store),
		FX_TEST(test_idle_session_expires),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
