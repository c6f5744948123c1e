/* test_outcomes: the outcomes CSV import (design.md §8) as an MBO's staff meets it:
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

#include <cmocka.h>

#include "outcomes.h"

#define TODAY "2025-10-01"
#define ID(n) "0190a5b4-7c2e-7a3b-9f00-00000000000" #n
#define HDR "record_id,event,date,level\n"
#define EVENTS "registered, agreement_offered, not_enrolled, withdrawn, enrolled, " \
	"intake_held, still_enrolled, diploma, progressed, switched, left_without_diploma"

/* ---- helpers -------------------------------------------------------------- */

static const char *data_path(const char *file)
{
	static char path[4096];
	const char *dir = getenv("OVERSTAP_TEST_DATA");

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return path;
}

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

static int parse(const char *csv, struct outcome_row **rows, size_t *n, struct strlist *errors)
{
	return outcomes_parse_buffer("t.csv", csv, strlen(csv), TODAY, rows, n, errors, NULL,
				     NULL);
}

/* Parse csv, expect exactly want (none = success with nrows rows); frees all. */
static void expect(const char *csv, const char *const *want, size_t nrows)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 99;	/* must be reset */
	int r = parse(csv, &rows, &n, &errors);

	assert_errors(&errors, want);
	if (want[0]) {
		assert_int_equal(r, -EINVAL);
		assert_null(rows);
		assert_int_equal(n, 0);
	} else {
		assert_int_equal(r, 0);
		assert_int_equal(n, nrows);
	}
	outcomes_free(&rows);
	strlist_clear(&errors);
}

static void assert_row(const struct outcome_row *r, unsigned line, const char *id,
		       enum outcome_event ev, const char *date, int level)
{
	assert_int_equal(r->line, line);
	assert_string_equal(r->record_id, id);
	assert_int_equal(r->event, ev);
	assert_string_equal(r->date, date);
	assert_int_equal(r->level, level);
}

/* ---- the vocabulary ------------------------------------------------------- */

static void test_events(void **state)
{
	char list[512] = "";

	(void)state;
	for (int i = OUTCOME_EV_UNKNOWN + 1; i < OUTCOME_EV_COUNT; i++) {
		const char *s = outcome_event_str((enum outcome_event)i);

		assert_non_null(s);
		assert_int_equal(outcome_event_from_str(s), i);
		/* design.md §3: the six statuses come first, then the five outcomes. */
		assert_int_equal(outcome_event_is_status((enum outcome_event)i),
				 i <= OUTCOME_EV_INTAKE_HELD);
		assert_int_equal(outcome_event_needs_level((enum outcome_event)i),
				 i == OUTCOME_EV_DIPLOMA || i == OUTCOME_EV_PROGRESSED);
		if (i > 1)
			strcat(list, ", ");
		strcat(list, s);
	}
	/* The literal list and the table agree. */
	assert_string_equal(outcome_event_list(), list);
	assert_string_equal(list, EVENTS);

	assert_int_equal(outcome_event_from_str("Enrolled"), OUTCOME_EV_UNKNOWN);
	assert_int_equal(outcome_event_from_str(""), OUTCOME_EV_UNKNOWN);
	assert_int_equal(outcome_event_from_str(NULL), OUTCOME_EV_UNKNOWN);
	assert_null(outcome_event_str(OUTCOME_EV_UNKNOWN));
	assert_null(outcome_event_str(OUTCOME_EV_COUNT));
	assert_null(outcome_event_str((enum outcome_event)-1));
	assert_false(outcome_event_is_status(OUTCOME_EV_UNKNOWN));
	assert_false(outcome_event_is_status(OUTCOME_EV_COUNT));
	assert_false(outcome_event_needs_level(OUTCOME_EV_UNKNOWN));
	assert_true(outcome_event_is_status(OUTCOME_EV_INTAKE_HELD));
	assert_false(outcome_event_is_status(OUTCOME_EV_STILL_ENROLLED));
}

/* ---- a good file ---------------------------------------------------------- */

