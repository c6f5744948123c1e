/* Unit tests for store.c: migrations, sealed personal data, all-or-nothing
 * import, the outbox life cycle, idempotent receipt, and erasure: shredding,
 * retention, withdrawals and their receipts, audit checkpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

struct fx {
	char dir[64];
	char path[128];
	uint8_t master[32];
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(crypto_random(f->master, sizeof(f->master)), 0);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(&f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static Overstapctl__Leaver *s_leaver(const char *ref, const char *pgn, const char *given,
				     const char *family)
{
	Overstapctl__Leaver *l = malloc(sizeof(*l));

	overstapctl__leaver__init(l);
	l->pupil_ref = (char *)ref;
	l->pgn = (char *)pgn;
	l->given_name = (char *)given;
	l->family_name = (char *)family;
	l->birth_date = "2008-02-29";
	l->program = "pro";
	l->cohort = "2024-2025";
	l->exit_date = "2025-07-04";
	l->destination_type = "mbo_entree";
	l->destination_institution = "25LZ00";
	l->advice = "entree";
	l->advice_followed = "no";
	l->level_taal = "1F";
	l->level_rekenen = "2F";
	l->support_needs = " job_coach ; structure: vast rooster";
	l->mentor_name = "Mevr. Kaya";
	l->line = 2;
	return l;
}

/* Read a whole file (db or wal) for the plaintext search. */
static size_t s_slurp(const char *path, char **out)
{
	FILE *fp = fopen(path, "rb");
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap);

	if (fp) {
		size_t got;
		while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
			n += got;
			if (n == cap)
				buf = realloc(buf, cap *= 2);
		}
		fclose(fp);
	}
	*out = buf;
	return n;
}

static int s_contains(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

static void test_import_sealed_and_found(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[2] = { s_leaver("R1", "123456782", "Zwaantje", "Oudewater"),
					 s_leaver("R2", "111222333", "Bartholomeus", "Kwakernaak") };
	struct strlist errors = { 0 };
	struct leaver l;
	char *buf, wal[160];
	size_t n;

	assert_int_equal(store_leavers_import(f->s, "f.csv", rows, 2, "mentor1", &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(store_leaver_find(f->s, "R2", 1, &l), 0);
	assert_string_equal(l.pupil_ref, "R2");
	assert_string_equal(l.priv->pgn, "111222333");
	assert_string_equal(l.priv->given_name, "Bartholomeus");
	assert_string_equal(l.cohort, "2024-2025");
	assert_string_equal(l.destination_institution, "25LZ00");
	assert_int_equal(l.advice_followed, OVERSTAP__TRISTATE__TRI_NO);
	assert_int_equal(l.state, LEAVER_IMPORTED);
	assert_int_equal(l.priv->n_support_needs, 2);
	assert_string_equal(l.priv->support_needs[0]->code, "job_coach");
	assert_string_equal(l.priv->support_needs[1]->code, "structure");
	assert_string_equal(l.priv->support_needs[1]->note, "vast rooster");
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R3", 0, &l), -ENOENT);

	/* No personal data in the clear, neither in the db nor in its WAL. */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	for (int i = 0; i < 2; i++) {
		n = s_slurp(i ? wal : f->path, &buf);
		assert_true(n > 0);
		assert_false(s_contains(buf, n, "Zwaantje"));
		assert_false(s_contains(buf, n, "Kwakernaak"));
		assert_false(s_contains(buf, n, "123456782"));
		assert_false(s_contains(buf, n, "111222333"));
		assert_false(s_contains(buf, n, "Mevr. Kaya"));
		free(buf);
	}
	free(rows[0]);
	free(rows[1]);
}

static void test_import_all_or_nothing(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *first[1] = { s_leaver("R1", "123456782", "A", "B") };
	Overstapctl__Leaver *second[2] = { s_leaver("R9", "111222333", "C", "D"),
					   s_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	struct leaver l;

	second[1]->line = 3;
	assert_int_equal(store_leavers_import(f->s, "a.csv", first, 1, "u", &errors), 0);
	assert_int_equal(store_leavers_import(f->s, "b.csv", second, 2, "u", &errors), -EINVAL);
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.v[0], "b.csv:3: pupil_ref: R1 is already imported");
	/* R9 came in the same file: it was not stored either. */
	assert_int_equal(store_leaver_find(f->s, "R9", 0, &l), -ENOENT);
	strlist_clear(&errors);
	free(first[0]);
	free(second[0]);
	free(second[1]);
}

static void test_wrong_master_key_cannot_read(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { s_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	struct store *other = NULL;
	uint8_t wrong[32];
	struct leaver l;
	char err[256];

	assert_int_equal(store_leavers_import(f->s, "a.csv", rows, 1, "u", &errors), 0);
	memcpy(wrong, f->master, 32);
	wrong[0] ^= 0x80;
	/* Another master key: refused at open, with a reason an administrator
	 * can act on, rather than failing on every pupil later. */
	assert_int_equal(store_open(f->path, wrong, &other, err, sizeof(err)), -EKEYREJECTED);
	assert_null(other);
	assert_non_null(strstr(err, "master key does not match"));
	/* And the right key still reads it. */
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_string_equal(l.priv->given_name, "A");
	store_leaver_clear(&l);
	free(rows[0]);
}

static void test_outbox_life_cycle(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { s_leaver("R1", "123456782", "A", "B") };
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

static void test_inbox_idempotent(void **state)
{
	struct fx *f = *state;
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;
	uint8_t packed[] = "signed envelope bytes", *out = NULL;
	struct inbox_row row;
	uint64_t count = 0;
	size_t len = 0;

	h.record_id = "01890a5d-ac96-774b-bcce-b302099a8057";
	h.pgn = "123456782";
	h.cohort = "2024-2025";
	h.exit_date = "2025-07-04";
	h.program = OVERSTAP__PROGRAM__PRO;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000001", "12AB00", &h,
					 packed, sizeof(packed), 5), 0);
	/* The same message again, and another message for the same record. */
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000001", "12AB00", &h,
					 packed, sizeof(packed), 6), 1);
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000002", "12AB00", &h,
					 packed, sizeof(packed), 6), -EEXIST);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_inbox_count(f->s, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_inbox_get(f->s, h.record_id, &row, &out, &len), 0);
	assert_int_equal(len, sizeof(packed));
	assert_memory_equal(out, packed, len);
	assert_string_equal(row.sender, "12AB00");
	assert_int_equal(row.received_at, 5);
	free(out);
	assert_int_equal(store_inbox_get(f->s, "nope", &row, &out, &len), -ENOENT);
}

