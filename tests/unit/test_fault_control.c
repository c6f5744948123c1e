/* Fault sweeps over the control handlers that write (fault.h, STYLE 18): each
 * request run through ctl_dispatch() as the control socket runs it, under any
 * single failed allocation, step or write. Either the reply is 0 and the
 * request's effect is in the store (as in the fault-free run), or the reply is
 * negative with a reason, the store is as it was, no transaction is open, and
 * the same request then succeeds. A 0 whose effect is missing tells staff
 * something was done that was not: that is the failure looked for here; so
 * is a reply the daemon could not pack (a NULL string in it). Each request
 * is swept again with memory that stays short (the _oom cases). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_int.h"
#include "envelope.h"
#include "fault.h"
#include "leavers.h"
#include "log.h"
#include "store.h"

#define SCHOOL "99ZZ00"		/* the school's id, and the MBO's peer */
#define MBO "12AB00"		/* the MBO's id, and the school's peer: L001 and L004 go there */
#define RECV_ONLY "34CD01"	/* the school's peer without an endpoint: L002 goes there */
#define RID_IN "0190a5b4-7c2e-7a3b-9f00-0000000000b1"	/* a dossier the MBO holds */
#define C_HO "0190a5b4-7c2e-7a3b-9f00-0000000000e1"	/* its handover consent */
#define C_FU "0190a5b4-7c2e-7a3b-9f00-0000000000e2"	/* and its follow_up consent */
#define NOW 1748779200000	/* fault.c's frozen clock */

/* What the op returns for the two ways a reply can lie (>= 0, so the sweep
 * counts them as "completed with another result": bad). */
#define S_DONE_NOT_HELD 999999		/* reply 0, the effect not in the store */
#define S_FAILED_SILENT 999998		/* reply < 0 without a reason */
#define S_REPLY_NULL 999997		/* a NULL string in the reply */

static crypto_sigkey *s_signer;
static struct keys s_keys;
static struct peer_cfg s_school_peers[2], s_mbo_peers[1];
static struct config s_school, s_mbo;
static Overstapctl__Leaver **s_rows;	/* leavers_good.csv, parsed as the CLI does */
static size_t s_n_rows;

/* One case: its side, its request and how to see that the request was done. */
struct ctl_case {
	const struct config *cfg;
	int (*setup)(struct fault_fx *fx, struct ctl_case *k);
	int (*op)(struct fault_fx *fx);
	int (*held)(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep);
	char consent_id[CRYPTO_UUID_STR_LEN + 1];	/* made by setup */
	char record_id[CRYPTO_UUID_STR_LEN + 1];	/* the dossier setup sent */
};

/* What attach builds around the restored store: the handlers' context. */
struct ctl_fx {
	struct hctx h;
	struct net net;			/* zeroed: no peers, nothing bound */
	struct ctl_env env;
	struct peer_cred cred;		/* this process, as the kernel would tell it */
	const struct ctl_case *k;	/* the case, for ids its setup made (NULL in setup) */
};

static void s_ctx(struct ctl_fx *x, struct store *s, const struct config *cfg)
{
	memset(x, 0, sizeof(*x));
	x->h = (struct hctx){ .store = s, .cfg = cfg, .keys = &s_keys };
	x->env = (struct ctl_env){ .h = &x->h, .net = &x->net, .started_at = NOW };
	x->cred = (struct peer_cred){ .uid = getuid(), .gid = getgid(), .pid = getpid() };
}

static void s_req(Overstapctl__Request *req, Overstapctl__Request__BodyCase body)
{
	overstapctl__request__init(req);
	req->version = OVERSTAPCTL__VERSION__CURRENT;
	req->user = "mentor1";
	req->body_case = body;
}

/* Dispatch req as control_handle does; rep is the caller's, c's pool freed by
 * the caller (ctl_req_done). */
static void s_dispatch(struct ctl_fx *x, const Overstapctl__Request *req, Overstapctl__Reply *rep,
		       struct req_ctx *c)
{
	overstapctl__reply__init(rep);
	rep->version = OVERSTAPCTL__VERSION__CURRENT;
	*c = (struct req_ctx){ .h = &x->h, .env = &x->env, .cred = &x->cred, .req = req, .rep = rep };
	ctl_dispatch(c);
}

/* ---- requests ---- */

static int s_import_leavers(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__ImportLeavers im = OVERSTAPCTL__IMPORT_LEAVERS__INIT;

	im.file = "leavers_good.csv";
	im.leavers = s_rows;
	im.n_leavers = s_n_rows;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS);
	req.import_leavers = &im;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

