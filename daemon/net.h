/* net: the ZeroMQ transport of overstapd (docs/design.md §4): the ZAP handler,
 * the CURVE ROUTER that receives, one CURVE DEALER per peer that sends, the
 * outbox pump with retries and acks, key rollover dialling. What a received
 * message means is rx's business (rx.h); net only authenticates, batches,
 * commits and acks. */
#ifndef OVERSTAP_NET_H
#define OVERSTAP_NET_H

#include <stdint.h>
#include <zmq.h>

#include "admission.h"
#include "hctx.h"
#include "log.h"
#include "idmap.h"
#include "rto.h"
#include "util.h"
#include "workpool.h"

/* A message sent (or about to be) and not yet acknowledged. Kept in memory so
 * a retry does not re-read the store; the outbox row is the durable truth and
 * a restart rebuilds this from it. */
struct inflight {
	char message_id[CRYPTO_UUID_STR_LEN + 1];
	uint8_t *packed;		/* owned, signed envelope */
	size_t len;
	unsigned attempts;		/* sends so far */
	int64_t first_sent_at;		/* wall ms of the first send, 0 = never sent */
	int64_t due;			/* mono ms when to (re)send */
	int64_t sent_mono;		/* mono ms of the last send, for the round-trip time */
	char consent_id[CRYPTO_UUID_STR_LEN + 1];	/* checked before every send; "" = none */
	char consent_until[11];
};

struct peer {
	struct peer_cfg cfg;		/* copy of the configured peer */
	crypto_sigkey *verify;		/* the peer's Ed25519 public key */
	crypto_sigkey *verify_next;	/* its next key during a rollover, else NULL */
	int server_next;		/* our DEALER dials the peer's next CURVE key */
	int seen_next;			/* the peer has authenticated with its next key */
	int window_closed;		/* its rollover window has passed (logged once) */
	void *dealer;			/* our CURVE client to the peer; NULL when no endpoint */
	void *monitor;			/* PAIR receiving the dealer's socket events */
	int connected;			/* handshake succeeded and not disconnected since */
	int64_t last_handshake;		/* wall ms of the last successful handshake, 0 = never */
	uint64_t auth_failures;		/* handshakes that failed, either side */
	int64_t reconnect_at;		/* mono ms: reconnect after a failed handshake, 0 = no */
	int64_t reconnect_backoff;	/* ms; doubles per failed handshake, capped */
	struct inflight *inflight;	/* owned array, up to cfg max_in_flight */
	size_t n_inflight;
	struct idmap ids;		/* inflight by message id: an ack costs O(1) */
	struct rto rto;			/* retries wait for what its acks really take */
	int64_t last_ack;		/* mono ms of its last ack, 0 = none yet */
	uint32_t credit;		/* what its acks allow in flight; 0 = none said yet */
	int credit_known;		/* an ack came: credit is its word (0 = no limit said) */
	int64_t last_rx;		/* mono ms it last sent us something authentic */
	char cursor[CRYPTO_UUID_STR_LEN + 1];	/* highest outbox id taken into inflight */
	int64_t next_fill;		/* mono ms: when to look in the outbox again */
	uint64_t sent, acked, received, rejected;	/* counters since start */
	uint64_t duplicates;		/* of received: retries of what we held, acked unverified */
	uint64_t depth;			/* queued in the outbox: counted once, then kept */
	int64_t checkpoint_due;		/* mono ms: send our audit head to the peer */
	int64_t checkpoint_sent;	/* mono ms we last sent it our audit head */
	int64_t checkpoint_replied;	/* mono ms we last answered its checkpoint with ours */
	uint64_t checkpoint_replied_seq;	/* the head of its we answered then */
	struct peer_info said;		/* its last Hello (design.md §4): limits we keep to */
	uint64_t parked;		/* parked in the outbox for it: counted once, then kept */
	/* its quota here (design.md §4.5 "Quotas"), a window of an hour from its
	 * first message; in memory, so a restart opens a new window */
	int64_t quota_since;		/* wall ms the window opened, 0 = none yet */
	uint64_t quota_count;		/* messages counted in the window */
	uint64_t quota_refused;		/* refused by a quota since start */
	int quota_audited;		/* this window's refusals have their audit entry */
	int64_t stored_bytes;		/* its dossiers in our inbox; -1 = count again */
};

