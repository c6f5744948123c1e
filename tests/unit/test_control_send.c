/* Unit tests for the streaming `handover send` (control_handover.c, issue
 * 14 item 3), driven through ctl_dispatch() and ctl_step() as the daemon's
 * loop drives them: a send of more than one chunk (OUTBOX_GROUP_MAX pupils)
 * commits chunk by chunk, each all or nothing; what happens between two
 * chunks (a second send, a consent withdrawn) holds for the chunks after;
 * the reply lists every pupil once. */
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

#include <sqlite3.h>

#include "control_int.h"
#include "ctl_fixture.h"
#include "sql_fixture.h"
#include "outbox.h"
#include "store.h"

#define SCHOOL "99ZZ00"
#define MBO "12AB00"
#define N_PUPILS (2 * OUTBOX_GROUP_MAX + 10)	/* three chunks, the last short */

struct call {
	Overstapctl__Reply rep;
	struct req_ctx c;
};

struct fx {
	char dir[64];
	struct keys keys;
	struct peer_cfg peer;
	struct config cfg;
	struct store *s;
	struct hctx h;
	struct net net;
	struct ctl_env env;
	struct peer_cred cred;
	char refs[N_PUPILS][16];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ctl_fixture_open(f->dir, "/tmp/test_control_send.XXXXXX", &f->keys, &f->s);
	strcpy(f->cfg.institution_id, SCHOOL);
	strcpy(f->cfg.institution_name, "Test school");
	strcpy(f->cfg.policy_handover, "statute");
	strcpy(f->peer.id, MBO);
	strcpy(f->peer.endpoint, "tcp://127.0.0.1:7470");
	f->cfg.peers = &f->peer;
	f->cfg.n_peers = 1;
	ctl_fixture_wire(&f->h, &f->env, &f->cred, f->s, &f->cfg, &f->keys, &f->net, 1700000000000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctl_fixture_close(f->dir, &f->keys, &f->s);
	free(f);
	return 0;
}

/* Start req as the daemon's loop does (defer: steps to come), or run it
 * through at once. */
static void s_start(struct fx *f, struct call *k, const Overstapctl__Request *req, int defer)
{
	overstapctl__reply__init(&k->rep);
	k->rep.version = OVERSTAPCTL__VERSION__CURRENT;
	k->c = (struct req_ctx){ .h = &f->h, .env = &f->env, .cred = &f->cred, .req = req,
				 .rep = &k->rep, .can_defer = defer };
	ctl_dispatch(&k->c);
}

static void s_done(struct call *k)
{
	ctl_req_done(&k->c);
}

static void s_req(Overstapctl__Request *req, Overstapctl__Request__BodyCase body)
{
	overstapctl__request__init(req);
	req->version = OVERSTAPCTL__VERSION__CURRENT;
	req->user = "mentor1";
	req->body_case = body;
}

/* A BSN that passes the elfproef, from i. */
static void s_pgn(unsigned i, char out[10])
{
	/* digits by arithmetic: gcc -O0 cannot see that snprintf's "%08u" of a
	 * number below 10^8 fits eight places (-Wformat-truncation) */
	for (unsigned base = 100000000u + i * 11u;; base++) {
		unsigned v = base % 100000000u, sum = 0;

		for (int k = 7; k >= 0; k--, v /= 10)
			out[k] = (char)('0' + v % 10);
		for (int k = 0; k < 8; k++)
			sum += (unsigned)(out[k] - '0') * (unsigned)(9 - k);
		if (sum % 11 < 10) {
			out[8] = (char)('0' + sum % 11);
			out[9] = '\0';
			return;
		}
	}
}

/* N_PUPILS leavers to MBO, registered, inzage recorded: all ready. */
static void s_ready(struct fx *f)
{
	Overstapctl__Leaver *lv = calloc(N_PUPILS, sizeof(*lv)), *rows[N_PUPILS];
	char (*pgn)[10] = calloc(N_PUPILS, 10);
	char *refs[N_PUPILS];
	struct strlist errors = { 0 };
	Overstapctl__Request req;
	Overstapctl__MarkRegistered m = OVERSTAPCTL__MARK_REGISTERED__INIT;
	Overstapctl__RecordInzage z = OVERSTAPCTL__RECORD_INZAGE__INIT;
	struct call k;

	assert_non_null(lv);
	assert_non_null(pgn);
	for (unsigned i = 0; i < N_PUPILS; i++) {
		snprintf(f->refs[i], sizeof(f->refs[i]), "S%05u", i);
		refs[i] = f->refs[i];
		s_pgn(i, pgn[i]);
		overstapctl__leaver__init(&lv[i]);
		lv[i].pupil_ref = f->refs[i];
		lv[i].pgn = pgn[i];
		lv[i].given_name = "Given";
		lv[i].family_name = "Family";
		lv[i].birth_date = "2008-02-29";
		lv[i].program = "pro";
		lv[i].cohort = "2024-2025";
		lv[i].exit_date = "2025-07-04";
		lv[i].destination_type = "mbo_entree";
		lv[i].destination_institution = MBO;
		lv[i].advice = "entree";
		lv[i].advice_followed = "yes";
		lv[i].level_taal = "1F";
		lv[i].level_rekenen = "2F";
		lv[i].line = i + 2;
		rows[i] = &lv[i];
	}
	assert_int_equal(store_leavers_import(f->s, "leavers.csv", rows, N_PUPILS, "mentor1", &errors), 0);
	assert_int_equal(errors.n, 0);
	free(lv);
	free(pgn);
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_MARK_REGISTERED);
	m.n_pupil_refs = N_PUPILS;
	m.pupil_refs = refs;
	req.mark_registered = &m;
	s_start(f, &k, &req, 0);
	assert_int_equal(k.rep.code, 0);
	assert_int_equal(k.rep.marked->imported, N_PUPILS);
	s_done(&k);
	s_req(&req, OVERSTAPCTL__REQUEST__BODY_INZAGE);
	z.n_pupil_refs = N_PUPILS;
	z.pupil_refs = refs;
	z.reviewer = "pupil";
	z.agrees = "yes";
	req.inzage = &z;
	s_start(f, &k, &req, 0);
	assert_int_equal(k.rep.code, 0);
	assert_int_equal(k.rep.marked->imported, N_PUPILS);
	s_done(&k);
}

