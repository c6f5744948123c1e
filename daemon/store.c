/* store: opening and closing the store, transactions, per-pupil keys, and the
 * one table of SQL statements every daemon/store*.c file runs (store.h). */
#include "store_int.h"
#include "jdetail.h"
#include "audit.h"
#include "outcomes.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

/* Column lists read by index: s_consent_row (store_consents.c) and
 * s_leaver_read (store_leavers.c) follow these orders. */
#define CONSENT_COLS \
	"c.id, c.leaver_id, c.purpose, c.counterpart, c.grantor, c.granted_at, c.valid_until," \
	" c.evidence_method, c.evidence_ref, c.recorded_by, c.recorded_at, c.withdrawn_at," \
	" c.withdrawn_by, l.key_id"
#define LEAVER_COLS \
	"id, key_id, pii, program, cohort, exit_date, destination, destination_institution," \
	" advice, advice_followed, level_taal, level_rekenen, registered_on, inzage_on," \
	" inzage_reviewer, inzage_recorded_by, state, record_id, message_id, queued_at," \
	" delivered_at, (SELECT attempts FROM outbox o WHERE o.message_id = leavers.message_id),"\
	" ref_hash, coalesce(erased_at, 0), (SELECT coalesce(reason, '') FROM outbox o"\
	" WHERE o.message_id = leavers.message_id AND o.state = 4), inzage_agrees"


/* A message under the outbox key (not a pupil's: statuses, outcomes,
 * registrations, withdrawals, receipts, notices) is emptied once it is
 * settled (acknowledged, refused or cancelled): nothing needs it any more,
 * and the outbox key, derived from master.key, is never destroyed, so a
 * Registration's PGN stayed readable for good (design.md §3.9). Dossiers
 * stay: they are under the pupil key, which erasure and retention destroy,
 * and `handover show` reads the one that was sent. */
/* A peer's outbox rows in some states, in id order after a cursor, as
 * s_outbox_rows (store_outbox.c) reads them: pending (queued) ones for the
 * pump, unsent (queued and parked) ones for the re-signing. */
#define OUTBOX_ROWS(states)                                                          \
	"SELECT message_id, created_at, key_id, sealed, consent_id, consent_until"   \
	" FROM outbox WHERE peer = ?1 AND state " states " AND message_id > ?2"      \
	" ORDER BY message_id LIMIT ?3"

#define OUTBOX_SHRED "sealed = CASE WHEN key_id IS NULL THEN X'' ELSE sealed END"

