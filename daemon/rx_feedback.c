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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- registrations: one answer for every refusal (design.md §4) ----
 * A registration names a PGN, and every configured peer may send one. If
 * the answers differed (no such leaver, a leaver bound elsewhere, accepted),
 * any peer could test whether a BSN is a pupil here, thousands a second
 * (issue 11 item 2). So the only registration we act on is one for our
 * leaver whose destination is the sender, which the sender knows already;
 * everything else gets the same reason after the same lookup, is counted
 * per peer in memory and audited in aggregate (rx_refusals_flush). */

#define RX_REFUSALS_MAX 1024	/* open windows: senders are configured peers */

/* The sender's open window, made when there is none; NULL without state or
 * memory (then the refusal is answered the same and not counted). */
static struct rx_refusal *s_refusal(struct rx_refusals *rs, const char *peer, int64_t now)
{
	struct rx_refusal *x;

	if (!rs)
		return NULL;
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->p[i].peer, peer) == 0)
			return &rs->p[i];
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 8;

		if (cap > RX_REFUSALS_MAX || !(x = realloc(rs->p, cap * sizeof(*x))))
			return NULL;
		rs->p = x;
		rs->cap = cap;
	}
	x = &rs->p[rs->n++];
	memset(x, 0, sizeof(*x));
	str_copy(x->peer, sizeof(x->peer), peer);
	x->since = now;
	return x;
}

/* Count one refusal; the first past the threshold is logged, once a window. */
static void s_refused(struct hctx *h, struct rx_refusal *x)
{
	if (!x)
		return;
	x->count++;
	if (!x->probing && x->count >= h->cfg->max_refused_registrations) {
		x->probing = 1;
		log_warn("peer %s: %llu registrations refused within the hour; it looks like it is "
			 "probing for pupils: its registrations are refused unread for the rest of the hour "
			 "(max_refused_registrations_per_hour)", str_visbuf(x->peer).s,
			 (unsigned long long)x->count);
	}
}

int rx_refusals_flush(struct hctx *h, int64_t now)
{
	struct rx_refusals *rs = h->refusals;
	char actor[16];
	size_t i = 0;
	int r;

	if (!rs || !h->store)
		return 0;
	while (i < rs->n) {
		struct rx_refusal *x = &rs->p[i];

		if (now != INT64_MAX && now - x->since < RX_REFUSAL_WINDOW_MS) {
			i++;
			continue;
		}
		if ((r = store_auditf(h->store, rx_actor(x->peer, actor), "registration.refused",
				      "", x->peer, "{s:I, s:I, s:I, s:b}",
				      "count", (json_int_t)x->count, "since", (json_int_t)x->since,
				      "until", (json_int_t)(now == INT64_MAX ? time_now_ms() : now),
				      "probing", x->probing)) < 0)
			return r;
		*x = rs->p[--rs->n];	/* closed: the order does not matter */
	}
	return 0;
}

void rx_refusals_clear(struct rx_refusals *r)
{
	free(r->p);
	*r = (struct rx_refusals){ 0 };
}

/* A registration at the receiver: mark our leaver with that PGN registered,
 * the normal path to a sendable dossier. Any other registration is refused
 * with RX_REGISTRATION_REFUSED (see above). */
const char *rx_registration(struct hctx *h, const struct rx_msg *m, int *failed)
{
	const Overstap__Envelope *e = m->e;
	Overstap__Registration *g = NULL;
	struct rx_refusal *x;
	struct leaver l = { 0 };
	char actor[16], subj[32];
	const char *why = NULL;
	int r = 0, refused = 1;

	if (envelope_registration_unpack(envelope_body(e), &g, &why) < 0)
		return why;
	x = s_refusal(h->refusals, e->sender, time_now_ms());
	if (x && x->probing) {	/* over the threshold: not even looked up */
		why = RX_REGISTRATION_REFUSED;
		goto out;
	}
	/* both refusals below cost the same lookup; only a store failure differs
	 * (it is retried, not answered) */
	if ((r = store_leaver_by_pgn(h->store, g->pgn, 0, &l)) < 0 && r != -ENOENT) {
		refused = 0;
		s_store_failed(e, r, failed);
		goto out;
	}
	if (r == -ENOENT || strcmp(l.destination_institution, e->sender) != 0) {
		why = RX_REGISTRATION_REFUSED;
		goto out;
	}
	refused = 0;
	rx_actor(e->sender, actor);
	snprintf(subj, sizeof(subj), "leaver:%lld", (long long)l.id);
	if (l.state == LEAVER_IMPORTED && strcmp(l.registered_on, g->registered_on) != 0 &&
	    (r = store_leaver_set_registered(h->store, l.id, g->registered_on, actor)) == 0) {
		r = store_auditf(h->store, actor, "registration.received",
				  l.record_id[0] ? l.record_id : subj, e->sender, "{s:o}",
				  "registered_on", jdetail_text(g->registered_on));
	}
	if (r < 0)
		*failed = 1;
out:
	if (refused)
		s_refused(h, x);
	store_leaver_clear(&l);
	overstap__registration__free_unpacked(g, NULL);
	return why;
}
