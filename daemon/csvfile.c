/* csvfile: the CSV driver under the imports: libcsv fed one physical line at a
 * time so that every record knows its line, the caps, and whole records for
 * the importer's callbacks. */
#include "csvfile.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PROGRESS_EVERY 1000	/* data records between progress calls */

struct csvfile {
	const char *name;		/* FILE part of messages */
	const struct csvfile_spec *spec;	/* the importer's, borrowed */
	struct strlist *errors;		/* the caller's list */
	size_t errors0;			/* errors->n on entry: ours come after */
	int failed;			/* a problem was reported: the parse fails */
	int r;				/* hard failure (-ENOMEM or a callback's) */
	int stop;			/* header unusable, malformed CSV, a cap reached */
	unsigned line;			/* physical line now fed to libcsv */
	unsigned rec_line;		/* line the current record starts on */
	int in_rec;			/* a record has begun and not ended */
	int row_ended;			/* the record ended in the current chunk */
	size_t rec_bytes;		/* bytes of the current record fed so far */
	size_t done, total;		/* bytes, for progress */
	size_t records;			/* non-empty data records seen */
	size_t rows;			/* data rows handed to spec->row */
	int have_header;		/* the header record is done */
	size_t ncols;			/* fields in the header */
	/* the current record */
	size_t nfields;			/* fields seen */
	int nonempty;			/* one of them has a value */
	char *buf;			/* the kept fields' bytes, each NUL-terminated; owned */
	size_t used, cap;
	size_t *offs;			/* max_fields: where field i starts in buf; owned */
	struct csvfile_field *fields;	/* max_fields: lengths, pointers at the end; owned */
};

int csvfile_fail(struct csvfile *cf, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cf->failed = 1;
	return strlist_addf(cf->errors, "%s:%u: %s", cf->name, line, msg);
}

/* ---- one record ------------------------------------------------------------ */

/* Keep a field's bytes and libcsv's NUL after them; 0 or -ENOMEM. */
static int s_keep(struct csvfile *cf, size_t i, const char *s, size_t len)
{
	if (cf->cap - cf->used < len + 1) {
		size_t cap = cf->cap ? cf->cap : 1024;
		char *b;

		while (cap - cf->used < len + 1)
			cap *= 2;
		b = realloc(cf->buf, cap);
		if (!b)
			return -ENOMEM;
		cf->buf = b;
		cf->cap = cap;
	}
	memcpy(cf->buf + cf->used, s, len);
	cf->buf[cf->used + len] = '\0';
	cf->offs[i] = cf->used;
	cf->fields[i].len = len;
	cf->used += len + 1;
	return 0;
}

/* A callback's result: > 0 (messages of its own) fails the parse. */
static int s_result(struct csvfile *cf, int r)
{
	if (r > 0) {
		cf->failed = 1;
		r = 0;
	}
	return r;
}

static void s_on_field(void *s, size_t len, void *arg)
{
	struct csvfile *cf = arg;
	const struct csvfile_spec *spec = cf->spec;
	csvfile_field_fn fn = cf->have_header ? spec->row_field : spec->header_field;
	size_t i = cf->nfields++;
	int r;

	cf->nonempty |= len > 0;
	/* Past max_fields a field is only counted: the input does not decide
	 * how much we keep. */
	if (cf->stop || i >= spec->max_fields)
		return;
	r = s_keep(cf, i, s, len);
	if (r == 0 && fn) {
		const struct csvfile_field f = { cf->buf + cf->offs[i], len };

		r = s_result(cf, fn(cf, cf->rec_line, i, &f, spec->arg));
	}
	if (r < 0) {
		cf->r = r;
		cf->stop = 1;
	}
}

/* The record as the callbacks see it; buf no longer moves now. */
static struct csvfile_record s_record(struct csvfile *cf)
{
	size_t kept = cf->nfields < cf->spec->max_fields ? cf->nfields : cf->spec->max_fields;

