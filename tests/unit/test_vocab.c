/* test_vocab: every code list maps both ways and rejects what is not in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csvdialect.h"
#include "vocab.h"

struct pair {
	const char *s;
	int v;
};

/* design.md §8, written out again here so that a change to a list is a conscious one. */
static const struct pair k_programs[] = {
	{ "pro", OVERSTAP__PROGRAM__PRO }, { "vso_arbeid", OVERSTAP__PROGRAM__VSO_ARBEID },
	{ "vso_vervolg", OVERSTAP__PROGRAM__VSO_VERVOLG },
	{ "vso_dagbesteding", OVERSTAP__PROGRAM__VSO_DAGBESTEDING },
	{ "vmbo_b", OVERSTAP__PROGRAM__VMBO_B }, { "vmbo_k", OVERSTAP__PROGRAM__VMBO_K },
	{ "vmbo_gt", OVERSTAP__PROGRAM__VMBO_GT }, { "isk", OVERSTAP__PROGRAM__ISK },
	{ "so", OVERSTAP__PROGRAM__SO }, { "sbo", OVERSTAP__PROGRAM__SBO },
	{ "bao", OVERSTAP__PROGRAM__BAO }, { "havo", OVERSTAP__PROGRAM__HAVO },
	{ "vwo", OVERSTAP__PROGRAM__VWO },
};

static const struct pair k_destinations[] = {
	{ "mbo_entree", OVERSTAP__DESTINATION__MBO_ENTREE }, { "mbo_2", OVERSTAP__DESTINATION__MBO_2 },
	{ "mbo_3_4", OVERSTAP__DESTINATION__MBO_3_4 }, { "vavo", OVERSTAP__DESTINATION__VAVO },
	{ "ho", OVERSTAP__DESTINATION__HO }, { "vo", OVERSTAP__DESTINATION__VO },
	{ "work", OVERSTAP__DESTINATION__WORK }, { "day_care", OVERSTAP__DESTINATION__DAY_CARE },
	{ "none", OVERSTAP__DESTINATION__NONE }, { "unknown", OVERSTAP__DESTINATION__UNKNOWN },
};

static const struct pair k_advices[] = {
	{ "entree", OVERSTAP__ADVICE__ADVICE_ENTREE }, { "mbo_2", OVERSTAP__ADVICE__ADVICE_MBO_2 },
	{ "mbo_3_4", OVERSTAP__ADVICE__ADVICE_MBO_3_4 }, { "vavo", OVERSTAP__ADVICE__ADVICE_VAVO },
	{ "ho", OVERSTAP__ADVICE__ADVICE_HO }, { "vo", OVERSTAP__ADVICE__ADVICE_VO },
	{ "work", OVERSTAP__ADVICE__ADVICE_WORK }, { "day_care", OVERSTAP__ADVICE__ADVICE_DAY_CARE },
	{ "none", OVERSTAP__ADVICE__ADVICE_NONE },
};

static const char *const k_support[] = {
	"extra_time", "small_group", "fixed_mentor", "job_coach", "language_support",
	"reading_support", "math_support", "structure", "practical_learning",
	"travel_training", "social_work", "other",
};

/* Each list string is exactly the table, in order, ", "-separated. */
static void assert_list(const char *list, const struct pair *t, size_t n)
{
	char want[512] = "";

	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(want, ", ");
		strcat(want, t[i].s);
	}
	assert_string_equal(list, want);
}

static void test_program(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(k_programs) / sizeof(k_programs[0]); i++) {
		assert_int_equal(vocab_program_from_str(k_programs[i].s), k_programs[i].v);
		assert_string_equal(vocab_program_str(k_programs[i].v), k_programs[i].s);
	}
	assert_int_equal(vocab_program_from_str("PRO"), OVERSTAP__PROGRAM__PROGRAM_UNSPECIFIED);
	assert_int_equal(vocab_program_from_str("vmbo"), 0);
	assert_int_equal(vocab_program_from_str(""), 0);
	assert_int_equal(vocab_program_from_str(NULL), 0);
	assert_null(vocab_program_str(OVERSTAP__PROGRAM__PROGRAM_UNSPECIFIED));
	assert_null(vocab_program_str((Overstap__Program)99));
	assert_list(vocab_program_list(), k_programs, sizeof(k_programs) / sizeof(k_programs[0]));
}

