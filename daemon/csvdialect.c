/* csvdialect: encodings, separators, dates, folded names and the mapping
 * file of the CSV imports (design.md §8.8). */
#include "csvdialect.h"
#include "i18n.h"

#include <errno.h>
#include <iconv.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_FOLD_MAX 128		/* bytes of a folded name or value in the map */

/* ---- dates ----------------------------------------------------------------- */

int csvdialect_date_format(const char *s, enum csvdialect_date *out)
{
	static const struct {
		const char *name;
		enum csvdialect_date f;
	} names[] = {
		{ "auto", CSVDIALECT_DATE_AUTO },     { "ymd", CSVDIALECT_DATE_YMD },
		{ "yyyy-mm-dd", CSVDIALECT_DATE_YMD }, { "dmy", CSVDIALECT_DATE_DMY },
		{ "dd-mm-yyyy", CSVDIALECT_DATE_DMY }, { "mdy", CSVDIALECT_DATE_MDY },
		{ "mm-dd-yyyy", CSVDIALECT_DATE_MDY },
	};

	for (size_t i = 0; s && i < ARRAY_SIZE(names); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return -EINVAL;
}

/* One group of digits at *p (at most 4); its width, 0 when none. */
static int s_digits(const char **p, unsigned *v)
{
	int w = 0;

	*v = 0;
	while (w < 5 && **p >= '0' && **p <= '9') {
		*v = *v * 10 + (unsigned)(**p - '0');
		(*p)++;
		w++;
	}
	return w <= 4 ? w : 0;
}

int csvdialect_date(const char *v, enum csvdialect_date f, char out[11])
{
	unsigned n[3], y, m, d;
	int w[3];
	char sep = 0;
	const char *p = v;

	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			if ((*p != '-' && *p != '/' && *p != '.') || (sep && *p != sep))
				return 0;
			sep = *p++;
		}
		if (!(w[i] = s_digits(&p, &n[i])))
			return 0;
	}
	if (*p)
		return 0;
	/* A year first is never ambiguous: only dmy/mdy's year-last order is
	 * the user's to say. */
	if (w[0] == 4 && w[1] <= 2 && w[2] <= 2) {
		y = n[0], m = n[1], d = n[2];
	} else if (w[2] == 4 && w[0] <= 2 && w[1] <= 2 &&
		   (f == CSVDIALECT_DATE_AUTO || f == CSVDIALECT_DATE_DMY)) {
		d = n[0], m = n[1], y = n[2];
	} else if (w[2] == 4 && w[0] <= 2 && w[1] <= 2 && f == CSVDIALECT_DATE_MDY) {
		m = n[0], d = n[1], y = n[2];
	} else {
		return 0;
	}
	/* At most 4, 2 and 2 digits; by hand, as this runs on every date. */
	out[0] = (char)('0' + y / 1000), out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10), out[3] = (char)('0' + y % 10), out[4] = '-';
	out[5] = (char)('0' + m / 10), out[6] = (char)('0' + m % 10), out[7] = '-';
	out[8] = (char)('0' + d / 10), out[9] = (char)('0' + d % 10), out[10] = '\0';
	return 1;
}

/* ---- the separator --------------------------------------------------------- */

int csvdialect_delimiter(const char *s, char *out)
{
	static const struct {
		const char *name;
		char c;
	} names[] = { { "tab", '\t' }, { "\\t", '\t' }, { "comma", ',' }, { "semicolon", ';' } };

	for (size_t i = 0; s && i < ARRAY_SIZE(names); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].c;
			return 0;
		}
	}
	/* One character; a quote, blank or line break could never separate. */
	if (!s || !s[0] || s[1] || (s[0] != '\t' && (s[0] < 0x21 || s[0] > 0x7e)) || s[0] == '"')
		return -EINVAL;
	*out = s[0];
	return 0;
}

char csvdialect_delimiter_detect(const char *data, size_t len)
{
	static const char cand[] = { ',', ';', '\t' };
	size_t count[3] = { 0 }, i = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	int quoted = 0, best = 0;

	for (; i < len; i++) {
		char c = data[i];

		if (c == '"')
			quoted = !quoted;
		else if (!quoted && (c == '\n' || c == '\r'))
			break;
		else if (!quoted)
			for (int k = 0; k < 3; k++)
				count[k] += c == cand[k];
	}
	for (int k = 1; k < 3; k++)
		if (count[k] > count[best])
			best = k;
	return cand[best];
}

/* ---- encodings ------------------------------------------------------------- */

int csvdialect_utf8_valid(const char *s, size_t len, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i], n, cp;
		uint64_t w;

		/* Eight ASCII bytes at a time: a file is mostly ASCII. */
		if (len - i >= 8 && (memcpy(&w, p + i, 8), (w & 0x8080808080808080u) == 0)) {
			i += 8;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			goto fail;
		if (len - i <= n)
			goto fail;
		for (unsigned k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto fail;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto fail;
		i += n + 1;
	}
	return 1;
fail:
	*bad = i;
	return 0;
}

