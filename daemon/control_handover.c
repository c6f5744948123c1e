/* control_handover: `handover inzage` and `handover send`: the gate, the decision, the dossier. */
#include "consent.h"
#include "control_int.h"
#include "envelope.h"
#include "jdetail.h"
#include "outbox.h"
#include "vocab.h"
#include "i18n.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Record inzage of one pupil; returns 0 or a reason in `why`. z->reviewer
 * and z->date are checked already, the pupil's age on that date here. */
static int s_inzage_one(struct req_ctx *c, const char *ref, const struct store_inzage *z,
			char *why, size_t whylen)
{
	Overstap__Reviewer who = (Overstap__Reviewer)z->reviewer;
	const char *date = z->date;
	struct leaver l = { 0 };
	int r, age;

	r = store_leaver_find(c->h->store, ref, 1, &l);
	if (r == -ENOENT) {
		snprintf(why, whylen, _("%s: no such pupil"), ref);
		return r;
	}
	if (r < 0 || !l.priv) {
		snprintf(why, whylen, _("%s: personal data unavailable"), ref);
		store_leaver_clear(&l);
		return r < 0 ? r : -ENOKEY;
	}
	/* design.md §3: parents see the dossier of a pupil under 16, the pupil from 16. */
	age = date_age_on(l.priv->birth_date, date);
	if (age < 0) {
		snprintf(why, whylen, _("%s: %s is before the pupil's birth date"), ref, date);
		r = -EPERM;
	} else if (age < 16 && who == OVERSTAP__REVIEWER__REVIEWER_PUPIL) {
		snprintf(why, whylen, _("%s: the pupil is %d on %s: inzage is by a parent or guardian"),
			 ref, age, date);
		r = -EPERM;
	} else if (age >= 16 && who != OVERSTAP__REVIEWER__REVIEWER_PUPIL) {
		snprintf(why, whylen, _("%s: the pupil is %d on %s: from 16 the pupil does the inzage"),
			 ref, age, date);
		r = -EPERM;
	} else if (l.state != LEAVER_IMPORTED) {
		snprintf(why, whylen, _("%s: the dossier has already been sent"), ref);
		r = -EALREADY;
	} else {
		char subj[32];

		/* the remarks and the family's view stay out of the log (whether they
		 * agree is no secret to the audit); the date was typed (checked as
		 * a date) */
		r = store_leaver_set_inzage(c->h->store, l.id, z);
		if (r == 0)
			r = store_auditf(c->h->store, c->user, "inzage.recorded",
					  ctl_leaver_subject(&l, subj), "", "{s:s, s:o, s:s}", "reviewer",
					  vocab_reviewer_str(who) ? vocab_reviewer_str(who) : "?",
					  "date", jdetail_text(date), "agrees",
					  vocab_yesno_str(z->agrees) ? vocab_yesno_str(z->agrees) : "?");
		if (r < 0)
			snprintf(why, whylen, "%s: %s", ref, strerror(-r));
	}
	store_leaver_clear(&l);
	return r;
}

/* Codes that refuse one pupil and let the others through. */
static int s_item_refused(int r)
{
	return r == -ENOENT || r == -EPERM || r == -EALREADY || r == -ENOKEY;
}

/* Why the agreement part of an inzage request cannot be recorded, or NULL.
 * OSO inzage rules: they are asked whether they agree; when they do not,
 * their view (zienswijze) is what travels with the dossier, so "no" needs it
 * and "yes" has none. Disagreement never stops the send. */
static const char *s_agreement_bad(Overstap__Tristate agrees, const char *disagreement)
{
	if (agrees != OVERSTAP__TRISTATE__TRI_YES && agrees != OVERSTAP__TRISTATE__TRI_NO)
		return "agrees must be yes or no: do they agree with the dossier?";
	if (agrees == OVERSTAP__TRISTATE__TRI_NO && !disagreement[0])
		return "they do not agree: record why (their view travels with the dossier)";
	if (agrees == OVERSTAP__TRISTATE__TRI_YES && disagreement[0])
		return "a disagreement is recorded only when they do not agree";
	return NULL;
}

