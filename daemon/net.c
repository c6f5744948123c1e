/* net: the ZeroMQ side of overstapd (SPEC §4). Receiving: one CURVE ROUTER,
 * admitted by our ZAP handler, committing in groups before it acks. Sending:
 * one CURVE DEALER per peer, fed from the durable outbox, retried with capped
 * exponential backoff until acknowledged. */
#include "net.h"
#include "checkpoint.h"
#include "envelope.h"
#include "erasure.h"
#include "consent.h"
#include "outcomes.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "overstap"
#define RX_BATCH 512		/* messages committed in one transaction */
#define FILL_IDLE_MS 1000	/* look in an idle outbox this often */
#define RECONNECT_MIN_MS 1000	/* after a failed handshake ... */
#define RECONNECT_MAX_MS 60000	/* ... doubling up to this */
#define MONITOR_EVENTS (ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | \
			ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | \
			ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

struct utc {
	char s[21];
};

/* A wall-clock ms as UTC text, for log lines. */
static struct utc s_utc(int64_t ms)
{
	struct utc u = { "" };

	time_format_utc(ms, u.s);
	return u;
}

static int s_opt(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof(v)) == 0 ? 0 : -errno;
}

/* Options every network socket shares: heartbeats to find dead peers, a cap on
 * what a peer can make us allocate, no lingering (the outbox is durable). */
static int s_common_opts(const struct config *cfg, void *sock)
{
	int64_t max = cfg->max_message_size;

	if (s_opt(sock, ZMQ_HEARTBEAT_IVL, cfg->heartbeat_ivl_ms) < 0 ||
	    s_opt(sock, ZMQ_HEARTBEAT_TIMEOUT, cfg->heartbeat_timeout_ms) < 0 ||
	    s_opt(sock, ZMQ_HEARTBEAT_TTL, cfg->heartbeat_timeout_ms) < 0 ||
	    s_opt(sock, ZMQ_LINGER, 0) < 0 || s_opt(sock, ZMQ_SNDHWM, 10000) < 0 ||
	    s_opt(sock, ZMQ_RCVHWM, 10000) < 0 ||
	    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) < 0)
		return -errno;
	return 0;
}

/* Stop a socket's monitor before closing the PAIR that reads it. libzmq sends
 * monitor events with a blocking send from its I/O thread: an event for a
 * reader that is gone (a DISCONNECTED while the socket winds down) blocks
 * that thread for good, and with it every socket of the context, the
 * control socket included (libzmq issue #3575). Seen as a daemon that
 * stopped answering after a reload that replaced a peer mid-handshake. */
static void s_monitor_close(void *sock, void **pair)
{
	if (sock)
		zmq_socket_monitor(sock, NULL, 0);	/* harmless when none runs */
	if (*pair)
		zmq_close(*pair);
	*pair = NULL;
}

/* A PAIR socket that receives `sock`'s monitor events. */
static void *s_monitor(struct daemon *d, void *sock, const char *name)
{
	char ep[128];
	void *pair;

	snprintf(ep, sizeof(ep), "inproc://monitor-%s-%p", name, sock);
	if (zmq_socket_monitor(sock, ep, MONITOR_EVENTS) < 0)
		return NULL;
	pair = zmq_socket(d->zctx, ZMQ_PAIR);
	if (!pair || zmq_connect(pair, ep) < 0)
		s_monitor_close(sock, &pair);	/* no reader: the monitor must not run */
	return pair;
}

/* Read one monitor event (libzmq 4.x: [u16 event, u32 value][endpoint]). */
static int s_monitor_read(void *pair, uint16_t *event, uint32_t *value)
{
	zmq_msg_t m;
	int r = -EAGAIN, more;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) >= 0) {
		if (zmq_msg_size(&m) >= 6) {
			const uint8_t *p = zmq_msg_data(&m);
			memcpy(event, p, 2);
			memcpy(value, p + 2, 4);
			r = 0;
		} else {
			r = -EBADMSG;
		}
		more = zmq_msg_more(&m);
		while (more) {	/* the endpoint frame: not needed */
			zmq_msg_close(&m);
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, pair, 0) < 0)
				break;
			more = zmq_msg_more(&m);
		}
	}
	zmq_msg_close(&m);
	return r;
}

int net_open(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	int r;

	d->zctx = zmq_ctx_new();
	if (!d->zctx)
		return -errno;
	/* The ZAP handler must exist before anything binds with CURVE. */
	d->zap = zmq_socket(d->zctx, ZMQ_REP);
	if (!d->zap || zmq_bind(d->zap, ZAP_ENDPOINT) < 0)
		goto fail;
	d->router = zmq_socket(d->zctx, ZMQ_ROUTER);
	if (!d->router)
		goto fail;
	if (s_opt(d->router, ZMQ_CURVE_SERVER, 1) < 0 ||
	    zmq_setsockopt(d->router, ZMQ_CURVE_SECRETKEY, d->keys.curve_secret, CRYPTO_Z85_KEY_LEN + 1) < 0 ||
	    zmq_setsockopt(d->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) < 0 ||
	    s_opt(d->router, ZMQ_ROUTER_MANDATORY, 1) < 0 || s_common_opts(cfg, d->router) < 0)
		goto fail;
	d->router_monitor = s_monitor(d, d->router, "router");
	if (!d->router_monitor)
		goto fail;
	if (zmq_bind(d->router, cfg->listen) < 0) {
		r = -errno;
		log_err("cannot listen on %s: %s", cfg->listen, zmq_strerror(-r));
		return r;
	}
	{
		size_t len = sizeof(d->bound);
		if (zmq_getsockopt(d->router, ZMQ_LAST_ENDPOINT, d->bound, &len) < 0)
			str_copy(d->bound, sizeof(d->bound), cfg->listen);
		log_notice("listening on %s as %s", d->bound, cfg->institution_id);
	}
	return net_peers_apply(d, cfg, 0);
fail:
	r = -errno;
	log_err("cannot set up the network: %s", zmq_strerror(-r));
	return r;
}

