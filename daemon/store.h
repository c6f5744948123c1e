/* store: overstapd's sqlite store (design.md §5). WAL, synchronous=FULL (everything
 * here may be acknowledged to someone), schema migrations by user_version.
 * Personal data is held only as AES-256-GCM ciphertext under a per-pupil data
 * key, itself wrapped by the institution's master key: destroying the wrapped
 * key (crypto-shredding) makes every copy of that pupil's data unreadable.
 * The store never logs; it returns negative errno codes and, where useful, a
 * message in the caller's buffer. sqlite's codes are translated once, in
 * sqlerr.h: -EEXIST only for a duplicate key (UNIQUE or PRIMARY KEY), -EINVAL
 * for any other constraint failure (NOT NULL, CHECK, FOREIGN KEY), -EBUSY,
 * -ENOSPC, -ENOMEM, -EACCES, -EUCLEAN (corrupt) or -EIO.
 *
 * The implementation is one file per section below: store.c (open, close,
 * transactions, keys, the SQL), store_schema.c, store_leavers.c,
 * store_consents.c, store_events.c, store_outbox.c, store_inbox.c,
 * store_erasure.c, store_report.c, store_checkpoints.c.
 *
 * Transactions are the caller's (store_begin/commit/rollback); only
 * store_leavers_import opens its own, and store_audit joins an open one. A
 * function marked "[in tx]" below writes more than one row and must run
 * inside the caller's transaction: called bare, a failure halfway (a full
 * disk, no memory) leaves the first rows on disk without the rest, as the
 * fault sweeps in tests/unit/test_fault_store.c show. The single-statement
 * writes are atomic alone, but belong in the transaction of the audit entry
 * that records them. Every function returns an error when it could not do
 * the whole job, a failed bind included: a parameter never silently stays
 * NULL. */
#ifndef OVERSTAP_STORE_H
#define OVERSTAP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "consent.h"
#include "control.pb-c.h"
#include "crypto.h"
#include "overstap.pb-c.h"
#include "store.pb-c.h"
#include "util.h"

#define STORE_SCHEMA_VERSION 16

struct store;

/* Leaver states at the sending school, in the order they are reached. */
enum leaver_state {
	LEAVER_IMPORTED = 0,	/* imported, not yet sendable */
	LEAVER_QUEUED = 1,	/* dossier in the outbox, not yet acknowledged */
	LEAVER_DELIVERED = 2,	/* acknowledged by the receiver */
	LEAVER_CANCELLED = 3,
	LEAVER_ERASED = 4,	/* `overstap erase`: key shredded, unlinkable tombstone */
};
const char *store_leaver_state_str(int state);

/* PARKED: refused for a reason an administrator can change (size, protocol
 * version), or over the receiver's announced limit: not sent again until
 * `overstap outbox retry` (design.md §4.5); the leaver stays queued. */
enum outbox_state {
	OUTBOX_QUEUED = 0, OUTBOX_ACKED = 1, OUTBOX_CANCELLED = 2, OUTBOX_REJECTED = 3, OUTBOX_PARKED = 4
};

/* The non-personal part of a leaver row plus its decrypted personal part. */
struct leaver {
	int64_t id;
	int64_t key_id;
	char pupil_ref[65];		/* decrypted */
	int program, destination, advice, advice_followed, level_taal, level_rekenen;
	char cohort[10];
	char exit_date[11];
	char destination_institution[7];
	char registered_on[11];		/* "" = not registered */
	char inzage_on[11];		/* "" = no inzage */
	int inzage_reviewer;
	char inzage_recorded_by[64];
	int inzage_agrees;		/* Overstap__Tristate: 0 = not asked */
	int state;
	char record_id[CRYPTO_UUID_STR_LEN + 1];
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	int64_t queued_at, delivered_at;
	unsigned attempts;
	int64_t erased_at;		/* unix ms the pupil key was shredded, 0 = not */
	char parked[256];		/* queued, but its message is parked: why; "" = not */
	Overstapstore__LeaverPrivate *priv;	/* owned when loaded with personal data */
};
void store_leaver_clear(struct leaver *l);

/* Open (creating and migrating as needed) the store at path. The master key is
 * copied; sub-keys are derived from it. err gets a reason on failure. */
int store_open(const char *path, const uint8_t master[CRYPTO_KEY_LEN], struct store **out,
	       char *err, size_t errlen);
void store_close(struct store **s);
/* store_open with flags: STORE_OPEN_CHECK_LATER runs the quick_check on a
 * worker thread with its own read-only connection (store_check.c) instead
 * of before store_open returns, unless the schema is to be migrated (then it
 * runs first, as store_open's). Until it is done the store is used as it is;
 * a failed check marks it broken (writes refused) when collected. */
#define STORE_OPEN_CHECK_LATER 1u
/* STORE_OPEN_WAL_THREAD: the WAL is checkpointed on a thread with its own
 * connection (store_wal.c, design.md §5.1), not inside the commit that
 * passes 1000 pages. The daemon's loop; a process that forks while it runs
 * must not use the store in the child. */
#define STORE_OPEN_WAL_THREAD 2u
int store_open_ex(const char *path, const uint8_t master[CRYPTO_KEY_LEN], unsigned flags,
		  struct store **out, char *err, size_t errlen);
/* The deferred check's result: 1 while it runs, 0 when the store passed,
 * -EUCLEAN when it failed (the store is now broken; *why sqlite's first
 * complaint), another -errno when it could not run, -ENOENT when there is
 * none (store_open checked at open). *ms: how long it took. why and ms may
 * be NULL. Called from the loop; cheap. */
