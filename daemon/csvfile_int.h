/* csvfile_int.h: what the parts of csvfile share (csvfile.c: the parse;
 * csvfile_stream.c: a file read a block at a time, design.md §8.5). */
#ifndef OVERSTAP_CSVFILE_INT_H
#define OVERSTAP_CSVFILE_INT_H

#include <csv.h>

#include "csvfile.h"

#define S_PROGRESS_EVERY 1000	/* data records between progress calls */
#define S_FOLD 128		/* bytes of a folded header name or code */
#define S_NORM 40		/* bytes of a value in the import's spelling (a UUID: 37) */
#define S_RANK_MAP 0		/* how a header field named its column: the --map file, */
#define S_RANK_NAME 1		/* the column's own name, */
#define S_RANK_ALIAS 2		/* an alias (2 + its place in the list) */

/* Column i of t's table. */
static inline const struct csvfile_col *csvfile_col_at(const struct csvfile_table *t, size_t i)
{
	return (const struct csvfile_col *)(const void *)((const char *)t->cols + i * t->col_size);
}

/* Every column's check but those in skip (bit per column: reported already),
 * then t->finish; out (row_size bytes) is zeroed first. The problems found,
 * or -ENOMEM (csvfile_check.c). */
int csvfile_check_row(const struct csvfile_table *t, struct csvfile_check *c, unsigned skip,
		      void *out);

/* One field as libcsv delivers it: blanks around an unquoted value dropped,
 * quotes undone. */
struct s_field {
	const char *s;	/* the bytes, NUL-terminated; may hold a NUL byte before s[len] */
	size_t len;	/* bytes */
};

/* The rows of the result, bad ones too until the end. */
struct s_rows {
	char *v;		/* n rows of table->row_size bytes, owned */
	unsigned *lines;	/* the line of each, owned */
	size_t n, cap;
	uint32_t *dups;		/* open addressing over row indexes + 1 (rows move); 0 = free */
	size_t ndups, dcap;	/* used; a power of two */
};

/* A column's last code as written and in the import's spelling: a school's
 * file repeats a handful of codes per column, so most rows map none. */
struct s_memo {
	char in[S_NORM];	/* as written; "" = none yet */
	const char *out;	/* static storage, the map's, or out_buf */
	char out_buf[S_NORM];
};

struct csvfile {
	const char *name;		/* FILE part of messages */
	const struct csvfile_table *t;	/* the import's, borrowed */
	const struct csvfile_opts *o;	/* the caller's, borrowed */
	char today[11];			/* CSVFILE_TODAY: the date no value may pass */
	struct strlist *errors;		/* the caller's list */
	size_t errors0;			/* errors->n on entry: ours come after */
	int failed;			/* a problem was reported: the parse fails */
	int r;				/* hard failure (-ENOMEM) */
	int stop;			/* header unusable, malformed CSV, a cap reached */
	unsigned line;			/* physical line now fed to libcsv */
	unsigned rec_line;		/* line the current record starts on */
	int in_rec;			/* a record has begun and not ended */
	int row_ended;			/* the record ended in the current chunk */
	size_t rec_bytes;		/* bytes of the current record fed so far */
	size_t done, total;		/* bytes, for progress */
	size_t records;			/* non-empty data records seen */
	int have_header;		/* the header record is done */
	size_t ncols;			/* fields in the header */
	size_t named;			/* header fields up to the last with a name */
	int extra;			/* the current record has a value past the header's fields */
	char delim;			/* the separator */
	int *map;			/* max_columns: header position -> column, -1 = none; owned */
	unsigned *rank;			/* max_columns: how it was named (S_RANK_*); owned */
	const struct csvfile_dialect_col **dia;	/* t->ncols: each column's, or NULL; owned */
	const void **vsec;		/* t->ncols: each column's values in o->map, or NULL; owned */
	char (*norm)[S_NORM];		/* t->ncols: a value in the import's spelling; owned */
	struct s_memo *memo;		/* t->ncols: each column's last mapped code; owned */
	char **shown;			/* t->ncols: the header's name where it is not the
					 * column's (echoed), else NULL; each owned */
	/* the current record */
	size_t nfields;			/* fields seen */
	int nonempty;			/* one of them has a value */
	char *buf;			/* the kept fields' bytes, each NUL-terminated; owned */
	size_t used, cap;
	size_t *offs;			/* max_columns: where field i starts in buf; owned */
	struct s_field *fields;		/* max_columns: lengths, pointers at the end; owned */
	void *view;			/* view_size: the row's values; owned */
	void *out;			/* row_size: the row being checked; owned */
	struct s_rows rows;		/* the result */
};

/* A UTF-8 byte order mark. */
extern const char csvfile_bom[];

/* The date no value may pass into cf->today: 0, or -EINVAL (reported). */
int csvfile_today(struct csvfile *cf, const char *today);
/* The parse's state for cf->t's columns (0 or -ENOMEM), and its end. */
int csvfile_state_alloc(struct csvfile *cf);
void csvfile_state_free(struct csvfile *cf);
/* libcsv set up for cf->delim: 0 or -ENOMEM. */
int csvfile_parse_begin(struct csvfile *cf, struct csv_parser *csv);
/* Feed data[pos..len) (base: its offset in the file, for progress), whole
 * physical lines; last: the end of the input (libcsv's fini). */
void csvfile_feed(struct csvfile *cf, struct csv_parser *csv, const char *data, size_t pos,
		  size_t len, size_t base, int last);
/* The end of a parse of len bytes: the result (0, -EINVAL, -errno). */
int csvfile_parse_end(struct csvfile *cf, struct csv_parser *csv, size_t len);

#endif
