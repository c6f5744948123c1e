/* registrations: the registrations CSV import at the receiving institution:
 * which pupils registered (aangemeld) here, and from which sending school, so
 * that the daemon can tell each school. Parsing with csvfile (RFC 4180), then
 * per-row validation. All-or-nothing: the caller stores nothing unless the
 * whole file validates; every bad row is reported as "FILE:LINE: column: reason".
 *
 * The file (UTF-8, header row required, columns in any order, no others):
 *
 *   | column          | required | meaning                                        |
 *   |-----------------|----------|------------------------------------------------|
 *   | pgn             | yes      | the pupil's BSN or onderwijsnummer: 9 digits,  |
 *   |                 |          | passing the elfproef (pgn.h)                   |
 *   | sending_school  | yes      | the school the pupil comes from: an            |
 *   |                 |          | institution id, BRIN + location, e.g. 12AB00   |
 *   | registered_on   | yes      | the date of registration, YYYY-MM-DD, not      |
 *   |                 |          | after today                                    |
 *
 * A pupil is registered once per sending school: a second row with the same
 * pgn and sending_school is an error. A pgn is personal data: messages give
 * the reason only, never the number. */
#ifndef OVERSTAP_REGISTRATIONS_H
#define OVERSTAP_REGISTRATIONS_H

#include <stddef.h>

#include "csvfile.h"
#include "util.h"

/* One validated row. */
struct registration_row {
	char pgn[10];			/* 9 digits, passing pgn_check() */
	char sending_school[7];		/* institution id, e.g. 12AB00 */
	char registered_on[11];		/* YYYY-MM-DD, not after `today` */
	unsigned line;			/* line the record starts on (header = 1) */
};

/* One row as text, before validation: a CSV record or the CLI's arguments
 * (`registration record PGN --from SCHOOL --date D`). NULL counts as empty;
 * the strings are borrowed. */
struct registration_input {
	const char *pgn;
	const char *sending_school;
	const char *registered_on;
	unsigned line;		/* the LINE part of messages */
};

/* Called while parsing: bytes consumed so far and total, for a progress bar. */
typedef csvfile_progress_fn registrations_progress_fn;

/* Validate one row against `today` (YYYY-MM-DD; NULL = the local date) and
 * append "NAME:LINE: column: reason" to errors for every problem, not only
 * the first (NAME NULL = "-"). Rules: pgn 9 digits passing the elfproef;
 * sending_school a valid institution id; registered_on a real date not after
 * today; every value at most 64 characters. An invalid `today` is reported
 * as a problem with registered_on. Returns the number of problems; when 0,
 * *out (if not NULL) is the complete row. On problems *out holds only the
 * fields that passed (the others empty). */
int registration_row_validate(const char *name, const struct registration_input *in,
			      const char *today, struct registration_row *out,
			      struct strlist *errors);

/* registrations_parse_buffer: parse a registrations CSV in memory; `name` is the FILE part of messages.
 * Header row required (pgn, sending_school, registered_on, any order, no
 * others); UTF-8 BOM, CRLF, bare CR and blank lines tolerated; blanks around
 * unquoted values are dropped; LINE is the line a record starts on (header =
 * 1). Every row is checked with registration_row_validate() against `today`
 * (NULL = the local date); a NUL byte in a value, a row with the wrong number
 * of fields, a duplicate (same pgn and sending_school as an earlier row),
 * malformed quoting, a record over 4 KiB or more than 1,000,000 rows are
 * errors too. On success returns 0 with *rows (NULL when there are none; free
 * with registrations_free) and *n, in file order. On any problem returns
 * -EINVAL, appends every message to errors (after what it already holds; at
 * most ~1000) and leaves *rows = NULL, *n = 0; an invalid `today` is -EINVAL
 * with one message too. More than 64 MiB: -EFBIG. Else -ENOMEM.
 * registrations_parse_file: the same, reading the file at path (which becomes the
 * FILE part); -errno when it cannot be read, -EFBIG when it is over 64 MiB.
 * registrations_free: frees rows returned by registrations_parse_*; takes NULL, NULLs *rows.
 * (Declared by csvfile.h: the two imports share their shape.) */
CSVFILE_DATED_IMPORT_DECLARE(registrations, struct registration_row);

#endif
