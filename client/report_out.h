/* report_out: the four renderings of a quality-care report (design.md §6) that
 * `overstap report` prints: an aligned terminal table, CSV, JSON (schema in
 * docs/report-schema.json, fields in docs/report-json.md) and one
 * self-contained HTML page with inline SVG charts.
 *
 * The daemon suppresses small cells before a Report leaves it; these
 * renderers add a second line of defence: for a count or rate marked
 * suppressed they print only its display text ("<5", "<25%") and never its
 * value, whatever the value field holds. */
#ifndef OVERSTAP_REPORT_OUT_H
#define OVERSTAP_REPORT_OUT_H

#include <stdio.h>

#include "control.pb-c.h"

/* The JSON document's "schema" and "schema_version": bump the version when a
 * field changes meaning or is removed (adding a field does not). */
#define REPORT_JSON_SCHEMA "overstap-report"
#define REPORT_JSON_VERSION 1

/* The terminal layout wraps measures into column groups to stay this wide. */
#define REPORT_TEXT_WIDTH 120

/* Each writes the whole report r (borrowed) to f and returns 0, -EIO when
 * writing (or flushing) f failed, or -ENOMEM. Every string in r is data from
 * the daemon: it is escaped for the format (terminal-safe text, CSV quoting
 * and formula-injection prefix, JSON escapes, HTML entities). */

/* Header block (institution, side, cohorts, min_cell, generated at, reference
 * date), then tables[0]: one row per group, the key columns, and per measure
 * its count and "rate of denominator"; the total row last, under a rule. */
int report_write_text(FILE *f, const Overstapctl__Report *r);

/* The CSV dialects (design.md §6.5): excel-nl (`;`, decimal comma, UTF-8
 * BOM, CRLF: what a Dutch spreadsheet opens as it stands) and rfc4180 (`,`,
 * decimal point, no BOM, CRLF). */
enum report_csv_dialect { REPORT_CSV_EXCEL_NL, REPORT_CSV_RFC4180 };
/* "excel-nl" or "rfc4180" into *d: 0, or -EINVAL. */
int report_csv_dialect_parse(const char *s, enum report_csv_dialect *d);

/* CSV of tables[0] in dialect d, RFC 4180 quoting: a header row (each
 * dimension, then <m>, <m>_rate, <m>_denominator per measure), one row per
 * group, the total row last with "total" in every key column. Counts are
 * integers or their display text ("<5", "x"); a rate is the share 0..1 with
 * at most four decimals in the dialect's decimal mark, empty when it is not
 * shown. */
int report_write_csv(FILE *f, const Overstapctl__Report *r, enum report_csv_dialect d);

/* The versioned JSON document (every table of r), built with jansson.
 * 0, -ENOMEM (nothing written) or -EIO. */
int report_write_json(FILE *f, const Overstapctl__Report *r);

/* One HTML page that fetches nothing: inline CSS, inline SVG, no script. */
/* One CSV field (RFC 4180 quoting, spreadsheet formula prefix), preceded by
 * the separator sep unless first: exposed for its tests. */
void report_csv_field(FILE *f, const char *s, int first, char sep);
int report_write_html(FILE *f, const Overstapctl__Report *r);

/* The page every HTML rendering shares (the reports, the subject report):
 * report_html_text escapes s for content and attribute values alike;
 * report_html_open writes everything up to <main> (styles inline, a
 * Content-Security-Policy that loads nothing, lang the page's language) and
 * report_html_close what follows it. */
void report_html_text(FILE *f, const char *s);
void report_html_open(FILE *f, const char *lang, const char *title);
void report_html_close(FILE *f);

#endif
