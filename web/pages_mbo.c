/* pages_mbo: the MBO intake coordinator's screens (issue 13): the inbox,
 * find by PGN or name, read a dossier (the daemon audits every read), set a
 * status or outcome, and upload an outcomes or registrations file (design.md
 * §8.2, §8.3) checked here as `overstap import outcomes|registrations` checks
 * it, and again by the daemon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feedback_events.h"
#include "html.h"
#include "outcomes.h"
#include "registrations.h"
#include "pages.h"
#include "util.h"

static void s_inbox_table(FILE *f, const Overstapctl__InboxList *l, const char *caption)
{
	if (!l->n_rows) {
		fprintf(f, "<p>%s</p>\n", _("No dossiers."));
		return;
	}
	fputs("<div class=\"wrap\"><table>\n<caption>", f);
	html_text(f, caption);
	fprintf(f, "</caption>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		   "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		   "<th scope=\"col\">%s</th></tr></thead>\n<tbody>\n",
		_("Record"), _("From school"), _("Received"), _("Cohort"), _("Program"), _("Destination"));
	for (size_t i = 0; i < l->n_rows; i++) {
		const Overstapctl__InboxRow *w = l->rows[i];

		fputs("<tr><th scope=\"row\"><a href=\"/dossier?id=", f);
		html_url(f, w->record_id);
		fputs("\">", f);
		html_text(f, w->record_id);
		fputs("</a></th><td>", f);
		html_text(f, w->sender);
		fputs("</td><td>", f);
		html_time(f, w->received_at);
		fputs("</td><td>", f);
		html_text(f, w->cohort);
		fputs("</td><td>", f);
		html_text(f, w->program);
		fputs("</td><td>", f);
		html_text(f, html_code(w->destination_type));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></div>\n", f);
}

void page_inbox(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ListFilter lf = OVERSTAPCTL__LIST_FILTER__INIT;
	Overstapctl__Reply *rep = NULL;

	html_page_open(r, _("Inbox"));
	q.body_case = OVERSTAPCTL__REQUEST__BODY_INBOX_LIST;
	q.inbox_list = &lf;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_INBOX_LIST, &rep) == 0)
		s_inbox_table(r->out, rep->inbox_list, _("Dossiers received"));
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

void page_find(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__InboxFind fi = OVERSTAPCTL__INBOX_FIND__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *pgn = req_arg(r, "pgn"), *name = req_arg(r, "name");
	FILE *f = r->out;

	html_page_open(r, _("Find a pupil"));
	fprintf(f, "<form method=\"get\" action=\"/find\">\n<label for=\"pgn\">%s</label>\n"
		   "<input id=\"pgn\" name=\"pgn\" inputmode=\"numeric\" autocomplete=\"off\" value=\"",
		_("PGN (BSN or onderwijsnummer)"));
	html_text(f, pgn);
	fprintf(f, "\">\n<label for=\"name\">%s</label>\n<input id=\"name\" name=\"name\" "
		   "autocomplete=\"off\" value=\"", _("or a part of the name"));
	html_text(f, name);
	fprintf(f, "\">\n<button type=\"submit\">%s</button>\n</form>\n", _("Find"));
	if ((!pgn || !*pgn) && (!name || !*name))
		goto out;
	if (pgn && *pgn && name && *name) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Give a PGN or a name, not both."));
		goto out;
	}
	fi.pgn = (char *)(pgn && *pgn ? pgn : "");
	fi.name = (char *)(name && *name ? name : "");
	q.body_case = OVERSTAPCTL__REQUEST__BODY_INBOX_FIND;
	q.inbox_find = &fi;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_INBOX_LIST, &rep) == 0)
		s_inbox_table(f, rep->inbox_list, _("Dossiers found"));
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

static const char *const s_events[] = {
	"registered",	  "agreement_offered", "not_enrolled", "withdrawn",
	"enrolled",	  "intake_held",       "still_enrolled", "diploma",
	"progressed",	  "switched",	       "left_without_diploma",
};

static void s_status_form(struct req *r, const char *id)
{
	FILE *f = r->out;

	fprintf(f, "<h2>%s</h2>\n", _("Record a status or outcome"));
	html_form_open(r, "/status", 0);
	fputs("<input type=\"hidden\" name=\"id\" value=\"", f);
	html_text(f, id);
	fprintf(f, "\">\n<label for=\"event\">%s</label>\n<select id=\"event\" name=\"event\" required>\n",
		_("Status or outcome"));
	for (size_t i = 0; i < sizeof(s_events) / sizeof(s_events[0]); i++) {
		fprintf(f, "<option value=\"%s\">", s_events[i]);
		html_text(f, html_code(s_events[i]));
		fputs("</option>\n", f);
	}
	fprintf(f, "</select>\n<label for=\"date\">%s</label>\n<input id=\"date\" name=\"date\" "
		   "type=\"date\">\n<label for=\"level\">%s</label>\n<select id=\"level\" name=\"level\">"
		   "<option value=\"\">-</option><option>1</option><option>2</option><option>3</option>"
		   "<option>4</option></select>\n<button type=\"submit\">%s</button>\n</form>\n",
		_("Date (empty = today)"), _("MBO level (diploma, progressed)"), _("Record"));
}

void page_dossier(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Show sh = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *id = req_arg(r, "id");
	const Overstapctl__InboxDetail *d;
	FILE *f = r->out;

	html_page_open(r, _("Dossier"));
	if (!id || !*id) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Which dossier? The address names none."));
		goto out;
	}
	sh.key = (char *)id;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_INBOX_SHOW;
	q.inbox_show = &sh;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_INBOX_DETAIL, &rep) < 0)
		goto out;
	d = rep->inbox_detail;
	fprintf(f, "<p>%s</p>\n", _("Reading a dossier is recorded in the audit log under your name."));
	if (d->row) {
		fputs("<dl class=\"meta\">\n", f);
		html_dt(f, _("From school"), d->row->sender);
		fprintf(f, "<dt>%s</dt><dd>", _("Received"));
		html_time(f, d->row->received_at);
		fputs("</dd>\n</dl>\n", f);
	}
	html_dossier(f, &d->dossier);
	html_timeline(f, d->events, d->n_events);
	if (!d->erased_at)
		s_status_form(r, id);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

/* Send events; show what the daemon queued and what it refused per row. */
static void s_feedback(struct req *r, Overstapctl__RecordFeedback *fb, const char *back)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Reply *rep = NULL;
	FILE *f = r->out;

	q.body_case = OVERSTAPCTL__REQUEST__BODY_FEEDBACK;
	q.feedback = fb;
	req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_MARKED, &rep);
	if (rep) {
		if (!rep->code) {
			fputs("<p class=\"ok\" role=\"status\">", f);
			fprintf(f, fb->check ? _("Check passed: %u statuses and outcomes would be queued.")
					     : _("Statuses and outcomes queued: %u."),
				rep->marked->imported);
			fputs("</p>\n", f);
		}
		if (rep->marked->n_errors) {
			fputs("<ul class=\"error\">\n", f);
			for (size_t i = 0; i < rep->marked->n_errors; i++) {
				fputs("<li>", f);
				html_text(f, rep->marked->errors[i]);
				fputs("</li>\n", f);
			}
			fputs("</ul>\n", f);
		}
		overstapctl__reply__free_unpacked(rep, NULL);
	}
	if (back) {
		fputs("<p><a href=\"/dossier?id=", f);
		html_url(f, back);
		fprintf(f, "\">%s</a></p>\n", _("Back to the dossier"));
	}
}

