/* outbox: see outbox.h. */
#include "outbox.h"
#include "envelope.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef ENVELOPE_GROUP_MAX	/* envelope.h's limit of a group, once it has one */
_Static_assert(OUTBOX_GROUP_MAX <= ENVELOPE_GROUP_MAX, "an outbox group is signed as one");
#endif

/* One message of an open group: its header and a copy of its body, until
 * the group is signed and stored. */
struct og_msg {
	Overstap__Envelope e;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	char *peer;
	uint8_t *body;
	size_t blen;
	int64_t key_id;
	char *consent_id, *until;	/* NULL = none */
	char *parked;			/* the caller's, borrowed */
};

struct outbox_group {
	size_t n, cap;
	struct og_msg m[];
};

static struct outbox_group *s_group_new(size_t cap)
{
	struct outbox_group *g = calloc(1, sizeof(*g) + cap * sizeof(g->m[0]));

	if (g)
		g->cap = cap;
	return g;
}

static void s_msg_clear(struct og_msg *m)
{
	if (m->body)
		crypto_wipe(m->body, m->blen);
	free(m->body);
	free(m->peer);
	free(m->consent_id);
	free(m->until);
	memset(m, 0, sizeof(*m));
}

static void s_group_clear(struct outbox_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		s_msg_clear(&g->m[i]);
	g->n = 0;
}

int outbox_group_begin(struct hctx *h)
{
	if (h->outbox_group)
		return -EBUSY;
	h->outbox_group = s_group_new(OUTBOX_GROUP_MAX);
	return h->outbox_group ? 0 : -ENOMEM;
}

void outbox_group_drop(struct hctx *h)
{
	if (!h->outbox_group)
		return;
	s_group_clear(h->outbox_group);
	free(h->outbox_group);
	h->outbox_group = NULL;
}

/* The header of a message from us (as envelope_build makes it), its body
 * copied: it is signed when the group is. */
static int s_msg_add(struct hctx *h, struct outbox_group *g, const struct outbox_item *it,
		     char mid[CRYPTO_UUID_STR_LEN + 1])
{
	struct og_msg *m = &g->m[g->n];
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(&overstap__envelope__descriptor,
							(unsigned)it->body_case);
	ProtobufCBinaryData *b;
	int r;

	/* the body oneof holds bytes only; its case is its field number */
	if (!fd || fd->type != PROTOBUF_C_TYPE_BYTES)
		return -EINVAL;
	if ((r = crypto_uuidv7(m->mid)) < 0)
		return r;
	overstap__envelope__init(&m->e);
	m->peer = strdup(it->peer);
	m->body = malloc(it->blen ? it->blen : 1);
	m->consent_id = it->consent_id ? strdup(it->consent_id) : NULL;
	m->until = it->consent_id ? strdup(it->until ? it->until : "") : NULL;
	if (!m->peer || !m->body || (it->consent_id && (!m->consent_id || !m->until))) {
		s_msg_clear(m);
		return -ENOMEM;
	}
	if (it->blen)
		memcpy(m->body, it->body, it->blen);
	m->blen = it->blen;
	m->key_id = it->key_id;
	m->parked = it->parked;
	m->e.version = ENVELOPE_VERSION;
	m->e.message_id = m->mid;
	m->e.sender = (char *)h->cfg->institution_id;
	m->e.recipient = m->peer;
	m->e.created_at = time_now_ms();
	m->e.body_case = it->body_case;
	b = (ProtobufCBinaryData *)((char *)&m->e + fd->offset);
	b->data = m->body;
	b->len = m->blen;
	str_copy(mid, CRYPTO_UUID_STR_LEN + 1, m->mid);
	if (m->parked)
		m->parked[0] = '\0';
	g->n++;
	return 0;
}

/* Store one signed message, sealed (sealed, slen) under its key: its row,
 * parked at once when the peer has said it takes none this large (its final
 * size is known only now, design.md §4.5), and the consent it relies on. pi
 * caches the peer's limit. */
