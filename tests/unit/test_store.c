/* Unit tests for store.c and store_schema.c: opening (the master key check),
 * reopening, refusing a newer schema, migrating an old one, transactions
 * (the error translation has its own test, test_sqlerr.c). */
#include "store_fixture.h"
#include "sql_fixture.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_wrong_master_key_cannot_read(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { fx_leaver("R1", "123456782", "A", "B") };
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

static int s_user_version(const char *path)
{
	return (int)sql_int64(path, "PRAGMA user_version");
}

/* The store closed and sql run on its file, to make it look as an older
 * schema left it (the VN_UNDO scripts below and a PRAGMA user_version). */
static void s_as_schema(struct fx *f, const char *sql)
{
	sqlite3 *db;

	store_close(&f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_reopen_and_newer_schema(void **state)
{
	struct fx *f = *state;
	struct store *s2 = NULL;
	char err[256] = "";

	store_close(&f->s);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	s_as_schema(f, "PRAGMA user_version = 99");
	assert_int_equal(store_open(f->path, f->master, &s2, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "newer"));
	assert_null(s2);
	/* teardown closes a NULL store happily */
}

/* Turn a current store into one of schema 4: every table schema 4 did not
 * have goes (those of later migrations too), and schema 5's columns. */
static void s_downgrade_to_v4(const char *path)
{
	static const char *const v4_tables[] = { "meta", "pupil_keys", "leavers", "outbox", "inbox",
						 "audit", "consents", "events", "revoked" };
	static const char *const down =
		"DROP TRIGGER inbox_count_del;"	/* (v15 dropped the outbox's) */	/* v11 (v13 dropped inbox_count_ins) */
		"DROP INDEX inbox_retention; DROP INDEX leavers_retention;"
		"ALTER TABLE leavers DROP COLUMN inzage_agrees;"	/* v10 */
		"DROP INDEX outbox_refused;"		/* v9 */
		"ALTER TABLE inbox DROP COLUMN diploma;"
		"DROP INDEX inbox_sender;"		/* v8 */
		"DROP INDEX outbox_parked;"
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

	fx_import(f, "R1", "123456782", &l);
	fx_deliver(f, &l, REC_A, 2000);
	fx_event(f, REC_A, "2025-08-01");
	fx_inbox(f, "01890a5d-0000-7000-8000-000000000001", REC_B, "111222333", bytes, sizeof(bytes), 5);
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
	assert_int_equal(fx_events(f, REC_A), 1);
	assert_int_equal(store_inbox_get(f->s, REC_B, &row, &out, &len), 0);
	assert_memory_equal(out, bytes, sizeof(bytes));
	assert_int_equal(row.erased_at, 0);
	assert_string_equal(row.erased_what, "");
	free(out);
	/* and the new parts work on it: shredded, it cannot be found by its
	 * pupil number any more (the ref hash is gone), only by its row */
	assert_int_equal(store_leaver_shred(f->s, &l, 4000), 0);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), -ENOENT);
	assert_int_equal(store_leaver_load(f->s, 1, 1, &l), 0);
	assert_int_equal(l.erased_at, 4000);
	assert_null(l.priv);
	store_leaver_clear(&l);
	str_copy(c.peer, sizeof(c.peer), PEER);
	c.seq = 1;
	assert_int_equal(store_checkpoint_put(f->s, &c), 0);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), 0);
}

/* What migration 15 -> 16 took away, put back: a store as schema 15 left
 * it, the counts the triggers kept filled in from the rows. */
#define V16_UNDO \
	"CREATE TABLE outbox_counts (peer TEXT NOT NULL, state INTEGER NOT NULL," \
	"  n INTEGER NOT NULL, PRIMARY KEY (peer, state)) WITHOUT ROWID;" \
	"INSERT INTO outbox_counts SELECT peer, state, count(*) FROM outbox GROUP BY peer, state;" \
	"CREATE TRIGGER outbox_count_ins AFTER INSERT ON outbox BEGIN" \
	"  INSERT INTO outbox_counts VALUES (new.peer, new.state, 1)" \
	"    ON CONFLICT (peer, state) DO UPDATE SET n = n + 1; END;" \
	"CREATE TRIGGER outbox_count_del AFTER DELETE ON outbox BEGIN" \
	"  UPDATE outbox_counts SET n = n - 1 WHERE peer = old.peer AND state = old.state; END;" \
	"CREATE TRIGGER outbox_count_upd AFTER UPDATE OF peer, state ON outbox" \
	"  WHEN old.peer IS NOT new.peer OR old.state IS NOT new.state BEGIN" \
	"  UPDATE outbox_counts SET n = n - 1 WHERE peer = old.peer AND state = old.state;" \
	"  INSERT INTO outbox_counts VALUES (new.peer, new.state, 1)" \
	"    ON CONFLICT (peer, state) DO UPDATE SET n = n + 1; END;"
