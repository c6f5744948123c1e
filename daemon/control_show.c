/* control_show: `handover list|show`, `inbox list|show` and their detail builders. */
#include "control_int.h"
#include "jdetail.h"
#include "envelope.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A mentor's view of the state: an imported leaver is "registered" once the
 * registration is recorded and "ready" once inzage is too. */
static const char *s_view_state(const struct hctx *h, const struct leaver *l)
{
	const struct peer_cfg *pc;

	if (l->state == LEAVER_QUEUED && l->parked[0])
		return "parked";	/* design.md §4: kept, not sent, until retried */
	if (l->state != LEAVER_IMPORTED)
		return store_leaver_state_str(l->state);
	if (!l->registered_on[0])
		return "imported";
	pc = l->destination_institution[0] ? config_peer_find(h->cfg, l->destination_institution) : NULL;
	/* ready = what `handover send --all-ready` would send now */
	return l->inzage_on[0] && pc && pc->endpoint[0] ? "ready" : "registered";
}

static Overstapctl__HandoverRow *s_leaver_row(struct req_ctx *c, const struct leaver *l)
{
	struct pool *pool = &c->pool;
	Overstapctl__HandoverRow *row = ctl_keep(pool, calloc(1, sizeof(*row)));

	if (!row)
		return NULL;
	overstapctl__handover_row__init(row);
	row->pupil_ref = ctl_strdup(pool, l->pupil_ref);
	row->cohort = ctl_strdup(pool, l->cohort);
	row->program = (char *)(vocab_program_str(l->program) ? vocab_program_str(l->program) : "");
	row->destination_type = (char *)(vocab_destination_str(l->destination)
						 ? vocab_destination_str(l->destination) : "");
	row->destination_institution = ctl_strdup(pool, l->destination_institution);
	row->state = (char *)s_view_state(c->h, l);
	row->record_id = ctl_strdup(pool, l->record_id);
	row->queued_at = l->queued_at;
	row->delivered_at = l->delivered_at;
	row->registered_on = ctl_strdup(pool, l->registered_on);
	row->inzage_on = ctl_strdup(pool, l->inzage_on);
	row->attempts = l->attempts;
	row->parked = ctl_strdup(pool, l->parked);
	if (!row->parked)
		return NULL;
	return row;
}

static int s_leaver_cb(const struct leaver *l, void *arg)
{
	struct ctl_list *a = arg;
	const char *want = a->c->req->handover_list->state;

	unsigned limit = a->c->req->handover_list->limit;

	if (want[0] && strcmp(want, s_view_state(a->c->h, l)) != 0)
		return 0;	/* imported/registered/ready share one stored state */
	if (limit && a->n >= limit)
		return 1;
	return ctl_list_push(a, s_leaver_row(a->c, l));
}

static int s_state_from_str(const char *s)
{
	if (strcmp(s, "registered") == 0 || strcmp(s, "ready") == 0)
		return LEAVER_IMPORTED;
	if (strcmp(s, "parked") == 0)
		return LEAVER_QUEUED;	/* a queued one the view calls parked */
	for (int i = LEAVER_IMPORTED; i <= LEAVER_ERASED; i++)
		if (strcmp(s, store_leaver_state_str(i)) == 0)
			return i;
	return -2;
}

int ctl_handover_list(struct req_ctx *c)
{
	const Overstapctl__ListFilter *f = c->req->handover_list;
	Overstapctl__HandoverList *hl = ctl_keep(&c->pool, calloc(1, sizeof(*hl)));
	struct ctl_list a = { .c = c };
	int state = f->state[0] ? s_state_from_str(f->state) : -1, r;

	if (!hl)
		return -ENOMEM;
	if (state == -2)
		return ctl_fail(c, -EINVAL, "unknown state '%s' (imported, registered, ready, queued, "
			      "parked, delivered, cancelled, erased)",
			      f->state);
	overstapctl__handover_list__init(hl);
	/* The view states are filtered row by row, so the limit is applied there. */
	r = store_leavers_each(c->h->store, state, f->cohort, 0, s_leaver_cb, &a);
	if ((r = ctl_list_finish(&a, r, "cannot list")) < 0)
		return r;
	hl->rows = (Overstapctl__HandoverRow **)a.rows;
	hl->n_rows = a.n;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_HANDOVER_LIST;
	c->rep->handover_list = hl;
	return 0;
}