int store_check_poll(struct store *s, const char **why, int64_t *ms);
/* Start a check (STORE_OPEN_CHECK_LATER does): 0, -EALREADY, or -errno. */
int store_check_start(struct store *s, const char *path);
/* Stop a check still running (store_close does): it is interrupted. */
void store_check_stop(struct store *s);
/* The checkpoint thread (STORE_OPEN_WAL_THREAD does these): start it, 0,
 * -EALREADY or -errno; stop it, the connection checkpointing by itself again
 * (store_close does). store_wal_runs: the checkpoints it ran, and the last
 * one's result (0 or -errno; -ENOENT when none runs). */
int store_wal_start(struct store *s, const char *path);
void store_wal_stop(struct store *s);
int store_wal_runs(struct store *s, unsigned long *runs);

/* ---- the store's health (store.c): a damaged store is never used silently ----
 * store_open runs PRAGMA quick_check and refuses a store that fails it
 * (-EUCLEAN, err: sqlite's first complaint). While running, the first
 * SQLITE_CORRUPT or SQLITE_NOTADB any call meets marks the store broken:
 * from then on store_begin returns -EUCLEAN at once and the connection is
 * query_only, so nothing more is written into a damaged file; reads go on. */

/* 1 when the store was found damaged; *why (may be NULL) borrows sqlite's
 * message. */
int store_broken(const struct store *s, const char **why);
/* Mark the store broken when r is -EUCLEAN (a caller's result); returns r. */
int store_note(struct store *s, int r);
/* PRAGMA integrity_check (full = 1) or quick_check: 0 when sqlite says "ok";
 * -EUCLEAN with its lines (at most 100) in problems, and the store marked
 * broken; another -errno when the check could not run. */
int store_check(struct store *s, int full, struct strlist *problems);
/* `overstap store check` (design.md §5.8): PRAGMA integrity_check(100) on
 * a worker thread with its own read-only connection, so that the loop goes
 * on answering while a store of some GiB is read through (a minute or more;
 * in the loop it also outlasted systemd's watchdog). It checks what was
 * committed when it started. Start: 0 or -errno. Poll (the loop, cheap): 1
 * while it runs; then, once, as store_check: 0, -EUCLEAN (the store is now
 * broken; problems has sqlite's complaints) or -errno. Free: a check still
 * running is interrupted (a stopping daemon, a request dropped). */
struct store_fullcheck;
int store_fullcheck_start(struct store *s, struct store_fullcheck **out);
int store_fullcheck_poll(struct store *s, struct store_fullcheck *fc, struct strlist *problems);
void store_fullcheck_free(struct store_fullcheck **fc);
/* A consistent copy of the store to path by sqlite's online backup API. The
 * file is created 0600; an existing path (a symlink included) is refused with
 * -EEXIST unless force, which replaces it (a symlink itself, never its
 * target). *bytes gets the copy's size. err gets a reason on failure; a
 * failed copy leaves no file. 0 or -errno. */
int store_backup(struct store *s, const char *path, int force, uint64_t *bytes, char *err,
		 size_t errlen);
/* store_backup in steps (store_backup.c): the copy runs on a thread of its
 * own with its own read-only connection, one read transaction long, while
 * the loop goes on. _start creates the file (as above) and starts the copy
 * (0, or -errno with err set and no file left; -EBUSY, touching nothing,
 * while another copy of this store runs); _poll returns 1 while it
 * runs, then 0 with *bytes (the file is kept) or -errno with err (the file
 * is gone); _progress gives the pages copied and in all (1 once done);
 * _free stops a copy under way and removes what it left, then NULLs *b. */
struct store_backup;
int store_backup_start(struct store *s, const char *path, int force, struct store_backup **b,
		       char *err, size_t errlen);
int store_backup_poll(struct store *s, struct store_backup *b, uint64_t *bytes, char *err,
		      size_t errlen);
int store_backup_progress(const struct store_backup *b, uint64_t *done, uint64_t *total);
void store_backup_free(struct store_backup **b);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* HMAC-SHA256 pseudonym of an identifier under the store's pseudonym key. */
int store_pseudonym(struct store *s, const char *ident, uint8_t out[32]);

/* ---- sending school: leavers (store_leavers.c) ---- */

/* Import validated leavers in one transaction: all or nothing. A pupil_ref
 * already in the store is an error "FILE:LINE: pupil_ref: already imported".
 * Returns 0, -EINVAL (errors filled, nothing stored) or another -errno. */
int store_leavers_import(struct store *s, const char *file, Overstapctl__Leaver *const *rows,
			 size_t n, const char *user, struct strlist *errors);

/* A re-import (design.md §8.5) compares a row with the stored leaver column by
 * column: bit i of a mask is store_leaver_cols[i], the Leaver fields in the
 * order of proto/control.proto (pupil_ref is the key and never differs). */
#define STORE_LEAVER_NCOLS 20
extern const char *const store_leaver_cols[STORE_LEAVER_NCOLS];
#define STORE_LEAVER_COL_DESTINATION_INSTITUTION (1u << 9)
/* Find the leaver with row's pupil_ref (its personal part decrypted into l,
 * which the caller clears) and set *changed to the columns in which row
 * differs from it. -ENOENT when there is none (an erased leaver cannot be
 * found: its ref_hash is random), -ENOKEY when its data cannot be read. */
int store_leaver_diff(struct store *s, const Overstapctl__Leaver *row, struct leaver *l,
		      uint32_t *changed);
/* [in tx] Store one validated new leaver under a new pupil key; *id is its
 * row id. A pupil_ref already there is -EEXIST. */
int store_leaver_add(struct store *s, const Overstapctl__Leaver *row, const char *user,
		     int64_t now, int64_t *id);
/* A new leaver made ready before the transaction that stores it (an import
 * session's staging, design.md §8.5): everything store_leaver_add computes
 * that needs no store access. ref_hash and pseudonym as in the row; a new
 * pupil key, only wrapped under the master key (never in the clear here);
 * the personal part sealed under it with the ref_hash as AAD (§5.4). The
 * pointers are either own[] (store_leaver_prepare) or borrowed. */
