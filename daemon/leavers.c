/* leavers: the leavers CSV import (SPEC §8): csvfile drives the CSV, and one
 * table of columns drives the header, the rows and the checks. */
#include "leavers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csvfile.h"
#include "pgn.h"
#include "vocab.h"

#define S_MAX_FILE ((size_t)256 << 20)	/* a school's export is a few MB at most */
#define S_MAX_COLUMNS 64	/* header fields; a wider file is not ours anyway */
#define S_CODE_MAX 64		/* cap for columns that a check narrows down further */
#define S_ECHO_MAX 32		/* bytes of a bad value quoted back in a message */

/* ---- the columns ---------------------------------------------------------- */

enum {
	S_REQUIRED = 1 << 0,	/* the header must have it and every row a value */
	S_TEXT = 1 << 1,	/* free text: tab and line breaks allowed */
};

enum s_col_id {
	C_PUPIL_REF, C_PGN, C_GIVEN_NAME, C_FAMILY_NAME, C_BIRTH_DATE, C_PROGRAM,
	C_COHORT, C_EXIT_DATE, C_DESTINATION_TYPE, C_DESTINATION_INSTITUTION,
	C_ADVICE, C_ADVICE_FOLLOWED, C_LEVEL_TAAL, C_LEVEL_REKENEN,
	C_SUPPORT_NEEDS, C_MENTOR_NAME, C_MENTOR_EMAIL, C_MENTOR_PHONE,
	C_COUNT
};

struct s_vctx;
struct s_col;
typedef void (*s_check_fn)(struct s_vctx *c, const struct s_col *col, const char *v);

struct s_col {
	const char *name;		/* header name, and the column in messages */
	size_t off;			/* of the char * in Overstapctl__Leaver */
	unsigned max;			/* most characters (code points) */
	unsigned flags;			/* S_REQUIRED, S_TEXT */
	const struct s_col *when;	/* required when that column has a value */
	s_check_fn check;		/* value-specific check, on a non-empty value */
	int (*known)(const char *v);	/* s_check_code: is v in the code list */
	const char *(*list)(void);	/* s_check_code: the list, for the message */
};

/* One validation run over one row. */
struct s_vctx {
	const char *name;		/* FILE part of every message */
	const Overstapctl__Leaver *l;	/* the row under check */
	struct strlist *errors;		/* where the messages go */
	int problems;			/* found so far */
};

static void s_check_pgn(struct s_vctx *c, const struct s_col *col, const char *v);
static void s_check_birth(struct s_vctx *c, const struct s_col *col, const char *v);
static void s_check_cohort(struct s_vctx *c, const struct s_col *col, const char *v);
static void s_check_exit(struct s_vctx *c, const struct s_col *col, const char *v);
static void s_check_code(struct s_vctx *c, const struct s_col *col, const char *v);
static void s_check_institution(struct s_vctx *c, const struct s_col *col, const char *v);
static void s_check_support(struct s_vctx *c, const struct s_col *col, const char *v);
static void s_check_email(struct s_vctx *c, const struct s_col *col, const char *v);
static void s_check_phone(struct s_vctx *c, const struct s_col *col, const char *v);

static int s_is_program(const char *v) { return vocab_program_from_str(v) != 0; }
static int s_is_destination(const char *v) { return vocab_destination_from_str(v) != 0; }
static int s_is_advice(const char *v) { return vocab_advice_from_str(v) != 0; }
static int s_is_yesno(const char *v) { return vocab_yesno_from_str(v) != 0; }
static int s_is_level(const char *v) { return vocab_level_from_str(v) != 0; }
static const char *s_yesno_list(void) { return "yes, no"; }
static const char *s_level_list(void) { return "none, 1F, 2F, 3F"; }

#define S_OFF(f) offsetof(Overstapctl__Leaver, f)

/* Order = message order within a row. Only the SPEC §8 "yes" columns are
 * required in the header; pgn and the names are required per row by `when`. */
