/* rto: the retransmission timeout of a peer's messages (design.md §4.6),
 * derived as TCP does (RFC 6298) from the round trips its acks take, so a
 * receiver slowed by many senders gets more time before a retry instead of
 * a second copy of everything. All times in ms. */
#ifndef OVERSTAP_RTO_H
#define OVERSTAP_RTO_H

#include <stdint.h>

#define RTO_MIN_MS 200		/* never sooner (nor sooner than the initial value) */
#define RTO_GRANULARITY_MS 10
/* A retry is held back while the peer keeps acknowledging, for at most
 * this many timeouts since the message was sent (net_tx.c). */
#define RTO_HOLD_FACTOR 4

struct rto {
	int64_t srtt;		/* smoothed round trip, 0 = no sample yet */
	int64_t rttvar;		/* its mean deviation */
};

/* Take one round trip r into the estimator. */
void rto_sample(struct rto *t, int64_t r);
/* SRTT + max(G, 4 RTTVAR), initial before the first sample, between
 * min(RTO_MIN_MS, initial) and max. */
int64_t rto_timeout(const struct rto *t, int64_t initial, int64_t max);
/* The wait before send number attempts + 1: the timeout doubled per retry,
 * at most max. */
int64_t rto_backoff(const struct rto *t, int64_t initial, int64_t max, unsigned attempts);

#endif
