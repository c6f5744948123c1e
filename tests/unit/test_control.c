/* Unit tests for the control socket's handlers (control*.c), driven through
 * ctl_dispatch() as the socket loop would, against a real store and keys in a
 * temporary directory: what a user of the CLI sees (codes, bodies, counts,
 * error texts) and what the store holds afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "control_int.h"
#include "ctl_fixture.h"
#include "envelope.h"
#include "keys.h"
#include "leavers.h"
#include "import.h"
#include "store.h"

#define SCHOOL "99ZZ00"		/* us */
#define MBO "12AB00"		/* a peer with an endpoint: L001 and L004 go there */
#define RECV_ONLY "34CD01"	/* a peer without one: L002 goes there */

struct fx {
	char dir[64];
	struct keys keys;
	struct peer_cfg peers[2];
	struct config cfg;
	struct store *s;
	struct hctx h;
	struct net net;			/* zeroed: no peers, nothing bound */
	struct ctl_env env;
	struct peer_cred cred;		/* this process, as the kernel would tell it */
	Overstapctl__Reply rep;
	struct req_ctx c;		/* of the last request, freed by the next one */
	Overstapctl__Leaver **rows;	/* leavers_good.csv, parsed as the CLI does */
	size_t n_rows;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ctl_fixture_open(f->dir, "/tmp/test_control.XXXXXX", &f->keys, &f->s);

	strcpy(f->cfg.institution_id, SCHOOL);
	strcpy(f->cfg.institution_name, "Test school");
	strcpy(f->cfg.policy_handover, "statute");
	strcpy(f->peers[0].id, MBO);
	strcpy(f->peers[0].endpoint, "tcp://127.0.0.1:7470");
	strcpy(f->peers[1].id, RECV_ONLY);	/* receive only: no endpoint */
	f->cfg.peers = f->peers;
	f->cfg.n_peers = 2;

	ctl_fixture_wire(&f->h, &f->env, &f->cred, f->s, &f->cfg, &f->keys, &f->net, 1700000000000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctl_req_done(&f->c);
	leavers_free(&f->rows, f->n_rows);
	import_sessions_clear(&f->h);
	ctl_fixture_close(f->dir, &f->keys, &f->s);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* The name the daemon records for this process: what the kernel says. */
static const char *s_me(void)
{
	static char name[64];
	const struct passwd *pw = getpwuid(getuid());

	if (pw)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid:%lu", (unsigned long)getuid());
	return name;
}

static void s_req(Overstapctl__Request *req, Overstapctl__Request__BodyCase body)
{
	overstapctl__request__init(req);
	req->version = OVERSTAPCTL__VERSION__CURRENT;
	req->user = "mentor1";
	req->body_case = body;
}

struct last_entry {
	char *actor, *action, *detail;
};

static int s_last_cb(const struct audit_entry *e, void *arg)
{
	struct last_entry *le = arg;

	free(le->actor);
	free(le->action);
	free(le->detail);
	le->actor = strdup(e->actor);
	le->action = strdup(e->action);
	le->detail = strdup(e->detail);
	return 0;
}

static void s_last_free(struct last_entry *le)
{
	free(le->actor);
	free(le->action);
	free(le->detail);
	memset(le, 0, sizeof(*le));
}

/* Run req as the socket loop does; the reply lives until the next call. */
static Overstapctl__Reply *s_call(struct fx *f, const Overstapctl__Request *req)
{
	ctl_req_done(&f->c);
	overstapctl__reply__init(&f->rep);
	f->rep.version = OVERSTAPCTL__VERSION__CURRENT;
	f->c = (struct req_ctx){ .h = &f->h, .env = &f->env, .cred = &f->cred, .req = req, .rep = &f->rep };
	ctl_dispatch(&f->c);
	return &f->rep;
}

static char *s_read_data(const char *name, size_t *len)
{
	const char *dir = getenv("OVERSTAP_TEST_DATA");
	char path[512];
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* leavers_good.csv as the CLI sends it. */
static Overstapctl__Reply *s_import_good(struct fx *f)
{
	Overstapctl__Request req;
	Overstapctl__ImportLeavers im = OVERSTAPCTL__IMPORT_LEAVERS__INIT;
	struct strlist errors = { 0 };
	size_t len;
	char *data = s_read_data("leavers_good.csv", &len);

	if (!f->rows)
		assert_int_equal(leavers_parse_buffer("leavers_good.csv", data, len, &f->rows,
						      &f->n_rows, &errors, NULL, NULL), 0);
	free(data);
	assert_int_equal(errors.n, 0);
	assert_int_equal(f->n_rows, 4);
	im.file = "leavers_good.csv";
	im.n_leavers = f->n_rows;
	im.leavers = f->rows;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS);
	req.import_leavers = &im;
	/* the reply keeps nothing of req: the pool holds its strings */
	return s_call(f, &req);
}

static int s_has(char **v, size_t n, const char *want)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], want) == 0)
			return 1;
	return 0;
}

