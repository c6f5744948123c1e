/* store_int: what the daemon/store*.c files share and nobody else may use: the
 * connection and its statements, and the helpers every concern needs. Callers
 * of the store include store.h only. */
#ifndef OVERSTAP_STORE_INT_H
#define OVERSTAP_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

#include "sqlerr.h"
#include "store.h"

/* Every SQL statement, prepared once at open; the SQL is in store.c's s_sql[],
 * grouped as here by the file that uses it. */
enum {
	/* store.c: transactions, per-pupil keys */
	ST_BEGIN, ST_BEGIN_READ, ST_COMMIT, ST_ROLLBACK,
	ST_KEY_INS, ST_KEY_GET,
	/* store_leavers.c */
	ST_LEAVER_INS, ST_LEAVER_BY_REF, ST_LEAVER_BY_ID, ST_LEAVER_REG, ST_LEAVER_INZ,
	ST_LEAVER_QUEUED, ST_LEAVERS_EACH, ST_LEAVERS_READY, ST_LEAVER_BY_RECORD,
	ST_LEAVER_BY_PSEUDONYM, ST_LEAVER_UPD,
	/* store_consents.c */
	ST_CONSENT_INS, ST_CONSENT_WITHDRAW, ST_CONSENT_GET, ST_CONSENTS_EACH, ST_CONSENT_REVOKED,
	ST_REVOKE,
	/* store_outbox.c */
	ST_OUTBOX_INS, ST_OUTBOX_PENDING, ST_OUTBOX_ACK, ST_OUTBOX_DEPTH, ST_OUTBOX_OLDEST,
	ST_OUTBOX_RESEAL, ST_OUTBOX_GET, ST_OUTBOX_STATE, ST_OUTBOX_CONSENT, ST_OUTBOX_CANCEL,
	ST_OUTBOX_CANCEL_CONSENT, ST_LEAVER_DELIVERED, ST_LEAVER_CANCELLED,
	ST_OUTBOX_UNSENT, ST_OUTBOX_PARK, ST_OUTBOX_UNPARK, ST_OUTBOX_CANCEL_PARKED, ST_OUTBOX_PARKED_EACH, ST_OUTBOX_PARKED_COUNT,
	ST_OUTBOX_REFUSED_EACH, ST_OUTBOX_REFUSED_COUNT, ST_OUTBOX_COUNTS, ST_OUTBOX_PEER_STATE,
	/* store_peers.c */
	ST_PEER_PUT, ST_PEER_GET, ST_INBOX_BYTES,
	/* store_regsent.c */
	ST_REGSENT_INS, ST_REGSENT_BY_PSEUDO, ST_REGSENT_BY_RECORD, ST_REGSENT_FORGET,
	ST_REGSENT_EXPIRE, ST_REGSENT_EACH, ST_REGSENT_CANCEL_FORGET, ST_REGSENT_CANCEL_EXPIRE, ST_REVOKED_AT,
	/* store_inbox.c: a retry of what a peer sent, before it is verified */
	ST_RX_SEEN,
	/* store_inbox.c */
	ST_INBOX_EXISTS, ST_INBOX_ERASURE, ST_INBOX_INS, ST_INBOX_COUNT_ADD, ST_INBOX_EACH, ST_INBOX_GET, ST_INBOX_COUNT, ST_INBOX_KEY,
	ST_INBOX_BY_PSEUDONYM, ST_ASSERT_INS, ST_ASSERT_OF, ST_ASSERT_DEL,
	/* store_events.c */
	ST_EVENT_INS, ST_EVENTS_OF, ST_EVENTS_DEL_RECORD, ST_RET_EVENTS,
	/* store_erasure.c */
	ST_KEY_SHRED, ST_LEAVER_SHRED, ST_LEAVER_ERASE, ST_OUTBOX_CANCEL_KEY, ST_INBOX_ERASE,
	ST_INBOX_RESEAL, ST_RET_SENT, ST_RET_RECEIVED,
	ST_WD_INS, ST_WD_RECEIPT, ST_WD_EACH, ST_WDRX_GET, ST_WDRX_INS,
	/* store_enrolments.c */
	ST_ENROL_EXISTS, ST_ENROL_FIX, ST_ENROL_INS, ST_ENROL_LINK, ST_ENROL_OF_PGN, ST_ENROL_KEY, ST_ENROL_ERASE, ST_ENROL_BY_RECORD,
	ST_RET_ENROL,
	/* store_checkpoints.c */
	ST_CP_GET, ST_CP_PUT, ST_CP_EACH, ST_CP_DEL, ST_INC_ADD, ST_INC_EACH, ST_INC_ACK,
	/* store_report.c */
	ST_REPORT_SEND, ST_REPORT_RECV, ST_REPORT_CONSENTS, ST_REPORT_EVENTS, ST_REPORT_COUNT,
	ST__N
};