static void test_good_file(void **state)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	(void)state;
	/* BOM, CRLF, another column order, quoted values, a blank line, blanks
	 * around unquoted values, a date equal to today, a blank last line. */
	r = outcomes_parse_file(data_path("outcomes_good.csv"), TODAY, &rows, &n, &errors, NULL,
				NULL);
	assert_errors(&errors, (const char *const[]){ NULL });
	assert_int_equal(r, 0);
	assert_int_equal(n, 13);
	assert_row(&rows[0], 2, ID(1), OUTCOME_EV_REGISTERED, "2025-03-01", 0);
	assert_row(&rows[1], 3, ID(1), OUTCOME_EV_AGREEMENT_OFFERED, "2025-04-15", 0);
	assert_row(&rows[2], 4, ID(2), OUTCOME_EV_NOT_ENROLLED, "2025-05-01", 0);
	assert_row(&rows[3], 6, ID(2), OUTCOME_EV_WITHDRAWN, "2025-05-02", 0);
	assert_row(&rows[4], 7, ID(1), OUTCOME_EV_INTAKE_HELD, "2025-06-01", 0);
	assert_row(&rows[5], 8, ID(1), OUTCOME_EV_ENROLLED, "2025-08-25", 0);
	assert_row(&rows[6], 9, ID(1), OUTCOME_EV_STILL_ENROLLED, TODAY, 0);
	assert_row(&rows[7], 10, ID(3), OUTCOME_EV_DIPLOMA, "2025-07-10", 2);
	assert_row(&rows[8], 11, ID(3), OUTCOME_EV_PROGRESSED, "2025-08-20", 3);
	assert_row(&rows[9], 12, ID(4), OUTCOME_EV_SWITCHED, "2025-09-01", 0);
	assert_row(&rows[10], 13, ID(5), OUTCOME_EV_LEFT_WITHOUT_DIPLOMA, "2025-09-15", 0);
	/* A leap day; the same event on another date is not a duplicate. */
	assert_row(&rows[11], 14, ID(6), OUTCOME_EV_DIPLOMA, "2024-02-29", 4);
	assert_row(&rows[12], 15, ID(6), OUTCOME_EV_DIPLOMA, "2024-03-01", 4);
	outcomes_free(&rows);
	assert_null(rows);
	outcomes_free(&rows);	/* NULL is fine */
	outcomes_free(NULL);
	strlist_clear(&errors);
}

/* ---- a bad file ----------------------------------------------------------- */

static void want_add(char **slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void want_add(char **slot, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(slot, fmt, ap) > 0);
	va_end(ap);
}

static void test_bad_file(void **state)
{
	const char *path = data_path("outcomes_bad.csv");
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	char *want[12] = { NULL };
	size_t n = 99;	/* must be reset */
	int r, i = 0;

	(void)state;
	/* Line 3's record id in capitals is read in lower case (design.md §8.8). */
	want_add(&want[i++], "%s:4: event: unknown value 'graduated' (expected one of: %s)", path,
		 EVENTS);
	/* Lines 5-6 are one record: a quoted comma and line break in `event`. */
	want_add(&want[i++], "%s:5: event: unknown value 'enrolled,?late' (expected one of: %s)",
		 path, EVENTS);
	want_add(&want[i++], "%s:7: date: 2099-01-01 is in the future (today is 2025-10-01)", path);
	want_add(&want[i++], "%s:8: date: not a real date (YYYY-MM-DD)", path);
	want_add(&want[i++], "%s:9: level: required for event diploma (MBO level 1-4)", path);
	want_add(&want[i++], "%s:10: level: '5' is not an MBO level (1-4)", path);
	want_add(&want[i++], "%s:11: level: must be empty for event enrolled (only diploma and "
		 "progressed have a level)", path);
	want_add(&want[i++], "%s:12: row has 3 fields, header has 4", path);
	want_add(&want[i++], "%s:13: record_id: duplicate of line 2 (same record_id, event and "
		 "date)", path);

	r = outcomes_parse_file(path, TODAY, &rows, &n, &errors, NULL, NULL);
	assert_int_equal(i, 9);
	assert_errors(&errors, (const char *const *)want);
	assert_int_equal(r, -EINVAL);
	assert_null(rows);
	assert_int_equal(n, 0);
	strlist_clear(&errors);
	for (i = 0; want[i]; i++)
		free(want[i]);
}

static void test_file_errors(void **state)
{
	struct outcome_row *rows = (struct outcome_row *)1;	/* must be reset */
	struct strlist errors = { 0 };
	size_t n = 99;

	(void)state;
	assert_int_equal(outcomes_parse_file(data_path("no_such_file.csv"), TODAY, &rows, &n,
					     &errors, NULL, NULL), -ENOENT);
	assert_null(rows);
	assert_int_equal(n, 0);
	assert_int_equal(errors.n, 0);
}

/* ---- each validation rule ------------------------------------------------- */

struct rule_case {
	const char *row;	/* one data row under HDR, line 2 */
	const char *want[5];	/* the messages, NULL-terminated; none = valid */
};

