/* pages_school: the mentor's screens (issue 13): the cohort's leavers and
 * their state, one pupil's dossier and timeline, inzage (design.md §3.4),
 * registration, the explicit send, and the pupils out of sight (spec §6). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html.h"
#include "pages.h"
#include "session.h"

static const char *const s_states[] = { "imported", "registered", "ready", "queued",
					"parked",   "delivered",  "cancelled" };

void page_home(struct req *r)
{
	static const struct {
		unsigned right;
		const char *href, *label, *what;
	} tiles[] = {
		{ WR_MENTOR | WR_ADMIN, "/leavers", N_("Leavers"),
		  N_("your cohort's leavers, inzage, registration and sending") },
		{ WR_MENTOR | WR_QUALITY, "/lost", N_("Out of sight"), N_("pupils handed over who dropped out of sight") },
		{ WR_INTAKE, "/inbox", N_("Inbox"), N_("dossiers received from schools") },
		{ WR_INTAKE, "/find", N_("Find a pupil"), N_("by PGN or by name") },
		{ WR_INTAKE, "/outcomes", N_("Upload outcomes"), N_("statuses and outcomes from a CSV file") },
		{ WR_QUALITY, "/report", N_("Reports"), N_("quality care, both sides, with charts") },
		{ WR_PRIVACY, "/subject", N_("Subject access"), N_("what is held on one pupil; erasure") },
		{ WR_PRIVACY | WR_ADMIN, "/audit", N_("Audit log"), N_("check that the audit log is intact") },
		{ WR_ADMIN, "/import", N_("Upload leavers or consents"),
		  N_("the school system's export, with a preview") },
		{ WR_ADMIN | WR_MENTOR | WR_PRIVACY, "/consents", N_("Consents"), N_("overview and the due list") },
		{ WR_ADMIN | WR_READ, "/admin", N_("Administration"), N_("peers' health and the last spool run") },
	};
	FILE *f = r->out;
	int any = 0;

	html_page_open(r, _("Overview"));
	fputs("<p>", f);
	fputs(_("Your rights:"), f);
	for (unsigned b = 1; b <= WR_ADMIN; b <<= 1)
		if (r->s->rights & b)
			fprintf(f, " %s", web_right_str(b));
	fputs("</p>\n<ul>\n", f);
	for (size_t i = 0; i < sizeof(tiles) / sizeof(tiles[0]); i++) {
		if (!(r->s->rights & tiles[i].right))
			continue;
		any = 1;
		fprintf(f, "<li><a href=\"%s\">%s</a>: %s</li>\n", tiles[i].href, _(tiles[i].label),
			_(tiles[i].what));
	}
	fputs("</ul>\n", f);
	if (!any)
		fprintf(f, "<p>%s</p>\n", _("None of your rights has a screen here yet."));
	html_page_close(r);
}

static void s_state_select(FILE *f, const char *cur)
{
	fprintf(f, "<label for=\"state\">%s</label>\n<select id=\"state\" name=\"state\">\n"
		   "<option value=\"\">%s</option>\n", _("State"), _("every state"));
	for (size_t i = 0; i < sizeof(s_states) / sizeof(s_states[0]); i++) {
		fprintf(f, "<option value=\"%s\"%s>", s_states[i],
			cur && !strcmp(cur, s_states[i]) ? " selected" : "");
		html_text(f, html_code(s_states[i]));
		fputs("</option>\n", f);
	}
	fputs("</select>\n", f);
}

static int s_known_state(const char *s)
{
	for (size_t i = 0; i < sizeof(s_states) / sizeof(s_states[0]); i++)
		if (!strcmp(s, s_states[i]))
			return 1;
	return 0;
}

void page_leavers(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ListFilter lf = OVERSTAPCTL__LIST_FILTER__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *cohort = req_arg(r, "cohort"), *state = req_arg(r, "state");
	FILE *f = r->out;

	html_page_open(r, _("Leavers"));
	fputs("<form method=\"get\" action=\"/leavers\">\n", f);
	fprintf(f, "<label for=\"cohort\">%s</label>\n<input id=\"cohort\" name=\"cohort\" "
		   "placeholder=\"2024-2025\" value=\"", _("Cohort (school year)"));
	html_text(f, cohort);
	fputs("\">\n", f);
	s_state_select(f, state);
	fprintf(f, "<button type=\"submit\">%s</button>\n</form>\n", _("Show"));
	if (state && *state && !s_known_state(state)) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Unknown state."));
		goto out;
	}
	lf.cohort = (char *)(cohort ? cohort : "");
	lf.state = (char *)(state ? state : "");
	q.body_case = OVERSTAPCTL__REQUEST__BODY_HANDOVER_LIST;
	q.handover_list = &lf;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_HANDOVER_LIST, &rep) < 0)
		goto out;
	fprintf(f, "<p>%s %zu</p>\n", _("Leavers shown:"), rep->handover_list->n_rows);
	fprintf(f, "<div class=\"wrap\"><table>\n<caption>%s</caption>\n<thead><tr>"
		   "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		   "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		   "<th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead>\n<tbody>\n",
		_("Leavers and the state of their handover"), _("Pupil"), _("Cohort"), _("Program"),
		_("Destination"), _("To"), _("State"), _("Registered"), _("Inzage"));
	for (size_t i = 0; i < rep->handover_list->n_rows; i++) {
		const Overstapctl__HandoverRow *h = rep->handover_list->rows[i];

		fputs("<tr><th scope=\"row\"><a href=\"/pupil?ref=", f);
		html_url(f, h->pupil_ref);
		fputs("\">", f);
		html_text(f, h->pupil_ref);
		fputs("</a></th><td>", f);
		html_text(f, h->cohort);
		fputs("</td><td>", f);
		html_text(f, h->program);
		fputs("</td><td>", f);
		html_text(f, html_code(h->destination_type));
		fputs("</td><td>", f);
		html_text(f, h->destination_institution);
		fputs("</td><td>", f);
		html_text(f, html_code(h->state));
		fputs("</td><td>", f);
		html_text(f, h->registered_on);
		fputs("</td><td>", f);
		html_text(f, h->inzage_on);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></div>\n", f);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

static void s_today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The forms of one pupil: registration, inzage, send. */
static void s_pupil_forms(struct req *r, const char *ref)
{
	FILE *f = r->out;
	char today[11];

	s_today(today);
	fprintf(f, "<h2>%s</h2>\n", _("Registration"));
	html_form_open(r, "/registered", 0);
	fputs("<input type=\"hidden\" name=\"ref\" value=\"", f);
	html_text(f, ref);
	fprintf(f, "\">\n<label for=\"reg-date\">%s</label>\n<input id=\"reg-date\" name=\"date\" "
		   "type=\"date\" value=\"%s\" required>\n<button type=\"submit\">%s</button>\n</form>\n",
		_("Registered at the destination on"), today, _("Record registration"));

	fprintf(f, "<h2>%s</h2>\n", _("Inzage"));
	html_form_open(r, "/inzage", 0);
	fputs("<input type=\"hidden\" name=\"ref\" value=\"", f);
	html_text(f, ref);
	fprintf(f, "\">\n<fieldset><legend>%s</legend>\n", _("Who saw the dossier"));
	fprintf(f, "<label class=\"radio\"><input type=\"radio\" name=\"reviewer\" value=\"pupil\" "
		   "required> %s</label>\n", _("the pupil (16 or older)"));
	fprintf(f, "<label class=\"radio\"><input type=\"radio\" name=\"reviewer\" value=\"parent\"> "
		   "%s</label>\n", _("a parent"));
	fprintf(f, "<label class=\"radio\"><input type=\"radio\" name=\"reviewer\" value=\"guardian\"> "
		   "%s</label>\n</fieldset>\n", _("a guardian"));
	fprintf(f, "<label for=\"inz-date\">%s</label>\n<input id=\"inz-date\" name=\"date\" "
		   "type=\"date\" value=\"%s\" required>\n", _("Date of the inzage"), today);
	fprintf(f, "<fieldset><legend>%s</legend>\n"
		   "<label class=\"radio\"><input type=\"radio\" name=\"agrees\" value=\"yes\" required> "
		   "%s</label>\n<label class=\"radio\"><input type=\"radio\" name=\"agrees\" value=\"no\"> "
		   "%s</label>\n</fieldset>\n",
		_("Do they agree with the dossier?"), _("yes"), _("no"));
	fprintf(f, "<label for=\"reason\">%s</label>\n<textarea id=\"reason\" name=\"reason\" "
		   "rows=\"3\" cols=\"60\"></textarea>\n", _("If not: why (travels with the dossier)"));
	fprintf(f, "<label for=\"remarks\">%s</label>\n<textarea id=\"remarks\" name=\"remarks\" "
		   "rows=\"3\" cols=\"60\"></textarea>\n", _("Remarks (travel with the dossier)"));
	fprintf(f, "<button type=\"submit\">%s</button>\n</form>\n", _("Record inzage"));

	fprintf(f, "<h2>%s</h2>\n<p>%s</p>\n", _("Send"),
		_("Sending is your explicit decision: the dossier goes only after registration "
		  "and inzage."));
	html_form_open(r, "/send", 0);
	fputs("<input type=\"hidden\" name=\"ref\" value=\"", f);
	html_text(f, ref);
	fprintf(f, "\">\n<button type=\"submit\">%s</button>\n</form>\n", _("Send the dossier"));
}