void page_status_set(struct req *r)
{
	Overstapctl__RecordFeedback fb = OVERSTAPCTL__RECORD_FEEDBACK__INIT;
	Overstapctl__FeedbackEvent e = OVERSTAPCTL__FEEDBACK_EVENT__INIT, *ep = &e;
	const char *id = req_field(r, "id"), *event = req_field(r, "event");
	const char *date = req_field(r, "date"), *level = req_field(r, "level");
	unsigned lv = 0;

	html_page_open(r, _("Status"));
	if (!id || !*id || !event || outcome_event_from_str(event) == OUTCOME_EV_UNKNOWN) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Give the dossier and a known status or outcome."));
		goto out;
	}
	if (level && *level) {
		if (strlen(level) != 1 || level[0] < '1' || level[0] > '4') {
			r->status = MHD_HTTP_BAD_REQUEST;
			html_error(r, _("The MBO level is 1 to 4."));
			goto out;
		}
		lv = (unsigned)(level[0] - '0');
	}
	e.record_id = (char *)id;
	e.event = (char *)event;
	e.date = (char *)(date ? date : "");
	e.level = lv;
	fb.events = &ep;
	fb.n_events = 1;
	s_feedback(r, &fb, id);
out:
	html_page_close(r);
}

static void s_upload_form(struct req *r)
{
	FILE *f = r->out;

	html_form_open(r, "/outcomes", 1);
	fprintf(f, "<fieldset><legend>%s</legend>\n"
		   "<label class=\"radio\"><input type=\"radio\" name=\"kind\" value=\"outcomes\" checked> %s</label>\n"
		   "<label class=\"radio\"><input type=\"radio\" name=\"kind\" value=\"registrations\"> %s</label>\n"
		   "</fieldset>\n", _("What the file holds"), _("statuses and outcomes"),
		_("registrations (pgn, sending_school, registered_on)"));
	fprintf(f, "<label for=\"file\">%s</label>\n<input id=\"file\" name=\"file\" type=\"file\" "
		   "accept=\".csv,text/csv\" required>\n"
		   "<label class=\"radio\"><input type=\"checkbox\" name=\"check\" value=\"1\"> %s</label>\n"
		   "<br><button type=\"submit\">%s</button>\n</form>\n",
		_("CSV file"),
		_("only check, send nothing"), _("Upload"));
}

