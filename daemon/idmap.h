/* idmap: message id -> index into the caller's array, O(1) per operation
 * (design.md §4.6: an ack names up to thousands of ids, and a window holds as
 * many). Open addressing with linear probing over a power-of-two table kept
 * at most half full; deletion moves entries up (Knuth's algorithm R), so no
 * tombstones accumulate. The map holds indexes only: the ids stay in the
 * caller's entries, read through key(). */
#ifndef OVERSTAP_IDMAP_H
#define OVERSTAP_IDMAP_H

#include <stddef.h>
#include <stdint.h>

/* The id of the caller's entry at index i. */
typedef const char *(*idmap_key_fn)(const void *ctx, uint32_t i);

struct idmap {
	uint32_t *slots;	/* index + 1, 0 = empty */
	size_t mask;		/* slots - 1 */
	idmap_key_fn key;
	const void *ctx;
};

/* Room for up to n entries. 0 or -ENOMEM. */
int idmap_init(struct idmap *m, size_t n, idmap_key_fn key, const void *ctx);
void idmap_free(struct idmap *m);
/* Forget every entry. */
void idmap_clear(struct idmap *m);
/* The index of id, or -1. */
long idmap_find(const struct idmap *m, const char *id);
/* Map the id of entry i to i (replacing what id mapped to). */
void idmap_put(struct idmap *m, uint32_t i);
/* Forget id (nothing when absent). */
void idmap_del(struct idmap *m, const char *id);
/* The entry with id moved from its index to index to (the caller moved it). */
void idmap_move(struct idmap *m, const char *id, uint32_t to);

#endif
