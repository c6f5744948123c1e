/* Unit tests for envelope.c's batch signatures (design.md §4.3): a group is
 * signed once, each packed envelope verifies alone (also long after, without
 * the root cache), and each attack a hostile peer could try on the batch
 * fields fails like a bad signature or is refused before any hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "workpool.h"

struct fx {
	uint8_t seed[32], pub[32], seed2[32], pub2[32];
	crypto_sigkey *signer, *verify, *signer2, *verify2;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(crypto_sign_keygen(f->seed, f->pub), 0);
	assert_int_equal(crypto_sign_keygen(f->seed2, f->pub2), 0);
	f->signer = crypto_sigkey_new_private(f->seed);
	f->verify = crypto_sigkey_new_public(f->pub);
	f->signer2 = crypto_sigkey_new_private(f->seed2);
	f->verify2 = crypto_sigkey_new_public(f->pub2);
	envelope_root_cache_clear();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	crypto_sigkey_free(&f->signer);
	crypto_sigkey_free(&f->verify);
	crypto_sigkey_free(&f->signer2);
	crypto_sigkey_free(&f->verify2);
	free(f);
	return 0;
}

/* n envelopes with distinct ids and bodies, signed as one group. */
struct group {
	size_t n;
	Overstap__Envelope e[ENVELOPE_GROUP_MAX];
	Overstap__Envelope *ep[ENVELOPE_GROUP_MAX];
	char id[ENVELOPE_GROUP_MAX][CRYPTO_UUID_STR_LEN + 1];
	char body[ENVELOPE_GROUP_MAX][32];
	uint8_t *out[ENVELOPE_GROUP_MAX];
	size_t len[ENVELOPE_GROUP_MAX];
};

static struct group *s_group(size_t n)
{
	struct group *g = calloc(1, sizeof(*g));

	g->n = n;
	for (size_t i = 0; i < n; i++) {
		Overstap__Envelope *e = &g->e[i];

		overstap__envelope__init(e);
		assert_int_equal(crypto_uuidv7(g->id[i]), 0);
		snprintf(g->body[i], sizeof(g->body[i]), "dossier %zu", i);
		e->version = ENVELOPE_VERSION;
		e->message_id = g->id[i];
		e->sender = "12AB00";
		e->recipient = i % 2 ? "25LZ00" : "26XY00";	/* a group may span peers */
		e->created_at = INT64_C(1750000000000) + (int64_t)i;
		e->body_case = OVERSTAP__ENVELOPE__BODY_HANDOVER;
		e->handover.data = (uint8_t *)g->body[i];
		e->handover.len = strlen(g->body[i]);
		g->ep[i] = e;
	}
	return g;
}

static void s_group_free(struct group *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->out[i]);
	free(g);
}

static Overstap__Envelope *s_unpack(const uint8_t *buf, size_t len)
{
	Overstap__Envelope *e = NULL;
	const char *why = NULL;

	assert_int_equal(envelope_unpack(buf, len, 1 << 20, &e, &why), 0);
	return e;
}

/* Refused by envelope_unpack with a reason containing why_part. */
static void s_refused(const Overstap__Envelope *e, const char *why_part)
{
	size_t len = overstap__envelope__get_packed_size(e);
	uint8_t *buf = malloc(len);
	Overstap__Envelope *got = NULL;
	const char *why = NULL;

	overstap__envelope__pack(e, buf);
	assert_int_equal(envelope_unpack(buf, len, 1 << 20, &got, &why), -EBADMSG);
	assert_null(got);
	assert_non_null(strstr(why, why_part));
	free(buf);
}

