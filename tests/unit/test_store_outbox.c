/* Unit tests for store_outbox.c: the outbox life cycle, acks, cancelling. */
#include "store_fixture.h"

static void test_outbox_life_cycle(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { fx_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	char ids[3][CRYPTO_UUID_STR_LEN + 1];
	struct outbox_msg *m = NULL;
	struct leaver l;
	uint64_t depth = 0;
	int64_t oldest = 0;
	size_t n = 0;

	assert_int_equal(store_leavers_import(f->s, "a.csv", rows, 1, "u", &errors), 0);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	assert_int_equal(store_begin(f->s), 0);
	for (int i = 0; i < 3; i++) {
		char payload[32];

		assert_int_equal(crypto_uuidv7(ids[i]), 0);
		usleep(2000);	/* distinct milliseconds: ids in order */
		snprintf(payload, sizeof(payload), "envelope %d", i);
		assert_int_equal(store_outbox_add(f->s, ids[i], "25LZ00", 2, (uint8_t *)payload,
						  strlen(payload) + 1, i == 0 ? l.key_id : 0, 1000 + i), 0);
	}
	assert_int_equal(store_leaver_set_queued(f->s, l.id, "rec", ids[0], 1000), 0);
	assert_int_equal(store_leaver_set_queued(f->s, l.id, "rec", ids[0], 1000), -EALREADY);
	assert_int_equal(store_commit(f->s), 0);

	assert_int_equal(store_outbox_pending(f->s, "25LZ00", "", 10, &m, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(m[0].message_id, ids[0]);
	assert_string_equal((char *)m[2].packed, "envelope 2");
	for (size_t i = 0; i < n; i++)
		free(m[i].packed);
	free(m);
	/* After the cursor: only the later ones; another peer: none. */
	assert_int_equal(store_outbox_pending(f->s, "25LZ00", ids[0], 10, &m, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		free(m[i].packed);
	free(m);
	assert_int_equal(store_outbox_pending(f->s, "99XX00", "", 10, &m, &n), 0);
	assert_int_equal(n, 0);
	free(m);

	assert_int_equal(store_outbox_ack(f->s, "25LZ00", ids[0], 0, NULL, 1001, 1, 1002), 0);
	assert_int_equal(store_outbox_ack(f->s, "25LZ00", ids[0], 0, NULL, 1001, 1, 1003), 1);
	/* An ack from the wrong peer changes nothing. */
	assert_int_equal(store_outbox_ack(f->s, "99XX00", ids[1], 0, NULL, 1001, 1, 1003), 1);
	assert_int_equal(store_outbox_depth(f->s, "25LZ00", &depth), 0);
	assert_int_equal(store_outbox_oldest(f->s, "25LZ00", &oldest), 0);
	assert_int_equal(depth, 2);
	assert_int_equal(oldest, 1001);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	assert_int_equal(l.state, LEAVER_DELIVERED);
	assert_int_equal(l.delivered_at, 1002);
	store_leaver_clear(&l);
	free(rows[0]);
}

static void test_outbox_cancel_consent(void **state)
{
	struct fx *f = *state;
	static const char c1[] = "01890a5d-1111-7000-8000-000000000001",
			  c2[] = "01890a5d-1111-7000-8000-000000000002";
	char m[4][CRYPTO_UUID_STR_LEN + 1];
	struct outbox_msg *pend = NULL;
	unsigned n = 99;
	size_t cnt = 0;

	for (int i = 0; i < 4; i++)
		fx_queue(f, 0, m[i]);
	assert_int_equal(store_outbox_set_consent(f->s, m[0], c1, ""), 0);
	assert_int_equal(store_outbox_set_consent(f->s, m[1], c2, "2026-01-01"), 0);
	assert_int_equal(store_outbox_set_consent(f->s, m[2], c1, ""), 0);
	assert_int_equal(store_outbox_set_consent(f->s, m[3], c1, ""), 0);
	assert_int_equal(store_outbox_ack(f->s, PEER, m[3], 0, NULL, 1, 1, 2), 0);

	assert_int_equal(store_outbox_cancel_consent(f->s, c1, "consent withdrawn", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_outbox_pending(f->s, PEER, "", 10, &pend, &cnt), 0);
	assert_int_equal(cnt, 1);
	assert_string_equal(pend[0].message_id, m[1]);
	assert_string_equal(pend[0].consent_id, c2);
	free(pend[0].packed);
	free(pend);
	/* a cancelled message is not cancelled twice, nor can it be acked */
	assert_int_equal(store_outbox_cancel_consent(f->s, c1, "again", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_ack(f->s, PEER, m[0], 0, NULL, 1, 1, 2), 1);
	assert_int_equal(store_outbox_cancel_consent(f->s, "01890a5d-1111-7000-8000-00000000000f",
						     "none", &n), 0);
	assert_int_equal(n, 0);
}

/* Cancelling a queued handover cancels its leaver; a rejected ack does too;
 * a message can be re-sealed while queued; one message id is one entry. */
static void test_outbox_cancel_reject_replace(void **state)
{
	struct fx *f = *state;
	static const uint8_t resigned[] = "re-signed envelope";
	char m[3][CRYPTO_UUID_STR_LEN + 1];
	struct outbox_msg msg = { 0 };
	struct leaver a, b;
	uint8_t *packed = NULL;
	size_t len = 0;

	fx_import(f, "R1", "123456782", &a);
	fx_import(f, "R2", "111222333", &b);
	fx_queue(f, a.key_id, m[0]);
	fx_queue(f, b.key_id, m[1]);
	fx_queue(f, 0, m[2]);
	assert_int_equal(store_outbox_add(f->s, m[2], PEER, 2, resigned, sizeof(resigned), 0, 1), -EEXIST);
	assert_int_equal(store_leaver_set_queued(f->s, a.id, REC_A, m[0], 900), 0);
	assert_int_equal(store_leaver_set_queued(f->s, b.id, REC_B, m[1], 900), 0);

	assert_int_equal(store_outbox_cancel(f->s, m[0], "consent ended"), 0);
	assert_int_equal(store_outbox_cancel(f->s, m[0], "again"), 1);
	store_leaver_clear(&a);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &a), 0);
	assert_int_equal(a.state, LEAVER_CANCELLED);
	assert_int_equal(store_outbox_ack(f->s, PEER, m[1], 1, "unknown pupil", 950, 2, 1000), 0);
	store_leaver_clear(&b);
	assert_int_equal(store_leaver_find(f->s, "R2", 0, &b), 0);
	assert_int_equal(b.state, LEAVER_CANCELLED);
	assert_int_equal(b.delivered_at, 0);
	assert_int_equal(fx_depth(f), 1);

	str_copy(msg.message_id, sizeof(msg.message_id), m[2]);
	msg.packed = (uint8_t *)resigned;
	msg.len = sizeof(resigned);
	assert_int_equal(store_outbox_replace(f->s, &msg), 0);
	assert_int_equal(store_outbox_get(f->s, m[2], &packed, &len), 0);
	assert_int_equal(len, sizeof(resigned));
	assert_memory_equal(packed, resigned, len);
	free(packed);
	assert_int_equal(store_outbox_get(f->s, "01890a5d-6666-7000-8000-000000000000", &packed, &len),
			 -ENOENT);
	store_leaver_clear(&a);
	store_leaver_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_outbox_life_cycle),
		FX_TEST(test_outbox_cancel_consent),
		FX_TEST(test_outbox_cancel_reject_replace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
