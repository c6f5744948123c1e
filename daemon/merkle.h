/* merkle: the Merkle tree hash and inclusion proofs of RFC 9162 §2.1 over
 * SHA-256 (crypto_sha256), for batch signatures (design.md §4.3): one
 * signature over the root of a group, each message carrying its path. */
#ifndef OVERSTAP_MERKLE_H
#define OVERSTAP_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
#define MERKLE_MAX_LEAVES 512
#define MERKLE_MAX_PATH 9	/* ceil(log2(MERKLE_MAX_LEAVES)) */

/* A leaf hash is SHA-256(0x00 || data), a node SHA-256(0x01 || left || right):
 * the leaf's caller hashes its own buffer (envelope.c builds the signing
 * input behind a 0x00 byte), the nodes are made here. */

/* The tree hash of n leaf hashes (1 <= n <= MERKLE_MAX_LEAVES) into root, and
 * when paths is not NULL every leaf's inclusion proof (sibling hashes from
 * the leaf up) into paths[i] with its length in path_len[i]. 0 or -errno. */
int merkle_tree(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t root[MERKLE_HASH_LEN],
		uint8_t (*paths)[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t *path_len);

/* How many hashes the inclusion proof of leaf index in a tree of size
 * leaves has; -1 when index >= size or size is 0 or over the maximum. Costs
 * no hashing: the receiving side checks a path's shape with it first. */
int merkle_path_len(uint32_t index, uint32_t size);

/* The root that leaf (index in a tree of size) and its path lead to
 * (RFC 9162 §2.1.3.2). path holds n hashes of MERKLE_HASH_LEN bytes each.
 * 0, or -EBADMSG when the path's length does not fit index and size. */
int merkle_root_from_path(const uint8_t leaf[MERKLE_HASH_LEN], uint32_t index, uint32_t size,
			  const uint8_t *const *path, size_t n, uint8_t root[MERKLE_HASH_LEN]);

#endif