static int s_has_prefix(char **v, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

static Overstapctl__Reply *s_marked(struct fx *f, Overstapctl__Request__BodyCase body, const char *ref)
{
	Overstapctl__Request req;
	Overstapctl__MarkRegistered m = OVERSTAPCTL__MARK_REGISTERED__INIT;
	Overstapctl__RecordInzage z = OVERSTAPCTL__RECORD_INZAGE__INIT;
	char *refs[1] = { (char *)ref };

	s_req(&req, body);
	if (body == OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED) {
		m.n_pupil_refs = 1;
		m.pupil_refs = refs;
		req.mark_registered = &m;
	} else {
		z.n_pupil_refs = 1;
		z.pupil_refs = refs;
		z.reviewer = "pupil";	/* every pupil in the file is 16 or over by now */
		z.agrees = "yes";
		req.inzage = &z;
	}
	return s_call(f, &req);
}

static Overstapctl__Reply *s_send(struct fx *f, const char *ref)
{
	Overstapctl__Request req;
	Overstapctl__SendHandovers sh = OVERSTAPCTL__SEND_HANDOVERS__INIT;
	char *refs[1] = { (char *)ref };

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_SEND);
	sh.n_pupil_refs = 1;
	sh.pupil_refs = refs;
	req.send = &sh;
	return s_call(f, &req);
}

/* The one refusal of a one-pupil send. */
static const char *s_refused(struct fx *f, const char *ref)
{
	Overstapctl__Reply *rep = s_send(f, ref);

	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_SEND_RESULT);
	assert_int_equal(rep->send_result->n_queued, 0);
	assert_int_equal(rep->send_result->n_refused, 1);
	return rep->send_result->refused[0];
}

static size_t s_outbox_n(struct fx *f, const char *peer)
{
	struct outbox_msg *m = NULL;
	size_t n = 0;

	assert_int_equal(store_outbox_pending(f->s, peer, "", 100, &m, &n), 0);
	for (size_t i = 0; i < n; i++)
		free(m[i].packed);
	free(m);
	return n;
}

static Overstapctl__Reply *s_list(struct fx *f, const char *state)
{
	Overstapctl__Request req;
	Overstapctl__ListFilter lf = OVERSTAPCTL__LIST_FILTER__INIT;

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_HANDOVER_LIST);
	lf.state = (char *)state;
	req.handover_list = &lf;
	return s_call(f, &req);
}

/* ---- version, body, user ---- */

static void test_wrong_version(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__Reply *rep;

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_STATUS);
	req.version = 2;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, -EPROTO);
	assert_string_equal(rep->error, "control protocol version 2 not supported (daemon speaks 1)");
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY__NOT_SET);
}

static void test_unknown_body(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__Reply *rep;

	s_req(&req, OVERSTAPCTL__REQUEST__BODY__NOT_SET);	/* a newer CLI's body unpacks as none */
	rep = s_call(f, &req);
	assert_int_equal(rep->code, -ENOTSUP);
	assert_string_equal(rep->error, "request not supported by this daemon");
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY__NOT_SET);
}

/* The user a request names is not who sent it: whatever it claims (a
 * colleague, root, nonsense, nothing), the audit log gets the kernel's word
 * (design.md §4.9). */
static void test_identity_from_kernel(void **state)
{
	struct fx *f = *state;
	static const char *claims[] = { "", "mentor1", "root", "two words", "del\x7f" };
	Overstapctl__Request req;
	Overstapctl__Reply *rep;
	struct last_entry le = { 0 };

	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		Overstapctl__ReportQuery q = OVERSTAPCTL__REPORT_QUERY__INIT;

		s_req(&req, OVERSTAPCTL__REQUEST__BODY_REPORT);
		req.user = (char *)claims[i];
		req.report = &q;
		rep = s_call(f, &req);
		assert_int_equal(rep->code, 0);
		assert_int_equal(audit_each(store_audit_peek(f->s), 1, s_last_cb, &le), 0);
		assert_string_equal(le.action, "report.generated");
		assert_string_equal(le.actor, s_me());
		s_last_free(&le);
	}
	/* without the kernel's word nothing runs */
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_STATUS);
	f->cred.uid = getuid();
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	ctl_req_done(&f->c);
	overstapctl__reply__init(&f->rep);
	f->c = (struct req_ctx){ .h = &f->h, .env = &f->env, .req = &req, .rep = &f->rep };
	ctl_dispatch(&f->c);
	assert_int_equal(f->rep.code, -EACCES);
	assert_string_equal(f->rep.error, "the caller's identity is not known");
}

struct count_entry {
	const char *action;
	unsigned n;
	char *last_detail;
};

static int s_count_cb(const struct audit_entry *e, void *arg)
{
	struct count_entry *ce = arg;

	if (strcmp(e->action, ce->action) == 0) {
		ce->n++;
		free(ce->last_detail);
		ce->last_detail = strdup(e->detail);
	}
	return 0;
}

static unsigned s_count(struct fx *f, const char *action, char **detail)
{
	struct count_entry ce = { .action = action };

	assert_int_equal(audit_each(store_audit_peek(f->s), 1, s_count_cb, &ce), 0);
	if (detail)
		*detail = ce.last_detail;
	else
		free(ce.last_detail);
	return ce.n;
}

/* A member of the socket's group without the right loops on a command: each
 * is refused, but only the first few of a minute are audited one by one
 * (before, every one was an audit row and an fsync: the log grew without
 * bound and the loop spent its time in them). The rest are one counted
 * entry when the minute ends, or at shutdown. */
