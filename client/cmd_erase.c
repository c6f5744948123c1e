/* cmd_erase: `overstap erase` (right to erasure) and `overstap subject`
 * (right of access, GDPR art. 15): both act on one pupil, and both are
 * recorded in the audit log by the daemon. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "subject_out.h"
#include "util.h"
#include "i18n.h"

/* Erasure cannot be undone: a person at a terminal retypes the key, a script
 * says --yes. */
static int s_confirmed(const char *key)
{
	char line[128];

	if (!isatty(STDIN_FILENO))
		return 0;
	fprintf(stderr, _("This destroys the personal data of %s for good and tells the receiving\n"
			"institution to erase what it holds under the pupil's consents.\n"
			"Type %s again to go ahead: "), key, key);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, key) == 0;
}

int cmd_erase(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Erase e = OVERSTAPCTL__ERASE__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__Erased *x;
	int c, yes = 0, r;

	while ((c = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (c) {
		case 'y': yes = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "give one pupil number (or, at a receiver, a record id)");
	e.key = argv[optind];
	if (!yes && !s_confirmed(e.key)) {
		fputs(_("overstap: not erased (confirm by retyping the key, or give --yes)\n"), stderr);
		return CLI_EXIT_USAGE;
	}
	req.body_case = OVERSTAPCTL__REQUEST__BODY_ERASE;
	req.erase = &e;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_ERASED, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	x = rep->erased;
	if (x->received_dossier) {
		printf(ngettext("erased received dossier %s and %u status/outcome row\n",
				"erased received dossier %s and %u status/outcome rows\n", x->events_deleted),
		       x->record_id, x->events_deleted);
		if (x->enrolments_erased)
			printf(ngettext("erased %u enrolment row linked to it\n",
					"erased %u enrolment rows linked to it\n", x->enrolments_erased),
			       x->enrolments_erased);
	} else if (x->enrolments_erased) {
		printf(ngettext("erased %u enrolment row of this student\n",
				"erased %u enrolment rows of this student\n", x->enrolments_erased),
		       x->enrolments_erased);
	} else {
		/* TRANSLATORS: three counts in one line: the "(s)" stands for
		 * the plural, as ngettext can follow only one of them. */
		printf(_("erased %s: pupil key destroyed, %u consent(s) withdrawn, %u status/outcome "
		       "row(s) deleted, %u queued message(s) cancelled\n"), e.key, x->consents_withdrawn,
		       x->events_deleted, x->messages_cancelled);
		if (x->withdrawal_to[0])
			printf(_("withdrawal queued for %s; its erasure receipt will show in the audit log\n"),
			       x->withdrawal_to);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return CLI_EXIT_OK;
}

/* An audit line as the JSON value the daemon wrote; a line that does not
 * parse (the daemon's to fix) is kept as a string rather than breaking the
 * document. New reference; NULL on ENOMEM. */
static json_t *s_audit_json(const char *line)
{
	json_t *v = json_loads(line, JSON_DECODE_ANY, NULL);

	return v ? v : out_json_str(line);
}

/* The end of a record's object: a dossier that does not unpack counts in
 * *bad (its object still shows the rest), a member that could not be built
 * drops the object. */
static json_t *s_detail_done(json_t *o, int r, int *bad)
{
	*bad |= r == -EBADMSG;
	return out_json_done(o, r == -ENOMEM);
}

static json_t *s_regsent_json(const Overstapctl__RegistrationSent *g)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "message_id", g->message_id);
	e |= out_json_set_str(o, "school", g->school);
	e |= out_json_set_str(o, "registered_on", g->registered_on);
	e |= out_json_set_time(o, "at", g->at);
	e |= out_json_set_str(o, "state", g->state);
	e |= out_json_set_str(o, "reason", g->reason);
	return out_json_done(o, e);
}

/* The evidence: everything the daemon returned, as it returned it. The
 * letter for the family (subject_out.c) is rendered from this object. */
static json_t *s_subject_json(const char *key, const Overstapctl__Subject *s, int *bad)
{
	json_t *o = json_object(), *sent = json_array(), *consents = json_array(),
	       *received = json_array(), *audit = json_array(), *regs = json_array(),
	       *peers = json_object();
	int e = 0;

	e |= out_json_set_str(o, "subject", key);
	e |= out_json_set_time(o, "generated_at", time_now_ms());
	e |= out_json_set_str(o, "institution", s->institution);
	e |= out_json_set_str(o, "institution_name", s->institution_name);
	for (size_t i = 0; i < s->n_peers; i++)
		e |= out_json_set_str(peers, s->peers[i]->id, s->peers[i]->name);
	e |= out_json_set(o, "peers", peers);
	for (size_t i = 0; i < s->n_sent; i++) {
		json_t *d = json_object();
		int r = handover_detail_show(d, s->sent[i]);

		e |= out_json_append(sent, s_detail_done(d, r, bad));
	}
	e |= out_json_set(o, "sent", sent);
	for (size_t i = 0; i < s->n_consents; i++)
		e |= out_json_append(consents, consent_row_json(s->consents[i]));
	e |= out_json_set(o, "consents", consents);
	for (size_t i = 0; i < s->n_received; i++) {
		json_t *d = json_object();
		int r = inbox_detail_show(d, s->received[i]);

		e |= out_json_append(received, s_detail_done(d, r, bad));
	}
	e |= out_json_set(o, "received", received);
	for (size_t i = 0; i < s->n_registrations; i++)
		e |= out_json_append(regs, s_regsent_json(s->registrations[i]));
	e |= out_json_set(o, "registrations", regs);
	{
		json_t *en = json_array();

		for (size_t i = 0; i < s->n_enrolments; i++) {
			const Overstapctl__EnrolmentInfo *w = s->enrolments[i];
			json_t *r = json_object();
			int x = 0;

			x |= out_json_set_int(r, "level", w->level);
			x |= out_json_set_str(r, "start_date", w->start_date);
			x |= out_json_set_str(r, "previous", w->previous);
			x |= out_json_set_str(r, "record_id", w->record_id);
			x |= out_json_set_time(r, "imported_at", w->imported_at);
			e |= out_json_append(en, out_json_done(r, x));
		}
		e |= out_json_set(o, "enrolments", en);
	}
	for (size_t i = 0; i < s->n_audit; i++)
		e |= out_json_append(audit, s_audit_json(s->audit[i]));
	e |= out_json_set(o, "audit", audit);
	return out_json_done(o, e);
}

static int s_subject_write(const char *format, FILE *f, const json_t *ev)
{
	if (strcmp(format, "html") == 0)
		return subject_write_html(f, ev);
	if (strcmp(format, "text") == 0)
		return subject_write_text(f, ev);
	if (json_dumpf(ev, f, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 || fputc('\n', f) == EOF)
		return -EIO;
	return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}

int cmd_subject(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	    { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' }, { "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },	    { 0 },
	};
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Show show = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep = NULL;
	const char *format = "text", *output = NULL;
	json_t *ev;
	FILE *f = stdout;
	int c, bad = 0, force = 0, r;

	while ((c = getopt_long(argc, argv, "jf:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': format = "json"; break;
		case 'f': format = optarg; break;
		case 'o': output = optarg; break;
		case 'F': force = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "give one pupil number, PGN or record id");
	if (strcmp(format, "text") != 0 && strcmp(format, "html") != 0 && strcmp(format, "json") != 0)
		return cli_usage_error(cli, "--format must be text, html or json");
	if (force && !output)
		return cli_usage_error(cli, "--force only goes with -o FILE");
	show.key = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_SUBJECT;
	req.subject = &show;
	/* the file first: a refused -o must not leave a subject.access entry
	 * for a report nobody got */
	if (output && !(f = out_create(output, force)))
		return CLI_EXIT_INPUT;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_SUBJECT, &rep);
	if (r != CLI_EXIT_OK) {
		if (output) {
			fclose(f);
			if (!force)
				unlink(output);
		}
		return r;
	}
	ev = s_subject_json(show.key, rep->subject, &bad);
	r = ev ? s_subject_write(format, f, ev) : -ENOMEM;
	json_decref(ev);
	if (output && fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0)
		fprintf(stderr, _("overstap: cannot write the subject report to %s: %s\n"),
			output ? output : "-", strerror(-r));
	else if (output)
		fprintf(stderr, _("wrote the %s subject report to %s\n"), format, output);
	if (bad)
		fputs(_("overstap: a dossier overstapd returned cannot be read\n"), stderr);
	overstapctl__reply__free_unpacked(rep, NULL);
	return r < 0 || bad ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}
