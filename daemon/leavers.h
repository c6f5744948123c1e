/* leavers: the leavers CSV import (design.md §8). Parsing with libcsv (RFC 4180),
 * then per-row validation. All-or-nothing: the caller stores nothing unless the
 * whole file validates; every bad row is reported as "FILE:LINE: column: reason". */
#ifndef OVERSTAP_LEAVERS_H
#define OVERSTAP_LEAVERS_H

#include <stddef.h>

#include "control.pb-c.h"
#include "csvfile.h"
#include "util.h"

/* Called while parsing: bytes consumed so far and total, for a progress bar. */
typedef void (*leavers_progress_fn)(size_t done, size_t total, void *arg);

/* Parse FILE into a list of leavers (protobuf-c control messages, strings as
 * found, trimmed of surrounding blanks, line = the physical line the record
 * starts on, header = line 1). Validates every row with leaver_validate().
 * Dialects are detected (design.md §8.8); this entry point is strict:
 * required header columns missing, unknown columns, a duplicate pupil_ref, a
 * row with the wrong number of fields or malformed quoting are errors too.
 * On success returns 0 with *out_rows / *out_n owned by the caller (free with
 * leavers_free). On validation failure returns -EINVAL with one error per
 * problem in errors (the rows are freed). Other failures: -errno. */
int leavers_parse_file(const char *path, Overstapctl__Leaver ***out_rows, size_t *out_n,
		       struct strlist *errors, leavers_progress_fn progress, void *arg);

/* Same, from a buffer; `name` is used in error messages as the FILE part. */
int leavers_parse_buffer(const char *name, const char *data, size_t len,
			 Overstapctl__Leaver ***out_rows, size_t *out_n, struct strlist *errors,
			 leavers_progress_fn progress, void *arg);

/* The same with the caller's dialect options (struct csvfile_opts: separator,
 * encoding, date format, --strict, the school's map, where the warning goes;
 * progress and arg; today is not used): what the CLI and any other reader of
 * a school's file call (design.md §8.8). */
int leavers_import(const char *name, const char *data, size_t len, const struct csvfile_opts *o,
		   Overstapctl__Leaver ***out_rows, size_t *out_n, struct strlist *errors);
int leavers_import_file(const char *path, const struct csvfile_opts *o,
			Overstapctl__Leaver ***out_rows, size_t *out_n, struct strlist *errors);

/* Streamed: the rows of the file at path to o->sink (csvfile_stream_file),
 * as Overstapctl__Leaver pointers; the sink frees each with
 * overstapctl__leaver__free_unpacked and then the array. Duplicate
 * pupil_refs are not looked for here. */
int leavers_stream_file(const char *path, const struct csvfile_opts *o, struct strlist *errors);
/* Same from fd (at its start; left open); name is the FILE part of messages. */
int leavers_stream_fd(const char *name, int fd, const struct csvfile_opts *o,
		      struct strlist *errors);

/* Validate one leaver; appends "NAME:LINE: column: reason" to errors for every
 * problem (not only the first) and returns the number of problems. Rules (design.md
 * §8): pupil_ref required (<= 64 chars, printable); pgn required when
 * destination_institution is set, must pass pgn_check; given_name and
 * family_name required when pgn is set (<= 128 chars each); birth_date required
 * and a real date; program/destination_type/advice/levels from vocab; cohort
 * "YYYY-YYYY" with consecutive years; exit_date required, a real date inside the
 * cohort's school year (1 August YYYY .. 31 July YYYY+1); advice_followed yes/no
 * or empty; destination_institution a valid institution id when set;
 * support_needs "code[:note];..." with known codes; mentor_email has an '@'. */
int leaver_validate(const char *name, const Overstapctl__Leaver *l, struct strlist *errors);

/* Free rows returned by leavers_parse_*; NULLs *rows. */
void leavers_free(Overstapctl__Leaver ***rows, size_t n);

#endif
