/* Unit tests for import.c: the cumulative leavers import (design.md §8.5):
 * the same file again, a longer one, a corrected one before and after the
 * dossier left, an unknown destination, --check, duplicates, and the audit. */
#include "store_fixture.h"

#include "audit.h"
#include "config.h"
#include "import.h"

#define OTHER "34CD01"	/* not (yet) a configured peer */

static Overstapctl__Leaver *s_row(const char *ref, const char *pgn, unsigned line)
{
	Overstapctl__Leaver *l = fx_leaver(ref, pgn, "Zwaantje", "Oudewater");

	l->line = line;
	return l;
}

static int s_import(struct fx *f, Overstapctl__Leaver **rows, size_t n, int check,
		    struct import_result *res)
{
	import_result_clear(res);
	return import_leavers(f->s, fx_import_cfg(), "f.csv", rows, n, "mentor1", check, res);
}

static void s_free(Overstapctl__Leaver **rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i]);
}

/* Audit entries by action, and whether any detail holds a text. */
struct s_audit {
	const char *action;
	const char *needle;
	unsigned count;
	unsigned with_needle;
	char last_detail[512];
	char last_subject[64];
};

static int s_audit_cb(const struct audit_entry *e, void *arg)
{
	struct s_audit *a = arg;

	if (strcmp(e->action, a->action) != 0)
		return 0;
	a->count++;
	if (a->needle && strstr(e->detail, a->needle))
		a->with_needle++;
	str_copy(a->last_detail, sizeof(a->last_detail), e->detail);
	str_copy(a->last_subject, sizeof(a->last_subject), e->subject);
	return 0;
}

static unsigned s_audited(struct fx *f, const char *action, const char *needle,
			  struct s_audit *out)
{
	struct s_audit a = { .action = action, .needle = needle };

	assert_int_equal(audit_each(store_audit_peek(f->s), 1, s_audit_cb, &a), 0);
	if (out)
		*out = a;
	return needle ? a.with_needle : a.count;
}

static void test_same_file_twice(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[2] = { s_row("R1", "123456782", 2), s_row("R2", "111222333", 3) };
	struct import_result res = { 0 };
	struct s_audit a;

	assert_int_equal(s_import(f, rows, 2, 0, &res), 0);
	assert_int_equal(res.added, 2);
	assert_int_equal(res.errors.n, 0);
	assert_int_equal(s_audited(f, "leaver.imported", NULL, &a), 2);
	assert_string_equal(a.last_subject, "leaver:2");
	/* again: nothing changes, nothing is refused */
	assert_int_equal(s_import(f, rows, 2, 0, &res), 0);
	assert_int_equal(res.added, 0);
	assert_int_equal(res.updated, 0);
	assert_int_equal(res.unchanged, 2);
	assert_int_equal(res.errors.n, 0);
	assert_int_equal(res.notes.n, 0);
	assert_int_equal(s_audited(f, "leaver.imported", NULL, NULL), 2);
	assert_int_equal(s_audited(f, "leaver.updated", NULL, NULL), 0);
	assert_int_equal(s_audited(f, "import.leavers", NULL, NULL), 2);
	import_result_clear(&res);
	s_free(rows, 2);
}

