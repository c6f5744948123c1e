/* checkpoint: audit chain heads exchanged with peers (design.md §5).
 *
 * The keyed hash chain finds an edited or removed entry, but not the newest
 * entries cut off: a shorter chain is still a valid chain. So every daemon
 * sends each connected peer its head (seq and mac) every
 * checkpoint_interval_s, and with it the last head of the peer's own chain it
 * holds. Each side thus keeps a witness of the other's chain, and learns what
 * the other witnessed of its own: a head it once gave that is no longer in
 * its log means entries were removed or rewritten. Both sides log it, audit
 * it, and `overstap audit verify` reports it from then on. A received
 * checkpoint is a row of the receive table (rx_checkpoint in rx_int.h). */
#ifndef OVERSTAP_CHECKPOINT_H
#define OVERSTAP_CHECKPOINT_H

#include "hctx.h"
#include "overstap.pb-c.h"

/* Our audit head, and the last head of peer's chain we hold, as a packed
 * AuditCheckpoint body in buf (cap bytes; 160 is plenty). The transport sends
 * it to each connected peer every checkpoint_interval_s and on connect.
 * *seq gets our head's entry. 0 or -errno. */
int checkpoint_build(struct hctx *h, const char *peer, uint8_t *buf, size_t cap, size_t *len,
		     int64_t *seq);

/* A checkpoint that came back on our own connection to the peer (the answer
 * to ours, design.md §5.6): taken in as rx_checkpoint takes one from the
 * ROUTER, inside the caller's transaction. e is authenticated (sender,
 * signature). 0, or -errno when the store failed. */
int checkpoint_take(struct hctx *h, const Overstap__Envelope *e);

/* Check the log against every head a peer holds of it. 0 when all are found
 * (*checked counts them), else -ENOENT (truncated) or -EBADMSG (rewritten)
 * with the peer, the entry and the reason; or another -errno. */
int checkpoint_verify(struct store *s, unsigned *checked, char peer[7], int64_t *seq, char *why,
		      size_t whylen);

#endif
