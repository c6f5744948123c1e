/* cmd_inbox: the receiving institution's view of the handovers it got. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dossier.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

static json_t *s_row_json(const void *r)
{
	const Overstapctl__InboxRow *row = r;
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "record_id", row->record_id);
	e |= out_json_set_str(o, "sender", row->sender);
	e |= out_json_set_time(o, "received_at", row->received_at);
	e |= out_json_set_str(o, "cohort", row->cohort);
	e |= out_json_set_str(o, "program", row->program);
	e |= out_json_set_str(o, "destination_type", row->destination_type);
	e |= out_json_set_str(o, "message_id", row->message_id);
	return out_json_done(o, e);
}

static int s_list_json(const Overstapctl__InboxList *l)
{
	return cli_json_rows((const void *const *)l->rows, l->n_rows, s_row_json);
}

static const struct table_col s_cols[] = {
	{ N_("RECORD_ID"), 0 }, { N_("FROM"), 0 }, { N_("RECEIVED"), 0 }, { N_("COHORT"), 0 },
	{ N_("PROGRAM"), 0 }, { N_("DESTINATION"), 0 },
};

static int s_list_text(const Overstapctl__InboxList *l)
{
	struct table *t = table_new(s_cols, ARRAY_SIZE(s_cols));
	int r = -ENOMEM;

	if (!t)
		return r;
	for (size_t i = 0; i < l->n_rows; i++) {
		const Overstapctl__InboxRow *w = l->rows[i];
		char at[OUT_TIME_LEN];
		const char *cells[] = { w->record_id, w->sender, out_time(w->received_at, at, "-"),
					w->cohort, w->program, w->destination_type };

		r = table_add(t, cells);
		if (r < 0)
			goto out;
	}
	if (l->n_rows)
		table_print(t, stdout);
	else
		puts(_("the inbox is empty"));
	r = 0;
out:
	table_free(&t);
	return r;
}

int cmd_inbox_list(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ListFilter filter = OVERSTAPCTL__LIST_FILTER__INIT;
	Overstapctl__Reply *rep = NULL;
	int json, r;

	r = cli_list_options(cli, argc, argv, NULL, &filter, &json);
	if (r >= 0)
		return r;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_INBOX_LIST;
	req.inbox_list = &filter;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_INBOX_LIST, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	if (json) {
		r = s_list_json(rep->inbox_list);
	} else if (s_list_text(rep->inbox_list) < 0) {
		fputs(_("overstap: out of memory\n"), stderr);
		r = CLI_EXIT_REFUSED;
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_inbox_find(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'N' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__InboxFind q = OVERSTAPCTL__INBOX_FIND__INIT;
	Overstapctl__Reply *rep = NULL;
	int json = 0, c, r;

	while ((c = getopt_long(argc, argv, "N:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'N': q.name = optarg; break;
		case 'j': json = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (q.name[0] ? optind != argc : optind + 1 != argc)
		return cli_usage_error(cli, "give a PGN or --name TEXT (one of the two)");
	if (!q.name[0])
		q.pgn = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_INBOX_FIND;
	req.inbox_find = &q;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_INBOX_LIST, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	if (json) {
		r = s_list_json(rep->inbox_list);
	} else if (rep->inbox_list->n_rows == 0) {
		puts(_("no received handover found"));
	} else if (s_list_text(rep->inbox_list) < 0) {
		fputs(_("overstap: out of memory\n"), stderr);
		r = CLI_EXIT_REFUSED;
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

static void s_row_text(const Overstapctl__InboxRow *w)
{
	char t[OUT_TIME_LEN];

	fputs(_("received handover "), stdout);
	out_text(stdout, w->record_id);
	putchar('\n');
	out_field(stdout, "  ", _("from"), w->sender);
	out_field(stdout, "  ", _("received at"), out_time(w->received_at, t, "-"));
	out_field(stdout, "  ", _("cohort"), w->cohort);
	out_field(stdout, "  ", _("program"), w->program);
	out_field(stdout, "  ", _("destination"), w->destination_type);
	out_field(stdout, "  ", _("message id"), w->message_id);
}

/* The dossier's consents the school has withdrawn since it arrived. */
static json_t *s_revoked_json(const Overstapctl__InboxDetail *d)
{
	json_t *a = json_array();
	int e = 0;

	for (size_t i = 0; i < d->n_revoked; i++) {
		json_t *o = json_object();
		int oe = out_json_set_str(o, "consent_id", d->revoked[i]->consent_id);

		oe |= out_json_set_time(o, "at", d->revoked[i]->at);
		e |= out_json_append(a, out_json_done(o, oe));
	}
	return out_json_done(a, e);
}

int inbox_detail_show(json_t *obj, const Overstapctl__InboxDetail *d)
{
	char t[OUT_TIME_LEN];
	int r;

	if (obj) {
		int e = out_json_set(obj, "row", d->row ? s_row_json(d->row) : json_null());

		r = dossier_show(obj, &d->dossier);
		e |= out_json_set_time(obj, "erased_at", d->erased_at);
		e |= out_json_set_str(obj, "erased_what", d->erased_what);
		e |= out_json_set(obj, "revoked", s_revoked_json(d));
		e |= dossier_timeline(obj, d->events, d->n_events);
		return e ? -ENOMEM : r;
	}
	if (d->row)
		s_row_text(d->row);
	if (d->erased_at)
		printf(_("\ndossier erased at %s (%s)\n"), out_time(d->erased_at, t, "-"), d->erased_what);
	else if (strcmp(d->erased_what, "care_notes") == 0)
		puts(_("\ncare notes erased after the school withdrew the consent they came under;\n"
		     "this copy no longer carries the sender's signature"));
	r = dossier_show(NULL, &d->dossier);
	for (size_t i = 0; i < d->n_revoked; i++)
		printf(_("%s%s withdrawn by the school at %s\n"), i ? "" : "\n", d->revoked[i]->consent_id,
		       out_time(d->revoked[i]->at, t, "-"));
	dossier_timeline(NULL, d->events, d->n_events);
	return r;
}

int cmd_inbox_show(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Show show = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__InboxDetail *d;
	int json, r;

	r = cli_json_only_options(cli, argc, argv, 1, &json);
	if (r >= 0)
		return r;
	show.key = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_INBOX_SHOW;
	req.inbox_show = &show;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_INBOX_DETAIL, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	d = rep->inbox_detail;
	if (json) {
		json_t *o = json_object();

		r = inbox_detail_show(o, d);
		o = out_json_done(o, r == -ENOMEM);
		if (cli_json_print(&o) != CLI_EXIT_OK)
			r = -ENOMEM;
	} else {
		r = inbox_detail_show(NULL, d);
	}
	if (r == -EBADMSG)
		fputs(_("overstap: the dossier overstapd returned cannot be read\n"), stderr);
	overstapctl__reply__free_unpacked(rep, NULL);
	return r < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}
