/* Fault sweeps over the receive handlers (rx.h, fault.h, STYLE 18): each
 * writing row of the receive table, run as net_rx.c runs it (the batch's
 * transaction, the handler, commit unless *failed, else roll back), under any
 * single failed allocation, step or write. Either the message is applied as
 * in the fault-free run, or the store is as it was; and a message the handler
 * accepted (NULL, *failed == 0: net_rx.c would ack it) is in the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "fault.h"
#include "log.h"
#include "rx.h"
#include "store.h"

#define US "12AB00"
#define PEER "25LZ00"
#define PGN "123456782"
#define RID_OUT "0190a5b4-7c2e-7a3b-9f00-000000000001"	/* sent by the school */
#define MID_OUT "0190a5b4-7c2e-7a3b-9f00-0000000000c1"
#define WD_ID "0190a5b4-7c2e-7a3b-9f00-0000000000d1"	/* a withdrawal the school sent */
#define RID_IN "0190a5b4-7c2e-7a3b-9f00-0000000000b1"	/* a dossier the MBO holds */
#define MID_IN "0190a5b4-7c2e-7a3b-9f00-0000000000a1"
#define RID_NEW "0190a5b4-7c2e-7a3b-9f00-0000000000b2"	/* a dossier arriving */
#define C_HO "0190a5b4-7c2e-7a3b-9f00-0000000000e1"	/* the school's handover consent */
#define C_FU "0190a5b4-7c2e-7a3b-9f00-0000000000e2"	/* and its follow_up consent */
#define NOW 1748779200000

static crypto_sigkey *s_signer;		/* the peer's and ours: one key does for both */
static struct config s_cfg;
static struct keys s_keys;

/* One case: the message (built by setup, once the store it refers to exists)
 * and how to see that an accepted one is held. */
struct rx_case {
	Overstap__Envelope__BodyCase body;
	int (*setup)(struct fault_fx *fx, struct rx_case *c);
	int (*held)(struct store *s, const struct rx_case *c);
	uint8_t *packed;			/* the signed envelope */
	size_t len;
	char mid[CRYPTO_UUID_STR_LEN + 1];	/* its message id */
	char consent_id[CRYPTO_UUID_STR_LEN + 1];	/* outcome: the school's follow_up consent */
};

/* What attach builds around the store: the handler's context and the message. */
struct rx_fx {
	struct hctx h;
	Overstap__Envelope *e;
};

/* ---- building messages ---- */

static int s_envelope(struct rx_case *c, const ProtobufCMessage *body)
{
	size_t blen = protobuf_c_message_get_packed_size(body);
	uint8_t *b = malloc(blen ? blen : 1);
	int r;

	if (!b)
		return -ENOMEM;
	protobuf_c_message_pack(body, b);
	free(c->packed);
	c->packed = NULL;
	r = envelope_build(PEER, US, c->body, b, blen, s_signer, c->mid, &c->packed, &c->len);
	free(b);
	return r;
}

static void s_assertion(Overstap__ConsentAssertion *a, const char *id, const char *purpose)
{
	overstap__consent_assertion__init(a);
	a->consent_id = (char *)id;
	a->purpose = (char *)purpose;
	a->counterpart = US;
	a->grantor = "parent";
	a->granted_at = "2025-05-01";
	a->valid_until = "";
}

/* A handover from PEER to us; notes and consents as the case needs. */
static void s_handover(Overstap__Handover *h, Overstap__SupportNeed **needs, size_t n_needs,
		       Overstap__ConsentAssertion **consents, size_t n_consents, const char *rid)
{
	overstap__handover__init(h);
	h->record_id = (char *)rid;
	h->pgn = PGN;
	h->given_name = "Zwaantje";
	h->family_name = "Oudewater";
	h->birth_date = "2008-02-29";
	h->program = 1;
	h->cohort = "2024-2025";
	h->exit_date = "2025-07-04";
	h->destination = 2;
	h->basis = n_consents ? "consent" : "statute";
	h->support_needs = needs;
	h->n_support_needs = n_needs;
	h->consents = consents;
	h->n_consents = n_consents;
}

/* ---- fixtures ---- */