static int s_registered(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__MarkRegistered m = OVERSTAPCTL__MARK_REGISTERED__INIT;
	char *refs[1] = { "L001" };

	m.pupil_refs = refs;
	m.n_pupil_refs = 1;
	m.date = "2025-05-15";
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED);
	req.mark_registered = &m;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

static int s_inzage(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__RecordInzage z = OVERSTAPCTL__RECORD_INZAGE__INIT;
	char *refs[1] = { "L001" };

	z.pupil_refs = refs;
	z.n_pupil_refs = 1;
	z.reviewer = "pupil";	/* L001 is 17 */
	z.date = "2025-05-20";
	z.remarks = "geen opmerkingen";
	z.agrees = "no";	/* the view is sealed with the remarks: the same failure paths */
	z.disagreement = "het advies past niet";
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_INZAGE);
	req.inzage = &z;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

static int s_send(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__SendHandovers sh = OVERSTAPCTL__SEND_HANDOVERS__INIT;
	char *refs[1] = { "L001" };

	sh.pupil_refs = refs;
	sh.n_pupil_refs = 1;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_SEND);
	req.send = &sh;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

/* overstap outbox retry|cancel --all */
static int s_outbox(struct ctl_fx *x, int cancel, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__OutboxAction a = OVERSTAPCTL__OUTBOX_ACTION__INIT;

	a.all = 1;
	a.cancel = cancel;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_OUTBOX_ACTION);
	req.outbox_action = &a;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

/* A consent for L001 from the pupil (17), for its destination. */
static int s_grant(struct ctl_fx *x, const char *purpose, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__ConsentGrant g = OVERSTAPCTL__CONSENT_GRANT__INIT;

	g.pupil_ref = "L001";
	g.purpose = (char *)purpose;
	g.grantor = "pupil";
	g.granted_at = "2025-05-01";
	g.evidence_method = "form";
	g.evidence_ref = "dossier 2025/17";
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_CONSENT_GRANT);
	req.consent_grant = &g;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

/* `import consents`: L001 follow_up (its dossier left: a notice goes with
 * it) and L002 handover, as the CLI sends a two-row file. */
static int s_import_consents(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__ImportConsents im = OVERSTAPCTL__IMPORT_CONSENTS__INIT;
	Overstapctl__ConsentGrant g[2], *gp[2] = { &g[0], &g[1] };

	for (int i = 0; i < 2; i++) {
		overstapctl__consent_grant__init(&g[i]);
		g[i].pupil_ref = i ? "L002" : "L001";
		g[i].purpose = i ? "handover" : "follow_up";
		g[i].grantor = "pupil";
		g[i].granted_at = "2025-05-01";
		g[i].evidence_method = "form";
		g[i].evidence_ref = "dossier 2025/17";
		g[i].line = (unsigned)i + 2;
	}
	im.file = "consents.csv";
	im.rows = gp;
	im.n_rows = 2;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_IMPORT_CONSENTS);
	req.import_consents = &im;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

/* leavers_good.csv again with L001's given_name corrected. */
static int s_reimport(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__ImportLeavers im = OVERSTAPCTL__IMPORT_LEAVERS__INIT;
	Overstapctl__Leaver fixed = *s_rows[0], *rows[4];

	fixed.given_name = "Sanneke";
	memcpy(rows, s_rows, sizeof(rows));
	rows[0] = &fixed;
	im.file = "leavers_good.csv";
	im.leavers = rows;
	im.n_leavers = 4;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS);
	req.import_leavers = &im;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

static int s_withdraw(struct ctl_fx *x, const char *id, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__ConsentWithdraw w = OVERSTAPCTL__CONSENT_WITHDRAW__INIT;

	w.consent_id = (char *)id;
	w.date = "2025-05-25";
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_CONSENT_WITHDRAW);
	req.consent_withdraw = &w;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

/* `erase L001` at the school, `erase RID_IN` at the MBO. */
static int s_erase(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__Erase e = OVERSTAPCTL__ERASE__INIT;

	e.key = x->h.cfg == &s_mbo ? RID_IN : "L001";
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_ERASE);
	req.erase = &e;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

/* `registration status` / `outcome record` for the dossier the MBO holds. */
static int s_feedback(struct ctl_fx *x, const char *event, const char *date, Overstapctl__Reply *rep,
		      struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__RecordFeedback f = OVERSTAPCTL__RECORD_FEEDBACK__INIT;
	Overstapctl__FeedbackEvent e = OVERSTAPCTL__FEEDBACK_EVENT__INIT, *es[1] = { &e };

	e.record_id = RID_IN;
	e.event = (char *)event;
	e.date = (char *)date;
	f.events = es;
	f.n_events = 1;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_FEEDBACK);
	req.feedback = &f;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

