/* Unit tests for rx_erasure.c, end to end between the two stores: the school
 * withdraws a consent (erasure_withdrawal_queue puts a Withdrawal in its
 * outbox), the MBO applies it (revokes, erases what it held under it, queues
 * an ErasureReceipt naming exactly that), the school stores the receipt
 * against its withdrawal. Retries change nothing; a receipt for a withdrawal
 * never sent, or a second one, is refused. A ConsentNotice is kept, and
 * refused for a record the sender never handed us. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "erasure.h"
#include "rx_fixture.h"

/* The school withdraws ks[0..n) of l and queues the Withdrawal: its wire. */
static void s_withdraw(struct fx *f, const struct leaver *l, const struct consent *ks, size_t n,
		       struct fx_wire *w)
{
	struct outbox_msg *pend;
	char peer[7];
	size_t np;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_consent_withdraw(f->school.s, ks[i].id, "2025-06-01", "mentor1"), 0);
	assert_int_equal(erasure_withdrawal_queue(&f->school.h, l, ks, n, "withdrawn", "2025-06-01",
						  "mentor1", peer), 0);
	assert_string_equal(peer, FX_MBO);
	np = fx_pending(&f->school, FX_MBO, &pend);
	assert_true(np >= 1);
	str_copy(w->mid, sizeof(w->mid), pend[np - 1].message_id);
	w->len = pend[np - 1].len;
	w->packed = malloc(w->len);
	memcpy(w->packed, pend[np - 1].packed, w->len);
	fx_pending_free(pend, np);
}

/* The MBO's queued ErasureReceipts to the school (unpacked, caller frees),
 * and their wires. */
static size_t s_receipts(struct fx *f, Overstap__ErasureReceipt **out, struct fx_wire *wires,
			 size_t cap)
{
	struct outbox_msg *pend;
	size_t np = fx_pending(&f->mbo, FX_SCHOOL, &pend), n = 0;

	for (size_t i = 0; i < np; i++) {
		Overstap__Envelope *e = NULL;

		assert_int_equal(envelope_unpack(pend[i].packed, pend[i].len, 1 << 20, &e, NULL), 0);
		if (e->body_case == OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT && n < cap) {
			out[n] = overstap__erasure_receipt__unpack(NULL, e->erasure_receipt.len,
								   e->erasure_receipt.data);
			assert_non_null(out[n]);
			if (wires) {
				str_copy(wires[n].mid, sizeof(wires[n].mid), pend[i].message_id);
				wires[n].len = pend[i].len;
				wires[n].packed = malloc(pend[i].len);
				memcpy(wires[n].packed, pend[i].packed, pend[i].len);
			}
			n++;
		}
		overstap__envelope__free_unpacked(e, NULL);
	}
	fx_pending_free(pend, np);
	return n;
}

static void s_items(const Overstap__ErasureReceipt *r, const char *const *want, size_t n)
{
	if (r->n_erased != n) {
		for (size_t i = 0; i < r->n_erased; i++)
			print_message("item: %s\n", r->erased[i]);
		fail_msg("%zu items, want %zu", r->n_erased, n);
	}
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r->erased[i], want[i]);
}

/* A dossier under consent, its handover consent withdrawn: the MBO erases it
 * all, and says so. */
