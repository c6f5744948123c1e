/* pages_report: the quality-care officer's reports (design.md §6), both
 * sides, inline with their charts, and as CSV, JSON and HTML downloads.
 * Rendered by the CLI's report_out (client/report_out.c), so the page and
 * `overstap report` cannot differ; suppression happened in the daemon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "pages.h"
#include "report_out.h"

#define S_MAX_LIST 16

/* "a,b,c" into v (pointers into buf, which the caller owns). -E2BIG over max. */
static int s_split(char *buf, char **v, size_t *n, size_t max)
{
	*n = 0;
	for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (*n == max)
			return -E2BIG;
		v[(*n)++] = t;
	}
	return 0;
}

struct s_query {
	Overstapctl__ReportQuery q;
	char *cohorts[S_MAX_LIST], *by[S_MAX_LIST];
	char cbuf[512], bbuf[512];
	const char *side;
};

/* The query from the address; a message on the page and -EINVAL when bad. */
static int s_query(struct req *r, struct s_query *sq, const char *format)
{
	const char *side = req_arg(r, "side"), *cohort = req_arg(r, "cohort"), *by = req_arg(r, "by");

	overstapctl__report_query__init(&sq->q);
	sq->side = side && *side ? side : "sending";
	if (strcmp(sq->side, "sending") != 0 && strcmp(sq->side, "receiving") != 0) {
		html_error(r, _("The side is sending or receiving."));
		return -EINVAL;
	}
	snprintf(sq->cbuf, sizeof(sq->cbuf), "%s", cohort ? cohort : "");
	snprintf(sq->bbuf, sizeof(sq->bbuf), "%s", by ? by : "");
	if (s_split(sq->cbuf, sq->cohorts, &sq->q.n_cohorts, S_MAX_LIST) < 0 ||
	    s_split(sq->bbuf, sq->by, &sq->q.n_by, S_MAX_LIST) < 0) {
		html_error(r, _("Too many cohorts or dimensions."));
		return -EINVAL;
	}
	sq->q.cohorts = sq->cohorts;
	sq->q.by = sq->by;
	sq->q.side = (char *)sq->side;
	sq->q.format = (char *)format;
	return 0;
}

static void s_form(struct req *r, const struct s_query *sq)
{
	FILE *f = r->out;
	const char *cohort = req_arg(r, "cohort"), *by = req_arg(r, "by");

	fputs("<form method=\"get\" action=\"/report\">\n", f);
	fprintf(f, "<label for=\"side\">%s</label>\n<select id=\"side\" name=\"side\">\n", _("Side"));
	fprintf(f, "<option value=\"sending\"%s>%s</option>\n", strcmp(sq->side, "sending") ? "" : " selected",
		html_code("sending"));
	fprintf(f, "<option value=\"receiving\"%s>%s</option>\n</select>\n",
		strcmp(sq->side, "receiving") ? "" : " selected", html_code("receiving"));
	fprintf(f, "<label for=\"cohort\">%s</label>\n<input id=\"cohort\" name=\"cohort\" "
		   "placeholder=\"2023-2024,2024-2025\" value=\"", _("Cohorts (empty = all)"));
	html_text(f, cohort);
	fprintf(f, "\">\n<label for=\"by\">%s</label>\n<input id=\"by\" name=\"by\" "
		   "placeholder=\"program\" value=\"", _("Breakdown (dimensions, comma-separated)"));
	html_text(f, by);
	fprintf(f, "\">\n<button type=\"submit\">%s</button>\n</form>\n", _("Show report"));
}

/* The download links carry the same query. */
static void s_links(struct req *r)
{
	static const char *const formats[] = { "csv", "json", "html" };
	FILE *f = r->out;

	fprintf(f, "<p>%s", _("Download:"));
	for (size_t i = 0; i < 3; i++) {
		fprintf(f, " <a href=\"/report/download?format=%s", formats[i]);
		for (const char *const *k = (const char *const[]){ "side", "cohort", "by", NULL }; *k; k++) {
			const char *v = req_arg(r, *k);

			if (v && *v) {
				fprintf(f, "&amp;%s=", *k);
				html_url(f, v);
			}
		}
		fprintf(f, "\">%s</a>", formats[i]);
	}
	fputs("</p>\n", f);
}

