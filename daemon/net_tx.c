/* net_tx: sending (design.md §4). One CURVE DEALER per peer, fed from the durable
 * outbox into a window of in-flight messages, retried with capped exponential
 * backoff until acknowledged; the consent a disclosure relies on checked
 * again before every send; key rollover dialling; audit checkpoints. */
#include "net_int.h"
#include "checkpoint.h"
#include "envelope.h"
#include "jdetail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the window: inflight entries, found by id through p->ids ---- */

static struct inflight *s_inflight_find(struct peer *p, const char *id)
{
	long i = idmap_find(&p->ids, id);

	return i < 0 ? NULL : &p->inflight[i];
}

static struct inflight *s_inflight_add(struct peer *p)
{
	return &p->inflight[p->n_inflight++];	/* indexed by s_inflight_index once filled */
}

static void s_inflight_index(struct peer *p, const struct inflight *f)
{
	idmap_put(&p->ids, (uint32_t)(f - p->inflight));
}

static void s_inflight_remove(struct peer *p, struct inflight *f)
{
	struct inflight *last = &p->inflight[p->n_inflight - 1];

	idmap_del(&p->ids, f->message_id);
	free(f->packed);
	if (f != last) {
		/* the last entry moves into f's place: order is not needed, ids carry it */
		idmap_move(&p->ids, last->message_id, (uint32_t)(f - p->inflight));
		*f = *last;
	}
	p->n_inflight--;
}

/* A refusal for now (a quota): the message stays queued and in flight, due
 * again when the peer said it may be. */
static void s_later(struct net *net, struct peer *p, const Overstap__Ack *a)
{
	uint32_t s = a->retry_after_s ? a->retry_after_s : 60;
	int64_t due = time_mono_ms() + (int64_t)(s > 86400 ? 86400 : s) * 1000;
	unsigned suppressed = 0;

	for (size_t i = 0; i < a->n_message_ids; i++) {
		struct inflight *f = s_inflight_find(p, a->message_ids[i]);

		if (f && f->due < due)
			f->due = due;
	}
	if (ratelimit_ok(&net->rl_reject, &suppressed))
		log_warn("peer %s refused %zu message(s) for now: %s; trying again in %u s", p->cfg.id,
			 a->n_message_ids, str_visbuf(a->reason).s, s);
}

/* Park a message (design.md §4.5): a refusal an administrator can do something
 * about. Inside the open transaction. */
static int s_park(struct net *net, struct peer *p, const char *id, const struct inflight *f,
		  const char *reason)
{
	int r = store_outbox_park(net->h->store, p->cfg.id, id, reason, f ? f->first_sent_at : 0,
				  f ? f->attempts : 0);

	if (r == 0) {
		p->parked++;
		if (p->depth)
			p->depth--;
		log_warnf(&((struct log_fields){ .id = LOG_ID_MESSAGE_PARKED, .peer = p->cfg.id }),
			  "peer %s: message %s parked: %s; `overstap outbox retry` or `cancel` it",
			  p->cfg.id, str_visbuf(id).s, str_visbuf(reason).s);
		if (store_auditf(net->h->store, "daemon", "message.parked", "", p->cfg.id, "{s:o, s:o}",
				 "message_id", jdetail_text(id), "reason", jdetail_text(reason)) < 0)
			r = -EIO;
	}
	return r;
}

/* Our next checkpoint to p goes soon, not an interval later (design.md
 * §5.6), yet at most once per CHECKPOINT_REPLY_MS after the last, so a busy
 * exchange does not turn into a checkpoint a second. */
static void s_checkpoint_soon(struct peer *p)
{
	int64_t at = time_mono_ms() + CHECKPOINT_SOON_MS;

	if (p->checkpoint_sent && p->checkpoint_sent + CHECKPOINT_REPLY_MS > at)
		at = p->checkpoint_sent + CHECKPOINT_REPLY_MS;
	if (p->checkpoint_due > at)
		p->checkpoint_due = at;
}

