/* rx_feedback: the Status, Outcome and Registration rows of the receive
 * table (docs/design.md §3, §4). Statuses and outcomes come back to the school
 * about a dossier it handed over; a registration tells the school that one of
 * its leavers registered at the sender. */
#include "rx_int.h"
#include "consent.h"
#include "envelope.h"
#include "log.h"
#include "outcomes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The leaver a status or outcome is about: one we handed over to its sender.
 * *err gets a store failure (then NULL): that is no reason to refuse the
 * message for good, the sender must retry. */
static const char *s_leaver(struct hctx *h, const char *record_id, const char *sender,
			    struct leaver *l, int *err)
{
	if ((*err = store_leaver_by_record(h->store, record_id, 0, l)) < 0) {
		if (*err != -ENOENT)
			return NULL;
		*err = 0;
		return "no handover with this record id";
	}
	if (strcmp(l->destination_institution, sender) != 0 ||
	    (l->state != LEAVER_QUEUED && l->state != LEAVER_DELIVERED))
		return "no handover with this record id to the sender";
	return NULL;
}

/* SPEC §3: an outcome comes back only under a follow_up consent that is ours,
 * for this pupil, for the sender (or anyone), and in force today. Our record
 * decides, not the assertion. */
static const char *s_outcome_consent(struct hctx *h, const struct leaver *l,
				     const Overstap__Outcome *o, const char *sender, int *err)
{
	struct consent k;
	int64_t lid = -1;
	char today[11];

	date_today(today);
	if ((*err = store_consent_get(h->store, o->consent->consent_id, &k, &lid)) < 0 &&
	    *err != -ENOENT)
		return NULL;	/* the store failed: no decision */
	*err = 0;
	if (lid < 0 || lid != l->id ||
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
	char detail[200];
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
	snprintf(detail, sizeof(detail), "{\"purpose\":\"%s\",\"event\":\"%s\",\"date\":\"%s\"%s%s%s}",
		 consent_id[0] ? "follow_up" : "status", name, date,
		 consent_id[0] ? ",\"consent_id\":\"" : "", consent_id, consent_id[0] ? "\"" : "");
	return store_audit(h->store, ev.actor, consent_id[0] ? "outcome.received" : "status.received",
			   record_id, e->sender, detail);
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
	if (r < 0)
		;	/* the store failed: no decision, the batch rolls back */
	else if (why)	/* a refused disclosure to us is audited like one of ours */
		r = store_audit(h->store, rx_actor(e->sender, actor), "disclosure.refused",
				o->record_id, e->sender,
				"{\"purpose\":\"follow_up\",\"reason\":\"no valid follow_up consent\"}");
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
	char actor[16], subj[32], detail[96];
	const char *why = NULL;
	int r = 0;

	if (envelope_registration_unpack(envelope_body(e), &g, &why) < 0)
		return why;
	if ((r = store_leaver_by_pgn(h->store, g->pgn, 0, &l)) < 0) {
		if (r == -ENOENT)
			why = "no leaver with this PGN";
		else
			*failed = 1;	/* not a refusal: the sender retries */
		goto out;
	}
	rx_actor(e->sender, actor);
	snprintf(subj, sizeof(subj), "leaver:%lld", (long long)l.id);
	if (strcmp(l.destination_institution, e->sender) != 0)
		why = "the pupil's destination here is another institution";
	else if (l.state == LEAVER_IMPORTED && strcmp(l.registered_on, g->registered_on) != 0 &&
		 (r = store_leaver_set_registered(h->store, l.id, g->registered_on, actor)) == 0) {
		snprintf(detail, sizeof(detail), "{\"registered_on\":\"%s\"}", g->registered_on);
		r = store_audit(h->store, actor, "registration.received",
				l.record_id[0] ? l.record_id : subj, e->sender, detail);
	}
	if (r < 0)
		*failed = 1;
	store_leaver_clear(&l);
out:
	overstap__registration__free_unpacked(g, NULL);
	return why;
}