static void test_longer_file_adds_only_new(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[3] = { s_row("R1", "123456782", 2), s_row("R2", "111222333", 3),
					 s_row("R3", "", 4) };
	struct import_result res = { 0 };
	struct leaver l;

	rows[2]->destination_institution = "";
	rows[2]->given_name = rows[2]->family_name = "";
	assert_int_equal(s_import(f, rows, 2, 0, &res), 0);
	assert_int_equal(s_import(f, rows, 3, 0, &res), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(res.unchanged, 2);
	assert_int_equal(store_leaver_find(f->s, "R3", 0, &l), 0);
	assert_int_equal(l.id, 3);
	store_leaver_clear(&l);
	import_result_clear(&res);
	s_free(rows, 3);
}

static void test_corrected_before_sending(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { s_row("R1", "123456782", 2) };
	struct import_result res = { 0 };
	struct leaver l;
	struct s_audit a;

	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	assert_int_equal(store_leaver_set_inzage(f->s, l.id, &(struct store_inzage){
		.reviewer = 1, .date = "2025-06-01", .remarks = "ok", .agrees = 2,
		.disagreement = "te somber", .user = "m" }), 0);
	store_leaver_clear(&l);
	rows[0]->given_name = "Zwaan";
	rows[0]->exit_date = "2025-07-05";
	rows[0]->line = 7;
	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(res.updated, 1);
	assert_int_equal(res.added + res.unchanged + res.unchanged_sent, 0);
	assert_int_equal(res.notes.n, 1);
	assert_string_equal(res.notes.v[0], "f.csv:7: pupil_ref R1: updated (given_name, exit_date);"
			    " inzage to be recorded again");
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_string_equal(l.priv->given_name, "Zwaan");
	assert_string_equal(l.exit_date, "2025-07-05");
	assert_string_equal(l.inzage_on, "");	/* the parents saw the old one */
	assert_int_equal(l.inzage_agrees, 0);	/* and are asked again about the new */
	assert_string_equal(l.priv->inzage_remarks, "ok");
	assert_string_equal(l.priv->inzage_disagreement, "te somber");	/* their words stay */
	store_leaver_clear(&l);
	/* audited with the column names, never the values old or new */
	assert_int_equal(s_audited(f, "leaver.updated", NULL, &a), 1);
	assert_string_equal(a.last_subject, "leaver:1");
	assert_non_null(strstr(a.last_detail, "\"columns\":\"given_name, exit_date\""));
	assert_int_equal(s_audited(f, "leaver.updated", "Zwaan", NULL), 0);
	assert_int_equal(s_audited(f, "leaver.updated", "2025-07-0", NULL), 0);
	assert_false(fx_on_disk(f, "Zwaan", 5));
	/* and the correction again is unchanged */
	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(res.unchanged, 1);
	import_result_clear(&res);
	s_free(rows, 1);
}

static void test_corrected_after_sending(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { s_row("R1", "123456782", 2) };
	struct import_result res = { 0 };
	struct leaver l;

	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	fx_deliver(f, &l, REC_A, 1751328000000);	/* 2025-07-01T00:00:00Z */
	store_leaver_clear(&l);
	rows[0]->family_name = "Anders";
	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(res.unchanged_sent, 1);
	assert_int_equal(res.updated + res.added + res.unchanged, 0);
	assert_string_equal(res.notes.v[0], "f.csv:2: pupil_ref R1: changed (family_name) but not"
			    " updated: the dossier was sent on 2025-07-01 (delivered)");
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_string_equal(l.priv->family_name, "Oudewater");
	assert_int_equal(l.state, LEAVER_DELIVERED);
	store_leaver_clear(&l);
	assert_int_equal(s_audited(f, "leaver.update_refused", NULL, NULL), 1);
	assert_int_equal(s_audited(f, "leaver.update_refused", REC_A, NULL), 0);
	assert_int_equal(s_audited(f, "leaver.update_refused", "Anders", NULL), 0);
	/* the same row as sent is just unchanged */
	rows[0]->family_name = "Oudewater";
	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(res.unchanged, 1);
	assert_int_equal(res.unchanged_sent, 0);
	import_result_clear(&res);
	s_free(rows, 1);
}

static void test_unknown_peer_warns_once(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[3] = { s_row("R1", "123456782", 2), s_row("R2", "111222333", 3),
					 s_row("R3", "123456782", 4) };
	struct import_result res = { 0 };

	rows[1]->destination_institution = OTHER;
	rows[2]->destination_institution = OTHER;
	assert_int_equal(s_import(f, rows, 3, 0, &res), 0);
	assert_int_equal(res.added, 3);
	assert_int_equal(res.errors.n, 0);
	assert_int_equal(res.warnings.n, 1);
	assert_string_equal(res.warnings.v[0], "f.csv:3: destination_institution: " OTHER
			    " is not a configured peer (yet): 2 rows imported, not sendable until it is");
	import_result_clear(&res);
	s_free(rows, 3);
}

static void test_check_changes_nothing(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[3] = { s_row("R1", "123456782", 2), s_row("R2", "111222333", 3),
					 s_row("R3", "111222333", 4) };
	struct import_result res = { 0 };
	struct leaver l;
	int64_t seq0, seq1;
	uint8_t mac[32];

	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(audit_head(store_audit_peek(f->s), &seq0, mac), 0);
	rows[0]->given_name = "Zwaan";
	rows[2]->program = "nonsense";
	assert_int_equal(s_import(f, rows, 3, 1, &res), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(res.updated, 1);
	assert_int_equal(res.refused, 1);
	assert_true(res.errors.n >= 1);
	assert_string_equal(res.notes.v[0], "f.csv:2: pupil_ref R1: would be updated (given_name)");
	assert_int_equal(store_leaver_find(f->s, "R2", 0, &l), -ENOENT);
	store_leaver_clear(&l);
	assert_int_equal(store_leaver_find(f->s, "R1", 1, &l), 0);
	assert_string_equal(l.priv->given_name, "Zwaantje");
	store_leaver_clear(&l);
	assert_int_equal(audit_head(store_audit_peek(f->s), &seq1, mac), 0);
	assert_int_equal(seq0, seq1);
	/* the real import of the same file refuses it whole */
	assert_int_equal(s_import(f, rows, 3, 0, &res), -EINVAL);
	assert_int_equal(res.refused, 1);
	assert_int_equal(store_leaver_find(f->s, "R2", 0, &l), -ENOENT);
	store_leaver_clear(&l);
	import_result_clear(&res);
	s_free(rows, 3);
}

static void test_duplicate_in_request(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[2] = { s_row("R1", "123456782", 2), s_row("R1", "123456782", 5) };
	struct import_result res = { 0 };
	struct leaver l;

	rows[1]->given_name = "Zwaan";
	assert_int_equal(s_import(f, rows, 2, 0, &res), -EINVAL);
	assert_int_equal(res.errors.n, 1);
	assert_string_equal(res.errors.v[0], "f.csv:5: pupil_ref: duplicate of line 2");
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), -ENOENT);
	store_leaver_clear(&l);
	import_result_clear(&res);
	s_free(rows, 2);
}

