/* csvfile: the CSV driver the imports share (leavers, outcomes, registrations;
 * SPEC §8). libcsv does the RFC 4180 quoting; this module counts lines, skips
 * what is not a record, enforces the caps every import has, and hands whole
 * records to the importer's callbacks, which know the columns. It never
 * prints: problems go to the caller's error list as "FILE:LINE: message". */
#ifndef OVERSTAP_CSVFILE_H
#define OVERSTAP_CSVFILE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The usual file cap: an institution's yearly export is a few MB. */
#define CSVFILE_MAX_FILE ((size_t)64 << 20)
/* Messages of one parse; then stop: nobody reads on, and the list must fit a
 * control reply. */
#define CSVFILE_MAX_ERRORS 1000

/* One parse run; callbacks get it to report through csvfile_fail(). */
struct csvfile;

/* One field as libcsv delivers it: blanks around an unquoted value dropped,
 * quotes undone. */
struct csvfile_field {
	const char *s;	/* the bytes, NUL-terminated; may hold a NUL byte before s[len] */
	size_t len;	/* bytes */
};

/* One record; valid only during the callback it is passed to. */
struct csvfile_record {
	const struct csvfile_field *fields;	/* the first `kept` fields */
	size_t n;		/* fields in the record */
	size_t kept;		/* min(n, max_fields); the others are only counted */
	unsigned line;		/* line the record starts on (the first line = 1) */
};

/* Called while parsing: bytes consumed so far and total, for a progress bar. */
typedef void (*csvfile_progress_fn)(size_t done, size_t total, void *arg);

/* The callbacks return 0; > 0 when they appended messages to the error list
 * themselves (the parse then fails, as after csvfile_fail); or a negative
 * errno (-ENOMEM), which stops the parse and becomes its result. */

/* A whole record. */
typedef int (*csvfile_record_fn)(struct csvfile *cf, const struct csvfile_record *rec, void *arg);
/* Field i (< max_fields) of the record starting on `line`, as soon as libcsv
 * completes it: for checks that need no other field, so that they are made
 * even when the record is cut short later by malformed quoting or the record
 * cap, or has the wrong number of fields. */
typedef int (*csvfile_field_fn)(struct csvfile *cf, unsigned line, size_t i,
				const struct csvfile_field *f, void *arg);

/* What an import asks of the driver. */
struct csvfile_spec {
	size_t max_file;		/* bytes of the whole buffer: more is -EFBIG */
	size_t max_record;		/* bytes of one record, 0 = no cap */
	size_t max_rows;		/* data rows, 0 = no cap */
	size_t max_fields;		/* fields of a record kept for the callbacks, >= 1 */
	csvfile_field_fn header_field;	/* each header field; NULL = none */
	csvfile_record_fn header;	/* the header record; any problem stops the parse */
	csvfile_field_fn row_field;	/* each field of a data record; NULL = none */
	csvfile_record_fn row;		/* each data row with the header's field count */
	void *arg;			/* for the four above */
	csvfile_progress_fn progress;	/* NULL = none */
	void *progress_arg;
};

/* Parse data (len bytes, not NUL-terminated); `name` is the FILE part of
 * messages (NULL = "-"). A UTF-8 BOM at the very start, CRLF, bare CR and
 * blank lines are tolerated. The first record goes to spec->header; after
 * that, a record whose fields are all empty (",,,": a spreadsheet's empty
 * row) is skipped, one with the header's field count goes to spec->row (at
 * most spec->max_rows of them) and any other is reported. The field
 * callbacks see every field before its record callback runs. Malformed quoting,
 * a record over spec->max_record bytes, a missing header and more than
 * CSVFILE_MAX_ERRORS messages (counted from errors->n on entry) are reported
 * too and stop the parse, as does a problem in the header. Messages are
 * appended to errors. Returns 0 when nothing was reported, -EINVAL when
 * something was, -EFBIG (before anything else) when len > spec->max_file,
 * or a callback's negative result, else -ENOMEM. */
int csvfile_parse(const char *name, const char *data, size_t len,
		  const struct csvfile_spec *spec, struct strlist *errors);

/* Report "FILE:LINE: message" from a callback and fail the parse. Returns 0,
 * or -ENOMEM when the message could not be stored (the parse fails anyway). */
int csvfile_fail(struct csvfile *cf, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Duplicate rows: an open-addressing set of row indexes over rows the
 * caller keeps (they may move: slots hold index + 1, never a pointer). The
 * caller says how a row hashes and when two rows are the same; rows is
 * passed on every call. At most UINT32_MAX - 1 rows. */
struct csvfile_dups {
	uint32_t *v;		/* cap slots, owned; 0 = free */
	size_t n, cap;		/* used; a power of two */
};
typedef uint64_t (*csvfile_hash_fn)(const void *rows, size_t i);
typedef int (*csvfile_same_fn)(const void *rows, size_t a, size_t b);
/* Add row i; *prev = 1 + the index of an earlier equal row, else 0.
 * 0 or -ENOMEM. */
int csvfile_dups_add(struct csvfile_dups *d, const void *rows, size_t i, csvfile_hash_fn hash,
		     csvfile_same_fn same, size_t *prev);
void csvfile_dups_free(struct csvfile_dups *d);

#endif
