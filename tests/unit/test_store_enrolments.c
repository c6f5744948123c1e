/* Unit tests for store_enrolments.c: the MBO's enrolment list (design.md §6.3):
 * held once, linked to the dossier received whenever it comes, counted by
 * the receiving report's facts, erased and retained like a dossier. */
#include "store_fixture.h"

#include <stdlib.h>

struct got {
	struct enrolment_row r[4];
	size_t n;
};

static int s_cb(const struct enrolment_row *e, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < 4);
	g->r[g->n++] = *e;
	return 0;
}

static struct got s_of(struct fx *f, const char *pgn)
{
	struct got g = { 0 };

	assert_int_equal(store_enrolments_of_pgn(f->s, pgn, s_cb, &g), 0);
	return g;
}

struct facts {
	struct recv_fact v[8];
	size_t n;
};

static int s_fact_cb(const struct recv_fact *x, void *arg)
{
	struct facts *fs = arg;

	assert_true(fs->n < 8);
	fs->v[fs->n++] = *x;
	return 0;
}

static void test_put_link_report(void **state)
{
	struct fx *f = *state;
	static const uint8_t bytes[] = "dossier";
	const struct enrolment_in a = { "123456782", 1, "2025-09-01", OVERSTAP__PROGRAM__PRO },
				  b = { "111222333", 2, "2025-09-01", 0 },
				  c = { "999999990", 1, "2025-09-01", OVERSTAP__PROGRAM__VMBO_B };
	struct facts fs = { 0 };
	struct got g;
	size_t with = 0, without = 0;

	/* a's dossier is there before the list; b's comes after; c never */
	assert_int_equal(store_begin(f->s), 0);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_A, "123456782", bytes, sizeof(bytes), 5);
	assert_int_equal(store_enrolment_put(f->s, &a, "u", 10), 0);
	assert_int_equal(store_enrolment_put(f->s, &b, "u", 10), 0);
	assert_int_equal(store_enrolment_put(f->s, &c, "u", 10), 0);
	assert_int_equal(store_enrolment_put(f->s, &a, "u", 11), 1);	/* held: nothing new */
	/* a corrected list: c's level and previous education put right */
	assert_int_equal(store_enrolment_put(f->s, &(struct enrolment_in){ "999999990", 2, "2025-09-01",
									  OVERSTAP__PROGRAM__VMBO_K },
					     "u", 12), 2);
	assert_int_equal(s_of(f, "999999990").n, 1);
	assert_int_equal(s_of(f, "999999990").r[0].level, 2);
	assert_int_equal(s_of(f, "999999990").r[0].previous, OVERSTAP__PROGRAM__VMBO_K);
	assert_int_equal(store_enrolment_put(f->s, &c, "u", 13), 2);	/* and back */
	assert_int_equal(store_commit(f->s), 0);
	g = s_of(f, "123456782");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.r[0].record_id, REC_A);
	assert_int_equal(g.r[0].level, 1);
	assert_int_equal(g.r[0].previous, OVERSTAP__PROGRAM__PRO);
	assert_string_equal(s_of(f, "111222333").r[0].record_id, "");
	assert_int_equal(store_begin(f->s), 0);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000002", REC_B, "111222333", bytes, sizeof(bytes), 6);
	assert_int_equal(store_commit(f->s), 0);
	assert_string_equal(s_of(f, "111222333").r[0].record_id, REC_B);

	/* the facts: two dossiers with their start, one enrolment without */
	assert_int_equal(store_report_receiving(f->s, s_fact_cb, &fs), 0);
	assert_int_equal(fs.n, 3);
	for (size_t i = 0; i < fs.n; i++) {
		assert_string_equal(fs.v[i].start, "2025-09-01");
		if (fs.v[i].dossier) {
			with++;
			assert_string_equal(fs.v[i].cohort, "2024-2025");
		} else {
			without++;
			assert_int_equal(fs.v[i].level, 1);
		}
	}
	assert_int_equal(with, 2);
	assert_int_equal(without, 1);
}

/* The PGN is sealed: the store file holds no PGN. Erasure replaces the
 * pseudonym (the pupil cannot be found again) and keeps the row for the
 * report, unless `erase` took it. */
static void test_sealed_erase_retention(void **state)
{
	struct fx *f = *state;
	const struct enrolment_in a = { "123456782", 1, "2025-09-01", 0 },
				  b = { "111222333", 2, "2025-09-01", 0 };
	struct facts fs = { 0 };
	int64_t *ids = NULL;
	size_t n = 0;
	struct got g;

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_enrolment_put(f->s, &a, "u", 1000), 0);
	assert_int_equal(store_enrolment_put(f->s, &b, "u", 5000), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_checkpoint_wal(f->s), 0);
	assert_false(fx_on_disk(f, "123456782", 9));

	assert_int_equal(store_retention_enrolments(f->s, 2000, &ids, &n), 0);
	assert_int_equal(n, 1);
	g = s_of(f, "123456782");
	assert_int_equal(ids[0], g.r[0].id);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_enrolment_erase(f->s, ids[0], "retention", 3000), 0);
	assert_int_equal(store_enrolment_erase(f->s, ids[0], "retention", 3000), 1);
	assert_int_equal(store_commit(f->s), 0);
	free(ids);
	ids = NULL;
	assert_int_equal(s_of(f, "123456782").n, 0);
	assert_int_equal(store_retention_enrolments(f->s, 2000, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	ids = NULL;
	/* retention keeps the row for the report; erase does not */
	assert_int_equal(store_report_receiving(f->s, s_fact_cb, &fs), 0);
	assert_int_equal(fs.n, 2);
	g = s_of(f, "111222333");
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_enrolment_erase(f->s, g.r[0].id, "erase", 4000), 0);
	assert_int_equal(store_commit(f->s), 0);
	fs.n = 0;
	assert_int_equal(store_report_receiving(f->s, s_fact_cb, &fs), 0);
	assert_int_equal(fs.n, 1);
	assert_int_equal(store_enrolment_erase(f->s, 999, "erase", 1), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_put_link_report),
		FX_TEST(test_sealed_erase_retention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
