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
	void *prep;			/* what the row's prep made of it, or NULL */
};

/* Apply m (inside the receive batch's transaction when the row says so).
 * Returns NULL when it was applied or is a retry of one that was, else the
 * reason to refuse it (a static string, sent back in a REJECTED ack). Sets
 * *failed when the store failed: then nothing of the batch is acknowledged,
 * so the sender retries. */
typedef const char *(*rx_fn)(struct hctx *h, const struct rx_msg *m, int *failed);

/* Optional, per row: the CPU work of applying m done beforehand, on a
 * worker thread (design.md §4.6 "Both cores"), after m was authenticated.
 * It may read the configuration and the store's keys (fixed while open),
 * never the store's tables, the sockets or any counter. Returns what the
 * handler finds in m->prep, or NULL (then the handler does it all itself:
 * prep only saves the loop time, it decides nothing). prep_free frees it,
 * used or not. */
typedef void *(*rx_prep_fn)(const struct hctx *h, const struct rx_msg *m);

struct rx_row {
	Overstap__Envelope__BodyCase body;
	int needs_tx;			/* writes the store: run in the batch transaction */
	int acked;			/* answered with an Ack (Hello is not) */
	rx_fn fn;
	rx_prep_fn prep;		/* NULL: none */
	void (*prep_free)(void *prep);
};

/* Refused registrations per peer (docs/design.md §4). Every refusal gets
 * the same answer, RX_REGISTRATION_REFUSED; they are counted here, in
 * memory, per window of RX_REFUSAL_WINDOW_MS from a peer's first refusal,
 * and audited as one registration.refused entry per peer and window (with
 * the count), never one per message. Past cfg->max_refused_registrations in
 * a window the peer's registrations are refused without a lookup until the
 * window ends. The daemon owns this (zero-initialised) and hctx points at it;
 * with hctx.refusals NULL nothing is counted. */
#define RX_REGISTRATION_REFUSED "registration not accepted"
#define RX_REFUSAL_WINDOW_MS (3600LL * 1000)

struct rx_refusal {
	char peer[16];			/* institution id of the sender */
	int64_t since;			/* wall ms of the window's first refusal */
	uint64_t count;			/* refused in this window */
	int probing;			/* over the threshold in this window (logged once) */
};

struct rx_refusals {
	struct rx_refusal *p;		/* owned; one per peer with an open window */
	size_t n, cap;
};

/* Audit and close every window that has ended by now (wall ms); at
 * shutdown pass INT64_MAX to close them all. Outside a transaction: each
 * entry commits by itself. 0, or -errno when the store failed (the windows
 * not written stay open and are tried again). */
int rx_refusals_flush(struct hctx *h, int64_t now);
/* Free what r holds; r itself stays usable (empty). */
void rx_refusals_clear(struct rx_refusals *r);

/* The row for a body type, or NULL when this daemon does not take it. */
const struct rx_row *rx_find(Overstap__Envelope__BodyCase body);

#endif
