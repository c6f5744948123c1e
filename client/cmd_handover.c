/* cmd_handover: the sending school's verbs (design.md §3 purpose `handover`):
 * record registration and inzage, send, list and show handovers. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "dossier.h"
#include "out.h"
#include "util.h"
#include "vocab.h"
#include "i18n.h"

#define REMARKS_MAX (64 * 1024)	/* remarks are a few paragraphs, not a document */

/* States of an outgoing handover, in the order a handover passes them. */
static const char *const s_states[] = {
	"imported", "registered", "ready", "queued", "parked", "delivered", "cancelled", "erased",
	NULL,
};

/* Print the per-ref reasons of a partial refusal; returns the exit code. */
static int s_print_errors(char **errors, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(_("overstap: "), stderr);
		out_text(stderr, errors[i]);
		fputc('\n', stderr);
	}
	return n ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}

/* --date DATE, checked, or today. */
static int s_date_arg(const struct cli *cli, const char *arg, char out[11])
{
	if (!arg) {
		date_today(out);
		return -1;
	}
	int r = cli_date_check(cli, arg);

	if (r >= 0)
		return r;
	memcpy(out, arg, 11);
	return -1;
}

int cmd_handover_registered(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "date", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__MarkRegistered mark = OVERSTAPCTL__MARK_REGISTERED__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *date_arg = NULL;
	char date[11];
	int c, r;

	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': date_arg = optarg; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cli, "which pupils? give one or more pupil refs");
	r = s_date_arg(cli, date_arg, date);
	if (r >= 0)
		return r;
	mark.pupil_refs = argv + optind;
	mark.n_pupil_refs = (size_t)(argc - optind);
	mark.date = date;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED;
	req.mark_registered = &mark;
	r = cli_request_partial(cli, &req, OVERSTAPCTL__REPLY__BODY_MARKED, &rep);
	if (!rep)
		return r;
	printf(_("marked %u of %zu as registered on %s\n"), (unsigned)rep->marked->imported,
	       mark.n_pupil_refs, date);
	if (s_print_errors(rep->marked->errors, rep->marked->n_errors) != CLI_EXIT_OK)
		r = CLI_EXIT_REFUSED;
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

/* --remarks-file: UTF-8 text (it goes into a protobuf string), trailing line
 * breaks dropped; "-" reads standard input. */
static int s_read_remarks(const struct cli *cli, const char *path, char **out)
{
	size_t len = 0;
	char *s = NULL;
	int r = file_read_all(strcmp(path, "-") == 0 ? "/dev/stdin" : path, REMARKS_MAX, &s, &len);

	if (r == -EFBIG)
		return cli_usage_error(cli, "%s: remarks longer than %d bytes", path, REMARKS_MAX);
	if (r < 0)
		return cli_usage_error(cli, "%s: %s", path, strerror(-r));
	if (strlen(s) != len || !out_utf8_valid(s)) {
		free(s);
		return cli_usage_error(cli, "%s: remarks must be UTF-8 text", path);
	}
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	*out = s;
	return -1;
}

/* --agrees and --why of `handover inzage` (OSO inzage rules): whether they
 * agree is always asked, and a "no" carries their view, which travels with
 * the dossier; it never stops the send. Returns -1 to go on, or an exit code. */
static int s_agreement_options(struct cli *cli, Overstapctl__RecordInzage *z, const char *agrees)
{
	const char *canon = agrees ? vocab_yesno_canon(agrees) : NULL;

	if (!agrees)
		return cli_usage_error(cli, "--agrees yes|no is required: do they agree with the "
					    "dossier?");
	if (!canon)
		return cli_usage_error(cli, "--agrees wants yes or no, not '%s'", agrees);
	z->agrees = (char *)canon;
	if (strcmp(canon, "no") == 0 && !*z->disagreement)
		return cli_usage_error(cli, "--agrees no needs --why TEXT: their view travels with "
					    "the dossier");
	if (strcmp(canon, "yes") == 0 && *z->disagreement)
		return cli_usage_error(cli, "--why is for --agrees no: they agree");
	if (!out_utf8_valid(z->disagreement))
		return cli_usage_error(cli, "--why must be UTF-8 text");
	return -1;
}

/* Options of `handover inzage`; returns -1 to go on, or an exit code. */
static int s_inzage_options(struct cli *cli, int argc, char **argv, Overstapctl__RecordInzage *z,
			    char date[11], char **remarks_buf)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "date", required_argument, NULL, 'd' },
		{ "remarks", required_argument, NULL, 'r' },
		{ "remarks-file", required_argument, NULL, 'R' },
		{ "agrees", required_argument, NULL, 'a' },
		{ "why", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *date_arg = NULL, *file = NULL, *agrees = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "b:d:r:R:a:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': agrees = optarg; break;
		case 'w': z->disagreement = optarg; break;
		case 'b': z->reviewer = (char *)cli_party_code(optarg); break;
		case 'd': date_arg = optarg; break;
		case 'r': z->remarks = optarg; break;
		case 'R': file = optarg; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind < 1)
		return cli_usage_error(cli, "expected at least one pupil ref");
	if (!*z->reviewer || vocab_reviewer_from_str(z->reviewer) == 0)
		return cli_usage_error(cli, "--by wants pupil, parent or guardian");
	if (*z->remarks && file)
		return cli_usage_error(cli, "give --remarks or --remarks-file, not both");
	if (!out_utf8_valid(z->remarks))
		return cli_usage_error(cli, "--remarks must be UTF-8 text");
	if ((r = s_agreement_options(cli, z, agrees)) >= 0)
		return r;
	z->pupil_refs = argv + optind;
	z->n_pupil_refs = (size_t)(argc - optind);
	r = s_date_arg(cli, date_arg, date);
	if (r >= 0)
		return r;
	z->date = date;
	if (file) {
		r = s_read_remarks(cli, file, remarks_buf);
		if (r >= 0)
			return r;
		z->remarks = *remarks_buf;
	}
	return -1;
}