static void test_group_verifies_each_alone(void **state)
{
	static const size_t sizes[] = { 2, 3, 5, 8, 100, ENVELOPE_GROUP_MAX };
	struct fx *f = *state;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct group *g = s_group(sizes[s]);
		uint64_t hits, misses;

		envelope_root_cache_clear();
		assert_int_equal(envelope_sign_pack_group(g->ep, g->n, f->signer, g->out, g->len), 0);
		for (size_t i = 0; i < g->n; i++) {
			Overstap__Envelope *e = s_unpack(g->out[i], g->len[i]);

			assert_int_equal(e->batch_size, g->n);
			assert_int_equal(e->batch_index, i);
			assert_string_equal(e->message_id, g->id[i]);
			assert_int_equal(envelope_verify(e, f->verify), 0);
			assert_int_equal(envelope_verify(e, f->verify2), -EBADMSG);
			overstap__envelope__free_unpacked(e, NULL);
			/* the caller's envelopes are as they were */
			assert_int_equal(g->e[i].batch_size, 0);
			assert_int_equal(g->e[i].n_batch_path, 0);
			assert_null(g->e[i].signature.data);
		}
		/* one Ed25519 verification for the group: the rest hit the cache
		 * (the other key's attempts are misses of their own) */
		envelope_root_cache_stats(&hits, &misses);
		assert_int_equal(hits, g->n - 1);
		assert_int_equal(misses, 1 + g->n);
		s_group_free(g);
	}
}

static void test_group_of_one_and_limits(void **state)
{
	struct fx *f = *state;
	struct group *g = s_group(ENVELOPE_GROUP_MAX);
	Overstap__Envelope *e;
	uint8_t *single = NULL;
	size_t slen = 0;

	/* a group of one is the v1 signature, byte for byte */
	assert_int_equal(envelope_sign_pack_group(g->ep, 1, f->signer, g->out, g->len), 0);
	assert_int_equal(envelope_sign_pack(g->ep[0], f->signer, &single, &slen), 0);
	assert_int_equal(slen, g->len[0]);
	assert_memory_equal(single, g->out[0], slen);	/* Ed25519 is deterministic */
	e = s_unpack(g->out[0], g->len[0]);
	assert_int_equal(e->batch_size, 0);
	assert_int_equal(envelope_verify(e, f->verify), 0);
	overstap__envelope__free_unpacked(e, NULL);
	free(single);
	free(g->out[0]);
	g->out[0] = NULL;
	assert_int_equal(envelope_sign_pack_group(g->ep, 0, f->signer, g->out, g->len), -EINVAL);
	g->ep[0] = &g->e[0];
	assert_int_equal(envelope_sign_pack_group(g->ep, ENVELOPE_GROUP_MAX + 1, f->signer, g->out,
						  g->len), -EINVAL);
	s_group_free(g);
}

/* Inbox rows keep the envelope bytes: with nothing but those and the
 * sender's public key (a new key object, an empty cache) they verify. */
static void test_stored_evidence_without_cache(void **state)
{
	struct fx *f = *state;
	struct group *g = s_group(37);
	uint8_t **stored = calloc(g->n, sizeof(*stored));
	uint64_t hits, misses;

	assert_int_equal(envelope_sign_pack_group(g->ep, g->n, f->signer, g->out, g->len), 0);
	for (size_t i = 0; i < g->n; i++) {
		Overstap__Envelope *e = s_unpack(g->out[i], g->len[i]);

		assert_int_equal(envelope_verify(e, f->verify), 0);	/* warms the cache */
		overstap__envelope__free_unpacked(e, NULL);
		stored[i] = malloc(g->len[i]);
		memcpy(stored[i], g->out[i], g->len[i]);
	}
	envelope_root_cache_clear();
	for (size_t i = 0; i < g->n; i += 6) {
		crypto_sigkey *k = crypto_sigkey_new_public(f->pub);
		Overstap__Envelope *e = s_unpack(stored[i], g->len[i]);

		envelope_root_cache_clear();
		assert_int_equal(envelope_verify(e, k), 0);
		envelope_root_cache_stats(&hits, &misses);
		assert_int_equal(hits, 0);
		assert_int_equal(misses, 1);
		overstap__envelope__free_unpacked(e, NULL);
		crypto_sigkey_free(&k);
	}
	for (size_t i = 0; i < g->n; i++)
		free(stored[i]);
	free(stored);
	s_group_free(g);
}

/* A hostile peer's batch fields. Each is first a valid group member, then
 * altered; the cache is warm with the group's real root throughout, so a
 * forgery cannot ride on a root that verified. */