/* 1 when data holds a well-formed UTF-8 sequence of more than one byte:
 * text in Windows-1252 almost never does ("Ã©" would be one). */
static int s_has_utf8(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;

	for (size_t i = 0; i < len; i++) {
		unsigned n;
		uint64_t w;
		size_t bad;

		/* eight ASCII bytes at a time, as csvdialect_utf8_valid */
		while (len - i >= 8 && (memcpy(&w, p + i, 8), (w & 0x8080808080808080u) == 0))
			i += 8;
		if (i >= len || p[i] < 0xc2)
			continue;
		n = p[i] <= 0xdf ? 1 : p[i] <= 0xef ? 2 : p[i] <= 0xf4 ? 3 : 0;
		if (n && len - i > n && csvdialect_utf8_valid(data + i, n + 1, &bad))
			return 1;
	}
	return 0;
}

/* The line (1 = first) and column (bytes from its start, 1 = first) of
 * offset pos, counting line breaks as csvfile does (LF, CRLF, lone CR). */
static void s_where(const char *data, size_t pos, unsigned *line, size_t *col)
{
	size_t start = 0;

	*line = 1;
	for (size_t i = 0; i < pos; i++) {
		if (data[i] == '\n' || (data[i] == '\r' && (i + 1 >= pos || data[i + 1] != '\n'))) {
			(*line)++;
			start = i + 1;
		}
	}
	*col = pos - start + 1;
}

/* Convert the whole of data with cd into *out; -EILSEQ with *bad the offset
 * of the first byte it could not convert, or -ENOMEM. */
static int s_iconv(iconv_t cd, const char *data, size_t len, char **out, size_t *out_len,
		   size_t *bad)
{
	size_t cap = len + len / 4 + 16, left = len, room = cap;
	char *in = (char *)data, *buf = malloc(cap), *o = buf;

	if (!buf)
		return -ENOMEM;
	while (left > 0) {
		if (iconv(cd, &in, &left, &o, &room) != (size_t)-1)
			continue;
		if (errno == E2BIG) {
			size_t used = (size_t)(o - buf);
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			o = buf + used;
			room += cap;
			cap *= 2;
			continue;
		}
		/* EILSEQ, or EINVAL: a sequence cut off by the end of the file */
		*bad = (size_t)(in - data);
		free(buf);
		return -EILSEQ;
	}
	*out = buf;
	*out_len = (size_t)(o - buf);
	return 0;
}

int csvdialect_decode(const char *name, const char *data, size_t len, const char *encoding,
		      char **out, size_t *out_len, struct strlist *errors)
{
	int detected = !encoding || strcasecmp(encoding, "auto") == 0;
	size_t bad = 0, col;
	unsigned line;
	iconv_t cd;
	int r;

	*out = NULL;
	*out_len = 0;
	if (detected) {
		/* A BOM declares UTF-8: bad bytes are then each field's problem. */
		if ((len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) ||
		    csvdialect_utf8_valid(data, len, &bad))
			return 0;
		/* UTF-8 with a stray byte: read as Windows-1252 every name in it
		 * would be stored garbled ("ZoÃ«"), so say where, and stop. */
		if (s_has_utf8(data, len)) {
			s_where(data, bad, &line, &col);
			r = strlist_addf(errors, _("%s:%u: column %zu: byte 0x%02X is not UTF-8, but "
					 "the rest of the file is (mixed encodings? give --encoding)"),
					 name, line, col, (unsigned char)data[bad]);
			return r < 0 ? r : -EINVAL;
		}
		encoding = "WINDOWS-1252";
	} else if (strcasecmp(encoding, "utf-8") == 0 || strcasecmp(encoding, "utf8") == 0) {
		return 0;
	}
	cd = iconv_open("UTF-8", encoding);
	if (cd == (iconv_t)-1) {	// NOLINT(performance-no-int-to-ptr): iconv_open's failure value
		char echo[40];

		snprintf(echo, sizeof(echo), "%.32s", encoding);
		for (char *p = echo; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				*p = '?';
		(void)strlist_addf(errors, _("%s: unknown encoding '%s' (e.g. utf-8, windows-1252)"),
				   name, echo);
		return -EINVAL;
	}
	r = s_iconv(cd, data, len, out, out_len, &bad);
	iconv_close(cd);
	if (r != -EILSEQ)
		return r;
	s_where(data, bad, &line, &col);
	if (detected)
		r = strlist_addf(errors, _("%s:%u: column %zu: byte 0x%02X is neither UTF-8 nor "
				 "Windows-1252 (give --encoding)"), name, line, col,
				 (unsigned char)data[bad]);
	else
		r = strlist_addf(errors, _("%s:%u: column %zu: byte 0x%02X is not %s"), name, line,
				 col, (unsigned char)data[bad], encoding);
	return r < 0 ? r : -EINVAL;
}

/* ---- names ----------------------------------------------------------------- */

const char *csvdialect_upper(const char *v, char *buf, size_t size)
{
	enum { ID_LEN = 6 };
	int lower = 0;

	if (strlen(v) != ID_LEN || size <= ID_LEN)
		return NULL;
	for (size_t i = 0; i < ID_LEN; i++) {
		int low = v[i] >= 'a' && v[i] <= 'z';

		if (!low && !(v[i] >= 'A' && v[i] <= 'Z') && !(v[i] >= '0' && v[i] <= '9'))
			return NULL;
		lower |= low;
		buf[i] = (char)(low ? v[i] - ('a' - 'A') : v[i]);
	}
	buf[ID_LEN] = '\0';
	return lower ? buf : NULL;
}

char *csvdialect_fold(const char *s, char *out, size_t size)
{
	size_t n = 0;
	int sep = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ' ' || c == '\t' || c == '-' || c == '_' || c == '.' || c == '/') {
			sep = n > 0;
			continue;
		}
		if (n + 2 >= size)
			return NULL;
		if (sep)
			out[n++] = '_';
		sep = 0;
		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	if (size == 0)
		return NULL;
	out[n] = '\0';
	return out;
}