static int s_import(struct store *s, const char *ref, const char *pgn)
{
	return fault_import_leaver(s, "fixture.csv", ref, pgn, PEER, NULL, "Mevr. Kaya");
}

/* The school: R1 handed over to PEER (queued as RID_OUT) with a follow_up
 * consent, R2 imported with a PGN, a withdrawal sent for R1. */
static int s_setup_school(struct fault_fx *fx, struct rx_case *c)
{
	static const uint8_t packed[] = "the dossier as sent";
	struct store *s = fx->s;
	struct consent k = { 0 };
	struct withdrawal_rec w = { 0 };
	struct leaver l = { 0 };
	int r;

	if ((r = s_import(s, "R1", "")) < 0 || (r = s_import(s, "R2", PGN)) < 0 ||
	    (r = store_leaver_find(s, "R1", 0, &l)) < 0)
		return r;
	str_copy(k.pupil_ref, sizeof(k.pupil_ref), "R1");
	k.purpose = CONSENT_PURPOSE_FOLLOW_UP;
	str_copy(k.counterpart, sizeof(k.counterpart), PEER);
	k.grantor = CONSENT_GRANTOR_PARENT;
	str_copy(k.granted_at, sizeof(k.granted_at), "2025-05-01");
	str_copy(k.evidence_method, sizeof(k.evidence_method), "form");
	str_copy(k.evidence_ref, sizeof(k.evidence_ref), "dossier 2025/17");
	str_copy(k.recorded_by, sizeof(k.recorded_by), "mentor1");
	str_copy(k.recorded_at, sizeof(k.recorded_at), "2025-05-02");
	str_copy(w.message_id, sizeof(w.message_id), WD_ID);
	str_copy(w.peer, sizeof(w.peer), PEER);
	str_copy(w.record_id, sizeof(w.record_id), RID_OUT);
	str_copy(w.consent_ids, sizeof(w.consent_ids), C_HO);
	str_copy(w.reason, sizeof(w.reason), "withdrawn");
	w.at = NOW;
	str_copy(w.actor, sizeof(w.actor), "mentor1");
	if ((r = store_begin(s)) < 0 || (r = store_consent_add(s, l.id, l.key_id, &k)) < 0 ||
	    (r = store_outbox_add(s, MID_OUT, PEER, OVERSTAP__ENVELOPE__BODY_HANDOVER, packed,
				  sizeof(packed), l.key_id, NOW)) < 0 ||
	    (r = store_leaver_set_queued(s, l.id, RID_OUT, MID_OUT, NOW)) < 0 ||
	    (r = store_withdrawal_add(s, &w)) < 0 ||
	    (r = store_audit(s, "mentor1", "fixture", "", "", "{}")) < 0 || (r = store_commit(s)) < 0)
		store_rollback(s);
	str_copy(c->consent_id, sizeof(c->consent_id), k.id);
	store_leaver_clear(&l);
	return r;
}

/* The MBO: a dossier RID_IN from PEER under the handover consent C_HO, with
 * a care note (notes = 1) or without consent and with a note, statutory
 * (notes = 2). */
static int s_setup_mbo_with(struct fault_fx *fx, int statutory)
{
	Overstap__SupportNeed need = OVERSTAP__SUPPORT_NEED__INIT, *needs[1] = { &need };
	Overstap__ConsentAssertion a, *as[1] = { &a };
	Overstap__Handover ho;
	struct rx_case tmp = { .body = OVERSTAP__ENVELOPE__BODY_HANDOVER };
	Overstap__Envelope *e = NULL;
	Overstap__Handover *hu = NULL;
	const char *why;
	int r;

	need.code = "structure";
	need.note = "vast rooster";
	s_assertion(&a, C_HO, "handover");
	s_handover(&ho, needs, 1, as, statutory ? 0 : 1, RID_IN);
	if (statutory)	/* notes without a consent: allowed at the sender's end before */
		ho.n_consents = 0;
	if ((r = s_envelope(&tmp, &ho.base)) < 0)
		return r;
	if ((r = envelope_unpack(tmp.packed, tmp.len, 1 << 20, &e, &why)) < 0 ||
	    (r = envelope_handover_unpack(envelope_body(e), &hu, &why)) < 0)
		goto out;
	if ((r = store_begin(fx->s)) < 0 ||
	    (r = store_inbox_put(fx->s, e->message_id, PEER, hu, tmp.packed, tmp.len, NOW)) < 0 ||
	    (r = store_audit(fx->s, "peer:" PEER, "dossier.received", RID_IN, PEER, "{}")) < 0 ||
	    (r = store_commit(fx->s)) < 0)
		store_rollback(fx->s);
out:
	if (hu)
		overstap__handover__free_unpacked(hu, NULL);
	if (e)
		overstap__envelope__free_unpacked(e, NULL);
	free(tmp.packed);
	return r;
}