static const struct rule_case k_rules[] = {
	{ ID(1) ",enrolled,2025-08-25,", { NULL } },
	/* record_id */
	{ ",enrolled,2025-08-25,", { "t.csv:2: record_id: is required" } },
	{ "0190a5b4-7c2e-7a3b-9f00-00000000000,enrolled,2025-08-25,",
	  { "t.csv:2: record_id: '0190a5b4-7c2e-7a3b-9f00-00000000...' is not a record id "
	    "(a lower-case UUID, 8-4-4-4-12 hex digits)" } },
	{ "{0190a5b4-7c2e-7a3b-9f00-000000000001},enrolled,2025-08-25,",
	  { "t.csv:2: record_id: '{0190a5b4-7c2e-7a3b-9f00-0000000...' is not a record id "
	    "(a lower-case UUID, 8-4-4-4-12 hex digits)" } },
	{ "0190a5b47c2e7a3b9f00000000000001,enrolled,2025-08-25,",
	  { "t.csv:2: record_id: '0190a5b47c2e7a3b9f00000000000001' is not a record id "
	    "(a lower-case UUID, 8-4-4-4-12 hex digits)" } },
	{ "P001,enrolled,2025-08-25,",
	  { "t.csv:2: record_id: 'P001' is not a record id (a lower-case UUID, 8-4-4-4-12 hex "
	    "digits)" } },
	/* A value never goes into a message raw: control bytes and non-ASCII as '?'. */
	{ "\"a\x01\xc3\xa9\",enrolled,2025-08-25,",
	  { "t.csv:2: record_id: 'a?\?\?' is not a record id (a lower-case UUID, 8-4-4-4-12 hex "
	    "digits)" } },
	/* event */
	{ ID(1) ",,2025-08-25,", { "t.csv:2: event: is required" } },
	/* any case, trimmed, and Dutch (design.md §8.8) */
	{ ID(1) ",Enrolled,2025-08-25,", { NULL } },
	{ ID(1) ",\" enrolled\",2025-08-25,", { NULL } },
	{ ID(1) ",Ingeschreven,25-8-2025,", { NULL } },
	{ "0190A5B4-7C2E-7A3B-9F00-000000000001,enrolled,2025-08-25,", { NULL } },
	{ ID(1) ",Ingeschrevn,2025-08-25,",
	  { "t.csv:2: event: unknown value 'Ingeschrevn' (expected one of: " EVENTS ")" } },
	{ ID(1) ", enrolled ,2025-08-25,", { NULL } },
	/* date */
	{ ID(1) ",enrolled,,", { "t.csv:2: date: is required" } },
	{ ID(1) ",enrolled,2025-02-30,", { "t.csv:2: date: not a real date (YYYY-MM-DD)" } },
	{ ID(1) ",enrolled,2025-13-01,", { "t.csv:2: date: not a real date (YYYY-MM-DD)" } },
	/* day-month-year, and one digit, are dialects (design.md §8.8) */
	{ ID(1) ",enrolled,25-08-2025,", { NULL } },
	{ ID(1) ",enrolled,2025-8-25,", { NULL } },
	{ ID(1) ",enrolled,2025-8-25x,", { "t.csv:2: date: not a real date (YYYY-MM-DD)" } },
	{ ID(1) ",enrolled,2023-02-29,", { "t.csv:2: date: not a real date (YYYY-MM-DD)" } },
	{ ID(1) ",enrolled,2024-02-29,", { NULL } },
	{ ID(1) ",enrolled," TODAY ",", { NULL } },
	{ ID(1) ",enrolled,2025-10-02,",
	  { "t.csv:2: date: 2025-10-02 is in the future (today is 2025-10-01)" } },
	/* level */
	{ ID(1) ",diploma,2025-07-01,1", { NULL } },
	{ ID(1) ",progressed,2025-07-01,4", { NULL } },
	{ ID(1) ",diploma,2025-07-01,",
	  { "t.csv:2: level: required for event diploma (MBO level 1-4)" } },
	{ ID(1) ",progressed,2025-07-01,",
	  { "t.csv:2: level: required for event progressed (MBO level 1-4)" } },
	{ ID(1) ",diploma,2025-07-01,5", { "t.csv:2: level: '5' is not an MBO level (1-4)" } },
	{ ID(1) ",diploma,2025-07-01,0", { "t.csv:2: level: '0' is not an MBO level (1-4)" } },
	{ ID(1) ",diploma,2025-07-01,02", { "t.csv:2: level: '02' is not an MBO level (1-4)" } },
	/* the staff's spelling (design.md §8.8) */
	{ ID(1) ",diploma,2025-07-01,mbo-2", { NULL } },
	{ ID(1) ",diploma,2025-07-01,Niveau 4", { NULL } },
	{ ID(1) ",diploma,2025-07-01,mbo-5", { "t.csv:2: level: 'mbo-5' is not an MBO level (1-4)" } },
	{ ID(1) ",enrolled,2025-08-25,2",
	  { "t.csv:2: level: must be empty for event enrolled (only diploma and progressed have "
	    "a level)" } },
	{ ID(1) ",left_without_diploma,2025-08-25,2",
	  { "t.csv:2: level: must be empty for event left_without_diploma (only diploma and "
	    "progressed have a level)" } },
	/* An unknown event: the level is judged on its own. */
	{ ID(1) ",graduated,2025-07-01,3",
	  { "t.csv:2: event: unknown value 'graduated' (expected one of: " EVENTS ")" } },
	{ ID(1) ",graduated,2025-07-01,9",
	  { "t.csv:2: event: unknown value 'graduated' (expected one of: " EVENTS ")",
	    "t.csv:2: level: '9' is not an MBO level (1-4)" } },
	/* every problem of a row, in column order */
	{ "x,,2025-02-30,7",
	  { "t.csv:2: record_id: 'x' is not a record id (a lower-case UUID, 8-4-4-4-12 hex "
	    "digits)",
	    "t.csv:2: event: is required",
	    "t.csv:2: date: not a real date (YYYY-MM-DD)",
	    "t.csv:2: level: '7' is not an MBO level (1-4)" } },
};

