/* pages_admin: the school administrator's and the application
 * administrator's screens (issue 13): upload a leavers or consents file
 * (design.md §8.5, §8.7) with the check-only preview, the consent overview
 * and the due list (§3.2), and the peers' health with the last spool run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "consents_csv.h"
#include "html.h"
#include "leavers.h"
#include "pages.h"
#include "util.h"

static void s_import_form(struct req *r)
{
	FILE *f = r->out;

	html_form_open(r, "/import", 1);
	fprintf(f, "<fieldset><legend>%s</legend>\n"
		   "<label class=\"radio\"><input type=\"radio\" name=\"kind\" value=\"leavers\" required> %s</label>\n"
		   "<label class=\"radio\"><input type=\"radio\" name=\"kind\" value=\"consents\"> %s</label>\n"
		   "</fieldset>\n",
		_("What the file holds"), _("leavers"), _("consents"));
	fprintf(f, "<label for=\"file\">%s</label>\n<input id=\"file\" name=\"file\" type=\"file\" "
		   "accept=\".csv,.txt,text/csv\" required>\n"
		   "<label class=\"radio\"><input type=\"checkbox\" name=\"check\" value=\"1\" checked> %s</label>\n"
		   "<br><button type=\"submit\">%s</button>\n</form>\n",
		_("CSV file as the school system exports it"),
		_("only check and show what would change (preview)"), _("Upload"));
}

void page_import(struct req *r)
{
	html_page_open(r, _("Upload leavers or consents"));
	fprintf(r->out, "<p>%s</p>\n",
		_("All or nothing: a file with any bad row is refused with every problem listed. "
		  "Check first, then upload again without the check to store it."));
	s_import_form(r);
	html_page_close(r);
}

static void s_lines(struct req *r, char **v, size_t n, const char *cls)
{
	if (!n)
		return;
	fprintf(r->out, "<ul class=\"%s\">\n", cls);
	for (size_t i = 0; i < n; i++) {
		fputs("<li>", r->out);
		html_text(r->out, v[i]);
		fputs("</li>\n", r->out);
	}
	fputs("</ul>\n", r->out);
}

/* The daemon's account of an import: counts, then notes, warnings, errors. */
static void s_result(struct req *r, const Overstapctl__ImportResult *res)
{
	FILE *f = r->out;
	char n[32];

	fprintf(f, "<p class=\"%s\" role=\"status\">%s</p>\n<dl class=\"meta\">\n",
		res->n_errors ? "error" : "ok",
		res->n_errors ? _("The file would be refused whole; nothing was changed.")
		: res->check ? _("Check passed; nothing was changed yet.") : _("Imported."));
	snprintf(n, sizeof(n), "%u", res->added);
	html_dt(f, _("Added"), n);
	snprintf(n, sizeof(n), "%u", res->updated);
	html_dt(f, _("Updated"), n);
	snprintf(n, sizeof(n), "%u", res->unchanged + res->unchanged_sent);
	html_dt(f, _("Unchanged"), n);
	snprintf(n, sizeof(n), "%u", res->refused);
	html_dt(f, _("Refused"), n);
	fputs("</dl>\n", f);
	s_lines(r, res->errors, res->n_errors, "error");
	s_lines(r, res->warnings, res->n_warnings, "note");
	s_lines(r, res->notes, res->n_notes, "note");
	if (res->n_errors)
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
}

static void s_send(struct req *r, Overstapctl__Request *q)
{
	Overstapctl__Reply *rep = NULL;

	req_ctl(r, q, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT, &rep);
	if (rep) {
		s_result(r, rep->import_result);
		overstapctl__reply__free_unpacked(rep, NULL);
	}
}

static void s_leavers(struct req *r, const char *name, const char *data, size_t len, int check)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ImportLeavers im = OVERSTAPCTL__IMPORT_LEAVERS__INIT;
	Overstapctl__Leaver **rows = NULL;
	struct csvfile_opts o = { 0 };
	struct strlist errors = { 0 };
	size_t n = 0;
	int rc = leavers_import(name, data, len, &o, &rows, &n, &errors);

	if (rc < 0 || !n) {
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		html_error(r, rc < 0 ? _("The file was refused; nothing was imported:")
				     : _("There are no leavers in the file."));
		s_lines(r, errors.v, errors.n, "error");
		goto out;
	}
	im.file = (char *)name;
	im.leavers = rows;
	im.n_leavers = n;
	im.check = check;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS;
	q.import_leavers = &im;
	s_send(r, &q);
