/* util: small helpers shared by the daemon, the CLI and the tests. */
#ifndef OVERSTAP_UTIL_H
#define OVERSTAP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A growable list of owned strings, used for error lists ("file:line: reason"). */
struct strlist {
	char **v;	/* owned strings */
	size_t n;	/* used */
	size_t cap;	/* allocated */
};

/* Append a formatted string. Returns 0 or -ENOMEM. */
int strlist_addf(struct strlist *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Free every string and the array; the list is empty and reusable afterwards. */
void strlist_clear(struct strlist *l);

/* Wall-clock time in unix milliseconds, and a monotonic clock in milliseconds. */
int64_t time_now_ms(void);
int64_t time_mono_ms(void);

/* Copy with truncation; always NUL-terminates. Returns -ENAMETOOLONG when cut. */
int str_copy(char *dst, size_t dstlen, const char *src);

/* The length (1-4) of the well-formed UTF-8 sequence that starts at s, or 0
 * when s does not start one (a stray continuation byte, an overlong form, a
 * surrogate, a code point past U+10FFFF, a cut-off sequence, or NUL). */
size_t str_utf8_len(const char *s);

/* Text from a peer or a file, made safe for one log line (as OpenSSH's
 * strnvis): control characters (C0, DEL, C1), Unicode line separators and
 * bidirectional overrides, and bytes that are not well-formed UTF-8 are
 * written as \xNN per byte, a backslash as \\; printable UTF-8 is kept.
 * Always NUL-terminates, never cuts an escape or a character in half; when
 * src does not fit, dst ends in "..." and -ENAMETOOLONG is returned, else 0. */
int str_vis(char *dst, size_t cap, const char *src);

/* Text from a peer or a file held to one rule, on the network and in the CSV
 * imports alike: well-formed UTF-8 (as str_utf8_len), at most max bytes, no
 * C0 or C1 control character nor DEL, no Unicode line or paragraph separator
 * (U+2028/2029), and no bidirectional override or isolate (U+202A..U+202E,
 * U+2066..U+2069: they reorder what a reader sees, "Trojan Source").
 * TEXT_LINES admits tab, LF and CR (and U+2028/2029) for free text that may
 * span lines: remarks, notes. NULL is not text (TEXT_BAD_UTF8). */
#define TEXT_LINES 1u
enum text_bad {
	TEXT_OK = 0,
	TEXT_BAD_UTF8,		/* "not valid UTF-8" */
	TEXT_TOO_LONG,		/* "too long" */
	TEXT_CONTROL,		/* "contains a control character" */
	TEXT_BIDI,		/* "contains a bidirectional override or isolate" */
	TEXT_BAD_COUNT
};
/* The first problem of s, or TEXT_OK. */
enum text_bad text_check(const char *s, size_t max, unsigned flags);
/* The static reason for a problem (NULL for TEXT_OK). */
const char *text_reason(enum text_bad b);
/* text_reason(text_check(s, max, flags)): NULL when s is fine. */
const char *text_valid(const char *s, size_t max, unsigned flags);

/* str_vis into a value, for log arguments: log_warn("%s", str_visbuf(x).s).
 * The temporary lives until the end of the full expression (C11 6.2.4p8). */
#define STR_VIS_MAX 512
struct str_visbuf {
	char s[STR_VIS_MAX];
};
struct str_visbuf str_visbuf(const char *src);

/* True when s is a real calendar date written YYYY-MM-DD. On success the parts
 * are stored through y/m/d when those are not NULL. */
int date_valid(const char *s, int *y, int *m, int *d);
/* True for a school year written YYYY-YYYY with consecutive years. */
int cohort_valid(const char *s);
/* Today's date (local time) as YYYY-MM-DD. */
void date_today(char out[11]);

/* A moment in UTC as written in config files: "YYYY-MM-DD" (00:00 UTC on that
 * day) or "YYYY-MM-DDTHH:MM:SSZ". 0 with *ms set (unix ms), or -EINVAL. */
int time_parse_utc(const char *s, int64_t *ms);
/* Unix ms as "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL). */
void time_format_utc(int64_t ms, char out[21]);
/* Unix ms as RFC 3339 UTC with milliseconds, "2026-11-23T19:32:20.123Z": the
 * one form of a moment in JSON (the audit export, the CLI's --json). A value
 * gmtime cannot take is written as its decimal number, never dropped. */
#define TIME_ISO_MS_LEN 32
void time_format_iso_ms(int64_t ms, char out[TIME_ISO_MS_LEN]);

/* Read a whole file (up to max bytes) into a NUL-terminated buffer the caller
 * frees. Returns 0, -errno, or -EFBIG. */
int file_read_all(const char *path, size_t max, char **out, size_t *len);

/* fsync the directory holding path, so a rename into it is durable. */
int file_sync_parent(const char *path);
/* Write a file atomically (tmp + fsync + rename) with the given mode. */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);



/* Age in whole years on `on` of someone born on `birth` (both YYYY-MM-DD).
 * Someone born on 29 February turns a year older on 1 March in common years
 * (the Dutch civil-law reading). Returns -1 when either date is invalid. */
int date_age_on(const char *birth, const char *on);
#endif
