/* outcomes: the outcomes CSV import (SPEC §8): the event table, one row's
 * checks, and the columns for the CSV that csvfile drives. */
#include "outcomes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"

#define S_MAX_ROWS 1000000		/* rows in one file */
#define S_MAX_RECORD 4096		/* bytes of one record: a valid one is < 100 */
#define S_MAX_FIELD 64			/* characters of one value: a UUID is 36 */
#define S_MAX_COLUMNS 16		/* header fields we look at */
#define S_ECHO_MAX 32			/* bytes of a bad value quoted back */

/* ---- the events ------------------------------------------------------------ */

static const struct {
	const char *name;	/* SPEC §8 spelling */
	int status;		/* purpose `status` (1) or `follow_up` (0), SPEC §3 */
	int level;		/* carries an MBO level */
} s_events[OUTCOME_EV_COUNT] = {
	[OUTCOME_EV_REGISTERED] = { "registered", 1, 0 },
	[OUTCOME_EV_AGREEMENT_OFFERED] = { "agreement_offered", 1, 0 },
	[OUTCOME_EV_NOT_ENROLLED] = { "not_enrolled", 1, 0 },
	[OUTCOME_EV_WITHDRAWN] = { "withdrawn", 1, 0 },
	[OUTCOME_EV_ENROLLED] = { "enrolled", 1, 0 },
	[OUTCOME_EV_INTAKE_HELD] = { "intake_held", 1, 0 },
	[OUTCOME_EV_STILL_ENROLLED] = { "still_enrolled", 0, 0 },
	[OUTCOME_EV_DIPLOMA] = { "diploma", 0, 1 },
	[OUTCOME_EV_PROGRESSED] = { "progressed", 0, 1 },
	[OUTCOME_EV_SWITCHED] = { "switched", 0, 0 },
	[OUTCOME_EV_LEFT_WITHOUT_DIPLOMA] = { "left_without_diploma", 0, 0 },
};

enum outcome_event outcome_event_from_str(const char *s)
{
	for (int i = OUTCOME_EV_UNKNOWN + 1; s && i < OUTCOME_EV_COUNT; i++)
		if (strcmp(s, s_events[i].name) == 0)
			return (enum outcome_event)i;
	return OUTCOME_EV_UNKNOWN;
}

static int s_event_known(enum outcome_event ev)
{
	return ev > OUTCOME_EV_UNKNOWN && ev < OUTCOME_EV_COUNT;
}

const char *outcome_event_str(enum outcome_event ev)
{
	return s_event_known(ev) ? s_events[ev].name : NULL;
}

int outcome_event_is_status(enum outcome_event ev)
{
	return s_event_known(ev) && s_events[ev].status;
}

int outcome_event_needs_level(enum outcome_event ev)
{
	return s_event_known(ev) && s_events[ev].level;
}

const char *outcome_event_list(void)
{
	/* A literal, not built from s_events: no mutable state; the unit test
	 * checks that the two agree. */
	return "registered, agreement_offered, not_enrolled, withdrawn, enrolled, intake_held, "
	       "still_enrolled, diploma, progressed, switched, left_without_diploma";
}

/* ---- one row ------------------------------------------------------------- */

enum s_col_id { C_RECORD_ID, C_EVENT, C_DATE, C_LEVEL, C_COUNT };

static const struct {
	const char *name;	/* header name, and the column in messages */
	int required;		/* in the header, and a value in every row */
} s_cols[C_COUNT] = {
	[C_RECORD_ID] = { "record_id", 1 },
	[C_EVENT] = { "event", 1 },
	[C_DATE] = { "date", 1 },
	[C_LEVEL] = { "level", 0 },
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
	(void)strlist_addf(c->errors, "%s:%u: %s: %s", c->name, c->line, s_cols[col].name, msg);
}

/* A bad value quoted back in a message: at most S_ECHO_MAX bytes, anything
 * but printable ASCII as '?' (no valid value has more), so that one error
 * stays one line of clean text. */
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
		if (s_cols[col].required)
			s_err(c, col, "is required");
		return 0;
	}
	if (strnlen(v, S_MAX_FIELD + 1) > S_MAX_FIELD) {
		s_err(c, col, "too long (at most %d characters)", S_MAX_FIELD);
		return 0;
	}
	return 1;
}

