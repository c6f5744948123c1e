/* store: overstapd's sqlite store. See store.h for the model; the SQL lives in
 * the two tables below (migrations, prepared statements). */
#include "store.h"
#include "audit.h"
#include "outcomes.h"
#include "vocab.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
	/* 2 -> 3: consent records (SPEC §3); the evidence reference is sealed
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
	/* 4 -> 5: withdrawal and erasure (SPEC §3), audit checkpoints (SPEC §5).
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
};
_Static_assert(ARRAY_SIZE(s_migrations) == STORE_SCHEMA_VERSION, "a migration per version");

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_KEY_INS, ST_KEY_GET,
	ST_LEAVER_INS, ST_LEAVER_BY_REF, ST_LEAVER_BY_ID, ST_LEAVER_REG, ST_LEAVER_INZ,
	ST_LEAVER_QUEUED, ST_LEAVERS_EACH, ST_LEAVERS_READY, ST_LEAVER_DELIVERED,
	ST_LEAVER_CANCELLED,
	ST_OUTBOX_INS, ST_OUTBOX_PENDING, ST_OUTBOX_ACK, ST_OUTBOX_DEPTH, ST_OUTBOX_OLDEST,
	ST_OUTBOX_RESEAL, ST_OUTBOX_GET,
	ST_CONSENT_INS, ST_CONSENT_WITHDRAW, ST_CONSENT_GET, ST_CONSENTS_EACH,
	ST_OUTBOX_CONSENT, ST_OUTBOX_CANCEL, ST_CONSENT_REVOKED, ST_EVENT_INS, ST_EVENTS_OF,
	ST_LEAVER_BY_RECORD, ST_LEAVER_BY_PSEUDONYM, ST_REVOKE,
	ST_INBOX_EXISTS, ST_INBOX_INS, ST_INBOX_EACH, ST_INBOX_GET, ST_INBOX_COUNT,
	ST_KEY_SHRED, ST_LEAVER_SHRED, ST_LEAVER_ERASE, ST_EVENTS_DEL_RECORD, ST_OUTBOX_CANCEL_KEY,
	ST_INBOX_ERASE, ST_INBOX_KEY, ST_INBOX_RESEAL, ST_OUTBOX_CANCEL_CONSENT,
	ST_WD_INS, ST_WD_RECEIPT, ST_WD_EACH, ST_CP_GET, ST_CP_PUT, ST_CP_EACH,
	ST_RET_SENT, ST_RET_RECEIVED, ST_RET_EVENTS, ST_INBOX_BY_PSEUDONYM,
	ST_WDRX_GET, ST_WDRX_INS, ST_ASSERT_INS, ST_ASSERT_OF, ST_ASSERT_DEL,
	ST_REPORT_SEND, ST_REPORT_RECV, ST_REPORT_CONSENTS, ST_REPORT_EVENTS, ST_REPORT_COUNT,
	ST__N
};

#define CONSENT_COLS \
	"c.id, c.leaver_id, c.purpose, c.counterpart, c.grantor, c.granted_at, c.valid_until," \
	" c.evidence_method, c.evidence_ref, c.recorded_by, c.recorded_at, c.withdrawn_at," \
	" c.withdrawn_by, l.key_id"
#define LEAVER_COLS \
	"id, key_id, pii, program, cohort, exit_date, destination, destination_institution," \
	" advice, advice_followed, level_taal, level_rekenen, registered_on, inzage_on," \
	" inzage_reviewer, inzage_recorded_by, state, record_id, message_id, queued_at," \
	" delivered_at, (SELECT attempts FROM outbox o WHERE o.message_id = leavers.message_id),"\
	" ref_hash, coalesce(erased_at, 0)"

static const char *const s_sql[ST__N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_KEY_INS] = "INSERT INTO pupil_keys(wrapped, created_at) VALUES (?1, ?2)",
	[ST_KEY_GET] = "SELECT wrapped FROM pupil_keys WHERE id = ?1",
	[ST_LEAVER_INS] =
		"INSERT INTO leavers(key_id, ref_hash, pseudonym, pii, program, cohort, exit_date,"
		" destination, destination_institution, advice, advice_followed, level_taal,"
		" level_rekenen, imported_at, imported_by)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
	[ST_LEAVER_BY_REF] = "SELECT " LEAVER_COLS " FROM leavers WHERE ref_hash = ?1",
	[ST_LEAVER_BY_ID] = "SELECT " LEAVER_COLS " FROM leavers WHERE id = ?1",
	[ST_LEAVER_REG] = "UPDATE leavers SET registered_on = ?2, registered_by = ?3 WHERE id = ?1",
	[ST_LEAVER_INZ] = "UPDATE leavers SET inzage_on = ?2, inzage_reviewer = ?3,"
			  " inzage_recorded_by = ?4, pii = ?5 WHERE id = ?1",
	[ST_LEAVER_QUEUED] = "UPDATE leavers SET state = 1, record_id = ?2, message_id = ?3,"
			     " queued_at = ?4 WHERE id = ?1 AND state = 0",
	[ST_LEAVERS_EACH] = "SELECT " LEAVER_COLS " FROM leavers"
			    " WHERE (?1 < 0 OR state = ?1) AND (?2 IS NULL OR cohort = ?2)"
			    " ORDER BY id LIMIT ?3",
	[ST_LEAVERS_READY] = "SELECT id FROM leavers WHERE state = 0 AND registered_on IS NOT NULL"
			     " AND inzage_on IS NOT NULL AND destination_institution IS NOT NULL"
			     " ORDER BY id",
	[ST_LEAVER_DELIVERED] = "UPDATE leavers SET state = 2, delivered_at = ?2"
				" WHERE message_id = ?1 AND state = 1",
	[ST_LEAVER_CANCELLED] = "UPDATE leavers SET state = 3 WHERE message_id = ?1 AND state = 1",
	[ST_OUTBOX_INS] = "INSERT INTO outbox(message_id, peer, body_case, key_id, sealed, created_at)"
			  " VALUES (?1,?2,?3,?4,?5,?6)",
	[ST_OUTBOX_PENDING] = "SELECT message_id, created_at, key_id, sealed, consent_id,"
			      " consent_until FROM outbox"
			      " WHERE peer = ?1 AND state = 0 AND message_id > ?2"
			      " ORDER BY message_id LIMIT ?3",
	[ST_OUTBOX_ACK] = "UPDATE outbox SET state = ?3, reason = ?4, first_sent_at = ?5,"
			  " attempts = ?6, acked_at = ?7 WHERE message_id = ?1 AND peer = ?2"
			  " AND state = 0",
	/* Depth by the partial index; the oldest is the first by id (UUIDv7 is
	 * time-ordered), found through the index instead of a scan. */
	[ST_OUTBOX_DEPTH] = "SELECT count(*) FROM outbox WHERE peer = ?1 AND state = 0",
	[ST_OUTBOX_OLDEST] = "SELECT created_at FROM outbox WHERE peer = ?1 AND state = 0"
			     " ORDER BY message_id LIMIT 1",
	[ST_CONSENT_INS] = "INSERT INTO consents(id, leaver_id, purpose, counterpart, grantor,"
			   " granted_at, valid_until, evidence_method, evidence_ref, recorded_by,"
			   " recorded_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
	[ST_CONSENT_WITHDRAW] = "UPDATE consents SET withdrawn_at = ?2, withdrawn_by = ?3"
				" WHERE id = ?1 AND withdrawn_at = ''",
	[ST_CONSENT_GET] = "SELECT " CONSENT_COLS " FROM consents c JOIN leavers l"
			   " ON l.id = c.leaver_id WHERE c.id = ?1",
	[ST_CONSENTS_EACH] = "SELECT " CONSENT_COLS " FROM consents c JOIN leavers l"
			     " ON l.id = c.leaver_id WHERE ?1 < 0 OR c.leaver_id = ?1"
			     " ORDER BY c.leaver_id, c.granted_at, c.id",
	[ST_OUTBOX_CONSENT] = "UPDATE outbox SET consent_id = ?2, consent_until = ?3 WHERE message_id = ?1",
	[ST_OUTBOX_CANCEL] = "UPDATE outbox SET state = 2, reason = ?2 WHERE message_id = ?1 AND state = 0",
	/* withdrawn here (on or before today) or by the peer that held it */
	[ST_CONSENT_REVOKED] = "SELECT 1 FROM consents WHERE id = ?1 AND withdrawn_at <> ''"
			       " AND withdrawn_at <= ?2 UNION ALL SELECT 1 FROM revoked"
			       " WHERE consent_id = ?1 LIMIT 1",
	[ST_REVOKE] = "INSERT OR IGNORE INTO revoked(consent_id, peer, at) VALUES (?1,?2,?3)",
	[ST_EVENT_INS] = "INSERT INTO events(message_id, record_id, inbound, peer, event, date, level,"
			 " consent_id, at, actor) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	[ST_EVENTS_OF] = "SELECT e.message_id, e.inbound, e.peer, e.event, e.date, e.level,"
			 " e.consent_id, e.at, e.actor, coalesce(o.state, -1), coalesce(o.reason, '')"
			 " FROM events e LEFT JOIN outbox o ON o.message_id = e.message_id"
			 " WHERE e.record_id = ?1 ORDER BY e.date, e.at",
	[ST_LEAVER_BY_RECORD] = "SELECT " LEAVER_COLS " FROM leavers WHERE record_id = ?1",
	/* a pupil who left twice has one pseudonym: the latest leaver row */
	[ST_LEAVER_BY_PSEUDONYM] = "SELECT " LEAVER_COLS " FROM leavers WHERE pseudonym = ?1"
				   " ORDER BY id DESC LIMIT 1",
	[ST_OUTBOX_GET] = "SELECT key_id, sealed FROM outbox WHERE message_id = ?1",
	[ST_OUTBOX_RESEAL] = "UPDATE outbox SET sealed = ?2 WHERE message_id = ?1 AND state = 0",
	[ST_INBOX_EXISTS] = "SELECT message_id = ?1 FROM inbox WHERE message_id = ?1 OR record_id = ?2",
	[ST_INBOX_INS] = "INSERT INTO inbox(message_id, record_id, sender, key_id, sealed, pseudonym,"
			 " received_at, cohort, program, destination, exit_date)"
			 " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
	[ST_INBOX_EACH] = "SELECT message_id, record_id, sender, received_at, cohort, program,"
			  " destination, coalesce(erased_at, 0), erased_what FROM inbox WHERE (?1 IS NULL OR cohort = ?1)"
			  " ORDER BY message_id LIMIT ?2",
	[ST_INBOX_GET] = "SELECT message_id, record_id, sender, received_at, cohort, program,"
			 " destination, coalesce(erased_at, 0), erased_what, key_id, sealed FROM inbox"
			 " WHERE record_id = ?1",
	[ST_INBOX_COUNT] = "SELECT count(*) FROM inbox",
	/* crypto-shredding: the wrapped key goes (secure_delete overwrites it) */
	[ST_KEY_SHRED] = "UPDATE pupil_keys SET wrapped = NULL, destroyed_at = ?2"
			 " WHERE id = ?1 AND wrapped IS NOT NULL",
	[ST_LEAVER_SHRED] = "UPDATE leavers SET erased_at = ?2 WHERE id = ?1 AND erased_at IS NULL",
	/* erasure: no pseudonym or lookup hash links the row to the pupil any more */
	[ST_LEAVER_ERASE] = "UPDATE leavers SET state = 4, erased_at = coalesce(erased_at, ?2),"
			    " ref_hash = randomblob(32),"
			    " pseudonym = randomblob(32) WHERE id = ?1",
	[ST_EVENTS_DEL_RECORD] = "DELETE FROM events WHERE record_id = ?1",
	[ST_OUTBOX_CANCEL_KEY] = "UPDATE outbox SET state = 2, reason = ?2 WHERE key_id = ?1 AND state = 0",
	[ST_INBOX_ERASE] = "UPDATE inbox SET erased_at = ?2, erased_what = ?3,"
			   " pseudonym = randomblob(32) WHERE record_id = ?1 AND erased_at IS NULL",
	[ST_INBOX_KEY] = "SELECT key_id, sender, erased_at IS NOT NULL FROM inbox WHERE record_id = ?1",
	[ST_INBOX_RESEAL] = "UPDATE inbox SET sealed = ?2, erased_what = ?3 WHERE record_id = ?1",
	[ST_OUTBOX_CANCEL_CONSENT] = "UPDATE outbox SET state = 2, reason = ?2 WHERE consent_id = ?1"
				     " AND state = 0",
	[ST_WD_INS] = "INSERT INTO withdrawals(message_id, peer, record_id, consent_ids, reason, at, actor)"
		      " VALUES (?1,?2,?3,?4,?5,?6,?7)",
	[ST_WD_RECEIPT] = "UPDATE withdrawals SET receipt_id = ?3, receipt_at = ?4, erased = ?5,"
			  " erased_at = ?6, receipt_envelope = ?7"
			  " WHERE message_id = ?1 AND peer = ?2 AND receipt_id IS NULL",
	[ST_WD_EACH] = "SELECT message_id, peer, record_id, consent_ids, reason, at, actor,"
		       " coalesce(receipt_id, ''), coalesce(receipt_at, 0), coalesce(erased, ''),"
		       " coalesce(erased_at, 0) FROM withdrawals"
		       " WHERE ?1 IS NULL OR record_id = ?1 ORDER BY message_id",
	[ST_CP_GET] = "SELECT seq, head, at FROM checkpoints WHERE peer = ?1 AND kind = ?2",
	[ST_CP_PUT] = "INSERT OR REPLACE INTO checkpoints(peer, kind, seq, head, at) VALUES (?1,?2,?3,?4,?5)",
	[ST_CP_EACH] = "SELECT peer, kind, seq, head, at FROM checkpoints ORDER BY peer, kind",
	/* delivered ones from their delivery; never sent or cancelled ones from
	 * their import, so no pupil's data stays for good (queued: in flight) */
	[ST_RET_SENT] = "SELECT id FROM leavers WHERE erased_at IS NULL AND state IN (0, 2, 3)"
			" AND coalesce(delivered_at, imported_at) < ?1 ORDER BY id LIMIT 1000",
	[ST_RET_RECEIVED] = "SELECT record_id FROM inbox WHERE erased_at IS NULL AND received_at < ?1"
			    " ORDER BY message_id LIMIT 1000",
	[ST_RET_EVENTS] = "DELETE FROM events WHERE date < ?1",
	[ST_ASSERT_INS] = "INSERT OR IGNORE INTO assertions(consent_id, record_id, sender, assertion, at)"
			  " VALUES (?1,?2,?3,?4,?5)",
	[ST_ASSERT_OF] = "SELECT assertion FROM assertions WHERE record_id = ?1 ORDER BY at",
	[ST_ASSERT_DEL] = "DELETE FROM assertions WHERE consent_id = ?1 AND sender = ?2",
	/* One pass each: the leavers (or dossiers received) with the first date
	 * of each event that matters, aggregated per record in one scan of the
	 * events. Event numbers are enum outcome_event (checked below). */
	/* Two covering index scans in record id order, merged in C, and the
	 * consents that count (store_report_sending) */
	[ST_REPORT_SEND] =
		"SELECT coalesce(record_id, ''), id, cohort, program, destination,"
		" coalesce(destination_institution, ''), advice, advice_followed, level_taal,"
		" level_rekenen, state FROM leavers INDEXED BY leavers_report"
		" WHERE state <> 4 ORDER BY record_id",
	[ST_REPORT_EVENTS] = "SELECT record_id, event, date FROM events INDEXED BY events_report"
			     " WHERE inbound = 1 ORDER BY record_id",
	[ST_REPORT_CONSENTS] =
		"SELECT c.leaver_id FROM consents c JOIN leavers l ON l.id = c.leaver_id"
		" WHERE c.purpose = 2 AND c.withdrawn_at = ''"
		" AND (c.counterpart = '*' OR c.counterpart = l.destination_institution)",
	[ST_REPORT_COUNT] = "SELECT max(id) FROM leavers",
	[ST_REPORT_RECV] =
		"SELECT i.cohort, i.program, i.sender, i.destination, i.received_at,"
		" ev.enrolled, ev.held, ev.diploma, ev.progressed, ev.lwd"
		" FROM inbox i LEFT JOIN (SELECT record_id,"
		"   min(CASE WHEN event = 5 THEN date END) AS enrolled,"
		"   min(CASE WHEN event = 6 THEN date END) AS held,"
		"   min(CASE WHEN event = 8 THEN date END) AS diploma,"
		"   min(CASE WHEN event = 9 THEN date END) AS progressed,"
		"   min(CASE WHEN event = 11 THEN date END) AS lwd"
		"   FROM events WHERE inbound = 0 GROUP BY record_id) ev ON ev.record_id = i.record_id"
		" WHERE i.erased_what <> 'erase'",
	[ST_WDRX_GET] = "SELECT 1 FROM withdrawals_rx WHERE message_id = ?1",
	[ST_WDRX_INS] = "INSERT INTO withdrawals_rx(message_id, peer, record_id, receipt_id, at)"
			" VALUES (?1,?2,?3,?4,?5)",
	[ST_INBOX_BY_PSEUDONYM] = "SELECT record_id FROM inbox WHERE pseudonym = ?1 ORDER BY message_id",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__N];		/* prepared once at open */
	uint8_t master[CRYPTO_KEY_LEN];		/* wraps per-pupil keys; wiped at close */
	uint8_t pseudo_key[CRYPTO_KEY_LEN];	/* HMAC key for pseudonyms */
	uint8_t outbox_key[CRYPTO_KEY_LEN];	/* seals outbox entries not tied to a pupil */
	struct audit *audit;			/* the audit chain, on the same connection */
};