/* The dossier as it was sent, from the outbox: the body of the signed
 * envelope, copied into the pool. */
static int s_sent_dossier(struct req_ctx *c, const char *message_id, ProtobufCBinaryData *out)
{
	uint8_t *packed = NULL;
	size_t len = 0;
	Overstap__Envelope *e;
	const ProtobufCBinaryData *b;
	int r = store_outbox_get(c->h->store, message_id, &packed, &len);

	if (r < 0)
		return r;
	e = overstap__envelope__unpack(NULL, len, packed);
	b = e ? envelope_body(e) : NULL;
	r = -EBADMSG;
	if (b && (out->data = ctl_keep(&c->pool, malloc(b->len + 1)))) {
		memcpy(out->data, b->data, b->len);
		out->len = b->len;
		r = 0;
	}
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	crypto_wipe(packed, len);
	free(packed);
	return r;
}

static int s_withdrawal_cb(const struct withdrawal_rec *w, void *arg)
{
	struct ctl_list *t = arg;
	struct pool *pool = &t->c->pool;
	Overstapctl__WithdrawalRow *row = ctl_keep(pool, calloc(1, sizeof(*row)));
	struct strlist ids = { 0 }, items = { 0 };
	int r = 0;

	if (!row)
		return -ENOMEM;
	overstapctl__withdrawal_row__init(row);
	row->message_id = ctl_strdup(pool, w->message_id);
	row->peer = ctl_strdup(pool, w->peer);
	row->record_id = ctl_strdup(pool, w->record_id);
	row->reason = ctl_strdup(pool, w->reason);
	row->at = w->at;
	row->actor = ctl_strdup(pool, w->actor);
	row->receipt_id = ctl_strdup(pool, w->receipt_id);
	row->receipt_at = w->receipt_at;
	row->erased_at = w->erased_at;
	/* the store keeps both lists comma-separated */
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		struct strlist *l = pass ? &items : &ids;
		char *copy = strdup(pass ? w->erased : w->consent_ids), *save = NULL;

		if (!copy)
			r = -ENOMEM;
		for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && r == 0;
		     tok = strtok_r(NULL, ",", &save))
			r = strlist_addf(l, "%s", tok);
		free(copy);
	}
	row->consent_ids = ctl_keep(pool, calloc(ids.n + 1, sizeof(char *)));
	row->erased = ctl_keep(pool, calloc(items.n + 1, sizeof(char *)));
	for (size_t i = 0; r == 0 && row->consent_ids && i < ids.n; i++)
		row->consent_ids[row->n_consent_ids++] = ctl_strdup(pool, ids.v[i]);
	for (size_t i = 0; r == 0 && row->erased && i < items.n; i++)
		row->erased[row->n_erased++] = ctl_strdup(pool, items.v[i]);
	strlist_clear(&ids);
	strlist_clear(&items);
	if (r == 0 && (!row->consent_ids || !row->erased))
		r = -ENOMEM;
	return r < 0 ? r : ctl_list_push(t, row);
}

