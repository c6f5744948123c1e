/* consents_csv: the consents CSV import at the sending school (design.md §8.7):
 * consents collected on paper or in the school's LAS, recorded in bulk with
 * the rules of `overstap consent grant`. This module is the column table on
 * csvfile and the checks one row can have alone; the daemon adds the rules
 * that need the pupil (exists, birth date and the under-16 rule, default
 * counterpart) and stores the whole file or nothing.
 *
 *   | column      | required | meaning                                          |
 *   |-------------|----------|--------------------------------------------------|
 *   | pupil_ref   | yes      | the school's pupil number (an imported leaver)   |
 *   | purpose     | yes      | handover or follow_up                            |
 *   | for         | no       | institution id, or * for any; empty = the        |
 *   |             |          | pupil's destination institution                  |
 *   | by          | yes      | pupil, parent or guardian                        |
 *   | granted_on  | no       | YYYY-MM-DD, not after today; empty = today       |
 *   | until       | no       | YYYY-MM-DD, last day valid; empty = no end       |
 *   | evidence    | yes      | form, digital, email or verbal_recorded          |
 *   | ref         | yes      | where the evidence is kept (printable ASCII)     |
 *
 * A row equal to an earlier one in every column is a duplicate (an error). */
#ifndef OVERSTAP_CONSENTS_CSV_H
#define OVERSTAP_CONSENTS_CSV_H

#include <stddef.h>

#include "control.pb-c.h"
#include "csvfile.h"
#include "util.h"

/* One checked row: values as in the file, codes as the consent engine spells
 * them (the dialect's names read as the code), "" when empty. */
struct consents_csv_row {
	char pupil_ref[65];
	char purpose[16];
	char counterpart[7];		/* institution id, "*", or "" */
	char grantor[16];
	char granted_at[11];		/* "" = today */
	char valid_until[11];		/* "" = no end */
	char evidence_method[24];
	char evidence_ref[129];
	unsigned line;			/* line the record starts on (header = 1) */
};

/* One row as text, before the checks: a CSV record, or a request's row that
 * the daemon checks again. NULL counts as empty; the strings are borrowed. */
struct consents_csv_input {
	const char *pupil_ref;
	const char *purpose;
	const char *counterpart;
	const char *grantor;
	const char *granted_at;
	const char *valid_until;
	const char *evidence_method;
	const char *evidence_ref;
	unsigned line;
};

/* consents_csv_validate(name, in, today, out, errors): check one row against
 * today (NULL = the local date), every problem as "NAME:LINE: column: reason";
 * the number of problems. consents_csv_parse_buffer / _parse_file / _free:
 * as csvfile.h's CSVFILE_DATED_IMPORT_DECLARE says (at most 100,000 rows,
 * records of 4 KiB, 64 MiB). */
int consents_csv_validate(const char *name, const struct consents_csv_input *in,
			  const char *today, struct consents_csv_row *out, struct strlist *errors);
CSVFILE_DATED_IMPORT_DECLARE(consents_csv, struct consents_csv_row);

/* The n rows as the ConsentGrant requests the daemon takes (their strings
 * point into rows): *grants and *ptrs are the caller's to free (both, even
 * on failure). 0 or -ENOMEM. */
int consents_csv_grants(struct consents_csv_row *rows, size_t n,
			Overstapctl__ConsentGrant **grants, Overstapctl__ConsentGrant ***ptrs);

#endif