struct store_leaver_prep {
	uint8_t ref_hash[32], pseudonym[32];
	const uint8_t *wrapped, *pii;
	size_t wrapped_len, pii_len;
	void *own[2];
};
/* The lookup hash of a pupil_ref (leavers.ref_hash, design.md §3.9). */
int store_leaver_ref_hash(struct store *s, const char *pupil_ref, uint8_t out[32]);
/* Make p for row (ref_hash: row's, when the caller has it, or NULL). 0 or
 * -errno; p is cleared on failure and otherwise the caller's to clear. */
int store_leaver_prepare(struct store *s, const Overstapctl__Leaver *row,
			 const uint8_t *ref_hash, struct store_leaver_prep *p);
void store_leaver_prep_clear(struct store_leaver_prep *p);
/* store_leaver_diff by row's ref_hash, already computed. */
int store_leaver_diff_ref(struct store *s, const Overstapctl__Leaver *row,
			  const uint8_t ref_hash[32], struct leaver *l, uint32_t *changed);
/* [in tx] store_leaver_add with what p (made from row) holds: no crypto. */
int store_leaver_add_prepared(struct store *s, const Overstapctl__Leaver *row,
			      const struct store_leaver_prep *p, const char *user, int64_t now,
			      int64_t *id);
/* How many leavers store_leaver_add_prepared has inserted since the store
 * was opened (rolled back or not): an import session that saw it unchanged
 * from before its first check to its apply knows that no pupil it found new
 * while staging has come in since (import_stage.c). */
uint64_t store_leaver_adds(const struct store *s);
/* Flags of store_leaver_update. */
#define STORE_LEAVER_RESET_INZAGE 1u	/* the dossier changed: inzage to record again */
#define STORE_LEAVER_RESET_REGISTERED 2u	/* the destination changed: registration too */
/* [in tx] Replace the data of leaver l (loaded with its private part) by row,
 * under its own key; inzage remarks are kept. Only while the dossier has not
 * left: a leaver no longer imported is -EALREADY and stays as it was. */
int store_leaver_update(struct store *s, const struct leaver *l, const Overstapctl__Leaver *row,
			unsigned flags);

/* Find a leaver by pupil_ref; with_private decrypts its personal data into
 * l->priv. -ENOENT when unknown. */
int store_leaver_find(struct store *s, const char *pupil_ref, int with_private, struct leaver *l);

int store_leaver_set_registered(struct store *s, int64_t id, const char *date, const char *user);
/* An inzage as the store keeps it; the texts are borrowed. */
struct store_inzage {
	int reviewer;			/* Overstap__Reviewer */
	const char *date;		/* YYYY-MM-DD */
	const char *remarks;		/* "" = none */
	int agrees;			/* Overstap__Tristate */
	const char *disagreement;	/* their view when agrees is NO; "" = none */
	const char *user;		/* staff user who recorded it */
};
/* [in tx] Record (or replace) the inzage of leaver id: reviewer, date, user
 * and agreement in plain columns, remarks and disagreement sealed with the
 * pupil's data. -ENOKEY when that data is erased. */
int store_leaver_set_inzage(struct store *s, int64_t id, const struct store_inzage *z);
/* Mark queued with the dossier's record and message id (same transaction as
 * the outbox entry). */
int store_leaver_set_queued(struct store *s, int64_t id, const char *record_id,
			    const char *message_id, int64_t now);

/* Iterate leavers (personal part decrypted: pupil_ref only), ordered by id.
 * state < 0 and cohort NULL mean any. cb returns non-zero to stop. */
typedef int (*store_leaver_cb)(const struct leaver *l, void *arg);
int store_leavers_each(struct store *s, int state, const char *cohort, unsigned limit,
		       store_leaver_cb cb, void *arg);
/* Ids of leavers ready to send: imported, registered, inzage recorded, with a
 * destination institution. Caller frees *ids. */
int store_leavers_ready(struct store *s, int64_t **ids, size_t *n);
int store_leaver_load(struct store *s, int64_t id, int with_private, struct leaver *l);
/* store_leaver_load of n leavers at once, their personal parts opened
 * together (store_crypt_many: on the store's pool). res[i] is out[i]'s
 * result (-ENOENT: no such leaver); the return is < 0 when the store failed
 * (then no res[i] counts). Clear every out[i] (store_leaver_clear) in any case. */
int store_leavers_load_many(struct store *s, const int64_t *ids, size_t n, int with_private,
			    struct leaver *out, int *res);
/* The leaver a record id was sent as, or the (latest) leaver with this PGN. */
int store_leaver_by_record(struct store *s, const char *record_id, int with_private, struct leaver *l);
int store_leaver_by_pgn(struct store *s, const char *pgn, int with_private, struct leaver *l);

/* ---- consents (store_consents.c; design.md §3, the rules are in consent.h) ---- */

/* Store a checked consent for a leaver: c->id gets a new UUID. The evidence
 * reference is sealed under the pupil's key (key_id). */
int store_consent_add(struct store *s, int64_t leaver_id, int64_t key_id, struct consent *c);
/* Record a withdrawal (effective from date). -EALREADY when there is no
 * such consent or it was withdrawn before. */
int store_consent_withdraw(struct store *s, const char *id, const char *date, const char *user);
/* One consent by id (pupil_ref left empty; *leaver_id says whose). -ENOENT. */
int store_consent_get(struct store *s, const char *id, struct consent *c, int64_t *leaver_id);
/* Every consent of one leaver (leaver_id >= 0) or of all, ordered by leaver
 * and date. fn returns non-zero to stop; that value is returned. */