static const char *const s_sql[ST__N] = {
	/* store.c: transactions, per-pupil keys */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN DEFERRED",	/* a read transaction: store_keys.c */
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_KEY_INS] = "INSERT INTO pupil_keys(wrapped, created_at) VALUES (?1, ?2)",
	[ST_KEY_GET] = "SELECT wrapped FROM pupil_keys WHERE id = ?1",

	/* store_leavers.c */
	[ST_LEAVER_INS] =
		"INSERT INTO leavers(key_id, ref_hash, pseudonym, pii, program, cohort, exit_date,"
		" destination, destination_institution, advice, advice_followed, level_taal,"
		" level_rekenen, imported_at, imported_by)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
	[ST_LEAVER_BY_REF] = "SELECT " LEAVER_COLS " FROM leavers WHERE ref_hash = ?1",
	[ST_LEAVER_BY_ID] = "SELECT " LEAVER_COLS " FROM leavers WHERE id = ?1",
	[ST_LEAVER_REG] = "UPDATE leavers SET registered_on = ?2, registered_by = ?3 WHERE id = ?1",
	[ST_LEAVER_INZ] = "UPDATE leavers SET inzage_on = ?2, inzage_reviewer = ?3,"
			  " inzage_recorded_by = ?4, pii = ?5, inzage_agrees = ?6 WHERE id = ?1",
	[ST_LEAVER_QUEUED] = "UPDATE leavers SET state = 1, record_id = ?2, message_id = ?3,"
			     " queued_at = ?4 WHERE id = ?1 AND state = 0",
	[ST_LEAVERS_EACH] = "SELECT " LEAVER_COLS " FROM leavers"
			    " WHERE (?1 < 0 OR state = ?1) AND (?2 IS NULL OR cohort = ?2)"
			    " ORDER BY id LIMIT ?3",
	[ST_LEAVERS_READY] = "SELECT id FROM leavers WHERE state = 0 AND registered_on IS NOT NULL"
			     " AND inzage_on IS NOT NULL AND destination_institution IS NOT NULL"
			     " ORDER BY id",
	[ST_LEAVER_BY_RECORD] = "SELECT " LEAVER_COLS " FROM leavers WHERE record_id = ?1",
	/* a pupil who left twice has one pseudonym: the latest leaver row */
	[ST_LEAVER_BY_PSEUDONYM] = "SELECT " LEAVER_COLS " FROM leavers WHERE pseudonym = ?1"
				   " ORDER BY id DESC LIMIT 1",

	/* a re-import's correction (store_leaver_update): never once the dossier left */
	[ST_LEAVER_UPD] = "UPDATE leavers SET pseudonym = ?2, pii = ?3, program = ?4, cohort = ?5,"
			  " exit_date = ?6, destination = ?7, destination_institution = ?8,"
			  " advice = ?9, advice_followed = ?10, level_taal = ?11, level_rekenen = ?12,"
			  " inzage_on = CASE WHEN ?13 THEN NULL ELSE inzage_on END,"
			  " inzage_reviewer = CASE WHEN ?13 THEN NULL ELSE inzage_reviewer END,"
			  " inzage_recorded_by = CASE WHEN ?13 THEN NULL ELSE inzage_recorded_by END,"
			  " inzage_agrees = CASE WHEN ?13 THEN 0 ELSE inzage_agrees END,"
			  " registered_on = CASE WHEN ?14 THEN NULL ELSE registered_on END,"
			  " registered_by = CASE WHEN ?14 THEN NULL ELSE registered_by END"
			  " WHERE id = ?1 AND state = 0",

	/* store_consents.c */
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
	/* withdrawn here (on or before today) or by the peer that held it */
	[ST_CONSENT_REVOKED] = "SELECT 1 FROM consents WHERE id = ?1 AND withdrawn_at <> ''"
			       " AND withdrawn_at <= ?2 UNION ALL SELECT 1 FROM revoked"
			       " WHERE consent_id = ?1 LIMIT 1",
	[ST_REVOKE] = "INSERT OR IGNORE INTO revoked(consent_id, peer, at) VALUES (?1,?2,?3)",

	/* store_outbox.c */
	[ST_OUTBOX_INS] = "INSERT INTO outbox(message_id, peer, body_case, key_id, sealed, created_at)"
			  " VALUES (?1,?2,?3,?4,?5,?6)",
	[ST_OUTBOX_PENDING] = OUTBOX_ROWS("= 0"),
	[ST_OUTBOX_ACK] = "UPDATE outbox SET state = ?3, reason = ?4, first_sent_at = ?5,"
			  " attempts = ?6, acked_at = ?7, " OUTBOX_SHRED
			  " WHERE message_id = ?1 AND peer = ?2 AND state = 0",
	/* Depth by the partial index (store_ocount.c keeps it; this counts only
	 * inside a transaction that moved rows in bulk); the oldest is the first
	 * by id (UUIDv7 is time-ordered), found through the index, not a scan. */
	[ST_OUTBOX_DEPTH] = "SELECT count(*) FROM outbox WHERE peer = ?1 AND state = 0",
	[ST_OUTBOX_OLDEST] = "SELECT created_at FROM outbox WHERE peer = ?1 AND state = 0"
			     " ORDER BY message_id LIMIT 1",
	[ST_OUTBOX_RESEAL] = "UPDATE outbox SET sealed = ?2 WHERE message_id = ?1 AND state IN (0, 4)",
	[ST_OUTBOX_GET] = "SELECT key_id, sealed FROM outbox WHERE message_id = ?1",
	[ST_OUTBOX_STATE] = "SELECT state FROM outbox WHERE message_id = ?1",
	[ST_OUTBOX_CONSENT] = "UPDATE outbox SET consent_id = ?2, consent_until = ?3 WHERE message_id = ?1",
	/* queued or parked: a parked message is still ours to cancel */
	[ST_OUTBOX_CANCEL] = "UPDATE outbox SET state = 2, reason = ?2, " OUTBOX_SHRED
			     " WHERE message_id = ?1 AND state IN (0, 4)",
	[ST_OUTBOX_CANCEL_CONSENT] = "UPDATE outbox SET state = 2, reason = ?2, " OUTBOX_SHRED
				     " WHERE consent_id = ?1 AND state IN (0, 4)",
	[ST_OUTBOX_UNSENT] = OUTBOX_ROWS("IN (0, 4)"),
	[ST_OUTBOX_PARK] = "UPDATE outbox SET state = 4, reason = ?3, first_sent_at = ?4, attempts = ?5"
			   " WHERE message_id = ?1 AND peer = ?2 AND state = 0",
	[ST_OUTBOX_CANCEL_PARKED] = "UPDATE outbox SET state = 2, reason = ?2, " OUTBOX_SHRED
				    " WHERE message_id = ?1 AND state = 4",
	[ST_OUTBOX_UNPARK] = "UPDATE outbox SET state = 0, reason = NULL, attempts = 0"
			     " WHERE message_id = ?1 AND state = 4",
	[ST_OUTBOX_PARKED_EACH] = "SELECT o.message_id, o.peer, o.body_case, o.created_at, o.attempts,"
				  " coalesce(o.reason, ''), coalesce(l.record_id, '') FROM outbox o"
				  " LEFT JOIN leavers l ON l.message_id = o.message_id"
				  " WHERE o.state = 4 AND (?1 IS NULL OR o.peer = ?1) ORDER BY o.message_id",
	[ST_OUTBOX_PARKED_COUNT] = "SELECT count(*) FROM outbox WHERE peer = ?1 AND state = 4",
	/* refused for good (REJECTED, FINAL): the reason the receiver gave is
	 * the outbox row's, the event (a status or outcome) the timeline's */
	[ST_OUTBOX_REFUSED_EACH] = "SELECT o.message_id, o.peer, o.body_case, o.created_at, o.attempts,"
				   " coalesce(o.reason, ''), coalesce(e.record_id, l.record_id, ''),"
				   " coalesce(e.event, 0), coalesce(e.date, ''), coalesce(o.acked_at, 0)"
				   " FROM outbox o LEFT JOIN events e ON e.message_id = o.message_id"
				   " LEFT JOIN leavers l ON l.message_id = o.message_id"
				   " WHERE o.state = 3 AND (?1 IS NULL OR o.peer = ?1) ORDER BY o.message_id",
	[ST_OUTBOX_REFUSED_COUNT] = "SELECT count(*) FROM outbox WHERE state = 3",
	/* store_ocount.c: queued (0) and parked (4) per peer, each through its
	 * partial index */
	[ST_OUTBOX_COUNTS] = "SELECT peer, 0, count(*) FROM outbox WHERE state = 0 GROUP BY peer"
			     " UNION ALL SELECT peer, 4, count(*) FROM outbox WHERE state = 4 GROUP BY peer",
	[ST_OUTBOX_PEER_STATE] = "SELECT peer, state FROM outbox WHERE message_id = ?1",
	/* store_peers.c */
	/* store_regsent.c */
	[ST_REGSENT_INS] = "INSERT INTO registrations_sent(message_id, pseudonym, school, registered_on, at)"
			   " VALUES (?1,?2,?3,?4,?5)",
