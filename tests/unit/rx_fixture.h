/* rx_fixture: two sides of a federation for the receive-handler tests, each
 * with a real store in a temp dir, its own signing key and a config naming
 * the other as a peer: the school "12AB00" and the MBO "25XY00". Messages go
 * the way the daemon sends them: queued through outbox.c (signed, sealed,
 * stored), read back from the sender's outbox, unpacked and verified as the
 * transport does, then applied by the row of the receive table inside one
 * transaction (committed, or rolled back when the handler says the store
 * failed). Static inline helpers: include after cmocka.h. */
#ifndef OVERSTAP_RX_FIXTURE_H
#define OVERSTAP_RX_FIXTURE_H

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "config.h"
#include "consent.h"
#include "crypto.h"
#include "envelope.h"
#include "hctx.h"
#include "keys.h"
#include "outbox.h"
#include "rx.h"
#include "store.h"

#define FX_SCHOOL "12AB00"
#define FX_MBO "25XY00"
#define FX_OTHER "30ZZ00"	/* a third institution, not a peer of either */
#define FX_PGN "123456782"	/* passes the elfproef */
#define FX_PGN2 "111222333"
#define FX_NOTE "needs a quiet room at exams"	/* a free-text care note */

struct fx_side {
	char id[7];
	char path[160];
	struct store *s;
	struct config *cfg;		/* owned; cfg->peers points at peer */
	struct peer_cfg peer;		/* the other side */
	struct keys keys;
	struct hctx h;
};

struct fx {
	char dir[64];
	struct fx_side school, mbo;
};

/* A message as it travels: the envelope bytes the sender's outbox holds. */
struct fx_wire {
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t *packed;
	size_t len;
};

static inline void fx_wire_free(struct fx_wire *w)
{
	free(w->packed);
	w->packed = NULL;
	w->len = 0;
}

static inline void fx_side_open(struct fx *f, struct fx_side *sd, const char *id)
{
	char err[256];

	str_copy(sd->id, sizeof(sd->id), id);
	snprintf(sd->path, sizeof(sd->path), "%s/%s.db", f->dir, id);
	assert_int_equal(keys_secret_new(&sd->keys), 0);
	assert_int_equal(crypto_random(sd->keys.master, CRYPTO_KEY_LEN), 0);
	assert_int_equal(crypto_sign_keygen(sd->keys.sign_seed, sd->keys.sign_public), 0);
	sd->keys.signer = crypto_sigkey_new_private(sd->keys.sign_seed);
	assert_non_null(sd->keys.signer);
	assert_int_equal(store_open(sd->path, sd->keys.master, &sd->s, err, sizeof(err)), 0);
	sd->cfg = calloc(1, sizeof(*sd->cfg));
	assert_non_null(sd->cfg);
	str_copy(sd->cfg->institution_id, sizeof(sd->cfg->institution_id), id);
	sd->cfg->max_message_size = 1 << 20;
	str_copy(sd->cfg->policy_handover, sizeof(sd->cfg->policy_handover), "statute");
	sd->cfg->retention_sent_days = 365;
	sd->cfg->retention_received_days = 730;
	sd->cfg->retention_outcomes_days = 1825;
	sd->cfg->peers = &sd->peer;
	sd->cfg->n_peers = 1;
	sd->h.store = sd->s;
	sd->h.cfg = sd->cfg;
	sd->h.keys = &sd->keys;
}

