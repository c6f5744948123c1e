/* erasure: see erasure.h. What the receiver erases is decided by its own copy
 * of the dossier (which consents it carried), never by the withdrawal's word
 * alone; the receipt says exactly what went. */
#include "erasure.h"
#include "envelope.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS (86400LL * 1000)
#define RETENTION_BATCH 1000	/* store_retention_due's page */

void erasure_date_before(int days, char out[11])
{
	time_t t = time(NULL) - (time_t)days * 86400;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static const char *s_subject(const struct leaver *l, char buf[32])
{
	if (l->record_id[0])
		return l->record_id;
	snprintf(buf, 32, "leaver:%lld", (long long)l->id);
	return buf;
}

/* Consents the receiver of l's handover can know of. */
static int s_told(const struct leaver *l, const struct consent *k)
{
	return (k->purpose == CONSENT_PURPOSE_HANDOVER || k->purpose == CONSENT_PURPOSE_FOLLOW_UP) &&
	       (strcmp(k->counterpart, CONSENT_ANY) == 0 ||
		strcmp(k->counterpart, l->destination_institution) == 0);
}

int erasure_withdrawal_queue(struct daemon *d, const struct leaver *l, const struct consent *ks,
			     size_t n, const char *reason, const char *date, const char *actor,
			     char peer[7])
{
	Overstap__Withdrawal w = OVERSTAP__WITHDRAWAL__INIT;
	struct withdrawal_rec rec;
	const struct peer_cfg *pc;
	char *ids[ENV_MAX_CONSENTS], detail[200];
	uint8_t *body = NULL;
	size_t blen, pos = 0;
	int r;

	peer[0] = '\0';
	/* A dossier that never left (or was cancelled unsent) told nobody. */
	if (!l->record_id[0] || (l->state != LEAVER_QUEUED && l->state != LEAVER_DELIVERED))
		return 0;
	for (size_t i = 0; i < n && w.n_consent_ids < ENV_MAX_CONSENTS; i++)
		if (s_told(l, &ks[i]))
			ids[w.n_consent_ids++] = (char *)ks[i].id;
	if (w.n_consent_ids == 0)
		return 0;
	pc = config_peer_find(d->cfg, l->destination_institution);
	if (!pc || !pc->endpoint[0]) {
		log_warn("cannot tell %s of a withdrawal for %s: not a configured peer with an "
			    "endpoint; tell them yourself", l->destination_institution, l->record_id);
		return 0;
	}
	w.record_id = (char *)l->record_id;
	w.consent_ids = ids;
	w.withdrawn_on = (char *)date;
	w.reason = (char *)reason;
	blen = overstap__withdrawal__get_packed_size(&w);
	if (!(body = malloc(blen ? blen : 1)))
		return -ENOMEM;
	overstap__withdrawal__pack(&w, body);
	memset(&rec, 0, sizeof(rec));
	r = net_queue(d, pc->id, OVERSTAP__ENVELOPE__BODY_WITHDRAWAL, body, blen, NULL, NULL,
		      rec.message_id);
	free(body);
	if (r < 0)
		return r;
	str_copy(rec.peer, sizeof(rec.peer), pc->id);
	str_copy(rec.record_id, sizeof(rec.record_id), l->record_id);
	for (size_t i = 0; i < w.n_consent_ids; i++)
		pos += (size_t)snprintf(rec.consent_ids + pos, sizeof(rec.consent_ids) - pos, "%s%s",
					i ? "," : "", ids[i]);
	str_copy(rec.reason, sizeof(rec.reason), reason);
	rec.at = time_now_ms();
	str_copy(rec.actor, sizeof(rec.actor), actor);
	if ((r = store_withdrawal_add(d->store, &rec)) < 0)
		return r;
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"consents\":%zu,\"message_id\":\"%s\"}",
		 reason, w.n_consent_ids, rec.message_id);
	if ((r = store_audit(d->store, actor, "withdrawal.queued", l->record_id, pc->id, detail)) < 0)
		return r;
	str_copy(peer, 7, pc->id);
	return 0;
}

