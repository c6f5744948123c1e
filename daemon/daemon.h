/* daemon: the state of one overstapd and its single poll loop (STYLE 10). The
 * network (net.c) and the control socket (control.c) are handlers on it. */
#ifndef OVERSTAP_DAEMON_H
#define OVERSTAP_DAEMON_H

#include <stdint.h>

#include "config.h"
#include "keys.h"
#include "log.h"
#include "store.h"

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
	char cursor[CRYPTO_UUID_STR_LEN + 1];	/* highest outbox id taken into inflight */
	int64_t next_fill;		/* mono ms: when to look in the outbox again */
	uint64_t sent, acked, received, rejected;	/* counters since start */
	uint64_t depth;			/* queued in the outbox: counted once, then kept */
	int64_t checkpoint_due;		/* mono ms: send our audit head to the peer */
};

/* A counter of dropped messages per reason, for `overstap status`. */
struct reject_count {
	const char *why;		/* static string from the check that failed */
	uint64_t n;
};

struct daemon {
	struct config *cfg;		/* owned; replaced on a successful reload */
	struct keys keys;		/* own keys */
	struct store *store;		/* owned */
	void *zctx;			/* the one ZeroMQ context */
	void *router;			/* CURVE server: receives from every peer */
	char bound[256];		/* the endpoint actually bound (port resolved) */
	void *router_monitor;		/* PAIR receiving the router's socket events */
	void *zap;			/* REP on inproc://zeromq.zap.01: admits peers' keys */
	void *control;			/* ROUTER on ipc:// for the CLI */
	struct peer *peers;		/* owned array, one per configured peer */
	size_t n_peers;
	int sigfd;			/* signalfd for TERM/INT/HUP */
	int stop;			/* set by SIGTERM/SIGINT */
	int log_forced;			/* -d given: a reload keeps the debug level */
	int64_t started_at;		/* wall ms */
	struct reject_count rejects[64];	/* the last slot counts "other reasons" */
	uint64_t rejected_total;
	struct ratelimit rl_reject;	/* logs a peer can trigger */
	int outbox_dirty;		/* the receive path queued replies: kick the peers */
	int wal_dirty;			/* something was shredded: truncate the WAL soon */
	int64_t retention_next;		/* mono ms of the next retention run */
};

/* Take ownership of cfg, load keys, open the store, bind the sockets. */
int daemon_init(struct daemon *d, struct config *cfg);
/* Run the loop until SIGTERM/SIGINT. */
int daemon_run(struct daemon *d);
void daemon_fini(struct daemon *d);
/* Re-read the configuration; on any error keep the old one. */
int daemon_reload(struct daemon *d);

/* Count and log (rate-limited) a dropped message. */
void daemon_reject(struct daemon *d, struct peer *p, const char *from, const char *why);

struct peer *daemon_peer(struct daemon *d, const char *id);

#endif
