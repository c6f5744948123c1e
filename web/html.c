/* html: the frame of every page and the escaping (see html.h). */
#include "html.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "dossier.h"
#include "report_out.h"
#include "session.h"
#include "webconf.h"

/* What the forms and the frame add to the reports' styles. Colours keep a
 * contrast of at least 4.5:1 on white (WCAG 2.1 AA 1.4.3); focus is always
 * visible (2.4.7). */
static const char s_web_css[] =
	"header.top{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;"
	"border-bottom:2px solid #1a1a1a;padding-bottom:.5rem}\n"
	"header.top nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.75rem;margin:0;padding:0}\n"
	"a{color:#0b4f9c}\na:focus,button:focus,input:focus,select:focus,textarea:focus"
	"{outline:3px solid #b35c00;outline-offset:2px}\n"
	".skip{position:absolute;left:-999px}\n.skip:focus{left:1rem;top:1rem;background:#fff}\n"
	"form.inline{display:inline}\nfieldset{margin:1rem 0;border:1px solid #888}\n"
	"label{display:block;font-weight:600;margin-top:.5rem}\n"
	"label.radio{display:inline;font-weight:400;margin-right:1rem}\n"
	"input,select,textarea,button{font:inherit}\n"
	"button{background:#0b4f9c;color:#fff;border:0;padding:.35rem .9rem;margin-top:.5rem;cursor:pointer}\n"
	"button.danger{background:#a11}\n"
	".error{color:#a11;font-weight:600}\n.ok{color:#17631f;font-weight:600}\n"
	".who{margin-left:auto}\n";

static char *s_css;		/* the reports' styles and ours: every page's one <style> */
static char s_hash[64];		/* 'sha256-BASE64' of s_css, for the CSP header */

int html_init(void)
{
	char *buf = NULL, *a, *b;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned char md[32];
	unsigned mdlen = 0;

	if (!f)
		return -ENOMEM;
	/* The reports' own stylesheet, so their tables and charts look as in
	 * `overstap report --format html`: taken from report_out, not copied. */
	report_html_open(f, "nl", "");
	if (fclose(f) != 0 || !buf)
		return -ENOMEM;
	a = strstr(buf, "<style>\n");
	b = a ? strstr(a, "</style>") : NULL;
	if (!a || !b) {
		free(buf);
		return -EINVAL;
	}
	a += strlen("<style>\n");
	if (asprintf(&s_css, "%.*s%s", (int)(b - a), a, s_web_css) < 0) {
		s_css = NULL;
		free(buf);
		return -ENOMEM;
	}
	free(buf);
	if (!EVP_Digest(s_css, strlen(s_css), md, &mdlen, EVP_sha256(), NULL))
		return -EIO;
	/* "sha256-" then base64 of 32 bytes (44 characters and the NUL) */
	snprintf(s_hash, sizeof(s_hash), "sha256-");
	EVP_EncodeBlock((unsigned char *)s_hash + 7, md, (int)mdlen);
	return 0;
}

void html_fini(void)
{
	free(s_css);
	s_css = NULL;
}

const char *html_style_hash(void) { return s_hash; }

void html_text(FILE *f, const char *s)
{
	if (!s)
		return;
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* control characters from a peer's dossier are shown, not obeyed */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fprintf(f, "&#x%x;", 0x2400 + (unsigned char)*s);
			else
				fputc(*s, f);
		}
	}
}

void html_time(FILE *f, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	if (ms <= 0 || !localtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm)) {
		fputc('-', f);
		return;
	}
	fputs(buf, f);
}

/* The screens in the navigation, each shown only with its right. */
static const struct {
	unsigned right;
	const char *href;
	const char *label;
} s_nav[] = {
	{ WR_MENTOR | WR_ADMIN, "/leavers", N_("Leavers") },
	{ WR_MENTOR | WR_QUALITY, "/lost", N_("Out of sight") },
	{ WR_INTAKE, "/inbox", N_("Inbox") },
	{ WR_INTAKE, "/find", N_("Find a pupil") },
	{ WR_INTAKE, "/outcomes", N_("Upload outcomes") },
	{ WR_QUALITY, "/report", N_("Reports") },
	{ WR_PRIVACY, "/subject", N_("Subject access") },
	{ WR_PRIVACY | WR_ADMIN, "/audit", N_("Audit log") },
	{ WR_ADMIN, "/import", N_("Upload leavers or consents") },
	{ WR_ADMIN | WR_MENTOR | WR_PRIVACY, "/consents", N_("Consents") },
	{ WR_ADMIN | WR_READ, "/admin", N_("Administration") },
};

