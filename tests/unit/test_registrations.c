/* test_registrations: the registrations CSV import as an MBO's staff meets it:
 * the rows of a good file, and for a bad one exactly the messages they read.
 * `today` is fixed at 2025-10-01 so that "in the future" is deterministic. */
#include <csv.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "registrations.h"

#define TODAY "2025-10-01"
#define HDR "pgn,sending_school,registered_on\n"
/* Valid pgns: BSNs and an onderwijsnummer (starts with 10). */
#define P1 "111222333"
#define P2 "123456782"
#define P3 "111111110"
#define P4 "222222220"
#define P5 "101234567"
#define P6 "012345672"
#define EXPECTED "(expected: pgn, sending_school, registered_on)"
#define NOT_ID "is not an institution id (BRIN + location, e.g. 12AB00)"

/* ---- helpers -------------------------------------------------------------- */

/* errors must be exactly want[0..], in order. */
static void assert_errors(const struct strlist *errors, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	if (errors->n != n)
		for (size_t i = 0; i < errors->n; i++)
			print_message("got: %s\n", errors->v[i]);
	for (size_t i = 0; i < errors->n && i < n; i++)
		assert_string_equal(errors->v[i], want[i]);
	assert_int_equal(errors->n, n);
}

static int parse_len(const char *csv, size_t len, struct registration_row **rows, size_t *n,
		     struct strlist *errors)
{
	return registrations_parse_buffer("t.csv", csv, len, TODAY, rows, n, errors, NULL, NULL);
}

static int parse(const char *csv, struct registration_row **rows, size_t *n,
		 struct strlist *errors)
{
	return parse_len(csv, strlen(csv), rows, n, errors);
}

/* Parse len bytes of csv, expect exactly want (none = success with nrows
 * rows); frees all. */
static void expect_len(const char *csv, size_t len, const char *const *want, size_t nrows)
{
	struct registration_row *rows = (struct registration_row *)1;	/* must be reset */
	struct strlist errors = { 0 };
	size_t n = 99;
	int r = parse_len(csv, len, &rows, &n, &errors);

	assert_errors(&errors, want);
	if (want[0]) {
		assert_int_equal(r, -EINVAL);
		assert_null(rows);
		assert_int_equal(n, 0);
	} else {
		assert_int_equal(r, 0);
		assert_int_equal(n, nrows);
		if (nrows == 0)
			assert_null(rows);
	}
	registrations_free(&rows);
	strlist_clear(&errors);
}

static void expect(const char *csv, const char *const *want, size_t nrows)
{
	expect_len(csv, strlen(csv), want, nrows);
}

static void assert_row(const struct registration_row *r, unsigned line, const char *pgn,
		       const char *school, const char *date)
{
	assert_int_equal(r->line, line);
	assert_string_equal(r->pgn, pgn);
	assert_string_equal(r->sending_school, school);
	assert_string_equal(r->registered_on, date);
}

