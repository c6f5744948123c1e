/* control_outbox: `overstap outbox list|retry|cancel`, the dead letters
 * (design.md §4.5): messages parked because the receiver refused them for what
 * an administrator can change (size, protocol version) or because they are
 * over the limit it announced. Retry queues them again (after, say, the
 * receiver raised its max_message_size); cancel gives them up, and a
 * dossier's leaver becomes cancelled. Both are audited, message by message. */
#include "control_int.h"
#include "envelope.h"
#include "i18n.h"
#include "jdetail.h"
#include "pgn.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_row_cb(const struct outbox_parked *m, void *arg)
{
	struct ctl_list *t = arg;
	Overstapctl__OutboxRow *row = ctl_keep(&t->c->pool, calloc(1, sizeof(*row)));

	if (!row)
		return -ENOMEM;
	overstapctl__outbox_row__init(row);
	row->message_id = ctl_strdup(&t->c->pool, m->message_id);
	row->peer = ctl_strdup(&t->c->pool, m->peer);
	row->kind = (char *)envelope_body_name((Overstap__Envelope__BodyCase)m->body_case);
	row->created_at = m->created_at;
	row->attempts = m->attempts;
	row->reason = ctl_strdup(&t->c->pool, m->reason);
	row->record_id = ctl_strdup(&t->c->pool, m->record_id);
	row->event = (char *)(m->event ? outcome_event_str((enum outcome_event)m->event) : "");
	if (!row->event)
		row->event = "";
	row->date = ctl_strdup(&t->c->pool, m->date);
	row->settled_at = m->settled_at;
	if (!row->message_id || !row->date || !row->peer || !row->reason || !row->record_id)
		return -ENOMEM;
	return ctl_list_push(t, row);
}

static const char *s_outbox_state(int state)
{
	switch (state) {
	case OUTBOX_QUEUED: return "queued";
	case OUTBOX_ACKED: return "delivered";
	case OUTBOX_CANCELLED: return "cancelled";
	case OUTBOX_REJECTED: return "refused";
	case OUTBOX_PARKED: return "parked";
	default: return "unknown";
	}
}

Overstapctl__RegistrationSent *ctl_regsent_row(struct req_ctx *c, const struct regsent *g)
{
	struct pool *p = &c->pool;
	Overstapctl__RegistrationSent *row = ctl_keep(p, calloc(1, sizeof(*row)));

	if (!row)
		return NULL;
	overstapctl__registration_sent__init(row);
	row->message_id = ctl_strdup(p, g->message_id);
	row->school = ctl_strdup(p, g->school);
	row->registered_on = ctl_strdup(p, g->registered_on);
	row->at = g->at;
	row->state = (char *)s_outbox_state(g->state);
	row->reason = ctl_strdup(p, g->reason);
	if (!row->message_id || !row->school || !row->registered_on || !row->reason)
		return NULL;
	return row;
}

static int s_regsent_cb(const struct regsent *g, void *arg)
{
	struct ctl_list *t = arg;

	return ctl_list_push(t, ctl_regsent_row(t->c, g));
}

/* `overstap registration list [--pgn PGN] [--school ID]` (design.md §3.11):
 * what each registration sent became. A search by PGN is audited (as
 * `inbox find` is), with the message ids found, never the PGN. */
int ctl_registration_list(struct req_ctx *c)
{
	const Overstapctl__RegistrationQuery *q = c->req->registration_list;
	Overstapctl__RegistrationList *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	struct ctl_list t = { .c = c };
	const char *why = NULL;
	json_t *ids;
	int r;

	if (!res)
		return -ENOMEM;
	overstapctl__registration_list__init(res);
	if (q->pgn[0] && pgn_check(q->pgn, &why) < 0)
		return ctl_fail(c, -EINVAL, "pgn: %s", _(why));	/* never echoed */
	if ((r = store_begin(c->h->store)) < 0)
		return ctl_fail(c, r, "cannot read the store: %s", strerror(-r));
	r = q->pgn[0] ? store_regsent_by_pgn(c->h->store, q->pgn, s_regsent_cb, &t)
		      : store_regsent_each(c->h->store, q->school[0] ? q->school : NULL,
					   s_regsent_cb, &t);
	if ((r = ctl_list_finish(&t, r, "cannot list the registrations")) < 0) {
		store_rollback(c->h->store);
		return r;
	}
	res->rows = (Overstapctl__RegistrationSent **)t.rows;
	res->n_rows = t.n;
	if (q->pgn[0] && q->school[0]) {	/* both: the school's among the PGN's */
		size_t k = 0;

		for (size_t i = 0; i < res->n_rows; i++)
			if (strcmp(res->rows[i]->school, q->school) == 0)
				res->rows[k++] = res->rows[i];
		res->n_rows = k;
	}
	r = 0;
	if (q->pgn[0]) {
		if (!(ids = json_array()))
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < res->n_rows; i++)
			if (json_array_append_new(ids, json_string(res->rows[i]->message_id)) < 0)
				r = -ENOMEM;
		if (r == 0)
			r = store_auditf(c->h->store, c->user, "registration.looked_up", "", "",
					 "{s:s, s:o}", "by", "pgn", "found", ids);
		else
			json_decref(ids);
	}
	if (r == 0)
		r = store_commit(c->h->store);
	if (r < 0) {
		store_rollback(c->h->store);
		return ctl_fail(c, r, "cannot write the audit log: %s", strerror(-r));
	}
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_REGISTRATIONS;
	c->rep->registrations = res;
	return 0;
}

