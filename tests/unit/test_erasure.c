/* Unit tests for erasure.c, the school's side: erasure_withdrawal_queue
 * tells the receiver only of consents it may have been told of, and only
 * when a dossier left and the receiver is a peer we can reach;
 * erasure_retention_run shreds exactly what is past its retention period,
 * audits each, and leaves the pseudonymous report fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "erasure.h"
#include "pgn.h"
#include "rx_fixture.h"

#define DAY_MS (86400LL * 1000)

/* The Withdrawal queued for the MBO (exactly one expected), unpacked. */
static Overstap__Withdrawal *s_queued_withdrawal(struct fx *f)
{
	struct outbox_msg *pend;
	size_t np = fx_pending(&f->school, FX_MBO, &pend);
	Overstap__Envelope *e = NULL;
	Overstap__Withdrawal *w = NULL;

	for (size_t i = 0; i < np; i++) {
		assert_int_equal(envelope_unpack(pend[i].packed, pend[i].len, 1 << 20, &e, NULL), 0);
		if (e->body_case == OVERSTAP__ENVELOPE__BODY_WITHDRAWAL) {
			assert_null(w);
			w = overstap__withdrawal__unpack(NULL, e->withdrawal.len, e->withdrawal.data);
			assert_non_null(w);
		}
		overstap__envelope__free_unpacked(e, NULL);
	}
	fx_pending_free(pend, np);
	return w;
}

static int s_wd_count(const struct withdrawal_rec *w, void *arg)
{
	(void)w;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned s_withdrawals(struct fx *f)
{
	unsigned n = 0;

	assert_int_equal(store_withdrawals_each(f->school.s, NULL, s_wd_count, &n), 0);
	return n;
}

static void test_withdrawal_never_sent(void **state)
{
	struct fx *f = *state;
	struct consent k;
	struct leaver l;
	char peer[7] = "x";

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_consent(f, &l, CONSENT_PURPOSE_HANDOVER, FX_MBO, &k);
	assert_int_equal(erasure_withdrawal_queue(&f->school.h, &l, &k, 1, "withdrawn", "2025-06-01",
						  "mentor1", peer), 0);
	assert_string_equal(peer, "");
	assert_null(s_queued_withdrawal(f));
	assert_int_equal(s_withdrawals(f), 0);
	assert_false(f->school.h.outbox_dirty);
	store_leaver_clear(&l);
}

static void test_withdrawal_names_only_told_consents(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], detail[1024];
	struct consent k[4];
	struct leaver l;
	struct fx_wire w = { 0 };
	Overstap__Withdrawal *wd;
	char peer[7] = "";

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_consent(f, &l, CONSENT_PURPOSE_HANDOVER, FX_MBO, &k[0]);	/* counts */
	fx_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, CONSENT_ANY, &k[1]);	/* counts */
	fx_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, FX_OTHER, &k[2]);	/* another receiver */
	fx_consent(f, &l, CONSENT_PURPOSE_HANDOVER, FX_OTHER, &k[3]);	/* another receiver */
	fx_handover(f, &l, "consent", 0, k, 2, rec, &w);
	fx_wire_free(&w);
	f->school.h.outbox_dirty = 0;

	/* only the consents the MBO cannot know of: nothing to tell */
	assert_int_equal(erasure_withdrawal_queue(&f->school.h, &l, &k[2], 2, "withdrawn", "2025-06-01",
						  "mentor1", peer), 0);
	assert_string_equal(peer, "");
	assert_null(s_queued_withdrawal(f));

	assert_int_equal(erasure_withdrawal_queue(&f->school.h, &l, k, 4, "erased", "2025-06-01",
						  "mentor1", peer), 0);
	assert_string_equal(peer, FX_MBO);
	assert_true(f->school.h.outbox_dirty);
	wd = s_queued_withdrawal(f);
	assert_non_null(wd);
	assert_string_equal(wd->record_id, rec);
	assert_int_equal(wd->n_consent_ids, 2);
	assert_string_equal(wd->consent_ids[0], k[0].id);
	assert_string_equal(wd->consent_ids[1], k[1].id);
	assert_string_equal(wd->reason, "erased");
	assert_string_equal(wd->withdrawn_on, "2025-06-01");
	overstap__withdrawal__free_unpacked(wd, NULL);
	assert_int_equal(s_withdrawals(f), 1);
	assert_int_equal(fx_audits(&f->school, "withdrawal.queued", rec, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "\"consents\":2"));
	store_leaver_clear(&l);
}