/* What migration 14 -> 15 changed, put back: a store as schema 14 left it. */
#define V15_UNDO V16_UNDO \
	"DROP INDEX leavers_retention; CREATE INDEX leavers_retention ON" \
	" leavers(coalesce(delivered_at, imported_at)) WHERE erased_at IS NULL AND state IN (0, 2, 3);"
/* What migration 13 -> 14 took away, put back: a store as schema 13 left it. */
#define V14_UNDO V15_UNDO \
	"CREATE TRIGGER inbox_count_ins AFTER INSERT ON inbox BEGIN" \
	"  UPDATE counts SET n = n + 1 WHERE name = 'inbox'; END;"
/* What migration 12 -> 13 added, taken away again: a store as schema 12 left it. */
#define V13_UNDO V14_UNDO \
	"DROP TRIGGER outbox_count_ins; DROP TRIGGER outbox_count_del;" \
	"DROP TRIGGER outbox_count_upd; DROP TABLE outbox_counts;"
#define V12_UNDO V13_UNDO \
	"DROP INDEX inbox_retention; DROP INDEX leavers_retention; DROP INDEX enrolments_retention;" \
	"DROP TRIGGER inbox_count_ins; DROP TRIGGER inbox_count_del; DROP TABLE counts;"

/* A store of schema 10 (before inzage asked whether they agree) migrates:
 * an inzage recorded then stays recorded, its agreement "not asked" (0),
 * its remarks intact; a new inzage records agreement and view. */