/* A changed destination drops the registration at the old one. */
static void test_destination_change_resets_registration(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[1] = { s_row("R1", "123456782", 2) };
	struct import_result res = { 0 };
	struct leaver l;

	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	assert_int_equal(store_leaver_set_registered(f->s, l.id, "2025-05-01", "m"), 0);
	store_leaver_clear(&l);
	rows[0]->destination_institution = OTHER;
	assert_int_equal(s_import(f, rows, 1, 0, &res), 0);
	assert_int_equal(res.updated, 1);
	assert_int_equal(res.warnings.n, 1);
	assert_int_equal(store_leaver_find(f->s, "R1", 0, &l), 0);
	assert_string_equal(l.registered_on, "");
	assert_string_equal(l.destination_institution, OTHER);
	store_leaver_clear(&l);
	import_result_clear(&res);
	s_free(rows, 1);
}

/* ---- consents (design.md §8.7) ---- */

static Overstapctl__ConsentGrant *s_grant(const char *ref, const char *by, const char *on,
					  unsigned line)
{
	Overstapctl__ConsentGrant *g = malloc(sizeof(*g));

	overstapctl__consent_grant__init(g);
	g->pupil_ref = (char *)ref;
	g->purpose = "follow_up";
	g->grantor = (char *)by;
	g->granted_at = (char *)on;
	g->evidence_method = "form";
	g->evidence_ref = "DOC-1";
	g->line = line;
	return g;
}

