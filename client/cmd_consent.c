/* cmd_consent: `overstap consent grant|withdraw|list|due` (design.md §3). The
 * daemon checks every rule and records who did what in the audit log; the
 * CLI only collects the answers and shows them. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "consent.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

json_t *consent_row_json(const Overstapctl__ConsentRow *r)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "id", r->id);
	e |= out_json_set_str(o, "pupil_ref", r->pupil_ref);
	e |= out_json_set_str(o, "purpose", r->purpose);
	e |= out_json_set_str(o, "counterpart", r->counterpart);
	e |= out_json_set_str(o, "grantor", r->grantor);
	e |= out_json_set_str(o, "granted_at", r->granted_at);
	e |= out_json_set_str(o, "valid_until", r->valid_until);
	e |= out_json_set_str(o, "evidence_method", r->evidence_method);
	e |= out_json_set_str(o, "evidence_ref", r->evidence_ref);
	e |= out_json_set_str(o, "recorded_by", r->recorded_by);
	e |= out_json_set_str(o, "recorded_at", r->recorded_at);
	e |= out_json_set_str(o, "withdrawn_at", r->withdrawn_at);
	e |= out_json_set_str(o, "withdrawn_by", r->withdrawn_by);
	e |= out_json_set(o, "in_force", json_boolean(r->in_force));
	if (r->due_reason[0])
		e |= out_json_set_str(o, "due_reason", r->due_reason);
	if (r->withdrawal_to[0])
		e |= out_json_set_str(o, "withdrawal_to", r->withdrawal_to);
	if (r->notice_to[0])
		e |= out_json_set_str(o, "notice_to", r->notice_to);
	return out_json_done(o, e);
}

/* The rows as one JSON array on stdout: an exit code. */
static json_t *s_row_json(const void *row)
{
	return consent_row_json(row);
}

static int s_rows_json(Overstapctl__ConsentRow *const *rows, size_t n)
{
	return cli_json_rows((const void *const *)rows, n, s_row_json);
}

static const struct table_col s_cols[] = {
	{ N_("CONSENT"), 0 }, { N_("PUPIL"), 0 }, { N_("PURPOSE"), 0 }, { N_("FOR"), 0 },
	{ N_("BY"), 0 },
	{ N_("GRANTED"), 0 }, { N_("UNTIL"), 0 }, { N_("STATE"), 0 }, { N_("NOTE"), 0 },
};

int consent_rows_text(Overstapctl__ConsentRow *const *rows, size_t n, const char *none)
{
	struct table *t = table_new(s_cols, ARRAY_SIZE(s_cols));
	int r = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		const Overstapctl__ConsentRow *w = rows[i];
		char state[32];

		if (w->withdrawn_at[0])
			snprintf(state, sizeof(state), "withdrawn %s", w->withdrawn_at);
		else
			snprintf(state, sizeof(state), "%s", w->in_force ? "in force" : "not in force");
		const char *cells[] = { w->id, w->pupil_ref, w->purpose, w->counterpart, w->grantor,
					w->granted_at, w->valid_until[0] ? w->valid_until : "-", state,
					w->due_reason };
		r = table_add(t, cells);
	}
	if (r == 0) {
		if (n)
			table_print(t, stdout);
		else
			puts(none);
	}
	table_free(&t);
	return r;
}

