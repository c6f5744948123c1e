/* rx_handover: the Handover row of the receive table: a dossier for us, the
 * receiver (docs/design.md §3, §4). */
#include "rx_int.h"
#include "envelope.h"
#include "jdetail.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
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

static int s_audit(struct hctx *h, const char *sender, const char *action, const char *record_id,
		   const char *basis, const char *reason)
{
	char actor[16];

	/* "s*": no reason key when reason is NULL */
	return store_auditf(h->store, rx_actor(sender, actor), action, record_id, sender,
			     "{s:s, s:o, s:s*}", "purpose", "handover", "basis", jdetail_textn(basis, 16),
			     "reason", reason);
}

/* Store one handover (inside the batch transaction). Returns the reason to
 * reject it with, or NULL when stored or already held. */
const char *rx_handover(struct hctx *h, const struct rx_msg *m, int *failed)
{
	const Overstap__Envelope *e = m->e;
	Overstap__Handover *ho = NULL;
	const char *why = NULL;
	int r;

	if (envelope_handover_unpack(envelope_body(e), &ho, &why) < 0)
		return why;
	why = s_basis_check(h, ho);
	if (why) {
		/* a refusal on the legal basis is a decision about a pupil: audited */
		if (s_audit(h, e->sender, "dossier.refused", ho->record_id, ho->basis, why) < 0)
			*failed = 1;
		goto out;
	}
	r = store_inbox_put(h->store, e->message_id, e->sender, ho, m->packed, m->len, time_now_ms());
	if (r == -EEXIST) {	/* only the inbox's own key says "held already" */
		why = "record id already received in another message";
		goto out;
	}
	if (r == 0)
		r = s_audit(h, e->sender, "dossier.received", ho->record_id, ho->basis, NULL);
	if (r < 0) {
		log_err("cannot store handover %s from %s: %s", str_visbuf(e->message_id).s, e->sender,
			strerror(-r));
		*failed = 1;
	}
out:
	overstap__handover__free_unpacked(ho, NULL);
	return why;
}