/* Pupil keys unwrapped in the open write transaction, by key id modulo the
 * size (store_keys.c s_key_get): a dossier queued unwraps its pupil's key once,
 * for reading the leaver and sealing the outbox row, not twice (issue 14). */
#define STORE_KEY_CACHE 1024
struct store_key_slot {
	int64_t id;				/* 0 = empty */
	uint8_t key[CRYPTO_KEY_LEN];
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__N];		/* prepared once at open */
	uint8_t master[CRYPTO_KEY_LEN];		/* wraps per-pupil keys; wiped at close */
	uint8_t pseudo_key[CRYPTO_KEY_LEN];	/* HMAC key for pseudonyms */
	uint8_t outbox_key[CRYPTO_KEY_LEN];	/* seals outbox entries not tied to a pupil */
	struct audit *audit;			/* the audit chain, on the same connection */
	int broken;				/* a corrupt page was met: writes refused */
	char broken_why[160];			/* sqlite's message when it was */
	struct store_bgcheck *bg;		/* store_check.c: the quick_check at start */
	struct store_walck *walck;		/* store_wal.c: the checkpoint thread */
	/* design.md §3.9: wiped when the transaction of store_begin ends (commit
	 * or rollback), at the next store_begin, and by store_key_forget when
	 * the key is shredded; never used outside that transaction */
	struct store_key_slot keys[STORE_KEY_CACHE];
	unsigned keys_n;			/* slots filled since the last wipe */
	int keys_tx;				/* store_begin's transaction is open */
	/* a settled message that was not a dossier (so under the outbox key)
	 * was emptied: its old page, a Registration's PGN say, is in the WAL
	 * until store_checkpoint_wal (store_outbox_shredded) */
	int shredded;
	/* queued rows were cancelled by a statement of the store's own (an
	 * erasure, retention, a withdrawn consent): the sender's copies in
	 * memory must go too (store_outbox_cancelled) */
	int cancelled;
	/* store_ocount.c: queued and parked per peer, kept in memory */
	struct store_ocount *oc;
	size_t oc_n;
	int oc_stale;				/* a bulk change: count again at the tx's end */
	uint64_t leaver_adds;			/* store_leaver_adds */
	struct workpool *pool;			/* borrowed (store_set_pool); NULL = the caller */
	/* threads of the store's own reading a snapshot that may be older than
	 * the last commit (store check, a backup; the start's check is s->bg),
	 * counted on the loop; and a WAL truncation put off until they end */
	unsigned long_readers;
	int wal_truncate_due;
	/* the backup running (store_backup.c): one at a time, or a second one
	 * with --force to the same file unlinked the first's copy under it */
	const struct store_backup *backup;
};

/* store_ocount.c: one peer's counts, [0] queued and [1] parked: n as
 * committed, d what the open transaction moved. */
struct store_ocount {
	char *peer;
	int64_t n[2], d[2];
};
/* Count queued and parked of every peer from the indexes (store_open). */
int store_ocount_load(struct store *s);
void store_ocount_free(struct store *s);
/* One row of peer went from state from to state to (OUTBOX_*; -1: none,
 * for an insert). */
void store_ocount_move(struct store *s, const char *peer, int from, int to);
/* A statement moved rows of unknown peers and states: count again. */
void store_ocount_stale(struct store *s);
/* The transaction ended (store_commit, store_rollback, store_begin). */
void store_ocount_tx_end(struct store *s, int committed);
/* Queued (OUTBOX_QUEUED) or parked (OUTBOX_PARKED) rows of peer. */
int store_ocount_get(struct store *s, const char *peer, int state, uint64_t *n);