/* Free text that travels in the dossier must pass the receiver's rule
 * (envelope.c, text_check with TEXT_LINES): a dossier it refuses would
 * otherwise be found out only after sending. */
static int s_inzage_text(struct req_ctx *c, const char *field, const char *s)
{
	enum text_bad bad = text_check(s, ENV_MAX_REMARKS, TEXT_LINES);

	if (bad == TEXT_TOO_LONG)
		return ctl_fail(c, -EINVAL, "%s are longer than %d bytes", field, ENV_MAX_REMARKS);
	if (bad != TEXT_OK)
		return ctl_fail(c, -EINVAL, "%s: %s", field, text_reason(bad));
	return 0;
}

int ctl_inzage(struct req_ctx *c)
{
	const Overstapctl__RecordInzage *z = c->req->inzage;
	Overstap__Reviewer who = vocab_reviewer_from_str(z->reviewer);
	Overstapctl__ImportResult *res = ctl_marked_new(c);
	struct store_inzage rec = { .reviewer = who, .date = z->date, .remarks = z->remarks,
				    .agrees = vocab_yesno_from_str(z->agrees),
				    .disagreement = z->disagreement, .user = c->user };
	const char *bad;
	char today[11];
	int r;

	date_today(today);
	if (!rec.date[0])
		rec.date = today;
	if (!res)
		return -ENOMEM;
	if (!who)
		return ctl_fail(c, -EINVAL, "reviewer must be pupil, parent or guardian");
	if (!date_valid(rec.date, NULL, NULL, NULL) || strcmp(rec.date, today) > 0)
		return ctl_fail(c, -EINVAL, "date %s is not a valid date on or before today",
				rec.date);
	if ((bad = s_agreement_bad(rec.agrees, rec.disagreement)))
		return ctl_fail(c, -EINVAL, "%s", bad);
	if ((r = s_inzage_text(c, "remarks", rec.remarks)) < 0 ||
	    (r = s_inzage_text(c, "the reasons for disagreeing", rec.disagreement)) < 0)
		return r;
	res->errors = ctl_keep(&c->pool, calloc(z->n_pupil_refs + 1, sizeof(char *)));
	if (!res->errors || (r = store_begin(c->h->store)) < 0)
		return ctl_fail(c, -EIO, "cannot write to the store");
	for (size_t i = 0; i < z->n_pupil_refs; i++) {
		char why[512];

		r = s_inzage_one(c, z->pupil_refs[i], &rec, why, sizeof(why));
		if (r == 0)
			res->imported++;
		else if (!s_item_refused(r))
			break;
		else if (!(res->errors[res->n_errors++] = ctl_strdup(&c->pool, why))) {
			r = -ENOMEM;	/* a NULL in the reply: the daemon could not pack it */
			break;
		}
	}
	if ((r = ctl_commit_all(c, s_item_refused(r) ? 0 : r, res)) < 0)
		return r;
	log_notice("user %s recorded inzage by %s for %u pupils", c->user, z->reviewer,
		   res->imported);
	return 0;
}

/* Why this leaver may not be sent now (design.md §3, purpose handover), or
 * NULL; in the caller's language: it goes only into the reply (§10). */
static const char *s_gate(struct hctx *h, const struct leaver *l)
{
	const struct peer_cfg *pc;

	if (l->state != LEAVER_IMPORTED)
		return l->state == LEAVER_CANCELLED ? _("the handover was cancelled")
						    : _("the dossier has already been sent");
	if (!l->priv)
		return _("the pupil's personal data has been erased");
	if (!l->destination_institution[0])
		return _("no destination institution");
	pc = config_peer_find(h->cfg, l->destination_institution);
	if (!pc || !pc->endpoint[0])
		return _("the destination is not a configured peer with an endpoint");
	if (!l->registered_on[0])
		return _("not registered at the destination yet (no selection at the gate: "
			 "record it with 'overstap handover registered')");
	if (!l->inzage_on[0])
		return _("no inzage recorded yet ('overstap handover inzage')");
	return NULL;
}

