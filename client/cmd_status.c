/* cmd_status: `overstap status` and `overstap peers`, the daemon's health. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

static json_t *s_rollover_json(const Overstapctl__PeerStatus *p)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_time(o, "until", p->rollover_until);
	e |= out_json_set(o, "old_keys_admitted", json_boolean(p->old_keys_admitted));
	e |= out_json_set(o, "seen_next_key", json_boolean(p->seen_next_key));
	return out_json_done(o, e);
}

static json_t *s_peer_json(const Overstapctl__PeerStatus *p)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "id", p->id);
	e |= out_json_set_str(o, "name", p->name);
	e |= out_json_set_str(o, "endpoint", p->endpoint);
	e |= out_json_set_str(o, "curve_fingerprint", p->curve_fingerprint);
	e |= out_json_set_str(o, "sign_fingerprint", p->sign_fingerprint);
	e |= out_json_set(o, "connected", json_boolean(p->connected));
	e |= out_json_set_time(o, "last_handshake", p->last_handshake);
	e |= out_json_set(o, "auth_failures", out_json_uint(p->auth_failures));
	e |= out_json_set(o, "outbox_depth", out_json_uint(p->outbox_depth));
	e |= out_json_set_int(o, "oldest_unacked_ms", p->oldest_unacked_ms);
	e |= out_json_set(o, "sent", out_json_uint(p->sent));
	e |= out_json_set(o, "acked", out_json_uint(p->acked));
	e |= out_json_set(o, "received", out_json_uint(p->received));
	e |= out_json_set(o, "rejected", out_json_uint(p->rejected));
	e |= out_json_set_int(o, "next_reconnect_ms", p->next_reconnect_ms);
	e |= out_json_set(o, "parked", out_json_uint(p->parked));
	e |= out_json_set(o, "peer_max_message_size", out_json_uint(p->peer_max_message_size));
	e |= out_json_set(o, "quota_messages", out_json_uint(p->quota_messages));
	e |= out_json_set(o, "quota_messages_max", out_json_uint(p->quota_messages_max));
	e |= out_json_set_int(o, "quota_stored_bytes", p->quota_stored_bytes);
	e |= out_json_set(o, "quota_stored_bytes_max", out_json_uint(p->quota_stored_bytes_max));
	e |= out_json_set(o, "quota_refused", out_json_uint(p->quota_refused));
	e |= out_json_set_int(o, "witness_seq", p->witness_seq);
	e |= out_json_set_time(o, "witness_at", p->witness_at);
	if (p->rollover_until)
		e |= out_json_set(o, "rollover", s_rollover_json(p));
	return out_json_done(o, e);
}

static json_t *s_peers_json(const Overstapctl__DaemonStatus *st)
{
	json_t *a = json_array();
	int e = 0;

	for (size_t i = 0; i < st->n_peers; i++)
		e |= out_json_append(a, s_peer_json(st->peers[i]));
	return out_json_done(a, e);
}

static json_t *s_spool_json(const Overstapctl__SpoolStatus *sp)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set_str(o, "dir", sp->dir);
	e |= out_json_set_str(o, "problem", sp->problem);
	e |= out_json_set_time(o, "last_at", sp->last_at);
	e |= out_json_set_str(o, "last_file", sp->last_file);
	e |= out_json_set_str(o, "last_outcome", sp->last_outcome);
	e |= out_json_set_str(o, "last_summary", sp->last_summary);
	e |= out_json_set(o, "done", out_json_uint(sp->done));
	e |= out_json_set(o, "failed", out_json_uint(sp->failed));
	return out_json_done(o, e);
}

/* The spool line of `status`: the last file handled, or why none can be. */
static void s_spool_text(const Overstapctl__SpoolStatus *sp)
{
	char when[OUT_TIME_LEN];

	out_field(stdout, "", _("spool"), sp->dir);
	if (sp->problem[0]) {
		fputs(_("  NOT READ: "), stdout);
		out_text(stdout, sp->problem);
		putchar('\n');
	}
	if (!sp->last_at) {
		puts(_("  no file handled since start"));
		return;
	}
	printf(_("  last run %s: "), out_time(sp->last_at, when, "-"));
	out_text(stdout, sp->last_file);
	printf(_(" %s: "), sp->last_outcome);
	out_text(stdout, sp->last_summary);
	printf(_("\n  since start: %u done, %u failed\n"), (unsigned)sp->done, (unsigned)sp->failed);
}

