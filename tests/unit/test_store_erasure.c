/* Unit tests for store_erasure.c: shredding, erasure, retention, withdrawals
 * and their receipts. */
#include "store_fixture.h"

/* The wrapped pupil key as stored, read through a connection of our own. */
static size_t s_wrapped(struct fx *f, int64_t key_id, uint8_t *out, size_t cap)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT wrapped FROM pupil_keys WHERE id = ?1", -1, &st,
					    NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, key_id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = (size_t)sqlite3_column_bytes(st, 0);
	assert_true(n >= 32 && n <= cap);
	memcpy(out, sqlite3_column_blob(st, 0), n);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void test_shred_keeps_report_drops_key(void **state)
{
	struct fx *f = *state;
	struct leaver l, other;
	char queued[CRYPTO_UUID_STR_LEN + 1];
	uint8_t key1[128], key2[128], *packed = NULL;
	size_t k1, k2, len = 0;
	int64_t id;

	fx_import(f, "R1", "123456782", &l);
	fx_import(f, "R2", "111222333", &other);
	fx_deliver(f, &l, REC_A, 2000);
	id = l.id;
	fx_event(f, REC_A, "2025-08-01");
	fx_event(f, REC_A, "2025-09-01");
	fx_queue(f, l.key_id, queued);	/* e.g. a withdrawal still waiting */
	assert_int_equal(fx_depth(f), 1);
	k1 = s_wrapped(f, l.key_id, key1, sizeof(key1));
	k2 = s_wrapped(f, other.key_id, key2, sizeof(key2));
	/* The keys have reached the database file itself (as any checkpoint
	 * takes them there), and the search can find them. */
	assert_int_equal(store_checkpoint_wal(f->s), 0);
	assert_true(fx_on_disk(f, key1, k1));
	assert_true(fx_on_disk(f, key2, k2));

	assert_int_equal(store_leaver_shred(f->s, &l, 777000), 0);
	assert_int_equal(store_checkpoint_wal(f->s), 0);

	store_leaver_clear(&l);
	assert_int_equal(store_leaver_load(f->s, id, 1, &l), 0);
	assert_string_equal(l.pupil_ref, "(erased)");
	assert_null(l.priv);
	assert_int_equal(l.erased_at, 777000);
	assert_int_equal(l.state, LEAVER_DELIVERED);
	assert_int_equal(l.delivered_at, 2000);
	/* the pseudonymous report fields and the timeline stay */
	assert_string_equal(l.cohort, "2024-2025");
	assert_string_equal(l.destination_institution, "25LZ00");
	assert_string_equal(l.record_id, REC_A);
	assert_int_equal(fx_events(f, REC_A), 2);
	/* what waited under the key is never sent */
	assert_int_equal(fx_depth(f), 0);
	assert_int_equal(store_outbox_get(f->s, queued, &packed, &len), -ENOKEY);
	assert_null(packed);
	/* the key is gone from the files, the other pupil's is not */
	assert_false(fx_on_disk(f, key1, k1));
	assert_true(fx_on_disk(f, key2, k2));
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R2", 1, &l), 0);
	assert_string_equal(l.priv->pgn, "111222333");
	assert_int_equal(l.erased_at, 0);
	store_leaver_clear(&l);
	store_leaver_clear(&other);
}

/* A pupil key unwrapped earlier in the same transaction (the cache that
 * spares a queued dossier its second unwrap, store.c) does not outlive its
 * shredding: nothing under it opens afterwards, in that transaction or the
 * next, and the other pupil's key still works (design.md §3.9). */