/* Each side knows the other as a peer with an endpoint and its signing key. */
static inline void fx_side_peer(struct fx_side *sd, const struct fx_side *other)
{
	str_copy(sd->peer.id, sizeof(sd->peer.id), other->id);
	snprintf(sd->peer.endpoint, sizeof(sd->peer.endpoint), "tcp://127.0.0.1:7470");
	memcpy(sd->peer.sign_public, other->keys.sign_public, sizeof(sd->peer.sign_public));
}

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_rx.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	fx_side_open(f, &f->school, FX_SCHOOL);
	fx_side_open(f, &f->mbo, FX_MBO);
	fx_side_peer(&f->school, &f->mbo);
	fx_side_peer(&f->mbo, &f->school);
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(&f->school.s);
	store_close(&f->mbo.s);
	keys_clear(&f->school.keys);
	keys_clear(&f->mbo.keys);
	free(f->school.cfg);
	free(f->mbo.cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- sending and receiving ---- */

/* The envelope with message id mid as the sender's outbox holds it. */
static inline void fx_wire_of(struct fx_side *from, const char *mid, struct fx_wire *w)
{
	str_copy(w->mid, sizeof(w->mid), mid);
	assert_int_equal(store_outbox_get(from->s, mid, &w->packed, &w->len), 0);
}

/* Queue body from `from` to `to` through the outbox, and return the wire. */
static inline void fx_send(struct fx_side *from, const struct fx_side *to,
			   Overstap__Envelope__BodyCase bc, const ProtobufCMessage *body, struct fx_wire *w)
{
	char mid[CRYPTO_UUID_STR_LEN + 1];

	assert_int_equal(outbox_queue_msg(&from->h, to->id, bc, body, mid), 0);
	fx_wire_of(from, mid, w);
}

/* A message built and signed by `from` without going through its outbox: for
 * what a peer might send that our own code never would. */
static inline void fx_forge(struct fx_side *from, const struct fx_side *to,
			    Overstap__Envelope__BodyCase bc, const ProtobufCMessage *body, struct fx_wire *w)
{
	size_t blen = protobuf_c_message_get_packed_size(body);
	uint8_t *b = malloc(blen ? blen : 1);

	protobuf_c_message_pack(body, b);
	assert_int_equal(envelope_build(from->id, to->id, bc, b, blen, from->keys.signer, w->mid,
					&w->packed, &w->len), 0);
	free(b);
}

/* Raw body bytes (perhaps malformed) in a properly signed envelope. */
static inline void fx_forge_raw(struct fx_side *from, const struct fx_side *to,
				Overstap__Envelope__BodyCase bc, const uint8_t *b, size_t blen,
				struct fx_wire *w)
{
	assert_int_equal(envelope_build(from->id, to->id, bc, b, blen, from->keys.signer, w->mid,
					&w->packed, &w->len), 0);
}

/* Apply a wire at `to` as the transport does: unpack, check the sender's
 * signature with the key `to` has configured, look the body up in the
 * receive table, run its prep (on the workers in the daemon, here) and its
 * handler in a transaction. Returns the refusal (NULL = applied); *failed
 * as the handler set it. */
static inline const char *fx_rx_ex(struct fx_side *to, const struct fx_wire *w, int *failed,
				   int with_prep)
{
	Overstap__Envelope *e = NULL;
	crypto_sigkey *pub = crypto_sigkey_new_public(to->peer.sign_public);
	const struct rx_row *row;
	struct rx_msg m = { .packed = w->packed, .len = w->len };
	const char *why = NULL;

	*failed = 0;
	assert_non_null(pub);
	assert_int_equal(envelope_unpack(w->packed, w->len, (size_t)to->cfg->max_message_size, &e, &why), 0);
	assert_int_equal(envelope_verify(e, pub), 0);
	crypto_sigkey_free(&pub);
	assert_string_equal(e->recipient, to->id);
	row = rx_find(e->body_case);
	assert_non_null(row);
	if (row->needs_tx)
		assert_int_equal(store_begin(to->s), 0);
	m.e = e;
	if (row->prep && with_prep)
		m.prep = row->prep(&to->h, &m);
	why = row->fn(&to->h, &m, failed);
	if (row->needs_tx) {
		if (*failed)
			store_rollback(to->s);
		else
			assert_int_equal(store_commit(to->s), 0);
	}
	if (m.prep)
		row->prep_free(m.prep);
	overstap__envelope__free_unpacked(e, NULL);
	return why;
}

static inline const char *fx_rx(struct fx_side *to, const struct fx_wire *w, int *failed)
{
	return fx_rx_ex(to, w, failed, 1);
}

/* Send and apply in one go; 0 for *failed expected. */
static inline const char *fx_deliver(struct fx_side *from, struct fx_side *to,
				     Overstap__Envelope__BodyCase bc, const ProtobufCMessage *body)
{
	struct fx_wire w = { 0 };
	const char *why;
	int failed;

	fx_send(from, to, bc, body, &w);
	why = fx_rx(to, &w, &failed);
	assert_int_equal(failed, 0);
	fx_wire_free(&w);
	return why;
}

/* ---- reading a store back ---- */

struct fx_audit_q {
	const char *action, *subject;
	unsigned n;
	char detail[1024];
	char actor[64];
};

static inline int fx_audit_cb(const struct audit_entry *e, void *arg)
{
	struct fx_audit_q *q = arg;

	if (strcmp(e->action, q->action) != 0 || (q->subject && strcmp(e->subject, q->subject) != 0))
		return 0;
	q->n++;
	str_copy(q->detail, sizeof(q->detail), e->detail);
	str_copy(q->actor, sizeof(q->actor), e->actor);
	return 0;
}

/* How many entries of action (about subject, NULL = any); the last one's
 * detail in detail (may be NULL). */
static inline unsigned fx_audits(struct fx_side *sd, const char *action, const char *subject,
				 char *detail, size_t dlen)
{
	struct fx_audit_q q = { .action = action, .subject = subject };

	assert_int_equal(audit_each(store_audit_peek(sd->s), 1, fx_audit_cb, &q), 0);
	if (detail)
		str_copy(detail, dlen, q.detail);
	return q.n;
}

static inline unsigned fx_audit_total(struct fx_side *sd)
{
	int64_t seq;
	uint8_t mac[AUDIT_MAC_LEN];

	assert_int_equal(audit_head(store_audit_peek(sd->s), &seq, mac), 0);
	return (unsigned)seq;
}

static inline int fx_count_event_cb(const struct event_rec *e, void *arg)
{
	(void)e;
	(*(unsigned *)arg)++;
	return 0;
}

static inline unsigned fx_events(struct fx_side *sd, const char *record_id)
{
	unsigned n = 0;

	assert_int_equal(store_events_each(sd->s, record_id, fx_count_event_cb, &n), 0);
	return n;
}

static inline uint64_t fx_inbox_count(struct fx_side *sd)
{
	uint64_t n = 99;

	assert_int_equal(store_inbox_count(sd->s, &n), 0);
	return n;
}

/* Queued messages for peer, decrypted (caller frees with fx_pending_free). */
static inline size_t fx_pending(struct fx_side *sd, const char *peer, struct outbox_msg **out)
{
	size_t n = 0;

	*out = NULL;
	assert_int_equal(store_outbox_pending(sd->s, peer, "", 100, out, &n), 0);
	return n;
}

static inline void fx_pending_free(struct outbox_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].packed);
	free(m);
}