#define REGSENT_COLS "SELECT g.message_id, g.school, g.registered_on, g.at, coalesce(o.state, -1)," \
		     " coalesce(o.reason, '') FROM registrations_sent g" \
		     " LEFT JOIN outbox o ON o.message_id = g.message_id"
	[ST_REGSENT_BY_PSEUDO] = REGSENT_COLS " WHERE g.pseudonym = ?1 ORDER BY g.message_id",
	[ST_REGSENT_BY_RECORD] = REGSENT_COLS " WHERE (g.pseudonym, g.school) IN"
				 " (SELECT pseudonym, sender FROM inbox WHERE record_id = ?1"
				 " AND erased_at IS NULL) ORDER BY g.message_id",
	[ST_REGSENT_FORGET] = "DELETE FROM registrations_sent WHERE (pseudonym, school) IN"
			      " (SELECT pseudonym, sender FROM inbox WHERE record_id = ?1"
			      " AND erased_at IS NULL)",
	[ST_REGSENT_EXPIRE] = "DELETE FROM registrations_sent WHERE at < ?1",
	[ST_REGSENT_EACH] = REGSENT_COLS " WHERE ?1 IS NULL OR g.school = ?1 ORDER BY g.message_id",
	/* a Registration still waiting (queued or parked) when its link goes:
	 * cancelled and emptied, or the PGN would stay under the outbox key */
	[ST_REGSENT_CANCEL_FORGET] = "UPDATE outbox SET state = 2, reason = 'pupil erased', sealed = X''"
				     " WHERE state IN (0, 4) AND message_id IN (SELECT message_id"
				     " FROM registrations_sent WHERE (pseudonym, school) IN"
				     " (SELECT pseudonym, sender FROM inbox WHERE record_id = ?1"
				     " AND erased_at IS NULL))",
	[ST_REGSENT_CANCEL_EXPIRE] = "UPDATE outbox SET state = 2, reason = 'retention period over',"
				     " sealed = X'' WHERE state IN (0, 4) AND message_id IN"
				     " (SELECT message_id FROM registrations_sent WHERE at < ?1)",
	[ST_REVOKED_AT] = "SELECT at FROM revoked WHERE consent_id = ?1 AND peer = ?2",
	[ST_RX_SEEN] = "SELECT 1 FROM inbox WHERE message_id = ?1 AND sender = ?2 UNION ALL"
		       " SELECT 1 FROM events WHERE message_id = ?1 AND inbound = 1 AND peer = ?2",
	[ST_PEER_PUT] = "INSERT OR REPLACE INTO peers(peer, software, max_protocol, max_message_size,"
			" max_messages_per_hour, max_stored_bytes, at) VALUES (?1,?2,?3,?4,?5,?6,?7)",
	[ST_PEER_GET] = "SELECT software, max_protocol, max_message_size, max_messages_per_hour,"
			" max_stored_bytes, at FROM peers WHERE peer = ?1",
	[ST_INBOX_BYTES] = "SELECT coalesce(sum(length(sealed)), 0) FROM inbox"
			   " WHERE sender = ?1 AND erased_at IS NULL",
	[ST_LEAVER_DELIVERED] = "UPDATE leavers SET state = 2, delivered_at = ?2"
				" WHERE message_id = ?1 AND state = 1",
	[ST_LEAVER_CANCELLED] = "UPDATE leavers SET state = 3 WHERE message_id = ?1 AND state = 1",

	/* store_inbox.c */
	[ST_INBOX_EXISTS] = "SELECT 1 FROM inbox WHERE message_id = ?1 UNION ALL"
			    " SELECT 0 FROM inbox WHERE record_id = ?2 LIMIT 1",
	[ST_INBOX_ERASURE] = "SELECT sender, coalesce(erased_at, 0), erased_what FROM inbox"
			     " WHERE record_id = ?1",
	[ST_INBOX_INS] = "INSERT INTO inbox(message_id, record_id, sender, key_id, sealed, pseudonym,"
			 " received_at, cohort, program, destination, exit_date, diploma)"
			 " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
	[ST_INBOX_COUNT_ADD] = "UPDATE counts SET n = n + 1 WHERE name = 'inbox'",	/* schema 14 */
	[ST_INBOX_EACH] = "SELECT message_id, record_id, sender, received_at, cohort, program,"
			  " destination, coalesce(erased_at, 0), erased_what FROM inbox WHERE (?1 IS NULL OR cohort = ?1)"
			  " ORDER BY message_id LIMIT ?2",
	[ST_INBOX_GET] = "SELECT message_id, record_id, sender, received_at, cohort, program,"
			 " destination, coalesce(erased_at, 0), erased_what, key_id, sealed FROM inbox"
			 " WHERE record_id = ?1",
	/* kept by store_inbox_put and a delete trigger (schemas 12, 14): O(1) at any size */
	[ST_INBOX_COUNT] = "SELECT n FROM counts WHERE name = 'inbox'",
	[ST_INBOX_KEY] = "SELECT key_id, sender, erased_at IS NOT NULL FROM inbox WHERE record_id = ?1",
	[ST_INBOX_BY_PSEUDONYM] = "SELECT record_id FROM inbox WHERE pseudonym = ?1 ORDER BY message_id",
	[ST_ASSERT_INS] = "INSERT OR IGNORE INTO assertions(consent_id, record_id, sender, assertion, at)"
			  " VALUES (?1,?2,?3,?4,?5)",
	[ST_ASSERT_OF] = "SELECT assertion FROM assertions WHERE record_id = ?1 ORDER BY at",
	[ST_ASSERT_DEL] = "DELETE FROM assertions WHERE consent_id = ?1 AND sender = ?2",

	/* store_events.c */
	[ST_EVENT_INS] = "INSERT INTO events(message_id, record_id, inbound, peer, event, date, level,"
			 " consent_id, at, actor) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	[ST_EVENTS_OF] = "SELECT e.message_id, e.inbound, e.peer, e.event, e.date, e.level,"
			 " e.consent_id, e.at, e.actor, coalesce(o.state, -1), coalesce(o.reason, '')"
			 " FROM events e LEFT JOIN outbox o ON o.message_id = e.message_id"
			 " WHERE e.record_id = ?1 ORDER BY e.date, e.at",
	[ST_EVENTS_DEL_RECORD] = "DELETE FROM events WHERE record_id = ?1",
	[ST_RET_EVENTS] = "DELETE FROM events WHERE date < ?1",

	/* store_erasure.c */
	/* crypto-shredding: the wrapped key goes (secure_delete overwrites it) */
	[ST_KEY_SHRED] = "UPDATE pupil_keys SET wrapped = NULL, destroyed_at = ?2"
			 " WHERE id = ?1 AND wrapped IS NOT NULL",
	/* retention: as `erase` does, no pseudonym or lookup hash is left that
	 * master.key and a guessed BSN or pupil number could link again */
	[ST_LEAVER_SHRED] = "UPDATE leavers SET erased_at = ?2, ref_hash = randomblob(32),"
			    " pseudonym = randomblob(32) WHERE id = ?1 AND erased_at IS NULL",
	/* erasure: no pseudonym or lookup hash links the row to the pupil any more */
	[ST_LEAVER_ERASE] = "UPDATE leavers SET state = 4, erased_at = coalesce(erased_at, ?2),"
			    " ref_hash = randomblob(32),"
			    " pseudonym = randomblob(32) WHERE id = ?1",
	[ST_OUTBOX_CANCEL_KEY] = "UPDATE outbox SET state = 2, reason = ?2 WHERE key_id = ?1"
				 " AND state IN (0, 4)",
	[ST_INBOX_ERASE] = "UPDATE inbox SET erased_at = ?2, erased_what = ?3,"
			   " pseudonym = randomblob(32) WHERE record_id = ?1 AND erased_at IS NULL",
	[ST_INBOX_RESEAL] = "UPDATE inbox SET sealed = ?2, erased_what = ?3 WHERE record_id = ?1",
	/* delivered ones from their delivery; never sent or cancelled ones from
	 * their import, so no pupil's data stays for good (queued: in flight) */
	/* Oldest first, in the order of the partial indexes of schema 12, so
	 * that only the rows due are read: in any other order the planner
	 * walks the whole table to honour ORDER BY and LIMIT. */
	[ST_RET_SENT] = "SELECT id FROM leavers WHERE erased_at IS NULL AND state NOT IN (1, 4)"
			" AND coalesce(delivered_at, imported_at) < ?1"
			" ORDER BY coalesce(delivered_at, imported_at) LIMIT 64",
	[ST_RET_RECEIVED] = "SELECT record_id FROM inbox WHERE erased_at IS NULL AND received_at < ?1"
			    " ORDER BY received_at LIMIT 64",
	[ST_WD_INS] = "INSERT INTO withdrawals(message_id, peer, record_id, consent_ids, reason, at, actor)"
		      " VALUES (?1,?2,?3,?4,?5,?6,?7)",
	[ST_WD_RECEIPT] = "UPDATE withdrawals SET receipt_id = ?3, receipt_at = ?4, erased = ?5,"
			  " erased_at = ?6, receipt_envelope = ?7"
			  " WHERE message_id = ?1 AND peer = ?2 AND receipt_id IS NULL",
	[ST_WD_EACH] = "SELECT message_id, peer, record_id, consent_ids, reason, at, actor,"
		       " coalesce(receipt_id, ''), coalesce(receipt_at, 0), coalesce(erased, ''),"
		       " coalesce(erased_at, 0) FROM withdrawals"
		       " WHERE ?1 IS NULL OR record_id = ?1 ORDER BY message_id",
	[ST_WDRX_GET] = "SELECT 1 FROM withdrawals_rx WHERE message_id = ?1",
	[ST_WDRX_INS] = "INSERT INTO withdrawals_rx(message_id, peer, record_id, receipt_id, at)"
			" VALUES (?1,?2,?3,?4,?5)",

	/* store_enrolments.c: the link is the first dossier received for the
	 * pupil */
	[ST_ENROL_EXISTS] = "SELECT id, level, previous FROM enrolments WHERE pseudonym = ?1 AND"
			    " start_date = ?2",
	[ST_ENROL_FIX] = "UPDATE enrolments SET level = ?2, previous = ?3 WHERE id = ?1",
	[ST_ENROL_INS] = "INSERT INTO enrolments(pseudonym, key_id, pii, level, start_date,"
			 " previous, record_id, imported_at, imported_by) VALUES (?1,?2,?3,?4,?5,?6,"
			 " (SELECT record_id FROM inbox WHERE pseudonym = ?1 ORDER BY message_id LIMIT 1),"
			 " ?7,?8)",
	[ST_ENROL_LINK] = "UPDATE enrolments SET record_id = ?2 WHERE pseudonym = ?1 AND record_id IS NULL",
	[ST_ENROL_OF_PGN] = "SELECT id, level, start_date, previous, coalesce(record_id, ''),"
			    " imported_at, coalesce(erased_at, 0), erased_what FROM enrolments"
			    " WHERE pseudonym = ?1 ORDER BY id",
	[ST_ENROL_KEY] = "SELECT key_id FROM enrolments WHERE id = ?1",
	/* the row stays for the report, as a dossier's does; nothing links it
	 * to the pupil any more (design.md §3.10) */
	[ST_ENROL_ERASE] = "UPDATE enrolments SET erased_at = ?2, erased_what = ?3,"
			   " pseudonym = randomblob(32) WHERE id = ?1 AND erased_at IS NULL",
	[ST_ENROL_BY_RECORD] = "SELECT id FROM enrolments WHERE record_id = ?1 AND erased_at IS NULL",
	[ST_RET_ENROL] = "SELECT id FROM enrolments WHERE erased_at IS NULL AND imported_at < ?1"
			 " ORDER BY imported_at LIMIT 64",
	/* store_checkpoints.c */
	[ST_CP_GET] = "SELECT seq, head, at FROM checkpoints WHERE peer = ?1 AND kind = ?2",
	[ST_CP_PUT] = "INSERT OR REPLACE INTO checkpoints(peer, kind, seq, head, at) VALUES (?1,?2,?3,?4,?5)",
	[ST_CP_EACH] = "SELECT peer, kind, seq, head, at FROM checkpoints ORDER BY peer, kind",
	[ST_CP_DEL] = "DELETE FROM checkpoints WHERE peer = ?1 AND kind = ?2",
	[ST_INC_ADD] = "INSERT OR IGNORE INTO incidents(peer, kind, seq, head, reason, at)"
		       " VALUES (?1,?2,?3,?4,?5,?6)",
	[ST_INC_EACH] = "SELECT id, peer, kind, seq, reason, at, coalesce(acked_at, 0),"
			" coalesce(acked_by, ''), coalesce(note, '') FROM incidents"
			" WHERE ?1 = 0 OR acked_at IS NULL ORDER BY id",
	[ST_INC_ACK] = "UPDATE incidents SET acked_at = ?2, acked_by = ?3, note = ?4"
		       " WHERE id = ?1 AND acked_at IS NULL",

	/* store_report.c */
	/* Sending: two covering index scans in record id order (the leavers, the
	 * events received), merged in C, and the consents that count. Receiving:
	 * one pass, the first date of each event that matters aggregated per
	 * record in one scan of the events. Event numbers are enum outcome_event
	 * (checked below). */
	[ST_REPORT_SEND] =
		"SELECT coalesce(record_id, ''), id, cohort, program, destination,"
		" coalesce(destination_institution, ''), advice, advice_followed, level_taal,"
		" level_rekenen, state FROM leavers INDEXED BY leavers_report"
		" WHERE state <> 4 ORDER BY record_id",
	/* Every dossier received, with the earliest start of the enrolments
	 * linked to it; then every enrolment without a dossier (design.md §6.3).
	 * What `erase` took is left out, on both sides. */
	[ST_REPORT_RECV] =
		"SELECT i.cohort, i.program, i.sender, i.destination, i.received_at,"
		" ev.enrolled, ev.held, ev.diploma, ev.progressed, ev.lwd,"
		" i.diploma, en.start, 1, 0"
		" FROM inbox i LEFT JOIN (SELECT record_id,"
		"   min(CASE WHEN event = 5 THEN date END) AS enrolled,"
		"   min(CASE WHEN event = 6 THEN date END) AS held,"
		"   min(CASE WHEN event = 8 THEN date END) AS diploma,"
		"   min(CASE WHEN event = 9 THEN date END) AS progressed,"
		"   min(CASE WHEN event = 11 THEN date END) AS lwd"
		"   FROM events WHERE inbound = 0 GROUP BY record_id) ev ON ev.record_id = i.record_id"
		" LEFT JOIN (SELECT record_id, min(start_date) AS start FROM enrolments"
		"   WHERE record_id IS NOT NULL AND erased_what <> 'erase' GROUP BY record_id) en"
		"   ON en.record_id = i.record_id"
		" WHERE i.erased_what <> 'erase'"
		" UNION ALL SELECT '', 0, '', 0, 0, NULL, NULL, NULL, NULL, NULL, 0, start_date, 0, level"
		" FROM enrolments WHERE record_id IS NULL AND erased_what <> 'erase'",
	[ST_REPORT_CONSENTS] =
		"SELECT c.leaver_id FROM consents c JOIN leavers l ON l.id = c.leaver_id"
		" WHERE c.purpose = 2 AND c.withdrawn_at = ''"
		" AND (c.counterpart = '*' OR c.counterpart = l.destination_institution)",
	[ST_REPORT_EVENTS] = "SELECT record_id, event, date FROM events INDEXED BY events_report"
			     " WHERE inbound = 1 ORDER BY record_id",
	[ST_REPORT_COUNT] = "SELECT max(id) FROM leavers",
};