/* `import registrations` of two pupils registered at the MBO, as the CLI
 * sends a file. */
static int s_registrations(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	Overstapctl__Request req;
	Overstapctl__ImportRegistrations im = OVERSTAPCTL__IMPORT_REGISTRATIONS__INIT;
	Overstapctl__RecordRegistration a = OVERSTAPCTL__RECORD_REGISTRATION__INIT,
					b = OVERSTAPCTL__RECORD_REGISTRATION__INIT, *rows[2] = { &a, &b };

	a.pgn = "123456782";
	a.school = SCHOOL;
	a.date = "2025-05-15";
	a.line = 2;
	b.pgn = "111222333";
	b.school = SCHOOL;
	b.date = "2025-05-16";
	b.line = 3;
	im.file = "registrations.csv";
	im.rows = rows;
	im.n_rows = 2;
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_IMPORT_REGISTRATIONS);
	req.import_registrations = &im;
	s_dispatch(x, &req, rep, c);
	return rep->code;
}

/* ---- fixtures: the template stores, built through the same handlers ---- */

typedef int (*s_request_fn)(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c);

/* Run requests in order on the template store; the first failure ends it. */
static int s_steps(struct fault_fx *fx, const struct config *cfg, const s_request_fn *fns, size_t n)
{
	struct ctl_fx x;
	Overstapctl__Reply rep;
	struct req_ctx c = { 0 };
	int r = 0;

	s_ctx(&x, fx->s, cfg);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = fns[i](&x, &rep, &c);
		if (r < 0)
			fprintf(stderr, "fault_control: setup step %zu: %d %s\n", i, r, rep.error);
		ctl_req_done(&c);
	}
	return r;
}

static int s_grant_handover(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	return s_grant(x, "handover", rep, c);
}

/* A school with some other pupil in it, so that "unchanged" means something. */
static int s_setup_other(struct fault_fx *fx, struct ctl_case *k)
{
	(void)k;
	return fault_import_leaver(fx->s, "other.csv", "X001", "101234567", MBO, NULL, NULL);
}

static int s_setup_imported(struct fault_fx *fx, struct ctl_case *k)
{
	static const s_request_fn fns[] = { s_import_leavers };

	(void)k;
	return s_steps(fx, &s_school, fns, 1);
}

static int s_setup_ready(struct fault_fx *fx, struct ctl_case *k)
{
	static const s_request_fn fns[] = { s_import_leavers, s_registered, s_inzage };

	(void)k;
	return s_steps(fx, &s_school, fns, 3);
}

static int s_first_consent(const struct consent *kc, int64_t leaver_id, void *arg)
{
	(void)leaver_id;
	str_copy(arg, CRYPTO_UUID_STR_LEN + 1, kc->id);
	return 1;
}

/* L001 sent to the MBO (queued); with_consent: under a handover consent,
 * which travelled with the dossier. k gets the consent and record ids. */
static int s_setup_sent_with(struct fault_fx *fx, struct ctl_case *k, int with_consent)
{
	static const s_request_fn plain[] = { s_import_leavers, s_registered, s_inzage, s_send };
	static const s_request_fn consent[] = { s_import_leavers, s_grant_handover, s_registered,
						 s_inzage, s_send };
	struct leaver l = { 0 };
	int r;

	r = with_consent ? s_steps(fx, &s_school, consent, 5) : s_steps(fx, &s_school, plain, 4);
	if (r < 0 || (r = store_leaver_find(fx->s, "L001", 0, &l)) < 0)
		return r;
	str_copy(k->record_id, sizeof(k->record_id), l.record_id);
	k->consent_id[0] = '\0';
	r = l.state == LEAVER_QUEUED ? 0 : -EINVAL;
	if (r == 0 && (r = store_consents_each(fx->s, l.id, s_first_consent, k->consent_id)) > 0)
		r = 0;
	store_leaver_clear(&l);
	return r;
}

static int s_setup_sent(struct fault_fx *fx, struct ctl_case *k)
{
	return s_setup_sent_with(fx, k, 0);
}

/* L001 sent, then parked (the MBO refused it for its size, design.md §4.5). */
static int s_setup_parked(struct fault_fx *fx, struct ctl_case *k)
{
	struct leaver l = { 0 };
	int r = s_setup_sent_with(fx, k, 0);

	if (r == 0 && (r = store_leaver_find(fx->s, "L001", 0, &l)) == 0 &&
	    (r = store_begin(fx->s)) == 0) {
		r = store_outbox_park(fx->s, MBO, l.message_id, "too large", 0, 1);
		r = r == 0 ? store_commit(fx->s) : (store_rollback(fx->s), r ? r : -EINVAL);
	}
	store_leaver_clear(&l);
	return r;
}

