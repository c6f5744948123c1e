/* Unit tests for store_outbox.c: the outbox life cycle, acks, cancelling. */
#include "store_fixture.h"

#include <sqlite3.h>

/* The queued and parked counts the store keeps per peer (store_ocount.c)
 * agree with count(*) over what the file holds, for every peer with rows
 * and for one without: every test here ends with this, so each way a row is
 * added, moved or removed is checked. Outside a transaction only (the file
 * holds what was committed). */
static void s_counts_agree(struct fx *f)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int peers = 0;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT peer, sum(state = 0), sum(state = 4) FROM outbox GROUP BY peer"
		" UNION ALL SELECT '98YY00', 0, 0", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *peer = (const char *)sqlite3_column_text(st, 0);
		uint64_t depth = 99, parked = 99;

		assert_int_equal(store_outbox_depth(f->s, peer, &depth), 0);
		assert_int_equal(store_outbox_parked_count(f->s, peer, &parked), 0);
		if (depth != (uint64_t)sqlite3_column_int64(st, 1) ||
		    parked != (uint64_t)sqlite3_column_int64(st, 2))
			fail_msg("%s: depth %llu parked %llu, the file holds %lld and %lld", peer,
				 (unsigned long long)depth, (unsigned long long)parked,
				 (long long)sqlite3_column_int64(st, 1),
				 (long long)sqlite3_column_int64(st, 2));
		peers++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(peers >= 1);
}

static uint64_t s_depth(struct fx *f)
{
	uint64_t depth = 99;

	assert_int_equal(store_outbox_depth(f->s, PEER, &depth), 0);
	return depth;
}

/* The counts follow the transaction they were moved in: its own reads see
 * them, a rollback takes them back, a commit keeps them; a statement that
 * cancels in bulk (a withdrawn consent, an erasure) is counted again from
 * the file; without a transaction a move counts at once. */
static void test_outbox_counts_follow_transactions(void **state)
{
	struct fx *f = *state;
	static const char c1[] = "01890a5d-1111-7000-8000-000000000001";
	char m[6][CRYPTO_UUID_STR_LEN + 1];
	struct leaver l;
	unsigned n = 0, events = 0, cancelled = 0;

	fx_queue(f, 0, m[0]);				/* no transaction: at once */
	fx_queue(f, 0, m[1]);
	assert_int_equal(s_depth(f), 2);

	assert_int_equal(store_begin(f->s), 0);
	fx_queue(f, 0, m[2]);
	assert_int_equal(s_depth(f), 3);		/* the transaction's own view */
	assert_int_equal(store_outbox_ack(f->s, PEER, m[0], 0, NULL, 1, 1, 2), 0);
	assert_int_equal(store_outbox_park(f->s, PEER, m[1], "too large", 0, 0), 0);
	assert_int_equal(s_depth(f), 1);
	store_rollback(f->s);
	assert_int_equal(s_depth(f), 2);
	s_counts_agree(f);

	assert_int_equal(store_begin(f->s), 0);
	fx_queue(f, 0, m[2]);
	assert_int_equal(store_outbox_set_consent(f->s, m[2], c1, ""), 0);
	assert_int_equal(store_outbox_set_consent(f->s, m[0], c1, ""), 0);
	assert_int_equal(store_outbox_cancel_consent(f->s, c1, "consent withdrawn", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s_depth(f), 1);		/* counted from the file, in the transaction */
	store_rollback(f->s);
	assert_int_equal(s_depth(f), 2);
	s_counts_agree(f);

	assert_int_equal(store_begin(f->s), 0);
	fx_queue(f, 0, m[3]);
	assert_int_equal(store_outbox_cancel(f->s, m[0], "test"), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(s_depth(f), 2);
	s_counts_agree(f);

	/* an erasure cancels what waits under the pupil's key */
	fx_import(f, "R1", "123456782", &l);
	fx_queue(f, l.key_id, m[4]);
	fx_queue(f, l.key_id, m[5]);
	assert_int_equal(store_outbox_park(f->s, PEER, m[5], "too large", 0, 0), 0);
	assert_int_equal(s_depth(f), 3);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_leaver_erase(f->s, &l, 5, &events, &cancelled), 0);
	assert_int_equal(cancelled, 2);
	assert_int_equal(store_commit(f->s), 0);
	store_leaver_clear(&l);
	assert_int_equal(s_depth(f), 2);
	s_counts_agree(f);

	/* and what the file holds is what a reopened store counts */
	store_close(&f->s);
	{
		char err[256] = "";

		assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	}
	assert_int_equal(s_depth(f), 2);
	s_counts_agree(f);
}

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

	(void)store_outbox_shredded(f->s);
	assert_int_equal(store_outbox_ack(f->s, "25LZ00", ids[0], 0, NULL, 1001, 1, 1002), 0);
	/* a dossier settled: under its pupil's key, nothing for the WAL to shed */
	assert_int_equal(store_outbox_shredded(f->s), 0);
	assert_int_equal(store_outbox_ack(f->s, "25LZ00", ids[0], 0, NULL, 1001, 1, 1003), 1);
	/* An ack from the wrong peer changes nothing. */
	assert_int_equal(store_outbox_ack(f->s, "99XX00", ids[1], 0, NULL, 1001, 1, 1003), 1);
	assert_int_equal(store_outbox_shredded(f->s), 0);
	assert_int_equal(store_outbox_depth(f->s, "25LZ00", &depth), 0);
	assert_int_equal(store_outbox_oldest(f->s, "25LZ00", &oldest), 0);
	assert_int_equal(depth, 2);
	assert_int_equal(oldest, 1001);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	assert_int_equal(l.state, LEAVER_DELIVERED);
	assert_int_equal(l.delivered_at, 1002);
	store_leaver_clear(&l);
	/* Issue 16 item 3: a message under the outbox key (a Registration,
	 * say) emptied when it settles, and said once, so the daemon truncates
	 * the WAL that still holds its old page. */
	assert_int_equal(store_outbox_ack(f->s, "25LZ00", ids[1], 0, NULL, 1001, 1, 1004), 0);
	assert_int_equal(store_outbox_shredded(f->s), 1);
	assert_int_equal(store_outbox_shredded(f->s), 0);
	assert_int_equal(store_outbox_cancel(f->s, ids[2], "test"), 0);
	assert_int_equal(store_outbox_shredded(f->s), 1);
	free(rows[0]);
	s_counts_agree(f);
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
	s_counts_agree(f);
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
	s_counts_agree(f);
}