_Static_assert(OUTCOME_EV_ENROLLED == 5 && OUTCOME_EV_INTAKE_HELD == 6 &&
	       OUTCOME_EV_STILL_ENROLLED == 7 && OUTCOME_EV_DIPLOMA == 8 &&
	       OUTCOME_EV_PROGRESSED == 9 && OUTCOME_EV_SWITCHED == 10 &&
	       OUTCOME_EV_LEFT_WITHOUT_DIPLOMA == 11, "the report SQL names events by number");

/* ---- helpers for the store's files (store_int.h) ---- */

void store_text(sqlite3_stmt *st, int col, char *dst, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	str_copy(dst, len, t ? (const char *)t : "");
}

void store_cols(sqlite3_stmt *st, const struct store_col *cols, size_t n, void *dst)
{
	for (size_t i = 0; i < n; i++) {
		char *p = (char *)dst + cols[i].off;
		int col = (int)i, v;
		int64_t v64;

		switch (cols[i].type) {
		case STORE_COL_TEXT:
			store_text(st, col, p, cols[i].len);
			break;
		case STORE_COL_INT:	/* int and unsigned fields: both the size of int */
			v = sqlite3_column_int(st, col);
			memcpy(p, &v, sizeof(v));
			break;
		case STORE_COL_I64:
			v64 = sqlite3_column_int64(st, col);
			memcpy(p, &v64, sizeof(v64));
			break;
		default:
			break;
		}
	}
}