/* ---- the receiver ---- */

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
static int s_erase_held(struct daemon *d, const Overstap__Withdrawal *w, const char *sender,
			struct strlist *items)
{
	struct inbox_row row;
	Overstap__Envelope *e = NULL;
	Overstap__Handover *h = NULL;
	uint8_t *packed = NULL, *stripped = NULL;
	size_t len = 0, slen = 0;
	char held_by[7] = "";
	const char *why;
	int erased = 0, handover = 0, follow_up = 0, notes = 0, r;

	r = store_inbox_state(d->store, w->record_id, held_by, &erased);
	if (r == -ENOENT || (r == 0 && strcmp(held_by, sender) != 0))
		return 0;	/* we never received this record from them */
	if (r < 0)
		return r;
	if (erased)
		return strlist_addf(items, "dossier_already_erased");
	if ((r = store_inbox_get(d->store, w->record_id, &row, &packed, &len)) < 0)
		return r;
	e = overstap__envelope__unpack(NULL, len, packed);
	if (!e || envelope_handover_unpack(envelope_body(e), &h, &why) < 0) {
		r = -EBADMSG;
		goto out;
	}
	for (size_t i = 0; i < h->n_consents; i++) {
		if (!s_named(w, h->consents[i]->consent_id))
			continue;
		handover |= strcmp(h->consents[i]->purpose, "handover") == 0;
		follow_up |= strcmp(h->consents[i]->purpose, "follow_up") == 0;
	}
	for (size_t i = 0; i < h->n_support_needs; i++)
		notes |= h->support_needs[i]->note[0] != '\0';
	if (handover && strcmp(h->basis, "consent") == 0) {
		/* the whole dossier rested on the consent */
		if ((r = store_inbox_erase(d->store, w->record_id, "withdrawal", time_now_ms())) == 0)
			r = strlist_addf(items, "dossier");
		d->wal_dirty = 1;
	} else if (handover && notes) {
		/* statutory dossier: only the care notes needed the consent */
		if ((r = s_strip_notes(packed, len, &stripped, &slen)) == 0 &&
		    (r = store_inbox_replace(d->store, w->record_id, stripped, slen, "care_notes")) == 0)
			r = strlist_addf(items, "care_notes");
		d->wal_dirty = 1;
	}
	if (r == 0 && follow_up)
		r = strlist_addf(items, "follow_up_reliance");
out:
	if (h)
		overstap__handover__free_unpacked(h, NULL);
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

static int s_receipt_queue(struct daemon *d, const Overstap__Envelope *e, const Overstap__Withdrawal *w,
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
	r = net_queue(d, e->sender, OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT, body, blen, NULL, NULL, mid);
	free(body);
	return r;
}

const char *erasure_rx_withdrawal(struct daemon *d, const Overstap__Envelope *e, int *failed)
{
	Overstap__Withdrawal *w = NULL;
	struct strlist items = { 0 };
	char actor[16], mid[CRYPTO_UUID_STR_LEN + 1], detail[512], reason[96];
	const char *why = NULL;
	unsigned cancelled = 0;
	size_t pos;
	int64_t now = time_now_ms();
	int r;

	if (envelope_withdrawal_unpack(envelope_body(e), &w, &why) < 0)
		return why;
	if ((r = store_withdrawal_rx_seen(d->store, e->message_id)) != 0)
		goto out;	/* a retry: answered already (or the store failed) */
	snprintf(reason, sizeof(reason), "consent withdrawn by %s", e->sender);
	for (size_t i = 0; i < w->n_consent_ids && r == 0; i++) {
		unsigned n = 0;

		/* stop: no disclosure relies on it from now, queued ones included */
		if ((r = store_revoke(d->store, w->consent_ids[i], e->sender, now)) == 0)
			r = store_outbox_cancel_consent(d->store, w->consent_ids[i], reason, &n);
		cancelled += n;
	}
	if (r == 0)
		r = s_erase_held(d, w, e->sender, &items);
	/* consents told after the dossier (ConsentNotice) go too */
	for (size_t i = 0; i < w->n_consent_ids && r == 0; i++) {
		int gone = store_assertion_delete(d->store, w->consent_ids[i], e->sender);
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
		r = s_receipt_queue(d, e, w, &items, mid);
	if (r == 0)
		r = store_withdrawal_rx_add(d->store, e->message_id, e->sender, w->record_id, mid, now);
	if (r == 0) {
		pos = (size_t)snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"consents\":%zu,"
				       "\"receipt\":\"%s\",\"erased\":\"", w->reason, w->n_consent_ids, mid);
		for (size_t i = 0; i < items.n && pos < sizeof(detail); i++)
			pos += (size_t)snprintf(detail + pos, sizeof(detail) - pos, "%s%s", i ? "," : "",
						items.v[i]);
		if (pos < sizeof(detail))
			snprintf(detail + pos, sizeof(detail) - pos, "\"}");
		snprintf(actor, sizeof(actor), "peer:%s", e->sender);
		r = store_audit(d->store, actor, "withdrawal.received", w->record_id, e->sender, detail);
	}
	if (r == 0) {
		d->outbox_dirty = 1;
		log_notice("peer %s withdrew %zu consent(s) for %s: %zu item(s) erased or stopped",
			   e->sender, w->n_consent_ids, w->record_id, items.n);
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

const char *erasure_rx_receipt(struct daemon *d, const Overstap__Envelope *e, const uint8_t *packed,
			       size_t len, int *failed)
{
	Overstap__ErasureReceipt *m = NULL;
	struct withdrawal_rec rec;
	struct s_find f = { 0 };
	char actor[16], detail[1200];
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
	r = store_withdrawal_receipt(d->store, m->withdrawal_id, e->sender, &rec, packed, len);
	if (r == 1) {
		f.message_id = m->withdrawal_id;
		f.receipt_id = e->message_id;
		r = store_withdrawals_each(d->store, m->record_id, s_find_cb, &f);
		if (r >= 0 && (!f.found || !f.same))
			why = f.found ? "a receipt for this withdrawal is held already"
				      : "receipt for a withdrawal we did not send";
		r = r < 0 ? r : 1;
	}
	if (r == 0) {
		snprintf(detail, sizeof(detail), "{\"withdrawal\":\"%s\",\"erased\":\"%s\"}",
			 m->withdrawal_id, rec.erased);
		snprintf(actor, sizeof(actor), "peer:%s", e->sender);
		r = store_audit(d->store, actor, "erasure.receipt", m->record_id, e->sender, detail);
		if (r == 0)
			log_notice("peer %s confirmed the withdrawal for %s: %s", e->sender, m->record_id,
				   rec.erased);
	}
	if (r < 0) {
		log_err("cannot store a receipt from %s: %s", e->sender, strerror(-r));
		*failed = 1;
	}
out:
	overstap__erasure_receipt__free_unpacked(m, NULL);
	return why;
}

/* ---- retention ---- */

static int s_retention_sent(struct daemon *d, int64_t now, unsigned *count)
{
	int64_t *ids = NULL;
	size_t n = 0;
	char detail[96], subj[32];
	int r;

	snprintf(detail, sizeof(detail), "{\"what\":\"dossier_sent\",\"days\":%d}",
		 d->cfg->retention_sent_days);
	do {
		r = store_retention_sent(d->store, now - d->cfg->retention_sent_days * DAY_MS, &ids, &n);
		if (r < 0 || n == 0 || (r = store_begin(d->store)) < 0)
			break;
		for (size_t i = 0; i < n && r == 0; i++) {
			struct leaver l;

			if ((r = store_leaver_load(d->store, ids[i], 0, &l)) == 0 &&
			    (r = store_leaver_shred(d->store, &l, now)) == 0)
				r = store_audit(d->store, "daemon", "retention.erased", s_subject(&l, subj),
						l.destination_institution, detail);
			store_leaver_clear(&l);
		}
		if (r == 0 && (r = store_commit(d->store)) == 0)
			*count += (unsigned)n;
		else
			store_rollback(d->store);
	} while (r == 0 && n == RETENTION_BATCH);
	free(ids);
	return r;
}

static int s_retention_received(struct daemon *d, int64_t now, unsigned *count)
{
	struct strlist recs = { 0 };
	size_t n = 0;
	char detail[96];
	int r;

	snprintf(detail, sizeof(detail), "{\"what\":\"dossier_received\",\"days\":%d}",
		 d->cfg->retention_received_days);
	do {
		strlist_clear(&recs);
		r = store_retention_received(d->store, now - d->cfg->retention_received_days * DAY_MS, &recs);
		n = recs.n;
		if (r < 0 || n == 0 || (r = store_begin(d->store)) < 0)
			break;
		for (size_t i = 0; i < recs.n && r == 0; i++)
			if ((r = store_inbox_erase(d->store, recs.v[i], "retention", now)) == 0)
				r = store_audit(d->store, "daemon", "retention.erased", recs.v[i], "", detail);
		if (r == 0 && (r = store_commit(d->store)) == 0)
			*count += (unsigned)n;
		else
			store_rollback(d->store);
	} while (r == 0 && n == RETENTION_BATCH);
	strlist_clear(&recs);
	return r;
}

int erasure_retention_run(struct daemon *d, unsigned *erased)
{
	int64_t now = time_now_ms();
	unsigned events = 0, dossiers = 0;
	char before[11], detail[128];
	int r;

	*erased = 0;
	if ((r = s_retention_sent(d, now, &dossiers)) < 0 ||
	    (r = s_retention_received(d, now, &dossiers)) < 0)
		return r;
	erasure_date_before(d->cfg->retention_outcomes_days, before);
	if ((r = store_begin(d->store)) < 0)
		return r;
	r = store_events_expire(d->store, before, &events);
	if (r == 0 && events) {
		snprintf(detail, sizeof(detail), "{\"what\":\"events\",\"count\":%u,\"before\":\"%s\"}",
			 events, before);
		r = store_audit(d->store, "daemon", "retention.erased", "", "", detail);
	}
	if (r == 0)
		r = store_commit(d->store);
	else
		store_rollback(d->store);
	if (r < 0)
		return r;
	*erased = dossiers + events;
	if (*erased) {
		log_notice("retention: erased %u dossier(s) and %u status/outcome row(s)", dossiers, events);
		r = store_checkpoint_wal(d->store);
	}
	return r;
}

/* ---- consents told after the dossier ---- */

const char *erasure_rx_notice(struct daemon *d, const Overstap__Envelope *e, int *failed)
{
	Overstap__ConsentNotice *m = NULL;
	const Overstap__ConsentAssertion *a;
	char held_by[7] = "", actor[16], detail[160], today[11];
	const char *why = NULL;
	uint8_t packed[1024];
	size_t len;
	int erased = 0, r;

	if (envelope_notice_unpack(envelope_body(e), &m, &why) < 0)
		return why;
	a = m->consent;
	date_today(today);
	r = store_inbox_state(d->store, m->record_id, held_by, &erased);
	if (r < 0 && r != -ENOENT)
		goto fail;
	if (r == -ENOENT || strcmp(held_by, e->sender) != 0) {
		why = "no handover with this record id from the sender";
		r = 0;
	}
	else if (strcmp(a->purpose, "follow_up") != 0 ||
		 (strcmp(a->counterpart, CONSENT_ANY) != 0 &&
		  strcmp(a->counterpart, d->cfg->institution_id) != 0))
		why = "consent notice is not of a follow_up consent for this institution";
	else if ((r = store_consent_revoked(d->store, a->consent_id, today)) != 0)
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
	r = store_assertion_put(d->store, m->record_id, e->sender, a->consent_id, packed, len,
				time_now_ms());
	if (r == 0) {
		snprintf(actor, sizeof(actor), "peer:%s", e->sender);
		snprintf(detail, sizeof(detail), "{\"purpose\":\"follow_up\",\"consent_id\":\"%s\","
			 "\"valid_until\":\"%s\"}", a->consent_id, a->valid_until);
		r = store_audit(d->store, actor, "consent.notice_received", m->record_id, e->sender, detail);
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
