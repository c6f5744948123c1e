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

/* A row's personal part, pointing into row and into the caller's buffers
 * (support: a writable copy of support_needs, split in place). */
struct s_private {
	Overstapstore__LeaverPrivate p;
	Overstap__MentorContact mentor;
	Overstap__SupportNeed needs[32], *ptrs[32];
	char support[520];
};

static void s_private_from_row(struct s_private *v, const Overstapctl__Leaver *row)
{
	overstapstore__leaver_private__init(&v->p);
	overstap__mentor_contact__init(&v->mentor);
	str_copy(v->support, sizeof(v->support), row->support_needs);
	v->p.pupil_ref = row->pupil_ref;
	v->p.pgn = row->pgn;
	v->p.given_name = row->given_name;
	v->p.tussenvoegsel = row->tussenvoegsel;
	v->p.family_name = row->family_name;
	v->p.birth_date = row->birth_date;
	v->p.diploma = vocab_diploma_from_str(row->diploma);	/* travels in the dossier */
	v->p.n_support_needs = s_support_split(v->support, v->needs, v->ptrs, ARRAY_SIZE(v->needs));
	v->p.support_needs = v->ptrs;
	v->mentor.name = row->mentor_name;
	v->mentor.email = row->mentor_email;
	v->mentor.phone = row->mentor_phone;
	v->p.mentor = &v->mentor;
}

/* The plain columns of a row, in the order ST_LEAVER_INS and ST_LEAVER_UPD
 * take them (program .. level_rekenen): one list for the two statements. */
#define S_PLAIN_N 9
static void s_plain_args(const Overstapctl__Leaver *row, struct store_arg out[S_PLAIN_N])
{
	out[0] = STORE_I(vocab_program_from_str(row->program));
	out[1] = STORE_T(row->cohort);
	out[2] = STORE_T(row->exit_date);
	out[3] = STORE_I(vocab_destination_from_str(row->destination_type));
	out[4] = STORE_T(row->destination_institution[0] ? row->destination_institution : NULL);
	out[5] = STORE_I(vocab_advice_from_str(row->advice));
	out[6] = STORE_I(vocab_yesno_from_str(row->advice_followed));
	out[7] = STORE_I(vocab_level_from_str(row->level_taal));
	out[8] = STORE_I(vocab_level_from_str(row->level_rekenen));
}

/* The report pseudonym follows the pupil (PGN) where there is one, so a
 * pupil who appears in two cohorts is one pupil. */
static int s_row_pseudonym(struct store *s, const Overstapctl__Leaver *row, uint8_t out[32])
{
	char src[128];

	snprintf(src, sizeof(src), "%s:%s", row->pgn[0] ? "pgn" : "ref",
		 row->pgn[0] ? row->pgn : row->pupil_ref);
	return store_pseudonym(s, src, out);
}

int store_leaver_ref_hash(struct store *s, const char *pupil_ref, uint8_t out[32])
{
	return s_ref_hash(s, pupil_ref, out);
}

void store_leaver_prep_clear(struct store_leaver_prep *p)
{
	free(p->own[0]);
	free(p->own[1]);
	memset(p, 0, sizeof(*p));
}

int store_leaver_prepare(struct store *s, const Overstapctl__Leaver *row,
			 const uint8_t *ref_hash, struct store_leaver_prep *p)
{
	struct s_private v;
	uint8_t key[CRYPTO_KEY_LEN], *wrapped = NULL, *pii = NULL, *buf = NULL;
	size_t n;
	int r;

	memset(p, 0, sizeof(*p));
	s_private_from_row(&v, row);
	if (ref_hash)
		memcpy(p->ref_hash, ref_hash, 32);
	else if ((r = s_ref_hash(s, row->pupil_ref, p->ref_hash)) < 0)
		goto out;
	/* The new key seals the personal part at once: sealed through
	 * store_seal it was read back from pupil_keys and unwrapped again. */
	if ((r = s_row_pseudonym(s, row, p->pseudonym)) < 0 ||
	    (r = crypto_random(key, sizeof(key))) < 0 ||
	    (r = store_key_wrap(s, key, NULL, &wrapped, &p->wrapped_len)) < 0)
		goto out;
	p->wrapped = p->own[0] = wrapped;
	n = overstapstore__leaver_private__get_packed_size(&v.p);
	r = -ENOMEM;
	if (!(buf = malloc(n ? n : 1)))
		goto out;
	overstapstore__leaver_private__pack(&v.p, buf);
	r = crypto_seal(key, p->ref_hash, 32, buf, n, &pii, &p->pii_len);
	crypto_wipe(buf, n);
	free(buf);
	if (r == 0)
		p->pii = p->own[1] = pii;
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(v.support, sizeof(v.support));
	if (r < 0)
		store_leaver_prep_clear(p);
	return r;
}

