/* csvfile: the CSV layer under the imports: the file decoded and its
 * separator found (csvdialect), libcsv fed one physical line at a
 * time so that every record knows its line, the caps, the header mapped onto
 * the import's column table through names, aliases and the school's map,
 * every value in the import's own spelling, and every row checked and kept
 * (the checks themselves: csvfile_check.c). */
#include "csvfile_int.h"
#include "i18n.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct csvfile_col *s_col(const struct csvfile_table *t, size_t i)
{
	return csvfile_col_at(t, i);
}

/* Report "FILE:LINE: message" and fail the parse. 0, or -ENOMEM when the
 * message could not be stored (the parse fails anyway). The message is in
 * the language of the moment (design.md §10): the CLI's locale, the caller's
 * in the daemon's control handlers, English in the spool. */
static int s_line_fail(struct csvfile *cf, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int s_line_fail(struct csvfile *cf, unsigned line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), gettext(fmt), ap);	/* po/xgettext.sh: s_line_fail:3 */
	va_end(ap);
	cf->failed = 1;
	return strlist_addf(cf->errors, "%s:%u: %s", cf->name, line, msg);
}

/* ---- the result rows ------------------------------------------------------- */

static uint32_t *s_dups_slot(uint32_t *v, size_t cap, const struct csvfile_table *t,
			     const void *rows, size_t key)
{
	size_t i = (size_t)t->hash(rows, key) & (cap - 1);

	while (v[i] && !t->same(rows, v[i] - 1, key))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* Add row i to the duplicates set; *prev = 1 + the index of an earlier
 * equal row, else 0. 0 or -ENOMEM. */
static int s_dups_add(struct s_rows *rs, const struct csvfile_table *t, size_t i, size_t *prev)
{
	uint32_t *slot;

	*prev = 0;
	if ((rs->ndups + 1) * 2 > rs->dcap) {
		size_t cap = rs->dcap ? rs->dcap * 2 : 1024;
		uint32_t *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t k = 0; k < rs->dcap; k++)
			if (rs->dups[k])
				*s_dups_slot(v, cap, t, rs->v, rs->dups[k] - 1) = rs->dups[k];
		free(rs->dups);
		rs->dups = v;
		rs->dcap = cap;
	}
	slot = s_dups_slot(rs->dups, rs->dcap, t, rs->v, i);
	if (*slot) {
		*prev = *slot;
		return 0;
	}
	*slot = (uint32_t)(i + 1);
	rs->ndups++;
	return 0;
}

static int s_rows_grow(struct s_rows *rs, const struct csvfile_table *t)
{
	size_t cap = rs->cap ? rs->cap * 2 : 256;
	char *v;
	unsigned *lines;

	/* max_rows bounds n anyway: no need to allocate past it. */
	if (t->max_rows && cap > t->max_rows)
		cap = t->max_rows;
	v = realloc(rs->v, cap * t->row_size);
	if (!v)
		return -ENOMEM;
	rs->v = v;
	lines = realloc(rs->lines, cap * sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	rs->lines = lines;
	rs->cap = cap;
	return 0;
}

/* Keep cf->out, bad or not; when it has a complete key (keyed), report an
 * earlier row with the same key. On -ENOMEM the row is freed. */
static int s_rows_keep(struct csvfile *cf, unsigned line, int keyed)
{
	const struct csvfile_table *t = cf->t;
	struct s_rows *rs = &cf->rows;
	size_t prev;
	int r;

	if (rs->n == rs->cap && s_rows_grow(rs, t) < 0) {
		if (t->row_free)
			t->row_free(cf->out);
		return -ENOMEM;
	}
	memcpy(rs->v + rs->n * t->row_size, cf->out, t->row_size);
	rs->lines[rs->n++] = line;
	if (!keyed || !t->hash)
		return 0;
	r = s_dups_add(rs, t, rs->n - 1, &prev);
	if (r == 0 && prev)
		r = s_line_fail(cf, line, "%s: duplicate of line %u%s", t->dup_col, rs->lines[prev - 1],
				*t->dup_why ? gettext(t->dup_why) : "");	/* N_ in each table */
	return r;
}

static void s_rows_free(struct s_rows *rs, const struct csvfile_table *t)
{
	for (size_t i = 0; t->row_free && i < rs->n; i++)
		t->row_free(rs->v + i * t->row_size);
	free(rs->v);
	free(rs->lines);
	free(rs->dups);
	memset(rs, 0, sizeof(*rs));
}

/* Streamed (o->sink): the rows kept so far to the sink, which owns them
 * now. 0, or the sink's failure (the parse stops). */
static int s_flush(struct csvfile *cf)
{
	struct s_rows *rs = &cf->rows;
	int r;

	if (!rs->n)
		return 0;
	r = cf->o->sink(cf->o->sink_arg, rs->v, rs->n);
	rs->v = NULL;	/* the sink's */
	rs->n = rs->cap = 0;
	if (r < 0)
		cf->stop = 1;
	return r;
}

/* ---- the header ------------------------------------------------------------ */

static int s_col_find(const struct csvfile_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(s_col(t, i)->name, name) == 0)
			return (int)i;
	return -1;
}

