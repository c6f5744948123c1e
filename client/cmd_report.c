/* cmd_report: `overstap report` (design.md §6: aggregated and suppressed by the
 * daemon; the CLI only lays it out) and `overstap lost` (the named list of
 * pupils out of sight, for the local operator only). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "report.h"
#include "report_out.h"
#include "util.h"
#include "i18n.h"

#define MAX_LIST 16	/* cohorts or dimensions on one command line */

/* Split "a,b,c" (and repeated options) into v; returns -1 when too many. */
static int s_split(char *arg, char **v, size_t *n)
{
	char *save = NULL;

	for (char *t = strtok_r(arg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST)
			return -1;
		v[(*n)++] = t;
	}
	return 0;
}

/* dim is one of the comma-separated names in list ("a, b, c"). */
static int s_in_list(const char *list, const char *dim)
{
	size_t n = strlen(dim);

	for (const char *p = list; n && (p = strstr(p, dim)) != NULL; p++)
		if ((p == list || (p - list >= 2 && p[-2] == ',' && p[-1] == ' ')) &&
		    (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

/* The CSV dialect: --csv-dialect, else the daemon's [report] csv_dialect
 * (sent with the report: the CLI often runs without read access to
 * overstapd.conf), else excel-nl. */
static enum report_csv_dialect s_dialect(const char *opt, const Overstapctl__Report *r)
{
	enum report_csv_dialect d = REPORT_CSV_EXCEL_NL;

	if (!opt || report_csv_dialect_parse(opt, &d) < 0)
		report_csv_dialect_parse(r->csv_dialect, &d);
	return d;
}

/* The report's language: --language, else the daemon's [report] language
 * (sent with the report, as the dialect is), else Dutch (SPEC §10). */
static const char *s_language(const char *opt, const Overstapctl__Report *r)
{
	if (opt)
		return opt;
	return r->language && i18n_lang_valid(r->language) ? r->language : "nl";
}

/* Renders in the report's language, whatever the user's locale: the
 * messages around it (errors, "wrote ...") stay in the user's. */
static int s_write(const char *format, const char *dialect, const char *lang, FILE *f,
		   const Overstapctl__Report *r)
{
	struct i18n_saved saved;
	int rc;

	if (strcmp(format, "json") == 0)
		return report_write_json(f, r);	/* machine output: never translated */
	i18n_begin(&saved, s_language(lang, r));
	if (strcmp(format, "csv") == 0)
		rc = report_write_csv(f, r, s_dialect(dialect, r));
	else if (strcmp(format, "html") == 0)
		rc = report_write_html(f, r);
	else
		rc = report_write_text(f, r);
	i18n_end(&saved);
	return rc;
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cohort", required_argument, NULL, 'C' }, { "by", required_argument, NULL, 'b' },
		{ "side", required_argument, NULL, 's' },   { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' }, { "force", no_argument, NULL, 'F' },
		{ "csv-dialect", required_argument, NULL, 'D' },
		{ "language", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },	/* as every other verb says it */
		{ "help", no_argument, NULL, 'h' },	    { 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ReportQuery q = OVERSTAPCTL__REPORT_QUERY__INIT;
	Overstapctl__Reply *rep = NULL;
	char *cohorts[MAX_LIST], *by[MAX_LIST];
	const char *format = "text", *output = NULL, *dialect = NULL, *lang = NULL;
	enum report_csv_dialect d;
	FILE *f = stdout;
	int c, r, force = 0;

	q.side = "sending";
	q.cohorts = cohorts;
	q.by = by;
	while ((c = getopt_long(argc, argv, "C:b:s:f:o:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			if (s_split(optarg, cohorts, &q.n_cohorts) < 0)
				return cli_usage_error(cli, "at most %d cohorts", MAX_LIST);
			break;
		case 'b':
			if (s_split(optarg, by, &q.n_by) < 0)
				return cli_usage_error(cli, "at most %d dimensions", MAX_LIST);
			break;
		case 's': q.side = optarg; break;
		case 'j': format = "json"; break;
		case 'f': format = optarg; break;
		case 'o': output = optarg; break;
		case 'F': force = 1; break;
		case 'D': dialect = optarg; break;
		case 'L': lang = optarg; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (strcmp(format, "text") != 0 && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "html") != 0)
		return cli_usage_error(cli, "--format must be text, csv, json or html");
	if (strcmp(q.side, "sending") != 0 && strcmp(q.side, "receiving") != 0)
		return cli_usage_error(cli, "--side must be sending or receiving");
	for (size_t i = 0; i < q.n_cohorts; i++)
		if (!cli_cohort_valid(cohorts[i]))
			return cli_usage_error(cli, "cohort '%s' is not a school year YYYY-YYYY, e.g. 2024-2025",
					       cohorts[i]);
	/* a word not in --by's list is a usage error, as --side's is */
	for (size_t i = 0; i < q.n_by; i++) {
		int receiving = strcmp(q.side, "receiving") == 0;

		if (!s_in_list(report_dimensions(receiving), by[i]))
			return cli_usage_error(cli, "unknown dimension '%s' for the %s side (known: %s)",
					       by[i], q.side, report_dimensions(receiving));
	}
	if (force && !output)
		return cli_usage_error(cli, "--force only goes with -o FILE");
	if (dialect && report_csv_dialect_parse(dialect, &d) < 0)
		return cli_usage_error(cli, "--csv-dialect must be excel-nl or rfc4180");
	if (dialect && strcmp(format, "csv") != 0)
		return cli_usage_error(cli, "--csv-dialect only goes with --format csv");
	if (lang && strcmp(lang, "nl") != 0 && strcmp(lang, "en") != 0)
		return cli_usage_error(cli, "--language must be nl or en");
	q.format = (char *)format;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_REPORT;
	req.report = &q;
	/* The file first: a refused -o must not leave a report.generated audit
	 * entry for a report nobody got. */
	if (output && !(f = out_create(output, force)))
		return CLI_EXIT_INPUT;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_REPORT, &rep);
	if (r == CLI_EXIT_OK && rep->report->schema_version != REPORT_JSON_VERSION) {
		fprintf(stderr, _("overstap: overstapd sent report schema %u; this overstap knows %u\n"),
			rep->report->schema_version, (unsigned)REPORT_JSON_VERSION);
		overstapctl__reply__free_unpacked(rep, NULL);
		r = CLI_EXIT_REFUSED;
	}
	if (r != CLI_EXIT_OK) {
		if (output) {
			fclose(f);
			if (!force)	/* we made it, empty: take it away again */
				unlink(output);
		}
		return r;
	}
	r = s_write(format, dialect, lang, f, rep->report);
	if (output && fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r == -ENOMEM)
		fputs(_("overstap: out of memory\n"), stderr);
	else if (r < 0)
		fprintf(stderr, _("overstap: cannot write the report to %s\n"), output ? output : "-");
	else if (output)
		fprintf(stderr, _("wrote the %s report to %s\n"), format, output);
	overstapctl__reply__free_unpacked(rep, NULL);
	return r < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}

static const struct table_col s_lost_cols[] = {
	{ N_("PUPIL"), 0 }, { N_("NAME"), 0 }, { N_("COHORT"), 0 }, { N_("PROGRAM"), 0 },
	{ N_("AT"), 0 },
	{ N_("SINCE"), 0 }, { N_("LAST EVENT"), 0 }, { N_("WHY"), 0 },
};

static json_t *s_lost_row_json(const void *row)
{
	const Overstapctl__LostRow *w = row;
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "pupil_ref", w->pupil_ref);
	e |= out_json_set_str(o, "given_name", w->given_name);
	e |= out_json_set_str(o, "tussenvoegsel", w->tussenvoegsel);
	e |= out_json_set_str(o, "family_name", w->family_name);
	e |= out_json_set_str(o, "cohort", w->cohort);
	e |= out_json_set_str(o, "program", w->program);
	e |= out_json_set_str(o, "destination_institution", w->destination_institution);
	e |= out_json_set_str(o, "record_id", w->record_id);
	e |= out_json_set_str(o, "since", w->since);
	e |= out_json_set_str(o, "last_event", w->last_event);
	e |= out_json_set_str(o, "reason", w->reason);
	return out_json_done(o, e);
}

/* The rows as one JSON array on stdout: an exit code. */
static int s_lost_json(const Overstapctl__LostList *l)
{
	return cli_json_rows((const void *const *)l->rows, l->n_rows, s_lost_row_json);
}

int cmd_lost(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cohort", required_argument, NULL, 'C' }, { "days", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },	    { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__LostQuery q = OVERSTAPCTL__LOST_QUERY__INIT;
	Overstapctl__Reply *rep = NULL;
	char *cohorts[MAX_LIST];
	int c, json = 0, r;

	q.cohorts = cohorts;
	while ((c = getopt_long(argc, argv, "C:d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			if (s_split(optarg, cohorts, &q.n_cohorts) < 0)
				return cli_usage_error(cli, "at most %d cohorts", MAX_LIST);
			break;
		case 'd':
			if (cli_parse_uint(optarg, 1, 3650, &q.days) < 0)
				return cli_usage_error(cli, "--days must be 1 to 3650");
			break;
		case 'j': json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	for (size_t i = 0; i < q.n_cohorts; i++)
		if (!cli_cohort_valid(cohorts[i]))
			return cli_usage_error(cli, "cohort '%s' is not a school year YYYY-YYYY, e.g. 2024-2025",
					       cohorts[i]);
	req.body_case = OVERSTAPCTL__REQUEST__BODY_LOST;
	req.lost = &q;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_LOST, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	if (json) {
		r = s_lost_json(rep->lost);
	} else if (rep->lost->n_rows == 0) {
		puts(_("no pupils out of sight"));
	} else {
		struct table *t = table_new(s_lost_cols, ARRAY_SIZE(s_lost_cols));

		for (size_t i = 0; t && i < rep->lost->n_rows; i++) {
			const Overstapctl__LostRow *w = rep->lost->rows[i];
			char name[320];

			snprintf(name, sizeof(name), "%s%s%s %s", w->given_name,
				 *w->tussenvoegsel ? " " : "", w->tussenvoegsel, w->family_name);
			const char *cells[] = { w->pupil_ref, name, w->cohort, w->program,
						w->destination_institution, w->since,
						w->last_event[0] ? w->last_event : "-", w->reason };
			if (table_add(t, cells) < 0)
				break;
		}
		if (t)
			table_print(t, stdout);
		table_free(&t);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}
