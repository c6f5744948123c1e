/* Unit tests for rx_feedback.c, at the school: a Status about a dossier we
 * handed to the sender is stored and audited once; one about a record we do
 * not have, or handed elsewhere, is refused with the exact reason. An Outcome
 * comes in only under our own follow_up consent, else it is refused and
 * audited. A Registration finds the leaver by PGN and opens the send gate.
 * A store failure under any of them is reported as one, never as a refusal
 * the sender would stop retrying. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rx_fixture.h"

/* The school's leaver P1, handed over to the MBO (delivered) as *rec. */
static void s_handed(struct fx *f, struct leaver *l, char rec[CRYPTO_UUID_STR_LEN + 1])
{
	struct fx_wire w = { 0 };

	fx_import(f, "P1", FX_PGN, FX_MBO, l);
	fx_handover(f, l, "statute", 0, NULL, 0, rec, &w);
	fx_acked(f, l, time_now_ms());
	fx_wire_free(&w);
}

static void s_status(Overstap__Status *m, const char *rec, const char *status)
{
	overstap__status__init(m);
	m->record_id = (char *)rec;
	m->status = (char *)status;
	m->date = "2025-08-20";
}

static void test_status_stored_once(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], detail[1024];
	Overstap__Status m;
	struct fx_wire w = { 0 };
	struct leaver l;
	int failed = 1;

	s_handed(f, &l, rec);
	s_status(&m, rec, "enrolled");
	fx_send(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_STATUS, &m.base, &w);
	assert_null(fx_rx(&f->school, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(fx_events(&f->school, rec), 1);
	assert_int_equal(fx_audits(&f->school, "status.received", rec, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "\"enrolled\""));
	assert_non_null(strstr(detail, "2025-08-20"));
	/* a retry is applied once */
	assert_null(fx_rx(&f->school, &w, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(fx_events(&f->school, rec), 1);
	assert_int_equal(fx_audits(&f->school, "status.received", rec, NULL, 0), 1);
	fx_wire_free(&w);

	/* also while the dossier is still queued (its ack not yet in) */
	store_leaver_clear(&l);
	fx_import(f, "P2", FX_PGN2, FX_MBO, &l);
	fx_handover(f, &l, "statute", 0, NULL, 0, rec, &w);
	fx_wire_free(&w);
	s_status(&m, rec, "registered");
	assert_null(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_STATUS, &m.base));
	assert_int_equal(fx_events(&f->school, rec), 1);
	store_leaver_clear(&l);
}

static void test_status_refused(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], other[CRYPTO_UUID_STR_LEN + 1];
	Overstap__Status m;
	struct fx_wire w = { 0 };
	struct leaver l, l2;

	s_handed(f, &l, rec);
	/* a record id we never sent */
	assert_int_equal(crypto_uuidv7(other), 0);
	s_status(&m, other, "enrolled");
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_STATUS, &m.base),
			    "no handover with this record id");
	/* a dossier we handed to another institution */
	fx_import(f, "P2", FX_PGN2, FX_OTHER, &l2);
	fx_handover(f, &l2, "statute", 0, NULL, 0, other, &w);
	s_status(&m, other, "enrolled");
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_STATUS, &m.base),
			    "no handover with this record id to the sender");
	assert_int_equal(fx_events(&f->school, other), 0);
	assert_int_equal(fx_audits(&f->school, "status.received", NULL, NULL, 0), 0);
	/* an outcome name where a status belongs */
	s_status(&m, rec, "diploma");
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_STATUS, &m.base),
			    "unknown status");
	assert_int_equal(fx_events(&f->school, rec), 0);
	store_leaver_clear(&l);
	store_leaver_clear(&l2);
	fx_wire_free(&w);
}

static void s_outcome(Overstap__Outcome *m, Overstap__ConsentAssertion *a, const char *rec,
		      const struct consent *k)
{
	overstap__outcome__init(m);
	envelope_assertion_from(a, k);
	m->record_id = (char *)rec;
	m->outcome = "diploma";
	m->date = "2026-07-01";
	m->level = 2;
	m->consent = a;
}

