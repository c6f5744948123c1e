/* rx: what a received message means (docs/design.md §4). The transport (net)
 * authenticates a message (ZAP User-Id = claimed sender, signature by the
 * peer's key) and then looks its body type up here: one table of
 * {body type, needs a transaction, is acknowledged, handler}. Adding a body
 * type is one row and one function. */
#ifndef OVERSTAP_RX_H
#define OVERSTAP_RX_H

#include <stddef.h>
#include <stdint.h>

#include "hctx.h"
#include "overstap.pb-c.h"

/* One authenticated message as received. */
struct rx_msg {
	const Overstap__Envelope *e;	/* unpacked; sender and signature checked */
	const uint8_t *packed;		/* the envelope's bytes, kept as evidence */
	size_t len;
};

/* Apply m (inside the receive batch's transaction when the row says so).
 * Returns NULL when it was applied or is a retry of one that was, else the
 * reason to refuse it (a static string, sent back in a REJECTED ack). Sets
 * *failed when the store failed: then nothing of the batch is acknowledged,
 * so the sender retries. */
typedef const char *(*rx_fn)(struct hctx *h, const struct rx_msg *m, int *failed);

struct rx_row {
	Overstap__Envelope__BodyCase body;
	int needs_tx;			/* writes the store: run in the batch transaction */
	int acked;			/* answered with an Ack (Hello is not) */
	rx_fn fn;
};

/* The row for a body type, or NULL when this daemon does not take it. */
const struct rx_row *rx_find(Overstap__Envelope__BodyCase body);

#endif