out:
	leavers_free(&rows, n);
	strlist_clear(&errors);
}

static void s_consents(struct req *r, const char *name, const char *data, size_t len, int check)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ImportConsents im = OVERSTAPCTL__IMPORT_CONSENTS__INIT;
	Overstapctl__ConsentGrant *g = NULL, **gp = NULL;
	struct consents_csv_row *rows = NULL;
	struct csvfile_opts o = { 0 };
	struct strlist errors = { 0 };
	size_t n = 0;
	int rc = consents_csv_import(name, data, len, &o, &rows, &n, &errors);

	if (rc < 0 || !n) {
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		html_error(r, rc < 0 ? _("The file was refused; nothing was imported:")
				     : _("There are no consents in the file."));
		s_lines(r, errors.v, errors.n, "error");
		goto out;
	}
	if (consents_csv_grants(rows, n, &g, &gp) < 0) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		html_error(r, _("Out of memory."));
		goto out;
	}
	im.file = (char *)name;
	im.rows = gp;
	im.n_rows = n;
	im.check = check;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_IMPORT_CONSENTS;
	q.import_consents = &im;
	s_send(r, &q);
out:
	free(g);
	free(gp);
	consents_csv_free(&rows);
	strlist_clear(&errors);
}

void page_import_post(struct req *r)
{
	const char *kind = req_field(r, "kind"), *check = req_field(r, "check"), *name = NULL;
	size_t len = 0;
	const char *data = req_file(r, "file", &len, &name);

	html_page_open(r, _("Upload leavers or consents"));
	if (!data || !kind || (strcmp(kind, "leavers") != 0 && strcmp(kind, "consents") != 0)) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Choose what the file holds and a file to upload."));
	} else if (!strcmp(kind, "leavers")) {
		s_leavers(r, name, data, len, check && *check);
	} else {
		s_consents(r, name, data, len, check && *check);
	}
	s_import_form(r);
	html_page_close(r);
}

static void s_consent_row(FILE *f, const Overstapctl__ConsentRow *c, int due)
{
	const char *cells[] = { c->purpose, c->counterpart, html_code(c->grantor), c->granted_at,
				c->valid_until, c->withdrawn_at, c->recorded_by };

	fputs("<tr><th scope=\"row\">", f);
	html_text(f, c->pupil_ref);
	fputs("</th>", f);
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		fputs("<td>", f);
		html_text(f, cells[i] && *cells[i] ? cells[i] : "-");
		fputs("</td>", f);
	}
	fputs("<td>", f);
	html_text(f, due ? c->due_reason : c->in_force ? _("in force") : _("not in force"));
	fputs("</td></tr>\n", f);
}

void page_consents(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ConsentQuery cq = OVERSTAPCTL__CONSENT_QUERY__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *due = req_arg(r, "due");
	int is_due = due && !strcmp(due, "1");
	FILE *f = r->out;

	html_page_open(r, is_due ? _("Consents due for attention") : _("Consents"));
	fprintf(f, "<p><a href=\"/consents\">%s</a> | <a href=\"/consents?due=1\">%s</a></p>\n",
		_("All consents"), _("Due: re-confirmation at 16, expiring soon"));
	cq.due = is_due;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_CONSENT_LIST;
	q.consent_list = &cq;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_CONSENT_LIST, &rep) < 0)
		goto out;
	if (!rep->consent_list->n_rows) {
		fprintf(f, "<p>%s</p>\n", _("No consents."));
		goto out;
	}
	fprintf(f, "<div class=\"wrap\"><table>\n<caption>%s</caption>\n<thead><tr>",
		is_due ? _("Consents due for attention") : _("Consents"));
	{
		const char *h[] = { _("Pupil"), _("Purpose"), _("Recipient"), _("Given by"),
				    _("Given on"), _("Valid until"), _("Withdrawn on"), _("Recorded by"),
				    is_due ? _("Why") : _("State") };

		for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
			fprintf(f, "<th scope=\"col\">%s</th>", h[i]);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < rep->consent_list->n_rows; i++)
		s_consent_row(f, rep->consent_list->rows[i], is_due);
	fputs("</tbody></table></div>\n", f);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

