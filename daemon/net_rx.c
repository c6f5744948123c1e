/* net_rx: receiving on the ROUTER (design.md §4). A batch of up to RX_BATCH
 * messages is read at once; their decoding and signatures are checked on
 * every core (workpool.h), a retry of one we hold before its signature;
 * then, on the loop alone and in the order received, each is authenticated
 * (the ZAP User-Id is the claimed sender; the signature is by that peer's
 * key) and applied by its row of the receive table (rx.h), all in one
 * transaction committed before any of them is acknowledged. The answers
 * are signed as one group (design.md §4.3). */
#include "net_int.h"
#include "checkpoint.h"
#include "envelope.h"
#include "jdetail.h"
#include "rx.h"
#include "workpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- receiving: the ROUTER ---- */

/* Acks to send once the batch is committed: accepted ids per connection, and
 * rejections one by one with their reason. */
struct ack_out {
	uint8_t rid[256];		/* ROUTER routing id of the connection */
	size_t rid_len;
	struct peer *peer;
	char id[CRYPTO_UUID_STR_LEN + 1];
	const char *reject;		/* NULL = accepted */
	enum net_disp disp;		/* with reject: what the sender should do */
	uint32_t retry_after_s;		/* with DISP_LATER */
	char text[160];			/* with reject: the reason sent, when not just reject */
	int hello;			/* not an ack: our Hello, answering the peer's */
	int checkpoint;			/* not an ack: our audit head, answering the peer's */
};

/* Refusals by a quota (design.md §4.5 "Quotas"): static, counted by reason. */
#define QUOTA_MESSAGES "quota: too many messages from this peer in the last hour"
#define QUOTA_BYTES "quota: this peer's dossiers stored here are at their limit"
/* A message above our max_message_size but within the transport cap. */
#define TOO_LARGE "message larger than this daemon's max_message_size"

/* One message of a receive batch as read, and what the workers found. */
struct rx_in {
	zmq_msg_t rid, msg;		/* msg: the first frame */
	int multipart;			/* more frames came (and were dropped) */
	const char *uid;		/* ZAP User-Id: the authenticated peer's id */
	struct peer *p;			/* that peer, NULL when no longer configured */
	/* set by the workers (s_unpack_one, s_verify_one) and s_seen_all() */
	Overstap__Envelope *e;		/* owned; NULL when envelope_unpack refused it */
	int r;				/* envelope_unpack's result */
	const char *why;		/* and its reason */
	int seen;			/* a retry of one we hold: not verified again */
	int verified;			/* the signature verified with p's key(s) */
	const struct rx_row *prow;	/* with prep: the row that made it */
	void *prep;			/* its rx_prep_fn's result (rx.h), owned */
};

/* Read no more than this many bytes into one batch (a message may be up to
 * NET_TRANSPORT_FACTOR times max_message_size): the rest waits in libzmq. */
#define RX_BATCH_BYTES (64u << 20)

/* A batch takes up to RX_BATCH messages. A checkpoint is answered with an
 * ack and with ours: up to two entries a message. */
struct rx_batch {
	struct rx_in in[RX_BATCH];
	size_t n_in;
	struct ack_out acks[2 * RX_BATCH];
	size_t n;
	int in_tx;			/* a transaction is open */
	int failed;			/* the store failed: ack nothing */
};

static struct ack_out *s_ack_add(struct rx_batch *b, zmq_msg_t *rid, struct peer *p, const char *id,
				  const char *reject)
{
	struct ack_out *a = &b->acks[b->n++];

	memset(a, 0, sizeof(*a));
	a->rid_len = zmq_msg_size(rid) < sizeof(a->rid) ? zmq_msg_size(rid) : sizeof(a->rid);
	memcpy(a->rid, zmq_msg_data(rid), a->rid_len);
	a->peer = p;
	str_copy(a->id, sizeof(a->id), id);
	a->reject = reject;
	return a;
}