int csvdialect_name_in(const char *folded, const char *list, unsigned *rank)
{
	size_t len = strlen(folded);
	unsigned k = 0;

	for (const char *p = list; p && *p; k++) {
		size_t n = strcspn(p, "|");

		if (n == len && memcmp(p, folded, n) == 0) {
			*rank = k;
			return 1;
		}
		p += n + (p[n] == '|');
	}
	return 0;
}

/* ---- the mapping file ------------------------------------------------------ */

struct s_entry {
	char *their;		/* folded; owned */
	char *ours;		/* as written; owned */
	unsigned line;		/* where it is written */
};

struct s_section {
	char *col;		/* [values.COL]; NULL = [columns]; owned */
	struct s_entry *v;	/* owned */
	size_t n, cap;
};

struct csvdialect_map {
	char *name;		/* the path, for messages; owned */
	struct s_section *secs;	/* owned */
	size_t n, cap;
};

/* The state of one parse: inih calls back with no line numbers, so the
 * reader counts the lines it hands over. */
struct s_load {
	struct csvdialect_map *m;
	const char *text;	/* what is left */
	unsigned line;		/* of the last line handed to inih */
	unsigned sec_line;	/* of the last section header handed to inih */
	unsigned bad_sec;	/* the section header already reported */
	struct strlist *errors;
	int failed, r;
	unsigned err_line;	/* a line we reported ourselves */
};

static char *s_reader(char *str, int num, void *stream)
{
	struct s_load *ld = stream;
	size_t n = 0;

	if (!*ld->text)
		return NULL;
	while (ld->text[n] && ld->text[n] != '\n' && n + 1 < (size_t)num)
		n++;
	if (ld->text[n] == '\n' && n + 1 < (size_t)num)
		n++;
	memcpy(str, ld->text, n);
	str[n] = '\0';
	ld->text += n;
	ld->line++;
	/* inih does not tell the handler where a section starts */
	if (str[strspn(str, " \t")] == '[')
		ld->sec_line = ld->line;
	return str;
}

static void s_load_fail(struct s_load *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_load_fail(struct s_load *ld, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), gettext(fmt), ap);	/* po/xgettext.sh: s_load_fail:2 */
	va_end(ap);
	ld->failed = 1;
	ld->err_line = ld->line;
	if (strlist_addf(ld->errors, "%s:%u: %s", ld->m->name, ld->line, msg) < 0)
		ld->r = -ENOMEM;
}

/* The section of that name, made when new; NULL (reported) when it is
 * neither [columns] nor [values.COLUMN]. */
static struct s_section *s_section(struct s_load *ld, const char *name)
{
	struct csvdialect_map *m = ld->m;
	const char *col = NULL;
	struct s_section *s;