static void test_destination(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(k_destinations) / sizeof(k_destinations[0]); i++) {
		assert_int_equal(vocab_destination_from_str(k_destinations[i].s), k_destinations[i].v);
		assert_string_equal(vocab_destination_str(k_destinations[i].v), k_destinations[i].s);
	}
	/* "entree" is an advice, not a destination type. */
	assert_int_equal(vocab_destination_from_str("entree"), 0);
	assert_null(vocab_destination_str(OVERSTAP__DESTINATION__DESTINATION_UNSPECIFIED));
	assert_list(vocab_destination_list(), k_destinations,
		    sizeof(k_destinations) / sizeof(k_destinations[0]));
}

static void test_advice(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(k_advices) / sizeof(k_advices[0]); i++) {
		assert_int_equal(vocab_advice_from_str(k_advices[i].s), k_advices[i].v);
		assert_string_equal(vocab_advice_str(k_advices[i].v), k_advices[i].s);
	}
	assert_int_equal(vocab_advice_from_str("mbo_entree"), 0);
	assert_int_equal(vocab_advice_from_str("unknown"), 0);
	assert_null(vocab_advice_str(OVERSTAP__ADVICE__ADVICE_UNSPECIFIED));
	assert_list(vocab_advice_list(), k_advices, sizeof(k_advices) / sizeof(k_advices[0]));
}

static void test_level_reviewer_yesno(void **state)
{
	(void)state;
	assert_int_equal(vocab_level_from_str("none"), OVERSTAP__REF_LEVEL__LEVEL_NONE);
	assert_int_equal(vocab_level_from_str("1F"), OVERSTAP__REF_LEVEL__LEVEL_1F);
	assert_int_equal(vocab_level_from_str("2F"), OVERSTAP__REF_LEVEL__LEVEL_2F);
	assert_int_equal(vocab_level_from_str("3F"), OVERSTAP__REF_LEVEL__LEVEL_3F);
	assert_int_equal(vocab_level_from_str("1f"), 0);
	assert_int_equal(vocab_level_from_str("4F"), 0);
	assert_string_equal(vocab_level_str(OVERSTAP__REF_LEVEL__LEVEL_2F), "2F");
	assert_null(vocab_level_str(OVERSTAP__REF_LEVEL__LEVEL_UNSPECIFIED));

	assert_int_equal(vocab_reviewer_from_str("pupil"), OVERSTAP__REVIEWER__REVIEWER_PUPIL);
	assert_int_equal(vocab_reviewer_from_str("parent"), OVERSTAP__REVIEWER__REVIEWER_PARENT);
	assert_int_equal(vocab_reviewer_from_str("guardian"), OVERSTAP__REVIEWER__REVIEWER_GUARDIAN);
	assert_int_equal(vocab_reviewer_from_str("teacher"), 0);
	assert_string_equal(vocab_reviewer_str(OVERSTAP__REVIEWER__REVIEWER_GUARDIAN), "guardian");
	assert_null(vocab_reviewer_str(OVERSTAP__REVIEWER__REVIEWER_UNSPECIFIED));

	assert_int_equal(vocab_yesno_from_str("yes"), OVERSTAP__TRISTATE__TRI_YES);
	assert_int_equal(vocab_yesno_from_str("no"), OVERSTAP__TRISTATE__TRI_NO);
	assert_int_equal(vocab_yesno_from_str("ja"), 0);
	assert_int_equal(vocab_yesno_from_str(""), 0);
	assert_string_equal(vocab_yesno_str(OVERSTAP__TRISTATE__TRI_NO), "no");
	assert_null(vocab_yesno_str(OVERSTAP__TRISTATE__TRI_UNSPECIFIED));
}

static void test_support(void **state)
{
	char want[512] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(k_support) / sizeof(k_support[0]); i++) {
		assert_true(vocab_support_code_valid(k_support[i]));
		if (i)
			strcat(want, ", ");
		strcat(want, k_support[i]);
	}
	assert_string_equal(vocab_support_codes(), want);
	/* Never a diagnosis (design.md §3). */
	assert_false(vocab_support_code_valid("adhd"));
	assert_false(vocab_support_code_valid("dyslexia"));
	assert_false(vocab_support_code_valid("autism"));
	assert_false(vocab_support_code_valid("Extra_time"));
	assert_false(vocab_support_code_valid(""));
	assert_false(vocab_support_code_valid(NULL));
}

/* The staff's spellings (design.md §8.8): any case and separator, the
 * Dutch names, never a guess. */
