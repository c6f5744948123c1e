/* control_consent: `overstap consent grant|withdraw|list|due` on the daemon's
 * side. The rules are consent.c's; here they meet the store and the audit
 * log: every grant and withdrawal commits together with its audit entry. */
#include "consent.h"
#include "control_int.h"
#include "envelope.h"
#include "erasure.h"
#include "jdetail.h"
#include "outbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUE_HORIZON_DAYS 60	/* consent due: expiring within this many days */

Overstapctl__ConsentRow *ctl_consent_row(struct req_ctx *c, const struct consent *k,
					 const char *pupil_ref, const char *today, const char *due)
{
	Overstapctl__ConsentRow *row = ctl_keep(&c->pool, calloc(1, sizeof(*row)));
	const char *purpose = consent_purpose_str(k->purpose), *grantor = consent_grantor_str(k->grantor);

	if (!row)
		return NULL;
	overstapctl__consent_row__init(row);
	row->id = ctl_strdup(&c->pool, k->id);
	row->pupil_ref = ctl_strdup(&c->pool, pupil_ref);
	row->purpose = (char *)(purpose ? purpose : "?");
	row->counterpart = ctl_strdup(&c->pool, k->counterpart);
	row->grantor = (char *)(grantor ? grantor : "?");
	row->granted_at = ctl_strdup(&c->pool, k->granted_at);
	row->valid_until = ctl_strdup(&c->pool, k->valid_until);
	row->evidence_method = ctl_strdup(&c->pool, k->evidence_method);
	row->evidence_ref = ctl_strdup(&c->pool, k->evidence_ref);
	row->recorded_by = ctl_strdup(&c->pool, k->recorded_by);
	row->recorded_at = ctl_strdup(&c->pool, k->recorded_at);
	row->withdrawn_at = ctl_strdup(&c->pool, k->withdrawn_at);
	row->withdrawn_by = ctl_strdup(&c->pool, k->withdrawn_by);
	/* In force today, whoever it is for: the per-recipient decision is
	 * consent_decide's, at the moment of each disclosure. */
	row->in_force = consent_active_on(k, today);
	row->due_reason = ctl_strdup(&c->pool, due ? due : "");
	/* every string or none: a NULL in the reply crashed the daemon packing it */
	if (!row->id || !row->pupil_ref || !row->counterpart || !row->granted_at ||
	    !row->valid_until || !row->evidence_method || !row->evidence_ref || !row->recorded_by ||
	    !row->recorded_at || !row->withdrawn_at || !row->withdrawn_by || !row->due_reason)
		return NULL;	/* what was allocated is pooled */
	return row;
}

/* The request as a consent record, before the rules look at it. */
static void s_from_request(const struct req_ctx *c, const char *today, struct consent *k)
{
	const Overstapctl__ConsentGrant *g = c->req->consent_grant;

	memset(k, 0, sizeof(*k));
	str_copy(k->pupil_ref, sizeof(k->pupil_ref), g->pupil_ref);
	k->purpose = consent_purpose_from_str(g->purpose);
	str_copy(k->counterpart, sizeof(k->counterpart), g->counterpart);
	k->grantor = consent_grantor_from_str(g->grantor);
	str_copy(k->granted_at, sizeof(k->granted_at), g->granted_at[0] ? g->granted_at : today);
	str_copy(k->valid_until, sizeof(k->valid_until), g->valid_until);
	str_copy(k->evidence_method, sizeof(k->evidence_method), g->evidence_method);
	str_copy(k->evidence_ref, sizeof(k->evidence_ref), g->evidence_ref);
	str_copy(k->recorded_by, sizeof(k->recorded_by), c->user);
	str_copy(k->recorded_at, sizeof(k->recorded_at), today);
}

/* All reasons in one reply line. */
static int s_refuse(struct req_ctx *c, const char *ref, const struct strlist *errs)
{
	char buf[480] = "";
	size_t used = 0;

	for (size_t i = 0; i < errs->n && used < sizeof(buf) - 1; i++) {
		int n = snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "; " : "", errs->v[i]);
		used += n > 0 ? (size_t)n : 0;
	}
	return ctl_fail(c, -EINVAL, "%s: %s", ref, buf);
}

static int s_audit(struct req_ctx *c, const char *action, const struct leaver *l,
		   const struct consent *k)
{
	char subj[32];

	/* The id is ours (store_consent_add); the dates were typed by a user
	 * (checked as dates, but text all the same). */
	return store_auditf(c->h->store, c->user, action, ctl_leaver_subject(l, subj),
			     k->counterpart, "{s:s, s:o, s:o, s:o, s:o, s:o}", "consent_id", k->id,
			     "purpose", jdetail_text(consent_purpose_str(k->purpose)),
			     "grantor", jdetail_text(consent_grantor_str(k->grantor)),
			     "granted_at", jdetail_text(k->granted_at),
			     "valid_until", jdetail_text(k->valid_until),
			     "withdrawn_at", jdetail_text(k->withdrawn_at));
}