static int s_count_consent(const struct consent *c, int64_t leaver_id, void *arg)
{
	(void)c;
	(void)leaver_id;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned s_consents(struct fx *f)
{
	unsigned n = 0;

	assert_int_equal(store_consents_each(f->s, -1, s_count_consent, &n), 0);
	return n;
}

static void test_consents_all_or_nothing(void **state)
{
	struct fx *f = *state;
	Overstapctl__Leaver *rows[2] = { s_row("R1", "123456782", 2), s_row("R2", "111222333", 3) };
	Overstapctl__ConsentGrant *g[4] = {
		s_grant("R1", "pupil", "2025-01-10", 2),	/* 16 on 2024-03-01: fine */
		s_grant("R2", "pupil", "2023-01-10", 3),	/* 14: a parent must */
		s_grant("R9", "parent", "2023-01-10", 4),	/* no such pupil */
		s_grant("R2", "parent", "2023-01-10", 5),
	};
	struct hctx h = { .store = f->s, .cfg = fx_import_cfg() };
	struct import_result res = { 0 };

	assert_int_equal(s_import(f, rows, 2, 0, &res), 0);
	import_result_clear(&res);
	assert_int_equal(import_consents(&h, "c.csv", g, 4, "mentor1", 0, &res), -EINVAL);
	assert_int_equal(res.refused, 2);
	assert_int_equal(res.errors.n, 2);
	assert_non_null(strstr(res.errors.v[0], "c.csv:3: "));
	assert_non_null(strstr(res.errors.v[0], "16"));
	assert_string_equal(res.errors.v[1],
			    "c.csv:4: pupil_ref: R9: no such pupil (import the leavers first)");
	assert_int_equal(s_consents(f), 0);	/* not even R1's */
	assert_int_equal(s_audited(f, "consent.granted", NULL, NULL), 0);

	/* --check of the good rows says what would happen and writes nothing */
	import_result_clear(&res);
	free(g[1]);
	g[1] = g[3];
	assert_int_equal(import_consents(&h, "c.csv", g, 2, "mentor1", 1, &res), 0);
	assert_int_equal(res.added, 2);
	assert_int_equal(s_consents(f), 0);

	import_result_clear(&res);
	assert_int_equal(import_consents(&h, "c.csv", g, 2, "mentor1", 0, &res), 0);
	assert_int_equal(res.added, 2);
	assert_int_equal(s_consents(f), 2);
	assert_int_equal(s_audited(f, "consent.granted", NULL, NULL), 2);
	assert_int_equal(s_audited(f, "import.consents", NULL, NULL), 1);
	/* a row twice in one request (a client that skipped its parse) */
	import_result_clear(&res);
	{
		Overstapctl__ConsentGrant *twice[2] = { s_grant("R1", "parent", "2023-02-01", 7),
							s_grant("R1", "parent", "2023-02-01", 9) };

		assert_int_equal(import_consents(&h, "c.csv", twice, 2, "mentor1", 0, &res), -EINVAL);
		assert_int_equal(res.errors.n, 1);
		assert_string_equal(res.errors.v[0], "c.csv:9: pupil_ref: duplicate of line 7 (the"
				    " same consent twice)");
		free(twice[0]);
		free(twice[1]);
	}
	assert_int_equal(s_consents(f), 2);
	/* the same file again: nothing new */
	import_result_clear(&res);
	assert_int_equal(import_consents(&h, "c.csv", g, 2, "mentor1", 0, &res), 0);
	assert_int_equal(res.added, 0);
	assert_int_equal(res.unchanged, 2);
	assert_int_equal(s_consents(f), 2);
	import_result_clear(&res);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			free(g[i]);
	s_free(rows, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_same_file_twice),
		FX_TEST(test_longer_file_adds_only_new),
		FX_TEST(test_corrected_before_sending),
		FX_TEST(test_corrected_after_sending),
		FX_TEST(test_unknown_peer_warns_once),
		FX_TEST(test_check_changes_nothing),
		FX_TEST(test_duplicate_in_request),
		FX_TEST(test_destination_change_resets_registration),
		FX_TEST(test_consents_all_or_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
