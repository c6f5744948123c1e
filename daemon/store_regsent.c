/* store_regsent: registrations a receiver sent, linked to the PGN's
 * pseudonym so that a subject report by PGN or record id finds them and
 * their audit entries (design.md §3.11). The link goes when the dossier
 * of that pupil and school is erased, or after the received-dossier
 * retention period: then nothing here leads from a PGN to the message. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int s_pseudo(struct store *s, const char *pgn, uint8_t out[32])
{
	char src[64];

	/* the inbox's pseudonym of the same PGN (store_inbox.c) */
	snprintf(src, sizeof(src), "pgn:%s", pgn);
	return store_pseudonym(s, src, out);
}

int store_regsent_add(struct store *s, const char *message_id, const char *pgn, const char *school,
		      const char *registered_on, int64_t at)
{
	sqlite3_stmt *st = store_st(s, ST_REGSENT_INS);
	uint8_t pseudo[32];
	int r;

	if ((r = s_pseudo(s, pgn, pseudo)) < 0 ||
	    (r = STORE_BIND(st, STORE_T(message_id), STORE_B(pseudo, 32), STORE_T(school),
			    STORE_T(registered_on), STORE_I(at))) < 0)
		return r;
	return sqlerr_exec(st);
}

static const struct store_col s_cols[] = {
	STORE_TEXT(struct regsent, message_id), STORE_TEXT(struct regsent, school),
	STORE_TEXT(struct regsent, registered_on), STORE_I64(struct regsent, at),
	STORE_INT(struct regsent, state), STORE_TEXT(struct regsent, reason),
};

static int s_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *cb = arg;
	struct regsent g = { 0 };

	store_cols(st, s_cols, ARRAY_SIZE(s_cols), &g);
	return cb->fn.regsent(&g, cb->arg);
}

int store_regsent_by_pgn(struct store *s, const char *pgn, store_regsent_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_REGSENT_BY_PSEUDO);
	struct store_cb cb = { .fn.regsent = fn, .arg = arg };
	uint8_t pseudo[32];
	int r;

	if ((r = s_pseudo(s, pgn, pseudo)) < 0 || (r = STORE_BIND(st, STORE_B(pseudo, 32))) < 0)
		return r;
	return store_rows(st, s_row, &cb);
}

int store_regsent_by_record(struct store *s, const char *record_id, store_regsent_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_REGSENT_BY_RECORD);
	struct store_cb cb = { .fn.regsent = fn, .arg = arg };
	int r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	return store_rows(st, s_row, &cb);
}

int store_regsent_each(struct store *s, const char *school, store_regsent_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_REGSENT_EACH);
	struct store_cb cb = { .fn.regsent = fn, .arg = arg };
	int r;

	if ((r = STORE_BIND(st, school ? STORE_T(school) : STORE_NULL)) < 0)
		return r;
	return store_rows(st, s_row, &cb);
}

/* The links go, and before them any Registration of theirs still waiting
 * to be sent (a school that never answered): cancelled and emptied, since
 * the outbox key that seals it is derived from master.key and never
 * destroyed (design.md §3.11). cancel and del are bound alike. */
static int s_forget(struct store *s, int cancel, int del, const struct store_arg *v,
		    unsigned *n)
{
	sqlite3_stmt *st = store_st(s, cancel);
	unsigned k = 0;
	int r;

	if ((r = store_bind(st, v, 1)) < 0 || (r = store_exec_count(s, st, &k)) < 0)
		return r;
	if (k) {
		s->cancelled = s->shredded = 1;	/* the sender's copy and the WAL's */
		store_ocount_stale(s);
	}
	st = store_st(s, del);
	if ((r = store_bind(st, v, 1)) < 0)
		return r;
	return store_exec_count(s, st, n);
}

int store_regsent_forget(struct store *s, const char *record_id, unsigned *n)
{
	return s_forget(s, ST_REGSENT_CANCEL_FORGET, ST_REGSENT_FORGET,
			&STORE_T(record_id), n);
}

int store_regsent_expire(struct store *s, int64_t before_ms, unsigned *n)
{
	return s_forget(s, ST_REGSENT_CANCEL_EXPIRE, ST_REGSENT_EXPIRE,
			&STORE_I(before_ms), n);
}

int store_revoked_at(struct store *s, const char *consent_id, const char *peer, int64_t *at)
{
	sqlite3_stmt *st = store_st(s, ST_REVOKED_AT);
	int rc, r;

	*at = 0;
	if ((r = STORE_BIND(st, STORE_T(consent_id), STORE_T(peer))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*at = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
}