static void test_reopen_and_newer_schema(void **state)
{
	struct fx *f = *state;
	struct store *s2 = NULL;
	sqlite3 *db;
	char err[256] = "";

	store_close(&f->s);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	store_close(&f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, f->master, &s2, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "newer"));
	assert_null(s2);
	/* teardown closes a NULL store happily */
}

/* ---- erasure and retention ---- */

#define PEER "25LZ00"
#define REC_A "01890a5d-ac96-774b-bcce-b302099a8057"
#define REC_B "01890a5d-ac96-774b-bcce-b302099a8058"
#define REC_C "01890a5d-ac96-774b-bcce-b302099a8059"

/* Import one leaver; its row (with pupil_ref, without priv) into *l. */
static void s_import(struct fx *f, const char *ref, const char *pgn, struct leaver *l)
{
	Overstapctl__Leaver *rows[1] = { s_leaver(ref, pgn, "Given", "Family") };
	struct strlist errors = { 0 };

	assert_int_equal(store_leavers_import(f->s, "t.csv", rows, 1, "u", &errors), 0);
	free(rows[0]);
	assert_int_equal(store_leaver_find(f->s, ref, 0, l), 0);
}

/* Queue a message for PEER sealed under key_id (0: the outbox key). */
static void s_queue(struct fx *f, int64_t key_id, char id[CRYPTO_UUID_STR_LEN + 1])
{
	static const uint8_t payload[] = "some envelope";

	assert_int_equal(crypto_uuidv7(id), 0);
	usleep(1500);	/* distinct milliseconds: ids in order */
	assert_int_equal(store_outbox_add(f->s, id, PEER, 2, payload, sizeof(payload), key_id, 1000), 0);
}

/* Send l's handover as record_id and have it acknowledged at delivered_at. */
static void s_deliver(struct fx *f, struct leaver *l, const char *record_id, int64_t delivered_at)
{
	char mid[CRYPTO_UUID_STR_LEN + 1];
	int64_t id = l->id;

	s_queue(f, l->key_id, mid);
	assert_int_equal(store_leaver_set_queued(f->s, id, record_id, mid, 900), 0);
	assert_int_equal(store_outbox_ack(f->s, PEER, mid, 0, NULL, 950, 1, delivered_at), 0);
	store_leaver_clear(l);
	assert_int_equal(store_leaver_load(f->s, id, 0, l), 0);
	assert_int_equal(l->state, LEAVER_DELIVERED);
}