/* Send a request whose answer is one consent row, and print it. */
static int s_one(struct cli *cli, Overstapctl__Request *req, int json, const char *done)
{
	Overstapctl__Reply *rep = NULL;
	int r = cli_request(cli, req, OVERSTAPCTL__REPLY__BODY_CONSENT, &rep);

	if (r != CLI_EXIT_OK)
		return r;
	if (json)
		r = s_rows_json(&rep->consent, 1);
	else
	{
		/* TRANSLATORS: the first %s is "recorded" or "withdrew". */
		printf(_("%s consent %s (%s, for %s, by %s, from %s)\n"), _(done), rep->consent->id,
		       rep->consent->purpose, rep->consent->counterpart, rep->consent->grantor,
		       rep->consent->granted_at);
		if (rep->consent->notice_to[0])
			printf(_("the dossier has left already: %s is told of this consent\n"),
			       rep->consent->notice_to);
		if (rep->consent->withdrawal_to[0])
			printf(_("withdrawal queued for %s: it erases what it holds under this consent "
			       "and sends a receipt (see handover show)\n"), rep->consent->withdrawal_to);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_consent_grant(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		/* --to has no -t: that is the global --timeout, before the command */
		{ "purpose", required_argument, NULL, 'p' }, { "to", required_argument, NULL, 'T' },
		{ "by", required_argument, NULL, 'b' },	     { "date", required_argument, NULL, 'd' },
		{ "until", required_argument, NULL, 'u' },   { "evidence", required_argument, NULL, 'e' },
		{ "ref", required_argument, NULL, 'r' },     { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },	     { 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ConsentGrant g = OVERSTAPCTL__CONSENT_GRANT__INIT;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "p:b:d:u:e:r:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': g.purpose = optarg; break;
		case 'T': g.counterpart = optarg; break;
		case 'b': g.grantor = (char *)cli_party_code(optarg); break;
		case 'd': g.granted_at = optarg; break;
		case 'u': g.valid_until = optarg; break;
		case 'e': g.evidence_method = optarg; break;
		case 'r': g.evidence_ref = optarg; break;
		case 'j': json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "give one pupil (the school's pupil number)");
	if (!*g.purpose || !*g.grantor || !*g.evidence_method || !*g.evidence_ref)
		return cli_usage_error(cli, "--purpose, --by, --evidence and --ref are required");
	/* What is wrong with an option's value is a usage error (exit 2), as in
	 * every other verb; the daemon checks the same again, and the rest. */
	if (!consent_purpose_from_str(g.purpose))
		return cli_usage_error(cli, "--purpose wants handover or follow_up, not '%s'", g.purpose);
	if (!consent_grantor_from_str(g.grantor))
		return cli_usage_error(cli, "--by wants pupil, parent or guardian");
	if (!consent_evidence_method_valid(g.evidence_method))
		return cli_usage_error(cli, "--evidence wants one of %s, not '%s'",
				       consent_evidence_methods(), g.evidence_method);
	if (*g.granted_at && (c = cli_date_check(cli, g.granted_at)) >= 0)
		return c;
	if (*g.valid_until && (c = cli_date_check(cli, g.valid_until)) >= 0)
		return c;
	g.pupil_ref = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_CONSENT_GRANT;
	req.consent_grant = &g;
	return s_one(cli, &req, json, N_("recorded"));
}

int cmd_consent_withdraw(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "date", required_argument, NULL, 'd' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },	  { 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ConsentWithdraw w = OVERSTAPCTL__CONSENT_WITHDRAW__INIT;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': w.date = optarg; break;
		case 'j': json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "give one consent id (see overstap consent list)");
	if (*w.date && (c = cli_date_check(cli, w.date)) >= 0)
		return c;
	w.consent_id = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_CONSENT_WITHDRAW;
	req.consent_withdraw = &w;
	return s_one(cli, &req, json, N_("withdrew"));
}

static int s_list(struct cli *cli, Overstapctl__ConsentQuery *q, int json)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Reply *rep = NULL;
	int r;

	req.body_case = OVERSTAPCTL__REQUEST__BODY_CONSENT_LIST;
	req.consent_list = q;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_CONSENT_LIST, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	if (json)
		r = s_rows_json(rep->consent_list->rows, rep->consent_list->n_rows);
	else if (consent_rows_text(rep->consent_list->rows, rep->consent_list->n_rows,
			     q->due ? "no consents need attention" : "no consents recorded") < 0) {
		fputs(_("overstap: out of memory\n"), stderr);
		r = CLI_EXIT_REFUSED;
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_consent_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	Overstapctl__ConsentQuery q = OVERSTAPCTL__CONSENT_QUERY__INIT;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, "give at most one pupil");
	if (optind < argc)
		q.pupil_ref = argv[optind];
	return s_list(cli, &q, json);
}

int cmd_consent_due(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },	  { 0 },
	};
	Overstapctl__ConsentQuery q = OVERSTAPCTL__CONSENT_QUERY__INIT;
	unsigned days = 60;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "n:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_uint(optarg, 1, 3650, &days) < 0)
				return cli_usage_error(cli, "--days must be 1 to 3650");
			break;
		case 'j': json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	q.due = 1;
	q.horizon_days = days;
	return s_list(cli, &q, json);
}
