/* control_erase: `overstap erase` (the right to erasure, by crypto-shredding)
 * and `overstap subject` (the right of access: everything held on a pupil,
 * decrypted for the operator who must hand it over). Both are audited. */
#include "audit.h"
#include "control_int.h"
#include "crypto.h"
#include "erasure.h"
#include "jdetail.h"
#include "pgn.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At the school: withdraw every consent, tell the receiver, shred. */
static int s_erase_leaver(struct req_ctx *c, struct leaver *l, Overstapctl__Erased *res)
{
	struct ctl_consents ks = { 0 };
	unsigned events = 0, cancelled = 0, withdrawn = 0;
	char today[11], peer[7] = "", buf[32];
	const char *subj = ctl_leaver_subject(l, buf);
	int r;

	date_today(today);
	if ((r = store_consents_each(c->h->store, l->id, ctl_consents_push, &ks)) < 0)
		goto out;
	if ((r = store_begin(c->h->store)) < 0)
		goto out;
	for (size_t i = 0; i < ks.n && r == 0; i++) {
		if (ks.v[i].withdrawn_at[0])
			continue;
		str_copy(ks.v[i].withdrawn_at, sizeof(ks.v[i].withdrawn_at), today);
		if ((r = store_consent_withdraw(c->h->store, ks.v[i].id, today, c->user)) == 0)
			r = store_auditf(c->h->store, c->user, "consent.withdrawn", subj,
					  ks.v[i].counterpart, "{s:s, s:s}", "consent_id", ks.v[i].id,
					  "reason", "erasure");
		withdrawn++;
	}
	/* every consent the receiver may hold, withdrawn now or before */
	if (r == 0)
		r = erasure_withdrawal_queue(c->h, l, ks.v, ks.n, "erased", today, c->user, peer);
	if (r == 0)
		r = store_leaver_erase(c->h->store, l, time_now_ms(), &events, &cancelled);
	if (r == 0) {
		r = store_auditf(c->h->store, c->user, "pupil.erased", subj, peer,
				  "{s:I, s:I, s:I, s:s}", "consents_withdrawn", (json_int_t)withdrawn,
				  "events_deleted", (json_int_t)events,
				  "messages_cancelled", (json_int_t)cancelled, "told", peer);
	}
	/* The reply's strings before the commit (test_fault_control.c): after
	 * it, a failed allocation answered "nothing erased" for an erasure done
	 * (or a NULL record id crashed the daemon). */
	if (r == 0 && (!(res->record_id = ctl_strdup(&c->pool, l->record_id)) ||
		       !(res->withdrawal_to = ctl_strdup(&c->pool, peer))))
		r = -ENOMEM;
	if (r == 0)
		r = store_commit(c->h->store);
	else
		store_rollback(c->h->store);
	if (r < 0)
		goto out;
	res->consents_withdrawn = withdrawn;
	res->events_deleted = events;
	res->messages_cancelled = cancelled;
out:
	free(ks.v);
	return r;
}

/* [in tx] The MBO's enrolment rows in ids: erased as the dossier is
 * (design.md §3.10), each audited without a PGN. */
static int s_erase_enrolments(struct req_ctx *c, const int64_t *ids, size_t n,
			      Overstapctl__Erased *res)
{
	char subj[32];
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		if ((r = store_enrolment_erase(c->h->store, ids[i], "erase", time_now_ms())) == 1) {
			r = 0;
			continue;
		}
		snprintf(subj, sizeof(subj), "enrolment:%lld", (long long)ids[i]);
		if (r == 0 && (r = store_auditf(c->h->store, c->user, "enrolment.erased", subj, "",
						"{s:s}", "side", "receiving")) == 0)
			res->enrolments_erased++;
	}
	return r;
}

