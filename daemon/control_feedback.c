/* control_feedback: what the receiving institution tells the school (design.md §3):
 * statuses (statutory, for a handover it received), outcomes (only under a
 * follow_up consent the dossier asserted and that has not been withdrawn) and
 * registrations (before any handover, by PGN). Each becomes a signed message
 * in the outbox, an event row for the timeline and an audit entry, in one
 * transaction; a batch (a CSV) is all or nothing. */
#include "consent.h"
#include "control_int.h"
#include "envelope.h"
#include "jdetail.h"
#include "outbox.h"
#include "outcomes.h"
#include "pgn.h"
#include "registrations.h"
#include "i18n.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* compared by address; also the reason of an audited denial */
static const char S_NO_CONSENT[] = "no follow_up consent in force for this pupil and institution";
static const char S_ERASED[] = "the dossier was erased here (consent withdrawn, or retention): "
			       "an outcome needs the follow_up consent it carried";

static int s_queue(struct hctx *h, const char *peer, Overstap__Envelope__BodyCase body_case,
		   const uint8_t *body, size_t blen, const Overstap__ConsentAssertion *a,
		   char mid[CRYPTO_UUID_STR_LEN + 1])
{
	return outbox_queue(h, &(struct outbox_item){ .peer = peer, .body_case = body_case,
						   .body = body, .blen = blen,
						   .consent_id = a ? a->consent_id : NULL,
						   .until = a ? a->valid_until : NULL }, mid);
}

/* The received handover a record id names: its sender and, for outcomes, the
 * follow_up consent it asserted that is still in force here today. */
struct received {
	char sender[7];
	int64_t erased_at;		/* the dossier was erased (unix ms), 0 = not */
	char erased_what[16];		/* by what: withdrawal, retention, erase */
	Overstap__Envelope *env;
	Overstap__Handover *h;
	const Overstap__ConsentAssertion *follow_up;	/* borrowed from h or notice */
	Overstap__ConsentAssertion *notice;	/* owned: one told after the dossier */
	struct hctx *hx;
	char today[11];
};

static void s_received_free(struct received *rc)
{
	if (rc->h)
		overstap__handover__free_unpacked(rc->h, NULL);
	if (rc->env)
		overstap__envelope__free_unpacked(rc->env, NULL);
	if (rc->notice)
		overstap__consent_assertion__free_unpacked(rc->notice, NULL);
	memset(rc, 0, sizeof(*rc));
}

/* A follow_up consent told after the dossier (ConsentNotice), if one is in
 * force and not withdrawn: the first found. */
static int s_notice_cb(const void *data, size_t len, void *arg)
{
	struct received *rc = arg;
	Overstap__ConsentAssertion *a = overstap__consent_assertion__unpack(NULL, len, data);
	int r = 0;

	if (!a)
		return 0;
	if (envelope_assertion_in_force(a, "follow_up", rc->hx->cfg->institution_id, rc->today) &&
	    (r = store_consent_revoked(rc->hx->store, a->consent_id, rc->today)) == 0) {
		rc->notice = a;
		return 1;
	}
	overstap__consent_assertion__free_unpacked(a, NULL);
	return r < 0 ? r : 0;	/* a store failure stops the walk */
}

/* The received handover of record_id into rc, or a reason in *why (then 0)
 * that it cannot be fed back on. A store failure is returned, never read as a
 * reason (test_fault_control.c): a failed consent lookup read as "no consent"
 * turned an outcome into an audited denial, and a failed step (after which
 * sqlite may roll the transaction back) let a status commit piecemeal while
 * the reply said "nothing sent". */