/* Open the batch's transaction on first use; a failure fails the batch. */
static int s_tx_open(struct net *net, struct rx_batch *b)
{
	if (!b->in_tx) {
		if (store_begin(net->h->store) < 0) {
			b->failed = 1;
			return -EIO;
		}
		b->in_tx = 1;
	}
	return 0;
}

/* design.md §4.5 "Quotas": NULL when p may have one more message stored now
 * (audit checkpoints do not count: each replaces the peer's one row),
 * else the reason, with *retry_s when to try again. Refusals are counted in
 * memory; the first of each hour window of a peer is audited (inside the
 * batch's transaction), the rest only counted, so a flood costs no audit
 * growth. */
static const char *s_quota(struct net *net, struct rx_batch *b, struct peer *p,
			   const Overstap__Envelope *e, size_t len, uint32_t *retry_s)
{
	const struct config *cfg = net->h->cfg;
	int64_t now = time_now_ms();
	const char *why = NULL;

	if (!p->quota_since || now - p->quota_since >= QUOTA_WINDOW_MS || now < p->quota_since) {
		p->quota_since = now;
		p->quota_count = 0;
		p->quota_audited = 0;
	}
	if (cfg->quota_messages_per_hour && p->quota_count >= cfg->quota_messages_per_hour) {
		why = QUOTA_MESSAGES;
		*retry_s = (uint32_t)((p->quota_since + QUOTA_WINDOW_MS - now) / 1000 + 1);
	} else if (cfg->quota_stored_bytes && e->body_case == OVERSTAP__ENVELOPE__BODY_HANDOVER) {
		if (p->stored_bytes < 0 && store_inbox_bytes(net->h->store, p->cfg.id, &p->stored_bytes) < 0)
			p->stored_bytes = -1;	/* cannot tell now: not held against the peer */
		if (p->stored_bytes >= 0 && p->stored_bytes + (int64_t)len > cfg->quota_stored_bytes) {
			why = QUOTA_BYTES;
			*retry_s = 3600;
		}
	}
	if (!why) {
		p->quota_count++;
		return NULL;
	}
	p->quota_refused++;
	if (!p->quota_audited && s_tx_open(net, b) == 0) {
		p->quota_audited = 1;
		log_warn("peer %s is over its quota: %s; its messages are refused for now "
			 "(it tries again later)", p->cfg.id, why);
		if (store_auditf(net->h->store, "daemon", "peer.quota_exceeded", "", p->cfg.id,
				 "{s:s, s:I, s:I}", "quota", why,
				 "max_messages_per_hour", (json_int_t)cfg->quota_messages_per_hour,
				 "max_stored_bytes", (json_int_t)cfg->quota_stored_bytes) < 0)
			b->failed = 1;
	}
	return why;
}

/* The head seq of a checkpoint already taken in (0 if it will not unpack). */
static uint64_t s_checkpoint_seq(const Overstap__Envelope *e)
{
	Overstap__AuditCheckpoint *m = NULL;
	const char *why = NULL;
	uint64_t seq = 0;

	if (envelope_checkpoint_unpack(envelope_body(e), &m, &why) == 0) {
		seq = m->seq;
		overstap__audit_checkpoint__free_unpacked(m, NULL);
	}
	return seq;
}

void net_quota_recount(struct net *net)
{
	for (size_t i = 0; i < net->n_peers; i++)
		net->peers[i].stored_bytes = -1;
}

/* On worker threads (design.md §4.6 "Both cores"): decode and check each
 * envelope, then verify the signatures of those that need it with the
 * peer's key(s). They read only the message, the configuration and the
 * peer's keys; the store, the sockets and every counter stay with the loop. */
struct s_check_ctx {
	const struct net *net;
	struct rx_batch *b;
};

static void s_unpack_one(void *ctx, size_t i)
{
	const struct s_check_ctx *c = ctx;
	struct rx_in *m = &c->b->in[i];

	if (!m->p || m->multipart)
		return;
	m->r = envelope_unpack(zmq_msg_data(&m->msg), zmq_msg_size(&m->msg),
			       (size_t)c->net->h->cfg->max_message_size, &m->e, &m->why);
}