static const char *s_peer(const char *p)
{
	return p && *p ? p : NULL;
}

int ctl_outbox_list(struct req_ctx *c)
{
	struct ctl_list t = { .c = c };
	Overstapctl__OutboxList *res = ctl_keep(&c->pool, calloc(1, sizeof(*res)));
	int r;

	if (!res)
		return -ENOMEM;
	overstapctl__outbox_list__init(res);
	/* parked ones wait for staff; refused ones (REJECTED, FINAL) are settled,
	 * listed so that the staff see what the school did not take and why */
	r = (c->req->outbox_list->refused ? store_outbox_refused_each : store_outbox_parked_each)(
		c->h->store, s_peer(c->req->outbox_list->peer), s_row_cb, &t);
	if ((r = ctl_list_finish(&t, r, "cannot list the outbox")) < 0)
		return r;
	res->rows = (Overstapctl__OutboxRow **)t.rows;
	res->n_rows = t.n;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_OUTBOX_LIST;
	c->rep->outbox_list = res;
	return 0;
}

/* Ids of every parked message (of peer): collected before any changes. */
static int s_id_cb(const struct outbox_parked *m, void *arg)
{
	return strlist_addf(arg, "%s", m->message_id);
}

static int s_act_one(struct req_ctx *c, const char *id, int cancel, struct strlist *errors)
{
	int r = cancel ? store_outbox_cancel_parked(c->h->store, id, "cancelled by staff")
		       : store_outbox_unpark(c->h->store, id);

	if (r == 1)
		return strlist_addf(errors, "%s: not a parked message", id) < 0 ? -ENOMEM : 0;
	if (r < 0)
		return r;
	r = store_auditf(c->h->store, c->user, cancel ? "message.cancelled" : "message.retried",
			 "", "", "{s:o}", "message_id", jdetail_text(id));
	return r < 0 ? r : 1;
}

int ctl_outbox_action(struct req_ctx *c)
{
	const Overstapctl__OutboxAction *q = c->req->outbox_action;
	Overstapctl__ImportResult *res = ctl_marked_new(c);
	struct strlist ids = { 0 }, errors = { 0 };
	int r = 0;

	if (!res)
		return -ENOMEM;
	if (q->all == (q->n_message_ids > 0))
		return ctl_fail(c, -EINVAL, "give message ids or --all (one of the two)");
	for (size_t i = 0; i < q->n_message_ids && r == 0; i++)
		r = strlist_addf(&ids, "%s", q->message_ids[i]);
	if (r < 0 || (r = store_begin(c->h->store)) < 0) {
		strlist_clear(&ids);
		return ctl_fail(c, r, "nothing changed: %s", strerror(-r));
	}
	if (q->all)
		r = store_outbox_parked_each(c->h->store, s_peer(q->peer), s_id_cb, &ids);
	for (size_t i = 0; i < ids.n && r >= 0; i++)
		if ((r = s_act_one(c, ids.v[i], q->cancel, &errors)) == 1)
			res->imported++;
	strlist_clear(&ids);
	if (r > 0)
		r = 0;
	if (r == 0)
		r = ctl_errors_take(c, res, &errors, NULL);
	else
		strlist_clear(&errors);
	if ((r = ctl_commit_all(c, r, res)) < 0)
		return r;
	c->h->outbox_dirty = 1;	/* the senders recount and pick retried ones up */
	return 0;
}