/* Apply one Ack inside the open transaction. */
static void s_apply_ack(struct net *net, struct peer *p, const Overstap__Ack *a, int64_t now)
{
	int rejected = a->result == OVERSTAP__ACK__RESULT__REJECTED;
	int64_t mono = time_mono_ms(), sample = 0;

	/* One sample per ack: the longest wait among the ids it answers that
	 * were sent once (Karn: a retried one's ack may answer either copy). */
	for (size_t i = 0; i < a->n_message_ids; i++) {
		const struct inflight *f = s_inflight_find(p, a->message_ids[i]);

		if (f && f->attempts == 1 && f->sent_mono && mono - f->sent_mono > sample)
			sample = mono - f->sent_mono;
	}
	if (sample)
		rto_sample(&p->rto, sample);
	if (a->n_message_ids)
		p->last_ack = mono;	/* the peer is making progress */
	p->credit = a->credit;		/* its word on our window from now (0: none) */
	p->credit_known = 1;

	if (rejected && a->disposition == OVERSTAP__ACK__DISPOSITION__LATER) {
		s_later(net, p, a);
		return;
	}
	for (size_t i = 0; i < a->n_message_ids; i++) {
		struct inflight *f = s_inflight_find(p, a->message_ids[i]);
		int r;

		if (rejected && a->disposition == OVERSTAP__ACK__DISPOSITION__PARK) {
			if ((r = s_park(net, p, a->message_ids[i], f, a->reason)) < 0)
				log_err("peer %s: cannot park %s: %s", p->cfg.id,
					str_visbuf(a->message_ids[i]).s, strerror(-r));
			if (f)
				s_inflight_remove(p, f);
			continue;
		}
		r = store_outbox_ack(net->h->store, p->cfg.id, a->message_ids[i], rejected, a->reason,
				     f ? f->first_sent_at : 0, f ? f->attempts : 0, now);

		if (r < 0)
			log_err("peer %s: cannot record ack of %s: %s", p->cfg.id,
				str_visbuf(a->message_ids[i]).s, strerror(-r));
		if (r == 0) {
			/* what the peer took in is in its audit log: its new head
			 * comes back with the answer to our next checkpoint */
			if (!rejected)
				s_checkpoint_soon(p);
			p->acked++;
			if (p->depth)
				p->depth--;
			if (rejected)
				log_warnf(&((struct log_fields){ .id = LOG_ID_MESSAGE_REFUSED,
								 .peer = p->cfg.id }),
					  "peer %s refused %s: %s", p->cfg.id,
					  str_visbuf(a->message_ids[i]).s, str_visbuf(a->reason).s);
		}
		if (f)
			s_inflight_remove(p, f);
	}
}

/* The peer's answer to our checkpoint (design.md §5.6): its head, and what it
 * holds of ours, taken in as on the ROUTER, in the drain's transaction. A
 * head of its newer than the one we held goes back to it soon: a peer that
 * does not dial us has its log witnessed only by our checkpoints, and waited
 * an interval (5 minutes by default) for the first after its log grew. */
static void s_checkpoint_in(struct net *net, struct peer *p, const Overstap__Envelope *e,
			    int *in_tx)
{
	struct checkpoint_rec before = { 0 }, after;

	if (!*in_tx && store_begin(net->h->store) == 0)
		*in_tx = 1;
	if (!*in_tx)
		return;
	if (store_checkpoint_get(net->h->store, p->cfg.id, CHECKPOINT_THEIRS, &before) < 0)
		before.seq = 0;
	if (checkpoint_take(net->h, e) < 0)
		log_err("peer %s: cannot keep its audit checkpoint", p->cfg.id);
	else if (store_checkpoint_get(net->h->store, p->cfg.id, CHECKPOINT_THEIRS, &after) == 0 &&
		 after.seq > before.seq)
		s_checkpoint_soon(p);
}

