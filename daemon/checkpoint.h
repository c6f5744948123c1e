/* checkpoint: audit chain heads exchanged with peers (SPEC §5).
 *
 * The keyed hash chain finds an edited or removed entry, but not the newest
 * entries cut off: a shorter chain is still a valid chain. So every daemon
 * sends each connected peer its head (seq and mac) every
 * checkpoint_interval_s, and with it the last head of the peer's own chain it
 * holds. Each side thus keeps a witness of the other's chain, and learns what
 * the other witnessed of its own: a head it once gave that is no longer in
 * its log means entries were removed or rewritten. Both sides log it, audit
 * it, and `overstap audit verify` reports it from then on. */
#ifndef OVERSTAP_CHECKPOINT_H
#define OVERSTAP_CHECKPOINT_H

#include "daemon.h"

/* Send our head to every connected peer whose turn it is; lowers *wake_in_ms
 * to the next turn. A peer gets one as soon as it connects. */
void checkpoint_pump(struct daemon *d, int64_t *wake_in_ms);

/* A received AuditCheckpoint, in the receive batch's transaction. NULL or the
 * reason it is malformed; *failed when the store failed. */
const char *checkpoint_rx(struct daemon *d, const Overstap__Envelope *e, int *failed);

/* Check the log against every head a peer holds of it. 0 when all are found
 * (*checked counts them), else -ENOENT (truncated) or -EBADMSG (rewritten)
 * with the peer, the entry and the reason; or another -errno. */
int checkpoint_verify(struct daemon *d, unsigned *checked, char peer[7], int64_t *seq, char *why,
		      size_t whylen);

#endif