int cmd_handover_inzage(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__RecordInzage z = OVERSTAPCTL__RECORD_INZAGE__INIT;
	Overstapctl__Reply *rep = NULL;
	char date[11], *remarks = NULL;
	int r;

	r = s_inzage_options(cli, argc, argv, &z, date, &remarks);
	if (r >= 0)
		goto out;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_INZAGE;
	req.inzage = &z;
	/* The reply is `marked`: how many were recorded, and why others were not. */
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_MARKED, &rep);
	if (r != CLI_EXIT_OK)
		goto out;
	/* only what happened on stdout: a refusal of all is the errors alone */
	if (rep->marked->imported) {
		printf(ngettext("recorded inzage of %u pupil by %s on %s",
				"recorded inzage of %u pupils by %s on %s", rep->marked->imported),
		       rep->marked->imported, z.reviewer, z.date);
		fputs(strcmp(z.agrees, "no") == 0 ? _(", who do not agree (their view is attached)")
						  : _(", who agree"), stdout);
		fputs(*z.remarks ? _(", with remarks\n") : "\n", stdout);
	}
	if (rep->marked->n_errors)
		r = s_print_errors(rep->marked->errors, rep->marked->n_errors);
out:
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	free(remarks);
	return r;
}

int cmd_handover_send(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all-ready", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__SendHandovers send = OVERSTAPCTL__SEND_HANDOVERS__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__SendResult *res;
	int c, r;

	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (c) {
		case 'a': send.all_ready = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (send.all_ready == (optind < argc))
		return cli_usage_error(cli, "give pupil refs or --all-ready (one of the two)");
	send.pupil_refs = argv + optind;
	send.n_pupil_refs = (size_t)(argc - optind);
	req.body_case = OVERSTAPCTL__REQUEST__BODY_SEND;
	req.send = &send;
	r = cli_request_partial(cli, &req, OVERSTAPCTL__REPLY__BODY_SEND_RESULT, &rep);
	if (!rep)
		return r;
	res = rep->send_result;
	for (size_t i = 0; i < res->n_queued; i++) {
		fputs(_("queued "), stdout);
		out_text(stdout, res->queued[i]);
		putchar('\n');
	}
	for (size_t i = 0; i < res->n_refused; i++) {
		fputs(_("refused "), stderr);	/* the daemon writes "REF: reason" */
		out_text(stderr, res->refused[i]);
		fputc('\n', stderr);
	}
	for (size_t i = 0; i < res->n_parked; i++) {
		fputs(_("parked "), stderr);	/* "REF: why": queued, but not sent */
		out_text(stderr, res->parked[i]);
		fputc('\n', stderr);
	}
	if (res->n_parked)
		fputs(_("overstap: parked dossiers are kept, not sent; see `overstap outbox list`\n"), stderr);
	if (r == CLI_EXIT_OK && res->n_queued == 0 && res->n_refused == 0)
		puts(send.all_ready ? "no handover is ready to send" : "nothing sent");
	if (res->n_refused || res->n_parked)
		r = CLI_EXIT_REFUSED;
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

static json_t *s_row_json(const void *r)
{
	const Overstapctl__HandoverRow *row = r;
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "pupil_ref", row->pupil_ref);
	e |= out_json_set_str(o, "cohort", row->cohort);
	e |= out_json_set_str(o, "program", row->program);
	e |= out_json_set_str(o, "destination_type", row->destination_type);
	e |= out_json_set_str(o, "destination_institution", row->destination_institution);
	e |= out_json_set_str(o, "state", row->state);
	e |= out_json_set_str(o, "record_id", row->record_id);
	e |= out_json_set_time(o, "queued_at", row->queued_at);
	e |= out_json_set_time(o, "delivered_at", row->delivered_at);
	e |= out_json_set_str(o, "registered_on", row->registered_on);
	e |= out_json_set_str(o, "inzage_on", row->inzage_on);
	e |= out_json_set_int(o, "attempts", row->attempts);
	if (row->parked[0])
		e |= out_json_set_str(o, "parked", row->parked);
	return out_json_done(o, e);
}

static int s_list_json(const Overstapctl__HandoverList *l)
{
	return cli_json_rows((const void *const *)l->rows, l->n_rows, s_row_json);
}

static const struct table_col s_list_cols[] = {
	{ N_("PUPIL_REF"), 0 }, { N_("COHORT"), 0 }, { N_("PROGRAM"), 0 }, { N_("DESTINATION"), 0 },
	{ N_("TO"), 0 }, { N_("STATE"), 0 }, { N_("REGISTERED"), 0 }, { N_("INZAGE"), 0 },
	{ N_("ATTEMPTS"), 1 }, { N_("DELIVERED"), 0 },
};

static int s_list_text(const Overstapctl__HandoverList *l)
{
	struct table *t = table_new(s_list_cols, ARRAY_SIZE(s_list_cols));
	int r = -ENOMEM;

	if (!t)
		return r;
	for (size_t i = 0; i < l->n_rows; i++) {
		const Overstapctl__HandoverRow *w = l->rows[i];
		char att[16], del[OUT_TIME_LEN];

		snprintf(att, sizeof(att), "%u", (unsigned)w->attempts);
		const char *cells[] = { w->pupil_ref, w->cohort, w->program, w->destination_type,
					w->destination_institution, w->state, w->registered_on,
					w->inzage_on, att, out_time(w->delivered_at, del, "-") };
		r = table_add(t, cells);
		if (r < 0)
			goto out;
	}
	if (l->n_rows)
		table_print(t, stdout);
	else
		puts(_("no handovers"));
	r = 0;
out:
	table_free(&t);
	return r;
}

int cmd_handover_list(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ListFilter filter = OVERSTAPCTL__LIST_FILTER__INIT;
	Overstapctl__Reply *rep = NULL;
	int json, r;

	r = cli_list_options(cli, argc, argv, s_states, &filter, &json);
	if (r >= 0)
		return r;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_HANDOVER_LIST;
	req.handover_list = &filter;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_HANDOVER_LIST, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	if (json) {
		r = s_list_json(rep->handover_list);
	} else if (s_list_text(rep->handover_list) < 0) {
		fputs(_("overstap: out of memory\n"), stderr);
		r = CLI_EXIT_REFUSED;
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

static void s_row_text(const Overstapctl__HandoverRow *w)
{
	char t[OUT_TIME_LEN], n[16];

	fputs(_("handover "), stdout);
	out_text(stdout, w->pupil_ref);
	putchar('\n');
	out_field(stdout, "  ", _("state"), w->state);
	out_field(stdout, "  ", _("cohort"), w->cohort);
	out_field(stdout, "  ", _("program"), w->program);
	out_field(stdout, "  ", _("destination"), w->destination_type);
	out_field(stdout, "  ", _("to"), w->destination_institution);
	out_field(stdout, "  ", _("registered on"), w->registered_on);
	out_field(stdout, "  ", _("inzage on"), w->inzage_on);
	snprintf(n, sizeof(n), "%u", (unsigned)w->attempts);
	out_field(stdout, "  ", _("attempts"), n);
	if (w->parked[0]) {
		out_field(stdout, "  ", _("parked"), w->parked);
		fputs(_("  (kept, not sent: `overstap outbox retry` once the receiver takes it, "
		      "or `overstap outbox cancel`)\n"), stdout);
	}
	out_field(stdout, "  ", _("queued at"), out_time(w->queued_at, t, "-"));
	out_field(stdout, "  ", _("delivered at"), out_time(w->delivered_at, t, "-"));
	out_field(stdout, "  ", _("record id"), w->record_id);
}

int handover_detail_show(json_t *obj, const Overstapctl__HandoverDetail *d)
{
	int r;

	if (obj) {
		int e = out_json_set(obj, "row", d->row ? s_row_json(d->row) : json_null());

		r = dossier_show(obj, &d->dossier);
		if (d->erased_at)
			e |= out_json_set_time(obj, "erased_at", d->erased_at);
		e |= dossier_timeline(obj, d->events, d->n_events);
		e |= dossier_withdrawals(obj, d->withdrawals, d->n_withdrawals);
		return e ? -ENOMEM : r;
	}
	if (d->row)
		s_row_text(d->row);
	if (d->erased_at) {
		char t[OUT_TIME_LEN];

		printf(_("\npersonal data erased at %s (pupil key destroyed)\n"), out_time(d->erased_at, t, "-"));
	}
	r = dossier_show(NULL, &d->dossier);
	dossier_timeline(NULL, d->events, d->n_events);
	dossier_withdrawals(NULL, d->withdrawals, d->n_withdrawals);
	return r;
}

int cmd_handover_show(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Show show = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__HandoverDetail *d;
	int json, r;

	r = cli_json_only_options(cli, argc, argv, 1, &json);
	if (r >= 0)
		return r;
	show.key = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_HANDOVER_SHOW;
	req.handover_show = &show;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_HANDOVER_DETAIL, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	d = rep->handover_detail;
	if (json) {
		json_t *o = json_object();

		r = handover_detail_show(o, d);
		o = out_json_done(o, r == -ENOMEM);
		if (cli_json_print(&o) != CLI_EXIT_OK)
			r = -ENOMEM;
	} else {
		r = handover_detail_show(NULL, d);
	}
	if (r == -EBADMSG)
		fputs(_("overstap: the dossier overstapd returned cannot be read\n"), stderr);
	r = r < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}
