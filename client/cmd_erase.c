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
#include "util.h"

/* Erasure cannot be undone: a person at a terminal retypes the key, a script
 * says --yes. */
static int s_confirmed(const char *key)
{
	char line[128];

	if (!isatty(STDIN_FILENO))
		return 0;
	fprintf(stderr, "This destroys the personal data of %s for good and tells the receiving\n"
			"institution to erase what it holds under the pupil's consents.\n"
			"Type %s again to go ahead: ", key, key);
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
		fputs("overstap: not erased (confirm by retyping the key, or give --yes)\n", stderr);
		return CLI_EXIT_USAGE;
	}
	req.body_case = OVERSTAPCTL__REQUEST__BODY_ERASE;
	req.erase = &e;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_ERASED, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	x = rep->erased;
	if (x->received_dossier) {
		printf("erased received dossier %s and %u status/outcome row(s)\n", x->record_id,
		       x->events_deleted);
		if (x->enrolments_erased)
			printf("erased %u enrolment row(s) linked to it\n", x->enrolments_erased);
	} else if (x->enrolments_erased) {
		printf("erased %u enrolment row(s) of this student\n", x->enrolments_erased);
	} else {
		printf("erased %s: pupil key destroyed, %u consent(s) withdrawn, %u status/outcome "
		       "row(s) deleted, %u queued message(s) cancelled\n", e.key, x->consents_withdrawn,
		       x->events_deleted, x->messages_cancelled);
		if (x->withdrawal_to[0])
			printf("withdrawal queued for %s; its erasure receipt will show in the audit log\n",
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

static json_t *s_subject_json(const char *key, const Overstapctl__Subject *s, int *bad)
{
	char now[OUT_TIME_LEN];
	json_t *o = json_object(), *sent = json_array(), *consents = json_array(),
	       *received = json_array(), *audit = json_array();
	int e = 0;

	e |= out_json_set_str(o, "subject", key);
	e |= out_json_set_str(o, "generated_at", out_time(time_now_ms(), now, ""));
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
			x |= out_json_set_int(r, "imported_at", w->imported_at);
			e |= out_json_append(en, out_json_done(r, x));
		}
		e |= out_json_set(o, "enrolments", en);
	}
	for (size_t i = 0; i < s->n_audit; i++)
		e |= out_json_append(audit, s_audit_json(s->audit[i]));
	e |= out_json_set(o, "audit", audit);
	return out_json_done(o, e);
}

static void s_subject_text(const char *key, const Overstapctl__Subject *s, int *bad)
{
	char now[OUT_TIME_LEN];

	printf("SUBJECT ACCESS REPORT for %s, generated %s\n", key, out_time(time_now_ms(), now, ""));
	printf("Everything this institution holds on the pupil, decrypted.\n");
	for (size_t i = 0; i < s->n_sent; i++) {
		printf("\n=== leaver held at this school (%zu of %zu) ===\n", i + 1, s->n_sent);
		*bad |= handover_detail_show(NULL, s->sent[i]) < 0;
	}
	if (s->n_sent) {
		puts("\n=== consents, with their history ===");
		consent_rows_text(s->consents, s->n_consents, "  none recorded");
	}
	for (size_t i = 0; i < s->n_received; i++) {
		printf("\n=== dossier received (%zu of %zu) ===\n", i + 1, s->n_received);
		*bad |= inbox_detail_show(NULL, s->received[i]) < 0;
	}
	for (size_t i = 0; i < s->n_enrolments; i++) {
		const Overstapctl__EnrolmentInfo *w = s->enrolments[i];
		char t[OUT_TIME_LEN];

		printf("\n=== enrolment at this institution (%zu of %zu) ===\n", i + 1, s->n_enrolments);
		printf("  level: %u\n", w->level);
		out_field(stdout, "  ", "start date", w->start_date);
		out_field(stdout, "  ", "previous", w->previous[0] ? w->previous : "-");
		out_field(stdout, "  ", "dossier", w->record_id[0] ? w->record_id : "none received");
		out_field(stdout, "  ", "listed at", out_time(w->imported_at, t, "-"));
	}
	printf("\n=== audit trail: every disclosure, receipt, consent change and view (%zu) ===\n",
	       s->n_audit);
	for (size_t i = 0; i < s->n_audit; i++) {
		out_text(stdout, s->audit[i]);
		putchar('\n');
	}
}

int cmd_subject(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Show show = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep = NULL;
	int json, bad = 0, r;

	r = cli_json_only_options(cli, argc, argv, 1, &json);
	if (r >= 0)
		return r;
	show.key = argv[optind];
	req.body_case = OVERSTAPCTL__REQUEST__BODY_SUBJECT;
	req.subject = &show;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_SUBJECT, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	if (json) {
		json_t *o = s_subject_json(show.key, rep->subject, &bad);

		r = cli_json_print(&o);
	} else {
		s_subject_text(show.key, rep->subject, &bad);
	}
	if (bad)
		fputs("overstap: a dossier overstapd returned cannot be read\n", stderr);
	overstapctl__reply__free_unpacked(rep, NULL);
	return bad ? CLI_EXIT_REFUSED : r;
}