static void test_outcome_needs_our_follow_up_consent(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1], detail[1024];
	Overstap__Outcome m;
	Overstap__ConsentAssertion a;
	struct consent handover, other, forged, fu;
	struct leaver l;
	static const char why[] = "outcome without a valid follow_up consent";

	s_handed(f, &l, rec);
	fx_consent(f, &l, CONSENT_PURPOSE_HANDOVER, FX_MBO, &handover);
	fx_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, FX_OTHER, &other);
	/* a handover consent is not a follow_up consent */
	s_outcome(&m, &a, rec, &handover);
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_OUTCOME, &m.base), why);
	/* follow_up, but for another institution */
	s_outcome(&m, &a, rec, &other);
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_OUTCOME, &m.base), why);
	/* an assertion of a consent we do not hold: our record decides */
	forged = other;
	assert_int_equal(crypto_uuidv7(forged.id), 0);
	str_copy(forged.counterpart, sizeof(forged.counterpart), FX_MBO);
	forged.purpose = CONSENT_PURPOSE_FOLLOW_UP;
	s_outcome(&m, &a, rec, &forged);
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_OUTCOME, &m.base), why);
	assert_int_equal(fx_events(&f->school, rec), 0);
	assert_int_equal(fx_audits(&f->school, "disclosure.refused", rec, detail, sizeof(detail)), 3);
	assert_non_null(strstr(detail, "follow_up"));
	assert_int_equal(fx_audits(&f->school, "outcome.received", NULL, NULL, 0), 0);

	/* with ours, for the MBO: stored and audited with the consent */
	fx_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, FX_MBO, &fu);
	s_outcome(&m, &a, rec, &fu);
	assert_null(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_OUTCOME, &m.base));
	assert_int_equal(fx_events(&f->school, rec), 1);
	assert_int_equal(fx_audits(&f->school, "outcome.received", rec, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, fu.id));

	/* withdrawn by today: refused again */
	assert_int_equal(store_consent_withdraw(f->school.s, fu.id, "2025-06-01", "mentor1"), 0);
	s_outcome(&m, &a, rec, &fu);
	m.outcome = "still_enrolled";
	m.level = 0;
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_OUTCOME, &m.base), why);
	assert_int_equal(fx_events(&f->school, rec), 1);
	store_leaver_clear(&l);
}

/* The consent must be this pupil's: another pupil's follow_up consent for
 * the MBO does not let an outcome about P1 in. */
static void test_outcome_consent_of_another_pupil(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	Overstap__Outcome m;
	Overstap__ConsentAssertion a;
	struct consent k;
	struct leaver l, l2;

	s_handed(f, &l, rec);
	fx_import(f, "P2", FX_PGN2, FX_MBO, &l2);
	fx_consent(f, &l2, CONSENT_PURPOSE_FOLLOW_UP, FX_MBO, &k);
	s_outcome(&m, &a, rec, &k);
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_OUTCOME, &m.base),
			    "outcome without a valid follow_up consent");
	assert_int_equal(fx_events(&f->school, rec), 0);
	store_leaver_clear(&l);
	store_leaver_clear(&l2);
}

static void s_registration(Overstap__Registration *m, const char *pgn, const char *date)
{
	overstap__registration__init(m);
	m->pgn = (char *)pgn;
	m->registered_on = (char *)date;
}

static void test_registration(void **state)
{
	struct fx *f = *state;
	char subj[32], detail[1024];
	Overstap__Registration m;
	struct leaver l, l2, back;

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_import(f, "P2", FX_PGN2, FX_OTHER, &l2);
	/* a PGN we have no leaver for, a leaver bound elsewhere: the same answer */
	s_registration(&m, "999999990", "2025-05-01");
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base),
			    "registration not accepted");
	s_registration(&m, FX_PGN2, "2025-05-01");
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base),
			    "registration not accepted");
	assert_int_equal(store_leaver_load(f->school.s, l2.id, 0, &back), 0);
	assert_string_equal(back.registered_on, "");
	store_leaver_clear(&back);
	/* ours: registered, audited under the leaver's pseudonymous subject */
	s_registration(&m, FX_PGN, "2025-05-01");
	assert_null(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base));
	assert_int_equal(store_leaver_load(f->school.s, l.id, 0, &back), 0);
	assert_string_equal(back.registered_on, "2025-05-01");
	store_leaver_clear(&back);
	snprintf(subj, sizeof(subj), "leaver:%lld", (long long)l.id);
	assert_int_equal(fx_audits(&f->school, "registration.received", subj, detail, sizeof(detail)), 1);
	assert_non_null(strstr(detail, "2025-05-01"));
	assert_null(strstr(detail, FX_PGN));
	/* the same registration again changes nothing */
	assert_null(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base));
	assert_int_equal(fx_audits(&f->school, "registration.received", NULL, NULL, 0), 1);
	/* a PGN failing the 11-test never gets that far */
	s_registration(&m, "123456789", "2025-05-01");
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base),
			    "registration pgn fails the 11-test");
	store_leaver_clear(&l);
	store_leaver_clear(&l2);
}