int net_router_rekey(struct daemon *d)
{
	int r = -EADDRINUSE;

	/* A listener copies the socket's options when it binds: unbind, set the
	 * new secret, bind the same (resolved) endpoint again. The old listener
	 * is torn down by libzmq's I/O thread, so the port may take a moment. */
	if (zmq_unbind(d->router, d->bound) < 0)
		log_warn("rekey: unbind %s: %s", d->bound, zmq_strerror(errno));
	if (zmq_setsockopt(d->router, ZMQ_CURVE_SECRETKEY, d->keys.curve_secret, CRYPTO_Z85_KEY_LEN + 1) < 0)
		return -errno;
	for (int i = 0; i < 100 && r == -EADDRINUSE; i++) {
		if (zmq_bind(d->router, d->bound) == 0)
			r = 0;
		else if ((r = -errno) == -EADDRINUSE)
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000L }, NULL);
	}
	if (r < 0)
		log_err("rekey: cannot listen on %s again: %s", d->bound, zmq_strerror(-r));
	return r;
}

static void s_inflight_clear(struct peer *p)
{
	for (size_t i = 0; i < p->n_inflight; i++)
		free(p->inflight[i].packed);
	p->n_inflight = 0;
}

static void s_peer_close(struct peer *p)
{
	s_monitor_close(p->dealer, &p->monitor);
	if (p->dealer)
		zmq_close(p->dealer);
	s_inflight_clear(p);
	free(p->inflight);
	crypto_sigkey_free(&p->verify);
	crypto_sigkey_free(&p->verify_next);
	memset(p, 0, sizeof(*p));
}

static int s_peer_open(struct daemon *d, const struct config *cfg, const struct peer_cfg *pc,
		       struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *pc;
	p->verify = crypto_sigkey_new_public(pc->sign_public);
	p->inflight = calloc(cfg->max_in_flight, sizeof(*p->inflight));
	if (!p->verify || !p->inflight)
		goto fail;
	if (pc->has_sign_next && !(p->verify_next = crypto_sigkey_new_public(pc->sign_next)))
		goto fail;
	/* Mid-rollover we cannot know which key the peer's server has now: start
	 * with the old one and switch on a failed handshake (s_rollover_switch). */
	p->server_next = pc->curve_next[0] && !config_peer_old_keys_ok(pc, time_now_ms());
	if (pc->curve_next[0]) {
		char detail[128];

		snprintf(detail, sizeof(detail), "{\"until\":\"%s\",\"curve_next\":\"%s\"}",
			 s_utc(pc->rollover_until).s, pc->curve_next);
		log_notice("peer %s: key rollover: old and new keys admitted until %s", pc->id,
			   s_utc(pc->rollover_until).s);
		if (store_audit(d->store, "daemon", "key.peer_rollover", "", pc->id, detail) < 0)
			log_err("cannot write the audit log");
	}
	if (store_outbox_depth(d->store, pc->id, &p->depth) < 0)
		p->depth = 0;
	if (!pc->endpoint[0])
		return 0;	/* we only receive from this peer */
	p->dealer = zmq_socket(d->zctx, ZMQ_DEALER);
	if (!p->dealer)
		goto fail;
	/* IMMEDIATE: a send while not connected fails at once instead of queueing
	 * in libzmq's memory; the outbox is where messages wait. */
	if (zmq_setsockopt(p->dealer, ZMQ_CURVE_SERVERKEY, p->server_next ? pc->curve_next : pc->curve_public,
			   CRYPTO_Z85_KEY_LEN + 1) < 0 ||
	    zmq_setsockopt(p->dealer, ZMQ_CURVE_PUBLICKEY, d->keys.curve_public, CRYPTO_Z85_KEY_LEN + 1) < 0 ||
	    zmq_setsockopt(p->dealer, ZMQ_CURVE_SECRETKEY, d->keys.curve_secret, CRYPTO_Z85_KEY_LEN + 1) < 0 ||
	    s_opt(p->dealer, ZMQ_IMMEDIATE, 1) < 0 || s_opt(p->dealer, ZMQ_RECONNECT_IVL, 500) < 0 ||
	    s_opt(p->dealer, ZMQ_RECONNECT_IVL_MAX, 30000) < 0 || s_common_opts(cfg, p->dealer) < 0)
		goto fail;
	p->monitor = s_monitor(d, p->dealer, pc->id);
	if (!p->monitor || zmq_connect(p->dealer, pc->endpoint) < 0)
		goto fail;
	log_info("peer %s: connecting to %s", pc->id, pc->endpoint);
	return 0;
fail:
	log_err("peer %s: cannot set up: %s", pc->id, zmq_strerror(errno));
	s_peer_close(p);
	return -EIO;
}

static int s_peer_cfg_same(const struct peer_cfg *a, const struct peer_cfg *b)
{
	return strcmp(a->id, b->id) == 0 && strcmp(a->endpoint, b->endpoint) == 0 &&
	       strcmp(a->curve_public, b->curve_public) == 0 &&
	       memcmp(a->sign_public, b->sign_public, sizeof(a->sign_public)) == 0 &&
	       strcmp(a->curve_next, b->curve_next) == 0 &&
	       memcmp(a->sign_next, b->sign_next, sizeof(a->sign_next)) == 0 &&
	       a->rollover_until == b->rollover_until;
}

