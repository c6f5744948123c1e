/* Fault sweeps over the store (fault.h, STYLE 18): every operation here, under
 * any single failed allocation, sqlite step or write, either completes or
 * leaves the store as it was, and the same operation then works. Each op does
 * what its caller in the daemon does (transaction, audit entry, rollback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "leavers.h"
#include "outcomes.h"
#include "store.h"

#define PEER "25LZ00"
#define MID_IN "0190a5b4-7c2e-7a3b-9f00-0000000000a1"
#define RID_IN "0190a5b4-7c2e-7a3b-9f00-0000000000b1"
#define MID_OUT "0190a5b4-7c2e-7a3b-9f00-0000000000c1"
#define RID_OUT "0190a5b4-7c2e-7a3b-9f00-000000000001"	/* outcomes_good.csv's first */

static struct { char *data; size_t len; } s_leavers_csv, s_outcomes_csv;

static void s_read_data(const char *name, char **data, size_t *len)
{
	const char *dir = getenv("OVERSTAP_TEST_DATA");
	char path[512];
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
	fp = fopen(path, "rb");
	if (!fp) {	/* before any test runs, cmocka's asserts would exit unexplained */
		fprintf(stderr, "test_fault_store: cannot read %s (set OVERSTAP_TEST_DATA to tests/data)\n",
			path);
		exit(1);
	}
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	*data = malloc((size_t)n + 1);
	assert_int_equal(fread(*data, 1, (size_t)n, fp), (size_t)n);
	(*data)[n] = '\0';
	*len = (size_t)n;
	fclose(fp);
}

/* ---- fixtures ---- */

static int s_import_one(struct store *s, const char *ref, const char *pgn)
{
	return fault_import_leaver(s, "fixture.csv", ref, pgn, PEER,
				   "job_coach;structure: vast rooster", "Mevr. Kaya");
}

static void s_handover(Overstap__Handover *h, const char *record_id, const char *pgn)
{
	overstap__handover__init(h);
	h->record_id = (char *)record_id;
	h->pgn = (char *)pgn;
	h->cohort = "2024-2025";
	h->program = 1;
	h->destination = 2;
	h->exit_date = "2025-07-04";
	h->basis = "statute";
}

static const uint8_t s_packed[] = "a signed envelope, as far as the store is concerned";

static struct consent s_consent(void)
{
	struct consent k = { 0 };

	str_copy(k.pupil_ref, sizeof(k.pupil_ref), "R1");
	k.purpose = CONSENT_PURPOSE_FOLLOW_UP;
	str_copy(k.counterpart, sizeof(k.counterpart), PEER);
	k.grantor = CONSENT_GRANTOR_PARENT;
	str_copy(k.granted_at, sizeof(k.granted_at), "2025-05-01");
	str_copy(k.evidence_method, sizeof(k.evidence_method), "form");
	str_copy(k.evidence_ref, sizeof(k.evidence_ref), "dossier 2025/17");
	str_copy(k.recorded_by, sizeof(k.recorded_by), "mentor1");
	str_copy(k.recorded_at, sizeof(k.recorded_at), "2025-05-02");
	return k;
}

static struct event_rec s_event(const char *mid, int inbound)
{
	struct event_rec e = { 0 };

	str_copy(e.message_id, sizeof(e.message_id), mid);
	str_copy(e.record_id, sizeof(e.record_id), RID_OUT);
	e.inbound = inbound;
	str_copy(e.peer, sizeof(e.peer), PEER);
	e.event = OUTCOME_EV_ENROLLED;
	str_copy(e.date, sizeof(e.date), "2025-08-25");
	e.at = 1748779200000;
	str_copy(e.actor, sizeof(e.actor), "peer:" PEER);
	e.state = -1;
	return e;
}

/* Some of everything, so that "unchanged" is checked against a store with
 * rows in every table an op touches: two leavers (R1 queued with a consent,
 * an outbox entry and events), a received dossier, audit entries. */
