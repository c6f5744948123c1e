/* rx_erasure: the withdrawal, erasure-receipt and consent-notice rows of the
 * receive table (docs/design.md §3, §4). What the receiver erases is decided by
 * its own copy of the dossier (which consents it carried), never by the
 * withdrawal's word alone; the receipt says exactly what went. */
#include "rx_int.h"
#include "envelope.h"
#include "jdetail.h"
#include "log.h"
#include "outbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The stored envelope with every free-text care note emptied. The sender's
 * signature covered the notes, so it goes too: this copy is no longer
 * evidence of origin, and says so by carrying none. */
static int s_strip_notes(const uint8_t *packed, size_t len, uint8_t **out, size_t *olen)
{
	Overstap__Envelope *e = overstap__envelope__unpack(NULL, len, packed);
	Overstap__Handover *h = NULL;
	char *saved[ENV_MAX_SUPPORT_NEEDS];
	ProtobufCBinaryData body, sig;
	uint8_t *nb = NULL;
	const char *why;
	int r = -EBADMSG;

	if (!e || e->body_case != OVERSTAP__ENVELOPE__BODY_HANDOVER ||
	    envelope_handover_unpack(&e->handover, &h, &why) < 0)
		goto out;
	for (size_t i = 0; i < h->n_support_needs; i++) {
		saved[i] = h->support_needs[i]->note;
		h->support_needs[i]->note = (char *)protobuf_c_empty_string;
	}
	body.len = overstap__handover__get_packed_size(h);
	r = -ENOMEM;
	if ((nb = malloc(body.len ? body.len : 1))) {
		overstap__handover__pack(h, nb);
		body.data = nb;
		/* swap the new body and an empty signature in, pack, swap back */
		ProtobufCBinaryData old = e->handover;
		sig = e->signature;
		e->handover = body;
		e->signature.len = 0;
		e->signature.data = NULL;
		*olen = overstap__envelope__get_packed_size(e);
		if ((*out = malloc(*olen ? *olen : 1))) {
			overstap__envelope__pack(e, *out);
			r = 0;
		}
		e->handover = old;
		e->signature = sig;
	}
	for (size_t i = 0; i < h->n_support_needs; i++)
		h->support_needs[i]->note = saved[i];
out:
	free(nb);
	if (h)
		overstap__handover__free_unpacked(h, NULL);
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	return r;
}

static int s_named(const Overstap__Withdrawal *w, const char *consent_id)
{
	for (size_t i = 0; i < w->n_consent_ids; i++)
		if (strcmp(w->consent_ids[i], consent_id) == 0)
			return 1;
	return 0;
}

/* Erase what our copy of the dossier holds under the consents named. */
static int s_erase_held(struct hctx *h, const Overstap__Withdrawal *w, const char *sender,
			struct strlist *items)
{
	struct inbox_row row;
	Overstap__Envelope *e = NULL;
	Overstap__Handover *ho = NULL;
	uint8_t *packed = NULL, *stripped = NULL;
	size_t len = 0, slen = 0;
	char held_by[7] = "";
	const char *why;
	int erased = 0, handover = 0, follow_up = 0, notes = 0, r;

	r = store_inbox_state(h->store, w->record_id, held_by, &erased);
	if (r == -ENOENT || (r == 0 && strcmp(held_by, sender) != 0))
		return 0;	/* we never received this record from them */
	if (r < 0)
		return r;
	if (erased)
		return strlist_addf(items, "dossier_already_erased");
	if ((r = store_inbox_get(h->store, w->record_id, &row, &packed, &len)) < 0)
		return r;
	e = overstap__envelope__unpack(NULL, len, packed);
	if (!e || envelope_handover_unpack(envelope_body(e), &ho, &why) < 0) {
		r = -EBADMSG;
		goto out;
	}
	for (size_t i = 0; i < ho->n_consents; i++) {
		if (!s_named(w, ho->consents[i]->consent_id))
			continue;
		handover |= strcmp(ho->consents[i]->purpose, "handover") == 0;
		follow_up |= strcmp(ho->consents[i]->purpose, "follow_up") == 0;
	}
	for (size_t i = 0; i < ho->n_support_needs; i++)
		notes |= ho->support_needs[i]->note[0] != '\0';
	if (handover && strcmp(ho->basis, "consent") == 0) {
		/* the whole dossier rested on the consent */
		if ((r = store_inbox_erase(h->store, w->record_id, "withdrawal", time_now_ms())) == 0)
			r = strlist_addf(items, "dossier");
		h->wal_dirty = 1;
	} else if (handover && notes) {
		/* statutory dossier: only the care notes needed the consent */
		if ((r = s_strip_notes(packed, len, &stripped, &slen)) == 0 &&
		    (r = store_inbox_replace(h->store, w->record_id, stripped, slen, "care_notes")) == 0)
			r = strlist_addf(items, "care_notes");
		h->wal_dirty = 1;
	}
	if (r == 0 && follow_up)
		r = strlist_addf(items, "follow_up_reliance");
out:
	if (ho)
		overstap__handover__free_unpacked(ho, NULL);
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	if (packed) {
		crypto_wipe(packed, len);
		free(packed);
	}
	if (stripped) {
		crypto_wipe(stripped, slen);
		free(stripped);
	}
	return r;
}