static void test_withdrawal_unreachable_peer(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct consent k;
	struct leaver l, l2;
	struct fx_wire w = { 0 };
	char peer[7] = "x";

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_consent(f, &l, CONSENT_PURPOSE_HANDOVER, CONSENT_ANY, &k);
	fx_handover(f, &l, "consent", 0, &k, 1, rec, &w);
	fx_wire_free(&w);
	/* the MBO is a peer, but receive-only: no endpoint to tell it at */
	f->school.peer.endpoint[0] = '\0';
	assert_int_equal(erasure_withdrawal_queue(&f->school.h, &l, &k, 1, "withdrawn", "2025-06-01",
						  "mentor1", peer), 0);
	assert_string_equal(peer, "");
	assert_null(s_queued_withdrawal(f));
	assert_int_equal(s_withdrawals(f), 0);
	/* a destination that is not a peer at all */
	fx_import(f, "P2", FX_PGN2, FX_OTHER, &l2);
	str_copy(l2.record_id, sizeof(l2.record_id), rec);
	l2.state = LEAVER_DELIVERED;
	assert_int_equal(erasure_withdrawal_queue(&f->school.h, &l2, &k, 1, "withdrawn", "2025-06-01",
						  "mentor1", peer), 0);
	assert_string_equal(peer, "");
	assert_int_equal(s_withdrawals(f), 0);
	store_leaver_clear(&l);
	store_leaver_clear(&l2);
}

/* ---- retention ---- */

static void s_event(struct fx_side *sd, const char *rec, int inbound, const char *date)
{
	struct event_rec e = { 0 };

	assert_int_equal(crypto_uuidv7(e.message_id), 0);
	str_copy(e.record_id, sizeof(e.record_id), rec);
	e.inbound = inbound;
	str_copy(e.peer, sizeof(e.peer), FX_MBO);
	e.event = 1;
	str_copy(e.date, sizeof(e.date), date);
	e.at = 1;
	str_copy(e.actor, sizeof(e.actor), "peer:" FX_MBO);
	assert_int_equal(store_event_add(sd->s, &e), 0);
}