/* csv into a new temporary file; the caller unlinks and frees the path. */
static char *temp_file(const char *csv)
{
	char *path = strdup("/tmp/test_registrations.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, csv, strlen(csv)), (ssize_t)strlen(csv));
	assert_int_equal(close(fd), 0);
	return path;
}

/* ---- a good file ---------------------------------------------------------- */

static void test_good_file(void **state)
{
	/* BOM, CRLF, another column order, quoted values, a blank line, blanks
	 * around unquoted values, a date equal to today, a leap day, the same
	 * pupil from two schools, a blank last line. */
	static const char csv[] = "\xef\xbb\xbf" "registered_on,sending_school,pgn\r\n"
		"2025-03-01,12AB00," P1 "\r\n"				/* 2 */
		"\"2025-03-02\",\"34CD01\",\"" P2 "\"\r\n"		/* 3 */
		"\r\n"							/* 4 */
		" 2025-04-15 , 12AB00 ,  " P3 "\r\n"			/* 5 */
		TODAY ",56EF02," P5 "\r\n"				/* 6 */
		"2024-02-29,12AB00," P6 "\r\n"				/* 7 */
		"2025-05-01,34cd01," P1 "\r\n"				/* 8: lowered */
		"\r\n";
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	char *path = temp_file(csv);
	size_t n = 0;
	int r;

	(void)state;
	r = registrations_parse_file(path, TODAY, &rows, &n, &errors, NULL, NULL);
	assert_errors(&errors, (const char *const[]){ NULL });
	assert_int_equal(r, 0);
	assert_int_equal(n, 6);
	assert_row(&rows[0], 2, P1, "12AB00", "2025-03-01");
	assert_row(&rows[1], 3, P2, "34CD01", "2025-03-02");
	assert_row(&rows[2], 5, P3, "12AB00", "2025-04-15");
	assert_row(&rows[3], 6, P5, "56EF02", TODAY);
	assert_row(&rows[4], 7, P6, "12AB00", "2024-02-29");
	assert_row(&rows[5], 8, P1, "34CD01", "2025-05-01");
	registrations_free(&rows);
	assert_null(rows);
	registrations_free(&rows);	/* NULL is fine */
	registrations_free(NULL);
	strlist_clear(&errors);
	unlink(path);
	free(path);
}

/* ---- a bad file ----------------------------------------------------------- */

static void test_bad_file(void **state)
{
	static const char csv[] = HDR
		P1 ",12AB00,2025-03-01\n"				/* 2: good */
		"123456789,12AB00,2025-03-01\n"				/* 3 */
		"12345678,12AB00,2025-03-01\n"				/* 4 */
		P2 ",12ab0,2025-03-01\n"				/* 5 */
		P3 ",\"12AB00,\n34CD01\",2025-03-01\n"			/* 6-7 */
		P4 ",34CD01,2099-01-01\n"				/* 8 */
		P5 ",34CD01,2025-02-29\n"				/* 9 */
		P6 ",34CD01\n"						/* 10 */
		P1 ",12AB00,2025-04-01\n"				/* 11 */
		",,\n"							/* 12: empty row */
		"X,,\n";						/* 13 */
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	char *path = temp_file(csv);
	char *want[16] = { NULL };
	size_t n = 99;	/* must be reset */
	int r, i = 0;

	(void)state;
	assert_true(asprintf(&want[i++], "%s:3: pgn: fails the elfproef (11-test)", path) > 0);
	assert_true(asprintf(&want[i++], "%s:4: pgn: must be 9 digits", path) > 0);
	/* 12ab00 is 12AB00 as a spreadsheet lowered it (test_good_file); 12ab0 is none */
	assert_true(asprintf(&want[i++], "%s:5: sending_school: '12ab0' " NOT_ID, path) > 0);
	/* Lines 6-7 are one record: a quoted comma and line break. */
	assert_true(asprintf(&want[i++], "%s:6: sending_school: '12AB00,?34CD01' " NOT_ID,
			     path) > 0);
	assert_true(asprintf(&want[i++], "%s:8: registered_on: 2099-01-01 is in the future "
			     "(today is 2025-10-01)", path) > 0);
	assert_true(asprintf(&want[i++], "%s:9: registered_on: not a real date (YYYY-MM-DD)",
			     path) > 0);
	assert_true(asprintf(&want[i++], "%s:10: row has 2 fields, header has 3", path) > 0);
	assert_true(asprintf(&want[i++], "%s:11: pgn: duplicate of line 2 (same pgn and "
			     "sending_school)", path) > 0);
	assert_true(asprintf(&want[i++], "%s:13: pgn: must be 9 digits", path) > 0);
	assert_true(asprintf(&want[i++], "%s:13: sending_school: is required", path) > 0);
	assert_true(asprintf(&want[i++], "%s:13: registered_on: is required", path) > 0);

	r = registrations_parse_file(path, TODAY, &rows, &n, &errors, NULL, NULL);
	assert_int_equal(i, 11);
	assert_errors(&errors, (const char *const *)want);
	assert_int_equal(r, -EINVAL);
	assert_null(rows);
	assert_int_equal(n, 0);
	strlist_clear(&errors);
	for (i = 0; want[i]; i++)
		free(want[i]);
	unlink(path);
	free(path);
}

static void test_file_errors(void **state)
{
	struct registration_row *rows = (struct registration_row *)1;	/* must be reset */
	struct strlist errors = { 0 };
	size_t n = 99;

	(void)state;
	assert_int_equal(registrations_parse_file("/nonexistent/registrations.csv", TODAY, &rows,
						  &n, &errors, NULL, NULL), -ENOENT);
	assert_null(rows);
	assert_int_equal(n, 0);
	assert_int_equal(errors.n, 0);
}

/* ---- each validation rule ------------------------------------------------- */

struct rule_case {
	const char *row;	/* one data row under HDR, line 2 */
	const char *want[4];	/* the messages, NULL-terminated; none = valid */
};

static const struct rule_case k_rules[] = {
	{ P1 ",12AB00,2025-03-01", { NULL } },
	/* pgn: 9 digits passing the elfproef, BSN or onderwijsnummer */
	{ ",12AB00,2025-03-01", { "t.csv:2: pgn: is required" } },
	{ P5 ",12AB00,2025-03-01", { NULL } },
	{ P6 ",12AB00,2025-03-01", { NULL } },
	{ "123456789,12AB00,2025-03-01", { "t.csv:2: pgn: fails the elfproef (11-test)" } },
	{ "111222334,12AB00,2025-03-01", { "t.csv:2: pgn: fails the elfproef (11-test)" } },
	{ "000000000,12AB00,2025-03-01", { "t.csv:2: pgn: fails the elfproef (11-test)" } },
	{ "12345678,12AB00,2025-03-01", { "t.csv:2: pgn: must be 9 digits" } },
	{ "1112223330,12AB00,2025-03-01", { "t.csv:2: pgn: must be 9 digits" } },
	{ "11122233X,12AB00,2025-03-01", { "t.csv:2: pgn: must be 9 digits" } },
	{ "\"111 222 333\",12AB00,2025-03-01", { "t.csv:2: pgn: must be 9 digits" } },
	{ "\" " P1 "\",12AB00,2025-03-01", { "t.csv:2: pgn: must be 9 digits" } },
	{ " " P1 " ,12AB00,2025-03-01", { NULL } },
	/* sending_school: BRIN + location, upper case */
	{ P1 ",,2025-03-01", { "t.csv:2: sending_school: is required" } },
	{ P1 ",12ab00,2025-03-01", { NULL } },		/* a spreadsheet lowered it: 12AB00 */
	{ P1 ",1aab00,2025-03-01", { "t.csv:2: sending_school: '1AAB00' " NOT_ID } },
	{ P1 ",12AB0,2025-03-01", { "t.csv:2: sending_school: '12AB0' " NOT_ID } },
	{ P1 ",12AB000,2025-03-01", { "t.csv:2: sending_school: '12AB000' " NOT_ID } },
	{ P1 ",A2AB00,2025-03-01", { "t.csv:2: sending_school: 'A2AB00' " NOT_ID } },
	{ P1 ",1299AA,2025-03-01", { "t.csv:2: sending_school: '1299AA' " NOT_ID } },
	{ P1 ",129900,2025-03-01", { NULL } },
	/* A value never goes into a message raw: control bytes and non-ASCII as '?'. */
	{ P1 ",\"1\x01\xc3\xa9\",2025-03-01", { "t.csv:2: sending_school: '1?\?\?' " NOT_ID } },
	/* registered_on: a real date, not after today */
	{ P1 ",12AB00,", { "t.csv:2: registered_on: is required" } },
	{ P1 ",12AB00,2025-02-30", { "t.csv:2: registered_on: not a real date (YYYY-MM-DD)" } },
	{ P1 ",12AB00,2025-13-01", { "t.csv:2: registered_on: not a real date (YYYY-MM-DD)" } },
	/* day-month-year is a dialect (design.md §8.8): read as 2025-03-01 */
	{ P1 ",12AB00,01-03-2025", { NULL } },
	{ P1 ",12AB00,2025-3-01", { NULL } },
	{ P1 ",12AB00,2025-3-1x", { "t.csv:2: registered_on: not a real date (YYYY-MM-DD)" } },
	{ P1 ",12AB00,2025-03-01T10:00",
	  { "t.csv:2: registered_on: not a real date (YYYY-MM-DD)" } },
	{ P1 ",12AB00,2023-02-29", { "t.csv:2: registered_on: not a real date (YYYY-MM-DD)" } },
	{ P1 ",12AB00,2024-02-29", { NULL } },
	{ P1 ",12AB00,2000-02-29", { NULL } },
	{ P1 ",12AB00,1900-02-29", { "t.csv:2: registered_on: not a real date (YYYY-MM-DD)" } },
	{ P1 ",12AB00," TODAY, { NULL } },
	{ P1 ",12AB00,2025-10-02",
	  { "t.csv:2: registered_on: 2025-10-02 is in the future (today is 2025-10-01)" } },
	{ P1 ",12AB00,2026-01-01",
	  { "t.csv:2: registered_on: 2026-01-01 is in the future (today is 2025-10-01)" } },
	/* every problem of a row, in column order */
	{ "123,12-AB-00,2025-02-30",
	  { "t.csv:2: pgn: must be 9 digits",
	    "t.csv:2: sending_school: '12-AB-00' " NOT_ID,
	    "t.csv:2: registered_on: not a real date (YYYY-MM-DD)" } },
	{ ",,", { NULL } },	/* an empty row: skipped, not an error */
};

static void test_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(k_rules) / sizeof(k_rules[0]); i++) {
		char csv[512];
		int empty = strcmp(k_rules[i].row, ",,") == 0;

		print_message("case %zu: %s\n", i, k_rules[i].row);
		snprintf(csv, sizeof(csv), HDR "%s\n", k_rules[i].row);
		expect(csv, k_rules[i].want, empty ? 0 : 1);
	}
}

