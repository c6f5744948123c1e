/* test_leavers: the leavers CSV import (design.md §8) as a school's staff meets it:
 * the rows of a good file, and for a bad one exactly the messages they read. */
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

#include "leavers.h"
#include "vocab.h"

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
	for (size_t i = 0; i < errors->n && i < n; i++)
		assert_string_equal(errors->v[i], want[i]);
	if (errors->n != n) {
		for (size_t i = 0; i < errors->n; i++)
			print_message("got: %s\n", errors->v[i]);
	}
	assert_int_equal(errors->n, n);
}

static int parse(const char *csv, Overstapctl__Leaver ***rows, size_t *n, struct strlist *errors)
{
	return leavers_parse_buffer("t.csv", csv, strlen(csv), rows, n, errors, NULL, NULL);
}

/* The same, declared UTF-8: bytes that are not stay, for the text rule. */
static int parse_utf8(const char *csv, Overstapctl__Leaver ***rows, size_t *n,
		      struct strlist *errors)
{
	const struct csvfile_opts o = { .encoding = "utf-8", .strict = 1 };

	return leavers_import("t.csv", csv, strlen(csv), &o, rows, n, errors);
}

/* The full header and one good row; a test changes a few columns. */
static const char *const k_cols[] = {
	"pupil_ref", "pgn", "given_name", "family_name", "birth_date", "program", "cohort",
	"exit_date", "destination_type", "destination_institution", "advice", "advice_followed",
	"level_taal", "level_rekenen", "support_needs", "mentor_name", "mentor_email", "mentor_phone",
};
#define NCOLS (sizeof(k_cols) / sizeof(k_cols[0]))

static const char *const k_good[NCOLS] = {
	"P1", "111222333", "Sanne", "Bakker", "2008-03-14", "pro", "2024-2025", "2025-07-01",
	"mbo_entree", "12AB00", "entree", "yes", "1F", "2F", "extra_time:10 min", "Piet de Wit",
	"p.dewit@school.example", "06-12345678",
};

/* A header and one row (line 2) with set[] = { column, raw CSV text, ... , NULL }. */
static char *one_row(const char *const *set)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (size_t i = 0; i < NCOLS; i++)
		fprintf(f, "%s%s", i ? "," : "", k_cols[i]);
	fputs("\n", f);
	for (size_t i = 0; i < NCOLS; i++) {
		const char *v = k_good[i];

		for (size_t j = 0; set && set[j]; j += 2)
			if (strcmp(set[j], k_cols[i]) == 0)
				v = set[j + 1];
		fprintf(f, "%s%s", i ? "," : "", v);
	}
	fputs("\n", f);
	fclose(f);
	return buf;
}

/* ---- a good file ---------------------------------------------------------- */

static void test_good_file(void **state)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	(void)state;
	/* BOM, CRLF, another column order, quoted comma, quoted CRLF, doubled
	 * quotes, a blank line, blanks around unquoted fields, no final newline. */
	r = leavers_parse_file(data_path("leavers_good.csv"), &rows, &n, &errors, NULL, NULL);
	assert_errors(&errors, (const char *const[]){ NULL });
	assert_int_equal(r, 0);
	assert_int_equal(n, 4);

	assert_int_equal(rows[0]->line, 2);
	assert_string_equal(rows[0]->pupil_ref, "L001");
	assert_string_equal(rows[0]->pgn, "111222333");
	assert_string_equal(rows[0]->given_name, "Sanne");
	assert_string_equal(rows[0]->family_name, "de Vries, van");
	assert_string_equal(rows[0]->birth_date, "2008-03-14");
	assert_string_equal(rows[0]->program, "pro");
	assert_string_equal(rows[0]->cohort, "2024-2025");
	assert_string_equal(rows[0]->exit_date, "2025-07-01");
	assert_string_equal(rows[0]->destination_type, "mbo_entree");
	assert_string_equal(rows[0]->destination_institution, "12AB00");
	assert_string_equal(rows[0]->advice, "entree");
	assert_string_equal(rows[0]->advice_followed, "yes");
	assert_string_equal(rows[0]->level_taal, "1F");
	assert_string_equal(rows[0]->level_rekenen, "1F");
	assert_string_equal(rows[0]->support_needs, "extra_time:10 min langer;fixed_mentor");
	assert_string_equal(rows[0]->mentor_name, "Piet Jansen");
	assert_string_equal(rows[0]->mentor_email, "p.jansen@school.example");
	assert_string_equal(rows[0]->mentor_phone, "+31 6 1234 5678");

	/* A quoted line break stays in the value, as it was written (CRLF). */
	assert_int_equal(rows[1]->line, 3);
	assert_string_equal(rows[1]->pupil_ref, "L002");
	assert_string_equal(rows[1]->family_name, "\xc3\x96mer-\xc3\x87""elik");
	assert_string_equal(rows[1]->support_needs, "job_coach:twee dagen\r\nper week;structure");
	assert_string_equal(rows[1]->advice_followed, "no");
	assert_string_equal(rows[1]->mentor_name, "");

	/* Line 5 is blank; line 6 has blanks around unquoted fields. */
	assert_int_equal(rows[2]->line, 6);
	assert_string_equal(rows[2]->pupil_ref, "L003");
	assert_string_equal(rows[2]->cohort, "2024-2025");
	assert_string_equal(rows[2]->pgn, "");
	assert_string_equal(rows[2]->destination_institution, "");
	assert_string_equal(rows[2]->mentor_name, "Jan \"JJ\" Bakker");

	/* An onderwijsnummer, a leap day, the last day of the school year. */
	assert_int_equal(rows[3]->line, 7);
	assert_string_equal(rows[3]->pupil_ref, "L004");
	assert_string_equal(rows[3]->pgn, "101234567");
	assert_string_equal(rows[3]->birth_date, "2008-02-29");
	assert_string_equal(rows[3]->exit_date, "2025-07-31");
	assert_string_equal(rows[3]->mentor_email, "mentor@school.example");
	assert_string_equal(rows[3]->mentor_phone, "");

	leavers_free(&rows, n);
	assert_null(rows);
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
	const char *path = data_path("leavers_bad.csv");
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	char *want[11] = { NULL };
	size_t n = 99;	/* must be reset */
	int r, i = 0;

	(void)state;
	want_add(&want[i++], "%s:3: pgn: fails the elfproef (11-test)", path);
	want_add(&want[i++], "%s:3: program: unknown value 'vmbo_x' (expected one of: %s)", path,
		 vocab_program_list());
	/* Lines 4-5 are one good record; line 7 is blank. */
	want_add(&want[i++], "%s:6: row has 3 fields, header has 15", path);
	want_add(&want[i++], "%s:8: exit_date: not inside school year 2024-2025 "
		 "(2024-08-01 .. 2025-07-31)", path);
	want_add(&want[i++], "%s:8: pupil_ref: duplicate of line 2", path);
	want_add(&want[i++], "%s:9: birth_date: not a real date (YYYY-MM-DD)", path);
	want_add(&want[i++], "%s:9: cohort: years must be consecutive (e.g. 2024-2025)", path);
	want_add(&want[i++], "%s:10: pgn: required when destination_institution is set", path);
	want_add(&want[i++], "%s:10: destination_institution: '12AB0X' is not an institution id "
		 "(BRIN + location, e.g. 12AB00)", path);
	want_add(&want[i++], "%s:11: support_needs: unknown code 'diagnosis' (expected one of: %s)",
		 path, vocab_support_codes());

	r = leavers_parse_file(path, &rows, &n, &errors, NULL, NULL);
	assert_int_equal(i, 10);
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
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(leavers_parse_file(data_path("no_such_file.csv"), &rows, &n, &errors,
					    NULL, NULL), -ENOENT);
	assert_null(rows);
	assert_int_equal(errors.n, 0);
	leavers_free(&rows, 0);	/* NULL is fine */
}