static json_t *s_status_json(const Overstapctl__DaemonStatus *st)
{
	json_t *o = json_object(), *reasons = json_array(), *rerr = json_array();
	int e = 0;

	e |= out_json_set_str(o, "institution", st->institution);
	e |= out_json_set_str(o, "curve_fingerprint", st->curve_fingerprint);
	e |= out_json_set_str(o, "sign_fingerprint", st->sign_fingerprint);
	e |= out_json_set_str(o, "listen", st->listen);
	e |= out_json_set_time(o, "started_at", st->started_at);
	e |= out_json_set_str(o, "version", st->version);
	e |= out_json_set(o, "peers", s_peers_json(st));
	e |= out_json_set(o, "rejected_total", out_json_uint(st->rejected_total));
	for (size_t i = 0; i < st->n_rejected_reasons; i++)
		e |= out_json_append(reasons, out_json_str(st->rejected_reasons[i]));
	e |= out_json_set(o, "rejected_reasons", reasons);
	e |= out_json_set(o, "inbox_total", out_json_uint(st->inbox_total));
	e |= out_json_set(o, "outbox_refused", out_json_uint(st->outbox_refused));
	e |= out_json_set(o, "connections", out_json_uint(st->connections));
	e |= out_json_set(o, "connections_refused", out_json_uint(st->connections_refused));
	e |= out_json_set_str(o, "store", st->store_damaged ? "damaged" : "ok");
	e |= out_json_set_str(o, "store_error", st->store_error);
	e |= out_json_set_str(o, "store_check", st->store_check);
	e |= out_json_set_time(o, "reloaded_at", st->reloaded_at);
	e |= out_json_set_time(o, "reload_failed_at", st->reload_failed_at);
	for (size_t i = 0; i < st->n_reload_errors; i++)
		e |= out_json_append(rerr, out_json_str(st->reload_errors[i]));
	e |= out_json_set(o, "reload_errors", rerr);
	if (st->spool)
		e |= out_json_set(o, "spool", s_spool_json(st->spool));
	return out_json_done(o, e);
}

static const char *s_endpoint(const Overstapctl__PeerStatus *p)
{
	return *p->endpoint ? p->endpoint : "(receive only)";
}

/* The wide per-peer table of `status`; `peers` shows its first five columns. */
static const struct table_col s_peer_cols[] = {
	{ N_("PEER"), 0 }, { N_("NAME"), 0 }, { N_("ENDPOINT"), 0 }, { N_("CONNECTED"), 0 },
	{ N_("LAST HANDSHAKE"), 0 }, { N_("AUTH FAIL"), 1 }, { N_("OUTBOX"), 1 },
	{ N_("OLDEST UNACKED"), 1 },
	{ N_("SENT"), 1 }, { N_("ACKED"), 1 }, { N_("RECEIVED"), 1 }, { N_("REJECTED"), 1 },
};
#define PEERS_SHORT_COLS 5

/* What needs an administrator's attention, one line per peer and matter. */
static void s_peer_notes(const Overstapctl__DaemonStatus *st)
{
	char when[OUT_TIME_LEN];

	for (size_t i = 0; i < st->n_peers; i++) {
		const Overstapctl__PeerStatus *p = st->peers[i];

		if (p->next_reconnect_ms > 0)
			printf(_("  %s: handshakes failing (wrong keys on either side?); next attempt "
			       "in %llds\n"), p->id, (long long)((p->next_reconnect_ms + 999) / 1000));
		if (p->parked)
			printf(ngettext("  %s: %llu message parked, not sent: `overstap outbox list`\n",
					"  %s: %llu messages parked, not sent: `overstap outbox list`\n",
					(unsigned long)p->parked),
			       p->id, (unsigned long long)p->parked);
		/* the other half of `audit verify`: how fresh the peer's copy is */
		if (p->witness_seq > 0) {
			char age[32];

			printf(_("  %s: witnesses our audit log up to entry %lld (%s ago)\n"), p->id,
			       (long long)p->witness_seq,
			       out_duration(time_now_ms() - p->witness_at, age, sizeof(age)));
		} else {
			printf(_("  %s: holds no copy of our audit log head yet\n"), p->id);
		}
		/* a quota line once it matters: refusals, or past half of a limit */
		if (p->quota_refused ||
		    (p->quota_messages_max && p->quota_messages * 2 >= p->quota_messages_max) ||
		    (p->quota_stored_bytes_max && p->quota_stored_bytes > 0 &&
		     (uint64_t)p->quota_stored_bytes * 2 >= p->quota_stored_bytes_max))
			printf(_("  %s: quota: %llu of %llu messages this hour, %lld of %llu bytes stored; "
			       "%llu refused since start\n"), p->id,
			       (unsigned long long)p->quota_messages,
			       (unsigned long long)p->quota_messages_max,
			       (long long)(p->quota_stored_bytes < 0 ? 0 : p->quota_stored_bytes),
			       (unsigned long long)p->quota_stored_bytes_max,
			       (unsigned long long)p->quota_refused);
		if (p->rollover_until)
			printf(_("  %s: key rollover until %s: old keys %s, new key %s\n"), p->id,
			       out_time(p->rollover_until, when, "-"),
			       p->old_keys_admitted ? "still admitted" : "refused",
			       p->seen_next_key ? "in use" : "not seen yet");
	}
}

