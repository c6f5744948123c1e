/* pages_privacy: the privacy officer's screens (issue 13): the subject
 * access report as a parent reads it (client/subject_out.c's letter: plain
 * Dutch, no codes, no MACs), erasure, and the audit log's verification. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "pages.h"
#include "subject_json.h"
#include "subject_out.h"

/* The letter's body (between <main> and </main>) inside our page. */
static int s_letter(FILE *f, const char *key, const Overstapctl__Subject *s)
{
	json_t *ev = subject_json(key, s);
	char *buf = NULL, *a, *b;
	size_t len = 0;
	FILE *m;
	int r = -ENOMEM;

	if (!ev)
		return -ENOMEM;
	m = open_memstream(&buf, &len);
	if (m) {
		r = subject_write_html(m, ev);
		if (fclose(m) != 0 || !buf)
			r = -ENOMEM;
	}
	json_decref(ev);
	if (r == 0) {
		a = strstr(buf, "<main>\n");
		b = a ? strstr(a, "</main>") : NULL;
		if (a && b) {
			a += strlen("<main>\n");
			fprintf(f, "<section class=\"letter\">\n%.*s</section>\n", (int)(b - a), a);
		} else {
			r = -EINVAL;
		}
	}
	free(buf);
	return r;
}

static void s_erase_form(struct req *r, const char *key)
{
	FILE *f = r->out;

	fprintf(f, "<h2>%s</h2>\n<p>%s</p>\n", _("Erase"),
		_("Erasing destroys this pupil's personal data for good (the pupil key) and tells "
		  "the receiving institution to erase what it holds under the pupil's consents."));
	html_form_open(r, "/erase", 0);
	fputs("<input type=\"hidden\" name=\"key\" value=\"", f);
	html_text(f, key);
	fprintf(f, "\">\n<label for=\"confirm\">%s</label>\n<input id=\"confirm\" name=\"confirm\" "
		   "autocomplete=\"off\" required>\n<button class=\"danger\" type=\"submit\">%s</button>\n"
		   "</form>\n", _("Type the pupil number again to confirm"), _("Erase for good"));
}

void page_subject(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Show sh = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *key = req_arg(r, "key");
	FILE *f = r->out;

	html_page_open(r, _("Subject access"));
	fprintf(f, "<form method=\"get\" action=\"/subject\">\n<label for=\"key\">%s</label>\n"
		   "<input id=\"key\" name=\"key\" autocomplete=\"off\" value=\"",
		_("Pupil number, PGN or record id"));
	html_text(f, key);
	fprintf(f, "\">\n<button type=\"submit\">%s</button>\n</form>\n", _("Show what is held"));
	if (!key || !*key)
		goto out;
	sh.key = (char *)key;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_SUBJECT;
	q.subject = &sh;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_SUBJECT, &rep) < 0)
		goto out;
	if (s_letter(f, key, rep->subject) < 0)
		html_error(r, _("The report cannot be shown."));
	s_erase_form(r, key);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

void page_erase(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Erase e = OVERSTAPCTL__ERASE__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *key = req_field(r, "key"), *confirm = req_field(r, "confirm");
	FILE *f = r->out;

	html_page_open(r, _("Erase"));
	if (!key || !*key || !confirm || strcmp(key, confirm) != 0) {
		r->status = MHD_HTTP_BAD_REQUEST;
		html_error(r, _("Not erased: the confirmation does not match the pupil number."));
		goto out;
	}
	e.key = (char *)key;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_ERASE;
	q.erase = &e;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_ERASED, &rep) < 0)
		goto out;
	fputs("<p class=\"ok\" role=\"status\">", f);
	fprintf(f, _("Erased: %u consents withdrawn, %u statuses and outcomes deleted, %u queued "
		     "messages cancelled."),
		rep->erased->consents_withdrawn, rep->erased->events_deleted,
		rep->erased->messages_cancelled);
	fputs("</p>\n", f);
	if (rep->erased->withdrawal_to && *rep->erased->withdrawal_to) {
		fputs("<p>", f);
		html_text(f, rep->erased->withdrawal_to);
		fprintf(f, " %s", _("has been told to erase; its receipt will show in the audit log."));
		fputs("</p>\n", f);
	}
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

void page_audit(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty e = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__AuditVerifyResult *v;
	FILE *f = r->out;
	char num[32];

	html_page_open(r, _("Audit log"));
	fprintf(f, "<p>%s</p>\n", _("Check that no entry of the audit log was changed or removed, "
				    "and that the peers' copies of its head agree."));
	html_form_open(r, "/audit", 0);
	fprintf(f, "<button type=\"submit\">%s</button>\n</form>\n", _("Verify the audit log"));
	if (!r->form)
		goto out;
	q.body_case = OVERSTAPCTL__REQUEST__BODY_AUDIT_VERIFY;
	q.audit_verify = &e;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_AUDIT_VERIFY, &rep) < 0)
		goto out;
	v = rep->audit_verify;
	fprintf(f, "<p class=\"%s\" role=\"status\">%s</p>\n<dl class=\"meta\">\n", v->intact ? "ok" : "error",
		v->intact ? _("The audit log is intact.") : _("The audit log is NOT intact."));
	snprintf(num, sizeof(num), "%lld", (long long)v->entries);
	html_dt(f, _("Entries"), num);
	snprintf(num, sizeof(num), "%u", v->checkpoints);
	html_dt(f, _("Peers' copies checked"), num);
	if (!v->intact) {
		snprintf(num, sizeof(num), "%lld", (long long)v->first_bad_seq);
		html_dt(f, _("First bad entry"), num);
		html_dt(f, _("Why"), v->reason);
	}
	fputs("</dl>\n", f);
	for (size_t i = 0; i < v->n_incidents; i++) {
		fputs("<p class=\"error\">", f);
		html_text(f, v->incidents[i]->peer);
		fputs(": ", f);
		html_text(f, v->incidents[i]->reason);
		fputs("</p>\n", f);
	}
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}
