/* csvfile_check: the part of the CSV layer a row's checks use (values echoed,
 * UTF-8 counted, "FILE:LINE: column: reason"), and the check of one row, for
 * the parse (csvfile.c) and for a request's row the daemon checks again. */
#include "csvfile_int.h"
#include "i18n.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text ------------------------------------------------------------------ */

const char *csvfile_echo(char out[CSVFILE_ECHO_SIZE], const char *v, size_t len, unsigned flags)
{
	size_t n = len < CSVFILE_ECHO_MAX ? len : CSVFILE_ECHO_MAX, i;
	int utf8 = flags & CSVFILE_UTF8;

	while (utf8 && n < len && n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
		n--;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		out[i] = ch < 0x20 || ch == 0x7f || (!utf8 && ch > 0x7f) ? '?' : v[i];
	}
	if (n < len) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

int csvfile_utf8_count(const char *s, size_t *n)
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

uint64_t csvfile_hash(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return h;
}

/* ---- checks ---------------------------------------------------------------- */

void csvfile_check_fail(struct csvfile_check *c, const struct csvfile_col *col, const char *fmt,
			...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), gettext(fmt), ap);	/* po/xgettext.sh: csvfile_check_fail:3 */
	va_end(ap);
	c->problems++;
	/* "birth_date (Geboortedatum)": the name the school's file gave it */
	if (c->t && c->shown) {
		size_t i = (size_t)((const char *)col - (const char *)c->t->cols) / c->t->col_size;

		if (i < c->t->ncols && c->shown[i]) {
			(void)strlist_addf(c->errors, "%s:%u: %s (%s): %s", c->name, c->line,
					   col->name, c->shown[i], msg);
			return;
		}
	}
	(void)strlist_addf(c->errors, "%s:%u: %s: %s", c->name, c->line, col->name, msg);
}

int csvfile_check_present(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			  size_t max)
{
	if (!*v) {
		if (col->flags & CSVFILE_REQUIRED)
			csvfile_check_fail(c, col, "is required");
		return 0;
	}
	if (strnlen(v, max + 1) > max) {
		csvfile_check_fail(c, col, "too long (at most %zu characters)", max);
		return 0;
	}
	return 1;
}

int csvfile_check_date(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
		       size_t max)
{
	char echo[CSVFILE_ECHO_SIZE];

	if (!csvfile_check_present(c, col, v, max))
		return 0;
	if (!date_valid(v, NULL, NULL, NULL))
		csvfile_check_fail(c, col, "not a real date (YYYY-MM-DD)");
	else if (!date_valid(c->today, NULL, NULL, NULL))
		csvfile_check_fail(c, col, "cannot be checked: today '%s' is not a real date",
				   csvfile_echo(echo, c->today, strlen(c->today), 0));
	/* Same format, so the strings compare like the dates. */
	else if (strcmp(v, c->today) > 0)
		csvfile_check_fail(c, col, "%s is in the future (today is %s)", v, c->today);
	else
		return 1;
	return 0;
}

int csvfile_check_valid(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			size_t max, int (*valid)(const char *v), const char *what)
{
	char echo[CSVFILE_ECHO_SIZE];

	if (!csvfile_check_present(c, col, v, max))
		return 0;
	if (valid(v))
		return 1;
	csvfile_check_fail(c, col, "'%s' %s", csvfile_echo(echo, v, strlen(v), 0),
			   *what ? gettext(what) : "");	/* po/xgettext.sh: csvfile_check_valid:6 */
	return 0;
}

int csvfile_check_text(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
		       unsigned flags)
{
	const char *why = text_valid(v, SIZE_MAX, flags);

	if (why)
		csvfile_check_fail(c, col, "%s", why);
	return why == NULL;
}

const char *csvfile_value(const void *view, const struct csvfile_col *col)
{
	const char *v;

	/* memcpy: the view's member may be a char * or a const char *. */
	memcpy(&v, (const char *)view + col->off, sizeof(v));
	return v ? v : "";
}

/* Every column's check but those in skip (bit per column: reported already),
 * then t->finish. The problems found, or -ENOMEM. */
int csvfile_check_row(const struct csvfile_table *t, struct csvfile_check *c, unsigned skip,
		      void *out)
{
	int r = 0;

	if (out)
		memset(out, 0, t->row_size);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct csvfile_col *col = csvfile_col_at(t, i);

		if (col->check && !(skip & (1u << i)))
			col->check(c, col, csvfile_value(c->view, col), out);
	}
	if (out && t->finish)
		r = t->finish(c, c->view, out);
	return r;
}

int csvfile_check_view(const struct csvfile_table *t, const char *name, unsigned line,
		       const char *today, const void *view, void *out, struct strlist *errors)
{
	struct csvfile_check c = { name ? name : "-", line, errors, 0, today, view, t, NULL };
	char now[11];

	if (!today && (t->flags & CSVFILE_TODAY)) {
		date_today(now);
		c.today = now;
	}
	(void)csvfile_check_row(t, &c, 0, out);
	return c.problems;
}