static void test_migrate_v10_to_v11(void **state)
{
	struct fx *f = *state;
	struct store_inzage z = { .reviewer = 1, .date = "2025-06-01", .remarks = "gezien",
				  .disagreement = "", .user = "m" };
	struct leaver l;
	char err[256] = "";

	fx_import(f, "R1", "123456782", &l);
	assert_int_equal(store_leaver_set_inzage(f->s, l.id, &z), 0);
	store_leaver_clear(&l);
	s_as_schema(f, V12_UNDO "ALTER TABLE leavers DROP COLUMN inzage_agrees;"
		    "PRAGMA user_version = 10;");

	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(s_user_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_string_equal(l.inzage_on, "2025-06-01");
	assert_int_equal(l.inzage_agrees, 0);
	assert_string_equal(l.priv->inzage_remarks, "gezien");
	z.agrees = 2;
	z.disagreement = "niet eens";
	assert_int_equal(store_leaver_set_inzage(f->s, l.id, &z), 0);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_int_equal(l.inzage_agrees, 2);
	assert_string_equal(l.priv->inzage_disagreement, "niet eens");
	store_leaver_clear(&l);
}

/* The plan sqlite picks for sql, as EXPLAIN QUERY PLAN's detail column. */
static void s_plan(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	char q[512];
	sqlite3_stmt *st;

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	buf[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s;", sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
}

/* Three messages to PEER queued, the first parked: what the migrations of
 * the outbox counts (12 -> 13, 15 -> 16) start from. */
static void s_three_queued_one_parked(struct fx *f, char ids[][CRYPTO_UUID_STR_LEN + 1])
{
	for (int i = 0; i < 3; i++)
		fx_queue(f, 0, ids[i]);
	assert_int_equal(store_outbox_park(f->s, PEER, ids[0], "too large", 0, 0), 0);
}

/* A store of schema 12 (depth counted with count(*)) migrates: the kept
 * per-peer counts start from the rows there are, and follow new ones. */
static void test_migrate_v12_to_v13(void **state)
{
	struct fx *f = *state;
	char ids[3][CRYPTO_UUID_STR_LEN + 1];
	uint64_t depth = 0, parked = 0;
	char err[256] = "";

	s_three_queued_one_parked(f, ids);
	s_as_schema(f, V13_UNDO "PRAGMA user_version = 12;");
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(s_user_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(store_outbox_depth(f->s, PEER, &depth), 0);
	assert_int_equal(store_outbox_parked_count(f->s, PEER, &parked), 0);
	assert_int_equal(depth, 2);
	assert_int_equal(parked, 1);
	assert_int_equal(store_outbox_unpark(f->s, ids[0]), 0);
	fx_queue(f, 0, ids[1]);
	assert_int_equal(store_outbox_depth(f->s, PEER, &depth), 0);
	assert_int_equal(store_outbox_parked_count(f->s, PEER, &parked), 0);
	assert_int_equal(depth, 4);
	assert_int_equal(parked, 0);
	assert_int_equal(store_outbox_depth(f->s, "99XX00", &depth), 0);
	assert_int_equal(depth, 0);
}

/* Schema 11 -> 12 (issue 14: start-up and status at any size): the inbox
 * count starts from the rows already there and follows deletes (inserts:
 * store_inbox_put since schema 14, test_migrate_v13_to_v14);
 * the retention scans search their partial indexes instead of reading
 * every row. */
static void test_migrate_v11_to_v12(void **state)
{
	struct fx *f = *state;
	uint64_t n = 0;
	sqlite3 *db;
	char err[256] = "", plan[512];
	static const char *const ret[] = {
		"SELECT record_id FROM inbox WHERE erased_at IS NULL AND received_at < 5"
		" ORDER BY received_at LIMIT 1000",
		"SELECT id FROM leavers WHERE erased_at IS NULL AND state NOT IN (1, 4)"
		" AND coalesce(delivered_at, imported_at) < 5"
		" ORDER BY coalesce(delivered_at, imported_at) LIMIT 1000",
		"SELECT id FROM enrolments WHERE erased_at IS NULL AND imported_at < 5"
		" ORDER BY imported_at LIMIT 1000",
	};
	static const char *const idx[] = { "inbox_retention", "leavers_retention",
					   "enrolments_retention" };

	store_close(&f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, V12_UNDO "PRAGMA user_version = 11;"
					  "INSERT INTO pupil_keys(id, wrapped, created_at) VALUES (900, x'00', 0);"
					  "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k"
					  " WHERE i < 7) INSERT INTO inbox(message_id, record_id, sender,"
					  " key_id, sealed, pseudonym, received_at, cohort, program,"
					  " destination, exit_date) SELECT 'm' || i, 'r' || i, '12AB00', 900,"
					  " x'00', randomblob(32), 0, '2025-2026', 1, 1, '2026-07-01' FROM k;",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(s_user_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(store_inbox_count(f->s, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM inbox WHERE message_id IN ('m1', 'm2');",
				      NULL, NULL, NULL), SQLITE_OK);
	for (size_t i = 0; i < ARRAY_SIZE(ret); i++) {
		s_plan(db, ret[i], plan, sizeof(plan));
		if (!strstr(plan, idx[i]) || strstr(plan, "SCAN"))
			fail_msg("%s: plan %s, want a search of %s", ret[i], plan, idx[i]);
	}
	sqlite3_close(db);
	assert_int_equal(store_inbox_count(f->s, &n), 0);
	assert_int_equal(n, 5);
}

/* Schema 13 -> 14 (issue 14, the receiver's CPU): no trigger on inserts into
 * the inbox, because a trigger makes each insert a statement SQLite guards
 * with a statement journal, which in a receive batch spilled to a temporary
 * file; store_inbox_put keeps the count instead, once per dossier stored,
 * not for a retry or a second message for a record held. */
static void test_migrate_v13_to_v14(void **state)
{
	struct fx *f = *state;
	static const uint8_t bytes[] = "dossier";
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;
	char mid[3][CRYPTO_UUID_STR_LEN + 1], rid[2][CRYPTO_UUID_STR_LEN + 1];
	sqlite3_stmt *st;
	uint64_t n = 0;
	sqlite3 *db;
	char err[256] = "";

	for (int i = 0; i < 3; i++)
		assert_int_equal(crypto_uuidv7(mid[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(crypto_uuidv7(rid[i]), 0);
	h.pgn = (char *)"123456782";
	h.cohort = (char *)"2025-2026";
	h.exit_date = (char *)"2026-07-01";
	h.record_id = rid[0];
	assert_int_equal(store_inbox_put(f->s, mid[0], PEER, &h, bytes, sizeof(bytes), 1), 0);
	s_as_schema(f, V14_UNDO "PRAGMA user_version = 13;");

	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(s_user_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
					    " AND tbl_name = 'inbox' AND sql LIKE '%INSERT ON inbox%'",
					    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(store_inbox_count(f->s, &n), 0);
	assert_int_equal(n, 1);
	/* a retry, and another message for the record held: not counted */
	assert_int_equal(store_inbox_put(f->s, mid[0], PEER, &h, bytes, sizeof(bytes), 2), 1);
	assert_int_equal(store_inbox_put(f->s, mid[1], PEER, &h, bytes, sizeof(bytes), 2), -EEXIST);
	h.record_id = rid[1];
	assert_int_equal(store_inbox_put(f->s, mid[2], PEER, &h, bytes, sizeof(bytes), 2), 0);
	assert_int_equal(store_inbox_count(f->s, &n), 0);
	assert_int_equal(n, 2);
}

/* How many temporary b-trees (OpenEphemeral) a statement builds each time it runs. */
static int s_ephemerals(sqlite3 *db, const char *sql)
{
	char q[512];
	sqlite3_stmt *st;
	int n = 0;

	snprintf(q, sizeof(q), "EXPLAIN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		n += strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
	sqlite3_finalize(st);
	return n;
}

/* Schema 14 -> 15 (issue 14): the leavers' retention index names its
 * states as a list of two, so writing a leaver row (queued, delivered)
 * builds no temporary b-tree for the index's condition, and the retention
 * scan still searches the index. */
static void test_migrate_v14_to_v15(void **state)
{
	static const char queued[] = "UPDATE leavers SET state = 1, record_id = 'r', message_id = 'm',"
				     " queued_at = 1 WHERE id = 1 AND state = 0";
	static const char ret[] = "SELECT id FROM leavers WHERE erased_at IS NULL AND state NOT IN (1, 4)"
				  " AND coalesce(delivered_at, imported_at) < 5"
				  " ORDER BY coalesce(delivered_at, imported_at) LIMIT 64";
	struct fx *f = *state;
	char err[256] = "", plan[512];
	sqlite3 *db;

	s_as_schema(f, V15_UNDO "PRAGMA user_version = 14;");
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(s_ephemerals(db, queued), 2);	/* the old row's and the new one's */
	sqlite3_close(db);

	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(s_user_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(s_ephemerals(db, queued), 0);
	s_plan(db, ret, plan, sizeof(plan));
	if (!strstr(plan, "leavers_retention") || strstr(plan, "SCAN"))
		fail_msg("plan %s, want a search of leavers_retention", plan);
	sqlite3_close(db);
}

/* Schema 15 -> 16 (issue 14, the school's CPU): no trigger on the outbox;
 * its queued and parked counts are counted at open from what the file
 * holds and follow every later move. */
static void test_migrate_v15_to_v16(void **state)
{
	struct fx *f = *state;
	char ids[4][CRYPTO_UUID_STR_LEN + 1];
	uint64_t depth = 0, parked = 0;
	char err[256] = "";

	s_three_queued_one_parked(f, ids);
	assert_int_equal(store_outbox_ack(f->s, PEER, ids[1], 0, NULL, 1, 1, 2), 0);
	s_as_schema(f, V16_UNDO "PRAGMA user_version = 15;");
	assert_int_equal(sql_int64(f->path, "SELECT count(*) FROM sqlite_master"
					    " WHERE type = 'trigger' AND tbl_name = 'outbox'"), 3);

	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(s_user_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(sql_int64(f->path, "SELECT count(*) FROM sqlite_master"
					    " WHERE tbl_name IN ('outbox', 'outbox_counts')"
					    " AND (type = 'trigger' OR name = 'outbox_counts')"), 0);
	assert_int_equal(store_outbox_depth(f->s, PEER, &depth), 0);
	assert_int_equal(store_outbox_parked_count(f->s, PEER, &parked), 0);
	assert_int_equal(depth, 1);
	assert_int_equal(parked, 1);
	fx_queue(f, 0, ids[3]);
	assert_int_equal(store_outbox_unpark(f->s, ids[0]), 0);
	assert_int_equal(store_outbox_depth(f->s, PEER, &depth), 0);
	assert_int_equal(store_outbox_parked_count(f->s, PEER, &parked), 0);
	assert_int_equal(depth, 3);
	assert_int_equal(parked, 0);
}

/* A rolled-back transaction leaves nothing; a committed one stays across a
 * reopen; rollback outside a transaction is harmless. */
static void test_transactions(void **state)
{
	struct fx *f = *state;
	struct checkpoint_rec c = { 0 };
	char err[256];

	str_copy(c.peer, sizeof(c.peer), PEER);
	c.seq = 3;
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_checkpoint_put(f->s, &c), 0);
	store_rollback(f->s);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), -ENOENT);
	store_rollback(f->s);

	str_copy(c.peer, sizeof(c.peer), PEER);	/* the failed get cleared c */
	c.seq = 4;
	assert_int_equal(store_begin(f->s), 0);
	assert_true(store_begin(f->s) < 0);	/* no nesting */
	assert_int_equal(store_checkpoint_put(f->s, &c), 0);
	assert_int_equal(store_commit(f->s), 0);
	store_close(&f->s);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), 0);
	assert_int_equal(c.seq, 4);
}

/* Overwrite the root page of table in the (closed or idle) store's file. */
static void s_smash(const char *path, const char *table)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int root, size;
	FILE *fp;
	char junk[4096];

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage, (SELECT page_size FROM"
					    " pragma_page_size) FROM sqlite_master WHERE name = ?1",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	root = sqlite3_column_int(st, 0);
	size = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(size <= (int)sizeof(junk));
	memset(junk, 0xA5, sizeof(junk));
	assert_non_null(fp = fopen(path, "r+b"));
	assert_int_equal(fseek(fp, (long)(root - 1) * size, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
}

/* A store with a damaged page is refused at open by quick_check, with
 * sqlite's words, rather than used. */
static void test_quick_check_at_open(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { fx_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	char err[256] = "";

	assert_int_equal(store_leavers_import(f->s, "a.csv", rows, 1, "u", &errors), 0);
	free(rows[0]);
	assert_int_equal(store_check(f->s, 1, &errors), 0);
	store_close(&f->s);
	s_smash(f->path, "leavers");
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), -EUCLEAN);
	assert_null(f->s);
	assert_non_null(strstr(err, "quick_check"));
}

static int s_check_wait(struct store *s, const char **why)
{
	int r;

	while ((r = store_check_poll(s, why, NULL)) == 1)
		usleep(1000);
	return r;
}

/* STORE_OPEN_CHECK_LATER: the damaged store opens (the daemon answers at
 * once), the check on its worker thread finds the damage, and collecting it
 * marks the store broken: writes refused from then on. */
static void test_quick_check_later(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { fx_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	const char *why = NULL;
	char err[256] = "";

	assert_int_equal(store_leavers_import(f->s, "a.csv", rows, 1, "u", &errors), 0);
	free(rows[0]);
	store_close(&f->s);
	/* a healthy store passes; closing while a check runs interrupts it */
	assert_int_equal(store_open_ex(f->path, f->master, STORE_OPEN_CHECK_LATER, &f->s, err,
				       sizeof(err)), 0);
	assert_int_equal(s_check_wait(f->s, &why), 0);
	assert_int_equal(store_broken(f->s, NULL), 0);
	store_close(&f->s);
	assert_int_equal(store_open_ex(f->path, f->master, STORE_OPEN_CHECK_LATER, &f->s, err,
				       sizeof(err)), 0);
	store_close(&f->s);
	s_smash(f->path, "leavers");
	assert_int_equal(store_open_ex(f->path, f->master, STORE_OPEN_CHECK_LATER, &f->s, err,
				       sizeof(err)), 0);
	assert_int_equal(s_check_wait(f->s, &why), -EUCLEAN);
	assert_true(why && *why);
	assert_int_equal(store_broken(f->s, NULL), 1);
	assert_int_equal(store_begin(f->s), -EUCLEAN);
	/* `store check` reads every complaint, not only the first */
	store_close(&f->s);
	s_smash(f->path, "outbox");
	assert_int_equal(store_open_ex(f->path, f->master, STORE_OPEN_CHECK_LATER, &f->s, err,
				       sizeof(err)), 0);
	assert_int_equal(store_check(f->s, 1, &errors), -EUCLEAN);
	assert_true(errors.n >= 2);
	strlist_clear(&errors);
	/* without the flag, store_open still refuses it at once */
	store_close(&f->s);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), -EUCLEAN);
	assert_null(f->s);
}

/* The daemon blocks its signals and reads them from a signalfd; a thread
 * that leaves them unblocked takes them with their default action instead:
 * a reload (SIGHUP) during the start's check killed the daemon. In a child,
 * as the daemon: the check started, signals blocked, SIGHUP sent at once. */
static void test_quick_check_thread_takes_no_signal(void **state)
{
	struct fx *f = *state;
	sqlite3 *db = NULL;
	pid_t pid;
	int st;

	store_close(&f->s);
	/* some pages to read, so the check is still running when HUP comes */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE pad(b); "
				      "INSERT INTO pad VALUES (randomblob(32000000))", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sigset_t set;
		char err[256];
		struct store *s = NULL;

		/* in the daemon's order: the store first (daemon_init_store),
		 * then the signals blocked for the signalfd */
		if (store_open_ex(f->path, f->master, STORE_OPEN_CHECK_LATER, &s, err, sizeof(err)) < 0)
			_exit(2);
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGTERM);
		if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
			_exit(2);
		kill(getpid(), SIGHUP);
		if (s_check_wait(s, NULL) != 0)
			_exit(3);
		store_close(&s);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fail_msg("killed by signal %d while the check ran", WTERMSIG(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(store_open(f->path, f->master, &f->s, NULL, 0), 0);
}

/* Damage met while running marks the store broken: every later write is
 * refused at once (-EUCLEAN), bare ones included; reads still work. */
static void test_broken_while_running(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[2] = { fx_leaver("R1", "123456782", "A", "B"),
					 fx_leaver("R2", "111222333", "C", "D") };
	struct strlist errors = { 0 };
	struct checkpoint_rec c = { 0 };
	const char *why = NULL;
	char err[256] = "";
	unsigned n = 0;

	store_close(&f->s);	/* the new store's pages go to the main file */
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	assert_int_equal(store_broken(f->s, &why), 0);
	s_smash(f->path, "leavers");	/* under the running store, not in its cache */
	assert_int_equal(store_leavers_import(f->s, "a.csv", rows, 1, "u", &errors), -EUCLEAN);
	strlist_clear(&errors);
	assert_int_equal(store_broken(f->s, &why), 1);
	assert_non_null(strstr(why, "malformed"));
	assert_int_equal(store_begin(f->s), -EUCLEAN);
	assert_true(store_leavers_import(f->s, "a.csv", rows + 1, 1, "u", &errors) < 0);
	strlist_clear(&errors);
	assert_true(store_audit(f->s, "u", "x.y", "", "", "{}") < 0);
	/* reads of what is intact still answer */
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), -ENOENT);
	assert_int_equal(store_check(f->s, 1, &errors), -EUCLEAN);
	assert_true(errors.n > 0);
	strlist_clear(&errors);
	(void)n;
	free(rows[0]);
	free(rows[1]);
}

/* store_note marks only for corruption. */
static void test_note(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_note(f->s, -EIO), -EIO);
	assert_int_equal(store_note(f->s, 0), 0);
	assert_int_equal(store_broken(f->s, NULL), 0);
	assert_int_equal(store_begin(f->s), 0);
	store_rollback(f->s);
	assert_int_equal(store_note(f->s, -EUCLEAN), -EUCLEAN);
	assert_int_equal(store_broken(f->s, NULL), 1);
	assert_int_equal(store_begin(f->s), -EUCLEAN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_wrong_master_key_cannot_read),
		FX_TEST(test_reopen_and_newer_schema),
		FX_TEST(test_migrate_v4_to_v5),
		FX_TEST(test_migrate_v10_to_v11),
		FX_TEST(test_migrate_v11_to_v12),
		FX_TEST(test_migrate_v12_to_v13),
		FX_TEST(test_migrate_v13_to_v14),
		FX_TEST(test_migrate_v14_to_v15),
		FX_TEST(test_migrate_v15_to_v16),
		FX_TEST(test_transactions),
		FX_TEST(test_quick_check_at_open),
		FX_TEST(test_quick_check_later),
		FX_TEST(test_quick_check_thread_takes_no_signal),
		FX_TEST(test_broken_while_running),
		FX_TEST(test_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
