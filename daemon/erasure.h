/* erasure: the school's side of withdrawal propagation and the daily retention
 * job (design.md §3). The receiver's side (withdrawals, receipts, consent notices
 * received) is rx_erasure.c.
 *
 * At the school, withdrawing a consent that travelled with a dossier queues a
 * Withdrawal to the receiver (through the outbox: a receiver that is offline
 * gets it when it returns). The receiver stops relying on the consents named
 * (they are remembered as revoked, and queued outcomes under them are
 * cancelled), erases what it holds only because of them (the dossier when it
 * came under a handover consent; the free-text care notes when they did), and
 * answers with a signed ErasureReceipt that the school keeps as evidence.
 *
 * Erasure is crypto-shredding: the wrapped per-pupil key is overwritten in
 * the store (secure_delete, and the WAL truncated), so every ciphertext of
 * that pupil, in the store or in a copy made from now on, stays ciphertext. */
#ifndef OVERSTAP_ERASURE_H
#define OVERSTAP_ERASURE_H

#include "consent.h"
#include "hctx.h"

/* School side, in the caller's transaction: tell the receiver of l's handover
 * that consents ks[0..n) no longer hold. Only consents the receiver may have
 * been told of count: purpose handover or follow_up, counterpart the
 * destination or "*". Nothing is queued when no handover was queued or sent,
 * or none of ks count. reason is "withdrawn" or "erased"; date the day it
 * took effect. peer gets the receiver told ("" = none). 0 or -errno. */
int erasure_withdrawal_queue(struct hctx *h, const struct leaver *l, const struct consent *ks,
			     size_t n, const char *reason, const char *date, const char *actor,
			     char peer[7]);

/* Erase now what the retention periods of [policy] say must go: dossiers at
 * the school delivered longer ago than retention_sent_days (pupil key
 * shredded; the pseudonymous report fields stay), dossiers received longer
 * ago than retention_received_days, statuses and outcomes dated before
 * retention_outcomes_days. Each is audited. *erased counts what went.
 * 0 or -errno. */
int erasure_retention_run(struct hctx *h, unsigned *erased);
/* The same job in slices, so that the loop is never held long (design.md
 * §3.10): works through batches of 64 rows (one transaction each) until
 * budget_ms has passed; returns 1 when more is due (call again at the next
 * turn of the loop with the same run), 0 when the run is done (logged, the
 * WAL truncated when anything went), or -errno. run starts zeroed and counts. */
struct erasure_retention {
	unsigned dossiers;	/* dossiers and enrolments shredded so far */
	unsigned events;	/* statuses and outcomes deleted */
};
int erasure_retention_step(struct hctx *h, int64_t budget_ms, struct erasure_retention *run);

/* YYYY-MM-DD of `days` before today (local calendar). */
void erasure_date_before(int days, char out[11]);

#endif