/* " (expected: a, b, c)" for CSVFILE_LIST_COLUMNS, else "". */
static const char *s_expected(const struct csvfile_table *t, char *out, size_t size)
{
	size_t used;

	out[0] = '\0';
	if (!(t->flags & CSVFILE_LIST_COLUMNS))
		return out;
	used = (size_t)snprintf(out, size, "%s", _(" (expected: "));
	for (size_t i = 0; i < t->ncols && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "",
					 s_col(t, i)->name);
	if (used < size)
		snprintf(out + used, size - used, ")");
	return out;
}

/* The column named by a header field (folded), or -1; *rank says how
 * (S_RANK_*). -2 when o->map names a column this import does not have
 * (reported). */
static int s_col_match(struct csvfile *cf, const char *folded, unsigned *rank)
{
	const struct csvfile_table *t = cf->t;
	const char *ours = csvdialect_map_column(cf->o->map, folded);
	char f[S_FOLD];
	unsigned k;
	int col;

	if (ours) {
		*rank = S_RANK_MAP;
		for (size_t i = 0; csvdialect_fold(ours, f, sizeof(f)) && i < t->ncols; i++)
			if (strcmp(s_col(t, i)->name, f) == 0)
				return (int)i;
		(void)s_line_fail(cf, cf->rec_line, "header: %s maps column '%s' to '%s', which this "
			     "import does not have", csvdialect_map_name(cf->o->map), folded, ours);
		return -2;
	}
	*rank = S_RANK_NAME;
	if ((col = s_col_find(t, folded)) >= 0)
		return col;
	for (size_t i = 0; i < t->ndialect; i++) {
		if (csvdialect_name_in(folded, t->dialect[i].aliases, &k) &&
		    (col = s_col_find(t, t->dialect[i].col)) >= 0) {
			*rank = S_RANK_ALIAS + k;
			return col;
		}
	}
	return -1;
}

/* One header field: a column named once, or ignored; its position
 * remembered. When two fields name one column, the better name wins (the
 * map, the column's own name, the first alias ...) and the other is
 * ignored; with equal names, or o->strict, it is an error. */