static int s_setup_sent_consent(struct fault_fx *fx, struct ctl_case *k)
{
	int r = s_setup_sent_with(fx, k, 1);

	return r == 0 && !k->consent_id[0] ? -ENOENT : r;
}

static void s_assertion(Overstap__ConsentAssertion *a, const char *id, const char *purpose)
{
	overstap__consent_assertion__init(a);
	a->consent_id = (char *)id;
	a->purpose = (char *)purpose;
	a->counterpart = MBO;
	a->grantor = "pupil";
	a->granted_at = "2025-05-01";
	a->valid_until = "";
}

/* The MBO: a dossier RID_IN from the school, under a handover and a
 * follow_up consent, as the receive handler stores it. */
static int s_setup_mbo(struct fault_fx *fx, struct ctl_case *k)
{
	Overstap__ConsentAssertion ah, af, *as[2] = { &ah, &af };
	Overstap__SupportNeed need = OVERSTAP__SUPPORT_NEED__INIT, *needs[1] = { &need };
	Overstap__Handover ho = OVERSTAP__HANDOVER__INIT, *hu = NULL;
	Overstap__Envelope *e = NULL;
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t *body = NULL, *packed = NULL;
	size_t blen, len = 0;
	const char *why;
	int r = -ENOMEM;

	(void)k;
	s_assertion(&ah, C_HO, "handover");
	s_assertion(&af, C_FU, "follow_up");
	need.code = "structure";
	need.note = "vast rooster";
	ho.record_id = RID_IN;
	ho.pgn = "123456782";
	ho.given_name = "Zwaantje";
	ho.family_name = "Oudewater";
	ho.birth_date = "2008-02-29";
	ho.program = 1;
	ho.cohort = "2024-2025";
	ho.exit_date = "2025-07-04";
	ho.destination = 2;
	ho.basis = "consent";
	ho.support_needs = needs;
	ho.n_support_needs = 1;
	ho.consents = as;
	ho.n_consents = 2;
	blen = overstap__handover__get_packed_size(&ho);
	if (!(body = malloc(blen)))
		goto out;
	overstap__handover__pack(&ho, body);
	if ((r = envelope_build(SCHOOL, MBO, OVERSTAP__ENVELOPE__BODY_HANDOVER, body, blen, s_signer,
				mid, &packed, &len)) < 0 ||
	    (r = envelope_unpack(packed, len, 1 << 20, &e, &why)) < 0 ||
	    (r = envelope_handover_unpack(envelope_body(e), &hu, &why)) < 0)
		goto out;
	if ((r = store_begin(fx->s)) < 0 ||
	    (r = store_inbox_put(fx->s, e->message_id, SCHOOL, hu, packed, len, NOW)) < 0 ||
	    (r = store_audit(fx->s, "peer:" SCHOOL, "dossier.received", RID_IN, SCHOOL, "{}")) < 0 ||
	    (r = store_commit(fx->s)) < 0)
		store_rollback(fx->s);
out:
	if (hu)
		overstap__handover__free_unpacked(hu, NULL);
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	free(packed);
	free(body);
	return r;
}

/* ---- is the request's effect held? (read with the faults off) ---- */

static size_t s_pending(struct store *s, const char *peer)
{
	struct outbox_msg *m = NULL;
	size_t n = 0;

	if (store_outbox_pending(s, peer, "", 100, &m, &n) < 0)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++)
		free(m[i].packed);
	free(m);
	return n;
}

static int s_leaver_ok(struct store *s, const char *ref, int (*pred)(const struct leaver *l))
{
	struct leaver l = { 0 };
	int ok = store_leaver_find(s, ref, 0, &l) == 0 && (!pred || pred(&l));

	store_leaver_clear(&l);
	return ok;
}

static int s_marked_one(const Overstapctl__Reply *rep)
{
	return rep->body_case == OVERSTAPCTL__REPLY__BODY_MARKED && rep->marked->imported == 1 &&
	       rep->marked->n_errors == 0;
}

static int s_held_import(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	(void)k;
	return rep->body_case == OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT &&
	       rep->import_result->imported == 4 && rep->import_result->n_errors == 0 &&
	       s_leaver_ok(s, "L001", NULL) && s_leaver_ok(s, "L002", NULL) &&
	       s_leaver_ok(s, "L003", NULL) && s_leaver_ok(s, "L004", NULL) &&
	       s_leaver_ok(s, "X001", NULL);
}