static void test_shred_in_transaction_forgets_key(void **state)
{
	struct fx *f = *state;
	struct leaver l, other;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t *packed = NULL;
	size_t len = 0;
	int64_t id;

	fx_import(f, "R1", "123456782", &l);
	fx_import(f, "R2", "111222333", &other);
	id = l.id;
	store_leaver_clear(&l);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_leaver_load(f->s, id, 1, &l), 0);	/* unwraps R1's key */
	assert_non_null(l.priv);
	fx_queue(f, l.key_id, mid);					/* seals under it */
	assert_int_equal(store_outbox_get(f->s, mid, &packed, &len), 0);
	free(packed);
	packed = NULL;
	assert_int_equal(store_leaver_shred(f->s, &l, 777000), 0);
	assert_int_equal(store_outbox_get(f->s, mid, &packed, &len), -ENOKEY);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_load(f->s, id, 1, &l), 0);
	assert_null(l.priv);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_outbox_get(f->s, mid, &packed, &len), -ENOKEY);
	assert_null(packed);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_load(f->s, other.id, 1, &l), 0);
	assert_string_equal(l.priv->pgn, "111222333");
	store_leaver_clear(&l);
	store_leaver_clear(&other);
}

static void test_erase_unlinks_leaver(void **state)
{
	struct fx *f = *state;
	struct leaver l, other;
	char m[4][CRYPTO_UUID_STR_LEN + 1];
	struct outbox_msg *pend = NULL;
	unsigned events = 99, cancelled = 99;
	uint8_t *packed = NULL;
	size_t n = 0, len = 0;
	int64_t id;

	fx_import(f, "R1", "123456782", &l);
	fx_import(f, "R2", "111222333", &other);
	fx_deliver(f, &l, REC_A, 2000);
	fx_deliver(f, &other, REC_B, 2000);
	fx_event(f, REC_A, "2025-08-01");
	fx_event(f, REC_A, "2025-09-01");
	fx_event(f, REC_B, "2025-08-01");
	fx_queue(f, l.key_id, m[0]);
	fx_queue(f, l.key_id, m[1]);
	fx_queue(f, l.key_id, m[2]);
	fx_queue(f, 0, m[3]);		/* under the outbox key: not the pupil's */
	assert_int_equal(store_outbox_ack(f->s, PEER, m[2], 0, NULL, 1, 1, 2), 0);	/* gone already */
	id = l.id;

	assert_int_equal(store_leaver_erase(f->s, &l, 888000, &events, &cancelled), 0);
	assert_int_equal(events, 2);
	assert_int_equal(cancelled, 2);

	store_leaver_clear(&l);
	assert_int_equal(store_leaver_load(f->s, id, 1, &l), 0);
	assert_int_equal(l.state, LEAVER_ERASED);
	assert_string_equal(l.pupil_ref, "(erased)");
	assert_null(l.priv);
	assert_int_equal(l.erased_at, 888000);
	store_leaver_clear(&l);
	/* nothing finds it by what identifies the pupil */
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), -ENOENT);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_by_pgn(f->s, "123456782", 0, &l), -ENOENT);
	store_leaver_clear(&l);
	assert_int_equal(fx_events(f, REC_A), 0);
	/* the other pupil is untouched */
	assert_int_equal(fx_events(f, REC_B), 1);
	assert_int_equal(store_leaver_by_pgn(f->s, "111222333", 0, &l), 0);
	assert_string_equal(l.pupil_ref, "R2");
	store_leaver_clear(&l);
	/* only the message under the outbox key is still queued */
	assert_int_equal(store_outbox_pending(f->s, PEER, "", 10, &pend, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(pend[0].message_id, m[3]);
	free(pend[0].packed);
	free(pend);
	assert_int_equal(store_outbox_get(f->s, m[0], &packed, &len), -ENOKEY);
	store_leaver_clear(&other);
}

static void test_inbox_erase_and_replace(void **state)
{
	struct fx *f = *state;
	static const uint8_t orig[] = "dossier with care notes", stripped[] = "dossier";
	struct strlist recs = { 0 };
	struct inbox_row row;
	uint8_t *out = NULL;
	size_t len = 0;
	char sender[7] = "";
	int erased = -1;

	fx_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_A, "123456782", orig, sizeof(orig), 5);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000002", REC_B, "123456782", orig, sizeof(orig), 6);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000003", REC_C, "111222333", orig, sizeof(orig), 7);
	assert_int_equal(store_inbox_by_pgn(f->s, "123456782", &recs), 0);
	assert_int_equal(recs.n, 2);
	assert_string_equal(recs.v[0], REC_A);
	assert_string_equal(recs.v[1], REC_B);
	strlist_clear(&recs);
	assert_int_equal(store_inbox_state(f->s, REC_A, sender, &erased), 0);
	assert_string_equal(sender, "12AB00");
	assert_int_equal(erased, 0);
	assert_int_equal(store_inbox_state(f->s, "nope", sender, &erased), -ENOENT);

	/* the care notes go, the dossier stays readable */
	assert_int_equal(store_inbox_replace(f->s, REC_A, stripped, sizeof(stripped), "care_notes"), 0);
	assert_int_equal(store_inbox_get(f->s, REC_A, &row, &out, &len), 0);
	assert_int_equal(len, sizeof(stripped));
	assert_memory_equal(out, stripped, len);
	assert_string_equal(row.erased_what, "care_notes");
	assert_int_equal(row.erased_at, 0);
	free(out);
	out = NULL;
	assert_int_equal(store_inbox_replace(f->s, "nope", stripped, sizeof(stripped), "x"), -ENOENT);

	assert_int_equal(store_inbox_erase(f->s, REC_A, "withdrawal", 999000), 0);
	memset(&row, 0, sizeof(row));
	assert_int_equal(store_inbox_get(f->s, REC_A, &row, &out, &len), -ENOKEY);
	assert_null(out);
	assert_string_equal(row.record_id, REC_A);
	assert_string_equal(row.sender, "12AB00");
	assert_int_equal(row.erased_at, 999000);
	assert_string_equal(row.erased_what, "withdrawal");
	assert_int_equal(store_inbox_state(f->s, REC_A, sender, &erased), 0);
	assert_int_equal(erased, 1);
	/* no longer found by the pupil's PGN; the other dossier is */
	assert_int_equal(store_inbox_by_pgn(f->s, "123456782", &recs), 0);
	assert_int_equal(recs.n, 1);
	assert_string_equal(recs.v[0], REC_B);
	strlist_clear(&recs);
	/* nothing can be put back under a shredded key */
	assert_int_equal(store_inbox_replace(f->s, REC_A, stripped, sizeof(stripped), "x"), -ENOKEY);
	assert_int_equal(store_inbox_erase(f->s, "nope", "erase", 1), -ENOENT);
	/* the others still read */
	assert_int_equal(store_inbox_get(f->s, REC_B, &row, &out, &len), 0);
	assert_memory_equal(out, orig, sizeof(orig));
	assert_int_equal(row.erased_at, 0);
	assert_string_equal(row.erased_what, "");
	free(out);
}