static int s_setup_full(struct fault_fx *fx)
{
	struct store *s = fx->s;
	Overstap__Handover h;
	struct consent k = s_consent();
	struct event_rec e = s_event("0190a5b4-7c2e-7a3b-9f00-0000000000d1", 1);
	struct leaver l = { 0 };
	int r;

	s_handover(&h, "0190a5b4-7c2e-7a3b-9f00-0000000000b0", "123456782");
	if ((r = s_import_one(s, "R1", "111222333")) < 0 || (r = s_import_one(s, "R2", "")) < 0 ||
	    (r = store_leaver_find(s, "R1", 0, &l)) < 0)
		return r;
	if ((r = store_begin(s)) < 0 || (r = store_consent_add(s, l.id, l.key_id, &k)) < 0 ||
	    (r = store_outbox_add(s, MID_OUT, PEER, 3, s_packed, sizeof(s_packed), l.key_id,
				  1748779200000)) < 0 ||
	    (r = store_leaver_set_queued(s, l.id, RID_OUT, MID_OUT, 1748779200000)) < 0 ||
	    (r = store_outbox_set_consent(s, MID_OUT, k.id, "")) < 0 ||
	    (r = store_event_add(s, &e)) < 0 ||
	    (r = store_inbox_put(s, "0190a5b4-7c2e-7a3b-9f00-0000000000a0", PEER, &h, s_packed,
				 sizeof(s_packed), 1748779200000)) < 0 ||
	    (r = store_audit(s, "mentor1", "fixture", "", "", "{}")) < 0 ||
	    (r = store_commit(s)) < 0)
		store_rollback(s);
	store_leaver_clear(&l);
	return r;
}

/* ---- the operations, as their callers in the daemon do them ---- */

/* End a transaction the way the daemon does: commit on success, else roll back. */
static int s_end(struct store *s, int r)
{
	if (r >= 0 && (r = store_commit(s)) == 0)
		return 0;
	store_rollback(s);
	return r;
}

/* net.c s_rx_handover: store and audit in the batch's transaction. */
static int s_op_inbox_put(struct fault_fx *fx)
{
	Overstap__Handover h;
	int r;

	s_handover(&h, RID_IN, "123456782");
	if ((r = store_begin(fx->s)) < 0)
		return r;
	r = store_inbox_put(fx->s, MID_IN, PEER, &h, s_packed, sizeof(s_packed), 1748779200000);
	if (r == 0)
		r = store_audit(fx->s, "peer:" PEER, "dossier.received", RID_IN, PEER,
				"{\"purpose\":\"handover\",\"basis\":\"statute\"}");
	return s_end(fx->s, r);
}

/* net.c: a status received, in the batch's transaction. */
static int s_op_event_add(struct fault_fx *fx)
{
	struct event_rec e = s_event("0190a5b4-7c2e-7a3b-9f00-0000000000d2", 1);
	int r;

	if ((r = store_begin(fx->s)) < 0)
		return r;
	if ((r = store_event_add(fx->s, &e)) == 0)
		r = store_audit(fx->s, e.actor, "status.received", e.record_id, PEER, "{}");
	return s_end(fx->s, r);
}

/* The bare call, as the API allows it: one statement on its own. */
static int s_op_event_add_bare(struct fault_fx *fx)
{
	struct event_rec e = s_event("0190a5b4-7c2e-7a3b-9f00-0000000000d3", 0);

	return store_event_add(fx->s, &e);
}

/* control_consent.c ctl_consent_grant: find, add, audit, commit. */
static int s_op_consent_put(struct fault_fx *fx)
{
	struct consent k = s_consent();
	struct leaver l = { 0 };
	int r;

	str_copy(k.pupil_ref, sizeof(k.pupil_ref), "R2");
	if ((r = store_leaver_find(fx->s, "R2", 1, &l)) < 0)
		return r;
	if ((r = store_begin(fx->s)) == 0) {
		if ((r = store_consent_add(fx->s, l.id, l.key_id, &k)) == 0)
			r = store_audit(fx->s, "mentor1", "consent.granted", "", PEER, "{}");
		r = s_end(fx->s, r);
	}
	store_leaver_clear(&l);
	return r;
}

/* control.c s_send_one: outbox entry and leaver state in one transaction. */
static int s_op_outbox_add(struct fault_fx *fx)
{
	static const char mid[] = "0190a5b4-7c2e-7a3b-9f00-0000000000c2";
	static const char rid[] = "0190a5b4-7c2e-7a3b-9f00-0000000000e2";
	struct leaver l = { 0 };
	int r;

	if ((r = store_leaver_find(fx->s, "R2", 0, &l)) < 0)
		return r;
	if ((r = store_begin(fx->s)) == 0) {
		r = store_outbox_add(fx->s, mid, PEER, 3, s_packed, sizeof(s_packed), l.key_id,
				     1748779200000);
		if (r == 0)
			r = store_leaver_set_queued(fx->s, l.id, rid, mid, 1748779200000);
		if (r == 0)
			r = store_audit(fx->s, "mentor1", "disclosure.queued", rid, PEER, "{}");
		r = s_end(fx->s, r);
	}
	store_leaver_clear(&l);
	return r;
}

/* control.c s_import: parse leavers_good.csv and store it (all or nothing). */
static int s_op_leavers_import(struct fault_fx *fx)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	r = leavers_parse_buffer("leavers_good.csv", s_leavers_csv.data, s_leavers_csv.len, &rows,
				 &n, &errors, NULL, NULL);
	if (r == 0)
		r = store_leavers_import(fx->s, "leavers_good.csv", rows, n, "mentor1", &errors);
	leavers_free(&rows, n);
	strlist_clear(&errors);
	return r < 0 ? r : (int)n;
}