int store_leaver_add_prepared(struct store *s, const Overstapctl__Leaver *row,
			      const struct store_leaver_prep *p, const char *user, int64_t now,
			      int64_t *id)
{
	struct store_arg a[4 + S_PLAIN_N + 2];
	sqlite3_stmt *st;
	int64_t key_id = 0;
	int r;

	if ((r = store_key_put(s, now, p->wrapped, p->wrapped_len, &key_id)) < 0)
		return r;
	st = store_st(s, ST_LEAVER_INS);
	a[0] = STORE_I(key_id);
	a[1] = STORE_B(p->ref_hash, 32);
	a[2] = STORE_B(p->pseudonym, 32);
	a[3] = STORE_B(p->pii, p->pii_len);
	s_plain_args(row, a + 4);
	a[4 + S_PLAIN_N] = STORE_I(now);
	a[4 + S_PLAIN_N + 1] = STORE_T(user);
	s->leaver_adds++;	/* before the insert: an attempt counts too */
	if ((r = store_bind(st, a, ARRAY_SIZE(a))) == 0)
		r = sqlerr_exec(st);
	if (r == 0)
		*id = sqlite3_last_insert_rowid(s->db);
	return r;
}

uint64_t store_leaver_adds(const struct store *s) { return s->leaver_adds; }

static int s_leaver_insert(struct store *s, const Overstapctl__Leaver *row, const char *user,
			   int64_t now, int64_t *id)
{
	struct store_leaver_prep p;
	int r = store_leaver_prepare(s, row, NULL, &p);

	if (r == 0)
		r = store_leaver_add_prepared(s, row, &p, user, now, id);
	store_leaver_prep_clear(&p);
	return r;
}

int store_leaver_add(struct store *s, const Overstapctl__Leaver *row, const char *user,
		     int64_t now, int64_t *id)
{
	return s_leaver_insert(s, row, user, now, id);
}

const char *const store_leaver_cols[STORE_LEAVER_NCOLS] = {
	"pupil_ref", "pgn", "given_name", "family_name", "birth_date", "program", "cohort",
	"exit_date", "destination_type", "destination_institution", "advice", "advice_followed",
	"level_taal", "level_rekenen", "support_needs", "mentor_name", "mentor_email",
	"mentor_phone", "diploma", "tussenvoegsel",
};