/* The corrected row updated, the three others unchanged. */
static int s_held_reimport(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	struct leaver l = { 0 };
	int ok;

	(void)k;
	ok = rep->body_case == OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT &&
	     rep->import_result->updated == 1 && rep->import_result->unchanged == 3 &&
	     rep->import_result->n_errors == 0 && store_leaver_find(s, "L001", 1, &l) == 0 &&
	     l.priv && strcmp(l.priv->given_name, "Sanneke") == 0;
	store_leaver_clear(&l);
	return ok;
}

static int s_count_consent(const struct consent *kc, int64_t leaver_id, void *arg)
{
	(void)kc;
	(void)leaver_id;
	(*(unsigned *)arg)++;
	return 0;
}

/* Both consents stored, and the MBO told of L001's follow_up one. */
static int s_held_import_consents(struct store *s, const struct ctl_case *k,
				  const Overstapctl__Reply *rep)
{
	unsigned n = 0;

	(void)k;
	return rep->body_case == OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT &&
	       rep->import_result->added == 2 && rep->import_result->n_errors == 0 &&
	       store_consents_each(s, -1, s_count_consent, &n) == 0 && n == 2 &&
	       s_pending(s, MBO) == 2;
}

static int s_is_registered(const struct leaver *l) { return strcmp(l->registered_on, "2025-05-15") == 0; }
static int s_has_inzage(const struct leaver *l) { return strcmp(l->inzage_on, "2025-05-20") == 0; }
static int s_is_queued(const struct leaver *l) { return l->state == LEAVER_QUEUED && l->record_id[0]; }

static int s_held_registered(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	(void)k;
	return s_marked_one(rep) && s_leaver_ok(s, "L001", s_is_registered);
}

static int s_held_inzage(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	(void)k;
	return s_marked_one(rep) && s_leaver_ok(s, "L001", s_has_inzage);
}

static int s_is_cancelled(const struct leaver *l) { return l->state == LEAVER_CANCELLED; }
static int s_is_unparked(const struct leaver *l) { return s_is_queued(l) && !l->parked[0]; }

/* Retried: queued again, pending; cancelled: the leaver cancelled, nothing
 * pending. Either way one message changed and nothing is parked. */
static int s_held_retry(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	uint64_t parked = 1;

	(void)k;
	return s_marked_one(rep) && s_leaver_ok(s, "L001", s_is_unparked) && s_pending(s, MBO) == 1 &&
	       store_outbox_parked_count(s, MBO, &parked) == 0 && parked == 0;
}

static int s_held_cancel(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	uint64_t parked = 1;

	(void)k;
	return s_marked_one(rep) && s_leaver_ok(s, "L001", s_is_cancelled) && s_pending(s, MBO) == 0 &&
	       store_outbox_parked_count(s, MBO, &parked) == 0 && parked == 0;
}

static int s_held_send(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	(void)k;
	return rep->body_case == OVERSTAPCTL__REPLY__BODY_SEND_RESULT &&
	       rep->send_result->n_queued == 1 && rep->send_result->n_refused == 0 &&
	       s_leaver_ok(s, "L001", s_is_queued) && s_pending(s, MBO) == 1;
}

/* The consent of the reply, as stored. */
static int s_stored_consent(struct store *s, const Overstapctl__Reply *rep, struct consent *kc)
{
	int64_t lid = 0;

	return rep->body_case == OVERSTAPCTL__REPLY__BODY_CONSENT &&
	       store_consent_get(s, rep->consent->id, kc, &lid) == 0;
}

/* A follow_up consent after the dossier left: stored, and the MBO told. */
static int s_held_grant(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	struct consent kc;

	(void)k;
	return s_stored_consent(s, rep, &kc) && kc.purpose == CONSENT_PURPOSE_FOLLOW_UP &&
	       !kc.withdrawn_at[0] && strcmp(rep->consent->notice_to, MBO) == 0 &&
	       s_pending(s, MBO) == 2;
}