static int s_peer_table(const Overstapctl__DaemonStatus *st, size_t ncols)
{
	struct table *t = table_new(s_peer_cols, ncols);
	int r = -ENOMEM;

	if (!t)
		return r;
	for (size_t i = 0; i < st->n_peers; i++) {
		const Overstapctl__PeerStatus *p = st->peers[i];
		const unsigned long long v[] = { p->auth_failures, p->outbox_depth, 0, p->sent,
						 p->acked, p->received, p->rejected };
		char hs[OUT_TIME_LEN], n[ARRAY_SIZE(v)][24];

		for (size_t c = 0; c < ARRAY_SIZE(v); c++)
			snprintf(n[c], sizeof(n[c]), "%llu", v[c]);
		/* an age, not a count: seconds, or "-" when nothing waits */
		if (p->oldest_unacked_ms > 0)
			snprintf(n[2], sizeof(n[2]), "%llds", (long long)(p->oldest_unacked_ms / 1000));
		else
			snprintf(n[2], sizeof(n[2]), "-");
		const char *cells[] = { p->id, p->name, s_endpoint(p), p->connected ? "yes" : "no",
					out_time(p->last_handshake, hs, "never"),
					n[0], n[1], n[2], n[3], n[4], n[5], n[6] };
		r = table_add(t, cells);
		if (r < 0)
			goto out;
	}
	if (st->n_peers == 0)
		puts(_("no peers configured"));
	else
		table_print(t, stdout);
	if (ncols > PEERS_SHORT_COLS)
		s_peer_notes(st);
	r = 0;
out:
	table_free(&t);
	return r;
}

static int s_status_text(const Overstapctl__DaemonStatus *st)
{
	char since[OUT_TIME_LEN], up[32], line[256];

	out_field(stdout, "", _("institution"), st->institution);
	out_field(stdout, "", _("listen"), st->listen);
	out_field(stdout, "", _("version"), st->version);
	if (st->started_at > 0) {
		snprintf(line, sizeof(line), _("%s (since %s)"),
			 out_duration(time_now_ms() - st->started_at, up, sizeof(up)),
			 out_time(st->started_at, since, "-"));
		out_field(stdout, "", _("uptime"), line);
	}
	snprintf(line, sizeof(line), ngettext("%llu dossier received", "%llu dossiers received",
					      (unsigned long)st->inbox_total),
		 (unsigned long long)st->inbox_total);
	out_field(stdout, "", _("inbox"), line);
	if (st->reload_failed_at) {
		/* the administrator's edit did not take: say so before anything else */
		snprintf(line, sizeof(line),
			 st->reloaded_at ? _("FAILED at %s; still running the configuration reloaded at %s")
					 : _("FAILED at %s; still running the configuration it started with at %s"),
			 out_time(st->reload_failed_at, since, "-"),
			 out_time(st->reloaded_at ? st->reloaded_at : st->started_at, up, "-"));
		out_field(stdout, "", _("reload"), line);
		for (size_t i = 0; i < st->n_reload_errors; i++) {
			fputs("  ", stdout);
			out_text(stdout, st->reload_errors[i]);
			putchar('\n');
		}
	} else if (st->reloaded_at) {
		out_field(stdout, "", _("reload"), out_time(st->reloaded_at, since, "-"));
	}
	if (st->outbox_refused) {
		/* only here and in the daemon's log otherwise: staff must see it */
		snprintf(line, sizeof(line),
			 ngettext("%llu message refused by the receiver (overstap outbox list --refused)",
				  "%llu messages refused by the receiver (overstap outbox list --refused)",
				  (unsigned long)st->outbox_refused),
			 (unsigned long long)st->outbox_refused);
		out_field(stdout, "", _("refused"), line);
	}
	out_field(stdout, "", _("store"), st->store_damaged ? _("DAMAGED: writes are refused")
			 : strcmp(st->store_check, "running") == 0 ? _("ok (quick_check still running)")
			 : _("ok"));
	if (st->store_damaged) {
		fputs("  ", stdout);
		out_text(stdout, st->store_error);
		fputs(_("\n  restore the last backup: overstapd(8), RESTORING FROM A BACKUP\n"), stdout);
	}
	if (st->spool)
		s_spool_text(st->spool);
	putchar('\n');
	if (s_peer_table(st, ARRAY_SIZE(s_peer_cols)) < 0)
		return -ENOMEM;
	printf(_("\nincoming connections: %llu open, %llu refused\n"), (unsigned long long)st->connections,
	       (unsigned long long)st->connections_refused);
	printf(_("rejected messages: %llu\n"), (unsigned long long)st->rejected_total);
	for (size_t i = 0; i < st->n_rejected_reasons; i++) {
		fputs("  ", stdout);
		out_text(stdout, st->rejected_reasons[i]);
		putchar('\n');
	}
	return 0;
}