int net_peers_apply(struct daemon *d, const struct config *cfg, int reopen)
{
	struct peer *np = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*np));
	ptrdiff_t *keep = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*keep));
	int r = 0;

	if (!np || !keep) {
		free(np);
		free(keep);
		return -ENOMEM;
	}
	/* First open every new or changed peer; only when all of them could be
	 * set up does anything change (a reload is all or nothing). */
	for (size_t i = 0; i < cfg->n_peers && r == 0; i++) {
		const struct peer_cfg *pc = &cfg->peers[i];
		struct peer *old = daemon_peer(d, pc->id);

		keep[i] = -1;
		if (old && !reopen && s_peer_cfg_same(&old->cfg, pc) &&
		    cfg->max_in_flight == d->cfg->max_in_flight)
			keep[i] = old - d->peers;	/* unchanged: keep connection and state */
		else if (s_peer_open(d, cfg, pc, &np[i]) < 0)
			r = -EIO;
	}
	if (r < 0) {
		for (size_t i = 0; i < cfg->n_peers; i++)
			if (np[i].verify)
				s_peer_close(&np[i]);
		free(np);
		free(keep);
		return r;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (keep[i] < 0)
			continue;
		np[i] = d->peers[keep[i]];
		np[i].cfg = cfg->peers[i];	/* the name may have changed */
		memset(&d->peers[keep[i]], 0, sizeof(struct peer));
	}
	for (size_t i = 0; i < d->n_peers; i++)
		if (d->peers[i].verify)
			s_peer_close(&d->peers[i]);
	free(d->peers);
	free(keep);
	d->peers = np;
	d->n_peers = cfg->n_peers;
	return 0;
}

void net_close(struct daemon *d)
{
	for (size_t i = 0; i < d->n_peers; i++)
		s_peer_close(&d->peers[i]);
	free(d->peers);
	d->peers = NULL;
	d->n_peers = 0;
	s_monitor_close(d->router, &d->router_monitor);
	if (d->router)
		zmq_close(d->router);
	if (d->zap)
		zmq_close(d->zap);
	d->router = d->router_monitor = d->zap = NULL;
	if (d->zctx)
		zmq_ctx_term(d->zctx);
	d->zctx = NULL;
}

/* ---- ZAP: who may connect at all ---- */

/* The peer holding this CURVE key. A peer's old key stops being one once its
 * rollover window has passed; *why then says so. */
static struct peer *s_peer_by_curve(struct daemon *d, const uint8_t key[32], const char **why)
{
	char z85[CRYPTO_Z85_KEY_LEN + 1];
	int64_t now = time_now_ms();

	*why = "connection with an unknown CURVE key refused";
	if (!zmq_z85_encode(z85, key, 32))
		return NULL;
	for (size_t i = 0; i < d->n_peers; i++) {
		struct peer *p = &d->peers[i];

		if (p->cfg.curve_next[0] && strcmp(p->cfg.curve_next, z85) == 0) {
			if (!p->seen_next) {
				log_notice("peer %s: connected with its new key (rollover until %s)",
					   p->cfg.id, s_utc(p->cfg.rollover_until).s);
				if (store_audit(d->store, "daemon", "key.peer_new_seen", "", p->cfg.id,
						"{}") < 0)
					log_err("cannot write the audit log");
			}
			p->seen_next = 1;
			return p;
		}
		if (strcmp(p->cfg.curve_public, z85) == 0) {
			if (config_peer_old_keys_ok(&p->cfg, now))
				return p;
			*why = "connection with a peer's old CURVE key after its rollover window";
			return NULL;
		}
	}
	return NULL;
}

static void s_send_str(void *sock, const char *s, int more)
{
	zmq_send(sock, s, strlen(s), more ? ZMQ_SNDMORE : 0);
}

