/* envelope_batch: batch signatures (design.md §4.3): a group signed once over
 * the RFC 9162 Merkle root of its messages' signing inputs, each envelope
 * carrying the path that proves it in the group; and on the receiving side
 * the check of that path and a cache of the roots whose signature verified. */
#include "envelope_int.h"
#include "merkle.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ENVELOPE_GROUP_MAX == MERKLE_MAX_LEAVES, "a group is one Merkle tree");
_Static_assert(ENVELOPE_PATH_MAX == MERKLE_MAX_PATH, "a path is a Merkle inclusion proof");

static const char s_batch_domain[] = "overstap-batch-v1";	/* sent with its NUL */

static void s_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* "overstap-batch-v1" 0x00 u32be(size) root: what a batch signature covers
 * (proto/overstap.proto, design.md §4.3). */
#define S_BATCH_INPUT_LEN (sizeof(s_batch_domain) + 4 + MERKLE_HASH_LEN)
static void s_batch_input(uint32_t size, const uint8_t root[MERKLE_HASH_LEN],
			  uint8_t out[S_BATCH_INPUT_LEN])
{
	memcpy(out, s_batch_domain, sizeof(s_batch_domain));
	s_put32(out + sizeof(s_batch_domain), size);
	memcpy(out + sizeof(s_batch_domain) + 4, root, MERKLE_HASH_LEN);
}

/* The leaf hash of e: SHA-256(0x00 || its v1 signing input). */
static int s_leaf(const Overstap__Envelope *e, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t *input = NULL;
	size_t ilen = 0;
	int r;

	if ((r = envelope_signing_input(e, 1, &input, &ilen)) < 0)
		return r;
	r = crypto_sha256(input, ilen, out);
	free(input);
	return r;
}

/* A group's tree, signature and the paths that prove each leaf in it. */
struct s_group {
	uint8_t leaves[ENVELOPE_GROUP_MAX][MERKLE_HASH_LEN];
	uint8_t paths[ENVELOPE_GROUP_MAX][MERKLE_MAX_PATH][MERKLE_HASH_LEN];
	size_t path_len[ENVELOPE_GROUP_MAX];
	ProtobufCBinaryData path_fields[MERKLE_MAX_PATH];
	uint8_t root[MERKLE_HASH_LEN], sig[CRYPTO_SIG_LEN];
};

int envelope_sign_pack_group(Overstap__Envelope *const *e, size_t n, crypto_sigkey *signer,
			     uint8_t **out, size_t *lens)
{
	uint8_t input[S_BATCH_INPUT_LEN];
	struct s_group *g;
	size_t i = 0;
	int r = 0;

	if (n == 0 || n > ENVELOPE_GROUP_MAX)
		return -EINVAL;
	/* A group of one keeps the v1 signature: acks, hellos and single
	 * sends look as they always did. */
	if (n == 1)
		return envelope_sign_pack(e[0], signer, &out[0], &lens[0]);
	if (!(g = malloc(sizeof(*g))))
		return -ENOMEM;
	for (i = 0; i < n && r == 0; i++)
		r = s_leaf(e[i], g->leaves[i]);
	if (r == 0)
		r = merkle_tree((const uint8_t(*)[MERKLE_HASH_LEN])g->leaves, n, g->root, g->paths,
				g->path_len);
	s_batch_input((uint32_t)n, g->root, input);
	if (r == 0)
		r = crypto_sign(signer, input, sizeof(input), g->sig);
	for (i = 0; i < n && r == 0; i++) {
		struct envelope_sigfields keep;

		envelope_sig_take(e[i], &keep);
		e[i]->signature.data = g->sig;
		e[i]->signature.len = sizeof(g->sig);
		e[i]->batch_size = (uint32_t)n;
		e[i]->batch_index = (uint32_t)i;
		e[i]->n_batch_path = g->path_len[i];
		e[i]->batch_path = g->path_fields;
		for (size_t j = 0; j < g->path_len[i]; j++) {
			g->path_fields[j].data = g->paths[i][j];
			g->path_fields[j].len = MERKLE_HASH_LEN;
		}
		out[i] = NULL;	/* freed below if the packing fails */
		r = envelope_pack_alloc(e[i], &out[i], &lens[i]);
		envelope_sig_put(e[i], &keep);
	}
	if (r < 0)
		while (i--) {
			free(out[i]);
			out[i] = NULL;
		}
	free(g);
	return r;
}

int envelope_resign_group(const uint8_t *const *in, const size_t *len, size_t n,
			  crypto_sigkey *signer, uint8_t **out, size_t *out_len)
{
	Overstap__Envelope *e[ENVELOPE_GROUP_MAX];
	size_t i;
	int r = 0;

	if (n == 0 || n > ENVELOPE_GROUP_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!(e[i] = overstap__envelope__unpack(NULL, len[i], in[i]))) {
			r = -EBADMSG;
			break;
		}
	/* envelope_sign_pack_group sets the signature fields aside and back */
	if (r == 0)
		r = envelope_sign_pack_group(e, n, signer, out, out_len);
	while (i--)
		overstap__envelope__free_unpacked(e[i], NULL);
	return r;
}