/* Values are capped, reported, never allocated to the input's measure. */
static void test_length_caps(void **state)
{
	char csv[12288], v[5000];

	(void)state;
	memset(v, 'x', 64);
	v[64] = '\0';
	snprintf(csv, sizeof(csv), HDR P1 ",%s,2025-03-01\n", v);
	expect(csv, (const char *const[]){ "t.csv:2: sending_school: "
		"'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' " NOT_ID, NULL }, 0);
	strcat(v, "x");
	snprintf(csv, sizeof(csv), HDR P1 ",%s,2025-03-01\n", v);
	expect(csv, (const char *const[]){ "t.csv:2: sending_school: too long (at most 64 "
		"characters)", NULL }, 0);
	snprintf(csv, sizeof(csv), HDR "%s,12AB00,%s\n", v, v);
	expect(csv, (const char *const[]){ "t.csv:2: pgn: too long (at most 64 characters)",
		"t.csv:2: registered_on: too long (at most 64 characters)", NULL }, 0);

	/* A record over 4 KiB stops the import where it starts. */
	memset(v, 'x', 4070);
	v[4070] = '\0';
	snprintf(csv, sizeof(csv), HDR P1 ",12AB00,2025-03-01\n"
		 P2 ",\"12AB00\n%s\n\",2025-03-01\n" P3 ",12AB00,2025-03-01\n", v);
	expect(csv, (const char *const[]){ "t.csv:3: record too long (more than 4096 bytes; an "
		"unclosed quote?)", NULL }, 0);
}