static void test_batch_attacks(void **state)
{
	struct fx *f = *state;
	struct group *g = s_group(5);
	Overstap__Envelope *e, *e3;
	ProtobufCBinaryData saved, extra[ENVELOPE_PATH_MAX + 1];
	uint8_t junk[32] = { 0 }, sig[CRYPTO_SIG_LEN];

	assert_int_equal(envelope_sign_pack_group(g->ep, g->n, f->signer, g->out, g->len), 0);
	e = s_unpack(g->out[0], g->len[0]);	/* index 0 of 5: a path of 3 */
	e3 = s_unpack(g->out[3], g->len[3]);
	assert_int_equal(e->n_batch_path, 3);
	assert_int_equal(envelope_verify(e, f->verify), 0);

	/* a path element swapped for another */
	saved = e->batch_path[1];
	e->batch_path[1] = e->batch_path[0];
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	e->batch_path[1] = saved;
	/* a bit changed in one */
	e->batch_path[2].data[0] ^= 1;
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	e->batch_path[2].data[0] ^= 1;
	/* the path claimed for another index (same length: 1 of 5) */
	e->batch_index = 1;
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	e->batch_index = 0;
	/* another member's path under this message */
	e->batch_index = e3->batch_index;
	e->n_batch_path = e3->n_batch_path;
	saved.data = (uint8_t *)e->batch_path;	/* keep ours to free */
	e->batch_path = e3->batch_path;
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	e->batch_path = (ProtobufCBinaryData *)(void *)saved.data;
	e->batch_index = 0;
	e->n_batch_path = 3;
	/* the body changed: its leaf no longer leads to the root */
	e->handover.data[0] ^= 1;
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	e->handover.data[0] ^= 1;
	/* the group's size changed where the path length still fits (0 of 8
	 * has 3 hashes too): the root is signed with its size */
	e->batch_size = 8;
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	e->batch_size = 5;
	/* another signature with the cached root and a good path */
	memcpy(sig, e->signature.data, sizeof(sig));
	e->signature.data[10] ^= 1;
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	memcpy(e->signature.data, sig, sizeof(sig));
	/* a batch signature passed off as a single message's, and the other way */
	e->batch_size = 0;
	e->n_batch_path = 0;
	e->batch_index = 0;
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	e->batch_size = 5;
	e->n_batch_path = 3;
	assert_int_equal(envelope_verify(e, f->verify), 0);

	/* shapes refused by envelope_unpack before anything is hashed */
	e->batch_size = ENVELOPE_GROUP_MAX + 1;
	s_refused(e, "larger than 512");
	e->batch_size = 100000;
	s_refused(e, "larger than 512");
	e->batch_size = 5;
	e->batch_index = 5;
	s_refused(e, "index outside");
	e->batch_index = 0;
	e->n_batch_path = 2;
	s_refused(e, "wrong length");
	memcpy(extra, e->batch_path, 3 * sizeof(*extra));
	extra[3].data = junk;
	extra[3].len = sizeof(junk);
	saved.data = (uint8_t *)e->batch_path;
	e->batch_path = extra;
	e->n_batch_path = 4;
	s_refused(e, "wrong length");
	e->n_batch_path = 3;
	extra[1].len = 31;
	s_refused(e, "not 32 bytes");
	assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
	e->batch_path = (ProtobufCBinaryData *)(void *)saved.data;
	e->batch_size = 0;
	e->n_batch_path = 0;
	e->batch_index = 2;
	s_refused(e, "without a batch size");
	e->batch_index = 0;
	e->n_batch_path = 3;
	s_refused(e, "without a batch size");
	e->batch_size = 5;

	overstap__envelope__free_unpacked(e, NULL);
	overstap__envelope__free_unpacked(e3, NULL);
	s_group_free(g);
}

/* Key rollover: queued messages (batch-signed or not) signed again with
 * the new key as a group, same ids and bodies; and one on its own. */