static void s_event(struct fx *f, const char *record_id, const char *date)
{
	struct event_rec e = { 0 };

	assert_int_equal(crypto_uuidv7(e.message_id), 0);
	usleep(1500);
	str_copy(e.record_id, sizeof(e.record_id), record_id);
	str_copy(e.peer, sizeof(e.peer), PEER);
	e.event = 1;
	str_copy(e.date, sizeof(e.date), date);
	e.at = 1234;
	str_copy(e.actor, sizeof(e.actor), "peer:" PEER);
	assert_int_equal(store_event_add(f->s, &e), 0);
}

static int s_count_event(const struct event_rec *e, void *arg)
{
	(void)e;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned s_events(struct fx *f, const char *record_id)
{
	unsigned n = 0;

	assert_int_equal(store_events_each(f->s, record_id, s_count_event, &n), 0);
	return n;
}

static uint64_t s_depth(struct fx *f)
{
	uint64_t depth = 99;

	assert_int_equal(store_outbox_depth(f->s, PEER, &depth), 0);
	return depth;
}

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

static int s_bytes_in(const char *hay, size_t n, const uint8_t *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Whether these bytes are anywhere in the database file or its WAL. */
static int s_on_disk(struct fx *f, const uint8_t *needle, size_t k)
{
	char wal[160], *buf;
	int found = 0;
	size_t n;

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	for (int i = 0; i < 2; i++) {
		n = s_slurp(i ? wal : f->path, &buf);
		found |= s_bytes_in(buf, n, needle, k);
		free(buf);
	}
	return found;
}

static void test_shred_keeps_report_drops_key(void **state)
{
	struct fx *f = *state;
	struct leaver l, other;
	char queued[CRYPTO_UUID_STR_LEN + 1];
	uint8_t key1[128], key2[128], *packed = NULL;
	size_t k1, k2, len = 0;
	int64_t id;

	s_import(f, "R1", "123456782", &l);
	s_import(f, "R2", "111222333", &other);
	s_deliver(f, &l, REC_A, 2000);
	id = l.id;
	s_event(f, REC_A, "2025-08-01");
	s_event(f, REC_A, "2025-09-01");
	s_queue(f, l.key_id, queued);	/* e.g. a withdrawal still waiting */
	assert_int_equal(s_depth(f), 1);
	k1 = s_wrapped(f, l.key_id, key1, sizeof(key1));
	k2 = s_wrapped(f, other.key_id, key2, sizeof(key2));
	/* The keys have reached the database file itself (as any checkpoint
	 * takes them there), and the search can find them. */
	assert_int_equal(store_checkpoint_wal(f->s), 0);
	assert_true(s_on_disk(f, key1, k1));
	assert_true(s_on_disk(f, key2, k2));

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
	assert_int_equal(s_events(f, REC_A), 2);
	/* what waited under the key is never sent */
	assert_int_equal(s_depth(f), 0);
	assert_int_equal(store_outbox_get(f->s, queued, &packed, &len), -ENOKEY);
	assert_null(packed);
	/* the key is gone from the files, the other pupil's is not */
	assert_false(s_on_disk(f, key1, k1));
	assert_true(s_on_disk(f, key2, k2));
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R2", 1, &l), 0);
	assert_string_equal(l.priv->pgn, "111222333");
	assert_int_equal(l.erased_at, 0);
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

	s_import(f, "R1", "123456782", &l);
	s_import(f, "R2", "111222333", &other);
	s_deliver(f, &l, REC_A, 2000);
	s_deliver(f, &other, REC_B, 2000);
	s_event(f, REC_A, "2025-08-01");
	s_event(f, REC_A, "2025-09-01");
	s_event(f, REC_B, "2025-08-01");
	s_queue(f, l.key_id, m[0]);
	s_queue(f, l.key_id, m[1]);
	s_queue(f, l.key_id, m[2]);
	s_queue(f, 0, m[3]);		/* under the outbox key: not the pupil's */
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
	assert_int_equal(s_events(f, REC_A), 0);
	/* the other pupil is untouched */
	assert_int_equal(s_events(f, REC_B), 1);
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

static void s_inbox(struct fx *f, const char *mid, const char *record_id, const char *pgn,
		    const uint8_t *bytes, size_t len, int64_t now)
{
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;

	h.record_id = (char *)record_id;
	h.pgn = (char *)pgn;
	h.cohort = "2024-2025";
	h.exit_date = "2025-07-04";
	h.program = OVERSTAP__PROGRAM__PRO;
	assert_int_equal(store_inbox_put(f->s, mid, "12AB00", &h, bytes, len, now), 0);
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

	s_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_A, "123456782", orig, sizeof(orig), 5);
	s_inbox(f, "01890a5d-0000-7000-8000-000000000002", REC_B, "123456782", orig, sizeof(orig), 6);
	s_inbox(f, "01890a5d-0000-7000-8000-000000000003", REC_C, "111222333", orig, sizeof(orig), 7);
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
		s_queue(f, 0, m[i]);
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

static void test_retention_due(void **state)
{
	struct fx *f = *state;
	struct leaver l[5];
	struct strlist recs = { 0 };
	int64_t *ids = NULL;
	unsigned events = 0, cancelled = 0;
	size_t n = 99;
	static const uint8_t bytes[] = "dossier";

	s_import(f, "R1", "100000009", &l[0]);
	s_import(f, "R2", "100000010", &l[1]);
	s_import(f, "R3", "100000011", &l[2]);
	s_import(f, "R4", "100000012", &l[3]);	/* never sent */
	s_import(f, "R5", "100000013", &l[4]);
	s_deliver(f, &l[0], REC_A, 1000);
	s_deliver(f, &l[1], REC_B, 5000);
	s_deliver(f, &l[2], REC_C, 1500);
	s_deliver(f, &l[4], "01890a5d-ac96-774b-bcce-b302099a805a", 1200);
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

	s_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_A, "123456782", bytes, sizeof(bytes), 100);
	s_inbox(f, "01890a5d-0000-7000-8000-000000000002", REC_B, "111222333", bytes, sizeof(bytes), 300);
	s_inbox(f, "01890a5d-0000-7000-8000-000000000003", REC_C, "100000009", bytes, sizeof(bytes), 200);
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

static void test_events_expire_and_delete(void **state)
{
	struct fx *f = *state;
	unsigned n = 99;

	s_event(f, REC_A, "2024-01-01");
	s_event(f, REC_A, "2024-06-30");
	s_event(f, REC_B, "2024-07-01");
	s_event(f, REC_B, "2025-01-01");
	s_event(f, REC_C, "2025-02-01");
	assert_int_equal(store_events_expire(f->s, "2024-07-01", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s_events(f, REC_A), 0);
	assert_int_equal(s_events(f, REC_B), 2);
	assert_int_equal(store_events_expire(f->s, "2024-07-01", &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(store_events_delete(f->s, REC_B, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s_events(f, REC_B), 0);
	assert_int_equal(s_events(f, REC_C), 1);
	assert_int_equal(store_events_delete(f->s, REC_B, &n), 0);
	assert_int_equal(n, 0);
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

struct cp_seen {
	struct checkpoint_rec v[4];
	size_t n;
};

static int s_cp_collect(const struct checkpoint_rec *c, void *arg)
{
	struct cp_seen *seen = arg;

	assert_true(seen->n < ARRAY_SIZE(seen->v));
	seen->v[seen->n++] = *c;
	return 0;
}

static void s_cp_put(struct fx *f, const char *peer, int kind, int64_t seq, uint8_t fill, int64_t at)
{
	struct checkpoint_rec c = { 0 };

	str_copy(c.peer, sizeof(c.peer), peer);
	c.kind = kind;
	c.seq = seq;
	memset(c.head, fill, sizeof(c.head));
	c.head[31] = (uint8_t)(fill ^ 0x5a);
	c.at = at;
	assert_int_equal(store_checkpoint_put(f->s, &c), 0);
}

static void s_cp_expect(const struct checkpoint_rec *c, const char *peer, int kind, int64_t seq,
			uint8_t fill, int64_t at)
{
	uint8_t head[32];

	memset(head, fill, sizeof(head));
	head[31] = (uint8_t)(fill ^ 0x5a);
	assert_string_equal(c->peer, peer);
	assert_int_equal(c->kind, kind);
	assert_int_equal(c->seq, seq);
	assert_memory_equal(c->head, head, sizeof(head));
	assert_int_equal(c->at, at);
}

static void test_checkpoints(void **state)
{
	struct fx *f = *state;
	struct checkpoint_rec c;
	struct cp_seen seen = { 0 };

	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), -ENOENT);
	assert_int_equal(store_checkpoints_each(f->s, s_cp_collect, &seen), 0);
	assert_int_equal(seen.n, 0);

	s_cp_put(f, PEER, CHECKPOINT_THEIRS, 5, 0x11, 100);
	s_cp_put(f, PEER, CHECKPOINT_OURS, 7, 0x22, 110);
	s_cp_put(f, "12AB00", CHECKPOINT_THEIRS, 1, 0x33, 120);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), 0);
	s_cp_expect(&c, PEER, CHECKPOINT_THEIRS, 5, 0x11, 100);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_OURS, &c), 0);
	s_cp_expect(&c, PEER, CHECKPOINT_OURS, 7, 0x22, 110);
	assert_int_equal(store_checkpoint_get(f->s, "12AB00", CHECKPOINT_OURS, &c), -ENOENT);

	/* a newer head replaces the one of that peer and kind only */
	s_cp_put(f, PEER, CHECKPOINT_THEIRS, 6, 0x44, 130);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), 0);
	s_cp_expect(&c, PEER, CHECKPOINT_THEIRS, 6, 0x44, 130);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_OURS, &c), 0);
	s_cp_expect(&c, PEER, CHECKPOINT_OURS, 7, 0x22, 110);

	assert_int_equal(store_checkpoints_each(f->s, s_cp_collect, &seen), 0);
	assert_int_equal(seen.n, 3);
	s_cp_expect(&seen.v[0], "12AB00", CHECKPOINT_THEIRS, 1, 0x33, 120);
	s_cp_expect(&seen.v[1], PEER, CHECKPOINT_THEIRS, 6, 0x44, 130);
	s_cp_expect(&seen.v[2], PEER, CHECKPOINT_OURS, 7, 0x22, 110);
}