static void test_retention_due(void **state)
{
	struct fx *f = *state;
	struct leaver l[5];
	struct strlist recs = { 0 };
	int64_t *ids = NULL;
	unsigned events = 0, cancelled = 0;
	size_t n = 99;
	static const uint8_t bytes[] = "dossier";

	fx_import(f, "R1", "100000009", &l[0]);
	fx_import(f, "R2", "100000010", &l[1]);
	fx_import(f, "R3", "100000011", &l[2]);
	fx_import(f, "R4", "100000012", &l[3]);	/* never sent */
	fx_import(f, "R5", "100000013", &l[4]);
	fx_deliver(f, &l[0], REC_A, 1000);
	fx_deliver(f, &l[1], REC_B, 5000);
	fx_deliver(f, &l[2], REC_C, 1500);
	fx_deliver(f, &l[4], "01890a5d-ac96-774b-bcce-b302099a805a", 1200);
	assert_int_equal(store_leaver_shred(f->s, &l[2], 3000), 0);	/* shredded already */
	assert_int_equal(store_leaver_erase(f->s, &l[4], 3000, &events, &cancelled), 0);

	assert_int_equal(store_retention_sent(f->s, 2000, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], l[0].id);
	assert_int_equal(store_retention_sent(f->s, 6000, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], l[0].id);
	assert_int_equal(ids[1], l[1].id);
	/* strictly before */
	assert_int_equal(store_retention_sent(f->s, 1000, &ids, &n), 0);
	assert_int_equal(n, 0);
	/* a dossier never sent counts from its import: its data does not stay for good */
	assert_int_equal(store_retention_sent(f->s, time_now_ms() + 86400000, &ids, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ids[2], l[3].id);
	free(ids);

	fx_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_A, "123456782", bytes, sizeof(bytes), 100);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000002", REC_B, "111222333", bytes, sizeof(bytes), 300);
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000003", REC_C, "100000009", bytes, sizeof(bytes), 200);
	assert_int_equal(store_inbox_erase(f->s, REC_C, "withdrawal", 400), 0);
	assert_int_equal(store_retention_received(f->s, 250, &recs), 0);
	assert_int_equal(recs.n, 1);
	assert_string_equal(recs.v[0], REC_A);
	strlist_clear(&recs);
	assert_int_equal(store_retention_received(f->s, 1000, &recs), 0);
	assert_int_equal(recs.n, 2);
	assert_string_equal(recs.v[0], REC_A);
	assert_string_equal(recs.v[1], REC_B);
	strlist_clear(&recs);
	assert_int_equal(store_retention_received(f->s, 100, &recs), 0);
	assert_int_equal(recs.n, 0);
	for (int i = 0; i < 5; i++)
		store_leaver_clear(&l[i]);
}

