/* Unit tests for store_inbox.c: idempotent receipt, listing, assertions. */
#include "store_fixture.h"
#include "sql_fixture.h"

#include <pthread.h>
#include <sqlite3.h>

static void test_inbox_idempotent(void **state)
{
	struct fx *f = *state;
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;
	uint8_t packed[] = "signed envelope bytes", *out = NULL;
	struct inbox_row row;
	uint64_t count = 0;
	size_t len = 0;

	h.record_id = "01890a5d-ac96-774b-bcce-b302099a8057";
	h.pgn = "123456782";
	h.cohort = "2024-2025";
	h.exit_date = "2025-07-04";
	h.program = OVERSTAP__PROGRAM__PRO;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000001", "12AB00", &h,
					 packed, sizeof(packed), 5), 0);
	/* The same message again, and another message for the same record. */
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000001", "12AB00", &h,
					 packed, sizeof(packed), 6), 1);
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000002", "12AB00", &h,
					 packed, sizeof(packed), 6), -EEXIST);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_inbox_count(f->s, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_inbox_get(f->s, h.record_id, &row, &out, &len), 0);
	assert_int_equal(len, sizeof(packed));
	assert_memory_equal(out, packed, len);
	assert_string_equal(row.sender, "12AB00");
	assert_int_equal(row.received_at, 5);
	free(out);
	assert_int_equal(store_inbox_get(f->s, "nope", &row, &out, &len), -ENOENT);
}

struct seal_job {
	struct store *s;
	const char *mid;
	const uint8_t *packed;
	size_t len;
	struct inbox_sealed x;
	int r;
};

/* Rows of a table as committed, read by a connection of our own. */
static int64_t s_count_rows(struct fx *f, const char *table)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return sql_int64(f->path, sql);
}

static void *s_seal_thread(void *arg)
{
	struct seal_job *j = arg;

	j->r = store_inbox_seal(j->s, j->mid, "123456782", j->packed, j->len, &j->x);
	return NULL;
}

/* The receive workers' half (design.md §4.6 "Both cores"): sealed on
 * another thread, stored by the loop, the dossier reads back as sent and is
 * found by the PGN's pseudonym, as one stored by store_inbox_put; a result
 * not used (the record was held already) stores no key. */
static void test_inbox_sealed_elsewhere(void **state)
{
	struct fx *f = *state;
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;
	uint8_t packed[] = "signed envelope bytes", *out = NULL;
	struct seal_job j[2] = {
		{ .s = f->s, .mid = "01890a5d-0000-7000-8000-000000000001", .packed = packed,
		  .len = sizeof(packed) },
		{ .s = f->s, .mid = "01890a5d-0000-7000-8000-000000000002", .packed = packed,
		  .len = sizeof(packed) },
	};
	struct strlist ids = { 0 };
	struct inbox_row row;
	pthread_t t;
	int64_t keys_before, keys_after;
	size_t len = 0;

	h.record_id = "01890a5d-ac96-774b-bcce-b302099a8057";
	h.pgn = "123456782";
	h.cohort = "2024-2025";
	h.exit_date = "2025-07-04";
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&t, NULL, s_seal_thread, &j[i]), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(j[i].r, 0);
	}
	keys_before = s_count_rows(f, "pupil_keys");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_inbox_put_sealed(f->s, j[0].mid, "12AB00", &h, &j[0].x, 5), 0);
	assert_int_equal(store_inbox_put_sealed(f->s, j[0].mid, "12AB00", &h, &j[0].x, 6), 1);
	assert_int_equal(store_inbox_put_sealed(f->s, j[1].mid, "12AB00", &h, &j[1].x, 6), -EEXIST);
	assert_int_equal(store_commit(f->s), 0);
	keys_after = s_count_rows(f, "pupil_keys");
	assert_int_equal(keys_after, keys_before + 1);	/* the one stored */
	for (int i = 0; i < 2; i++)
		store_inbox_sealed_clear(&j[i].x);
	assert_int_equal(store_inbox_get(f->s, h.record_id, &row, &out, &len), 0);
	assert_int_equal(len, sizeof(packed));
	assert_memory_equal(out, packed, len);
	free(out);
	assert_int_equal(store_inbox_by_pgn(f->s, "123456782", &ids), 0);
	assert_int_equal(ids.n, 1);
	assert_string_equal(ids.v[0], h.record_id);
	strlist_clear(&ids);
}

struct blob_seen {
	char v[4][32];
	size_t n;
};

static int s_blob_collect(const void *data, size_t len, void *arg)
{
	struct blob_seen *seen = arg;

	assert_true(seen->n < ARRAY_SIZE(seen->v) && len < sizeof(seen->v[0]));
	memcpy(seen->v[seen->n], data, len);
	seen->v[seen->n++][len] = '\0';
	return 0;
}

static int s_count_row(const struct inbox_row *r, void *arg)
{
	(void)r;
	(*(unsigned *)arg)++;
	return 0;
}

/* Listing by cohort with a limit; consents told after the dossier are held
 * once per consent id and per record. */
static void test_inbox_each_and_assertions(void **state)
{
	struct fx *f = *state;
	static const uint8_t bytes[] = "dossier";
	static const char c1[] = "01890a5d-1111-7000-8000-000000000001",
			  c2[] = "01890a5d-1111-7000-8000-000000000002";
	struct blob_seen seen = { 0 };
	unsigned n = 0;

	fx_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_A, "123456782", bytes, sizeof(bytes), 5);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000002", REC_B, "111222333", bytes, sizeof(bytes), 6);
	assert_int_equal(store_inbox_each(f->s, NULL, 0, s_count_row, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_inbox_each(f->s, "2024-2025", 1, s_count_row, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_inbox_each(f->s, "2023-2024", 0, s_count_row, &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(store_assertion_put(f->s, REC_A, "12AB00", c1, (const uint8_t *)"first", 5, 10), 0);
	assert_int_equal(store_assertion_put(f->s, REC_A, "12AB00", c2, (const uint8_t *)"second", 6, 20), 0);
	assert_int_equal(store_assertion_put(f->s, REC_A, "12AB00", c1, (const uint8_t *)"again", 5, 30), 1);
	assert_int_equal(store_assertions_each(f->s, REC_A, s_blob_collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.v[0], "first");
	assert_string_equal(seen.v[1], "second");
	/* only the sender that told it can take it back */
	assert_int_equal(store_assertion_delete(f->s, c1, "99XX00"), 0);
	assert_int_equal(store_assertion_delete(f->s, c1, "12AB00"), 1);
	assert_int_equal(store_assertion_delete(f->s, c1, "12AB00"), 0);
	seen.n = 0;
	assert_int_equal(store_assertions_each(f->s, REC_A, s_blob_collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	seen.n = 0;
	assert_int_equal(store_assertions_each(f->s, REC_B, s_blob_collect, &seen), 0);
	assert_int_equal(seen.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_inbox_idempotent),
		FX_TEST(test_inbox_sealed_elsewhere),
		FX_TEST(test_inbox_each_and_assertions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
