/* net: the ZeroMQ transport (design.md §4): the context, the CURVE ROUTER and its
 * ZAP handler that admits only configured peers' keys, one CURVE DEALER per
 * peer, reloads that are all or nothing, and the counters of what was
 * refused. Receiving is net_rx.c, sending net_tx.c. */
#include "net_int.h"
#include "audit.h"
#include "envelope.h"
#include "jdetail.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "overstap"
#define MONITOR_EVENTS (ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | \
			ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | \
			ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

struct net_utc net_utc(int64_t ms)
{
	struct net_utc u = { "" };

	time_format_utc(ms, u.s);
	return u;
}

static int s_opt(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof(v)) == 0 ? 0 : -errno;
}

/* Options every network socket shares: heartbeats to find dead peers, a cap on
 * what a peer can make us allocate, no lingering (the outbox is durable), and
 * a short handshake: libzmq's default (30 s) let a connection that sent a few
 * bytes and went quiet hold a descriptor for half a minute (design.md §4.1).
 * The ROUTER reads up to NET_TRANSPORT_FACTOR times max_message_size: a
 * message above the limit but below that is read, and refused by id with a
 * PARK ack naming the limit, where libzmq would only drop the connection and
 * the sender would resend it on the next one, forever (design.md §4.5). */
static int s_common_opts(const struct config *cfg, void *sock, int router)
{
	int64_t max = cfg->max_message_size * (router ? NET_TRANSPORT_FACTOR : 1);

	if (s_opt(sock, ZMQ_HANDSHAKE_IVL, cfg->handshake_timeout_ms) < 0 ||
	    s_opt(sock, ZMQ_HEARTBEAT_IVL, cfg->heartbeat_ivl_ms) < 0 ||
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

/* A PAIR socket that receives `sock`'s monitor events; rcvhwm 0 = libzmq's. */
static void *s_monitor(struct net *net, void *sock, const char *name, int rcvhwm)
{
	char ep[128];
	void *pair;

	snprintf(ep, sizeof(ep), "inproc://monitor-%s-%p", name, sock);
	if (zmq_socket_monitor(sock, ep, MONITOR_EVENTS) < 0)
		return NULL;
	pair = zmq_socket(net->zctx, ZMQ_PAIR);
	if (!pair || (rcvhwm && s_opt(pair, ZMQ_RCVHWM, rcvhwm) < 0) || zmq_connect(pair, ep) < 0)
		s_monitor_close(sock, &pair);	/* no reader: the monitor must not run */
	return pair;
}

int net_monitor_read(void *pair, uint16_t *event, uint32_t *value)
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

/* Every descriptor an incoming connection can hold must leave enough for the
 * rest: libzmq aborts when accept() on the control socket fails with EMFILE
 * (ipc_listener.cpp, 4.3.4), and a listener that cannot accept spins. So a
 * max_connections the limit cannot carry is refused (design.md §4.1). */
static int s_fd_budget(const struct net *net, const struct config *cfg)
{
	size_t senders = 0;
	uint64_t need;

	for (size_t i = 0; i < cfg->n_peers; i++)
		senders += cfg->peers[i].endpoint[0] != '\0';
	need = admission_fds_needed(cfg->max_connections, senders);
	if (net->fd_limit == RLIM_INFINITY || need <= net->fd_limit)
		return 0;
	log_err("[network] max_connections = %u does not fit the file descriptor limit %llu "
		"(LimitNOFILE=): overstapd also keeps %d for itself, %d for connections libzmq "
		"accepted and it has not seen yet, and %d per peer it sends to (%zu). Lower "
		"max_connections to %lld or less, or raise LimitNOFILE= to %llu",
		cfg->max_connections, (unsigned long long)net->fd_limit, ADM_RESERVE_FDS, ADM_QUEUE_FDS,
		ADM_FDS_PER_SENDER, senders,
		(long long)net->fd_limit - (long long)(need - cfg->max_connections),
		(unsigned long long)need);
	return -EMFILE;
}

/* The listener's own options: a modest kernel backlog (connections waiting
 * there hold no descriptor of ours, but need not pile up either). */
static int s_router_opts(struct net *net, const struct config *cfg)
{
	if (s_opt(net->router, ZMQ_CURVE_SERVER, 1) < 0 ||
	    zmq_setsockopt(net->router, ZMQ_CURVE_SECRETKEY, net->h->keys->curve_secret, CRYPTO_Z85_KEY_LEN + 1) < 0 ||
	    zmq_setsockopt(net->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) < 0 ||
	    s_opt(net->router, ZMQ_ROUTER_MANDATORY, 1) < 0 || s_opt(net->router, ZMQ_BACKLOG, ADM_BACKLOG) < 0 ||
	    s_common_opts(cfg, net->router, 1) < 0)
		return -errno;
	return 0;
}

int net_open(struct net *net)
{
	const struct config *cfg = net->h->cfg;
	int r;

	if ((r = admission_fd_limit(&net->fd_limit)) < 0) {
		log_err("cannot read the file descriptor limit: %s", strerror(-r));
		return r;
	}
	if ((r = s_fd_budget(net, cfg)) < 0)
		return r;
	admission_limits(&net->adm, cfg->max_connections, cfg->max_connections_per_source);
	/* design.md §4.6 "Both cores": without helpers the checks run on the loop */
	if (!net->pool && workpool_helpers_for_cpus() &&
	    !(net->pool = workpool_new(workpool_helpers_for_cpus())))
		log_warn("cannot start the worker threads; checking and sealing on one core");
	if (net->h->store)	/* and the store's bulk seals (store_crypt_many) */
		store_set_pool(net->h->store, net->pool);
	net->zctx = zmq_ctx_new();
	if (!net->zctx)
		return -errno;
	/* The ZAP handler must exist before anything binds with CURVE. */
	net->zap = zmq_socket(net->zctx, ZMQ_REP);
	if (!net->zap || zmq_bind(net->zap, ZAP_ENDPOINT) < 0)
		goto fail;
	net->router = zmq_socket(net->zctx, ZMQ_ROUTER);
	if (!net->router)
		goto fail;
	if (s_router_opts(net, cfg) < 0)
		goto fail;
	/* a small queue of events: it bounds the connections accepted unseen */
	net->router_monitor = s_monitor(net, net->router, "router", ADM_MONITOR_RCVHWM);
	if (!net->router_monitor)
		goto fail;
	if (zmq_bind(net->router, cfg->listen) < 0) {
		r = -errno;
		log_err("cannot listen on %s: %s", cfg->listen, zmq_strerror(-r));
		return r;
	}
	{
		size_t len = sizeof(net->bound);
		if (zmq_getsockopt(net->router, ZMQ_LAST_ENDPOINT, net->bound, &len) < 0)
			str_copy(net->bound, sizeof(net->bound), cfg->listen);
		log_notice("listening on %s as %s", net->bound, cfg->institution_id);
	}
	if (admission_listener(&net->adm, net->bound) < 0)
		log_warn("%s: connections are not counted (not tcp:// or ipc://)", net->bound);
	log_notice("admission: at most %u incoming connections, %u per source address; handshakes "
		   "time out after %d ms; file descriptor limit %llu",
		   cfg->max_connections, cfg->max_connections_per_source, cfg->handshake_timeout_ms,
		   (unsigned long long)net->fd_limit);
	return net_peers_apply(net, cfg, 0);
fail:
	r = -errno;
	log_err("cannot set up the network: %s", zmq_strerror(-r));
	return r;
}

int net_router_rekey(struct net *net)
{
	int r = -EADDRINUSE;

	/* A listener copies the socket's options when it binds: unbind, set the
	 * new secret, bind the same (resolved) endpoint again. The old listener
	 * is torn down by libzmq's I/O thread, so the port may take a moment. */
	if (zmq_unbind(net->router, net->bound) < 0)
		log_warn("rekey: unbind %s: %s", net->bound, zmq_strerror(errno));
	if (zmq_setsockopt(net->router, ZMQ_CURVE_SECRETKEY, net->h->keys->curve_secret, CRYPTO_Z85_KEY_LEN + 1) < 0)
		return -errno;
	for (int i = 0; i < 100 && r == -EADDRINUSE; i++) {
		if (zmq_bind(net->router, net->bound) == 0)
			r = 0;
		else if ((r = -errno) == -EADDRINUSE)
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000L }, NULL);
	}
	if (r < 0)
		log_err("rekey: cannot listen on %s again: %s", net->bound, zmq_strerror(-r));
	/* the old listener's connections close without events: count again */
	admission_sweep(&net->adm, time_mono_ms(), 1);
	return r;
}

