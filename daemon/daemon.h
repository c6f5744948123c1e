/* daemon: one overstapd: its state, its single poll loop (STYLE 10), reload.
 * The transport (net), the control socket (control) and the retention job
 * (erasure) are handlers on it; after each, the loop wakes the senders when
 * something was queued (struct hctx). */
#ifndef OVERSTAP_DAEMON_H
#define OVERSTAP_DAEMON_H

#include <stdint.h>

#include "config.h"
#include "control.h"
#include "erasure.h"
#include "hctx.h"
#include "keys.h"
#include "log.h"
#include "net.h"
#include "rx.h"
#include "spool.h"
#include "store.h"

struct daemon {
	struct config *cfg;		/* owned; replaced on a successful reload */
	struct keys keys;		/* own keys */
	struct store *store;		/* owned */
	struct rx_refusals refusals;	/* refused registrations per peer, audited hourly */
	struct hctx h;			/* what the handlers get: points at the four above */
	struct net net;			/* the transport */
	struct ctlsock control;		/* the control socket (ctlsock.c) */
	int sigfd;			/* signalfd for TERM/INT/HUP */
	int stop;			/* set by SIGTERM/SIGINT */
	int log_forced;			/* -d given: a reload keeps the debug level */
	int64_t started_at;		/* wall ms */
	int64_t retention_next;		/* mono ms of the next retention run */
	int store_damage_told;		/* the log said the store is damaged (once) */
	int store_check_told;		/* the start's quick_check result was collected */
	struct erasure_retention retention;	/* the retention run under way */
	int retention_more;		/* it has more slices to go */
	int64_t refusals_next;		/* mono ms of the next look for ended refusal windows */
	struct ctl_reload reload;	/* the last reloads, for status */
	struct ctl_refused refused;	/* refused commands per user, counted past a budget */
	struct spool spool;		/* [import] spool: the automated import */
};

/* Written in keys_dir once a store exists: a store missing or empty next to
 * it was lost, not never made, and is not silently replaced (daemon_init). */
#define DAEMON_STORE_MARKER "store.created"


/* Take ownership of cfg, load keys, open the store, bind the sockets. A
 * missing or empty store is created on a first start only: when keys_dir
 * holds DAEMON_STORE_MARKER, one existed and start is refused unless
 * init_store (`overstapd --init`), which in turn refuses to replace a store
 * that is there. */
int daemon_init_store(struct daemon *d, struct config *cfg, int init_store);
/* daemon_init_store without --init. */
int daemon_init(struct daemon *d, struct config *cfg);
/* Run the loop until SIGTERM/SIGINT. */
int daemon_run(struct daemon *d);
void daemon_fini(struct daemon *d);
/* Re-read the configuration; on any error keep the old one. */
int daemon_reload(struct daemon *d);

#endif