typedef int (*store_consent_fn)(const struct consent *c, int64_t leaver_id, void *arg);
int store_consents_each(struct store *s, int64_t leaver_id, store_consent_fn fn, void *arg);
/* 1 when consent_id was withdrawn here by today, or a peer told us it was. */
int store_consent_revoked(struct store *s, const char *consent_id, const char *today);
/* Remember that a peer withdrew one of its consents (idempotent). */
int store_revoke(struct store *s, const char *consent_id, const char *peer, int64_t now);

/* ---- statuses and outcomes, both directions (store_events.c) ---- */

struct event_rec {
	char message_id[CRYPTO_UUID_STR_LEN + 1];	/* of the Status/Outcome message */
	char record_id[CRYPTO_UUID_STR_LEN + 1];	/* the handover it is about */
	int inbound;			/* 1 received from peer, 0 sent to it */
	char peer[7];
	int event;			/* enum outcome_event */
	char date[11];
	int level;			/* 1-4 for diploma/progressed */
	char consent_id[CRYPTO_UUID_STR_LEN + 1];	/* outcomes: the follow_up consent */
	int64_t at;			/* unix ms recorded */
	char actor[64];			/* staff user, or peer:ID */
	int state;			/* sent ones: enum outbox_state; -1 for received */
	char reason[160];		/* sent ones: why refused or cancelled */
};
/* 0, or 1 when this message id is already recorded (a retry). */
int store_event_add(struct store *s, const struct event_rec *e);
/* The timeline of one record, by date. fn returns non-zero to stop. */
typedef int (*store_event_fn)(const struct event_rec *e, void *arg);
int store_events_each(struct store *s, const char *record_id, store_event_fn fn, void *arg);
/* Delete the statuses and outcomes of one record; *n counts them. */
int store_events_delete(struct store *s, const char *record_id, unsigned *n);
/* Delete statuses and outcomes dated before before_date; *n counts them. */
int store_events_expire(struct store *s, const char *before_date, unsigned *n);

/* ---- audit log (store.c; design.md §5, audit.h) ---- */

/* Append an audit entry now. Call it inside the transaction of the change it
 * records, so that both commit or neither does; outside one it commits on
 * its own. subject is a record id, pseudonym or "" (never a name or PGN);
 * detail is JSON text without personal data. 0 or -errno. */
int store_audit(struct store *s, const char *actor, const char *action, const char *subject,
		const char *counterpart, const char *detail);
/* store_audit with the detail built by jdetail_format (keys in the order
 * given, compact): every text that did not come from this program goes in
 * as "o" through jdetail_text, so it cannot add keys. 0 or -errno. */
int store_auditf(struct store *s, const char *actor, const char *action, const char *subject,
		 const char *counterpart, const char *fmt, ...);
/* The audit handle, borrowed: for verify, export and checkpoints. */
struct audit *store_audit_peek(struct store *s);

/* ---- outbox: any message we send (store_outbox.c) ---- */

/* Add a signed, packed envelope for peer. It is stored sealed (under the
 * pupil's key when key_id > 0, else under the store's outbox key), so the
 * outbox holds no readable personal data either. */
int store_outbox_add(struct store *s, const char *message_id, const char *peer, int body_case,
		     const uint8_t *packed, size_t len, int64_t key_id, int64_t now);
/* store_outbox_add of an envelope already sealed by store_crypt_many (seal,
 * under key_id, the message id as AAD). */
int store_outbox_add_sealed(struct store *s, const char *message_id, const char *peer,
			    int body_case, const uint8_t *sealed, size_t slen, int64_t key_id,
			    int64_t now);

/* One seal or open of store_crypt_many: under the pupil key key_id (> 0)
 * or the outbox key (0), AAD aad. */
struct store_crypt {
	int64_t key_id;
	const void *aad;
	size_t aad_len;
	const uint8_t *in;		/* borrowed */
	size_t len;
	uint8_t *out;			/* the result, the caller's (free it) */
	size_t out_len;
	int r;				/* 0, -ENOKEY (the key is shredded), -EBADMSG, ... */
};
/* Seal (seal = 1) or open every v[i] (issue 14 item 2, design.md §4.6): the
 * loop reads the keys (from the transaction's cache or the table), the
 * unwrapping and the AES-GCM run on the store's pool. Each result is in
 * v[i].r; the return is < 0 only when the store failed reading the keys
 * (then no v[i].out is set). */
int store_crypt_many(struct store *s, int seal, struct store_crypt *v, size_t n);

struct outbox_msg {
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	int64_t created_at;
	int64_t key_id;		/* the pupil key it is sealed under, 0 = outbox key */
	char consent_id[CRYPTO_UUID_STR_LEN + 1];	/* the consent it relies on, "" = none */
	char consent_until[11];	/* that consent's last day, "" = open-ended */
	uint8_t *packed;	/* owned, decrypted envelope */
	size_t len;
};
/* Up to `limit` queued messages for peer with message_id > after (""), in id
 * order, decrypted. Caller frees each .packed and *out. */
int store_outbox_pending(struct store *s, const char *peer, const char *after, unsigned limit,
			 struct outbox_msg **out, size_t *n);
/* Like store_outbox_pending, for queued and parked messages both: what the
 * re-signing after a key change walks, so that a parked message retried
 * later carries a signature its peer still accepts. */
int store_outbox_unsent(struct store *s, const char *peer, const char *after, unsigned limit,
			struct outbox_msg **out, size_t *n);
/* Replace a queued message's envelope with m->packed (same id and key): used
 * to re-sign the outbox after our signing key changed. */
int store_outbox_replace(struct store *s, const struct outbox_msg *m);
/* One of our messages as it was sent (decrypted; *packed is the caller's):
 * -ENOENT, or -ENOKEY when the pupil has been erased since. */
int store_outbox_get(struct store *s, const char *message_id, uint8_t **packed, size_t *len);
/* The consent a queued disclosure relies on: every (re)send checks it again. */
int store_outbox_set_consent(struct store *s, const char *message_id, const char *consent_id,
			     const char *until);