static int s_parked_cb(const struct outbox_parked *m, void *arg)
{
	struct outbox_parked *out = arg;

	assert_string_equal(out->message_id, "");	/* one parked message here */
	*out = *m;
	return 0;
}

/* Parking (design.md §4): a parked message is not pending, not in the depth,
 * counted and listed with its reason and the dossier's record id; its leaver
 * stays queued (shown as parked); unpark queues it again from attempt 0;
 * cancel_parked cancels only parked ones and cancels the leaver; both answer
 * 1 for a message that is not parked. */
static void test_outbox_park_retry_cancel(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[2] = { fx_leaver("R1", "123456782", "A", "B"),
					 fx_leaver("R2", "111222333", "C", "D") };
	struct strlist errors = { 0 };
	char ids[2][CRYPTO_UUID_STR_LEN + 1];
	struct outbox_parked got;
	struct outbox_msg *m = NULL;
	struct leaver l[2];
	uint64_t depth = 9, parked = 9;
	size_t n = 0;

	assert_int_equal(store_leavers_import(f->s, "a.csv", rows, 2, "u", &errors), 0);
	free(rows[0]);
	free(rows[1]);
	assert_int_equal(store_begin(f->s), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_leaver_find(f->s, i ? "R2" : "R1", 0, &l[i]), 0);
		assert_int_equal(crypto_uuidv7(ids[i]), 0);
		usleep(2000);
		assert_int_equal(store_outbox_add(f->s, ids[i], "25LZ00", 11, (uint8_t *)"env", 4,
						  l[i].key_id, 1000 + i), 0);
		assert_int_equal(store_leaver_set_queued(f->s, l[i].id, i ? "rec-2" : "rec-1", ids[i],
							 1000), 0);
		store_leaver_clear(&l[i]);
	}
	assert_int_equal(store_outbox_park(f->s, "25LZ00", ids[0], "too large", 1500, 3), 0);
	assert_int_equal(store_outbox_park(f->s, "25LZ00", ids[0], "again", 1500, 3), 1);
	assert_int_equal(store_outbox_park(f->s, "99XX00", ids[1], "wrong peer", 1500, 3), 1);
	assert_int_equal(store_commit(f->s), 0);

	assert_int_equal(store_outbox_pending(f->s, "25LZ00", "", 10, &m, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].message_id, ids[1]);
	free(m[0].packed);
	free(m);
	/* the re-signing after a key change walks parked ones too */
	assert_int_equal(store_outbox_unsent(f->s, "25LZ00", "", 10, &m, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].message_id, ids[0]);
	for (size_t i = 0; i < n; i++)
		free(m[i].packed);
	free(m);
	assert_int_equal(store_outbox_depth(f->s, "25LZ00", &depth), 0);
	assert_int_equal(store_outbox_parked_count(f->s, "25LZ00", &parked), 0);
	assert_int_equal(depth, 1);
	assert_int_equal(parked, 1);
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_outbox_parked_each(f->s, NULL, s_parked_cb, &got), 0);
	assert_string_equal(got.message_id, ids[0]);
	assert_string_equal(got.peer, "25LZ00");
	assert_string_equal(got.reason, "too large");
	assert_string_equal(got.record_id, "rec-1");
	assert_int_equal(got.attempts, 3);
	assert_int_equal(got.body_case, 11);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l[0]), 0);
	assert_int_equal(l[0].state, LEAVER_QUEUED);
	assert_string_equal(l[0].parked, "too large");
	store_leaver_clear(&l[0]);

	/* retry: queued again, attempts from 0; not parked any more */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_outbox_unpark(f->s, ids[0]), 0);
	assert_int_equal(store_outbox_unpark(f->s, ids[0]), 1);
	assert_int_equal(store_outbox_cancel_parked(f->s, ids[1], "x"), 1);	/* queued, not parked */
	/* park it again and cancel: the leaver is cancelled */
	assert_int_equal(store_outbox_park(f->s, "25LZ00", ids[0], "too large", 0, 0), 0);
	assert_int_equal(store_outbox_cancel_parked(f->s, ids[0], "cancelled by staff"), 0);
	assert_int_equal(store_outbox_cancel_parked(f->s, ids[0], "again"), 1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_outbox_parked_count(f->s, "25LZ00", &parked), 0);
	assert_int_equal(parked, 0);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l[0]), 0);
	assert_int_equal(l[0].state, LEAVER_CANCELLED);
	assert_string_equal(l[0].parked, "");
	store_leaver_clear(&l[0]);
	assert_int_equal(store_leaver_find(f->s, "R2", 0, &l[1]), 0);
	assert_int_equal(l[1].state, LEAVER_QUEUED);
	store_leaver_clear(&l[1]);
	s_counts_agree(f);
}

