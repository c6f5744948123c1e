/* audit: the append-only audit log (design.md §5) as a keyed hash chain in sqlite.
 *
 * Every entry's mac chains to its predecessor's:
 *
 *   mac_n = HMAC-SHA256(key, mac_{n-1} || canonical(entry_n)),  mac_0 = 32 zero bytes
 *
 *   canonical(e) = F("overstap-audit-v1") || F(be64(seq)) || F(be64(at_ms))
 *                  || F(actor) || F(action) || F(subject) || F(counterpart) || F(detail)
 *   F(x)         = be32(length of x in bytes) || x
 *
 * Every field, the integers too, is length-prefixed, so no two different
 * entries share an encoding. seq is contiguous from 1. The key is derived by
 * the caller: crypto_hkdf(master, "overstap audit v1").
 *
 * What the chain finds: an edited entry, an entry removed from the middle, a
 * reordered or renumbered log, a log re-chained without the key. What it cannot
 * find alone: the newest entries cut off (truncation); that is what checkpoints
 * exchanged with peers are for (audit_check_checkpoint).
 *
 * The handle borrows the caller's sqlite3 connection: free the handle before
 * closing the connection. One handle per connection, one thread. The module
 * never logs; it returns 0 or a negative errno code, sqlite's translated as the
 * store's are (sqlerr.h: SQLITE_BUSY -> -EBUSY, SQLITE_FULL -> -ENOSPC,
 * SQLITE_NOMEM -> -ENOMEM, a refused UPDATE or DELETE -> -EINVAL, ...). */
#ifndef OVERSTAP_AUDIT_H
#define OVERSTAP_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#define AUDIT_MAC_LEN 32
#define AUDIT_FIELD_MAX 65536	/* bytes per text field; longer is -E2BIG */

/* The schema as a string literal, for store.c's static migration list. It
 * creates the table, an index on subject and two triggers that refuse UPDATE
 * and DELETE on the table (a guard against our own bugs, not against someone
 * with the database file: that is what the chain is for). A future retention
 * policy that prunes the log needs a migration that drops the triggers. */
#define AUDIT_SCHEMA_SQL \
	"CREATE TABLE audit (" \
	"  seq INTEGER PRIMARY KEY," \
	"  at INTEGER NOT NULL," \
	"  actor TEXT NOT NULL," \
	"  action TEXT NOT NULL," \
	"  subject TEXT NOT NULL," \
	"  counterpart TEXT NOT NULL," \
	"  detail TEXT NOT NULL," \
	"  mac BLOB NOT NULL CHECK (length(mac) = 32));" \
	"CREATE INDEX audit_subject ON audit(subject);" \
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit" \
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;" \
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit" \
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"

struct audit;

/* One entry as read back. The strings are borrowed from sqlite and valid only
 * during the callback that receives the entry. */
struct audit_entry {
	int64_t seq;
	int64_t at_ms;			/* unix milliseconds */
	const char *actor;		/* staff user, "daemon" or "peer:ID" */
	const char *action;		/* consent.grant, disclosure.denied, erase, ... */
	const char *subject;		/* pupil pseudonym, record id or "": never a name or PGN */
	const char *counterpart;	/* institution or peer, or "" */
	const char *detail;		/* JSON object text or plain text, no personal data */
	uint8_t mac[AUDIT_MAC_LEN];
};

/* Called once per entry by audit_each and audit_subject_each. Return 0 to go
 * on, > 0 to stop early (the iterator then returns 0: use it to page, resuming
 * at the last seq + 1), < 0 to stop with that error (the iterator returns it).
 * The callback must not call audit_append, audit_each, audit_subject_each or
 * audit_verify on the same handle. */
typedef int (*audit_each_fn)(const struct audit_entry *e, void *arg);

/* The schema (AUDIT_SCHEMA_SQL) for the store's migration list. Static string. */
const char *audit_schema_sql(void);

/* Create the table, index and triggers on db (for tests and tools; the daemon
 * gets them through the store's migrations). 0 or -errno. */
int audit_schema_apply(sqlite3 *db);

/* Open a handle over db, whose schema must already hold the audit table. The
 * 32-byte key is copied into the handle (wiped by audit_free); db is borrowed.
 * Prepares the statements and reads the head once as a check that the table
 * is there and readable. *out is the caller's; 0 or -errno. */
int audit_open(sqlite3 *db, const uint8_t key[AUDIT_MAC_LEN], struct audit **out);

/* Finalize the statements, wipe the key, free the handle and NULL *a. Takes
 * NULL and a NULL *a. Call before sqlite3_close on the connection. */
void audit_free(struct audit **a);