static int s_setup_mbo(struct fault_fx *fx, struct rx_case *c)
{
	(void)c;
	return s_setup_mbo_with(fx, 0);
}

/* ---- the messages, one per case (built after the store: ids it holds) ---- */

static int s_msg_handover(struct fault_fx *fx, struct rx_case *c)
{
	Overstap__SupportNeed need = OVERSTAP__SUPPORT_NEED__INIT, *needs[1] = { &need };
	Overstap__Handover ho;
	int r;

	if ((r = s_setup_mbo(fx, c)) < 0)
		return r;
	need.code = "job_coach";
	need.note = "";
	s_handover(&ho, needs, 1, NULL, 0, RID_NEW);
	return s_envelope(c, &ho.base);
}

static int s_msg_status(struct fault_fx *fx, struct rx_case *c)
{
	Overstap__Status m = OVERSTAP__STATUS__INIT;
	int r;

	if ((r = s_setup_school(fx, c)) < 0)
		return r;
	m.record_id = RID_OUT;
	m.status = "registered";
	m.date = "2025-05-20";
	return s_envelope(c, &m.base);
}

static int s_msg_outcome(struct fault_fx *fx, struct rx_case *c)
{
	Overstap__Outcome m = OVERSTAP__OUTCOME__INIT;
	Overstap__ConsentAssertion a;
	int r;

	if ((r = s_setup_school(fx, c)) < 0)
		return r;
	s_assertion(&a, c->consent_id, "follow_up");
	a.counterpart = PEER;
	m.record_id = RID_OUT;
	m.outcome = "still_enrolled";
	m.date = "2025-05-30";
	m.consent = &a;
	return s_envelope(c, &m.base);
}

static int s_msg_registration(struct fault_fx *fx, struct rx_case *c)
{
	Overstap__Registration m = OVERSTAP__REGISTRATION__INIT;
	int r;

	if ((r = s_setup_school(fx, c)) < 0)
		return r;
	m.pgn = PGN;
	m.registered_on = "2025-05-15";
	return s_envelope(c, &m.base);
}

static int s_msg_withdrawal(struct fault_fx *fx, struct rx_case *c, int statutory)
{
	Overstap__Withdrawal m = OVERSTAP__WITHDRAWAL__INIT;
	char *ids[1] = { C_HO };
	int r;

	if ((r = s_setup_mbo_with(fx, statutory)) < 0)
		return r;
	m.record_id = RID_IN;
	m.consent_ids = ids;
	m.n_consent_ids = 1;
	m.withdrawn_on = "2025-05-31";
	m.reason = "withdrawn";
	return s_envelope(c, &m.base);
}

static int s_msg_withdrawal_erase(struct fault_fx *fx, struct rx_case *c)
{
	return s_msg_withdrawal(fx, c, 0);
}

static int s_msg_receipt(struct fault_fx *fx, struct rx_case *c)
{
	Overstap__ErasureReceipt m = OVERSTAP__ERASURE_RECEIPT__INIT;
	char *ids[1] = { C_HO }, *erased[1] = { "dossier" };
	int r;

	if ((r = s_setup_school(fx, c)) < 0)
		return r;
	m.withdrawal_id = WD_ID;
	m.record_id = RID_OUT;
	m.consent_ids = ids;
	m.n_consent_ids = 1;
	m.erased_at = NOW;
	m.erased = erased;
	m.n_erased = 1;
	return s_envelope(c, &m.base);
}

