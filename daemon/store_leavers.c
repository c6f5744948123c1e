/* store_leavers: the sending school's leavers: import, lookups, and their way to sendable. */
#include "store_int.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_seal_private(struct store *s, int64_t key_id, const uint8_t ref_hash[32],
			  const Overstapstore__LeaverPrivate *p, uint8_t **out, size_t *len)
{
	size_t n = overstapstore__leaver_private__get_packed_size(p);
	uint8_t *buf = malloc(n ? n : 1);
	int r;

	if (!buf)
		return -ENOMEM;
	overstapstore__leaver_private__pack(p, buf);
	r = store_seal(s, key_id, ref_hash, 32, buf, n, out, len);
	crypto_wipe(buf, n);
	free(buf);
	return r;
}

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
	p.tussenvoegsel = row->tussenvoegsel;
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
	    (r = store_key_new(s, now, &key_id, key)) < 0)
		goto out;
	if ((r = s_seal_private(s, key_id, ref_hash, &p, &pii, &pii_len)) < 0)
		goto out;
	st = store_st(s, ST_LEAVER_INS);
	r = STORE_BIND(st, STORE_I(key_id), STORE_B(ref_hash, 32), STORE_B(pseudo, 32),
		       STORE_B(pii, pii_len),
		       STORE_I(vocab_program_from_str(row->program)),
		       STORE_T(row->cohort), STORE_T(row->exit_date),
		       STORE_I(vocab_destination_from_str(row->destination_type)),
		       STORE_T(row->destination_institution[0] ? row->destination_institution
							       : NULL),
		       STORE_I(vocab_advice_from_str(row->advice)),
		       STORE_I(vocab_yesno_from_str(row->advice_followed)),
		       STORE_I(vocab_level_from_str(row->level_taal)),
		       STORE_I(vocab_level_from_str(row->level_rekenen)),
		       STORE_I(now), STORE_T(user));
	if (r == 0)
		r = sqlerr_exec(st);
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

/* LEAVER_COLS (store.c), in order: pii and ref_hash are read by hand. */
static const struct store_col s_leaver_cols[] = {
	STORE_I64(struct leaver, id), STORE_I64(struct leaver, key_id), STORE_SKIP /* pii */,
	STORE_INT(struct leaver, program), STORE_TEXT(struct leaver, cohort),
	STORE_TEXT(struct leaver, exit_date), STORE_INT(struct leaver, destination),
	STORE_TEXT(struct leaver, destination_institution), STORE_INT(struct leaver, advice),
	STORE_INT(struct leaver, advice_followed), STORE_INT(struct leaver, level_taal),
	STORE_INT(struct leaver, level_rekenen), STORE_TEXT(struct leaver, registered_on),
	STORE_TEXT(struct leaver, inzage_on), STORE_INT(struct leaver, inzage_reviewer),
	STORE_TEXT(struct leaver, inzage_recorded_by), STORE_INT(struct leaver, state),
	STORE_TEXT(struct leaver, record_id), STORE_TEXT(struct leaver, message_id),
	STORE_I64(struct leaver, queued_at), STORE_I64(struct leaver, delivered_at),
	STORE_INT(struct leaver, attempts), STORE_SKIP /* ref_hash */,
	STORE_I64(struct leaver, erased_at), STORE_TEXT(struct leaver, parked),
};

/* Fill l from a row of LEAVER_COLS; the personal part is decrypted to get the
 * pupil_ref, and kept in l->priv when with_private. */
static int s_leaver_read(struct store *s, sqlite3_stmt *st, int with_private, struct leaver *l)
{
	uint8_t *plain = NULL;
	size_t plen = 0;
	int r;

	memset(l, 0, sizeof(*l));
	store_cols(st, s_leaver_cols, ARRAY_SIZE(s_leaver_cols), l);
	if (sqlite3_column_bytes(st, 22) != 32)
		return -EUCLEAN;
	r = store_unseal(s, l->key_id, sqlite3_column_blob(st, 22), 32, sqlite3_column_blob(st, 2),
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
		return rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
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
	st = store_st(s, ST_LEAVER_BY_REF);
	if ((r = STORE_BIND(st, STORE_B(ref_hash, 32))) < 0)
		return r;
	return s_leaver_one(s, st, with_private, l);
}

int store_leaver_load(struct store *s, int64_t id, int with_private, struct leaver *l)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_BY_ID);
	int r;

	if ((r = STORE_BIND(st, STORE_I(id))) < 0)
		return r;
	return s_leaver_one(s, st, with_private, l);
}

int store_leaver_set_registered(struct store *s, int64_t id, const char *date, const char *user)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_REG);
	int r;

	if ((r = STORE_BIND(st, STORE_I(id), STORE_T(date), STORE_T(user))) < 0)
		return r;
	return sqlerr_exec(st);
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
	st = store_st(s, ST_LEAVER_INZ);
	r = STORE_BIND(st, STORE_I(id), STORE_T(date), STORE_I(reviewer), STORE_T(user),
		       STORE_B(pii, pii_len));
	if (r == 0)
		r = sqlerr_exec(st);
out:
	free(pii);
	store_leaver_clear(&l);
	return r;
}

int store_leaver_set_queued(struct store *s, int64_t id, const char *record_id,
			    const char *message_id, int64_t now)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_QUEUED);
	int r;

	r = STORE_BIND(st, STORE_I(id), STORE_T(record_id), STORE_T(message_id),
		       STORE_I(now));
	if (r == 0)
		r = sqlerr_exec(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -EALREADY;
	return r;
}

static int s_leaver_each_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;
	struct leaver l;
	int r;

	if ((r = s_leaver_read(e->s, st, 0, &l)) < 0)
		return r;
	r = e->fn.leaver(&l, e->arg);
	store_leaver_clear(&l);
	return r;
}

int store_leavers_each(struct store *s, int state, const char *cohort, unsigned limit,
		       store_leaver_cb cb, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVERS_EACH);
	struct store_cb e = { .fn.leaver = cb, .arg = arg, .s = s };
	int r;

	if ((r = STORE_BIND(st, STORE_I(state), STORE_T(cohort && *cohort ? cohort : NULL),
			    STORE_I(limit ? (int64_t)limit : -1))) < 0)
		return r;
	r = store_rows(st, s_leaver_each_row, &e);
	return r < 0 ? r : 0;
}

int store_leavers_ready(struct store *s, int64_t **ids, size_t *n)
{
	int64_t *v = NULL;
	size_t cnt = 0;
	int r = store_ids_read(store_st(s, ST_LEAVERS_READY), &v, &cnt);

	if (r < 0) {
		free(v);
		return r;
	}
	*ids = v;
	*n = cnt;
	return 0;
}

int store_leaver_by_record(struct store *s, const char *record_id, int with_private, struct leaver *l)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_BY_RECORD);
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	return s_leaver_one(s, st, with_private, l);
}

int store_leaver_by_pgn(struct store *s, const char *pgn, int with_private, struct leaver *l)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_BY_PSEUDONYM);
	char src[32];
	uint8_t pseudo[32];
	int r;

	memset(l, 0, sizeof(*l));
	snprintf(src, sizeof(src), "pgn:%s", pgn);
	if ((r = store_pseudonym(s, src, pseudo)) < 0)
		return r;
	if ((r = STORE_BIND(st, STORE_B(pseudo, sizeof(pseudo)))) < 0)
		return r;
	return s_leaver_one(s, st, with_private, l);
}