static void test_refusal_flood_is_counted(void **state)
{
	struct fx *f = *state;
	struct ctl_refused refused;
	Overstapctl__Request req;
	Overstapctl__Reply *rep;
	char *detail = NULL;

	memset(&refused, 0, sizeof(refused));
	f->env.refused = &refused;
	f->cred = (struct peer_cred){ .uid = 65534, .gid = 65534, .pid = getpid(),
				      .groups_known = 1 };
	for (int i = 0; i < 200; i++) {
		s_req(&req, OVERSTAPCTL__REQUEST__BODY_STATUS);
		rep = s_call(f, &req);
		assert_int_equal(rep->code, -EACCES);	/* every one refused, and told why */
		assert_non_null(strstr(rep->error, "needs the right read"));
	}
	assert_int_equal(s_count(f, "control.refused", NULL), CTL_REFUSED_AUDITED);
	/* the minute has not ended: nothing counted is written yet */
	assert_int_equal(control_refused_flush(&f->h, &refused, time_now_ms()), 0);
	assert_int_equal(s_count(f, "control.refused_counted", NULL), 0);
	/* it has now */
	assert_int_equal(control_refused_flush(&f->h, &refused,
					       time_now_ms() + CTL_REFUSED_WINDOW_MS), 0);
	assert_int_equal(s_count(f, "control.refused_counted", &detail), 1);
	assert_non_null(strstr(detail, "\"count\":190,"));
	free(detail);
	/* a new minute audits one by one again */
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_STATUS);
	rep = s_call(f, &req);
	assert_int_equal(rep->code, -EACCES);
	assert_int_equal(s_count(f, "control.refused", NULL), CTL_REFUSED_AUDITED + 1);
	assert_int_equal(control_refused_flush(&f->h, &refused, INT64_MAX), 0);
	assert_int_equal(s_count(f, "control.refused_counted", NULL), 1);	/* none beyond */
	f->env.refused = NULL;
}

/* ---- status ---- */

static void test_status_no_peers(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__Reply *rep;

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_STATUS);
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_string_equal(rep->error, "");
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_STATUS);
	assert_string_equal(rep->status->institution, SCHOOL);
	assert_string_equal(rep->status->version, OVERSTAP_VERSION);
	assert_int_equal(rep->status->started_at, 1700000000000);
	assert_int_equal(rep->status->n_peers, 0);
	assert_int_equal(rep->status->n_rejected_reasons, 0);
	assert_int_equal(rep->status->inbox_total, 0);

	/* `overstap peers` answers the same view in its own body */
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_PEERS);
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_PEERS);
	assert_int_equal(rep->peers->n_peers, 0);
}

static void test_status_fake_peer(void **state)
{
	struct fx *f = *state;
	struct peer p;
	Overstapctl__Request req;
	Overstapctl__Reply *rep;
	Overstapctl__PeerStatus *ps;

	memset(&p, 0, sizeof(p));
	p.cfg = f->peers[0];
	strcpy(p.cfg.name, "ROC Test");
	p.connected = 1;
	p.last_handshake = 1700000001000;
	p.auth_failures = 2;
	p.sent = 7;
	p.acked = 5;
	p.received = 3;
	p.rejected = 1;
	p.depth = 2;
	f->net.peers = &p;
	f->net.n_peers = 1;
	f->net.rejected_total = 4;
	f->net.rejects[0] = (struct reject_count){ "bad signature", 4 };
	strcpy(f->net.bound, "tcp://127.0.0.1:7471");

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_STATUS);
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_string_equal(rep->status->listen, "tcp://127.0.0.1:7471");
	assert_int_equal(rep->status->rejected_total, 4);
	assert_int_equal(rep->status->n_rejected_reasons, 1);
	assert_string_equal(rep->status->rejected_reasons[0], "bad signature: 4");
	assert_int_equal(rep->status->n_peers, 1);
	ps = rep->status->peers[0];
	assert_string_equal(ps->id, MBO);
	assert_string_equal(ps->name, "ROC Test");
	assert_string_equal(ps->endpoint, "tcp://127.0.0.1:7470");
	assert_true(ps->connected);
	assert_int_equal(ps->last_handshake, 1700000001000);
	assert_int_equal(ps->auth_failures, 2);
	assert_int_equal(ps->sent, 7);
	assert_int_equal(ps->acked, 5);
	assert_int_equal(ps->received, 3);
	assert_int_equal(ps->rejected, 1);
	assert_int_equal(ps->outbox_depth, 2);
	assert_int_equal(ps->oldest_unacked_ms, 0);	/* nothing in the store's outbox */
	assert_int_equal(ps->next_reconnect_ms, 0);
	f->net.peers = NULL;	/* on this stack frame */
	f->net.n_peers = 0;
}

/* ---- import ---- */

static void test_import_good_then_again(void **state)
{
	struct fx *f = *state;
	Overstapctl__Reply *rep = s_import_good(f);
	Overstapctl__ImportResult *res;

	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT);
	assert_int_equal(rep->import_result->imported, 4);
	assert_int_equal(rep->import_result->n_errors, 0);
	rep = s_list(f, "");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->handover_list->n_rows, 4);

	/* The same file again: cumulative (design.md §8.5), nothing changes,
	 * nothing is refused, and the reply counts the rows as unchanged. */
	rep = s_import_good(f);
	assert_int_equal(rep->code, 0);
	res = rep->import_result;
	assert_int_equal(res->imported, 0);
	assert_int_equal(res->n_errors, 0);
	assert_int_equal(res->added, 0);
	assert_int_equal(res->unchanged, 4);
	assert_int_equal(s_list(f, "")->handover_list->n_rows, 4);
}

