/* Unit tests for store_consents.c: consent records, their sealed evidence,
 * withdrawals here and by a peer. */
#include "store_fixture.h"

static void s_consent(struct consent *c, int purpose, const char *counterpart, const char *granted)
{
	memset(c, 0, sizeof(*c));
	c->purpose = purpose;
	str_copy(c->counterpart, sizeof(c->counterpart), counterpart);
	c->grantor = CONSENT_GRANTOR_PARENT;
	str_copy(c->granted_at, sizeof(c->granted_at), granted);
	str_copy(c->evidence_method, sizeof(c->evidence_method), "paper");
	str_copy(c->evidence_ref, sizeof(c->evidence_ref), "dossier 2025/17 blad 3");
	str_copy(c->recorded_by, sizeof(c->recorded_by), "mentor1");
	str_copy(c->recorded_at, sizeof(c->recorded_at), granted);
}

struct c_seen {
	struct consent v[4];
	int64_t leaver[4];
	size_t n;
};

static int s_collect(const struct consent *c, int64_t leaver_id, void *arg)
{
	struct c_seen *seen = arg;

	assert_true(seen->n < ARRAY_SIZE(seen->v));
	seen->leaver[seen->n] = leaver_id;
	seen->v[seen->n++] = *c;
	return 0;
}

static void test_consent_add_get_each(void **state)
{
	struct fx *f = *state;
	struct leaver a, b;
	struct consent c1, c2, c3, got;
	struct c_seen seen = { 0 };
	int64_t lid = 0;

	fx_import(f, "R1", "123456782", &a);
	fx_import(f, "R2", "111222333", &b);
	s_consent(&c1, CONSENT_PURPOSE_FOLLOW_UP, PEER, "2025-06-01");
	s_consent(&c2, CONSENT_PURPOSE_HANDOVER, "*", "2025-05-01");
	s_consent(&c3, CONSENT_PURPOSE_FOLLOW_UP, PEER, "2025-06-02");
	assert_int_equal(store_consent_add(f->s, a.id, a.key_id, &c1), 0);
	assert_int_equal(store_consent_add(f->s, a.id, a.key_id, &c2), 0);
	assert_int_equal(store_consent_add(f->s, b.id, b.key_id, &c3), 0);
	assert_int_equal(strlen(c1.id), CRYPTO_UUID_STR_LEN);
	/* the evidence reference is sealed under the pupil's key */
	assert_false(fx_on_disk(f, "blad 3", 6));

	assert_int_equal(store_consent_get(f->s, c1.id, &got, &lid), 0);
	assert_int_equal(lid, a.id);
	assert_string_equal(got.id, c1.id);
	assert_int_equal(got.purpose, CONSENT_PURPOSE_FOLLOW_UP);
	assert_string_equal(got.counterpart, PEER);
	assert_int_equal(got.grantor, CONSENT_GRANTOR_PARENT);
	assert_string_equal(got.evidence_ref, "dossier 2025/17 blad 3");
	assert_string_equal(got.withdrawn_at, "");
	assert_int_equal(store_consent_get(f->s, "01890a5d-1111-7000-8000-00000000000f", &got, &lid),
			 -ENOENT);

	/* by leaver and date; one leaver's only */
	assert_int_equal(store_consents_each(f->s, -1, s_collect, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.v[0].id, c2.id);
	assert_string_equal(seen.v[1].id, c1.id);
	assert_string_equal(seen.v[2].id, c3.id);
	assert_int_equal(seen.leaver[2], b.id);
	seen.n = 0;
	assert_int_equal(store_consents_each(f->s, b.id, s_collect, &seen), 0);
	assert_int_equal(seen.n, 1);

	/* erased with the pupil's key */
	assert_int_equal(store_leaver_shred(f->s, &a, 5000), 0);
	assert_int_equal(store_consent_get(f->s, c1.id, &got, &lid), 0);
	assert_string_equal(got.evidence_ref, "(erased)");
	store_leaver_clear(&a);
	store_leaver_clear(&b);
}

static void test_consent_withdraw_and_revoked(void **state)
{
	struct fx *f = *state;
	static const char theirs[] = "01890a5d-1111-7000-8000-0000000000aa";
	struct leaver l;
	struct consent c, got;
	int64_t lid;

	fx_import(f, "R1", "123456782", &l);
	s_consent(&c, CONSENT_PURPOSE_FOLLOW_UP, PEER, "2025-06-01");
	assert_int_equal(store_consent_add(f->s, l.id, l.key_id, &c), 0);
	assert_int_equal(store_consent_revoked(f->s, c.id, "2025-12-31"), 0);
	assert_int_equal(store_consent_withdraw(f->s, c.id, "2025-09-01", "mentor2"), 0);
	assert_int_equal(store_consent_withdraw(f->s, c.id, "2025-10-01", "mentor2"), -EALREADY);
	assert_int_equal(store_consent_withdraw(f->s, theirs, "2025-10-01", "mentor2"), -EALREADY);
	assert_int_equal(store_consent_get(f->s, c.id, &got, &lid), 0);
	assert_string_equal(got.withdrawn_at, "2025-09-01");
	assert_string_equal(got.withdrawn_by, "mentor2");
	/* effective from its date */
	assert_int_equal(store_consent_revoked(f->s, c.id, "2025-08-31"), 0);
	assert_int_equal(store_consent_revoked(f->s, c.id, "2025-09-01"), 1);

	/* a peer's withdrawal of its own consent: remembered once, whatever the date */
	assert_int_equal(store_consent_revoked(f->s, theirs, "2025-01-01"), 0);
	assert_int_equal(store_revoke(f->s, theirs, PEER, 100), 0);
	assert_int_equal(store_revoke(f->s, theirs, PEER, 200), 0);
	assert_int_equal(store_consent_revoked(f->s, theirs, "2025-01-01"), 1);
	store_leaver_clear(&l);
}

/* Regression: a consent for a leaver that does not exist fails the foreign
 * key, which is bad data (-EINVAL), not a duplicate (-EEXIST as before). */
static void test_consent_unknown_leaver(void **state)
{
	struct fx *f = *state;
	struct consent c;

	s_consent(&c, CONSENT_PURPOSE_FOLLOW_UP, PEER, "2025-06-01");
	assert_int_equal(store_consent_add(f->s, 4242, 0, &c), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_consent_add_get_each),
		FX_TEST(test_consent_withdraw_and_revoked),
		FX_TEST(test_consent_unknown_leaver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
