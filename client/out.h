/* out: what overstap prints. Aligned text tables, a small JSON writer, and
 * terminal-safe text: dossier fields come from other institutions, so control
 * characters and broken UTF-8 are escaped before they reach a terminal. */
#ifndef OVERSTAP_OUT_H
#define OVERSTAP_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --- text --- */

/* Write s with C0/C1 control characters and invalid UTF-8 bytes shown as
 * \xNN; valid UTF-8 is written as is. NULL or "" is written as "-". */
void out_text(FILE *f, const char *s);

/* Like out_text, but line breaks are kept, each following line starting with
 * `indent` (for remarks that span lines). */
void out_block(FILE *f, const char *indent, const char *s);

/* True when s is entirely valid UTF-8. */
int out_utf8_valid(const char *s);

/* "label    value" with the label padded to a fixed width, value via out_text. */
void out_field(FILE *f, const char *indent, const char *label, const char *value);

#define OUT_TIME_LEN 20	/* "YYYY-MM-DD HH:MM:SS" + NUL */
/* Unix milliseconds as local time, or `none` when ms is 0. Returns buf or none. */
const char *out_time(int64_t ms, char buf[OUT_TIME_LEN], const char *none);
/* A duration in milliseconds as "45s", "12m05s", "3h04m", "2d03h". */
const char *out_duration(int64_t ms, char *buf, size_t len);

/* --- tables --- */

struct table_col {
	const char *name;	/* header */
	int right;		/* right-aligned (numbers) */
};

struct table;

/* Caller owns the table (table_free). cols must outlive it. NULL on ENOMEM. */
struct table *table_new(const struct table_col *cols, size_t ncols);
/* Append a row of ncols cells; they are copied (made terminal-safe, "" and
 * NULL become "-"). 0 or -ENOMEM. */
int table_add(struct table *t, const char *const *cells);
size_t table_rows(const struct table *t);
/* Print the header and rows with columns as wide as their widest cell. */
void table_print(const struct table *t, FILE *f);
void table_free(struct table **t);

/* --- JSON --- */

#define JSON_MAX_DEPTH 16

/* A streaming writer with two-space indentation. key is the member name
 * inside an object and NULL inside an array or at the top. */
struct json {
	FILE *f;
	int depth;				/* open containers */
	unsigned char empty[JSON_MAX_DEPTH];	/* nothing written yet at this depth */
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
/* s NULL writes null. Invalid UTF-8 is replaced by U+FFFD so the output is
 * always valid JSON. */
void json_string(struct json *j, const char *key, const char *s);
void json_int(struct json *j, const char *key, int64_t v);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_bool(struct json *j, const char *key, int v);
void json_null(struct json *j, const char *key);
/* Ends the document with a newline. */
/* A value that is JSON text already (the daemon's audit lines): written as is. */
void json_raw(struct json *j, const char *key, const char *text);
void json_finish(struct json *j);

#endif
