/* csvfile: the CSV layer under the imports (leavers, outcomes, registrations;
 * design.md §8). libcsv does the RFC 4180 quoting; this module counts lines, skips
 * what is not a record, enforces the caps, and is the one place where a
 * header name becomes a column. An import describes its columns in a table
 * (name, required, where the value goes in its row view, a check); csvfile
 * maps the header, fills the view of every row, runs the checks, collects
 * the messages as "FILE:LINE: column: reason", drops duplicate rows and
 * keeps the file all-or-nothing. It never prints. */
#ifndef OVERSTAP_CSVFILE_H
#define OVERSTAP_CSVFILE_H

#include <stddef.h>
#include <stdint.h>

#include "csvdialect.h"
#include "util.h"

/* The usual file cap: an institution's yearly export is a few MB. */
#define CSVFILE_MAX_FILE ((size_t)64 << 20)
/* Messages of one parse; then stop: nobody reads on, and the list must fit a
 * control reply. */
#define CSVFILE_MAX_ERRORS 1000
/* Bytes of a bad value quoted back in a message, and the buffer for it. */
#define CSVFILE_ECHO_MAX 32
#define CSVFILE_ECHO_SIZE (CSVFILE_ECHO_MAX + 4)

/* One parse run. */
struct csvfile;

/* One row under check: a CSV record, or the CLI's arguments checked by the
 * same rules. Problems go to errors as "NAME:LINE: column: reason". */
struct csvfile_check {
	const char *name;		/* FILE part of every message */
	unsigned line;			/* LINE part */
	struct strlist *errors;		/* where the messages go */
	int problems;			/* found so far */
	const char *today;		/* YYYY-MM-DD no date may pass (CSVFILE_TODAY), else NULL */
	const void *view;		/* the row's values, for rules across columns */
	const struct csvfile_table *t;	/* the import, for shown; NULL = no file */
	const char *const *shown;	/* t->ncols: the file's own header name of each column
					 * where it is not the column's, else NULL; may be NULL */
};

struct csvfile_col;
/* A column's check of its value v ("" when empty or absent) in c->view;
 * what passed goes into out, the table's row (NULL when only checking). */
typedef void (*csvfile_check_fn)(struct csvfile_check *c, const struct csvfile_col *col,
				 const char *v, void *out);

/* Column flags. */
#define CSVFILE_REQUIRED 1u	/* the header must have it */

/* One column. An import may extend this (as the first member of its own
 * struct, with table->col_size) for details its checks need. */
struct csvfile_col {
	const char *name;	/* header name, matched exactly; the column in messages */
	unsigned flags;		/* CSVFILE_REQUIRED */
	size_t off;		/* of the value's `const char *` in the row view */
	csvfile_check_fn check;	/* run on every row, in table order; NULL = none */
};

/* Table flags: where the imports differ, kept as they were. */
enum {
	CSVFILE_UTF8 = 1 << 0,		/* header names must be UTF-8; echoes keep UTF-8
					 * (else anything but printable ASCII is '?') */
	CSVFILE_LIST_COLUMNS = 1 << 1,	/* an unknown column's message lists the known ones */
	CSVFILE_NUL_EARLY = 1 << 2,	/* a NUL byte is reported as the field arrives (also
					 * in a row of the wrong length) and the value checked
					 * up to it; else it is reported with the row, in table
					 * order, and the value is not checked further */
	CSVFILE_TODAY = 1 << 3,		/* the import takes a `today` no date may pass */
};

/* A value in the staff's spelling to the import's own (design.md §8.8): the
 * canonical form of v (static storage, or written into buf of size bytes),
 * or NULL to keep v as it is; v is never empty. */
typedef const char *(*csvfile_canon_fn)(const char *v, char *buf, size_t size);

/* Dialect flags of a column. */
#define CSVFILE_DATE 1u		/* a date: written as the file's dialect says, kept as YYYY-MM-DD */

/* What a column also answers to, and how its values are read, beyond the
 * exact name and codes (design.md §8.8): one entry per column that has any. */