/* ---- each validation rule ------------------------------------------------- */

struct rule_case {
	const char *set[7];	/* column, raw CSV value, ..., NULL */
	const char *want[4];	/* the messages, NULL-terminated; none = valid */
};

static const struct rule_case k_rules[] = {
	{ { NULL }, { NULL } },
	/* pgn */
	{ { "pgn", "123456789" }, { "t.csv:2: pgn: fails the elfproef (11-test)" } },
	{ { "pgn", "12345678" }, { "t.csv:2: pgn: must be 9 digits" } },
	{ { "pgn", "12345678X" }, { "t.csv:2: pgn: must be 9 digits" } },
	{ { "pgn", "101234567" }, { NULL } },
	{ { "pgn", "" }, { "t.csv:2: pgn: required when destination_institution is set" } },
	{ { "pgn", "", "destination_institution", "", "given_name", "" }, { NULL } },
	/* names: required with a pgn, capped at 128 characters */
	{ { "given_name", "" }, { "t.csv:2: given_name: required when pgn is set" } },
	{ { "family_name", "" }, { "t.csv:2: family_name: required when pgn is set" } },
	{ { "pgn", "", "destination_institution", "", "family_name", "" }, { NULL } },
	/* dates */
	{ { "birth_date", "" }, { "t.csv:2: birth_date: is required" } },
	{ { "birth_date", "2008-02-30" }, { "t.csv:2: birth_date: not a real date (YYYY-MM-DD)" } },
	/* day-month-year is a dialect (design.md §8.8) */
	{ { "birth_date", "14-03-2008" }, { NULL } },
	{ { "birth_date", "31-02-2008" }, { "t.csv:2: birth_date: not a real date (YYYY-MM-DD)" } },
	{ { "birth_date", "2008/3/14" }, { NULL } },
	{ { "birth_date", "14-3-08" }, { "t.csv:2: birth_date: not a real date (YYYY-MM-DD)" } },
	{ { "birth_date", "2008-02-29" }, { NULL } },
	{ { "birth_date", "2025-07-01" }, { "t.csv:2: birth_date: not before exit_date" } },
	{ { "exit_date", "2023-02-29", "cohort", "2022-2023" },
	  { "t.csv:2: exit_date: not a real date (YYYY-MM-DD)" } },
	{ { "exit_date", "2024-02-29", "cohort", "2023-2024" }, { NULL } },
	{ { "exit_date", "" }, { "t.csv:2: exit_date: is required" } },
	{ { "exit_date", "2024-08-01" }, { NULL } },
	{ { "exit_date", "2025-07-31" }, { NULL } },
	{ { "exit_date", "2024-07-31" },
	  { "t.csv:2: exit_date: not inside school year 2024-2025 (2024-08-01 .. 2025-07-31)" } },
	{ { "exit_date", "2025-08-01" },
	  { "t.csv:2: exit_date: not inside school year 2024-2025 (2024-08-01 .. 2025-07-31)" } },
	/* cohort; a bad cohort does not drag exit_date down with it */
	{ { "cohort", "2024-2026" }, { "t.csv:2: cohort: years must be consecutive (e.g. 2024-2025)" } },
	{ { "cohort", "2025-2024" }, { "t.csv:2: cohort: years must be consecutive (e.g. 2024-2025)" } },
	/* a school year as staff write it (design.md §8.8) */
	{ { "cohort", "2024/2025" }, { NULL } },
	{ { "cohort", "2024/25" }, { NULL } },
	{ { "cohort", "2024/26" }, { "t.csv:2: cohort: must be YYYY-YYYY (e.g. 2024-2025)" } },
	{ { "cohort", "24-25" }, { "t.csv:2: cohort: must be YYYY-YYYY (e.g. 2024-2025)" } },
	{ { "cohort", "" }, { "t.csv:2: cohort: is required" } },
	/* code lists */
	{ { "program", "" }, { "t.csv:2: program: is required" } },
	{ { "destination_type", "" }, { "t.csv:2: destination_type: is required" } },
	{ { "destination_type", "mbo" },
	  { "t.csv:2: destination_type: unknown value 'mbo' (expected one of: mbo_entree, mbo_2, "
	    "mbo_3_4, vavo, ho, vo, work, day_care, none, unknown)" } },
	/* the staff's spellings (design.md §8.8) */
	{ { "advice", "mbo_entree", "destination_type", "Niveau 2" }, { NULL } },
	{ { "advice", "mbo" },
	  { "t.csv:2: advice: unknown value 'mbo' (expected one of: entree, mbo_2, mbo_3_4, "
	    "vavo, ho, vo, work, day_care, none)" } },
	{ { "advice", "", "advice_followed", "" }, { NULL } },
	{ { "advice_followed", "ja", "program", "PrO" }, { NULL } },
	{ { "advice_followed", "misschien" },
	  { "t.csv:2: advice_followed: unknown value 'misschien' (expected one of: yes, no)" } },
	{ { "advice_followed", "no" }, { NULL } },
	{ { "level_taal", "1f" }, { NULL } },
	{ { "level_taal", "1x" },
	  { "t.csv:2: level_taal: unknown value '1x' (expected one of: none, 1F, 2F, 3F)" } },
	{ { "level_rekenen", "4F" },
	  { "t.csv:2: level_rekenen: unknown value '4F' (expected one of: none, 1F, 2F, 3F)" } },
	{ { "level_taal", "none", "level_rekenen", "3F" }, { NULL } },
	/* institution id */
	{ { "destination_institution", "12AB0" },
	  { "t.csv:2: destination_institution: '12AB0' is not an institution id (BRIN + location, "
	    "e.g. 12AB00)" } },
	{ { "destination_institution", "A2AB00" },
	  { "t.csv:2: destination_institution: 'A2AB00' is not an institution id (BRIN + location, "
	    "e.g. 12AB00)" } },
	{ { "destination_institution", "", "pgn", "" }, { NULL } },
	/* support needs */
	{ { "support_needs", "\"fixed_mentor: ma, di ; small_group;other:zie dossier\"" }, { NULL } },
	{ { "support_needs", "extra_time;;other" },
	  { "t.csv:2: support_needs: entry 2 has no code (expected code[:note];...)" } },
	{ { "support_needs", ":note" },
	  { "t.csv:2: support_needs: entry 1 has no code (expected code[:note];...)" } },
	/* mentor */
	{ { "mentor_email", "p.dewit.school.example" }, { "t.csv:2: mentor_email: not an e-mail address" } },
	{ { "mentor_email", "@school.example" }, { "t.csv:2: mentor_email: not an e-mail address" } },
	{ { "mentor_email", "a@b@c" }, { "t.csv:2: mentor_email: not an e-mail address" } },
	{ { "mentor_phone", "06-CALL-ME" },
	  { "t.csv:2: mentor_phone: not a phone number (digits, spaces and + - ( ) only)" } },
	{ { "mentor_phone", "+31 (0)6 1234 5678" }, { NULL } },
	/* pupil_ref */
	{ { "pupil_ref", "" }, { "t.csv:2: pupil_ref: is required" } },
	{ { "pupil_ref", "\"P\x01\"" }, { "t.csv:2: pupil_ref: contains a control character" } },
	/* only support_needs is free text */
	{ { "given_name", "\"San\nne\"" }, { "t.csv:2: given_name: contains a control character" } },
	{ { "support_needs", "\"other:twee\nregels\"" }, { NULL } },
	/* UTF-8 */
	{ { "given_name", "Z\xc3\xab""l" }, { NULL } },
	{ { "given_name", "Z\xebl" }, { "t.csv:2: given_name: not valid UTF-8" } },
	{ { "family_name", "\xc0\xaf" }, { "t.csv:2: family_name: not valid UTF-8" } },
	{ { "mentor_name", "\xed\xa0\x80" }, { "t.csv:2: mentor_name: not valid UTF-8" } },
	{ { "mentor_name", "\xf4\x90\x80\x80" }, { "t.csv:2: mentor_name: not valid UTF-8" } },
	{ { "mentor_name", "ab\xe2\x82" }, { "t.csv:2: mentor_name: not valid UTF-8" } },
	{ { "program", "pr\xff" }, { "t.csv:2: program: not valid UTF-8" } },
	/* the rule a peer's handover meets too (envelope.c): same text, same reason */
	{ { "given_name", "Ann\xe2\x80\xae""gpj.exe" },
	  { "t.csv:2: given_name: contains a bidirectional override or isolate" } },
	{ { "family_name", "Vis\xe2\x81\xa6""ser" },
	  { "t.csv:2: family_name: contains a bidirectional override or isolate" } },
	{ { "support_needs", "\"other:twee\xe2\x80\xae\nregels\"" },
	  { "t.csv:2: support_needs: contains a bidirectional override or isolate" } },
	{ { "given_name", "\x1b[2JNoah" }, { "t.csv:2: given_name: contains a control character" } },
	{ { "mentor_name", "m\xc2\x9b""31m" }, { "t.csv:2: mentor_name: contains a control character" } },
	{ { "support_needs", "\"other:a\x1b[2J\"" },
	  { "t.csv:2: support_needs: contains a control character" } },
	/* every problem of a row, in column order */
	{ { "program", "pro_x", "cohort", "2024", "mentor_email", "nope" },
	  { "t.csv:2: program: unknown value 'pro_x' (expected one of: pro, vso_arbeid, "
	    "vso_vervolg, vso_dagbesteding, vmbo_b, vmbo_k, vmbo_gt, isk, so, sbo, bao, havo, vwo)",
	    "t.csv:2: cohort: must be YYYY-YYYY (e.g. 2024-2025)",
	    "t.csv:2: mentor_email: not an e-mail address" } },
	{ { "support_needs", "extra_time:x;adhd;dyslexie" },
	  { "t.csv:2: support_needs: unknown code 'adhd' (expected one of: extra_time, small_group, "
	    "fixed_mentor, job_coach, language_support, reading_support, math_support, structure, "
	    "practical_learning, travel_training, social_work, other)",
	    "t.csv:2: support_needs: unknown code 'dyslexie' (expected one of: extra_time, "
	    "small_group, fixed_mentor, job_coach, language_support, reading_support, "
	    "math_support, structure, practical_learning, travel_training, social_work, other)" } },
};