static void test_withdrawal_erases_consent_dossier(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], today[11], detail[1024];
	struct consent ks[2];
	struct leaver l;
	struct fx_wire w = { 0 };
	Overstap__ErasureReceipt *r[2];
	struct inbox_row row;
	uint8_t *packed = NULL;
	size_t nk, len = 0;
	int failed = 1;
	static const char *const items[] = { "dossier" };

	fx_dossier_at_mbo(f, "P1", "consent", 1, 1, 0, &l, ks, &nk, rec);
	s_withdraw(f, &l, ks, 1, &w);
	f->mbo.h.outbox_dirty = f->mbo.h.wal_dirty = 0;
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);

	date_today(today);
	assert_int_equal(store_consent_revoked(f->mbo.s, ks[0].id, today), 1);
	assert_int_equal(store_inbox_get(f->mbo.s, rec, &row, &packed, &len), -ENOKEY);
	assert_null(packed);
	assert_string_equal(row.erased_what, "withdrawal");
	assert_true(f->mbo.h.outbox_dirty);
	assert_true(f->mbo.h.wal_dirty);
	assert_int_equal(s_receipts(f, r, NULL, 2), 1);
	assert_string_equal(r[0]->withdrawal_id, w.mid);
	assert_string_equal(r[0]->record_id, rec);
	assert_int_equal(r[0]->n_consent_ids, 1);
	assert_string_equal(r[0]->consent_ids[0], ks[0].id);
	assert_true(r[0]->erased_at > 0);
	s_items(r[0], items, 1);
	overstap__erasure_receipt__free_unpacked(r[0], NULL);
	assert_int_equal(fx_audits(&f->mbo, "withdrawal.received", rec, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "dossier"));

	/* the same withdrawal again: answered already, no second receipt */
	f->mbo.h.outbox_dirty = 0;
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(s_receipts(f, r, NULL, 2), 1);
	overstap__erasure_receipt__free_unpacked(r[0], NULL);
	assert_false(f->mbo.h.outbox_dirty);
	assert_int_equal(fx_audits(&f->mbo, "withdrawal.received", NULL, NULL, 0), 1);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

/* A dossier under statute with care notes that needed the handover consent:
 * only the notes go; the dossier stays readable, without the signature that
 * no longer matches it. */
