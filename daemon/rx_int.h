/* rx_int: the receive handlers the table in rx.c points to, one file per
 * kind of message, and what they share. Not for use outside rx*.c and
 * checkpoint.c. */
#ifndef OVERSTAP_RX_INT_H
#define OVERSTAP_RX_INT_H

#include "rx.h"

/* rx_handover.c: a dossier for us (the receiver). */
const char *rx_handover(struct hctx *h, const struct rx_msg *m, int *failed);
/* Its prep (rx.h): the Handover unpacked and sealed for the inbox. */
void *rx_handover_prep(const struct hctx *h, const struct rx_msg *m);
void rx_handover_prep_free(void *prep);

/* rx_feedback.c: what the receiver tells the school (statuses, outcomes) and
 * a registration at the receiver. */
const char *rx_status(struct hctx *h, const struct rx_msg *m, int *failed);
const char *rx_outcome(struct hctx *h, const struct rx_msg *m, int *failed);
const char *rx_registration(struct hctx *h, const struct rx_msg *m, int *failed);

/* rx_erasure.c: a withdrawal (receiver), its erasure receipt (school), a
 * follow_up consent told after the dossier (receiver). */
const char *rx_withdrawal(struct hctx *h, const struct rx_msg *m, int *failed);
const char *rx_receipt(struct hctx *h, const struct rx_msg *m, int *failed);
const char *rx_notice(struct hctx *h, const struct rx_msg *m, int *failed);

/* checkpoint.c: a peer's audit chain head. */
const char *rx_checkpoint(struct hctx *h, const struct rx_msg *m, int *failed);

/* "peer:ID", the audit actor of what a peer did. */
const char *rx_actor(const char *sender, char buf[16]);

#endif