static const char s_key_aad[] = "overstap-pupil-key-v1";

/* Translate sqlite result codes at the module boundary (STYLE 4). */
static int s_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return 0;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CONSTRAINT: return -EEXIST;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: return -EUCLEAN;
	default: return -EIO;
	}
}

static sqlite3_stmt *s_st(struct store *s, int which)
{
	sqlite3_stmt *st = s->st[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Step a statement that returns no rows. */
static int s_exec_st(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : s_err(rc);

	sqlite3_reset(st);
	return r;
}

static void s_text(sqlite3_stmt *st, int col, char *dst, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	str_copy(dst, len, t ? (const char *)t : "");
}

static int s_migrate(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version = 0, r;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
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
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, s_migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "migration to schema %d failed: %s", v + 1,
				 msg ? msg : "unknown error");
			r = s_err(sqlite3_errcode(s->db));
			sqlite3_free(msg);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return r ? r : -EIO;
		}
	}
	return 0;
}

/* Bind the store to its master key: a store opened with another master.key
 * (a regenerated or mixed-up key set) is refused at once instead of failing
 * on every pupil later. */
static int s_check_master(struct store *s, char *err, size_t errlen)
{
	static const char label[] = "overstap store key check v1";
	uint8_t mac[32];
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = crypto_hmac_sha256(s->master, sizeof(s->master), label, sizeof(label) - 1, mac)) < 0)
		return r;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'key_check'", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = sqlite3_column_bytes(st, 0) == 32 &&
		    CRYPTO_memcmp(sqlite3_column_blob(st, 0), mac, 32) == 0 ? 0 : -EKEYREJECTED;
		sqlite3_finalize(st);
		if (r < 0)
			snprintf(err, errlen, "the master key does not match this store "
				 "(was master.key replaced or mixed up with another institution's?)");
		return r;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO meta(key, value) VALUES ('key_check', ?1)", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_blob(st, 1, mac, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : s_err(rc);
}