static void test_withdrawal_strips_care_notes(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct consent ks[2];
	struct leaver l;
	struct fx_wire w = { 0 };
	Overstap__ErasureReceipt *r[2];
	Overstap__Envelope *e;
	Overstap__Handover *ho;
	struct inbox_row row;
	uint8_t *packed = NULL;
	size_t nk, len = 0;
	int failed = 1;
	static const char *const items[] = { "care_notes" };

	fx_dossier_at_mbo(f, "P1", "statute", 1, 1, 0, &l, ks, &nk, rec);
	s_withdraw(f, &l, ks, 1, &w);
	f->mbo.h.wal_dirty = 0;
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_true(f->mbo.h.wal_dirty);

	assert_int_equal(store_inbox_get(f->mbo.s, rec, &row, &packed, &len), 0);
	assert_string_equal(row.erased_what, "care_notes");
	assert_int_equal(row.erased_at, 0);
	e = overstap__envelope__unpack(NULL, len, packed);
	assert_non_null(e);
	assert_int_equal(e->signature.len, 0);
	ho = overstap__handover__unpack(NULL, e->handover.len, e->handover.data);
	assert_non_null(ho);
	assert_string_equal(ho->record_id, rec);
	assert_string_equal(ho->given_name, "Given");
	assert_int_equal(ho->n_support_needs, 1);
	assert_string_equal(ho->support_needs[0]->code, "extra_time");	/* codes stay */
	assert_string_equal(ho->support_needs[0]->note, "");
	for (size_t i = 0; i + strlen(FX_NOTE) <= len; i++)
		assert_true(memcmp(packed + i, FX_NOTE, strlen(FX_NOTE)) != 0);
	overstap__handover__free_unpacked(ho, NULL);
	overstap__envelope__free_unpacked(e, NULL);
	free(packed);

	assert_int_equal(s_receipts(f, r, NULL, 2), 1);
	s_items(r[0], items, 1);
	overstap__erasure_receipt__free_unpacked(r[0], NULL);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

/* A follow_up consent withdrawn: the MBO stops relying on it and cancels
 * the outcome it had queued under it; the dossier (statute) stays. */
static void test_withdrawal_follow_up_cancels_queued_outcome(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], mid[CRYPTO_UUID_STR_LEN + 1];
	struct consent ks[2];
	struct leaver l;
	struct fx_wire w = { 0 };
	Overstap__ErasureReceipt *r[2];
	Overstap__Outcome o = OVERSTAP__OUTCOME__INIT;
	Overstap__ConsentAssertion a;
	struct inbox_row row;
	uint8_t *packed = NULL, *body;
	size_t nk, len = 0, blen;
	int failed = 1;
	static const char *const items[] = { "follow_up_reliance", "queued_outcomes_cancelled:1" };

	fx_dossier_at_mbo(f, "P1", "statute", 0, 0, 1, &l, ks, &nk, rec);
	/* the MBO has an outcome waiting under the follow_up consent */
	envelope_assertion_from(&a, &ks[0]);
	o.record_id = rec;
	o.outcome = "still_enrolled";
	o.date = "2026-01-10";
	o.consent = &a;
	blen = overstap__outcome__get_packed_size(&o);
	body = malloc(blen);
	overstap__outcome__pack(&o, body);
	assert_int_equal(outbox_queue(&f->mbo.h, &(struct outbox_item){
		.peer = FX_SCHOOL, .body_case = OVERSTAP__ENVELOPE__BODY_OUTCOME, .body = body,
		.blen = blen, .consent_id = ks[0].id, .until = "" }, mid), 0);
	free(body);

	s_withdraw(f, &l, ks, 1, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(s_receipts(f, r, NULL, 2), 1);
	s_items(r[0], items, 2);
	overstap__erasure_receipt__free_unpacked(r[0], NULL);
	/* only the receipt is left to send */
	{
		struct outbox_msg *pend;
		size_t np = fx_pending(&f->mbo, FX_SCHOOL, &pend);

		assert_int_equal(np, 1);
		assert_string_not_equal(pend[0].message_id, mid);
		fx_pending_free(pend, np);
	}
	assert_int_equal(store_inbox_get(f->mbo.s, rec, &row, &packed, &len), 0);
	assert_string_equal(row.erased_what, "");
	free(packed);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

/* A withdrawal about a record the MBO never received: still answered. */
static void test_withdrawal_nothing_held(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct consent k;
	struct leaver l;
	struct fx_wire w = { 0 };
	Overstap__ErasureReceipt *r[2];
	int failed = 1;
	static const char *const items[] = { "nothing_held" };

	/* the school thinks it sent it; the MBO never got it */
	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_consent(f, &l, CONSENT_PURPOSE_HANDOVER, FX_MBO, &k);
	fx_handover(f, &l, "consent", 0, &k, 1, rec, &w);
	fx_wire_free(&w);
	s_withdraw(f, &l, &k, 1, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(s_receipts(f, r, NULL, 2), 1);
	assert_string_equal(r[0]->record_id, rec);
	s_items(r[0], items, 1);
	overstap__erasure_receipt__free_unpacked(r[0], NULL);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

static void test_withdrawal_store_failure(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], today[11];
	struct consent ks[2];
	struct leaver l;
	struct fx_wire w = { 0 };
	Overstap__ErasureReceipt *r[2];
	struct inbox_row row;
	uint8_t *packed = NULL;
	size_t nk, len = 0;
	int failed = 0;

	fx_dossier_at_mbo(f, "P1", "consent", 0, 1, 0, &l, ks, &nk, rec);
	s_withdraw(f, &l, ks, 1, &w);
	fx_sql(&f->mbo, "CREATE TRIGGER broken BEFORE INSERT ON withdrawals_rx"
			" BEGIN SELECT * FROM no_such; END;");
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 1);
	/* rolled back: nothing revoked, nothing erased, no receipt */
	date_today(today);
	assert_int_equal(store_consent_revoked(f->mbo.s, ks[0].id, today), 0);
	assert_int_equal(store_inbox_get(f->mbo.s, rec, &row, &packed, &len), 0);
	free(packed);
	assert_int_equal(s_receipts(f, r, NULL, 2), 0);
	/* the retry, once the store works */
	fx_sql(&f->mbo, "DROP TRIGGER broken;");
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(s_receipts(f, r, NULL, 2), 1);
	overstap__erasure_receipt__free_unpacked(r[0], NULL);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

/* ---- the receipt, at the school ---- */

struct s_wd {
	unsigned n;
	struct withdrawal_rec last;
};

static int s_wd_cb(const struct withdrawal_rec *w, void *arg)
{
	struct s_wd *q = arg;

	q->n++;
	q->last = *w;
	return 0;
}

static void test_receipt_stored(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], detail[1024];
	struct consent ks[2];
	struct leaver l;
	struct fx_wire w = { 0 }, rw[2], again = { 0 };
	Overstap__ErasureReceipt *r[2], copy;
	struct s_wd q = { 0 };
	size_t nk;
	int failed = 1;

	fx_dossier_at_mbo(f, "P1", "consent", 0, 1, 0, &l, ks, &nk, rec);
	s_withdraw(f, &l, ks, 1, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(s_receipts(f, r, rw, 2), 1);

	assert_null(fx_rx(&f->school, &rw[0], &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(store_withdrawals_each(f->school.s, rec, s_wd_cb, &q), 0);
	assert_int_equal(q.n, 1);
	assert_string_equal(q.last.message_id, w.mid);
	assert_string_equal(q.last.receipt_id, rw[0].mid);
	assert_string_equal(q.last.erased, "dossier");
	assert_int_equal(q.last.erased_at, r[0]->erased_at);
	assert_int_equal(fx_audits(&f->school, "erasure.receipt", rec, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, w.mid));
	/* the same receipt again (our ack was lost): accepted, nothing new */
	assert_null(fx_rx(&f->school, &rw[0], &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(fx_audits(&f->school, "erasure.receipt", NULL, NULL, 0), 1);

	/* another receipt for that withdrawal: refused, the first one stays */
	copy = *r[0];
	copy.erased = (char *[]){ "nothing_held" };
	copy.n_erased = 1;
	fx_forge(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT, &copy.base, &again);
	assert_string_equal(fx_rx(&f->school, &again, &failed), "a receipt for this withdrawal is held already");
	assert_int_equal(failed, 0);
	memset(&q, 0, sizeof(q));
	assert_int_equal(store_withdrawals_each(f->school.s, rec, s_wd_cb, &q), 0);
	assert_string_equal(q.last.receipt_id, rw[0].mid);
	assert_string_equal(q.last.erased, "dossier");
	fx_wire_free(&again);

	/* a receipt for a withdrawal we never sent */
	assert_int_equal(crypto_uuidv7((char *)copy.withdrawal_id), 0);
	fx_forge(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT, &copy.base, &again);
	assert_string_equal(fx_rx(&f->school, &again, &failed), "receipt for a withdrawal we did not send");
	assert_int_equal(failed, 0);
	assert_int_equal(fx_audits(&f->school, "erasure.receipt", NULL, NULL, 0), 1);

	overstap__erasure_receipt__free_unpacked(r[0], NULL);
	store_leaver_clear(&l);
	fx_wire_free(&w);
	fx_wire_free(&rw[0]);
	fx_wire_free(&again);
}

static void test_receipt_store_failure(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct consent ks[2];
	struct leaver l;
	struct fx_wire w = { 0 }, rw[2];
	Overstap__ErasureReceipt *r[2];
	size_t nk;
	int failed = 0;

	fx_dossier_at_mbo(f, "P1", "consent", 0, 1, 0, &l, ks, &nk, rec);
	s_withdraw(f, &l, ks, 1, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(s_receipts(f, r, rw, 2), 1);
	fx_sql(&f->school, "CREATE TRIGGER broken BEFORE UPDATE ON withdrawals"
			   " BEGIN SELECT * FROM no_such; END;");
	fx_rx(&f->school, &rw[0], &failed);
	assert_int_equal(failed, 1);
	fx_sql(&f->school, "DROP TRIGGER broken;");
	/* sqlite keeps the schema with the broken trigger until a statement
	 * of the store's notices the change; the failed UPDATE alone does not */
	fx_audit_total(&f->school);
	assert_null(fx_rx(&f->school, &rw[0], &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(fx_audits(&f->school, "erasure.receipt", rec, NULL, 0), 1);
	overstap__erasure_receipt__free_unpacked(r[0], NULL);
	store_leaver_clear(&l);
	fx_wire_free(&w);
	fx_wire_free(&rw[0]);
}

/* ---- a consent told after the dossier ---- */

static int s_count_blob(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned s_assertions(struct fx *f, const char *rec)
{
	unsigned n = 0;

	assert_int_equal(store_assertions_each(f->mbo.s, rec, s_count_blob, &n), 0);
	return n;
}

static void test_notice(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], other[CRYPTO_UUID_STR_LEN + 1], detail[1024];
	struct consent ks[2], fu, ho;
	struct leaver l;
	Overstap__ConsentNotice m = OVERSTAP__CONSENT_NOTICE__INIT;
	Overstap__ConsentAssertion a;
	struct fx_wire w = { 0 };
	size_t nk;
	int failed = 1;

	fx_dossier_at_mbo(f, "P1", "statute", 0, 0, 0, &l, ks, &nk, rec);
	fx_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, CONSENT_ANY, &fu);
	envelope_assertion_from(&a, &fu);
	m.record_id = rec;
	m.consent = &a;
	fx_send(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE, &m.base, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(s_assertions(f, rec), 1);
	assert_int_equal(fx_audits(&f->mbo, "consent.notice_received", rec, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, fu.id));
	/* a retry: held once, audited once */
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(s_assertions(f, rec), 1);
	assert_int_equal(fx_audits(&f->mbo, "consent.notice_received", NULL, NULL, 0), 1);
	fx_wire_free(&w);

	/* about a record the school never handed us */
	assert_int_equal(crypto_uuidv7(other), 0);
	m.record_id = other;
	assert_string_equal(fx_deliver(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE, &m.base),
			    "no handover with this record id from the sender");
	assert_int_equal(s_assertions(f, other), 0);
	/* a handover consent is not something a notice tells */
	fx_consent(f, &l, CONSENT_PURPOSE_HANDOVER, FX_MBO, &ho);
	envelope_assertion_from(&a, &ho);
	m.record_id = rec;
	assert_string_equal(fx_deliver(&f->school, &f->mbo, OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE, &m.base),
			    "consent notice is not of a follow_up consent for this institution");
	assert_int_equal(s_assertions(f, rec), 1);
	store_leaver_clear(&l);
}

/* A notice from the MBO about a record the school holds... the school holds
 * none: the record must be one the sender handed to us. */
static void test_notice_from_wrong_sender(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct consent ks[2], fu;
	struct leaver l;
	Overstap__ConsentNotice m = OVERSTAP__CONSENT_NOTICE__INIT;
	Overstap__ConsentAssertion a;
	size_t nk;

	fx_dossier_at_mbo(f, "P1", "statute", 0, 0, 0, &l, ks, &nk, rec);
	fx_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, FX_SCHOOL, &fu);
	envelope_assertion_from(&a, &fu);
	m.record_id = rec;
	m.consent = &a;
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE, &m.base),
			    "no handover with this record id from the sender");
	store_leaver_clear(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_withdrawal_erases_consent_dossier, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_strips_care_notes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_follow_up_cancels_queued_outcome, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_nothing_held, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_store_failure, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_receipt_stored, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_receipt_store_failure, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_notice, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_notice_from_wrong_sender, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
