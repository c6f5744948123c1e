/* import: a cumulative, audited leavers import at the sending school (design.md §8.5). */
#include "import_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent.h"
#include "consents_csv.h"
#include "jdetail.h"
#include "leavers.h"
#include "outbox.h"
#include "i18n.h"
#include "watchdog.h"

void import_result_clear(struct import_result *res)
{
	strlist_clear(&res->errors);
	strlist_clear(&res->warnings);
	strlist_clear(&res->notes);
	memset(res, 0, sizeof(*res));
}

static int s_note(struct import_run *run, const Overstapctl__Leaver *row, const char *what)
{
	if (run->res->notes.n >= IMPORT_MAX_NOTES) {
		run->notes_dropped++;
		return 0;
	}
	return strlist_addf(&run->res->notes, "%s:%u: pupil_ref %s: %s", run->file, row->line,
			    row->pupil_ref, what);
}

/* The changed columns as "a, b" (names only: never the values, old or new). */
static void s_columns(uint32_t mask, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < STORE_LEAVER_NCOLS && at < len; i++)
		if (mask & (1u << i))
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "",
					       store_leaver_cols[i]);
}

static const char *s_subject(const struct leaver *l, char buf[32])
{
	if (l->record_id[0])
		return l->record_id;
	snprintf(buf, 32, "leaver:%lld", (long long)l->id);
	return buf;
}

static int s_add(struct import_run *run, const Overstapctl__Leaver *row, const uint8_t ref[32],
		 const struct store_leaver_prep *prep)
{
	struct store_leaver_prep mine;
	char subj[32];
	int64_t id = 0;
	int r;

	run->res->added++;
	if (run->check)
		return 0;
	if (prep)	/* made while the rows were staged (import_stage.c) */
		r = store_leaver_add_prepared(run->s, row, prep, run->user, time_now_ms(), &id);
	else if ((r = store_leaver_prepare(run->s, row, ref, &mine)) == 0) {
		r = store_leaver_add_prepared(run->s, row, &mine, run->user, time_now_ms(), &id);
		store_leaver_prep_clear(&mine);
	}
	if (r < 0)
		return r;
	snprintf(subj, sizeof(subj), "leaver:%lld", (long long)id);
	return store_auditf(run->s, run->user, "leaver.imported", subj, row->destination_institution,
			    "{s:o, s:i}", "file", jdetail_text(run->file), "line", (int)row->line);
}

/* The dossier left (queued, delivered or cancelled): never silently altered. */
static int s_frozen(struct import_run *run, const Overstapctl__Leaver *row, const struct leaver *l,
		    const char *cols)
{
	char day[21], what[512], subj[32];

	time_format_utc(l->delivered_at ? l->delivered_at : l->queued_at, day);
	day[10] = '\0';
	run->res->unchanged_sent++;
	/* A note for whoever imports (design.md §10): the daemon's request
	 * language, English in the spool's log. */
	snprintf(what, sizeof(what),
		 run->check ? _("changed (%s) but not to be updated: the dossier was sent on %s (%s)")
			    : _("changed (%s) but not updated: the dossier was sent on %s (%s)"),
		 cols, day, store_leaver_state_str(l->state));
	if (s_note(run, row, what) < 0)
		return -ENOMEM;
	if (run->check)
		return 0;
	return store_auditf(run->s, run->user, "leaver.update_refused", s_subject(l, subj),
			    l->destination_institution, "{s:o, s:i, s:s, s:s, s:s}", "file",
			    jdetail_text(run->file), "line", (int)row->line, "columns", cols,
			    "state", store_leaver_state_str(l->state), "sent_on", day);
}