static Overstapctl__Leaver *s_leaver(unsigned line, const char *ref, const char *pgn, const char *program,
				     const char *dest_type, const char *inst, const char *needs)
{
	Overstapctl__Leaver *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	overstapctl__leaver__init(l);
	l->line = line;
	l->pupil_ref = (char *)ref;
	l->pgn = (char *)pgn;
	l->given_name = pgn[0] ? "Eva" : "";
	l->family_name = pgn[0] ? "Smit" : "";
	l->birth_date = "2008-05-01";
	l->program = (char *)program;
	l->cohort = "2024-2025";
	l->exit_date = "2025-06-30";
	l->destination_type = (char *)dest_type;
	l->destination_institution = (char *)inst;
	l->support_needs = (char *)needs;
	return l;
}

/* Rows of leavers_bad.csv as a client that skipped validation would send
 * them (the CLI's parser refuses the whole file first): the daemon checks
 * every row again and stores nothing, not even the good one. */
static void test_import_bad(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__ImportLeavers im = OVERSTAPCTL__IMPORT_LEAVERS__INIT;
	Overstapctl__Leaver *rows[5] = {
		s_leaver(2, "B001", "123456782", "vso_arbeid", "mbo_entree", MBO, ""),
		s_leaver(3, "B002", "123456789", "vmbo_x", "mbo_2", "", ""),
		s_leaver(10, "B006", "", "pro", "mbo_entree", "12ab00", ""),
		s_leaver(11, "B007", "", "pro", "work", "", "extra_time;diagnosis:adhd"),
		s_leaver(12, "B008", "123456782", "pro", "mbo_2", "56EF00", ""),
	};
	Overstapctl__ImportResult *res;
	Overstapctl__Reply *rep;

	im.file = "leavers_bad.csv";
	im.n_leavers = 5;
	im.leavers = rows;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS);
	req.import_leavers = &im;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT);
	res = rep->import_result;
	assert_int_equal(res->imported, 0);
	assert_true(res->n_errors >= 4);
	assert_true(s_has_prefix(res->errors, res->n_errors, "leavers_bad.csv:3: program: "));
	assert_true(s_has_prefix(res->errors, res->n_errors, "leavers_bad.csv:3: pgn: "));
	assert_true(s_has_prefix(res->errors, res->n_errors, "leavers_bad.csv:10: destination_institution: "));
	assert_true(s_has_prefix(res->errors, res->n_errors, "leavers_bad.csv:11: support_needs: "));
	/* valid, but the destination is not one of our peers: a warning, not an
	 * error (the row would be imported, unsendable until it is one) */
	assert_false(s_has_prefix(res->errors, res->n_errors, "leavers_bad.csv:12:"));
	assert_int_equal(res->n_warnings, 1);
	assert_true(s_has(res->warnings, res->n_warnings,
			  "leavers_bad.csv:12: destination_institution: 56EF00 is not a configured"
			  " peer (yet): 1 row imported, not sendable until it is"));
	assert_int_equal(res->refused, 3);
	assert_false(s_has_prefix(res->errors, res->n_errors, "leavers_bad.csv:2:"));
	for (size_t i = 0; i < 5; i++)
		free(rows[i]);
	rep = s_list(f, "");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->handover_list->n_rows, 0);
}

/* ---- the send gate ---- */