struct wd_seen {
	struct withdrawal_rec v[4];
	size_t n;
};

static int s_wd_collect(const struct withdrawal_rec *w, void *arg)
{
	struct wd_seen *seen = arg;

	assert_true(seen->n < ARRAY_SIZE(seen->v));
	seen->v[seen->n++] = *w;
	return 0;
}

static void test_withdrawals_and_receipts(void **state)
{
	struct fx *f = *state;
	static const uint8_t env1[] = "signed receipt 1", env2[] = "signed receipt 2";
	struct withdrawal_rec w = { 0 }, rc = { 0 };
	struct wd_seen seen = { 0 };
	sqlite3 *db;
	sqlite3_stmt *st;

	str_copy(w.message_id, sizeof(w.message_id), "01890a5d-2222-7000-8000-000000000001");
	str_copy(w.peer, sizeof(w.peer), PEER);
	str_copy(w.record_id, sizeof(w.record_id), REC_A);
	str_copy(w.consent_ids, sizeof(w.consent_ids),
		 "01890a5d-1111-7000-8000-000000000001,01890a5d-1111-7000-8000-000000000002");
	str_copy(w.reason, sizeof(w.reason), "withdrawn");
	w.at = 10;
	str_copy(w.actor, sizeof(w.actor), "mentor1");
	assert_int_equal(store_withdrawal_add(f->s, &w), 0);
	str_copy(w.message_id, sizeof(w.message_id), "01890a5d-2222-7000-8000-000000000002");
	str_copy(w.record_id, sizeof(w.record_id), REC_B);
	str_copy(w.reason, sizeof(w.reason), "erased");
	w.at = 20;
	assert_int_equal(store_withdrawal_add(f->s, &w), 0);
	assert_true(store_withdrawal_add(f->s, &w) < 0);	/* one row per message */

	str_copy(rc.receipt_id, sizeof(rc.receipt_id), "01890a5d-3333-7000-8000-000000000001");
	rc.receipt_at = 30;
	str_copy(rc.erased, sizeof(rc.erased), "dossier,care_notes");
	rc.erased_at = 29;
	/* from another peer, or for a withdrawal we never sent: not attached */
	assert_int_equal(store_withdrawal_receipt(f->s, "01890a5d-2222-7000-8000-000000000001",
						  "99XX00", &rc, env1, sizeof(env1)), 1);
	assert_int_equal(store_withdrawal_receipt(f->s, "01890a5d-2222-7000-8000-00000000000f", PEER,
						  &rc, env1, sizeof(env1)), 1);
	assert_int_equal(store_withdrawal_receipt(f->s, "01890a5d-2222-7000-8000-000000000001", PEER,
						  &rc, env1, sizeof(env1)), 0);
	/* a second receipt changes nothing */
	str_copy(rc.receipt_id, sizeof(rc.receipt_id), "01890a5d-3333-7000-8000-000000000002");
	rc.receipt_at = 40;
	str_copy(rc.erased, sizeof(rc.erased), "nothing_held");
	assert_int_equal(store_withdrawal_receipt(f->s, "01890a5d-2222-7000-8000-000000000001", PEER,
						  &rc, env2, sizeof(env2)), 1);

	assert_int_equal(store_withdrawals_each(f->s, NULL, s_wd_collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.v[0].message_id, "01890a5d-2222-7000-8000-000000000001");
	assert_string_equal(seen.v[0].peer, PEER);
	assert_string_equal(seen.v[0].record_id, REC_A);
	assert_string_equal(seen.v[0].consent_ids,
			    "01890a5d-1111-7000-8000-000000000001,01890a5d-1111-7000-8000-000000000002");
	assert_string_equal(seen.v[0].reason, "withdrawn");
	assert_int_equal(seen.v[0].at, 10);
	assert_string_equal(seen.v[0].actor, "mentor1");
	assert_string_equal(seen.v[0].receipt_id, "01890a5d-3333-7000-8000-000000000001");
	assert_int_equal(seen.v[0].receipt_at, 30);
	assert_string_equal(seen.v[0].erased, "dossier,care_notes");
	assert_int_equal(seen.v[0].erased_at, 29);
	assert_string_equal(seen.v[1].record_id, REC_B);
	assert_string_equal(seen.v[1].reason, "erased");
	assert_string_equal(seen.v[1].receipt_id, "");
	assert_int_equal(seen.v[1].receipt_at, 0);
	assert_string_equal(seen.v[1].erased, "");
	assert_int_equal(seen.v[1].erased_at, 0);
	seen.n = 0;
	assert_int_equal(store_withdrawals_each(f->s, REC_B, s_wd_collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.v[0].message_id, "01890a5d-2222-7000-8000-000000000002");
	seen.n = 0;
	assert_int_equal(store_withdrawals_each(f->s, REC_C, s_wd_collect, &seen), 0);
	assert_int_equal(seen.n, 0);

	/* the first receipt's signed envelope is what is kept as evidence */
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT receipt_envelope FROM withdrawals WHERE"
					    " message_id = '01890a5d-2222-7000-8000-000000000001'",
					    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(st, 0), sizeof(env1));
	assert_memory_equal(sqlite3_column_blob(st, 0), env1, sizeof(env1));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_withdrawal_rx(void **state)
{
	struct fx *f = *state;
	static const char mid[] = "01890a5d-4444-7000-8000-000000000001";

	assert_int_equal(store_withdrawal_rx_seen(f->s, mid), 0);
	assert_int_equal(store_withdrawal_rx_add(f->s, mid, "12AB00", REC_A,
						 "01890a5d-3333-7000-8000-000000000001", 50), 0);
	assert_int_equal(store_withdrawal_rx_seen(f->s, mid), 1);
	assert_int_equal(store_withdrawal_rx_seen(f->s, "01890a5d-4444-7000-8000-000000000002"), 0);
	/* answered once */
	assert_true(store_withdrawal_rx_add(f->s, mid, "12AB00", REC_A,
					    "01890a5d-3333-7000-8000-000000000002", 60) < 0);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_shred_keeps_report_drops_key),
		FX_TEST(test_shred_in_transaction_forgets_key),
		FX_TEST(test_erase_unlinks_leaver),
		FX_TEST(test_inbox_erase_and_replace),
		FX_TEST(test_retention_due),
		FX_TEST(test_withdrawals_and_receipts),
		FX_TEST(test_withdrawal_rx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
