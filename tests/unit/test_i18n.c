/* test_i18n: the language switch for a request or a report, against the
 * catalog the build makes (OVERSTAP_LOCALEDIR, set by ctest). */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "i18n.h"

static int s_setup(void **state)
{
	(void)state;
	/* as overstapd runs: no setlocale, so LC_MESSAGES is "C" */
	unsetenv("LANGUAGE");
	return i18n_init() == 0 ? 0 : -1;
}

static void test_lang_valid(void **state)
{
	(void)state;
	assert_true(i18n_lang_valid("nl"));
	assert_true(i18n_lang_valid("en"));
	assert_true(i18n_lang_valid("nds"));
	/* what a caller could smuggle into LANGUAGE: a list, a path, a locale */
	assert_false(i18n_lang_valid(NULL));
	assert_false(i18n_lang_valid(""));
	assert_false(i18n_lang_valid("n"));
	assert_false(i18n_lang_valid("NL"));
	assert_false(i18n_lang_valid("nl:en"));
	assert_false(i18n_lang_valid("nl_NL"));
	assert_false(i18n_lang_valid("../../tmp"));
	assert_false(i18n_lang_valid("dutch"));
}

static void test_c_locale_is_english(void **state)
{
	(void)state;
	assert_string_equal(setlocale(LC_MESSAGES, NULL), "C");
	assert_string_equal(_("leavers"), "leavers");
	assert_string_equal(i18n_lang(), "en");
}

static void test_begin_end(void **state)
{
	struct i18n_saved s;

	(void)state;
	i18n_begin(&s, "nl");
	assert_string_equal(_("leavers"), "uitstromers");
	assert_string_equal(i18n_lang(), "nl");
	assert_string_equal(getenv("LANGUAGE"), "nl");
	i18n_end(&s);
	/* everything as it was: LANGUAGE unset, LC_MESSAGES C, English again */
	assert_null(getenv("LANGUAGE"));
	assert_string_equal(setlocale(LC_MESSAGES, NULL), "C");
	assert_string_equal(_("leavers"), "leavers");
	assert_string_equal(i18n_lang(), "en");
}

static void test_nested_and_restored(void **state)
{
	struct i18n_saved outer, inner;

	(void)state;
	setenv("LANGUAGE", "en", 1);
	i18n_begin(&outer, "nl");
	i18n_begin(&inner, "en");
	assert_string_equal(_("leavers"), "leavers");
	i18n_end(&inner);
	assert_string_equal(_("leavers"), "uitstromers");	/* the outer one's again */
	i18n_end(&outer);
	assert_string_equal(getenv("LANGUAGE"), "en");	/* a value it had is put back */
	unsetenv("LANGUAGE");
}

static void test_invalid_changes_nothing(void **state)
{
	struct i18n_saved s;

	(void)state;
	i18n_begin(&s, "nl:de");
	assert_null(getenv("LANGUAGE"));
	assert_string_equal(_("leavers"), "leavers");
	i18n_end(&s);
	assert_null(getenv("LANGUAGE"));
}

static void test_request_defaults_to_english(void **state)
{
	struct i18n_saved s;

	(void)state;
	/* An older CLI sends no language: it reads English, whatever the
	 * daemon's own environment says. */
	setenv("LANGUAGE", "nl", 1);
	i18n_request_begin(&s, "");
	assert_string_equal(_("leavers"), "leavers");
	i18n_request_end(&s);
	i18n_request_begin(&s, "nl");
	assert_string_equal(_("nothing recorded: %s"), "niets vastgelegd: %s");
	i18n_request_end(&s);
	assert_string_equal(getenv("LANGUAGE"), "nl");
	unsetenv("LANGUAGE");
}

static void test_pgettext(void **state)
{
	struct i18n_saved s;

	(void)state;
	i18n_begin(&s, "nl");
	/* one code, other words in other lists */
	assert_string_equal(i18n_pgettext("followed", "no"), "zelfmelder");
	assert_string_equal(i18n_pgettext("destination", "none"), "geen vervolg");
	assert_string_equal(i18n_pgettext("destination", "mbo_entree"), "Entree");
	assert_string_equal(i18n_pgettext("program", "pro"), "PrO");
	/* not in the catalog: the msgid itself, not the context-joined key */
	assert_string_equal(i18n_pgettext("followed", "perhaps"), "perhaps");
	assert_string_equal(i18n_pgettext("nosuchlist", "no"), "no");
	i18n_end(&s);
	assert_string_equal(i18n_pgettext("followed", "no"), "no");	/* English: the code */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lang_valid),
		cmocka_unit_test(test_c_locale_is_english),
		cmocka_unit_test(test_begin_end),
		cmocka_unit_test(test_nested_and_restored),
		cmocka_unit_test(test_invalid_changes_nothing),
		cmocka_unit_test(test_request_defaults_to_english),
		cmocka_unit_test(test_pgettext),
	};

	return cmocka_run_group_tests(tests, s_setup, NULL);
}
