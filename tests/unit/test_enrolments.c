/* Unit tests for enrolments.c: the MBO's enrolments CSV (design.md §8.4). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enrolments.h"
#include "vocab.h"

static int parse(const char *csv, struct enrolment_row_in **rows, size_t *n, struct strlist *errors)
{
	return enrolments_parse_buffer("e.csv", csv, strlen(csv), rows, n, errors);
}

static void assert_errors(const struct strlist *errors, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	for (size_t i = 0; i < errors->n; i++)
		print_message("got: %s\n", errors->v[i]);
	for (size_t i = 0; i < errors->n && i < n; i++)
		assert_string_equal(errors->v[i], want[i]);
	assert_int_equal(errors->n, n);
}

static void test_good(void **state)
{
	struct enrolment_row_in *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	/* a start ahead of today is fine: the list is made before the year */
	assert_int_equal(parse("\xef\xbb\xbfpgn,level,start_date,previous\r\n"
			       "123456782,1,2025-09-01,pro\r\n"
			       "111222333,2,2099-09-01,\r\n", &rows, &n, &errors), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].pgn, "123456782");
	assert_int_equal(rows[0].level, 1);
	assert_string_equal(rows[0].start_date, "2025-09-01");
	assert_int_equal(rows[0].previous, OVERSTAP__PROGRAM__PRO);
	assert_int_equal(rows[0].line, 2);
	assert_int_equal(rows[1].previous, 0);
	enrolments_free(&rows);
	assert_null(rows);
	/* previous is optional in the header too */
	assert_int_equal(parse("start_date,pgn,level\n2025-09-01,123456782,4\n", &rows, &n, &errors), 0);
	assert_int_equal(rows[0].level, 4);
	enrolments_free(&rows);
}

/* An MBO's own export as it stands (design.md §8.8): TAB, Dutch header names,
 * day-month-year dates, the level and previous education as staff write
 * them, empty trailing columns. Before: every one of these was an error. */
static void test_dialect(void **state)
{
	struct enrolment_row_in *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	(void)state;
	r = parse("BSN\tNiveau\tStartdatum\tVooropleiding\t\t\r\n"
			       "123456782\tEntree\t01-09-2025\tPrO\t\t\r\n"
			       "111222333\tniveau 2\t2/9/2025\tVMBO BB\t\t\r\n"
			       "111222345\tN4\t2025-09-03\t\t\t\r\n", &rows, &n, &errors);
	for (size_t i = 0; i < errors.n; i++)
		print_message("got: %s\n", errors.v[i]);
	assert_int_equal(r, 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].level, 1);
	assert_string_equal(rows[0].start_date, "2025-09-01");
	assert_int_equal(rows[0].previous, OVERSTAP__PROGRAM__PRO);
	assert_int_equal(rows[1].level, 2);
	assert_string_equal(rows[1].start_date, "2025-09-02");
	assert_int_equal(rows[1].previous, OVERSTAP__PROGRAM__VMBO_B);
	assert_int_equal(rows[2].level, 4);
	assert_int_equal(rows[2].previous, 0);
	enrolments_free(&rows);
	strlist_clear(&errors);
}

static void test_bad(void **state)
{
	struct enrolment_row_in *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 9;

	(void)state;
	assert_int_equal(parse("pgn,level,start_date,previous\n"
			       "123456789,1,2025-09-01,\n"
			       "12345,5,2025-02-30,mbo\n"
			       ",,,\n"
			       "123456782,1,2025-09-01,pro\n"
			       "123456782,2,2025-09-01,\n"
			       "111222333,,,\n", &rows, &n, &errors), -EINVAL);
	assert_errors(&errors, (const char *const[]){
		"e.csv:2: pgn: fails the elfproef (11-test)",
		"e.csv:3: pgn: must be 9 digits",
		"e.csv:3: level: '5' is not an MBO level (1-4)",
		"e.csv:3: start_date: not a real date (YYYY-MM-DD)",
		"e.csv:3: previous: unknown value 'mbo' (expected one of: pro, vso_arbeid, "
		"vso_vervolg, vso_dagbesteding, vmbo_b, vmbo_k, vmbo_gt, isk, so, sbo, bao, havo, vwo)",
		"e.csv:6: pgn: duplicate of line 5 (same pgn and start_date)",
		"e.csv:7: level: is required",
		"e.csv:7: start_date: is required",
		NULL });
	assert_null(rows);
	assert_int_equal(n, 0);
	strlist_clear(&errors);
	/* no PGN is ever echoed */
	assert_int_equal(parse("pgn,level\n123456789,1\n", &rows, &n, &errors), -EINVAL);
	for (size_t i = 0; i < errors.n; i++)
		assert_null(strstr(errors.v[i], "123456789"));
	strlist_clear(&errors);
	assert_int_equal(parse("pgn,level,start_date,name\n", &rows, &n, &errors), -EINVAL);
	assert_errors(&errors, (const char *const[]){
		"e.csv:1: header: unknown column 'name' (expected: pgn, level, start_date, previous)",
		NULL });
	strlist_clear(&errors);
}

/* The daemon's path: one row checked as the CLI sent it. */
static void test_validate(void **state)
{
	struct enrolment_input in = { "123456782", "3", "2025-09-01", "vmbo_b", 7 };
	struct enrolment_row_in row;
	struct strlist errors = { 0 };

	(void)state;
	assert_int_equal(enrolment_row_validate("-", &in, &row, &errors), 0);
	assert_int_equal(row.level, 3);
	assert_int_equal(row.previous, OVERSTAP__PROGRAM__VMBO_B);
	in.level = "0";
	assert_int_equal(enrolment_row_validate("-", &in, &row, &errors), 1);
	assert_errors(&errors, (const char *const[]){ "-:7: level: '0' is not an MBO level (1-4)", NULL });
	strlist_clear(&errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_dialect),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