/* A counter of dropped messages per reason, for `overstap status`. */
struct reject_count {
	const char *why;		/* static string from the check that failed */
	uint64_t n;
};

struct net {
	struct hctx *h;			/* borrowed: store, configuration, keys */
	void *zctx;			/* the one ZeroMQ context (the control socket uses it too) */
	void *router;			/* CURVE server: receives from every peer */
	char bound[256];		/* the endpoint actually bound (port resolved) */
	void *router_monitor;		/* PAIR receiving the router's socket events */
	void *zap;			/* REP on inproc://zeromq.zap.01: admits peers' keys */
	struct peer *peers;		/* owned array, one per configured peer */
	size_t n_peers;
	struct reject_count rejects[64];	/* the last slot counts "other reasons" */
	uint64_t rejected_total;
	struct ratelimit rl_reject;	/* logs a peer can trigger */
	struct admission adm;		/* incoming connections: caps and counts (admission.h) */
	rlim_t fd_limit;		/* RLIMIT_NOFILE in force, for the descriptor budget */
	int handshake_failed;		/* router monitor: a failure waits for its DISCONNECTED */
	struct workpool *pool;	/* owned; receive-side checks on every core (net_rx.c), lent to
				 * the store for its bulk seals (store_crypt_many) */
};

/* Create the context, the ZAP handler and the bound ROUTER, and open the
 * configured peers. n->h must be set. */
int net_open(struct net *n);
void net_close(struct net *n);

/* Bring the peers in line with cfg: keep those unchanged (unless reopen:
 * after our own keys changed every connection is made anew), reconnect
 * changed ones, close removed ones. All or nothing. */
int net_peers_apply(struct net *n, const struct config *cfg, int reopen);

/* Our own keys changed (keys activate + reload): rebind the ROUTER on the same
 * endpoint with the new CURVE secret. Peers reconnect by themselves. */
int net_router_rekey(struct net *n);

/* The loop polls the transport's sockets with its own: net_poll_count says
 * how many slots they need at most, net_poll_fill fills them (ZAP, ROUTER,
 * its monitor, then a DEALER and its monitor per sending peer) and returns
 * how many it used, net_poll_handle handles what the poll found ready (ZAP
 * first: handshakes wait on it). The peer array must not change between
 * fill and handle. */
size_t net_poll_count(const struct net *n);
size_t net_poll_fill(const struct net *n, zmq_pollitem_t *items);
void net_poll_handle(struct net *n, const zmq_pollitem_t *items, size_t count);

/* Events on the sockets, one by one (net_poll_handle calls them). */
void net_zap_handle(struct net *n);
void net_router_handle(struct net *n);
void net_router_monitor_handle(struct net *n);
/* The replies a peer's DEALER holds, applied in the transaction *in_tx
 * (opened when first needed, 1 once open); net_peers_commit() ends it. One
 * transaction for every peer that answered in a poll round: with ten MBOs
 * each acking its own share, ten fsyncs per round became one. */
void net_peer_handle(struct net *n, struct peer *p, int *in_tx);
void net_peers_commit(struct net *n, int in_tx);
void net_peer_monitor_handle(struct net *n, struct peer *p);

/* Send what is due (new outbox entries, retries, audit checkpoints); lowers
 * *wake_in_ms to when the next one falls due. */
void net_pump(struct net *n, int64_t *wake_in_ms);
/* After a commit that queued messages (for any peers): recount what waits per
 * peer and send without waiting a tick. */
void net_outbox_changed(struct net *n);
/* Drop every in-flight copy whose outbox row is no longer queued: the store
 * cancelled it (store_outbox_cancelled), and a copy in memory must never go
 * out after its pupil was erased (design.md §3.7). */
void net_outbox_recheck(struct net *n);

/* The peer with this institution id, or NULL. */
struct peer *net_peer(struct net *n, const char *id);

/* Count and log (rate-limited) a dropped message. why must be a static string. */
void net_reject(struct net *n, struct peer *p, const char *from, const char *why);

/* Forget every peer's stored-bytes count: retention or an erasure has
 * removed dossiers, so the quota counts again at the next message. */
void net_quota_recount(struct net *n);

#endif
