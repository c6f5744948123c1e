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

/* RFC 4180 CSV of tables[0], UTF-8 with a BOM and CRLF line endings: a header
 * row (each dimension, then <m>, <m>_rate, <m>_denominator per measure), one
 * row per group, the total row last with "total" in every key column. */
int report_write_csv(FILE *f, const Overstapctl__Report *r);

/* The versioned JSON document (every table of r), built with jansson.
 * 0, -ENOMEM (nothing written) or -EIO. */
int report_write_json(FILE *f, const Overstapctl__Report *r);

/* One HTML page that fetches nothing: inline CSS, inline SVG, no script. */
/* One CSV field (RFC 4180 quoting, spreadsheet formula prefix), preceded by
 * a comma unless first: exposed for its tests. */
void report_csv_field(FILE *f, const char *s, int first);
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