static void test_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(k_rules) / sizeof(k_rules[0]); i++) {
		char csv[512];

		print_message("case %zu: %s\n", i, k_rules[i].row);
		snprintf(csv, sizeof(csv), HDR "%s\n", k_rules[i].row);
		expect(csv, k_rules[i].want, 1);
	}
}

/* Values are capped, reported, never allocated to the input's measure. */
static void test_length_caps(void **state)
{
	char csv[8192], v[5000];

	(void)state;
	memset(v, 'x', 64);
	v[64] = '\0';
	snprintf(csv, sizeof(csv), HDR ID(1) ",%s,2025-08-25,\n", v);
	expect(csv, (const char *const[]){ "t.csv:2: event: unknown value "
		"'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (expected one of: " EVENTS ")", NULL }, 0);
	strcat(v, "x");
	snprintf(csv, sizeof(csv), HDR ID(1) ",%s,2025-08-25,\n", v);
	expect(csv, (const char *const[]){ "t.csv:2: event: too long (at most 64 characters)",
					   NULL }, 0);
	snprintf(csv, sizeof(csv), HDR ID(1) ",enrolled,2025-08-25,%s\n", v);
	expect(csv, (const char *const[]){ "t.csv:2: level: too long (at most 64 characters)",
					   NULL }, 0);

	/* A record over 4 KiB stops the import where it starts. */
	memset(v, 'x', 4070);
	v[4070] = '\0';
	snprintf(csv, sizeof(csv), HDR ID(1) ",enrolled,2025-08-25,\n"
		 ID(2) ",\"enrolled\n%s\n\",2025-08-25,\n" ID(3) ",enrolled,2025-08-25,\n", v);
	expect(csv, (const char *const[]){ "t.csv:3: record too long (more than 4096 bytes; an "
		"unclosed quote?)", NULL }, 0);
}

/* outcome_row_validate on its own: the CLI's `registration status` and `outcome
 * record`, and the daemon re-checking what comes over the control socket. */
