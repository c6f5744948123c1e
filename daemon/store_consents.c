/* store_consents: consent records (design.md §3) and withdrawals of consents, ours and a peer's. */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int store_consent_add(struct store *s, int64_t leaver_id, int64_t key_id, struct consent *c)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	sqlite3_stmt *st;
	int r;

	if ((r = crypto_uuidv7(c->id)) < 0)
		return r;
	r = store_seal(s, key_id, c->id, strlen(c->id), c->evidence_ref, strlen(c->evidence_ref),
		   &sealed, &slen);
	if (r < 0)
		return r;
	st = store_st(s, ST_CONSENT_INS);
	r = STORE_BIND(st, STORE_T(c->id), STORE_I(leaver_id), STORE_I(c->purpose),
		       STORE_T(c->counterpart), STORE_I(c->grantor),
		       STORE_T(c->granted_at), STORE_T(c->valid_until),
		       STORE_T(c->evidence_method), STORE_B(sealed, slen),
		       STORE_T(c->recorded_by), STORE_T(c->recorded_at));
	if (r == 0)
		r = sqlerr_exec(st);
	free(sealed);
	return r;
}

int store_consent_withdraw(struct store *s, const char *id, const char *date, const char *user)
{
	sqlite3_stmt *st = store_st(s, ST_CONSENT_WITHDRAW);
	int r;

	r = STORE_BIND(st, STORE_T(id), STORE_T(date), STORE_T(user));
	if (r == 0)
		r = sqlerr_exec(st);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -EALREADY;	/* no such consent, or already withdrawn: the caller looks */
	return r;
}

/* One row of CONSENT_COLS; the evidence reference is opened when the pupil's
 * key still exists (else "(erased)"). Any other failure to open it is an
 * error: read as "(erased)" it hid a failed step, after which sqlite may have
 * rolled the caller's transaction back and later writes went through on
 * their own. */
static const struct store_col s_consent_cols[] = {
	STORE_TEXT(struct consent, id), STORE_SKIP /* leaver_id */,
	STORE_INT(struct consent, purpose), STORE_TEXT(struct consent, counterpart),
	STORE_INT(struct consent, grantor), STORE_TEXT(struct consent, granted_at),
	STORE_TEXT(struct consent, valid_until), STORE_TEXT(struct consent, evidence_method),
	STORE_SKIP /* evidence_ref, sealed */, STORE_TEXT(struct consent, recorded_by),
	STORE_TEXT(struct consent, recorded_at), STORE_TEXT(struct consent, withdrawn_at),
	STORE_TEXT(struct consent, withdrawn_by),
};

static int s_consent_row(struct store *s, sqlite3_stmt *st, struct consent *c, int64_t *leaver_id)
{
	uint8_t *ev = NULL;
	size_t evlen = 0;
	int r;

	memset(c, 0, sizeof(*c));
	store_cols(st, s_consent_cols, ARRAY_SIZE(s_consent_cols), c);
	*leaver_id = sqlite3_column_int64(st, 1);
	r = store_unseal(s, sqlite3_column_int64(st, 13), c->id, strlen(c->id),
			 sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8), &ev, &evlen);
	if (r == 0) {
		str_copy(c->evidence_ref, sizeof(c->evidence_ref), (const char *)ev);
		free(ev);
	} else if (r == -ENOKEY) {
		str_copy(c->evidence_ref, sizeof(c->evidence_ref), "(erased)");
		r = 0;
	}
	return r;
}

int store_consent_get(struct store *s, const char *id, struct consent *c, int64_t *leaver_id)
{
	sqlite3_stmt *st = store_st(s, ST_CONSENT_GET);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(id))) < 0)
		return r;
	r = -ENOENT;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = s_consent_row(s, st, c, leaver_id);
	else if (rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	return r;
}

static int s_consent_each_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;
	struct consent c;
	int64_t lid;

	int r = s_consent_row(e->s, st, &c, &lid);

	return r < 0 ? r : e->fn.consent(&c, lid, e->arg);
}

int store_consents_each(struct store *s, int64_t leaver_id, store_consent_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_CONSENTS_EACH);
	struct store_cb e = { .fn.consent = fn, .arg = arg, .s = s };
	int r;

	if ((r = STORE_BIND(st, STORE_I(leaver_id))) < 0)
		return r;
	return store_rows(st, s_consent_each_row, &e);
}

int store_consent_revoked(struct store *s, const char *consent_id, const char *today)
{
	sqlite3_stmt *st = store_st(s, ST_CONSENT_REVOKED);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_T(consent_id), STORE_T(today))) < 0)
		return r;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);
}

int store_revoke(struct store *s, const char *consent_id, const char *peer, int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_REVOKE);
	int r;

	if ((r = STORE_BIND(st, STORE_T(consent_id), STORE_T(peer), STORE_I(now))) < 0)
		return r;
	return sqlerr_exec(st);
}
