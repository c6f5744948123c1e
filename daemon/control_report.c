/* control_report: `overstap report` (aggregated, suppressed: report.h) and
 * `overstap lost` (the named list of pupils out of sight, design.md §6: for the
 * local operator only, never part of a report). Both are audited: who asked
 * for which report. */
#include "control_int.h"
#include "jdetail.h"
#include "outcomes.h"
#include "report.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOST_DAYS_DEFAULT 30

int ctl_report(struct req_ctx *c)
{
	const Overstapctl__ReportQuery *q = c->req->report;
	Overstapctl__Report *rep = NULL;
	char why[256] = "";
	int r;

	r = report_build(c->h->store, c->h->cfg, q, strcmp(q->format, "html") == 0, &rep, why, sizeof(why));
	if (r < 0)
		return ctl_fail(c, r, "%s", why);
	/* The format is whatever the user typed (only "html" means anything
	 * here; the CLI renders the rest), so at most 8 bytes of it, as text.
	 * The dimensions were checked against report.c's names. */
	r = store_auditf(c->h->store, c->user, "report.generated", "", "",
			  "{s:s, s:o, s:o, s:I}", "side", rep->side,
			  "format", jdetail_textn(q->format, 8),
			  "by", jdetail_join(q->by, q->n_by, ","),
			  "cohorts", (json_int_t)rep->n_cohorts);
	if (r < 0) {
		report_free(&rep);
		return ctl_fail(c, r, "cannot write the audit log: %s", strerror(-r));
	}
	c->report = rep;	/* freed whole after the reply is sent */
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_REPORT;
	c->rep->report = rep;
	log_notice("user %s ran a %s report", c->user, rep->side);
	return 0;
}

/* ---- lost ---- */

struct lost_state {
	struct req_ctx *c;
	const Overstapctl__LostQuery *q;
	char today[11];
	unsigned days;
	struct ctl_list rows;
	int failed;
};

/* YYYY-MM-DD of date + days. */
static void s_date_add(const char *date, unsigned days, char out[11])
{
	struct tm tm = { 0 };
	int y, m, d;

	if (!date_valid(date, &y, &m, &d)) {
		out[0] = '\0';
		return;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d + (int)days;
	tm.tm_hour = 12;
	(void)timegm(&tm);	/* normalises the day count */
	strftime(out, 11, "%Y-%m-%d", &tm);
}

struct last_event {
	char name[32], date[11];
};

static int s_last_cb(const struct event_rec *e, void *arg)
{
	struct last_event *le = arg;
	const char *n = outcome_event_str((enum outcome_event)e->event);

	str_copy(le->name, sizeof(le->name), n ? n : "?");
	str_copy(le->date, sizeof(le->date), e->date);
	return 0;
}

static int s_lost_row(struct lost_state *st, const struct send_fact *f, const char *reason,
		      const char *since)
{
	struct pool *pool = &st->c->pool;
	Overstapctl__LostRow *row = ctl_keep(pool, calloc(1, sizeof(*row)));
	struct leaver l = { 0 };
	struct last_event le = { "", "" };
	char last[64] = "";
	int r;

	if (!row)
		return -ENOMEM;
	if ((r = store_leaver_load(st->c->h->store, f->leaver_id, 1, &l)) < 0)
		return r;
	if ((r = store_events_each(st->c->h->store, f->record_id, s_last_cb, &le)) < 0) {
		store_leaver_clear(&l);
		return r;
	}
	if (le.name[0])
		snprintf(last, sizeof(last), "%s %s", le.name, le.date);
	overstapctl__lost_row__init(row);
	row->pupil_ref = ctl_strdup(pool, l.pupil_ref);
	row->given_name = ctl_strdup(pool, l.priv ? l.priv->given_name : "");
	row->family_name = ctl_strdup(pool, l.priv ? l.priv->family_name : "");
	row->tussenvoegsel = ctl_strdup(pool, l.priv ? l.priv->tussenvoegsel : "");
	row->cohort = ctl_strdup(pool, f->cohort);
	row->program = ctl_strdup(pool, vocab_program_str(f->program));
	row->destination_institution = ctl_strdup(pool, f->institution);
	row->record_id = ctl_strdup(pool, f->record_id);
	row->reason = ctl_strdup(pool, reason);
	row->since = ctl_strdup(pool, since);
	row->last_event = ctl_strdup(pool, last);
	store_leaver_clear(&l);
	return ctl_list_push(&st->rows, row);
}

/* design.md §6: handed over but not enrolled N days after the expected start
 * (1 September of the year the cohort ends), or left without a diploma. */
static int s_lost_fact(const struct send_fact *f, void *arg)
{
	struct lost_state *st = arg;
	char start[11], due[11], reason[160], lwd[16];

	if (f->state != LEAVER_DELIVERED || !report_cohort_wanted(st->q->cohorts, st->q->n_cohorts, f->cohort))
		return 0;
	snprintf(start, sizeof(start), "%.4s-09-01", f->cohort + 5);
	s_date_add(start, st->days, due);
	if (f->lwd) {
		snprintf(lwd, sizeof(lwd), "%04u-%02u-%02u", f->lwd / 10000 % 10000, f->lwd / 100 % 100,
			 f->lwd % 100);
		snprintf(reason, sizeof(reason), "left without a diploma; no new destination known");
		return s_lost_row(st, f, reason, lwd);
	}
	if (!f->enrolled && due[0] && strcmp(st->today, due) >= 0) {
		snprintf(reason, sizeof(reason), "handed over, not enrolled %u days after the expected "
			 "start (%s)", st->days, start);
		return s_lost_row(st, f, reason, start);
	}
	return 0;
}

int ctl_lost(struct req_ctx *c)
{
	const Overstapctl__LostQuery *q = c->req->lost;
	Overstapctl__LostList *out = ctl_keep(&c->pool, calloc(1, sizeof(*out)));
	struct lost_state st = { .c = c, .q = q, .rows = { .c = c } };
	int r;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < q->n_cohorts; i++)
		if (!cohort_valid(q->cohorts[i]))
			return ctl_fail(c, -EINVAL, "'%s' is not a cohort (YYYY-YYYY)", q->cohorts[i]);
	date_today(st.today);
	st.days = q->days ? q->days : LOST_DAYS_DEFAULT;
	r = store_report_sending(c->h->store, s_lost_fact, &st);
	if ((r = ctl_list_finish(&st.rows, r, "cannot read the store")) < 0)
		return r;
	/* who saw the named list, and how long it was */
	if ((r = store_auditf(c->h->store, c->user, "lost.viewed", "", "", "{s:I, s:I}",
			       "pupils", (json_int_t)st.rows.n, "days", (json_int_t)st.days)) < 0)
		return ctl_fail(c, r, "cannot write the audit log: %s", strerror(-r));
	overstapctl__lost_list__init(out);
	out->rows = (Overstapctl__LostRow **)st.rows.rows;
	out->n_rows = st.rows.n;
	c->rep->body_case = OVERSTAPCTL__REPLY__BODY_LOST;
	c->rep->lost = out;
	log_notice("user %s listed %zu pupils out of sight", c->user, st.rows.n);
	return 0;
}