static int s_received_load(struct hctx *h, const char *record_id, struct received *rc,
			   const char **why)
{
	struct inbox_row row;
	uint8_t *packed = NULL;
	size_t len = 0;
	const char *bad = NULL;
	char today[11];
	int r;

	memset(rc, 0, sizeof(*rc));
	*why = NULL;
	/* An erased dossier cannot be opened, but its record id and sender are
	 * kept: a status (statute) still goes back after a withdrawal or
	 * retention; an outcome needs the dossier's consent (the caller), and
	 * after `overstap erase` here nothing more is said about the pupil. */
	if ((r = store_inbox_erasure(h->store, record_id, rc->sender, &rc->erased_at,
				     rc->erased_what)) < 0) {
		if (r == -ENOENT)
			*why = "no handover received with this record id";
		return r == -ENOENT ? 0 : r;
	}
	if (rc->erased_at) {
		if (strcmp(rc->erased_what, "erase") == 0)
			*why = "this pupil was erased here (overstap erase): nothing more is sent "
			       "about them";
		return 0;
	}
	if ((r = store_inbox_get(h->store, record_id, &row, &packed, &len)) < 0) {
		if (r == -ENOENT)
			*why = "no handover received with this record id";
		else if (r == -ENOKEY)
			*why = "the stored handover cannot be read (erased?)";
		return r == -ENOENT || r == -ENOKEY ? 0 : r;
	}
	str_copy(rc->sender, sizeof(rc->sender), row.sender);
	rc->env = overstap__envelope__unpack(NULL, len, packed);
	free(packed);
	if (!rc->env || envelope_handover_unpack(envelope_body(rc->env), &rc->h, &bad) < 0) {
		*why = "the stored handover cannot be read (erased?)";
		return 0;
	}
	date_today(today);
	for (size_t i = 0; i < rc->h->n_consents && !rc->follow_up; i++) {
		const Overstap__ConsentAssertion *a = rc->h->consents[i];

		if (!envelope_assertion_in_force(a, "follow_up", h->cfg->institution_id, today))
			continue;
		if ((r = store_consent_revoked(h->store, a->consent_id, today)) < 0)
			return r;
		if (r == 0)
			rc->follow_up = a;
	}
	if (!rc->follow_up) {
		rc->hx = h;
		str_copy(rc->today, sizeof(rc->today), today);
		if ((r = store_assertions_each(h->store, record_id, s_notice_cb, rc)) < 0)
			return r;
		if (r > 0)
			rc->follow_up = rc->notice;
	}
	return 0;
}

/* The audit entry of a queued disclosure: a status on the statute, or an
 * outcome under consent_id (non-NULL), which the sending school asserted in
 * its dossier or a notice (checked as a UUID, but a peer's text). */
static int s_audit_queued(struct req_ctx *c, const char *record_id, const char *peer,
			  const char *event, const char *consent_id)
{
	if (!consent_id)
		return store_auditf(c->h->store, c->user, "disclosure.queued", record_id, peer,
				     "{s:s, s:s, s:s}", "purpose", "status", "event", event,
				     "basis", "statute");
	return store_auditf(c->h->store, c->user, "disclosure.queued", record_id, peer,
			     "{s:s, s:s, s:s, s:o}", "purpose", "follow_up", "event", event,
			     "basis", "consent", "consent_id", jdetail_text(consent_id));
}

static int s_pack_status(const struct outcome_row *row, uint8_t **body, size_t *len)
{
	Overstap__Status m = OVERSTAP__STATUS__INIT;

	m.record_id = (char *)row->record_id;
	m.status = (char *)outcome_event_str(row->event);
	m.date = (char *)row->date;
	*len = overstap__status__get_packed_size(&m);
	if (!(*body = malloc(*len ? *len : 1)))
		return -ENOMEM;
	overstap__status__pack(&m, *body);
	return 0;
}

static int s_pack_outcome(const struct outcome_row *row, const Overstap__ConsentAssertion *a,
			  uint8_t **body, size_t *len)
{
	Overstap__Outcome m = OVERSTAP__OUTCOME__INIT;

	m.record_id = (char *)row->record_id;
	m.outcome = (char *)outcome_event_str(row->event);
	m.date = (char *)row->date;
	m.level = (uint32_t)row->level;
	m.consent = (Overstap__ConsentAssertion *)a;
	*len = overstap__outcome__get_packed_size(&m);
	if (!(*body = malloc(*len ? *len : 1)))
		return -ENOMEM;
	overstap__outcome__pack(&m, *body);
	return 0;
}