static void test_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(k_rules) / sizeof(k_rules[0]); i++) {
		Overstapctl__Leaver **rows = NULL;
		struct strlist errors = { 0 };
		char *csv = one_row(k_rules[i].set);
		size_t n = 0;
		int r;

		print_message("case %zu: %s\n", i, k_rules[i].set[0] ? k_rules[i].set[0] : "-");
		r = parse_utf8(csv, &rows, &n, &errors);
		assert_errors(&errors, k_rules[i].want);
		assert_int_equal(r, k_rules[i].want[0] ? -EINVAL : 0);
		assert_int_equal(n, k_rules[i].want[0] ? 0 : 1);
		leavers_free(&rows, n);
		strlist_clear(&errors);
		free(csv);
	}
}

/* Caps are in characters, reported, never truncated. */
static void test_length_caps(void **state)
{
	static const struct {
		const char *col;
		size_t max;
		const char *unit;	/* one character */
	} caps[] = {
		{ "pupil_ref", 64, "x" },
		{ "given_name", 128, "\xc3\xa9" },	/* é: 2 bytes, 1 character */
		{ "family_name", 128, "x" },
		{ "mentor_name", 128, "x" },
		{ "mentor_email", 254, "x" },
		{ "mentor_phone", 32, "1" },
		{ "support_needs", 512, "x" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		for (size_t len = caps[i].max; len <= caps[i].max + 1; len++) {
			Overstapctl__Leaver **rows = NULL;
			struct strlist errors = { 0 };
			char v[2048] = "", msg[256];
			const char *set[3] = { caps[i].col, v, NULL };
			size_t n = 0;
			char *csv;
			int r;

			if (strcmp(caps[i].col, "support_needs") == 0)
				strcpy(v, "other:");
			if (strcmp(caps[i].col, "mentor_email") == 0)
				strcpy(v, "a@");
			while (strlen(v) / strlen(caps[i].unit) < len)
				strcat(v, caps[i].unit);
			csv = one_row(set);
			r = parse(csv, &rows, &n, &errors);
			if (len == caps[i].max) {
				assert_errors(&errors, (const char *const[]){ NULL });
				assert_int_equal(r, 0);
				assert_int_equal(n, 1);
			} else {
				snprintf(msg, sizeof(msg),
					 "t.csv:2: %s: too long (%zu characters, at most %zu)",
					 caps[i].col, len, caps[i].max);
				assert_errors(&errors, (const char *const[]){ msg, NULL });
				assert_int_equal(r, -EINVAL);
			}
			leavers_free(&rows, n);
			strlist_clear(&errors);
			free(csv);
		}
	}
}

/* leaver_validate on its own: the daemon re-checks rows that come over the
 * control socket, where no CSV was involved. */
static void test_validate_direct(void **state)
{
	Overstapctl__Leaver l = OVERSTAPCTL__LEAVER__INIT;
	struct strlist errors = { 0 };

	(void)state;
	l.line = 42;
	l.pgn = "111222334";
	l.cohort = "2024-2025";
	l.exit_date = "2025-01-01";
	assert_int_equal(leaver_validate("cli", &l, &errors), 7);
	assert_errors(&errors, (const char *const[]){
		"cli:42: pupil_ref: is required",
		"cli:42: pgn: fails the elfproef (11-test)",
		"cli:42: given_name: required when pgn is set",
		"cli:42: family_name: required when pgn is set",
		"cli:42: birth_date: is required",
		"cli:42: program: is required",
		"cli:42: destination_type: is required",
		NULL });
	strlist_clear(&errors);

	l.pupil_ref = "P9";
	l.pgn = NULL;	/* treated as empty */
	l.birth_date = "2008-01-01";
	l.program = "so";
	l.destination_type = "none";
	assert_int_equal(leaver_validate("cli", &l, &errors), 0);
	assert_int_equal(errors.n, 0);
}

/* ---- the header ----------------------------------------------------------- */

static void test_header(void **state)
{
	static const struct {
		const char *csv;
		const char *want[4];
	} cases[] = {
		{ "pupil_ref,birth_date,program,exit_date,destination_type\n"
		  "P1,2008-01-01,pro,2025-01-01,work\n",
		  { "t.csv:1: header: missing required column 'cohort'" } },
		{ "pupil_ref,birth_date,program,cohort,exit_date\n",
		  { "t.csv:1: header: missing required column 'destination_type'" } },
		{ "pupil_ref,birth_date,program,cohort,exit_date,destination_type,remarks\n"
		  "P1,2008-01-01,pro,2024-2025,2025-01-01,work,hi\n",
		  { "t.csv:1: header: unknown column 'remarks'" } },
		{ "pupil_ref,birth_date,program,cohort,exit_date,destination_type,program\n",
		  { "t.csv:1: header: duplicate column 'program'" } },
		{ "pupil_ref,birth_date,,cohort,exit_date,destination_type\n",
		  { "t.csv:1: header: column 3 has no name",
		    "t.csv:1: header: missing required column 'program'" } },
		/* header names in any case (design.md §8.8) */
		{ "Pupil_Ref,birth_date,program,cohort,exit_date,destination_type\n", { NULL } },
		/* not UTF-8, so Windows-1252: 0xFF is y-diaeresis */
		{ "pupil_ref,birth_date,program,cohort,exit_date,destination_type,x\xff\n",
		  { "t.csv:1: header: unknown column 'x\xc3\xbf'" } },
		{ "", { "t.csv:1: header: missing (the file is empty)" } },
		{ "\xef\xbb\xbf\r\n\r\n", { "t.csv:1: header: missing (the file is empty)" } },
		/* The header may be the only line: nothing to import, nothing wrong. */
		{ "pupil_ref,birth_date,program,cohort,exit_date,destination_type", { NULL } },
		/* Only the required columns, in another order. */
		{ "destination_type,exit_date,cohort,program,birth_date,pupil_ref\n"
		  "work,2025-01-01,2024-2025,pro,2008-01-01,P1\n", { NULL } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Overstapctl__Leaver **rows = NULL;
		struct strlist errors = { 0 };
		size_t n = 0;
		int r;

		print_message("case %zu\n", i);
		r = parse(cases[i].csv, &rows, &n, &errors);
		assert_errors(&errors, cases[i].want);
		assert_int_equal(r, cases[i].want[0] ? -EINVAL : 0);
		if (r == 0 && n == 1)
			assert_string_equal(rows[0]->pupil_ref, "P1");
		leavers_free(&rows, n);
		strlist_clear(&errors);
	}
}

/* ---- shape of the file ---------------------------------------------------- */

#define HDR "pupil_ref,birth_date,program,cohort,exit_date,destination_type\n"

static void test_duplicate_ref(void **state)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(HDR "P1,2008-01-01,pro,2024-2025,2025-01-01,work\n"
			       "P2,2008-01-01,pro,2024-2025,2025-01-01,work\n"
			       "P1,2008-01-01,pro,2024-2025,2025-01-01,work\n"
			       "P1,2008-01-01,pro,2024-2025,2025-01-01,work\n"
			       "\"P2\",2008-01-01,pro,2024-2025,2025-01-01,work\n",
			       &rows, &n, &errors), -EINVAL);
	assert_errors(&errors, (const char *const[]){
		"t.csv:4: pupil_ref: duplicate of line 2",
		"t.csv:5: pupil_ref: duplicate of line 2",
		"t.csv:6: pupil_ref: duplicate of line 3",
		NULL });
	assert_null(rows);
	assert_int_equal(n, 0);
	strlist_clear(&errors);
}