static uint64_t s_depth(struct fx *f)
{
	uint64_t d = 0;

	assert_int_equal(store_outbox_depth(f->s, MBO, &d), 0);
	return d;
}

static int64_t s_count(struct fx *f, const char *sql)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/store.db", f->dir);
	return sql_int64(path, sql);
}

static int64_t s_queued_leavers(struct fx *f)
{
	return s_count(f, "SELECT count(*) FROM leavers WHERE message_id IS NOT NULL AND message_id <> ''");
}

static void s_send_all_ready(Overstapctl__Request *req, Overstapctl__SendHandovers *sh)
{
	overstapctl__send_handovers__init(sh);
	s_req(req, OVERSTAPCTL__REQUEST__BODY_SEND);
	sh->all_ready = 1;
	req->send = sh;
}

/* Each pupil once in all the replies' queued lists together. */
static void s_each_once(struct fx *f, struct call *const *k, size_t nk)
{
	unsigned char *seen = calloc(N_PUPILS, 1);
	size_t total = 0;

	assert_non_null(seen);
	for (size_t j = 0; j < nk; j++)
		for (size_t i = 0; i < k[j]->rep.send_result->n_queued; i++) {
			unsigned idx;

			assert_int_equal(sscanf(k[j]->rep.send_result->queued[i], "S%05u", &idx), 1);
			assert_true(idx < N_PUPILS);
			assert_int_equal(seen[idx]++, 0);
			total++;
		}
	assert_int_equal(total, N_PUPILS);
	free(seen);
	(void)f;
}

/* With the loop between chunks: the first chunk is committed (and could be
 * sent) before the second is built; the reply comes after the last. */
static void test_send_streams_in_chunks(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__SendHandovers sh;
	struct call k, *kk[1] = { &k };
	int steps = 0;

	s_ready(f);
	s_send_all_ready(&req, &sh);
	s_start(f, &k, &req, 1);
	assert_non_null(k.c.step);	/* more to come */
	assert_int_equal(s_depth(f), OUTBOX_GROUP_MAX);	/* committed: on disk for the sender */
	assert_int_equal(s_queued_leavers(f), OUTBOX_GROUP_MAX);
	assert_true(f->h.outbox_dirty);
	while (ctl_step(&k.c))
		steps++;
	assert_int_equal(steps, 1);	/* chunk 2 then 3, the reply after it */
	assert_int_equal(k.rep.code, 0);
	assert_int_equal(k.rep.send_result->n_refused, 0);
	s_each_once(f, kk, 1);
	assert_int_equal(s_depth(f), N_PUPILS);
	assert_int_equal(s_count(f, "SELECT count(*) FROM audit WHERE action = 'disclosure.queued'"),
			 N_PUPILS);
	s_done(&k);
}