static void test_validate_direct(void **state)
{
	struct outcome_input in = { .line = 42 };
	struct strlist errors = { 0 };
	struct outcome_row row;

	(void)state;
	assert_int_equal(outcome_row_validate("cli", &in, TODAY, &row, &errors), 3);
	assert_errors(&errors, (const char *const[]){
		"cli:42: record_id: is required",
		"cli:42: event: is required",
		"cli:42: date: is required",
		NULL });
	strlist_clear(&errors);

	/* What passed is filled in, the rest left empty. */
	in.record_id = ID(7);
	in.event = "progressed";
	in.date = "2026-01-01";
	assert_int_equal(outcome_row_validate("cli", &in, TODAY, &row, &errors), 2);
	assert_errors(&errors, (const char *const[]){
		"cli:42: date: 2026-01-01 is in the future (today is 2025-10-01)",
		"cli:42: level: required for event progressed (MBO level 1-4)",
		NULL });
	assert_string_equal(row.record_id, ID(7));
	assert_int_equal(row.event, OUTCOME_EV_PROGRESSED);
	assert_string_equal(row.date, "");
	assert_int_equal(row.level, 0);
	strlist_clear(&errors);

	in.date = "2025-09-30";
	in.level = "2";
	assert_int_equal(outcome_row_validate("cli", &in, TODAY, &row, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_row(&row, 42, ID(7), OUTCOME_EV_PROGRESSED, "2025-09-30", 2);
	assert_int_equal(outcome_row_validate(NULL, &in, TODAY, NULL, &errors), 0);

	/* today NULL: the local date, which is past 2000 and before 9999. */
	in.date = "2000-01-01";
	assert_int_equal(outcome_row_validate("cli", &in, NULL, &row, &errors), 0);
	in.date = "9999-12-31";
	assert_int_equal(outcome_row_validate("cli", &in, NULL, &row, &errors), 1);
	assert_int_equal(errors.n, 1);
	strlist_clear(&errors);

	/* A bad today is the caller's mistake, and still reported. */
	in.date = "2025-09-30";
	assert_int_equal(outcome_row_validate(NULL, &in, "2025-9-1", &row, &errors), 1);
	assert_errors(&errors, (const char *const[]){
		"-:42: date: cannot be checked: today '2025-9-1' is not a real date", NULL });
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
		{ "record_id,event,level\n" ID(1) ",enrolled,\n",
		  { "t.csv:1: header: missing required column 'date'" }, 0 },
		/* record_id or pgn: a file with neither is refused row by row */
		{ "event,date\n" "enrolled,2025-08-25\n", { "t.csv:2: record_id: is required" }, 0 },
		{ "record_id,event,date,level,note\n" ID(1) ",enrolled,2025-08-25,,hi\n",
		  { "t.csv:1: header: unknown column 'note' (expected: record_id, pgn, event, "
		    "date, level)" }, 0 },
		{ "record_id,event,date,event\n",
		  { "t.csv:1: header: duplicate column 'event'" }, 0 },
		{ "record_id,,date,level\n",
		  { "t.csv:1: header: column 2 has no name",
		    "t.csv:1: header: missing required column 'event'" }, 0 },
		/* header names in any case (design.md §8.8) */
		{ "Record_ID,EVENT,Date\n", { NULL }, 0 },
		{ "record_id,event,date,x\xff\x01\n",
		  { "t.csv:1: header: unknown column 'x??\?' (expected: record_id, pgn, event, "
		    "date, level)" }, 0 },
		{ "record_id,event,date,level,level\n",
		  { "t.csv:1: header: duplicate column 'level'" }, 0 },
		{ "", { "t.csv:1: header: missing (the file is empty)" }, 0 },
		{ "\xef\xbb\xbf", { "t.csv:1: header: missing (the file is empty)" }, 0 },
		{ "\xef\xbb\xbf\r\n \r\n\r\n", { "t.csv:1: header: missing (the file is empty)" }, 0 },
		/* The header may be the only line: nothing to import, nothing wrong. */
		{ "record_id,event,date,level", { NULL }, 0 },
		{ "\xef\xbb\xbfrecord_id,event,date\r\n\r\n", { NULL }, 0 },
		/* level is optional in the header, until a row needs one. */
		{ "event,record_id,date\n" "enrolled," ID(1) ",2025-08-25\n", { NULL }, 1 },
		{ "date,event,record_id\n" "2025-07-01,diploma," ID(1) "\n",
		  { "t.csv:2: level: required for event diploma (MBO level 1-4)" }, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		expect(cases[i].csv, cases[i].want, cases[i].rows);
	}
}

/* A wide header: the first columns named, then the count; nothing kept past them. */
static void test_header_wide(void **state)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("record_id,event,date,level,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o\n"
			       ID(1) ",enrolled,2025-08-25,,,,,,,,,,,,,,,,\n", &rows, &n, &errors),
			 -EINVAL);
	assert_int_equal(errors.n, 13);
	assert_string_equal(errors.v[0], "t.csv:1: header: unknown column 'a' (expected: record_id, "
			    "pgn, event, date, level)");
	assert_string_equal(errors.v[11], "t.csv:1: header: unknown column 'l' (expected: "
			    "record_id, pgn, event, date, level)");
	assert_string_equal(errors.v[12], "t.csv:1: header: 19 columns, at most 16");
	assert_null(rows);
	strlist_clear(&errors);
}

static void test_header_only(void **state)
{
	struct outcome_row *rows = (struct outcome_row *)1;	/* must be reset */
	struct strlist errors = { 0 };
	size_t n = 99;

	(void)state;
	assert_int_equal(parse(HDR, &rows, &n, &errors), 0);
	assert_null(rows);
	assert_int_equal(n, 0);
	assert_int_equal(errors.n, 0);
}

/* Errors go after whatever the caller's list already holds. */
static void test_errors_appended(void **state)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(strlist_addf(&errors, "earlier"), 0);
	assert_int_equal(parse(HDR ID(1) ",enrolled,2025-08-25,\n" ID(1) ",x,2025-08-25,\n",
			       &rows, &n, &errors), -EINVAL);
	assert_errors(&errors, (const char *const[]){ "earlier",
		"t.csv:3: event: unknown value 'x' (expected one of: " EVENTS ")", NULL });
	strlist_clear(&errors);
}

/* ---- shape of the file ---------------------------------------------------- */