static void s_check_record_id(struct s_vctx *c, const char *v, struct outcome_row *out)
{
	char echo[S_ECHO_MAX + 4];

	if (!s_present(c, C_RECORD_ID, v))
		return;
	if (!crypto_uuid_valid(v))
		s_err(c, C_RECORD_ID, "'%s' is not a record id (a lower-case UUID, "
		      "8-4-4-4-12 hex digits)", s_echo(echo, v));
	else
		memcpy(out->record_id, v, CRYPTO_UUID_STR_LEN + 1);
}

static void s_check_event(struct s_vctx *c, const char *v, struct outcome_row *out)
{
	char echo[S_ECHO_MAX + 4];

	if (!s_present(c, C_EVENT, v))
		return;
	out->event = outcome_event_from_str(v);
	if (out->event == OUTCOME_EV_UNKNOWN)
		s_err(c, C_EVENT, "unknown value '%s' (expected one of: %s)", s_echo(echo, v),
		      outcome_event_list());
}

static void s_check_date(struct s_vctx *c, const char *v, const char *today,
			 struct outcome_row *out)
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
		memcpy(out->date, v, sizeof(out->date));
}

/* Needs out->event as checked already: without a known event only the value
 * itself can be judged. */
static void s_check_level(struct s_vctx *c, const char *v, struct outcome_row *out)
{
	enum outcome_event ev = out->event;
	char echo[S_ECHO_MAX + 4];

	if (!*v) {
		if (outcome_event_needs_level(ev))
			s_err(c, C_LEVEL, "required for event %s (MBO level 1-4)",
			      outcome_event_str(ev));
		return;
	}
	if (!s_present(c, C_LEVEL, v))
		return;
	if (v[0] < '0' + OUTCOME_LEVEL_MIN || v[0] > '0' + OUTCOME_LEVEL_MAX || v[1])
		s_err(c, C_LEVEL, "'%s' is not an MBO level (1-4)", s_echo(echo, v));
	else if (s_event_known(ev) && !outcome_event_needs_level(ev))
		s_err(c, C_LEVEL, "must be empty for event %s (only diploma and progressed "
		      "have a level)", outcome_event_str(ev));
	else
		out->level = v[0] - '0';
}

/* Validate with a set of columns (bit per enum s_col_id) whose value is known
 * to be unusable: the caller has reported those already. */
static int s_validate(struct s_vctx *c, const struct outcome_input *in, const char *today,
		      unsigned skip, struct outcome_row *out)
{
	int before = c->problems;

	memset(out, 0, sizeof(*out));
	out->line = in->line;
	if (!(skip & (1u << C_RECORD_ID)))
		s_check_record_id(c, in->record_id ? in->record_id : "", out);
	if (!(skip & (1u << C_EVENT)))
		s_check_event(c, in->event ? in->event : "", out);
	if (!(skip & (1u << C_DATE)))
		s_check_date(c, in->date ? in->date : "", today, out);
	if (!(skip & (1u << C_LEVEL)))
		s_check_level(c, in->level ? in->level : "", out);
	return c->problems - before;
}

int outcome_row_validate(const char *name, const struct outcome_input *in, const char *today,
			 struct outcome_row *out, struct strlist *errors)
{
	struct s_vctx c = { name ? name : "-", in->line, errors, 0 };
	struct outcome_row row;
	char now[11];

	if (!today) {
		date_today(now);
		today = now;
	}
	return s_validate(&c, in, today, 0, out ? out : &row);
}

/* ---- duplicates ------------------------------------------------------------ */