struct csvfile_dialect_col {
	const char *col;		/* the column's name in the table */
	const char *aliases;		/* other header names, folded (csvdialect_fold),
					 * '|'-separated, best first; NULL = none */
	csvfile_canon_fn canon;		/* NULL = values as they are */
	unsigned flags;			/* CSVFILE_DATE */
};

typedef uint64_t (*csvfile_hash_fn)(const void *rows, size_t i);
typedef int (*csvfile_same_fn)(const void *rows, size_t a, size_t b);
/* Called while parsing: bytes consumed so far and total, for a progress bar. */
typedef void (*csvfile_progress_fn)(size_t done, size_t total, void *arg);

/* An import. */
struct csvfile_table {
	const struct csvfile_col *cols;	/* message order within a row */
	size_t ncols;			/* at most 32 */
	size_t col_size;		/* bytes of one entry of cols */
	unsigned flags;			/* CSVFILE_UTF8, ... */
	size_t max_file;		/* bytes of the whole file: more is -EFBIG */
	size_t max_record;		/* bytes of one record, 0 = no cap */
	size_t max_rows;		/* data rows, 0 = no cap */
	size_t max_columns;		/* header fields: more is an error */
	size_t view_size;		/* bytes of the row view the columns point into */
	size_t row_size;		/* bytes of one row of the result */
	/* After the column checks: finish out (the row is zeroed before the
	 * checks) and say whether its key is complete, so that it can be a
	 * duplicate: 1 or 0, or -ENOMEM. */
	int (*finish)(const struct csvfile_check *c, const void *view, void *out);
	void (*row_free)(void *row);	/* what a result row owns; NULL = nothing */
	csvfile_hash_fn hash;		/* the key of result rows[i]; NULL = no duplicates check */
	csvfile_same_fn same;		/* same key */
	const char *dup_col;		/* duplicates: "COL: duplicate of line N" */
	const char *dup_why;		/* and what follows, e.g. " (same pgn and sending_school)" */
	const struct csvfile_dialect_col *dialect;	/* aliases, codes and dates; may be NULL */
	size_t ndialect;		/* entries in dialect */
};

/* What the public entry points take besides the data: the same for the CLI
 * and any other caller. All zero is the default: everything detected, unknown
 * columns ignored (design.md §8.8). */
struct csvfile_opts {
	const char *today;		/* CSVFILE_TODAY: YYYY-MM-DD, NULL = the local date */
	csvfile_progress_fn progress;	/* NULL = none */
	void *arg;			/* for progress */
	char delimiter;			/* ',' ';' '\t' ...; 0 = detected from the header line */
	const char *encoding;		/* an iconv(3) name; NULL or "auto" = UTF-8 when the
					 * bytes are valid UTF-8, else Windows-1252 */
	enum csvdialect_date date_format;	/* CSVDIALECT_DATE_AUTO = per value */
	int strict;			/* unknown header names are errors, not ignored */
	const struct csvdialect_map *map;	/* the school's own names and codes; NULL = none */
	struct strlist *warnings;	/* the one "ignoring unknown columns" line; NULL = none */
	/* Streamed (design.md §8.5): the rows that passed their checks go to
	 * sink sink_rows at a time (and the rest at the end) instead of the
	 * result; the sink owns them (the table's row_free on each, then free
	 * the array). Rows with problems are only reported, and duplicates are
	 * not looked for: that is the sink's (the daemon's) part. A sink's
	 * negative return stops the parse and is returned. NULL = no stream. */
	int (*sink)(void *arg, void *rows, size_t n);
	void *sink_arg;
	size_t sink_rows;
};