/* Verify, and for an authentic message whose row has one, run the row's
 * prep (rx.h): the cryptography of storing a dossier, off the loop. */
static void s_verify_one(void *ctx, size_t i)
{
	const struct s_check_ctx *c = ctx;
	struct rx_in *m = &c->b->in[i];
	const struct rx_row *row;

	if (m->e && !m->seen && strcmp(m->e->sender, m->uid) == 0)
		m->verified = net_verify(m->p, m->e) == 0;
	if (m->e && m->verified && (row = rx_find(m->e->body_case)) && row->prep) {
		m->prow = row;
		m->prep = row->prep(c->net->h, &(struct rx_msg){ .e = m->e,
								 .packed = zmq_msg_data(&m->msg),
								 .len = zmq_msg_size(&m->msg) });
	}
}

/* design.md §4.6: a retry of a dossier, status or outcome this peer sent
 * and we hold is answered before the signature is checked, the costliest
 * step, so a sender's retries cost us a lookup. Its copy was verified when
 * it came; a changed body under the same id is not stored either way (the
 * id is the key). On the loop: it asks the store. */
static int s_seen_asks(const struct rx_in *m)
{
	const Overstap__Envelope *e = m->e;

	return e && strcmp(e->sender, m->uid) == 0 &&
	       (e->body_case == OVERSTAP__ENVELOPE__BODY_HANDOVER ||
		e->body_case == OVERSTAP__ENVELOPE__BODY_STATUS ||
		e->body_case == OVERSTAP__ENVELOPE__BODY_OUTCOME) &&
	       crypto_uuid_valid(e->message_id);
}

/* The lookups run inside the batch's transaction, opened here when any
 * message needs one: each on its own was a read transaction of its own
 * (WAL read lock, fcntl, wal-index), several times the lookup. Those
 * messages are applied in that transaction anyway. */
static void s_seen_all(struct net *net, struct rx_batch *b)
{
	for (size_t i = 0; i < b->n_in; i++) {
		struct rx_in *m = &b->in[i];

		if (!s_seen_asks(m))
			continue;
		if (!b->in_tx && s_tx_open(net, b) < 0)
			break;	/* failed: nothing of this batch is acked, the senders retry */
		m->seen = store_rx_seen(net->h->store, m->e->message_id, m->uid) == 1;
	}
}