static void test_field_count(void **state)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(HDR "P1,2008-01-01,pro,2024-2025,2025-01-01\n"
			       "P2,2008-01-01,pro,2024-2025,2025-01-01,work,x\n"
			       "P3,2008-01-01,pro,2024-2025,2025-01-01,work\n"
			       "P4\n",
			       &rows, &n, &errors), -EINVAL);
	assert_errors(&errors, (const char *const[]){
		"t.csv:2: row has 5 fields, header has 6",
		"t.csv:3: row has 7 fields, header has 6",
		"t.csv:5: row has 1 fields, header has 6",
		NULL });
	assert_null(rows);
	strlist_clear(&errors);
}

/* Spreadsheets export rows of bare separators below the data: no data, no error. */
static void test_empty_rows(void **state)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(HDR ",,,,,\n"
			       "P1,2008-01-01,pro,2024-2025,2025-01-01,work\n"
			       ",,,,,\n"
			       ",,\n"
			       " , \"\" ,,,,\n"
			       "P2,2008-01-01,pro,2024-2025,2025-01-01,work\n",
			       &rows, &n, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0]->line, 3);
	assert_int_equal(rows[1]->line, 7);
	leavers_free(&rows, n);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *csv;
		const char *line;
	} cases[] = {
		/* An open quote swallows the rest: reported where its record starts. */
		{ HDR "P1,2008-01-01,pro,2024-2025,2025-01-01,work\n"
		  "P2,2008-01-01,\"pro,2024-2025,2025-01-01,work\n"
		  "P3,2008-01-01,pro,2024-2025,2025-01-01,work\n", "3" },
		/* A quote inside an unquoted field. */
		{ HDR "P1,2008-01-01,pr\"o,2024-2025,2025-01-01,work\n", "2" },
		/* Text after a closing quote, in a record that began two lines up. */
		{ HDR "\"P\n1\",2008-01-01,\"pro\"x,2024-2025,2025-01-01,work\n", "2" },
	};
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Overstapctl__Leaver **rows = NULL;
		struct strlist errors = { 0 };
		size_t n = 0;

		snprintf(want, sizeof(want), "t.csv:%s: malformed CSV: %s", cases[i].line,
			 csv_strerror(CSV_EPARSE));
		assert_int_equal(parse(cases[i].csv, &rows, &n, &errors), -EINVAL);
		assert_errors(&errors, (const char *const[]){ want, NULL });
		assert_null(rows);
		strlist_clear(&errors);
	}
}