void net_zap_handle(struct daemon *d)
{
	zmq_msg_t f[8];
	size_t n = 0;
	int more = 1;
	const char *status = "500", *text = "malformed ZAP request", *user = "";
	struct peer *p = NULL;

	while (more && n < ARRAY_SIZE(f)) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], d->zap, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[n]);
			if (n == 0)
				return;
			break;
		}
		more = zmq_msg_more(&f[n++]);
	}
	while (more) {	/* more frames than any ZAP request has: drain them */
		zmq_msg_t x;
		zmq_msg_init(&x);
		zmq_msg_recv(&x, d->zap, 0);
		more = zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	/* version, request id, domain, address, identity, mechanism, credentials */
	if (n >= 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&f[6]) == 32) {
		const char *why = NULL;

		p = s_peer_by_curve(d, zmq_msg_data(&f[6]), &why);
		if (p) {
			status = "200";
			text = "OK";
			user = p->cfg.id;	/* User-Id: every message is checked against it */
		} else {
			char addr[64] = "";
			size_t al = zmq_msg_size(&f[3]) < sizeof(addr) - 1 ? zmq_msg_size(&f[3]) : sizeof(addr) - 1;

			memcpy(addr, zmq_msg_data(&f[3]), al);
			status = "400";
			text = "unknown key";
			daemon_reject(d, NULL, addr, why);
		}
	}
	s_send_str(d->zap, "1.0", 1);
	if (n >= 2)
		zmq_send(d->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
	else
		s_send_str(d->zap, "", 1);
	s_send_str(d->zap, status, 1);
	s_send_str(d->zap, text, 1);
	s_send_str(d->zap, user, 1);
	s_send_str(d->zap, "", 0);
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

/* A signature by the peer's current key (while it is still admitted) or by
 * its next key during a rollover. */
static int s_verify(struct peer *p, const Overstap__Envelope *e)
{
	if (config_peer_old_keys_ok(&p->cfg, time_now_ms()) && envelope_verify(e, p->verify) == 0)
		return 0;
	return p->verify_next ? envelope_verify(e, p->verify_next) : -EBADMSG;
}

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
static int s_tx_open(struct daemon *d, struct rx_batch *b)
{
	if (!b->in_tx) {
		if (store_begin(d->store) < 0) {
			b->failed = 1;
			return -EIO;
		}
		b->in_tx = 1;
	}
	return 0;
}

/* The receiver's own check of the legal basis (SPEC §3): a dossier sent under
 * consent must carry an assertion of a handover consent for us that is in
 * force; free-text care notes always need one. NULL = acceptable. */
static const char *s_rx_basis_check(struct daemon *d, const Overstap__Handover *h)
{
	char today[11];
	int consent = 0, notes = 0;

	date_today(today);
	for (size_t i = 0; i < h->n_consents; i++)
		consent |= envelope_assertion_in_force(h->consents[i], "handover",
						       d->cfg->institution_id, today);
	for (size_t i = 0; i < h->n_support_needs; i++)
		notes |= h->support_needs[i]->note[0] != '\0';
	if (strcmp(h->basis, "statute") != 0 && strcmp(h->basis, "consent") != 0)
		return "handover with an unknown legal basis";
	if (strcmp(h->basis, "consent") == 0 && !consent)
		return "handover under consent without a valid consent assertion";
	if (notes && !consent)
		return "free-text care notes without a handover consent";
	return NULL;
}

static int s_rx_audit(struct daemon *d, const char *sender, const char *action,
		      const char *record_id, const char *basis, const char *reason)
{
	char actor[16], detail[256];

	snprintf(actor, sizeof(actor), "peer:%s", sender);
	snprintf(detail, sizeof(detail), "{\"purpose\":\"handover\",\"basis\":\"%.16s\"%s%s%s}",
		 basis, reason ? ",\"reason\":\"" : "", reason ? reason : "", reason ? "\"" : "");
	return store_audit(d->store, actor, action, record_id, sender, detail);
}

/* Store one handover (inside the batch transaction). Returns the reason to
 * reject it with, or NULL when stored or already held. */
static const char *s_rx_handover(struct daemon *d, struct rx_batch *b, const Overstap__Envelope *e,
				 const uint8_t *packed, size_t len)
{
	Overstap__Handover *h = NULL;
	const char *why = NULL;
	int r;

	if (envelope_handover_unpack(envelope_body(e), &h, &why) < 0)
		return why;
	why = s_rx_basis_check(d, h);
	if (s_tx_open(d, b) < 0)
		goto out;
	if (why) {
		/* a refusal on the legal basis is a decision about a pupil: audited */
		if (s_rx_audit(d, e->sender, "dossier.refused", h->record_id, h->basis, why) < 0)
			b->failed = 1;
		goto out;
	}
	r = store_inbox_put(d->store, e->message_id, e->sender, h, packed, len, time_now_ms());
	if (r == 0)
		r = s_rx_audit(d, e->sender, "dossier.received", h->record_id, h->basis, NULL);
	if (r == -EEXIST) {
		why = "record id already received in another message";
	} else if (r < 0) {
		log_err("cannot store handover %s from %s: %s", e->message_id, e->sender, strerror(-r));
		b->failed = 1;
	}
out:
	overstap__handover__free_unpacked(h, NULL);
	return why;
}

/* ---- receiving what the receiver tells the school ---- */

/* The leaver a status or outcome is about: one we handed over to its sender. */
static const char *s_rx_leaver(struct daemon *d, const char *record_id, const char *sender,
			       struct leaver *l)
{
	if (store_leaver_by_record(d->store, record_id, 0, l) < 0)
		return "no handover with this record id";
	if (strcmp(l->destination_institution, sender) != 0 ||
	    (l->state != LEAVER_QUEUED && l->state != LEAVER_DELIVERED))
		return "no handover with this record id to the sender";
	return NULL;
}

/* SPEC §3: an outcome comes back only under a follow_up consent that is ours,
 * for this pupil, for the sender (or anyone), and in force today. Our record
 * decides, not the assertion. */
static const char *s_rx_outcome_consent(struct daemon *d, const struct leaver *l,
					const Overstap__Outcome *o, const char *sender)
{
	struct consent k;
	int64_t lid = -1;
	char today[11];

	date_today(today);
	if (store_consent_get(d->store, o->consent->consent_id, &k, &lid) < 0 || lid != l->id ||
	    !consent_in_force(&k, CONSENT_PURPOSE_FOLLOW_UP, sender, today))
		return "outcome without a valid follow_up consent";
	return NULL;
}

static int s_rx_event(struct daemon *d, const Overstap__Envelope *e, const char *record_id,
		      const char *name, const char *date, unsigned level, const char *consent_id)
{
	struct event_rec ev = { 0 };
	char detail[200];
	int r;

	str_copy(ev.message_id, sizeof(ev.message_id), e->message_id);
	str_copy(ev.record_id, sizeof(ev.record_id), record_id);
	ev.inbound = 1;
	str_copy(ev.peer, sizeof(ev.peer), e->sender);
	ev.event = outcome_event_from_str(name);
	str_copy(ev.date, sizeof(ev.date), date);
	ev.level = (int)level;
	str_copy(ev.consent_id, sizeof(ev.consent_id), consent_id);
	ev.at = time_now_ms();
	snprintf(ev.actor, sizeof(ev.actor), "peer:%s", e->sender);
	if ((r = store_event_add(d->store, &ev)) != 0)
		return r < 0 ? r : 0;	/* 1: a retry of one we hold */
	snprintf(detail, sizeof(detail), "{\"purpose\":\"%s\",\"event\":\"%s\",\"date\":\"%s\"%s%s%s}",
		 consent_id[0] ? "follow_up" : "status", name, date,
		 consent_id[0] ? ",\"consent_id\":\"" : "", consent_id, consent_id[0] ? "\"" : "");
	return store_audit(d->store, ev.actor, consent_id[0] ? "outcome.received" : "status.received",
			   record_id, e->sender, detail);
}

/* A registration at the receiver: mark our leaver with that PGN registered,
 * the normal path to a sendable dossier. */
static const char *s_rx_registration(struct daemon *d, const Overstap__Envelope *e,
				     const Overstap__Registration *g, int *failed)
{
	struct leaver l;
	char actor[16], subj[32], detail[96];
	const char *why = NULL;
	int r = 0;

	if (store_leaver_by_pgn(d->store, g->pgn, 0, &l) < 0)
		return "no leaver with this PGN";
	snprintf(actor, sizeof(actor), "peer:%s", e->sender);
	snprintf(subj, sizeof(subj), "leaver:%lld", (long long)l.id);
	if (strcmp(l.destination_institution, e->sender) != 0)
		why = "the pupil's destination here is another institution";
	else if (l.state == LEAVER_IMPORTED && strcmp(l.registered_on, g->registered_on) != 0 &&
		 (r = store_leaver_set_registered(d->store, l.id, g->registered_on, actor)) == 0) {
		snprintf(detail, sizeof(detail), "{\"registered_on\":\"%s\"}", g->registered_on);
		r = store_audit(d->store, actor, "registration.received", l.record_id[0] ? l.record_id : subj,
				e->sender, detail);
	}
	if (r < 0)
		*failed = 1;
	store_leaver_clear(&l);
	return why;
}

static const char *s_rx_feedback(struct daemon *d, struct rx_batch *b, const Overstap__Envelope *e)
{
	Overstap__Status *st = NULL;
	Overstap__Outcome *o = NULL;
	Overstap__Registration *g = NULL;
	const ProtobufCBinaryData *body = envelope_body(e);
	struct leaver l = { 0 };
	const char *why = NULL, *record_id;
	int r = 0;

	if (e->body_case == OVERSTAP__ENVELOPE__BODY_STATUS)
		envelope_status_unpack(body, &st, &why);
	else if (e->body_case == OVERSTAP__ENVELOPE__BODY_OUTCOME)
		envelope_outcome_unpack(body, &o, &why);
	else
		envelope_registration_unpack(body, &g, &why);
	if (why || s_tx_open(d, b) < 0)
		goto out;
	if (g) {
		why = s_rx_registration(d, e, g, &b->failed);
		goto out;
	}
	record_id = st ? st->record_id : o ? o->record_id : NULL;
	if (!record_id)
		goto out;	/* not reached: one of them unpacked when why is NULL */
	why = s_rx_leaver(d, record_id, e->sender, &l);
	if (!why && o)
		why = s_rx_outcome_consent(d, &l, o, e->sender);
	if (why && o) {
		char actor[16];

		snprintf(actor, sizeof(actor), "peer:%s", e->sender);
		r = store_audit(d->store, actor, "disclosure.refused", o->record_id, e->sender,
				"{\"purpose\":\"follow_up\",\"reason\":\"no valid follow_up consent\"}");
	} else if (!why) {
		r = st ? s_rx_event(d, e, st->record_id, st->status, st->date, 0, "")
		       : s_rx_event(d, e, o->record_id, o->outcome, o->date, o->level, o->consent->consent_id);
	}
	if (r < 0) {
		log_err("cannot store a %s from %s: %s", envelope_body_name(e->body_case), e->sender,
			strerror(-r));
		b->failed = 1;
	}
out:
	store_leaver_clear(&l);
	if (st)
		overstap__status__free_unpacked(st, NULL);
	if (o)
		overstap__outcome__free_unpacked(o, NULL);
	if (g)
		overstap__registration__free_unpacked(g, NULL);
	return why;
}

static void s_rx_one(struct daemon *d, struct rx_batch *b, zmq_msg_t *rid, zmq_msg_t *msg)
{
	const char *uid = zmq_msg_gets(msg, "User-Id");
	struct peer *p = uid ? daemon_peer(d, uid) : NULL;
	Overstap__Envelope *e = NULL;
	const char *why = NULL;

	if (!p) {
		daemon_reject(d, NULL, uid ? uid : "?", "message from a peer no longer configured");
		return;
	}
	if (envelope_unpack(zmq_msg_data(msg), zmq_msg_size(msg), (size_t)d->cfg->max_message_size,
			    &e, &why) < 0) {
		daemon_reject(d, p, uid, why);
		return;
	}
	/* The claimed sender must be the institution the CURVE key belongs to. */
	if (strcmp(e->sender, uid) != 0) {
		daemon_reject(d, p, uid, "claimed sender differs from the authenticated peer");
		goto out;
	}
	if (s_verify(p, e) < 0) {
		daemon_reject(d, p, uid, "signature does not verify");
		goto out;
	}
	p->received++;
	/* From here the message is authentic: answer it, even with a refusal, so
	 * the sender stops retrying something that will never be accepted. */
	if (strcmp(e->recipient, d->cfg->institution_id) != 0)
		why = "not addressed to this institution";
	else if (e->body_case == OVERSTAP__ENVELOPE__BODY_HANDOVER)
		why = s_rx_handover(d, b, e, zmq_msg_data(msg), zmq_msg_size(msg));
	else if (e->body_case == OVERSTAP__ENVELOPE__BODY_STATUS ||
		 e->body_case == OVERSTAP__ENVELOPE__BODY_OUTCOME ||
		 e->body_case == OVERSTAP__ENVELOPE__BODY_REGISTRATION)
		why = s_rx_feedback(d, b, e);
	else if (e->body_case == OVERSTAP__ENVELOPE__BODY_WITHDRAWAL)
		why = s_tx_open(d, b) < 0 ? NULL : erasure_rx_withdrawal(d, e, &b->failed);
	else if (e->body_case == OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT)
		why = s_tx_open(d, b) < 0 ? NULL
		      : erasure_rx_receipt(d, e, zmq_msg_data(msg), zmq_msg_size(msg), &b->failed);
	else if (e->body_case == OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE)
		why = s_tx_open(d, b) < 0 ? NULL : erasure_rx_notice(d, e, &b->failed);
	else if (e->body_case == OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT)
		why = s_tx_open(d, b) < 0 ? NULL : checkpoint_rx(d, e, &b->failed);
	else if (e->body_case == OVERSTAP__ENVELOPE__BODY_HELLO) {
		log_info("peer %s: hello", uid);
		goto out;
	} else
		why = "body type not supported by this daemon";
	if (why)
		daemon_reject(d, p, uid, why);
	s_ack_add(b, rid, p, e->message_id, why);
out:
	overstap__envelope__free_unpacked(e, NULL);
}

/* Send one Ack over the ROUTER. Failure is harmless: the sender retries and
 * we answer the duplicate. */
static void s_ack_send(struct daemon *d, const struct ack_out *a, char **ids, size_t n,
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
	if (envelope_build(d->cfg->institution_id, a->peer->cfg.id, OVERSTAP__ENVELOPE__BODY_ACK, body,
			   blen, d->keys.signer, mid, &packed, &plen) == 0) {
		if (zmq_send(d->router, a->rid, a->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
		    zmq_send(d->router, packed, plen, ZMQ_DONTWAIT) < 0)
			log_debug("ack to %s not sent: %s", a->peer->cfg.id, zmq_strerror(errno));
	}
	free(body);
	free(packed);
}

static void s_acks_flush(struct daemon *d, struct rx_batch *b)
{
	char *ids[RX_BATCH];
	int done[RX_BATCH] = { 0 };

	for (size_t i = 0; i < b->n; i++) {
		size_t n = 0;

		if (done[i])
			continue;
		if (b->acks[i].reject) {
			ids[0] = b->acks[i].id;
			s_ack_send(d, &b->acks[i], ids, 1, b->acks[i].reject);
			continue;
		}
		/* One ack (one signature) for all accepted ids of this connection. */
		for (size_t j = i; j < b->n; j++)
			if (!done[j] && !b->acks[j].reject && b->acks[j].rid_len == b->acks[i].rid_len &&
			    memcmp(b->acks[j].rid, b->acks[i].rid, b->acks[i].rid_len) == 0) {
				ids[n++] = b->acks[j].id;
				done[j] = 1;
			}
		s_ack_send(d, &b->acks[i], ids, n, NULL);
	}
}

void net_router_handle(struct daemon *d)
{
	struct rx_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return;
	while (b->n < RX_BATCH) {
		zmq_msg_t rid, msg;
		int more;

		zmq_msg_init(&rid);
		if (zmq_msg_recv(&rid, d->router, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&rid);
			break;
		}
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, d->router, 0) >= 0) {
			more = zmq_msg_more(&msg);
			if (more)
				daemon_reject(d, NULL, zmq_msg_gets(&msg, "User-Id"),
					      "multipart message");
			else
				s_rx_one(d, b, &rid, &msg);
			while (more) {
				zmq_msg_close(&msg);
				zmq_msg_init(&msg);
				if (zmq_msg_recv(&msg, d->router, 0) < 0)
					break;
				more = zmq_msg_more(&msg);
			}
		}
		zmq_msg_close(&msg);
		zmq_msg_close(&rid);
	}
	/* Commit before acking: an ack promises the message is on disk. */
	if (b->in_tx && !b->failed && store_commit(d->store) < 0) {
		log_err("cannot commit received messages; not acknowledging them");
		b->failed = 1;
	}
	if (b->failed)
		store_rollback(d->store);
	else
		s_acks_flush(d, b);
	free(b);
	if (d->outbox_dirty) {
		/* receipts queued by withdrawals: on their way now */
		d->outbox_dirty = 0;
		net_outbox_changed(d);
	}
}