/* On the loop, in the order received: act on what the workers found. */
static void s_rx_one(struct net *net, struct rx_batch *b, struct rx_in *m)
{
	const char *uid = m->uid;
	struct peer *p = m->p;
	Overstap__Envelope *e = m->e;
	zmq_msg_t *rid = &m->rid, *msg = &m->msg;
	const struct rx_row *row;
	const char *why = NULL;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	enum net_disp disp = DISP_FINAL;
	uint32_t retry_s = 0;
	struct ack_out *a;
	int r = m->r;

	if (!p) {
		net_reject(net, NULL, uid ? uid : "?", "message from a peer no longer configured");
		return;
	}
	if (r < 0) {
		why = m->why;
		net_reject(net, p, uid, r == -EMSGSIZE ? TOO_LARGE : why);
		/* Another protocol version or a message too large, from an admitted
		 * peer, is answered by id with PARK, or the sender would retry it
		 * forever and (too large) block the link behind it; anything else
		 * we cannot read gets no answer. The id is all we echo: nothing of
		 * it is trusted, and a REJECTED ack changes nothing here. */
		if ((r == -EPROTO || r == -EMSGSIZE) &&
		    envelope_peek_id(zmq_msg_data(msg), zmq_msg_size(msg), mid) == 0) {
			a = s_ack_add(b, rid, p, mid, why);
			a->disp = DISP_PARK;
			if (r == -EMSGSIZE)
				snprintf(a->text, sizeof(a->text),
					 "message of %zu bytes is larger than %s's limit of %lld bytes",
					 zmq_msg_size(msg), net->h->cfg->institution_id,
					 (long long)net->h->cfg->max_message_size);
		}
		return;
	}
	/* The claimed sender must be the institution the CURVE key belongs to. */
	if (strcmp(e->sender, uid) != 0) {
		net_reject(net, p, uid, "claimed sender differs from the authenticated peer");
		return;
	}
	if (m->seen) {	/* a retry of one we hold: s_seen_all() */
		p->received++;
		p->duplicates++;
		p->last_rx = time_mono_ms();
		s_ack_add(b, rid, p, e->message_id, NULL);
		return;
	}
	if (!m->verified) {
		net_reject(net, p, uid, "signature does not verify");
		return;
	}
	p->received++;
	p->last_rx = time_mono_ms();
	/* From here the message is authentic: answer it, even with a refusal, so
	 * the sender stops retrying something that will never be accepted. */
	row = rx_find(e->body_case);
	if (strcmp(e->recipient, net->h->cfg->institution_id) != 0)
		why = "not addressed to this institution";
	else if ((why = envelope_time_check(e->created_at, time_now_ms(),
					    net->h->cfg->max_clock_skew_s)))
		;	/* refused with the reason, so the sender parks it */
	else if (!row)
		why = "body type not supported by this daemon";
	else if (row->needs_tx && e->body_case != OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT &&
		 (why = s_quota(net, b, p, e, zmq_msg_size(msg), &retry_s)))
		disp = DISP_LATER;
	else if (!row->needs_tx || s_tx_open(net, b) == 0)
		why = row->fn(net->h, &(struct rx_msg){ .e = e, .packed = zmq_msg_data(msg),
							.len = zmq_msg_size(msg), .prep = m->prep },
			      &b->failed);
	if (!why && e->body_case == OVERSTAP__ENVELOPE__BODY_HANDOVER && p->stored_bytes >= 0)
		p->stored_bytes += (int64_t)zmq_msg_size(msg);
	if (!why && e->body_case == OVERSTAP__ENVELOPE__BODY_HELLO) {
		/* the sender learns our limits from our answer (net_hello.c) */
		net_hello_record(net, p, e);
		s_ack_add(b, rid, p, e->message_id, NULL)->hello = 1;
		return;
	}
	if (row && !row->acked && !why)
		return;
	if (why)
		net_reject(net, p, uid, why);
	a = s_ack_add(b, rid, p, e->message_id, why);
	a->disp = disp;
	a->retry_after_s = retry_s;
	/* design.md §5.6: witnessing both ways on every connection, whoever
	 * dialled. A peer we do not dial (no endpoint) got no head of ours
	 * back, so its own truncation went unseen; our answer rides on the
	 * connection its checkpoint came in on: for every new head of its (a
	 * signature for a signature, as an ack), else at most once per
	 * CHECKPOINT_REPLY_MS. */
	if (!why && e->body_case == OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT &&
	    (!p->checkpoint_replied || s_checkpoint_seq(e) != p->checkpoint_replied_seq ||
	     time_mono_ms() - p->checkpoint_replied >= CHECKPOINT_REPLY_MS)) {
		p->checkpoint_replied = time_mono_ms();
		p->checkpoint_replied_seq = s_checkpoint_seq(e);
		s_ack_add(b, rid, p, e->message_id, NULL)->checkpoint = 1;
	}
}

/* design.md §4.6 "Credit": a sender's share of receive_window among the
 * peers that sent us something in the last CREDIT_ACTIVE_MS, at least
 * CREDIT_MIN, so that many senders queue in their own outboxes rather than
 * in ours, where a message waiting its turn would be retried. */
static uint32_t s_credit(const struct net *net)
{
	int64_t now = time_mono_ms();
	size_t active = 0;
	uint32_t c;

	for (size_t i = 0; i < net->n_peers; i++)
		active += net->peers[i].last_rx && now - net->peers[i].last_rx < CREDIT_ACTIVE_MS;
	c = net->h->cfg->receive_window / (uint32_t)(active ? active : 1);
	return c < CREDIT_MIN ? CREDIT_MIN : c;
}

/* One answer of a flush, built but not signed yet: the flush signs them as
 * groups (design.md §4.3), one signature for up to ENVELOPE_GROUP_MAX. */