static const struct s_col s_cols[C_COUNT] = {
	[C_PUPIL_REF] = { "pupil_ref", S_OFF(pupil_ref), 64, S_REQUIRED, NULL, NULL, NULL, NULL },
	[C_PGN] = { "pgn", S_OFF(pgn), S_CODE_MAX, 0, &s_cols[C_DESTINATION_INSTITUTION],
		    s_check_pgn, NULL, NULL },
	[C_GIVEN_NAME] = { "given_name", S_OFF(given_name), 128, 0, &s_cols[C_PGN], NULL, NULL, NULL },
	[C_FAMILY_NAME] = { "family_name", S_OFF(family_name), 128, 0, &s_cols[C_PGN], NULL, NULL,
			    NULL },
	[C_BIRTH_DATE] = { "birth_date", S_OFF(birth_date), S_CODE_MAX, S_REQUIRED, NULL,
			   s_check_birth, NULL, NULL },
	[C_PROGRAM] = { "program", S_OFF(program), S_CODE_MAX, S_REQUIRED, NULL, s_check_code,
			s_is_program, vocab_program_list },
	[C_COHORT] = { "cohort", S_OFF(cohort), S_CODE_MAX, S_REQUIRED, NULL, s_check_cohort, NULL,
		       NULL },
	[C_EXIT_DATE] = { "exit_date", S_OFF(exit_date), S_CODE_MAX, S_REQUIRED, NULL, s_check_exit,
			  NULL, NULL },
	[C_DESTINATION_TYPE] = { "destination_type", S_OFF(destination_type), S_CODE_MAX,
				 S_REQUIRED, NULL, s_check_code, s_is_destination,
				 vocab_destination_list },
	[C_DESTINATION_INSTITUTION] = { "destination_institution", S_OFF(destination_institution),
					S_CODE_MAX, 0, NULL, s_check_institution, NULL, NULL },
	[C_ADVICE] = { "advice", S_OFF(advice), S_CODE_MAX, 0, NULL, s_check_code, s_is_advice,
		       vocab_advice_list },
	[C_ADVICE_FOLLOWED] = { "advice_followed", S_OFF(advice_followed), S_CODE_MAX, 0, NULL,
				s_check_code, s_is_yesno, s_yesno_list },
	[C_LEVEL_TAAL] = { "level_taal", S_OFF(level_taal), S_CODE_MAX, 0, NULL, s_check_code,
			   s_is_level, s_level_list },
	[C_LEVEL_REKENEN] = { "level_rekenen", S_OFF(level_rekenen), S_CODE_MAX, 0, NULL,
			      s_check_code, s_is_level, s_level_list },
	[C_SUPPORT_NEEDS] = { "support_needs", S_OFF(support_needs), 512, S_TEXT, NULL,
			      s_check_support, NULL, NULL },
	[C_MENTOR_NAME] = { "mentor_name", S_OFF(mentor_name), 128, 0, NULL, NULL, NULL, NULL },
	[C_MENTOR_EMAIL] = { "mentor_email", S_OFF(mentor_email), 254, 0, NULL, s_check_email, NULL,
			     NULL },
	[C_MENTOR_PHONE] = { "mentor_phone", S_OFF(mentor_phone), 32, 0, NULL, s_check_phone, NULL,
			     NULL },
};

static const struct s_col *s_col_find(const char *name)
{
	for (size_t i = 0; i < C_COUNT; i++)
		if (strcmp(s_cols[i].name, name) == 0)
			return &s_cols[i];
	return NULL;
}

/* The column's value in l; protobuf-c never leaves a string NULL, a caller might. */
static const char *s_get(const Overstapctl__Leaver *l, const struct s_col *col)
{
	const char *v = *(char *const *)((const char *)l + col->off);

	return v ? v : "";
}

/* ---- text helpers --------------------------------------------------------- */