void net_router_monitor_handle(struct daemon *d)
{
	uint16_t ev;
	uint32_t val;

	/* Refused keys are counted and logged (rate-limited) by the ZAP handler;
	 * a protocol failure is a peer speaking something else: count it too. */
	while (s_monitor_read(d->router_monitor, &ev, &val) == 0)
		if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
			daemon_reject(d, NULL, "?", "incoming handshake failed (not ZMTP/CURVE?)");
}

/* ---- sending: one DEALER per peer ---- */

static int64_t s_backoff(const struct config *cfg, unsigned attempts)
{
	int64_t ms = cfg->retry_initial_ms;

	for (unsigned i = 1; i < attempts && ms < cfg->retry_max_ms; i++)
		ms *= 2;
	return ms < cfg->retry_max_ms ? ms : cfg->retry_max_ms;
}

static struct inflight *s_inflight_find(struct peer *p, const char *id)
{
	for (size_t i = 0; i < p->n_inflight; i++)
		if (strcmp(p->inflight[i].message_id, id) == 0)
			return &p->inflight[i];
	return NULL;
}

static void s_inflight_remove(struct peer *p, struct inflight *f)
{
	free(f->packed);
	*f = p->inflight[--p->n_inflight];	/* order is not needed: ids carry it */
}

/* Apply one Ack inside the open transaction. */
static void s_apply_ack(struct daemon *d, struct peer *p, const Overstap__Ack *a, int64_t now)
{
	int rejected = a->result == OVERSTAP__ACK__RESULT__REJECTED;

	for (size_t i = 0; i < a->n_message_ids; i++) {
		struct inflight *f = s_inflight_find(p, a->message_ids[i]);
		int r = store_outbox_ack(d->store, p->cfg.id, a->message_ids[i], rejected, a->reason,
					 f ? f->first_sent_at : 0, f ? f->attempts : 0, now);

		if (r < 0)
			log_err("peer %s: cannot record ack of %s: %s", p->cfg.id, a->message_ids[i],
				strerror(-r));
		if (r == 0) {
			p->acked++;
			if (p->depth)
				p->depth--;
			if (rejected)
				log_warn("peer %s refused %s: %s", p->cfg.id, a->message_ids[i], a->reason);
		}
		if (f)
			s_inflight_remove(p, f);
	}
}