/* One checked row: queued, or a reason it cannot be (then *why, r = 0). */
static int s_feedback_one(struct req_ctx *c, const struct outcome_row *row, const char **why)
{
	struct received rc;
	struct event_rec ev = { 0 };
	const struct peer_cfg *pc;
	int status = outcome_event_is_status(row->event), r = 0;
	uint8_t *body = NULL;
	size_t blen = 0;

	if ((r = s_received_load(c->h, row->record_id, &rc, why)) < 0 || *why)
		goto out;
	pc = config_peer_find(c->h->cfg, rc.sender);
	if (!pc || !pc->endpoint[0]) {
		*why = "the sending school is not a configured peer with an endpoint";
		goto out;
	}
	if (!status && rc.erased_at) {
		/* its consents went with it; refused (and audited by the caller) */
		*why = S_ERASED;
		goto out;
	}
	if (!status && !rc.follow_up) {
		/* design.md §3: no outcome without a follow_up consent (audited by the caller) */
		*why = S_NO_CONSENT;
		goto out;
	}
	r = status ? s_pack_status(row, &body, &blen) : s_pack_outcome(row, rc.follow_up, &body, &blen);
	if (r == 0)
		r = s_queue(c->h, rc.sender,
			    status ? OVERSTAP__ENVELOPE__BODY_STATUS : OVERSTAP__ENVELOPE__BODY_OUTCOME, body,
			    blen, status ? NULL : rc.follow_up, ev.message_id);
	free(body);
	if (r < 0)
		goto out;
	str_copy(ev.record_id, sizeof(ev.record_id), row->record_id);
	str_copy(ev.peer, sizeof(ev.peer), rc.sender);
	ev.event = row->event;
	str_copy(ev.date, sizeof(ev.date), row->date);
	ev.level = row->level;
	if (!status)
		str_copy(ev.consent_id, sizeof(ev.consent_id), rc.follow_up->consent_id);
	ev.at = time_now_ms();
	str_copy(ev.actor, sizeof(ev.actor), c->user);
	if ((r = store_event_add(c->h->store, &ev)) == 0)
		r = s_audit_queued(c, row->record_id, rc.sender, outcome_event_str(row->event),
				   status ? NULL : ev.consent_id);
out:
	s_received_free(&rc);
	return r < 0 ? r : 0;
}

/* A file from the MBO's own system repeats what it exported before (a
 * cumulative export, issue 12 item 3): a status or outcome already sent (or
 * on its way) for the same record, event, date and level is not sent again.
 * One the school refused, or that was cancelled here, is sent again. */
static int s_same_event_cb(const struct event_rec *e, void *arg)
{
	const struct outcome_row *row = arg;

	return !e->inbound && e->event == (int)row->event && strcmp(e->date, row->date) == 0 &&
	       e->level == row->level && e->state != OUTBOX_CANCELLED && e->state != OUTBOX_REJECTED;
}

/* 1 when row was sent before (see above), 0, or a store error. */
static int s_event_sent_before(struct req_ctx *c, const struct outcome_row *row)
{
	return store_events_each(c->h->store, row->record_id, s_same_event_cb, (void *)row);
}

/* A row keyed by the MBO's PGN (design.md §8.2): the one dossier received
 * for that pupil, through the pseudonym index (§3.9), gives its record id;
 * only the record id goes on the wire. Erased dossiers lost their pseudonym,
 * so they are not found. 1 when it cannot be mapped (said in errors, never
 * echoing the PGN), 0, or a store error. */
static int s_map_pgn(struct req_ctx *c, const char *name, struct outcome_row *row,
		     struct strlist *errors)
{
	struct strlist ids = { 0 };
	int r = store_inbox_by_pgn(c->h->store, row->pgn, &ids);