/* The dossier, its pointers borrowed from l (which must hold priv). */
void ctl_dossier(const struct leaver *l, const char *record_id, Overstap__Handover *h,
		      Overstap__Inzage *z)
{
	overstap__handover__init(h);
	overstap__inzage__init(z);
	h->record_id = (char *)record_id;
	h->pgn = l->priv->pgn;
	h->given_name = l->priv->given_name;
	h->tussenvoegsel = l->priv->tussenvoegsel;
	h->family_name = l->priv->family_name;
	h->birth_date = l->priv->birth_date;
	h->program = l->program;
	h->cohort = (char *)l->cohort;
	h->exit_date = (char *)l->exit_date;
	h->destination = l->destination;
	h->advice = l->advice;
	h->advice_followed = l->advice_followed;
	h->level_taal = l->level_taal;
	h->level_rekenen = l->level_rekenen;
	h->diploma = l->priv->diploma;
	h->n_support_needs = l->priv->n_support_needs;
	h->support_needs = l->priv->support_needs;
	h->mentor = l->priv->mentor;
	if (l->inzage_on[0]) {
		z->reviewer = l->inzage_reviewer;
		z->reviewed_on = (char *)l->inzage_on;
		z->remarks = l->priv->inzage_remarks;
		z->recorded_by = (char *)l->inzage_recorded_by;
		z->agrees = l->inzage_agrees;
		z->disagreement = l->priv->inzage_disagreement;
		h->inzage = z;
	}
	h->basis = "statute";	/* WVO/WEB overstapgegevens; s_queue_one sets what was decided */
	h->registered_on = (char *)l->registered_on;
}

/* The consents in force for this recipient travel with the dossier, so the
 * receiver can check the basis and later report back (follow_up) only while
 * one holds. */
struct dossier_extra {
	Overstap__ConsentAssertion a[ENV_MAX_CONSENTS];
	Overstap__ConsentAssertion *ap[ENV_MAX_CONSENTS];
	Overstap__SupportNeed needs[ENV_MAX_SUPPORT_NEEDS];
	Overstap__SupportNeed *np[ENV_MAX_SUPPORT_NEEDS];
	int handover_consent;		/* a handover consent is among them */
};

static void s_assertions(Overstap__Handover *h, struct dossier_extra *x, const struct consent *v,
			 size_t n, const char *to, const char *today)
{
	static const int purposes[] = { CONSENT_PURPOSE_HANDOVER, CONSENT_PURPOSE_FOLLOW_UP };

	for (size_t i = 0; i < n && h->n_consents < ENV_MAX_CONSENTS; i++) {
		Overstap__ConsentAssertion *a = &x->a[h->n_consents];
		int in = 0;

		for (size_t p = 0; p < ARRAY_SIZE(purposes); p++)
			in |= consent_in_force(&v[i], purposes[p], to, today);
		if (!in)
			continue;
		envelope_assertion_from(a, &v[i]);
		x->handover_consent |= v[i].purpose == CONSENT_PURPOSE_HANDOVER;
		x->ap[h->n_consents++] = a;
	}
	h->consents = x->ap;
}

/* design.md §3: free-text care notes are consent-based. Without a handover consent
 * the codes go (statute), the notes stay here. */
static void s_withhold_notes(Overstap__Handover *h, struct dossier_extra *x)
{
	size_t n = h->n_support_needs < ENV_MAX_SUPPORT_NEEDS ? h->n_support_needs
							       : ENV_MAX_SUPPORT_NEEDS;

	for (size_t i = 0; i < n; i++) {
		x->needs[i] = *h->support_needs[i];
		x->needs[i].note = "";
		x->np[i] = &x->needs[i];
	}
	h->n_support_needs = n;
	h->support_needs = x->np;
}

static int s_disclosure_audit(struct hctx *h, const char *user, const struct leaver *l,
			      const Overstap__Handover *ho, const struct consent_decision *dec,
			      const char *record_id, const char *mid, int notes)
{
	/* the disclosure: what, to whom, on which basis (design.md §5); the consent
	 * id is one of ours (store_consent_add), the basis a name of consent.c */
	return store_auditf(h->store, user, "disclosure.queued", record_id,
			     l->destination_institution, "{s:s, s:s, s:s, s:I, s:s, s:s}",
			     "purpose", "handover", "basis", ho->basis, "consent_id", dec->consent_id,
			     "consents_asserted", (json_int_t)ho->n_consents,
			     "care_notes", notes ? "included" : "withheld", "message_id", mid);
}