void net_peer_handle(struct net *net, struct peer *p, int *in_tx)
{
	int64_t now = time_now_ms();

	for (int n = 0; n < RX_BATCH; n++) {
		zmq_msg_t msg;
		Overstap__Envelope *e = NULL;
		Overstap__Ack *a = NULL;
		const char *why = NULL;

		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, p->dealer, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			break;
		}
		/* The CURVE server key already proves who answers; the signature makes
		 * the ack evidence, and the checks keep a confused peer out. */
		if (envelope_unpack(zmq_msg_data(&msg), zmq_msg_size(&msg),
				    (size_t)net->h->cfg->max_message_size, &e, &why) == 0) {
			if (strcmp(e->sender, p->cfg.id) != 0 ||
			    strcmp(e->recipient, net->h->cfg->institution_id) != 0)
				why = "reply with wrong sender or recipient";
			else if (e->body_case != OVERSTAP__ENVELOPE__BODY_ACK &&
				 e->body_case != OVERSTAP__ENVELOPE__BODY_HELLO &&
				 e->body_case != OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT)
				why = "unexpected reply body";
			else if (net_verify(p, e) < 0)
				why = "signature does not verify";
			else if (e->body_case == OVERSTAP__ENVELOPE__BODY_HELLO)
				net_hello_record(net, p, e);	/* its answer to ours */
			else if (e->body_case == OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT)
				s_checkpoint_in(net, p, e, in_tx);
			else
				envelope_ack_unpack(envelope_body(e), &a, &why);
		}
		if (e && !why && e->body_case != OVERSTAP__ENVELOPE__BODY_ACK) {
			/* a Hello or a checkpoint: taken in above */
		} else if (!a) {
			net_reject(net, p, p->cfg.id, why ? why : "unreadable reply");
		} else {
			if (!*in_tx && store_begin(net->h->store) == 0)
				*in_tx = 1;
			if (*in_tx)
				s_apply_ack(net, p, a, now);
		}
		if (a)
			overstap__ack__free_unpacked(a, NULL);
		if (e)
			overstap__envelope__free_unpacked(e, NULL);
		zmq_msg_close(&msg);
	}
}

void net_peers_commit(struct net *net, int in_tx)
{
	if (in_tx && store_commit(net->h->store) < 0) {
		/* The messages are out of inflight but still queued in the store: the
		 * next outbox rescan sends them again and the receivers re-ack. */
		log_err("cannot commit the peers' acks");
		store_rollback(net->h->store);
	}
}

static int s_send_direct(struct net *net, struct peer *p, Overstap__Envelope__BodyCase body_case,
		    const uint8_t *body, size_t blen)
{
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t *packed = NULL;
	size_t plen = 0;
	int r;

	if (!p->dealer || !p->connected)
		return -ENOTCONN;
	r = envelope_build(net->h->cfg->institution_id, p->cfg.id, body_case, body, blen, net->h->keys->signer,
			   mid, &packed, &plen);
	if (r == 0 && zmq_send(p->dealer, packed, plen, ZMQ_DONTWAIT) < 0)
		r = -errno;
	free(packed);
	return r;
}

static void s_send_hello(struct net *net, struct peer *p)
{
	uint8_t body[192];
	size_t blen = net_hello_pack(net, body, sizeof(body));

	if (blen)
		(void)s_send_direct(net, p, OVERSTAP__ENVELOPE__BODY_HELLO, body, blen);
}

void net_peer_monitor_handle(struct net *net, struct peer *p)
{
	uint16_t ev;
	uint32_t val;

	while (net_monitor_read(p->monitor, &ev, &val) == 0) {
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			p->connected = 1;
			p->last_handshake = time_now_ms();
			p->reconnect_backoff = 0;
			log_info("peer %s: connected", p->cfg.id);
			/* Whatever was sent into the old connection may be lost: resend now. */
			for (size_t i = 0; i < p->n_inflight; i++)
				p->inflight[i].due = 0;
			p->last_ack = 0;	/* acks on the old one do not hold these back */
			s_send_hello(net, p);
			p->checkpoint_due = 0;	/* and our audit head, first thing */
		} else if (ev == ZMQ_EVENT_DISCONNECTED) {
			if (p->connected)
				log_info("peer %s: disconnected", p->cfg.id);
			p->connected = 0;
		} else if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
			/* libzmq ends the session for good after a refused handshake; we
			 * try again ourselves, spaced out so a peer that does not (yet)
			 * know our key is not hammered. */
			p->auth_failures++;
			p->connected = 0;
			p->reconnect_backoff = p->reconnect_backoff ? p->reconnect_backoff * 2 : RECONNECT_MIN_MS;
			if (p->reconnect_backoff > RECONNECT_MAX_MS)
				p->reconnect_backoff = RECONNECT_MAX_MS;
			p->reconnect_at = time_mono_ms() + p->reconnect_backoff;
			/* Some failures (a server key that does not match) leave libzmq
			 * retrying on its own, with the old options; hang up so that the
			 * next attempt is ours, at our pace, with our choice of key. */
			zmq_disconnect(p->dealer, p->cfg.endpoint);
			net_reject(net, p, p->cfg.id, "handshake with peer failed (wrong keys?)");
		}
	}
}