static void test_duplicates(void **state)
{
	(void)state;
	/* Same record_id, event and date: whatever the level or the quoting. */
	expect(HDR ID(1) ",enrolled,2025-08-25,\n"
	       ID(2) ",enrolled,2025-08-25,\n"
	       ID(1) ",enrolled,2025-08-26,\n"
	       ID(1) ",intake_held,2025-08-25,\n"
	       "\"" ID(1) "\",enrolled, 2025-08-25 ,\n"
	       ID(3) ",diploma,2025-07-01,2\n"
	       ID(3) ",diploma,2025-07-01,3\n"
	       ID(1) ",enrolled,2025-08-25,\n",
	       (const char *const[]){
		       "t.csv:6: record_id: duplicate of line 2 (same record_id, event and date)",
		       "t.csv:8: record_id: duplicate of line 7 (same record_id, event and date)",
		       "t.csv:9: record_id: duplicate of line 2 (same record_id, event and date)",
		       NULL }, 0);
	/* A row whose key did not pass is no duplicate: one message per mistake. */
	expect(HDR ID(1) ",enrolled,2025-13-01,\n" ID(1) ",enrolled,2025-13-01,\n",
	       (const char *const[]){ "t.csv:2: date: not a real date (YYYY-MM-DD)",
				      "t.csv:3: date: not a real date (YYYY-MM-DD)", NULL }, 0);
	/* A bad level does not hide a duplicate. */
	expect(HDR ID(1) ",enrolled,2025-08-25,\n" ID(1) ",enrolled,2025-08-25,2\n",
	       (const char *const[]){
		       "t.csv:3: level: must be empty for event enrolled (only diploma and "
		       "progressed have a level)",
		       "t.csv:3: record_id: duplicate of line 2 (same record_id, event and date)",
		       NULL }, 0);
}

/* Enough distinct keys to make the duplicate table grow a few times. */
static void test_duplicates_many(void **state)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	fputs(HDR, f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "0190a5b4-7c2e-7a3b-9f00-%012d,enrolled,2025-08-25,\n", i);
	fprintf(f, "0190a5b4-7c2e-7a3b-9f00-%012d,enrolled,2025-08-25,\n", 4321);
	fclose(f);
	assert_int_equal(outcomes_parse_buffer("t.csv", buf, len, TODAY, &rows, &n, &errors, NULL,
					       NULL), -EINVAL);
	assert_errors(&errors, (const char *const[]){
		"t.csv:5002: record_id: duplicate of line 4323 (same record_id, event and date)",
		NULL });
	strlist_clear(&errors);
	free(buf);
}

static void test_field_count(void **state)
{
	(void)state;
	expect(HDR ID(1) ",enrolled,2025-08-25\n"
	       ID(2) ",enrolled,2025-08-25,,x\n"
	       ID(3) ",enrolled,2025-08-25,\n"
	       ID(4) "\n",
	       (const char *const[]){ "t.csv:2: row has 3 fields, header has 4",
				      "t.csv:3: row has 5 fields, header has 4",
				      "t.csv:5: row has 1 fields, header has 4", NULL }, 0);
}

/* Spreadsheets export rows of bare separators below the data: no data, no error. */
static void test_empty_rows(void **state)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(HDR ",,,\n" ID(1) ",enrolled,2025-08-25,\n,,,\n,,\n \"\" , ,,\n"
			       ID(2) ",enrolled,2025-08-25,\n", &rows, &n, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].line, 3);
	assert_int_equal(rows[1].line, 7);
	outcomes_free(&rows);
}

static void test_crlf_bom(void **state)
{
	static const char csv[] = "\xef\xbb\xbf" "level,date,event,record_id\r\n"
		",2025-08-25,enrolled," ID(1) "\r\n"
		"2,2025-07-01,diploma,\"" ID(2) "\"\r\n"
		"\r\n";
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(csv, &rows, &n, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, 2);
	assert_row(&rows[0], 2, ID(1), OUTCOME_EV_ENROLLED, "2025-08-25", 0);
	assert_row(&rows[1], 3, ID(2), OUTCOME_EV_DIPLOMA, "2025-07-01", 2);
	outcomes_free(&rows);
	/* A BOM anywhere but the very start is part of the column name. */
	expect("\xef\xbb\xbf\xef\xbb\xbfrecord_id,event,date\n",
	       (const char *const[]){ "t.csv:1: header: unknown column '?\?\?record_id' "
		       "(expected: record_id, pgn, event, date, level)", NULL }, 0);
}

/* The MBO's own key (design.md §8.2): a pgn column in place of record_id,
 * one of the two per row, checked by the elfproef and never echoed. */