/* The body of report_write_html's page: between <main> and </main>. */
static int s_inline(FILE *f, const Overstapctl__Report *rep)
{
	char *buf = NULL, *a, *b;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int r;

	if (!m)
		return -ENOMEM;
	r = report_write_html(m, rep);
	if (fclose(m) != 0 || !buf)
		r = -ENOMEM;
	if (r == 0) {
		a = strstr(buf, "<main>\n");
		b = a ? strstr(a, "</main>") : NULL;
		if (a && b) {
			a += strlen("<main>\n");
			/* its h1 is a section of our page */
			fprintf(f, "<section class=\"report\">\n%.*s</section>\n", (int)(b - a), a);
		} else {
			r = -EINVAL;
		}
	}
	free(buf);
	return r;
}

void page_report(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Reply *rep = NULL;
	struct s_query sq;

	html_page_open(r, _("Reports"));
	if (s_query(r, &sq, "html") < 0) {
		r->status = MHD_HTTP_BAD_REQUEST;
		sq.side = "sending";
		s_form(r, &sq);
		goto out;
	}
	s_form(r, &sq);
	q.body_case = OVERSTAPCTL__REQUEST__BODY_REPORT;
	q.report = &sq.q;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_REPORT, &rep) < 0)
		goto out;
	s_links(r);
	if (s_inline(r->out, rep->report) < 0)
		html_error(r, _("The report cannot be shown."));
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}

void page_report_download(struct req *r)
{
	Overstapctl__Request q = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *format = req_arg(r, "format");
	enum report_csv_dialect d = REPORT_CSV_EXCEL_NL;
	struct s_query sq;
	FILE *tmp;
	int rc;

	if (!format || (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0 && strcmp(format, "html") != 0)) {
		html_message(r, MHD_HTTP_BAD_REQUEST, _("Reports"), _("The format is csv, json or html."));
		return;
	}
	/* errors go on a page: render the query's complaints into one */
	html_page_open(r, _("Reports"));
	if (s_query(r, &sq, format) < 0) {
		r->status = MHD_HTTP_BAD_REQUEST;
		goto page;
	}
	q.body_case = OVERSTAPCTL__REQUEST__BODY_REPORT;
	q.report = &sq.q;
	if (req_ctl(r, &q, OVERSTAPCTL__REPLY__BODY_REPORT, &rep) < 0)
		goto page;
	/* the file replaces the page begun above */
	fclose(r->out);
	free(r->body);
	r->body = NULL;
	r->len = 0;
	tmp = r->out = open_memstream(&r->body, &r->len);
	if (!tmp) {
		overstapctl__reply__free_unpacked(rep, NULL);
		return;	/* the server answers 500 to a reply without a body */
	}
	if (!strcmp(format, "csv")) {
		if (rep->report->csv_dialect && *rep->report->csv_dialect)
			report_csv_dialect_parse(rep->report->csv_dialect, &d);
		rc = report_write_csv(tmp, rep->report, d);
		r->ctype = "text/csv; charset=utf-8";
	} else if (!strcmp(format, "json")) {
		rc = report_write_json(tmp, rep->report);
		r->ctype = "application/json";
	} else {
		rc = report_write_html(tmp, rep->report);
		r->ctype = "text/html; charset=utf-8";
	}
	snprintf(r->disposition, sizeof(r->disposition),
		 "attachment; filename=\"overstap-report-%s.%s\"", sq.side, format);
	overstapctl__reply__free_unpacked(rep, NULL);
	if (rc < 0) {
		r->disposition[0] = '\0';
		r->ctype = NULL;
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		fputs("error\n", tmp);
	}
	return;
page:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	html_page_close(r);
}
