/* cmd_enrolments: `overstap import enrolments FILE.csv` at the MBO (design.md
 * §8.4): every new enrolment, dossier or not, for the receiving report's
 * coverage of the whole intake. The CSV is checked here with every error at
 * once; the daemon checks again. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dialect.h"
#include "enrolments.h"
#include "out.h"
#include "util.h"
#include "vocab.h"
#include "i18n.h"

static int s_send(struct cli *cli, Overstapctl__ImportEnrolments *im)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Reply *rep = NULL;
	int r;

	req.body_case = OVERSTAPCTL__REQUEST__BODY_IMPORT_ENROLMENTS;
	req.import_enrolments = im;
	r = cli_request_partial(cli, &req, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT, &rep);
	if (!rep)
		return r;
	for (size_t i = 0; i < rep->import_result->n_errors; i++) {
		out_text(stderr, rep->import_result->errors[i]);
		fputc('\n', stderr);
	}
	if (r == CLI_EXIT_OK && im->check)
		printf(_("check (nothing imported): enrolments that would be imported: %u new, "
			 "%u corrected, %u already held\n"), rep->import_result->added,
		       rep->import_result->updated, rep->import_result->unchanged);
	else if (r == CLI_EXIT_OK)
		printf(_("enrolments imported: %u new, %u corrected, %u already held\n"),
		       rep->import_result->added, rep->import_result->updated,
		       rep->import_result->unchanged);
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_import_enrolments(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "check", no_argument, NULL, 'n' },
					      DIALECT_LONG_OPTIONS, { 0 } };
	struct dialect d = { 0 };
	Overstapctl__ImportEnrolments im = OVERSTAPCTL__IMPORT_ENROLMENTS__INIT;
	Overstapctl__EnrolmentRow *e = NULL, **ep = NULL;
	struct enrolment_row_in *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "hn", opts, NULL)) != -1) {
		if (c == 'n') {
			im.check = 1;
			continue;
		}
		if (c == 'h') {
			dialect_clear(&d);
			cli_help(cli, stdout);
			return CLI_EXIT_OK;
		}
		if ((r = dialect_option(cli, &d, c, optarg)) != CLI_EXIT_OK) {
			dialect_clear(&d);
			return r < 0 ? cli_usage_hint(cli) : r;
		}
	}
	if (argc - optind != 1) {
		dialect_clear(&d);
		return cli_usage_error(cli, "give one CSV file");
	}
	im.file = argv[optind];
	if ((r = dialect_ready(&d)) != CLI_EXIT_OK) {
		dialect_clear(&d);
		return r;
	}
	r = enrolments_import_file(im.file, &d.o, &rows, &n, &errors);
	dialect_warn(&d);
	dialect_clear(&d);
	if (r < 0)
		return cli_csv_failed(im.file, r, &errors, "nothing imported");
	e = calloc(n ? n : 1, sizeof(*e));
	ep = calloc(n ? n : 1, sizeof(Overstapctl__EnrolmentRow *));
	r = CLI_EXIT_REFUSED;
	if (e && ep) {
		for (size_t i = 0; i < n; i++) {
			const char *prev = vocab_program_str(rows[i].previous);

			overstapctl__enrolment_row__init(&e[i]);
			e[i].pgn = rows[i].pgn;
			e[i].level = (uint32_t)rows[i].level;
			e[i].start_date = rows[i].start_date;
			e[i].previous = (char *)(prev ? prev : "");
			e[i].line = rows[i].line;
			ep[i] = &e[i];
		}
		im.rows = ep;
		im.n_rows = n;
		r = s_send(cli, &im);
	} else {
		fputs(_("overstap: out of memory\n"), stderr);
	}
	free(e);
	free(ep);
	enrolments_free(&rows);
	return r;
}
