/* Unit tests for outbox.c: what is queued is a signed envelope from us to the
 * peer that verifies with our public key, carries the body as given and the
 * consent it relies on, and wakes the senders; a store failure returns an
 * error and, once the caller rolls back, leaves no row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rx_fixture.h"

static void test_queue_signed_and_addressed(void **state)
{
	struct fx *f = *state;
	static const char cid[] = "01890a5d-1111-7000-8000-000000000001";
	Overstap__Status st = OVERSTAP__STATUS__INIT, *back;
	struct outbox_msg *pend;
	Overstap__Envelope *e = NULL;
	crypto_sigkey *pub = crypto_sigkey_new_public(f->mbo.keys.sign_public);
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t body[64];
	size_t blen, np;

	st.record_id = "01890a5d-0000-7000-8000-000000000001";
	st.status = "enrolled";
	st.date = "2025-08-20";
	blen = overstap__status__pack(&st, body);
	assert_false(f->mbo.h.outbox_dirty);
	assert_int_equal(outbox_queue(&f->mbo.h, &(struct outbox_item){
		.peer = FX_SCHOOL, .body_case = OVERSTAP__ENVELOPE__BODY_STATUS, .body = body,
		.blen = blen, .consent_id = cid, .until = "2026-12-31" }, mid), 0);
	assert_true(crypto_uuid_valid(mid));
	assert_true(f->mbo.h.outbox_dirty);

	np = fx_pending(&f->mbo, FX_SCHOOL, &pend);
	assert_int_equal(np, 1);
	assert_string_equal(pend[0].message_id, mid);
	assert_string_equal(pend[0].consent_id, cid);
	assert_string_equal(pend[0].consent_until, "2026-12-31");
	assert_int_equal(pend[0].key_id, 0);
	assert_int_equal(envelope_unpack(pend[0].packed, pend[0].len, 1 << 20, &e, NULL), 0);
	assert_int_equal(envelope_verify(e, pub), 0);
	assert_string_equal(e->message_id, mid);
	assert_string_equal(e->sender, FX_MBO);
	assert_string_equal(e->recipient, FX_SCHOOL);
	assert_int_equal(e->body_case, OVERSTAP__ENVELOPE__BODY_STATUS);
	back = overstap__status__unpack(NULL, e->status.len, e->status.data);
	assert_non_null(back);
	assert_string_equal(back->status, "enrolled");
	overstap__status__free_unpacked(back, NULL);
	overstap__envelope__free_unpacked(e, NULL);
	fx_pending_free(pend, np);
	crypto_sigkey_free(&pub);
	/* the school's key does not verify it */
	pub = crypto_sigkey_new_public(f->school.keys.sign_public);
	np = fx_pending(&f->mbo, FX_SCHOOL, &pend);
	assert_int_equal(envelope_unpack(pend[0].packed, pend[0].len, 1 << 20, &e, NULL), 0);
	assert_int_equal(envelope_verify(e, pub), -EBADMSG);
	overstap__envelope__free_unpacked(e, NULL);
	fx_pending_free(pend, np);
	crypto_sigkey_free(&pub);
}

/* outbox_queue_msg: no consent, open-ended; sealed under a pupil key when
 * outbox_queue is given one (a handover), readable only while it lives. */
static void test_queue_msg_and_pupil_key(void **state)
{
	struct fx *f = *state;
	Overstap__Registration g = OVERSTAP__REGISTRATION__INIT;
	char rec[CRYPTO_UUID_STR_LEN + 1];
	struct outbox_msg *pend;
	struct fx_wire w = { 0 };
	struct leaver l;
	struct fx_wire rw = { 0 };
	uint8_t *packed = NULL;
	size_t np, len;

	g.pgn = FX_PGN;
	g.registered_on = "2025-05-01";
	fx_send(&f->mbo, &f->school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, &g.base, &rw);
	np = fx_pending(&f->mbo, FX_SCHOOL, &pend);
	assert_int_equal(np, 1);
	assert_string_equal(pend[0].consent_id, "");
	fx_pending_free(pend, np);
	fx_wire_free(&rw);

	fx_import(f, "P1", FX_PGN, FX_MBO, &l);
	fx_handover(f, &l, "statute", 0, NULL, 0, rec, &w);
	np = fx_pending(&f->school, FX_MBO, &pend);
	assert_int_equal(np, 1);
	assert_int_equal(pend[0].key_id, l.key_id);
	fx_pending_free(pend, np);
	/* shred the pupil: the queued dossier goes with the key */
	assert_int_equal(store_leaver_shred(f->school.s, &l, time_now_ms()), 0);
	assert_int_equal(store_outbox_get(f->school.s, w.mid, &packed, &len), -ENOKEY);
	assert_int_equal(fx_pending(&f->school, FX_MBO, &pend), 0);
	fx_pending_free(pend, 0);
	store_leaver_clear(&l);
	fx_wire_free(&w);
}

static void test_queue_store_failure(void **state)
{
	struct fx *f = *state;
	static const uint8_t body[] = { 0x0a, 0x01, 'x' };
	struct outbox_item it = { .peer = FX_SCHOOL, .body_case = OVERSTAP__ENVELOPE__BODY_HELLO,
				  .body = body, .blen = sizeof(body) };
	char mid[CRYPTO_UUID_STR_LEN + 1];
	struct outbox_msg *pend;
	uint64_t depth = 99;

	/* the insert fails */
	fx_sql(&f->mbo, "CREATE TRIGGER broken BEFORE INSERT ON outbox BEGIN SELECT * FROM no_such; END;");
	assert_int_equal(store_begin(f->mbo.s), 0);
	assert_true(outbox_queue(&f->mbo.h, &it, mid) < 0);
	store_rollback(f->mbo.s);
	assert_false(f->mbo.h.outbox_dirty);
	fx_sql(&f->mbo, "DROP TRIGGER broken;");
	assert_int_equal(store_outbox_depth(f->mbo.s, FX_SCHOOL, &depth), 0);
	assert_int_equal(depth, 0);

	/* the insert works, recording the consent fails: the caller's rollback
	 * leaves nothing behind */
	fx_sql(&f->mbo, "CREATE TRIGGER broken BEFORE UPDATE ON outbox BEGIN SELECT * FROM no_such; END;");
	it.consent_id = "01890a5d-1111-7000-8000-000000000001";
	assert_int_equal(store_begin(f->mbo.s), 0);
	assert_true(outbox_queue(&f->mbo.h, &it, mid) < 0);
	assert_false(f->mbo.h.outbox_dirty);
	store_rollback(f->mbo.s);
	fx_sql(&f->mbo, "DROP TRIGGER broken;");
	assert_int_equal(store_outbox_depth(f->mbo.s, FX_SCHOOL, &depth), 0);
	assert_int_equal(depth, 0);
	assert_int_equal(fx_pending(&f->mbo, FX_SCHOOL, &pend), 0);
	fx_pending_free(pend, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue_signed_and_addressed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_msg_and_pupil_key, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_store_failure, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
