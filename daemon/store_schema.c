/* store_schema: the store's schema, the one place to read it: every migration, in order. */
#include "store_int.h"
#include "audit.h"

#include <errno.h>
#include <stdio.h>

/* Schema migrations: entry i brings user_version from i to i+1. Never edit a
 * released entry; append a new one. */
static const char *const s_migrations[] = {
	/* 0 -> 1: meta, keys, leavers, outbox, inbox */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE pupil_keys ("
	"  id INTEGER PRIMARY KEY,"
	"  wrapped BLOB,"			/* AES-GCM(master, data key); NULL = shredded */
	"  created_at INTEGER NOT NULL,"
	"  destroyed_at INTEGER);"
	"CREATE TABLE leavers ("
	"  id INTEGER PRIMARY KEY,"
	"  key_id INTEGER NOT NULL REFERENCES pupil_keys(id),"
	"  ref_hash BLOB NOT NULL UNIQUE,"	/* HMAC of pupil_ref: lookup without plaintext */
	"  pseudonym BLOB NOT NULL,"		/* HMAC of PGN (or ref): for reports */
	"  pii BLOB NOT NULL,"			/* sealed LeaverPrivate */
	"  program INTEGER NOT NULL, cohort TEXT NOT NULL, exit_date TEXT NOT NULL,"
	"  destination INTEGER NOT NULL, destination_institution TEXT,"
	"  advice INTEGER NOT NULL, advice_followed INTEGER NOT NULL,"
	"  level_taal INTEGER NOT NULL, level_rekenen INTEGER NOT NULL,"
	"  registered_on TEXT, registered_by TEXT,"
	"  inzage_on TEXT, inzage_reviewer INTEGER, inzage_recorded_by TEXT,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  record_id TEXT UNIQUE, message_id TEXT UNIQUE,"
	"  queued_at INTEGER, delivered_at INTEGER,"
	"  imported_at INTEGER NOT NULL, imported_by TEXT NOT NULL);"
	"CREATE INDEX leavers_cohort ON leavers(cohort);"
	"CREATE TABLE outbox ("
	"  message_id TEXT PRIMARY KEY,"	/* UUIDv7: inserts append */
	"  peer TEXT NOT NULL,"
	"  body_case INTEGER NOT NULL,"
	"  key_id INTEGER REFERENCES pupil_keys(id),"
	"  sealed BLOB NOT NULL,"		/* sealed packed Envelope */
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL, first_sent_at INTEGER, acked_at INTEGER,"
	"  attempts INTEGER NOT NULL DEFAULT 0, reason TEXT) WITHOUT ROWID;"
	"CREATE INDEX outbox_pending ON outbox(peer, message_id) WHERE state = 0;"
	"CREATE TABLE inbox ("
	"  message_id TEXT PRIMARY KEY,"
	"  record_id TEXT NOT NULL UNIQUE,"
	"  sender TEXT NOT NULL,"
	"  key_id INTEGER NOT NULL REFERENCES pupil_keys(id),"
	"  sealed BLOB NOT NULL,"		/* sealed packed Envelope, signature included */
	"  pseudonym BLOB NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  cohort TEXT NOT NULL, program INTEGER NOT NULL, destination INTEGER NOT NULL,"
	"  exit_date TEXT NOT NULL) WITHOUT ROWID;",
	/* 1 -> 2: the audit log (audit.h) */
	AUDIT_SCHEMA_SQL,
	/* 2 -> 3: consent records (design.md §3); the evidence reference is sealed
	 * under the pupil's key, so an erasure takes it along */
	"CREATE TABLE consents ("
	"  id TEXT PRIMARY KEY,"
	"  leaver_id INTEGER NOT NULL REFERENCES leavers(id),"
	"  purpose INTEGER NOT NULL, counterpart TEXT NOT NULL, grantor INTEGER NOT NULL,"
	"  granted_at TEXT NOT NULL, valid_until TEXT NOT NULL,"
	"  evidence_method TEXT NOT NULL, evidence_ref BLOB NOT NULL,"
	"  recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL,"
	"  withdrawn_at TEXT NOT NULL DEFAULT '', withdrawn_by TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX consents_leaver ON consents(leaver_id);",
	/* 3 -> 4: statuses and outcomes, both directions (pseudonymous: record
	 * ids, never a PGN); the consent an outgoing disclosure relies on, so
	 * that every send can check it again; withdrawals a peer told us of;
	 * leavers found by the PGN pseudonym when a registration comes in */
	"ALTER TABLE outbox ADD COLUMN consent_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE outbox ADD COLUMN consent_until TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE events ("
	"  message_id TEXT PRIMARY KEY,"
	"  record_id TEXT NOT NULL,"
	"  inbound INTEGER NOT NULL,"		/* 1 received, 0 sent */
	"  peer TEXT NOT NULL,"
	"  event INTEGER NOT NULL,"		/* enum outcome_event */
	"  date TEXT NOT NULL, level INTEGER NOT NULL,"
	"  consent_id TEXT NOT NULL,"
	"  at INTEGER NOT NULL, actor TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX events_record ON events(record_id);"
	"CREATE TABLE revoked (consent_id TEXT PRIMARY KEY, peer TEXT NOT NULL,"
	"  at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX leavers_pseudonym ON leavers(pseudonym);",
	/* 4 -> 5: withdrawal and erasure (design.md §3), audit checkpoints (design.md §5).
	 * A withdrawal row is what we told a peer; its receipt fills the rest.
	 * erased_at marks rows whose pupil key is gone (retention or erasure). */
	"ALTER TABLE leavers ADD COLUMN erased_at INTEGER;"
	"ALTER TABLE inbox ADD COLUMN erased_at INTEGER;"
	"ALTER TABLE inbox ADD COLUMN erased_what TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE withdrawals ("
	"  message_id TEXT PRIMARY KEY,"
	"  peer TEXT NOT NULL, record_id TEXT NOT NULL, consent_ids TEXT NOT NULL,"
	"  reason TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,"
	"  receipt_id TEXT, receipt_at INTEGER, erased TEXT, erased_at INTEGER,"
	"  receipt_envelope BLOB) WITHOUT ROWID;"	/* signed: evidence */
	"CREATE INDEX withdrawals_record ON withdrawals(record_id);"
	"CREATE TABLE checkpoints ("
	"  peer TEXT NOT NULL, kind INTEGER NOT NULL,"	/* 0 the peer's chain, 1 ours as it holds it */
	"  seq INTEGER NOT NULL, head BLOB NOT NULL, at INTEGER NOT NULL,"
	"  PRIMARY KEY (peer, kind)) WITHOUT ROWID;"
	"CREATE TABLE withdrawals_rx ("		/* receiver: answered, by message id */
	"  message_id TEXT PRIMARY KEY, peer TEXT NOT NULL, record_id TEXT NOT NULL,"
	"  receipt_id TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;",
	/* 5 -> 6: consents a school granted after the dossier left, told to
	 * the receiver (ConsentNotice): relied on as if they had travelled
	 * with the dossier. Packed ConsentAssertion; no personal data. */
	"CREATE TABLE assertions ("
	"  consent_id TEXT PRIMARY KEY, record_id TEXT NOT NULL, sender TEXT NOT NULL,"
	"  assertion BLOB NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX assertions_record ON assertions(record_id);",
	/* 6 -> 7: covering indexes for the report (report.h): the leavers and
	 * the events received, both in record id order, so that one merge of
	 * two index scans replaces a join (seconds at a million leavers) */
	"CREATE INDEX leavers_report ON leavers(record_id, state, cohort, program, destination,"
	"  destination_institution, advice, advice_followed, level_taal, level_rekenen);"
	"CREATE INDEX events_report ON events(inbound, record_id, event, date);",
	/* 7 -> 8: limits both sides know (design.md §4.5): what each peer said
	 * in its last Hello, so the outbox parks at queue time what it would
	 * refuse; parked messages (state 4) found without a scan; the inbox
	 * by sender, for the per-peer stored-bytes quota; settled messages
	 * under the outbox key emptied (design.md §3.9) */
	"CREATE TABLE peers ("
	"  peer TEXT PRIMARY KEY, software TEXT NOT NULL, max_protocol INTEGER NOT NULL,"
	"  max_message_size INTEGER NOT NULL, max_messages_per_hour INTEGER NOT NULL,"
	"  max_stored_bytes INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX outbox_parked ON outbox(peer, message_id) WHERE state = 4;"
	"CREATE INDEX inbox_sender ON inbox(sender) WHERE erased_at IS NULL;"
	/* settled messages under the outbox key are emptied from now on
	 * (store.c OUTBOX_SHRED); those settled before, too */
	"UPDATE outbox SET sealed = X'' WHERE key_id IS NULL AND state IN (1, 2, 3);"
	/* audit incidents (design.md §5.6): a mismatching witness or a peer's
	 * chain that went back, kept until an administrator acknowledges it,
	 * whatever later checkpoints say */
	"CREATE TABLE incidents ("
	"  id INTEGER PRIMARY KEY, peer TEXT NOT NULL, kind TEXT NOT NULL,"
	"  seq INTEGER NOT NULL, head BLOB NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL,"
	"  acked_at INTEGER, acked_by TEXT, note TEXT,"
	"  UNIQUE (peer, kind, seq, head));",
	/* 8 -> 9: registrations a receiver sent, findable by the PGN's
	 * pseudonym for the subject report (design.md §3.11) until the dossier
	 * they concern is erased or retention ends them */
	"CREATE TABLE registrations_sent ("
	"  message_id TEXT PRIMARY KEY, pseudonym BLOB NOT NULL, school TEXT NOT NULL,"
	"  registered_on TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX registrations_sent_pseudonym ON registrations_sent(pseudonym);",
	/* 9 -> 10: what a receiver refused for good (state 3) listed and counted
	 * without a scan: `outbox list --refused` and a line in `status`
	 * (design.md §4.6); the diploma a dossier told, for the intake by
	 * previous education; the MBO's own enrolment list (design.md §5.3,
	 * §6.3), its PGN sealed under a key of its own like a dossier, found by
	 * the pseudonym dossiers have, linked to the dossier received */
	"CREATE INDEX outbox_refused ON outbox(peer, message_id) WHERE state = 3;"
	"ALTER TABLE inbox ADD COLUMN diploma INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE enrolments ("
	"  id INTEGER PRIMARY KEY,"
	"  pseudonym BLOB NOT NULL,"		/* HMAC(pgn:PGN), as inbox.pseudonym */
	"  key_id INTEGER NOT NULL REFERENCES pupil_keys(id),"
	"  pii BLOB NOT NULL,"			/* the PGN, sealed under key_id */
	"  level INTEGER NOT NULL,"		/* MBO level 1-4 */
	"  start_date TEXT NOT NULL,"
	"  previous INTEGER NOT NULL,"		/* enum Program, 0 = not known */
	"  record_id TEXT,"			/* the dossier received, once there is one */
	"  imported_at INTEGER NOT NULL, imported_by TEXT NOT NULL,"
	"  erased_at INTEGER, erased_what TEXT NOT NULL DEFAULT '',"
	"  UNIQUE (pseudonym, start_date));"
	"CREATE INDEX enrolments_record ON enrolments(record_id);",

	/* 10 -> 11: whether the pupil or parents agree with the dossier at
	 * inzage (OSO inzage rules, design.md §3.4): 0 = not asked (every inzage
	 * recorded before this step), 1 yes, 2 no, as enum Tristate. A plain
	 * column like the reviewer: it names no one. Their reasons are the
	 * family's words and live in the sealed pii (LeaverPrivate), as remarks. */
	"ALTER TABLE leavers ADD COLUMN inzage_agrees INTEGER NOT NULL DEFAULT 0;",

	/* 11 -> 12: start-up and status at any size (issue 14, design.md §5.3).
	 * The retention job's scans go through partial indexes of what is not
	 * erased yet, by the date they compare, instead of reading every row
	 * (and, for the inbox, the overflow pages of its sealed blobs, which
	 * come before erased_at). `status` reads a count kept by triggers
	 * instead of count(*) over the inbox. */
	"CREATE INDEX inbox_retention ON inbox(received_at) WHERE erased_at IS NULL;"
	"CREATE INDEX leavers_retention ON leavers(coalesce(delivered_at, imported_at))"
	"  WHERE erased_at IS NULL AND state IN (0, 2, 3);"
	"CREATE INDEX enrolments_retention ON enrolments(imported_at) WHERE erased_at IS NULL;"
	"CREATE TABLE counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO counts VALUES ('inbox', (SELECT count(*) FROM inbox));"
	"CREATE TRIGGER inbox_count_ins AFTER INSERT ON inbox BEGIN"
	"  UPDATE counts SET n = n + 1 WHERE name = 'inbox'; END;"
	"CREATE TRIGGER inbox_count_del AFTER DELETE ON inbox BEGIN"
	"  UPDATE counts SET n = n - 1 WHERE name = 'inbox'; END;",

	/* 12 -> 13: the outbox's depth and parked count per peer kept by
	 * triggers (design.md §5.3). The loop read them with count(*) over the
	 * pending rows after every chunk of a streaming send: O(depth) each
	 * time, about 490 times for a year of 250,000 dossiers. Every path that
	 * adds, moves or removes a row goes through these triggers, so no
	 * caller can forget to keep the count. */
	"CREATE TABLE outbox_counts (peer TEXT NOT NULL, state INTEGER NOT NULL,"
	"  n INTEGER NOT NULL, PRIMARY KEY (peer, state)) WITHOUT ROWID;"
	"INSERT INTO outbox_counts SELECT peer, state, count(*) FROM outbox GROUP BY peer, state;"
	"CREATE TRIGGER outbox_count_ins AFTER INSERT ON outbox BEGIN"
	"  INSERT INTO outbox_counts VALUES (new.peer, new.state, 1)"
	"    ON CONFLICT (peer, state) DO UPDATE SET n = n + 1; END;"
	"CREATE TRIGGER outbox_count_del AFTER DELETE ON outbox BEGIN"
	"  UPDATE outbox_counts SET n = n - 1 WHERE peer = old.peer AND state = old.state; END;"
	"CREATE TRIGGER outbox_count_upd AFTER UPDATE OF peer, state ON outbox"
	"  WHEN old.peer IS NOT new.peer OR old.state IS NOT new.state BEGIN"
	"  UPDATE outbox_counts SET n = n - 1 WHERE peer = old.peer AND state = old.state;"
	"  INSERT INTO outbox_counts VALUES (new.peer, new.state, 1)"
	"    ON CONFLICT (peer, state) DO UPDATE SET n = n + 1; END;",

	/* 13 -> 14: the inbox's count kept by store_inbox_put, the one place
	 * that inserts a dossier, in the same transaction (design.md §5.3),
	 * instead of by a trigger: a trigger makes every INSERT a multi-write
	 * statement, which SQLite guards with a statement journal; in the
	 * receive batch's transaction that journal outgrew its 64 KiB in memory
	 * and wrote every touched page of every later insert to a temporary
	 * file (issue 14: ~10 pwrites and 20-40 KiB per dossier received, a
	 * sixth of the receiver's CPU). The delete trigger stays: nothing
	 * deletes inbox rows in bulk on a hot path. */
	"DROP TRIGGER inbox_count_ins;",

	/* 14 -> 15: the same retention index of leavers, its condition without
	 * a list of three values (issue 14). sqlite evaluates a partial index's
	 * WHERE for the old and the new row of every write to the table, and
	 * for `state IN (0, 2, 3)` it builds a temporary b-tree of the list each
	 * time (a list of two or fewer is compared in place): two per dossier
	 * queued and two per dossier acknowledged, 6 % of the school's CPU while
	 * sending. The leavers' states are 0..4, so these are the same rows;
	 * store.c ST_RET_SENT says it the same way, or the index is not used. */
	"DROP INDEX leavers_retention;"
	"CREATE INDEX leavers_retention ON leavers(coalesce(delivered_at, imported_at))"
	"  WHERE erased_at IS NULL AND state NOT IN (1, 4);",

	/* 15 -> 16: the outbox counts of 12 -> 13 kept in memory instead
	 * (store_ocount.c, design.md §5.3): counted from the partial indexes
	 * at open and moved by the statements that move rows. The triggers made
	 * every outbox insert and update a statement with a sub-program and a
	 * statement journal, 8 % of the school's CPU while sending (issue 14);
	 * the counts of settled states were never read. */
	"DROP TRIGGER outbox_count_ins;"
	"DROP TRIGGER outbox_count_del;"
	"DROP TRIGGER outbox_count_upd;"
	"DROP TABLE outbox_counts;",
};
_Static_assert(ARRAY_SIZE(s_migrations) == STORE_SCHEMA_VERSION, "a migration per version");

/* Run the migrations user_version has not seen, each in its own transaction:
 * a failed one leaves the store at the version before it. A store newer than
 * this build is refused rather than guessed at. */
int store_schema_migrate(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version = 0, r;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > (int)ARRAY_SIZE(s_migrations)) {
		snprintf(err, errlen, "store schema version %d is newer than this overstapd (%d)",
			 version, (int)ARRAY_SIZE(s_migrations));
		return -EPROTO;
	}
	for (int v = version; v < (int)ARRAY_SIZE(s_migrations); v++) {
		char *msg = NULL, pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, s_migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "migration to schema %d failed: %s", v + 1,
				 msg ? msg : "unknown error");
			r = sqlerr_errno(sqlite3_errcode(db));
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return r ? r : -EIO;
		}
	}
	return 0;
}