/* registration_row_validate on its own: the daemon's `registration record
 * PGN --from SCHOOL --date D`, where no CSV is involved. */
static void test_validate_direct(void **state)
{
	struct registration_input in = { .line = 42 };
	struct strlist errors = { 0 };
	struct registration_row row;

	(void)state;
	assert_int_equal(registration_row_validate("cli", &in, TODAY, &row, &errors), 3);
	assert_errors(&errors, (const char *const[]){
		"cli:42: pgn: is required",
		"cli:42: sending_school: is required",
		"cli:42: registered_on: is required",
		NULL });
	strlist_clear(&errors);

	/* What passed is filled in, the rest left empty. */
	in.pgn = P2;
	in.sending_school = "12AB00";
	in.registered_on = "2026-01-01";
	assert_int_equal(registration_row_validate("cli", &in, TODAY, &row, &errors), 1);
	assert_errors(&errors, (const char *const[]){
		"cli:42: registered_on: 2026-01-01 is in the future (today is 2025-10-01)", NULL });
	assert_row(&row, 42, P2, "12AB00", "");
	strlist_clear(&errors);

	in.pgn = "123456789";
	in.registered_on = "2025-09-30";
	assert_int_equal(registration_row_validate(NULL, &in, TODAY, &row, &errors), 1);
	assert_errors(&errors, (const char *const[]){
		"-:42: pgn: fails the elfproef (11-test)", NULL });
	assert_row(&row, 42, "", "12AB00", "2025-09-30");
	strlist_clear(&errors);

	in.pgn = P5;
	assert_int_equal(registration_row_validate("cli", &in, TODAY, &row, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_row(&row, 42, P5, "12AB00", "2025-09-30");
	/* out may be NULL: only the verdict. */
	assert_int_equal(registration_row_validate("cli", &in, TODAY, NULL, &errors), 0);

	/* A bad today is the date's problem; NULL is the local date. */
	assert_int_equal(registration_row_validate("cli", &in, "2025-13-01", &row, &errors), 1);
	assert_errors(&errors, (const char *const[]){
		"cli:42: registered_on: cannot be checked: today '2025-13-01' is not a real date",
		NULL });
	strlist_clear(&errors);
	in.registered_on = "2000-01-01";
	assert_int_equal(registration_row_validate("cli", &in, NULL, &row, &errors), 0);
	in.registered_on = "9999-12-31";
	assert_int_equal(registration_row_validate("cli", &in, NULL, &row, &errors), 1);
	strlist_clear(&errors);
}

/* ---- the header ----------------------------------------------------------- */

static void test_header(void **state)
{
	static const struct {
		const char *csv;
		const char *want[4];
		size_t rows;
	} cases[] = {
		{ "pgn,sending_school\n" P1 ",12AB00\n",
		  { "t.csv:1: header: missing required column 'registered_on'" }, 0 },
		{ "sending_school,registered_on\n",
		  { "t.csv:1: header: missing required column 'pgn'" }, 0 },
		{ "pgn,registered_on\n",
		  { "t.csv:1: header: missing required column 'sending_school'" }, 0 },
		{ "pgn,sending_school,registered_on,name\n" P1 ",12AB00,2025-03-01,Sanne\n",
		  { "t.csv:1: header: unknown column 'name' " EXPECTED }, 0 },
		{ "pgn,sending_school,date\n",
		  { "t.csv:1: header: unknown column 'date' " EXPECTED,
		    "t.csv:1: header: missing required column 'registered_on'" }, 0 },
		/* header names in any case (design.md §8.8) */
		{ "PGN,Sending_School,REGISTERED_ON\n", { NULL }, 0 },
		{ "pgn,sending_school,registered_on,pgn\n",
		  { "t.csv:1: header: duplicate column 'pgn'" }, 0 },
		{ "pgn,,registered_on\n",
		  { "t.csv:1: header: column 2 has no name",
		    "t.csv:1: header: missing required column 'sending_school'" }, 0 },
		{ "pgn,sending_school,registered_on,x\xff\x01\n",
		  { "t.csv:1: header: unknown column 'x??\?' " EXPECTED }, 0 },
		{ "", { "t.csv:1: header: missing (the file is empty)" }, 0 },
		{ "\xef\xbb\xbf", { "t.csv:1: header: missing (the file is empty)" }, 0 },
		{ "\xef\xbb\xbf\r\n \r\n\r\n",
		  { "t.csv:1: header: missing (the file is empty)" }, 0 },
		/* The header may be the only line: nothing to import, nothing wrong. */
		{ "pgn,sending_school,registered_on", { NULL }, 0 },
		{ "\xef\xbb\xbfregistered_on,pgn,sending_school\r\n\r\n", { NULL }, 0 },
		/* Blanks around names are dropped, quotes undone. */
		{ " pgn , \"sending_school\" ,registered_on\n" P1 ",12AB00,2025-03-01\n",
		  { NULL }, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		expect(cases[i].csv, cases[i].want, cases[i].rows);
	}
	/* A NUL byte in a column name: no such column. */
	expect_len("pgn,sending_school,registered_on,p\0gn\n", 38, (const char *const[]){
		"t.csv:1: header: unknown column 'p' " EXPECTED, NULL }, 0);
}

/* A wide header: the first columns named, then the count; nothing kept past them. */
static void test_header_wide(void **state)
{
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("pgn,sending_school,registered_on,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n"
			       P1 ",12AB00,2025-03-01,,,,,,,,,,,,,,,,\n", &rows, &n, &errors),
			 -EINVAL);
	assert_int_equal(errors.n, 14);
	assert_string_equal(errors.v[0], "t.csv:1: header: unknown column 'a' " EXPECTED);
	assert_string_equal(errors.v[12], "t.csv:1: header: unknown column 'm' " EXPECTED);
	assert_string_equal(errors.v[13], "t.csv:1: header: 19 columns, at most 16");
	assert_null(rows);
	strlist_clear(&errors);
}

/* Errors go after whatever the caller's list already holds. */
static void test_errors_appended(void **state)
{
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(strlist_addf(&errors, "earlier"), 0);
	assert_int_equal(parse(HDR P1 ",12AB00,2025-03-01\n" P2 ",12AB0,2025-03-01\n", &rows, &n,
			       &errors), -EINVAL);
	assert_errors(&errors, (const char *const[]){ "earlier",
		"t.csv:3: sending_school: '12AB0' " NOT_ID, NULL });
	strlist_clear(&errors);
}

/* ---- shape of the file ---------------------------------------------------- */

static void test_duplicates(void **state)
{
	(void)state;
	/* Same pgn and sending_school: whatever the date or the quoting. */
	expect(HDR P1 ",12AB00,2025-03-01\n"
	       P1 ",34CD01,2025-03-01\n"		/* another school: fine */
	       P2 ",12AB00,2025-03-01\n"		/* another pupil: fine */
	       P1 ",12AB00,2025-03-02\n"
	       "\"" P1 "\", 12AB00 ,2025-03-01\n"
	       P2 ",12AB00,2025-03-05\n",
	       (const char *const[]){
		       "t.csv:5: pgn: duplicate of line 2 (same pgn and sending_school)",
		       "t.csv:6: pgn: duplicate of line 2 (same pgn and sending_school)",
		       "t.csv:7: pgn: duplicate of line 4 (same pgn and sending_school)",
		       NULL }, 0);
	/* A row whose key did not pass is no duplicate: one message per mistake. */
	expect(HDR "123456789,12AB00,2025-03-01\n123456789,12AB00,2025-03-01\n",
	       (const char *const[]){ "t.csv:2: pgn: fails the elfproef (11-test)",
				      "t.csv:3: pgn: fails the elfproef (11-test)", NULL }, 0);
	/* A bad date does not hide a duplicate. */
	expect(HDR P1 ",12AB00,2025-03-01\n" P1 ",12AB00,2099-03-01\n",
	       (const char *const[]){
		       "t.csv:3: registered_on: 2099-03-01 is in the future (today is 2025-10-01)",
		       "t.csv:3: pgn: duplicate of line 2 (same pgn and sending_school)",
		       NULL }, 0);
}

/* A valid BSN from i: "2", i in seven digits, and the check digit that makes
 * the elfproef pass; an i whose check digit would be 10 is skipped. Returns
 * the i used. */
static unsigned bsn(unsigned i, char out[10])
{
	for (;; i++) {
		int sum = 0;

		snprintf(out, 10, "2%07u", i % 10000000);
		for (int k = 0; k < 8; k++)
			sum += (out[k] - '0') * (9 - k);
		if (sum % 11 < 10) {
			out[8] = (char)('0' + sum % 11);
			out[9] = '\0';
			return i;
		}
	}
}

#define MANY_HDR_LEN 34		/* "pgn,sending_school,registered_on\r\n" */
#define MANY_ROW_LEN 29		/* "PPPPPPPPP,12AB00,2025-03-01\r\n" */

/* rows distinct pupils, CRLF, into *buf (caller frees); `date` for every row. */
static void many_rows(size_t rows, const char *date, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	unsigned k = 0;

	assert_non_null(f);
	fputs("pgn,sending_school,registered_on\r\n", f);
	for (size_t i = 0; i < rows; i++) {
		char p[10];

		k = bsn(k, p) + 1;
		fprintf(f, "%s,12AB00,%s\r\n", p, date);
	}
	fclose(f);
}

/* Enough distinct keys to make the duplicate table grow a few times. */
static void test_duplicates_many(void **state)
{
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	char *buf = NULL, *dup;
	size_t len = 0, n = 0;

	(void)state;
	many_rows(5000, "2025-03-01", &buf, &len);
	assert_int_equal(len, MANY_HDR_LEN + 5000 * MANY_ROW_LEN);
	/* Line 4322 once more, at the end (line 5002). */
	dup = malloc(len + MANY_ROW_LEN);
	assert_non_null(dup);
	memcpy(dup, buf, len);
	memcpy(dup + len, buf + MANY_HDR_LEN + 4320 * MANY_ROW_LEN, MANY_ROW_LEN);
	assert_int_equal(registrations_parse_buffer("t.csv", dup, len + MANY_ROW_LEN, TODAY, &rows,
						    &n, &errors, NULL, NULL), -EINVAL);
	assert_errors(&errors, (const char *const[]){
		"t.csv:5002: pgn: duplicate of line 4322 (same pgn and sending_school)", NULL });
	strlist_clear(&errors);
	free(dup);
	free(buf);
}

static void test_field_count(void **state)
{
	(void)state;
	expect(HDR P1 ",12AB00\n"
	       P2 ",12AB00,2025-03-01,x\n"
	       P3 ",12AB00,2025-03-01\n"
	       P4 "\n",
	       (const char *const[]){ "t.csv:2: row has 2 fields, header has 3",
				      "t.csv:3: row has 4 fields, header has 3",
				      "t.csv:5: row has 1 fields, header has 3", NULL }, 0);
}

/* Spreadsheets export rows of bare separators below the data: no data, no error. */
static void test_empty_rows(void **state)
{
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(HDR ",,\n" P1 ",12AB00,2025-03-01\n,,\n,\n \"\" , ,\n"
			       P2 ",12AB00,2025-03-01\n", &rows, &n, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].line, 3);
	assert_int_equal(rows[1].line, 7);
	registrations_free(&rows);
}

static void test_crlf_bom(void **state)
{
	static const char csv[] = "\xef\xbb\xbf" "sending_school,registered_on,pgn\r\n"
		"12AB00,2025-03-01," P1 "\r\n"
		"\"34CD01\",2024-02-29,\"" P2 "\"\r\n"
		"\r\n";
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(csv, &rows, &n, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, 2);
	assert_row(&rows[0], 2, P1, "12AB00", "2025-03-01");
	assert_row(&rows[1], 3, P2, "34CD01", "2024-02-29");
	registrations_free(&rows);
	/* A BOM anywhere but the very start is part of the column name. */
	expect("\xef\xbb\xbf\xef\xbb\xbfpgn,sending_school,registered_on\n",
	       (const char *const[]){ "t.csv:1: header: unknown column '???pgn' " EXPECTED,
		       "t.csv:1: header: missing required column 'pgn'", NULL }, 0);
}

/* Line numbers survive every kind of line break and multi-line records. */
static void test_line_numbers(void **state)
{
	static const char csv[] =
		"\xef\xbb\xbf\n"					/* 1: BOM, blank */
		"  \t \r\n"						/* 2: blanks only */
		HDR							/* 3 */
		P1 ",12AB00,2025-03-01\r"				/* 4: bare CR */
		P2 ",\"12AB00,\r\n"					/* 5 */
		"\n"							/* 6 */
		"x\r\ry\",2025-03-01\r\n"				/* 7, 8, 9 */
		P3 ",12AB00,2025-03-01\n"				/* 10 */
		P4 ",\"a,\nb\",2025-03-01\n"				/* 11, 12 */
		P5 ",12AB00,2025-10-02";				/* 13, no newline */
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	(void)state;
	r = registrations_parse_buffer("t.csv", csv, sizeof(csv) - 1, TODAY, &rows, &n, &errors,
				       NULL, NULL);
	assert_errors(&errors, (const char *const[]){
		"t.csv:5: sending_school: '12AB00,?\?\?x?\?y' " NOT_ID,
		"t.csv:11: sending_school: 'a,?b' " NOT_ID,
		"t.csv:13: registered_on: 2025-10-02 is in the future (today is 2025-10-01)",
		NULL });
	assert_int_equal(r, -EINVAL);
	assert_null(rows);
	strlist_clear(&errors);

	/* Good rows after multi-line records keep their own lines. */
	r = registrations_parse_buffer("t.csv", csv, strstr(csv, P2) - csv, TODAY, &rows, &n,
				       &errors, NULL, NULL);
	assert_int_equal(r, 0);
	assert_int_equal(n, 1);
	assert_row(&rows[0], 4, P1, "12AB00", "2025-03-01");
	registrations_free(&rows);
	expect(HDR P1 ",\"12AB00\",\"2025-\n03-01\"\n" P2 ",12AB00,2025-03-01\n"
	       P3 ",\"12AB\n\n00\",2025-03-01\n" P4 ",12AB00,2099-03-01\n",
	       (const char *const[]){
		       "t.csv:2: registered_on: not a real date (YYYY-MM-DD)",
		       "t.csv:5: sending_school: '12AB??00' " NOT_ID,
		       "t.csv:8: registered_on: 2099-03-01 is in the future (today is 2025-10-01)",
		       NULL }, 0);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *csv;
		const char *line;
	} cases[] = {
		/* An open quote swallows the rest: reported where its record starts. */
		{ HDR P1 ",12AB00,2025-03-01\n"
		  P2 ",\"12AB00,2025-03-01\n"
		  P3 ",12AB00,2025-03-01\n", "3" },
		/* A quote inside an unquoted field. */
		{ HDR P1 ",12\"AB00,2025-03-01\n", "2" },
		/* Text after a closing quote, in a record that began two lines up. */
		{ HDR "\"" P1 "\n\",\"12AB00\"x,2025-03-01\n", "2" },
		/* Malformed in the header. */
		{ "pgn,\"sending_school,registered_on\n", "1" },
	};
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		snprintf(want, sizeof(want), "t.csv:%s: malformed CSV: %s", cases[i].line,
			 csv_strerror(CSV_EPARSE));
		expect(cases[i].csv, (const char *const[]){ want, NULL }, 0);
	}
	/* A header field judged before the quoting breaks is still reported. */
	snprintf(want, sizeof(want), "t.csv:1: malformed CSV: %s", csv_strerror(CSV_EPARSE));
	expect("pgn,school,\"registered_on\"x\n",
	       (const char *const[]){ "t.csv:1: header: unknown column 'school' " EXPECTED, want,
				      NULL }, 0);
}