int store_bind(sqlite3_stmt *st, const struct store_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct store_arg *a = &args[i];
		int col = (int)i + 1, rc;

		switch (a->type) {
		case STORE_ARG_TEXT:
			rc = sqlite3_bind_text(st, col, a->t, -1, SQLITE_STATIC);
			break;
		case STORE_ARG_INT:
			rc = sqlite3_bind_int64(st, col, a->i);
			break;
		case STORE_ARG_BLOB:
			rc = sqlite3_bind_blob64(st, col, a->b, a->n, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, col);
			break;
		}
		if (rc != SQLITE_OK)
			return sqlerr_errno(rc);
	}
	return 0;
}

int store_rows(sqlite3_stmt *st, store_row_fn row, void *arg)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = row(st, arg)) != 0)
			break;
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	return r;
}

int store_int_query(struct store *s, int which, const char *peer, int64_t *out)
{
	sqlite3_stmt *st = store_st(s, which);
	int rc, r;

	if (peer && (r = STORE_BIND(st, STORE_T(peer))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : sqlerr_errno(rc);
}

int store_exec_count(struct store *s, sqlite3_stmt *st, unsigned *n)
{
	int r = sqlerr_exec(st);

	if (n)
		*n = r == 0 ? (unsigned)sqlite3_changes(s->db) : 0;
	return r;
}

int store_ids_read(sqlite3_stmt *st, int64_t **ids, size_t *n)
{
	size_t cap = 0;
	int rc, r = 0;

	*n = 0;
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
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);
}

int store_strings_read(sqlite3_stmt *st, struct strlist *out)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = strlist_addf(out, "%s", (const char *)sqlite3_column_text(st, 0))) < 0)
			break;
	sqlite3_reset(st);
	return r < 0 ? r : rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);
}