	if (r < 0)
		goto out;
	r = 1;
	if (ids.n == 0)
		strlist_addf(errors, "%s:%u: pgn: no dossier received for this pupil", name, row->line);
	else if (ids.n > 1)
		strlist_addf(errors, "%s:%u: pgn: %zu dossiers received for this pupil: give the "
			     "record_id", name, row->line, ids.n);
	else
		r = str_copy(row->record_id, sizeof(row->record_id), ids.v[0]) < 0;
out:
	strlist_clear(&ids);
	return r;
}

/* The request's events as validated rows; every problem into errors. */
static int s_rows(struct req_ctx *c, struct outcome_row *rows, struct strlist *errors)
{
	const Overstapctl__RecordFeedback *f = c->req->feedback;
	const char *name = f->file[0] ? f->file : "-";
	char today[11];
	int bad = 0;

	date_today(today);
	for (size_t i = 0; i < f->n_events; i++) {
		const Overstapctl__FeedbackEvent *e = f->events[i];
		char level[12] = "";
		struct outcome_input in = { e->record_id, e->event, e->date[0] ? e->date : today, level,
					    e->line, e->pgn };
		int r;

		if (e->level)
			snprintf(level, sizeof(level), "%u", e->level);
		if (outcome_row_validate(name, &in, today, &rows[i], errors) > 0)
			bad++;
		else if (rows[i].pgn[0] && (r = s_map_pgn(c, name, &rows[i], errors)) != 0)
			bad += r > 0;
	}
	return bad;
}

/* Denied disclosures are audited even though the batch is not sent: in a
 * transaction of their own, after the batch's was rolled back. */
static int s_audit_denials(struct req_ctx *c, const struct outcome_row *rows, size_t n)
{
	int r = store_begin(c->h->store);

	for (size_t i = 0; i < n && r == 0; i++) {
		struct received rc;
		const char *why = NULL;

		if (rows[i].line != 0)
			continue;
		if ((r = s_received_load(c->h, rows[i].record_id, &rc, &why)) == 0 && !why)
			r = store_auditf(c->h->store, c->user, "disclosure.denied",
					  rows[i].record_id, rc.sender, "{s:s, s:s, s:s}",
					  "purpose", "follow_up", "event", outcome_event_str(rows[i].event),
					  "reason", S_NO_CONSENT);
		s_received_free(&rc);
	}
	if (r == 0)
		return store_commit(c->h->store);
	store_rollback(c->h->store);
	return r;
}

int ctl_feedback(struct req_ctx *c)
{
	const Overstapctl__RecordFeedback *f = c->req->feedback;
	Overstapctl__ImportResult *res = ctl_marked_new(c);
	struct outcome_row *rows = calloc(f->n_events ? f->n_events : 1, sizeof(*rows));
	struct strlist errors = { 0 };
	unsigned sent_before = 0;
	int r = 0, rt;

	if (!res || !rows) {
		free(rows);
		return -ENOMEM;
	}
	if (s_rows(c, rows, &errors) == 0 && (r = store_begin(c->h->store)) == 0) {
		for (size_t i = 0; i < f->n_events && r == 0; i++) {
			const char *why = NULL;

			/* a file: what was sent before is skipped, not sent twice */
			if (f->file[0] && (r = s_event_sent_before(c, &rows[i])) != 0) {
				sent_before += r > 0;
				r = r > 0 ? 0 : r;
				continue;	/* line stays non-zero: not a denial */
			}
			r = s_feedback_one(c, &rows[i], &why);
			if (r == 0 && why && f->file[0])
				strlist_addf(&errors, "%s:%u: record_id: %s: %s", f->file, rows[i].line,
					     rows[i].record_id, why);
			else if (r == 0 && why)	/* from the command line: no file, no line */
				strlist_addf(&errors, "%s: %s", rows[i].record_id, why);
			rows[i].line = why == S_NO_CONSENT ? 0 : 1;	/* 0 marks a denial */
		}
		/* All or nothing: one refused row and nothing is sent. A check
		 * (`import outcomes --check`) ran every step and keeps none. */
		if (r == 0 && errors.n == 0 && !f->check)
			r = store_commit(c->h->store);
		else
			store_rollback(c->h->store);
		if (r == 0 && errors.n && !f->check)
			r = s_audit_denials(c, rows, f->n_events);
	}
	free(rows);
	/* from the command line (outcome record, registration status) there is no file
	 * or line to name */
	if ((rt = ctl_errors_take(c, res, &errors, f->file[0] ? NULL : "-:0: ")) < 0 && r == 0)
		r = rt;
	if (r < 0)
		return ctl_fail(c, r, "nothing sent: %s", strerror(-r));
	if (res->n_errors)
		return ctl_fail(c, -EINVAL, ngettext("nothing sent: %zu problem", "nothing sent: %zu problems",
						     res->n_errors), res->n_errors);
	res->imported = (uint32_t)(f->n_events - sent_before);
	res->unchanged_sent = sent_before;
	if (!f->check)
		log_notice("user %s queued %u statuses/outcomes (%u sent before)", c->user,
			   res->imported, sent_before);
	return 0;
}