static int s_header_field(struct csvfile *cf, size_t i, const struct s_field *f)
{
	const struct csvfile_table *t = cf->t;
	char echo[CSVFILE_ECHO_SIZE], expected[256], folded[S_FOLD];
	int whole = strlen(f->s) == f->len, col = -1;
	unsigned rank = 0;
	size_t n;

	cf->map[i] = -1;
	if (f->len == 0)
		return 0;	/* s_header decides */
	if ((t->flags & CSVFILE_UTF8) && (!whole || !csvfile_utf8_count(f->s, &n)))
		return s_line_fail(cf, cf->rec_line, "header: column %zu: not valid UTF-8", i + 1);
	if (whole && csvdialect_fold(f->s, folded, sizeof(folded)))
		col = s_col_match(cf, folded, &rank);
	if (col == -2)
		return 0;
	if (col < 0) {
		if (cf->o->strict)
			return s_line_fail(cf, cf->rec_line, "header: unknown column '%s'%s",
				      csvfile_echo(echo, f->s, strlen(f->s), t->flags),
				      s_expected(t, expected, sizeof(expected)));
		return 0;	/* listed by s_header */
	}
	for (size_t j = 0; j < i; j++) {
		if (cf->map[j] != col)
			continue;
		if (rank == cf->rank[j] || cf->o->strict)
			return s_line_fail(cf, cf->rec_line, "header: duplicate column '%s'",
				      s_col(t, (size_t)col)->name);
		if (rank > cf->rank[j])
			return 0;	/* the earlier name is better: this one is ignored */
		cf->map[j] = -1;
	}
	cf->map[i] = col;
	cf->rank[i] = rank;
	return 0;
}

/* Append ", 'NAME'" (echoed) to out. */
static void s_list_add(char *out, size_t size, size_t *used, const char *name, unsigned flags)
{
	char echo[CSVFILE_ECHO_SIZE];
	int w;

	if (*used >= size)
		return;
	w = snprintf(out + *used, size - *used, "%s'%s'", *used ? ", " : "",
		     csvfile_echo(echo, name, strlen(name), flags));
	*used += w > 0 ? (size_t)w : 0;
}

/* The one warning: every named header field that no column took. */
static int s_ignored(struct csvfile *cf, size_t seen)
{
	char list[600];
	size_t used = 0, n = 0;

	for (size_t i = 0; i < seen; i++) {
		const char *name = cf->buf + cf->offs[i];

		if (cf->map[i] >= 0 || !*name)
			continue;
		n++;
		if (n <= 12)
			s_list_add(list, sizeof(list) - 32, &used, name, cf->t->flags);
	}
	if (!n || !cf->o->warnings)
		return 0;
	if (n > 12)
		snprintf(list + used, sizeof(list) - used, _(" and %zu more"), n - 12);
	return strlist_addf(cf->o->warnings, ngettext("%s:%u: header: ignoring column %s",
						      "%s:%u: header: ignoring columns %s", n),
			    cf->name, cf->rec_line, list);
}

/* Remember header field i's own name for messages when it named its column
 * by an alias or the map. 0 or -ENOMEM. */
static int s_shown(struct csvfile *cf, size_t i)
{
	char echo[CSVFILE_ECHO_SIZE];
	int col = cf->map[i];

	if (col < 0 || cf->rank[i] == S_RANK_NAME)
		return 0;
	csvfile_echo(echo, cf->fields[i].s, cf->fields[i].len, cf->t->flags);
	cf->shown[col] = strdup(echo);
	return cf->shown[col] ? 0 : -ENOMEM;
}

/* The whole header: not too wide, and every required column present. */
static int s_header(struct csvfile *cf, size_t nfields)
{
	const struct csvfile_table *t = cf->t;
	size_t seen;
	int r = 0;

	cf->have_header = 1;
	cf->ncols = nfields;
	seen = nfields < t->max_columns ? nfields : t->max_columns;
	if (cf->named > t->max_columns)
		r = s_line_fail(cf, cf->rec_line, "header: %zu columns, at most %zu", cf->named,
			   t->max_columns);
	/* Excel's trailing ";;;" is no column; a gap between names is one
	 * without a name, an error only for the strict. */
	for (size_t i = 0; i < seen && i < cf->named && r == 0 && cf->o->strict; i++)
		if (!cf->fields[i].len)
			r = s_line_fail(cf, cf->rec_line, "header: column %zu has no name", i + 1);
	for (size_t c = 0; c < t->ncols && r == 0; c++) {
		size_t j;

		if (!(s_col(t, c)->flags & CSVFILE_REQUIRED))
			continue;
		for (j = 0; j < seen && cf->map[j] != (int)c; j++)
			;
		if (j == seen)
			r = s_line_fail(cf, cf->rec_line, "header: missing required column '%s'",
				   s_col(t, c)->name);
	}
	/* Without a sound header no row can be read. */
	if (cf->failed)
		cf->stop = 1;
	else if (r == 0)
		r = s_ignored(cf, seen);
	for (size_t i = 0; i < seen && r == 0 && !cf->stop; i++)
		r = s_shown(cf, i);
	return r;
}

