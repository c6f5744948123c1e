/* store_inbox: dossiers received, and consents told after them (assertions). */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_inbox_seal(const struct store *s, const char *message_id, const char *pgn,
		     const uint8_t *packed, size_t len, struct inbox_sealed *out)
{
	/* the pupil key and a nonce for each of the two seals, drawn at once */
	uint8_t rnd[CRYPTO_KEY_LEN + 2 * CRYPTO_NONCE_LEN];
	const uint8_t *key = rnd, *n_wrap = rnd + CRYPTO_KEY_LEN,
		      *n_seal = n_wrap + CRYPTO_NONCE_LEN;
	char src[64];
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(src, sizeof(src), "pgn:%s", pgn);
	/* the same MAC as store_pseudonym, without a fetch of HMAC per call */
	if ((r = crypto_hmac_sha256(s->pseudo_key, sizeof(s->pseudo_key), src, strlen(src),
					 out->pseudonym)) == 0 &&
	    (r = crypto_random(rnd, sizeof(rnd))) == 0 &&
	    (r = store_key_wrap(s, key, n_wrap, &out->wrapped, &out->wlen)) == 0)
		r = crypto_seal_nonce(key, n_seal, message_id, strlen(message_id), packed, len,
				      &out->sealed, &out->slen);
	crypto_wipe(rnd, sizeof(rnd));
	if (r < 0)
		store_inbox_sealed_clear(out);
	return r;
}

void store_inbox_sealed_clear(struct inbox_sealed *x)
{
	free(x->wrapped);
	free(x->sealed);
	memset(x, 0, sizeof(*x));
}

int store_inbox_put_sealed(struct store *s, const char *message_id, const char *sender,
			   const Overstap__Handover *h, const struct inbox_sealed *x, int64_t now)
{
	int64_t key_id = 0;
	/* two searches (UNION ALL), not "message_id = ?1 OR record_id = ?2": on
	 * the WITHOUT ROWID inbox that OR was a MULTI-INDEX OR building an
	 * ephemeral b-tree per call (issue 14: a tenth of the receiver's loop) */
	sqlite3_stmt *st = store_st(s, ST_INBOX_EXISTS);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(message_id), STORE_T(h->record_id))) < 0)
		return r;
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
		return sqlerr_errno(rc);
	if ((r = store_key_put(s, now, x->wrapped, x->wlen, &key_id)) < 0)
		return r;
	st = store_st(s, ST_INBOX_INS);
	r = STORE_BIND(st, STORE_T(message_id), STORE_T(h->record_id), STORE_T(sender),
		       STORE_I(key_id), STORE_B(x->sealed, x->slen), STORE_B(x->pseudonym, 32),
		       STORE_I(now), STORE_T(h->cohort), STORE_I(h->program),
		       STORE_I(h->destination), STORE_T(h->exit_date), STORE_I(h->diploma));
	if (r == 0)
		r = sqlerr_exec(st);
	/* the count status reads (schema 14: here, not by a trigger) */
	if (r == 0)
		r = sqlerr_exec(store_st(s, ST_INBOX_COUNT_ADD));
	/* the MBO may have listed the enrolment before the dossier came */
	if (r == 0)
		r = store_enrolments_link(s, x->pseudonym, h->record_id);
	return r;
}

int store_inbox_put(struct store *s, const char *message_id, const char *sender,
		    const Overstap__Handover *h, const uint8_t *packed, size_t len, int64_t now)
{
	struct inbox_sealed x;
	int r = store_inbox_seal(s, message_id, h->pgn, packed, len, &x);

	if (r == 0)
		r = store_inbox_put_sealed(s, message_id, sender, h, &x, now);
	store_inbox_sealed_clear(&x);
	return r;
}

static const struct store_col s_inbox_cols[] = {
	STORE_TEXT(struct inbox_row, message_id), STORE_TEXT(struct inbox_row, record_id),
	STORE_TEXT(struct inbox_row, sender), STORE_I64(struct inbox_row, received_at),
	STORE_TEXT(struct inbox_row, cohort), STORE_INT(struct inbox_row, program),
	STORE_INT(struct inbox_row, destination), STORE_I64(struct inbox_row, erased_at),
	STORE_TEXT(struct inbox_row, erased_what),
};