static void test_nul_byte(void **state)
{
	static const char csv[] = HDR P1 ",12A\0B00,2025-03-01\n"
		P2 ",12AB00,\"2025-03-01\0\"\n";
	static const char two[] = HDR "\"1\0\",12AB0,2025-03-01\n";
	static const char bad_school[] = "t.csv:2: sending_school: '12AB0' " NOT_ID;

	(void)state;
	expect_len(csv, sizeof(csv) - 1, (const char *const[]){
		"t.csv:2: sending_school: contains a NUL byte",
		"t.csv:3: registered_on: contains a NUL byte", NULL }, 0);
	/* The value's own checks give way to the NUL byte, the others stay. */
	expect_len(two, sizeof(two) - 1, (const char *const[]){
		"t.csv:2: pgn: contains a NUL byte", bad_school, NULL }, 0);
}

static void test_bad_today(void **state)
{
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	static const char one[] = HDR P1 ",12AB00,2000-01-01\n";

	(void)state;
	assert_int_equal(registrations_parse_buffer("t.csv", HDR, strlen(HDR), "2025-02-30", &rows,
						    &n, &errors, NULL, NULL), -EINVAL);
	assert_errors(&errors, (const char *const[]){
		"t.csv: today '2025-02-30' is not a real date (YYYY-MM-DD)", NULL });
	strlist_clear(&errors);
	/* NULL: the local date. */
	assert_int_equal(registrations_parse_buffer("t.csv", one, strlen(one), NULL, &rows, &n,
						    &errors, NULL, NULL), 0);
	assert_int_equal(n, 1);
	registrations_free(&rows);
}