/* Issue 11 item 2: a peer must not learn whether a PGN is a pupil here. A
 * registration for an unknown PGN and one for a pupil bound elsewhere get
 * byte-identical answers, and neither changes the store (no audit row per
 * probe either: 5,000 probes once left one row and three kinds of answer). */
static void test_registration_refusals_look_the_same(void **state)
{
	struct fx *f = *state;
	struct rx_refusals rs = { 0 };
	Overstap__Registration m;
	struct leaver l, back;
	const char *a, *b;
	unsigned audits;

	f->school.h.refusals = &rs;
	f->school.cfg->max_refused_registrations = 100;
	fx_import(f, "P2", FX_PGN2, FX_OTHER, &l);
	audits = fx_audit_total(&f->school);
	s_registration(&m, "999999990", "2025-05-01");
	a = fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base);
	s_registration(&m, FX_PGN2, "2025-05-01");
	b = fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_int_equal(fx_audit_total(&f->school), audits);
	assert_int_equal(store_leaver_load(f->school.s, l.id, 0, &back), 0);
	assert_string_equal(back.registered_on, "");
	assert_int_equal(back.state, LEAVER_IMPORTED);
	store_leaver_clear(&back);
	store_leaver_clear(&l);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.p[0].count, 2);
	rx_refusals_clear(&rs);
	f->school.h.refusals = NULL;
}

/* N refusals from one peer are one registration.refused entry with count N,
 * written when the hour is over (or at shutdown), not before. */
static void test_registration_refusals_audited_in_aggregate(void **state)
{
	struct fx *f = *state;
	struct rx_refusals rs = { 0 };
	Overstap__Registration m;
	char detail[1024], want[64];
	unsigned audits, n = 50;

	f->school.h.refusals = &rs;
	f->school.cfg->max_refused_registrations = 1000;
	audits = fx_audit_total(&f->school);
	s_registration(&m, "999999990", "2025-05-01");
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION,
					       &m.base), "registration not accepted");
	assert_int_equal(fx_audit_total(&f->school), audits);
	/* the hour is not over: nothing written */
	assert_int_equal(rx_refusals_flush(&f->school.h, rs.p[0].since + RX_REFUSAL_WINDOW_MS - 1), 0);
	assert_int_equal(fx_audit_total(&f->school), audits);
	/* it is: one entry with the count, and the window closed */
	assert_int_equal(rx_refusals_flush(&f->school.h, rs.p[0].since + RX_REFUSAL_WINDOW_MS), 0);
	assert_int_equal(fx_audit_total(&f->school), audits + 1);
	assert_int_equal(fx_audits(&f->school, "registration.refused", "", detail, sizeof(detail)), 1);
	snprintf(want, sizeof(want), "\"count\":%u", n);
	assert_non_null(strstr(detail, want));
	assert_null(strstr(detail, "999999990"));
	assert_int_equal(rs.n, 0);
	/* the next refusal opens a new window; shutdown writes it */
	assert_non_null(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base));
	assert_int_equal(rx_refusals_flush(&f->school.h, INT64_MAX), 0);
	assert_int_equal(fx_audits(&f->school, "registration.refused", "", detail, sizeof(detail)), 2);
	assert_non_null(strstr(detail, "\"count\":1,"));
	assert_int_equal(fx_audit_total(&f->school), audits + 2);
	rx_refusals_clear(&rs);
	f->school.h.refusals = NULL;
}

/* Past the threshold a peer's registrations are refused unread for the rest
 * of the hour, its own leavers' too; the next hour they are applied again. */
static void test_registration_threshold(void **state)
{
	struct fx *f = *state;
	struct rx_refusals rs = { 0 };
	Overstap__Registration m, ours;
	struct leaver l, back;

	f->school.h.refusals = &rs;
	f->school.cfg->max_refused_registrations = 3;
	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	s_registration(&m, "999999990", "2025-05-01");
	s_registration(&ours, FX_PGN, "2025-05-01");
	for (int i = 0; i < 3; i++)
		assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION,
					       &m.base), "registration not accepted");
	assert_int_equal(rs.p[0].probing, 1);
	assert_string_equal(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &ours.base),
			    "registration not accepted");
	assert_int_equal(store_leaver_load(f->school.s, l.id, 0, &back), 0);
	assert_string_equal(back.registered_on, "");
	store_leaver_clear(&back);
	assert_int_equal(rs.p[0].count, 4);
	/* the hour is over: audited (probing noted), and the peer is heard again */
	assert_int_equal(rx_refusals_flush(&f->school.h, rs.p[0].since + RX_REFUSAL_WINDOW_MS), 0);
	assert_int_equal(fx_audits(&f->school, "registration.refused", "", NULL, 0), 1);
	assert_null(fx_deliver(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &ours.base));
	assert_int_equal(store_leaver_load(f->school.s, l.id, 0, &back), 0);
	assert_string_equal(back.registered_on, "2025-05-01");
	store_leaver_clear(&back);
	store_leaver_clear(&l);
	rx_refusals_clear(&rs);
	f->school.h.refusals = NULL;
}

