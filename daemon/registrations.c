/* registrations: the registrations CSV import at the receiving institution:
 * one row's checks, duplicates by (pgn, sending_school), and the columns for
 * the CSV that csvfile drives. */
#include "registrations.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csvfile.h"
#include "pgn.h"

#define S_MAX_ROWS 1000000		/* rows in one file */
#define S_MAX_RECORD 4096		/* bytes of one record: a valid one is < 40 */
#define S_MAX_FIELD 64			/* characters of one value */
#define S_MAX_COLUMNS 16		/* header fields we look at */
#define S_ECHO_MAX 32			/* bytes of a bad value quoted back */

/* ---- one row ------------------------------------------------------------- */

enum s_col_id { C_PGN, C_SCHOOL, C_DATE, C_COUNT };

/* Every column is required, in the header and in every row. */
static const char *const s_cols[C_COUNT] = {
	[C_PGN] = "pgn",
	[C_SCHOOL] = "sending_school",
	[C_DATE] = "registered_on",
};

/* One validation run over one row. */
struct s_vctx {
	const char *name;		/* FILE part of every message */
	unsigned line;			/* LINE part */
	struct strlist *errors;		/* where the messages go */
	int problems;			/* found so far */
};

static void s_err(struct s_vctx *c, enum s_col_id col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void s_err(struct s_vctx *c, enum s_col_id col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->problems++;
	/* On -ENOMEM the message is lost but the problem still counts, so the
	 * import still fails. */
	(void)strlist_addf(c->errors, "%s:%u: %s: %s", c->name, c->line, s_cols[col], msg);
}

/* A bad value quoted back in a message: at most S_ECHO_MAX bytes, anything
 * but printable ASCII as '?' (no valid value has more), so that one error
 * stays one line of clean text. Never used for a pgn: personal data. */
static const char *s_echo(char out[S_ECHO_MAX + 4], const char *v)
{
	size_t i;

	for (i = 0; i < S_ECHO_MAX && v[i]; i++)
		out[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (v[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* The checks every value gets: 1 when v has a value worth checking further. */
static int s_present(struct s_vctx *c, enum s_col_id col, const char *v)
{
	if (!*v) {
		s_err(c, col, "is required");
		return 0;
	}
	if (strnlen(v, S_MAX_FIELD + 1) > S_MAX_FIELD) {
		s_err(c, col, "too long (at most %d characters)", S_MAX_FIELD);
		return 0;
	}
	return 1;
}

static void s_check_pgn(struct s_vctx *c, const char *v, struct registration_row *out)
{
	const char *why = NULL;

	if (!s_present(c, C_PGN, v))
		return;
	/* The reason only: a pgn is personal data and errors end up in logs. */
	if (pgn_check(v, &why) < 0)
		s_err(c, C_PGN, "%s", why);
	else
		memcpy(out->pgn, v, sizeof(out->pgn));	/* 9 digits and the NUL */
}

static void s_check_school(struct s_vctx *c, const char *v, struct registration_row *out)
{
	char echo[S_ECHO_MAX + 4];

	if (!s_present(c, C_SCHOOL, v))
		return;
	if (!config_institution_id_valid(v))
		s_err(c, C_SCHOOL, "'%s' is not an institution id (BRIN + location, e.g. 12AB00)",
		      s_echo(echo, v));
	else
		memcpy(out->sending_school, v, sizeof(out->sending_school));
}

static void s_check_date(struct s_vctx *c, const char *v, const char *today,
			 struct registration_row *out)
{
	char echo[S_ECHO_MAX + 4];

	if (!s_present(c, C_DATE, v))
		return;
	if (!date_valid(v, NULL, NULL, NULL))
		s_err(c, C_DATE, "not a real date (YYYY-MM-DD)");
	else if (!date_valid(today, NULL, NULL, NULL))
		s_err(c, C_DATE, "cannot be checked: today '%s' is not a real date",
		      s_echo(echo, today));
	/* Same format, so the strings compare like the dates. */
	else if (strcmp(v, today) > 0)
		s_err(c, C_DATE, "%s is in the future (today is %s)", v, today);
	else
		memcpy(out->registered_on, v, sizeof(out->registered_on));
}

/* Validate with a set of columns (bit per enum s_col_id) whose value is known
 * to be unusable: the caller has reported those already. */
static int s_validate(struct s_vctx *c, const struct registration_input *in, const char *today,
		      unsigned skip, struct registration_row *out)
{
	int before = c->problems;

	memset(out, 0, sizeof(*out));
	out->line = in->line;
	if (!(skip & (1u << C_PGN)))
		s_check_pgn(c, in->pgn ? in->pgn : "", out);
	if (!(skip & (1u << C_SCHOOL)))
		s_check_school(c, in->sending_school ? in->sending_school : "", out);
	if (!(skip & (1u << C_DATE)))
		s_check_date(c, in->registered_on ? in->registered_on : "", today, out);
	return c->problems - before;
}

int registration_row_validate(const char *name, const struct registration_input *in,
			      const char *today, struct registration_row *out,
			      struct strlist *errors)
{
	struct s_vctx c = { name ? name : "-", in->line, errors, 0 };
	struct registration_row row;
	char now[11];

	if (!today) {
		date_today(now);
		today = now;
	}
	return s_validate(&c, in, today, 0, out ? out : &row);
}

/* ---- duplicates ------------------------------------------------------------ */

/* The key of a row for csvfile_dups: (pgn, sending_school). */
static uint64_t s_row_hash(const void *rows, size_t i)
{
	const struct registration_row *r = (const struct registration_row *)rows + i;
	uint64_t h = 0xcbf29ce484222325u;	/* FNV-1a */

	for (const char *s = r->pgn; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	h = (h ^ ',') * 0x100000001b3u;		/* no value has a comma: keys stay apart */
	for (const char *s = r->sending_school; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return h;
}

static int s_row_same(const void *rows, size_t i, size_t j)
{
	const struct registration_row *a = (const struct registration_row *)rows + i;
	const struct registration_row *b = (const struct registration_row *)rows + j;

	return strcmp(a->pgn, b->pgn) == 0 && strcmp(a->sending_school, b->sending_school) == 0;
}

/* ---- parsing --------------------------------------------------------------- */

/* One import; csvfile drives the CSV, these callbacks know the columns. */
struct s_parse {
	const char *name;		/* FILE part of messages */
	char today[11];			/* the date no row may pass */
	struct strlist *errors;		/* the caller's list */
	size_t ncols;			/* fields in the header */
	int map[S_MAX_COLUMNS];		/* header position -> enum s_col_id, -1 = none */
	struct registration_row *rows;	/* result, owned; bad rows too, until the end */
	size_t n, cap;
	struct csvfile_dups dups;	/* keys of the rows */
};

static int s_col_find(const char *name)
{
	for (int i = 0; i < C_COUNT; i++)
		if (strcmp(s_cols[i], name) == 0)
			return i;
	return -1;
}

/* One header field: known, once, and its position remembered. */
static int s_header_field(struct csvfile *cf, unsigned line, size_t i,
			  const struct csvfile_field *f, void *arg)
{
	struct s_parse *p = arg;
	char echo[S_ECHO_MAX + 4];
	int col;

	if (i >= S_MAX_COLUMNS)
		return 0;	/* reported once, by s_header */
	p->map[i] = -1;
	if (f->len == 0)
		return csvfile_fail(cf, line, "header: column %zu has no name", i + 1);
	col = strlen(f->s) == f->len ? s_col_find(f->s) : -1;
	if (col < 0)
		return csvfile_fail(cf, line, "header: unknown column '%s' (expected: pgn, "
				    "sending_school, registered_on)", s_echo(echo, f->s));
	for (size_t j = 0; j < i; j++)
		if (p->map[j] == col)
			return csvfile_fail(cf, line, "header: duplicate column '%s'", s_cols[col]);
	p->map[i] = col;
	return 0;
}

/* The whole header: not too wide, and every column present. */
static int s_header(struct csvfile *cf, const struct csvfile_record *rec, void *arg)
{
	struct s_parse *p = arg;
	int r = 0;

	p->ncols = rec->n;
	if (p->ncols > S_MAX_COLUMNS)
		r = csvfile_fail(cf, rec->line, "header: %zu columns, at most %d", p->ncols,
				 S_MAX_COLUMNS);
	for (int c = 0; c < C_COUNT && r == 0; c++) {
		size_t j;

		for (j = 0; j < p->ncols && j < S_MAX_COLUMNS && p->map[j] != c; j++)
			;
		if (j == p->ncols || j == S_MAX_COLUMNS)
			r = csvfile_fail(cf, rec->line, "header: missing required column '%s'",
					 s_cols[c]);
	}
	return r;
}

/* One record's values by column: at most S_MAX_FIELD + 1 bytes each, so that
 * nothing the input asks for is kept and an overlong value still fails the
 * length check. */
struct s_values {
	char v[C_COUNT][S_MAX_FIELD + 2];
	unsigned nul;		/* columns (bits) whose value has a NUL byte */
};

static void s_values_get(const struct s_parse *p, const struct csvfile_record *rec,
			 struct s_values *vals)
{
	memset(vals, 0, sizeof(*vals));
	/* A sound header has ncols <= S_MAX_COLUMNS, all mapped; rec->n == ncols. */
	for (size_t i = 0; i < p->ncols; i++) {
		const struct csvfile_field *f = &rec->fields[i];
		size_t n = f->len < S_MAX_FIELD + 1 ? f->len : S_MAX_FIELD + 1;
		int col = p->map[i];

		if (f->len == 0)
			continue;
		memcpy(vals->v[col], f->s, n);
		vals->v[col][n] = '\0';
		/* libcsv hands us len bytes; a C string would silently cut at a NUL. */
		if (memchr(f->s, '\0', f->len))
			vals->nul |= 1u << col;
	}
}

static int s_rows_push(struct s_parse *p, const struct registration_row *row)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct registration_row *v;

		if (cap > S_MAX_ROWS)
			cap = S_MAX_ROWS;
		v = realloc(p->rows, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->rows = v;
		p->cap = cap;
	}
	p->rows[p->n++] = *row;
	return 0;
}

/* Validate a record as a row, reporting a NUL byte in place of the value's
 * own checks; the row is filled with what passed. The number of problems. */
static int s_row_check(struct s_parse *p, const struct csvfile_record *rec,
		       struct registration_row *row)
{
	struct s_vctx c = { p->name, rec->line, p->errors, 0 };
	struct s_values vals;
	struct registration_input in;

	s_values_get(p, rec, &vals);
	in = (struct registration_input){ vals.v[C_PGN], vals.v[C_SCHOOL], vals.v[C_DATE],
					  rec->line };
	for (int col = 0; col < C_COUNT; col++)
		if (vals.nul & (1u << col))
			s_err(&c, (enum s_col_id)col, "contains a NUL byte");
	s_validate(&c, &in, p->today, vals.nul, row);
	return c.problems;
}

/* A data row: validate it, check for a duplicate, keep it. */
static int s_row(struct csvfile *cf, const struct csvfile_record *rec, void *arg)
{
	struct s_parse *p = arg;
	struct registration_row row;
	int bad = s_row_check(p, rec, &row) > 0;
	size_t prev;
	int r;

	/* Kept even when bad, so that nothing is special later; only a row whose
	 * key parts both passed can be a duplicate. The date is no part of the
	 * key: a pupil registers once with each school. */
	r = s_rows_push(p, &row);
	if (r < 0 || !row.pgn[0] || !row.sending_school[0])
		return r < 0 ? r : bad;
	r = csvfile_dups_add(&p->dups, p->rows, p->n - 1, s_row_hash, s_row_same, &prev);
	if (r == 0 && prev)
		r = csvfile_fail(cf, row.line, "pgn: duplicate of line %u (same pgn and "
				 "sending_school)", p->rows[prev - 1].line);
	return r < 0 ? r : bad;
}

/* The date no row may pass into p->today: 0, or -EINVAL (reported) for a bad one. */
static int s_today(struct s_parse *p, const char *today)
{
	char echo[S_ECHO_MAX + 4];

	if (!today) {
		date_today(p->today);
	} else if (date_valid(today, NULL, NULL, NULL)) {
		memcpy(p->today, today, sizeof(p->today));
	} else {
		(void)strlist_addf(p->errors, "%s: today '%s' is not a real date (YYYY-MM-DD)",
				   p->name, s_echo(echo, today));
		return -EINVAL;
	}
	return 0;
}

int registrations_parse_buffer(const char *name, const char *data, size_t len, const char *today,
			       struct registration_row **rows, size_t *n, struct strlist *errors,
			       registrations_progress_fn progress, void *arg)
{
	struct s_parse p = { .name = name ? name : "-", .errors = errors };
	const struct csvfile_spec spec = {
		.max_file = CSVFILE_MAX_FILE,
		.max_record = S_MAX_RECORD,
		.max_rows = S_MAX_ROWS,
		.max_fields = S_MAX_COLUMNS,
		.header_field = s_header_field,
		.header = s_header,
		.row = s_row,
		.arg = &p,
		.progress = progress,
		.progress_arg = arg,
	};
	int r;

	*rows = NULL;
	*n = 0;
	/* Too big is said before anything about `today`, as csvfile would. */
	if (len > spec.max_file)
		return -EFBIG;
	r = s_today(&p, today);
	if (r == 0)
		r = csvfile_parse(name, data, len, &spec, errors);
	if (r == 0) {
		*rows = p.rows;
		*n = p.n;
		p.rows = NULL; /* transferred */
	}
	registrations_free(&p.rows);
	csvfile_dups_free(&p.dups);
	return r;
}

int registrations_parse_file(const char *path, const char *today, struct registration_row **rows,
			     size_t *n, struct strlist *errors, registrations_progress_fn progress,
			     void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	*rows = NULL;
	*n = 0;
	r = file_read_all(path, CSVFILE_MAX_FILE, &buf, &len);
	if (r < 0)
		return r;
	r = registrations_parse_buffer(path, buf, len, today, rows, n, errors, progress, arg);
	free(buf);
	return r;
}

void registrations_free(struct registration_row **rows)
{
	if (!rows)
		return;
	free(*rows);
	*rows = NULL;
}
