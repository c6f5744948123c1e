/* Unit tests for merkle.c: the tree hash against the Certificate Transparency
 * test vectors (the RFC 6962 / 9162 tree), and every inclusion proof of every
 * tree size up to the maximum leading to the root, and no altered one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "merkle.h"

/* The leaves of certificate-transparency-go's merkle tests and the roots of
 * their first 1..8. */
static const struct {
	const char *data;
	size_t len;
} s_ct_leaves[] = {
	{ "", 0 }, { "\x00", 1 }, { "\x10", 1 }, { "\x20\x21", 2 }, { "\x30\x31", 2 },
	{ "\x40\x41\x42\x43", 4 }, { "\x50\x51\x52\x53\x54\x55\x56\x57", 8 },
	{ "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16 },
};
static const char *s_ct_roots[] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void s_leaf(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t buf[64] = { 0 };

	assert_true(len < sizeof(buf));
	memcpy(buf + 1, data, len);
	assert_int_equal(crypto_sha256(buf, len + 1, out), 0);
}

static void s_hex(const uint8_t *b, char out[2 * MERKLE_HASH_LEN + 1])
{
	for (size_t i = 0; i < MERKLE_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void test_ct_vectors(void **state)
{
	uint8_t leaves[8][MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	char hex[2 * MERKLE_HASH_LEN + 1];

	(void)state;
	for (size_t i = 0; i < 8; i++)
		s_leaf(s_ct_leaves[i].data, s_ct_leaves[i].len, leaves[i]);
	for (size_t n = 1; n <= 8; n++) {
		assert_int_equal(merkle_tree((const uint8_t(*)[MERKLE_HASH_LEN])leaves, n, root, NULL,
					     NULL), 0);
		s_hex(root, hex);
		assert_string_equal(hex, s_ct_roots[n - 1]);
	}
	assert_int_equal(merkle_tree((const uint8_t(*)[MERKLE_HASH_LEN])leaves, 0, root, NULL, NULL),
			 -EINVAL);
	assert_int_equal(merkle_tree((const uint8_t(*)[MERKLE_HASH_LEN])leaves, MERKLE_MAX_LEAVES + 1,
				     root, NULL, NULL), -EINVAL);
}

static void test_path_len(void **state)
{
	(void)state;
	assert_int_equal(merkle_path_len(0, 1), 0);
	assert_int_equal(merkle_path_len(0, 2), 1);
	assert_int_equal(merkle_path_len(2, 3), 1);	/* the lone right leaf */
	assert_int_equal(merkle_path_len(0, 3), 2);
	assert_int_equal(merkle_path_len(4, 5), 1);
	assert_int_equal(merkle_path_len(0, 512), 9);
	assert_int_equal(merkle_path_len(511, 512), 9);
	assert_int_equal(merkle_path_len(512, 512), -1);
	assert_int_equal(merkle_path_len(0, 513), -1);
	assert_int_equal(merkle_path_len(0, 0), -1);
}

/* Every proof of every size leads to the root; the same proof for another
 * index, or with one bit changed anywhere, does not. */
static void test_every_proof(void **state)
{
	uint8_t (*leaves)[MERKLE_HASH_LEN] = calloc(MERKLE_MAX_LEAVES, MERKLE_HASH_LEN);
	uint8_t (*paths)[MERKLE_MAX_PATH][MERKLE_HASH_LEN] =
		calloc(MERKLE_MAX_LEAVES, sizeof(*paths));
	size_t *plen = calloc(MERKLE_MAX_LEAVES, sizeof(*plen));
	uint8_t root[MERKLE_HASH_LEN], got[MERKLE_HASH_LEN];
	static const size_t sizes[] = { 1, 2, 3, 4, 5, 7, 8, 9, 100, 255, 256, 257, 511, 512 };

	(void)state;
	for (uint32_t i = 0; i < MERKLE_MAX_LEAVES; i++)
		s_leaf(&i, sizeof(i), leaves[i]);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t n = (uint32_t)sizes[s];

		assert_int_equal(merkle_tree((const uint8_t(*)[MERKLE_HASH_LEN])leaves, n, root, paths,
					     plen), 0);
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *p[MERKLE_MAX_PATH];

			assert_int_equal((int)plen[i], merkle_path_len(i, n));
			for (size_t j = 0; j < plen[i]; j++)
				p[j] = paths[i][j];
			assert_int_equal(merkle_root_from_path(leaves[i], i, n, p, plen[i], got), 0);
			assert_memory_equal(got, root, MERKLE_HASH_LEN);
			/* another leaf at this place */
			assert_int_equal(merkle_root_from_path(leaves[(i + 1) % MERKLE_MAX_LEAVES], i, n,
							       p, plen[i], got), 0);
			assert_memory_not_equal(got, root, MERKLE_HASH_LEN);
			/* the same proof claimed for a neighbour's index */
			if (n > 1 && merkle_root_from_path(leaves[i], (i + 1) % n, n, p, plen[i], got) == 0)
				assert_memory_not_equal(got, root, MERKLE_HASH_LEN);
			/* a proof one hash short, or one hash long */
			if (plen[i])
				assert_int_equal(merkle_root_from_path(leaves[i], i, n, p, plen[i] - 1, got),
						 -EBADMSG);
			if (plen[i] < MERKLE_MAX_PATH) {
				p[plen[i]] = root;
				assert_int_equal(merkle_root_from_path(leaves[i], i, n, p, plen[i] + 1, got),
						 -EBADMSG);
			}
			/* a bit changed in one proof hash */
			if (plen[i] && (n < 100 || i % 37 == 0)) {
				size_t j = i % plen[i];

				paths[i][j][i % MERKLE_HASH_LEN] ^= 0x80;
				assert_int_equal(merkle_root_from_path(leaves[i], i, n, p, plen[i], got), 0);
				assert_memory_not_equal(got, root, MERKLE_HASH_LEN);
				paths[i][j][i % MERKLE_HASH_LEN] ^= 0x80;
			}
		}
	}
	free(leaves);
	free(paths);
	free(plen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ct_vectors),
		cmocka_unit_test(test_path_len),
		cmocka_unit_test(test_every_proof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