static int s_receipt_queue(struct hctx *h, const Overstap__Envelope *e, const Overstap__Withdrawal *w,
			   const struct strlist *items, char mid[CRYPTO_UUID_STR_LEN + 1])
{
	Overstap__ErasureReceipt m = OVERSTAP__ERASURE_RECEIPT__INIT;
	uint8_t *body;
	size_t blen;
	int r;

	m.withdrawal_id = e->message_id;
	m.record_id = w->record_id;
	m.consent_ids = w->consent_ids;
	m.n_consent_ids = w->n_consent_ids;
	m.erased_at = time_now_ms();
	m.erased = items->v;
	m.n_erased = items->n;
	blen = overstap__erasure_receipt__get_packed_size(&m);
	if (!(body = malloc(blen ? blen : 1)))
		return -ENOMEM;
	overstap__erasure_receipt__pack(&m, body);
	r = outbox_queue(h, &(struct outbox_item){ .peer = e->sender,
						   .body_case = OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT,
						   .body = body, .blen = blen }, mid);
	free(body);
	return r;
}

const char *rx_withdrawal(struct hctx *h, const struct rx_msg *msg, int *failed)
{
	const Overstap__Envelope *e = msg->e;
	Overstap__Withdrawal *w = NULL;
	struct strlist items = { 0 };
	char actor[16], mid[CRYPTO_UUID_STR_LEN + 1], reason[96];
	const char *why = NULL;
	unsigned cancelled = 0;
	int64_t now = time_now_ms();
	int r;

	if (envelope_withdrawal_unpack(envelope_body(e), &w, &why) < 0)
		return why;
	if ((r = store_withdrawal_rx_seen(h->store, e->message_id)) != 0)
		goto out;	/* a retry: answered already (or the store failed) */
	snprintf(reason, sizeof(reason), "consent withdrawn by %s", e->sender);
	for (size_t i = 0; i < w->n_consent_ids && r == 0; i++) {
		unsigned n = 0;

		/* stop: no disclosure relies on it from now, queued ones included */
		if ((r = store_revoke(h->store, w->consent_ids[i], e->sender, now)) == 0)
			r = store_outbox_cancel_consent(h->store, w->consent_ids[i], reason, &n);
		cancelled += n;
	}
	if (r == 0)
		r = s_erase_held(h, w, e->sender, &items);
	/* consents told after the dossier (ConsentNotice) go too */
	for (size_t i = 0; i < w->n_consent_ids && r == 0; i++) {
		int gone = store_assertion_delete(h->store, w->consent_ids[i], e->sender);
		int listed = 0;

		for (size_t k = 0; k < items.n; k++)
			listed |= strcmp(items.v[k], "follow_up_reliance") == 0;
		r = gone < 0 ? gone : gone && !listed ? strlist_addf(&items, "follow_up_reliance") : 0;
	}
	if (r == 0 && cancelled)
		r = strlist_addf(&items, "queued_outcomes_cancelled:%u", cancelled);
	if (r == 0 && items.n == 0)
		r = strlist_addf(&items, "nothing_held");
	if (r == 0)
		r = s_receipt_queue(h, e, w, &items, mid);
	if (r == 0)
		r = store_withdrawal_rx_add(h->store, e->message_id, e->sender, w->record_id, mid, now);
	if (r == 0) {
		snprintf(actor, sizeof(actor), "peer:%s", e->sender);
		r = store_auditf(h->store, actor, "withdrawal.received", w->record_id, e->sender,
				  "{s:o, s:I, s:s, s:o}", "reason", jdetail_text(w->reason),
				  "consents", (json_int_t)w->n_consent_ids, "receipt", mid,
				  "erased", jdetail_join(items.v, items.n, ","));
	}
	if (r == 0) {
		log_noticef(&((struct log_fields){ .id = LOG_ID_WITHDRAWAL, .peer = e->sender,
						   .record_id = w->record_id }),
			    "peer %s withdrew %zu consent(s) for %s: %zu item(s) erased or stopped",
			    e->sender, w->n_consent_ids, str_visbuf(w->record_id).s, items.n);
	}
out:
	if (r < 0) {
		log_err("cannot apply a withdrawal from %s: %s", e->sender, strerror(-r));
		*failed = 1;
	}
	strlist_clear(&items);
	overstap__withdrawal__free_unpacked(w, NULL);
	return NULL;
}

/* ---- the school, receiving the receipt ---- */

struct s_find {
	const char *message_id, *receipt_id;
	int found, same;
};