static int s_count_withdrawal(const struct withdrawal_rec *w, void *arg)
{
	(void)w;
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned s_withdrawals(struct store *s, const char *record_id)
{
	unsigned n = 0;

	return store_withdrawals_each(s, record_id, s_count_withdrawal, &n) == 0 ? n : 0;
}

/* Withdrawn, and the MBO told with a Withdrawal. */
static int s_held_withdraw(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	struct consent kc;

	return s_stored_consent(s, rep, &kc) && strcmp(kc.id, k->consent_id) == 0 &&
	       strcmp(kc.withdrawn_at, "2025-05-25") == 0 &&
	       strcmp(rep->consent->withdrawal_to, MBO) == 0 && s_withdrawals(s, k->record_id) == 1;
}

/* Gone by its number, a tombstone under its record id, the MBO told. */
static int s_held_erase(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	struct leaver l = { 0 };
	int ok;

	ok = rep->body_case == OVERSTAPCTL__REPLY__BODY_ERASED &&
	     strcmp(rep->erased->withdrawal_to, MBO) == 0 && !s_leaver_ok(s, "L001", NULL) &&
	     store_leaver_by_record(s, k->record_id, 0, &l) == 0 && l.state == LEAVER_ERASED &&
	     l.erased_at != 0 && s_withdrawals(s, k->record_id) == 1;
	store_leaver_clear(&l);
	return ok;
}

/* The MBO's copy shredded. */
static int s_held_erase_received(struct store *s, const struct ctl_case *k,
				 const Overstapctl__Reply *rep)
{
	char sender[7] = "";
	int erased = 0;

	(void)k;
	return rep->body_case == OVERSTAPCTL__REPLY__BODY_ERASED && rep->erased->received_dossier &&
	       strcmp(rep->erased->record_id, RID_IN) == 0 &&
	       store_inbox_state(s, RID_IN, sender, &erased) == 0 && erased;
}

static int s_count_event(const struct event_rec *e, void *arg)
{
	(void)e;
	(*(unsigned *)arg)++;
	return 0;
}

/* One event in our timeline of the dossier, one message for the school. */
static int s_held_feedback(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	unsigned n = 0;

	(void)k;
	return s_marked_one(rep) && store_events_each(s, RID_IN, s_count_event, &n) == 0 && n == 1 &&
	       s_pending(s, SCHOOL) == 1;
}

static int s_held_registrations(struct store *s, const struct ctl_case *k, const Overstapctl__Reply *rep)
{
	(void)k;
	return rep->body_case == OVERSTAPCTL__REPLY__BODY_MARKED && rep->marked->imported == 2 &&
	       rep->marked->n_errors == 0 && s_pending(s, SCHOOL) == 2;
}

/* ---- the sweep's hooks ---- */

static int s_setup(struct fault_fx *fx)
{
	struct ctl_case *k = fx->arg;

	return k->setup ? k->setup(fx, k) : 0;
}

static int s_attach(struct fault_fx *fx)
{
	struct ctl_case *k = fx->arg;
	struct ctl_fx *x = malloc(sizeof(*x));

	if (!x)
		return -1;
	s_ctx(x, fx->s, k->cfg);
	x->k = k;
	fx->ctx = x;
	return 0;
}

static void s_detach(struct fault_fx *fx)
{
	free(fx->ctx);
	fx->ctx = NULL;
}

/* NULL strings anywhere in m (the oneof members that are set): protobuf-c
 * cannot pack a NULL in a repeated string, and a NULL where "" means "none"
 * (withdrawal_to, notice_to) would say something that is not so. */
static unsigned s_nulls(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned n = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *p = (const char *)m + f->offset;

		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
			continue;
		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = *(const size_t *)((const char *)m + f->quantifier_offset);
			void *const *v = *(void *const *const *)p;

			for (size_t j = 0; j < cnt; j++)
				n += !v || !v[j] ? 1
				     : f->type == PROTOBUF_C_TYPE_MESSAGE ? s_nulls(v[j]) : 0;
		} else if (f->type == PROTOBUF_C_TYPE_STRING) {
			n += !*(char *const *)p;
		} else if (*(const ProtobufCMessage *const *)p) {
			n += s_nulls(*(const ProtobufCMessage *const *)p);
		}
	}
	return n;
}

/* The reply as the CLI would read it: 0 and done, or a negative code with a
 * reason. Runs with the faults off. */
static int s_verdict(struct fault_fx *fx, const Overstapctl__Reply *rep)
{
	struct ctl_case *k = fx->arg;
	uint8_t buf[1 << 16];
	unsigned nulls = s_nulls(&rep->base);

	if (nulls) {
		fprintf(stderr, "fault_control: reply %d holds %u NULL strings\n", rep->code, nulls);
		return S_REPLY_NULL;
	}
	/* control_handle packs the reply next: it must be packable */
	if (overstapctl__reply__get_packed_size(rep) <= sizeof(buf))
		overstapctl__reply__pack(rep, buf);
	if (rep->code == 0) {
		if (k->held(fx->s, k, rep))
			return 0;
		fprintf(stderr, "fault_control: reply 0 (done), but the effect is not in the store\n");
		return S_DONE_NOT_HELD;
	}
	if (rep->code > 0 || !rep->error || !rep->error[0]) {
		fprintf(stderr, "fault_control: reply %d without a reason\n", rep->code);
		return S_FAILED_SILENT;
	}
	if (getenv("FAULT_CONTROL_DEBUG"))
		fprintf(stderr, "fault_control: failed: %d %s\n", rep->code, rep->error);
	return rep->code;
}