void page_pupil(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Show sh = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *ref = req_arg(r, "ref");
	const Overstapctl__HandoverDetail *d;
	FILE *f = r->out;

	html_page_open(r, _("Pupil"));
	if (!ref || !*ref) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Which pupil? The address names none."));
		goto out;
	}
	sh.key = (char *)ref;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_HANDOVER_SHOW;
	q.handover_show = &sh;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_HANDOVER_DETAIL, &rep) < 0)
		goto out;
	d = rep->handover_detail;
	fputs("<h2>", f);
	html_text(f, ref);
	fputs("</h2>\n<dl class=\"meta\">\n", f);
	if (d->row) {
		html_dt(f, _("State"), html_code(d->row->state));
		html_dt(f, _("Destination institution"), d->row->destination_institution);
		html_dt(f, _("Registered"), d->row->registered_on);
		html_dt(f, _("Inzage"), d->row->inzage_on);
		if (d->row->parked && *d->row->parked)
			html_dt(f, _("Parked because"), d->row->parked);
	}
	fputs("</dl>\n", f);
	fprintf(f, "<h2>%s</h2>\n", _("Dossier"));
	html_dossier(f, &d->dossier);
	html_timeline(f, d->events, d->n_events);
	if (d->erased_at)
		fprintf(f, "<p>%s</p>\n", _("This pupil's data was erased."));
	else
		s_pupil_forms(r, ref);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