/* NULL when e's batch fields have a shape its signature could cover: none
 * (v1), or a group of at most ENVELOPE_GROUP_MAX, an index inside it and a
 * path of exactly the length those two call for, of 32-byte hashes. Checked
 * before anything is hashed, so a hostile path costs us nothing. */
const char *envelope_batch_shape(const Overstap__Envelope *e)
{
	if (e->batch_size == 0)
		return e->batch_index || e->n_batch_path ? "batch index or path without a batch size"
							 : NULL;
	if (e->batch_size > ENVELOPE_GROUP_MAX)
		return "batch signature over a group larger than 512";
	if (e->batch_index >= e->batch_size)
		return "batch index outside its group";
	if (merkle_path_len(e->batch_index, e->batch_size) != (int)e->n_batch_path)
		return "batch inclusion path of the wrong length";
	for (size_t i = 0; i < e->n_batch_path; i++)
		if (e->batch_path[i].len != MERKLE_HASH_LEN)
			return "batch inclusion path hash not 32 bytes";
	return NULL;
}

/* Batch roots whose signature verified, by (signer, size, root, signature):
 * a hit skips Ed25519 for the other messages of the group. The signature is
 * part of the key so that a message stored after a hit carries the very
 * signature that was verified: its evidence holds without the cache. Shared
 * by the receive workers, hence the lock; replaced round robin. */
#define S_ROOTS 64
static struct {
	pthread_mutex_t lock;
	struct s_root {
		uint8_t pub[CRYPTO_SIGN_KEY_LEN], root[MERKLE_HASH_LEN], sig[CRYPTO_SIG_LEN];
		uint32_t size;	/* 0 = empty slot */
	} slot[S_ROOTS];
	size_t next;
	uint64_t hits, misses;
} s_roots = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int s_root_known(const struct s_root *want)
{
	int hit = 0;

	pthread_mutex_lock(&s_roots.lock);
	for (size_t i = 0; i < S_ROOTS && !hit; i++)
		hit = s_roots.slot[i].size == want->size &&
		      memcmp(s_roots.slot[i].root, want->root, MERKLE_HASH_LEN) == 0 &&
		      memcmp(s_roots.slot[i].sig, want->sig, CRYPTO_SIG_LEN) == 0 &&
		      memcmp(s_roots.slot[i].pub, want->pub, CRYPTO_SIGN_KEY_LEN) == 0;
	if (hit)
		s_roots.hits++;
	else
		s_roots.misses++;
	pthread_mutex_unlock(&s_roots.lock);
	return hit;
}

static void s_root_add(const struct s_root *r)
{
	pthread_mutex_lock(&s_roots.lock);
	s_roots.slot[s_roots.next] = *r;
	s_roots.next = (s_roots.next + 1) % S_ROOTS;
	pthread_mutex_unlock(&s_roots.lock);
}

void envelope_root_cache_stats(uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&s_roots.lock);
	*hits = s_roots.hits;
	*misses = s_roots.misses;
	pthread_mutex_unlock(&s_roots.lock);
}

void envelope_root_cache_clear(void)
{
	pthread_mutex_lock(&s_roots.lock);
	memset(s_roots.slot, 0, sizeof(s_roots.slot));
	s_roots.next = 0;
	s_roots.hits = s_roots.misses = 0;
	pthread_mutex_unlock(&s_roots.lock);
}

/* A batch-signed e: its leaf and path lead to a root, and the signature is
 * over that root and the group's size. */
int envelope_batch_verify(const Overstap__Envelope *e, crypto_sigkey *key)
{
	const uint8_t *path[MERKLE_MAX_PATH];
	uint8_t leaf[MERKLE_HASH_LEN], input[S_BATCH_INPUT_LEN];
	struct s_root want;

	if (envelope_batch_shape(e) || e->signature.len != CRYPTO_SIG_LEN)
		return -EBADMSG;
	for (size_t i = 0; i < e->n_batch_path; i++)
		path[i] = e->batch_path[i].data;
	if (s_leaf(e, leaf) < 0 ||
	    merkle_root_from_path(leaf, e->batch_index, e->batch_size, path, e->n_batch_path,
				  want.root) < 0)
		return -EBADMSG;
	want.size = e->batch_size;
	memcpy(want.sig, e->signature.data, CRYPTO_SIG_LEN);
	memcpy(want.pub, crypto_sigkey_public(key), CRYPTO_SIGN_KEY_LEN);
	if (s_root_known(&want))
		return 0;
	s_batch_input(e->batch_size, want.root, input);
	if (crypto_verify(key, input, sizeof(input), e->signature.data, e->signature.len) < 0)
		return -EBADMSG;
	s_root_add(&want);
	return 0;
}