/* [in tx] Cancel a queued message (its consent ended while it waited); a handover's
 * leaver becomes cancelled. 1 when it was no longer queued. */
int store_outbox_cancel(struct store *s, const char *message_id, const char *reason);
/* Cancel every queued message relying on consent_id; *n counts them. */
int store_outbox_cancel_consent(struct store *s, const char *consent_id, const char *reason,
				unsigned *n);

/* [in tx] Record acknowledgements: the outbox entry
 * becomes acked (or rejected with reason), and a handover's leaver delivered. */
int store_outbox_ack(struct store *s, const char *peer, const char *message_id, int rejected,
		     const char *reason, int64_t first_sent_at, unsigned attempts, int64_t now);
/* [in tx] Park a queued message (design.md §4.5): it stays in the outbox, is
 * not sent again, and its leaver stays queued. 1 when it was not queued. */
int store_outbox_park(struct store *s, const char *peer, const char *message_id, const char *reason,
		      int64_t first_sent_at, unsigned attempts);
/* [in tx] Cancel a parked message (a handover's leaver becomes cancelled):
 * 1 when message_id is not parked. */
int store_outbox_cancel_parked(struct store *s, const char *message_id, const char *reason);
/* [in tx] Queue a parked message again (attempts from 0): 1 when message_id
 * is not parked. */
int store_outbox_unpark(struct store *s, const char *message_id);
struct outbox_parked {
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	char peer[16];
	int body_case;
	int64_t created_at;
	unsigned attempts;
	char reason[256];
	char record_id[CRYPTO_UUID_STR_LEN + 1];	/* a handover's record id, "" otherwise */
	int event;			/* refused: the status or outcome (enum outcome_event), 0 */
	char date[11];			/* refused: its date, "" */
	int64_t settled_at;		/* refused: unix ms the refusal came, 0 */
};
typedef int (*store_parked_cb)(const struct outbox_parked *m, void *arg);
/* Every parked message (of peer, or of all peers when NULL), oldest first. */
int store_outbox_parked_each(struct store *s, const char *peer, store_parked_cb cb, void *arg);
/* Parked messages for peer (through the partial index). */
int store_outbox_parked_count(struct store *s, const char *peer, uint64_t *n);
/* Every message a receiver refused for good (state rejected: REJECTED with
 * disposition FINAL), of peer or of all when NULL, oldest first, with the
 * reason it gave and, for a status or outcome, the record id, event and
 * date; and how many there are (through the partial index). */
int store_outbox_refused_each(struct store *s, const char *peer, store_parked_cb cb, void *arg);
int store_outbox_refused_count(struct store *s, uint64_t *n);

/* ---- what peers said in their Hello (store_peers.c) ---- */
struct peer_info {
	char software[64];
	unsigned max_protocol;
	int64_t max_message_size;	/* 0 = not said */
	int64_t max_messages_per_hour;	/* 0 = no quota */
	int64_t max_stored_bytes;	/* 0 = no quota */
	int64_t at;			/* wall ms it was said */
};
int store_peer_info_put(struct store *s, const char *peer, const struct peer_info *pi);
/* -ENOENT when the peer never said hello. */
int store_peer_info_get(struct store *s, const char *peer, struct peer_info *pi);
/* Bytes of the sealed dossiers received from peer and not erased. */
int store_inbox_bytes(struct store *s, const char *peer, int64_t *bytes);

/* Messages queued for peer (linear in the depth: the daemon counts once per
 * peer and then keeps the depth itself). */
int store_outbox_depth(struct store *s, const char *peer, uint64_t *depth);
/* Creation time of the oldest queued message, cheap at any depth; 0 = none. */
int store_outbox_oldest(struct store *s, const char *peer, int64_t *oldest);

/* ---- receiving institution: inbox (store_inbox.c) ---- */

/* [in tx: a key, then the dossier] Store a received, verified handover
 * envelope idempotently: returns 0 when
 * stored, 1 when this message id was already there, -EEXIST when another
 * message already delivered this record id. The packed
 * envelope is kept sealed under a new per-record data key, so the signature
 * (evidence of origin) can be checked again later. */
int store_inbox_put(struct store *s, const char *message_id, const char *sender,
		    const Overstap__Handover *h, const uint8_t *packed, size_t len, int64_t now);

/* store_inbox_put in two halves (design.md §4.6 "Both cores"). The first,
 * store_inbox_seal, is the cryptography: a fresh pupil key wrapped under
 * the master key, the packed envelope sealed under it (message id as AAD),
 * the PGN's pseudonym. It reads only the store's keys, fixed while the store
 * is open, so it may run on a worker thread; the pupil key in the clear is
 * wiped before it returns. The second, store_inbox_put_sealed, is
 * store_inbox_put's SQL with that result, on the loop, with the same
 * results (0, 1, -EEXIST). An unused result just goes: the key it made was
 * never stored. */
struct inbox_sealed {
	uint8_t pseudonym[32];		/* HMAC(pgn:PGN) */
	uint8_t *wrapped;		/* the pupil key under the master key */
	size_t wlen;
	uint8_t *sealed;		/* the packed envelope under the pupil key */
	size_t slen;
};
int store_inbox_seal(const struct store *s, const char *message_id, const char *pgn,
		     const uint8_t *packed, size_t len, struct inbox_sealed *out);
void store_inbox_sealed_clear(struct inbox_sealed *x);
int store_inbox_put_sealed(struct store *s, const char *message_id, const char *sender,
			   const Overstap__Handover *h, const struct inbox_sealed *x, int64_t now);

struct inbox_row {
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	char record_id[CRYPTO_UUID_STR_LEN + 1];
	char sender[7];
	int64_t received_at;
	char cohort[10];
	int program, destination;
	int64_t erased_at;		/* unix ms its key was shredded, 0 = not */
	char erased_what[16];		/* "withdrawal", "retention", "erase", or "care_notes" */
};
typedef int (*store_inbox_cb)(const struct inbox_row *r, void *arg);
int store_inbox_each(struct store *s, const char *cohort, unsigned limit, store_inbox_cb cb,
		     void *arg);
