/* Unit tests for store_report.c: the facts the reports are made of, one per
 * leaver or received dossier, with the first date of each event. */
#include "store_fixture.h"
#include "outcomes.h"

struct facts {
	struct send_fact send[4];
	struct recv_fact recv[4];
	size_t n;
};

static int s_send(const struct send_fact *fact, void *arg)
{
	struct facts *seen = arg;

	assert_true(seen->n < ARRAY_SIZE(seen->send));
	seen->send[seen->n++] = *fact;
	return 0;
}

static int s_recv(const struct recv_fact *fact, void *arg)
{
	struct facts *seen = arg;

	assert_true(seen->n < ARRAY_SIZE(seen->recv));
	seen->recv[seen->n++] = *fact;
	return 0;
}

static void s_received(struct fx *f, const char *record_id, int event, const char *date, int inbound)
{
	struct event_rec e;

	fx_event_rec(&e, record_id, event, date);
	e.inbound = inbound;
	assert_int_equal(store_event_add(f->s, &e), 0);
}

static void test_report_sending(void **state)
{
	struct fx *f = *state;
	struct leaver a, b, c;
	struct consent k = { 0 };
	struct facts seen = { 0 };
	unsigned events, cancelled;

	fx_import(f, "R1", "123456782", &a);
	fx_import(f, "R2", "111222333", &b);		/* never sent */
	fx_import(f, "R3", "100000009", &c);		/* erased: not counted */
	fx_deliver(f, &a, REC_A, 2000);
	fx_deliver(f, &c, REC_C, 2000);
	s_received(f, REC_A, OUTCOME_EV_ENROLLED, "2025-08-20", 1);
	s_received(f, REC_A, OUTCOME_EV_STILL_ENROLLED, "2026-01-10", 1);
	s_received(f, REC_A, OUTCOME_EV_STILL_ENROLLED, "2026-03-01", 1);
	s_received(f, REC_A, OUTCOME_EV_SWITCHED, "2026-02-01", 1);
	s_received(f, REC_A, OUTCOME_EV_DIPLOMA, "2027-07-01", 1);
	s_received(f, REC_A, OUTCOME_EV_DIPLOMA, "2025-07-01", 0);	/* sent, not received */
	k.purpose = CONSENT_PURPOSE_FOLLOW_UP;
	str_copy(k.counterpart, sizeof(k.counterpart), PEER);
	str_copy(k.granted_at, sizeof(k.granted_at), "2025-06-01");
	assert_int_equal(store_consent_add(f->s, a.id, a.key_id, &k), 0);
	assert_int_equal(store_leaver_erase(f->s, &c, 3000, &events, &cancelled), 0);

	assert_int_equal(store_report_sending(f->s, s_send, &seen), 0);
	assert_int_equal(seen.n, 2);
	/* never sent first (no record id), then by record id */
	assert_int_equal(seen.send[0].leaver_id, b.id);
	assert_string_equal(seen.send[0].record_id, "");
	assert_int_equal(seen.send[0].state, LEAVER_IMPORTED);
	assert_int_equal(seen.send[0].consent, 0);
	assert_int_equal(seen.send[0].enrolled, 0);
	assert_int_equal(seen.send[1].leaver_id, a.id);
	assert_string_equal(seen.send[1].record_id, REC_A);
	assert_string_equal(seen.send[1].cohort, "2024-2025");
	assert_string_equal(seen.send[1].institution, PEER);
	assert_int_equal(seen.send[1].state, LEAVER_DELIVERED);
	assert_int_equal(seen.send[1].consent, 1);
	assert_int_equal(seen.send[1].enrolled, 20250820);
	assert_int_equal(seen.send[1].diploma, 20270701);
	assert_int_equal(seen.send[1].stop, 20260201);
	assert_int_equal(seen.send[1].still, 20260301);
	assert_int_equal(seen.send[1].progressed, 0);
	assert_int_equal(seen.send[1].outcomes, 4);

	/* a withdrawn consent no longer counts */
	assert_int_equal(store_consent_withdraw(f->s, k.id, "2026-01-01", "mentor1"), 0);
	seen.n = 0;
	assert_int_equal(store_report_sending(f->s, s_send, &seen), 0);
	assert_int_equal(seen.send[1].consent, 0);
	store_leaver_clear(&a);
	store_leaver_clear(&b);
	store_leaver_clear(&c);
}

static void test_report_receiving(void **state)
{
	struct fx *f = *state;
	static const uint8_t bytes[] = "dossier";
	struct facts seen = { 0 };

	fx_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_A, "123456782", bytes, sizeof(bytes), 5);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000002", REC_B, "111222333", bytes, sizeof(bytes), 6);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000003", REC_C, "100000009", bytes, sizeof(bytes), 7);
	s_received(f, REC_A, OUTCOME_EV_ENROLLED, "2025-09-01", 0);
	s_received(f, REC_A, OUTCOME_EV_INTAKE_HELD, "2025-08-15", 0);
	s_received(f, REC_A, OUTCOME_EV_ENROLLED, "2025-08-01", 1);	/* received: not ours */
	assert_int_equal(store_inbox_erase(f->s, REC_B, "withdrawal", 100), 0);	/* still counted */
	assert_int_equal(store_inbox_erase(f->s, REC_C, "erase", 100), 0);		/* not */

	assert_int_equal(store_report_receiving(f->s, s_recv, &seen), 0);
	assert_int_equal(seen.n, 2);
	for (size_t i = 0; i < seen.n; i++) {
		const struct recv_fact *r = &seen.recv[i];

		assert_string_equal(r->sender, "12AB00");
		assert_string_equal(r->cohort, "2024-2025");
		if (r->received_at == 5) {
			assert_string_equal(r->enrolled, "2025-09-01");
			assert_string_equal(r->held, "2025-08-15");
			assert_string_equal(r->diploma, "");
		} else {
			assert_int_equal(r->received_at, 6);
			assert_string_equal(r->enrolled, "");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_report_sending),
		FX_TEST(test_report_receiving),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