	if (strncasecmp(name, "values.", 7) == 0 && name[7])
		col = name + 7;
	else if (strcasecmp(name, "columns") != 0) {
		unsigned line = ld->line;

		/* once, on the section's own line */
		if (ld->bad_sec != ld->sec_line) {
			ld->bad_sec = ld->line = ld->sec_line;
			s_load_fail(ld, "unknown section [%.64s] (expected [columns] or "
				    "[values.COLUMN])", name);
			ld->line = line;
		}
		return NULL;
	}
	for (size_t i = 0; i < m->n; i++)
		if (col ? m->secs[i].col && strcmp(m->secs[i].col, col) == 0 : !m->secs[i].col)
			return &m->secs[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4;
		struct s_section *v = realloc(m->secs, cap * sizeof(*v));

		if (!v)
			goto nomem;
		m->secs = v;
		m->cap = cap;
	}
	s = &m->secs[m->n];
	memset(s, 0, sizeof(*s));
	if (col && !(s->col = strdup(col)))
		goto nomem;
	m->n++;
	return s;
nomem:
	ld->r = -ENOMEM;
	return NULL;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
	struct s_load *ld = user;
	char folded[S_FOLD_MAX];
	struct s_section *s;
	struct s_entry *e;

	if (ld->r < 0)
		return 1;
	if (!section[0]) {
		s_load_fail(ld, "'%.64s' is outside a section ([columns] or [values.COLUMN])",
			    name);
		return 1;
	}
	if (!(s = s_section(ld, section)))
		return 1;
	if (!csvdialect_fold(name, folded, sizeof(folded)) || !folded[0]) {
		s_load_fail(ld, "[%.64s]: a name of 1 to %d characters is needed", section,
			    S_FOLD_MAX - 2);
		return 1;
	}
	if (!value[0]) {
		s_load_fail(ld, "[%.64s] %.64s: no value", section, name);
		return 1;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].their, folded) == 0) {
			s_load_fail(ld, "[%.64s] %.64s: already given on line %u", section, name,
				    s->v[i].line);
			return 1;
		}
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct s_entry *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			ld->r = -ENOMEM;
			return 1;
		}
		s->v = v;
		s->cap = cap;
	}
	e = &s->v[s->n];
	e->their = strdup(folded);
	e->ours = strdup(value);
	e->line = ld->line;
	if (!e->their || !e->ours) {
		free(e->their);
		free(e->ours);
		ld->r = -ENOMEM;
		return 1;
	}
	s->n++;
	return 1;
}

int csvdialect_map_parse(const char *name, const char *text, struct csvdialect_map **out,
			 struct strlist *errors)
{
	struct s_load ld = { .text = text, .errors = errors };
	int r;

	*out = NULL;
	ld.m = calloc(1, sizeof(*ld.m));
	if (!ld.m || !(ld.m->name = strdup(name ? name : "-"))) {
		csvdialect_map_free(&ld.m);
		return -ENOMEM;
	}
	r = ini_parse_stream(s_reader, &ld, s_handler, &ld);
	if (r == -2)
		ld.r = -ENOMEM;
	else if (r > 0 && (unsigned)r != ld.err_line && ld.r == 0) {
		ld.failed = 1;
		if (strlist_addf(errors, _("%s:%d: syntax error (expected [section] or "
				 "'name = value')"), ld.m->name, r) < 0)
			ld.r = -ENOMEM;
	}
	if (ld.r < 0 || ld.failed) {
		csvdialect_map_free(&ld.m);
		return ld.r < 0 ? ld.r : -EINVAL;
	}
	*out = ld.m;
	return 0;
}

int csvdialect_map_load(const char *path, struct csvdialect_map **out, struct strlist *errors)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	/* A map is a few dozen lines; 1 MiB is plenty. */
	r = file_read_all(path, (size_t)1 << 20, &text, &len);
	if (r < 0)
		return r;
	if (memchr(text, '\0', len)) {
		free(text);
		(void)strlist_addf(errors, _("%s: contains a NUL byte"), path);
		return -EINVAL;
	}
	r = csvdialect_map_parse(path, text, out, errors);
	free(text);
	return r;
}

void csvdialect_map_free(struct csvdialect_map **m)
{
	if (!m || !*m)
		return;
	for (size_t i = 0; i < (*m)->n; i++) {
		struct s_section *s = &(*m)->secs[i];

		for (size_t k = 0; k < s->n; k++) {
			free(s->v[k].their);
			free(s->v[k].ours);
		}
		free(s->v);
		free(s->col);
	}
	free((*m)->secs);
	free((*m)->name);
	free(*m);
	*m = NULL;
}

const char *csvdialect_map_value(const void *sec, const char *folded)
{
	const struct s_section *s = sec;

	for (size_t i = 0; s && i < s->n; i++)
		if (strcmp(s->v[i].their, folded) == 0)
			return s->v[i].ours;
	return NULL;
}

const char *csvdialect_map_column(const struct csvdialect_map *m, const char *folded)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (!m->secs[i].col)
			return csvdialect_map_value(&m->secs[i], folded);
	return NULL;
}

const void *csvdialect_map_values(const struct csvdialect_map *m, const char *col)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (m->secs[i].col && strcasecmp(m->secs[i].col, col) == 0)
			return &m->secs[i];
	return NULL;
}

const char *csvdialect_map_name(const struct csvdialect_map *m)
{
	return m ? m->name : "-";
}