static void test_pgn_column(void **state)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("pgn,event,date,level\n"
			       "123456782,enrolled,2025-08-25,\n"
			       "123456782,diploma,2025-07-01,2\n", &rows, &n, &errors), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].pgn, "123456782");
	assert_string_equal(rows[0].record_id, "");
	assert_int_equal(rows[1].event, OUTCOME_EV_DIPLOMA);
	outcomes_free(&rows);
	/* as the MBO's system names it: BSN (before: ignored, and record_id missing) */
	assert_int_equal(parse("BSN;Gebeurtenis;Datum\n123456782;Ingeschreven;25-08-2025\n", &rows,
			       &n, &errors), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].pgn, "123456782");
	assert_int_equal(rows[0].event, OUTCOME_EV_ENROLLED);
	outcomes_free(&rows);
	/* both columns: each row gives one of the two */
	expect("record_id,pgn,event,date\n" ID(1) ",,enrolled,2025-08-25\n"
	       ",123456782,enrolled,2025-08-25\n", (const char *const[]){ NULL }, 2);
	expect("record_id,pgn,event,date\n" ID(1) ",123456782,enrolled,2025-08-25\n"
	       ",,enrolled,2025-08-25\n"
	       ",123456789,enrolled,2025-08-25\n"
	       ",12345,enrolled,2025-08-25\n",
	       (const char *const[]){
		       "t.csv:2: pgn: give record_id or pgn, not both",
		       "t.csv:3: record_id: is required",
		       "t.csv:4: pgn: fails the elfproef (11-test)",
		       "t.csv:5: pgn: must be 9 digits", NULL }, 0);
	/* a repeated (pgn, event, date) is a duplicate as a repeated record id is */
	expect("pgn,event,date\n123456782,enrolled,2025-08-25\n123456782,enrolled,2025-08-25\n",
	       (const char *const[]){ "t.csv:3: record_id: duplicate of line 2 (same record_id, "
				      "event and date)", NULL }, 0);
}

/* Line numbers survive every kind of line break and multi-line records. */
static void test_line_numbers(void **state)
{
	static const char csv[] =
		"\xef\xbb\xbf\n"					/* 1: BOM, blank */
		"  \t \r\n"						/* 2: blanks only */
		HDR							/* 3 */
		ID(1) ",enrolled,2025-08-25,\r"				/* 4: bare CR */
		ID(2) ",\"enrolled,\r\n"				/* 5 */
		"\n"							/* 6 */
		"x\r\ry\",2025-08-25,\r\n"				/* 7, 8, 9 */
		ID(3) ",enrolled,2025-08-25,\n"				/* 10 */
		ID(4) ",\"a,\nb\",2025-08-25,\n"			/* 11, 12 */
		ID(5) ",enrolled,2025-10-02,";				/* 13, no newline */
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	(void)state;
	r = outcomes_parse_buffer("t.csv", csv, sizeof(csv) - 1, TODAY, &rows, &n, &errors, NULL,
				  NULL);
	assert_errors(&errors, (const char *const[]){
		"t.csv:5: event: unknown value 'enrolled,?\?\?x?\?y' (expected one of: " EVENTS ")",
		"t.csv:11: event: unknown value 'a,?b' (expected one of: " EVENTS ")",
		"t.csv:13: date: 2025-10-02 is in the future (today is 2025-10-01)",
		NULL });
	assert_int_equal(r, -EINVAL);
	assert_null(rows);
	strlist_clear(&errors);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *csv;
		const char *line;
	} cases[] = {
		/* An open quote swallows the rest: reported where its record starts. */
		{ HDR ID(1) ",enrolled,2025-08-25,\n"
		  ID(2) ",\"enrolled,2025-08-25,\n"
		  ID(3) ",enrolled,2025-08-25,\n", "3" },
		/* A quote inside an unquoted field. */
		{ HDR ID(1) ",enr\"olled,2025-08-25,\n", "2" },
		/* Text after a closing quote, in a record that began two lines up. */
		{ HDR "\"" ID(1) "\n\",\"enrolled\"x,2025-08-25,\n", "2" },
		/* Malformed in the header. */
		{ "record_id,\"event,date\n", "1" },
	};
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		snprintf(want, sizeof(want), "t.csv:%s: malformed CSV: %s", cases[i].line,
			 csv_strerror(CSV_EPARSE));
		expect(cases[i].csv, (const char *const[]){ want, NULL }, 0);
	}
}

static void test_nul_byte(void **state)
{
	static const char csv[] = HDR ID(1) ",enr\0olled,2025-08-25,\n"
		ID(2) ",enrolled,2025-08-25,\"2\0\"\n";
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(outcomes_parse_buffer("t.csv", csv, sizeof(csv) - 1, TODAY, &rows, &n,
					       &errors, NULL, NULL), -EINVAL);
	assert_errors(&errors, (const char *const[]){ "t.csv:2: event: contains a NUL byte",
						      "t.csv:3: level: contains a NUL byte",
						      NULL });
	strlist_clear(&errors);
}