static void test_send_gate(void **state)
{
	struct fx *f = *state;
	Overstapctl__Reply *rep;
	struct leaver l = { 0 };

	assert_int_equal(s_import_good(f)->code, 0);

	assert_string_equal(s_refused(f, "L001"),
			    "L001: not registered at the destination yet (no selection at the gate: "
			    "record it with 'overstap handover registered')");
	rep = s_marked(f, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, "L001");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->marked->imported, 1);
	assert_string_equal(s_refused(f, "L001"), "L001: no inzage recorded yet ('overstap handover inzage')");

	/* L002 goes to a peer we only receive from */
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, "L002")->marked->imported, 1);
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_INZAGE, "L002")->marked->imported, 1);
	assert_string_equal(s_refused(f, "L002"),
			    "L002: the destination is not a configured peer with an endpoint");
	/* L004's destination was a peer at import and has been removed since */
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, "L004")->marked->imported, 1);
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_INZAGE, "L004")->marked->imported, 1);
	f->cfg.peers = &f->peers[1];
	f->cfg.n_peers = 1;
	assert_string_equal(s_refused(f, "L004"),
			    "L004: the destination is not a configured peer with an endpoint");
	f->cfg.peers = f->peers;
	f->cfg.n_peers = 2;
	/* L003 has no destination at all */
	assert_string_equal(s_refused(f, "L003"), "L003: no destination institution");
	assert_string_equal(s_refused(f, "L999"), "L999: no such pupil");
	assert_int_equal(f->h.outbox_dirty, 0);
	assert_int_equal(s_outbox_n(f, MBO) + s_outbox_n(f, RECV_ONLY), 0);

	/* registration: an unknown pupil and a date in the future are refused */
	rep = s_marked(f, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, "L999");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->marked->imported, 0);
	assert_int_equal(rep->marked->n_errors, 1);
	assert_string_equal(rep->marked->errors[0], "L999: no such pupil");
	{
		Overstapctl__Request req;
		Overstapctl__MarkRegistered m = OVERSTAPCTL__MARK_REGISTERED__INIT;
		char *refs[1] = { "L003" };

		s_req(&req, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED);
		m.n_pupil_refs = 1;
		m.pupil_refs = refs;
		m.date = "2999-01-01";
		req.mark_registered = &m;
		rep = s_call(f, &req);
		assert_int_equal(rep->code, -EINVAL);
		assert_string_equal(rep->error, "date 2999-01-01 is not a valid date on or before today");
	}

	/* registered, inzage recorded, a peer with an endpoint: queued, once */
	rep = s_marked(f, OVERSTAPCTL__REQUEST__BODY_INZAGE, "L001");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->marked->imported, 1);
	assert_int_equal(rep->marked->n_errors, 0);
	rep = s_send(f, "L001");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->send_result->n_refused, 0);
	assert_int_equal(rep->send_result->n_queued, 1);
	assert_string_equal(rep->send_result->queued[0], "L001");
	assert_int_equal(f->h.outbox_dirty, 1);
	assert_int_equal(s_outbox_n(f, MBO), 1);
	assert_int_equal(s_outbox_n(f, RECV_ONLY), 0);
	assert_int_equal(store_leaver_find(f->s, "L001", 0, &l), 0);
	assert_int_equal(l.state, LEAVER_QUEUED);
	assert_true(l.record_id[0] && l.message_id[0]);
	store_leaver_clear(&l);

	assert_string_equal(s_refused(f, "L001"), "L001: the dossier has already been sent");
	assert_int_equal(s_outbox_n(f, MBO), 1);
	/* --all-ready: L001 is no longer ready, L002 and L004 are but refused
	 * at the gate, which names them */
	{
		Overstapctl__Request req;
		Overstapctl__SendHandovers sh = OVERSTAPCTL__SEND_HANDOVERS__INIT;

		s_req(&req, OVERSTAPCTL__REQUEST__BODY_SEND);
		sh.all_ready = 1;
		req.send = &sh;
		rep = s_call(f, &req);
		assert_int_equal(rep->code, 0);
		assert_int_equal(rep->send_result->n_queued, 1);
		assert_string_equal(rep->send_result->queued[0], "L004");
		assert_int_equal(rep->send_result->n_refused, 1);
		assert_string_equal(rep->send_result->refused[0],
				    "L002: the destination is not a configured peer with an endpoint");
		assert_int_equal(s_outbox_n(f, MBO), 2);
	}
	/* and inzage after sending is refused, naming the pupil */
	rep = s_marked(f, OVERSTAPCTL__REQUEST__BODY_INZAGE, "L001");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->marked->imported, 0);
	assert_int_equal(rep->marked->n_errors, 1);
	assert_string_equal(rep->marked->errors[0], "L001: the dossier has already been sent");
}

/* OSO inzage rules: whether they agree is asked every time; "no" carries
 * their view, "yes" none; the view is text the receiver would accept, and
 * travels in the dossier. Disagreeing does not close the send gate. */
static Overstapctl__Reply *s_inzage_agrees(struct fx *f, const char *agrees, const char *why)
{
	static Overstapctl__Request req;
	static Overstapctl__RecordInzage z;
	static char *refs[1] = { "L001" };

	overstapctl__record_inzage__init(&z);
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_INZAGE);
	z.n_pupil_refs = 1;
	z.pupil_refs = refs;
	z.reviewer = "pupil";
	z.agrees = (char *)agrees;
	z.disagreement = (char *)why;
	req.inzage = &z;
	return s_call(f, &req);
}

static void test_inzage_agreement(void **state)
{
	static const char view[] = "Het beeld van haar stage klopt niet.\nZe werkt graag met dieren.";
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__Show show = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep;
	Overstap__Handover *ho;
	char *big = malloc(ENV_MAX_REMARKS + 2);

	assert_non_null(big);
	memset(big, 'x', ENV_MAX_REMARKS + 1);
	big[ENV_MAX_REMARKS + 1] = '\0';
	assert_int_equal(s_import_good(f)->code, 0);
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, "L001")->code, 0);

	rep = s_inzage_agrees(f, "", "");
	assert_int_equal(rep->code, -EINVAL);
	assert_string_equal(rep->error, "agrees must be yes or no: do they agree with the dossier?");
	rep = s_inzage_agrees(f, "no", "");
	assert_int_equal(rep->code, -EINVAL);
	assert_string_equal(rep->error,
			    "they do not agree: record why (their view travels with the dossier)");
	rep = s_inzage_agrees(f, "yes", "toch niet");
	assert_int_equal(rep->code, -EINVAL);
	assert_string_equal(rep->error, "a disagreement is recorded only when they do not agree");
	rep = s_inzage_agrees(f, "no", "rood\x1b[31m");
	assert_int_equal(rep->code, -EINVAL);
	assert_string_equal(rep->error, "the reasons for disagreeing: contains a control character");
	rep = s_inzage_agrees(f, "no", big);
	assert_int_equal(rep->code, -EINVAL);
	assert_string_equal(rep->error, "the reasons for disagreeing are longer than 8192 bytes");
	free(big);
	/* none of these recorded anything: the gate is still shut */
	assert_string_equal(s_refused(f, "L001"), "L001: no inzage recorded yet ('overstap handover inzage')");

	rep = s_inzage_agrees(f, "no", view);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->marked->imported, 1);

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_HANDOVER_SHOW);
	show.key = "L001";
	req.handover_show = &show;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	ho = overstap__handover__unpack(NULL, rep->handover_detail->dossier.len,
					rep->handover_detail->dossier.data);
	assert_non_null(ho);
	assert_non_null(ho->inzage);
	assert_int_equal(ho->inzage->agrees, OVERSTAP__TRISTATE__TRI_NO);
	assert_string_equal(ho->inzage->disagreement, view);
	overstap__handover__free_unpacked(ho, NULL);
	assert_string_equal(rep->handover_detail->row->state, "ready");	/* not held back */
}

