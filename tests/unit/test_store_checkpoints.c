/* Unit tests for store_checkpoints.c: audit chain heads exchanged with peers. */
#include "store_fixture.h"

struct cp_seen {
	struct checkpoint_rec v[4];
	size_t n;
};

static int s_cp_collect(const struct checkpoint_rec *c, void *arg)
{
	struct cp_seen *seen = arg;

	assert_true(seen->n < ARRAY_SIZE(seen->v));
	seen->v[seen->n++] = *c;
	return 0;
}

static void s_cp_put(struct fx *f, const char *peer, int kind, int64_t seq, uint8_t fill, int64_t at)
{
	struct checkpoint_rec c = { 0 };

	str_copy(c.peer, sizeof(c.peer), peer);
	c.kind = kind;
	c.seq = seq;
	memset(c.head, fill, sizeof(c.head));
	c.head[31] = (uint8_t)(fill ^ 0x5a);
	c.at = at;
	assert_int_equal(store_checkpoint_put(f->s, &c), 0);
}

static void s_cp_expect(const struct checkpoint_rec *c, const char *peer, int kind, int64_t seq,
			uint8_t fill, int64_t at)
{
	uint8_t head[32];

	memset(head, fill, sizeof(head));
	head[31] = (uint8_t)(fill ^ 0x5a);
	assert_string_equal(c->peer, peer);
	assert_int_equal(c->kind, kind);
	assert_int_equal(c->seq, seq);
	assert_memory_equal(c->head, head, sizeof(head));
	assert_int_equal(c->at, at);
}

static void test_checkpoints(void **state)
{
	struct fx *f = *state;
	struct checkpoint_rec c;
	struct cp_seen seen = { 0 };

	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), -ENOENT);
	assert_int_equal(store_checkpoints_each(f->s, s_cp_collect, &seen), 0);
	assert_int_equal(seen.n, 0);

	s_cp_put(f, PEER, CHECKPOINT_THEIRS, 5, 0x11, 100);
	s_cp_put(f, PEER, CHECKPOINT_OURS, 7, 0x22, 110);
	s_cp_put(f, "12AB00", CHECKPOINT_THEIRS, 1, 0x33, 120);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), 0);
	s_cp_expect(&c, PEER, CHECKPOINT_THEIRS, 5, 0x11, 100);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_OURS, &c), 0);
	s_cp_expect(&c, PEER, CHECKPOINT_OURS, 7, 0x22, 110);
	assert_int_equal(store_checkpoint_get(f->s, "12AB00", CHECKPOINT_OURS, &c), -ENOENT);

	/* a newer head replaces the one of that peer and kind only */
	s_cp_put(f, PEER, CHECKPOINT_THEIRS, 6, 0x44, 130);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_THEIRS, &c), 0);
	s_cp_expect(&c, PEER, CHECKPOINT_THEIRS, 6, 0x44, 130);
	assert_int_equal(store_checkpoint_get(f->s, PEER, CHECKPOINT_OURS, &c), 0);
	s_cp_expect(&c, PEER, CHECKPOINT_OURS, 7, 0x22, 110);

	assert_int_equal(store_checkpoints_each(f->s, s_cp_collect, &seen), 0);
	assert_int_equal(seen.n, 3);
	s_cp_expect(&seen.v[0], "12AB00", CHECKPOINT_THEIRS, 1, 0x33, 120);
	s_cp_expect(&seen.v[1], PEER, CHECKPOINT_THEIRS, 6, 0x44, 130);
	s_cp_expect(&seen.v[2], PEER, CHECKPOINT_OURS, 7, 0x22, 110);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_checkpoints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