/* ---- health: a damaged store refuses writes (store.h) ---- */

void store_mark_broken(struct store *s, const char *why)
{
	if (s->broken)
		return;
	s->broken = 1;
	str_copy(s->broken_why, sizeof(s->broken_why), why && *why ? why : "database disk image is malformed");
	/* The backstop for writes outside store_begin (a bare store_audit, a
	 * single-statement update): sqlite itself refuses them now. */
	sqlite3_exec(s->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
}

void store_health(struct store *s)
{
	int rc = sqlite3_extended_errcode(s->db) & 0xff;

	if (!s->broken && (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB))
		store_mark_broken(s, sqlite3_errmsg(s->db));
}

int store_broken(const struct store *s, const char **why)
{
	if (why)
		*why = s->broken ? s->broken_why : "";
	return s->broken;
}

int store_note(struct store *s, int r)
{
	if (r == -EUCLEAN)
		store_mark_broken(s, sqlite3_errmsg(s->db));
	return r;
}

/* Run quick_check or integrity_check; up to 100 complaints into problems. */
int store_check(struct store *s, int full, struct strlist *problems)
{
	int r = store_check_db(s->db, full, problems);

	if (r == -EUCLEAN)
		store_mark_broken(s, problems->n ? problems->v[0] : NULL);
	return r;
}

/* ---- open and close ---- */

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
	if ((r = STORE_BIND(st, STORE_B(mac, 32))) < 0) {
		sqlite3_finalize(st);
		return r;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);
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
	return store_open_ex(path, master, 0, out, err, errlen);
}