static int s_find_cb(const struct withdrawal_rec *w, void *arg)
{
	struct s_find *f = arg;

	if (strcmp(w->message_id, f->message_id) != 0)
		return 0;
	f->found = 1;
	f->same = strcmp(w->receipt_id, f->receipt_id) == 0;
	return 1;
}

const char *rx_receipt(struct hctx *h, const struct rx_msg *msg, int *failed)
{
	const Overstap__Envelope *e = msg->e;
	Overstap__ErasureReceipt *m = NULL;
	struct withdrawal_rec rec;
	struct s_find f = { 0 };
	char actor[16];
	const char *why = NULL;
	size_t pos = 0;
	int r;

	if (envelope_receipt_unpack(envelope_body(e), &m, &why) < 0)
		return why;
	memset(&rec, 0, sizeof(rec));
	str_copy(rec.receipt_id, sizeof(rec.receipt_id), e->message_id);
	rec.receipt_at = time_now_ms();
	rec.erased_at = m->erased_at;
	for (size_t i = 0; i < m->n_erased && pos < sizeof(rec.erased); i++)
		pos += (size_t)snprintf(rec.erased + pos, sizeof(rec.erased) - pos, "%s%s", i ? "," : "",
					m->erased[i]);
	if (pos >= sizeof(rec.erased)) {
		why = "erasure receipt too long";
		goto out;
	}
	r = store_withdrawal_receipt(h->store, m->withdrawal_id, e->sender, &rec, msg->packed, msg->len);
	if (r == 1) {
		f.message_id = m->withdrawal_id;
		f.receipt_id = e->message_id;
		r = store_withdrawals_each(h->store, m->record_id, s_find_cb, &f);
		if (r >= 0 && (!f.found || !f.same))
			why = f.found ? "a receipt for this withdrawal is held already"
				      : "receipt for a withdrawal we did not send";
		r = r < 0 ? r : 1;
	}
	if (r == 0) {
		snprintf(actor, sizeof(actor), "peer:%s", e->sender);
		r = store_auditf(h->store, actor, "erasure.receipt", m->record_id, e->sender,
				  "{s:o, s:o}", "withdrawal", jdetail_text(m->withdrawal_id),
				  "erased", jdetail_text(rec.erased));
		if (r == 0)
			log_notice("peer %s confirmed the withdrawal for %s: %s", e->sender,
				   str_visbuf(m->record_id).s, str_visbuf(rec.erased).s);
	}
	if (r < 0) {
		log_err("cannot store a receipt from %s: %s", e->sender, strerror(-r));
		*failed = 1;
	}
out:
	overstap__erasure_receipt__free_unpacked(m, NULL);
	return why;
}

/* ---- consents told after the dossier ---- */

const char *rx_notice(struct hctx *h, const struct rx_msg *msg, int *failed)
{
	const Overstap__Envelope *e = msg->e;
	Overstap__ConsentNotice *m = NULL;
	const Overstap__ConsentAssertion *a;
	char held_by[7] = "", actor[16], today[11];
	const char *why = NULL;
	uint8_t packed[1024];
	size_t len;
	int erased = 0, r;

	if (envelope_notice_unpack(envelope_body(e), &m, &why) < 0)
		return why;
	a = m->consent;
	date_today(today);
	r = store_inbox_state(h->store, m->record_id, held_by, &erased);
	if (r < 0 && r != -ENOENT)
		goto fail;
	if (r == -ENOENT || strcmp(held_by, e->sender) != 0) {
		why = "no handover with this record id from the sender";
		r = 0;
	}
	else if (strcmp(a->purpose, "follow_up") != 0 ||
		 (strcmp(a->counterpart, CONSENT_ANY) != 0 &&
		  strcmp(a->counterpart, h->cfg->institution_id) != 0))
		why = "consent notice is not of a follow_up consent for this institution";
	else if ((r = store_consent_revoked(h->store, a->consent_id, today)) != 0)
		why = r > 0 ? "consent notice of a consent withdrawn before" : NULL;
	if (r < 0)
		goto fail;
	if (why)
		goto out;
	if ((len = overstap__consent_assertion__get_packed_size(a)) > sizeof(packed)) {
		why = "consent notice too long";
		goto out;
	}
	overstap__consent_assertion__pack(a, packed);
	r = store_assertion_put(h->store, m->record_id, e->sender, a->consent_id, packed, len,
				time_now_ms());
	if (r == 0) {
		snprintf(actor, sizeof(actor), "peer:%s", e->sender);
		r = store_auditf(h->store, actor, "consent.notice_received", m->record_id, e->sender,
				  "{s:s, s:o, s:o}", "purpose", "follow_up",
				  "consent_id", jdetail_text(a->consent_id),
				  "valid_until", jdetail_text(a->valid_until));
	}
	if (r >= 0)
		goto out;	/* 1: a retry of one we hold */
fail:
	log_err("cannot store a consent notice from %s: %s", e->sender, strerror(-r));
	*failed = 1;
out:
	overstap__consent_notice__free_unpacked(m, NULL);
	return why;
}