/* 1 when s is well-formed UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF); *n is then its length in code points. */
static int s_utf8_count(const char *s, size_t *n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0;

	while (*p) {
		unsigned c = *p, len, cp;

		if (c < 0x80) {
			p++;
			count++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		/* A NUL fails the continuation test, so we never read past it. */
		for (unsigned i = 1; i <= len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x800) || (len == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += len + 1;
		count++;
	}
	*n = count;
	return 1;
}

static int s_has_control(const char *s, int text)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 || *p == 0x7f) && !(text && (*p == '\t' || *p == '\n' || *p == '\r')))
			return 1;
	return 0;
}

/* A bad value quoted back in a message: at most S_ECHO_MAX bytes, cut on a
 * character boundary, control characters as '?', so that one error stays one
 * line. Only code-like values are echoed, never a pgn or a name. */
static const char *s_echo(char *out, size_t size, const char *v, size_t len)
{
	size_t n = len < S_ECHO_MAX ? len : S_ECHO_MAX, i;

	if (size < S_ECHO_MAX + 4)
		return "?";
	while (n < len && n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
		n--;
	for (i = 0; i < n; i++)
		out[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
	if (n < len) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* ---- validation ----------------------------------------------------------- */

static void s_err(struct s_vctx *c, const struct s_col *col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void s_err(struct s_vctx *c, const struct s_col *col, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->problems++;
	/* On -ENOMEM the message is lost but the problem still counts, so the
	 * import still fails. */
	(void)strlist_addf(c->errors, "%s:%u: %s: %s", c->name, (unsigned)c->l->line, col->name, msg);
}

static void s_check_pgn(struct s_vctx *c, const struct s_col *col, const char *v)
{
	const char *why = NULL;

	/* The reason only: a pgn is personal data and errors end up in logs. */
	if (pgn_check(v, &why) < 0)
		s_err(c, col, "%s", why);
}

/* 1 when v is written YYYY-YYYY, whatever the years. */
static int s_cohort_shape(const char *v)
{
	if (strlen(v) != 9 || v[4] != '-')
		return 0;
	for (int i = 0; i < 9; i++)
		if (i != 4 && (v[i] < '0' || v[i] > '9'))
			return 0;
	return 1;
}

/* 1 when v is "YYYY-YYYY" with consecutive years; *y is the first year. */
static int s_cohort_year(const char *v, int *y)
{
	if (!s_cohort_shape(v) || atoi(v + 5) != atoi(v) + 1)
		return 0;
	*y = atoi(v);
	return 1;
}

static void s_check_cohort(struct s_vctx *c, const struct s_col *col, const char *v)
{
	int y;

	if (!s_cohort_shape(v))
		s_err(c, col, "must be YYYY-YYYY (e.g. 2024-2025)");
	else if (!s_cohort_year(v, &y))
		s_err(c, col, "years must be consecutive (e.g. 2024-2025)");
}

static void s_check_birth(struct s_vctx *c, const struct s_col *col, const char *v)
{
	const char *exit_date = s_get(c->l, &s_cols[C_EXIT_DATE]);

	if (!date_valid(v, NULL, NULL, NULL))
		s_err(c, col, "not a real date (YYYY-MM-DD)");
	/* Same format, so the strings compare like the dates. */
	else if (date_valid(exit_date, NULL, NULL, NULL) && strcmp(v, exit_date) >= 0)
		s_err(c, col, "not before exit_date");
}

static void s_check_exit(struct s_vctx *c, const struct s_col *col, const char *v)
{
	char from[24], to[24];
	int y;

	if (!date_valid(v, NULL, NULL, NULL)) {
		s_err(c, col, "not a real date (YYYY-MM-DD)");
		return;
	}
	if (!s_cohort_year(s_get(c->l, &s_cols[C_COHORT]), &y))
		return;	/* cohort has its own message */
	/* A school year runs 1 August .. 31 July (SPEC §6: cohort = year of leaving). */
	snprintf(from, sizeof(from), "%04d-08-01", y);
	snprintf(to, sizeof(to), "%04d-07-31", y + 1);
	if (strcmp(v, from) < 0 || strcmp(v, to) > 0)
		s_err(c, col, "not inside school year %d-%d (%s .. %s)", y, y + 1, from, to);
}

static void s_check_code(struct s_vctx *c, const struct s_col *col, const char *v)
{
	char echo[S_ECHO_MAX + 4];

	if (!col->known(v))
		s_err(c, col, "unknown value '%s' (expected one of: %s)",
		      s_echo(echo, sizeof(echo), v, strlen(v)), col->list());
}

static void s_check_institution(struct s_vctx *c, const struct s_col *col, const char *v)
{
	char echo[S_ECHO_MAX + 4];

	if (!config_institution_id_valid(v))
		s_err(c, col, "'%s' is not an institution id (BRIN + location, e.g. 12AB00)",
		      s_echo(echo, sizeof(echo), v, strlen(v)));
}

/* "code[:note];code[:note]": blanks around a code are forgiven, the note is
 * free text; every unknown or missing code is its own problem. */
static void s_check_support(struct s_vctx *c, const struct s_col *col, const char *v)
{
	char code[S_CODE_MAX + 1], echo[S_ECHO_MAX + 4];
	unsigned entry = 0;

	for (const char *p = v;; p++) {
		const char *end = p + strcspn(p, ";");
		const char *ce = p + strcspn(p, ":;");
		size_t len;

		entry++;
		while (p < ce && (*p == ' ' || *p == '\t'))
			p++;
		while (ce > p && (ce[-1] == ' ' || ce[-1] == '\t'))
			ce--;
		len = (size_t)(ce - p);
		if (len == 0) {
			s_err(c, col, "entry %u has no code (expected code[:note];...)", entry);
		} else {
			size_t n = len < S_CODE_MAX ? len : S_CODE_MAX;

			memcpy(code, p, n);
			code[n] = '\0';
			if (len > S_CODE_MAX || !vocab_support_code_valid(code))
				s_err(c, col, "unknown code '%s' (expected one of: %s)",
				      s_echo(echo, sizeof(echo), p, len), vocab_support_codes());
		}
		if (!*end)
			break;
		p = end;
	}
}

static void s_check_email(struct s_vctx *c, const struct s_col *col, const char *v)
{
	const char *at = strchr(v, '@');

	if (!at || at == v || !at[1] || strchr(at + 1, '@') || strpbrk(v, " \t"))
		s_err(c, col, "not an e-mail address");
}

static void s_check_phone(struct s_vctx *c, const struct s_col *col, const char *v)
{
	if (v[strspn(v, "0123456789+-() ")] != '\0' || !strpbrk(v, "0123456789"))
		s_err(c, col, "not a phone number (digits, spaces and + - ( ) only)");
}

/* The checks every column gets, then its own. */
static void s_check_field(struct s_vctx *c, const struct s_col *col)
{
	const char *v = s_get(c->l, col);
	size_t n;

	if (!*v) {
		if (col->flags & S_REQUIRED)
			s_err(c, col, "is required");
		else if (col->when && *s_get(c->l, col->when))
			s_err(c, col, "required when %s is set", col->when->name);
		return;
	}
	if (!s_utf8_count(v, &n)) {
		s_err(c, col, "not valid UTF-8");
		return;
	}
	if (n > col->max) {
		s_err(c, col, "too long (%zu characters, at most %u)", n, col->max);
		return;
	}
	if (s_has_control(v, col->flags & S_TEXT)) {
		s_err(c, col, "contains a control character");
		return;
	}
	if (col->check)
		col->check(c, col, v);
}

int leaver_validate(const char *name, const Overstapctl__Leaver *l, struct strlist *errors)
{
	struct s_vctx c = { name ? name : "-", l, errors, 0 };

	for (size_t i = 0; i < C_COUNT; i++)
		s_check_field(&c, &s_cols[i]);
	return c.problems;
}

/* ---- duplicate pupil_ref ------------------------------------------------- */

/* pupil_ref -> line, open addressing; the keys are borrowed from the rows,
 * which outlive the table. */
struct s_ref {
	const char *key;	/* NULL = free slot */
	unsigned line;
};

struct s_refs {
	struct s_ref *v;	/* cap slots, owned */
	size_t n;		/* used */
	size_t cap;		/* a power of two */
};

static size_t s_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return (size_t)h;
}

static struct s_ref *s_refs_slot(struct s_ref *v, size_t cap, const char *key)
{
	size_t i = s_hash(key) & (cap - 1);

	while (v[i].key && strcmp(v[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* Add key first seen on line; *prev = the earlier line of a duplicate, else 0. */
static int s_refs_add(struct s_refs *t, const char *key, unsigned line, unsigned *prev)
{
	struct s_ref *slot;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct s_ref *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->v[i].key)
				*s_refs_slot(v, cap, t->v[i].key) = t->v[i];
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	slot = s_refs_slot(t->v, t->cap, key);
	*prev = slot->key ? slot->line : 0;
	if (!slot->key) {
		slot->key = key;
		slot->line = line;
		t->n++;
	}
	return 0;
}

/* ---- parsing -------------------------------------------------------------- */

/* One import; csvfile drives the CSV, these callbacks know the columns. */
struct s_parse {
	const char *name;		/* FILE part of messages */
	struct strlist *errors;		/* the caller's list */
	size_t ncols;			/* fields in the header */
	const struct s_col *map[S_MAX_COLUMNS];	/* header position -> column */
	Overstapctl__Leaver **rows;	/* result, owned; bad rows too, until the end */
	size_t n, cap;
	struct s_refs refs;		/* pupil_refs seen */
};

/* One header field: known, once, and its position remembered. */
static int s_header_field(struct csvfile *cf, unsigned line, size_t i,
			  const struct csvfile_field *f, void *arg)
{
	struct s_parse *p = arg;
	char echo[S_ECHO_MAX + 4];
	const struct s_col *col;
	size_t n;

	if (f->len == 0)
		return csvfile_fail(cf, line, "header: column %zu has no name", i + 1);
	if (strlen(f->s) != f->len || !s_utf8_count(f->s, &n))
		return csvfile_fail(cf, line, "header: column %zu: not valid UTF-8", i + 1);
	col = s_col_find(f->s);
	if (!col)
		return csvfile_fail(cf, line, "header: unknown column '%s'",
				    s_echo(echo, sizeof(echo), f->s, f->len));
	for (size_t j = 0; j < i; j++)
		if (p->map[j] == col)
			return csvfile_fail(cf, line, "header: duplicate column '%s'", col->name);
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
	for (size_t i = 0; i < C_COUNT && r == 0; i++) {
		size_t j;

		if (!(s_cols[i].flags & S_REQUIRED))
			continue;
		for (j = 0; j < p->ncols && j < S_MAX_COLUMNS && p->map[j] != &s_cols[i]; j++)
			;
		if (j == p->ncols || j == S_MAX_COLUMNS)
			r = csvfile_fail(cf, rec->line, "header: missing required column '%s'",
					 s_cols[i].name);
	}
	return r;
}

/* A data field as it arrives: a NUL byte is reported even when the row turns
 * out to have the wrong number of fields. */
static int s_row_field(struct csvfile *cf, unsigned line, size_t i,
		       const struct csvfile_field *f, void *arg)
{
	struct s_parse *p = arg;

	/* libcsv hands us len bytes; C strings would silently cut at a NUL. */
	if (i < p->ncols && memchr(f->s, '\0', f->len))
		return csvfile_fail(cf, line, "%s: contains a NUL byte", p->map[i]->name);
	return 0;
}

static int s_rows_push(struct s_parse *p, Overstapctl__Leaver *l)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		Overstapctl__Leaver **v = realloc(p->rows, cap * sizeof(Overstapctl__Leaver *));

		if (!v)
			return -ENOMEM;
		p->rows = v;
		p->cap = cap;
	}
	p->rows[p->n++] = l;
	return 0;
}

/* The row's values into a new leaver; empty values keep protobuf-c's shared
 * empty string, which free_unpacked knows not to free. NULL on -ENOMEM. */
static Overstapctl__Leaver *s_leaver_new(const struct s_parse *p, const struct csvfile_record *rec)
{
	Overstapctl__Leaver *l = malloc(sizeof(*l));

	if (!l)
		return NULL;
	overstapctl__leaver__init(l);
	for (size_t i = 0; i < p->ncols; i++) {
		const struct csvfile_field *f = &rec->fields[i];
		char *v;

		if (f->len == 0)
			continue;
		v = malloc(f->len + 1);
		if (!v) {
			overstapctl__leaver__free_unpacked(l, NULL);
			return NULL;
		}
		memcpy(v, f->s, f->len + 1);
		*(char **)((char *)l + p->map[i]->off) = v;
	}
	l->line = rec->line;
	return l;
}

/* A data row: build the leaver, validate it, check its pupil_ref, keep it. */
static int s_row(struct csvfile *cf, const struct csvfile_record *rec, void *arg)
{
	struct s_parse *p = arg;
	Overstapctl__Leaver *l = s_leaver_new(p, rec);
	unsigned prev;
	int r = 0;

	if (!l)
		return -ENOMEM;
	if (leaver_validate(p->name, l, p->errors) > 0)
		r = 1;	/* reported */
	if (*l->pupil_ref) {
		int e = s_refs_add(&p->refs, l->pupil_ref, l->line, &prev);

		if (e == 0 && prev)
			e = csvfile_fail(cf, l->line, "pupil_ref: duplicate of line %u", prev);
		if (e < 0) {
			overstapctl__leaver__free_unpacked(l, NULL);
			return e;
		}
	}
	/* Kept even when bad: later duplicates point at it, and it is freed at
	 * the end with the rest. */
	if (s_rows_push(p, l) < 0) {
		overstapctl__leaver__free_unpacked(l, NULL);
		return -ENOMEM;
	}
	return r;
}

int leavers_parse_buffer(const char *name, const char *data, size_t len,
			 Overstapctl__Leaver ***out_rows, size_t *out_n, struct strlist *errors,
			 leavers_progress_fn progress, void *arg)
{
	struct s_parse p = { .name = name ? name : "-", .errors = errors };
	const struct csvfile_spec spec = {
		.max_file = S_MAX_FILE,
		/* No record or row cap: support_needs is free text, and a school's
		 * export has always been taken whole. */
		.max_fields = S_MAX_COLUMNS,
		.header_field = s_header_field,
		.header = s_header,
		.row_field = s_row_field,
		.row = s_row,
		.arg = &p,
		.progress = progress,
		.progress_arg = arg,
	};
	int r;

	*out_rows = NULL;
	*out_n = 0;
	r = csvfile_parse(name, data, len, &spec, errors);
	if (r == 0) {
		*out_rows = p.rows;
		*out_n = p.n;
		p.rows = NULL; /* transferred */
		p.n = 0;
	}
	leavers_free(&p.rows, p.n);
	free(p.refs.v);
	return r;
}

int leavers_parse_file(const char *path, Overstapctl__Leaver ***out_rows, size_t *out_n,
		       struct strlist *errors, leavers_progress_fn progress, void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	*out_rows = NULL;
	*out_n = 0;
	r = file_read_all(path, S_MAX_FILE, &buf, &len);
	if (r < 0)
		return r;
	r = leavers_parse_buffer(path, buf, len, out_rows, out_n, errors, progress, arg);
	free(buf);
	return r;
}

void leavers_free(Overstapctl__Leaver ***rows, size_t n)
{
	if (!rows || !*rows)
		return;
	for (size_t i = 0; i < n; i++)
		if ((*rows)[i])
			overstapctl__leaver__free_unpacked((*rows)[i], NULL);
	free(*rows);
	*rows = NULL;
}