/* Line numbers survive every kind of line break and multi-line records. */
static void test_line_numbers(void **state)
{
	static const char csv[] =
		"\xef\xbb\xbf\n"					/* 1: BOM, blank */
		"  \t \r\n"						/* 2: blanks only */
		"pupil_ref,birth_date,program,cohort,exit_date,destination_type,support_needs\n"
		"P1,2008-01-01,pro,2024-2025,2025-01-01,work,\r"		/* 4: bare CR */
		"P2,2008-01-01,pro,2024-2025,2025-01-01,work,\"other:a\r\n"	/* 5 */
		"\n"							/* 6 */
		"b\r\rc\"\r\n"						/* 7, 8, 9 */
		"P3,2008-01-01,pro,2024-2025,2025-01-01,work,\"\"\n"	/* 10 */
		"P4,2008-01-01,pro,2024-2025,2025-01-01,worx,";		/* 11, no newline */
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	(void)state;
	r = leavers_parse_buffer("t.csv", csv, sizeof(csv) - 1, &rows, &n, &errors, NULL, NULL);
	assert_errors(&errors, (const char *const[]){
		"t.csv:11: destination_type: unknown value 'worx' (expected one of: mbo_entree, "
		"mbo_2, mbo_3_4, vavo, ho, vo, work, day_care, none, unknown)", NULL });
	assert_int_equal(r, -EINVAL);
	strlist_clear(&errors);

	/* Without the bad last row, the rows and their lines. */
	r = leavers_parse_buffer("t.csv", csv, strstr(csv, "P4") - csv, &rows, &n, &errors, NULL,
				 NULL);
	assert_int_equal(errors.n, 0);
	assert_int_equal(r, 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0]->line, 4);
	assert_int_equal(rows[1]->line, 5);
	assert_string_equal(rows[1]->support_needs, "other:a\r\n\nb\r\rc");
	assert_int_equal(rows[2]->line, 10);
	assert_string_equal(rows[2]->support_needs, "");
	leavers_free(&rows, n);
}