/* Run one request (fn) on the restored store and judge its reply. */
static int s_run(struct fault_fx *fx, s_request_fn fn)
{
	Overstapctl__Reply rep;
	struct req_ctx c = { 0 };
	int r;

	fn(fx->ctx, &rep, &c);
	fault_disarm();		/* what follows is the CLI's reading, not the handler */
	r = s_verdict(fx, &rep);
	ctl_req_done(&c);
	return r;
}

static int s_op_import(struct fault_fx *fx) { return s_run(fx, s_import_leavers); }
static int s_op_registered(struct fault_fx *fx) { return s_run(fx, s_registered); }
static int s_op_inzage(struct fault_fx *fx) { return s_run(fx, s_inzage); }
static int s_op_send(struct fault_fx *fx) { return s_run(fx, s_send); }
static int s_op_erase(struct fault_fx *fx) { return s_run(fx, s_erase); }
static int s_op_registrations(struct fault_fx *fx) { return s_run(fx, s_registrations); }
static int s_op_reimport(struct fault_fx *fx) { return s_run(fx, s_reimport); }
static int s_op_import_consents(struct fault_fx *fx) { return s_run(fx, s_import_consents); }

static int s_req_grant_fu(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	return s_grant(x, "follow_up", rep, c);
}

static int s_op_grant(struct fault_fx *fx) { return s_run(fx, s_req_grant_fu); }

static int s_req_withdraw(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	return s_withdraw(x, x->k->consent_id, rep, c);
}

static int s_op_withdraw(struct fault_fx *fx) { return s_run(fx, s_req_withdraw); }

static int s_req_status(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	return s_feedback(x, "enrolled", "2025-08-25", rep, c);
}

static int s_req_outcome(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	return s_feedback(x, "still_enrolled", "2025-10-01", rep, c);
}

static int s_req_retry(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	return s_outbox(x, 0, rep, c);
}

static int s_req_cancel(struct ctl_fx *x, Overstapctl__Reply *rep, struct req_ctx *c)
{
	return s_outbox(x, 1, rep, c);
}

static int s_op_retry(struct fault_fx *fx) { return s_run(fx, s_req_retry); }
static int s_op_cancel(struct fault_fx *fx) { return s_run(fx, s_req_cancel); }
static int s_op_status(struct fault_fx *fx) { return s_run(fx, s_req_status); }
static int s_op_outcome(struct fault_fx *fx) { return s_run(fx, s_req_outcome); }

static struct ctl_case s_ctl[] = {
	{ &s_school, s_setup_other, s_op_import, s_held_import, "", "" },
	{ &s_school, s_setup_imported, s_op_registered, s_held_registered, "", "" },
	{ &s_school, s_setup_imported, s_op_inzage, s_held_inzage, "", "" },
	{ &s_school, s_setup_ready, s_op_send, s_held_send, "", "" },
	{ &s_school, s_setup_sent, s_op_grant, s_held_grant, "", "" },
	{ &s_school, s_setup_sent_consent, s_op_withdraw, s_held_withdraw, "", "" },
	{ &s_school, s_setup_sent_consent, s_op_erase, s_held_erase, "", "" },
	{ &s_school, s_setup_parked, s_op_retry, s_held_retry, "", "" },
	{ &s_school, s_setup_parked, s_op_cancel, s_held_cancel, "", "" },
	{ &s_mbo, s_setup_mbo, s_op_status, s_held_feedback, "", "" },
	{ &s_mbo, s_setup_mbo, s_op_outcome, s_held_feedback, "", "" },
	{ &s_mbo, s_setup_mbo, s_op_registrations, s_held_registrations, "", "" },
	{ &s_mbo, s_setup_mbo, s_op_erase, s_held_erase_received, "", "" },
	{ &s_school, s_setup_imported, s_op_reimport, s_held_reimport, "", "" },
	{ &s_school, s_setup_sent, s_op_import_consents, s_held_import_consents, "", "" },
};

#define N_CTL (sizeof(s_ctl) / sizeof(s_ctl[0]))
/* Each request swept twice: single faults of every kind, then memory that
 * stays short (our allocations, and sqlite's, each failing from the n-th on),
 * so that the error paths run out of memory too: ctl_fail's copy of the reason
 * did, and ctl_dispatch read the NULL. (OpenSSL's are left out here: its
 * failures only end a request early, and the time is better spent elsewhere.) */
#define N_CASES (2 * N_CTL)
#define S_OOM_KINDS (FAULT_MALLOC | FAULT_SQLITE_MALLOC | FAULT_PERSIST)
static struct fault_case s_cases[N_CASES];

