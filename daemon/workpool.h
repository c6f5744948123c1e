/* workpool: a few threads that share a "parallel for" with the calling
 * thread (design.md §4.6 "Both cores"). The receive path hands them the
 * CPU work of a batch (decode, limits, signatures), the store its batches
 * of seals and opens (store_crypt_many); the poll loop waits for the batch
 * and stays the only thread that touches the store's tables, the sockets
 * and the peers' counters. fn must not use any of those. */
#ifndef OVERSTAP_WORKPOOL_H
#define OVERSTAP_WORKPOOL_H

#include <stddef.h>

#define WORKPOOL_MAX_HELPERS 15

struct workpool;

/* A pool of `helpers` threads besides the caller (at most
 * WORKPOOL_MAX_HELPERS); workpool_helpers_for_cpus() says how many suit
 * this machine. NULL when the threads cannot be started (then pass NULL to
 * workpool_for: everything runs on the caller). */
struct workpool *workpool_new(unsigned helpers);
/* Stop and join the threads; *wp becomes NULL. */
void workpool_free(struct workpool **wp);

/* Online CPUs less one (the caller is a worker too), at most
 * WORKPOOL_MAX_HELPERS: 1 on the two-core machines schools run. */
unsigned workpool_helpers_for_cpus(void);

/* Run fn(ctx, i) for every i in [0, n), spread over the helpers and the
 * calling thread, and return when all have returned. Each i runs exactly
 * once; the order among them is not defined. wp NULL: all on the caller,
 * in order. One caller at a time. */
void workpool_for(struct workpool *wp, size_t n, void (*fn)(void *ctx, size_t i), void *ctx);

#endif
