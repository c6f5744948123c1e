/* store_erasure: crypto-shredding, erasure, retention, and withdrawals with their receipts. */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int s_shred(struct store *s, int64_t key_id, int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_KEY_SHRED);
	int r;

	store_key_forget(s, key_id);	/* unwrapped earlier in this transaction */
	if ((r = STORE_BIND(st, STORE_I(key_id), STORE_I(now))) < 0)
		return r;
	return sqlerr_exec(st);
}

/* Queued messages sealed under a key about to go cannot be sent any more. */
static int s_cancel_key(struct store *s, int64_t key_id, const char *reason, unsigned *n)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_CANCEL_KEY);
	unsigned k = 0;
	int r;

	if ((r = STORE_BIND(st, STORE_I(key_id), STORE_T(reason))) < 0 ||
	    (r = store_exec_count(s, st, &k)) < 0)
		return r;
	if (k) {
		s->cancelled = 1;	/* the sender may hold a copy in memory */
		store_ocount_stale(s);
	}
	if (n)
		*n = k;
	return 0;
}

int store_leaver_shred(struct store *s, const struct leaver *l, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if ((r = s_cancel_key(s, l->key_id, "retention period over", NULL)) < 0 ||
	    (r = s_shred(s, l->key_id, now)) < 0)
		return r;
	st = store_st(s, ST_LEAVER_SHRED);
	if ((r = STORE_BIND(st, STORE_I(l->id), STORE_I(now))) < 0)
		return r;
	return sqlerr_exec(st);
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
	if (l->record_id[0] && (r = store_events_delete(s, l->record_id, events)) < 0)
		return r;
	st = store_st(s, ST_LEAVER_ERASE);
	if ((r = STORE_BIND(st, STORE_I(l->id), STORE_I(now))) < 0)
		return r;
	return sqlerr_exec(st);
}

/* Shred the key a bound statement st selects (one row, its first column):
 * 0, -ENOENT when it selects none, or -errno. */
static int s_shred_selected(struct store *s, sqlite3_stmt *st, int64_t now)
{
	int64_t key_id;
	int rc;

	rc = sqlite3_step(st);
	key_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
	return s_shred(s, key_id, now);
}

int store_inbox_erase(struct store *s, const char *record_id, const char *what, int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_INBOX_KEY);
	int r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0 || (r = s_shred_selected(s, st, now)) < 0)
		return r;
	/* erasure and retention leave no link from the PGN to the registrations
	 * sent for this pupil either; a withdrawal ends the consent, not the
	 * statute the registration rests on (design.md §3.10) */
	if (strcmp(what, "withdrawal") != 0 && (r = store_regsent_forget(s, record_id, NULL)) < 0)
		return r;
	st = store_st(s, ST_INBOX_ERASE);
	if ((r = STORE_BIND(st, STORE_T(record_id), STORE_I(now), STORE_T(what))) < 0)
		return r;
	return sqlerr_exec(st);
}

int store_enrolment_erase(struct store *s, int64_t id, const char *what, int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_ENROL_KEY);
	unsigned n;
	int r;

	if ((r = STORE_BIND(st, STORE_I(id))) < 0 || (r = s_shred_selected(s, st, now)) < 0)
		return r;
	st = store_st(s, ST_ENROL_ERASE);
	if ((r = STORE_BIND(st, STORE_I(id), STORE_I(now), STORE_T(what))) < 0 ||
	    (r = store_exec_count(s, st, &n)) < 0)
		return r;
	return n == 0;
}

int store_inbox_replace(struct store *s, const char *record_id, const uint8_t *packed, size_t len,
			const char *what)
{
	sqlite3_stmt *st = store_st(s, ST_INBOX_GET);
	uint8_t *sealed = NULL;
	size_t slen = 0;
	char mid[CRYPTO_UUID_STR_LEN + 1] = "";
	int64_t key_id = 0;
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_text(st, 0, mid, sizeof(mid));
		key_id = sqlite3_column_int64(st, 9);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
	if ((r = store_seal(s, key_id, mid, strlen(mid), packed, len, &sealed, &slen)) < 0)
		return r;
	st = store_st(s, ST_INBOX_RESEAL);
	r = STORE_BIND(st, STORE_T(record_id), STORE_B(sealed, slen), STORE_T(what));
	if (r == 0)
		r = sqlerr_exec(st);
	free(sealed);
	return r;
}

