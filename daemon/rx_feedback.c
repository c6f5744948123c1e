/* rx_feedback: the Status, Outcome and Registration rows of the receive
 * table (docs/design.md §3, §4). Statuses and outcomes come back to the school
 * about a dossier it handed over; a registration tells the school that one of
 * its leavers registered at the sender. */
#include "rx_int.h"
#include "consent.h"
#include "envelope.h"
#include "jdetail.h"
#include "log.h"
#include "outcomes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The leaver a status or outcome is about: one we handed over to its sender.
 * *r gets a store failure (then NULL is returned): a failed lookup is no
 * answer about the record, and refusing would make the sender stop retrying
 * a message we could have applied (found by tests/unit/test_rx_feedback.c). */
static const char *s_leaver(struct hctx *h, const char *record_id, const char *sender,
			    struct leaver *l, int *r)
{
	*r = store_leaver_by_record(h->store, record_id, 0, l);
	if (*r == -ENOENT) {
		*r = 0;
		return "no handover with this record id";
	}
	if (*r < 0)
		return NULL;
	if (strcmp(l->destination_institution, sender) != 0 ||
	    (l->state != LEAVER_QUEUED && l->state != LEAVER_DELIVERED))
		return "no handover with this record id to the sender";
	return NULL;
}

/* design.md §3: an outcome comes back only under a follow_up consent that is ours,
 * for this pupil, for the sender (or anyone), and in force today. Our record
 * decides, not the assertion. */
static const char *s_outcome_consent(struct hctx *h, const struct leaver *l,
				     const Overstap__Outcome *o, const char *sender, int *r)
{
	struct consent k;
	int64_t lid = -1;
	char today[11];

	date_today(today);
	/* as in s_leaver: a store failure is not a missing consent */
	if ((*r = store_consent_get(h->store, o->consent->consent_id, &k, &lid)) < 0 && *r != -ENOENT)
		return NULL;
	*r = 0;
	if (lid != l->id ||
	    !consent_in_force(&k, CONSENT_PURPOSE_FOLLOW_UP, sender, today))
		return "outcome without a valid follow_up consent";
	return NULL;
}

/* Store one event (status or outcome) and audit it. 0 also for a retry of
 * one we hold; -errno when the store failed. */
static int s_event(struct hctx *h, const Overstap__Envelope *e, const char *record_id,
		   const char *name, const char *date, unsigned level, const char *consent_id)
{
	struct event_rec ev = { 0 };
	int r;

	str_copy(ev.message_id, sizeof(ev.message_id), e->message_id);
	str_copy(ev.record_id, sizeof(ev.record_id), record_id);
	ev.inbound = 1;
	str_copy(ev.peer, sizeof(ev.peer), e->sender);
	ev.event = outcome_event_from_str(name);
	str_copy(ev.date, sizeof(ev.date), date);
	ev.level = (int)level;
	str_copy(ev.consent_id, sizeof(ev.consent_id), consent_id);
	ev.at = time_now_ms();
	rx_actor(e->sender, ev.actor);
	if ((r = store_event_add(h->store, &ev)) != 0)
		return r < 0 ? r : 0;	/* 1: a retry of one we hold */
	/* a status has no consent_id key ("o*" leaves it out); an outcome must
	 * have one, so there a failed jdetail_text ("o", NULL) says -ENOMEM */
	return store_auditf(h->store, ev.actor, consent_id[0] ? "outcome.received" : "status.received",
			     record_id, e->sender,
			     consent_id[0] ? "{s:s, s:o, s:o, s:o}" : "{s:s, s:o, s:o, s:o*}",
			     "purpose", consent_id[0] ? "follow_up" : "status",
			     "event", jdetail_text(name), "date", jdetail_text(date),
			     "consent_id", consent_id[0] ? jdetail_text(consent_id) : NULL);
}

static void s_store_failed(const Overstap__Envelope *e, int r, int *failed)
{
	log_err("cannot store a %s from %s: %s", envelope_body_name(e->body_case), e->sender,
		strerror(-r));
	*failed = 1;
}

const char *rx_status(struct hctx *h, const struct rx_msg *m, int *failed)
{
	const Overstap__Envelope *e = m->e;
	Overstap__Status *st = NULL;
	struct leaver l = { 0 };
	const char *why = NULL;
	int r;

	if (envelope_status_unpack(envelope_body(e), &st, &why) < 0)
		return why;
	why = s_leaver(h, st->record_id, e->sender, &l, &r);
	if (!why && r == 0)
		r = s_event(h, e, st->record_id, st->status, st->date, 0, "");
	if (r < 0)
		s_store_failed(e, r, failed);
	store_leaver_clear(&l);
	overstap__status__free_unpacked(st, NULL);
	return why;
}

const char *rx_outcome(struct hctx *h, const struct rx_msg *m, int *failed)
{
	const Overstap__Envelope *e = m->e;
	Overstap__Outcome *o = NULL;
	struct leaver l = { 0 };
	const char *why = NULL;
	char actor[16];
	int r;

	if (envelope_outcome_unpack(envelope_body(e), &o, &why) < 0)
		return why;
	why = s_leaver(h, o->record_id, e->sender, &l, &r);
	if (!why && r == 0)
		why = s_outcome_consent(h, &l, o, e->sender, &r);
	if (r < 0)	/* the store failed: neither refused nor stored */
		why = NULL;
	else if (why)	/* a refused disclosure to us is audited like one of ours */
		r = store_auditf(h->store, rx_actor(e->sender, actor), "disclosure.refused",
				  o->record_id, e->sender, "{s:s, s:s}", "purpose", "follow_up",
				  "reason", "no valid follow_up consent");
	else
		r = s_event(h, e, o->record_id, o->outcome, o->date, o->level, o->consent->consent_id);
	if (r < 0)
		s_store_failed(e, r, failed);
	store_leaver_clear(&l);
	overstap__outcome__free_unpacked(o, NULL);
	return why;
}

/* A registration at the receiver: mark our leaver with that PGN registered,
 * the normal path to a sendable dossier. */
const char *rx_registration(struct hctx *h, const struct rx_msg *m, int *failed)
{
	const Overstap__Envelope *e = m->e;
	Overstap__Registration *g = NULL;
	struct leaver l;
	char actor[16], subj[32];
	const char *why = NULL;
	int r = 0;

	if (envelope_registration_unpack(envelope_body(e), &g, &why) < 0)
		return why;
	if ((r = store_leaver_by_pgn(h->store, g->pgn, 0, &l)) < 0) {
		/* only a leaver not found is a refusal; a store failure is retried */
		if (r == -ENOENT)
			why = "no leaver with this PGN";
		else
			s_store_failed(e, r, failed);
		goto out;
	}
	rx_actor(e->sender, actor);
	snprintf(subj, sizeof(subj), "leaver:%lld", (long long)l.id);
	if (strcmp(l.destination_institution, e->sender) != 0)
		why = "the pupil's destination here is another institution";
	else if (l.state == LEAVER_IMPORTED && strcmp(l.registered_on, g->registered_on) != 0 &&
		 (r = store_leaver_set_registered(h->store, l.id, g->registered_on, actor)) == 0) {
		r = store_auditf(h->store, actor, "registration.received",
				  l.record_id[0] ? l.record_id : subj, e->sender, "{s:o}",
				  "registered_on", jdetail_text(g->registered_on));
	}
	if (r < 0)
		*failed = 1;
	store_leaver_clear(&l);
out:
	overstap__registration__free_unpacked(g, NULL);
	return why;
}