/* Queue one validated registration (in the caller's transaction). */
static int s_registration_one(struct req_ctx *c, const struct registration_row *g)
{
	Overstap__Registration m = OVERSTAP__REGISTRATION__INIT;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t body[64];
	size_t blen;
	int r;

	m.pgn = (char *)g->pgn;
	m.registered_on = (char *)g->registered_on;
	blen = overstap__registration__pack(&m, body);
	/* No record id exists yet, and the PGN stays out of the log: the
	 * message id is the subject, linked to the PGN's pseudonym for the
	 * subject report (design.md §3.11). The date came from a file or the
	 * command line (checked as a date). */
	if ((r = s_queue(c->h, g->sending_school, OVERSTAP__ENVELOPE__BODY_REGISTRATION, body, blen,
			 NULL, mid)) == 0 &&
	    (r = store_regsent_add(c->h->store, mid, g->pgn, g->sending_school, g->registered_on,
				   time_now_ms())) == 0)
		r = store_auditf(c->h->store, c->user, "registration.sent", mid, g->sending_school,
				  "{s:s, s:s, s:o}", "purpose", "status", "basis", "statute",
				  "registered_on", jdetail_text(g->registered_on));
	return r;
}

/* A registration from a file already sent (or on its way) to the same school
 * with the same date (the MBO's cumulative export again): 1, 0, or a store
 * error. One the school refused, or cancelled here, is sent again. */
static int s_same_registration_cb(const struct regsent *g, void *arg)
{
	const struct registration_row *row = arg;

	return strcmp(g->school, row->sending_school) == 0 &&
	       strcmp(g->registered_on, row->registered_on) == 0 && g->state != OUTBOX_CANCELLED &&
	       g->state != OUTBOX_REJECTED;
}

/* Validate every row (and that each school is a peer we can reach), then
 * queue all in one transaction, or nothing; from a file, one sent before
 * is skipped. */