static int s_enrolment_id_cb(const struct enrolment_row *e, void *arg)
{
	struct { int64_t *v; size_t n, cap; } *ids = arg;

	if (e->erased_at)
		return 0;
	if (ids->n == ids->cap) {
		int64_t *v = realloc(ids->v, (ids->cap = ids->cap ? 2 * ids->cap : 8) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ids->v = v;
	}
	ids->v[ids->n++] = e->id;
	return 0;
}

/* At the MBO, by PGN: the enrolment rows of the pupil (a student without a
 * dossier is known by nothing else). */
static int s_erase_pgn(struct req_ctx *c, const char *pgn, Overstapctl__Erased *res)
{
	struct { int64_t *v; size_t n, cap; } ids = { 0 };
	int r = store_begin(c->h->store);

	if (r == 0)
		r = store_enrolments_of_pgn(c->h->store, pgn, s_enrolment_id_cb, &ids);
	if (r == 0 && ids.n == 0)
		r = -ENOENT;
	if (r == 0)
		r = s_erase_enrolments(c, ids.v, ids.n, res);
	if (r == 0)
		r = store_commit(c->h->store);
	else
		store_rollback(c->h->store);
	free(ids.v);
	return r;
}

/* At the receiver: shred a received dossier and our timeline of it, and the
 * enrolment rows linked to it. */
static int s_erase_received(struct req_ctx *c, const char *record_id, const char *sender,
			    Overstapctl__Erased *res)
{
	unsigned events = 0;
	int64_t *ids = NULL;
	size_t n = 0;
	int r = store_begin(c->h->store);

	if (r == 0)
		r = store_enrolments_of_record(c->h->store, record_id, &ids, &n);
	if (r == 0)
		r = s_erase_enrolments(c, ids, n, res);
	free(ids);
	if (r == 0)
		r = store_inbox_erase(c->h->store, record_id, "erase", time_now_ms());
	if (r == 0)
		r = store_events_delete(c->h->store, record_id, &events);
	if (r == 0) {
		r = store_auditf(c->h->store, c->user, "dossier.erased", record_id, sender,
				  "{s:s, s:I}", "side", "receiving", "events_deleted", (json_int_t)events);
	}
	if (r == 0 && !(res->record_id = ctl_strdup(&c->pool, record_id)))
		r = -ENOMEM;	/* before the commit, as in s_erase_leaver */
	if (r == 0)
		r = store_commit(c->h->store);
	else
		store_rollback(c->h->store);
	res->events_deleted = events;
	res->received_dossier = 1;
	return r;
}

int ctl_erase(struct req_ctx *c)
{
	const char *key = c->req->erase->key;
	Overstapctl__Erased *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	struct leaver l = { 0 };
	char sender[7] = "";
	int erased = 0, r;

	if (!res)
		return -ENOMEM;
	overstapctl__erased__init(res);
	r = store_leaver_find(c->h->store, key, 0, &l);
	if (r == 0) {
		r = s_erase_leaver(c, &l, res);
	} else if (r == -ENOENT && crypto_uuid_valid(key) &&
		   (r = store_inbox_state(c->h->store, key, sender, &erased)) == 0) {
		r = erased ? -EALREADY : s_erase_received(c, key, sender, res);
	} else if (r == -ENOENT && pgn_check(key, NULL) == 0) {
		r = s_erase_pgn(c, key, res);	/* the MBO's enrolment list */
	}
	store_leaver_clear(&l);
	if (r == -ENOENT)
		return ctl_fail(c, r, "%s: no pupil with this number, no received record with this id "
				"and no enrolment with this PGN", pgn_check(key, NULL) == 0 ? "PGN" : key);
	if (r == -EALREADY)
		return ctl_fail(c, r, "%s: erased already", key);
	if (r < 0)
		return ctl_fail(c, r, "nothing erased: %s", strerror(-r));
	/* outside the transaction: fold the WAL in, so no page with the old
	 * wrapped key survives in the -wal file */
	if ((r = store_checkpoint_wal(c->h->store)) < 0)
		log_warn("cannot truncate the WAL after an erasure: %s", strerror(-r));
	else if (r > 0)
		log_notice("the WAL is truncated after this erasure once the store backup or "
			   "check under way ends");
	log_notice("user %s erased %s", c->user, res->record_id[0] ? res->record_id : "a pupil");
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_ERASED;
	c->rep->erased = res;
	return 0;
}

/* ---- subject access ---- */

struct s_subject {
	struct req_ctx *c;
	Overstapctl__Subject *out;
	struct ctl_list sent, received, consents, audit, regs, enrolments;
	char today[11];
	const char *ref;		/* the pupil_ref of the leaver being reported */
};

static int s_audit_cb(const struct audit_entry *e, void *arg)
{
	struct s_subject *st = arg;

	return ctl_list_push(&st->audit, ctl_audit_json(&st->c->pool, e));
}

static int s_subject_audit(struct s_subject *st, const char *subject)
{
	int r = audit_subject_each(store_audit_peek(st->c->h->store), subject, s_audit_cb, st);

	if (r == 0)
		r = store_audit(st->c->h->store, st->c->user, "subject.access", subject, "", "{}");
	return r;
}

static int s_consent_cb(const struct consent *k, int64_t leaver_id, void *arg)
{
	struct s_subject *st = arg;

	(void)leaver_id;
	return ctl_list_push(&st->consents, ctl_consent_row(st->c, k, st->ref, st->today, NULL));
}

static int s_subject_leaver(struct s_subject *st, struct leaver *l)
{
	Overstapctl__HandoverDetail *det = NULL;
	char subj[32];
	int r;

	st->ref = l->pupil_ref;
	if ((r = ctl_handover_detail(st->c, l, &det)) < 0 || (r = ctl_list_push(&st->sent, det)) < 0 ||
	    (r = store_consents_each(st->c->h->store, l->id, s_consent_cb, st)) < 0)
		return r;
	/* entries from before the dossier left name the row, later ones the record */
	snprintf(subj, sizeof(subj), "leaver:%lld", (long long)l->id);
	if ((r = s_subject_audit(st, subj)) < 0)
		return r;
	return l->record_id[0] ? s_subject_audit(st, l->record_id) : 0;
}

/* One row of the MBO's enrolment list, and the audit entries about it. */
static int s_subject_enrolment_cb(const struct enrolment_row *e, void *arg)
{
	struct s_subject *st = arg;
	struct pool *pool = &st->c->pool;
	Overstapctl__EnrolmentInfo *o = ctl_keep(pool, calloc(1, sizeof(*o)));
	const char *prev = vocab_program_str(e->previous);
	char subj[32];

	if (!o)
		return -ENOMEM;
	overstapctl__enrolment_info__init(o);
	o->level = (uint32_t)e->level;
	o->start_date = ctl_strdup(pool, e->start_date);
	o->previous = (char *)(prev ? prev : "");
	o->record_id = ctl_strdup(pool, e->record_id);
	o->imported_at = e->imported_at;
	if (!o->start_date || !o->record_id || ctl_list_push(&st->enrolments, o) < 0)
		return -ENOMEM;
	snprintf(subj, sizeof(subj), "enrolment:%lld", (long long)e->id);
	return s_subject_audit(st, subj);
}

static int s_subject_received(struct s_subject *st, const char *record_id)
{
	Overstapctl__InboxDetail *det = NULL;
	int r;

	if ((r = ctl_inbox_detail(st->c, record_id, &det)) < 0 || (r = ctl_list_push(&st->received, det)) < 0)
		return r;
	return s_subject_audit(st, record_id);
}

/* A registration this receiver sent about the pupil, once (a PGN and a
 * record id of the same pupil find it both), with its audit entries. */
static int s_regsent_cb(const struct regsent *g, void *arg)
{
	struct s_subject *st = arg;
	int r;

	for (size_t i = 0; i < st->regs.n; i++)
		if (strcmp(((Overstapctl__RegistrationSent *)st->regs.rows[i])->message_id,
			   g->message_id) == 0)
			return 0;
	if ((r = ctl_list_push(&st->regs, ctl_regsent_row(st->c, g))) < 0)
		return r;
	return s_subject_audit(st, g->message_id);
}

/* Who holds the report, and the names of the institutions it mentions, so
 * that a parent reads names rather than institution ids. */
static int s_subject_names(struct s_subject *st)
{
	const struct config *cfg = st->c->h->cfg;
	struct pool *p = &st->c->pool;
	Overstapctl__PeerName **v;

	st->out->institution = ctl_strdup(p, cfg->institution_id);
	st->out->institution_name = ctl_strdup(p, cfg->institution_name);
	if (!st->out->institution || !st->out->institution_name)
		return -ENOMEM;
	if (!cfg->n_peers)
		return 0;
	if (!(v = ctl_keep(p, calloc(cfg->n_peers, sizeof(Overstapctl__PeerName *)))))
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (!(v[i] = ctl_keep(p, calloc(1, sizeof(*v[i])))))
			return -ENOMEM;
		overstapctl__peer_name__init(v[i]);
		v[i]->id = ctl_strdup(p, cfg->peers[i].id);
		v[i]->name = ctl_strdup(p, cfg->peers[i].name);
		if (!v[i]->id || !v[i]->name)
			return -ENOMEM;
	}
	st->out->peers = v;
	st->out->n_peers = cfg->n_peers;
	return 0;
}