/* Append one entry with the next seq, chained to the current head.
 *
 * Atomicity: when the caller has a transaction open (BEGIN IMMEDIATE), the
 * entry is inserted inside it and commits or rolls back together with the
 * change it audits; the caller must audit in the same transaction as the
 * action, so that neither can be on disk without the other. With no
 * transaction open, audit_append wraps itself in its own BEGIN IMMEDIATE ..
 * COMMIT.
 *
 * The head is re-read from the table on every append (one rowid lookup), so a
 * rolled-back transaction never leaves a stale head behind.
 *
 * actor and action must be non-empty; subject, counterpart and detail may be
 * NULL (stored as ""). Every field must be valid UTF-8 of at most
 * AUDIT_FIELD_MAX bytes. A subject of 9 digits (the shape of a PGN/BSN) is
 * refused: subjects are pseudonyms or record ids.
 * 0, -EINVAL, -E2BIG, -EUCLEAN (head mac not 32 bytes), or an sqlite error. */
int audit_append(struct audit *a, int64_t at_ms, const char *actor, const char *action,
		 const char *subject, const char *counterpart, const char *detail);

/* The newest entry's seq and mac, read from the table (as the caller's
 * transaction sees it). An empty log gives seq 0 and 32 zero bytes: the chain's
 * starting point. This is what is sent to peers as a checkpoint. 0 or -errno. */
int audit_head(struct audit *a, int64_t *seq, uint8_t mac[AUDIT_MAC_LEN]);

/* Walk the whole log in seq order and recompute every mac. Returns 0 when the
 * log is intact (*first_bad_seq = 0), or -EBADMSG with *first_bad_seq set and
 * a reason in why (either may be NULL):
 *   "entry N missing (gap after M)"                    entries removed in the middle
 *   "entry N: mac does not match (edited?)"            content or mac of N changed,
 *                                                      the next entry still chains to it
 *   "entry N: mac does not match the chain (...)"      N and what follows do not
 *                                                      chain: removed and renumbered,
 *                                                      reordered or re-chained
 *   "entry N: mac does not match (no entry verifies: wrong audit key?)"
 *   "entry N: unexpected seq (expected E)"             seq <= 0 rows
 * Each mac is checked against the *stored* mac of its predecessor, so one
 * edited entry names exactly that entry. A log cut off at the end verifies as
 * intact: see audit_check_checkpoint. Other errors: -errno from sqlite. */
int audit_verify(struct audit *a, int64_t *first_bad_seq, char *why, size_t whylen);

/* Compare a checkpoint (a head we once gave a peer, echoed back) with the log.
 *   0        entry seq exists with exactly this mac
 *   -ENOENT  "entry N is missing: the log was truncated after M" (our head is
 *            older than the checkpoint), or "entry N is missing (removed from
 *            the middle of the log)"
 *   -EBADMSG "entry N: mac differs from the checkpoint (the log was rewritten?)"
 *   -EINVAL  seq < 1
 * why may be NULL. Only this entry is compared; audit_verify checks the chain
 * up to it. */
int audit_check_checkpoint(struct audit *a, int64_t seq, const uint8_t mac[AUDIT_MAC_LEN],
			   char *why, size_t whylen);

/* The mac of entry seq as the log holds it now: 0, -ENOENT when there is no
 * such entry, or -errno. What a checkpoint offers as proof that its head
 * extends the one a peer holds (design.md §5.6). */
int audit_mac_at(struct audit *a, int64_t seq, uint8_t mac[AUDIT_MAC_LEN]);

/* Call fn for every entry with seq >= from_seq, in seq order. See audit_each_fn
 * for stopping early. 0, the callback's negative code, or -errno. */
int audit_each(struct audit *a, int64_t from_seq, audit_each_fn fn, void *arg);

/* Call fn for every entry about one subject (pupil pseudonym or record id), in
 * seq order: the audit part of a GDPR subject-access report. subject must be
 * non-empty (-EINVAL). Uses the index on subject. */
int audit_subject_each(struct audit *a, const char *subject, audit_each_fn fn, void *arg);

/* Write one entry as one JSON line:
 * {"seq":N,"at":"2026-11-23T19:32:20.123Z","actor":"..","action":"..",
 *  "subject":"..","counterpart":"..","detail":"..","mac":"<64 hex>"}\n
 * detail is always a JSON string (its text is not embedded as JSON). Control
 * characters, quotes and backslashes are escaped, UTF-8 passes through,
 * invalid UTF-8 (only possible in a tampered row) becomes U+FFFD.
 * 0 or -EIO when writing fails. */
int audit_entry_write_json(const struct audit_entry *e, FILE *out);

/* audit_entry_write_json for every entry with seq >= from_seq (audit_each).
 * 0 or -errno. */
int audit_export(struct audit *a, FILE *out, int64_t from_seq);

#endif