/* Parse data (len bytes, not NUL-terminated) as table t says; `name` is the
 * FILE part of messages (NULL = "-"). The data is first decoded to UTF-8
 * (o->encoding, csvdialect_decode) and its separator found (o->delimiter, or
 * csvdialect_delimiter_detect). A UTF-8 BOM at the very start, CRLF,
 * bare CR and blank lines are tolerated; blanks around an unquoted value are
 * dropped. The first record is the header: each field names a column (its
 * name or an alias, in any case and with blanks, '-', '_' freely; or the
 * name o->map gives it) at most once, or is empty or unknown: those columns
 * are ignored, the unknown ones listed in one line in o->warnings (with
 * o->strict an unknown name is an error); at most t->max_columns named
 * columns, every CSVFILE_REQUIRED column present. After that,
 * a record whose fields are all empty (",,,") is skipped, one with the
 * header's fields up to the last named one, and nothing but empty fields
 * past the header's, is a row: each value is mapped (o->map, the column's
 * canon, CSVFILE_DATE to YYYY-MM-DD as o->date_format says), its view is
 * filled, the columns' checks
 * and t->finish run, and it is kept (also when bad, so that later duplicates
 * can point at it). LINE is the line a record starts on (header = 1).
 * Malformed quoting, a record over t->max_record bytes, more than t->max_rows
 * rows and CSVFILE_MAX_ERRORS messages stop the parse, as does a bad header.
 * rows_out is the address of the caller's pointer to result rows. On success
 * returns 0 with the rows (NULL when none; the caller's) and *n. On any
 * problem returns -EINVAL with every message appended to errors, or -EFBIG
 * (over t->max_file, before anything else), or -ENOMEM; then the pointer is
 * NULL and *n 0. */
int csvfile_import(const struct csvfile_table *t, const char *name, const char *data,
		   size_t len, const struct csvfile_opts *o, void *rows_out, size_t *n,
		   struct strlist *errors);
/* Same, reading the file at path (which becomes the FILE part): -errno when
 * it cannot be read, -EFBIG when it is over t->max_file. */
int csvfile_import_file(const struct csvfile_table *t, const char *path,
			const struct csvfile_opts *o, void *rows_out, size_t *n,
			struct strlist *errors);

/* Parse the file at path as csvfile_import does, streamed: it is read a
 * block at a time (a UTF-8 file, or one auto-detected as UTF-8 in a first
 * pass; a file in another encoding is decoded whole first) and its rows go
 * to o->sink (required). Memory stays bounded by the block, the longest
 * line and o->sink_rows. Returns as csvfile_import (no rows). */
int csvfile_stream_file(const struct csvfile_table *t, const char *path,
			const struct csvfile_opts *o, struct strlist *errors);
/* Same from fd (at its start; left open), name the FILE part of messages. */
int csvfile_stream_fd(const struct csvfile_table *t, const char *name, int fd,
		      const struct csvfile_opts *o, struct strlist *errors);

/* Check one row's view (the CLI's path: no CSV) as a parse would, with
 * today NULL = the local date (CSVFILE_TODAY) and out zeroed and finished
 * (when not NULL). Returns the number of problems. */
int csvfile_check_view(const struct csvfile_table *t, const char *name, unsigned line,
		       const char *today, const void *view, void *out, struct strlist *errors);

/* Report a problem with col's value. On -ENOMEM the message is lost but the
 * problem still counts, so the import still fails. */
