/* Unit tests for consents_csv.c: the consents CSV's columns and one row's
 * checks, every problem as FILE:LINE: column: reason (design.md §8.7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "consents_csv.h"

#define TODAY "2026-01-15"
#define HEADER "pupil_ref,purpose,for,by,granted_on,until,evidence,ref\n"

static int s_parse(const char *text, struct consents_csv_row **rows, size_t *n,
		   struct strlist *errors)
{
	return consents_csv_parse_buffer("c.csv", text, strlen(text), TODAY, rows, n, errors, NULL,
					 NULL);
}

static int s_has(const struct strlist *l, const char *want)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], want) == 0)
			return 1;
	return 0;
}

static void test_good(void **state)
{
	struct consents_csv_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(s_parse(HEADER "L1,follow_up,25LZ00,parent,2025-09-01,,form,F-1\n"
				 "L2,handover,*,pupil,,2027-07-31,digital,\"P 7\"\n", &rows, &n,
				 &errors), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].counterpart, "25LZ00");
	assert_string_equal(rows[0].granted_at, "2025-09-01");
	assert_int_equal(rows[0].line, 2);
	assert_string_equal(rows[1].counterpart, "*");
	assert_string_equal(rows[1].granted_at, "");
	assert_string_equal(rows[1].valid_until, "2027-07-31");
	assert_string_equal(rows[1].evidence_ref, "P 7");
	consents_csv_free(&rows);
}

/* Consents as a school's LAS or a spreadsheet writes them (design.md §8.8):
 * ';', Dutch header names and codes in any case, dates day-month-year, the
 * empty trailing columns of a spreadsheet. Before: each was an error. */
static void test_dialect(void **state)
{
	struct consents_csv_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	(void)state;
	r = s_parse("Leerlingnummer;Doel;Voor;Door;Datum toestemming;Geldig tot;"
				 "Bewijs;Kenmerk;;\r\n"
				 "L1;Nazorg;25LZ00;Ouder;01-09-2025;31-7-2027;Formulier;F-1;;\r\n"
				 "L2;HANDOVER;*;Leerling;2/9/2025;;E-mail;M-2;;\r\n"
				 "L3;follow_up;25lz00;Voogd;2025-09-03;;Digitaal;D-3;;\r\n",
				 &rows, &n, &errors);
	for (size_t i = 0; i < errors.n; i++)
		print_message("got: %s\n", errors.v[i]);
	assert_int_equal(r, 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].purpose, "follow_up");
	assert_string_equal(rows[0].grantor, "parent");
	assert_string_equal(rows[0].granted_at, "2025-09-01");
	assert_string_equal(rows[0].valid_until, "2027-07-31");
	assert_string_equal(rows[0].evidence_method, "form");
	assert_string_equal(rows[1].purpose, "handover");
	assert_string_equal(rows[1].grantor, "pupil");
	assert_string_equal(rows[1].granted_at, "2025-09-02");
	assert_string_equal(rows[1].evidence_method, "email");
	assert_string_equal(rows[2].grantor, "guardian");
	assert_string_equal(rows[2].counterpart, "25LZ00");	/* as a spreadsheet lowered it */
	assert_string_equal(rows[2].evidence_method, "digital");
	consents_csv_free(&rows);
	/* a word that is no code is still an error, named as the file names it */
	assert_int_equal(s_parse("Leerlingnummer;Doel;Door;Bewijs;Kenmerk\n"
				 "L1;Nazorg;Buurman;Formulier;F-1\n", &rows, &n, &errors), -EINVAL);
	assert_true(s_has(&errors, "c.csv:2: by (Door): 'Buurman' is not a grantor (expected one "
				   "of: pupil, parent, guardian)"));
	strlist_clear(&errors);
}

static void test_every_problem_named(void **state)
{
	struct consents_csv_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(s_parse(HEADER "L1,outcomes,25LZ00,parent,2025-09-01,,form,F-1\n"
				 "L2,handover,25lz,mother,2027-01-01,2025-02-30,fax,\n"
				 "L1,follow_up,25LZ00,parent,2025-09-01,,form,F-1\n"
				 "L1,follow_up,25LZ00,parent,2025-09-01,,form,F-1\n", &rows, &n,
				 &errors), -EINVAL);
	assert_null(rows);
	assert_true(s_has(&errors, "c.csv:2: purpose: 'outcomes' is not a purpose (expected one of:"
				   " handover, follow_up)"));
	assert_true(s_has(&errors, "c.csv:3: for: '25lz' is not an institution id (BRIN + location,"
				   " e.g. 12AB00) or *"));
	assert_true(s_has(&errors, "c.csv:3: by: 'mother' is not a grantor (expected one of: pupil,"
				   " parent, guardian)"));
	assert_true(s_has(&errors, "c.csv:3: until: '2025-02-30' is not a real date (YYYY-MM-DD)"));
	assert_true(s_has(&errors, "c.csv:3: ref: is required"));
	assert_true(s_has(&errors, "c.csv:5: pupil_ref: duplicate of line 4 (the same consent twice)"));
	{
		int future = 0, evidence = 0;

		for (size_t i = 0; i < errors.n; i++) {
			future |= strncmp(errors.v[i], "c.csv:3: granted_on: ", 21) == 0;
			evidence |= strncmp(errors.v[i], "c.csv:3: evidence: 'fax'", 24) == 0;
		}
		assert_true(future);
		assert_true(evidence);
	}
	strlist_clear(&errors);
	/* a column we do not know is an error too */
	assert_int_equal(s_parse("pupil_ref,purpose,by,evidence,ref,name\n", &rows, &n, &errors),
			 -EINVAL);
	assert_true(errors.n >= 1);
	strlist_clear(&errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_dialect),
		cmocka_unit_test(test_every_problem_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
