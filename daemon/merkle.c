/* merkle: RFC 9162 §2.1 tree hash and inclusion proofs (see merkle.h). */
#include "merkle.h"
#include "crypto.h"

#include <errno.h>
#include <string.h>

/* SHA-256(0x01 || left || right) */
static int s_node(const uint8_t *left, const uint8_t *right, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	return crypto_sha256(buf, sizeof(buf), out);
}

/* The largest power of two smaller than n (n >= 2). */
static size_t s_split(size_t n)
{
	size_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* MTH(D[lo:hi]) (RFC 9162 §2.1.1), appending the sibling on the way up to
 * the path of every leaf below it. */
static int s_tree(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t lo, size_t hi,
		  uint8_t out[MERKLE_HASH_LEN], uint8_t (*paths)[MERKLE_MAX_PATH][MERKLE_HASH_LEN],
		  size_t *path_len)
{
	uint8_t left[MERKLE_HASH_LEN], right[MERKLE_HASH_LEN];
	size_t k;
	int r;

	if (hi - lo == 1) {
		memcpy(out, leaves[lo], MERKLE_HASH_LEN);
		return 0;
	}
	k = s_split(hi - lo);
	if ((r = s_tree(leaves, lo, lo + k, left, paths, path_len)) < 0 ||
	    (r = s_tree(leaves, lo + k, hi, right, paths, path_len)) < 0)
		return r;
	if (paths)
		for (size_t i = lo; i < hi; i++)
			memcpy(paths[i][path_len[i]++], i < lo + k ? right : left, MERKLE_HASH_LEN);
	return s_node(left, right, out);
}

int merkle_tree(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t root[MERKLE_HASH_LEN],
		uint8_t (*paths)[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t *path_len)
{
	if (n == 0 || n > MERKLE_MAX_LEAVES)
		return -EINVAL;
	if (paths)
		memset(path_len, 0, n * sizeof(*path_len));
	return s_tree(leaves, 0, n, root, paths, path_len);
}

/* RFC 9162 §2.1.3.2 walks fn (the index) and sn (the last index) up the
 * tree, one proof hash per step while sn > 0; after a left sibling it skips
 * the levels where its node has no right sibling. The same walk without
 * hashing gives the length a path must have. */
int merkle_path_len(uint32_t index, uint32_t size)
{
	uint32_t fn = index, sn;
	int n = 0;

	if (size == 0 || size > MERKLE_MAX_LEAVES || index >= size)
		return -1;
	for (sn = size - 1; sn > 0; fn >>= 1, sn >>= 1) {
		n++;
		if (!(fn & 1) && fn == sn)
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
	}
	return n;
}

int merkle_root_from_path(const uint8_t leaf[MERKLE_HASH_LEN], uint32_t index, uint32_t size,
			  const uint8_t *const *path, size_t n, uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t r[MERKLE_HASH_LEN];
	uint32_t fn = index, sn;
	int e;

	if (merkle_path_len(index, size) != (int)n)
		return -EBADMSG;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			e = s_node(path[i], r, r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			e = s_node(r, path[i], r);
		}
		if (e < 0)
			return e;
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return -EBADMSG;
	memcpy(root, r, MERKLE_HASH_LEN);
	return 0;
}