/* ---- size ----------------------------------------------------------------- */

/* A file full of mistakes stops at a readable number of messages. */
static void test_too_many_errors(void **state)
{
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	char *buf = NULL;
	size_t len = 0, n = 0;

	(void)state;
	/* One mistake in every row. */
	many_rows(1500, "2025-02-30", &buf, &len);
	assert_int_equal(registrations_parse_buffer("t.csv", buf, len, TODAY, &rows, &n, &errors,
						    NULL, NULL), -EINVAL);
	assert_int_equal(errors.n, 1001);
	assert_string_equal(errors.v[999], "t.csv:1001: registered_on: not a real date "
			    "(YYYY-MM-DD)");
	assert_string_equal(errors.v[1000], "t.csv:1001: too many errors, stopping here");
	assert_null(rows);
	strlist_clear(&errors);
	free(buf);
}

static void test_too_big(void **state)
{
	struct registration_row *rows = (struct registration_row *)1;
	struct strlist errors = { 0 };
	size_t n = 99;

	(void)state;
	/* The size is checked before a byte is read, and before `today`. */
	assert_int_equal(registrations_parse_buffer("t.csv", HDR, ((size_t)64 << 20) + 1, "x",
						    &rows, &n, &errors, NULL, NULL), -EFBIG);
	assert_null(rows);
	assert_int_equal(n, 0);
	assert_int_equal(errors.n, 0);
}