void page_outcomes(struct req *r)
{
	html_page_open(r, _("Upload outcomes"));
	fprintf(r->out, "<p>%s</p>\n",
		_("Statuses and outcomes: one row per event of a dossier received (record_id or "
		  "pgn, event, date, level). Registrations: one row per pupil registered here "
		  "(pgn, sending_school, registered_on). All or nothing: a file with any bad "
		  "row is refused with every problem listed, and nothing is sent."));
	s_upload_form(r);
	html_page_close(r);
}

/* A file the importer refused: every problem it found (or why it could not
 * read it at all), and that nothing went to the daemon. */
static void s_refused(struct req *r, const struct strlist *errors, int rc)
{
	r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
	html_error(r, _("The file was refused; nothing was sent:"));
	fputs("<ul class=\"error\">\n", r->out);
	for (size_t i = 0; i < errors->n; i++) {
		fputs("<li>", r->out);
		html_text(r->out, errors->v[i]);
		fputs("</li>\n", r->out);
	}
	if (!errors->n) {
		fputs("<li>", r->out);
		html_text(r->out, strerror(-rc));
		fputs("</li>\n", r->out);
	}
	fputs("</ul>\n", r->out);
}

/* Registrations at this MBO, told to the schools they come from (§8.3). */
static void s_registrations(struct req *r, const char *name, const char *data, size_t len, int check)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ImportRegistrations im = OVERSTAPCTL__IMPORT_REGISTRATIONS__INIT;
	Overstapctl__RecordRegistration *g = NULL, **gp = NULL;
	Overstapctl__Reply *rep = NULL;
	struct registration_row *rows = NULL;
	struct csvfile_opts o = { 0 };
	struct strlist errors = { 0 };
	size_t n = 0;
	int rc = registrations_import(name, data, len, &o, &rows, &n, &errors);

	if (rc < 0) {
		s_refused(r, &errors, rc);
		goto out;
	}
	g = calloc(n ? n : 1, sizeof(*g));
	gp = calloc(n ? n : 1, sizeof(Overstapctl__RecordRegistration *));
	if (!g || !gp) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		html_error(r, _("Out of memory."));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		overstapctl__record_registration__init(&g[i]);
		g[i].pgn = rows[i].pgn;
		g[i].school = rows[i].sending_school;
		g[i].date = rows[i].registered_on;
		g[i].line = rows[i].line;
		gp[i] = &g[i];
	}
	im.file = (char *)name;
	im.rows = gp;
	im.n_rows = n;
	im.check = check;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_IMPORT_REGISTRATIONS;
	q.import_registrations = &im;
	req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_MARKED, &rep);
	if (rep) {
		if (!rep->code) {
			fputs("<p class=\"ok\" role=\"status\">", r->out);
			fprintf(r->out, check ? _("Check passed: %u registrations would be sent.")
					      : _("Registrations queued: %u."),
				rep->marked->imported);
			fputs("</p>\n", r->out);
		}
		for (size_t i = 0; i < rep->marked->n_errors; i++)
			html_error(r, rep->marked->errors[i]);
		overstapctl__reply__free_unpacked(rep, NULL);
	}
out:
	free(g);
	free(gp);
	registrations_free(&rows);
	strlist_clear(&errors);
}

void page_outcomes_post(struct req *r)
{
	Overstapctl__RecordFeedback fb = OVERSTAPCTL__RECORD_FEEDBACK__INIT;
	struct csvfile_opts o = { 0 };
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	const char *data, *name = NULL, *check = req_field(r, "check");
	size_t len = 0, n = 0;
	int rc;

	html_page_open(r, _("Upload outcomes"));
	data = req_file(r, "file", &len, &name);
	if (!data) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Choose a file to upload."));
		goto out;
	}
	if (req_field(r, "kind") && !strcmp(req_field(r, "kind"), "registrations")) {
		s_registrations(r, name, data, len, check && *check);
		goto form;
	}
	rc = outcomes_import(name, data, len, &o, &rows, &n, &errors);
	if (rc < 0) {
		s_refused(r, &errors, rc);
		goto form;
	}
	if (feedback_events_fill(&fb, rows, n) < 0) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		html_error(r, _("Out of memory."));
		goto out;
	}
	fb.file = (char *)name;
	fb.check = check && *check;
	s_feedback(r, &fb, NULL);
form:
	s_upload_form(r);
out:
	feedback_events_free(&fb);
	outcomes_free(&rows);
	strlist_clear(&errors);
	html_page_close(r);
}