static void test_nul_byte(void **state)
{
	static const char csv[] = HDR "P\0001,2008-01-01,pro,2024-2025,2025-01-01,work\n";
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(leavers_parse_buffer("t.csv", csv, sizeof(csv) - 1, &rows, &n, &errors,
					      NULL, NULL), -EINVAL);
	assert_errors(&errors, (const char *const[]){ "t.csv:2: pupil_ref: contains a NUL byte",
						      NULL });
	strlist_clear(&errors);
}

/* A file full of mistakes stops at a readable number of messages. */
static void test_too_many_errors(void **state)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	fputs(HDR, f);
	for (int i = 0; i < 1500; i++)
		fprintf(f, "P%d,2008-01-01,xxx,2024-2025,2025-01-01,work\n", i);
	fclose(f);
	assert_int_equal(leavers_parse_buffer("t.csv", buf, len, &rows, &n, &errors, NULL, NULL),
			 -EINVAL);
	assert_int_equal(errors.n, 1001);
	assert_string_equal(errors.v[1000], "t.csv:1001: too many errors, stopping here");
	assert_null(rows);
	strlist_clear(&errors);
	free(buf);
}

/* ---- size ----------------------------------------------------------------- */

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
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	struct progress prog = { .monotonic = 1 };
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	for (size_t i = 0; i < NCOLS; i++)
		fprintf(f, "%s%s", i ? "," : "", k_cols[i]);
	fputs("\r\n", f);
	for (int i = 0; i < ROWS; i++)
		fprintf(f, "S%06d,111222333,Sanne,\"Bakker, de\",2008-03-14,vmbo_b,2024-2025,"
			"2025-07-01,mbo_2,12AB00,mbo_2,yes,2F,1F,\"extra_time;job_coach:2 dagen\","
			"Piet,piet@school.example,06-12345678\r\n", i);
	fclose(f);
	assert_int_equal(leavers_parse_buffer("big.csv", buf, len, &rows, &n, &errors, on_progress,
					      &prog), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, ROWS);
	assert_int_equal(rows[ROWS - 1]->line, ROWS + 1);
	assert_string_equal(rows[ROWS - 1]->pupil_ref, "S099999");
	assert_true(prog.calls >= ROWS / 1000);
	assert_true(prog.monotonic);
	assert_int_equal(prog.last_done, len);
	assert_int_equal(prog.last_total, len);
	leavers_free(&rows, n);
	free(buf);
}

/* ---- dialects (design.md §8.8) --------------------------------------------- */

/* Import a fixture from tests/data as the CLI does by default; expects
 * success and exactly the one warning want (NULL = none). */
static Overstapctl__Leaver **import_fixture(const char *file, size_t want_n, const char *want)
{
	struct strlist errors = { 0 }, warnings = { 0 };
	const struct csvfile_opts o = { .warnings = &warnings };
	Overstapctl__Leaver **rows = NULL;
	const char *path = data_path(file);
	char *w = NULL;
	size_t n = 0;
	int r;

	r = leavers_import_file(path, &o, &rows, &n, &errors);
	for (size_t i = 0; i < errors.n; i++)
		print_message("got: %s\n", errors.v[i]);
	assert_int_equal(r, 0);
	assert_int_equal(n, want_n);
	if (want) {
		assert_true(asprintf(&w, "%s:1: header: %s", data_path(file), want) > 0);
		assert_int_equal(warnings.n, 1);
		assert_string_equal(warnings.v[0], w);
	} else {
		assert_int_equal(warnings.n, 0);
	}
	free(w);
	strlist_clear(&warnings);
	return rows;
}

/* The names as stored and shown: given, tussenvoegsel, family. */
static void assert_name(const Overstapctl__Leaver *l, const char *given, const char *tv,
			const char *family)
{
	assert_string_equal(l->given_name, given);
	assert_string_equal(l->tussenvoegsel, tv);
	assert_string_equal(l->family_name, family);
}

/* Magister: ';', BOM, CRLF, dd-mm-yyyy, Dutch headers and codes, a class
 * column ignored, the mentor column taken, Excel's ";;;" everywhere. */
static void test_fixture_magister(void **state)
{
	Overstapctl__Leaver **rows;

	(void)state;
	rows = import_fixture("leavers_magister.csv", 3, "ignoring column 'Klas'");
	assert_string_equal(rows[0]->pupil_ref, "M001");
	assert_string_equal(rows[0]->pgn, "111222333");
	assert_name(rows[0], "Jan", "de", "Vries");
	assert_string_equal(rows[0]->birth_date, "2008-03-14");
	assert_string_equal(rows[0]->program, "vmbo_b");
	assert_string_equal(rows[0]->cohort, "2024-2025");
	assert_string_equal(rows[0]->exit_date, "2025-07-01");
	assert_string_equal(rows[0]->destination_type, "mbo_2");
	assert_string_equal(rows[0]->destination_institution, "25LZ00");
	assert_string_equal(rows[0]->advice, "mbo_2");
	assert_string_equal(rows[0]->advice_followed, "yes");
	assert_string_equal(rows[0]->mentor_name, "Pietersen");
	assert_int_equal(rows[0]->line, 2);
	assert_name(rows[1], "Sanne", "van der", "Berg");
	assert_string_equal(rows[1]->program, "vmbo_k");
	assert_string_equal(rows[1]->destination_type, "mbo_3_4");
	assert_string_equal(rows[1]->advice, "mbo_3_4");
	assert_string_equal(rows[1]->advice_followed, "no");
	assert_name(rows[2], "\xc3\x96zlem", "", "Y\xc4\xb1lmaz");
	assert_string_equal(rows[2]->birth_date, "2008-02-29");
	assert_string_equal(rows[2]->program, "pro");
	assert_string_equal(rows[2]->destination_type, "mbo_entree");
	assert_string_equal(rows[2]->advice, "entree");
	leavers_free(&rows, 3);
}