int ctl_handover_detail(struct req_ctx *c, struct leaver *l, Overstapctl__HandoverDetail **out)
{
	Overstapctl__HandoverDetail *det = ctl_keep(&c->pool, calloc(1, sizeof(*det)));
	struct ctl_list wl = { .c = c };
	Overstap__Handover h;
	Overstap__Inzage z;
	char subj[32];
	int r;

	if (!det)
		return -ENOMEM;
	overstapctl__handover_detail__init(det);
	det->row = s_leaver_row(c, l);
	if ((r = ctl_timeline(c, l->record_id, &det->events, &det->n_events)) < 0)
		return ctl_fail(c, r, "cannot read the timeline: %s", strerror(-r));
	if (l->record_id[0]) {
		r = store_withdrawals_each(c->h->store, l->record_id, s_withdrawal_cb, &wl);
		if ((r = ctl_list_finish(&wl, r, "cannot read the withdrawals")) < 0)
			return r;
		det->withdrawals = (Overstapctl__WithdrawalRow **)wl.rows;
		det->n_withdrawals = wl.n;
	}
	/* Who looked at whose dossier. If that cannot be written, the dossier
	 * is not shown. */
	r = store_auditf(c->h->store, c->user, "dossier.viewed", ctl_leaver_subject(l, subj), "",
			  "{s:s}", "side", "sending");
	if (r < 0)
		return ctl_fail(c, r, "cannot write the audit log: %s", strerror(-r));
	if (l->message_id[0] && s_sent_dossier(c, l->message_id, &det->dossier) == 0) {
		/* sent: show exactly what left (basis, consents, notes withheld) */
	} else if (l->priv) {
		ctl_dossier(l, l->record_id, &h, &z);
		det->dossier.len = overstap__handover__get_packed_size(&h);
		det->dossier.data = ctl_keep(&c->pool, malloc(det->dossier.len + 1));
		if (det->dossier.data)
			overstap__handover__pack(&h, det->dossier.data);
		else
			det->dossier.len = 0;
	}
	det->erased_at = l->erased_at;
	*out = det;
	return 0;
}

int ctl_handover_show(struct req_ctx *c)
{
	struct leaver l = { 0 };
	Overstapctl__HandoverDetail *det = NULL;
	int r = store_leaver_find(c->h->store, c->req->handover_show->key, 1, &l);

	if (r == -ENOENT)
		r = ctl_fail(c, r, "%s: no such pupil", c->req->handover_show->key);
	else if (r < 0)
		r = ctl_fail(c, r, "cannot read: %s", strerror(-r));
	else
		r = ctl_handover_detail(c, &l, &det);
	store_leaver_clear(&l);
	if (r < 0)
		return r;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_HANDOVER_DETAIL;
	c->rep->handover_detail = det;
	log_notice("user %s viewed the dossier of %s", c->user, c->req->handover_show->key);
	return 0;
}

Overstapctl__InboxRow *ctl_inbox_row(struct pool *pool, const struct inbox_row *r)
{
	Overstapctl__InboxRow *row = ctl_keep(pool, calloc(1, sizeof(*row)));
	const char *prog = vocab_program_str(r->program), *dest = vocab_destination_str(r->destination);

	if (!row)
		return NULL;
	overstapctl__inbox_row__init(row);
	row->record_id = ctl_strdup(pool, r->record_id);
	row->sender = ctl_strdup(pool, r->sender);
	row->received_at = r->received_at;
	row->cohort = ctl_strdup(pool, r->cohort);
	row->program = (char *)(prog ? prog : "");
	row->destination_type = (char *)(dest ? dest : "");
	row->message_id = ctl_strdup(pool, r->message_id);
	return row;
}

static int s_inbox_cb(const struct inbox_row *r, void *arg)
{
	struct ctl_list *a = arg;

	return ctl_list_push(a, ctl_inbox_row(&a->c->pool, r));
}

int ctl_inbox_list(struct req_ctx *c)
{
	const Overstapctl__ListFilter *f = c->req->inbox_list;
	Overstapctl__InboxList *il = ctl_keep(&c->pool, calloc(1, sizeof(*il)));
	struct ctl_list a = { .c = c };
	int r;

	if (!il)
		return -ENOMEM;
	overstapctl__inbox_list__init(il);
	r = store_inbox_each(c->h->store, f->cohort, f->limit, s_inbox_cb, &a);
	if ((r = ctl_list_finish(&a, r, "cannot list")) < 0)
		return r;
	il->rows = (Overstapctl__InboxRow **)a.rows;
	il->n_rows = a.n;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_INBOX_LIST;
	c->rep->inbox_list = il;
	return 0;
}

/* The dossier's consents that its sender has withdrawn since (rx_erasure.c
 * keeps them in `revoked`), so that a reader sees "withdrawn" beside them. */