/* ---- a row ----------------------------------------------------------------- */

/* CSVFILE_NUL_EARLY: a data field as it arrives. */
static int s_row_field(struct csvfile *cf, size_t i, const struct s_field *f)
{
	/* libcsv hands us len bytes; C strings would silently cut at a NUL. */
	if ((cf->t->flags & CSVFILE_NUL_EARLY) && i < cf->ncols && cf->map[i] >= 0 &&
	    memchr(f->s, '\0', f->len))
		return s_line_fail(cf, cf->rec_line, "%s: contains a NUL byte",
			      s_col(cf->t, (size_t)cf->map[i])->name);
	return 0;
}

/* Field f of column col in the import's spelling: the school's map, the
 * column's canon, a date as YYYY-MM-DD; else as it is. A value with a NUL
 * byte is left to the checks. */
static const char *s_value(struct csvfile *cf, size_t col, const struct s_field *f)
{
	const struct csvfile_dialect_col *d = cf->dia[col];
	const void *sec = cf->vsec[col];
	char folded[S_FOLD];
	const char *v;

	if (!f->len || (!d && !sec) || memchr(f->s, '\0', f->len))
		return f->s;
	if (!(d && (d->flags & CSVFILE_DATE))) {
		struct s_memo *m = &cf->memo[col];

		if (m->in[0] && strcmp(m->in, f->s) == 0)
			return m->out;
		m->in[0] = '\0';	/* out_buf is about to change */
		v = NULL;
		if (sec && csvdialect_fold(f->s, folded, sizeof(folded)))
			v = csvdialect_map_value(sec, folded);
		if (!v && d && d->canon)
			v = d->canon(f->s, m->out_buf, sizeof(m->out_buf));
		if (!v)
			v = f->s;
		/* kept when it fits; f->s itself lives only as long as the row */
		if (f->len < sizeof(m->in)) {
			memcpy(m->in, f->s, f->len + 1);
			m->out = v == f->s ? m->in : v;
		}
		return v;
	}
	/* A date: the map (rarely), else YYYY-MM-DD, as it is when it is already. */
	if (sec && csvdialect_fold(f->s, folded, sizeof(folded)) &&
	    (v = csvdialect_map_value(sec, folded)))
		return v;
	if (!(f->len == 10 && f->s[4] == '-' && f->s[7] == '-') &&
	    csvdialect_date(f->s, cf->o->date_format, cf->norm[col]))
		return cf->norm[col];
	return f->s;
}

/* A row: its view, the checks, kept. */
static int s_row(struct csvfile *cf)
{
	const struct csvfile_table *t = cf->t;
	struct csvfile_check c = { cf->name, cf->rec_line, cf->errors, 0, cf->today, cf->view,
				   t, (const char *const *)cf->shown };
	size_t have = cf->nfields < cf->ncols ? cf->nfields : cf->ncols;
	unsigned skip = 0;
	int r;

	memset(cf->view, 0, t->view_size);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *empty = "";

		/* the pointer itself is copied, into a char * or const char * member */
		memcpy((char *)cf->view + s_col(t, i)->off, &empty, sizeof(empty));	// NOLINT(bugprone-sizeof-expression)
	}
	/* Fields past max_columns are not kept: a sound header has no name there. */
	if (have > t->max_columns)
		have = t->max_columns;
	for (size_t i = 0; i < have; i++) {
		const struct s_field *f = &cf->fields[i];
		const struct csvfile_col *col;
		const char *v;

		if (cf->map[i] < 0)
			continue;
		col = s_col(t, (size_t)cf->map[i]);
		v = s_value(cf, (size_t)cf->map[i], f);
		memcpy((char *)cf->view + col->off, &v, sizeof(v));
		if (!(t->flags & CSVFILE_NUL_EARLY) && memchr(f->s, '\0', f->len))
			skip |= 1u << cf->map[i];
	}
	for (size_t i = 0; i < t->ncols; i++)
		if (skip & (1u << i))
			csvfile_check_fail(&c, s_col(t, i), "contains a NUL byte");
	r = csvfile_check_row(t, &c, skip, cf->out);
	if (r >= 0 && cf->o->sink) {
		/* streamed: a bad row is not passed on, duplicates are the sink's */
		if (c.problems && t->row_free)
			t->row_free(cf->out);
		r = c.problems ? 0 : s_rows_keep(cf, c.line, 0);
		if (r == 0 && cf->rows.n >= (cf->o->sink_rows ? cf->o->sink_rows : 1))
			r = s_flush(cf);
	} else if (r >= 0) {
		r = s_rows_keep(cf, c.line, r);
	}
	if (c.problems)
		cf->failed = 1;
	return r;
}

