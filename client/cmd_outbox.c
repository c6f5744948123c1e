/* cmd_outbox: `overstap outbox list|retry|cancel`, the parked messages
 * (design.md §4): refused by the receiver for their size or protocol version,
 * or over the limit it announced. They are kept, never sent again on their
 * own, and never block what is queued behind them. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

static json_t *s_row_json(const void *r)
{
	const Overstapctl__OutboxRow *row = r;
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "message_id", row->message_id);
	e |= out_json_set_str(o, "peer", row->peer);
	e |= out_json_set_str(o, "kind", row->kind);
	e |= out_json_set_time(o, "created_at", row->created_at);
	e |= out_json_set_int(o, "attempts", row->attempts);
	e |= out_json_set_str(o, "reason", row->reason);
	e |= out_json_set_str(o, "record_id", row->record_id);
	if (row->settled_at) {	/* refused */
		e |= out_json_set_str(o, "event", row->event);
		e |= out_json_set_str(o, "date", row->date);
		e |= out_json_set_time(o, "refused_at", row->settled_at);
	}
	return out_json_done(o, e);
}

/* What the receiver refused for good: the refusal's reason, and for a status
 * or outcome what it was about, so that staff can correct and send again. */
static void s_refused_text(const Overstapctl__OutboxList *l)
{
	char t[OUT_TIME_LEN];

	if (l->n_rows == 0) {
		puts(_("no refused messages"));
		return;
	}
	for (size_t i = 0; i < l->n_rows; i++) {
		const Overstapctl__OutboxRow *w = l->rows[i];

		fputs(_("refused "), stdout);
		out_text(stdout, w->kind);
		if (w->event[0]) {
			putchar(' ');
			out_text(stdout, w->event);
		}
		fputs(_(" by "), stdout);
		out_text(stdout, w->peer);
		putchar('\n');
		if (w->record_id[0])
			out_field(stdout, "  ", _("record id"), w->record_id);
		if (w->date[0])
			out_field(stdout, "  ", _("date"), w->date);
		out_field(stdout, "  ", _("message id"), w->message_id);
		out_field(stdout, "  ", _("queued at"), out_time(w->created_at, t, "-"));
		out_field(stdout, "  ", _("refused at"), out_time(w->settled_at, t, "-"));
		out_field(stdout, "  ", _("why"), w->reason[0] ? w->reason : _("(no reason given)"));
	}
	printf(_("%zu refused; correct the cause and record the status or outcome again\n"), l->n_rows);
}

static void s_list_text(const Overstapctl__OutboxList *l)
{
	char t[OUT_TIME_LEN];

	if (l->n_rows == 0) {
		puts(_("no parked messages"));
		return;
	}
	for (size_t i = 0; i < l->n_rows; i++) {
		const Overstapctl__OutboxRow *w = l->rows[i];

		fputs(_("parked "), stdout);
		out_text(stdout, w->kind);
		fputs(_(" to "), stdout);
		out_text(stdout, w->peer);
		putchar('\n');
		out_field(stdout, "  ", _("message id"), w->message_id);
		if (w->record_id[0])
			out_field(stdout, "  ", _("record id"), w->record_id);
		out_field(stdout, "  ", _("queued at"), out_time(w->created_at, t, "-"));
		printf(_("  attempts: %u\n"), w->attempts);
		out_field(stdout, "  ", _("why"), w->reason);
	}
	printf(_("%zu parked; `overstap outbox retry ID` once the cause is gone, "
	       "or `overstap outbox cancel ID`\n"), l->n_rows);
}

int cmd_outbox_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "peer", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' },
		{ "refused", no_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__OutboxQuery q = OVERSTAPCTL__OUTBOX_QUERY__INIT;
	Overstapctl__Reply *rep = NULL;
	int json = 0, c, r;

	while ((c = getopt_long(argc, argv, "p:jrh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': q.peer = optarg; break;
		case 'j': json = 1; break;
		case 'r': q.refused = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	req.body_case = OVERSTAPCTL__REQUEST__BODY_OUTBOX_LIST;
	req.outbox_list = &q;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_OUTBOX_LIST, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	if (json)
		r = cli_json_rows((const void *const *)rep->outbox_list->rows, rep->outbox_list->n_rows,
				  s_row_json);
	else if (q.refused)
		s_refused_text(rep->outbox_list);
	else
		s_list_text(rep->outbox_list);
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

static int s_action(struct cli *cli, int argc, char **argv, int cancel)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' }, { "peer", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__OutboxAction act = OVERSTAPCTL__OUTBOX_ACTION__INIT;
	Overstapctl__Reply *rep = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "ap:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': act.all = 1; break;
		case 'p': act.peer = optarg; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (act.all == (optind < argc))
		return cli_usage_error(cli, "give message ids or --all (one of the two)");
	if (act.peer[0] && !act.all)
		return cli_usage_error(cli, "--peer goes with --all");
	act.message_ids = argv + optind;
	act.n_message_ids = (size_t)(argc - optind);
	act.cancel = cancel;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_OUTBOX_ACTION;
	req.outbox_action = &act;
	r = cli_request_partial(cli, &req, OVERSTAPCTL__REPLY__BODY_MARKED, &rep);
	if (!rep)
		return r;
	printf(cancel ? ngettext("cancelled %u parked message\n", "cancelled %u parked messages\n",
				  rep->marked->imported)
		      : ngettext("queued again %u parked message\n", "queued again %u parked messages\n",
				 rep->marked->imported),
	       rep->marked->imported);
	for (size_t i = 0; i < rep->marked->n_errors; i++) {
		fputs(_("overstap: "), stderr);
		out_text(stderr, rep->marked->errors[i]);
		fputc('\n', stderr);
	}
	if (rep->marked->n_errors && r == CLI_EXIT_OK)
		r = CLI_EXIT_REFUSED;
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_outbox_retry(struct cli *cli, int argc, char **argv)
{
	return s_action(cli, argc, argv, 0);
}

int cmd_outbox_cancel(struct cli *cli, int argc, char **argv)
{
	return s_action(cli, argc, argv, 1);
}