/* New outbox entries for this peer: look now rather than at the next tick. */
static void s_kick(struct peer *p)
{
	p->next_fill = 0;
}

void net_outbox_changed(struct net *net)
{
	for (size_t i = 0; i < net->n_peers; i++) {
		struct peer *p = &net->peers[i];

		if (store_outbox_parked_count(net->h->store, p->cfg.id, &p->parked) < 0)
			log_err("peer %s: cannot count its parked messages", p->cfg.id);
		if (p->dealer && store_outbox_depth(net->h->store, p->cfg.id, &p->depth) == 0)
			s_kick(p);
	}
}

void net_outbox_recheck(struct net *net)
{
	for (size_t i = 0; i < net->n_peers; i++) {
		struct peer *p = &net->peers[i];

		for (size_t j = 0; j < p->n_inflight; j++) {
			struct inflight *f = &p->inflight[j];
			int r = store_outbox_queued(net->h->store, f->message_id);

			if (r < 0)	/* cannot tell: kept, as a read error keeps it queued */
				log_err("peer %s: cannot read message %s in the outbox: %s", p->cfg.id,
					f->message_id, strerror(-r));
			if (r != 0)
				continue;
			log_info("peer %s: message %s is no longer queued (cancelled): not sent",
				 p->cfg.id, f->message_id);
			s_inflight_remove(p, f);
			j--;	/* f now holds the last entry: look at it too */
		}
	}
	net_outbox_changed(net);
}

/* How many may be in flight to p: max_in_flight, or less when the peer's
 * acks say so (its credit, design.md §4.6); CREDIT_INITIAL until the first. */
static size_t s_window(const struct net *net, const struct peer *p)
{
	size_t w = net->h->cfg->max_in_flight;

	if (!p->credit_known)
		return w < CREDIT_INITIAL ? w : CREDIT_INITIAL;
	return p->credit && p->credit < w ? p->credit : w;
}

/* Take more queued messages from the outbox into inflight. */
static void s_fill(struct net *net, struct peer *p, int64_t now)
{
	size_t window = s_window(net, p);
	size_t room = window > p->n_inflight ? window - p->n_inflight : 0, n = 0;
	struct outbox_msg *m = NULL;
	int r;

	if (room == 0 || now < p->next_fill)
		return;
	r = store_outbox_pending(net->h->store, p->cfg.id, p->cursor, (unsigned)room, &m, &n);
	if (r < 0) {
		log_err("peer %s: cannot read the outbox: %s", p->cfg.id, strerror(-r));
		p->next_fill = now + FILL_IDLE_MS;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct inflight *f = s_inflight_add(p);

		memset(f, 0, sizeof(*f));
		str_copy(f->message_id, sizeof(f->message_id), m[i].message_id);
		f->packed = m[i].packed;	/* transferred */
		f->len = m[i].len;
		str_copy(f->consent_id, sizeof(f->consent_id), m[i].consent_id);
		str_copy(f->consent_until, sizeof(f->consent_until), m[i].consent_until);
		str_copy(p->cursor, sizeof(p->cursor), m[i].message_id);
		s_inflight_index(p, f);
	}
	free(m);
	if (n < room) {
		/* The end of the outbox. Ids are time-ordered but two made in the same
		 * millisecond need not be, so once nothing is in flight, start over
		 * from the beginning to pick up any that sorted behind the cursor. */
		if (p->n_inflight == 0)
			p->cursor[0] = '\0';
		p->next_fill = now + FILL_IDLE_MS;
	}
}

static void s_serverkey_set(struct peer *p, int next)
{
	p->server_next = next;
	if (zmq_setsockopt(p->dealer, ZMQ_CURVE_SERVERKEY, next ? p->cfg.curve_next : p->cfg.curve_public,
			   CRYPTO_Z85_KEY_LEN + 1) < 0)
		log_err("peer %s: cannot set its server key: %s", p->cfg.id, zmq_strerror(errno));
}

/* A new connection, made with the socket's current options. */
static void s_redial(struct peer *p, const char *why)
{
	zmq_disconnect(p->dealer, p->cfg.endpoint);	/* may be gone already */
	if (zmq_connect(p->dealer, p->cfg.endpoint) < 0)
		log_err("peer %s: reconnect failed: %s", p->cfg.id, zmq_strerror(errno));
	else
		log_info("peer %s: %s%s", p->cfg.id, why,
			 p->cfg.curve_next[0] ? (p->server_next ? " (its new key)" : " (its old key)") : "");
}