	for (size_t i = 0; i < kept; i++)
		cf->fields[i].s = cf->buf + cf->offs[i];
	return (struct csvfile_record){ cf->fields, cf->nfields, kept, cf->rec_line };
}

static int s_header(struct csvfile *cf, const struct csvfile_record *rec)
{
	int r;

	cf->have_header = 1;
	cf->ncols = rec->n;
	r = s_result(cf, cf->spec->header(cf, rec, cf->spec->arg));
	/* Without a sound header no row can be read. */
	if (cf->failed)
		cf->stop = 1;
	return r;
}

static int s_row(struct csvfile *cf, const struct csvfile_record *rec)
{
	const struct csvfile_spec *spec = cf->spec;
	int r = 0;

	if (rec->n != cf->ncols) {
		r = csvfile_fail(cf, rec->line, "row has %zu fields, header has %zu", rec->n,
				 cf->ncols);
	} else if (spec->max_rows && cf->rows == spec->max_rows) {
		cf->stop = 1;
		r = csvfile_fail(cf, rec->line, "too many rows (at most %zu)", spec->max_rows);
	} else {
		cf->rows++;
		r = s_result(cf, spec->row(cf, rec, spec->arg));
	}
	if (++cf->records % S_PROGRESS_EVERY == 0 && spec->progress)
		spec->progress(cf->done, cf->total, spec->progress_arg);
	return r;
}

static void s_on_row(int c, void *arg)
{
	struct csvfile *cf = arg;
	int r = 0;

	(void)c;
	cf->row_ended = 1;
	if (!cf->stop) {
		struct csvfile_record rec = s_record(cf);

		if (!cf->have_header)
			r = s_header(cf, &rec);
		else if (cf->nonempty)	/* ",,,": a spreadsheet's empty row: as if blank */
			r = s_row(cf, &rec);
		if (r == 0 && !cf->stop && cf->errors->n - cf->errors0 >= CSVFILE_MAX_ERRORS) {
			r = csvfile_fail(cf, cf->rec_line, "too many errors, stopping here");
			cf->stop = 1;
		}
		if (r < 0) {
			cf->r = r;
			cf->stop = 1;
		}
	}
	cf->nfields = 0;
	cf->nonempty = 0;
	cf->used = 0;
}

/* ---- feeding libcsv -------------------------------------------------------- */

static void s_malformed(struct csvfile *cf, struct csv_parser *csv)
{
	int e = csv_error(csv);

	cf->stop = 1;
	if (e == CSV_EPARSE)
		cf->r = csvfile_fail(cf, cf->in_rec ? cf->rec_line : cf->line, "malformed CSV: %s",
				     csv_strerror(e));
	else
		cf->r = -ENOMEM;
}

/* End of the physical line starting at pos: just past its CR or LF (or len);
 * *content = it has something besides blanks and the line break. */
static size_t s_line_end(const char *data, size_t pos, size_t len, int *content)
{
	size_t end = pos;

	*content = 0;
	while (end < len && data[end] != '\n' && data[end] != '\r') {
		*content |= data[end] != ' ' && data[end] != '\t';
		end++;
	}
	return end < len ? end + 1 : end;
}

/* Account for one chunk before libcsv sees it: where a record starts, and the
 * record cap that keeps libcsv's field buffer small. 0, or -1 to stop. */
static int s_chunk_begin(struct csvfile *cf, size_t bytes, int content)
{
	if (!cf->in_rec && content) {
		cf->in_rec = 1;
		cf->rec_line = cf->line;
		cf->rec_bytes = 0;
	}
	if (cf->in_rec && cf->spec->max_record) {
		cf->rec_bytes += bytes;
		if (cf->rec_bytes > cf->spec->max_record) {
			cf->stop = 1;
			cf->r = csvfile_fail(cf, cf->rec_line, "record too long (more than %zu "
					     "bytes; an unclosed quote?)", cf->spec->max_record);
			return -1;
		}
	}
	cf->row_ended = 0;
	return 0;
}

