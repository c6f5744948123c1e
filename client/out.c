/* out: aligned text tables, a JSON writer and terminal-safe text for overstap. */
#include "out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD_LABEL_WIDTH 16

/* Length of the valid UTF-8 sequence at p (1..4) with its code point in *cp,
 * or 0 when p does not start one: overlong forms, surrogates and values past
 * U+10FFFF are invalid. A NUL never continues a sequence, so this stops at the
 * end of a string. */
static size_t s_utf8(const unsigned char *p, uint32_t *cp)
{
	uint32_t c;
	size_t n;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xC2 || p[0] > 0xF4)
		return 0;
	n = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
	c = p[0] & (0x7F >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10FFFF ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

int out_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (*p) {
		size_t n = s_utf8(p, &cp);
		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

/* Characters a terminal acts on instead of showing: C0, DEL, C1, and the
 * bidirectional overrides that can make a name display as something else. */
static int s_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The one text sanitiser: with indent != NULL line breaks and tabs are kept
 * (a CR before LF is dropped) and continuation lines are indented. */
static void s_clean(FILE *f, const char *s, const char *indent)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s || !*s) {
		fputc('-', f);
		return;
	}
	while (*p) {
		uint32_t cp = 0;
		size_t n = s_utf8(p, &cp);

		if (indent && p[0] == '\r' && p[1] == '\n') {
			p++;
			continue;
		}
		if (indent && p[0] == '\n') {
			fprintf(f, "\n%s", indent);
		} else if (indent && p[0] == '\t') {
			fputc('\t', f);
		} else if (n == 0) {
			fprintf(f, "\\x%02X", p[0]);
			n = 1;
		} else if (cp >= 0x100 && s_unsafe(cp)) {
			fprintf(f, "\\u%04X", (unsigned)cp);
		} else if (s_unsafe(cp)) {
			for (size_t i = 0; i < n; i++)
				fprintf(f, "\\x%02X", p[i]);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n ? n : 1;
	}
}

void out_text(FILE *f, const char *s) { s_clean(f, s, NULL); }

void out_block(FILE *f, const char *indent, const char *s) { s_clean(f, s, indent); }

void out_field(FILE *f, const char *indent, const char *label, const char *value)
{
	fprintf(f, "%s%-*s  ", indent, FIELD_LABEL_WIDTH, label);
	out_text(f, value);
	fputc('\n', f);
}

const char *out_time(int64_t ms, char buf[OUT_TIME_LEN], const char *none)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || !localtime_r(&t, &tm) ||
	    strftime(buf, OUT_TIME_LEN, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return none;
	return buf;
}

const char *out_duration(int64_t ms, char *buf, size_t len)
{
	long long s = ms > 0 ? (long long)(ms / 1000) : 0;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

/* --- tables --- */

struct table {
	const struct table_col *cols;	/* borrowed */
	size_t ncols;
	char **cells;			/* owned; row-major, nrows * ncols */
	size_t nrows;
	size_t cap;			/* rows allocated */
};

struct table *table_new(const struct table_col *cols, size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t) {
		t->cols = cols;
		t->ncols = ncols;
	}
	return t;
}

/* A terminal-safe copy of s, or NULL on ENOMEM. */
static char *s_clean_dup(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	s_clean(f, s, NULL);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char **v = realloc(t->cells, cap * t->ncols * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->cells = v;
		t->cap = cap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = s_clean_dup(cells[c]);
		if (!row[c]) {
			while (c-- > 0)
				free(row[c]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

size_t table_rows(const struct table *t) { return t->nrows; }

/* Columns on a terminal: one per UTF-8 character (names are mostly Latin;
 * double-width scripts would need wcwidth and a locale). */
static int s_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static void s_cell(FILE *f, const char *s, int width, int right, int last)
{
	int pad = width - s_width(s);

	if (right)
		fprintf(f, "%*s%s", pad, "", s);
	else if (last)
		fputs(s, f);	/* no trailing blanks */
	else
		fprintf(f, "%s%*s", s, pad, "");
	fputs(last ? "\n" : "  ", f);
}

void table_print(const struct table *t, FILE *f)
{
	int *w = calloc(t->ncols, sizeof(*w));

	if (!w)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = s_width(t->cols[c].name);
		for (size_t r = 0; r < t->nrows; r++) {
			int cw = s_width(t->cells[r * t->ncols + c]);
			w[c] = cw > w[c] ? cw : w[c];
		}
	}
	for (size_t c = 0; c < t->ncols; c++)
		s_cell(f, t->cols[c].name, w[c], t->cols[c].right, c + 1 == t->ncols);
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			s_cell(f, t->cells[r * t->ncols + c], w[c], t->cols[c].right,
			       c + 1 == t->ncols);
	free(w);
}

void table_free(struct table **tp)
{
	struct table *t = *tp;

	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	*tp = NULL;
}

/* --- JSON --- */

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

static void s_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		uint32_t cp = 0;
		size_t n = s_utf8(p, &cp);

		if (n == 0) {
			fputs("\\ufffd", f);	/* JSON text must be UTF-8 */
			n = 1;
		} else if (cp == '"' || cp == '\\') {
			fputc('\\', f);
			fputc((int)cp, f);
		} else if (cp < 0x20 || cp == 0x2028 || cp == 0x2029) {
			/* U+2028/9 are valid JSON but end lines in JavaScript. */
			fprintf(f, "\\u%04x", (unsigned)cp);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
	}
	fputc('"', f);
}

/* Separator, indentation and key before a value at the current depth. */
static void s_json_member(struct json *j, const char *key)
{
	if (j->depth > 0) {
		fputs(j->empty[j->depth] ? "\n" : ",\n", j->f);
		j->empty[j->depth] = 0;
		fprintf(j->f, "%*s", 2 * j->depth, "");
	}
	if (key) {
		s_json_str(j->f, key);
		fputs(": ", j->f);
	}
}

static void s_json_open(struct json *j, const char *key, int c)
{
	if (j->depth + 1 >= JSON_MAX_DEPTH)
		abort();	/* broken invariant: our documents are shallow */
	s_json_member(j, key);
	fputc(c, j->f);
	j->empty[++j->depth] = 1;
}

static void s_json_close(struct json *j, int c)
{
	if (j->depth == 0)
		abort();	/* broken invariant: unbalanced end */
	if (!j->empty[j->depth])
		fprintf(j->f, "\n%*s", 2 * (j->depth - 1), "");
	j->depth--;
	fputc(c, j->f);
}

void json_object_begin(struct json *j, const char *key) { s_json_open(j, key, '{'); }
void json_object_end(struct json *j) { s_json_close(j, '}'); }
void json_array_begin(struct json *j, const char *key) { s_json_open(j, key, '['); }
void json_array_end(struct json *j) { s_json_close(j, ']'); }

void json_string(struct json *j, const char *key, const char *s)
{
	s_json_member(j, key);
	if (s)
		s_json_str(j->f, s);
	else
		fputs("null", j->f);
}

void json_int(struct json *j, const char *key, int64_t v)
{
	s_json_member(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void json_uint(struct json *j, const char *key, uint64_t v)
{
	s_json_member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_bool(struct json *j, const char *key, int v)
{
	s_json_member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	s_json_member(j, key);
	fputs("null", j->f);
}

void json_raw(struct json *j, const char *key, const char *text)
{
	s_json_member(j, key);
	fputs(text, j->f);
}

void json_finish(struct json *j) { fputc('\n', j->f); }