/* Run one SQL script on the store file through a connection of our own: a
 * way to make the store fail under a handler (a table gone), or to back-date
 * rows. */
static inline void fx_sql(struct fx_side *sd, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	assert_int_equal(sqlite3_open(sd->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
	sqlite3_close(db);
}

/* ---- the school's side of a handover ---- */

/* Import one leaver (destination dest) at the school; its row into *l. */
static inline void fx_import(struct fx *f, const char *ref, const char *pgn, const char *dest,
			     struct leaver *l)
{
	Overstapctl__Leaver lv, *rows[1] = { &lv };
	struct strlist errors = { 0 };

	overstapctl__leaver__init(&lv);
	lv.pupil_ref = (char *)ref;
	lv.pgn = (char *)pgn;
	lv.given_name = "Given";
	lv.family_name = "Family";
	lv.birth_date = "2008-02-29";
	lv.program = "pro";
	lv.cohort = "2024-2025";
	lv.exit_date = "2025-07-04";
	lv.destination_type = "mbo_entree";
	lv.destination_institution = (char *)dest;
	lv.advice = "entree";
	lv.advice_followed = "yes";
	lv.level_taal = "1F";
	lv.level_rekenen = "2F";
	lv.line = 2;
	assert_int_equal(store_leavers_import(f->school.s, "leavers.csv", rows, 1, "mentor1", &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_int_equal(store_leaver_find(f->school.s, ref, 0, l), 0);
}

/* A consent of l at the school, granted 2025-01-01 by the pupil. */
static inline void fx_consent(struct fx *f, const struct leaver *l, int purpose,
			      const char *counterpart, struct consent *c)
{
	memset(c, 0, sizeof(*c));
	str_copy(c->pupil_ref, sizeof(c->pupil_ref), l->pupil_ref);
	c->purpose = purpose;
	str_copy(c->counterpart, sizeof(c->counterpart), counterpart);
	c->grantor = CONSENT_GRANTOR_PUPIL;
	str_copy(c->granted_at, sizeof(c->granted_at), "2025-01-01");
	str_copy(c->evidence_method, sizeof(c->evidence_method), "form");
	str_copy(c->evidence_ref, sizeof(c->evidence_ref), "DOC-1");
	str_copy(c->recorded_by, sizeof(c->recorded_by), "mentor1");
	str_copy(c->recorded_at, sizeof(c->recorded_at), "2025-01-01");
	assert_int_equal(store_consent_add(f->school.s, l->id, l->key_id, c), 0);
}

/* The school sends l's dossier to l's destination: a Handover with basis,
 * one support need (with a care note when notes), the consents ks[0..n) as
 * assertions; queued in the school's outbox under the pupil key, the leaver
 * marked queued. record_id gets the dossier's record id; *w the wire. */
static inline void fx_handover(struct fx *f, struct leaver *l, const char *basis, int notes,
			       const struct consent *ks, size_t n, char record_id[CRYPTO_UUID_STR_LEN + 1],
			       struct fx_wire *w)
{
	Overstap__Handover ho = OVERSTAP__HANDOVER__INIT;
	Overstap__SupportNeed sn = OVERSTAP__SUPPORT_NEED__INIT, *sns[1] = { &sn };
	Overstap__ConsentAssertion as[4], *asp[4];
	char mid[CRYPTO_UUID_STR_LEN + 1];
	uint8_t *body;
	size_t blen;
	int64_t id = l->id;

	assert_true(n <= 4);
	assert_int_equal(crypto_uuidv7(record_id), 0);
	for (size_t i = 0; i < n; i++) {
		envelope_assertion_from(&as[i], &ks[i]);
		asp[i] = &as[i];
	}
	ho.record_id = record_id;
	ho.pgn = FX_PGN;
	ho.given_name = "Given";
	ho.family_name = "Family";
	ho.birth_date = "2008-02-29";
	ho.program = OVERSTAP__PROGRAM__PRO;
	ho.cohort = "2024-2025";
	ho.exit_date = "2025-07-04";
	ho.destination = OVERSTAP__DESTINATION__MBO_ENTREE;
	sn.code = "extra_time";
	sn.note = notes ? FX_NOTE : "";
	ho.support_needs = sns;
	ho.n_support_needs = 1;
	ho.basis = (char *)basis;
	ho.registered_on = "2025-05-01";
	ho.consents = asp;
	ho.n_consents = n;
	blen = overstap__handover__get_packed_size(&ho);
	body = malloc(blen);
	overstap__handover__pack(&ho, body);
	assert_int_equal(outbox_queue(&f->school.h,
				      &(struct outbox_item){ .peer = l->destination_institution,
							     .body_case = OVERSTAP__ENVELOPE__BODY_HANDOVER,
							     .body = body, .blen = blen, .key_id = l->key_id },
				      mid), 0);
	free(body);
	assert_int_equal(store_leaver_set_queued(f->school.s, id, record_id, mid, time_now_ms()), 0);
	fx_wire_of(&f->school, mid, w);
	store_leaver_clear(l);
	assert_int_equal(store_leaver_load(f->school.s, id, 0, l), 0);
	assert_int_equal(l->state, LEAVER_QUEUED);
}

/* The MBO acknowledges the dossier: the school's leaver becomes delivered. */
static inline void fx_acked(struct fx *f, struct leaver *l, int64_t at)
{
	int64_t id = l->id;

	assert_int_equal(store_outbox_ack(f->school.s, l->destination_institution, l->message_id, 0,
					  NULL, at, 1, at), 0);
	store_leaver_clear(l);
	assert_int_equal(store_leaver_load(f->school.s, id, 0, l), 0);
	assert_int_equal(l->state, LEAVER_DELIVERED);
}

/* A whole handover from import to the MBO's inbox: the school's leaver in
 * *l (delivered), the consents (handover and follow_up for the MBO, only
 * those asked for) in ks. */
static inline void fx_dossier_at_mbo(struct fx *f, const char *ref, const char *basis, int notes,
				     int with_handover_consent, int with_follow_up, struct leaver *l,
				     struct consent ks[2], size_t *nk,
				     char record_id[CRYPTO_UUID_STR_LEN + 1])
{
	struct fx_wire w = { 0 };
	int failed;

	*nk = 0;
	fx_import(f, ref, FX_PGN, FX_MBO, l);
	if (with_handover_consent)
		fx_consent(f, l, CONSENT_PURPOSE_HANDOVER, FX_MBO, &ks[(*nk)++]);
	if (with_follow_up)
		fx_consent(f, l, CONSENT_PURPOSE_FOLLOW_UP, FX_MBO, &ks[(*nk)++]);
	fx_handover(f, l, basis, notes, ks, *nk, record_id, &w);
	assert_null(fx_rx(&f->mbo, &w, &failed));
	assert_int_equal(failed, 0);
	fx_acked(f, l, time_now_ms());
	fx_wire_free(&w);
}

#endif