static int s_audit_open(struct store *s, const uint8_t master[CRYPTO_KEY_LEN])
{
	uint8_t key[CRYPTO_KEY_LEN];
	int r = crypto_hkdf(master, "overstap audit v1", key);

	if (r == 0)
		r = audit_open(s->db, key, &s->audit);
	crypto_wipe(key, sizeof(key));
	return r;
}

int store_open(const char *path, const uint8_t master[CRYPTO_KEY_LEN], struct store **out,
	       char *err, size_t errlen)
{
	static const char pragmas[] = "PRAGMA journal_mode = WAL;"
				      "PRAGMA synchronous = FULL;"   /* acked means on disk */
				      "PRAGMA foreign_keys = ON;"
				      "PRAGMA secure_delete = ON;";  /* shredded keys are overwritten */
	struct store *s = calloc(1, sizeof(*s));
	char *msg = NULL;
	mode_t old;
	int r = -EIO, rc;

	if (!s)
		return -ENOMEM;
	memcpy(s->master, master, CRYPTO_KEY_LEN);
	if (crypto_hkdf(master, "overstap pseudonym v1", s->pseudo_key) < 0 ||
	    crypto_hkdf(master, "overstap outbox v1", s->outbox_key) < 0) {
		snprintf(err, errlen, "cannot derive store keys");
		goto out;
	}
	old = umask(077);	/* database, WAL and shm files: owner only */
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		r = s_err(rc);
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot set pragmas");
		r = s_err(sqlite3_errcode(s->db));
		goto out;
	}
	r = s_migrate(s, err, errlen);
	if (r < 0)
		goto out;
	r = s_check_master(s, err, errlen);
	if (r < 0)
		goto out;
	r = s_audit_open(s, master);
	if (r < 0) {
		snprintf(err, errlen, "cannot open the audit log: %s", strerror(-r));
		goto out;
	}
	for (int i = 0; i < ST__N; i++)
		if (sqlite3_prepare_v3(s->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(s->db));
			r = -EIO;
			goto out;
		}
	*out = s;
	s = NULL; /* transferred */
	r = 0;
out:
	sqlite3_free(msg);
	store_close(&s);
	return r;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;

	if (!s)
		return;
	audit_free(&s->audit);	/* its statements live on s->db */
	for (int i = 0; i < ST__N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	crypto_wipe(s, sizeof(*s));
	free(s);
	*sp = NULL;
}

int store_begin(struct store *s) { return s_exec_st(s_st(s, ST_BEGIN)); }
int store_commit(struct store *s) { return s_exec_st(s_st(s, ST_COMMIT)); }
void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		s_exec_st(s_st(s, ST_ROLLBACK));
}

int store_audit(struct store *s, const char *actor, const char *action, const char *subject,
		const char *counterpart, const char *detail)
{
	return audit_append(s->audit, time_now_ms(), actor, action, subject, counterpart, detail);
}

struct audit *store_audit_peek(struct store *s) { return s->audit; }

int store_pseudonym(struct store *s, const char *ident, uint8_t out[32])
{
	return crypto_hmac_sha256(s->pseudo_key, sizeof(s->pseudo_key), ident, strlen(ident), out);
}

/* ---- per-pupil data keys ---- */

static int s_key_new(struct store *s, int64_t now, int64_t *id, uint8_t key[CRYPTO_KEY_LEN])
{
	uint8_t *wrapped = NULL;
	size_t wlen = 0;
	sqlite3_stmt *st;
	int r;

	if ((r = crypto_random(key, CRYPTO_KEY_LEN)) < 0)
		return r;
	r = crypto_seal(s->master, s_key_aad, sizeof(s_key_aad), key, CRYPTO_KEY_LEN, &wrapped, &wlen);
	if (r < 0)
		return r;
	st = s_st(s, ST_KEY_INS);
	sqlite3_bind_blob(st, 1, wrapped, (int)wlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	r = s_exec_st(st);
	free(wrapped);
	if (r == 0)
		*id = sqlite3_last_insert_rowid(s->db);
	return r;
}

/* -ENOKEY when the key was shredded: the data it protected is gone for good. */
static int s_key_get(struct store *s, int64_t id, uint8_t key[CRYPTO_KEY_LEN])
{
	sqlite3_stmt *st = s_st(s, ST_KEY_GET);
	uint8_t *plain = NULL;
	size_t plen = 0;
	int rc, r;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOKEY : s_err(rc);
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_reset(st);
		return -ENOKEY;
	}
	r = crypto_open(s->master, s_key_aad, sizeof(s_key_aad), sqlite3_column_blob(st, 0),
			(size_t)sqlite3_column_bytes(st, 0), &plain, &plen);
	sqlite3_reset(st);
	if (r == 0 && plen != CRYPTO_KEY_LEN)
		r = -EBADMSG;
	if (r == 0)
		memcpy(key, plain, CRYPTO_KEY_LEN);
	if (plain) {
		crypto_wipe(plain, plen);
		free(plain);
	}
	return r;
}

/* Seal / open under a pupil key (key_id > 0) or the outbox key. */
static int s_seal(struct store *s, int64_t key_id, const void *aad, size_t aad_len,
		  const void *pt, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t key[CRYPTO_KEY_LEN];
	int r = 0;

	if (key_id > 0)
		r = s_key_get(s, key_id, key);
	else
		memcpy(key, s->outbox_key, sizeof(key));
	if (r == 0)
		r = crypto_seal(key, aad, aad_len, pt, len, out, out_len);
	crypto_wipe(key, sizeof(key));
	return r;
}

static int s_open(struct store *s, int64_t key_id, const void *aad, size_t aad_len,
		  const void *ct, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t key[CRYPTO_KEY_LEN];
	int r = 0;

	if (key_id > 0)
		r = s_key_get(s, key_id, key);
	else
		memcpy(key, s->outbox_key, sizeof(key));
	if (r == 0)
		r = crypto_open(key, aad, aad_len, ct, len, out, out_len);
	crypto_wipe(key, sizeof(key));
	return r;
}

/* Pack and seal a LeaverPrivate; aad is the leaver's ref_hash. */
static int s_seal_private(struct store *s, int64_t key_id, const uint8_t ref_hash[32],
			  const Overstapstore__LeaverPrivate *p, uint8_t **out, size_t *len)
{
	size_t n = overstapstore__leaver_private__get_packed_size(p);
	uint8_t *buf = malloc(n ? n : 1);
	int r;

	if (!buf)
		return -ENOMEM;
	overstapstore__leaver_private__pack(p, buf);
	r = s_seal(s, key_id, ref_hash, 32, buf, n, out, len);
	crypto_wipe(buf, n);
	free(buf);
	return r;
}