void net_peer_handle(struct daemon *d, struct peer *p)
{
	int in_tx = 0;
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
				    (size_t)d->cfg->max_message_size, &e, &why) == 0) {
			if (strcmp(e->sender, p->cfg.id) != 0 ||
			    strcmp(e->recipient, d->cfg->institution_id) != 0)
				why = "reply with wrong sender or recipient";
			else if (e->body_case != OVERSTAP__ENVELOPE__BODY_ACK)
				why = "unexpected reply body";
			else if (s_verify(p, e) < 0)
				why = "signature does not verify";
			else
				envelope_ack_unpack(envelope_body(e), &a, &why);
		}
		if (!a) {
			daemon_reject(d, p, p->cfg.id, why ? why : "unreadable reply");
		} else {
			if (!in_tx && store_begin(d->store) == 0)
				in_tx = 1;
			if (in_tx)
				s_apply_ack(d, p, a, now);
		}
		if (a)
			overstap__ack__free_unpacked(a, NULL);
		if (e)
			overstap__envelope__free_unpacked(e, NULL);
		zmq_msg_close(&msg);
	}
	if (in_tx && store_commit(d->store) < 0) {
		/* The messages are out of inflight but still queued in the store: the
		 * next outbox rescan sends them again and the receiver re-acks. */
		log_err("peer %s: cannot commit acks", p->cfg.id);
		store_rollback(d->store);
	}
}