/* When a peer's rollover window closes, its old keys are refused from then
 * on (by ZAP and s_verify, which look at the clock themselves); here we say
 * so once and stop dialling the old server key. */
static void s_rollover_tick(struct net *net, struct peer *p)
{
	if (!p->cfg.curve_next[0] || p->window_closed ||
	    config_peer_old_keys_ok(&p->cfg, time_now_ms()))
		return;
	p->window_closed = 1;
	log_notice("peer %s: key rollover window closed at %s: its old keys are refused from now on; "
		   "move curve_public_key_next and sign_public_key_next into place",
		   p->cfg.id, net_utc(p->cfg.rollover_until).s);
	if (store_auditf(net->h->store, "daemon", "key.peer_old_refused", "", p->cfg.id, "{s:s}",
			  "until", net_utc(p->cfg.rollover_until).s) < 0)
		log_err("cannot write the audit log");
	if (p->dealer && !p->server_next) {
		s_serverkey_set(p, 1);
		s_redial(p, "dialling again after the rollover");
	}
}

/* Wake in time for the earliest rollover window to close. */
static void s_rollover_wake(const struct net *net, int64_t *wake_in_ms)
{
	int64_t now = time_now_ms();

	for (size_t i = 0; i < net->n_peers; i++) {
		const struct peer_cfg *c = &net->peers[i].cfg;

		if (c->curve_next[0] && c->rollover_until > now && c->rollover_until - now < *wake_in_ms)
			*wake_in_ms = c->rollover_until - now;
	}
}

/* design.md §3: a disclosure under consent is checked again before every send,
 * retries included. When the consent has been withdrawn (here, or by the peer
 * that holds it) or has expired, the message is cancelled, never sent, and
 * the cancellation audited. Returns 1 when f was cancelled and removed. */
static int s_consent_ended(struct net *net, struct peer *p, struct inflight *f)
{
	char today[11];
	const char *why = NULL;
	int r;

	date_today(today);
	if (f->consent_until[0] && strcmp(f->consent_until, today) < 0)
		why = "consent expired";
	else if ((r = store_consent_revoked(net->h->store, f->consent_id, today)) == 1)
		why = "consent withdrawn";
	else if (r < 0)
		return 0;	/* cannot tell now: the next round looks again */
	if (!why)
		return 0;
	if (store_begin(net->h->store) < 0)
		return 0;
	if (store_outbox_cancel(net->h->store, f->message_id, why) < 0 ||
	    store_auditf(net->h->store, "daemon", "disclosure.cancelled", "", p->cfg.id,
			  "{s:s, s:o, s:o}", "reason", why, "consent_id", jdetail_text(f->consent_id),
			  "message_id", jdetail_text(f->message_id)) < 0 ||
	    store_commit(net->h->store) < 0) {
		store_rollback(net->h->store);
		return 0;
	}
	log_notice("peer %s: message %s cancelled before sending: %s", p->cfg.id, f->message_id, why);
	if (p->depth)
		p->depth--;
	s_inflight_remove(p, f);
	return 1;
}

/* design.md §4.5: never send what the peer has said it would refuse (it was
 * queued before its Hello told us, or its limit went down since): park it
 * instead, so it neither blocks the link nor goes round forever. Returns 1
 * when f was parked and removed. */
static int s_too_large(struct net *net, struct peer *p, struct inflight *f)
{
	char why[160];

	if (!p->said.max_message_size || (int64_t)f->len <= p->said.max_message_size)
		return 0;
	snprintf(why, sizeof(why), "message of %zu bytes is larger than %s's limit of %lld bytes",
		 f->len, p->cfg.id, (long long)p->said.max_message_size);
	if (store_begin(net->h->store) < 0)
		return 0;
	if (s_park(net, p, f->message_id, f, why) < 0 || store_commit(net->h->store) < 0) {
		store_rollback(net->h->store);
		return 0;
	}
	s_inflight_remove(p, f);
	return 1;
}

/* Send our audit head to every connected peer whose turn it is (and to one
 * that just connected); lowers *wake_in_ms to the next turn. Loss costs
 * nothing: the next one replaces it, so it goes outside the outbox. */