int ctl_subject(struct req_ctx *c)
{
	const char *key = c->req->subject->key;
	struct s_subject st = { .c = c, .sent = { .c = c }, .received = { .c = c },
				.consents = { .c = c }, .audit = { .c = c }, .regs = { .c = c },
				.enrolments = { .c = c } };
	struct strlist recs = { 0 };
	struct leaver l = { 0 };
	int is_pgn = pgn_check(key, NULL) == 0, is_uuid = crypto_uuid_valid(key), r;
	char sender[7];
	int erased;

	if (!(st.out = ctl_keep(&c->pool, calloc(1, sizeof(*st.out)))))
		return -ENOMEM;
	overstapctl__subject__init(st.out);
	date_today(st.today);
	/* one transaction: the report and its audit entries are one snapshot */
	if ((r = store_begin(c->h->store)) < 0)
		return ctl_fail(c, r, "cannot read the store: %s", strerror(-r));
	r = store_leaver_find(c->h->store, key, 1, &l);
	if (r == -ENOENT && is_pgn)
		r = store_leaver_by_pgn(c->h->store, key, 1, &l);
	if (r == -ENOENT && is_uuid)
		r = store_leaver_by_record(c->h->store, key, 1, &l);
	if (r == 0)
		r = s_subject_leaver(&st, &l);
	store_leaver_clear(&l);
	if (r == -ENOENT)
		r = 0;
	if (r == 0 && is_pgn)
		r = store_inbox_by_pgn(c->h->store, key, &recs);
	if (r == 0 && is_pgn)
		r = store_enrolments_of_pgn(c->h->store, key, s_subject_enrolment_cb, &st);
	if (r == 0 && is_uuid && store_inbox_state(c->h->store, key, sender, &erased) == 0)
		r = strlist_addf(&recs, "%s", key);
	for (size_t i = 0; r == 0 && i < recs.n; i++)
		r = s_subject_received(&st, recs.v[i]);
	/* registrations sent: by the PGN, and by the pupil of each dossier */
	if (r == 0 && is_pgn)
		r = store_regsent_by_pgn(c->h->store, key, s_regsent_cb, &st);
	for (size_t i = 0; r == 0 && i < recs.n; i++)
		r = store_regsent_by_record(c->h->store, recs.v[i], s_regsent_cb, &st);
	strlist_clear(&recs);
	if (r == 0)
		r = s_subject_names(&st);
	if (r == 0 && st.sent.n == 0 && st.received.n == 0 && st.regs.n == 0 &&
	    st.enrolments.n == 0)
		r = ctl_fail(c, -ENOENT, "%s: nothing held about this pupil number, PGN or record id",
			     key);
	/* the row arrays go to the pool whatever happened */
	if ((ctl_list_finish(&st.sent, 0, NULL) | ctl_list_finish(&st.received, 0, NULL) |
	     ctl_list_finish(&st.consents, 0, NULL) | ctl_list_finish(&st.audit, 0, NULL) |
	     ctl_list_finish(&st.regs, 0, NULL) | ctl_list_finish(&st.enrolments, 0, NULL)) != 0 &&
	    r == 0)
		r = -ENOMEM;
	st.out->registrations = (Overstapctl__RegistrationSent **)st.regs.rows;
	st.out->n_registrations = st.regs.n;
	st.out->enrolments = (Overstapctl__EnrolmentInfo **)st.enrolments.rows;
	st.out->n_enrolments = st.enrolments.n;
	st.out->sent = (Overstapctl__HandoverDetail **)st.sent.rows;
	st.out->n_sent = st.sent.n;
	st.out->received = (Overstapctl__InboxDetail **)st.received.rows;
	st.out->n_received = st.received.n;
	st.out->consents = (Overstapctl__ConsentRow **)st.consents.rows;
	st.out->n_consents = st.consents.n;
	st.out->audit = (char **)st.audit.rows;
	st.out->n_audit = st.audit.n;
	if (r == 0)
		r = store_commit(c->h->store);
	if (r < 0) {
		store_rollback(c->h->store);
		if (c->rep->error && c->rep->error[0])
			return r;
		return ctl_fail(c, r, "cannot produce the report: %s", strerror(-r));
	}
	log_notice("user %s ran a subject access report", c->user);
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_SUBJECT;
	c->rep->subject = st.out;
	return 0;
}
