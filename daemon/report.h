/* report: the quality-care reports of design.md §6, computed inside the daemon
 * from the local store and suppressed before anything leaves it.
 *
 * Sending side (the school), per leaver not erased:
 *   leavers               every leaver of the cohort
 *   handed_over           the dossier was delivered (acknowledged)       of leavers
 *   started               handed over and `enrolled` on or before 1 October
 *                         of the year the cohort ends (the peildatum)     of handed_over
 *   with_consent          handed over with a follow_up consent for the
 *                         destination (or *) that was not withdrawn        of handed_over
 *   no_consent            handed over without one: outside every outcome
 *                         denominator, shown as coverage                   of handed_over
 *   bestendig             started and with consent, and on 1 October a year
 *                         later still enrolled (a `still_enrolled` dated on
 *                         or after it, no `left_without_diploma` or
 *                         `switched` before it) or with a diploma by then  of started_with_consent
 *   diploma, progressed,  with consent and such an outcome dated within the
 *   left_without_diploma  follow-up window (up to 1 October two years
 *                         after the cohort ends)                           of with_consent
 *   no_feedback           with consent and no outcome at all yet           of with_consent
 *
 * Receiving side (the MBO), per dossier received and not erased by `erase`:
 *   intake; enrolled (an `enrolled` status sent, of intake); covered (of
 *   enrolled: the dossier arrived on or before the day of that status);
 *   intake_held (of intake); diploma, progressed, left_without_diploma (of
 *   enrolled, outcomes this institution sent).
 *
 * Suppression (suppress.h, design.md §6.4): every table of one and two
 * dimensions of the side is suppressed once, as one system (report_link.c),
 * and each report is cut from it, so no withheld count follows from two
 * reports side by side and every format shows the same cells. Counts below
 * [report] min_cell are withheld, and more until none can be worked out
 * from the equations between the tables or the bounds a reader knows. A rate
 * is shown exactly when its count and denominator are. The Report built here
 * carries display text only for what is withheld. */
#ifndef OVERSTAP_REPORT_H
#define OVERSTAP_REPORT_H

#include "control.pb-c.h"
#include "config.h"
#include "store.h"

#define REPORT_SCHEMA_VERSION 1
#define REPORT_MAX_DIMS 8	/* dimensions a table key can hold */
#define REPORT_LINK_DIMS 2	/* dimensions a breakdown may have: design.md §6.4 */

/* The dimension names of a side ("sending"/"receiving"), comma-separated
 * (static), for errors and --help. */
const char *report_dimensions(int receiving);

/* Build the report for q into *out (allocated; free with report_free). An
 * unknown dimension, more than REPORT_LINK_DIMS of them, or a bad cohort is
 * -EINVAL with a reason in why. The
 * "main" table is q's breakdown; with_charts adds "program" (or
 * "previous"), "destination" and "trend" (by cohort) tables. */
int report_build(struct store *st, const struct config *cfg, const Overstapctl__ReportQuery *q, int with_charts,
		 Overstapctl__Report **out, char *why, size_t whylen);
void report_free(Overstapctl__Report **r);

/* 1 when cohort is among cohorts[0..n), or n is 0 (every cohort). */
int report_cohort_wanted(char *const *cohorts, size_t n, const char *cohort);

#endif