static void s_checkpoints(struct net *net, int64_t *wake_in_ms)
{
	int64_t now = time_mono_ms(), every = (int64_t)net->h->cfg->checkpoint_interval_s * 1000;

	for (size_t i = 0; i < net->n_peers; i++) {
		struct peer *p = &net->peers[i];
		uint8_t body[160];
		size_t blen = 0;
		int64_t seq = 0;

		if (!p->connected)
			continue;
		if (p->checkpoint_due > now) {
			if (p->checkpoint_due - now < *wake_in_ms)
				*wake_in_ms = p->checkpoint_due - now;
			continue;
		}
		p->checkpoint_due = now + every;
		if (checkpoint_build(net->h, p->cfg.id, body, sizeof(body), &blen, &seq) < 0)
			continue;
		/* an empty log is nothing to witness: look again soon, so the first
		 * exchange follows the first entry (design.md §5.6) */
		if (seq == 0 && every > CHECKPOINT_EMPTY_MS)
			p->checkpoint_due = now + CHECKPOINT_EMPTY_MS;
		if (s_send_direct(net, p, OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, body, blen) < 0)
			continue;
		p->checkpoint_sent = now;
		log_debug("peer %s: sent audit checkpoint at entry %lld", p->cfg.id, (long long)seq);
	}
}

void net_pump(struct net *net, int64_t *wake_in_ms)
{
	int64_t now = time_mono_ms();

	s_rollover_wake(net, wake_in_ms);
	for (size_t i = 0; i < net->n_peers; i++) {
		struct peer *p = &net->peers[i];
		int blocked = !p->connected;

		if (!p->dealer) {
			s_rollover_tick(net, p);
			continue;
		}
		s_rollover_tick(net, p);
		if (p->reconnect_at && now >= p->reconnect_at) {
			p->reconnect_at = 0;
			/* Mid-rollover a failed handshake may mean the peer has switched
			 * its server key (or not yet): try the other one. */
			if (p->cfg.curve_next[0] && config_peer_old_keys_ok(&p->cfg, time_now_ms()))
				s_serverkey_set(p, !p->server_next);
			s_redial(p, "reconnecting after a failed handshake");
		}
		if (p->reconnect_at && p->reconnect_at - now < *wake_in_ms)
			*wake_in_ms = p->reconnect_at - now;
		s_fill(net, p, now);
		for (size_t j = 0; j < p->n_inflight; j++) {
			struct inflight *f = &p->inflight[j];

			if (f->due <= now && !blocked &&
			    ((f->consent_id[0] && s_consent_ended(net, p, f)) || s_too_large(net, p, f))) {
				j--;	/* f now holds the last entry: look at it too */
				continue;
			}
			/* A retry waits while acks keep coming: the peer is working
			 * through its queue, and a second copy would only lengthen
			 * it (TCP restarts its timer on every ack, RFC 6298 5.3).
			 * Up to RTO_HOLD_FACTOR timeouts since the send: a message
			 * lost among acked ones is still sent again. */
			if (f->due <= now && f->attempts && p->last_ack) {
				int64_t rto = rto_timeout(&p->rto, net->h->cfg->retry_initial_ms,
							  net->h->cfg->retry_max_ms);

				if (now - p->last_ack < rto && now - f->sent_mono < RTO_HOLD_FACTOR * rto)
					f->due = p->last_ack + rto;
			}
			if (f->due <= now && !blocked) {
				if (zmq_send(p->dealer, f->packed, f->len, ZMQ_DONTWAIT) < 0) {
					blocked = 1;	/* HWM or connection gone: later */
				} else {
					f->attempts++;
					p->sent++;
					if (!f->first_sent_at)
						f->first_sent_at = time_now_ms();
					f->sent_mono = now;
					f->due = now + rto_backoff(&p->rto, net->h->cfg->retry_initial_ms,
								    net->h->cfg->retry_max_ms, f->attempts);
				}
			}
			if (f->due > now && f->due - now < *wake_in_ms)
				*wake_in_ms = f->due - now;
		}
		if (blocked && p->connected && p->n_inflight && *wake_in_ms > 20)
			*wake_in_ms = 20;
		if (p->n_inflight < s_window(net, p) && p->next_fill > now &&
		    p->next_fill - now < *wake_in_ms)
			*wake_in_ms = p->next_fill - now;
		else if (p->n_inflight < s_window(net, p) && p->next_fill <= now)
			*wake_in_ms = 0;
	}
	s_checkpoints(net, wake_in_ms);
}