/* A data record: a row, or reported. */
static int s_record(struct csvfile *cf)
{
	const struct csvfile_table *t = cf->t;
	int r;

	/* Excel writes trailing ";;;" as it likes: fields past the last named
	 * column may be missing, or empty past the header's. */
	if (cf->nfields < cf->named || cf->extra) {
		r = s_line_fail(cf, cf->rec_line, "row has %zu fields, header has %zu", cf->nfields,
			   cf->named);
	} else if (t->max_rows && cf->rows.n == t->max_rows) {
		cf->stop = 1;
		r = s_line_fail(cf, cf->rec_line, "too many rows (at most %zu)", t->max_rows);
	} else {
		r = s_row(cf);
	}
	if (++cf->records % S_PROGRESS_EVERY == 0 && cf->o->progress)
		cf->o->progress(cf->done, cf->total, cf->o->arg);
	return r;
}

/* ---- feeding libcsv -------------------------------------------------------- */

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

static void s_on_field(void *s, size_t len, void *arg)
{
	struct csvfile *cf = arg;
	size_t i = cf->nfields++;
	int r;

	cf->nonempty |= len > 0;
	if (!cf->have_header && len > 0)
		cf->named = i + 1;
	else if (cf->have_header && i >= cf->ncols && len > 0)
		cf->extra = 1;
	/* Past max_columns a field is only counted: the input does not decide
	 * how much we keep. */
	if (cf->stop || i >= cf->t->max_columns)
		return;
	r = s_keep(cf, i, s, len);
	if (r == 0) {
		const struct s_field f = { cf->buf + cf->offs[i], len };

		r = cf->have_header ? s_row_field(cf, i, &f) : s_header_field(cf, i, &f);
	}
	if (r < 0) {
		cf->r = r;
		cf->stop = 1;
	}
}

static void s_on_row(int c, void *arg)
{
	struct csvfile *cf = arg;
	int r = 0;

	(void)c;
	cf->row_ended = 1;
	if (!cf->stop) {
		size_t kept = cf->nfields < cf->t->max_columns ? cf->nfields : cf->t->max_columns;

		/* buf no longer moves now */
		for (size_t i = 0; i < kept; i++)
			cf->fields[i].s = cf->buf + cf->offs[i];
		if (!cf->have_header)
			r = s_header(cf, cf->nfields);
		else if (cf->nonempty)	/* ",,,": a spreadsheet's empty row: as if blank */
			r = s_record(cf);
		if (r == 0 && !cf->stop && cf->errors->n - cf->errors0 >= CSVFILE_MAX_ERRORS) {
			r = s_line_fail(cf, cf->rec_line, "too many errors, stopping here");
			cf->stop = 1;
		}
		if (r < 0) {
			cf->r = r;
			cf->stop = 1;
		}
	}
	cf->nfields = 0;
	cf->nonempty = 0;
	cf->extra = 0;
	cf->used = 0;
}