/* store_keys.c: the cached unwrapped key of key_id goes (its key is shredded). */
void store_key_forget(struct store *s, int64_t key_id);
/* store_keys.c: every cached key goes; none is cached until store_begin
 * opens the next transaction (called by store_begin, _commit, _rollback). */
void store_keys_wipe(struct store *s);

/* store_check.c: 1 when user_version is STORE_SCHEMA_VERSION (nothing to
 * migrate), else 0. */
int store_schema_current(sqlite3 *db);
/* store_check.c: a connection of the store's own threads (the start's
 * check, store check, the WAL checkpoint) to the file at path, opened with
 * flags (SQLITE_OPEN_READONLY or _READWRITE), waiting up to 5 s for a
 * lock: 0, or -errno with *db NULL. */
int store_conn_open(const char *path, int flags, sqlite3 **db);
/* store_check.c: PRAGMA quick_check(100), or integrity_check(100) when
 * full, on db: 0 ok, -EUCLEAN damaged (problems has sqlite's complaints;
 * nothing is marked), or -errno. Any connection, any thread. */
int store_check_db(sqlite3 *db, int full, struct strlist *problems);
/* store_check.c: 1 while the start's check (s->bg) still reads. */
int store_check_running(const struct store *s);
/* quick_check now (store_open): 0, or -EUCLEAN / -errno with err set. */
int store_check_now(struct store *s, const char *path, char *err, size_t errlen);
/* store_check.c: pthread_create for the store's own threads (the start's
 * check, the WAL checkpoint), with every signal blocked in the new thread. */
int store_thread_create(pthread_t *th, void *(*fn)(void *), void *arg);
/* Mark the store broken (writes refused) with why. */
void store_mark_broken(struct store *s, const char *why);

/* Mark the store broken when the connection's last error says the file is
 * corrupt (called before every statement is reused, so the failure of the
 * call before is seen even when its caller dropped the code). */
void store_health(struct store *s);

/* store_schema.c: bring the schema to STORE_SCHEMA_VERSION (err gets why). */
int store_schema_migrate(sqlite3 *db, char *err, size_t errlen);

/* A statement reset, unbound and ready to bind. */
static inline sqlite3_stmt *store_st(struct store *s, int which)
{
	store_health(s);
	return sqlerr_ready(s->st[which]);
}

/* One parameter of a statement, for STORE_BIND. Values are bound
 * SQLITE_STATIC: sqlite keeps the caller's pointer, copies nothing, and so
 * has nothing to allocate. That is safe because every store function binds,
 * steps and resets before it returns, and store_st clears the bindings before
 * the statement's next use. (A SQLITE_TRANSIENT copy that could not be
 * allocated left the parameter NULL while the bind's result was ignored: an
 * UPDATE that matched nothing reported success, a consent check answered
 * "not revoked".) */
enum { STORE_ARG_NULL, STORE_ARG_TEXT, STORE_ARG_INT, STORE_ARG_BLOB };
struct store_arg {
	int type;
	const char *t;		/* text; NULL binds NULL */
	int64_t i;		/* integer */
	const void *b;		/* blob of n bytes; NULL binds NULL */
	size_t n;
};
#define STORE_NULL ((struct store_arg){ .type = STORE_ARG_NULL })
#define STORE_T(v) ((struct store_arg){ .type = STORE_ARG_TEXT, .t = (v) })
#define STORE_I(v) ((struct store_arg){ .type = STORE_ARG_INT, .i = (v) })
#define STORE_B(p, len) ((struct store_arg){ .type = STORE_ARG_BLOB, .b = (p), .n = (len) })

/* Bind args[i] to ?(i+1) of st, every result checked: 0, or the first
 * failure as -errno (sqlerr.h), and then the caller must not step st. */
int store_bind(sqlite3_stmt *st, const struct store_arg *args, size_t n);
#define STORE_BIND(st, ...)                                                      \
	store_bind((st), (const struct store_arg[]){ __VA_ARGS__ },              \
		   sizeof((const struct store_arg[]){ __VA_ARGS__ }) / sizeof(struct store_arg))

/* Column col as text into dst ("" for NULL), truncated to len. */
void store_text(sqlite3_stmt *st, int col, char *dst, size_t len);

/* A row read into a struct by a table, one entry a column, instead of a
 * line a field in every reader. */