/* SOMtoday: ',', all quoted, D/M/YYYY, BSN/PGN, Leerweg, levels in lower case. */
static void test_fixture_somtoday(void **state)
{
	Overstapctl__Leaver **rows;

	(void)state;
	rows = import_fixture("leavers_somtoday.csv", 2, "ignoring column 'Stamgroep'");
	assert_name(rows[0], "Noah", "van", "Dijk");
	assert_string_equal(rows[0]->pgn, "111222345");
	assert_string_equal(rows[0]->birth_date, "2008-05-03");
	assert_string_equal(rows[0]->program, "vmbo_gt");
	assert_string_equal(rows[0]->exit_date, "2025-07-01");
	assert_string_equal(rows[0]->destination_type, "mbo_3_4");
	assert_string_equal(rows[0]->level_taal, "2F");
	assert_string_equal(rows[0]->level_rekenen, "1F");
	assert_string_equal(rows[1]->program, "havo");
	assert_string_equal(rows[1]->birth_date, "2007-09-17");
	leavers_free(&rows, 2);
}

/* ParnasSys: Windows-1252, decoded once; the names arrive in UTF-8. */
static void test_fixture_parnassys(void **state)
{
	Overstapctl__Leaver **rows;

	(void)state;
	rows = import_fixture("leavers_parnassys.csv", 2, "ignoring column 'Groep'");
	assert_name(rows[0], "Zo\xc3\xab", "van 't", "Hoff");
	assert_string_equal(rows[0]->program, "vso_arbeid");
	assert_string_equal(rows[0]->destination_type, "mbo_entree");
	assert_name(rows[1], "Chlo\xc3\xa9", "", "Fran\xc3\xa7oise-\xc3\x87""elik");
	assert_string_equal(rows[1]->program, "vso_vervolg");
	assert_string_equal(rows[1]->birth_date, "2007-08-08");
	leavers_free(&rows, 2);
}

/* Eduarte: TAB, capitals, Roepnaam before Voornamen, trailing tabs. */
static void test_fixture_eduarte(void **state)
{
	Overstapctl__Leaver **rows;

	(void)state;
	rows = import_fixture("leavers_eduarte.tsv", 2, "ignoring column 'Voornamen'");
	assert_name(rows[0], "Hans", "van den", "Berg");
	assert_string_equal(rows[0]->program, "vmbo_gt");
	assert_string_equal(rows[0]->destination_type, "mbo_3_4");
	assert_string_equal(rows[0]->pgn, "111222382");
	assert_name(rows[1], "Maria", "de la", "Cruz");
	assert_string_equal(rows[1]->program, "pro");
	assert_string_equal(rows[1]->destination_type, "mbo_entree");
	leavers_free(&rows, 2);
}

/* Parse csv with o; expect r and exactly want. */
static void expect_opts(const char *csv, size_t len, const struct csvfile_opts *o, int want_r,
			const char *const *want)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	int r = leavers_import("t.csv", csv, len, o, &rows, &n, &errors);

	assert_errors(&errors, want);
	assert_int_equal(r, want_r);
	leavers_free(&rows, n);
	strlist_clear(&errors);
}

#define DUTCH "Leerlingnummer;Geboortedatum;Opleiding;Schooljaar;Uitschrijfdatum;Bestemming;Klas\n"

/* --strict makes an unknown column the error it was; the options override
 * what is detected. */
static void test_dialect_options(void **state)
{
	static const char csv[] = DUTCH "X1;01-02-2008;PrO;2024-2025;01-07-2025;werk;4B\n";
	static const char cp1252[] = DUTCH "X1;01-02-2008;PrO;2024-2025;01-07-2025;werk;4\x81\n";
	static const char iso[] = DUTCH "X1;2008-02-01;PrO;2024-2025;2025-07-01;werk;4B\n";
	struct strlist warnings = { 0 };
	struct csvfile_opts o = { .warnings = &warnings };

	(void)state;
	expect_opts(csv, sizeof(csv) - 1, &o, 0, (const char *const[]){ NULL });
	assert_int_equal(warnings.n, 1);
	assert_string_equal(warnings.v[0], "t.csv:1: header: ignoring column 'Klas'");
	strlist_clear(&warnings);
	o.strict = 1;
	expect_opts(csv, sizeof(csv) - 1, &o, -EINVAL,
		    (const char *const[]){ "t.csv:1: header: unknown column 'Klas'", NULL });
	assert_int_equal(warnings.n, 0);
	o.strict = 0;
	/* A byte Windows-1252 does not define, in a file that is not UTF-8. */
	expect_opts(cp1252, sizeof(cp1252) - 1, &o, -EINVAL, (const char *const[]){
		"t.csv:2: column 46: byte 0x81 is neither UTF-8 nor Windows-1252 (give --encoding)",
		NULL });
	o.encoding = "klingon";
	expect_opts(csv, sizeof(csv) - 1, &o, -EINVAL, (const char *const[]){
		"t.csv: unknown encoding 'klingon' (e.g. utf-8, windows-1252)", NULL });
	o.encoding = "utf-8";
	expect_opts(cp1252, sizeof(cp1252) - 1, &o, 0, (const char *const[]){ NULL });
	o.encoding = NULL;
	/* The separator given: the header is one unknown column. */
	o.delimiter = ',';
	expect_opts(csv, sizeof(csv) - 1, &o, -EINVAL, (const char *const[]){
		"t.csv:1: header: missing required column 'pupil_ref'",
		"t.csv:1: header: missing required column 'birth_date'",
		"t.csv:1: header: missing required column 'program'",
		"t.csv:1: header: missing required column 'cohort'",
		"t.csv:1: header: missing required column 'exit_date'",
		"t.csv:1: header: missing required column 'destination_type'", NULL });
	o.delimiter = 0;
	/* The date format given: the other one is not a date. */
	o.date_format = CSVDIALECT_DATE_YMD;
	/* the messages give the file's own header name too */
	expect_opts(csv, sizeof(csv) - 1, &o, -EINVAL, (const char *const[]){
		"t.csv:2: birth_date (Geboortedatum): not a real date (YYYY-MM-DD)",
		"t.csv:2: exit_date (Uitschrijfdatum): not a real date (YYYY-MM-DD)", NULL });
	expect_opts(iso, sizeof(iso) - 1, &o, 0, (const char *const[]){ NULL });
	/* dmy and mdy say the order of a date with the year last; a year first
	 * is never ambiguous and stays accepted */
	o.date_format = CSVDIALECT_DATE_DMY;
	expect_opts(iso, sizeof(iso) - 1, &o, 0, (const char *const[]){ NULL });
	/* mdy: 01-02-2008 is 2 January */
	o.date_format = CSVDIALECT_DATE_MDY;
	{
		Overstapctl__Leaver **rows = NULL;
		struct strlist errors = { 0 };
		size_t n = 0;

		assert_int_equal(leavers_import("t.csv", csv, sizeof(csv) - 1, &o, &rows, &n,
						&errors), 0);
		assert_string_equal(rows[0]->birth_date, "2008-01-02");
		leavers_free(&rows, n);
	}
	strlist_clear(&warnings);
}