/* ---- sending school: leavers ---- */

const char *store_leaver_state_str(int state)
{
	static const char *const names[] = { "imported", "queued", "delivered", "cancelled", "erased" };

	return state >= 0 && state < (int)ARRAY_SIZE(names) ? names[state] : "unknown";
}

void store_leaver_clear(struct leaver *l)
{
	if (l->priv)
		overstapstore__leaver_private__free_unpacked(l->priv, NULL);
	memset(l, 0, sizeof(*l));
}

static int s_ref_hash(struct store *s, const char *pupil_ref, uint8_t out[32])
{
	char buf[128];

	snprintf(buf, sizeof(buf), "ref:%s", pupil_ref);
	return store_pseudonym(s, buf, out);
}

static char *s_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* "code[:note];code[:note]" into SupportNeed structs pointing into `buf` (a
 * writable copy). Validation already happened in leavers.c. */
static size_t s_support_split(char *buf, Overstap__SupportNeed *needs, Overstap__SupportNeed **ptrs,
			      size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(buf, ";", &save); tok && n < max; tok = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(tok, ':');

		overstap__support_need__init(&needs[n]);
		if (colon)
			*colon++ = '\0';
		needs[n].code = s_trim(tok);
		needs[n].note = colon ? s_trim(colon) : "";
		ptrs[n] = &needs[n];
		n++;
	}
	return n;
}

static int s_leaver_insert(struct store *s, const Overstapctl__Leaver *row, const char *user,
			   int64_t now)
{
	Overstapstore__LeaverPrivate p = OVERSTAPSTORE__LEAVER_PRIVATE__INIT;
	Overstap__MentorContact mentor = OVERSTAP__MENTOR_CONTACT__INIT;
	Overstap__SupportNeed needs[32], *ptrs[32];
	char support[520], pseudo_src[128];
	uint8_t key[CRYPTO_KEY_LEN], ref_hash[32], pseudo[32], *pii = NULL;
	size_t pii_len = 0;
	int64_t key_id = 0;
	sqlite3_stmt *st;
	int r;

	str_copy(support, sizeof(support), row->support_needs);
	p.pupil_ref = row->pupil_ref;
	p.pgn = row->pgn;
	p.given_name = row->given_name;
	p.family_name = row->family_name;
	p.birth_date = row->birth_date;
	p.n_support_needs = s_support_split(support, needs, ptrs, ARRAY_SIZE(needs));
	p.support_needs = ptrs;
	mentor.name = row->mentor_name;
	mentor.email = row->mentor_email;
	mentor.phone = row->mentor_phone;
	p.mentor = &mentor;
	/* The report pseudonym follows the pupil (PGN) where there is one, so a
	 * pupil who appears in two cohorts is one pupil. */
	snprintf(pseudo_src, sizeof(pseudo_src), "%s:%s", row->pgn[0] ? "pgn" : "ref",
		 row->pgn[0] ? row->pgn : row->pupil_ref);
	if ((r = s_ref_hash(s, row->pupil_ref, ref_hash)) < 0 ||
	    (r = store_pseudonym(s, pseudo_src, pseudo)) < 0 ||
	    (r = s_key_new(s, now, &key_id, key)) < 0)
		goto out;
	if ((r = s_seal_private(s, key_id, ref_hash, &p, &pii, &pii_len)) < 0)
		goto out;
	st = s_st(s, ST_LEAVER_INS);
	sqlite3_bind_int64(st, 1, key_id);
	sqlite3_bind_blob(st, 2, ref_hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, pseudo, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, pii, (int)pii_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, vocab_program_from_str(row->program));
	sqlite3_bind_text(st, 6, row->cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, row->exit_date, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, vocab_destination_from_str(row->destination_type));
	if (row->destination_institution[0])
		sqlite3_bind_text(st, 9, row->destination_institution, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, vocab_advice_from_str(row->advice));
	sqlite3_bind_int(st, 11, vocab_yesno_from_str(row->advice_followed));
	sqlite3_bind_int(st, 12, vocab_level_from_str(row->level_taal));
	sqlite3_bind_int(st, 13, vocab_level_from_str(row->level_rekenen));
	sqlite3_bind_int64(st, 14, now);
	sqlite3_bind_text(st, 15, user, -1, SQLITE_STATIC);
	r = s_exec_st(st);
out:
	crypto_wipe(key, sizeof(key));
	free(pii);
	return r;
}

int store_leavers_import(struct store *s, const char *file, Overstapctl__Leaver *const *rows,
			 size_t n, const char *user, struct strlist *errors)
{
	int64_t now = time_now_ms();
	int r;

	if ((r = store_begin(s)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		int ri = s_leaver_insert(s, rows[i], user, now);

		if (ri == -EEXIST) {
			strlist_addf(errors, "%s:%u: pupil_ref: %s is already imported", file,
				     rows[i]->line, rows[i]->pupil_ref);
			r = -EINVAL;
		} else if (ri < 0) {
			r = ri;
			break;
		}
	}
	if (r == 0)
		r = store_commit(s);
	if (r < 0)
		store_rollback(s);
	return r;
}

/* Fill l from a row of LEAVER_COLS; the personal part is decrypted to get the
 * pupil_ref, and kept in l->priv when with_private. */
static int s_leaver_read(struct store *s, sqlite3_stmt *st, int with_private, struct leaver *l)
{
	uint8_t *plain = NULL;
	size_t plen = 0;
	int r;

	memset(l, 0, sizeof(*l));
	l->id = sqlite3_column_int64(st, 0);
	l->key_id = sqlite3_column_int64(st, 1);
	l->program = sqlite3_column_int(st, 3);
	s_text(st, 4, l->cohort, sizeof(l->cohort));
	s_text(st, 5, l->exit_date, sizeof(l->exit_date));
	l->destination = sqlite3_column_int(st, 6);
	s_text(st, 7, l->destination_institution, sizeof(l->destination_institution));
	l->advice = sqlite3_column_int(st, 8);
	l->advice_followed = sqlite3_column_int(st, 9);
	l->level_taal = sqlite3_column_int(st, 10);
	l->level_rekenen = sqlite3_column_int(st, 11);
	s_text(st, 12, l->registered_on, sizeof(l->registered_on));
	s_text(st, 13, l->inzage_on, sizeof(l->inzage_on));
	l->inzage_reviewer = sqlite3_column_int(st, 14);
	s_text(st, 15, l->inzage_recorded_by, sizeof(l->inzage_recorded_by));
	l->state = sqlite3_column_int(st, 16);
	s_text(st, 17, l->record_id, sizeof(l->record_id));
	s_text(st, 18, l->message_id, sizeof(l->message_id));
	l->queued_at = sqlite3_column_int64(st, 19);
	l->delivered_at = sqlite3_column_int64(st, 20);
	l->attempts = (unsigned)sqlite3_column_int(st, 21);
	l->erased_at = sqlite3_column_int64(st, 23);
	if (sqlite3_column_bytes(st, 22) != 32)
		return -EUCLEAN;
	r = s_open(s, l->key_id, sqlite3_column_blob(st, 22), 32, sqlite3_column_blob(st, 2),
		   (size_t)sqlite3_column_bytes(st, 2), &plain, &plen);
	if (r == -ENOKEY) {
		str_copy(l->pupil_ref, sizeof(l->pupil_ref), "(erased)");
		return 0;
	}
	if (r < 0)
		return r;
	l->priv = overstapstore__leaver_private__unpack(NULL, plen, plain);
	crypto_wipe(plain, plen);
	free(plain);
	if (!l->priv)
		return -EBADMSG;
	str_copy(l->pupil_ref, sizeof(l->pupil_ref), l->priv->pupil_ref);
	if (!with_private) {
		overstapstore__leaver_private__free_unpacked(l->priv, NULL);
		l->priv = NULL;
	}
	return 0;
}

static int s_leaver_one(struct store *s, sqlite3_stmt *st, int with_private, struct leaver *l)
{
	int rc, r;

	memset(l, 0, sizeof(*l));	/* callers may clear it whatever we return */
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : s_err(rc);
	}
	r = s_leaver_read(s, st, with_private, l);
	sqlite3_reset(st);
	return r;
}

int store_leaver_find(struct store *s, const char *pupil_ref, int with_private, struct leaver *l)
{
	uint8_t ref_hash[32];
	sqlite3_stmt *st;
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = s_ref_hash(s, pupil_ref, ref_hash)) < 0)
		return r;
	st = s_st(s, ST_LEAVER_BY_REF);
	sqlite3_bind_blob(st, 1, ref_hash, 32, SQLITE_TRANSIENT);
	return s_leaver_one(s, st, with_private, l);
}

