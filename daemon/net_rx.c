/* net_rx: receiving on the ROUTER (design.md §4). Each message is authenticated
 * here (the ZAP User-Id is the claimed sender; the signature is by that
 * peer's key), then applied by its row of the receive table (rx.h), in
 * batches of up to RX_BATCH committed as one transaction before any of them
 * is acknowledged. */
#include "net_int.h"
#include "envelope.h"
#include "rx.h"

#include <errno.h>
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
};

struct rx_batch {
	struct ack_out acks[RX_BATCH];
	size_t n;
	int in_tx;			/* a transaction is open */
	int failed;			/* the store failed: ack nothing */
};

static void s_ack_add(struct rx_batch *b, zmq_msg_t *rid, struct peer *p, const char *id,
		      const char *reject)
{
	struct ack_out *a = &b->acks[b->n++];

	a->rid_len = zmq_msg_size(rid) < sizeof(a->rid) ? zmq_msg_size(rid) : sizeof(a->rid);
	memcpy(a->rid, zmq_msg_data(rid), a->rid_len);
	a->peer = p;
	str_copy(a->id, sizeof(a->id), id);
	a->reject = reject;
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

static void s_rx_one(struct net *net, struct rx_batch *b, zmq_msg_t *rid, zmq_msg_t *msg)
{
	const char *uid = zmq_msg_gets(msg, "User-Id");
	struct peer *p = uid ? net_peer(net, uid) : NULL;
	Overstap__Envelope *e = NULL;
	const struct rx_row *row;
	const char *why = NULL;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	int r;

	if (!p) {
		net_reject(net, NULL, uid ? uid : "?", "message from a peer no longer configured");
		return;
	}
	if ((r = envelope_unpack(zmq_msg_data(msg), zmq_msg_size(msg),
				 (size_t)net->h->cfg->max_message_size, &e, &why)) < 0) {
		net_reject(net, p, uid, why);
		/* Another protocol version from an admitted peer is answered by id,
		 * or a newer peer would retry it forever; anything else we cannot
		 * read gets no answer. The id is all we echo: nothing of it is
		 * trusted, and a REJECTED ack changes nothing here. */
		if (r == -EPROTO && envelope_peek_id(zmq_msg_data(msg), zmq_msg_size(msg), mid) == 0)
			s_ack_add(b, rid, p, mid, why);
		return;
	}
	/* The claimed sender must be the institution the CURVE key belongs to. */
	if (strcmp(e->sender, uid) != 0) {
		net_reject(net, p, uid, "claimed sender differs from the authenticated peer");
		goto out;
	}
	if (net_verify(p, e) < 0) {
		net_reject(net, p, uid, "signature does not verify");
		goto out;
	}
	p->received++;
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
	else if (!row->needs_tx || s_tx_open(net, b) == 0)
		why = row->fn(net->h, &(struct rx_msg){ .e = e, .packed = zmq_msg_data(msg),
							.len = zmq_msg_size(msg) }, &b->failed);
	if (row && !row->acked && !why)
		goto out;
	if (why)
		net_reject(net, p, uid, why);
	s_ack_add(b, rid, p, e->message_id, why);
out:
	overstap__envelope__free_unpacked(e, NULL);
}

/* Send one Ack over the ROUTER. Failure is harmless: the sender retries and
 * we answer the duplicate. */
static void s_ack_send(struct net *net, const struct ack_out *a, char **ids, size_t n,
		       const char *reject)
{
	Overstap__Ack ack = OVERSTAP__ACK__INIT;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t *body = NULL, *packed = NULL;
	size_t blen, plen = 0;

	ack.message_ids = ids;
	ack.n_message_ids = n;
	ack.result = reject ? OVERSTAP__ACK__RESULT__REJECTED : OVERSTAP__ACK__RESULT__ACCEPTED;
	ack.reason = (char *)(reject ? reject : "");
	blen = overstap__ack__get_packed_size(&ack);
	body = malloc(blen ? blen : 1);
	if (!body)
		return;
	overstap__ack__pack(&ack, body);
	if (envelope_build(net->h->cfg->institution_id, a->peer->cfg.id, OVERSTAP__ENVELOPE__BODY_ACK, body,
			   blen, net->h->keys->signer, mid, &packed, &plen) == 0) {
		if (zmq_send(net->router, a->rid, a->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
		    zmq_send(net->router, packed, plen, ZMQ_DONTWAIT) < 0)
			log_debug("ack to %s not sent: %s", a->peer->cfg.id, zmq_strerror(errno));
	}
	free(body);
	free(packed);
}

static void s_acks_flush(struct net *net, struct rx_batch *b)
{
	char *ids[RX_BATCH];
	int done[RX_BATCH] = { 0 };

	for (size_t i = 0; i < b->n; i++) {
		size_t n = 0;

		if (done[i])
			continue;
		if (b->acks[i].reject) {
			ids[0] = b->acks[i].id;
			s_ack_send(net, &b->acks[i], ids, 1, b->acks[i].reject);
			continue;
		}
		/* One ack (one signature) for all accepted ids of this connection. */
		for (size_t j = i; j < b->n; j++)
			if (!done[j] && !b->acks[j].reject && b->acks[j].rid_len == b->acks[i].rid_len &&
			    memcmp(b->acks[j].rid, b->acks[i].rid, b->acks[i].rid_len) == 0) {
				ids[n++] = b->acks[j].id;
				done[j] = 1;
			}
		s_ack_send(net, &b->acks[i], ids, n, NULL);
	}
}

void net_router_handle(struct net *net)
{
	struct rx_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return;
	while (b->n < RX_BATCH) {
		zmq_msg_t rid, msg;
		int more;

		zmq_msg_init(&rid);
		if (zmq_msg_recv(&rid, net->router, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&rid);
			break;
		}
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, net->router, 0) >= 0) {
			more = zmq_msg_more(&msg);
			if (more)
				net_reject(net, NULL, zmq_msg_gets(&msg, "User-Id"),
					      "multipart message");
			else
				s_rx_one(net, b, &rid, &msg);
			while (more) {
				zmq_msg_close(&msg);
				zmq_msg_init(&msg);
				if (zmq_msg_recv(&msg, net->router, 0) < 0)
					break;
				more = zmq_msg_more(&msg);
			}
		}
		zmq_msg_close(&msg);
		zmq_msg_close(&rid);
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
	free(b);
}

/* ---- sending: one DEALER per peer ---- */
