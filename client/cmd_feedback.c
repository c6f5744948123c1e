/* cmd_feedback: at the receiving institution, what goes back to the school:
 * `overstap registration status`, `overstap outcome record`, `overstap import outcomes`
 * (design.md §8), `overstap registration record` and `registration list`. The CSV is checked here with
 * every error at once; the daemon checks again, and checks the consent. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dialect.h"
#include "feedback_events.h"
#include "out.h"
#include "outcomes.h"
#include "registrations.h"
#include "util.h"
#include "i18n.h"

/* Send the events; print what the daemon refused, one line each. */
static int s_send(struct cli *cli, Overstapctl__RecordFeedback *f, const char *done)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Reply *rep = NULL;
	int r;

	req.body_case = OVERSTAPCTL__REQUEST__BODY_FEEDBACK;
	req.feedback = f;
	r = cli_request_partial(cli, &req, OVERSTAPCTL__REPLY__BODY_MARKED, &rep);
	if (!rep)
		return r;
	for (size_t i = 0; i < rep->marked->n_errors; i++) {
		out_text(stderr, rep->marked->errors[i]);
		fputc('\n', stderr);
	}
	/* a file: what was sent before (the same export again) is said too */
	if (r == CLI_EXIT_OK && f->file[0])
		printf(_("%s %u, %u unchanged (already sent)\n"), done, rep->marked->imported,
		       rep->marked->unchanged_sent);
	else if (r == CLI_EXIT_OK)
		printf("%s %u\n", done, rep->marked->imported);
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

/* The options of an import: --help, --check (*check), the dialect's into
 * d, and one file (argv[optind] after). An exit status, or -1 to go on. */
static int s_file_arg(struct cli *cli, int argc, char **argv, struct dialect *d,
		      protobuf_c_boolean *check)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "check", no_argument, NULL, 'n' },
					      DIALECT_LONG_OPTIONS, { 0 } };
	int c, r;

	while ((c = getopt_long(argc, argv, "hn", opts, NULL)) != -1) {
		if (c == 'n') {
			*check = 1;
			continue;
		}
		if (c == 'h') {
			cli_help(cli, stdout);
			return CLI_EXIT_OK;
		}
		r = dialect_option(cli, d, c, optarg);
		if (r != CLI_EXIT_OK)
			return r < 0 ? cli_usage_hint(cli) : r;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "give one CSV file");
	r = dialect_ready(d);
	return r == CLI_EXIT_OK ? -1 : r;
}