static void test_bad_today(void **state)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(outcomes_parse_buffer("t.csv", HDR, strlen(HDR), "2025-02-30", &rows, &n,
					       &errors, NULL, NULL), -EINVAL);
	assert_errors(&errors, (const char *const[]){
		"t.csv: today '2025-02-30' is not a real date (YYYY-MM-DD)", NULL });
	strlist_clear(&errors);
	/* NULL: the local date. */
	assert_int_equal(outcomes_parse_buffer("t.csv", HDR ID(1) ",enrolled,2000-01-01,\n",
					       strlen(HDR ID(1) ",enrolled,2000-01-01,\n"), NULL,
					       &rows, &n, &errors, NULL, NULL), 0);
	assert_int_equal(n, 1);
	outcomes_free(&rows);
}

/* ---- size ----------------------------------------------------------------- */

/* A file full of mistakes stops at a readable number of messages. */
static void test_too_many_errors(void **state)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	fputs(HDR, f);
	for (int i = 0; i < 1500; i++)
		fprintf(f, "0190a5b4-7c2e-7a3b-9f00-%012d,enroled,2025-08-25,\n", i);
	fclose(f);
	assert_int_equal(outcomes_parse_buffer("t.csv", buf, len, TODAY, &rows, &n, &errors, NULL,
					       NULL), -EINVAL);
	assert_int_equal(errors.n, 1001);
	assert_string_equal(errors.v[1000], "t.csv:1001: too many errors, stopping here");
	assert_null(rows);
	strlist_clear(&errors);
	free(buf);
}

static void test_too_big(void **state)
{
	struct outcome_row *rows = (struct outcome_row *)1;
	struct strlist errors = { 0 };
	size_t n = 99;

	(void)state;
	/* The size is checked before a byte is read. */
	assert_int_equal(outcomes_parse_buffer("t.csv", HDR, ((size_t)64 << 20) + 1, TODAY, &rows,
					       &n, &errors, NULL, NULL), -EFBIG);
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

/* rows data rows with distinct record ids, CRLF, into *buf (caller frees). */
static void many_rows(size_t rows, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	assert_non_null(f);
	fputs("record_id,event,date\r\n", f);
	for (size_t i = 0; i < rows; i++)
		fprintf(f, "0190a5b4-7c2e-7a3b-9f00-%012zu,enrolled,2025-08-25\r\n", i);
	fclose(f);
}

static void test_many_rows(void **state)
{
	enum { ROWS = 100000 };
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	struct progress prog = { .monotonic = 1 };
	size_t len = 0, n = 0;
	char *buf = NULL;

	(void)state;
	many_rows(ROWS, &buf, &len);
	assert_int_equal(outcomes_parse_buffer("big.csv", buf, len, TODAY, &rows, &n, &errors,
					       on_progress, &prog), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, ROWS);
	assert_row(&rows[ROWS - 1], ROWS + 1, "0190a5b4-7c2e-7a3b-9f00-000000099999",
		   OUTCOME_EV_ENROLLED, "2025-08-25", 0);
	assert_true(prog.calls >= ROWS / 1000);
	assert_true(prog.monotonic);
	assert_int_equal(prog.last_done, len);
	assert_int_equal(prog.last_total, len);
	outcomes_free(&rows);
	free(buf);
}

/* One row past the cap: refused, and nothing allocated for it. */
static void test_too_many_rows(void **state)
{
	enum { ROWS = 1000000 };
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t len = 0, n = 0;
	char *buf = NULL;
	char want[128];

	(void)state;
	many_rows(ROWS + 1, &buf, &len);
	snprintf(want, sizeof(want), "big.csv:%d: too many rows (at most %d)", ROWS + 2, ROWS);
	assert_int_equal(outcomes_parse_buffer("big.csv", buf, len, TODAY, &rows, &n, &errors,
					       NULL, NULL), -EINVAL);
	assert_errors(&errors, (const char *const[]){ want, NULL });
	assert_null(rows);
	strlist_clear(&errors);
	/* Exactly at the cap is fine. */
	len = strstr(buf, "-000001000000,") - buf;
	len -= strlen("0190a5b4-7c2e-7a3b-9f00");
	assert_int_equal(outcomes_parse_buffer("big.csv", buf, len, TODAY, &rows, &n, &errors,
					       NULL, NULL), 0);
	assert_int_equal(n, ROWS);
	outcomes_free(&rows);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_length_caps),
		cmocka_unit_test(test_validate_direct),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_wide),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_errors_appended),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_duplicates_many),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_empty_rows),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_pgn_column),
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