static int s_msg_notice(struct fault_fx *fx, struct rx_case *c)
{
	Overstap__ConsentNotice m = OVERSTAP__CONSENT_NOTICE__INIT;
	Overstap__ConsentAssertion a;
	int r;

	if ((r = s_setup_mbo(fx, c)) < 0)
		return r;
	s_assertion(&a, C_FU, "follow_up");
	m.record_id = RID_IN;
	m.consent = &a;
	return s_envelope(c, &m.base);
}

static int s_msg_checkpoint(struct fault_fx *fx, struct rx_case *c)
{
	Overstap__AuditCheckpoint m = OVERSTAP__AUDIT_CHECKPOINT__INIT;
	uint8_t head[32];
	int r;

	if ((r = s_setup_mbo(fx, c)) < 0)
		return r;
	memset(head, 0x11, sizeof(head));
	m.seq = 5;
	m.head.data = head;
	m.head.len = sizeof(head);
	return s_envelope(c, &m.base);
}

/* ---- is an accepted message held? (read with the faults off) ---- */

static int s_held_inbox(struct store *s, const struct rx_case *c)
{
	char sender[7] = "";
	int erased = 1;

	(void)c;
	return store_inbox_state(s, RID_NEW, sender, &erased) == 0 && !erased &&
	       strcmp(sender, PEER) == 0;
}

static int s_event_cb(const struct event_rec *e, void *arg)
{
	const struct rx_case *c = arg;

	return strcmp(e->message_id, c->mid) == 0;
}

static int s_held_event(struct store *s, const struct rx_case *c)
{
	return store_events_each(s, RID_OUT, s_event_cb, (void *)c) == 1;
}

static int s_held_registration(struct store *s, const struct rx_case *c)
{
	struct leaver l;
	int ok;

	(void)c;
	ok = store_leaver_find(s, "R2", 0, &l) == 0 && strcmp(l.registered_on, "2025-05-15") == 0;
	store_leaver_clear(&l);
	return ok;
}

static int s_held_withdrawal(struct store *s, const struct rx_case *c)
{
	char sender[7] = "";
	int erased = 0;

	return store_withdrawal_rx_seen(s, c->mid) == 1 &&
	       store_inbox_state(s, RID_IN, sender, &erased) == 0 && erased;
}

static int s_receipt_cb(const struct withdrawal_rec *w, void *arg)
{
	const struct rx_case *c = arg;

	return strcmp(w->message_id, WD_ID) == 0 && strcmp(w->receipt_id, c->mid) == 0;
}

static int s_held_receipt(struct store *s, const struct rx_case *c)
{
	return store_withdrawals_each(s, RID_OUT, s_receipt_cb, (void *)c) == 1;
}

static int s_one(const void *p, size_t n, void *arg)
{
	(void)p, (void)n, (void)arg;
	return 1;
}

static int s_held_notice(struct store *s, const struct rx_case *c)
{
	(void)c;
	return store_assertions_each(s, RID_IN, s_one, NULL) == 1;
}

static int s_held_checkpoint(struct store *s, const struct rx_case *c)
{
	struct checkpoint_rec k;

	(void)c;
	return store_checkpoint_get(s, PEER, CHECKPOINT_THEIRS, &k) == 0 && k.seq == 5;
}

/* ---- the sweep's hooks ---- */

static int s_setup(struct fault_fx *fx)
{
	struct rx_case *c = fx->arg;

	return c->setup(fx, c);
}

static int s_attach(struct fault_fx *fx)
{
	struct rx_case *c = fx->arg;
	struct rx_fx *x = calloc(1, sizeof(*x));
	const char *why;

	if (!x)
		return -1;
	x->h.store = fx->s;
	x->h.cfg = &s_cfg;
	x->h.keys = &s_keys;
	if (envelope_unpack(c->packed, c->len, 1 << 20, &x->e, &why) < 0) {
		fprintf(stderr, "fault_rx: the case's envelope does not unpack: %s\n", why);
		free(x);
		return -1;
	}
	fx->ctx = x;
	return 0;
}

static void s_detach(struct fault_fx *fx)
{
	struct rx_fx *x = fx->ctx;

	if (!x)
		return;
	overstap__envelope__free_unpacked(x->e, NULL);
	free(x);
}