int store_leaver_load(struct store *s, int64_t id, int with_private, struct leaver *l)
{
	sqlite3_stmt *st = s_st(s, ST_LEAVER_BY_ID);

	sqlite3_bind_int64(st, 1, id);
	return s_leaver_one(s, st, with_private, l);
}

int store_leaver_set_registered(struct store *s, int64_t id, const char *date, const char *user)
{
	sqlite3_stmt *st = s_st(s, ST_LEAVER_REG);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	return s_exec_st(st);
}

int store_leaver_set_inzage(struct store *s, int64_t id, int reviewer, const char *date,
			    const char *remarks, const char *user)
{
	struct leaver l;
	uint8_t ref_hash[32], *pii = NULL;
	size_t pii_len = 0;
	sqlite3_stmt *st;
	int r;

	/* Remarks are free text about the pupil: they live in the sealed part. */
	if ((r = store_leaver_load(s, id, 1, &l)) < 0)
		return r;
	if (!l.priv) {
		r = -ENOKEY;
		goto out;
	}
	l.priv->inzage_remarks = (char *)remarks;
	r = s_ref_hash(s, l.priv->pupil_ref, ref_hash);
	if (r == 0)
		r = s_seal_private(s, l.key_id, ref_hash, l.priv, &pii, &pii_len);
	l.priv->inzage_remarks = NULL;	/* borrowed: keep free_unpacked off it */
	if (r < 0)
		goto out;
	st = s_st(s, ST_LEAVER_INZ);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, date, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, reviewer);
	sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, pii, (int)pii_len, SQLITE_STATIC);
	r = s_exec_st(st);
out:
	free(pii);
	store_leaver_clear(&l);
	return r;
}

int store_leaver_set_queued(struct store *s, int64_t id, const char *record_id,
			    const char *message_id, int64_t now)
{
	sqlite3_stmt *st = s_st(s, ST_LEAVER_QUEUED);
	int r;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	r = s_exec_st(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -EALREADY;
	return r;
}

int store_leavers_each(struct store *s, int state, const char *cohort, unsigned limit,
		       store_leaver_cb cb, void *arg)
{
	sqlite3_stmt *st = s_st(s, ST_LEAVERS_EACH);
	int rc, r = 0;

	sqlite3_bind_int(st, 1, state);
	if (cohort && *cohort)
		sqlite3_bind_text(st, 2, cohort, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct leaver l;

		if ((r = s_leaver_read(s, st, 0, &l)) < 0)
			break;
		r = cb(&l, arg);
		store_leaver_clear(&l);
		if (r)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

int store_leavers_ready(struct store *s, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = s_st(s, ST_LEAVERS_READY);
	int64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			int64_t *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = sqlite3_column_int64(st, 0);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	if (r < 0) {
		free(v);
		return r;
	}
	*ids = v;
	*n = cnt;
	return 0;
}

/* ---- consents ---- */

int store_consent_add(struct store *s, int64_t leaver_id, int64_t key_id, struct consent *c)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	sqlite3_stmt *st;
	int r;

	if ((r = crypto_uuidv7(c->id)) < 0)
		return r;
	r = s_seal(s, key_id, c->id, strlen(c->id), c->evidence_ref, strlen(c->evidence_ref),
		   &sealed, &slen);
	if (r < 0)
		return r;
	st = s_st(s, ST_CONSENT_INS);
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, leaver_id);
	sqlite3_bind_int(st, 3, c->purpose);
	sqlite3_bind_text(st, 4, c->counterpart, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, c->grantor);
	sqlite3_bind_text(st, 6, c->granted_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->valid_until, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, c->evidence_method, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, sealed, (int)slen, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, c->recorded_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, c->recorded_at, -1, SQLITE_STATIC);
	r = s_exec_st(st);
	free(sealed);
	return r;
}

int store_consent_withdraw(struct store *s, const char *id, const char *date, const char *user)
{
	sqlite3_stmt *st = s_st(s, ST_CONSENT_WITHDRAW);
	int r;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	r = s_exec_st(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -EALREADY;	/* no such consent, or already withdrawn: the caller looks */
	return r;
}

/* One row of CONSENT_COLS; the evidence reference is opened when the pupil's
 * key still exists (else "(erased)"). */
static void s_consent_row(struct store *s, sqlite3_stmt *st, struct consent *c, int64_t *leaver_id)
{
	uint8_t *ev = NULL;
	size_t evlen = 0;

	memset(c, 0, sizeof(*c));
	s_text(st, 0, c->id, sizeof(c->id));
	*leaver_id = sqlite3_column_int64(st, 1);
	c->purpose = sqlite3_column_int(st, 2);
	s_text(st, 3, c->counterpart, sizeof(c->counterpart));
	c->grantor = sqlite3_column_int(st, 4);
	s_text(st, 5, c->granted_at, sizeof(c->granted_at));
	s_text(st, 6, c->valid_until, sizeof(c->valid_until));
	s_text(st, 7, c->evidence_method, sizeof(c->evidence_method));
	s_text(st, 9, c->recorded_by, sizeof(c->recorded_by));
	s_text(st, 10, c->recorded_at, sizeof(c->recorded_at));
	s_text(st, 11, c->withdrawn_at, sizeof(c->withdrawn_at));
	s_text(st, 12, c->withdrawn_by, sizeof(c->withdrawn_by));
	if (s_open(s, sqlite3_column_int64(st, 13), c->id, strlen(c->id), sqlite3_column_blob(st, 8),
		   (size_t)sqlite3_column_bytes(st, 8), &ev, &evlen) == 0) {
		str_copy(c->evidence_ref, sizeof(c->evidence_ref), (const char *)ev);
		free(ev);
	} else {
		str_copy(c->evidence_ref, sizeof(c->evidence_ref), "(erased)");
	}
}

int store_consent_get(struct store *s, const char *id, struct consent *c, int64_t *leaver_id)
{
	sqlite3_stmt *st = s_st(s, ST_CONSENT_GET);
	int rc, r = -ENOENT;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s_consent_row(s, st, c, leaver_id);
		r = 0;
	} else if (rc != SQLITE_DONE) {
		r = s_err(rc);
	}
	sqlite3_reset(st);
	return r;
}

int store_consents_each(struct store *s, int64_t leaver_id, store_consent_fn fn, void *arg)
{
	sqlite3_stmt *st = s_st(s, ST_CONSENTS_EACH);
	int rc, r = 0;

	sqlite3_bind_int64(st, 1, leaver_id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct consent c;
		int64_t lid;

		s_consent_row(s, st, &c, &lid);
		r = fn(&c, lid, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r;
}

/* ---- outbox ---- */

int store_outbox_add(struct store *s, const char *message_id, const char *peer, int body_case,
		     const uint8_t *packed, size_t len, int64_t key_id, int64_t now)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	sqlite3_stmt *st;
	int r;

	r = s_seal(s, key_id, message_id, strlen(message_id), packed, len, &sealed, &slen);
	if (r < 0)
		return r;
	st = s_st(s, ST_OUTBOX_INS);
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, body_case);
	if (key_id > 0)
		sqlite3_bind_int64(st, 4, key_id);
	sqlite3_bind_blob(st, 5, sealed, (int)slen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	r = s_exec_st(st);
	free(sealed);
	return r;
}

int store_outbox_pending(struct store *s, const char *peer, const char *after, unsigned limit,
			 struct outbox_msg **out, size_t *n)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_PENDING);
	struct outbox_msg *v = calloc(limit ? limit : 1, sizeof(*v));
	size_t cnt = 0;
	int rc, r = 0;

	if (!v)
		return -ENOMEM;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, after ? after : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, limit);
	while (cnt < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct outbox_msg *m = &v[cnt];

		s_text(st, 0, m->message_id, sizeof(m->message_id));
		m->created_at = sqlite3_column_int64(st, 1);
		m->key_id = sqlite3_column_int64(st, 2);
		s_text(st, 4, m->consent_id, sizeof(m->consent_id));
		s_text(st, 5, m->consent_until, sizeof(m->consent_until));
		r = s_open(s, m->key_id, m->message_id, strlen(m->message_id),
			   sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3),
			   &m->packed, &m->len);
		if (r == -ENOKEY) {
			/* The pupil was erased while the message waited: never send it. */
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		cnt++;
	}
	if (r == 0 && cnt < limit && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = s_err(rc);
	sqlite3_reset(st);
	if (r < 0) {
		for (size_t i = 0; i < cnt; i++)
			free(v[i].packed);
		free(v);
		return r;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int store_outbox_replace(struct store *s, const struct outbox_msg *m)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	sqlite3_stmt *st;
	int r;

	r = s_seal(s, m->key_id, m->message_id, strlen(m->message_id), m->packed, m->len, &sealed,
		   &slen);
	if (r < 0)
		return r;
	st = s_st(s, ST_OUTBOX_RESEAL);
	sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, sealed, (int)slen, SQLITE_STATIC);
	r = s_exec_st(st);
	free(sealed);
	return r;
}