/* status and peers send the same kind of request; only the output differs. */
static int s_run(struct cli *cli, int argc, char **argv, int peers)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty empty = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__DaemonStatus *st;
	int json, r;

	r = cli_json_only_options(cli, argc, argv, 0, &json);
	if (r >= 0)
		return r;
	req.body_case = peers ? OVERSTAPCTL__REQUEST__BODY_PEERS : OVERSTAPCTL__REQUEST__BODY_STATUS;
	req.status = &empty;	/* same union slot as req.peers */
	r = cli_request(cli, &req, peers ? OVERSTAPCTL__REPLY__BODY_PEERS :
			OVERSTAPCTL__REPLY__BODY_STATUS, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	st = peers ? rep->peers : rep->status;
	if (json) {
		json_t *o = peers ? s_peers_json(st) : s_status_json(st);

		r = cli_json_print(&o);
	} else if ((peers ? s_peer_table(st, PEERS_SHORT_COLS) : s_status_text(st)) < 0) {
		fputs(_("overstap: out of memory\n"), stderr);
		r = CLI_EXIT_REFUSED;
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_status(struct cli *cli, int argc, char **argv) { return s_run(cli, argc, argv, 0); }

int cmd_peers(struct cli *cli, int argc, char **argv) { return s_run(cli, argc, argv, 1); }

/* `overstap whoami`: who the daemon takes you to be (the kernel's word, not
 * the login you think you have) and the rights your groups give you there. */
int cmd_whoami(struct cli *cli, int argc, char **argv)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__Empty empty = OVERSTAPCTL__EMPTY__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__Whoami *w;
	int json, r;

	r = cli_json_only_options(cli, argc, argv, 0, &json);
	if (r >= 0)
		return r;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_WHOAMI;
	req.whoami = &empty;
	r = cli_request(cli, &req, OVERSTAPCTL__REPLY__BODY_WHOAMI, &rep);
	if (r != CLI_EXIT_OK)
		return r;
	w = rep->whoami;
	if (json) {
		json_t *o = json_pack("{s:s, s:[]}", "user", w->user, "rights");

		for (size_t i = 0; o && i < w->n_rights; i++)
			json_array_append_new(json_object_get(o, "rights"), json_string(w->rights[i]));
		if (o && w->via[0])
			json_object_set_new(o, "via", json_string(w->via));
		r = cli_json_print(&o);
	} else {
		fputs("user    ", stdout);
		out_text(stdout, w->user);
		if (w->via[0]) {
			fputs(" (via ", stdout);
			out_text(stdout, w->via);
			fputc(')', stdout);
		}
		fputs("\nrights  ", stdout);
		for (size_t i = 0; i < w->n_rights; i++)
			printf("%s%s", i ? " " : "", w->rights[i]);
		fputs(w->n_rights ? "\n" : "(none)\n", stdout);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}
