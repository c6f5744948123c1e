/* subject_json: Subject reply -> evidence object (see subject_json.h). */
#include "subject_json.h"

#include "dossier.h"

/* jansson's _new setters steal the value: one error flag for a whole object. */
static int s_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v ? v : "")) != 0;
}

static int s_int(json_t *o, const char *k, int64_t v)
{
	return json_object_set_new(o, k, json_integer(v)) != 0;
}

static json_t *s_dossier(const ProtobufCBinaryData *b)
{
	Overstap__Handover *h = NULL;
	json_t *d;

	if (dossier_unpack(b, &h) < 0)
		return json_null();
	d = dossier_json(h);
	dossier_free(&h);
	return d ? d : json_null();
}

static json_t *s_timeline(Overstapctl__EventRow *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		json_t *e = json_object();
		int x = !e;

		if (e) {
			x |= s_str(e, "event", v[i]->event);
			x |= s_str(e, "date", v[i]->date);
			x |= s_int(e, "level", v[i]->level);
			x |= s_str(e, "peer", v[i]->peer);
			x |= s_str(e, "state", v[i]->state);
			x |= s_int(e, "at", v[i]->at);
		}
		if (x || json_array_append_new(a, e)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *s_sent(const Overstapctl__HandoverDetail *d)
{
	json_t *o = json_object(), *row = json_object(), *w = json_array();
	int x = !o || !row || !w;

	if (!x && d->row) {
		x |= s_str(row, "pupil_ref", d->row->pupil_ref);
		x |= s_str(row, "destination_institution", d->row->destination_institution);
		x |= s_str(row, "state", d->row->state);
		x |= s_int(row, "delivered_at", d->row->delivered_at);
	}
	for (size_t i = 0; !x && i < d->n_withdrawals; i++) {
		const Overstapctl__WithdrawalRow *wr = d->withdrawals[i];
		json_t *e = json_object(), *rc = json_object(), *er = json_array();

		x |= !e || !rc || !er;
		if (!x) {
			for (size_t k = 0; k < wr->n_erased; k++)
				x |= json_array_append_new(er, json_string(wr->erased[k])) != 0;
			x |= s_str(e, "peer", wr->peer);
			x |= s_str(e, "reason", wr->reason);
			x |= s_int(e, "at", wr->at);
			x |= s_int(rc, "erased_at", wr->erased_at);
			x |= json_object_set(rc, "erased", er) != 0;
			x |= json_object_set_new(e, "receipt", wr->receipt_id && *wr->receipt_id
								       ? json_incref(rc) : json_null()) != 0;
			x |= json_array_append(w, e) != 0;
		}
		json_decref(e);
		json_decref(rc);
		json_decref(er);
	}
	if (!x) {
		x |= json_object_set(o, "row", row) != 0;
		x |= json_object_set_new(o, "dossier", s_dossier(&d->dossier)) != 0;
		x |= s_int(o, "erased_at", d->erased_at);
		x |= json_object_set_new(o, "timeline", s_timeline(d->events, d->n_events)) != 0;
		x |= json_object_set(o, "withdrawals", w) != 0;
	}
	json_decref(row);
	json_decref(w);
	if (x) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *s_received(const Overstapctl__InboxDetail *d)
{
	json_t *o = json_object(), *row = json_object(), *rv = json_array();
	int x = !o || !row || !rv;

	if (!x && d->row) {
		x |= s_str(row, "sender", d->row->sender);
		x |= s_int(row, "received_at", d->row->received_at);
	}
	for (size_t i = 0; !x && i < d->n_revoked; i++) {
		json_t *e = json_object();

		x |= !e;
		if (e) {
			x |= s_str(e, "consent_id", d->revoked[i]->consent_id);
			x |= s_int(e, "at", d->revoked[i]->at);
			x |= json_array_append_new(rv, e) != 0;
		}
	}
	if (!x) {
		x |= json_object_set(o, "row", row) != 0;
		x |= json_object_set_new(o, "dossier", s_dossier(&d->dossier)) != 0;
		x |= s_int(o, "erased_at", d->erased_at);
		x |= s_str(o, "erased_what", d->erased_what);
		x |= json_object_set_new(o, "timeline", s_timeline(d->events, d->n_events)) != 0;
		x |= json_object_set(o, "revoked", rv) != 0;
	}
	json_decref(row);
	json_decref(rv);
	if (x) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *s_consent(const Overstapctl__ConsentRow *c)
{
	json_t *o = json_object();
	int x = !o;

	if (o) {
		x |= s_str(o, "consent_id", c->id);
		x |= s_str(o, "purpose", c->purpose);
		x |= s_str(o, "counterpart", c->counterpart);
		x |= s_str(o, "grantor", c->grantor);
		x |= s_str(o, "granted_at", c->granted_at);
		x |= s_str(o, "valid_until", c->valid_until);
		x |= s_str(o, "evidence_method", c->evidence_method);
		x |= s_str(o, "withdrawn_at", c->withdrawn_at);
		x |= json_object_set_new(o, "in_force", json_boolean(c->in_force)) != 0;
	}
	if (x) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *s_misc(json_t *o, const Overstapctl__Subject *s, int *x)
{
	json_t *regs = json_array(), *en = json_array(), *audit = json_array();

	*x |= !regs || !en || !audit;
	for (size_t i = 0; !*x && i < s->n_registrations; i++) {
		const Overstapctl__RegistrationSent *g = s->registrations[i];
		json_t *e = json_object();

		*x |= !e || s_str(e, "school", g->school) || s_str(e, "registered_on", g->registered_on) ||
		      s_str(e, "state", g->state) || s_str(e, "reason", g->reason) || s_int(e, "at", g->at);
		*x |= json_array_append_new(regs, e) != 0;
	}
	for (size_t i = 0; !*x && i < s->n_enrolments; i++) {
		const Overstapctl__EnrolmentInfo *w = s->enrolments[i];
		json_t *e = json_object();

		*x |= !e || s_int(e, "level", w->level) || s_str(e, "start_date", w->start_date) ||
		      s_str(e, "previous", w->previous) || s_str(e, "record_id", w->record_id) ||
		      s_int(e, "imported_at", w->imported_at);
		*x |= json_array_append_new(en, e) != 0;
	}
	for (size_t i = 0; !*x && i < s->n_audit; i++) {
		/* a line that does not parse is kept as text, as the CLI keeps it */
		json_t *v = json_loads(s->audit[i], JSON_DECODE_ANY, NULL);

		*x |= json_array_append_new(audit, v ? v : json_string(s->audit[i])) != 0;
	}
	*x |= json_object_set_new(o, "registrations", regs) != 0;
	*x |= json_object_set_new(o, "enrolments", en) != 0;
	*x |= json_object_set_new(o, "audit", audit) != 0;
	return o;
}

json_t *subject_json(const char *key, const Overstapctl__Subject *s)
{
	json_t *o = json_object(), *peers = json_object(), *sent = json_array(),
	       *rec = json_array(), *cons = json_array();
	int x = !o || !peers || !sent || !rec || !cons;

	for (size_t i = 0; !x && i < s->n_peers; i++)
		x |= s_str(peers, s->peers[i]->id, s->peers[i]->name);
	for (size_t i = 0; !x && i < s->n_sent; i++)
		x |= json_array_append_new(sent, s_sent(s->sent[i])) != 0;
	for (size_t i = 0; !x && i < s->n_received; i++)
		x |= json_array_append_new(rec, s_received(s->received[i])) != 0;
	for (size_t i = 0; !x && i < s->n_consents; i++)
		x |= json_array_append_new(cons, s_consent(s->consents[i])) != 0;
	if (!x) {
		x |= s_str(o, "subject", key);
		x |= s_str(o, "institution", s->institution);
		x |= s_str(o, "institution_name", s->institution_name);
		x |= json_object_set(o, "peers", peers) != 0;
		x |= json_object_set(o, "sent", sent) != 0;
		x |= json_object_set(o, "received", rec) != 0;
		x |= json_object_set(o, "consents", cons) != 0;
		s_misc(o, s, &x);
	}
	json_decref(peers);
	json_decref(sent);
	json_decref(rec);
	json_decref(cons);
	if (x) {
		json_decref(o);
		return NULL;
	}
	return o;
}