/* Process-wide sqlite settings (issue 14).
 * Statement journals kept in memory up to 1 MiB instead of sqlite's 64 KiB
 * (issue 14). A statement that fires a trigger (every outbox insert and
 * update under schemas 13 to 15) or may change many rows keeps the pages
 * it changes in a statement journal; once one statement of a transaction
 * passed 64 KiB, the journal became a temporary file that sqlite does not truncate until the
 * transaction ends, so every later statement of a chunk's transaction wrote
 * its pages there with pwrite: 54,000 writes in 25 s of a send, more than
 * to the WAL. Process-wide, so set before the first connection; refused
 * (SQLITE_MISUSE, harmless) when sqlite is initialised already, as a test's
 * fault injection does. A larger statement still spills, so memory stays
 * bounded. Nothing here touches durability: the journal only undoes a
 * failed statement inside its transaction. */
#define S_STMT_SPILL (1 << 20)
static pthread_once_t s_config_once = PTHREAD_ONCE_INIT;

static void s_config(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, S_STMT_SPILL);
	/* No memory statistics (nothing here reads them or sets a heap limit):
	 * with them, every sqlite allocation and free took a global mutex,
	 * 2.5 % of the school's CPU while sending. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open_ex(const char *path, const uint8_t master[CRYPTO_KEY_LEN], unsigned flags,
		  struct store **out, char *err, size_t errlen)
{
	static const char pragmas[] = "PRAGMA journal_mode = WAL;"
				      "PRAGMA synchronous = FULL;"   /* acked means on disk */
				      "PRAGMA foreign_keys = ON;"
				      "PRAGMA secure_delete = ON;";  /* shredded keys are overwritten */
	struct store *s = calloc(1, sizeof(*s));
	char *msg = NULL;
	mode_t old;
	int r = -EIO, rc;

	pthread_once(&s_config_once, s_config);
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
		r = sqlerr_errno(rc);
		goto out;
	}
	/* Extended codes tell a duplicate key from other constraint failures
	 * (sqlerr.h): only the first may be answered as "already there". */
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot set pragmas");
		r = sqlerr_errno(sqlite3_errcode(s->db));
		goto out;
	}
	/* Deferred only when nothing is to be migrated: a migration never writes
	 * into a damaged file (store_check.c). */
	r = (flags & STORE_OPEN_CHECK_LATER) && store_schema_current(s->db) &&
	    store_check_start(s, path) == 0 ? 0 : store_check_now(s, path, err, errlen);
	if (r < 0)
		goto out;
	r = store_schema_migrate(s->db, err, errlen);
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
	if ((r = store_ocount_load(s)) < 0) {
		snprintf(err, errlen, "cannot count the outbox: %s", strerror(-r));
		goto out;
	}
	if ((flags & STORE_OPEN_WAL_THREAD) && (r = store_wal_start(s, path)) < 0) {
		snprintf(err, errlen, "cannot start the WAL checkpoint thread: %s", strerror(-r));
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
	store_check_stop(s);
	store_wal_stop(s);
	audit_free(&s->audit);	/* its statements live on s->db */
	store_ocount_free(s);
	for (int i = 0; i < ST__N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	crypto_wipe(s, sizeof(*s));
	free(s);
	*sp = NULL;
}

/* A broken store takes no new write transaction (store.h). */
int store_begin(struct store *s)
{
	sqlite3_stmt *st = store_st(s, ST_BEGIN);
	int r;

	store_keys_wipe(s);	/* a transaction sqlite ended by itself (an I/O error) left them */
	if (sqlite3_get_autocommit(s->db))	/* and what it moved, rolled back */
		store_ocount_tx_end(s, 0);
	if (s->broken)
		return -EUCLEAN;
	r = store_note(s, sqlerr_exec(st));
	s->keys_tx = r == 0;
	return r;
}
/* A commit that fails is rolled back here (test_fault_control.c): sqlite
 * leaves the transaction open after a failed COMMIT (SQLITE_BUSY, an I/O or
 * memory error before the journal was written), and several callers returned
 * the error without a rollback. The next request's store_begin then failed,
 * or, worse, the next commit carried the half-done writes in. No caller
 * retries a commit. */
int store_commit(struct store *s)
{
	int r;

	store_keys_wipe(s);
	r = store_note(s, sqlerr_exec(store_st(s, ST_COMMIT)));

	if (r < 0)
		store_rollback(s);
	else
		store_ocount_tx_end(s, 1);
	return r;
}
void store_rollback(struct store *s)
{
	store_keys_wipe(s);
	if (!sqlite3_get_autocommit(s->db))
		sqlerr_exec(store_st(s, ST_ROLLBACK));
	store_ocount_tx_end(s, 0);
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

int store_auditf(struct store *s, const char *actor, const char *action, const char *subject,
		 const char *peer, const char *fmt, ...)
{
	char *detail = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = jdetail_vformat(&detail, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = store_audit(s, actor, action, subject, peer, detail);
	free(detail);
	return r;
}