static int s_update(struct import_run *run, const Overstapctl__Leaver *row, const struct leaver *l,
		    uint32_t changed, const char *cols)
{
	unsigned flags = 0;
	char what[512], subj[32];
	int r;

	/* The parents or pupil saw the old dossier; the receiver's registration
	 * was at the old destination. Either is recorded again (design.md §3.4). */
	if (l->inzage_on[0])
		flags |= STORE_LEAVER_RESET_INZAGE;
	if (l->registered_on[0] && (changed & STORE_LEAVER_COL_DESTINATION_INSTITUTION))
		flags |= STORE_LEAVER_RESET_REGISTERED;
	run->res->updated++;
	snprintf(what, sizeof(what), run->check ? _("would be updated (%s)%s%s") : _("updated (%s)%s%s"),
		 cols, flags & STORE_LEAVER_RESET_INZAGE ? _("; inzage to be recorded again") : "",
		 flags & STORE_LEAVER_RESET_REGISTERED ? _("; registration to be recorded again") : "");
	if (s_note(run, row, what) < 0)
		return -ENOMEM;
	if (run->check)
		return 0;
	if ((r = store_leaver_update(run->s, l, row, flags)) < 0)
		return r;
	return store_auditf(run->s, run->user, "leaver.updated", s_subject(l, subj),
			    row->destination_institution, "{s:o, s:i, s:s, s:b, s:b}", "file",
			    jdetail_text(run->file), "line", (int)row->line, "columns", cols,
			    "inzage_reset", (flags & STORE_LEAVER_RESET_INZAGE) != 0,
			    "registration_reset", (flags & STORE_LEAVER_RESET_REGISTERED) != 0);
}

int import_row(struct import_run *run, const Overstapctl__Leaver *row,
	       const struct store_leaver_prep *prep)
{
	struct leaver l;
	uint32_t changed = 0;
	uint8_t ref[32];
	char cols[400];
	int r = 0;

	if ((++run->done & 1023) == 0)
		watchdog_progress(run->check ? "checking leavers" : "importing leavers", run->done,
				  run->total);
	memset(&l, 0, sizeof(l));
	if (prep)
		memcpy(ref, prep->ref_hash, sizeof(ref));
	else
		r = store_leaver_ref_hash(run->s, row->pupil_ref, ref);
	if (r == 0 && prep && run->prepared_new)
		r = -ENOENT;	/* new when staged, and no leaver came in since */
	else if (r == 0)
		r = store_leaver_diff_ref(run->s, row, ref, &l, &changed);
	if (r == -ENOENT)
		r = s_add(run, row, ref, prep);
	else if (r == 0 && changed == 0)
		run->res->unchanged++;
	else if (r == 0) {
		s_columns(changed, cols, sizeof(cols));
		r = l.state != LEAVER_IMPORTED ? s_frozen(run, row, &l, cols)
					       : s_update(run, row, &l, changed, cols);
	}
	store_leaver_clear(&l);
	return r;
}

static int s_by_ref(const void *a, const void *b)
{
	const Overstapctl__Leaver *const *x = a, *const *y = b;
	int c = strcmp((*x)->pupil_ref, (*y)->pupil_ref);

	return c ? c : ((*x)->line > (*y)->line) - ((*x)->line < (*y)->line);
}

/* A client that skipped its own parse may send a pupil_ref twice; the store
 * would take the second as a correction of the first. bad[i] marks row i. */
static int s_duplicates(const char *file, Overstapctl__Leaver *const *rows, size_t n,
			unsigned char *bad, struct import_result *res)
{
	const Overstapctl__Leaver **v = malloc((n ? n : 1) * sizeof(Overstapctl__Leaver *));
	int r = 0;

	if (!v)
		return -ENOMEM;
	if (n)	/* an import of no rows carries no array at all (fuzz_control) */
		memcpy(v, rows, n * sizeof(Overstapctl__Leaver *));
	qsort(v, n, sizeof(Overstapctl__Leaver *), s_by_ref);
	for (size_t i = 1; i < n && r == 0; i++) {
		if (strcmp(v[i]->pupil_ref, v[i - 1]->pupil_ref) != 0 || !v[i]->pupil_ref[0])
			continue;
		r = strlist_addf(&res->errors, _("%s:%u: pupil_ref: duplicate of line %u"), file,
				 v[i]->line, v[i - 1]->line);
		for (size_t j = 0; j < n; j++)
			if (rows[j] == v[i])
				bad[j] = 1;
	}
	free(v);
	return r;
}