/* Build and queue the dossier of one gated leaver (inside a transaction and
 * an outbox group: signed with the group; parked, OUTBOX_PARKED_LEN bytes,
 * says why it was parked once the group is stored). */
static int s_queue_one(struct hctx *h, const char *user, const struct leaver *l,
		       const struct consent_decision *dec, const struct consent *v, size_t n,
		       int64_t now, char *parked)
{
	Overstap__Handover ho;
	Overstap__Inzage z;
	struct dossier_extra *x = calloc(1, sizeof(*x));
	struct outbox_item it = { .peer = l->destination_institution,
				  .body_case = OVERSTAP__ENVELOPE__BODY_HANDOVER, .key_id = l->key_id };
	char record_id[CRYPTO_UUID_STR_LEN + 1], mid[CRYPTO_UUID_STR_LEN + 1], today[11];
	uint8_t *body = NULL;
	size_t blen = 0;
	int r;

	if (!x)
		return -ENOMEM;
	if ((r = crypto_uuidv7(record_id)) < 0)
		goto out;
	date_today(today);
	ctl_dossier(l, record_id, &ho, &z);
	ho.basis = (char *)consent_basis_str(dec->basis);
	s_assertions(&ho, x, v, n, l->destination_institution, today);
	if (!x->handover_consent)
		s_withhold_notes(&ho, x);
	blen = overstap__handover__get_packed_size(&ho);
	body = malloc(blen ? blen : 1);
	r = -ENOMEM;
	if (!body)
		goto out;
	overstap__handover__pack(&ho, body);
	it.body = body;
	it.blen = blen;
	it.parked = parked;
	for (size_t i = 0; dec->consent_id[0] && i < n; i++)
		if (strcmp(v[i].id, dec->consent_id) == 0) {	/* re-checked at every send */
			it.consent_id = v[i].id;
			it.until = v[i].valid_until;
		}
	r = outbox_queue(h, &it, mid);
	if (r == 0)
		r = store_leaver_set_queued(h->store, l->id, record_id, mid, now);
	if (r == 0)
		r = s_disclosure_audit(h, user, l, &ho, dec, record_id, mid, x->handover_consent);
	crypto_wipe(body, blen);
out:
	free(body);
	crypto_wipe(x, sizeof(*x));
	free(x);
	return r;
}

/* Audit a denied disclosure with its reason (design.md §3: every check). */
static int s_audit_denied(struct req_ctx *c, const struct leaver *l, const char *purpose,
			  const char *reason)
{
	char subj[32];

	/* the reason quotes stored consent fields: text, not ours to trust */
	return store_auditf(c->h->store, c->user, "disclosure.denied",
			     ctl_leaver_subject(l, subj), l->destination_institution, "{s:s, s:o}",
			     "purpose", purpose, "reason", jdetail_text(reason));
}

/* Gate one pupil and queue its dossier (in the chunk's transaction): the
 * ref goes to the reply's queued or refused list; parked (OUTBOX_PARKED_LEN
 * bytes) says, once the chunk's group is stored, why it was parked. */
