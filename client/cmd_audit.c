/* cmd_audit: `overstap audit verify|export`, the privacy officer's view of the
 * audit log (design.md §5). The daemon holds the chain's key; the CLI asks it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

static json_t *s_incidents_json(const Overstapctl__AuditVerifyResult *v)
{
	json_t *a = json_array();
	int e = 0;

	for (size_t i = 0; i < v->n_incidents; i++) {
		const Overstapctl__Incident *x = v->incidents[i];
		json_t *o = json_object();
		int eo = 0;

		eo |= out_json_set_int(o, "id", x->id);
		eo |= out_json_set_str(o, "peer", x->peer);
		eo |= out_json_set_str(o, "kind", x->kind);
		eo |= out_json_set_int(o, "seq", x->seq);
		eo |= out_json_set_str(o, "reason", x->reason);
		eo |= out_json_set_time(o, "at", x->at);
		e |= out_json_append(a, out_json_done(o, eo));
	}
	return e ? (json_decref(a), NULL) : a;
}

/* Open incidents, one line each, and the way out. */
static void s_incidents_text(const Overstapctl__AuditVerifyResult *v)
{
	char t[OUT_TIME_LEN];

	for (size_t i = 0; i < v->n_incidents; i++) {
		const Overstapctl__Incident *x = v->incidents[i];

		printf(_("incident %lld, found %s, peer %s: "), (long long)x->id,
		       out_time(x->at, t, "-"), x->peer);
		out_text(stdout, x->reason);
		putchar('\n');
	}
	if (v->n_incidents)
		puts(_("each stays until acknowledged: overstap audit ack-incident ID --note TEXT"));
}

static json_t *s_verify_json(const Overstapctl__AuditVerifyResult *v)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set(o, "intact", json_boolean(v->intact));
	e |= out_json_set_int(o, "entries", v->entries);
	e |= out_json_set_int(o, "first_bad_seq", v->first_bad_seq);
	e |= out_json_set_str(o, "reason", v->reason);
	e |= out_json_set_str(o, "head_mac", v->head_mac);
	e |= out_json_set_int(o, "checkpoints", v->checkpoints);
	e |= out_json_set_str(o, "checkpoint_peer", v->checkpoint_peer);
	e |= out_json_set(o, "incidents", s_incidents_json(v));
	return out_json_done(o, e);
}

int cmd_audit_verify(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty empty = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__AuditVerifyResult *v;
	int json, r;

	r = cli_json_only_options(cli, argc, argv, 0, &json);
	if (r >= 0)
		return r;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_AUDIT_VERIFY;
	req.audit_verify = &empty;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_AUDIT_VERIFY, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	v = rep->audit_verify;
	/* A broken chain is the answer a privacy officer must not miss in a script. */
	r = v->intact ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	if (json) {
		json_t *o = s_verify_json(v);

		if (cli_json_print(&o) != CLI_EXIT_OK)
			r = CLI_EXIT_REFUSED;
	} else if (v->intact) {
		printf(_("audit log intact: %lld entries, head %s\n"), (long long)v->entries,
		       v->head_mac);
		printf(ngettext("matches the %u checkpoint our peers hold of it\n",
				"matches the %u checkpoints our peers hold of it\n", v->checkpoints),
		       v->checkpoints);
	} else if (v->first_bad_seq) {
		printf(_("audit log BROKEN at entry %lld: "), (long long)v->first_bad_seq);
		out_text(stdout, v->reason);
		putchar('\n');
		s_incidents_text(v);
	} else {
		printf(_("audit log chain intact (%lld entries, head %s), but "), (long long)v->entries,
		       v->head_mac);
		out_text(stdout, v->reason);
		putchar('\n');
		s_incidents_text(v);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

/* Page through the log from `from`, writing each JSON line to f. */
static int s_export(struct cli *cli, int64_t from, FILE *f, int64_t *n)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__AuditQuery q = OVERSTAPCTL__AUDIT_QUERY__INIT;
	int r = CLI_EXIT_OK;

	req.body_case = OVERSTAPCTL__REQUEST__BODY_AUDIT_EXPORT;
	req.audit_export = &q;
	q.from_seq = from;
	while (r == CLI_EXIT_OK && q.from_seq > 0) {
		Overstapctl__Reply *rep = NULL;

		r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_AUDIT_ENTRIES, &rep);
		if (r != CLI_EXIT_OK)
			break;
		for (size_t i = 0; i < rep->audit_entries->n_lines; i++)
			fprintf(f, "%s\n", rep->audit_entries->lines[i]);
		*n += (int64_t)rep->audit_entries->n_lines;
		q.from_seq = rep->audit_entries->next_seq;
		overstapctl__reply__free_unpacked(rep, NULL);
	}
	return r;
}

int cmd_audit_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL;
	char *end = NULL;
	long long from = 1;
	int64_t n = 0;
	FILE *f = stdout;
	int c, r, force = 0;

	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = strtoll(optarg, &end, 10);
			if (!*optarg || *end || from < 1)
				return cli_usage_error(cli, "--from must be an entry number from 1");
			break;
		case 'o': path = optarg; break;
		case 'F': force = 1; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (force && !path)
		return cli_usage_error(cli, "--force only goes with -o FILE");
	if (path && !(f = out_create(path, force)))
		return CLI_EXIT_INPUT;
	r = s_export(cli, from, f, &n);
	if (path) {
		if (fclose(f) != 0 && r == CLI_EXIT_OK) {
			fprintf(stderr, _("overstap: %s: %s\n"), path, strerror(errno));
			r = CLI_EXIT_REFUSED;
		}
		if (r == CLI_EXIT_OK)
			fprintf(stderr, _("overstap: wrote %lld audit entries to %s\n"), (long long)n, path);
	}
	return r;
}

int cmd_audit_ack_incident(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "note", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__AckIncident a = OVERSTAPCTL__ACK_INCIDENT__INIT;
	Overstapctl__Reply *rep = NULL;
	char *end = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': a.note = optarg; break;
		case 'h': cli_help(cli, stdout); return CLI_EXIT_OK;
		default: return cli_usage_hint(cli);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(cli, "give one incident id (overstap audit verify lists them)");
	a.id = strtoll(argv[optind], &end, 10);
	if (!*argv[optind] || *end || a.id < 1)
		return cli_usage_error(cli, "'%s' is not an incident id", argv[optind]);
	req.body_case = OVERSTAPCTL__REQUEST__BODY_ACK_INCIDENT;
	req.ack_incident = &a;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_MARKED, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	printf(_("incident %lld acknowledged\n"), (long long)a.id);
	overstapctl__reply__free_unpacked(rep, NULL);
	return CLI_EXIT_OK;
}