/* A refusal as a result: its reason, hashed (the same in every run). */
static int s_reason(const char *why)
{
	unsigned h = 5381;

	for (const char *p = why; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return 1 + (int)(h % 100000);
}

#define S_ACK_NOT_HELD 999999

/* net_rx.c's s_rx_one and net_router_handle for a batch of one. */
static int s_op(struct fault_fx *fx)
{
	struct rx_case *c = fx->arg;
	struct rx_fx *x = fx->ctx;
	const struct rx_row *row = rx_find(c->body);
	const char *why;
	int failed = 0, r;

	if ((r = store_begin(fx->s)) < 0)
		return r;
	why = row->fn(&x->h, &(struct rx_msg){ .e = x->e, .packed = c->packed, .len = c->len },
		      &failed);
	if (failed) {
		store_rollback(fx->s);
		return -EIO;
	}
	if ((r = store_commit(fx->s)) < 0) {
		store_rollback(fx->s);
		return r;
	}
	if (why) {
		if (getenv("FAULT_RX_DEBUG"))
			fprintf(stderr, "fault_rx: refused: %s\n", why);
		return s_reason(why);
	}
	/* Accepted: net_rx.c acks it now, a promise that it is on disk. */
	fault_disarm();
	if (!c->held(fx->s, c)) {
		fprintf(stderr, "fault_rx: %s: ACCEPTED (ack) but not in the store\n",
			envelope_body_name(c->body));
		return S_ACK_NOT_HELD;
	}
	return 0;
}

static struct rx_case s_rx[] = {
	{ .body = OVERSTAP__ENVELOPE__BODY_HANDOVER, .setup = s_msg_handover, .held = s_held_inbox },
	{ .body = OVERSTAP__ENVELOPE__BODY_STATUS, .setup = s_msg_status, .held = s_held_event },
	{ .body = OVERSTAP__ENVELOPE__BODY_OUTCOME, .setup = s_msg_outcome, .held = s_held_event },
	{ .body = OVERSTAP__ENVELOPE__BODY_REGISTRATION, .setup = s_msg_registration, .held = s_held_registration },
	{ .body = OVERSTAP__ENVELOPE__BODY_WITHDRAWAL, .setup = s_msg_withdrawal_erase, .held = s_held_withdrawal },
	{ .body = OVERSTAP__ENVELOPE__BODY_ERASURE_RECEIPT, .setup = s_msg_receipt, .held = s_held_receipt },
	{ .body = OVERSTAP__ENVELOPE__BODY_CONSENT_NOTICE, .setup = s_msg_notice, .held = s_held_notice },
	{ .body = OVERSTAP__ENVELOPE__BODY_AUDIT_CHECKPOINT, .setup = s_msg_checkpoint, .held = s_held_checkpoint },
};

#define N_CASES (sizeof(s_rx) / sizeof(s_rx[0]))
static struct fault_case s_cases[N_CASES];

int main(void)
{
	static const char *names[] = { "rx_handover", "rx_status", "rx_outcome", "rx_registration",
				       "rx_withdrawal", "rx_receipt", "rx_notice", "rx_checkpoint" };
	struct CMUnitTest tests[N_CASES];
	uint8_t seed[CRYPTO_SIGN_KEY_LEN];
	int n;

	_Static_assert(sizeof(names) / sizeof(names[0]) == N_CASES, "a name per case");
	if (fault_start("FAULT_RX_DEBUG") < 0)
		return 1;
	memset(seed, 0x33, sizeof(seed));
	s_signer = crypto_sigkey_new_private(seed);
	if (!s_signer)
		return 1;
	s_keys.signer = s_signer;
	str_copy(s_cfg.institution_id, sizeof(s_cfg.institution_id), US);
	s_cfg.max_message_size = 1 << 20;
	for (size_t i = 0; i < N_CASES; i++) {
		s_cases[i] = (struct fault_case){ .name = names[i], .setup = s_setup,
						  .attach = s_attach, .detach = s_detach,
						  .op = s_op, .arg = &s_rx[i] };
		tests[i] = (struct CMUnitTest){ names[i], fault_test_sweep, NULL, NULL, &s_cases[i] };
	}
	n = _cmocka_run_group_tests("fault_rx", tests, N_CASES, NULL, NULL);
	for (size_t i = 0; i < N_CASES; i++)
		free(s_rx[i].packed);
	crypto_sigkey_free(&s_signer);
	return n;
}
