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

static uint64_t s_depth(struct fx *f)
{
	uint64_t d = 99;

	assert_int_equal(store_outbox_depth(f->mbo.s, FX_SCHOOL, &d), 0);
	return d;
}

/* A group (issue 14): each message has its id at once, none is stored
 * before the group is full (OUTBOX_GROUP_MAX, then signed and stored at
 * once) or ends; every one verifies on its own, with its own id and body. */
static void test_group_signed_together(void **state)
{
	struct fx *f = *state;
	enum { N = OUTBOX_GROUP_MAX + 3 };
	char (*mid)[CRYPTO_UUID_STR_LEN + 1] = calloc(N, CRYPTO_UUID_STR_LEN + 1);
	crypto_sigkey *pub = crypto_sigkey_new_public(f->mbo.keys.sign_public);
	struct outbox_msg *m = NULL;
	size_t n = 0;

	assert_non_null(mid);
	assert_int_equal(store_begin(f->mbo.s), 0);
	assert_int_equal(outbox_group_begin(&f->mbo.h), 0);
	assert_int_equal(outbox_group_begin(&f->mbo.h), -EBUSY);
	for (unsigned i = 0; i < N; i++) {
		uint8_t body[4] = { 0x0a, 0x02, (uint8_t)('a' + i % 26), (uint8_t)('a' + i / 26 % 26) };

		assert_int_equal(outbox_queue(&f->mbo.h, &(struct outbox_item){
			.peer = FX_SCHOOL, .body_case = OVERSTAP__ENVELOPE__BODY_HELLO, .body = body,
			.blen = sizeof(body) }, mid[i]), 0);
		assert_true(crypto_uuid_valid(mid[i]));
		/* stored only once the group is full */
		assert_int_equal(s_depth(f), i + 1 < OUTBOX_GROUP_MAX ? 0 : OUTBOX_GROUP_MAX);
	}
	assert_true(f->mbo.h.outbox_dirty);	/* the full group was stored */
	assert_int_equal(outbox_group_end(&f->mbo.h), 0);
	assert_null(f->mbo.h.outbox_group);
	assert_int_equal(s_depth(f), N);
	assert_int_equal(store_commit(f->mbo.s), 0);

	assert_int_equal(store_outbox_pending(f->mbo.s, FX_SCHOOL, "", N + 10, &m, &n), 0);
	assert_int_equal(n, N);
	for (size_t i = 0; i < n; i++) {
		Overstap__Envelope *e = NULL;

		assert_string_equal(m[i].message_id, mid[i]);	/* ids are monotonic */
		assert_int_equal(envelope_unpack(m[i].packed, m[i].len, 1 << 20, &e, NULL), 0);
		assert_int_equal(envelope_verify(e, pub), 0);
		assert_string_equal(e->message_id, mid[i]);
		assert_string_equal(e->sender, FX_MBO);
		assert_string_equal(e->recipient, FX_SCHOOL);
		assert_int_equal(e->hello.len, 4);
		assert_int_equal(e->hello.data[2], 'a' + i % 26);
		assert_int_equal(e->hello.data[3], 'a' + i / 26 % 26);
		overstap__envelope__free_unpacked(e, NULL);
	}
	fx_pending_free(m, n);
	crypto_sigkey_free(&pub);
	free(mid);
}

/* A group dropped (the caller rolls back) stores nothing more; what a full
 * group stored goes with the rollback. */
static void test_group_dropped(void **state)
{
	struct fx *f = *state;
	static const uint8_t body[] = { 0x0a, 0x01, 'x' };
	char mid[CRYPTO_UUID_STR_LEN + 1];

	assert_int_equal(store_begin(f->mbo.s), 0);
	assert_int_equal(outbox_group_begin(&f->mbo.h), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(outbox_queue(&f->mbo.h, &(struct outbox_item){
			.peer = FX_SCHOOL, .body_case = OVERSTAP__ENVELOPE__BODY_HELLO, .body = body,
			.blen = sizeof(body) }, mid), 0);
	outbox_group_drop(&f->mbo.h);
	assert_null(f->mbo.h.outbox_group);
	assert_int_equal(s_depth(f), 0);
	store_rollback(f->mbo.s);
	assert_int_equal(outbox_group_end(&f->mbo.h), 0);	/* none open: nothing to do */
	assert_false(f->mbo.h.outbox_dirty);
}

/* The peer's size limit (design.md §4.5) is checked when the signed size
 * is known: in a group, at its end; parked says why only then. */
static void test_group_parks_by_final_size(void **state)
{
	struct fx *f = *state;
	struct peer_info pi = { .max_message_size = 300, .at = 1 };
	uint8_t small[16] = { 0 }, big[400] = { 0 };
	char mid[2][CRYPTO_UUID_STR_LEN + 1], why[2][OUTBOX_PARKED_LEN];
	uint64_t parked = 0;

	assert_int_equal(store_peer_info_put(f->mbo.s, FX_SCHOOL, &pi), 0);
	assert_int_equal(store_begin(f->mbo.s), 0);
	assert_int_equal(outbox_group_begin(&f->mbo.h), 0);
	assert_int_equal(outbox_queue(&f->mbo.h, &(struct outbox_item){
		.peer = FX_SCHOOL, .body_case = OVERSTAP__ENVELOPE__BODY_HELLO, .body = small,
		.blen = sizeof(small), .parked = why[0] }, mid[0]), 0);
	assert_int_equal(outbox_queue(&f->mbo.h, &(struct outbox_item){
		.peer = FX_SCHOOL, .body_case = OVERSTAP__ENVELOPE__BODY_HELLO, .body = big,
		.blen = sizeof(big), .parked = why[1] }, mid[1]), 0);
	assert_string_equal(why[1], "");	/* not known yet */
	assert_int_equal(outbox_group_end(&f->mbo.h), 0);
	assert_int_equal(store_commit(f->mbo.s), 0);
	assert_string_equal(why[0], "");
	assert_non_null(strstr(why[1], "is larger than " FX_SCHOOL "'s limit of 300 bytes"));
	assert_int_equal(store_outbox_parked_count(f->mbo.s, FX_SCHOOL, &parked), 0);
	assert_int_equal(parked, 1);
	assert_int_equal(s_depth(f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue_signed_and_addressed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_msg_and_pupil_key, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_store_failure, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_group_signed_together, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_group_dropped, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_group_parks_by_final_size, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