/* The key of a row for csvfile_dups: (record_id, event, date). */
static uint64_t s_row_hash(const void *rows, size_t i)
{
	const struct outcome_row *r = (const struct outcome_row *)rows + i;
	uint64_t h = 0xcbf29ce484222325u;	/* FNV-1a */

	for (const char *s = r->record_id; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	h = (h ^ (unsigned)r->event) * 0x100000001b3u;
	for (const char *s = r->date; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return h;
}

static int s_row_same(const void *rows, size_t i, size_t j)
{
	const struct outcome_row *a = (const struct outcome_row *)rows + i;
	const struct outcome_row *b = (const struct outcome_row *)rows + j;

	return a->event == b->event && strcmp(a->record_id, b->record_id) == 0 &&
	       strcmp(a->date, b->date) == 0;
}

/* ---- parsing --------------------------------------------------------------- */

/* One import; csvfile drives the CSV, these callbacks know the columns. */
struct s_parse {
	const char *name;		/* FILE part of messages */
	char today[11];			/* the date no row may pass */
	struct strlist *errors;		/* the caller's list */
	size_t ncols;			/* fields in the header */
	int map[S_MAX_COLUMNS];		/* header position -> enum s_col_id, -1 = none */
	struct outcome_row *rows;	/* result, owned; bad rows too, until the end */
	size_t n, cap;
	struct csvfile_dups dups;	/* keys of the rows */
};

static int s_col_find(const char *name)
{
	for (int i = 0; i < C_COUNT; i++)
		if (strcmp(s_cols[i].name, name) == 0)
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
		return csvfile_fail(cf, line, "header: unknown column '%s' (expected: record_id, "
				    "event, date, level)", s_echo(echo, f->s));
	for (size_t j = 0; j < i; j++)
		if (p->map[j] == col)
			return csvfile_fail(cf, line, "header: duplicate column '%s'",
					    s_cols[col].name);
	p->map[i] = col;
	return 0;
}

/* The whole header: not too wide, and every required column present. */
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

		if (!s_cols[c].required)
			continue;
		for (j = 0; j < p->ncols && j < S_MAX_COLUMNS && p->map[j] != c; j++)
			;
		if (j == p->ncols || j == S_MAX_COLUMNS)
			r = csvfile_fail(cf, rec->line, "header: missing required column '%s'",
					 s_cols[c].name);
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

static int s_rows_push(struct s_parse *p, const struct outcome_row *row)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct outcome_row *v;

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
		       struct outcome_row *row)
{
	struct s_vctx c = { p->name, rec->line, p->errors, 0 };
	struct s_values vals;
	struct outcome_input in;

	s_values_get(p, rec, &vals);
	in = (struct outcome_input){ vals.v[C_RECORD_ID], vals.v[C_EVENT], vals.v[C_DATE],
				     vals.v[C_LEVEL], rec->line };
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
	struct outcome_row row;
	int bad = s_row_check(p, rec, &row) > 0;
	size_t prev;
	int r;

	/* Kept even when bad, so that nothing is special later; only a row whose
	 * key parts all passed can be a duplicate. */
	r = s_rows_push(p, &row);
	if (r < 0 || !row.record_id[0] || !row.event || !row.date[0])
		return r < 0 ? r : bad;
	r = csvfile_dups_add(&p->dups, p->rows, p->n - 1, s_row_hash, s_row_same, &prev);
	if (r == 0 && prev)
		r = csvfile_fail(cf, row.line, "record_id: duplicate of line %u (same record_id, "
				 "event and date)", p->rows[prev - 1].line);
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

int outcomes_parse_buffer(const char *name, const char *data, size_t len, const char *today,
			  struct outcome_row **rows, size_t *n, struct strlist *errors,
			  outcomes_progress_fn progress, void *arg)
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
	outcomes_free(&p.rows);
	csvfile_dups_free(&p.dups);
	return r;
}

int outcomes_parse_file(const char *path, const char *today, struct outcome_row **rows,
			size_t *n, struct strlist *errors, outcomes_progress_fn progress,
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
	r = outcomes_parse_buffer(path, buf, len, today, rows, n, errors, progress, arg);
	free(buf);
	return r;
}

void outcomes_free(struct outcome_row **rows)
{
	if (!rows)
		return;
	free(*rows);
	*rows = NULL;
}