void html_page_open(struct req *r, const char *title)
{
	FILE *f = r->out;

	fputs("<!DOCTYPE html>\n<html lang=\"", f);
	html_text(f, r->cfg->lang);
	fputs("\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	html_text(f, title);
	fputs(" – overstap</title>\n<style>\n", f);
	fputs(s_css ? s_css : "", f);
	fputs("</style>\n</head>\n<body>\n", f);
	fprintf(f, "<a class=\"skip\" href=\"#main\">%s</a>\n<header class=\"top\">\n"
		   "<p><strong><a href=\"/\">overstap</a></strong></p>\n", _("Skip to content"));
	if (r->s) {
		fprintf(f, "<nav aria-label=\"%s\"><ul>\n", _("Screens"));
		for (size_t i = 0; i < sizeof(s_nav) / sizeof(s_nav[0]); i++)
			if (r->s->rights & s_nav[i].right)
				fprintf(f, "<li><a href=\"%s\">%s</a></li>\n", s_nav[i].href, _(s_nav[i].label));
		fputs("</ul></nav>\n<p class=\"who\">", f);
		html_text(f, r->s->user);
		fputs("</p>\n", f);
		html_form_open(r, "/logout", 0);
		fprintf(f, "<button type=\"submit\">%s</button></form>\n", _("Sign out"));
	}
	fputs("</header>\n<main id=\"main\">\n<h1>", f);
	html_text(f, title);
	fputs("</h1>\n", f);
	r->page_open = 1;
}

void html_page_close(struct req *r)
{
	fputs("</main>\n</body>\n</html>\n", r->out);
}

void html_form_open(struct req *r, const char *action, int multipart)
{
	fprintf(r->out, "<form method=\"post\" action=\"%s\"%s%s>\n", action,
		multipart ? " enctype=\"multipart/form-data\"" : "",
		!strcmp(action, "/logout") ? " class=\"inline\"" : "");
	if (r->s)
		fprintf(r->out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", r->s->csrf);
}

void html_error(struct req *r, const char *msg)
{
	fputs("<p class=\"error\" role=\"alert\">", r->out);
	html_text(r->out, msg);
	fputs("</p>\n", r->out);
}

void html_message(struct req *r, int status, const char *title, const char *msg)
{
	r->status = status;
	html_page_open(r, title);
	fputs("<p>", r->out);
	html_text(r->out, msg);
	fputs("</p>\n", r->out);
	html_page_close(r);
}

void html_dt(FILE *f, const char *label, const char *value)
{
	fputs("<dt>", f);
	html_text(f, label);
	fputs("</dt><dd>", f);
	html_text(f, value && *value ? value : "-");
	fputs("</dd>\n", f);
}

/* Codes the daemon uses, in the staff's words (spec §10). */
static const struct {
	const char *code;
	const char *label;
} s_codes[] = {
	{ "imported", N_("imported, not registered yet") },
	{ "registered", N_("registered") },
	{ "ready", N_("ready to send") },
	{ "queued", N_("queued") },
	{ "parked", N_("parked") },
	{ "delivered", N_("delivered") },
	{ "cancelled", N_("cancelled") },
	{ "refused", N_("refused") },
	{ "agreement_offered", N_("agreement offered") },
	{ "not_enrolled", N_("not enrolled") },
	{ "withdrawn", N_("withdrawn") },
	{ "enrolled", N_("enrolled") },
	{ "intake_held", N_("intake held") },
	{ "still_enrolled", N_("still enrolled") },
	{ "diploma", N_("diploma") },
	{ "progressed", N_("progressed") },
	{ "switched", N_("switched") },
	{ "left_without_diploma", N_("left without diploma") },
	{ "pupil", N_("pupil") },
	{ "parent", N_("parent") },
	{ "guardian", N_("guardian") },
	{ "mbo_entree", N_("MBO Entree") },
	{ "mbo_2", N_("MBO level 2") },
	{ "mbo_3_4", N_("MBO level 3/4") },
	{ "work", N_("work") },
	{ "day_care", N_("day care") },
	{ "unknown", N_("unknown") },
	{ "none", N_("none") },
	{ "sending", N_("sending side (school)") },
	{ "receiving", N_("receiving side (MBO)") },
};

const char *html_code(const char *code)
{
	if (!code)
		return "";
	for (size_t i = 0; i < sizeof(s_codes) / sizeof(s_codes[0]); i++)
		if (!strcmp(s_codes[i].code, code))
			return _(s_codes[i].label);
	return code;
}

void html_url(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

static const char *s_jstr(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* The dossier's fields with Dutch labels (through the catalogue). */
static void s_dossier_fields(FILE *f, const json_t *d)
{
	static const struct {
		const char *key, *label;
	} rows[] = {
		{ "pgn", N_("PGN") },
		{ "birth_date", N_("Date of birth") },
		{ "program", N_("Program left") },
		{ "cohort", N_("Cohort") },
		{ "exit_date", N_("Left on") },
		{ "destination", N_("Destination") },
		{ "advice", N_("Advice") },
		{ "advice_followed", N_("Advice followed") },
		{ "level_taal", N_("Level Dutch") },
		{ "level_rekenen", N_("Level arithmetic") },
		{ "diploma", N_("Diploma") },
		{ "registered_on", N_("Registered on") },
		{ "basis", N_("Legal basis") },
		{ "record_id", N_("Record id") },
	};
	char name[512];
	const json_t *m = json_object_get(d, "mentor"), *in = json_object_get(d, "inzage");
	const json_t *sn = json_object_get(d, "support_needs"), *v;
	size_t i;

	snprintf(name, sizeof(name), "%s%s%s %s", s_jstr(d, "given_name"),
		 *s_jstr(d, "tussenvoegsel") ? " " : "", s_jstr(d, "tussenvoegsel"),
		 s_jstr(d, "family_name"));
	fputs("<dl class=\"meta\">\n", f);
	html_dt(f, _("Name"), name);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		html_dt(f, _(rows[i].label), html_code(s_jstr(d, rows[i].key)));
	if (json_is_object(m)) {
		snprintf(name, sizeof(name), "%s, %s, %s", s_jstr(m, "name"), s_jstr(m, "email"),
			 s_jstr(m, "phone"));
		html_dt(f, _("Mentor"), name);
	}
	if (json_is_object(in)) {
		snprintf(name, sizeof(name), "%s, %s", html_code(s_jstr(in, "reviewer")),
			 s_jstr(in, "reviewed_on"));
		html_dt(f, _("Inzage by"), name);
		html_dt(f, _("Agrees with the dossier"), !strcmp(s_jstr(in, "agrees"), "yes") ? _("yes")
							 : !strcmp(s_jstr(in, "agrees"), "no") ? _("no")
							 : _("not asked"));
		if (*s_jstr(in, "disagreement"))
			html_dt(f, _("Their view"), s_jstr(in, "disagreement"));
		html_dt(f, _("Remarks"), s_jstr(in, "remarks"));
		html_dt(f, _("Recorded by"), s_jstr(in, "recorded_by"));
	}
	fputs("</dl>\n", f);
	if (json_array_size(sn)) {
		fprintf(f, "<h3>%s</h3>\n<ul>\n", _("Support needs"));
		json_array_foreach(sn, i, v) {
			fputs("<li>", f);
			html_text(f, s_jstr(v, "code"));
			if (*s_jstr(v, "note")) {
				fputs(": ", f);
				html_text(f, s_jstr(v, "note"));
			}
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	}
}

void html_dossier(FILE *f, const ProtobufCBinaryData *bytes)
{
	Overstap__Handover *h = NULL;
	json_t *d;
	int r = dossier_unpack(bytes, &h);

	if (r == -ENODATA) {
		fprintf(f, "<p>%s</p>\n", _("No dossier is held (it was erased, or not sent yet)."));
		return;
	}
	if (r < 0) {
		fprintf(f, "<p class=\"error\">%s</p>\n", _("The dossier cannot be read."));
		return;
	}
	d = dossier_json(h);
	if (d)
		s_dossier_fields(f, d);
	json_decref(d);
	dossier_free(&h);
}

void html_timeline(FILE *f, Overstapctl__EventRow *const *rows, size_t n)
{
	if (!n) {
		fprintf(f, "<p>%s</p>\n", _("No statuses or outcomes yet."));
		return;
	}
	fprintf(f, "<div class=\"wrap\"><table>\n<caption>%s</caption>\n<thead><tr>"
		   "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		   "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
		   "</tr></thead>\n<tbody>\n",
		_("Timeline"), _("Date"), _("Event"), _("Level"), _("Direction"), _("By"), _("State"));
	for (size_t i = 0; i < n; i++) {
		const Overstapctl__EventRow *e = rows[i];

		fputs("<tr><td>", f);
		html_text(f, e->date);
		fputs("</td><td>", f);
		html_text(f, html_code(e->event));
		fputs("</td><td>", f);
		if (e->level)
			fprintf(f, "%u", e->level);
		fputs("</td><td>", f);
		html_text(f, e->inbound ? _("received") : _("sent"));
		fputs("</td><td>", f);
		html_text(f, e->actor);
		fputs("</td><td>", f);
		html_text(f, html_code(e->state));
		if (e->reason && *e->reason) {
			fputs(": ", f);
			html_text(f, e->reason);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></div>\n", f);
}