/* One inbox entry and its decrypted packed envelope (caller frees). */
int store_inbox_get(struct store *s, const char *record_id, struct inbox_row *r,
		    uint8_t **packed, size_t *len);
int store_inbox_count(struct store *s, uint64_t *n);
/* The receiver's copy: its sender and whether it was erased. -ENOENT. */
int store_inbox_state(struct store *s, const char *record_id, char sender[7], int *erased);
/* The receiver's copy without opening it: sender, when it was erased (unix
 * ms, 0 = not) and by what ("withdrawal", "retention", "erase"). -ENOENT. */
int store_inbox_erasure(struct store *s, const char *record_id, char sender[7], int64_t *erased_at,
			char what[16]);
/* Record ids of received dossiers of the pupil with this PGN. */
int store_inbox_by_pgn(struct store *s, const char *pgn, struct strlist *record_ids);
/* 1 when a dossier, status or outcome with this message id from this peer is
 * held already (a retry), 0 when not, or -errno. */
int store_rx_seen(struct store *s, const char *message_id, const char *peer);

/* Registrations this receiver sent (store_regsent.c, design.md §3.11): the
 * link from the PGN's pseudonym to the message, kept for the subject report
 * until the dossier it concerns is erased or retention ends it. */
struct regsent {
	char message_id[CRYPTO_UUID_STR_LEN + 1];	/* the subject of its audit entries */
	char school[16];			/* institution id */
	char registered_on[11];
	int64_t at;			/* unix ms queued */
	int state;			/* enum outbox_state, -1 = the outbox row is gone */
	char reason[160];		/* refused or cancelled: why */
};
typedef int (*store_regsent_fn)(const struct regsent *g, void *arg);
int store_regsent_add(struct store *s, const char *message_id, const char *pgn, const char *school,
		      const char *registered_on, int64_t at);
/* Those for a PGN, or for the pupil and sender of a received dossier. */
int store_regsent_by_pgn(struct store *s, const char *pgn, store_regsent_fn fn, void *arg);
/* Every one (to school, when not NULL), oldest first. */
int store_regsent_each(struct store *s, const char *school, store_regsent_fn fn, void *arg);
int store_regsent_by_record(struct store *s, const char *record_id, store_regsent_fn fn, void *arg);
/* Delete those of a received dossier's pupil and sender (before its
 * pseudonym goes), or those queued before before_ms; *n counts them. */
int store_regsent_forget(struct store *s, const char *record_id, unsigned *n);
int store_regsent_expire(struct store *s, int64_t before_ms, unsigned *n);
/* When the sender withdrew consent_id, in unix ms: 0 or -ENOENT. */
int store_revoked_at(struct store *s, const char *consent_id, const char *peer, int64_t *at);

/* ---- receiving institution: its enrolment list (store_enrolments.c) ---- */

/* One new enrolment at the MBO (design.md §6.3), with or without a dossier. */
struct enrolment_in {
	const char *pgn;		/* checked by the caller (pgn_check) */
	int level;			/* MBO level 1-4 */
	const char *start_date;		/* YYYY-MM-DD */
	int previous;			/* enum Overstap__Program the MBO knows, 0 = not */
};
/* [in tx] Store e, its PGN sealed under a new key of its own, linked to the
 * first dossier received for the pupil if there is one: 0; 1 when this
 * pupil's enrolment with this start date is held already as it is (nothing
 * changes); 2 when it was held with another level or previous education,
 * which e corrects. */
int store_enrolment_put(struct store *s, const struct enrolment_in *e, const char *user,
			int64_t now);
/* [in tx] A dossier arrived for pseudonym: enrolments without one link to it. */
int store_enrolments_link(struct store *s, const uint8_t pseudonym[32], const char *record_id);
struct enrolment_row {
	int64_t id;
	int level;
	char start_date[11];
	int previous;
	char record_id[CRYPTO_UUID_STR_LEN + 1];	/* the dossier it is linked to, "" = none */
	int64_t imported_at;		/* unix ms */
	int64_t erased_at;		/* unix ms, 0 = not */
	char erased_what[16];		/* "retention", "erase", "" */
};
typedef int (*store_enrolment_fn)(const struct enrolment_row *r, void *arg);
/* The enrolments of the pupil with this PGN (not erased: erasure replaces
 * the pseudonym). fn returns non-zero to stop. */
int store_enrolments_of_pgn(struct store *s, const char *pgn, store_enrolment_fn fn, void *arg);
/* Ids of the enrolments linked to record_id and not erased (*ids the caller's). */
int store_enrolments_of_record(struct store *s, const char *record_id, int64_t **ids, size_t *n);
/* [in tx] Erase one enrolment (design.md §3.10): its key shredded, its
 * pseudonym replaced, erased_at/what set; the row stays for the report. 0,
 * 1 when it was erased already, -ENOENT. */
int store_enrolment_erase(struct store *s, int64_t id, const char *what, int64_t now);
/* Ids of enrolments imported before before_ms and not erased, at most 1000. */
int store_retention_enrolments(struct store *s, int64_t before_ms, int64_t **ids, size_t *n);

/* Receiver: consents told after the dossier (ConsentNotice), kept packed.
 * put: 0, or 1 when this consent id is held already. each: fn gets the
 * packed ConsentAssertion, non-zero stops. delete: 1 when one went. */
int store_assertion_put(struct store *s, const char *record_id, const char *sender,
			const char *consent_id, const uint8_t *packed, size_t len, int64_t now);