void csvfile_check_fail(struct csvfile_check *c, const struct csvfile_col *col,
			const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The checks most values get: 1 when v is worth checking further; else 0,
 * reported when v is empty and col CSVFILE_REQUIRED or v has more than max
 * bytes. */
int csvfile_check_present(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			  size_t max);
/* 1 when v is present (as above) and a real date not after c->today. */
int csvfile_check_date(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
		       size_t max);

/* 1 when v is present (as above) and valid(v); else 0, reported as
 * "'V' WHAT" with v echoed (never use it for personal data). */
int csvfile_check_valid(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			size_t max, int (*valid)(const char *v), const char *what);

/* 1 when v is text by the rule the network applies too (util.h text_check:
 * valid UTF-8, no control character, no bidirectional override or isolate;
 * TEXT_LINES for free text that may hold tabs and line breaks); else 0,
 * reported as text_check's reason, never echoing v. Length is the caller's
 * (in characters, not the bytes text_check counts). */
int csvfile_check_text(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
		       unsigned flags);

/* col's value in a row view: "" for NULL. */
const char *csvfile_value(const void *view, const struct csvfile_col *col);
/* A bad value (len bytes) quoted back in a message: at most CSVFILE_ECHO_MAX
 * bytes (cut on a character boundary with CSVFILE_UTF8), "..." when cut, and
 * control characters (without CSVFILE_UTF8: all but printable ASCII) as '?',
 * so that one error stays one line of clean text. Returns out. */
const char *csvfile_echo(char out[CSVFILE_ECHO_SIZE], const char *v, size_t len, unsigned flags);
/* 1 when s is well-formed UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF); *n is then its length in code points. */
int csvfile_utf8_count(const char *s, size_t *n);
/* FNV-1a over s's bytes, continuing from h (start with CSVFILE_HASH0). */
#define CSVFILE_HASH0 0xcbf29ce484222325u
uint64_t csvfile_hash(uint64_t h, const char *s);

/* The entry points of an import that takes a `today` and whose result rows
 * (Row) own nothing: VALIDATE(name, in, today, out, errors) checks one In,
 * PREFIX_parse_buffer(name, data, len, today, rows, n, errors, progress, arg)
 * and PREFIX_parse_file(path, today, ...) run csvfile_import(_file) with t
 * and the default dialect but strict (unknown columns are errors, as they
 * were before dialects), PREFIX_import(name, data, len, o, rows, n, errors)
 * and PREFIX_import_file(path, o, rows, n, errors) with the caller's options
 * (o->today included), PREFIX_free(&rows) frees the rows (takes NULL, NULLs
 * *rows). Outcomes and registrations have the same API: written once,
 * declared and defined here. */
#define CSVFILE_DATED_IMPORT_DECLARE(prefix, Row)					\
	int prefix##_parse_buffer(const char *name, const char *data, size_t len,	\
				  const char *today, Row **rows, size_t *n,		\
				  struct strlist *errors, csvfile_progress_fn progress,	\
				  void *arg);						\
	int prefix##_parse_file(const char *path, const char *today, Row **rows,	\
				size_t *n, struct strlist *errors,			\
				csvfile_progress_fn progress, void *arg);		\
	int prefix##_import(const char *name, const char *data, size_t len,		\
			    const struct csvfile_opts *o, Row **rows, size_t *n,	\
			    struct strlist *errors);					\
	int prefix##_import_file(const char *path, const struct csvfile_opts *o,	\
				 Row **rows, size_t *n, struct strlist *errors);	\
	void prefix##_free(Row **rows)

#define CSVFILE_DATED_IMPORT(prefix, validate, In, Row, t)				\
	int validate(const char *name, const In *in, const char *today, Row *out,	\
		     struct strlist *errors)						\
	{										\
		Row row;								\
											\
		return csvfile_check_view(&(t), name, in->line, today, in,		\
					  out ? out : &row, errors);			\
	}										\
	int prefix##_parse_buffer(const char *name, const char *data, size_t len,	\
				  const char *today, Row **rows, size_t *n,		\
				  struct strlist *errors, csvfile_progress_fn progress,	\
				  void *arg)						\
	{										\
		const struct csvfile_opts o = { .today = today, .progress = progress,	\
						.arg = arg, .strict = 1 };		\
											\
		return csvfile_import(&(t), name, data, len, &o, rows, n, errors);	\
	}										\
	int prefix##_parse_file(const char *path, const char *today, Row **rows,	\
				size_t *n, struct strlist *errors,			\
				csvfile_progress_fn progress, void *arg)		\
	{										\
		const struct csvfile_opts o = { .today = today, .progress = progress,	\
						.arg = arg, .strict = 1 };		\
											\
		return csvfile_import_file(&(t), path, &o, rows, n, errors);		\
	}										\
	int prefix##_import(const char *name, const char *data, size_t len,		\
			    const struct csvfile_opts *o, Row **rows, size_t *n,	\
			    struct strlist *errors)					\
	{										\
		return csvfile_import(&(t), name, data, len, o, rows, n, errors);	\
	}										\
	int prefix##_import_file(const char *path, const struct csvfile_opts *o,	\
				 Row **rows, size_t *n, struct strlist *errors)		\
	{										\
		return csvfile_import_file(&(t), path, o, rows, n, errors);		\
	}										\
	void prefix##_free(Row **rows)							\
	{										\
		if (rows) {								\
			free(*rows);							\
			*rows = NULL;							\
		}									\
	}

#endif