/* ---- listings ---- */

static void test_handover_list_show(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__Show show = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep;
	Overstapctl__HandoverDetail *det;
	Overstap__Handover *ho;

	assert_int_equal(s_import_good(f)->code, 0);
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, "L001")->code, 0);
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_INZAGE, "L001")->code, 0);
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, "L004")->code, 0);

	rep = s_list(f, "ready");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_HANDOVER_LIST);
	assert_int_equal(rep->handover_list->n_rows, 1);
	assert_string_equal(rep->handover_list->rows[0]->pupil_ref, "L001");
	assert_string_equal(rep->handover_list->rows[0]->state, "ready");
	assert_string_equal(rep->handover_list->rows[0]->destination_institution, MBO);
	rep = s_list(f, "registered");
	assert_int_equal(rep->handover_list->n_rows, 1);
	assert_string_equal(rep->handover_list->rows[0]->pupil_ref, "L004");
	assert_int_equal(s_list(f, "imported")->handover_list->n_rows, 2);
	assert_int_equal(s_list(f, "queued")->handover_list->n_rows, 0);
	/* a limit counts the rows that pass the state filter */
	{
		Overstapctl__ListFilter lf = OVERSTAPCTL__LIST_FILTER__INIT;

		s_req(&req, OVERSTAPCTL__REQUEST__BODY_HANDOVER_LIST);
		lf.limit = 3;
		req.handover_list = &lf;
		rep = s_call(f, &req);
		assert_int_equal(rep->code, 0);
		assert_int_equal(rep->handover_list->n_rows, 3);
		lf.state = "imported";
		lf.limit = 1;
		rep = s_call(f, &req);
		assert_int_equal(rep->handover_list->n_rows, 1);
		assert_string_equal(rep->handover_list->rows[0]->state, "imported");
	}
	rep = s_list(f, "lost");
	assert_int_equal(rep->code, -EINVAL);
	assert_string_equal(rep->error, "unknown state 'lost' (imported, registered, ready, queued, "
			    "parked, delivered, cancelled, erased)");
	/* every state the list shows can be asked for */
	rep = s_list(f, "parked");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->handover_list->n_rows, 0);
	rep = s_list(f, "erased");
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->handover_list->n_rows, 0);

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_HANDOVER_SHOW);
	show.key = "L001";
	req.handover_show = &show;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_HANDOVER_DETAIL);
	det = rep->handover_detail;
	assert_string_equal(det->row->pupil_ref, "L001");
	assert_string_equal(det->row->state, "ready");
	assert_int_equal(det->n_events, 0);
	/* not sent yet: the dossier as it would leave now */
	ho = overstap__handover__unpack(NULL, det->dossier.len, det->dossier.data);
	assert_non_null(ho);
	assert_string_equal(ho->given_name, "Sanne");
	assert_string_equal(ho->pgn, "111222333");
	assert_non_null(ho->inzage);
	assert_int_equal(ho->n_support_needs, 2);
	overstap__handover__free_unpacked(ho, NULL);

	show.key = "L999";
	rep = s_call(f, &req);
	assert_int_equal(rep->code, -ENOENT);
	assert_string_equal(rep->error, "L999: no such pupil");
}

static void test_inbox_empty(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__ListFilter lf = OVERSTAPCTL__LIST_FILTER__INIT;
	Overstapctl__Show show = OVERSTAPCTL__SHOW__INIT;
	Overstapctl__Reply *rep;

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_INBOX_LIST);
	req.inbox_list = &lf;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_INBOX_LIST);
	assert_int_equal(rep->inbox_list->n_rows, 0);

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_INBOX_SHOW);
	show.key = "01890a5d-0000-7000-8000-000000000010";
	req.inbox_show = &show;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, -ENOENT);
	assert_string_equal(rep->error, "01890a5d-0000-7000-8000-000000000010: no such record");
}

/* inbox find (design.md §3.9): by PGN through the pseudonym index, by name
 * over the dossiers; refused without echoing a PGN; audited with record ids. */
static int s_count_searched(const struct audit_entry *e, void *arg)
{
	if (strcmp(e->action, "inbox.searched") == 0)
		++*(unsigned *)arg;
	return 0;
}

static void test_inbox_find(void **state)
{
	struct fx *f = *state;
	static const char rec[] = "01890a5d-ac96-774b-bcce-b302099a8057";
	static const uint8_t junk[] = "not an envelope";
	Overstap__Handover h = OVERSTAP__HANDOVER__INIT;
	Overstapctl__Request req;
	Overstapctl__InboxFind q = OVERSTAPCTL__INBOX_FIND__INIT;
	Overstapctl__Reply *rep;
	unsigned searched = 0;

	h.record_id = (char *)rec;
	h.pgn = "123456782";
	h.cohort = "2024-2025";
	h.exit_date = "2025-07-04";
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_inbox_put(f->s, "01890a5d-0000-7000-8000-000000000001", "12AB00", &h,
					 junk, sizeof(junk), 5), 0);
	assert_int_equal(store_commit(f->s), 0);
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_INBOX_FIND);
	req.inbox_find = &q;

	q.pgn = "123456782";
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_INBOX_LIST);
	assert_int_equal(rep->inbox_list->n_rows, 1);
	assert_string_equal(rep->inbox_list->rows[0]->record_id, rec);
	assert_int_equal(audit_subject_each(store_audit_peek(f->s), rec, s_count_searched, &searched), 0);
	assert_int_equal(searched, 1);

	q.pgn = "111222333";	/* nothing received (audited without a subject) */
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->inbox_list->n_rows, 0);

	q.pgn = "123456789";
	rep = s_call(f, &req);
	assert_int_equal(rep->code, -EINVAL);
	assert_null(strstr(rep->error, "123456789"));
	q.name = "Kaya";	/* both */
	rep = s_call(f, &req);
	assert_int_equal(rep->code, -EINVAL);
	q.pgn = "";
	q.name = "K";
	rep = s_call(f, &req);
	assert_int_equal(rep->code, -EINVAL);
	/* a dossier that does not open as one is no match, not a failure */
	q.name = "Kaya";
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->inbox_list->n_rows, 0);
}