/* After a change: what happened, and the way back to the pupil. */
static void s_done(struct req *r, const char *ref, const char *what)
{
	if (what) {
		fputs("<p class=\"ok\" role=\"status\">", r->out);
		html_text(r->out, what);
		fputs("</p>\n", r->out);
	}
	fputs("<p><a href=\"/pupil?ref=", r->out);
	html_url(r->out, ref);
	fprintf(r->out, "\">%s</a></p>\n", _("Back to the pupil"));
}

/* A `marked` reply: done only when a row changed; the daemon's per-row
 * reasons otherwise (code 0 with nothing marked is a refusal too). */
static void s_marked(struct req *r, const char *ref, const Overstapctl__Reply *rep, const char *ok)
{
	const Overstapctl__ImportResult *m = rep->marked;

	for (size_t i = 0; i < m->n_errors; i++)
		html_error(r, m->errors[i]);
	if (m->imported && !m->n_errors) {
		s_done(r, ref, ok);
		return;
	}
	r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
	s_done(r, ref, NULL);
}

static const char *s_need(struct req *r, const char *key)
{
	const char *v = req_field(r, key);

	return v && *v ? v : NULL;
}

void page_registered(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__MarkRegistered m = OVERSTAPCTL__MARK_REGISTERED__INIT;
	Overstapctl__Reply *rep = NULL;
	char *refs[1];
	const char *ref = s_need(r, "ref"), *date = s_need(r, "date");

	html_page_open(r, _("Registration"));
	if (!ref || !date) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Give the pupil and the date."));
		goto out;
	}
	refs[0] = (char *)ref;
	m.pupil_refs = refs;
	m.n_pupil_refs = 1;
	m.date = (char *)date;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED;
	q.mark_registered = &m;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_MARKED, &rep) == 0)
		s_marked(r, ref, rep, _("Registration recorded."));
	else
		s_done(r, ref, NULL);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