static void s_peer_row(FILE *f, const Overstapctl__PeerStatus *p)
{
	char n[32];

	fputs("<tr><th scope=\"row\">", f);
	html_text(f, p->id);
	fputs("</th><td>", f);
	html_text(f, p->name);
	fputs("</td><td>", f);
	html_text(f, p->connected ? _("connected") : _("not connected"));
	fputs("</td><td>", f);
	html_time(f, p->last_handshake);
	snprintf(n, sizeof(n), "%llu", (unsigned long long)p->outbox_depth);
	fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">", n);
	if (p->oldest_unacked_ms)
		fprintf(f, "%lld s", (long long)(p->oldest_unacked_ms / 1000));
	else
		fputc('-', f);
	fprintf(f, "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td>",
		(unsigned long long)p->auth_failures, (unsigned long long)p->rejected,
		(unsigned long long)p->parked);
	html_text(f, p->curve_fingerprint);
	fputs("<br>", f);
	html_text(f, p->sign_fingerprint);
	fputs("</td></tr>\n", f);
}

void page_admin(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty e = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__DaemonStatus *st;
	FILE *f = r->out;

	html_page_open(r, _("Administration"));
	q.body_case = OVERSTAPCTL__REQUEST__BODY_STATUS;
	q.status = &e;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_STATUS, &rep) < 0)
		goto out;
	st = rep->status;
	fputs("<dl class=\"meta\">\n", f);
	html_dt(f, _("Institution"), st->institution);
	html_dt(f, _("Version"), st->version);
	/* short, to read to the other administrator over the phone (overstap
	 * keys show and overstapd -t print the same) */
	html_dt(f, _("Fingerprint of our encryption key"), st->curve_fingerprint);
	html_dt(f, _("Fingerprint of our signing key"), st->sign_fingerprint);
	fprintf(f, "<dt>%s</dt><dd>", _("Running since"));
	html_time(f, st->started_at);
	fputs("</dd>\n", f);
	html_dt(f, _("Store"), st->store_damaged ? st->store_error : _("in order"));
	if (st->reload_failed_at) {
		for (size_t i = 0; i < st->n_reload_errors; i++)
			html_dt(f, _("Last reload failed"), st->reload_errors[i]);
	}
	fputs("</dl>\n", f);
	fprintf(f, "<div class=\"wrap\"><table>\n<caption>%s</caption>\n<thead><tr>", _("Peers"));
	{
		const char *h[] = { _("Id"), _("Name"), _("Connection"), _("Last handshake"),
				    _("Outbox"), _("Oldest unacknowledged"), _("Failed sign-ins"),
				    _("Rejected"), _("Parked"),
				    _("Key fingerprints (encryption, signing)") };

		for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
			fprintf(f, "<th scope=\"col\">%s</th>", h[i]);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < st->n_peers; i++)
		s_peer_row(f, st->peers[i]);
	fputs("</tbody></table></div>\n", f);
	fprintf(f, "<h2>%s</h2>\n", _("Last spool run"));
	if (!st->spool) {
		fprintf(f, "<p>%s</p>\n", _("No spool directory is configured."));
	} else {
		fputs("<dl class=\"meta\">\n", f);
		html_dt(f, _("Directory"), st->spool->dir);
		if (st->spool->problem && *st->spool->problem)
			html_dt(f, _("Problem"), st->spool->problem);
		html_dt(f, _("Last file"), st->spool->last_file);
		fprintf(f, "<dt>%s</dt><dd>", _("At"));
		html_time(f, st->spool->last_at);
		fputs("</dd>\n", f);
		html_dt(f, _("Outcome"), st->spool->last_outcome);
		html_dt(f, _("Summary"), st->spool->last_summary);
		fputs("</dl>\n", f);
	}
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}
