/* csvdialect: what Dutch school systems write besides the canonical CSV
 * (design.md §8.8), as csvfile needs it: the encoding (UTF-8 or Windows-1252,
 * decoded with iconv(3)), the separator, dates in day-month-year order, names
 * compared without regard to case or separators, and a school's own mapping
 * file (INI, read with libinih). It never prints: problems are returned and
 * the messages appended to the caller's list. */
#ifndef OVERSTAP_CSVDIALECT_H
#define OVERSTAP_CSVDIALECT_H

#include <stddef.h>

#include "util.h"

/* How dates are written: detected per value from where the four-digit year
 * stands, or fixed by the user (--date-format). */
enum csvdialect_date {
	CSVDIALECT_DATE_AUTO = 0,	/* YYYY-MM-DD or D-M-YYYY, each value on its own */
	CSVDIALECT_DATE_YMD,		/* YYYY-M-D only */
	CSVDIALECT_DATE_DMY,		/* a year last is D-M-YYYY (a year first stays YYYY-M-D) */
	CSVDIALECT_DATE_MDY,		/* a year last is M-D-YYYY (an export in a US locale) */
};

/* The option's value ("auto", "ymd" or "YYYY-MM-DD", "dmy" or "DD-MM-YYYY",
 * "mdy" or "MM-DD-YYYY", any case) into *out: 0, or -EINVAL. */
int csvdialect_date_format(const char *s, enum csvdialect_date *out);
/* v (digits separated by '-', '/' or '.') as YYYY-MM-DD into out when its
 * shape fits f: 1, else 0 and out untouched. Whether it is a real day is the
 * caller's check. */
int csvdialect_date(const char *v, enum csvdialect_date f, char out[11]);

/* The option's value ("," ";" "tab" "\t" a TAB, "comma", "semicolon", a
 * single other printable character but a quote or blank) into *out: 0, or
 * -EINVAL. */
int csvdialect_delimiter(const char *s, char *out);
/* The separator of data's first line: the most frequent of ',' ';' TAB
 * outside quotes, ',' when none (or on a tie, in that order). */
char csvdialect_delimiter_detect(const char *data, size_t len);

/* 1 when s[0..len) is well-formed UTF-8 (NUL bytes count as characters);
 * else 0 with *bad the offset of the first byte that is not. */
int csvdialect_utf8_valid(const char *s, size_t len, size_t *bad);
/* data in UTF-8: encoding NULL or "auto" = UTF-8 when it is valid UTF-8 (or
 * starts with a UTF-8 BOM), else Windows-1252; "utf-8"/"utf8" = as is; any
 * other name iconv(3) knows = converted from it. On 0, *out is NULL when data
 * is used as is, else the converted bytes (the caller's, *out_len of them).
 * -EINVAL with "NAME:LINE: column C: reason" appended to errors for a byte
 * the encoding does not define (0x81, 0x8D, 0x8F, 0x90, 0x9D in Windows-1252)
 * or "NAME: unknown encoding" for a name iconv does not know; -ENOMEM. */
int csvdialect_decode(const char *name, const char *data, size_t len, const char *encoding,
		      char **out, size_t *out_len, struct strlist *errors);

/* An institution id as a spreadsheet may have lowered it ("12ab00"): when v
 * is six ASCII letters and digits with a lower-case letter, v in capitals
 * into buf (size bytes); else NULL (v stays as it is, and any message about
 * it echoes it as written). The column's check says if it is an id. */
const char *csvdialect_upper(const char *v, char *buf, size_t size);

/* s folded for comparison into out (size bytes): blanks around it dropped,
 * ASCII letters in lower case, each run of blanks, '-', '_', '.' and '/'
 * one '_'. So "Datum uitschrijving", "datum_uitschrijving" and "DATUM-
 * UITSCHRIJVING" compare equal. Returns out, or NULL when it does not fit. */
char *csvdialect_fold(const char *s, char *out, size_t size);
/* 1 when folded (already folded) is one of the '|'-separated folded names
 * in list; *rank is then its position (0 = the first). */
int csvdialect_name_in(const char *folded, const char *list, unsigned *rank);

/* A school's mapping file: `[columns]` with `their header = our column` and
 * `[values.COLUMN]` with `their value = our code`. */
struct csvdialect_map;

/* Read the map at path: 0 with *out (the caller's; free with
 * csvdialect_map_free), or -EINVAL with "PATH:LINE: reason" for every
 * problem (unknown section, a key without a value, a repeated key), -errno
 * when it cannot be read, -ENOMEM. */
int csvdialect_map_load(const char *path, struct csvdialect_map **out, struct strlist *errors);
/* Same from a NUL-terminated string; name is the PATH part of messages. */
int csvdialect_map_parse(const char *name, const char *text, struct csvdialect_map **out,
			 struct strlist *errors);
/* Takes NULL; NULLs *m. */
void csvdialect_map_free(struct csvdialect_map **m);
/* The column a header (folded) is mapped to, or NULL (borrowed from m). */
const char *csvdialect_map_column(const struct csvdialect_map *m, const char *folded);
/* The values section of column col, or NULL when the map has none. */
const void *csvdialect_map_values(const struct csvdialect_map *m, const char *col);
/* The code a value (folded) is mapped to in section sec (from
 * csvdialect_map_values), or NULL (borrowed from the map). */
const char *csvdialect_map_value(const void *sec, const char *folded);
/* The map's name (its path), for messages. */
const char *csvdialect_map_name(const struct csvdialect_map *m);

#endif