static void s_configs(void)
{
	str_copy(s_school.institution_id, sizeof(s_school.institution_id), SCHOOL);
	str_copy(s_school.institution_name, sizeof(s_school.institution_name), "Test school");
	str_copy(s_school.policy_handover, sizeof(s_school.policy_handover), "statute");
	s_school.max_message_size = 1 << 20;
	str_copy(s_school_peers[0].id, sizeof(s_school_peers[0].id), MBO);
	str_copy(s_school_peers[0].endpoint, sizeof(s_school_peers[0].endpoint), "tcp://127.0.0.1:7470");
	str_copy(s_school_peers[1].id, sizeof(s_school_peers[1].id), RECV_ONLY);	/* no endpoint */
	s_school.peers = s_school_peers;
	s_school.n_peers = 2;

	s_mbo = s_school;
	str_copy(s_mbo.institution_id, sizeof(s_mbo.institution_id), MBO);
	str_copy(s_mbo.institution_name, sizeof(s_mbo.institution_name), "Test MBO");
	str_copy(s_mbo_peers[0].id, sizeof(s_mbo_peers[0].id), SCHOOL);
	str_copy(s_mbo_peers[0].endpoint, sizeof(s_mbo_peers[0].endpoint), "tcp://127.0.0.1:7471");
	s_mbo.peers = s_mbo_peers;
	s_mbo.n_peers = 1;
}

/* leavers_good.csv as the CLI parses and sends it. */
static int s_read_leavers(void)
{
	const char *dir = getenv("OVERSTAP_TEST_DATA");
	struct strlist errors = { 0 };
	char path[512], *data = NULL;
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/leavers_good.csv", dir ? dir : "tests/data");
	if ((r = file_read_all(path, 1 << 20, &data, &len)) < 0)
		return r;
	r = leavers_parse_buffer("leavers_good.csv", data, len, &s_rows, &s_n_rows, &errors, NULL, NULL);
	free(data);
	strlist_clear(&errors);
	return r < 0 ? r : s_n_rows == 4 ? 0 : -EINVAL;
}

int main(void)
{
	static const char *names[] = { "ctl_import_leavers", "ctl_registered", "ctl_inzage",
				       "ctl_send", "ctl_consent_grant", "ctl_consent_withdraw",
				       "ctl_erase", "ctl_outbox_retry", "ctl_outbox_cancel",
				       "ctl_status_set", "ctl_outcome_record",
				       "ctl_import_registrations", "ctl_erase_received",
				       "ctl_reimport_leavers", "ctl_import_consents",
				       "ctl_import_leavers_oom", "ctl_registered_oom", "ctl_inzage_oom",
				       "ctl_send_oom", "ctl_consent_grant_oom", "ctl_consent_withdraw_oom",
				       "ctl_erase_oom", "ctl_outbox_retry_oom", "ctl_outbox_cancel_oom",
				       "ctl_status_set_oom", "ctl_outcome_record_oom",
				       "ctl_import_registrations_oom", "ctl_erase_received_oom",
				       "ctl_reimport_leavers_oom", "ctl_import_consents_oom" };
	struct CMUnitTest tests[N_CASES];
	const char *only = getenv("FAULT_CONTROL_ONLY");	/* one case, for debugging */
	uint8_t seed[CRYPTO_SIGN_KEY_LEN];
	size_t nt = 0;
	int n;

	_Static_assert(sizeof(names) / sizeof(names[0]) == N_CASES, "a name per case");
	if (fault_start("FAULT_CONTROL_DEBUG") < 0)
		return 1;
	memset(seed, 0x33, sizeof(seed));
	if (!(s_signer = crypto_sigkey_new_private(seed)) || s_read_leavers() < 0) {
		fprintf(stderr, "fault_control: cannot set up (leavers_good.csv?)\n");
		return 1;
	}
	s_keys.signer = s_signer;
	s_configs();
	for (size_t i = 0; i < N_CASES; i++) {
		s_cases[i] = (struct fault_case){ .name = names[i], .setup = s_setup,
						  .attach = s_attach, .detach = s_detach,
						  .op = s_ctl[i % N_CTL].op, .arg = &s_ctl[i % N_CTL],
						  .kinds = i < N_CTL ? 0 : S_OOM_KINDS };
		if (!only || strcmp(only, names[i]) == 0)
			tests[nt++] = (struct CMUnitTest){ names[i], fault_test_sweep, NULL, NULL, &s_cases[i] };
	}
	n = _cmocka_run_group_tests("fault_control", tests, nt, NULL, NULL);
	leavers_free(&s_rows, s_n_rows);
	crypto_sigkey_free(&s_signer);
	return n;
}