void page_inzage(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__RecordInzage in = OVERSTAPCTL__RECORD_INZAGE__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *ref = s_need(r, "ref"), *reviewer = s_need(r, "reviewer"),
		   *date = s_need(r, "date"), *agrees = s_need(r, "agrees");
	const char *reason = req_field(r, "reason"), *remarks = req_field(r, "remarks");
	char *refs[1];

	html_page_open(r, _("Inzage"));
	if (!ref || !reviewer || !date || !agrees || (strcmp(agrees, "yes") != 0 && strcmp(agrees, "no") != 0)) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Give who saw the dossier, the date, and whether they agree."));
		goto out;
	}
	if (!strcmp(agrees, "no") && (!reason || !*reason)) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("When they do not agree, say why: the reason travels with the dossier."));
		s_done(r, ref, NULL);
		goto out;
	}
	refs[0] = (char *)ref;
	in.pupil_refs = refs;
	in.n_pupil_refs = 1;
	in.reviewer = (char *)reviewer;
	in.date = (char *)date;
	/* OSO inzage: whether they agree and, if not, their view; both travel
	 * with the dossier (RecordInzage.agrees, .disagreement) */
	in.agrees = (char *)agrees;
	in.disagreement = (char *)(!strcmp(agrees, "no") ? reason : "");
	in.remarks = (char *)(remarks ? remarks : "");
	q.body_case = OVERSTAPCTL__REQUEST__BODY_INZAGE;
	q.inzage = &in;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_MARKED, &rep) == 0)
		s_marked(r, ref, rep, _("Inzage recorded."));
	else
		s_done(r, ref, NULL);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

static void s_list(FILE *f, const char *title, char **v, size_t n)
{
	if (!n)
		return;
	fputs("<h2>", f);
	html_text(f, title);
	fputs("</h2>\n<ul>\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("<li>", f);
		html_text(f, v[i]);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

void page_send(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__SendHandovers sh = OVERSTAPCTL__SEND_HANDOVERS__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *ref = s_need(r, "ref");
	char *refs[1];

	html_page_open(r, _("Send"));
	if (!ref) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Which pupil? The form names none."));
		goto out;
	}
	refs[0] = (char *)ref;
	sh.pupil_refs = refs;
	sh.n_pupil_refs = 1;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_SEND;
	q.send = &sh;
	req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_SEND_RESULT, &rep);
	if (rep) {
		const Overstapctl__SendResult *s = rep->send_result;

		if (s->n_queued)
			fprintf(r->out, "<p class=\"ok\" role=\"status\">%s</p>\n",
				_("The dossier is queued for sending."));
		s_list(r->out, _("Not sent"), s->refused, s->n_refused);
		s_list(r->out, _("Parked"), s->parked, s->n_parked);
		if (s->n_refused)
			r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
	}
	s_done(r, ref, NULL);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

void page_lost(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__LostQuery lq = OVERSTAPCTL__LOST_QUERY__INIT;
	Overstapctl__Reply *rep = NULL;
	FILE *f = r->out;

	html_page_open(r, _("Out of sight"));
	q.body_case = OVERSTAPCTL__REQUEST__BODY_LOST;
	q.lost = &lq;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_LOST, &rep) < 0)
		goto out;
	if (!rep->lost->n_rows) {
		fprintf(f, "<p>%s</p>\n", _("No pupil is out of sight."));
		goto out;
	}
	fprintf(f, "<div class=\"wrap\"><table>\n<caption>%s</caption>\n<thead><tr>"
		   "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		   "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		   "</tr></thead>\n<tbody>\n",
		_("Pupils out of sight"), _("Pupil"), _("Name"), _("Cohort"), _("Why"), _("Since"),
		_("Last event"));
	for (size_t i = 0; i < rep->lost->n_rows; i++) {
		const Overstapctl__LostRow *l = rep->lost->rows[i];

		fputs("<tr><th scope=\"row\"><a href=\"/pupil?ref=", f);
		html_url(f, l->pupil_ref);
		fputs("\">", f);
		html_text(f, l->pupil_ref);
		fputs("</a></th><td>", f);
		html_text(f, l->given_name);
		fputc(' ', f);
		if (l->tussenvoegsel && *l->tussenvoegsel) {
			html_text(f, l->tussenvoegsel);
			fputc(' ', f);
		}
		html_text(f, l->family_name);
		fputs("</td><td>", f);
		html_text(f, l->cohort);
		fputs("</td><td>", f);
		html_text(f, l->reason);
		fputs("</td><td>", f);
		html_text(f, l->since);
		fputs("</td><td>", f);
		html_text(f, html_code(l->last_event));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></div>\n", f);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}