int store_withdrawal_add(struct store *s, const struct withdrawal_rec *w)
{
	sqlite3_stmt *st = store_st(s, ST_WD_INS);
	int r;

	if ((r = STORE_BIND(st, STORE_T(w->message_id), STORE_T(w->peer), STORE_T(w->record_id),
			    STORE_T(w->consent_ids), STORE_T(w->reason), STORE_I(w->at),
			    STORE_T(w->actor))) < 0)
		return r;
	return sqlerr_exec(st);
}

int store_withdrawal_receipt(struct store *s, const char *withdrawal_id, const char *peer,
			     const struct withdrawal_rec *w, const uint8_t *envelope, size_t len)
{
	sqlite3_stmt *st = store_st(s, ST_WD_RECEIPT);
	unsigned n;
	int r;

	if ((r = STORE_BIND(st, STORE_T(withdrawal_id), STORE_T(peer), STORE_T(w->receipt_id),
			    STORE_I(w->receipt_at), STORE_T(w->erased),
			    STORE_I(w->erased_at), STORE_B(envelope, len))) < 0)
		return r;
	if ((r = store_exec_count(s, st, &n)) < 0)
		return r;
	return n ? 0 : 1;
}

static const struct store_col s_wd_cols[] = {
	STORE_TEXT(struct withdrawal_rec, message_id), STORE_TEXT(struct withdrawal_rec, peer),
	STORE_TEXT(struct withdrawal_rec, record_id), STORE_TEXT(struct withdrawal_rec, consent_ids),
	STORE_TEXT(struct withdrawal_rec, reason), STORE_I64(struct withdrawal_rec, at),
	STORE_TEXT(struct withdrawal_rec, actor), STORE_TEXT(struct withdrawal_rec, receipt_id),
	STORE_I64(struct withdrawal_rec, receipt_at), STORE_TEXT(struct withdrawal_rec, erased),
	STORE_I64(struct withdrawal_rec, erased_at),
};

static int s_wd_each_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;
	struct withdrawal_rec w;

	memset(&w, 0, sizeof(w));
	store_cols(st, s_wd_cols, ARRAY_SIZE(s_wd_cols), &w);
	return e->fn.withdrawal(&w, e->arg);
}

int store_withdrawals_each(struct store *s, const char *record_id, store_withdrawal_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_WD_EACH);
	struct store_cb e = { .fn.withdrawal = fn, .arg = arg };
	int r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	return store_rows(st, s_wd_each_row, &e);
}

int store_retention_sent(struct store *s, int64_t before_ms, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = store_st(s, ST_RET_SENT);
	int r;

	if ((r = STORE_BIND(st, STORE_I(before_ms))) < 0)
		return r;
	return store_ids_read(st, ids, n);	/* into the caller's *ids: the daily job reuses it */
}

int store_retention_received(struct store *s, int64_t before_ms, struct strlist *record_ids)
{
	sqlite3_stmt *st = store_st(s, ST_RET_RECEIVED);
	int r;

	if ((r = STORE_BIND(st, STORE_I(before_ms))) < 0)
		return r;
	return store_strings_read(st, record_ids);
}

int store_checkpoint_wal(struct store *s)
{
	int rc;

	/* A reader of an older snapshot keeps the checkpoint from the WAL's
	 * end: put it off until it ends (store_wal_truncate_due), rather than
	 * wait the busy timeout on the loop and fail. */
	if (s->long_readers || store_check_running(s)) {
		s->wal_truncate_due = 1;
		return 1;
	}
	/* After an erasure: fold the WAL into the database and truncate it, so
	 * the old page holding the wrapped key is not left in the -wal file. */
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	s->wal_truncate_due = 0;
	return sqlerr_errno(rc);
}

int store_wal_truncate_due(struct store *s)
{
	if (!s->wal_truncate_due || s->long_readers || store_check_running(s))
		return 0;
	s->wal_truncate_due = 0;
	return 1;
}

int store_withdrawal_rx_seen(struct store *s, const char *message_id)
{
	sqlite3_stmt *st = store_st(s, ST_WDRX_GET);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(message_id))) < 0)
		return r;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);
}

int store_withdrawal_rx_add(struct store *s, const char *message_id, const char *peer,
			    const char *record_id, const char *receipt_id, int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_WDRX_INS);
	int r;

	if ((r = STORE_BIND(st, STORE_T(message_id), STORE_T(peer), STORE_T(record_id),
			    STORE_T(receipt_id), STORE_I(now))) < 0)
		return r;
	return sqlerr_exec(st);
}