/* Refused for good (design.md §4.6): a status the receiver refused is listed
 * with its reason, record id, event and date, and counted; a parked or an
 * acknowledged one is not. */
static void test_outbox_refused(void **state)
{
	struct fx *f = *state;
	char m[3][CRYPTO_UUID_STR_LEN + 1];
	struct outbox_parked got;
	struct event_rec e;
	uint64_t n = 9;

	for (int i = 0; i < 3; i++)
		fx_queue(f, 0, m[i]);
	fx_event_rec(&e, REC_A, OUTCOME_EV_ENROLLED, "2025-08-25");
	str_copy(e.message_id, sizeof(e.message_id), m[0]);
	e.inbound = 0;
	assert_int_equal(store_event_add(f->s, &e), 0);
	assert_int_equal(store_outbox_refused_count(f->s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_ack(f->s, PEER, m[0], 1, "no handover with this record id",
					  950, 1, 1000), 0);
	assert_int_equal(store_outbox_ack(f->s, PEER, m[1], 0, NULL, 950, 1, 1000), 0);
	assert_int_equal(store_outbox_park(f->s, PEER, m[2], "too large", 950, 1), 0);
	assert_int_equal(store_outbox_refused_count(f->s, &n), 0);
	assert_int_equal(n, 1);
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_outbox_refused_each(f->s, NULL, s_parked_cb, &got), 0);
	assert_string_equal(got.message_id, m[0]);
	assert_string_equal(got.reason, "no handover with this record id");
	assert_string_equal(got.record_id, REC_A);
	assert_int_equal(got.event, OUTCOME_EV_ENROLLED);
	assert_string_equal(got.date, "2025-08-25");
	assert_int_equal(got.settled_at, 1000);
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_outbox_refused_each(f->s, "99XX00", s_parked_cb, &got), 0);
	assert_string_equal(got.message_id, "");
	s_counts_agree(f);
}

/* What a peer said in its Hello is kept, replaced by what it says next. */
static void test_peer_info(void **state)
{
	struct fx *f = *state;
	struct peer_info pi = { .software = "overstapd 1", .max_protocol = 1,
				.max_message_size = 4096, .max_messages_per_hour = 10,
				.max_stored_bytes = 1 << 20, .at = 5 }, got;
	int64_t bytes = -1;

	assert_int_equal(store_peer_info_get(f->s, "25LZ00", &got), -ENOENT);
	assert_int_equal(store_peer_info_put(f->s, "25LZ00", &pi), 0);
	pi.max_message_size = 8192;
	assert_int_equal(store_peer_info_put(f->s, "25LZ00", &pi), 0);
	assert_int_equal(store_peer_info_get(f->s, "25LZ00", &got), 0);
	assert_string_equal(got.software, "overstapd 1");
	assert_int_equal(got.max_message_size, 8192);
	assert_int_equal(got.max_messages_per_hour, 10);
	assert_int_equal(got.max_stored_bytes, 1 << 20);
	assert_int_equal(store_inbox_bytes(f->s, "25LZ00", &bytes), 0);
	assert_int_equal(bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_outbox_life_cycle),
		FX_TEST(test_outbox_counts_follow_transactions),
		FX_TEST(test_outbox_cancel_consent),
		FX_TEST(test_outbox_cancel_reject_replace),
		FX_TEST(test_outbox_park_retry_cancel),
		FX_TEST(test_outbox_refused),
		FX_TEST(test_peer_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