typedef int (*store_blob_fn)(const void *data, size_t len, void *arg);
int store_assertions_each(struct store *s, const char *record_id, store_blob_fn fn, void *arg);
int store_assertion_delete(struct store *s, const char *consent_id, const char *sender);

/* ---- erasure, retention, withdrawals (store_erasure.c; design.md §3: crypto-shredding) ---- */

/* [in tx: cancel, shred, mark] Retention at the school: destroy the
 * leaver's pupil key (name, PGN,
 * remarks and evidence references become unreadable everywhere, backups of
 * the store included) and cancel what is still queued under it; the
 * pseudonymous report fields and the timeline stay. */
int store_leaver_shred(struct store *s, const struct leaver *l, int64_t now);
/* [in tx] `overstap erase`: shred as above, delete the pupil's status and outcome
 * rows, and unlink the row (new random lookup hash and pseudonym), leaving a
 * tombstone in state LEAVER_ERASED. *events and *cancelled count what went. */
int store_leaver_erase(struct store *s, const struct leaver *l, int64_t now, unsigned *events,
		       unsigned *cancelled);
/* [in tx: shred, mark] Shred a received dossier's key; what ("retention",
 * "withdrawal") is kept. */
int store_inbox_erase(struct store *s, const char *record_id, const char *what, int64_t now);
/* Replace a received dossier with packed (e.g. without its care notes), under
 * the same key; what says what was taken out. */
int store_inbox_replace(struct store *s, const char *record_id, const uint8_t *packed, size_t len,
			const char *what);
/* Retention candidates, at most 1000 per call (the daily job repeats until
 * none are left): leavers delivered before before_ms and not yet shredded
 * (ids into *ids, caller frees), and received dossiers (record ids). */
int store_retention_sent(struct store *s, int64_t before_ms, int64_t **ids, size_t *n);
int store_retention_received(struct store *s, int64_t before_ms, struct strlist *record_ids);
/* Checkpoint and truncate the WAL (outside a transaction): 0, or 1 when it
 * is put off because a thread of the store's own reads an older snapshot
 * (store check, a backup, the start's check): truncating waits for every
 * reader, and would hold the loop for the busy timeout and then fail,
 * leaving the old pages in the -wal file. store_wal_truncate_due() says
 * when to try again. Else -errno. */
int store_checkpoint_wal(struct store *s);
/* 1 (once) when a truncation was put off and no such reader is left: the
 * caller calls store_checkpoint_wal now. Else 0. */
int store_wal_truncate_due(struct store *s);
/* 1 once since the last call when a settled (acknowledged, refused or
 * cancelled) message other than a dossier was emptied: the old page holding
 * it under the outbox key, which master.key gives, is still in the WAL, and
 * the caller truncates it (design.md §3.9). Else 0. */
int store_outbox_shredded(struct store *s);
/* 1 once since the last call when queued messages were cancelled by the
 * store itself (an erasure or retention shredding their key, a withdrawn
 * consent): the sender's copies in memory must go too (net_outbox_recheck).
 * Else 0. */
int store_outbox_cancelled(struct store *s);
/* 1 when message_id is in the outbox and still queued, 0 when not (settled,
 * parked, cancelled or unknown), or -errno. */
int store_outbox_queued(struct store *s, const char *message_id);

/* A withdrawal we sent (school side) and, once it came, the peer's receipt. */
struct withdrawal_rec {
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	char peer[7];
	char record_id[CRYPTO_UUID_STR_LEN + 1];
	char consent_ids[16 * (CRYPTO_UUID_STR_LEN + 1)];	/* comma-separated */
	char reason[16];		/* "withdrawn" or "erased" */
	int64_t at;
	char actor[64];
	char receipt_id[CRYPTO_UUID_STR_LEN + 1];	/* "" = no receipt yet */
	int64_t receipt_at;		/* when we received it */
	char erased[16 * 65 + 1];	/* comma-separated items the peer erased (at most
					 * 16 of 64 characters, as envelope.c admits) */
	int64_t erased_at;		/* when the peer says it erased */
};
int store_withdrawal_add(struct store *s, const struct withdrawal_rec *w);
/* Attach a receipt (w: receipt_id, receipt_at, erased, erased_at) to the
 * withdrawal withdrawal_id sent to peer, keeping the signed envelope. 0, or
 * 1 when there is no such withdrawal or it already has one. */
int store_withdrawal_receipt(struct store *s, const char *withdrawal_id, const char *peer,
			     const struct withdrawal_rec *w, const uint8_t *envelope, size_t len);
typedef int (*store_withdrawal_fn)(const struct withdrawal_rec *w, void *arg);
/* Withdrawals of one record (NULL = all), oldest first. */
int store_withdrawals_each(struct store *s, const char *record_id, store_withdrawal_fn fn, void *arg);

/* Receiver: 1 when the Withdrawal with this message id was answered. */
int store_withdrawal_rx_seen(struct store *s, const char *message_id);
int store_withdrawal_rx_add(struct store *s, const char *message_id, const char *peer,
			    const char *record_id, const char *receipt_id, int64_t now);

/* ---- reports (store_report.c; report.h): the facts, no personal data ---- */

/* One leaver, not erased: its report fields and the first date of each
 * event received for its handover, as YYYYMMDD numbers (0 = none). */
struct send_fact {
	char cohort[10];
	int program, destination, advice, followed, taal, rekenen;
	char institution[7];		/* destination institution, "" = none */
	int state;			/* enum leaver_state */
	int consent;			/* a follow_up consent for the destination, not withdrawn */
	uint32_t enrolled, diploma, progressed, lwd;
	uint32_t stop;			/* first left_without_diploma or switched */
	uint32_t still;			/* last still_enrolled */
	int outcomes;			/* follow-up outcomes received */
	int64_t leaver_id;
	char record_id[CRYPTO_UUID_STR_LEN + 1];
};
typedef int (*store_send_fact_fn)(const struct send_fact *f, void *arg);
/* Call fn for every leaver not erased, in record id order (those never sent
 * first); fn returns non-zero to stop. Streams: a bitmap of one bit per
 * leaver is all it holds. */
