/* cmd_import_consents: `overstap import consents [--check] FILE.csv` (design.md
 * §8.7): consents collected on paper or in the school's LAS, recorded in bulk
 * with the rules of `consent grant`. Parsed and checked here first; the daemon
 * checks every row again with the pupil's data and stores all or nothing. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dialect.h"
#include "consents_csv.h"
#include "ctl.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

static void s_lines(FILE *f, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out_text(f, v[i]);
		fputc('\n', f);
	}
}

static int s_send(struct cli *cli, Overstapctl__ImportConsents *im)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__ImportResult *res;
	int r;

	req.body_case = OVERSTAPCTL__REQUEST__BODY_IMPORT_CONSENTS;
	req.import_consents = im;
	r = cli_request_partial(cli, &req, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT, &rep);
	if (!rep)
		return r;
	res = rep->import_result;
	s_lines(stderr, res->errors, res->n_errors);
	if (r == CLI_EXIT_OK && im->check)
		printf(ngettext("check of %s (nothing changed): would record %u consent: %u added,"
				" %u unchanged, %u refused%s\n",
				"check of %s (nothing changed): would record %u consents: %u added,"
				" %u unchanged, %u refused%s\n", res->added),
		       im->file, (unsigned)res->added, (unsigned)res->added,
		       (unsigned)res->unchanged, (unsigned)res->refused,
		       res->n_errors ? _("; the file would be refused whole") : "");
	else if (r == CLI_EXIT_OK && res->n_errors)
		fprintf(stderr, ngettext("overstap: %s: %zu error, nothing imported\n",
					 "overstap: %s: %zu errors, nothing imported\n", res->n_errors),
			im->file, res->n_errors);
	else if (r == CLI_EXIT_OK)
		printf(ngettext("imported %u consent from %s: %u added, %u unchanged, %u refused\n",
				"imported %u consents from %s: %u added, %u unchanged, %u refused\n",
				res->imported),
		       (unsigned)res->imported, im->file, (unsigned)res->added,
		       (unsigned)res->unchanged, (unsigned)res->refused);
	if (r == CLI_EXIT_OK && res->n_errors)
		r = CLI_EXIT_INPUT;
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_import_consents(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "check", no_argument, NULL, 'n' },
		DIALECT_LONG_OPTIONS,
		{ 0 },
	};
	struct dialect d = { 0 };
	Overstapctl__ImportConsents im = OVERSTAPCTL__IMPORT_CONSENTS__INIT;
	Overstapctl__ConsentGrant *g = NULL, **gp = NULL;
	struct consents_csv_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "hn", opts, NULL)) != -1) {
		if (c == 'h') {
			dialect_clear(&d);
			cli_help(cli, stdout);
			return CLI_EXIT_OK;
		}
		if (c == 'n') {
			im.check = 1;
			continue;
		}
		if ((r = dialect_option(cli, &d, c, optarg)) != CLI_EXIT_OK) {
			dialect_clear(&d);
			return r < 0 ? cli_usage_hint(cli) : r;
		}
	}
	if (argc - optind != 1) {
		dialect_clear(&d);
		return cli_usage_error(cli, "expected one CSV file");
	}
	im.file = argv[optind];
	if ((r = dialect_ready(&d)) != CLI_EXIT_OK) {
		dialect_clear(&d);
		return r;
	}
	r = consents_csv_import_file(im.file, &d.o, &rows, &n, &errors);
	dialect_warn(&d);
	dialect_clear(&d);
	if (r < 0 || n == 0) {
		s_lines(stderr, errors.v, errors.n);
		fprintf(stderr, _("overstap: %s: %s, nothing imported\n"), im.file,
			errors.n ? "errors in the file" : r < 0 ? strerror(-r) : "no consents in the file");
		strlist_clear(&errors);
		return r == -ENOMEM ? CLI_EXIT_REFUSED : CLI_EXIT_INPUT;
	}
	r = CLI_EXIT_REFUSED;
	if (consents_csv_grants(rows, n, &g, &gp) == 0) {
		im.rows = gp;
		im.n_rows = n;
		r = s_send(cli, &im);
	}
	free(g);
	free(gp);
	consents_csv_free(&rows);
	return r;
}