static int s_send_one(struct req_ctx *c, struct leaver *l, const char *ref, Overstapctl__SendResult *res,
		      int64_t now, char *parked)
{
	struct ctl_consents pc = { 0 };	/* for the decision of this send */
	struct consent_decision dec = { 0 };
	const char *why = s_gate(c->h, l);
	char buf[512], today[11];
	int r = 0;

	date_today(today);
	if (!why && (r = store_consents_each(c->h->store, l->id, ctl_consents_push, &pc)) == 0) {
		int basis = strcmp(c->h->cfg->policy_handover, "consent") == 0 ? BASIS_CONSENT
										  : BASIS_STATUTE;

		if (!consent_decide(basis, pc.v, pc.n, CONSENT_PURPOSE_HANDOVER,
				    l->destination_institution, today, &dec)) {
			why = dec.reason;
			r = s_audit_denied(c, l, "handover", dec.reason);
		}
	}
	/* A reply string that cannot be kept fails the whole chunk, inside the
	 * transaction (test_fault_control.c): a NULL in the reply crashed the
	 * daemon packing it, after the dossier was committed to the outbox. */
	if (r == 0 && !why) {
		r = s_queue_one(c->h, c->user, l, &dec, pc.v, pc.n, now, parked);
		if (r == 0 && !(res->queued[res->n_queued++] = ctl_strdup(&c->pool, ref)))
			r = -ENOMEM;
	} else if (r == 0) {
		snprintf(buf, sizeof(buf), "%s: %s", ref, why);
		if (!(res->refused[res->n_refused++] = ctl_strdup(&c->pool, buf)))
			r = -ENOMEM;
	}
	free(pc.v);
	return r;
}

/* A `handover send` under way (issue 14, design.md §4.9): its pupils are
 * gated and queued SEND_CHUNK to a transaction, one outbox group (one
 * signature) each, and the daemon's loop runs between chunks: the network
 * sends the first chunk while the next is built, other requests are
 * answered, and a consent withdrawn meanwhile holds for the chunks after. */
#define SEND_CHUNK OUTBOX_GROUP_MAX
struct send_job {
	int64_t *ids;			/* --all-ready: the leavers ready when it began */
	size_t n, next;			/* pupils, and the first of the next chunk */
	int done;			/* the last step ran (else the daemon stopped it) */
	char parked[SEND_CHUNK][OUTBOX_PARKED_LEN];	/* the chunk's queued, in order */
};

/* Gate and queue pupils next.. of the job in one transaction: all or
 * nothing. On failure the reply lists what the chunks before queued. */
static int s_send_chunk(struct req_ctx *c, struct send_job *j)
{
	const Overstapctl__SendHandovers *s = c->req->send;
	Overstapctl__SendResult *res = c->rep->send_result;
	size_t q0 = res->n_queued, f0 = res->n_refused, p0 = res->n_parked;
	size_t end = j->n - j->next > SEND_CHUNK ? j->next + SEND_CHUNK : j->n;
	int64_t now = time_now_ms();
	struct leaver *ls = NULL;	/* --all-ready: the chunk's leavers, read at once */
	int *lr = NULL;
	int r = store_begin(c->h->store);

	if (r == 0 && (r = outbox_group_begin(c->h)) < 0)
		store_rollback(c->h->store);
	if (r < 0)
		return r;
	/* Their personal parts opened on every core (issue 14, design.md §3.4,
	 * §4.6); nothing else runs on the loop until the chunk commits. */
	if (j->ids && (!(ls = calloc(end - j->next, sizeof(*ls))) ||
		       !(lr = calloc(end - j->next, sizeof(*lr)))))
		r = -ENOMEM;
	else if (j->ids)
		r = store_leavers_load_many(c->h->store, j->ids + j->next, end - j->next, 1, ls, lr);
	for (size_t i = j->next; i < end && r == 0; i++) {
		struct leaver l = { 0 };
		const char *ref = j->ids ? NULL : s->pupil_refs[i];
		int rf;

		if (ls && lr) {	/* --all-ready; taken over: ls[] keeps a cleared one */
			l = ls[i - j->next];
			memset(&ls[i - j->next], 0, sizeof(l));
			rf = lr[i - j->next];
		} else {
			rf = store_leaver_find(c->h->store, s->pupil_refs[i], 1, &l);
		}
		if (rf == -ENOENT) {
			char buf[256], lid[32] = "";

			/* a ready leaver is not deleted between chunks; say so all the same */
			if (j->ids)
				snprintf(lid, sizeof(lid), "leaver:%lld", (long long)j->ids[i]);
			snprintf(buf, sizeof(buf), _("%s: no such pupil"), ref ? ref : lid);
			if (!(res->refused[res->n_refused++] = ctl_strdup(&c->pool, buf)))
				r = -ENOMEM;
		} else if (rf < 0) {
			r = rf;
		} else {
			r = s_send_one(c, &l, ref ? ref : l.pupil_ref, res, now,
				       j->parked[res->n_queued - q0]);
		}
		store_leaver_clear(&l);
	}
	for (size_t i = 0; ls && i < end - j->next; i++)
		store_leaver_clear(&ls[i]);	/* those after a failure were not taken over */
	free(ls);
	free(lr);
	if (r == 0)
		r = outbox_group_end(c->h);	/* signed together, stored */
	else
		outbox_group_drop(c->h);
	for (size_t k = q0; r == 0 && k < res->n_queued; k++) {
		char buf[512];

		if (!j->parked[k - q0][0])
			continue;
		snprintf(buf, sizeof(buf), "%s: %s", res->queued[k], j->parked[k - q0]);
		if (!(res->parked[res->n_parked++] = ctl_strdup(&c->pool, buf)))
			r = -ENOMEM;
	}
	if (r == 0)
		r = store_commit(c->h->store);
	if (r < 0) {
		store_rollback(c->h->store);	/* this chunk only */
		res->n_queued = q0;
		res->n_refused = f0;
		res->n_parked = p0;
		return r;
	}
	j->next = end;
	return 0;
}