/* Two sends at once (the second started while the first has chunks to
 * go): no pupil is queued twice; each is queued by one of them, and the
 * other says it was sent already. */
static void test_two_sends_queue_once(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__SendHandovers sh;
	struct call a, b, *kk[2] = { &a, &b };
	int ma = 1, mb = 1;

	s_ready(f);
	s_send_all_ready(&req, &sh);
	s_start(f, &a, &req, 1);
	assert_non_null(a.c.step);
	s_start(f, &b, &req, 1);	/* the ones still ready: chunk 1 of B queues 512 */
	assert_non_null(b.c.step);
	while (ma || mb) {	/* the loop: a step of each, in turn */
		if (ma)
			ma = ctl_step(&a.c);
		if (mb)
			mb = ctl_step(&b.c);
	}
	assert_int_equal(a.rep.code, 0);
	assert_int_equal(b.rep.code, 0);
	s_each_once(f, kk, 2);
	assert_int_equal(a.rep.send_result->n_queued + a.rep.send_result->n_refused +
			 b.rep.send_result->n_queued + b.rep.send_result->n_refused,
			 N_PUPILS + (N_PUPILS - OUTBOX_GROUP_MAX));
	for (size_t i = 0; i < a.rep.send_result->n_refused; i++)
		assert_non_null(strstr(a.rep.send_result->refused[i], "already been sent"));
	assert_int_equal(s_depth(f), N_PUPILS);
	assert_int_equal(s_queued_leavers(f), N_PUPILS);
	s_done(&a);
	s_done(&b);
}

/* The consent gate is checked when a pupil's chunk is built: a handover
 * consent withdrawn between two chunks keeps that pupil's dossier here. */
static void test_withdrawal_between_chunks_wins(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__SendHandovers sh;
	struct call k;
	char last_id[CRYPTO_UUID_STR_LEN + 1] = "", today[11], want[32];
	int found = 0;

	s_ready(f);
	strcpy(f->cfg.policy_handover, "consent");
	date_today(today);
	assert_int_equal(store_begin(f->s), 0);
	for (unsigned i = 0; i < N_PUPILS; i++) {
		struct leaver l = { 0 };
		struct consent c = { 0 };

		assert_int_equal(store_leaver_find(f->s, f->refs[i], 0, &l), 0);
		str_copy(c.pupil_ref, sizeof(c.pupil_ref), l.pupil_ref);
		c.purpose = CONSENT_PURPOSE_HANDOVER;
		str_copy(c.counterpart, sizeof(c.counterpart), MBO);
		c.grantor = CONSENT_GRANTOR_PUPIL;
		str_copy(c.granted_at, sizeof(c.granted_at), "2025-01-01");
		str_copy(c.evidence_method, sizeof(c.evidence_method), "form");
		str_copy(c.evidence_ref, sizeof(c.evidence_ref), "DOC-1");
		str_copy(c.recorded_by, sizeof(c.recorded_by), "mentor1");
		str_copy(c.recorded_at, sizeof(c.recorded_at), "2025-01-01");
		assert_int_equal(store_consent_add(f->s, l.id, l.key_id, &c), 0);
		if (i == N_PUPILS - 1)
			str_copy(last_id, sizeof(last_id), c.id);
		store_leaver_clear(&l);
	}
	assert_int_equal(store_commit(f->s), 0);
	assert_true(last_id[0]);

	s_send_all_ready(&req, &sh);
	s_start(f, &k, &req, 1);
	assert_non_null(k.c.step);
	/* between chunk 1 and 2: the last pupil (chunk 3) withdraws */
	assert_int_equal(store_consent_withdraw(f->s, last_id, today, "mentor1"), 0);
	while (ctl_step(&k.c))
		;
	assert_int_equal(k.rep.code, 0);
	assert_int_equal(k.rep.send_result->n_queued, N_PUPILS - 1);
	assert_int_equal(k.rep.send_result->n_refused, 1);
	snprintf(want, sizeof(want), "%s: ", f->refs[N_PUPILS - 1]);
	found = strncmp(k.rep.send_result->refused[0], want, strlen(want)) == 0;
	assert_true(found);
	assert_int_equal(s_depth(f), N_PUPILS - 1);
	s_done(&k);
}