/* A follow_up consent granted after the dossier left: the receiver is told
 * (outbox_consent_notice). peer gets who ("" = nobody). */
static int s_notice(struct req_ctx *c, const struct leaver *l, const struct consent *k, char peer[7])
{
	return outbox_consent_notice(c->h, c->user, l, k, peer);
}

/* The reply to a grant or withdrawal: the consent, and the peer told (a
 * notice, or with withdrawn a Withdrawal). 0 or -ENOMEM. */
static int s_reply(struct req_ctx *c, const struct consent *k, const char *pupil_ref,
		   const char *today, const char *peer, int withdrawn)
{
	Overstapctl__ConsentRow *row = ctl_consent_row(c, k, pupil_ref, today, NULL);
	char *to = ctl_strdup(&c->pool, peer);

	if (!row || !to)
		return -ENOMEM;
	if (withdrawn)
		row->withdrawal_to = to;
	else
		row->notice_to = to;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_CONSENT;
	c->rep->consent = row;
	return 0;
}

int ctl_consent_grant(struct req_ctx *c)
{
	struct strlist errs = { 0 };
	struct leaver l = { 0 };
	struct consent k;
	char today[11], peer[7] = "";
	int r;

	date_today(today);
	s_from_request(c, today, &k);
	r = store_leaver_find(c->h->store, k.pupil_ref, 1, &l);
	if (r < 0 || !l.priv) {
		store_leaver_clear(&l);
		if (r == -ENOENT)
			return ctl_fail(c, r, "%s: no such pupil", k.pupil_ref);
		return ctl_fail(c, -ENOKEY, "%s: personal data unavailable (erased?)", k.pupil_ref);
	}
	/* Without --to: the institution the pupil is going to, the usual case. */
	if (!k.counterpart[0])
		str_copy(k.counterpart, sizeof(k.counterpart), l.destination_institution);
	if (!k.counterpart[0]) {
		store_leaver_clear(&l);
		return ctl_fail(c, -EINVAL, "%s: the pupil has no destination institution: say which "
				"institution the consent is for (--to ID, or --to '*')", k.pupil_ref);
	}
	if ((r = consent_grant_check(&k, l.priv->birth_date, today, &errs)) != 0) {
		r = r > 0 ? s_refuse(c, k.pupil_ref, &errs) : ctl_fail(c, r, "%s", strerror(-r));
		goto out;
	}
	/* The reply is built before the commit (test_fault_control.c): built
	 * after it, an allocation that failed answered -ENOMEM for a consent
	 * that was recorded, and a retry recorded it twice. */
	if ((r = store_begin(c->h->store)) < 0 ||
	    (r = store_consent_add(c->h->store, l.id, l.key_id, &k)) < 0 ||
	    (r = s_audit(c, "consent.granted", &l, &k)) < 0 || (r = s_notice(c, &l, &k, peer)) < 0 ||
	    (r = s_reply(c, &k, k.pupil_ref, today, peer, 0)) < 0 ||
	    (r = store_commit(c->h->store)) < 0) {
		store_rollback(c->h->store);
		c->rep->body_case = OVERSTAPCTL__REPLY__BODY__NOT_SET;
		c->rep->consent = NULL;
		r = ctl_fail(c, r, "cannot record the consent: %s", strerror(-r));
		goto out;
	}
	log_notice("user %s recorded consent %s (%s) for a pupil", c->user, k.id,
		   consent_purpose_str(k.purpose));
out:
	strlist_clear(&errs);
	store_leaver_clear(&l);
	return r;
}