static void s_inflight_clear(struct peer *p)
{
	for (size_t i = 0; i < p->n_inflight; i++)
		free(p->inflight[i].packed);
	p->n_inflight = 0;
	if (p->ids.slots)
		idmap_clear(&p->ids);
}

static const char *s_inflight_key(const void *ctx, uint32_t i)
{
	return ((const struct inflight *)ctx)[i].message_id;
}

static void s_peer_close(struct peer *p)
{
	s_monitor_close(p->dealer, &p->monitor);
	if (p->dealer)
		zmq_close(p->dealer);
	s_inflight_clear(p);
	free(p->inflight);
	idmap_free(&p->ids);
	crypto_sigkey_free(&p->verify);
	crypto_sigkey_free(&p->verify_next);
	memset(p, 0, sizeof(*p));
}

static int s_peer_open(struct net *net, const struct config *cfg, const struct peer_cfg *pc,
		       struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *pc;
	p->verify = crypto_sigkey_new_public(pc->sign_public);
	p->inflight = calloc(cfg->max_in_flight, sizeof(*p->inflight));
	/* keyed through the array, which stays put when the peer struct moves */
	if (!p->verify || !p->inflight ||
	    idmap_init(&p->ids, cfg->max_in_flight, s_inflight_key, p->inflight) < 0)
		goto fail;
	if (pc->has_sign_next && !(p->verify_next = crypto_sigkey_new_public(pc->sign_next)))
		goto fail;
	/* Mid-rollover we cannot know which key the peer's server has now: start
	 * with the old one and switch on a failed handshake (s_rollover_switch). */
	p->server_next = pc->curve_next[0] && !config_peer_old_keys_ok(pc, time_now_ms());
	if (pc->curve_next[0]) {
		log_notice("peer %s: key rollover: old and new keys admitted until %s", pc->id,
			   net_utc(pc->rollover_until).s);
		if (store_auditf(net->h->store, "daemon", "key.peer_rollover", "", pc->id, "{s:s, s:o}",
				  "until", net_utc(pc->rollover_until).s,
				  "curve_next", jdetail_text(pc->curve_next)) < 0)
			log_err("cannot write the audit log");
	}
	if (store_outbox_depth(net->h->store, pc->id, &p->depth) < 0)
		p->depth = 0;
	if (store_outbox_parked_count(net->h->store, pc->id, &p->parked) < 0)
		p->parked = 0;
	/* what it said last time holds until it says otherwise */
	(void)store_peer_info_get(net->h->store, pc->id, &p->said);
	p->stored_bytes = -1;
	if (!pc->endpoint[0])
		return 0;	/* we only receive from this peer */
	p->dealer = zmq_socket(net->zctx, ZMQ_DEALER);
	if (!p->dealer)
		goto fail;
	/* IMMEDIATE: a send while not connected fails at once instead of queueing
	 * in libzmq's memory; the outbox is where messages wait. */
	if (zmq_setsockopt(p->dealer, ZMQ_CURVE_SERVERKEY, p->server_next ? pc->curve_next : pc->curve_public,
			   CRYPTO_Z85_KEY_LEN + 1) < 0 ||
	    zmq_setsockopt(p->dealer, ZMQ_CURVE_PUBLICKEY, net->h->keys->curve_public, CRYPTO_Z85_KEY_LEN + 1) < 0 ||
	    zmq_setsockopt(p->dealer, ZMQ_CURVE_SECRETKEY, net->h->keys->curve_secret, CRYPTO_Z85_KEY_LEN + 1) < 0 ||
	    s_opt(p->dealer, ZMQ_IMMEDIATE, 1) < 0 || s_opt(p->dealer, ZMQ_RECONNECT_IVL, 500) < 0 ||
	    s_opt(p->dealer, ZMQ_RECONNECT_IVL_MAX, 30000) < 0 || s_common_opts(cfg, p->dealer, 0) < 0)
		goto fail;
	p->monitor = s_monitor(net, p->dealer, pc->id, 0);
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

int net_peers_apply(struct net *net, const struct config *cfg, int reopen)
{
	struct peer *np = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*np));
	ptrdiff_t *keep = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*keep));
	int r = 0;

	if (!np || !keep || s_fd_budget(net, cfg) < 0) {
		free(np);
		free(keep);
		return np && keep ? -EMFILE : -ENOMEM;
	}
	/* First open every new or changed peer; only when all of them could be
	 * set up does anything change (a reload is all or nothing). */
	for (size_t i = 0; i < cfg->n_peers && r == 0; i++) {
		const struct peer_cfg *pc = &cfg->peers[i];
		struct peer *old = net_peer(net, pc->id);

		keep[i] = -1;
		if (old && !reopen && s_peer_cfg_same(&old->cfg, pc) &&
		    cfg->max_in_flight == net->h->cfg->max_in_flight)
			keep[i] = old - net->peers;	/* unchanged: keep connection and state */
		else if (s_peer_open(net, cfg, pc, &np[i]) < 0)
			r = -EIO;
		/* A reload that changes the rollover (say, its end) does not make the
		 * peer's new key unseen: its connections with it go on, no new
		 * handshake shows it again, and status said "not seen yet". */
		else if (old && old->seen_next && strcmp(old->cfg.curve_next, pc->curve_next) == 0)
			np[i].seen_next = 1;
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
		np[i] = net->peers[keep[i]];
		np[i].cfg = cfg->peers[i];	/* the name may have changed */
		memset(&net->peers[keep[i]], 0, sizeof(struct peer));
	}
	for (size_t i = 0; i < net->n_peers; i++)
		if (net->peers[i].verify)
			s_peer_close(&net->peers[i]);
	free(net->peers);
	free(keep);
	net->peers = np;
	net->n_peers = cfg->n_peers;
	/* from the next connection on; those open stay */
	admission_limits(&net->adm, cfg->max_connections, cfg->max_connections_per_source);
	return 0;
}