int store_outbox_get(struct store *s, const char *message_id, uint8_t **packed, size_t *len)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_GET);
	int rc, r = -ENOENT;

	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = s_open(s, sqlite3_column_int64(st, 0), message_id, strlen(message_id),
			   sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), packed, len);
	else if (rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r;
}

int store_outbox_set_consent(struct store *s, const char *message_id, const char *consent_id,
			     const char *until)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_CONSENT);

	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, consent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, until, -1, SQLITE_STATIC);
	return s_exec_st(st);
}

int store_outbox_cancel(struct store *s, const char *message_id, const char *reason)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_CANCEL);
	int r;

	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	if ((r = s_exec_st(st)) < 0)
		return r;
	if (sqlite3_changes(s->db) == 0)
		return 1;	/* acknowledged or cancelled already */
	st = s_st(s, ST_LEAVER_CANCELLED);
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	return s_exec_st(st);
}

int store_consent_revoked(struct store *s, const char *consent_id, const char *today)
{
	sqlite3_stmt *st = s_st(s, ST_CONSENT_REVOKED);
	int rc;

	sqlite3_bind_text(st, 1, consent_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, today, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : s_err(rc);
}

int store_revoke(struct store *s, const char *consent_id, const char *peer, int64_t now)
{
	sqlite3_stmt *st = s_st(s, ST_REVOKE);

	sqlite3_bind_text(st, 1, consent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	return s_exec_st(st);
}

int store_event_add(struct store *s, const struct event_rec *e)
{
	sqlite3_stmt *st = s_st(s, ST_EVENT_INS);
	int r;

	sqlite3_bind_text(st, 1, e->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, e->inbound);
	sqlite3_bind_text(st, 4, e->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, e->event);
	sqlite3_bind_text(st, 6, e->date, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, e->level);
	sqlite3_bind_text(st, 8, e->consent_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, e->at);
	sqlite3_bind_text(st, 10, e->actor, -1, SQLITE_STATIC);
	r = s_exec_st(st);
	return r == -EEXIST ? 1 : r;	/* the same message again: already applied */
}

int store_events_each(struct store *s, const char *record_id, store_event_fn fn, void *arg)
{
	sqlite3_stmt *st = s_st(s, ST_EVENTS_OF);
	int rc, r = 0;

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct event_rec e = { 0 };

		s_text(st, 0, e.message_id, sizeof(e.message_id));
		str_copy(e.record_id, sizeof(e.record_id), record_id);
		e.inbound = sqlite3_column_int(st, 1);
		s_text(st, 2, e.peer, sizeof(e.peer));
		e.event = sqlite3_column_int(st, 3);
		s_text(st, 4, e.date, sizeof(e.date));
		e.level = sqlite3_column_int(st, 5);
		s_text(st, 6, e.consent_id, sizeof(e.consent_id));
		e.at = sqlite3_column_int64(st, 7);
		s_text(st, 8, e.actor, sizeof(e.actor));
		e.state = sqlite3_column_int(st, 9);
		s_text(st, 10, e.reason, sizeof(e.reason));
		r = fn(&e, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r;
}

int store_leaver_by_record(struct store *s, const char *record_id, int with_private, struct leaver *l)
{
	sqlite3_stmt *st = s_st(s, ST_LEAVER_BY_RECORD);

	memset(l, 0, sizeof(*l));
	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	return s_leaver_one(s, st, with_private, l);
}

int store_leaver_by_pgn(struct store *s, const char *pgn, int with_private, struct leaver *l)
{
	sqlite3_stmt *st = s_st(s, ST_LEAVER_BY_PSEUDONYM);
	char src[32];
	uint8_t pseudo[32];
	int r;

	memset(l, 0, sizeof(*l));
	snprintf(src, sizeof(src), "pgn:%s", pgn);
	if ((r = store_pseudonym(s, src, pseudo)) < 0)
		return r;
	sqlite3_bind_blob(st, 1, pseudo, sizeof(pseudo), SQLITE_TRANSIENT);
	return s_leaver_one(s, st, with_private, l);
}

int store_outbox_ack(struct store *s, const char *peer, const char *message_id, int rejected,
		     const char *reason, int64_t first_sent_at, unsigned attempts, int64_t now)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_ACK);
	int r;

	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, rejected ? OUTBOX_REJECTED : OUTBOX_ACKED);
	if (reason && *reason)
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	if (first_sent_at)
		sqlite3_bind_int64(st, 5, first_sent_at);
	sqlite3_bind_int(st, 6, (int)attempts);
	sqlite3_bind_int64(st, 7, now);
	if ((r = s_exec_st(st)) < 0)
		return r;
	if (sqlite3_changes(s->db) == 0)
		return 1;	/* a duplicate ack, or one for a message we do not have */
	st = s_st(s, rejected ? ST_LEAVER_CANCELLED : ST_LEAVER_DELIVERED);
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	if (!rejected)
		sqlite3_bind_int64(st, 2, now);
	return s_exec_st(st);
}

int store_outbox_oldest(struct store *s, const char *peer, int64_t *oldest)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_OLDEST);
	int rc;

	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	*oldest = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : s_err(rc);
}

int store_outbox_depth(struct store *s, const char *peer, uint64_t *depth)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_DEPTH);
	int rc;

	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*depth = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : s_err(rc);
}

/* ---- inbox ---- */

int store_inbox_put(struct store *s, const char *message_id, const char *sender,
		    const Overstap__Handover *h, const uint8_t *packed, size_t len, int64_t now)
{
	uint8_t key[CRYPTO_KEY_LEN], pseudo[32], *sealed = NULL;
	char pseudo_src[64];
	size_t slen = 0;
	int64_t key_id = 0;
	sqlite3_stmt *st = s_st(s, ST_INBOX_EXISTS);
	int rc, r;

	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h->record_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int same = sqlite3_column_int(st, 0);

		sqlite3_reset(st);
		/* The same message again is a retry: ack it again. Another message
		 * for a record we hold is not ours to drop silently. */
		return same ? 1 : -EEXIST;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return s_err(rc);
	snprintf(pseudo_src, sizeof(pseudo_src), "pgn:%s", h->pgn);
	if ((r = store_pseudonym(s, pseudo_src, pseudo)) < 0 || (r = s_key_new(s, now, &key_id, key)) < 0)
		goto out;
	if ((r = crypto_seal(key, message_id, strlen(message_id), packed, len, &sealed, &slen)) < 0)
		goto out;
	st = s_st(s, ST_INBOX_INS);
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, key_id);
	sqlite3_bind_blob(st, 5, sealed, (int)slen, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, pseudo, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_text(st, 8, h->cohort, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, h->program);
	sqlite3_bind_int(st, 10, h->destination);
	sqlite3_bind_text(st, 11, h->exit_date, -1, SQLITE_STATIC);
	r = s_exec_st(st);
out:
	crypto_wipe(key, sizeof(key));
	free(sealed);
	return r;
}

static void s_inbox_read(sqlite3_stmt *st, struct inbox_row *r)
{
	memset(r, 0, sizeof(*r));
	s_text(st, 0, r->message_id, sizeof(r->message_id));
	s_text(st, 1, r->record_id, sizeof(r->record_id));
	s_text(st, 2, r->sender, sizeof(r->sender));
	r->received_at = sqlite3_column_int64(st, 3);
	s_text(st, 4, r->cohort, sizeof(r->cohort));
	r->program = sqlite3_column_int(st, 5);
	r->destination = sqlite3_column_int(st, 6);
	r->erased_at = sqlite3_column_int64(st, 7);
	s_text(st, 8, r->erased_what, sizeof(r->erased_what));
}

int store_inbox_each(struct store *s, const char *cohort, unsigned limit, store_inbox_cb cb,
		     void *arg)
{
	sqlite3_stmt *st = s_st(s, ST_INBOX_EACH);
	int rc, r = 0;

	if (cohort && *cohort)
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct inbox_row row;

		s_inbox_read(st, &row);
		if ((r = cb(&row, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

int store_inbox_get(struct store *s, const char *record_id, struct inbox_row *row,
		    uint8_t **packed, size_t *len)
{
	sqlite3_stmt *st = s_st(s, ST_INBOX_GET);
	int rc, r;

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : s_err(rc);
	}
	s_inbox_read(st, row);
	r = s_open(s, sqlite3_column_int64(st, 9), row->message_id, strlen(row->message_id),
		   sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10), packed, len);
	sqlite3_reset(st);
	return r;
}

int store_inbox_count(struct store *s, uint64_t *n)
{
	sqlite3_stmt *st = s_st(s, ST_INBOX_COUNT);
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : s_err(rc);
}

/* ---- erasure, withdrawals, checkpoints, retention ---- */

static int s_shred(struct store *s, int64_t key_id, int64_t now)
{
	sqlite3_stmt *st = s_st(s, ST_KEY_SHRED);

	sqlite3_bind_int64(st, 1, key_id);
	sqlite3_bind_int64(st, 2, now);
	return s_exec_st(st);
}

/* Queued messages sealed under a key about to go cannot be sent any more. */
static int s_cancel_key(struct store *s, int64_t key_id, const char *reason, unsigned *n)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_CANCEL_KEY);
	int r;

	sqlite3_bind_int64(st, 1, key_id);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	r = s_exec_st(st);
	if (r == 0 && n)
		*n = (unsigned)sqlite3_changes(s->db);
	return r;
}