/* control_feedback.c ctl_feedback, from the store's side: parse
 * outcomes_good.csv, then every row an event and an audit entry, in one
 * transaction. (Queueing the messages needs the daemon; not here.) */
static int s_op_outcomes_import(struct fault_fx *fx)
{
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	r = outcomes_parse_buffer("outcomes_good.csv", s_outcomes_csv.data, s_outcomes_csv.len,
				  "2025-12-31", &rows, &n, &errors, NULL, NULL);
	strlist_clear(&errors);
	if (r < 0 || (r = store_begin(fx->s)) < 0)
		goto out;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct event_rec e = s_event("", 0);

		snprintf(e.message_id, sizeof(e.message_id), "0190a5b4-7c2e-7a3b-9f00-%012zx", 0xf00 + i);
		str_copy(e.record_id, sizeof(e.record_id), rows[i].record_id);
		e.event = rows[i].event;
		str_copy(e.date, sizeof(e.date), rows[i].date);
		e.level = rows[i].level;
		str_copy(e.actor, sizeof(e.actor), "mentor1");
		if ((r = store_event_add(fx->s, &e)) == 0)
			r = store_audit(fx->s, "mentor1", "disclosure.queued", e.record_id, PEER,
					"{\"basis\":\"statute\"}");
	}
	r = s_end(fx->s, r);
out:
	outcomes_free(&rows);
	return r < 0 ? r : (int)n;
}

/* control_erase.c s_erase_leaver: withdraw the consents, erase, audit. */
static int s_consent_collect(const struct consent *c, int64_t leaver_id, void *arg)
{
	struct strlist *ids = arg;

	(void)leaver_id;
	return c->withdrawn_at[0] ? 0 : strlist_addf(ids, "%s", c->id);
}

static int s_op_leaver_erase(struct fault_fx *fx)
{
	struct strlist ids = { 0 };
	struct leaver l = { 0 };
	unsigned events = 0, cancelled = 0;
	int r;

	if ((r = store_leaver_find(fx->s, "R1", 0, &l)) < 0)
		return r;
	if ((r = store_consents_each(fx->s, l.id, s_consent_collect, &ids)) < 0 ||
	    (r = store_begin(fx->s)) < 0)
		goto out;
	for (size_t i = 0; i < ids.n && r == 0; i++)
		if ((r = store_consent_withdraw(fx->s, ids.v[i], "2025-06-01", "mentor1")) == 0)
			r = store_audit(fx->s, "mentor1", "consent.withdrawn", "", PEER, "{}");
	if (r == 0)
		r = store_leaver_erase(fx->s, &l, 1748779200000, &events, &cancelled);
	if (r == 0)
		r = store_audit(fx->s, "mentor1", "pupil.erased", "", PEER, "{}");
	r = s_end(fx->s, r);
	if (r == 0)
		r = (int)(events * 10 + cancelled);
out:
	strlist_clear(&ids);
	store_leaver_clear(&l);
	return r;
}

#define RID_HELD "0190a5b4-7c2e-7a3b-9f00-0000000000b0"	/* s_setup_full's dossier */

/* rx_erasure.c: a withdrawal of the consent the dossier rested on erases it,
 * in the batch's transaction. The bind of record_id once failed silently: the
 * UPDATE matched nothing and the erasure was reported (and receipted) done. */
static int s_op_inbox_erase(struct fault_fx *fx)
{
	int r;

	if ((r = store_begin(fx->s)) < 0)
		return r;
	r = store_inbox_erase(fx->s, RID_HELD, "withdrawal", 1748779200000);
	if (r == 0)
		r = store_audit(fx->s, "peer:" PEER, "dossier.erased", RID_HELD, PEER,
				"{\"reason\":\"withdrawal\"}");
	return s_end(fx->s, r);
}

/* rx_erasure.c: a statutory dossier loses its care notes. The same silent
 * bind failure once returned 0 with the care notes still stored. */
static int s_op_inbox_replace(struct fault_fx *fx)
{
	static const uint8_t stripped[] = "the envelope without its care notes";
	int r;

	if ((r = store_begin(fx->s)) < 0)
		return r;
	r = store_inbox_replace(fx->s, RID_HELD, stripped, sizeof(stripped), "care_notes");
	if (r == 0)
		r = store_audit(fx->s, "peer:" PEER, "dossier.stripped", RID_HELD, PEER, "{}");
	return s_end(fx->s, r);
}

/* s_setup_full, and R1's consent withdrawn: the revocation check must say so
 * or fail, never answer "not revoked" (net_tx.c would send on it). */
static char s_withdrawn_id[CRYPTO_UUID_STR_LEN + 1];