int import_warn_unknown(struct import_result *res, const char *file, unsigned line,
			const char *inst, unsigned count, int check)
{
	return strlist_addf(&res->warnings,
			    check ? ngettext("%s:%u: destination_institution: %s is not a configured "
					     "peer (yet): %u row would be imported, not sendable "
					     "until it is",
					     "%s:%u: destination_institution: %s is not a configured "
					     "peer (yet): %u rows would be imported, not sendable "
					     "until it is", count)
				  : ngettext("%s:%u: destination_institution: %s is not a configured "
					     "peer (yet): %u row imported, not sendable until it is",
					     "%s:%u: destination_institution: %s is not a configured "
					     "peer (yet): %u rows imported, not sendable until it is",
					     count),
			    file, line, inst, count);
}

/* One warning per destination that is not a configured peer: its rows are
 * imported and stay unsendable until it is (the send gate says so). */
static int s_unknown_peers(const struct config *cfg, const char *file,
			   Overstapctl__Leaver *const *rows, size_t n, const unsigned char *bad,
			   int check, struct import_result *res)
{
	for (size_t i = 0; i < n; i++) {
		const char *inst = rows[i]->destination_institution;
		unsigned count = 0;
		int first = 1;

		if (bad[i] || !inst[0] || config_peer_find(cfg, inst))
			continue;
		for (size_t j = 0; j < n && first; j++)
			first = !(j < i && !bad[j] && strcmp(rows[j]->destination_institution, inst) == 0);
		if (!first)
			continue;
		for (size_t j = i; j < n; j++)
			count += !bad[j] && strcmp(rows[j]->destination_institution, inst) == 0;
		if (import_warn_unknown(res, file, rows[i]->line, inst, count, check) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int s_summary(struct import_run *run)
{
	const struct import_result *res = run->res;

	return store_auditf(run->s, run->user, "import.leavers", "", "",
			    "{s:o, s:i, s:i, s:i, s:i, s:i}", "file", jdetail_text(run->file),
			    "added", (int)res->added, "updated", (int)res->updated,
			    "unchanged", (int)res->unchanged, "unchanged_sent",
			    (int)res->unchanged_sent, "warnings", (int)res->warnings.n);
}

int import_apply(struct import_run *run, import_each_fn each, void *arg)
{
	struct store *s = run->s;
	struct import_result *res = run->res;
	int r = 0, in_tx = 0;

	if (!run->check) {
		if ((r = store_begin(s)) < 0)
			return r;
		in_tx = 1;
	}
	r = each(run, arg);
	if (r == 0 && run->notes_dropped)
		r = strlist_addf(&res->notes, _("%s: and %zu more rows updated or kept as sent"),
				 run->file, run->notes_dropped);
	if (r == 0 && !run->check)
		r = s_summary(run);
	if (r == 0 && in_tx && res->before_commit)
		r = res->before_commit(res->arg, res);
	if (r == 0 && in_tx)
		r = store_commit(s);
	if (r < 0 && in_tx)
		store_rollback(s);
	return r;
}

/* The rows of one request, those not marked bad. */
struct s_rows {
	Overstapctl__Leaver *const *rows;
	size_t n;
	const unsigned char *bad;
};

static int s_each_row(struct import_run *run, void *arg)
{
	const struct s_rows *v = arg;
	int r = 0;

	for (size_t i = 0; i < v->n && r == 0; i++)
		if (!v->bad[i])
			r = import_row(run, v->rows[i], NULL);
	return r;
}

int import_leavers(struct store *s, const struct config *cfg, const char *file,
		   Overstapctl__Leaver *const *rows, size_t n, const char *user, int check,
		   struct import_result *res)
{
	struct import_run run = { s, file, user, check, res, 0, n, 0, 0 };
	unsigned char *bad = calloc(n ? n : 1, 1);
	struct s_rows v = { rows, n, bad };
	int r = -ENOMEM;

	if (!bad)
		return -ENOMEM;
	/* Never trust the client's validation: check every row again here. */
	for (size_t i = 0; i < n; i++)
		if (leaver_validate(file, rows[i], &res->errors) > 0)
			bad[i] = 1;
	if (s_duplicates(file, rows, n, bad, res) < 0 ||
	    s_unknown_peers(cfg, file, rows, n, bad, check, res) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		res->refused += bad[i];
	r = -EINVAL;
	if (res->refused && !check)
		goto out;
	r = import_apply(&run, s_each_row, &v);
out:
	free(bad);
	return r;
}

/* ---- consents (design.md §8.7) ---------------------------------------------- */

/* One consent row on its way: its pupil and the record it makes. */
struct s_grant {
	struct leaver l;
	struct consent k;
	int ok;				/* to be recorded */
};

static int s_same_consent(const struct consent *c, int64_t leaver_id, void *arg)
{
	const struct consent *k = arg;

	(void)leaver_id;
	return !c->withdrawn_at[0] && c->purpose == k->purpose && c->grantor == k->grantor &&
	       strcmp(c->counterpart, k->counterpart) == 0 &&
	       strcmp(c->granted_at, k->granted_at) == 0 &&
	       strcmp(c->valid_until, k->valid_until) == 0 &&
	       strcmp(c->evidence_method, k->evidence_method) == 0 &&
	       strcmp(c->evidence_ref, k->evidence_ref) == 0;
}

/* Check one request row as `consent grant` would; problems to res->errors.
 * 1 when it is to be recorded, 0 when refused or unchanged, or -errno. */
static int s_grant_check(struct store *s, const char *file, const Overstapctl__ConsentGrant *g,
			 const char *user, const char *today, struct s_grant *v,
			 struct import_result *res)
{
	const struct consents_csv_input in = { g->pupil_ref, g->purpose, g->counterpart, g->grantor,
					       g->granted_at, g->valid_until, g->evidence_method,
					       g->evidence_ref, g->line };
	struct consents_csv_row row;
	struct strlist why = { 0 };
	struct consent *k = &v->k;
	int r;

	/* Never trust the client's validation: check every row again here. */
	if (consents_csv_validate(file, &in, today, &row, &res->errors) > 0)
		return 0;
	r = store_leaver_find(s, row.pupil_ref, 1, &v->l);
	if (r == -ENOENT || (r == 0 && !v->l.priv))
		return strlist_addf(&res->errors, "%s:%u: pupil_ref: %s: %s", file, g->line,
				    row.pupil_ref, r == -ENOENT ? _("no such pupil (import the leavers first)")
								: _("personal data unavailable (erased?)"));
	if (r < 0)
		return r;
	memset(k, 0, sizeof(*k));
	str_copy(k->pupil_ref, sizeof(k->pupil_ref), row.pupil_ref);
	k->purpose = consent_purpose_from_str(row.purpose);
	str_copy(k->counterpart, sizeof(k->counterpart),
		 row.counterpart[0] ? row.counterpart : v->l.destination_institution);
	k->grantor = consent_grantor_from_str(row.grantor);
	str_copy(k->granted_at, sizeof(k->granted_at), row.granted_at[0] ? row.granted_at : today);
	str_copy(k->valid_until, sizeof(k->valid_until), row.valid_until);
	str_copy(k->evidence_method, sizeof(k->evidence_method), row.evidence_method);
	str_copy(k->evidence_ref, sizeof(k->evidence_ref), row.evidence_ref);
	str_copy(k->recorded_by, sizeof(k->recorded_by), user);
	str_copy(k->recorded_at, sizeof(k->recorded_at), today);
	if (!k->counterpart[0])
		return strlist_addf(&res->errors, _("%s:%u: for: the pupil has no destination "
				    "institution: say which institution (an id, or *)"), file, g->line);
	if ((r = consent_grant_check(k, v->l.priv->birth_date, today, &why)) < 0)
		return r;
	for (size_t i = 0; i < why.n && r >= 0; i++)
		r = strlist_addf(&res->errors, "%s:%u: %s", file, g->line, why.v[i]);
	strlist_clear(&why);
	if (r != 0)
		return r < 0 ? r : 0;
	/* The same file again: a consent the pupil holds already is no new one. */
	if ((r = store_consents_each(s, v->l.id, s_same_consent, k)) < 0)
		return r;
	if (r > 0) {
		res->unchanged++;
		return 0;
	}
	return 1;
}

static int s_by_leaver(const void *a, const void *b)
{
	const struct s_grant *const *x = a, *const *y = b;

	if ((*x)->l.id != (*y)->l.id)
		return (*x)->l.id < (*y)->l.id ? -1 : 1;
	return (*x < *y) ? -1 : (*x > *y);	/* file order within a pupil */
}

/* A client that skipped its own parse may send the same consent twice; the
 * store would hold it twice. Rows to record, grouped by pupil, compared
 * within the group. */
static int s_grant_duplicates(const char *file, Overstapctl__ConsentGrant *const *rows,
			      struct s_grant *v, size_t n, struct import_result *res)
{
	struct s_grant **p = malloc((n ? n : 1) * sizeof(struct s_grant *));
	size_t m = 0;
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (v[i].ok)
			p[m++] = &v[i];
	qsort(p, m, sizeof(struct s_grant *), s_by_leaver);
	for (size_t i = 0; i < m && r == 0; i++)
		for (size_t j = i + 1; j < m && p[j]->l.id == p[i]->l.id && r == 0; j++) {
			if (!p[j]->ok || !s_same_consent(&p[i]->k, 0, &p[j]->k))
				continue;
			p[j]->ok = 0;
			res->refused++;
			r = strlist_addf(&res->errors, _("%s:%u: pupil_ref: duplicate of line %u (the same"
					 " consent twice)"), file, rows[p[j] - v]->line,
					 rows[p[i] - v]->line);
		}
	free(p);
	return r;
}

static int s_grant(struct hctx *h, const char *user, struct s_grant *v)
{
	char subj[32], peer[7];
	int r;

	if ((r = store_consent_add(h->store, v->l.id, v->l.key_id, &v->k)) < 0)
		return r;
	/* as `consent grant` (control_consent.c) audits it */
	if ((r = store_auditf(h->store, user, "consent.granted", s_subject(&v->l, subj),
			      v->k.counterpart, "{s:s, s:o, s:o, s:o, s:o, s:o}", "consent_id",
			      v->k.id, "purpose", jdetail_text(consent_purpose_str(v->k.purpose)),
			      "grantor", jdetail_text(consent_grantor_str(v->k.grantor)),
			      "granted_at", jdetail_text(v->k.granted_at),
			      "valid_until", jdetail_text(v->k.valid_until),
			      "withdrawn_at", jdetail_text(v->k.withdrawn_at))) < 0)
		return r;
	return outbox_consent_notice(h, user, &v->l, &v->k, peer);
}

int import_consents(struct hctx *h, const char *file, Overstapctl__ConsentGrant *const *rows,
		    size_t n, const char *user, int check, struct import_result *res)
{
	struct s_grant *v = calloc(n ? n : 1, sizeof(*v));
	char today[11];
	int r = 0, in_tx = 0;

	if (!v)
		return -ENOMEM;
	date_today(today);
	for (size_t i = 0; i < n && r >= 0; i++) {
		size_t before = res->errors.n;

		r = s_grant_check(h->store, file, rows[i], user, today, &v[i], res);
		v[i].ok = r == 1;
		res->refused += res->errors.n > before;
	}
	if (r >= 0)
		r = s_grant_duplicates(file, rows, v, n, res);
	if (r >= 0 && res->refused && !check)
		r = -EINVAL;
	if (r >= 0 && !check) {
		r = store_begin(h->store);
		in_tx = r == 0;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (!v[i].ok)
			continue;
		res->added++;
		if (!check)
			r = s_grant(h, user, &v[i]);
	}
	if (r >= 0 && !check)
		r = store_auditf(h->store, user, "import.consents", "", "", "{s:o, s:i, s:i}", "file",
				 jdetail_text(file), "added", (int)res->added, "unchanged",
				 (int)res->unchanged);
	if (r >= 0 && in_tx && res->before_commit)
		r = res->before_commit(res->arg, res);
	if (r >= 0 && in_tx)
		r = store_commit(h->store);
	if (r < 0 && in_tx)
		store_rollback(h->store);
	for (size_t i = 0; i < n; i++)
		store_leaver_clear(&v[i].l);
	free(v);
	return r < 0 ? r : 0;
}