static void test_canon(void **state)
{
	(void)state;
	assert_string_equal(vocab_program_canon("PrO"), "pro");
	assert_string_equal(vocab_program_canon("Havo"), "havo");
	assert_string_equal(vocab_program_canon(" VMBO-BB "), "vmbo_b");
	assert_string_equal(vocab_program_canon("vmbo kb"), "vmbo_k");
	assert_string_equal(vocab_program_canon("GL/TL"), "vmbo_gt");
	assert_string_equal(vocab_program_canon("VSO Arbeid"), "vso_arbeid");
	assert_null(vocab_program_canon("VSO"));	/* which one? the map says */
	assert_null(vocab_program_canon(""));
	assert_null(vocab_program_canon(NULL));
	assert_string_equal(vocab_destination_canon("Entree"), "mbo_entree");
	assert_string_equal(vocab_destination_canon("mbo-2"), "mbo_2");
	assert_string_equal(vocab_destination_canon("niveau 2"), "mbo_2");
	assert_string_equal(vocab_destination_canon("MBO 3/4"), "mbo_3_4");
	assert_string_equal(vocab_destination_canon("Niveau 4"), "mbo_3_4");
	assert_string_equal(vocab_destination_canon("werk"), "work");
	assert_null(vocab_destination_canon("mbo"));
	assert_string_equal(vocab_advice_canon("Entree"), "entree");
	assert_string_equal(vocab_advice_canon("mbo_entree"), "entree");
	assert_string_equal(vocab_advice_canon("niveau 2"), "mbo_2");
	assert_null(vocab_advice_canon("onbekend"));	/* no advice is "unknown" */
	assert_string_equal(vocab_yesno_canon("ja"), "yes");
	assert_string_equal(vocab_yesno_canon("NEE"), "no");
	assert_null(vocab_yesno_canon("misschien"));
	assert_string_equal(vocab_level_canon("2f"), "2F");
	assert_string_equal(vocab_level_canon("geen"), "none");
	assert_string_equal(outcome_event_canon("Ingeschreven"), "enrolled");
	assert_string_equal(outcome_event_canon("Left Without Diploma"), "left_without_diploma");
	assert_string_equal(vocab_mbo_level_canon("niveau 2"), "2");
	assert_null(vocab_mbo_level_canon("niveau 5"));
	/* the highest diploma: GL and TL are two diplomas here */
	assert_string_equal(vocab_diploma_canon("VMBO-BB"), "vmbo_b");
	assert_string_equal(vocab_diploma_canon("vmbo GL"), "vmbo_gt");
	assert_string_equal(vocab_diploma_canon("Mavo"), "vmbo_t");
	assert_string_equal(vocab_diploma_canon("Geen"), "none");
	assert_string_equal(vocab_diploma_canon("HAVO"), "havo");
	assert_null(vocab_diploma_canon("pro"));
}

/* Every alias is written folded (else it could never match) and names a
 * code of its own list. */
static void test_alias_tables(void **state)
{
	static const char *const lists[] = { "program", "destination", "level", "yesno", "event",
					     "diploma", "mbo_level" };
	char f[128];

	(void)state;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		size_t n = 0;
		const struct vocab_alias *a = vocab_aliases(lists[l], &n);

		assert_non_null(a);
		assert_true(n > 0);
		for (size_t i = 0; i < n; i++) {
			int known;

			print_message("%s: %s\n", lists[l], a[i].alias);
			assert_string_equal(csvdialect_fold(a[i].alias, f, sizeof(f)), a[i].alias);
			switch (l) {
			case 0: known = vocab_program_from_str(a[i].code) != 0; break;
			case 1: known = vocab_destination_from_str(a[i].code) != 0; break;
			case 2: known = vocab_level_from_str(a[i].code) != 0; break;
			case 3: known = vocab_yesno_from_str(a[i].code) != 0; break;
			case 4: known = outcome_event_from_str(a[i].code) != 0; break;
			case 5: known = vocab_diploma_from_str(a[i].code) != 0; break;
			default: known = strlen(a[i].code) == 1 && a[i].code[0] >= '1' &&
					 a[i].code[0] <= '4'; break;
			}
			assert_true(known);
		}
	}
	assert_null(vocab_aliases("nope", &(size_t){ 0 }));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_program),
		cmocka_unit_test(test_destination),
		cmocka_unit_test(test_advice),
		cmocka_unit_test(test_level_reviewer_yesno),
		cmocka_unit_test(test_support),
		cmocka_unit_test(test_canon),
		cmocka_unit_test(test_alias_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
