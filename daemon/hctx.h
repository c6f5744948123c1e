/* hctx: the few things a handler uses (STYLE 12): the store, the running
 * configuration, our keys, and two flags the loop acts on afterwards. Receive
 * handlers, control handlers, erasure, checkpoints and the outbox take this,
 * never the whole daemon, so each can be tested alone (docs/design.md §11). */
#ifndef OVERSTAP_HCTX_H
#define OVERSTAP_HCTX_H

#include "config.h"
#include "keys.h"
#include "store.h"

struct rx_refusals;
struct import_stage;
struct outbox_group;

struct hctx {
	struct store *store;		/* borrowed */
	const struct config *cfg;	/* borrowed; the daemon points it at the new one on reload */
	const struct keys *keys;	/* borrowed; our signer and public keys */
	struct rx_refusals *refusals;	/* borrowed; refused registrations per peer (rx.h), may be NULL */
	int outbox_dirty;		/* something was queued: the loop wakes the senders */
	int wal_dirty;			/* something was shredded: the loop truncates the WAL */
	struct import_stage *imports[4];	/* import sessions under way (import.h
						 * IMPORT_SESSIONS); owned, freed by
						 * import_sessions_clear */
	struct outbox_group *outbox_group;	/* open while messages are queued to be
						 * signed together (outbox.h), else NULL */
};

#endif
