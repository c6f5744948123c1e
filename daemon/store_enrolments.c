/* store_enrolments: the MBO's own list of new enrolments (design.md §5.3,
 * §6.3), with or without a dossier: the PGN sealed under a key of its own,
 * found by the pseudonym received dossiers have, linked to the first
 * dossier of the pupil; erased like a dossier (key shredded, pseudonym
 * replaced), the row kept for the report. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_pseudonym(struct store *s, const char *pgn, uint8_t out[32])
{
	char src[64];

	snprintf(src, sizeof(src), "pgn:%s", pgn);
	return store_pseudonym(s, src, out);
}

int store_enrolment_put(struct store *s, const struct enrolment_in *e, const char *user,
			int64_t now)
{
	uint8_t key[CRYPTO_KEY_LEN], pseudo[32], *sealed = NULL;
	sqlite3_stmt *st;
	size_t slen = 0;
	int64_t key_id = 0, held = 0;
	int r, same = 0;

	if ((r = s_pseudonym(s, e->pgn, pseudo)) < 0)
		return r;
	st = store_st(s, ST_ENROL_EXISTS);
	if ((r = STORE_BIND(st, STORE_B(pseudo, 32), STORE_T(e->start_date))) < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW) {
		held = sqlite3_column_int64(st, 0);
		same = sqlite3_column_int(st, 1) == e->level && sqlite3_column_int(st, 2) == e->previous;
	}
	if ((r = sqlerr_errno(sqlite3_reset(st))) < 0)
		return r;
	if (held && same)
		return 1;	/* a re-import of the same list: nothing new */
	if (held) {		/* a corrected list: the level or previous education */
		st = store_st(s, ST_ENROL_FIX);
		if ((r = STORE_BIND(st, STORE_I(held), STORE_I(e->level), STORE_I(e->previous))) < 0 ||
		    (r = sqlerr_exec(st)) < 0)
			return r;
		return 2;
	}
	if ((r = store_key_new(s, now, &key_id, key)) < 0)
		goto out;
	/* the pseudonym binds the sealed PGN to its row */
	if ((r = crypto_seal(key, pseudo, sizeof(pseudo), e->pgn, strlen(e->pgn), &sealed, &slen)) < 0)
		goto out;
	st = store_st(s, ST_ENROL_INS);
	r = STORE_BIND(st, STORE_B(pseudo, 32), STORE_I(key_id), STORE_B(sealed, slen),
		       STORE_I(e->level), STORE_T(e->start_date), STORE_I(e->previous),
		       STORE_I(now), STORE_T(user));
	if (r == 0)
		r = sqlerr_exec(st);
out:
	crypto_wipe(key, sizeof(key));
	free(sealed);
	return r;
}

int store_enrolments_link(struct store *s, const uint8_t pseudonym[32], const char *record_id)
{
	sqlite3_stmt *st = store_st(s, ST_ENROL_LINK);
	int r;

	if ((r = STORE_BIND(st, STORE_B(pseudonym, 32), STORE_T(record_id))) < 0)
		return r;
	return sqlerr_exec(st);
}

static const struct store_col s_cols[] = {
	STORE_I64(struct enrolment_row, id), STORE_INT(struct enrolment_row, level),
	STORE_TEXT(struct enrolment_row, start_date), STORE_INT(struct enrolment_row, previous),
	STORE_TEXT(struct enrolment_row, record_id), STORE_I64(struct enrolment_row, imported_at),
	STORE_I64(struct enrolment_row, erased_at), STORE_TEXT(struct enrolment_row, erased_what),
};

static int s_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;
	struct enrolment_row row;

	memset(&row, 0, sizeof(row));
	store_cols(st, s_cols, ARRAY_SIZE(s_cols), &row);
	return e->fn.enrolment(&row, e->arg);
}

int store_enrolments_of_pgn(struct store *s, const char *pgn, store_enrolment_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_ENROL_OF_PGN);
	struct store_cb e = { .fn.enrolment = fn, .arg = arg };
	uint8_t pseudo[32];
	int r;

	if ((r = s_pseudonym(s, pgn, pseudo)) < 0 || (r = STORE_BIND(st, STORE_B(pseudo, 32))) < 0)
		return r;
	r = store_rows(st, s_row, &e);
	return r < 0 ? r : 0;
}

static int s_ids(struct store *s, int which, const struct store_arg *a, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = store_st(s, which);
	int r;

	if ((r = STORE_BIND(st, *a)) < 0)
		return r;
	return store_ids_read(st, ids, n);
}

int store_enrolments_of_record(struct store *s, const char *record_id, int64_t **ids, size_t *n)
{
	return s_ids(s, ST_ENROL_BY_RECORD, &STORE_T(record_id), ids, n);
}

int store_retention_enrolments(struct store *s, int64_t before_ms, int64_t **ids, size_t *n)
{
	return s_ids(s, ST_RET_ENROL, &STORE_I(before_ms), ids, n);
}