enum { STORE_COL_SKIP, STORE_COL_TEXT, STORE_COL_INT, STORE_COL_I64 };
struct store_col {
	int type;
	size_t off;		/* of the field in the struct */
	size_t len;		/* text: the buffer's size; int: the field's (int or unsigned) */
};
/* A field of the wrong size for its kind does not compile (array of size -1). */
#define STORE_SIZED_(T, f, n) (sizeof(((T *)0)->f) + 0 * sizeof(char[sizeof(((T *)0)->f) == (n) ? 1 : -1]))
#define STORE_SKIP { STORE_COL_SKIP, 0, 0 }
#define STORE_TEXT(T, f) { STORE_COL_TEXT, offsetof(T, f), sizeof(((T *)0)->f) }
#define STORE_INT(T, f) { STORE_COL_INT, offsetof(T, f), STORE_SIZED_(T, f, sizeof(int)) }
#define STORE_I64(T, f) { STORE_COL_I64, offsetof(T, f), STORE_SIZED_(T, f, sizeof(int64_t)) }
/* Columns 0..n-1 of the current row of st into dst as cols[] says. */
void store_cols(sqlite3_stmt *st, const struct store_col *cols, size_t n, void *dst);

/* Step a bound statement, calling row on each row until it returns non-zero,
 * and reset it. That value, 0 at the end, or -errno from sqlite. */
typedef int (*store_row_fn)(sqlite3_stmt *st, void *arg);
int store_rows(sqlite3_stmt *st, store_row_fn row, void *arg);

/* What an iterator's row function needs: the caller's callback (the member
 * of its type) and argument, and what else the row does not hold. */
struct store_cb {
	union {
		store_leaver_cb leaver;
		store_consent_fn consent;
		store_event_fn event;
		store_inbox_cb inbox;
		store_blob_fn blob;
		store_withdrawal_fn withdrawal;
		store_checkpoint_fn checkpoint;
		store_recv_fact_fn recv;
		store_regsent_fn regsent;
		store_enrolment_fn enrolment;
	} fn;
	void *arg;
	struct store *s;		/* rows that need opening under a key */
	const char *record_id;		/* events: the record they are about */
};

/* Step a statement that returns no rows; *n (may be NULL) gets the rows it
 * changed, 0 on failure. 0 or -errno. */
int store_exec_count(struct store *s, sqlite3_stmt *st, unsigned *n);

/* The one integer a statement of one row returns (a count, a sum), bound
 * with peer as ?1 unless peer is NULL. 0 or -errno. */
int store_int_query(struct store *s, int which, const char *peer, int64_t *out);

/* Step a bound statement whose rows are one integer id (column 0), growing
 * *ids with realloc (it may hold an earlier result: it is reused) and
 * counting them in *n from 0. On failure *ids stays the caller's to free. */
int store_ids_read(sqlite3_stmt *st, int64_t **ids, size_t *n);

/* Step a bound statement whose rows are one text (column 0) into out. */
int store_strings_read(sqlite3_stmt *st, struct strlist *out);

/* A new per-pupil data key: stored wrapped under the master key, returned
 * in the clear (the caller wipes it) with its id. */
int store_key_new(struct store *s, int64_t now, int64_t *id, uint8_t key[CRYPTO_KEY_LEN]);
/* store_key_new in two halves: wrap a key under the master key (reads only
 * the master key, which does not change while the store is open: any
 * thread; the receive workers, an import session's staging, design.md
 * §4.6, §8.5), then store the wrapped key (the loop). nonce: a fresh one
 * from crypto_random, or NULL to have one drawn. *wrapped is the caller's. */
int store_key_wrap(const struct store *s, const uint8_t key[CRYPTO_KEY_LEN],
		   const uint8_t *nonce, uint8_t **wrapped, size_t *wlen);
int store_key_put(struct store *s, int64_t now, const uint8_t *wrapped, size_t wlen, int64_t *id);

/* Seal / open under a pupil key (key_id > 0) or the outbox key (key_id 0).
 * *out is the caller's. Opening under a shredded key is -ENOKEY. */
int store_seal(struct store *s, int64_t key_id, const void *aad, size_t aad_len,
	       const void *pt, size_t len, uint8_t **out, size_t *out_len);
int store_unseal(struct store *s, int64_t key_id, const void *aad, size_t aad_len,
		 const void *ct, size_t len, uint8_t **out, size_t *out_len);

#endif
