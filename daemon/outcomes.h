/* outcomes: the outcomes CSV import at the receiving institution (design.md §8).
 * Parsing with csvfile (RFC 4180), then per-row validation. The events are in
 * vocab.h, included here for the callers that know them from this header. All-or-nothing: the
 * caller stores nothing unless the whole file validates; every bad row is
 * reported as "FILE:LINE: column: reason". */
#ifndef OVERSTAP_OUTCOMES_H
#define OVERSTAP_OUTCOMES_H

#include <stddef.h>

#include "crypto.h"
#include "csvfile.h"
#include "util.h"
#include "vocab.h"

/* One validated row. */
struct outcome_row {
	char record_id[CRYPTO_UUID_STR_LEN + 1];	/* the handover's record id, lower-case UUID,
							 * or "" when the row gives pgn */
	char pgn[10];					/* the pupil's PGN in place of record_id, else "" */
	enum outcome_event event;			/* never OUTCOME_EV_UNKNOWN */
	char date[11];					/* YYYY-MM-DD, not after `today` */
	int level;					/* 1..4 for diploma/progressed, else 0 */
	unsigned line;					/* line the record starts on (header = 1) */
};

/* One row as text, before validation: a CSV record or the CLI's arguments.
 * NULL counts as empty; the strings are borrowed. */
struct outcome_input {
	const char *record_id;
	const char *event;
	const char *date;
	const char *level;
	unsigned line;		/* the LINE part of messages */
	const char *pgn;	/* in place of record_id (the MBO's key, design.md §8.2) */		/* the LINE part of messages */
};

/* Called while parsing: bytes consumed so far and total, for a progress bar. */
typedef csvfile_progress_fn outcomes_progress_fn;

/* Validate one row against `today` (YYYY-MM-DD; NULL = the local date) and
 * append "NAME:LINE: column: reason" to errors for every problem, not only
 * the first (NAME NULL = "-"). Rules (design.md §8): record_id a canonical
 * lower-case UUID, or else pgn a PGN passing the elfproef (one of the two); event from the list above; date a real date not after
 * today; level 1..4, required for diploma and progressed and empty otherwise;
 * every value at most 64 characters. An invalid `today` is reported as a
 * problem with date. Returns the number of problems; when 0, *out (if not
 * NULL) is the complete row. On problems *out holds only the fields that
 * passed (the others empty/0). */
int outcome_row_validate(const char *name, const struct outcome_input *in, const char *today,
			 struct outcome_row *out, struct strlist *errors);

/* outcomes_parse_buffer: parse an outcomes CSV in memory; `name` is the FILE part of messages. Header
 * row required (columns record_id, event, date required, level optional, any
 * order, no others); UTF-8 BOM, CRLF, bare CR and blank lines tolerated; blanks
 * around unquoted values are dropped; LINE is the line a record starts on
 * (header = 1). Every row is checked with outcome_row_validate() against
 * `today` (NULL = the local date); a NUL byte in a value, a row with the
 * wrong number of fields, a duplicate (same record_id, event and date as an
 * earlier row), malformed quoting, a record over 4 KiB or more than 1,000,000
 * rows are errors too. On success returns 0 with *rows (NULL when there are
 * none; free with outcomes_free) and *n, in file order. On any problem
 * returns -EINVAL, appends every message to errors (after what it already
 * holds; at most ~1000) and leaves *rows = NULL, *n = 0; an invalid `today`
 * is -EINVAL with one message too. More than 64 MiB: -EFBIG. Else -ENOMEM.
 * outcomes_parse_file: the same, reading the file at path (which becomes the
 * FILE part); -errno when it cannot be read, -EFBIG when it is over 64 MiB.
 * outcomes_free: frees rows returned by outcomes_parse_*; takes NULL, NULLs *rows.
 * (Declared by csvfile.h: the two imports share their shape.) */
CSVFILE_DATED_IMPORT_DECLARE(outcomes, struct outcome_row);

#endif