static void test_retention(void **state)
{
	struct fx *f = *state;
	char rec[3][CRYPTO_UUID_STR_LEN + 1], sql[256], old_day[11], new_day[11];
	struct leaver l[4], back;
	struct consent ks[2];
	struct fx_wire w = { 0 };
	struct inbox_row row;
	uint8_t *packed = NULL;
	size_t nk, len;
	unsigned erased = 99;
	int64_t now = time_now_ms();

	/* school: delivered 400 days ago (goes), delivered 10 days ago (stays),
	 * imported 400 days ago and never sent (goes), imported today (stays) */
	fx_import(f, "OLD", FX_PGN, FX_MBO, &l[0]);
	fx_handover(f, &l[0], "statute", 0, NULL, 0, rec[0], &w);
	fx_wire_free(&w);
	fx_acked(f, &l[0], now - 400 * DAY_MS);
	fx_import(f, "NEW", FX_PGN2, FX_MBO, &l[1]);
	fx_handover(f, &l[1], "statute", 0, NULL, 0, rec[1], &w);
	fx_wire_free(&w);
	fx_acked(f, &l[1], now - 10 * DAY_MS);
	fx_import(f, "UNSENT_OLD", "999999990", FX_MBO, &l[2]);
	snprintf(sql, sizeof(sql), "UPDATE leavers SET imported_at = %lld WHERE id = %lld",
		 (long long)(now - 400 * DAY_MS), (long long)l[2].id);
	fx_sql(&f->school, sql);
	fx_import(f, "UNSENT_NEW", "100000009", FX_MBO, &l[3]);
	/* MBO: a dossier received 800 days ago (goes), one received now (stays) */
	fx_dossier_at_mbo(f, "R1", "statute", 0, 0, 0, &back, ks, &nk, rec[2]);
	store_leaver_clear(&back);
	snprintf(sql, sizeof(sql), "UPDATE inbox SET received_at = %lld WHERE record_id = '%s'",
		 (long long)(now - 800 * DAY_MS), rec[2]);
	fx_sql(&f->mbo, sql);
	/* events: one older than 1825 days, one recent */
	erasure_date_before(1900, old_day);
	erasure_date_before(30, new_day);
	s_event(&f->school, rec[0], 1, old_day);
	s_event(&f->school, rec[1], 1, new_day);

	assert_int_equal(erasure_retention_run(&f->school.h, &erased), 0);
	assert_int_equal(erased, 3);	/* two dossiers and one event */
	for (int i = 0; i < 4; i++) {
		int gone = i == 0 || i == 2;

		assert_int_equal(store_leaver_load(f->school.s, l[i].id, 0, &back), 0);
		if (gone) {
			assert_true(back.erased_at > 0);
			assert_string_equal(back.pupil_ref, "(erased)");
		} else {
			assert_int_equal(back.erased_at, 0);
			assert_string_equal(back.pupil_ref, l[i].pupil_ref);
		}
		/* the pseudonymous report fields stay either way */
		assert_string_equal(back.cohort, "2024-2025");
		assert_int_equal(back.program, l[i].program);
		assert_int_equal(back.destination, l[i].destination);
		assert_string_equal(back.destination_institution, FX_MBO);
		assert_int_equal(back.state, l[i].state);
		store_leaver_clear(&back);
	}
	assert_int_equal(fx_audits(&f->school, "retention.erased", rec[0], NULL, 0), 1);
	assert_int_equal(fx_audits(&f->school, "retention.erased", rec[1], NULL, 0), 0);
	assert_int_equal(fx_audits(&f->school, "retention.erased", NULL, NULL, 0), 3);
	assert_int_equal(fx_events(&f->school, rec[0]), 0);
	assert_int_equal(fx_events(&f->school, rec[1]), 1);
	/* nothing more is due */
	assert_int_equal(erasure_retention_run(&f->school.h, &erased), 0);
	assert_int_equal(erased, 0);

	/* the MBO's job: the old dossier goes */
	assert_int_equal(erasure_retention_run(&f->mbo.h, &erased), 0);
	assert_int_equal(erased, 1);
	assert_int_equal(store_inbox_get(f->mbo.s, rec[2], &row, &packed, &len), -ENOKEY);
	assert_string_equal(row.erased_what, "retention");
	assert_int_equal(fx_audits(&f->mbo, "retention.erased", rec[2], NULL, 0), 1);
	for (int i = 0; i < 4; i++)
		store_leaver_clear(&l[i]);
}

/* The job in slices (design.md §3.10): with no time budget each call
 * shreds one batch of 64 and says more is due; the run ends with all of
 * them gone, counted once. */
static void test_retention_in_slices(void **state)
{
	struct fx *f = *state;
	struct erasure_retention run = { 0 };
	int64_t now = time_now_ms();
	char sql[160], ref[16], pgn[10];
	unsigned made = 0, calls = 0;
	struct leaver l;
	int r;

	for (unsigned v = 100000000; made < 150; v++) {
		snprintf(pgn, sizeof(pgn), "%u", v);
		if (pgn_check(pgn, NULL) < 0)
			continue;
		snprintf(ref, sizeof(ref), "OLD%u", made++);
		fx_import(f, ref, pgn, FX_MBO, &l);
		store_leaver_clear(&l);
	}
	snprintf(sql, sizeof(sql), "UPDATE leavers SET imported_at = %lld",
		 (long long)(now - 400 * DAY_MS));
	fx_sql(&f->school, sql);
	while ((r = erasure_retention_step(&f->school.h, 0, &run)) == 1) {
		calls++;
		assert_int_equal(run.dossiers, 64 * calls);
	}
	assert_int_equal(r, 0);
	assert_int_equal(calls, 2);
	assert_int_equal(run.dossiers, 150);
	assert_int_equal(fx_audits(&f->school, "retention.erased", NULL, NULL, 0), 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_withdrawal_never_sent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_names_only_told_consents, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_unreachable_peer, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_retention, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_retention_in_slices, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
