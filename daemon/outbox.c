/* outbox: see outbox.h. */
#include "outbox.h"
#include "envelope.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

int outbox_queue(struct hctx *h, const struct outbox_item *it, char mid[CRYPTO_UUID_STR_LEN + 1])
{
	uint8_t *packed = NULL;
	size_t plen = 0;
	struct peer_info pi;
	char why[OUTBOX_PARKED_LEN] = "";
	int r = envelope_build(h->cfg->institution_id, it->peer, it->body_case, it->body, it->blen,
			       h->keys->signer, mid, &packed, &plen);

	if (r == 0)
		r = store_outbox_add(h->store, mid, it->peer, it->body_case, packed, plen, it->key_id,
				     time_now_ms());
	/* a failed read fails the queueing: inside a transaction sqlite may have
	 * rolled it back already (test_fault_rx.c) */
	if (r == 0 && (r = store_peer_info_get(h->store, it->peer, &pi)) == -ENOENT)
		r = 0, pi.max_message_size = 0;
	if (r == 0 && pi.max_message_size && (int64_t)plen > pi.max_message_size) {
		snprintf(why, sizeof(why), "message of %zu bytes is larger than %s's limit of %lld bytes",
			 plen, it->peer, (long long)pi.max_message_size);
		r = store_outbox_park(h->store, it->peer, mid, why, 0, 0);
		if (r == 0)	/* as when a receiver's refusal parks it (net_tx.c) */
			r = store_auditf(h->store, "daemon", "message.parked", "", it->peer,
					 "{s:s, s:s}", "message_id", mid, "reason", why);
	}
	if (it->parked)
		str_copy(it->parked, OUTBOX_PARKED_LEN, why);
	if (r == 0 && it->consent_id)
		r = store_outbox_set_consent(h->store, mid, it->consent_id, it->until ? it->until : "");
	if (r == 0)
		h->outbox_dirty = 1;
	if (packed)
		crypto_wipe(packed, plen);
	free(packed);
	return r;
}

int outbox_queue_msg(struct hctx *h, const char *peer, Overstap__Envelope__BodyCase body_case,
		     const ProtobufCMessage *msg, char mid[CRYPTO_UUID_STR_LEN + 1])
{
	size_t blen = protobuf_c_message_get_packed_size(msg);
	uint8_t *body = malloc(blen ? blen : 1);
	int r;

	if (!body)
		return -ENOMEM;
	protobuf_c_message_pack(msg, body);
	r = outbox_queue(h, &(struct outbox_item){ .peer = peer, .body_case = body_case,
						   .body = body, .blen = blen }, mid);
	crypto_wipe(body, blen);
	free(body);
	return r;
}

/* Queued with the consent, in its transaction, so that a withdrawal before
 * it is sent cancels it. */
int outbox_consent_notice(struct hctx *h, const char *user, const struct leaver *l,
			  const struct consent *k, char peer[7])
{
	Overstap__ConsentNotice m = OVERSTAP__CONSENT_NOTICE__INIT;
	Overstap__ConsentAssertion a;
	const struct peer_cfg *pc;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t body[1024];
	int r;

	peer[0] = '\0';
	if (k->purpose != CONSENT_PURPOSE_FOLLOW_UP || !l->record_id[0] ||
	    (l->state != LEAVER_QUEUED && l->state != LEAVER_DELIVERED) ||
	    (strcmp(k->counterpart, CONSENT_ANY) != 0 &&
	     strcmp(k->counterpart, l->destination_institution) != 0))
		return 0;
	pc = config_peer_find(h->cfg, l->destination_institution);
	if (!pc || !pc->endpoint[0])
		return 0;
	envelope_assertion_from(&a, k);
	m.record_id = (char *)l->record_id;
	m.consent = &a;
	if (overstap__consent_notice__get_packed_size(&m) > sizeof(body))
		return -E2BIG;
	r = outbox_queue(h, &(struct outbox_item){
				.peer = pc->id, .body_case = OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE,
				.body = body, .blen = overstap__consent_notice__pack(&m, body),
				.consent_id = k->id, .until = k->valid_until }, mid);
	if (r < 0)
		return r;
	if ((r = store_auditf(h->store, user, "consent.notice_queued", l->record_id,
			       pc->id, "{s:s, s:s, s:s}", "purpose", "follow_up", "consent_id", k->id,
			       "message_id", mid)) == 0)
		str_copy(peer, 7, pc->id);
	return r;
}

