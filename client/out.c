/* out: aligned text tables, JSON through jansson and terminal-safe text for overstap. */
#include "out.h"
#include "util.h"
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* A column head: a msgid (N_ in each table), translated here. gettext("")
 * would answer with the catalog's header, so an empty head stays empty. */
static const char *s_head(const char *name)
{
	return name && *name ? _(name) : "";
}

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
		w[c] = s_width(s_head(t->cols[c].name));
		for (size_t r = 0; r < t->nrows; r++) {
			int cw = s_width(t->cells[r * t->ncols + c]);
			w[c] = cw > w[c] ? cw : w[c];
		}
	}
	for (size_t c = 0; c < t->ncols; c++)
		s_cell(f, s_head(t->cols[c].name), w[c], t->cols[c].right, c + 1 == t->ncols);
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

#define S_FFFD "\xEF\xBF\xBD"	/* U+FFFD REPLACEMENT CHARACTER in UTF-8 */

char *out_utf8_fix(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *buf = malloc(3 * strlen(s) + 1);	/* each byte may become 3 */
	char *o = buf;

	if (!buf)
		return NULL;
	while (*p) {
		uint32_t cp;
		size_t n = s_utf8(p, &cp);

		if (n == 0) {
			memcpy(o, S_FFFD, 3);
			o += 3;
			n = 1;
		} else {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return buf;
}

json_t *out_json_str(const char *s)
{
	json_t *v;
	char *fixed;

	if (!s)
		return json_null();
	if (out_utf8_valid(s))
		return json_string(s);
	if (!(fixed = out_utf8_fix(s)))
		return NULL;
	v = json_string(fixed);
	free(fixed);
	return v;
}

json_t *out_json_uint(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

int out_json_set(json_t *obj, const char *key, json_t *v)
{
	char *fixed = NULL;
	int r;

	if (!obj || !v || !key) {
		json_decref(v);
		return -ENOMEM;
	}
	if (!out_utf8_valid(key) && !(fixed = out_utf8_fix(key))) {
		json_decref(v);
		return -ENOMEM;
	}
	/* json_object_set_new releases v when it fails, too. */
	r = json_object_set_new(obj, fixed ? fixed : key, v) == 0 ? 0 : -ENOMEM;
	free(fixed);
	return r;
}

int out_json_set_str(json_t *obj, const char *key, const char *s)
{
	return out_json_set(obj, key, out_json_str(s));
}

int out_json_set_int(json_t *obj, const char *key, int64_t v)
{
	return out_json_set(obj, key, json_integer((json_int_t)v));
}

json_t *out_json_time(int64_t ms)
{
	char at[TIME_ISO_MS_LEN];

	if (ms <= 0)
		return json_null();
	time_format_iso_ms(ms, at);
	return json_string(at);
}

int out_json_set_time(json_t *obj, const char *key, int64_t ms)
{
	return out_json_set(obj, key, out_json_time(ms));
}

int out_json_append(json_t *arr, json_t *v)
{
	if (!arr || !v) {
		json_decref(v);
		return -ENOMEM;
	}
	return json_array_append_new(arr, v) == 0 ? 0 : -ENOMEM;
}

json_t *out_json_done(json_t *v, int err)
{
	if (err) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int out_json_print(FILE *f, json_t **root, size_t flags)
{
	int r;

	if (!*root)
		return -ENOMEM;
	r = json_dumpf(*root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | flags) == 0 &&
	    fputc('\n', f) != EOF ? 0 : -EIO;
	json_decref(*root);
	*root = NULL;
	return r;
}

/* A report names pupils' schools and cohorts, an export every action on
 * them: nobody else on the machine reads them (0600), and a link planted
 * where the operator writes cannot redirect them over another file. */
FILE *out_create(const char *path, int force)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
	struct stat st;
	FILE *f;
	int fd = open(path, flags, 0600);

	if (fd < 0) {
		int e = errno;

		/* O_EXCL refuses a link with EEXIST too: say which it is. */
		if (e == ELOOP || (e == EEXIST && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)))
			fprintf(stderr, _("overstap: %s is a symbolic link; not writing through it "
				"(give the path of a new file; --force does not follow links)\n"), path);
		else if (e == EEXIST)
			fprintf(stderr, _("overstap: %s exists; not overwriting it (choose a new "
				"file, or add --force to replace it)\n"), path);
		else
			fprintf(stderr, _("overstap: %s: %s\n"), path, strerror(e));
		return NULL;
	}
	/* --force on an older file, perhaps 0644: it is ours now, so 0600. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
	    fchmod(fd, 0600) < 0) {
		fprintf(stderr, _("overstap: %s: cannot make it private (mode 0600): %s\n"), path,
			strerror(errno));
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, _("overstap: %s: %s\n"), path, strerror(errno));
		close(fd);
	}
	return f;
}
