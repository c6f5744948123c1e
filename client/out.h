/* out: what overstap prints. Aligned text tables, JSON through jansson, and
 * terminal-safe text: dossier fields come from other institutions, so control
 * characters and broken UTF-8 are escaped before they reach a terminal. */
#ifndef OVERSTAP_OUT_H
#define OVERSTAP_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

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

/* --- files --- */

/* Open path for a report or an export (-o): created with mode 0600 and never
 * through a symbolic link. Without force an existing file is refused (O_EXCL);
 * with force an existing file is truncated and, when regular, set to 0600 -
 * a symbolic link is refused still (O_NOFOLLOW). NULL after a message on
 * stderr that names the file and the way out (--force, or the real path). */
FILE *out_create(const char *path, int force);

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

/* --- JSON ---
 *
 * Built as jansson trees and dumped by jansson. Text from the daemon and from
 * peers may be broken UTF-8, which json_string() refuses: the helpers below
 * repair it, so one bad field never costs the whole output. A builder collects
 * the results of out_json_set/out_json_append (0 or -ENOMEM) with |= and ends
 * with out_json_done, so a tree that lost a member is never printed. */

/* A copy of s with every byte that does not belong to a valid UTF-8 sequence
 * replaced by U+FFFD. Caller frees; NULL on ENOMEM. */
char *out_utf8_fix(const char *s);

/* A JSON string of s (repaired as out_utf8_fix), or JSON null when s is NULL.
 * New reference; NULL on ENOMEM. */
json_t *out_json_str(const char *s);

/* A moment (unix ms from the daemon) as JSON: an RFC 3339 UTC string with
 * milliseconds, "2026-12-05T04:10:00.123Z", as the audit export and reports
 * write moments, so a reader parses one form (issue 15); 0 ("never", "not
 * yet") is JSON null. Durations stay integers of ms. NULL on ENOMEM. */
json_t *out_json_time(int64_t ms);
int out_json_set_time(json_t *obj, const char *key, int64_t ms);

/* A JSON integer of an unsigned counter: jansson's integers are signed 64-bit,
 * so a value past INT64_MAX (no counter gets there) is clamped. NULL on ENOMEM. */
json_t *out_json_uint(uint64_t v);

/* obj[key] = v, key repaired as out_json_str. Steals v, also on failure, and
 * accepts obj or v NULL (a failed allocation upstream): 0 or -ENOMEM. */
int out_json_set(json_t *obj, const char *key, json_t *v);

/* out_json_set of out_json_str(s) and of json_integer(v): the common members. */
int out_json_set_str(json_t *obj, const char *key, const char *s);
int out_json_set_int(json_t *obj, const char *key, int64_t v);

/* Append v to arr; steals v as out_json_set does. 0 or -ENOMEM. */
int out_json_append(json_t *arr, json_t *v);

/* v when err is 0; else releases v and returns NULL. */
json_t *out_json_done(json_t *v, int err);

/* Print *root to f with two-space indentation, members in the order they were
 * set, and a final newline; releases *root and sets it to NULL. flags are
 * extra json_dumpf flags (JSON_REAL_PRECISION). -ENOMEM when *root is NULL (a
 * build failed; nothing printed), -EIO when jansson cannot write, else 0. */
int out_json_print(FILE *f, json_t **root, size_t flags);

#endif
