/* control_outbox: `overstap outbox list|retry|cancel`, the dead letters
 * (design.md §4.5): messages parked because the receiver refused them for what
 * an administrator can change (size, protocol version) or because they are
 * over the limit it announced. Retry queues them again (after, say, the
 * receiver raised its max_message_size); cancel gives them up, and a
 * dossier's leaver becomes cancelled. Both are audited, message by message. */
#include "control_int.h"
#include "envelope.h"
#include "jdetail.h"
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