/* ---- audit ---- */

static void test_audit_verify_fresh(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__Reply *rep;
	Overstapctl__AuditVerifyResult *v;

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_AUDIT_VERIFY);
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_AUDIT_VERIFY);
	v = rep->audit_verify;
	assert_true(v->intact);
	assert_int_equal(v->first_bad_seq, 0);
	assert_int_equal(v->checkpoints, 0);
	assert_int_equal(v->entries, 0);
	assert_string_equal(v->reason, "intact: 0 entries");
	assert_string_equal(v->checkpoint_peer, "");
	assert_int_equal(strlen(v->head_mac), 2 * AUDIT_MAC_LEN);
	assert_int_equal(strspn(v->head_mac, "0123456789abcdef"), 2 * AUDIT_MAC_LEN);
}

static void test_audit_export(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__AuditQuery q = OVERSTAPCTL__AUDIT_QUERY__INIT;
	Overstapctl__Reply *rep;
	int64_t entries;
	size_t n;

	assert_int_equal(s_import_good(f)->code, 0);
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED, "L001")->code, 0);
	assert_int_equal(s_marked(f, OVERSTAPCTL__REQUEST__BODY_INZAGE, "L001")->code, 0);
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_AUDIT_VERIFY);
	rep = s_call(f, &req);
	assert_true(rep->audit_verify->intact);
	entries = rep->audit_verify->entries;
	assert_true(entries >= 2);

	s_req(&req, OVERSTAPCTL__REQUEST__BODY_AUDIT_EXPORT);
	req.audit_export = &q;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_AUDIT_ENTRIES);
	n = rep->audit_entries->n_lines;
	assert_int_equal(n, (size_t)entries);
	assert_int_equal(rep->audit_entries->next_seq, 0);	/* all of it in one page */
	for (size_t i = 0; i < n; i++) {
		const char *line = rep->audit_entries->lines[i];

		assert_int_equal(line[0], '{');
		assert_int_equal(line[strlen(line) - 1], '}');	/* one line, no newline */
	}
	assert_non_null(strstr(rep->audit_entries->lines[n - 2], "\"registration.recorded\""));
	assert_non_null(strstr(rep->audit_entries->lines[n - 1], "\"inzage.recorded\""));
	{
		char want[80];	/* the request claimed mentor1; the kernel said otherwise */

		snprintf(want, sizeof(want), "\"actor\":\"%s\"", s_me());
		assert_non_null(strstr(rep->audit_entries->lines[n - 1], want));
		assert_null(strstr(rep->audit_entries->lines[n - 1], "mentor1"));
	}
	assert_non_null(strstr(rep->audit_entries->lines[n - 1], "agrees"));
	/* never the pupil's name or number */
	for (size_t i = 0; i < n; i++) {
		assert_null(strstr(rep->audit_entries->lines[i], "Sanne"));
		assert_null(strstr(rep->audit_entries->lines[i], "L001"));
	}

	/* a page of one, and where the next starts */
	q.limit = 1;
	q.from_seq = entries - 1;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->audit_entries->n_lines, 1);
	assert_non_null(strstr(rep->audit_entries->lines[0], "\"registration.recorded\""));
	assert_int_equal(rep->audit_entries->next_seq, entries);
}

/* ---- hostile text in the audit log ---- */

#define INJECT "\",\"admin\":true,\"x\":\""	/* ends a string, adds a key */

/* The keys of o, in order, joined by ',' (o must be an object). */
static void s_keys(const json_t *o, char *buf, size_t len)
{
	const char *k;
	json_t *v;

	buf[0] = '\0';
	json_object_foreach((json_t *)o, k, v) {
		(void)v;
		if (buf[0])
			strncat(buf, ",", len - strlen(buf) - 1);
		strncat(buf, k, len - strlen(buf) - 1);
	}
}

/* The report's format is text the user typed that reaches the audit detail
 * (8 bytes of it; invalid UTF-8 becomes U+FFFD), and a user name may hold
 * quotes (not invalid UTF-8: the audit log refuses that in its columns).
 * Neither may add a key, to the stored detail or to the exported line. */