int store_leaver_shred(struct store *s, const struct leaver *l, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if ((r = s_cancel_key(s, l->key_id, "retention period over", NULL)) < 0 ||
	    (r = s_shred(s, l->key_id, now)) < 0)
		return r;
	st = s_st(s, ST_LEAVER_SHRED);
	sqlite3_bind_int64(st, 1, l->id);
	sqlite3_bind_int64(st, 2, now);
	return s_exec_st(st);
}

int store_leaver_erase(struct store *s, const struct leaver *l, int64_t now, unsigned *events,
		       unsigned *cancelled)
{
	sqlite3_stmt *st;
	int r;

	*events = *cancelled = 0;
	if ((r = s_cancel_key(s, l->key_id, "pupil erased", cancelled)) < 0 ||
	    (r = s_shred(s, l->key_id, now)) < 0)
		return r;
	if (l->record_id[0]) {
		st = s_st(s, ST_EVENTS_DEL_RECORD);
		sqlite3_bind_text(st, 1, l->record_id, -1, SQLITE_STATIC);
		if ((r = s_exec_st(st)) < 0)
			return r;
		*events = (unsigned)sqlite3_changes(s->db);
	}
	st = s_st(s, ST_LEAVER_ERASE);
	sqlite3_bind_int64(st, 1, l->id);
	sqlite3_bind_int64(st, 2, now);
	return s_exec_st(st);
}

int store_events_delete(struct store *s, const char *record_id, unsigned *n)
{
	sqlite3_stmt *st = s_st(s, ST_EVENTS_DEL_RECORD);
	int r;

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_STATIC);
	r = s_exec_st(st);
	*n = r == 0 ? (unsigned)sqlite3_changes(s->db) : 0;
	return r;
}

int store_inbox_state(struct store *s, const char *record_id, char sender[7], int *erased)
{
	sqlite3_stmt *st = s_st(s, ST_INBOX_KEY);
	int rc;

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s_text(st, 1, sender, 7);
		*erased = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : s_err(rc);
}

int store_inbox_erase(struct store *s, const char *record_id, const char *what, int64_t now)
{
	sqlite3_stmt *st = s_st(s, ST_INBOX_KEY);
	int64_t key_id;
	int rc, r;

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	key_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : s_err(rc);
	if ((r = s_shred(s, key_id, now)) < 0)
		return r;
	st = s_st(s, ST_INBOX_ERASE);
	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, what, -1, SQLITE_STATIC);
	return s_exec_st(st);
}

int store_inbox_replace(struct store *s, const char *record_id, const uint8_t *packed, size_t len,
			const char *what)
{
	sqlite3_stmt *st = s_st(s, ST_INBOX_GET);
	uint8_t *sealed = NULL;
	size_t slen = 0;
	char mid[CRYPTO_UUID_STR_LEN + 1] = "";
	int64_t key_id = 0;
	int rc, r;

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s_text(st, 0, mid, sizeof(mid));
		key_id = sqlite3_column_int64(st, 9);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : s_err(rc);
	if ((r = s_seal(s, key_id, mid, strlen(mid), packed, len, &sealed, &slen)) < 0)
		return r;
	st = s_st(s, ST_INBOX_RESEAL);
	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, sealed, (int)slen, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, what, -1, SQLITE_STATIC);
	r = s_exec_st(st);
	free(sealed);
	return r;
}

int store_inbox_by_pgn(struct store *s, const char *pgn, struct strlist *record_ids)
{
	sqlite3_stmt *st;
	uint8_t pseudo[32];
	char src[64];
	int rc, r;

	snprintf(src, sizeof(src), "pgn:%s", pgn);
	if ((r = store_pseudonym(s, src, pseudo)) < 0)
		return r;
	st = s_st(s, ST_INBOX_BY_PSEUDONYM);
	sqlite3_bind_blob(st, 1, pseudo, 32, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = strlist_addf(record_ids, "%s", (const char *)sqlite3_column_text(st, 0))) < 0)
			break;
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : s_err(rc);
}