static void s_admission_tick(struct net *net, int flush);

void net_close(struct net *net)
{
	s_admission_tick(net, 1);	/* the refusals not yet logged */
	admission_free(&net->adm);
	for (size_t i = 0; i < net->n_peers; i++)
		s_peer_close(&net->peers[i]);
	free(net->peers);
	net->peers = NULL;
	net->n_peers = 0;
	s_monitor_close(net->router, &net->router_monitor);
	if (net->router)
		zmq_close(net->router);
	if (net->zap)
		zmq_close(net->zap);
	net->router = net->router_monitor = net->zap = NULL;
	if (net->zctx)
		zmq_ctx_term(net->zctx);
	net->zctx = NULL;
	if (net->h && net->h->store)
		store_set_pool(net->h->store, NULL);
	workpool_free(&net->pool);
}

/* ---- ZAP: who may connect at all ---- */

/* The peer holding this CURVE key. A peer's old key stops being one once its
 * rollover window has passed; *why then says so. */
static struct peer *s_peer_by_curve(struct net *net, const uint8_t key[32], const char **why)
{
	char z85[CRYPTO_Z85_KEY_LEN + 1];
	int64_t now = time_now_ms();

	*why = "connection with an unknown CURVE key refused";
	if (!zmq_z85_encode(z85, key, 32))
		return NULL;
	for (size_t i = 0; i < net->n_peers; i++) {
		struct peer *p = &net->peers[i];

		if (p->cfg.curve_next[0] && strcmp(p->cfg.curve_next, z85) == 0) {
			if (!p->seen_next) {
				log_notice("peer %s: connected with its new key (rollover until %s)",
					   p->cfg.id, net_utc(p->cfg.rollover_until).s);
				if (store_auditf(net->h->store, "daemon", "key.peer_new_seen", "",
						  p->cfg.id, "{}") < 0)
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

void net_zap_handle(struct net *net)
{
	zmq_msg_t f[8];
	size_t n = 0;
	int more = 1;
	const char *status = "500", *text = "malformed ZAP request", *user = "";
	struct peer *p = NULL;

	while (more && n < ARRAY_SIZE(f)) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], net->zap, ZMQ_DONTWAIT) < 0) {
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
		zmq_msg_recv(&x, net->zap, 0);
		more = zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	/* version, request id, domain, address, identity, mechanism, credentials */
	if (n >= 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&f[6]) == 32) {
		const char *why = NULL;

		p = s_peer_by_curve(net, zmq_msg_data(&f[6]), &why);
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
			net_reject(net, NULL, addr, why);
		}
	}
	s_send_str(net->zap, "1.0", 1);
	if (n >= 2)
		zmq_send(net->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
	else
		s_send_str(net->zap, "", 1);
	s_send_str(net->zap, status, 1);
	s_send_str(net->zap, text, 1);
	s_send_str(net->zap, user, 1);
	s_send_str(net->zap, "", 0);
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

/* A signature by the peer's current key (while it is still admitted) or by
 * its next key during a rollover. */
int net_verify(const struct peer *p, const Overstap__Envelope *e)
{
	if (config_peer_old_keys_ok(&p->cfg, time_now_ms()) && envelope_verify(e, p->verify) == 0)
		return 0;
	return p->verify_next ? envelope_verify(e, p->verify_next) : -EBADMSG;
}

struct peer *net_peer(struct net *net, const char *id)
{
	for (size_t i = 0; i < net->n_peers; i++)
		if (strcmp(net->peers[i].cfg.id, id) == 0)
			return &net->peers[i];
	return NULL;
}

void net_reject(struct net *net, struct peer *p, const char *from, const char *why)
{
	size_t i;
	unsigned suppressed = 0;

	net->rejected_total++;
	if (p)
		p->rejected++;
	for (i = 0; i < ARRAY_SIZE(net->rejects) - 1 && net->rejects[i].why; i++)
		if (strcmp(net->rejects[i].why, why) == 0)
			break;
	/* static strings only; once every slot is taken, the rest share the last */
	net->rejects[i].why = i < ARRAY_SIZE(net->rejects) - 1 ? why : "other reasons";
	net->rejects[i].n++;
	/* A peer can send garbage as fast as it likes; our log must not grow as fast. */
	if (ratelimit_ok(&net->rl_reject, &suppressed)) {
		if (suppressed)
			log_warn("(%u similar messages suppressed)", suppressed);
		/* PEER only for an id: before authentication `from` is anybody's word */
		log_warnf(&((struct log_fields){ .id = LOG_ID_MESSAGE_REJECTED,
						 .peer = from && config_institution_id_valid(from) ?
							 from : NULL }),
			  "rejected message from %s: %s", str_visbuf(from ? from : "?").s, why);
	}
}

/* ---- admission: the listener's connections (design.md §4.1) ---- */

void net_router_monitor_handle(struct net *net)
{
	uint16_t ev;
	uint32_t val;

	/* Refused keys are counted and logged (rate-limited) by the ZAP handler;
	 * a protocol failure is a peer speaking something else: count it too,
	 * unless it is a connection we shut down ourselves (counted as refused).
	 * libzmq reports the failure, then DISCONNECTED with the descriptor. */
	while (net_monitor_read(net->router_monitor, &ev, &val) == 0) {
		if (ev == ZMQ_EVENT_ACCEPTED) {
			admission_accepted(&net->adm, (int)val, time_mono_ms());
		} else if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
			net->handshake_failed = 1;
		} else if (ev == ZMQ_EVENT_DISCONNECTED) {
			if (admission_disconnected(&net->adm, (int)val) != 2 && net->handshake_failed)
				net_reject(net, NULL, "?", "incoming handshake failed (not ZMTP/CURVE?)");
			net->handshake_failed = 0;
		}
	}
}

/* Refusals go to the log in aggregate: the first at once, then at most one
 * line a minute however many connections a flood opens. */
static void s_admission_tick(struct net *net, int flush)
{
	struct adm_report r;
	int64_t now = time_mono_ms();

	admission_sweep(&net->adm, now, 0);
	if (!admission_report(&net->adm, now, flush, &r))
		return;
	log_warn("refused %llu incoming connection%s (%llu over max_connections = %u, %llu over "
		 "max_connections_per_source = %u; the last from %s); %zu open; such refusals "
		 "are logged at most once a minute",
		 (unsigned long long)r.total, r.total == 1 ? "" : "s", (unsigned long long)r.over_total,
		 net->adm.max_total, (unsigned long long)r.over_source, net->adm.max_per_source, r.last,
		 r.open);
}

enum { NI_ZAP, NI_ROUTER, NI_ROUTER_MON, NI__FIXED };

size_t net_poll_count(const struct net *net)
{
	return NI__FIXED + 2 * net->n_peers;
}

size_t net_poll_fill(const struct net *net, zmq_pollitem_t *items)
{
	size_t n = NI__FIXED;

	items[NI_ZAP] = (zmq_pollitem_t){ .socket = net->zap, .events = ZMQ_POLLIN };
	items[NI_ROUTER] = (zmq_pollitem_t){ .socket = net->router, .events = ZMQ_POLLIN };
	items[NI_ROUTER_MON] = (zmq_pollitem_t){ .socket = net->router_monitor, .events = ZMQ_POLLIN };
	for (size_t i = 0; i < net->n_peers; i++) {
		if (!net->peers[i].dealer)
			continue;
		items[n++] = (zmq_pollitem_t){ .socket = net->peers[i].dealer, .events = ZMQ_POLLIN };
		items[n++] = (zmq_pollitem_t){ .socket = net->peers[i].monitor, .events = ZMQ_POLLIN };
	}
	return n;
}

void net_poll_handle(struct net *net, const zmq_pollitem_t *items, size_t count)
{
	if (items[NI_ZAP].revents & ZMQ_POLLIN)
		net_zap_handle(net);
	/* connections before messages: a batch's commit can take a while, and
	 * each connection accepted and not yet seen holds a descriptor */
	if (items[NI_ROUTER_MON].revents & ZMQ_POLLIN)
		net_router_monitor_handle(net);
	s_admission_tick(net, 0);
	if (items[NI_ROUTER].revents & ZMQ_POLLIN)
		net_router_handle(net);
	/* Peers by socket: the array may not be reallocated before this point.
	 * Their acks go into one transaction (net_peer_handle). */
	int acks_tx = 0;

	for (size_t k = NI__FIXED; k + 1 < count; k += 2) {
		struct peer *p = NULL;

		for (size_t i = 0; i < net->n_peers && !p; i++)
			if (net->peers[i].dealer == items[k].socket)
				p = &net->peers[i];
		if (p && (items[k + 1].revents & ZMQ_POLLIN))
			net_peer_monitor_handle(net, p);
		if (p && (items[k].revents & ZMQ_POLLIN))
			net_peer_handle(net, p, &acks_tx);
	}
	net_peers_commit(net, acks_tx);
}