int ctl_consent_withdraw(struct req_ctx *c)
{
	const Overstapctl__ConsentWithdraw *w = c->req->consent_withdraw;
	struct leaver l = { 0 };
	struct consent k;
	int64_t lid = 0;
	char today[11], peer[7] = "";
	int r;

	date_today(today);
	r = store_consent_get(c->h->store, w->consent_id, &k, &lid);
	if (r < 0)
		return r == -ENOENT ? ctl_fail(c, r, "%s: no such consent", w->consent_id)
				    : ctl_fail(c, r, "%s: %s", w->consent_id, strerror(-r));
	if (k.withdrawn_at[0])
		return ctl_fail(c, -EALREADY, "%s: already withdrawn on %s by %s", k.id, k.withdrawn_at,
				k.withdrawn_by);
	str_copy(k.withdrawn_at, sizeof(k.withdrawn_at), w->date[0] ? w->date : today);
	str_copy(k.withdrawn_by, sizeof(k.withdrawn_by), c->user);
	if (!date_valid(k.withdrawn_at, NULL, NULL, NULL) || strcmp(k.withdrawn_at, today) > 0 ||
	    strcmp(k.withdrawn_at, k.granted_at) < 0)
		return ctl_fail(c, -EINVAL, "%s: withdrawal date %s must be a date from %s to today",
				k.id, k.withdrawn_at, k.granted_at);
	if ((r = store_leaver_load(c->h->store, lid, 0, &l)) < 0)
		return ctl_fail(c, r, "cannot read the pupil: %s", strerror(-r));
	if ((r = store_begin(c->h->store)) < 0 ||
	    (r = store_consent_withdraw(c->h->store, k.id, k.withdrawn_at, c->user)) < 0 ||
	    (r = s_audit(c, "consent.withdrawn", &l, &k)) < 0 ||
	    /* design.md §3: the counterpart is told, in the same transaction */
	    (r = erasure_withdrawal_queue(c->h, &l, &k, 1, "withdrawn", k.withdrawn_at, c->user,
					  peer)) < 0 ||
	    (r = s_reply(c, &k, l.pupil_ref, today, peer, 1)) < 0 ||	/* before the commit */
	    (r = store_commit(c->h->store)) < 0) {
		store_rollback(c->h->store);
		store_leaver_clear(&l);
		c->rep->body_case = OVERSTAPCTL__REPLY__BODY__NOT_SET;
		c->rep->consent = NULL;
		return ctl_fail(c, r, "cannot record the withdrawal: %s", strerror(-r));
	}
	log_notice("user %s recorded the withdrawal of consent %s%s%s", c->user, k.id,
		   peer[0] ? "; telling " : "", peer);
	store_leaver_clear(&l);
	return 0;
}

/* consent list / due: rows arrive grouped by pupil; a group is finished (and
 * its due reasons worked out, which need all of a pupil's consents) when the
 * next pupil starts. */
struct list_state {
	struct req_ctx *c;
	char today[11];
	int due;
	int horizon;
	int64_t leaver;			/* of the group being collected, -1 = none */
	struct ctl_consents group;	/* that pupil's consents */
	struct ctl_list out;		/* the ConsentRow replies */
};

static int s_flush(struct list_state *st)
{
	struct leaver l = { 0 };
	int r = 0;

	if (st->leaver < 0 || st->group.n == 0)
		return 0;
	r = store_leaver_load(st->c->h->store, st->leaver, 1, &l);
	for (size_t i = 0; r == 0 && i < st->group.n; i++) {
		const struct consent *k = &st->group.v[i];
		char why[160] = "";
		int due = 0;

		if (st->due) {
			due = l.priv && consent_due(k, l.priv->birth_date, st->today, st->horizon, why,
						    sizeof(why)) == 1 &&
			      (k->grantor == CONSENT_GRANTOR_PUPIL ||
			       !consent_reconfirmed(k, st->group.v, st->group.n, st->today));
			if (!due)
				continue;
		}
		r = ctl_list_push(&st->out, ctl_consent_row(st->c, k, l.pupil_ref[0] ? l.pupil_ref : "(erased)", st->today,
				     due ? why : NULL));
	}
	store_leaver_clear(&l);
	st->group.n = 0;
	return r;
}

static int s_collect(const struct consent *k, int64_t leaver_id, void *arg)
{
	struct list_state *st = arg;
	int r;

	if (leaver_id != st->leaver) {
		if ((r = s_flush(st)) < 0)
			return r;
		st->leaver = leaver_id;
	}
	return ctl_consents_push(k, leaver_id, &st->group);
}

int ctl_consent_list(struct req_ctx *c)
{
	const Overstapctl__ConsentQuery *q = c->req->consent_list;
	Overstapctl__ConsentList *out = ctl_keep(&c->pool, calloc(1, sizeof(*out)));
	struct list_state st = { .c = c, .due = q->due, .leaver = -1, .out = { .c = c } };
	int64_t only = -1;
	int r;

	if (!out)
		return -ENOMEM;
	date_today(st.today);
	st.horizon = q->horizon_days ? (int)q->horizon_days : DUE_HORIZON_DAYS;
	if (q->pupil_ref[0]) {
		struct leaver l = { 0 };

		r = store_leaver_find(c->h->store, q->pupil_ref, 0, &l);
		only = l.id;
		store_leaver_clear(&l);
		if (r < 0)
			return r == -ENOENT ? ctl_fail(c, r, "%s: no such pupil", q->pupil_ref)
					    : ctl_fail(c, r, "%s: %s", q->pupil_ref, strerror(-r));
	}
	r = store_consents_each(c->h->store, only, s_collect, &st);
	if (r == 0)
		r = s_flush(&st);
	free(st.group.v);
	if ((r = ctl_list_finish(&st.out, r, "cannot list consents")) < 0)
		return r;
	overstapctl__consent_list__init(out);
	out->rows = (Overstapctl__ConsentRow **)st.out.rows;
	out->n_rows = st.out.n;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_CONSENT_LIST;
	c->rep->consent_list = out;
	return 0;
}