static int s_send_step(struct req_ctx *c)
{
	struct send_job *j = c->job;
	Overstapctl__SendResult *res = c->rep->send_result;
	int r = s_send_chunk(c, j);

	if (r == 0 && j->next < j->n)
		return 0;	/* c->step stays: the next chunk, next round */
	c->step = NULL;
	j->done = 1;
	if (r < 0 && j->next == 0) {	/* as before chunks: nothing was queued */
		res->n_queued = res->n_refused = res->n_parked = 0;
		return ctl_fail(c, r, "nothing queued: %s", strerror(-r));
	}
	if (r < 0) {	/* the chunks before stay queued; the reply lists them */
		log_warn("user %s's send stopped after %zu of %zu pupils (%zu queued): %s", c->user,
			 j->next, j->n, res->n_queued, strerror(-r));
		return ctl_fail(c, r, "the send stopped after %zu of %zu pupils (listed); the other "
				"%zu were not queued: %s. Send them again", j->next, j->n,
				j->n - j->next, strerror(-r));
	}
	log_notice("user %s queued %zu handovers (%zu refused)", c->user, res->n_queued,
		   res->n_refused);
	return 0;
}

static void s_send_job_free(struct req_ctx *c)
{
	struct send_job *j = c->job;

	if (!j->done)	/* the daemon stops: the chunks committed stay */
		log_notice("user %s's send was stopped after %zu of %zu pupils (%zu queued); "
			   "`handover send --all-ready` sends the rest", c->user, j->next, j->n,
			   c->rep->send_result->n_queued);
	free(j->ids);
	free(j);
}

int ctl_send(struct req_ctx *c)
{
	const Overstapctl__SendHandovers *s = c->req->send;
	Overstapctl__SendResult *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	struct send_job *j;
	int64_t *ids = NULL;
	size_t n = s->n_pupil_refs;
	int r;

	if (!res)
		return -ENOMEM;
	overstapctl__send_result__init(res);
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_SEND_RESULT;
	c->rep->send_result = res;
	if (s->all_ready && (r = store_leavers_ready(c->h->store, &ids, &n)) < 0)
		return ctl_fail(c, r, "cannot list ready dossiers: %s", strerror(-r));
	res->queued = ctl_keep(&c->pool, calloc(n + 1, sizeof(char *)));
	res->refused = ctl_keep(&c->pool, calloc(n + 1, sizeof(char *)));
	res->parked = ctl_keep(&c->pool, calloc(n + 1, sizeof(char *)));
	j = calloc(1, sizeof(*j));
	if (!res->queued || !res->refused || !res->parked || !j) {
		free(ids);
		free(j);
		return ctl_fail(c, -EIO, "cannot write to the store");
	}
	j->ids = ids;
	j->n = n;
	c->job = j;
	c->job_free = s_send_job_free;
	c->step = s_send_step;
	return s_send_step(c);	/* the first chunk now: a short send is answered at once */
}