/* registration status / outcome record: one event from the command line. */
static int s_one(struct cli *cli, int argc, char **argv, int want_status)
{
	static const struct option opts[] = {
		{ "date", required_argument, NULL, 'd' }, { "level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },	  { 0 },
	};
	Overstapctl__RecordFeedback f = OVERSTAPCTL__RECORD_FEEDBACK__INIT;
	Overstapctl__FeedbackEvent e = OVERSTAPCTL__FEEDBACK_EVENT__INIT, *ep = &e;
	unsigned level = 0;
	enum outcome_event ev;
	int c;

	while ((c = getopt_long(argc, argv, want_status ? "d:h" : "d:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': e.date = optarg; break;
		case 'l':
			if (cli_parse_uint(optarg, OUTCOME_LEVEL_MIN, OUTCOME_LEVEL_MAX, &level) < 0)
				return cli_usage_error(cli, "--level must be an MBO level, 1 to 4");
			break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind != 2)
		return want_status ? cli_usage_error(cli, "give a record id and a status")
				   : cli_usage_error(cli, "give a record id and an outcome");
	ev = outcome_event_from_str(argv[optind + 1]);
	if (ev == OUTCOME_EV_UNKNOWN || outcome_event_is_status(ev) != want_status)
		return want_status
			       ? cli_usage_error(cli, "'%s' is not a status (registered, agreement_offered, "
						 "not_enrolled, withdrawn, enrolled, intake_held)",
						 argv[optind + 1])
			       : cli_usage_error(cli, "'%s' is not an outcome (still_enrolled, diploma, "
						 "progressed, switched, left_without_diploma)",
						 argv[optind + 1]);
	if (*e.date && (c = cli_date_check(cli, e.date)) >= 0)
		return c;
	e.record_id = argv[optind];
	e.event = argv[optind + 1];
	e.level = level;
	f.events = &ep;
	f.n_events = 1;
	return s_send(cli, &f, want_status ? "statuses queued:" : "outcomes queued:");
}

int cmd_registration_status(struct cli *cli, int argc, char **argv)
{
	return s_one(cli, argc, argv, 1);
}

int cmd_outcome_record(struct cli *cli, int argc, char **argv) { return s_one(cli, argc, argv, 0); }

int cmd_import_outcomes(struct cli *cli, int argc, char **argv)
{
	Overstapctl__RecordFeedback f = OVERSTAPCTL__RECORD_FEEDBACK__INIT;
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	struct dialect d = { 0 };
	size_t n = 0;
	int r;

	if ((r = s_file_arg(cli, argc, argv, &d, &f.check)) >= 0) {
		dialect_clear(&d);
		return r;
	}
	f.file = argv[optind];
	r = outcomes_import_file(f.file, &d.o, &rows, &n, &errors);
	dialect_warn(&d);
	dialect_clear(&d);
	if (r < 0)
		return cli_csv_failed(f.file, r, &errors, "nothing sent");
	r = CLI_EXIT_REFUSED;
	if (feedback_events_fill(&f, rows, n) == 0) {
		r = s_send(cli, &f, f.check ? "check (nothing queued): statuses and outcomes that"
					      " would be queued:" : "statuses and outcomes queued:");
	}
	feedback_events_free(&f);
	outcomes_free(&rows);
	return r;
}

/* Send registrations; print what the daemon refused, one line each. */
static int s_send_registrations(struct cli *cli, Overstapctl__Request *req, const char *school)
{
	Overstapctl__Reply *rep = NULL;
	int r = cli_request_partial(cli, req, OVERSTAPCTL__REPLY__BODY_MARKED, &rep);

	if (!rep)
		return r;
	for (size_t i = 0; i < rep->marked->n_errors; i++) {
		out_text(stderr, rep->marked->errors[i]);
		fputc('\n', stderr);
	}
	if (r == CLI_EXIT_OK && req->import_registrations && req->import_registrations->check)
		printf(_("check (nothing queued): registrations that would be queued: %u, "
			 "%u unchanged (already sent)\n"),
		       rep->marked->imported, rep->marked->unchanged_sent);
	else if (r == CLI_EXIT_OK && school)
		printf(_("registration queued for %s\n"), school);
	else if (r == CLI_EXIT_OK)
		printf(_("registrations queued: %u, %u unchanged (already sent)\n"),
		       rep->marked->imported, rep->marked->unchanged_sent);
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_import_registrations(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ImportRegistrations im = OVERSTAPCTL__IMPORT_REGISTRATIONS__INIT;
	Overstapctl__RecordRegistration *g = NULL, **gp = NULL;
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	struct dialect d = { 0 };
	size_t n = 0;
	int r;

	if ((r = s_file_arg(cli, argc, argv, &d, &im.check)) >= 0) {
		dialect_clear(&d);
		return r;
	}
	im.file = argv[optind];
	r = registrations_import_file(im.file, &d.o, &rows, &n, &errors);
	dialect_warn(&d);
	dialect_clear(&d);
	if (r < 0)
		return cli_csv_failed(im.file, r, &errors, "nothing sent");
	g = calloc(n ? n : 1, sizeof(*g));
	gp = calloc(n ? n : 1, sizeof(Overstapctl__RecordRegistration *));
	r = CLI_EXIT_REFUSED;
	if (g && gp) {
		for (size_t i = 0; i < n; i++) {
			overstapctl__record_registration__init(&g[i]);
			g[i].pgn = rows[i].pgn;
			g[i].school = rows[i].sending_school;
			g[i].date = rows[i].registered_on;
			g[i].line = rows[i].line;
			gp[i] = &g[i];
		}
		im.rows = gp;
		im.n_rows = n;
		req.body_case = OVERSTAPCTL__REQUEST__BODY_IMPORT_REGISTRATIONS;
		req.import_registrations = &im;
		r = s_send_registrations(cli, &req, NULL);
	}
	free(g);
	free(gp);
	registrations_free(&rows);
	return r;
}

int cmd_registration_record(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' }, { "date", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },	  { 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__RecordRegistration g = OVERSTAPCTL__RECORD_REGISTRATION__INIT;
	int c;

	while ((c = getopt_long(argc, argv, "f:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': g.school = optarg; break;
		case 'd': g.date = optarg; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind != 1 || !*g.school)
		return cli_usage_error(cli, "give the pupil's PGN and --from SCHOOL");
	if (*g.date && (c = cli_date_check(cli, g.date)) >= 0)
		return c;
	g.pgn = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_REGISTRATION;
	req.registration = &g;
	return s_send_registrations(cli, &req, g.school);
}

static json_t *s_reg_json(const void *r)
{
	const Overstapctl__RegistrationSent *g = r;
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "message_id", g->message_id);
	e |= out_json_set_str(o, "school", g->school);
	e |= out_json_set_str(o, "registered_on", g->registered_on);
	e |= out_json_set_time(o, "queued_at", g->at);
	e |= out_json_set_str(o, "state", g->state);
	e |= out_json_set_str(o, "reason", g->reason);
	return out_json_done(o, e);
}

/* The states as staff read them; the JSON keeps the codes. */
static const char *s_reg_state(const char *state)
{
	if (strcmp(state, "queued") == 0)
		return _("queued (the school has not taken it yet)");
	if (strcmp(state, "delivered") == 0)
		return _("delivered");
	if (strcmp(state, "refused") == 0)
		return _("refused by the school");
	if (strcmp(state, "parked") == 0)
		return _("parked (see overstap outbox list)");
	if (strcmp(state, "cancelled") == 0)
		return _("cancelled");
	return state;
}

int cmd_registration_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "school", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__RegistrationQuery q = OVERSTAPCTL__REGISTRATION_QUERY__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__RegistrationList *l;
	char t[OUT_TIME_LEN];
	int json = 0, c, r;

	while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': q.school = optarg; break;
		case 'j': json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc)
		q.pgn = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_REGISTRATION_LIST;
	req.registration_list = &q;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_REGISTRATIONS, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	l = rep->registrations;
	if (json) {
		r = cli_json_rows((const void *const *)l->rows, l->n_rows, s_reg_json);
	} else if (l->n_rows == 0) {
		puts(_("no registrations sent"));
	} else {
		for (size_t i = 0; i < l->n_rows; i++) {
			const Overstapctl__RegistrationSent *g = l->rows[i];

			fputs(_("registration to "), stdout);
			out_text(stdout, g->school);
			fputs(": ", stdout);
			fputs(s_reg_state(g->state), stdout);
			putchar('\n');
			out_field(stdout, "  ", _("registered on"), g->registered_on);
			out_field(stdout, "  ", _("queued at"), out_time(g->at, t, "-"));
			out_field(stdout, "  ", _("message id"), g->message_id);
			if (g->reason[0])
				out_field(stdout, "  ", _("why"), g->reason);
		}
		printf(ngettext("%zu registration\n", "%zu registrations\n", l->n_rows), l->n_rows);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}