static int s_first_consent(const struct consent *c, int64_t leaver_id, void *arg)
{
	(void)leaver_id;
	str_copy(arg, CRYPTO_UUID_STR_LEN + 1, c->id);
	return 1;
}

static int s_setup_withdrawn(struct fault_fx *fx)
{
	int r;

	if ((r = s_setup_full(fx)) < 0)
		return r;
	s_withdrawn_id[0] = '\0';
	if ((r = store_consents_each(fx->s, -1, s_first_consent, s_withdrawn_id)) < 0)
		return r;
	if (!s_withdrawn_id[0])
		return -ENOENT;
	return store_consent_withdraw(fx->s, s_withdrawn_id, "2025-05-20", "mentor1");
}

/* A read: 1 (revoked) in the fault-free run; any other success is fail-open. */
static int s_op_consent_revoked(struct fault_fx *fx)
{
	return store_consent_revoked(fx->s, s_withdrawn_id, "2025-06-01");
}

/* The audit append on its own (it opens its own transaction). */
static int s_op_audit(struct fault_fx *fx)
{
	return store_audit(fx->s, "mentor1", "report.viewed", "", "", "{\"rows\":3}");
}

/* ---- the cases ---- */

static const struct fault_case s_cases[] = {
	{ .name = "inbox_put", .setup = s_setup_full, .op = s_op_inbox_put },
	{ .name = "event_add", .setup = s_setup_full, .op = s_op_event_add },
	{ .name = "event_add_bare", .setup = s_setup_full, .op = s_op_event_add_bare },
	{ .name = "consent_put", .setup = s_setup_full, .op = s_op_consent_put },
	{ .name = "outbox_add", .setup = s_setup_full, .op = s_op_outbox_add },
	{ .name = "leavers_import", .setup = s_setup_full, .op = s_op_leavers_import },
	{ .name = "outcomes_import", .setup = s_setup_full, .op = s_op_outcomes_import },
	{ .name = "leaver_erase", .setup = s_setup_full, .op = s_op_leaver_erase },
	/* found silent bind failures (SQLITE_TRANSIENT copies that could not
	 * be allocated, results ignored): now bound by STORE_BIND, checked */
	{ .name = "inbox_erase", .setup = s_setup_full, .op = s_op_inbox_erase },
	{ .name = "inbox_replace", .setup = s_setup_full, .op = s_op_inbox_replace },
	{ .name = "consent_revoked", .setup = s_setup_withdrawn, .op = s_op_consent_revoked },
	{ .name = "audit_append", .setup = s_setup_full, .op = s_op_audit },
};

/* The injector itself: counting, firing once, and firing from n on. */
static void test_injector(void **state)
{
	void *p[4];

	(void)state;
	fault_reset();
	fault_arm(FAULT_MALLOC, 0);
	for (int i = 0; i < 4; i++)
		p[i] = malloc(8);
	fault_disarm();
	assert_int_equal(fault_count(), 4);
	assert_false(fault_fired());
	for (int i = 0; i < 4; i++)
		free(p[i]);

	fault_reset();
	fault_arm(FAULT_MALLOC, 2);
	p[0] = malloc(8), p[1] = strdup("x"), p[2] = calloc(1, 8);
	fault_disarm();
	assert_non_null(p[0]);
	assert_null(p[1]);
	assert_non_null(p[2]);
	assert_true(fault_fired());
	free(p[0]), free(p[2]);

	fault_reset();
	fault_arm(FAULT_MALLOC | FAULT_PERSIST, 2);
	p[0] = malloc(8), p[1] = malloc(8), p[2] = realloc(NULL, 8);
	fault_disarm();
	assert_non_null(p[0]);
	assert_null(p[1]);
	assert_null(p[2]);
	free(p[0]);

	fault_reset();
	fault_arm(FAULT_STEP, 0);	/* other kinds are not counted */
	free(malloc(8));
	fault_disarm();
	assert_int_equal(fault_count(), 0);
}

int main(void)
{
	struct CMUnitTest tests[1 + sizeof(s_cases) / sizeof(s_cases[0])];
	size_t n = 0;

	if (fault_start("FAULT_STORE_DEBUG") < 0)
		return 1;
	s_read_data("leavers_good.csv", &s_leavers_csv.data, &s_leavers_csv.len);
	s_read_data("outcomes_good.csv", &s_outcomes_csv.data, &s_outcomes_csv.len);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_injector);
	for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){ s_cases[i].name, fault_test_sweep, NULL, NULL,
						  (void *)&s_cases[i] };
	n = (size_t)_cmocka_run_group_tests("fault_store", tests, n, NULL, NULL);
	free(s_leavers_csv.data);
	free(s_outcomes_csv.data);
	return (int)n;
}