static int s_registrations(struct req_ctx *c, const char *file, Overstapctl__RecordRegistration *const *in,
			   size_t n, int check)
{
	Overstapctl__ImportResult *res = ctl_marked_new(c);
	struct registration_row *rows = calloc(n ? n : 1, sizeof(*rows));
	const char *name = file[0] ? file : "-";
	struct strlist errors = { 0 };
	char today[11];
	unsigned sent_before = 0;
	int r = 0, rt;

	if (!res || !rows) {
		free(rows);
		return -ENOMEM;
	}
	date_today(today);
	for (size_t i = 0; i < n; i++) {
		struct registration_input ri = { in[i]->pgn, in[i]->school,
						 in[i]->date[0] ? in[i]->date : today, in[i]->line };
		const struct peer_cfg *pc;

		if (registration_row_validate(name, &ri, today, &rows[i], &errors) > 0)
			continue;
		pc = config_peer_find(c->h->cfg, rows[i].sending_school);
		if (!pc || !pc->endpoint[0])
			strlist_addf(&errors, "%s:%u: sending_school: %s is not a configured peer with an "
				     "endpoint", name, in[i]->line, rows[i].sending_school);
	}
	if (errors.n == 0 && (r = store_begin(c->h->store)) == 0) {
		for (size_t i = 0; i < n && r == 0; i++) {
			if (file[0] && (r = store_regsent_by_pgn(c->h->store, rows[i].pgn,
								 s_same_registration_cb, &rows[i])) != 0) {
				sent_before += r > 0;
				r = r > 0 ? 0 : r;
				continue;
			}
			r = s_registration_one(c, &rows[i]);
		}
		if (r == 0 && !check)	/* a check ran every step and keeps none */
			r = store_commit(c->h->store);
		else
			store_rollback(c->h->store);
	}
	free(rows);
	/* from the command line there is no file or line to name */
	if ((rt = ctl_errors_take(c, res, &errors, file[0] ? NULL : "-:0: ")) < 0 && r == 0)
		r = rt;
	if (r < 0)
		return ctl_fail(c, r, "nothing sent: %s", strerror(-r));
	if (res->n_errors)
		return ctl_fail(c, -EINVAL, ngettext("nothing sent: %zu problem", "nothing sent: %zu problems",
						     res->n_errors), res->n_errors);
	res->imported = (uint32_t)(n - sent_before);
	res->unchanged_sent = sent_before;
	if (!check)
		log_notice("user %s queued %u registration(s) (%u sent before)", c->user,
			   res->imported, sent_before);
	return 0;
}

int ctl_registration(struct req_ctx *c)
{
	Overstapctl__RecordRegistration *one = c->req->registration;

	return s_registrations(c, "", &one, 1, 0);
}

int ctl_import_registrations(struct req_ctx *c)
{
	const Overstapctl__ImportRegistrations *im = c->req->import_registrations;

	return s_registrations(c, im->file, im->rows, im->n_rows, im->check);
}

/* ---- the timeline, for handover show and inbox show ---- */

static const char *s_state(int state)
{
	switch (state) {
	case OUTBOX_QUEUED: return "queued";
	case OUTBOX_ACKED: return "delivered";
	case OUTBOX_CANCELLED: return "cancelled";
	case OUTBOX_REJECTED: return "refused";
	default: return "received";
	}
}

static int s_event_cb(const struct event_rec *e, void *arg)
{
	struct ctl_list *t = arg;
	Overstapctl__EventRow *row = ctl_keep(&t->c->pool, calloc(1, sizeof(*row)));
	const char *name = outcome_event_str((enum outcome_event)e->event);

	if (!row)
		return -ENOMEM;
	overstapctl__event_row__init(row);
	row->message_id = ctl_strdup(&t->c->pool, e->message_id);
	row->inbound = e->inbound;
	row->peer = ctl_strdup(&t->c->pool, e->peer);
	row->event = (char *)(name ? name : "?");
	row->date = ctl_strdup(&t->c->pool, e->date);
	row->level = (uint32_t)e->level;
	row->consent_id = ctl_strdup(&t->c->pool, e->consent_id);
	row->at = e->at;
	row->actor = ctl_strdup(&t->c->pool, e->actor);
	row->state = (char *)(e->inbound ? "received" : s_state(e->state));
	row->reason = ctl_strdup(&t->c->pool, e->reason);
	return ctl_list_push(t, row);
}

int ctl_timeline(struct req_ctx *c, const char *record_id, Overstapctl__EventRow ***rows, size_t *n)
{
	struct ctl_list t = { .c = c };
	int r;

	*rows = NULL;
	*n = 0;
	if (!record_id || !record_id[0])
		return 0;
	r = store_events_each(c->h->store, record_id, s_event_cb, &t);
	if (ctl_list_finish(&t, 0, NULL) < 0)
		return -ENOMEM;
	*rows = (Overstapctl__EventRow **)t.rows;
	*n = t.n;
	return r;
}