struct progress {
	unsigned calls;
	size_t last_done, last_total;
	int monotonic;
};

static void on_progress(size_t done, size_t total, void *arg)
{
	struct progress *p = arg;

	if (done < p->last_done || done > total)
		p->monotonic = 0;
	p->calls++;
	p->last_done = done;
	p->last_total = total;
}

static void test_many_rows(void **state)
{
	enum { ROWS = 100000 };
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	struct progress prog = { .monotonic = 1 };
	size_t len = 0, n = 0;
	char *buf = NULL, last[10];

	(void)state;
	many_rows(ROWS, "2025-03-01", &buf, &len);
	assert_int_equal(registrations_parse_buffer("big.csv", buf, len, TODAY, &rows, &n, &errors,
						    on_progress, &prog), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, ROWS);
	memcpy(last, buf + len - MANY_ROW_LEN, 9);
	last[9] = '\0';
	assert_row(&rows[ROWS - 1], ROWS + 1, last, "12AB00", "2025-03-01");
	assert_true(prog.calls >= ROWS / 1000);
	assert_true(prog.monotonic);
	assert_int_equal(prog.last_done, len);
	assert_int_equal(prog.last_total, len);
	registrations_free(&rows);
	free(buf);
}

/* One row past the cap: refused, and nothing allocated for it. */
static void test_too_many_rows(void **state)
{
	enum { ROWS = 1000000 };
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t len = 0, n = 0;
	char *buf = NULL;
	char want[128];

	(void)state;
	many_rows(ROWS + 1, "2025-03-01", &buf, &len);
	snprintf(want, sizeof(want), "big.csv:%d: too many rows (at most %d)", ROWS + 2, ROWS);
	assert_int_equal(registrations_parse_buffer("big.csv", buf, len, TODAY, &rows, &n, &errors,
						    NULL, NULL), -EINVAL);
	assert_errors(&errors, (const char *const[]){ want, NULL });
	assert_null(rows);
	strlist_clear(&errors);
	/* Exactly at the cap is fine. */
	assert_int_equal(registrations_parse_buffer("big.csv", buf, len - MANY_ROW_LEN, TODAY,
						    &rows, &n, &errors, NULL, NULL), 0);
	assert_int_equal(n, ROWS);
	registrations_free(&rows);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_length_caps),
		cmocka_unit_test(test_validate_direct),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_wide),
		cmocka_unit_test(test_errors_appended),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_duplicates_many),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_empty_rows),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_bad_today),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_too_many_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
