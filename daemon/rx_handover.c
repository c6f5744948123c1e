/* rx_handover: the Handover row of the receive table: a dossier for us, the
 * receiver (docs/design.md §3, §4). */
#include "rx_int.h"
#include "envelope.h"
#include "jdetail.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The receiver's own check of the legal basis (design.md §3): a dossier sent under
 * consent must carry an assertion of a handover consent for us that is in
 * force; free-text care notes always need one. NULL = acceptable. */
static const char *s_basis_check(const struct hctx *h, const Overstap__Handover *ho)
{
	char today[11];
	int consent = 0, notes = 0;

	date_today(today);
	for (size_t i = 0; i < ho->n_consents; i++)
		consent |= envelope_assertion_in_force(ho->consents[i], "handover",
						       h->cfg->institution_id, today);
	for (size_t i = 0; i < ho->n_support_needs; i++)
		notes |= ho->support_needs[i]->note[0] != '\0';
	if (strcmp(ho->basis, "statute") != 0 && strcmp(ho->basis, "consent") != 0)
		return "handover with an unknown legal basis";
	if (strcmp(ho->basis, "consent") == 0 && !consent)
		return "handover under consent without a valid consent assertion";
	if (notes && !consent)
		return "free-text care notes without a handover consent";
	return NULL;
}

/* The audit detail of a handover: purpose, basis, and the reason of a
 * refusal ("s*": no reason key when reason is NULL). */
static int s_detail(char **out, const char *basis, const char *reason)
{
	return jdetail_format(out, "{s:s, s:o, s:s*}", "purpose", "handover", "basis",
			      jdetail_textn(basis, 16), "reason", reason);
}

/* Audit action on record_id; detail: made beforehand (s_detail), or NULL
 * to make it here. */
static int s_audit(struct hctx *h, const char *sender, const char *action, const char *record_id,
		   const char *basis, const char *reason, const char *detail)
{
	char actor[16], *own = NULL;
	int r = 0;

	if (!detail && (r = s_detail(&own, basis, reason)) == 0)
		detail = own;
	if (r == 0)
		r = store_audit(h->store, rx_actor(sender, actor), action, record_id, sender, detail);
	free(own);
	return r;
}

/* What a worker made of a handover (rx_handover_prep): the body unpacked,
 * and sealed for the inbox when it unpacked. */
struct s_prep {
	Overstap__Handover *ho;		/* NULL: refused, why says why */
	const char *why;
	struct inbox_sealed x;
	int sealed;			/* x is filled */
	char *detail;			/* of dossier.received, or NULL */
};

void *rx_handover_prep(const struct hctx *h, const struct rx_msg *m)
{
	const Overstap__Envelope *e = m->e;
	struct s_prep *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (envelope_handover_unpack(envelope_body(e), &p->ho, &p->why) == 0) {
		p->sealed = store_inbox_seal(h->store, e->message_id, p->ho->pgn, m->packed, m->len,
					     &p->x) == 0;
		if (s_detail(&p->detail, p->ho->basis, NULL) < 0)
			p->detail = NULL;	/* made on the loop then */
	}
	return p;
}

void rx_handover_prep_free(void *prep)
{
	struct s_prep *p = prep;

	if (!p)
		return;
	if (p->ho)
		overstap__handover__free_unpacked(p->ho, NULL);
	store_inbox_sealed_clear(&p->x);
	free(p->detail);
	free(p);
}

/* Store one handover (inside the batch transaction). Returns the reason to
 * reject it with, or NULL when stored or already held. With m->prep
 * (rx_handover_prep, on a worker) only the checks and the SQL are left. */
const char *rx_handover(struct hctx *h, const struct rx_msg *m, int *failed)
{
	const Overstap__Envelope *e = m->e;
	struct s_prep *p = m->prep;
	Overstap__Handover *ho = NULL;
	const char *why = NULL;
	int r;

	if (p && !p->ho)
		return p->why;
	if (p)
		ho = p->ho;
	else if (envelope_handover_unpack(envelope_body(e), &ho, &why) < 0)
		return why;
	why = s_basis_check(h, ho);
	if (why) {
		/* a refusal on the legal basis is a decision about a pupil: audited */
		if (s_audit(h, e->sender, "dossier.refused", ho->record_id, ho->basis, why, NULL) < 0)
			*failed = 1;
		goto out;
	}
	r = p && p->sealed ?
		    store_inbox_put_sealed(h->store, e->message_id, e->sender, ho, &p->x, time_now_ms()) :
		    store_inbox_put(h->store, e->message_id, e->sender, ho, m->packed, m->len,
				    time_now_ms());
	if (r == -EEXIST) {	/* only the inbox's own key says "held already" */
		why = "record id already received in another message";
		goto out;
	}
	if (r == 0)
		r = s_audit(h, e->sender, "dossier.received", ho->record_id, ho->basis, NULL,
			    p ? p->detail : NULL);
	if (r < 0) {
		log_err("cannot store handover %s from %s: %s", str_visbuf(e->message_id).s, e->sender,
			strerror(-r));
		*failed = 1;
	}
out:
	if (!p)
		overstap__handover__free_unpacked(ho, NULL);
	return why;
}