int store_outbox_cancel_consent(struct store *s, const char *consent_id, const char *reason,
				unsigned *n)
{
	sqlite3_stmt *st = s_st(s, ST_OUTBOX_CANCEL_CONSENT);
	int r;

	sqlite3_bind_text(st, 1, consent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	r = s_exec_st(st);
	*n = r == 0 ? (unsigned)sqlite3_changes(s->db) : 0;
	return r;
}

int store_withdrawal_add(struct store *s, const struct withdrawal_rec *w)
{
	sqlite3_stmt *st = s_st(s, ST_WD_INS);

	sqlite3_bind_text(st, 1, w->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, w->peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, w->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->consent_ids, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, w->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, w->at);
	sqlite3_bind_text(st, 7, w->actor, -1, SQLITE_STATIC);
	return s_exec_st(st);
}

int store_withdrawal_receipt(struct store *s, const char *withdrawal_id, const char *peer,
			     const struct withdrawal_rec *w, const uint8_t *envelope, size_t len)
{
	sqlite3_stmt *st = s_st(s, ST_WD_RECEIPT);
	int r;

	sqlite3_bind_text(st, 1, withdrawal_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, w->receipt_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, w->receipt_at);
	sqlite3_bind_text(st, 5, w->erased, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, w->erased_at);
	sqlite3_bind_blob(st, 7, envelope, (int)len, SQLITE_STATIC);
	if ((r = s_exec_st(st)) < 0)
		return r;
	return sqlite3_changes(s->db) ? 0 : 1;
}

int store_withdrawals_each(struct store *s, const char *record_id, store_withdrawal_fn fn, void *arg)
{
	sqlite3_stmt *st = s_st(s, ST_WD_EACH);
	int rc, r = 0;

	if (record_id)
		sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct withdrawal_rec w;

		memset(&w, 0, sizeof(w));
		s_text(st, 0, w.message_id, sizeof(w.message_id));
		s_text(st, 1, w.peer, sizeof(w.peer));
		s_text(st, 2, w.record_id, sizeof(w.record_id));
		s_text(st, 3, w.consent_ids, sizeof(w.consent_ids));
		s_text(st, 4, w.reason, sizeof(w.reason));
		w.at = sqlite3_column_int64(st, 5);
		s_text(st, 6, w.actor, sizeof(w.actor));
		s_text(st, 7, w.receipt_id, sizeof(w.receipt_id));
		w.receipt_at = sqlite3_column_int64(st, 8);
		s_text(st, 9, w.erased, sizeof(w.erased));
		w.erased_at = sqlite3_column_int64(st, 10);
		if ((r = fn(&w, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r;
}

static void s_cp_read(sqlite3_stmt *st, int col, struct checkpoint_rec *c)
{
	c->seq = sqlite3_column_int64(st, col);
	memset(c->head, 0, sizeof(c->head));
	if (sqlite3_column_bytes(st, col + 1) == (int)sizeof(c->head))
		memcpy(c->head, sqlite3_column_blob(st, col + 1), sizeof(c->head));
	c->at = sqlite3_column_int64(st, col + 2);
}

int store_checkpoint_get(struct store *s, const char *peer, int kind, struct checkpoint_rec *c)
{
	sqlite3_stmt *st = s_st(s, ST_CP_GET);
	int rc;

	memset(c, 0, sizeof(*c));
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		str_copy(c->peer, sizeof(c->peer), peer);
		c->kind = kind;
		s_cp_read(st, 0, c);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : s_err(rc);
}

int store_checkpoint_put(struct store *s, const struct checkpoint_rec *c)
{
	sqlite3_stmt *st = s_st(s, ST_CP_PUT);

	sqlite3_bind_text(st, 1, c->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, c->kind);
	sqlite3_bind_int64(st, 3, c->seq);
	sqlite3_bind_blob(st, 4, c->head, sizeof(c->head), SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->at);
	return s_exec_st(st);
}

int store_checkpoints_each(struct store *s, store_checkpoint_fn fn, void *arg)
{
	sqlite3_stmt *st = s_st(s, ST_CP_EACH);
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct checkpoint_rec c;

		memset(&c, 0, sizeof(c));
		s_text(st, 0, c.peer, sizeof(c.peer));
		c.kind = sqlite3_column_int(st, 1);
		s_cp_read(st, 2, &c);
		if ((r = fn(&c, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r;
}

int store_retention_sent(struct store *s, int64_t before_ms, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = s_st(s, ST_RET_SENT);
	size_t cap = 0;
	int rc, r = 0;

	*n = 0;
	sqlite3_bind_int64(st, 1, before_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			int64_t *v = realloc(*ids, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			*ids = v;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : s_err(rc);
}

int store_retention_received(struct store *s, int64_t before_ms, struct strlist *record_ids)
{
	sqlite3_stmt *st = s_st(s, ST_RET_RECEIVED);
	int rc, r = 0;

	sqlite3_bind_int64(st, 1, before_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = strlist_addf(record_ids, "%s", (const char *)sqlite3_column_text(st, 0))) < 0)
			break;
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : s_err(rc);
}

int store_events_expire(struct store *s, const char *before_date, unsigned *n)
{
	sqlite3_stmt *st = s_st(s, ST_RET_EVENTS);
	int r;

	sqlite3_bind_text(st, 1, before_date, -1, SQLITE_STATIC);
	r = s_exec_st(st);
	*n = r == 0 ? (unsigned)sqlite3_changes(s->db) : 0;
	return r;
}

int store_checkpoint_wal(struct store *s)
{
	/* After an erasure: fold the WAL into the database and truncate it, so
	 * the old page holding the wrapped key is not left in the -wal file. */
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	return s_err(rc);
}

int store_withdrawal_rx_seen(struct store *s, const char *message_id)
{
	sqlite3_stmt *st = s_st(s, ST_WDRX_GET);
	int rc;

	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : s_err(rc);
}

int store_withdrawal_rx_add(struct store *s, const char *message_id, const char *peer,
			    const char *record_id, const char *receipt_id, int64_t now)
{
	sqlite3_stmt *st = s_st(s, ST_WDRX_INS);

	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, receipt_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	return s_exec_st(st);
}

int store_assertion_put(struct store *s, const char *record_id, const char *sender,
			const char *consent_id, const uint8_t *packed, size_t len, int64_t now)
{
	sqlite3_stmt *st = s_st(s, ST_ASSERT_INS);
	int r;

	sqlite3_bind_text(st, 1, consent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sender, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, packed, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if ((r = s_exec_st(st)) < 0)
		return r;
	return sqlite3_changes(s->db) ? 0 : 1;
}

int store_assertions_each(struct store *s, const char *record_id, store_blob_fn fn, void *arg)
{
	sqlite3_stmt *st = s_st(s, ST_ASSERT_OF);
	int rc, r = 0;

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = fn(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), arg)) != 0)
			break;
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r;
}

int store_assertion_delete(struct store *s, const char *consent_id, const char *sender)
{
	sqlite3_stmt *st = s_st(s, ST_ASSERT_DEL);
	int r;

	sqlite3_bind_text(st, 1, consent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
	if ((r = s_exec_st(st)) < 0)
		return r;
	return sqlite3_changes(s->db) ? 1 : 0;
}

_Static_assert(OUTCOME_EV_ENROLLED == 5 && OUTCOME_EV_INTAKE_HELD == 6 &&
	       OUTCOME_EV_STILL_ENROLLED == 7 && OUTCOME_EV_DIPLOMA == 8 &&
	       OUTCOME_EV_PROGRESSED == 9 && OUTCOME_EV_SWITCHED == 10 &&
	       OUTCOME_EV_LEFT_WITHOUT_DIPLOMA == 11, "the report SQL names events by number");

/* YYYY-MM-DD as the number YYYYMMDD (0 for anything else): dates compare as
 * numbers without string copies. */
static uint32_t s_ymd(const unsigned char *t)
{
	uint32_t v = 0;

	if (!t)
		return 0;
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (t[i] != '-')
				return 0;
			continue;
		}
		if (t[i] < '0' || t[i] > '9')
			return 0;
		v = v * 10 + (uint32_t)(t[i] - '0');
	}
	return t[10] ? 0 : v;
}

static void s_min(uint32_t *d, uint32_t v)
{
	if (v && (!*d || v < *d))
		*d = v;
}

/* Fold one received event into the leaver's fact. */
static void s_fold(struct send_fact *f, int ev, uint32_t date)
{
	if (ev >= OUTCOME_EV_STILL_ENROLLED)
		f->outcomes++;
	if (ev == OUTCOME_EV_ENROLLED)
		s_min(&f->enrolled, date);
	else if (ev == OUTCOME_EV_DIPLOMA)
		s_min(&f->diploma, date);
	else if (ev == OUTCOME_EV_PROGRESSED)
		s_min(&f->progressed, date);
	else if (ev == OUTCOME_EV_LEFT_WITHOUT_DIPLOMA)
		s_min(&f->lwd, date);
	else if (ev == OUTCOME_EV_STILL_ENROLLED && date > f->still)
		f->still = date;
	if (ev == OUTCOME_EV_LEFT_WITHOUT_DIPLOMA || ev == OUTCOME_EV_SWITCHED)
		s_min(&f->stop, date);
}

int store_report_sending(struct store *s, store_send_fact_fn fn, void *arg)
{
	sqlite3_stmt *lv, *ev = s_st(s, ST_REPORT_EVENTS), *st = s_st(s, ST_REPORT_COUNT);
	uint8_t *consent = NULL;	/* bit per leaver id */
	int64_t max_id = 0;
	int rc, erc, r = 0;

	/* the leavers whose follow_up consent counts, as a bitmap by id */
	if (sqlite3_step(st) == SQLITE_ROW)
		max_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!(consent = calloc((size_t)max_id / 8 + 1, 1)))
		return -ENOMEM;
	st = s_st(s, ST_REPORT_CONSENTS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (id >= 0 && id <= max_id)
			consent[id / 8] |= (uint8_t)(1u << (id % 8));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(consent);
		return s_err(rc);
	}
	/* leavers and events, both by record id: a merge */
	lv = s_st(s, ST_REPORT_SEND);
	erc = sqlite3_step(ev);
	while (r == 0 && (rc = sqlite3_step(lv)) == SQLITE_ROW) {
		struct send_fact f;

		memset(&f, 0, sizeof(f));
		s_text(lv, 0, f.record_id, sizeof(f.record_id));
		f.leaver_id = sqlite3_column_int64(lv, 1);
		s_text(lv, 2, f.cohort, sizeof(f.cohort));
		f.program = sqlite3_column_int(lv, 3);
		f.destination = sqlite3_column_int(lv, 4);
		s_text(lv, 5, f.institution, sizeof(f.institution));
		f.advice = sqlite3_column_int(lv, 6);
		f.followed = sqlite3_column_int(lv, 7);
		f.taal = sqlite3_column_int(lv, 8);
		f.rekenen = sqlite3_column_int(lv, 9);
		f.state = sqlite3_column_int(lv, 10);
		f.consent = f.leaver_id >= 0 && f.leaver_id <= max_id &&
			    (consent[f.leaver_id / 8] >> (f.leaver_id % 8) & 1);
		while (f.record_id[0] && erc == SQLITE_ROW) {
			const char *rid = (const char *)sqlite3_column_text(ev, 0);
			int c = rid ? strcmp(rid, f.record_id) : -1;

			if (c > 0)
				break;
			if (c == 0)	/* < 0: events of a record no leaver holds (erased) */
				s_fold(&f, sqlite3_column_int(ev, 1), s_ymd(sqlite3_column_text(ev, 2)));
			erc = sqlite3_step(ev);
		}
		r = fn(&f, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	else if (r == 0 && erc != SQLITE_ROW && erc != SQLITE_DONE)
		r = s_err(erc);
	sqlite3_reset(lv);
	sqlite3_reset(ev);
	free(consent);
	return r < 0 ? r : 0;
}

int store_report_receiving(struct store *s, store_recv_fact_fn fn, void *arg)
{
	sqlite3_stmt *st = s_st(s, ST_REPORT_RECV);
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct recv_fact f;

		memset(&f, 0, sizeof(f));
		s_text(st, 0, f.cohort, sizeof(f.cohort));
		f.program = sqlite3_column_int(st, 1);
		s_text(st, 2, f.sender, sizeof(f.sender));
		f.destination = sqlite3_column_int(st, 3);
		f.received_at = sqlite3_column_int64(st, 4);
		s_text(st, 5, f.enrolled, sizeof(f.enrolled));
		s_text(st, 6, f.held, sizeof(f.held));
		s_text(st, 7, f.diploma, sizeof(f.diploma));
		s_text(st, 8, f.progressed, sizeof(f.progressed));
		s_text(st, 9, f.lwd, sizeof(f.lwd));
		if ((r = fn(&f, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = s_err(rc);
	sqlite3_reset(st);
	return r;
}
