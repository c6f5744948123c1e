/* Unit tests for store_regsent.c: a registration sent is found by its PGN
 * and by the record id of a dossier from the same school for that PGN; the
 * link goes with that dossier's erasure or retention (not with a
 * withdrawal), and by age when no dossier came (design.md §3.10, §3.11). */
#include "store_fixture.h"

#define PGN_A "123456782"
#define PGN_B "111222333"
#define SCHOOL "12AB00"
#define MID_1 "01890a5d-0000-7000-8000-0000000000a1"
#define MID_2 "01890a5d-0000-7000-8000-0000000000a2"
#define MID_3 "01890a5d-0000-7000-8000-0000000000a3"

struct seen {
	char mid[4][CRYPTO_UUID_STR_LEN + 1];
	size_t n;
};

static int s_collect(const struct regsent *g, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 4);
	strcpy(s->mid[s->n++], g->message_id);
	return 0;
}

static size_t s_by_pgn(struct store *st, const char *pgn)
{
	struct seen s = { 0 };

	assert_int_equal(store_regsent_by_pgn(st, pgn, s_collect, &s), 0);
	return s.n;
}

static void s_dossier(struct fx *f, const char *mid, const char *rec, const char *pgn)
{
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;
	uint8_t packed[] = "envelope";

	h.record_id = (char *)rec;
	h.pgn = (char *)pgn;
	h.cohort = "2024-2025";
	h.exit_date = "2025-07-04";
	h.program = OVERSTAP__PROGRAM__PRO;
	assert_int_equal(store_inbox_put(f->s, mid, SCHOOL, &h, packed, sizeof(packed), 1000), 0);
}

static void test_found_by_pgn_and_record(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_regsent_add(f->s, MID_1, PGN_A, SCHOOL, "2026-03-01", 10), 0);
	assert_int_equal(store_regsent_add(f->s, MID_2, PGN_B, SCHOOL, "2026-03-01", 10), 0);
	/* the same school's dossier for PGN_A; another school's would not match */
	s_dossier(f, MID_3, REC_A, PGN_A);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_regsent_by_pgn(f->s, PGN_A, s_collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.mid[0], MID_1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_regsent_by_record(f->s, REC_A, s_collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.mid[0], MID_1);
	assert_int_equal(s_by_pgn(f->s, "999999990"), 0);
}

static void test_link_goes_with_erasure_not_withdrawal(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_regsent_add(f->s, MID_1, PGN_A, SCHOOL, "2026-03-01", 10), 0);
	s_dossier(f, MID_3, REC_A, PGN_A);
	assert_int_equal(store_inbox_erase(f->s, REC_A, "withdrawal", 2000), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(s_by_pgn(f->s, PGN_A), 1);	/* the statute it rests on stays */

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_regsent_add(f->s, MID_2, PGN_B, SCHOOL, "2026-03-01", 10), 0);
	s_dossier(f, "01890a5d-0000-7000-8000-0000000000a4", REC_B, PGN_B);
	assert_int_equal(store_inbox_erase(f->s, REC_B, "erase", 2000), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(s_by_pgn(f->s, PGN_B), 0);
}

static void test_expire_by_age(void **state)
{
	struct fx *f = *state;
	unsigned n = 0;

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_regsent_add(f->s, MID_1, PGN_A, SCHOOL, "2026-03-01", 10), 0);
	assert_int_equal(store_regsent_add(f->s, MID_2, PGN_B, SCHOOL, "2026-03-01", 500), 0);
	assert_int_equal(store_regsent_expire(f->s, 100, &n), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s_by_pgn(f->s, PGN_A), 0);
	assert_int_equal(s_by_pgn(f->s, PGN_B), 1);
}

/* Issue 16 item 3: a Registration never delivered (the school never
 * answered) kept the PGN under the outbox key, which master.key gives, after
 * its link had gone. With the link it is cancelled and emptied, queued or
 * parked; one settled already is left as it is, and the sender is told to
 * drop its copy in memory. */
static void test_waiting_registration_goes_with_its_link(void **state)
{
	static const uint8_t packed[] = "registration with PGN 123456782";
	struct fx *f = *state;
	uint8_t *back = NULL;
	size_t len = 0;
	unsigned n = 0;

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_outbox_add(f->s, MID_1, SCHOOL, 18, packed, sizeof(packed), 0, 10), 0);
	assert_int_equal(store_outbox_add(f->s, MID_2, SCHOOL, 18, packed, sizeof(packed), 0, 10), 0);
	assert_int_equal(store_regsent_add(f->s, MID_1, PGN_A, SCHOOL, "2026-03-01", 10), 0);
	assert_int_equal(store_regsent_add(f->s, MID_2, PGN_B, SCHOOL, "2026-03-01", 500), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_outbox_cancelled(f->s), 0);
	assert_int_equal(store_outbox_queued(f->s, MID_1), 1);

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_regsent_expire(f->s, 100, &n), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_queued(f->s, MID_1), 0);
	assert_int_equal(store_outbox_queued(f->s, MID_2), 1);	/* its link is young */
	assert_int_equal(store_outbox_cancelled(f->s), 1);
	assert_int_equal(store_outbox_cancelled(f->s), 0);	/* once */
	assert_int_equal(store_outbox_shredded(f->s), 1);	/* the WAL is truncated */
	assert_true(store_outbox_get(f->s, MID_1, &back, &len) < 0 || len == 0);
	free(back);
	back = NULL;
	assert_int_equal(store_outbox_get(f->s, MID_2, &back, &len), 0);
	assert_int_equal(len, sizeof(packed));
	free(back);

	/* erasing the dossier it goes with at the MBO does the same */
	assert_int_equal(store_begin(f->s), 0);
	s_dossier(f, MID_3, REC_B, PGN_B);
	assert_int_equal(store_inbox_erase(f->s, REC_B, "erase", 2000), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_outbox_queued(f->s, MID_2), 0);
	assert_int_equal(store_outbox_cancelled(f->s), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_found_by_pgn_and_record),
		FX_TEST(test_link_goes_with_erasure_not_withdrawal),
		FX_TEST(test_expire_by_age),
		FX_TEST(test_waiting_registration_goes_with_its_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