static int s_msg_store(struct hctx *h, const struct og_msg *m, const uint8_t *sealed, size_t slen,
		       size_t plen, struct peer_info *pi, const char **pi_peer)
{
	char why[OUTBOX_PARKED_LEN] = "";
	int r = store_outbox_add_sealed(h->store, m->mid, m->peer, m->e.body_case, sealed, slen,
					m->key_id, time_now_ms());

	/* a failed read fails the queueing: inside a transaction sqlite may have
	 * rolled it back already (test_fault_rx.c) */
	if (r == 0 && (!*pi_peer || strcmp(*pi_peer, m->peer) != 0)) {
		if ((r = store_peer_info_get(h->store, m->peer, pi)) == -ENOENT)
			r = 0, pi->max_message_size = 0;
		*pi_peer = r == 0 ? m->peer : NULL;
	}
	if (r == 0 && pi->max_message_size && (int64_t)plen > pi->max_message_size) {
		snprintf(why, sizeof(why), "message of %zu bytes is larger than %s's limit of %lld bytes",
			 plen, m->peer, (long long)pi->max_message_size);
		r = store_outbox_park(h->store, m->peer, m->mid, why, 0, 0);
		if (r == 0)	/* as when a receiver's refusal parks it (net_tx.c) */
			r = store_auditf(h->store, "daemon", "message.parked", "", m->peer,
					 "{s:s, s:s}", "message_id", m->mid, "reason", why);
	}
	if (m->parked)
		str_copy(m->parked, OUTBOX_PARKED_LEN, why);
	if (r == 0 && m->consent_id)
		r = store_outbox_set_consent(h->store, m->mid, m->consent_id, m->until);
	return r;
}

/* Sign the group's messages together, seal them (on every core:
 * store_crypt_many) and store them; the group is empty afterwards, whatever
 * the result. */
static int s_group_flush(struct hctx *h, struct outbox_group *g)
{
	Overstap__Envelope *ep[OUTBOX_GROUP_MAX];
	uint8_t *out[OUTBOX_GROUP_MAX] = { 0 };
	size_t lens[OUTBOX_GROUP_MAX] = { 0 };
	struct store_crypt *c = NULL;
	struct peer_info pi = { 0 };
	const char *pi_peer = NULL;
	int r = 0;

	if (g->n == 0)
		return 0;
	for (size_t i = 0; i < g->n; i++)
		ep[i] = &g->m[i].e;
	r = envelope_sign_pack_group(ep, g->n, h->keys->signer, out, lens);
	if (r == 0 && !(c = calloc(g->n, sizeof(*c))))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < g->n; i++)
		c[i] = (struct store_crypt){ .key_id = g->m[i].key_id, .aad = g->m[i].mid,
					     .aad_len = strlen(g->m[i].mid), .in = out[i],
					     .len = lens[i] };
	if (r == 0)
		r = store_crypt_many(h->store, 1, c, g->n);
	for (size_t i = 0; i < g->n; i++) {
		if (r == 0 && (r = c[i].r) == 0)
			r = s_msg_store(h, &g->m[i], c[i].out, c[i].out_len, lens[i], &pi, &pi_peer);
		if (c)
			free(c[i].out);	/* sealed: nothing to wipe */
		if (out[i])
			crypto_wipe(out[i], lens[i]);
		free(out[i]);
	}
	free(c);
	if (r == 0)
		h->outbox_dirty = 1;
	s_group_clear(g);
	return r;
}

int outbox_group_end(struct hctx *h)
{
	int r;

	if (!h->outbox_group)
		return 0;
	r = s_group_flush(h, h->outbox_group);
	outbox_group_drop(h);
	return r;
}

int outbox_queue(struct hctx *h, const struct outbox_item *it, char mid[CRYPTO_UUID_STR_LEN + 1])
{
	struct outbox_group *g = h->outbox_group, *own = NULL;
	int r;

	if (!g && !(g = own = s_group_new(1)))
		return -ENOMEM;
	r = s_msg_add(h, g, it, mid);
	if (r == 0 && g->n == g->cap)	/* full: signed and stored before the next joins */
		r = s_group_flush(h, g);
	if (own) {
		s_group_clear(own);
		free(own);
	}
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