/* Turn a current store into one of schema 4: every table schema 4 did not
 * have goes (those of later migrations too), and schema 5's columns. */
static void s_downgrade_to_v4(const char *path)
{
	static const char *const v4_tables[] = { "meta", "pupil_keys", "leavers", "outbox", "inbox",
						 "audit", "consents", "events", "revoked" };
	static const char *const down =
		"DROP INDEX leavers_report;"		/* v7 */
		"DROP INDEX events_report;"
		"ALTER TABLE leavers DROP COLUMN erased_at;"
		"ALTER TABLE inbox DROP COLUMN erased_at;"
		"ALTER TABLE inbox DROP COLUMN erased_what;"
		"PRAGMA user_version = 4;";
	struct strlist drop = { 0 };
	sqlite3_stmt *st;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'"
					    " AND name NOT LIKE 'sqlite_%'", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int keep = 0;

		for (size_t i = 0; i < ARRAY_SIZE(v4_tables); i++)
			keep |= strcmp(name, v4_tables[i]) == 0;
		if (!keep)
			assert_int_equal(strlist_addf(&drop, "DROP TABLE %s", name), 0);
	}
	sqlite3_finalize(st);
	assert_true(drop.n >= 3);	/* withdrawals, checkpoints, withdrawals_rx at least */
	for (size_t i = 0; i < drop.n; i++)
		assert_int_equal(sqlite3_exec(db, drop.v[i], NULL, NULL, NULL), SQLITE_OK);
	strlist_clear(&drop);
	assert_int_equal(sqlite3_exec(db, down, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A store of schema 4 (before erasure) migrates to the current schema with
 * its data intact, and the erasure parts work on it. */
static void test_migrate_v4_to_v5(void **state)
{
	struct fx *f = *state;
	static const uint8_t bytes[] = "dossier";
	struct checkpoint_rec c = { 0 };
	struct inbox_row row;
	struct leaver l;
	uint8_t *out = NULL;
	size_t len = 0;
	sqlite3 *db;
	sqlite3_stmt *st;
	char err[256] = "";

	s_import(f, "R1", "123456782", &l);
	s_deliver(f, &l, REC_A, 2000);
	s_event(f, REC_A, "2025-08-01");
	s_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_B, "111222333", bytes, sizeof(bytes), 5);
	store_leaver_clear(&l);
	store_close(&f->s);
	s_downgrade_to_v4(f->path);

	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
	sqlite3_finalize(st);
	sqlite3_close(db);

	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_string_equal(l.priv->pgn, "123456782");
	assert_int_equal(l.state, LEAVER_DELIVERED);
	assert_int_equal(l.erased_at, 0);
	assert_int_equal(s_events(f, REC_A), 1);
	assert_int_equal(store_inbox_get(f->s, REC_B, &row, &out, &len), 0);
	assert_memory_equal(out, bytes, sizeof(bytes));
	assert_int_equal(row.erased_at, 0);
	assert_string_equal(row.erased_what, "");
	free(out);
	/* and the new parts work on it */
	assert_int_equal(store_leaver_shred(f->s, &l, 4000), 0);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_int_equal(l.erased_at, 4000);
	assert_null(l.priv);
	store_leaver_clear(&l);
	str_copy(c.peer, sizeof(c.peer), PEER);
	c.seq = 1;
	assert_int_equal(store_checkpoint_put(f->s, &c), 0);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_sealed_and_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_master_key_cannot_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_life_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_and_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shred_keeps_report_drops_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_unlinks_leaver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_erase_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_cancel_consent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_expire_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdrawals_and_receipts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v4_to_v5, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