static void test_audit_hostile_text(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__ReportQuery q = OVERSTAPCTL__REPORT_QUERY__INIT;
	Overstapctl__AuditQuery aq = OVERSTAPCTL__AUDIT_QUERY__INIT;
	Overstapctl__Reply *rep;
	struct last_entry le = { 0 };
	char *by[] = { "cohort", "program" }, keys[256];
	json_error_t err;
	json_t *d, *line;
	size_t n;

	assert_int_equal(s_import_good(f)->code, 0);
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_REPORT);
	req.user = "u" INJECT;		/* no space or control byte: a valid user name */
	q.format = "\xff" INJECT;
	q.n_by = 2;
	q.by = by;
	req.report = &q;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_REPORT);

	assert_int_equal(audit_each(store_audit_peek(f->s), 1, s_last_cb, &le), 0);
	assert_non_null(le.detail);
	assert_string_equal(le.action, "report.generated");
	assert_string_equal(le.actor, s_me());	/* the kernel's word, not the request's */
	d = json_loads(le.detail, 0, &err);
	assert_non_null(d);
	assert_true(json_is_object(d));
	s_keys(d, keys, sizeof(keys));
	assert_string_equal(keys, "side,format,by,cohorts");
	assert_null(json_object_get(d, "admin"));
	assert_string_equal(json_string_value(json_object_get(d, "side")), "sending");
	/* the first 8 bytes, the bad one replaced */
	assert_string_equal(json_string_value(json_object_get(d, "format")),
			    "\xef\xbf\xbd\",\"admi");
	assert_string_equal(json_string_value(json_object_get(d, "by")), "cohort,program");
	assert_true(json_is_integer(json_object_get(d, "cohorts")));
	json_decref(d);

	/* the export: one object per entry, the detail a string, nothing added */
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_AUDIT_EXPORT);
	req.audit_export = &aq;
	rep = s_call(f, &req);
	assert_int_equal(rep->code, 0);
	n = rep->audit_entries->n_lines;
	assert_true(n >= 1);
	line = json_loads(rep->audit_entries->lines[n - 1], 0, &err);
	assert_non_null(line);
	s_keys(line, keys, sizeof(keys));
	assert_string_equal(keys, "seq,at,actor,action,subject,counterpart,detail,mac");
	assert_string_equal(json_string_value(json_object_get(line, "actor")), s_me());
	assert_string_equal(json_string_value(json_object_get(line, "action")), "report.generated");
	assert_string_equal(json_string_value(json_object_get(line, "detail")), le.detail);
	assert_true(json_is_integer(json_object_get(line, "seq")));
	json_decref(line);
	free(le.actor);
	free(le.action);
	free(le.detail);
}

/* ---- import sessions (design.md §8.5) ---- */

/* One chunk of leavers_good.csv's rows in session (0: open one when more). */
static Overstapctl__Reply *s_chunk(struct fx *f, size_t from, size_t n, uint64_t session, int more,
				   int abort)
{
	Overstapctl__Request req;
	Overstapctl__ImportLeavers im = OVERSTAPCTL__IMPORT_LEAVERS__INIT;

	im.file = "leavers_good.csv";
	im.n_leavers = n;
	im.leavers = f->rows + from;
	im.session = session;
	im.more = more;
	im.abort = abort;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS);
	req.import_leavers = &im;
	return s_call(f, &req);
}

/* The file in two chunks: nothing stored after the first, all after the
 * last; a session id nobody opened, and one already spent, are refused; an
 * abort stores nothing. */
static void test_import_session(void **state)
{
	struct fx *f = *state;
	Overstapctl__Reply *rep;
	uint64_t id;

	rep = s_import_good(f);	/* parses the rows into f->rows; imports them once */
	assert_int_equal(rep->code, 0);
	/* a fresh store for the session: erase nothing, just use new refs */
	for (size_t i = 0; i < f->n_rows; i++) {
		char *ref = malloc(32);

		assert_non_null(ref);
		snprintf(ref, 32, "S%03zu", i);
		free(f->rows[i]->pupil_ref);
		f->rows[i]->pupil_ref = ref;	/* freed with the rows */
	}
	rep = s_chunk(f, 0, 2, 0, 1, 0);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT);
	id = rep->import_result->session;
	assert_true(id != 0);
	assert_int_equal(rep->import_result->staged, 2);
	assert_int_equal(rep->import_result->imported, 0);
	rep = s_list(f, "");
	assert_int_equal(rep->handover_list->n_rows, 4);	/* only the first import's */
	rep = s_chunk(f, 0, 0, id ^ 2, 1, 0);
	assert_int_not_equal(rep->code, 0);
	assert_non_null(strstr(rep->error, "no such import session"));
	rep = s_chunk(f, 2, 2, id, 0, 0);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->import_result->added, 4);
	assert_int_equal(rep->import_result->imported, 4);
	rep = s_list(f, "");
	assert_int_equal(rep->handover_list->n_rows, 8);
	rep = s_chunk(f, 0, 1, id, 0, 0);	/* spent */
	assert_int_not_equal(rep->code, 0);
	/* abort: nothing stored, the session gone */
	for (size_t i = 0; i < f->n_rows; i++)
		f->rows[i]->pupil_ref[0] = 'T';
	rep = s_chunk(f, 0, 2, 0, 1, 0);
	id = rep->import_result->session;
	rep = s_chunk(f, 0, 0, id, 0, 1);
	assert_int_equal(rep->code, 0);
	assert_int_equal(rep->body_case, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT);
	assert_int_equal(rep->import_result->n_errors, 0);
	assert_int_equal(rep->import_result->imported, 0);
	rep = s_chunk(f, 2, 2, id, 0, 0);
	assert_int_not_equal(rep->code, 0);
	rep = s_list(f, "");
	assert_int_equal(rep->handover_list->n_rows, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wrong_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_from_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_flood_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_no_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_fake_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_good_then_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inzage_agreement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handover_list_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_hostile_text, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