static int s_str_differs(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

/* Support needs compare as the list they are stored as (codes and notes
 * trimmed), so a re-export that spaces them differently is unchanged. */
static int s_support_differs(const Overstapstore__LeaverPrivate *p, const char *row_needs)
{
	struct s_private v;
	Overstapctl__Leaver row = OVERSTAPCTL__LEAVER__INIT;
	int differs = 0;

	row.support_needs = (char *)row_needs;
	s_private_from_row(&v, &row);
	if (v.p.n_support_needs != p->n_support_needs)
		differs = 1;
	for (size_t i = 0; !differs && i < p->n_support_needs; i++)
		differs = s_str_differs(v.needs[i].code, p->support_needs[i]->code) ||
			  s_str_differs(v.needs[i].note, p->support_needs[i]->note);
	crypto_wipe(v.support, sizeof(v.support));
	return differs;
}

static uint32_t s_diff(const struct leaver *l, const Overstapctl__Leaver *row)
{
	const Overstapstore__LeaverPrivate *p = l->priv;
	const Overstap__MentorContact *m = p->mentor;
	const int differs[STORE_LEAVER_NCOLS] = {
		0,
		s_str_differs(p->pgn, row->pgn),
		s_str_differs(p->given_name, row->given_name),
		s_str_differs(p->family_name, row->family_name),
		s_str_differs(p->birth_date, row->birth_date),
		l->program != (int)vocab_program_from_str(row->program),
		s_str_differs(l->cohort, row->cohort),
		s_str_differs(l->exit_date, row->exit_date),
		l->destination != (int)vocab_destination_from_str(row->destination_type),
		s_str_differs(l->destination_institution, row->destination_institution),
		l->advice != (int)vocab_advice_from_str(row->advice),
		l->advice_followed != (int)vocab_yesno_from_str(row->advice_followed),
		l->level_taal != (int)vocab_level_from_str(row->level_taal),
		l->level_rekenen != (int)vocab_level_from_str(row->level_rekenen),
		s_support_differs(p, row->support_needs),
		s_str_differs(m ? m->name : "", row->mentor_name),
		s_str_differs(m ? m->email : "", row->mentor_email),
		s_str_differs(m ? m->phone : "", row->mentor_phone),
		(int)p->diploma != (int)vocab_diploma_from_str(row->diploma),
		s_str_differs(p->tussenvoegsel, row->tussenvoegsel),
	};
	uint32_t mask = 0;

	for (unsigned i = 0; i < STORE_LEAVER_NCOLS; i++)
		mask |= differs[i] ? 1u << i : 0;
	return mask;
}

static int s_leaver_by_ref(struct store *s, const uint8_t ref_hash[32], int with_private,
			   struct leaver *l);

int store_leaver_diff(struct store *s, const Overstapctl__Leaver *row, struct leaver *l,
		      uint32_t *changed)
{
	uint8_t ref_hash[32];
	int r;

	memset(l, 0, sizeof(*l));
	*changed = 0;
	if ((r = s_ref_hash(s, row->pupil_ref, ref_hash)) < 0)
		return r;
	return store_leaver_diff_ref(s, row, ref_hash, l, changed);
}

int store_leaver_diff_ref(struct store *s, const Overstapctl__Leaver *row,
			  const uint8_t ref_hash[32], struct leaver *l, uint32_t *changed)
{
	int r = s_leaver_by_ref(s, ref_hash, 1, l);

	*changed = 0;
	if (r < 0)
		return r;
	if (!l->priv)
		return -ENOKEY;
	*changed = s_diff(l, row);
	return 0;
}

int store_leaver_update(struct store *s, const struct leaver *l, const Overstapctl__Leaver *row,
			unsigned flags)
{
	struct s_private v;
	uint8_t ref_hash[32], pseudo[32], *pii = NULL;
	size_t pii_len = 0;
	sqlite3_stmt *st;
	int r;

	if (!l->priv)
		return -ENOKEY;
	s_private_from_row(&v, row);
	v.p.inzage_remarks = l->priv->inzage_remarks;	/* the parents' words stay */
	v.p.inzage_disagreement = l->priv->inzage_disagreement;
	if ((r = s_ref_hash(s, row->pupil_ref, ref_hash)) < 0 ||
	    (r = s_row_pseudonym(s, row, pseudo)) < 0 ||
	    (r = s_seal_private(s, l->key_id, ref_hash, &v.p, &pii, &pii_len)) < 0)
		goto out;
	st = store_st(s, ST_LEAVER_UPD);
	{
		struct store_arg a[3 + S_PLAIN_N + 2] = { STORE_I(l->id), STORE_B(pseudo, 32),
							  STORE_B(pii, pii_len) };

		s_plain_args(row, a + 3);
		a[3 + S_PLAIN_N] = STORE_I((flags & STORE_LEAVER_RESET_INZAGE) != 0);
		a[3 + S_PLAIN_N + 1] = STORE_I((flags & STORE_LEAVER_RESET_REGISTERED) != 0);
		r = store_bind(st, a, ARRAY_SIZE(a));
	}
	if (r == 0)
		r = sqlerr_exec(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -EALREADY;
out:
	crypto_wipe(v.support, sizeof(v.support));
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
		int64_t id;
		int ri = s_leaver_insert(s, rows[i], user, now, &id);

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
	STORE_INT(struct leaver, inzage_agrees),
};

/* The personal part of l, opened (r: the open's result): the pupil_ref, and
 * l->priv when with_private. An erased pupil's shows as "(erased)". */
static int s_leaver_private(struct leaver *l, int r, uint8_t *plain, size_t plen,
			    int with_private)
{
	if (r == -ENOKEY) {
		str_copy(l->pupil_ref, sizeof(l->pupil_ref), "(erased)");
		return 0;
	}
	if (r < 0)
		return r;
	l->priv = overstapstore__leaver_private__unpack(NULL, plen, plain);
	if (!l->priv)
		return -EBADMSG;
	str_copy(l->pupil_ref, sizeof(l->pupil_ref), l->priv->pupil_ref);
	if (!with_private) {
		overstapstore__leaver_private__free_unpacked(l->priv, NULL);
		l->priv = NULL;
	}
	return 0;
}

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
	r = s_leaver_private(l, r, plain, plen, with_private);
	if (plain) {
		crypto_wipe(plain, plen);
		free(plain);
	}
	return r;
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

static int s_leaver_by_ref(struct store *s, const uint8_t ref_hash[32], int with_private,
			   struct leaver *l)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_BY_REF);
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = STORE_BIND(st, STORE_B(ref_hash, 32))) < 0)
		return r;
	return s_leaver_one(s, st, with_private, l);
}

int store_leaver_find(struct store *s, const char *pupil_ref, int with_private, struct leaver *l)
{
	uint8_t ref_hash[32];
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = s_ref_hash(s, pupil_ref, ref_hash)) < 0)
		return r;
	return s_leaver_by_ref(s, ref_hash, with_private, l);
}

