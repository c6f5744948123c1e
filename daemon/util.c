/* util: small helpers shared by the daemon, the CLI and the tests. */
#include "util.h"
#include "i18n.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int strlist_addf(struct strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	l->v[l->n++] = s;
	return 0;
}

void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int str_copy(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);

	if (dstlen == 0)
		return -ENAMETOOLONG;
	if (n >= dstlen) {
		memcpy(dst, src, dstlen - 1);
		dst[dstlen - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

size_t str_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return p[0] ? 1 : 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;	/* continuation byte, overlong lead (C0, C1), or past U+10FFFF */
	if (p[0] == 0xe0)
		lo = 0xa0;	/* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f;	/* UTF-16 surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;	/* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f;	/* past U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	/* stops at the first bad byte, so a NUL ends the look-ahead */
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Characters that are well-formed but change how a log line reads: C0/C1
 * controls and DEL (a newline starts a forged line, ESC and CSI drive the
 * terminal), Unicode line and paragraph separators, and the bidirectional
 * overrides and isolates that reorder what follows them ("Trojan Source"). */
static int s_vis_hidden(const unsigned char *p, size_t n)
{
	unsigned cp;

	if (n == 1)
		return p[0] < 0x20 || p[0] == 0x7f;
	if (n == 2)
		return (((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu)) < 0xa0;
	if (n != 3)
		return 0;
	cp = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
	return cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* The code point of a well-formed sequence of n bytes at p. */
static unsigned s_utf8_cp(const unsigned char *p, size_t n)
{
	if (n == 1)
		return p[0];
	if (n == 2)
		return ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
	if (n == 3)
		return ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
	return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) |
	       (p[3] & 0x3fu);
}

enum text_bad text_check(const char *s, size_t max, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	int lines = (flags & TEXT_LINES) != 0;

	if (!s)
		return TEXT_BAD_UTF8;
	/* One pass, stopping at the first problem; a long string is refused
	 * once past max, without reading the rest. */
	while (*p) {
		size_t n = str_utf8_len((const char *)p);
		unsigned cp;

		if (n == 0)
			return TEXT_BAD_UTF8;
		if ((size_t)(p - (const unsigned char *)s) + n > max)
			return TEXT_TOO_LONG;
		cp = s_utf8_cp(p, n);
		if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			return TEXT_BIDI;
		if (lines && (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029))
			;
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029)
			return TEXT_CONTROL;
		p += n;
	}
	return TEXT_OK;
}

/* The reason in the language of whoever asked: a reply's or the CLI's, and
 * English in the log and the spool's .log files (design.md §10). */
const char *text_reason(enum text_bad b)
{
	static const char *const reasons[TEXT_BAD_COUNT] = {
		[TEXT_OK] = NULL,
		[TEXT_BAD_UTF8] = N_("not valid UTF-8"),
		[TEXT_TOO_LONG] = N_("too long"),
		[TEXT_CONTROL] = N_("contains a control character"),
		[TEXT_BIDI] = N_("contains a bidirectional override or isolate"),
	};

	if ((unsigned)b >= TEXT_BAD_COUNT)
		return _("invalid text");
	return reasons[b] ? _(reasons[b]) : NULL;
}

const char *text_valid(const char *s, size_t max, unsigned flags)
{
	return text_reason(text_check(s, max, flags));
}

int str_vis(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t pos = 0, mark = 0;	/* mark: the last boundary with room for "..." */
	char tok[16];

	if (cap == 0)
		return -ENAMETOOLONG;
	while (*p) {
		size_t n = str_utf8_len((const char *)p), tl = 0;

		if (n == 0 || s_vis_hidden(p, n)) {
			n = n ? n : 1;	/* a byte that starts nothing valid goes alone */
			for (size_t i = 0; i < n; i++)
				tl += (size_t)snprintf(tok + tl, sizeof(tok) - tl, "\\x%02x", p[i]);
		} else if (*p == '\\') {
			tok[0] = tok[1] = '\\';
			tl = 2;
		} else {
			memcpy(tok, p, n);
			tl = n;
		}
		if (pos + tl >= cap) {
			pos = mark;
			if (mark + 3 < cap) {
				memcpy(dst + pos, "...", 3);
				pos += 3;
			}
			dst[pos] = '\0';
			return -ENAMETOOLONG;
		}
		memcpy(dst + pos, tok, tl);
		pos += tl;
		if (pos + 3 < cap)
			mark = pos;
		p += n;
	}
	dst[pos] = '\0';
	return 0;
}

struct str_visbuf str_visbuf(const char *src)
{
	struct str_visbuf b = { "" };

	str_vis(b.s, sizeof(b.s), src ? src : "(null)");
	return b;
}

int date_valid(const char *s, int *y, int *m, int *d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int yy, mm, dd, max;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	yy = atoi(s);
	mm = atoi(s + 5);
	dd = atoi(s + 8);
	if (yy < 1900 || mm < 1 || mm > 12 || dd < 1)
		return 0;
	max = mdays[mm - 1];
	if (mm == 2 && ((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0))
		max = 29;
	if (dd > max)
		return 0;
	if (y)
		*y = yy;
	if (m)
		*m = mm;
	if (d)
		*d = dd;
	return 1;
}

void date_today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int file_read_all(const char *path, size_t max, char **out, size_t *len)
{
	int r = -EINVAL;
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > max) {
			r = -EFBIG;
			goto out;
		}
		if (got == 0) {
			if (ferror(f)) {
				r = -EIO;
				goto out;
			}
			break;
		}
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL; /* transferred */
	if (len)
		*len = n;
	r = 0;
out:
	free(buf);
	fclose(f);
	return r;
}

/* After a rename, the directory entry is durable only once the directory is. */
int file_sync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, r = 0;

	if (!slash)
		str_copy(dir, sizeof(dir), ".");
	else if (slash == path)
		str_copy(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[4096];
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		r = -errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return file_sync_parent(path);
}

int time_parse_utc(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0;
	char date[11];

	if (strlen(s) < 10)
		return -EINVAL;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!date_valid(date, &y, &mo, &d))
		return -EINVAL;
	if (s[10] != '\0') {
		static const char shape[] = "THH:MM:SSZ";	/* H, M, S: a digit */

		if (strlen(s + 10) != sizeof(shape) - 1)
			return -EINVAL;
		for (size_t i = 0; shape[i]; i++)
			if (strchr("HMS", shape[i]) ? !isdigit((unsigned char)s[10 + i])
						    : s[10 + i] != shape[i])
				return -EINVAL;
		h = (s[11] - '0') * 10 + (s[12] - '0');
		mi = (s[14] - '0') * 10 + (s[15] - '0');
		sec = (s[17] - '0') * 10 + (s[18] - '0');
		if (h > 23 || mi > 59 || sec > 59)
			return -EINVAL;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

void time_format_utc(int64_t ms, char out[21])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

void time_format_iso_ms(int64_t ms, char out[TIME_ISO_MS_LEN])
{
	int64_t sec = ms / 1000, frac = ms % 1000;
	size_t n;
	time_t t;
	struct tm tm;

	if (frac < 0) {	/* before 1970: floor, not truncation */
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	/* strftime, then the milliseconds by hand: room for ".mmmZ" is kept, and
	 * no int of struct tm goes through a printf width GCC must doubt */
	if (!gmtime_r(&t, &tm) ||
	    (n = strftime(out, TIME_ISO_MS_LEN - 5, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, TIME_ISO_MS_LEN, "%" PRId64, ms);
		return;
	}
	out[n++] = '.';
	out[n++] = (char)('0' + frac / 100);
	out[n++] = (char)('0' + frac / 10 % 10);
	out[n++] = (char)('0' + frac % 10);
	out[n++] = 'Z';
	out[n] = '\0';
}

int date_age_on(const char *birth, const char *on)
{
	int by, bm, bd, y, m, d, age;

	if (!date_valid(birth, &by, &bm, &bd) || !date_valid(on, &y, &m, &d))
		return -1;
	age = y - by;
	/* (m, d) before (bm, bd): no birthday yet this year. 29 Feb in a common
	 * year compares as before 1 March, so the birthday falls on 1 March. */
	if (m < bm || (m == bm && d < bd))
		age--;
	return age;
}

int cohort_valid(const char *s)
{
	unsigned a, b;

	for (int i = 0; i < 9; i++)
		if (!s[i] || (i == 4 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')))
			return 0;
	if (s[9])
		return 0;
	a = (unsigned)atoi(s);
	b = (unsigned)atoi(s + 5);
	return b == a + 1;
}
