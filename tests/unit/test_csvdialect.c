/* test_csvdialect: what school systems write (design.md §8.8), below the
 * column tables: dates, separators, encodings, folded names, the map file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvdialect.h"

static void expect_date(const char *v, enum csvdialect_date f, const char *want)
{
	char out[11] = "untouched";

	print_message("%s\n", v);
	assert_int_equal(csvdialect_date(v, f, out), want != NULL);
	assert_string_equal(out, want ? want : "untouched");
}

static void test_dates(void **state)
{
	enum csvdialect_date f = CSVDIALECT_DATE_MDY;

	(void)state;
	expect_date("2008-03-14", CSVDIALECT_DATE_AUTO, "2008-03-14");
	expect_date("2008/3/4", CSVDIALECT_DATE_AUTO, "2008-03-04");
	expect_date("14-03-2008", CSVDIALECT_DATE_AUTO, "2008-03-14");
	expect_date("4-3-2008", CSVDIALECT_DATE_AUTO, "2008-03-04");
	expect_date("04/03/2008", CSVDIALECT_DATE_AUTO, "2008-03-04");
	expect_date("4.3.2008", CSVDIALECT_DATE_AUTO, "2008-03-04");
	expect_date("4-3/2008", CSVDIALECT_DATE_AUTO, NULL);	/* mixed separators */
	expect_date("4-3-08", CSVDIALECT_DATE_AUTO, NULL);	/* whose century? */
	expect_date("14032008", CSVDIALECT_DATE_AUTO, NULL);
	expect_date("2008-03-14 00:00", CSVDIALECT_DATE_AUTO, NULL);
	expect_date("123-3-2008", CSVDIALECT_DATE_AUTO, NULL);
	expect_date("", CSVDIALECT_DATE_AUTO, NULL);
	expect_date("14-03-2008", CSVDIALECT_DATE_YMD, NULL);
	expect_date("2008-03-14", CSVDIALECT_DATE_DMY, "2008-03-14");
	expect_date("03-14-2008", CSVDIALECT_DATE_MDY, "2008-03-14");
	/* not a real day: the caller's check says so */
	expect_date("31-02-2008", CSVDIALECT_DATE_AUTO, "2008-02-31");
	assert_int_equal(csvdialect_date_format("DD-MM-YYYY", &f), 0);
	assert_int_equal(f, CSVDIALECT_DATE_DMY);
	assert_int_equal(csvdialect_date_format("ymd", &f), 0);
	assert_int_equal(f, CSVDIALECT_DATE_YMD);
	assert_int_equal(csvdialect_date_format("auto", &f), 0);
	assert_int_equal(f, CSVDIALECT_DATE_AUTO);
	assert_int_equal(csvdialect_date_format("dd/mm/yy", &f), -EINVAL);
}

static void test_delimiters(void **state)
{
	char c = 0;

	(void)state;
	assert_int_equal(csvdialect_delimiter_detect("a,b,c\n1;2;3;4;5\n", 16), ',');
	assert_int_equal(csvdialect_delimiter_detect("a;b;c\r\n", 7), ';');
	assert_int_equal(csvdialect_delimiter_detect("a\tb\tc;d\n", 8), '\t');
	/* quoted separators do not count; a quoted line break does not end it */
	assert_int_equal(csvdialect_delimiter_detect("\"a;b;c\nd\",e,f;g\n", 16), ',');
	assert_int_equal(csvdialect_delimiter_detect("\xef\xbb\xbf" "a;b", 6), ';');
	assert_int_equal(csvdialect_delimiter_detect("abc\n", 4), ',');
	assert_int_equal(csvdialect_delimiter_detect("", 0), ',');
	assert_int_equal(csvdialect_delimiter(";", &c), 0);
	assert_int_equal(c, ';');
	assert_int_equal(csvdialect_delimiter("TAB", &c), 0);
	assert_int_equal(c, '\t');
	assert_int_equal(csvdialect_delimiter("\\t", &c), 0);
	assert_int_equal(c, '\t');
	assert_int_equal(csvdialect_delimiter("\t", &c), 0);
	assert_int_equal(c, '\t');
	assert_int_equal(csvdialect_delimiter("|", &c), 0);
	assert_int_equal(c, '|');
	assert_int_equal(csvdialect_delimiter("\"", &c), -EINVAL);
	assert_int_equal(csvdialect_delimiter(" ", &c), -EINVAL);
	assert_int_equal(csvdialect_delimiter(";;", &c), -EINVAL);
	assert_int_equal(csvdialect_delimiter("", &c), -EINVAL);
}

/* Decode, expect r, the UTF-8 (NULL = used as is) and the message. */
static void expect_decode(const char *in, size_t len, const char *enc, int r, const char *want,
			  const char *msg)
{
	struct strlist errors = { 0 };
	char *out = (char *)"x";
	size_t n = 99;

	assert_int_equal(csvdialect_decode("t.csv", in, len, enc, &out, &n, &errors), r);
	if (want) {
		assert_non_null(out);
		assert_int_equal(n, strlen(want));
		assert_memory_equal(out, want, n);
	} else {
		assert_null(out);
	}
	assert_int_equal(errors.n, msg != NULL);
	if (msg)
		assert_string_equal(errors.v[0], msg);
	free(out);
	strlist_clear(&errors);
}