int net_send_direct(struct daemon *d, struct peer *p, Overstap__Envelope__BodyCase body_case,
		    const uint8_t *body, size_t blen)
{
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t *packed = NULL;
	size_t plen = 0;
	int r;

	if (!p->dealer || !p->connected)
		return -ENOTCONN;
	r = envelope_build(d->cfg->institution_id, p->cfg.id, body_case, body, blen, d->keys.signer,
			   mid, &packed, &plen);
	if (r == 0 && zmq_send(p->dealer, packed, plen, ZMQ_DONTWAIT) < 0)
		r = -errno;
	free(packed);
	return r;
}

static void s_send_hello(struct daemon *d, struct peer *p)
{
	Overstap__Hello h = OVERSTAP__HELLO__INIT;
	uint8_t body[128];
	size_t blen;

	h.software = "overstapd " OVERSTAP_VERSION;
	h.max_protocol = ENVELOPE_VERSION;
	blen = overstap__hello__pack(&h, body);
	(void)net_send_direct(d, p, OVERSTAP__ENVELOPE__BODY_HELLO, body, blen);
}

int net_queue(struct daemon *d, const char *peer, Overstap__Envelope__BodyCase body_case,
	      const uint8_t *body, size_t blen, const char *consent_id, const char *until,
	      char mid[CRYPTO_UUID_STR_LEN + 1])
{
	uint8_t *packed = NULL;
	size_t plen = 0;
	int r = envelope_build(d->cfg->institution_id, peer, body_case, body, blen, d->keys.signer, mid,
			       &packed, &plen);

	if (r == 0)
		r = store_outbox_add(d->store, mid, peer, body_case, packed, plen, 0, time_now_ms());
	if (r == 0 && consent_id)
		r = store_outbox_set_consent(d->store, mid, consent_id, until ? until : "");
	free(packed);
	return r;
}

void net_peer_monitor_handle(struct daemon *d, struct peer *p)
{
	uint16_t ev;
	uint32_t val;

	while (s_monitor_read(p->monitor, &ev, &val) == 0) {
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			p->connected = 1;
			p->last_handshake = time_now_ms();
			p->reconnect_backoff = 0;
			log_info("peer %s: connected", p->cfg.id);
			/* Whatever was sent into the old connection may be lost: resend now. */
			for (size_t i = 0; i < p->n_inflight; i++)
				p->inflight[i].due = 0;
			s_send_hello(d, p);
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
			daemon_reject(d, p, p->cfg.id, "handshake with peer failed (wrong keys?)");
		}
	}
}

/* New outbox entries for this peer: look now rather than at the next tick. */
static void s_kick(struct peer *p)
{
	p->next_fill = 0;
}

void net_outbox_changed(struct daemon *d)
{
	for (size_t i = 0; i < d->n_peers; i++) {
		struct peer *p = &d->peers[i];

		if (p->dealer && store_outbox_depth(d->store, p->cfg.id, &p->depth) == 0)
			s_kick(p);
	}
}