static void s_malformed(struct csvfile *cf, struct csv_parser *csv)
{
	int e = csv_error(csv);

	cf->stop = 1;
	if (e == CSV_EPARSE)
		cf->r = s_line_fail(cf, cf->in_rec ? cf->rec_line : cf->line, "malformed CSV: %s",
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
	if (cf->in_rec && cf->t->max_record) {
		cf->rec_bytes += bytes;
		if (cf->rec_bytes > cf->t->max_record) {
			cf->stop = 1;
			cf->r = s_line_fail(cf, cf->rec_line, "record too long (more than %zu "
				       "bytes; an unclosed quote?)", cf->t->max_record);
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
void csvfile_feed(struct csvfile *cf, struct csv_parser *csv, const char *data, size_t pos,
		   size_t len, size_t base, int last)
{
	while (pos < len && !cf->stop) {
		int content;
		size_t end = s_line_end(data, pos, len, &content);

		if (s_chunk_begin(cf, end - pos, content) < 0)
			return;
		cf->done = base + end;
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
	if (last && !cf->stop && csv_fini(csv, s_on_field, s_on_row, cf) != 0)
		s_malformed(cf, csv);
}

/* ---- the entry points ------------------------------------------------------ */

/* The date no value may pass into cf->today: 0, or -EINVAL (reported) for a
 * bad one. */
int csvfile_today(struct csvfile *cf, const char *today)
{
	char echo[CSVFILE_ECHO_SIZE];

	if (!(cf->t->flags & CSVFILE_TODAY))
		return 0;
	if (!today) {
		date_today(cf->today);
	} else if (date_valid(today, NULL, NULL, NULL)) {
		memcpy(cf->today, today, sizeof(cf->today));
	} else {
		(void)strlist_addf(cf->errors, "%s: today '%s' is not a real date (YYYY-MM-DD)",
				   cf->name, csvfile_echo(echo, today, strlen(today), 0));
		return -EINVAL;
	}
	return 0;
}

/* What libcsv drops around an unquoted value when TAB separates: blanks
 * only, or an empty first field would vanish. */
static int s_space_no_tab(unsigned char c) { return c == ' '; }

/* Each column's dialect entry and its values in the school's map. */
static void s_dialect(struct csvfile *cf)
{
	const struct csvfile_table *t = cf->t;

	for (size_t i = 0; i < t->ndialect; i++) {
		int col = s_col_find(t, t->dialect[i].col);

		if (col >= 0)
			cf->dia[col] = &t->dialect[i];
	}
	for (size_t i = 0; cf->o->map && i < t->ncols; i++)
		cf->vsec[i] = csvdialect_map_values(cf->o->map, s_col(t, i)->name);
}

const char csvfile_bom[] = "\xef\xbb\xbf";

int csvfile_parse_begin(struct csvfile *cf, struct csv_parser *csv)
{
	if (csv_init(csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return -ENOMEM;
	csv_set_delim(csv, (unsigned char)cf->delim);
	/* libcsv's own test is blank or TAB, and faster than a call per byte */
	if (cf->delim == '\t')
		csv_set_space_func(csv, s_space_no_tab);
	return 0;
}

int csvfile_parse_end(struct csvfile *cf, struct csv_parser *csv, size_t len)
{
	csv_free(csv);
	if (!cf->have_header && !cf->stop)
		cf->r = s_line_fail(cf, 1, "header: missing (the file is empty)");
	if (cf->o->sink && cf->r == 0 && !cf->stop) {
		int r = s_flush(cf);

		if (r < 0)
			cf->r = r;
	}
	if (cf->o->progress)
		cf->o->progress(len, len, cf->o->arg);
	return cf->r < 0 ? cf->r : cf->failed ? -EINVAL : 0;
}

/* The parse proper, once the state is allocated. */
static int s_parse(struct csvfile *cf, const char *data, size_t len)
{
	struct csv_parser csv;

	if (csvfile_parse_begin(cf, &csv) < 0)
		return -ENOMEM;
	csvfile_feed(cf, &csv, data, len >= 3 && memcmp(data, csvfile_bom, 3) == 0 ? 3 : 0, len, 0, 1);
	return csvfile_parse_end(cf, &csv, len);
}

/* The parse's state, for t's columns; 0 or -ENOMEM. */
int csvfile_state_alloc(struct csvfile *cf)
{
	const struct csvfile_table *t = cf->t;

	cf->map = calloc(t->max_columns, sizeof(*cf->map));
	cf->rank = calloc(t->max_columns, sizeof(*cf->rank));
	cf->offs = calloc(t->max_columns, sizeof(*cf->offs));
	cf->fields = calloc(t->max_columns, sizeof(*cf->fields));
	cf->dia = calloc(t->ncols, sizeof(const struct csvfile_dialect_col *));
	cf->vsec = calloc(t->ncols, sizeof(*cf->vsec));
	cf->norm = calloc(t->ncols, sizeof(*cf->norm));
	cf->memo = calloc(t->ncols, sizeof(*cf->memo));
	cf->shown = calloc(t->ncols, sizeof(*cf->shown));
	cf->view = malloc(t->view_size);
	cf->out = malloc(t->row_size);
	if (!(cf->map && cf->rank && cf->offs && cf->fields && cf->dia && cf->vsec && cf->norm &&
	      cf->memo && cf->shown && cf->view && cf->out))
		return -ENOMEM;
	s_dialect(cf);
	return 0;
}

void csvfile_state_free(struct csvfile *cf)
{
	const struct csvfile_table *t = cf->t;

	s_rows_free(&cf->rows, t);
	free(cf->rank);
	free(cf->dia);
	free(cf->vsec);
	free(cf->norm);
	free(cf->memo);
	for (size_t i = 0; cf->shown && i < t->ncols; i++)
		free(cf->shown[i]);
	free(cf->shown);
	free(cf->map);
	free(cf->buf);
	free(cf->offs);
	free(cf->fields);
	free(cf->view);
	free(cf->out);
}

int csvfile_import(const struct csvfile_table *t, const char *name, const char *data,
		   size_t len, const struct csvfile_opts *o, void *rows_out, size_t *n,
		   struct strlist *errors)
{
	struct csvfile cf = { .name = name ? name : "-", .t = t, .o = o, .errors = errors,
			      .errors0 = errors->n, .line = 1, .total = len };
	void *rows = NULL;
	char *decoded = NULL;
	size_t dlen = 0;
	int r = -EFBIG;

	/* cppcheck reads the arguments of the CSVFILE_DATED_IMPORT expansions
	 * one place off and takes a NULL progress callback for n; n is never
	 * NULL (every caller passes a count). */
	// cppcheck-suppress ctunullpointer
	*n = 0;
	/* Too big is said before anything about `today`. */
	if (len > t->max_file)
		goto out;
	r = csvfile_today(&cf, o->today);
	if (r < 0)
		goto out;
	/* Once, on the whole file: from here on everything is UTF-8. */
	r = csvdialect_decode(cf.name, data, len, o->encoding, &decoded, &dlen, errors);
	if (r < 0)
		goto out;
	if (decoded) {
		data = decoded;
		len = dlen;
		cf.total = len;
	}
	cf.delim = o->delimiter ? o->delimiter : csvdialect_delimiter_detect(data, len);
	r = csvfile_state_alloc(&cf);
	if (r == 0)
		r = s_parse(&cf, data, len);
	if (r == 0) {
		rows = cf.rows.v;
		*n = cf.rows.n;
		cf.rows.v = NULL; /* transferred */
		cf.rows.n = 0;
	}
out:
	/* memcpy: rows_out is a T ** for the table's row type T. */
	memcpy(rows_out, &rows, sizeof(rows));
	free(decoded);
	csvfile_state_free(&cf);
	return r;
}

int csvfile_import_file(const struct csvfile_table *t, const char *path,
			const struct csvfile_opts *o, void *rows_out, size_t *n,
			struct strlist *errors)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = file_read_all(path, t->max_file, &buf, &len);
	if (r < 0) {
		void *none = NULL;

		memcpy(rows_out, &none, sizeof(none));
		*n = 0;
		return r;
	}
	r = csvfile_import(t, path, buf, len, o, rows_out, n, errors);
	free(buf);
	return r;
}