int store_report_sending(struct store *s, store_send_fact_fn fn, void *arg);

/* One dossier received (not erased by `erase`), with the first date of each
 * event this institution sent for it. */
struct recv_fact {
	char cohort[10];
	int program, destination;
	char sender[7];
	int64_t received_at;		/* unix ms */
	char enrolled[11], held[11], diploma[11], progressed[11], lwd[11];
	int prev_diploma;		/* the dossier's enum Overstap__Diploma, 0 = not told */
	char start[11];			/* on the enrolment list from this date, "" = not listed */
	int dossier;			/* 1: a dossier received; 0: an enrolment without one */
	int level;			/* without a dossier: the enrolment's MBO level */
};
typedef int (*store_recv_fact_fn)(const struct recv_fact *f, void *arg);
int store_report_receiving(struct store *s, store_recv_fact_fn fn, void *arg);

/* ---- audit checkpoints (store_checkpoints.c) ---- */

/* Audit chain heads exchanged with peers (design.md §5). */
enum { CHECKPOINT_THEIRS = 0, CHECKPOINT_OURS = 1 };
struct checkpoint_rec {
	char peer[7];
	int kind;			/* THEIRS: the peer's chain; OURS: ours, as the peer holds it */
	int64_t seq;
	uint8_t head[32];
	int64_t at;			/* unix ms received */
};
int store_checkpoint_get(struct store *s, const char *peer, int kind, struct checkpoint_rec *c);
int store_checkpoint_put(struct store *s, const struct checkpoint_rec *c);
typedef int (*store_checkpoint_fn)(const struct checkpoint_rec *c, void *arg);
int store_checkpoints_each(struct store *s, store_checkpoint_fn fn, void *arg);
/* Forget what we hold of peer (kind): the next head it sends starts anew. */
int store_checkpoint_forget(struct store *s, const char *peer, int kind);

/* Audit incidents (design.md §5.6): kept until acknowledged, whatever later
 * checkpoints say. */
#define INCIDENT_MISMATCH "checkpoint_mismatch"	/* a peer holds a head our log lacks */
#define INCIDENT_REGRESSED "peer_chain_regressed"	/* a peer's own log went back */
struct incident {
	int64_t id;
	char peer[7];
	char kind[24];
	int64_t seq;
	char reason[256];
	int64_t at;			/* unix ms found */
	int64_t acked_at;		/* 0 = open */
	char acked_by[64];
	char note[256];
};
/* Record one (once: the same peer, kind, seq and head again is the same
 * incident): 1 when it is new, 0 when it was known. */
int store_incident_add(struct store *s, const char *peer, const char *kind, int64_t seq,
		       const uint8_t head[32], const char *reason, int64_t at);
typedef int (*store_incident_fn)(const struct incident *i, void *arg);
/* Every incident, or only the open ones. */
int store_incidents_each(struct store *s, int open_only, store_incident_fn fn, void *arg);
/* [in tx] Acknowledge an open incident: 1 when there is no open one with id. */
int store_incident_ack(struct store *s, int64_t id, const char *by, const char *note, int64_t at);

/* ---- a streamed import's staging (store_stage.c, design.md §8.5) ----
 * A TEMP table of the connection per import session: gone when the daemon
 * stops, never in the store's file. Rows and refs are the caller's bytes,
 * sealed and keyed by it with a key that dies with the session: the table's
 * pages may reach a temporary file. */
struct store_stage;
/* Create session id's table: 0 or -errno. */
int store_stage_open(struct store *s, uint64_t id, struct store_stage **out);
/* Add a row of line (bad = only its key counts, row may be NULL). 0 or
 * -errno. */
int store_stage_put(struct store_stage *g, unsigned line, const uint8_t ref[32], int bad,
		    const void *row, size_t len);
/* The rows of one request staged in one (deferred) transaction: it writes
 * only the TEMP table, so its commit writes nothing to the store's file and
 * waits for no disk; without it every row was a transaction of its own
 * (locks taken and a read snapshot opened twice a row). end commits when r
 * is 0 and rolls back otherwise; it returns r, or the commit's failure. */
int store_stage_begin(struct store_stage *g);
int store_stage_end(struct store_stage *g, int r);
/* 1 when the store holds a leaver with ref_hash ref now, 0 when not, or -errno. */
int store_stage_known(struct store_stage *g, const uint8_t ref[32]);
/* fn(arg, line, prev) for every row whose ref came on an earlier line prev
 * (the last such), in line order; each not bad yet is marked bad and
 * counted in *marked. 0, fn's non-zero, or -errno. */
typedef int (*store_stage_dup_fn)(void *arg, unsigned line, unsigned prev);
int store_stage_duplicates(struct store_stage *g, store_stage_dup_fn fn, void *arg,
			   unsigned *marked);
/* fn on every row not bad, in the order added, until it returns non-zero
 * (returned). Writes to the store may go on meanwhile. */
typedef int (*store_stage_fn)(void *arg, unsigned line, const void *row, size_t len);
int store_stage_each(struct store_stage *g, store_stage_fn fn, void *arg);
/* Drop the table; takes NULL, NULLs *g. */
void store_stage_drop(struct store_stage **g);
/* The page cache of the store's file: kib KiB (0: sqlite's default, 2000):
 * a big import's apply inserts a million random keys into the indexes. */
void store_cache_kib(struct store *s, int kib);
/* Lend the store a pool of helper threads (workpool.h) for its bulk crypto
 * (store_crypt_many); NULL: everything on the calling thread. The pool
 * must outlive its use; only the loop's thread calls the store. */
struct workpool;
void store_set_pool(struct store *s, struct workpool *wp);

#endif