static void test_resign_group(void **state)
{
	struct fx *f = *state;
	struct group *g = s_group(9);
	uint8_t *re[9] = { 0 }, *one = NULL;
	size_t relen[9], onelen = 0;
	const uint8_t *in[9];
	Overstap__Envelope *e;

	assert_int_equal(envelope_sign_pack_group(g->ep, g->n, f->signer, g->out, g->len), 0);
	for (size_t i = 0; i < g->n; i++)
		in[i] = g->out[i];
	assert_int_equal(envelope_resign_group(in, g->len, 7, f->signer2, re, relen), 0);
	for (size_t i = 0; i < 7; i++) {
		e = s_unpack(re[i], relen[i]);
		assert_int_equal(e->batch_size, 7);
		assert_string_equal(e->message_id, g->id[i]);
		assert_memory_equal(e->handover.data, g->body[i], strlen(g->body[i]));
		assert_int_equal(envelope_verify(e, f->verify2), 0);
		assert_int_equal(envelope_verify(e, f->verify), -EBADMSG);
		overstap__envelope__free_unpacked(e, NULL);
		free(re[i]);
	}
	/* one alone: v1, no batch fields left over from its group */
	assert_int_equal(envelope_resign(g->out[8], g->len[8], f->signer2, &one, &onelen), 0);
	e = s_unpack(one, onelen);
	assert_int_equal(e->batch_size, 0);
	assert_int_equal(e->n_batch_path, 0);
	assert_int_equal(envelope_verify(e, f->verify2), 0);
	overstap__envelope__free_unpacked(e, NULL);
	free(one);
	/* garbage among them: nothing is left allocated */
	in[2] = (const uint8_t *)"\xff\xff\xff";
	g->len[2] = 3;
	memset(re, 0, sizeof(re));
	assert_int_equal(envelope_resign_group(in, g->len, 4, f->signer2, re, relen), -EBADMSG);
	for (size_t i = 0; i < 4; i++)
		assert_null(re[i]);
	s_group_free(g);
}

struct pool_ctx {
	struct group *g[3];
	crypto_sigkey *verify;
	int bad[3 * ENVELOPE_GROUP_MAX];
};

static void s_verify_item(void *ctx, size_t i)
{
	struct pool_ctx *c = ctx;
	struct group *g = c->g[i / ENVELOPE_GROUP_MAX];
	size_t k = i % ENVELOPE_GROUP_MAX;
	Overstap__Envelope *e = NULL;
	const char *why = NULL;

	c->bad[i] = envelope_unpack(g->out[k], g->len[k], 1 << 20, &e, &why) < 0 ||
		    envelope_verify(e, c->verify) < 0;
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
}

/* As net_rx.c runs it: three groups verified at once on the worker pool,
 * sharing one key object and the root cache. */
static void test_verify_on_the_pool(void **state)
{
	struct fx *f = *state;
	struct pool_ctx *c = calloc(1, sizeof(*c));
	struct workpool *wp = workpool_new(3);
	uint64_t hits, misses;

	assert_non_null(wp);
	for (size_t j = 0; j < 3; j++) {
		c->g[j] = s_group(ENVELOPE_GROUP_MAX);
		assert_int_equal(envelope_sign_pack_group(c->g[j]->ep, ENVELOPE_GROUP_MAX, f->signer,
							  c->g[j]->out, c->g[j]->len), 0);
	}
	c->verify = f->verify;
	envelope_root_cache_clear();
	workpool_for(wp, 3 * ENVELOPE_GROUP_MAX, s_verify_item, c);
	for (size_t i = 0; i < 3 * ENVELOPE_GROUP_MAX; i++)
		assert_int_equal(c->bad[i], 0);
	envelope_root_cache_stats(&hits, &misses);
	assert_int_equal(hits + misses, 3 * ENVELOPE_GROUP_MAX);
	/* each group's root verified at least once, at most once per thread */
	assert_true(misses >= 3 && misses <= 3 * 4);
	workpool_free(&wp);
	for (size_t j = 0; j < 3; j++)
		s_group_free(c->g[j]);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_verifies_each_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_of_one_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stored_evidence_without_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_attacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resign_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_on_the_pool, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