static int s_inbox_revoked(struct req_ctx *c, Overstapctl__InboxDetail *det, const char *sender)
{
	struct ctl_list t = { .c = c };
	Overstap__Handover *h;
	int r = 0;

	if (!det->dossier.len)
		return 0;
	if (!(h = overstap__handover__unpack(NULL, det->dossier.len, det->dossier.data)))
		return ctl_fail(c, -EBADMSG, "stored record does not decode");
	for (size_t i = 0; i < h->n_consents && r == 0; i++) {
		Overstapctl__RevokedConsent *v;
		int64_t at;

		if ((r = store_revoked_at(c->h->store, h->consents[i]->consent_id, sender, &at)) < 0) {
			r = r == -ENOENT ? 0 : r;
			continue;
		}
		if (!(v = ctl_keep(&c->pool, calloc(1, sizeof(*v))))) {
			r = -ENOMEM;
			break;
		}
		overstapctl__revoked_consent__init(v);
		v->consent_id = ctl_strdup(&c->pool, h->consents[i]->consent_id);
		v->at = at;
		r = v->consent_id ? ctl_list_push(&t, v) : -ENOMEM;
	}
	overstap__handover__free_unpacked(h, NULL);
	if (ctl_list_finish(&t, 0, NULL) < 0 && r == 0)
		r = -ENOMEM;
	det->revoked = (Overstapctl__RevokedConsent **)t.rows;
	det->n_revoked = t.n;
	return r;
}

int ctl_inbox_detail(struct req_ctx *c, const char *record_id, Overstapctl__InboxDetail **out)
{
	Overstapctl__InboxDetail *det = ctl_keep(&c->pool, calloc(1, sizeof(*det)));
	struct inbox_row row;
	Overstap__Envelope *e = NULL;
	uint8_t *packed = NULL;
	size_t len = 0;
	int r, erased = 0;

	if (!det)
		return -ENOMEM;
	r = store_inbox_get(c->h->store, record_id, &row, &packed, &len);
	if (r == -ENOENT)
		return ctl_fail(c, r, "%s: no such record", record_id);
	if (r == -ENOKEY)
		erased = 1;	/* shredded: the row and its timeline remain */
	else if (r < 0)
		return ctl_fail(c, r, "cannot read the record: %s", strerror(-r));
	if (packed && !ctl_keep(&c->pool, packed))
		return -ENOMEM;	/* ctl_keep freed it */
	r = store_auditf(c->h->store, c->user, "dossier.viewed", row.record_id, row.sender,
			  "{s:s}", "side", "receiving");
	if (r < 0)
		return ctl_fail(c, r, "cannot write the audit log: %s", strerror(-r));
	overstapctl__inbox_detail__init(det);
	det->row = ctl_inbox_row(&c->pool, &row);
	det->erased_at = row.erased_at;
	det->erased_what = ctl_strdup(&c->pool, row.erased_what);
	if (!erased) {
		e = overstap__envelope__unpack(NULL, len, packed);
		if (!e || !envelope_body(e))
			r = ctl_fail(c, -EBADMSG, "stored record does not decode");
	}
	if (r == 0)
		r = ctl_timeline(c, row.record_id, &det->events, &det->n_events);
	if (r == 0 && e) {
		const ProtobufCBinaryData *b = envelope_body(e);

		det->dossier.data = ctl_keep(&c->pool, malloc(b->len + 1));
		if (det->dossier.data) {
			memcpy(det->dossier.data, b->data, b->len);
			det->dossier.len = b->len;
		}
	}
	if (r == 0 && e)
		r = s_inbox_revoked(c, det, row.sender);
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	*out = det;
	return r;
}

int ctl_inbox_show(struct req_ctx *c)
{
	Overstapctl__InboxDetail *det = NULL;
	int r = ctl_inbox_detail(c, c->req->inbox_show->key, &det);

	if (r < 0)
		return r;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_INBOX_DETAIL;
	c->rep->inbox_detail = det;
	log_notice("user %s viewed received dossier %s", c->user, c->req->inbox_show->key);
	return 0;
}

