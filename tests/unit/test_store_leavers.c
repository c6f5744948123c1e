/* Unit tests for store_leavers.c: sealed personal data, all-or-nothing import,
 * lookups, and a leaver's way to sendable. */
#include "store_fixture.h"
#include "workpool.h"

static int s_text_in(const char *hay, size_t n, const char *needle)
{
	return fx_bytes_in(hay, n, needle, strlen(needle));
}

static void test_import_sealed_and_found(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[2] = { fx_leaver("R1", "123456782", "Zwaantje", "Oudewater"),
					 fx_leaver("R2", "111222333", "Bartholomeus", "Kwakernaak") };
	struct strlist errors = { 0 };
	struct leaver l;
	char *buf, wal[160];
	size_t n;

	assert_int_equal(store_leavers_import(f->s, "f.csv", rows, 2, "mentor1", &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(store_leaver_find(f->s, "R2", 1, &l), 0);
	assert_string_equal(l.pupil_ref, "R2");
	assert_string_equal(l.priv->pgn, "111222333");
	assert_string_equal(l.priv->given_name, "Bartholomeus");
	assert_string_equal(l.cohort, "2024-2025");
	assert_string_equal(l.destination_institution, "25LZ00");
	assert_int_equal(l.advice_followed, OVERSTAP__TRISTATE__TRI_NO);
	assert_int_equal(l.state, LEAVER_IMPORTED);
	assert_int_equal(l.priv->n_support_needs, 2);
	assert_string_equal(l.priv->support_needs[0]->code, "job_coach");
	assert_string_equal(l.priv->support_needs[1]->code, "structure");
	assert_string_equal(l.priv->support_needs[1]->note, "vast rooster");
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R3", 0, &l), -ENOENT);

	/* No personal data in the clear, neither in the db nor in its WAL. */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	for (int i = 0; i < 2; i++) {
		n = fx_slurp(i ? wal : f->path, &buf);
		assert_true(n > 0);
		assert_false(s_text_in(buf, n, "Zwaantje"));
		assert_false(s_text_in(buf, n, "Kwakernaak"));
		assert_false(s_text_in(buf, n, "123456782"));
		assert_false(s_text_in(buf, n, "111222333"));
		assert_false(s_text_in(buf, n, "Mevr. Kaya"));
		free(buf);
	}
	free(rows[0]);
	free(rows[1]);
}

static void test_import_all_or_nothing(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *first[1] = { fx_leaver("R1", "123456782", "A", "B") };
	Overstapctl__Leaver *second[2] = { fx_leaver("R9", "111222333", "C", "D"),
					   fx_leaver("R1", "123456782", "A", "B") };
	struct strlist errors = { 0 };
	struct leaver l;

	second[1]->line = 3;
	assert_int_equal(store_leavers_import(f->s, "a.csv", first, 1, "u", &errors), 0);
	assert_int_equal(store_leavers_import(f->s, "b.csv", second, 2, "u", &errors), -EINVAL);
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.v[0], "b.csv:3: pupil_ref: R1 is already imported");
	/* R9 came in the same file: it was not stored either. */
	assert_int_equal(store_leaver_find(f->s, "R9", 0, &l), -ENOENT);
	strlist_clear(&errors);
	free(first[0]);
	free(second[0]);
	free(second[1]);
}

static int s_count_leaver(const struct leaver *l, void *arg)
{
	(void)l;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned s_leavers(struct fx *f, int state, const char *cohort)
{
	unsigned n = 0;

	assert_int_equal(store_leavers_each(f->s, state, cohort, 0, s_count_leaver, &n), 0);
	return n;
}

/* Registered and inzage recorded: ready; queued: found by its record id and
 * by PGN, and no longer ready. The inzage remarks are sealed. */
/* OSO inzage rules: whether they agree is a plain column, their view is
 * sealed with the remarks (strings finds neither); recording again replaces
 * both, including a view that no longer applies. */
static void test_inzage_disagreement(void **state)
{
	struct fx *f = *state;
	struct leaver a, l;
	struct store_inzage z = { .reviewer = 2, .date = "2025-05-02", .remarks = "gezien",
				  .agrees = 2, .disagreement = "Het beeld van de stage klopt niet.\n"
							      "Hij werkte daar met plezier.",
				  .user = "mentor1" };

	fx_import(f, "R1", "123456782", &a);
	assert_int_equal(store_leaver_set_inzage(f->s, a.id, &z), 0);
	assert_false(fx_on_disk(f, "stage klopt", 11));
	assert_int_equal(store_leaver_load(f->s, a.id, 1, &l), 0);
	assert_int_equal(l.inzage_agrees, 2);
	assert_string_equal(l.priv->inzage_disagreement, z.disagreement);
	assert_string_equal(l.priv->inzage_remarks, "gezien");
	store_leaver_clear(&l);

	z.agrees = 1;
	z.disagreement = "";
	z.remarks = "na gesprek akkoord";
	assert_int_equal(store_leaver_set_inzage(f->s, a.id, &z), 0);
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_int_equal(l.inzage_agrees, 1);
	assert_string_equal(l.priv->inzage_disagreement, "");
	assert_string_equal(l.priv->inzage_remarks, "na gesprek akkoord");
	store_leaver_clear(&l);
	store_leaver_clear(&a);
}

static void test_leaver_to_ready(void **state)
{
	struct fx *f = *state;
	struct leaver a, b, l;
	int64_t *ids = NULL;
	size_t n = 99;

	fx_import(f, "R1", "123456782", &a);
	fx_import(f, "R2", "111222333", &b);
	assert_string_equal(store_leaver_state_str(LEAVER_IMPORTED), "imported");
	assert_string_equal(store_leaver_state_str(LEAVER_ERASED), "erased");
	assert_string_equal(store_leaver_state_str(99), "unknown");
	assert_int_equal(store_leavers_ready(f->s, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);

	assert_int_equal(store_leaver_set_registered(f->s, a.id, "2025-05-01", "mentor1"), 0);
	assert_int_equal(store_leaver_set_inzage(f->s, a.id, &(struct store_inzage){
		.reviewer = 2, .date = "2025-05-02", .remarks = "ouders willen gesprek vooraf",
		.agrees = 1, .disagreement = "", .user = "mentor1" }), 0);
	assert_int_equal(store_leaver_set_registered(f->s, b.id, "2025-05-01", "mentor1"), 0);
	assert_false(fx_on_disk(f, "gesprek vooraf", 14));
	assert_int_equal(store_leaver_load(f->s, a.id, 1, &l), 0);
	assert_string_equal(l.registered_on, "2025-05-01");
	assert_string_equal(l.inzage_on, "2025-05-02");
	assert_int_equal(l.inzage_reviewer, 2);
	assert_string_equal(l.inzage_recorded_by, "mentor1");
	assert_string_equal(l.priv->inzage_remarks, "ouders willen gesprek vooraf");
	assert_int_equal(l.inzage_agrees, 1);
	assert_string_equal(l.priv->inzage_disagreement, "");
	assert_string_equal(l.priv->given_name, "Given");	/* the rest of the sealed part stays */
	store_leaver_clear(&l);

	assert_int_equal(store_leavers_ready(f->s, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], a.id);
	free(ids);
	ids = NULL;

	assert_int_equal(store_leaver_set_queued(f->s, a.id, REC_A, "01890a5d-5555-7000-8000-000000000001",
						 3000), 0);
	assert_int_equal(store_leavers_ready(f->s, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	assert_int_equal(store_leaver_by_record(f->s, REC_A, 0, &l), 0);
	assert_int_equal(l.id, a.id);
	assert_int_equal(l.state, LEAVER_QUEUED);
	assert_int_equal(l.queued_at, 3000);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_by_record(f->s, REC_B, 0, &l), -ENOENT);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_by_pgn(f->s, "111222333", 1, &l), 0);
	assert_string_equal(l.pupil_ref, "R2");
	assert_string_equal(l.priv->family_name, "Family");
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_by_pgn(f->s, "999999990", 0, &l), -ENOENT);
	store_leaver_clear(&l);

	/* by state and cohort */
	assert_int_equal(s_leavers(f, -1, NULL), 2);
	assert_int_equal(s_leavers(f, LEAVER_QUEUED, NULL), 1);
	assert_int_equal(s_leavers(f, LEAVER_IMPORTED, "2024-2025"), 1);
	assert_int_equal(s_leavers(f, -1, "2023-2024"), 0);
	store_leaver_clear(&a);
	store_leaver_clear(&b);
}

/* A PGN that passes the elfproef, the k-th such from 100000000. */
static void s_pgn(int k, char out[10])
{
	for (unsigned n = 10000000;; n++) {
		for (unsigned last = 0; last < 10; last++) {
			int sum = 0;

			snprintf(out, 10, "%08u%u", n % 100000000u, last);
			for (int i = 0; i < 8; i++)
				sum += (out[i] - '0') * (9 - i);
			if ((sum - (int)last) % 11 == 0 && k-- == 0)
				return;
		}
	}
}

/* Many leavers read at once (the send's chunk), their seals opened on a
 * helper thread: the same leavers as one at a time, a shredded one shown as
 * erased, a missing one -ENOENT, inside and outside a transaction. Then
 * store_crypt_many itself: a seal opened again, a forged one refused, a
 * shredded key -ENOKEY. */
static void test_load_many_on_a_pool(void **state)
{
	struct fx *f = *state;
	enum { N = 40 };
	Overstapctl__Leaver *rows[N];
	struct strlist errors = { 0 };
	struct workpool *wp = workpool_new(1);
	int64_t ids[N + 1];
	struct leaver one, many[N + 1], gone;
	int res[N + 1];
	char ref[16], refs[N][8], pgns[N][10];

	assert_non_null(wp);
	for (int i = 0; i < N; i++) {	/* fx_leaver borrows its strings */
		snprintf(refs[i], sizeof(refs[i]), "M%02d", i);
		s_pgn(i, pgns[i]);
		rows[i] = fx_leaver(refs[i], pgns[i], "Given", "Family");
	}
	assert_int_equal(store_leavers_import(f->s, "m.csv", rows, N, "u", &errors), 0);
	for (int i = 0; i < N; i++) {
		snprintf(ref, sizeof(ref), "M%02d", i);
		assert_int_equal(store_leaver_find(f->s, ref, 0, &one), 0);
		ids[i] = one.id;
		store_leaver_clear(&one);
		free(rows[i]);
	}
	ids[N] = 999999;	/* no such leaver */
	assert_int_equal(store_leaver_find(f->s, "M07", 0, &gone), 0);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_leaver_shred(f->s, &gone, 5000), 0);
	assert_int_equal(store_commit(f->s), 0);
	store_set_pool(f->s, wp);

	for (int tx = 0; tx < 2; tx++) {
		if (tx)
			assert_int_equal(store_begin(f->s), 0);
		assert_int_equal(store_leavers_load_many(f->s, ids, N + 1, 1, many, res), 0);
		for (int i = 0; i < N; i++) {
			assert_int_equal(res[i], 0);
			assert_int_equal(many[i].id, ids[i]);
			if (ids[i] == gone.id) {
				assert_string_equal(many[i].pupil_ref, "(erased)");
				assert_null(many[i].priv);
				continue;
			}
			assert_int_equal(store_leaver_load(f->s, ids[i], 1, &one), 0);
			assert_string_equal(many[i].pupil_ref, one.pupil_ref);
			assert_string_equal(many[i].priv->pgn, one.priv->pgn);
			assert_string_equal(many[i].cohort, one.cohort);
			store_leaver_clear(&one);
		}
		assert_int_equal(res[N], -ENOENT);
		for (int i = 0; i <= N; i++)
			store_leaver_clear(&many[i]);
		if (tx)
			assert_int_equal(store_commit(f->s), 0);
	}

	/* seal under pupil keys and the outbox key, then open again */
	{
		struct store_crypt c[N], o[N];
		const char *text = "dossier";

		for (int i = 0; i < N; i++)
			c[i] = (struct store_crypt){ .key_id = i % 2 ? ids[i] : 0, .aad = "aad",
						     .aad_len = 3, .in = (const uint8_t *)text,
						     .len = strlen(text) };
		assert_int_equal(store_crypt_many(f->s, 1, c, N), 0);
		for (int i = 0; i < N; i++) {
			/* M07 (odd: its own key) is shredded; the outbox key is not */
			assert_int_equal(c[i].r, ids[i] == gone.id ? -ENOKEY : 0);
			o[i] = (struct store_crypt){ .key_id = c[i].key_id, .aad = "aad", .aad_len = 3,
						     .in = c[i].out, .len = c[i].out_len };
		}
		if (c[3].out_len)	/* a forged seal: one bit of the ciphertext */
			c[3].out[c[3].out_len / 2] ^= 1;
		assert_int_equal(store_crypt_many(f->s, 0, o, N), 0);
		for (int i = 0; i < N; i++) {
			int want = ids[i] == gone.id ? -ENOKEY : i == 3 ? -EBADMSG : 0;

			assert_int_equal(o[i].r, want);
			if (want == 0) {
				assert_int_equal(o[i].out_len, strlen(text));
				assert_memory_equal(o[i].out, text, strlen(text));
			}
			free(o[i].out);
			free(c[i].out);
		}
	}
	store_set_pool(f->s, NULL);
	workpool_free(&wp);
	store_leaver_clear(&gone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_import_sealed_and_found),
		FX_TEST(test_import_all_or_nothing),
		FX_TEST(test_leaver_to_ready),
		FX_TEST(test_inzage_disagreement),
		FX_TEST(test_load_many_on_a_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
