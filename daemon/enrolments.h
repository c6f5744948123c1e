/* enrolments: the enrolments CSV import at the MBO (design.md §8.4): every new
 * enrolment, with or without a dossier, so that the receiving report can say
 * how much of the whole intake came with a warm handover. Parsing with
 * csvfile, then per-row validation; all-or-nothing, every bad row reported
 * as "FILE:LINE: column: reason", never echoing a PGN.
 *
 *   | column      | required | meaning                                          |
 *   |-------------|----------|--------------------------------------------------|
 *   | pgn         | yes      | the student's BSN or onderwijsnummer (elfproef)  |
 *   | level       | yes      | the MBO level of the program, 1-4 (1 = entree)   |
 *   | start_date  | yes      | YYYY-MM-DD, the first day (may be ahead)         |
 *   | previous    | no       | the previous education when known: a program     |
 *   |             |          | code as in leavers (pro, vso_arbeid, vmbo_b, ...)|
 *
 * One row per (pgn, start_date). */
#ifndef OVERSTAP_ENROLMENTS_H
#define OVERSTAP_ENROLMENTS_H

#include <stddef.h>

#include "csvfile.h"
#include "util.h"

/* One validated row. */
struct enrolment_row_in {
	char pgn[10];			/* 9 digits, passing pgn_check() */
	int level;			/* 1..4 */
	char start_date[11];		/* YYYY-MM-DD */
	int previous;			/* enum Overstap__Program, 0 = not known */
	unsigned line;			/* line the record starts on (header = 1) */
};

/* One row as text: a CSV record or what the daemon is sent. NULL = empty. */
struct enrolment_input {
	const char *pgn;
	const char *level;
	const char *start_date;
	const char *previous;
	unsigned line;
};

/* Validate one row; "NAME:LINE: column: reason" into errors for every
 * problem. Returns the number of problems; when 0, *out (if not NULL) is the
 * complete row. */
int enrolment_row_validate(const char *name, const struct enrolment_input *in,
			   struct enrolment_row_in *out, struct strlist *errors);

/* Parse an enrolments CSV (header row, these columns in any order, no
 * others; UTF-8 BOM, CRLF, blank lines tolerated; a duplicate (pgn,
 * start_date) is an error). 0 with *rows (free with enrolments_free) and *n,
 * or -EINVAL with every problem in errors, -EFBIG over 64 MiB, -errno when
 * the file cannot be read, -ENOMEM. */
int enrolments_parse_buffer(const char *name, const char *data, size_t len,
			    struct enrolment_row_in **rows, size_t *n, struct strlist *errors);
int enrolments_parse_file(const char *path, struct enrolment_row_in **rows, size_t *n,
			  struct strlist *errors, csvfile_progress_fn progress, void *arg);
/* The same with the caller's dialect options (design.md §8.8). */
int enrolments_import_file(const char *path, const struct csvfile_opts *o,
			   struct enrolment_row_in **rows, size_t *n, struct strlist *errors);
void enrolments_free(struct enrolment_row_in **rows);

#endif