/* A failure in chunk 2 rolls back chunk 2 only: chunk 1 stays queued (and
 * audited), the reply lists it and says how many were not queued; chunk 3
 * is not tried. A second send queues the rest. */
static void test_chunk_failure_rolls_back_that_chunk(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__SendHandovers sh;
	struct call k, again, *kk[2] = { &k, &again };
	char sql[256];
	char *err = NULL;
	sqlite3 *db;

	s_ready(f);
	/* the 600th message cannot be stored: in chunk 2, after some of its
	 * rows went in */
	snprintf(sql, sizeof(sql), "%s/store.db", f->dir);
	assert_int_equal(sqlite3_open(sql, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER broken BEFORE INSERT ON outbox WHEN "
				      "(SELECT count(*) FROM outbox) >= 600 BEGIN SELECT "
				      "RAISE(ABORT, 'injected'); END;", NULL, NULL, &err), SQLITE_OK);
	s_send_all_ready(&req, &sh);
	s_start(f, &k, &req, 0);	/* at once: every chunk in this call */
	assert_null(k.c.step);
	assert_true(k.rep.code < 0);
	assert_non_null(strstr(k.rep.error, "the send stopped after 512 of 1034 pupils"));
	assert_non_null(strstr(k.rep.error, "the other 522 were not queued"));
	assert_int_equal(k.rep.send_result->n_queued, OUTBOX_GROUP_MAX);
	assert_int_equal(k.rep.send_result->n_refused, 0);
	assert_int_equal(s_depth(f), OUTBOX_GROUP_MAX);
	assert_int_equal(s_queued_leavers(f), OUTBOX_GROUP_MAX);
	assert_int_equal(s_count(f, "SELECT count(*) FROM audit WHERE action = 'disclosure.queued'"),
			 OUTBOX_GROUP_MAX);

	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER broken;", NULL, NULL, &err), SQLITE_OK);
	sqlite3_close(db);
	s_start(f, &again, &req, 0);
	assert_int_equal(again.rep.code, 0);
	assert_int_equal(again.rep.send_result->n_queued, N_PUPILS - OUTBOX_GROUP_MAX);
	s_each_once(f, kk, 2);
	assert_int_equal(s_depth(f), N_PUPILS);
	s_done(&k);
	s_done(&again);
}

/* A failure in the first chunk: nothing queued, as before chunks. */
static void test_first_chunk_failure_nothing_queued(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__SendHandovers sh;
	struct call k;
	char path[128];
	char *err = NULL;
	sqlite3 *db;

	s_ready(f);
	snprintf(path, sizeof(path), "%s/store.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER broken BEFORE INSERT ON outbox WHEN "
				      "(SELECT count(*) FROM outbox) >= 100 BEGIN SELECT "
				      "RAISE(ABORT, 'injected'); END;", NULL, NULL, &err), SQLITE_OK);
	sqlite3_close(db);
	s_send_all_ready(&req, &sh);
	s_start(f, &k, &req, 1);
	assert_null(k.c.step);	/* answered at once: the failure ends it */
	assert_true(k.rep.code < 0);
	assert_non_null(strstr(k.rep.error, "nothing queued"));
	assert_int_equal(k.rep.send_result->n_queued, 0);
	assert_int_equal(s_depth(f), 0);
	assert_int_equal(s_queued_leavers(f), 0);
	s_done(&k);
}

/* The daemon stopped between chunks (ctl_req_done before the last
 * step): what was committed stays, nothing more is queued. */
static void test_send_dropped_between_chunks(void **state)
{
	struct fx *f = *state;
	Overstapctl__Request req;
	Overstapctl__SendHandovers sh;
	struct call k;

	s_ready(f);
	s_send_all_ready(&req, &sh);
	s_start(f, &k, &req, 1);
	assert_non_null(k.c.step);
	assert_int_equal(ctl_step(&k.c), 1);	/* chunk 2 */
	s_done(&k);	/* dropped */
	assert_int_equal(s_depth(f), 2 * OUTBOX_GROUP_MAX);
	assert_int_equal(s_queued_leavers(f), 2 * OUTBOX_GROUP_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_streams_in_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sends_queue_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdrawal_between_chunks_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunk_failure_rolls_back_that_chunk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_first_chunk_failure_nothing_queued, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_dropped_between_chunks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