static void s_inbox_read(sqlite3_stmt *st, struct inbox_row *r)
{
	memset(r, 0, sizeof(*r));
	store_cols(st, s_inbox_cols, ARRAY_SIZE(s_inbox_cols), r);
}

static int s_inbox_each_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;
	struct inbox_row row;

	s_inbox_read(st, &row);
	return e->fn.inbox(&row, e->arg);
}

int store_inbox_each(struct store *s, const char *cohort, unsigned limit, store_inbox_cb cb,
		     void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_INBOX_EACH);
	struct store_cb e = { .fn.inbox = cb, .arg = arg };
	int r;

	if ((r = STORE_BIND(st, STORE_T(cohort && *cohort ? cohort : NULL),
			    STORE_I(limit ? (int64_t)limit : -1))) < 0)
		return r;
	r = store_rows(st, s_inbox_each_row, &e);
	return r < 0 ? r : 0;
}

int store_inbox_get(struct store *s, const char *record_id, struct inbox_row *row,
		    uint8_t **packed, size_t *len)
{
	sqlite3_stmt *st = store_st(s, ST_INBOX_GET);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
	}
	s_inbox_read(st, row);
	r = store_unseal(s, sqlite3_column_int64(st, 9), row->message_id, strlen(row->message_id),
		   sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10), packed, len);
	sqlite3_reset(st);
	return r;
}

int store_inbox_count(struct store *s, uint64_t *n)
{
	int64_t v = 0;
	int r = store_int_query(s, ST_INBOX_COUNT, NULL, &v);

	if (r == 0)
		*n = (uint64_t)v;
	return r;
}

int store_inbox_state(struct store *s, const char *record_id, char sender[7], int *erased)
{
	sqlite3_stmt *st = store_st(s, ST_INBOX_KEY);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_text(st, 1, sender, 7);
		*erased = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
}

int store_inbox_by_pgn(struct store *s, const char *pgn, struct strlist *record_ids)
{
	sqlite3_stmt *st;
	uint8_t pseudo[32];
	char src[64];
	int r;

	snprintf(src, sizeof(src), "pgn:%s", pgn);
	if ((r = store_pseudonym(s, src, pseudo)) < 0)
		return r;
	st = store_st(s, ST_INBOX_BY_PSEUDONYM);
	if ((r = STORE_BIND(st, STORE_B(pseudo, 32))) < 0)
		return r;
	return store_strings_read(st, record_ids);
}

int store_rx_seen(struct store *s, const char *message_id, const char *peer)
{
	sqlite3_stmt *st = store_st(s, ST_RX_SEEN);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(message_id), STORE_T(peer))) < 0)
		return r;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);
}

int store_assertion_put(struct store *s, const char *record_id, const char *sender,
			const char *consent_id, const uint8_t *packed, size_t len, int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_ASSERT_INS);
	unsigned n;
	int r;

	if ((r = STORE_BIND(st, STORE_T(consent_id), STORE_T(record_id), STORE_T(sender),
			    STORE_B(packed, len), STORE_I(now))) < 0)
		return r;
	if ((r = store_exec_count(s, st, &n)) < 0)
		return r;
	return n ? 0 : 1;	/* INSERT OR IGNORE: held already */
}

static int s_blob_each_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;

	return e->fn.blob(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), e->arg);
}

int store_assertions_each(struct store *s, const char *record_id, store_blob_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_ASSERT_OF);
	struct store_cb e = { .fn.blob = fn, .arg = arg };
	int r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	return store_rows(st, s_blob_each_row, &e);
}

int store_assertion_delete(struct store *s, const char *consent_id, const char *sender)
{
	sqlite3_stmt *st = store_st(s, ST_ASSERT_DEL);
	unsigned n;
	int r;

	if ((r = STORE_BIND(st, STORE_T(consent_id), STORE_T(sender))) < 0)
		return r;
	if ((r = store_exec_count(s, st, &n)) < 0)
		return r;
	return n ? 1 : 0;
}

int store_inbox_erasure(struct store *s, const char *record_id, char sender[7], int64_t *erased_at,
			char what[16])
{
	sqlite3_stmt *st = store_st(s, ST_INBOX_ERASURE);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_text(st, 0, sender, 7);
		*erased_at = sqlite3_column_int64(st, 1);
		store_text(st, 2, what, 16);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
}