/* The optional diploma column (design.md §8.1) in the school's words: its
 * Dutch header name and the diplomas as staff write them. Before: the
 * column was ignored under that name, and 'VMBO-BB' was an error. */
static void test_diploma_dialect(void **state)
{
	static const char csv[] =
		"Leerlingnummer;Achternaam;Geboortedatum;Opleiding;Schooljaar;Uitschrijfdatum;"
		"Bestemming;Hoogst behaalde diploma\r\n"
		"X1;Smit;01-02-2008;VMBO BB;2024-2025;01-07-2025;werk;VMBO-BB\r\n"
		"X2;Bos;01-03-2008;PrO;2024-2025;01-07-2025;werk;Geen\r\n"
		"X3;Kok;01-04-2008;Mavo;2024-2025;01-07-2025;werk;Mavo\r\n";
	struct strlist errors = { 0 }, warnings = { 0 };
	Overstapctl__Leaver **rows = NULL;
	struct csvfile_opts o = { .warnings = &warnings };
	size_t n = 0;

	(void)state;
	assert_int_equal(leavers_import("t.csv", csv, sizeof(csv) - 1, &o, &rows, &n, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(warnings.n, 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0]->diploma, "vmbo_b");
	assert_string_equal(rows[1]->diploma, "none");
	assert_string_equal(rows[2]->program, "vmbo_gt");
	assert_string_equal(rows[2]->diploma, "vmbo_t");
	leavers_free(&rows, n);
	strlist_clear(&warnings);
}

/* A school's own names and codes, from a map file. */
static void test_map(void **state)
{
	static const char map[] =
		"; exported from our own system\n"
		"[columns]\n"
		"Leerling ID = pupil_ref\n"
		"Uitstroomprofiel = program\n"
		"Naam = family_name\n"
		"[values.program]\n"
		"Arbeidsmarktgericht = vso_arbeid\n"
		"[values.destination_type]\n"
		"Werk met begeleiding = work\n";
	static const char csv[] =
		"Leerling ID;Naam;Geboortedatum;Uitstroomprofiel;Schooljaar;Uitschrijfdatum;"
		"Bestemming\n"
		"X1;Smit;01-02-2008;arbeidsmarktgericht;2024-2025;01-07-2025;Werk met begeleiding\n"
		"X2;Bos;01-03-2008;PrO;2024-2025;01-07-2025;werk\n";
	struct csvdialect_map *m = NULL;
	struct strlist errors = { 0 };
	Overstapctl__Leaver **rows = NULL;
	struct csvfile_opts o = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(csvdialect_map_parse("m.ini", map, &m, &errors), 0);
	o.map = m;
	assert_int_equal(leavers_import("t.csv", csv, sizeof(csv) - 1, &o, &rows, &n, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0]->pupil_ref, "X1");
	assert_string_equal(rows[0]->family_name, "Smit");
	assert_string_equal(rows[0]->program, "vso_arbeid");
	assert_string_equal(rows[0]->destination_type, "work");
	assert_string_equal(rows[1]->program, "pro");	/* the built-in names still hold */
	leavers_free(&rows, n);
	csvdialect_map_free(&m);
	assert_null(m);

	/* A map that names a column the import does not have. */
	assert_int_equal(csvdialect_map_parse("m.ini", "[columns]\nNaam = surname\n", &m, &errors),
			 0);
	o.map = m;
	expect_opts(csv, sizeof(csv) - 1, &o, -EINVAL, (const char *const[]){
		"t.csv:1: header: m.ini maps column 'naam' to 'surname', which this import does "
		"not have",
		"t.csv:1: header: missing required column 'program'", NULL });
	csvdialect_map_free(&m);

	/* A bad map: every problem with its line. */
	assert_int_equal(csvdialect_map_parse("m.ini", "x = y\n[kolommen]\na = b\n[columns]\n"
					      "a = pupil_ref\nA = program\nb =\nnonsense\n",
					      &m, &errors), -EINVAL);
	assert_null(m);
	assert_errors(&errors, (const char *const[]){
		"m.ini:1: 'x' is outside a section ([columns] or [values.COLUMN])",
		"m.ini:2: unknown section [kolommen] (expected [columns] or [values.COLUMN])",
		"m.ini:6: [columns] A: already given on line 5",
		"m.ini:7: [columns] b: no value",
		"m.ini:8: syntax error (expected [section] or 'name = value')", NULL });
	strlist_clear(&errors);
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
		cmocka_unit_test(test_duplicate_ref),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_empty_rows),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_fixture_magister),
		cmocka_unit_test(test_fixture_somtoday),
		cmocka_unit_test(test_fixture_parnassys),
		cmocka_unit_test(test_fixture_eduarte),
		cmocka_unit_test(test_dialect_options),
		cmocka_unit_test(test_diploma_dialect),
		cmocka_unit_test(test_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