struct ack_env {
	const struct ack_out *a;
	Overstap__Envelope e;		/* borrows body and mid */
	uint8_t *body;			/* owned */
	char mid[CRYPTO_UUID_STR_LEN + 1];
};

/* Build the answer to a: an Ack for ids (accepted, or refused with reject),
 * or our Hello or audit head. 0, or -1 when none is sent. */
static int s_ack_build(struct net *net, const struct ack_out *a, char **ids, size_t n,
		       const char *reject, struct ack_env *out)
{
	Overstap__Ack ack = OVERSTAP__ACK__INIT;
	uint8_t *body = NULL;
	size_t blen;
	Overstap__Envelope__BodyCase bc = OVERSTAP__ENVELOPE__BODY_ACK;

	ack.message_ids = ids;
	ack.n_message_ids = n;
	ack.result = reject ? OVERSTAP__ACK__RESULT__REJECTED : OVERSTAP__ACK__RESULT__ACCEPTED;
	ack.reason = (char *)(reject ? (a->text[0] ? a->text : reject) : "");
	ack.disposition = (Overstap__Ack__Disposition)(reject ? a->disp : DISP_FINAL);
	ack.retry_after_s = reject ? a->retry_after_s : 0;
	ack.credit = s_credit(net);
	blen = a->hello || a->checkpoint ? 192 : overstap__ack__get_packed_size(&ack);
	body = malloc(blen ? blen : 1);
	if (!body)
		return -1;
	if (a->hello) {
		bc = OVERSTAP__ENVELOPE__BODY_HELLO;
		blen = net_hello_pack(net, body, blen);
	} else if (a->checkpoint) {
		int64_t seq = 0;

		bc = OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT;
		/* sent with an empty log of ours too: what we hold of the
		 * peer's log (yours_*) is the half it needs */
		if (checkpoint_build(net->h, a->peer->cfg.id, body, 192, &blen, &seq) < 0) {
			free(body);
			return -1;
		}
	} else {
		overstap__ack__pack(&ack, body);
	}
	out->a = a;
	out->body = body;
	if (envelope_init(&out->e, net->h->cfg->institution_id, a->peer->cfg.id, bc, body, blen,
			  out->mid) < 0) {
		free(body);
		return -1;
	}
	return 0;
}

/* Sign the n answers built as one group and send each over the ROUTER.
 * Failure is harmless: the sender retries and we answer the duplicate. */