static void test_encodings(void **state)
{
	size_t bad = 0;

	(void)state;
	/* valid UTF-8, or a BOM: as is */
	expect_decode("Zo\xc3\xab", 4, NULL, 0, NULL, NULL);
	expect_decode("\xef\xbb\xbfZo\xeb", 6, NULL, 0, NULL, NULL);
	expect_decode("Zo\xeb", 3, "UTF-8", 0, NULL, NULL);
	/* not UTF-8: Windows-1252, euro sign and curly quotes included */
	expect_decode("Zo\xeb;Fran\xe7ois;\x80\x96", 15, NULL, 0,
		      "Zo\xc3\xab;Fran\xc3\xa7ois;\xe2\x82\xac\xe2\x80\x93", NULL);
	expect_decode("Zo\xeb", 3, "windows-1252", 0, "Zo\xc3\xab", NULL);
	expect_decode("Zo\xeb", 3, "ISO-8859-1", 0, "Zo\xc3\xab", NULL);
	/* the five bytes Windows-1252 leaves undefined: where, and what to do */
	expect_decode("a;b\r\nc\r\nd;e\x81", 12, NULL, -EINVAL, NULL,
		      "t.csv:3: column 4: byte 0x81 is neither UTF-8 nor Windows-1252 "
		      "(give --encoding)");
	expect_decode("a\rb\x9d", 4, "CP1252", -EINVAL, NULL,
		      "t.csv:2: column 2: byte 0x9D is not CP1252");
	/* UTF-8 with one stray byte is not taken for Windows-1252: every name
	 * in it would be stored garbled */
	expect_decode("Zo\xc3\xab;a\r\nb;Fran\xe7ois", 18, NULL, -EINVAL, NULL,
		      "t.csv:2: column 7: byte 0xE7 is not UTF-8, but the rest of the file is "
		      "(mixed encodings? give --encoding)");
	expect_decode("Zo\xc3\xab;Fran\xe7ois", 13, "cp1252", 0,
		      "Zo\xc3\x83\xc2\xab;Fran\xc3\xa7ois", NULL);
	expect_decode("a", 1, "no-such-encoding", -EINVAL, NULL,
		      "t.csv: unknown encoding 'no-such-encoding' (e.g. utf-8, windows-1252)");
	/* the validator: overlong, surrogate, cut off; NUL is a character */
	assert_true(csvdialect_utf8_valid("a\0b", 3, &bad));
	assert_false(csvdialect_utf8_valid("ab\xc0\xaf", 4, &bad));
	assert_int_equal(bad, 2);
	assert_false(csvdialect_utf8_valid("\xed\xa0\x80", 3, &bad));
	assert_false(csvdialect_utf8_valid("x\xe2\x82", 3, &bad));
	assert_int_equal(bad, 1);
}

static void test_names(void **state)
{
	char f[16];
	unsigned rank = 9;

	(void)state;
	assert_string_equal(csvdialect_fold(" Datum  Uitschr ", f, sizeof(f)), "datum_uitschr");
	assert_null(csvdialect_fold("Datum uitschrijving", f, sizeof(f)));
	assert_string_equal(csvdialect_fold("BSN/PGN", f, sizeof(f)), "bsn_pgn");
	assert_string_equal(csvdialect_fold("Geb. datum", f, sizeof(f)), "geb_datum");
	assert_string_equal(csvdialect_fold("--MBO - 3/4--", f, sizeof(f)), "mbo_3_4");
	assert_string_equal(csvdialect_fold("\xc3\x96mer", f, sizeof(f)), "\xc3\x96mer");
	assert_string_equal(csvdialect_fold("", f, sizeof(f)), "");
	assert_true(csvdialect_name_in("voornaam", "roepnaam|voornaam|voornamen", &rank));
	assert_int_equal(rank, 1);
	assert_false(csvdialect_name_in("naam", "roepnaam|voornaam", &rank));
	assert_false(csvdialect_name_in("voornaa", "voornaam", &rank));
	assert_false(csvdialect_name_in("x", NULL, &rank));
	/* an institution id a spreadsheet lowered */
	assert_string_equal(csvdialect_upper("12ab00", f, sizeof(f)), "12AB00");
	assert_null(csvdialect_upper("12AB00", f, sizeof(f)));	/* as it is */
	assert_null(csvdialect_upper("12ab0", f, sizeof(f)));		/* no id: as written */
	assert_null(csvdialect_upper("12ab0\xc3\xa9", f, sizeof(f)));
}

static void test_map(void **state)
{
	struct csvdialect_map *m = NULL;
	struct strlist errors = { 0 };
	const void *sec;

	(void)state;
	assert_int_equal(csvdialect_map_parse("m.ini", "[Columns]\n  Leerling ID = pupil_ref ; ok\n"
					      "[values.program]\nBasis = vmbo_b\n", &m, &errors), 0);
	assert_string_equal(csvdialect_map_column(m, "leerling_id"), "pupil_ref");
	assert_null(csvdialect_map_column(m, "pupil_ref"));
	sec = csvdialect_map_values(m, "program");
	assert_non_null(sec);
	assert_null(csvdialect_map_values(m, "advice"));
	assert_string_equal(csvdialect_map_value(sec, "basis"), "vmbo_b");
	assert_null(csvdialect_map_value(sec, "kader"));
	assert_string_equal(csvdialect_map_name(m), "m.ini");
	csvdialect_map_free(&m);
	csvdialect_map_free(&m);	/* takes NULL */
	assert_int_equal(csvdialect_map_load("/nonexistent/map.ini", &m, &errors), -ENOENT);
	assert_null(m);
	assert_int_equal(errors.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_delimiters),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