/* ---- the store fails under a handler ---- */

/* Queue body at the MBO, break the school's store with sql, apply: the
 * handler must report the failure (the batch is rolled back, nothing acked,
 * the MBO retries), not refuse the message for good. */
static void s_fails(struct fx *f, Overstap__Envelope__BodyCase bc, const ProtobufCMessage *body,
		    const char *sql, const char *undo)
{
	struct fx_wire w = { 0 };
	const char *why;
	int failed = 0;

	fx_send(&f->mbo, &f->school, bc, body, &w);
	fx_sql(&f->school, sql);
	why = fx_rx(&f->school, &w, &failed);
	if (!failed)
		fail_msg("store failure not reported (%s)", why ? why : "applied");
	fx_sql(&f->school, undo);
	/* the retry, with the store working again, is applied */
	assert_null(fx_rx(&f->school, &w, &failed));
	assert_int_equal(failed, 0);
	fx_wire_free(&w);
}

#define BREAK(t) "CREATE TRIGGER broken BEFORE INSERT ON " t " BEGIN SELECT * FROM no_such; END;"
#define UNBREAK "DROP TRIGGER IF EXISTS broken;"

static void test_status_store_failure(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	Overstap__Status m;
	struct leaver l;

	s_handed(f, &l, rec);
	s_status(&m, rec, "enrolled");
	/* writing the event fails */
	s_fails(f, OVERSTAP__ENVELOPE__BODY_STATUS, &m.base, BREAK("events"), UNBREAK);
	assert_int_equal(fx_events(&f->school, rec), 1);
	/* finding the leaver fails: that is no answer about the record */
	s_status(&m, rec, "intake_held");
	s_fails(f, OVERSTAP__ENVELOPE__BODY_STATUS, &m.base,
		"ALTER TABLE leavers RENAME TO leavers_away;",
		"ALTER TABLE leavers_away RENAME TO leavers;");
	assert_int_equal(fx_events(&f->school, rec), 2);
	store_leaver_clear(&l);
}

static void test_outcome_store_failure(void **state)
{
	struct fx *f = *state;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	Overstap__Outcome m;
	Overstap__ConsentAssertion a;
	struct consent k;
	struct leaver l;

	s_handed(f, &l, rec);
	fx_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, FX_MBO, &k);
	s_outcome(&m, &a, rec, &k);
	/* reading our consent fails: not a missing consent */
	s_fails(f, OVERSTAP__ENVELOPE__BODY_OUTCOME, &m.base,
		"ALTER TABLE consents RENAME TO consents_away;",
		"ALTER TABLE consents_away RENAME TO consents;");
	assert_int_equal(fx_events(&f->school, rec), 1);
	assert_int_equal(fx_audits(&f->school, "disclosure.refused", NULL, NULL, 0), 0);
	store_leaver_clear(&l);
}

static void test_registration_store_failure(void **state)
{
	struct fx *f = *state;
	Overstap__Registration m;
	struct leaver l, back;

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	s_registration(&m, FX_PGN, "2025-05-01");
	s_fails(f, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &m.base,
		"ALTER TABLE leavers RENAME TO leavers_away;",
		"ALTER TABLE leavers_away RENAME TO leavers;");
	assert_int_equal(store_leaver_load(f->school.s, l.id, 0, &back), 0);
	assert_string_equal(back.registered_on, "2025-05-01");
	store_leaver_clear(&back);
	store_leaver_clear(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_stored_once, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_status_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_outcome_needs_our_follow_up_consent, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_outcome_consent_of_another_pupil, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_registration, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_registration_refusals_look_the_same, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_registration_refusals_audited_in_aggregate, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_registration_threshold, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_status_store_failure, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_outcome_store_failure, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_registration_store_failure, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