/* libcsv does not count lines, so we feed it one physical line at a time,
 * each chunk ending just after its CR or LF: a record can then only end at
 * the last byte of a chunk, and one begins at the first chunk with something
 * besides blanks and line breaks (what libcsv skips between records). A CR
 * that is not part of CRLF ends a line too, as it does for libcsv. */
static void s_feed(struct csvfile *cf, struct csv_parser *csv, const char *data, size_t pos,
		   size_t len)
{
	while (pos < len && !cf->stop) {
		int content;
		size_t end = s_line_end(data, pos, len, &content);

		if (s_chunk_begin(cf, end - pos, content) < 0)
			return;
		cf->done = end;
		if (csv_parse(csv, data + pos, end - pos, s_on_field, s_on_row, cf) != end - pos) {
			s_malformed(cf, csv);
			return;
		}
		if (cf->row_ended)
			cf->in_rec = 0;
		if (data[end - 1] == '\n' ||
		    (data[end - 1] == '\r' && (end == len || data[end] != '\n')))
			cf->line++;
		pos = end;
	}
	/* The last record may lack its line break; an open quote fails here. */
	if (!cf->stop && csv_fini(csv, s_on_field, s_on_row, cf) != 0)
		s_malformed(cf, csv);
}

int csvfile_parse(const char *name, const char *data, size_t len,
		  const struct csvfile_spec *spec, struct strlist *errors)
{
	static const char bom[] = "\xef\xbb\xbf";
	struct csvfile cf = { .name = name ? name : "-", .spec = spec, .errors = errors,
			      .errors0 = errors->n, .line = 1, .total = len };
	struct csv_parser csv;
	int r = -ENOMEM;

	if (len > spec->max_file)
		return -EFBIG;
	cf.offs = calloc(spec->max_fields, sizeof(*cf.offs));
	cf.fields = calloc(spec->max_fields, sizeof(*cf.fields));
	if (!cf.offs || !cf.fields)
		goto out;
	if (csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		goto out;
	s_feed(&cf, &csv, data, len >= 3 && memcmp(data, bom, 3) == 0 ? 3 : 0, len);
	csv_free(&csv);
	if (!cf.have_header && !cf.stop)
		cf.r = csvfile_fail(&cf, 1, "header: missing (the file is empty)");
	if (spec->progress)
		spec->progress(len, len, spec->progress_arg);
	r = cf.r < 0 ? cf.r : cf.failed ? -EINVAL : 0;
out:
	free(cf.buf);
	free(cf.offs);
	free(cf.fields);
	return r;
}

/* ---- duplicates ---- */

static uint32_t *s_dups_slot(uint32_t *v, size_t cap, const void *rows, size_t key, uint64_t h,
			     csvfile_same_fn same)
{
	size_t i = (size_t)h & (cap - 1);

	while (v[i] && !same(rows, v[i] - 1, key))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

int csvfile_dups_add(struct csvfile_dups *d, const void *rows, size_t i, csvfile_hash_fn hash,
		     csvfile_same_fn same, size_t *prev)
{
	uint32_t *slot;

	*prev = 0;
	if ((d->n + 1) * 2 > d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 1024;
		uint32_t *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t k = 0; k < d->cap; k++)
			if (d->v[k])
				*s_dups_slot(v, cap, rows, d->v[k] - 1, hash(rows, d->v[k] - 1), same) = d->v[k];
		free(d->v);
		d->v = v;
		d->cap = cap;
	}
	slot = s_dups_slot(d->v, d->cap, rows, i, hash(rows, i), same);
	if (*slot) {
		*prev = *slot;
		return 0;
	}
	*slot = (uint32_t)(i + 1);
	d->n++;
	return 0;
}

void csvfile_dups_free(struct csvfile_dups *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}