int store_leaver_load(struct store *s, int64_t id, int with_private, struct leaver *l)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_BY_ID);
	int r;

	if ((r = STORE_BIND(st, STORE_I(id))) < 0)
		return r;
	return s_leaver_one(s, st, with_private, l);
}

/* One leaver of store_leavers_load_many as read, its seal still closed. */
struct s_many_row {
	uint8_t ref_hash[32];		/* the seal's AAD */
	uint8_t *pii;			/* owned: the sealed part as stored */
	size_t pii_len;
};

int store_leavers_load_many(struct store *s, const int64_t *ids, size_t n, int with_private,
			    struct leaver *out, int *res)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_BY_ID);
	struct s_many_row *row = calloc(n ? n : 1, sizeof(*row));
	struct store_crypt *c = calloc(n ? n : 1, sizeof(*c));
	size_t m = 0;		/* rows read: c[k] opens the row of out[at[k]] */
	size_t *at = calloc(n ? n : 1, sizeof(*at));
	int r = 0;

	memset(out, 0, n * sizeof(*out));	/* callers may clear them whatever we return */
	if (!row || !c || !at) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		int rc;

		res[i] = -ENOENT;
		if ((r = STORE_BIND(st, STORE_I(ids[i]))) < 0)
			break;
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			struct leaver *l = &out[i];
			size_t len = (size_t)sqlite3_column_bytes(st, 2);

			store_cols(st, s_leaver_cols, ARRAY_SIZE(s_leaver_cols), l);
			if (sqlite3_column_bytes(st, 22) != 32) {
				res[i] = -EUCLEAN;
			} else if (!(row[m].pii = malloc(len ? len : 1))) {
				r = -ENOMEM;
			} else {
				memcpy(row[m].ref_hash, sqlite3_column_blob(st, 22), 32);
				if (len)
					memcpy(row[m].pii, sqlite3_column_blob(st, 2), len);
				row[m].pii_len = len;
				c[m] = (struct store_crypt){ .key_id = l->key_id,
							     .aad = row[m].ref_hash, .aad_len = 32,
							     .in = row[m].pii, .len = len };
				at[m++] = i;
			}
		} else if (rc != SQLITE_DONE) {
			r = sqlerr_errno(rc);
		}
		sqlite3_reset(st);
	}
	if (r == 0)
		r = store_crypt_many(s, 0, c, m);
	for (size_t k = 0; k < m; k++) {
		if (r == 0)
			res[at[k]] = s_leaver_private(&out[at[k]], c[k].r, c[k].out, c[k].out_len,
						      with_private);
		if (c[k].out) {
			crypto_wipe(c[k].out, c[k].out_len);
			free(c[k].out);
		}
		free(row[k].pii);
	}
out:
	free(row);
	free(c);
	free(at);
	return r;
}

int store_leaver_set_registered(struct store *s, int64_t id, const char *date, const char *user)
{
	sqlite3_stmt *st = store_st(s, ST_LEAVER_REG);
	int r;

	if ((r = STORE_BIND(st, STORE_I(id), STORE_T(date), STORE_T(user))) < 0)
		return r;
	return sqlerr_exec(st);
}

int store_leaver_set_inzage(struct store *s, int64_t id, const struct store_inzage *z)
{
	struct leaver l;
	char *old_remarks, *old_disagreement;
	uint8_t ref_hash[32], *pii = NULL;
	size_t pii_len = 0;
	sqlite3_stmt *st;
	int r;

	/* Remarks and disagreement are free text about the pupil: they live in
	 * the sealed part. */
	if ((r = store_leaver_load(s, id, 1, &l)) < 0)
		return r;
	if (!l.priv) {
		r = -ENOKEY;
		goto out;
	}
	/* Sealed with the caller's texts, borrowed; the unpacked ones go back
	 * before store_leaver_clear, which frees them (NULLing them instead
	 * leaked the earlier remarks when an inzage was recorded again). */
	old_remarks = l.priv->inzage_remarks;
	old_disagreement = l.priv->inzage_disagreement;
	l.priv->inzage_remarks = (char *)z->remarks;
	l.priv->inzage_disagreement = (char *)z->disagreement;
	r = s_ref_hash(s, l.priv->pupil_ref, ref_hash);
	if (r == 0)
		r = s_seal_private(s, l.key_id, ref_hash, l.priv, &pii, &pii_len);
	l.priv->inzage_remarks = old_remarks;
	l.priv->inzage_disagreement = old_disagreement;
	if (r < 0)
		goto out;
	st = store_st(s, ST_LEAVER_INZ);
	r = STORE_BIND(st, STORE_I(id), STORE_T(z->date), STORE_I(z->reviewer), STORE_T(z->user),
		       STORE_B(pii, pii_len), STORE_I(z->agrees));
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
