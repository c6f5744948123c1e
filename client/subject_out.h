/* subject_out: the subject access report (GDPR art. 15) as a pupil and the
 * parents read it (design.md §3.11): plain Dutch, no codes, no MACs, staff
 * by the role they acted in rather than their login name; as text or as one
 * printable HTML page built like the reports (report_out.h).
 *
 * Both render the evidence object that `overstap subject --json` writes
 * (the daemon's reply as JSON), so the letter cannot say more or other than
 * the evidence does. Every string in it is data: escaped for the format. */
#ifndef OVERSTAP_SUBJECT_OUT_H
#define OVERSTAP_SUBJECT_OUT_H

#include <jansson.h>
#include <stdio.h>

/* 0, or -EIO when writing f failed. */
int subject_write_text(FILE *f, const json_t *ev);
int subject_write_html(FILE *f, const json_t *ev);

/* The Dutch words for an audit action ("gaf het dossier door") and for the
 * role a staff member acted in ("mentor"); NULL for an action this client
 * has no words for. Exposed for the test that every documented action has
 * them. */
const char *subject_action_nl(const char *action);
const char *subject_role_nl(const char *action);

#endif