static void s_acks_send(struct net *net, struct ack_env *env, size_t n)
{
	Overstap__Envelope *ep[ENVELOPE_GROUP_MAX];
	uint8_t *packed[ENVELOPE_GROUP_MAX];
	size_t plen[ENVELOPE_GROUP_MAX];

	for (size_t i = 0; i < n; i++)
		ep[i] = &env[i].e;
	if (n && envelope_sign_pack_group(ep, n, net->h->keys->signer, packed, plen) == 0)
		for (size_t i = 0; i < n; i++) {
			const struct ack_out *a = env[i].a;

			if (zmq_send(net->router, a->rid, a->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
			    zmq_send(net->router, packed[i], plen[i], ZMQ_DONTWAIT) < 0)
				log_debug("ack to %s not sent: %s", a->peer->cfg.id, zmq_strerror(errno));
			free(packed[i]);
		}
	for (size_t i = 0; i < n; i++)
		free(env[i].body);
}

static void s_acks_flush(struct net *net, struct rx_batch *b)
{
	char *ids[ARRAY_SIZE(b->acks)];
	int done[ARRAY_SIZE(b->acks)] = { 0 };
	struct ack_env *env = calloc(ENVELOPE_GROUP_MAX, sizeof(*env));
	size_t n_env = 0;

	if (!env)
		return;	/* nothing acked: the senders retry */
	for (size_t i = 0; i < b->n; i++) {
		size_t n = 0;

		if (done[i])
			continue;
		if (n_env == ENVELOPE_GROUP_MAX) {
			s_acks_send(net, env, n_env);
			n_env = 0;
		}
		if (b->acks[i].reject || b->acks[i].hello || b->acks[i].checkpoint) {
			ids[0] = b->acks[i].id;
			n_env += s_ack_build(net, &b->acks[i], ids, 1, b->acks[i].reject,
					     &env[n_env]) == 0;
			continue;
		}
		/* One ack for all accepted ids of this connection. */
		for (size_t j = i; j < b->n; j++)
			if (!done[j] && !b->acks[j].reject && !b->acks[j].hello && !b->acks[j].checkpoint &&
			    b->acks[j].rid_len == b->acks[i].rid_len &&
			    memcmp(b->acks[j].rid, b->acks[i].rid, b->acks[i].rid_len) == 0) {
				ids[n++] = b->acks[j].id;
				done[j] = 1;
			}
		n_env += s_ack_build(net, &b->acks[i], ids, n, NULL, &env[n_env]) == 0;
	}
	s_acks_send(net, env, n_env);
	free(env);
}

/* Read what waits on the ROUTER, up to RX_BATCH messages: one frame each
 * (the rest of a multipart message is read and dropped). */
static void s_read_batch(struct net *net, struct rx_batch *b)
{
	size_t bytes = 0;

	while (b->n_in < RX_BATCH && bytes < RX_BATCH_BYTES) {
		struct rx_in *m = &b->in[b->n_in];
		zmq_msg_t more_msg;
		int more;

		memset(m, 0, sizeof(*m));
		zmq_msg_init(&m->rid);
		if (zmq_msg_recv(&m->rid, net->router, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m->rid);
			break;
		}
		zmq_msg_init(&m->msg);
		if (zmq_msg_recv(&m->msg, net->router, 0) < 0) {
			zmq_msg_close(&m->msg);
			zmq_msg_close(&m->rid);
			continue;
		}
		b->n_in++;
		bytes += zmq_msg_size(&m->msg);
		m->uid = zmq_msg_gets(&m->msg, "User-Id");
		m->p = m->uid ? net_peer(net, m->uid) : NULL;
		more = m->multipart = zmq_msg_more(&m->msg);
		while (more) {
			zmq_msg_init(&more_msg);
			if (zmq_msg_recv(&more_msg, net->router, 0) < 0) {
				zmq_msg_close(&more_msg);
				break;
			}
			more = zmq_msg_more(&more_msg);
			zmq_msg_close(&more_msg);
		}
	}
}

void net_router_handle(struct net *net)
{
	/* not calloc: 600 KiB cleared per batch for nothing; s_read_batch
	 * clears each message it reads, s_ack_add each answer */
	struct rx_batch *b = malloc(sizeof(*b));

	if (!b)
		return;
	b->n_in = b->n = 0;
	b->in_tx = b->failed = 0;
	s_read_batch(net, b);
	/* design.md §4.6 "Both cores": the CPU work on every core, then the
	 * rest here, in order, as before */
	workpool_for(net->pool, b->n_in, s_unpack_one, &(struct s_check_ctx){ net, b });
	s_seen_all(net, b);
	workpool_for(net->pool, b->n_in, s_verify_one, &(struct s_check_ctx){ net, b });
	for (size_t i = 0; i < b->n_in; i++) {
		struct rx_in *m = &b->in[i];

		if (m->multipart)
			net_reject(net, NULL, m->uid, "multipart message");
		else
			s_rx_one(net, b, m);
	}
	/* Commit before acking: an ack promises the message is on disk. */
	if (b->in_tx && !b->failed && store_commit(net->h->store) < 0) {
		log_err("cannot commit received messages; not acknowledging them");
		b->failed = 1;
	}
	if (b->failed)
		store_rollback(net->h->store);
	else
		s_acks_flush(net, b);
	for (size_t i = 0; i < b->n_in; i++) {
		if (b->in[i].prep)
			b->in[i].prow->prep_free(b->in[i].prep);
		if (b->in[i].e)
			overstap__envelope__free_unpacked(b->in[i].e, NULL);
		zmq_msg_close(&b->in[i].msg);
		zmq_msg_close(&b->in[i].rid);
	}
	free(b);
}

/* ---- sending: one DEALER per peer ---- */