/* Take more queued messages from the outbox into inflight. */
static void s_fill(struct daemon *d, struct peer *p, int64_t now)
{
	size_t room = d->cfg->max_in_flight - p->n_inflight, n = 0;
	struct outbox_msg *m = NULL;
	int r;

	if (room == 0 || now < p->next_fill)
		return;
	r = store_outbox_pending(d->store, p->cfg.id, p->cursor, (unsigned)room, &m, &n);
	if (r < 0) {
		log_err("peer %s: cannot read the outbox: %s", p->cfg.id, strerror(-r));
		p->next_fill = now + FILL_IDLE_MS;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct inflight *f = &p->inflight[p->n_inflight++];

		memset(f, 0, sizeof(*f));
		str_copy(f->message_id, sizeof(f->message_id), m[i].message_id);
		f->packed = m[i].packed;	/* transferred */
		f->len = m[i].len;
		str_copy(f->consent_id, sizeof(f->consent_id), m[i].consent_id);
		str_copy(f->consent_until, sizeof(f->consent_until), m[i].consent_until);
		str_copy(p->cursor, sizeof(p->cursor), m[i].message_id);
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
static void s_rollover_tick(struct daemon *d, struct peer *p)
{
	char detail[64];

	if (!p->cfg.curve_next[0] || p->window_closed ||
	    config_peer_old_keys_ok(&p->cfg, time_now_ms()))
		return;
	p->window_closed = 1;
	log_notice("peer %s: key rollover window closed at %s: its old keys are refused from now on; "
		   "move curve_public_key_next and sign_public_key_next into place",
		   p->cfg.id, s_utc(p->cfg.rollover_until).s);
	snprintf(detail, sizeof(detail), "{\"until\":\"%s\"}", s_utc(p->cfg.rollover_until).s);
	if (store_audit(d->store, "daemon", "key.peer_old_refused", "", p->cfg.id, detail) < 0)
		log_err("cannot write the audit log");
	if (p->dealer && !p->server_next) {
		s_serverkey_set(p, 1);
		s_redial(p, "dialling again after the rollover");
	}
}

/* Wake in time for the earliest rollover window to close. */
static void s_rollover_wake(const struct daemon *d, int64_t *wake_in_ms)
{
	int64_t now = time_now_ms();

	for (size_t i = 0; i < d->n_peers; i++) {
		const struct peer_cfg *c = &d->peers[i].cfg;

		if (c->curve_next[0] && c->rollover_until > now && c->rollover_until - now < *wake_in_ms)
			*wake_in_ms = c->rollover_until - now;
	}
}

/* SPEC §3: a disclosure under consent is checked again before every send,
 * retries included. When the consent has been withdrawn (here, or by the peer
 * that holds it) or has expired, the message is cancelled, never sent, and
 * the cancellation audited. Returns 1 when f was cancelled and removed. */
static int s_consent_ended(struct daemon *d, struct peer *p, struct inflight *f)
{
	char today[11], detail[200];
	const char *why = NULL;
	int r;

	date_today(today);
	if (f->consent_until[0] && strcmp(f->consent_until, today) < 0)
		why = "consent expired";
	else if ((r = store_consent_revoked(d->store, f->consent_id, today)) == 1)
		why = "consent withdrawn";
	else if (r < 0)
		return 0;	/* cannot tell now: the next round looks again */
	if (!why)
		return 0;
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"consent_id\":\"%s\","
		 "\"message_id\":\"%s\"}", why, f->consent_id, f->message_id);
	if (store_begin(d->store) < 0)
		return 0;
	if (store_outbox_cancel(d->store, f->message_id, why) < 0 ||
	    store_audit(d->store, "daemon", "disclosure.cancelled", "", p->cfg.id, detail) < 0 ||
	    store_commit(d->store) < 0) {
		store_rollback(d->store);
		return 0;
	}
	log_notice("peer %s: message %s cancelled before sending: %s", p->cfg.id, f->message_id, why);
	if (p->depth)
		p->depth--;
	s_inflight_remove(p, f);
	return 1;
}

void net_pump(struct daemon *d, int64_t *wake_in_ms)
{
	int64_t now = time_mono_ms();

	s_rollover_wake(d, wake_in_ms);
	for (size_t i = 0; i < d->n_peers; i++) {
		struct peer *p = &d->peers[i];
		int blocked = !p->connected;

		if (!p->dealer) {
			s_rollover_tick(d, p);
			continue;
		}
		s_rollover_tick(d, p);
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
		s_fill(d, p, now);
		for (size_t j = 0; j < p->n_inflight; j++) {
			struct inflight *f = &p->inflight[j];

			if (f->due <= now && !blocked && f->consent_id[0] && s_consent_ended(d, p, f)) {
				j--;	/* f now holds the last entry: look at it too */
				continue;
			}
			if (f->due <= now && !blocked) {
				if (zmq_send(p->dealer, f->packed, f->len, ZMQ_DONTWAIT) < 0) {
					blocked = 1;	/* HWM or connection gone: later */
				} else {
					f->attempts++;
					p->sent++;
					if (!f->first_sent_at)
						f->first_sent_at = time_now_ms();
					f->due = now + s_backoff(d->cfg, f->attempts);
				}
			}
			if (f->due > now && f->due - now < *wake_in_ms)
				*wake_in_ms = f->due - now;
		}
		if (blocked && p->connected && p->n_inflight && *wake_in_ms > 20)
			*wake_in_ms = 20;
		if (p->n_inflight < d->cfg->max_in_flight && p->next_fill > now &&
		    p->next_fill - now < *wake_in_ms)
			*wake_in_ms = p->next_fill - now;
		else if (p->n_inflight < d->cfg->max_in_flight && p->next_fill <= now)
			*wake_in_ms = 0;
	}
	checkpoint_pump(d, wake_in_ms);
}
