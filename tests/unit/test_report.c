/* Unit tests for report.c: the quality-care measures of design.md §6 over small
 * synthetic cohorts built through the real store API, every expected figure
 * worked out by hand (the reasoning sits next to each literal), plus the
 * suppression invariants on every table and the query errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "consent.h"
#include "crypto.h"
#include "daemon.h"
#include "outcomes.h"
#include "report.h"
#include "store.h"
#include "vocab.h"

#define MIN_CELL 3	/* the smallest [report] min_cell the config admits */

struct fx {
	char dir[64];
	char path[128];
	uint8_t master[32];
	struct store *s;
	struct config cfg;	/* only what report_build reads */
	struct daemon d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_report.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(crypto_random(f->master, sizeof(f->master)), 0);
	assert_int_equal(store_open(f->path, f->master, &f->s, err, sizeof(err)), 0);
	snprintf(f->cfg.institution_id, sizeof(f->cfg.institution_id), "12AB00");
	snprintf(f->cfg.institution_name, sizeof(f->cfg.institution_name), "Test school");
	f->cfg.report_min_cell = MIN_CELL;
	f->d.cfg = &f->cfg;
	f->d.store = f->s;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(&f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- building a store ---- */

enum { NOT_SENT, QUEUED, REJECTED, DELIVERED, ERASED };
enum {
	C_NONE,		/* no consent at all */
	C_DEST,		/* follow_up for the destination institution */
	C_ANY,		/* follow_up for '*' */
	C_WITHDRAWN,	/* follow_up for the destination, withdrawn */
	C_OTHER,	/* follow_up for another institution, and a handover consent for '*' */
	C_WD_DEST,	/* one withdrawn and then a new one for the destination */
};

#define ENR OUTCOME_EV_ENROLLED
#define REG OUTCOME_EV_REGISTERED
#define HELD OUTCOME_EV_INTAKE_HELD
#define STILL OUTCOME_EV_STILL_ENROLLED
#define DIP OUTCOME_EV_DIPLOMA
#define PROG OUTCOME_EV_PROGRESSED
#define SWITCH OUTCOME_EV_SWITCHED
#define LWD OUTCOME_EV_LEFT_WITHOUT_DIPLOMA

struct ev {
	int event;		/* enum outcome_event, 0 = end of the list */
	const char *date;
};

/* One leaver at the school: its report fields, how far its dossier got, its
 * follow_up consent and the statuses/outcomes its receiver sent back. */
struct pupil {
	const char *ref, *cohort, *program, *dest, *inst, *advice, *followed, *taal, *rekenen;
	int sent;
	int consent;
	struct ev ev[6];
};

/* Record id number n, as …-8000-0000000000n0 (sending) or …-9000-… (received):
 * the gaps leave room for ids that sort between two leavers. */
static void s_record_id(char out[CRYPTO_UUID_STR_LEN + 1], unsigned n, unsigned side)
{
	snprintf(out, CRYPTO_UUID_STR_LEN + 1, "01890a5d-0000-7000-%u000-%012u", 8 + side, n * 10);
}

static void s_event(struct fx *f, const char *record_id, const char *peer, int inbound, int event,
		    const char *date)
{
	struct event_rec e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(crypto_uuidv7(e.message_id), 0);
	assert_int_equal(str_copy(e.record_id, sizeof(e.record_id), record_id), 0);
	assert_int_equal(str_copy(e.peer, sizeof(e.peer), peer), 0);
	e.inbound = inbound;
	e.event = event;
	str_copy(e.date, sizeof(e.date), date);
	e.level = event == DIP || event == PROG ? 2 : 0;
	e.at = 1234;
	snprintf(e.actor, sizeof(e.actor), inbound ? "peer:%s" : "staff1", peer);
	e.state = inbound ? -1 : OUTBOX_ACKED;
	assert_int_equal(store_event_add(f->s, &e), 0);
}

static void s_consent(struct fx *f, const struct leaver *l, int purpose, const char *counterpart,
		      int withdraw)
{
	struct consent c;

	memset(&c, 0, sizeof(c));
	str_copy(c.pupil_ref, sizeof(c.pupil_ref), l->pupil_ref);
	c.purpose = purpose;
	str_copy(c.counterpart, sizeof(c.counterpart), counterpart);
	c.grantor = CONSENT_GRANTOR_PUPIL;
	str_copy(c.granted_at, sizeof(c.granted_at), "2025-06-01");
	str_copy(c.evidence_method, sizeof(c.evidence_method), "signed_form");
	str_copy(c.evidence_ref, sizeof(c.evidence_ref), "DOC-1");
	str_copy(c.recorded_by, sizeof(c.recorded_by), "mentor1");
	str_copy(c.recorded_at, sizeof(c.recorded_at), "2025-06-01");
	assert_int_equal(store_consent_add(f->s, l->id, l->key_id, &c), 0);
	if (withdraw)
		assert_int_equal(store_consent_withdraw(f->s, c.id, "2026-01-15", "mentor1"), 0);
}

/* Queue the dossier of l as record_id; then, by sent, leave it queued, have
 * it refused (the leaver becomes cancelled) or acknowledged. */
static void s_send(struct fx *f, const struct leaver *l, const char *peer, const char *record_id,
		   int sent)
{
	static const int state[] = { [QUEUED] = LEAVER_QUEUED, [REJECTED] = LEAVER_CANCELLED,
				     [DELIVERED] = LEAVER_DELIVERED, [ERASED] = LEAVER_DELIVERED };
	static const uint8_t payload[] = "signed envelope";
	char mid[CRYPTO_UUID_STR_LEN + 1];
	struct leaver back;

	assert_int_equal(crypto_uuidv7(mid), 0);
	assert_int_equal(store_outbox_add(f->s, mid, peer, 2, payload, sizeof(payload), l->key_id, 1000), 0);
	assert_int_equal(store_leaver_set_queued(f->s, l->id, record_id, mid, 900), 0);
	if (sent != QUEUED)
		assert_int_equal(store_outbox_ack(f->s, peer, mid, sent == REJECTED, "not registered", 950, 1,
						  2000), 0);
	assert_int_equal(store_leaver_load(f->s, l->id, 0, &back), 0);
	assert_int_equal(back.state, state[sent]);
	store_leaver_clear(&back);
}

/* Import every pupil of p[0..n) in one file, then send, consent, report back
 * and erase as each row says. first numbers the record ids. */
static void s_fill_sending(struct fx *f, const struct pupil *p, size_t n, unsigned first)
{
	Overstapctl__Leaver *rows[32], lv[32];
	struct strlist errors = { 0 };

	assert_true(n <= 32);
	for (size_t i = 0; i < n; i++) {
		overstapctl__leaver__init(&lv[i]);
		lv[i].pupil_ref = (char *)p[i].ref;
		lv[i].given_name = "Given";
		lv[i].family_name = "Family";
		lv[i].birth_date = "2008-02-29";
		lv[i].program = (char *)p[i].program;
		lv[i].cohort = (char *)p[i].cohort;
		lv[i].exit_date = p[i].cohort[3] == '3' ? "2024-07-05" : "2025-07-04";
		lv[i].destination_type = (char *)p[i].dest;
		lv[i].destination_institution = (char *)p[i].inst;
		lv[i].advice = (char *)p[i].advice;
		lv[i].advice_followed = (char *)p[i].followed;
		lv[i].level_taal = (char *)p[i].taal;
		lv[i].level_rekenen = (char *)p[i].rekenen;
		lv[i].line = (uint32_t)i + 2;
		rows[i] = &lv[i];
	}
	assert_int_equal(store_leavers_import(f->s, "leavers.csv", rows, n, "mentor1", &errors), 0);
	assert_int_equal(errors.n, 0);

	assert_int_equal(store_begin(f->s), 0);
	for (size_t i = 0; i < n; i++) {
		const struct pupil *q = &p[i];
		const char *peer = q->inst[0] ? q->inst : "25LZ00";
		char rid[CRYPTO_UUID_STR_LEN + 1];
		struct leaver l;

		assert_int_equal(store_leaver_find(f->s, q->ref, 0, &l), 0);
		s_record_id(rid, first + (unsigned)i, 0);
		switch (q->consent) {
		case C_DEST:
			s_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, q->inst, 0);
			break;
		case C_ANY:
			s_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, CONSENT_ANY, 0);
			break;
		case C_WITHDRAWN:
			s_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, q->inst, 1);
			break;
		case C_OTHER:
			s_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, "25LZ99", 0);
			s_consent(f, &l, CONSENT_PURPOSE_HANDOVER, CONSENT_ANY, 0);
			break;
		case C_WD_DEST:
			s_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, q->inst, 1);
			s_consent(f, &l, CONSENT_PURPOSE_FOLLOW_UP, q->inst, 0);
			break;
		default:
			break;
		}
		if (q->sent != NOT_SENT)
			s_send(f, &l, peer, rid, q->sent);
		for (size_t k = 0; q->ev[k].event; k++)
			s_event(f, rid, peer, 1, q->ev[k].event, q->ev[k].date);
		if (q->sent == ERASED) {
			unsigned events = 0, cancelled = 0;

			store_leaver_clear(&l);
			assert_int_equal(store_leaver_find(f->s, q->ref, 0, &l), 0);
			assert_int_equal(store_leaver_erase(f->s, &l, 5000, &events, &cancelled), 0);
			assert_int_equal(events, 3);
		}
		store_leaver_clear(&l);
	}
	assert_int_equal(store_commit(f->s), 0);
}

/* Cohort 2024-2025. Its peildatum P = 2025-10-01, a year later R = 2026-10-01,
 * the follow-up window ends W = 2027-10-01.
 *
 *   c01..c14  handed over with a follow_up consent that counts
 *   n01..n03  handed over without one (none / withdrawn / for 25LZ99)
 *   x01       never sent; x02 queued, never acknowledged: not handed over
 *   z01       handed over, then erased with `overstap erase`: counted nowhere
 *             (its program bao, destination vavo, institution 25LZ02, advice
 *             vo and rekenen 3F belong to nobody else: no such row may appear)
 *
 * Per leaver, by hand (S started, B bestendig, D diploma, Pr progressed,
 * L left_without_diploma within the window; F no_feedback):
 *   c01 enrolled 08-20 <= P: S. still_enrolled on R exactly and its first
 *       stop (L 2027-09-01) is after R: B. D 2027-06-15, Pr 2027-08-01,
 *       L 2027-09-01 all <= W: D Pr L.
 *   c02 enrolled on P exactly: S. diploma on R exactly: B, D. Pr, L in window.
 *   c03 S. still_enrolled 2026-09-30 is before R, no diploma: not B. Pr, L.
 *   c04 S. switched 2026-05-01 before R (the still_enrolled on R does not
 *       help), diploma only 2027-06-01 after R: not B. D, Pr (<= W).
 *   c05 S. diploma 2026-06-30 <= R: B. D, Pr, L.
 *   c06 S. still on R: B. D 2027-07-01; Pr on W exactly: counts; L
 *       2027-11-01 after W: not L.
 *   c07 S. still 2026-10-15 >= R and its L 2027-08-01 is after R: B. Pr, L;
 *       the diploma 2027-10-02 is after W: not D.
 *   c08 enrolled 2025-10-02, a day after P: not S, so not B either. L.
 *   c09 S. no still_enrolled, no diploma: not B. L 2026-02-01.
 *   c10 S. still on R, L 2026-12-01 after R: B. L.
 *   c11..c14 S, no outcome at all (c11's registered and intake_held are
 *       statuses, not outcomes): F each. c12's consent is for '*'; c13 has a
 *       withdrawn consent and a newer one that counts.
 *   n01 S (no consent). n02 S, its outcomes do not count (consent withdrawn).
 *   n03 enrolled 2025-10-05: not S.
 *
 *   vector (lv ho st wc nc B D Pr L F swc):
 *   c01 1 1 1 1 0 1 1 1 1 0 1    c08 1 1 0 1 0 0 0 0 1 0 0
 *   c02 1 1 1 1 0 1 1 1 1 0 1    c09 1 1 1 1 0 0 0 0 1 0 1
 *   c03 1 1 1 1 0 0 0 1 1 0 1    c10 1 1 1 1 0 1 0 0 1 0 1
 *   c04 1 1 1 1 0 0 1 1 0 0 1    c11..c14 1 1 1 1 0 0 0 0 0 1 1
 *   c05 1 1 1 1 0 1 1 1 1 0 1    n01, n02 1 1 1 0 1 0 0 0 0 0 0
 *   c06 1 1 1 1 0 1 1 1 0 0 1    n03 1 1 0 0 1 0 0 0 0 0 0
 *   c07 1 1 1 1 0 1 0 1 1 0 1    x01, x02 1 0 0 0 0 0 0 0 0 0 0
 */
static const struct pupil s_c2425[] = {
	{ "c01", "2024-2025", "pro", "mbo_entree", "25LZ00", "entree", "yes", "1F", "none", DELIVERED, C_DEST,
	  { { ENR, "2025-08-20" }, { STILL, "2026-10-01" }, { DIP, "2027-06-15" }, { PROG, "2027-08-01" },
	    { LWD, "2027-09-01" } } },
	{ "c02", "2024-2025", "pro", "mbo_2", "25LZ00", "entree", "yes", "1F", "none", DELIVERED, C_DEST,
	  { { ENR, "2025-10-01" }, { DIP, "2026-10-01" }, { PROG, "2027-02-01" }, { LWD, "2027-06-01" } } },
	{ "c03", "2024-2025", "pro", "mbo_entree", "25LZ00", "entree", "no", "1F", "none", DELIVERED, C_DEST,
	  { { ENR, "2025-09-01" }, { STILL, "2026-09-30" }, { PROG, "2026-11-01" }, { LWD, "2027-03-01" } } },
	{ "c04", "2024-2025", "pro", "mbo_2", "25LZ00", "entree", "no", "1F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2025-09-01" }, { SWITCH, "2026-05-01" }, { STILL, "2026-10-01" }, { DIP, "2027-06-01" },
	    { PROG, "2027-09-01" } } },
	{ "c05", "2024-2025", "pro", "mbo_entree", "25LZ00", "mbo_2", "yes", "1F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2025-09-01" }, { DIP, "2026-06-30" }, { PROG, "2026-08-01" }, { LWD, "2027-04-01" } } },
	{ "c06", "2024-2025", "pro", "mbo_2", "25LZ00", "mbo_2", "yes", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2025-09-01" }, { STILL, "2026-10-01" }, { DIP, "2027-07-01" }, { PROG, "2027-10-01" },
	    { LWD, "2027-11-01" } } },
	{ "c07", "2024-2025", "pro", "mbo_entree", "25LZ00", "mbo_2", "no", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2025-09-01" }, { STILL, "2026-10-15" }, { PROG, "2027-03-01" }, { LWD, "2027-08-01" },
	    { DIP, "2027-10-02" } } },
	{ "c08", "2024-2025", "vso_arbeid", "mbo_2", "25LZ00", "entree", "no", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2025-10-02" }, { STILL, "2026-10-01" }, { LWD, "2027-01-10" } } },
	{ "c09", "2024-2025", "vso_arbeid", "mbo_entree", "25LZ00", "entree", "yes", "2F", "1F", DELIVERED,
	  C_DEST, { { ENR, "2025-09-01" }, { LWD, "2026-02-01" } } },
	{ "c10", "2024-2025", "vso_arbeid", "mbo_2", "25LZ00", "mbo_2", "yes", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2025-09-01" }, { STILL, "2026-10-01" }, { LWD, "2026-12-01" } } },
	{ "c11", "2024-2025", "vso_arbeid", "mbo_entree", "25LZ01", "mbo_2", "yes", "2F", "1F", DELIVERED,
	  C_DEST, { { REG, "2025-05-01" }, { HELD, "2025-06-10" }, { ENR, "2025-09-01" } } },
	{ "c12", "2024-2025", "vso_arbeid", "mbo_2", "25LZ01", "mbo_2", "yes", "2F", "1F", DELIVERED, C_ANY,
	  { { ENR, "2025-09-01" } } },
	{ "c13", "2024-2025", "vso_arbeid", "mbo_entree", "25LZ01", "mbo_2", "no", "3F", "1F", DELIVERED,
	  C_WD_DEST, { { ENR, "2025-09-01" } } },
	{ "c14", "2024-2025", "vso_arbeid", "mbo_2", "25LZ01", "mbo_2", "no", "3F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2025-09-01" } } },
	{ "n01", "2024-2025", "vmbo_b", "mbo_3_4", "25LZ00", "work", "no", "1F", "2F", DELIVERED, C_NONE,
	  { { ENR, "2025-09-01" } } },
	{ "n02", "2024-2025", "vmbo_b", "mbo_3_4", "25LZ00", "work", "", "3F", "2F", DELIVERED, C_WITHDRAWN,
	  { { ENR, "2025-09-15" }, { STILL, "2026-10-01" }, { DIP, "2027-06-01" } } },
	{ "n03", "2024-2025", "vmbo_b", "mbo_3_4", "25LZ01", "work", "", "", "2F", DELIVERED, C_OTHER,
	  { { ENR, "2025-10-05" } } },
	{ "x01", "2024-2025", "vmbo_b", "work", "", "work", "", "", "2F", NOT_SENT, C_ANY, { { 0, NULL } } },
	{ "x02", "2024-2025", "vmbo_b", "mbo_3_4", "25LZ01", "work", "", "", "2F", QUEUED, C_DEST,
	  { { 0, NULL } } },
	{ "z01", "2024-2025", "bao", "vavo", "25LZ02", "vo", "yes", "1F", "3F", ERASED, C_ANY,
	  { { ENR, "2025-09-01" }, { STILL, "2026-10-01" }, { DIP, "2027-06-01" } } },
};

/* Cohort 2023-2024: P = 2024-10-01, R = 2025-10-01, W = 2026-10-01.
 *   d1..d3 enrolled 2024-09-01 <= P: S; still_enrolled on their R: B.
 *   d4 S, L 2025-03-01: not B.   d5 S, no consent.
 *   d6 enrolled 2025-09-01: after its own P (it would be on time for the
 *      2024-2025 cohort): not S; consent and no outcome: F.
 *   d7 its dossier was refused (cancelled): a leaver, not handed over.
 *   leavers 7, handed 6, started 5 (d1..d5), with_consent 5 (d1 d2 d3 d4 d6),
 *   no_consent 1, bestendig 3, diploma 0, progressed 0, lwd 1 (d4),
 *   no_feedback 1 (d6), started_with_consent 4 (d1..d4). */
static const struct pupil s_c2324[] = {
	{ "d1", "2023-2024", "pro", "mbo_entree", "25LZ00", "entree", "yes", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2024-09-01" }, { STILL, "2025-10-01" } } },
	{ "d2", "2023-2024", "pro", "mbo_entree", "25LZ00", "entree", "yes", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2024-09-01" }, { STILL, "2025-10-01" } } },
	{ "d3", "2023-2024", "pro", "mbo_entree", "25LZ00", "entree", "yes", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2024-09-01" }, { STILL, "2025-10-01" } } },
	{ "d4", "2023-2024", "pro", "mbo_entree", "25LZ00", "entree", "yes", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2024-09-01" }, { LWD, "2025-03-01" } } },
	{ "d5", "2023-2024", "pro", "mbo_entree", "25LZ00", "entree", "yes", "2F", "1F", DELIVERED, C_NONE,
	  { { ENR, "2024-09-01" } } },
	{ "d6", "2023-2024", "pro", "mbo_entree", "25LZ00", "entree", "yes", "2F", "1F", DELIVERED, C_DEST,
	  { { ENR, "2025-09-01" } } },
	{ "d7", "2023-2024", "pro", "mbo_entree", "25LZ00", "entree", "yes", "2F", "1F", REJECTED, C_DEST,
	  { { 0, NULL } } },
};

/* ---- the receiving side ---- */

/* A dossier received at the MBO: when, from whom, and the statuses and
 * outcomes this institution sent back (inbound 0) or, for one, heard of from
 * elsewhere (inbound 1: must not count). */
struct dossier {
	const char *sender, *program, *dest, *received;	/* received: YYYY-MM-DD, at 12:00 UTC */
	const char *erased;	/* NULL, or store_inbox_erase's what */
	struct ev ev[5];
	struct ev inbound;
};

static int64_t s_ms(const char *date)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = 12;
	return (int64_t)timegm(&tm) * 1000;
}

/* All of cohort 2024-2025. Per dossier, by hand (I intake, E enrolled,
 * C covered: received on or before the day of the enrolled status, H
 * intake_held, D/Pr/L outcomes sent, counted only for the enrolled):
 *   r01 received on 2025-09-01, enrolled that same day: C. H, D, Pr.
 *   r02..r09 received 2025-07-01, enrolled 2025-09-01: C.
 *            r02 H D Pr; r03 H D; r04 H Pr; r05 H Pr; r06 H L; r07 H L; r08 L; r09 L.
 *   r10 received 2025-09-02, a day after its enrolled status: not C. H, L.
 *   r11 received 2025-10-15 after enrolled 2025-09-01: not C. H. Its
 *       left_without_diploma came in (inbound), not sent by us: not L.
 *   r12 received 2025-09-10, enrolled 2025-09-09: not C.
 *   r13 never enrolled: H only; its diploma is not counted (of enrolled).
 *   r14 never enrolled; its key shredded by retention: still intake.
 *   r15 erased by `erase`: counted nowhere (bao, 14EF00 and vavo: no row).
 *   vector (I E C H D Pr L):
 *   r01 1 1 1 1 1 1 0   r06 1 1 1 1 0 0 1   r11 1 1 0 1 0 0 0
 *   r02 1 1 1 1 1 1 0   r07 1 1 1 1 0 0 1   r12 1 1 0 0 0 0 0
 *   r03 1 1 1 1 1 0 0   r08 1 1 1 0 0 0 1   r13 1 0 0 1 0 0 0
 *   r04 1 1 1 1 0 1 0   r09 1 1 1 0 0 0 1   r14 1 0 0 0 0 0 0
 *   r05 1 1 1 1 0 1 0   r10 1 1 0 1 0 0 1
 */
static const struct dossier s_recv[] = {
	{ "12AB00", "pro", "mbo_entree", "2025-09-01", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-06-20" }, { DIP, "2027-06-01" }, { PROG, "2027-08-01" } }, { 0, NULL } },
	{ "12AB00", "pro", "mbo_2", "2025-07-01", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-06-20" }, { DIP, "2027-06-01" }, { PROG, "2027-08-01" } }, { 0, NULL } },
	{ "12AB00", "pro", "mbo_entree", "2025-07-01", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-06-20" }, { DIP, "2027-06-01" } }, { 0, NULL } },
	{ "12AB00", "pro", "mbo_2", "2025-07-01", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-06-20" }, { PROG, "2027-08-01" } }, { 0, NULL } },
	{ "12AB01", "pro", "mbo_entree", "2025-07-01", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-06-20" }, { PROG, "2027-08-01" } }, { 0, NULL } },
	{ "12AB01", "vso_arbeid", "mbo_2", "2025-07-01", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-06-20" }, { LWD, "2026-03-01" } }, { 0, NULL } },
	{ "12AB01", "vso_arbeid", "mbo_entree", "2025-07-01", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-06-20" }, { LWD, "2026-03-01" } }, { 0, NULL } },
	{ "12AB01", "vso_arbeid", "mbo_2", "2025-07-01", NULL,
	  { { ENR, "2025-09-01" }, { LWD, "2026-03-01" } }, { 0, NULL } },
	{ "12AB00", "vso_arbeid", "mbo_entree", "2025-07-01", NULL,
	  { { ENR, "2025-09-01" }, { LWD, "2026-03-01" } }, { 0, NULL } },
	{ "12AB00", "vso_arbeid", "mbo_2", "2025-09-02", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-08-15" }, { LWD, "2026-03-01" } }, { 0, NULL } },
	{ "12AB00", "vmbo_b", "mbo_entree", "2025-10-15", NULL,
	  { { ENR, "2025-09-01" }, { HELD, "2025-08-15" } }, { LWD, "2026-03-01" } },
	{ "12AB01", "vmbo_b", "mbo_2", "2025-09-10", NULL, { { ENR, "2025-09-09" } }, { 0, NULL } },
	{ "13CD00", "vmbo_b", "mbo_entree", "2025-07-01", NULL,
	  { { HELD, "2025-06-20" }, { DIP, "2026-07-01" } }, { 0, NULL } },
	{ "13CD00", "vmbo_b", "mbo_2", "2025-07-01", "retention", { { 0, NULL } }, { 0, NULL } },
	{ "14EF00", "bao", "vavo", "2025-07-01", "erase",
	  { { ENR, "2025-09-01" }, { HELD, "2025-06-20" }, { DIP, "2026-07-01" } }, { 0, NULL } },
};

static void s_fill_receiving(struct fx *f)
{
	static const uint8_t packed[] = "signed envelope";

	assert_int_equal(store_begin(f->s), 0);
	for (size_t i = 0; i < ARRAY_SIZE(s_recv); i++) {
		const struct dossier *r = &s_recv[i];
		Overstap__Handover h = OVERSTAP__HANDOVER__INIT;
		char rid[CRYPTO_UUID_STR_LEN + 1], mid[CRYPTO_UUID_STR_LEN + 1], pgn[16];

		s_record_id(rid, (unsigned)i + 1, 1);
		snprintf(pgn, sizeof(pgn), "1000000%02zu", i);
		h.record_id = rid;
		h.pgn = pgn;
		h.cohort = "2024-2025";
		h.exit_date = "2025-07-04";
		h.program = vocab_program_from_str(r->program);
		h.destination = vocab_destination_from_str(r->dest);
		assert_int_not_equal(h.program, 0);
		assert_int_not_equal(h.destination, 0);
		assert_int_equal(crypto_uuidv7(mid), 0);
		assert_int_equal(store_inbox_put(f->s, mid, r->sender, &h, packed, sizeof(packed),
						 s_ms(r->received)), 0);
		for (size_t k = 0; r->ev[k].event; k++)
			s_event(f, rid, r->sender, 0, r->ev[k].event, r->ev[k].date);
		if (r->inbound.event)
			s_event(f, rid, r->sender, 1, r->inbound.event, r->inbound.date);
		if (r->erased)
			assert_int_equal(store_inbox_erase(f->s, rid, r->erased, 6000), 0);
	}
	assert_int_equal(store_commit(f->s), 0);
}

/* ---- querying ---- */

static Overstapctl__Report *s_build(struct fx *f, const char *side, const char *by1, const char *by2,
				    const char *cohort, int charts)
{
	Overstapctl__ReportQuery q = OVERSTAPCTL__REPORT_QUERY__INIT;
	Overstapctl__Report *rep = NULL;
	char *by[2], *cohorts[1], why[256] = "";

	q.side = (char *)side;
	if (by1)
		by[q.n_by++] = (char *)by1;
	if (by2)
		by[q.n_by++] = (char *)by2;
	q.by = by;
	if (cohort) {
		cohorts[0] = (char *)cohort;
		q.cohorts = cohorts;
		q.n_cohorts = 1;
	}
	q.format = "json";
	assert_int_equal(report_build(f->d.store, f->d.cfg, &q, charts, &rep, why, sizeof(why)), 0);
	assert_non_null(rep);
	assert_int_equal(rep->schema_version, 1);
	assert_int_equal(rep->min_cell, MIN_CELL);
	assert_string_equal(rep->institution, "12AB00");
	assert_string_equal(rep->side, side && strcmp(side, "receiving") == 0 ? "receiving" : "sending");
	assert_int_equal(rep->n_tables, charts ? 4 : 1);
	return rep;
}

/* ---- checking a table against hand-computed values ---- */

#define NV_MAX 11

/* The measures of a side as report.h defines them: the shown columns, then
 * the hidden denominators, with the index of each one's denominator. */
struct side {
	size_t nm;			/* shown measures */
	size_t nv;			/* values per row: shown + hidden */
	const char *const *name;
	const int *den;			/* -1 = none */
	int identity;			/* handed_over = with_consent + no_consent per row */
};

enum { V_LV, V_HO, V_ST, V_WC, V_NC, V_BE, V_DI, V_PR, V_LW, V_NF, V_SWC };
static const char *const s_send_names[] = {
	"leavers", "handed_over", "started", "with_consent", "no_consent", "bestendig", "diploma",
	"progressed", "left_without_diploma", "no_feedback", "started_with_consent",
};
static const int s_send_dens[] = { -1, V_LV, V_HO, V_HO, V_HO, V_SWC, V_WC, V_WC, V_WC, V_WC, V_ST };
static const struct side s_sending = { 10, 11, s_send_names, s_send_dens, 1 };

/* students: dossiers and enrolments without one; enrolments: on the MBO's
 * list; dossier_by_start: of those, the dossier there by the first day */
enum { W_ST, W_IN, W_EL, W_BS, W_EN, W_CO, W_HE, W_DI, W_PR, W_LW };
static const char *const s_recv_names[] = {
	"students", "intake", "enrolments", "dossier_by_start", "enrolled", "covered",
	"intake_held", "diploma", "progressed", "left_without_diploma",
};
static const int s_recv_dens[] = { -1, W_ST, W_ST, W_EL, W_IN, W_EN, W_IN, W_EN, W_EN, W_EN };
static const struct side s_receiving = { 10, 10, s_recv_names, s_recv_dens, 0 };

/* One expected row: its keys (none for the total) and its values. */
struct want {
	const char *key[2];
	uint64_t v[NV_MAX];
};

static void s_dump(const Overstapctl__ReportTable *t)
{
	if (!getenv("TEST_REPORT_VERBOSE"))
		return;
	fprintf(stderr, "table %s:\n", t->name);
	for (size_t r = 0; r < t->n_rows; r++) {
		const Overstapctl__ReportRow *row = t->rows[r];

		fprintf(stderr, "  %-22s", row->total ? "(total)" : "");
		for (size_t k = 0; k < row->n_keys; k++)
			fprintf(stderr, "%s%s", k ? "/" : "", row->keys[k]);
		fprintf(stderr, "\n   ");
		for (size_t c = 0; c < row->n_cells; c++) {
			const Overstapctl__ReportCell *cell = row->cells[c];

			fprintf(stderr, " %s=%s", cell->measure, cell->count->display);
			if (cell->denominator_count)
				fprintf(stderr, "/%s[%s]", cell->denominator_count->display, cell->rate->display);
		}
		fprintf(stderr, "\n");
	}
}

/* A count against its hand-computed value: small ones withheld as "<3"
 * (primary), a withheld larger one reads "x" (secondary), a shown one is the
 * exact value. A withheld count never carries its value. Returns suppressed. */
static int s_check_count(const Overstapctl__ReportCount *c, uint64_t want, const char *what)
{
	char buf[32];

	assert_non_null(c);
	if (c->suppressed) {
		assert_int_equal(c->value, 0);
		if (strcmp(c->display, want < MIN_CELL ? "<3" : "x") != 0)
			fail_msg("%s: withheld %llu displays '%s'", what, (unsigned long long)want, c->display);
		return 1;
	}
	if (want < MIN_CELL)
		fail_msg("%s: %llu is below min_cell and shown as '%s'", what, (unsigned long long)want,
			 c->display);
	if (c->value != want)
		fail_msg("%s: shows %llu, by hand %llu", what, (unsigned long long)c->value,
			 (unsigned long long)want);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)want);
	assert_string_equal(c->display, buf);
	return 0;
}

static int s_same_count(const Overstapctl__ReportCount *a, const Overstapctl__ReportCount *b)
{
	return a->suppressed == b->suppressed && a->value == b->value && strcmp(a->display, b->display) == 0;
}

/* The rate of a cell: never shown when its count or denominator is withheld;
 * shown, as exactly count/denominator, when both are (design.md §6.4: no
 * ranges). */
static void s_check_rate(const Overstapctl__ReportCell *cell, const char *what)
{
	const Overstapctl__ReportRate *r = cell->rate;
	const Overstapctl__ReportCount *c = cell->count, *d = cell->denominator_count;

	assert_non_null(r);
	if (c->suppressed || d->suppressed) {
		if (!r->suppressed || strcmp(r->display, "-") != 0)
			fail_msg("%s: rate '%s' shown over a withheld count", what, r->display);
	}
	if (r->suppressed) {
		assert_true(r->value == 0.0);
		return;
	}
	/* design.md §6.4: count and denominator shown, so the rate is, exactly */
	assert_true(d->value >= MIN_CELL);
	assert_true(c->value >= MIN_CELL);
	assert_true(fabs(r->value - (double)c->value / (double)d->value) < 1e-12);
	assert_non_null(strchr(r->display, '%'));
	assert_null(strpbrk(r->display, "<>"));
}


/* ---- an independent check that nothing withheld can be worked out ----
 * Every count of a table is a variable; the equations a reader knows are the
 * column sums (groups add up to the total row) and, sending, handed_over =
 * with_consent + no_consent in every row. Shown counts are constants, so
 * only the withheld ones remain; a withheld count can be worked out exactly
 * when its unit vector lies in the row space of what remains, i.e. when
 * adding that unit vector does not raise the rank. Plain Gaussian
 * elimination on 0/±1 systems of a few hundred cells. */

#define SYS_VARS 512
#define SYS_EQS 160

struct sys {
	const Overstapctl__ReportCount *var[SYS_VARS];	/* the withheld counts */
	char name[SYS_VARS][64];			/* where each one is, for messages */
	size_t nvar, neq;
	double a[SYS_EQS][SYS_VARS];
};

static void s_eq(struct sys *s)
{
	assert_true(s->neq < SYS_EQS);
	memset(s->a[s->neq++], 0, sizeof(s->a[0]));
}

static void s_term(struct sys *s, const Overstapctl__ReportCount *c, double coeff)
{
	size_t k;

	if (!c->suppressed)
		return;	/* known: a constant */
	for (k = 0; k < s->nvar && s->var[k] != c; k++)
		;
	if (k == s->nvar) {
		assert_true(s->nvar < SYS_VARS);
		s->var[s->nvar++] = c;
	}
	s->a[s->neq - 1][k] += coeff;
}

static size_t s_rank(double (*m)[SYS_VARS], size_t rows, size_t cols)
{
	size_t rank = 0;

	for (size_t c = 0; c < cols && rank < rows; c++) {
		size_t best = rank;

		for (size_t r = rank + 1; r < rows; r++)
			if (fabs(m[r][c]) > fabs(m[best][c]))
				best = r;
		if (fabs(m[best][c]) < 1e-9)
			continue;
		if (best != rank)
			for (size_t k = 0; k < cols; k++) {
				double x = m[rank][k];

				m[rank][k] = m[best][k];
				m[best][k] = x;
			}
		for (size_t r = 0; r < rows; r++) {
			double q;

			if (r == rank || fabs(m[r][c]) < 1e-12)
				continue;
			q = m[r][c] / m[rank][c];
			for (size_t k = 0; k < cols; k++)
				m[r][k] -= q * m[rank][k];
		}
		rank++;
	}
	return rank;
}

/* The withheld counts of s that can be worked out; names into what (may be
 * NULL), for the message. */
static unsigned s_solvable(const struct sys *s, const char *what)
{
	double (*m)[SYS_VARS] = calloc(SYS_EQS + 1, sizeof(*m));
	size_t base;
	unsigned n = 0;

	assert_non_null(m);
	memcpy(m, s->a, s->neq * sizeof(s->a[0]));
	base = s_rank(m, s->neq, s->nvar);
	for (size_t k = 0; k < s->nvar; k++) {
		memcpy(m, s->a, s->neq * sizeof(s->a[0]));
		memset(m[s->neq], 0, sizeof(m[0]));
		m[s->neq][k] = 1;
		if (s_rank(m, s->neq + 1, s->nvar) == base) {
			n++;
			if (what)
				fprintf(stderr, "%s: withheld count %s ('%s') can be worked out\n", what,
					s->name[k][0] ? s->name[k] : "?", s->var[k]->display);
		}
	}
	free(m);
	return n;
}

/* The counts of t by row and value index (the hidden denominators taken from
 * the cells that show them). */
static void s_counts(const Overstapctl__ReportTable *t, const struct side *sd,
		     const Overstapctl__ReportCount *seen[][NV_MAX])
{
	for (size_t i = 0; i < t->n_rows; i++)
		for (size_t m = 0; m < sd->nm && m < t->rows[i]->n_cells; m++) {
			const Overstapctl__ReportCell *cell = t->rows[i]->cells[m];
			int d = sd->den[m];

			seen[i][m] = cell->count;
			if (d >= 0 && (size_t)d >= sd->nm)
				seen[i][d] = cell->denominator_count;
		}
}

/* Name the variables of s that are counts of t: "table keys measure". */
static void s_name_vars(struct sys *s, const Overstapctl__ReportTable *t, const struct side *sd,
			const Overstapctl__ReportCount *seen[][NV_MAX])
{
	for (size_t i = 0; i < t->n_rows; i++)
		for (size_t v = 0; v < sd->nv; v++)
			for (size_t k = 0; k < s->nvar; k++) {
				const Overstapctl__ReportRow *row = t->rows[i];

				if (s->var[k] != seen[i][v])
					continue;
				snprintf(s->name[k], sizeof(s->name[k]), "%s %s%s%s %s", t->name,
					 row->total ? "total" : row->keys[0], row->n_keys > 1 ? "/" : "",
					 row->n_keys > 1 ? row->keys[1] : "", sd->name[v]);
			}
}

/* The equations of one table, added to s. */
static void s_table_eqs(struct sys *s, const Overstapctl__ReportTable *t, const struct side *sd,
			const Overstapctl__ReportCount *seen[][NV_MAX])
{
	size_t nw = t->n_rows;

	for (size_t v = 0; v < sd->nv && nw > 1; v++) {
		s_eq(s);
		s_term(s, seen[nw - 1][v], 1);
		for (size_t i = 0; i + 1 < nw; i++)
			s_term(s, seen[i][v], -1);
	}
	for (size_t i = 0; i < nw && sd->identity; i++) {
		s_eq(s);
		s_term(s, seen[i][V_HO], 1);
		s_term(s, seen[i][V_WC], -1);
		s_term(s, seen[i][V_NC], -1);
	}
}

/* Row i of t against w (the last row is the total): keys, every count and
 * denominator against its hand value, every rate against its count and
 * denominator, the denominator shown with a cell being the row's own cell
 * of that measure, and (sending) handed_over = with_consent + no_consent
 * never with one of the three withheld alone. Fills seen (hidden
 * denominators from the cells that show them); returns the counts withheld. */
static unsigned s_check_row(const Overstapctl__ReportTable *t, size_t i, const struct side *sd, size_t ndims,
			    const struct want *w, int total, const Overstapctl__ReportCount *seen[NV_MAX])
{
	const Overstapctl__ReportRow *row = t->rows[i];
	unsigned withheld = 0;
	char what[128];

	assert_int_equal(row->total, total);
	assert_int_equal(row->n_keys, total ? 0 : ndims);
	for (size_t k = 0; !total && k < ndims; k++)
		assert_string_equal(row->keys[k], w->key[k]);
	assert_int_equal(row->n_cells, sd->nm);
	for (size_t m = 0; m < sd->nm; m++) {
		const Overstapctl__ReportCell *cell = row->cells[m];
		int d = sd->den[m];

		snprintf(what, sizeof(what), "%s row %zu (%s%s%s) %s", t->name, i, total ? "total" : w->key[0],
			 !total && ndims > 1 ? "/" : "", !total && ndims > 1 ? w->key[1] : "", sd->name[m]);
		assert_string_equal(cell->measure, sd->name[m]);
		seen[m] = cell->count;
		withheld += (unsigned)s_check_count(cell->count, w->v[m], what);
		if (d < 0) {
			assert_string_equal(cell->denominator, "");
			assert_null(cell->denominator_count);
			assert_null(cell->rate);
			continue;
		}
		assert_string_equal(cell->denominator, sd->name[d]);
		s_check_count(cell->denominator_count, w->v[d], what);
		if ((size_t)d >= sd->nm)	/* a hidden denominator: only seen here */
			seen[d] = cell->denominator_count;
		s_check_rate(cell, what);
	}
	for (size_t m = 0; m < sd->nm; m++) {
		int d = sd->den[m];

		if (d >= 0 && !s_same_count(row->cells[m]->denominator_count, seen[d]))
			fail_msg("%s row %zu: %s's denominator differs from %s", t->name, i, sd->name[m],
				 sd->name[d]);
	}
	if (sd->identity) {
		int n = seen[V_HO]->suppressed + seen[V_WC]->suppressed + seen[V_NC]->suppressed;

		if (n == 1)
			fail_msg("%s row %zu: one of handed_over = with_consent + no_consent withheld alone",
				 t->name, i);
		if (n == 0)
			assert_int_equal(seen[V_HO]->value, seen[V_WC]->value + seen[V_NC]->value);
	}
	return withheld;
}

/* The columns of t (groups sum to the total row): a withheld cell never
 * stands alone in one, a column with nothing withheld sums to its total,
 * and (s_solvable) no withheld count can be worked out from the rest. */
static void s_check_columns(const Overstapctl__ReportTable *t, const struct side *sd,
			    const Overstapctl__ReportCount *seen[][NV_MAX])
{
	size_t nw = t->n_rows;
	struct sys *sys;

	for (size_t v = 0; v < sd->nv; v++) {
		unsigned nsup = 0;
		uint64_t sum = 0;

		for (size_t i = 0; i < nw; i++) {
			assert_non_null(seen[i][v]);
			nsup += seen[i][v]->suppressed;
			if (i + 1 < nw)
				sum += seen[i][v]->value;
		}
		if (nsup == 1)
			fail_msg("%s: column %s has a single withheld cell", t->name, sd->name[v]);
		if (nsup == 0)
			assert_int_equal(seen[nw - 1][v]->value, sum);
	}
	assert_non_null(sys = calloc(1, sizeof(*sys)));
	s_table_eqs(sys, t, sd, seen);
	s_name_vars(sys, t, sd, seen);
	if (s_solvable(sys, t->name) != 0) {
		free(sys);
		fail_msg("%s: a withheld count can be worked out from the others", t->name);
	}
	free(sys);
}

/* Check table t (ndims dimensions dims) against w[0..nw), whose last entry is
 * the total: row by row, then the columns. Returns the counts withheld. */
static unsigned s_check(const Overstapctl__ReportTable *t, const struct side *sd, const char *const *dims,
			size_t ndims, const struct want *w, size_t nw)
{
	const Overstapctl__ReportCount *seen[32][NV_MAX];
	unsigned withheld = 0;

	s_dump(t);
	assert_true(nw <= 32);
	assert_int_equal(t->n_dimensions, ndims);
	for (size_t k = 0; k < ndims; k++)
		assert_string_equal(t->dimensions[k], dims[k]);
	assert_int_equal(t->n_measures, sd->nm);
	for (size_t m = 0; m < sd->nm; m++)
		assert_string_equal(t->measures[m], sd->name[m]);
	assert_int_equal(t->n_rows, nw);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < nw; i++)
		withheld += s_check_row(t, i, sd, ndims, &w[i], i + 1 == nw, seen[i]);
	s_check_columns(t, sd, seen);
	return withheld;
}

static const Overstapctl__ReportCell *s_cell(const Overstapctl__ReportRow *row, const char *measure)
{
	for (size_t c = 0; c < row->n_cells; c++)
		if (strcmp(row->cells[c]->measure, measure) == 0)
			return row->cells[c];
	fail_msg("no measure %s", measure);
	return NULL;
}

/* Whether any row of t has this key in its first dimension. */
static int s_has_key(const Overstapctl__ReportTable *t, const char *key)
{
	for (size_t r = 0; r < t->n_rows; r++)
		if (t->rows[r]->n_keys && strcmp(t->rows[r]->keys[0], key) == 0)
			return 1;
	return 0;
}

/* ---- sending side: the measures ---- */

/* Cohort 2024-2025 alone (the filter also drops 2023-2024): every figure is
 * at least 3, but linked suppression (design.md §6.4) withholds what the
 * one- and two-dimension breakdowns of 19 pupils would give away; what is
 * shown is checked against the hand figures. Column sums of the vectors above:
 *   leavers 19 (17 handed + x01 + x02; z01 erased is not a leaver any more)
 *   handed_over 17 (c01..c14, n01..n03)
 *   started 15 (c01..c07, c09..c14 = 13; n01, n02 = 2)
 *   with_consent 14 (c01..c14), no_consent 3 (n01..n03): 14 + 3 = 17
 *   bestendig 6 (c01 c02 c05 c06 c07 c10) of started_with_consent 13
 *   diploma 5 (c01 c02 c04 c05 c06), progressed 7 (c01..c07),
 *   left_without_diploma 8 (c01 c02 c03 c05 c07 c08 c09 c10),
 *   no_feedback 4 (c11..c14), each of with_consent 14. */
static const struct want s_main2425[] = {
	{ { "2024-2025", NULL }, { 19, 17, 15, 14, 3, 6, 5, 7, 8, 4, 13 } },
	{ { NULL, NULL }, { 19, 17, 15, 14, 3, 6, 5, 7, 8, 4, 13 } },
};

static void test_sending_measures(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "cohort" };
	/* rates by hand (100*c/d rounded half up; no ranges):
	 *   handed_over 17/19 = 89.47% -> 89
	 *   started 15/17 = 88.24% -> 88
	 *   with_consent 14/17 = 82.35% -> 82; no_consent 3/17 = 17.65% -> 18
	 *   bestendig 6/13 = 46.15% -> 46; diploma 5/14 = 35.71% -> 36;
	 *   progressed 7/14 = 50%; lwd 8/14 = 57.14% -> 57; no_feedback 4/14 = 28.57% -> 29 */
	static const struct {
		const char *measure, *display;
		double value;
	} rates[] = {
		{ "handed_over", "89%", 17.0 / 19 }, { "started", "88%", 15.0 / 17 },
		{ "with_consent", "82%", 14.0 / 17 }, { "no_consent", "18%", 3.0 / 17 },
		{ "bestendig", "46%", 6.0 / 13 }, { "diploma", "36%", 5.0 / 14 },
		{ "progressed", "50%", 7.0 / 14 }, { "left_without_diploma", "57%", 8.0 / 14 },
		{ "no_feedback", "29%", 4.0 / 14 },
	};
	Overstapctl__Report *rep;
	const Overstapctl__ReportTable *t;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	s_fill_sending(f, s_c2324, ARRAY_SIZE(s_c2324), 101);
	/* outcomes for records no leaver holds, sorting before, between and
	 * after the leavers' record ids (…010 … …200, …1010 … …1060): the merge
	 * of leavers and events must give them to nobody. Each would change a
	 * figure if it were: c01 would lose bestendig, c06 gain an lwd in the
	 * window, c11 become bestendig and lose no_feedback. */
	s_event(f, "01890a5d-0000-7000-8000-000000000005", "25LZ00", 1, LWD, "2026-01-01");
	s_event(f, "01890a5d-0000-7000-8000-000000000055", "25LZ00", 1, LWD, "2026-01-01");
	s_event(f, "01890a5d-0000-7000-8000-000000000115", "25LZ01", 1, STILL, "2026-10-01");
	s_event(f, "ffffffff-0000-7000-8000-000000000000", "25LZ00", 1, PROG, "2026-01-01");
	/* retention shreds a pupil's key, not the pupil's place in the figures:
	 * c01 (every outcome) and c14 (no_feedback) still count as before */
	for (size_t i = 0; i < 2; i++) {
		struct leaver l;

		assert_int_equal(store_leaver_find(f->s, i ? "c14" : "c01", 0, &l), 0);
		assert_int_equal(store_leaver_shred(f->s, &l, 7000), 0);
		store_leaver_clear(&l);
	}
	rep = s_build(f, "sending", NULL, NULL, "2024-2025", 0);
	assert_int_equal(rep->n_cohorts, 1);
	assert_string_equal(rep->cohorts[0], "2024-2025");
	t = rep->tables[0];
	assert_string_equal(t->name, "main");
	s_check(t, &s_sending, dims, 1, s_main2425, ARRAY_SIZE(s_main2425));
	for (size_t r = 0; r < 2; r++) {
		const Overstapctl__ReportRow *row = t->rows[r];

		assert_null(s_cell(row, "leavers")->rate);	/* a count of its own, no share */
		for (size_t i = 0; i < ARRAY_SIZE(rates); i++) {
			const Overstapctl__ReportCell *c = s_cell(row, rates[i].measure);

			/* the rate by hand wherever linked suppression left its
			 * count and denominator shown (design.md §6.4) */
			assert_int_equal(c->rate->suppressed,
					 c->count->suppressed || c->denominator_count->suppressed);
			if (!c->rate->suppressed) {
				assert_string_equal(c->rate->display, rates[i].display);
				assert_true(fabs(c->rate->value - rates[i].value) < 1e-12);
			}
		}
	}
	report_free(&rep);
	assert_null(rep);
}

/* Cell `measure` of row i of t, a count of at least 3 by hand: shown with
 * this value, or withheld as "x". Before linked suppression (design.md
 * §6.4) these cells could not be touched and had to be shown; on a cohort of
 * 19 the two-dimension breakdowns now take some of them. */
static void s_shown(const Overstapctl__ReportTable *t, size_t i, const char *measure, uint64_t v)
{
	const Overstapctl__ReportCell *c;

	assert_true(i < t->n_rows);
	assert_true(v >= MIN_CELL);
	c = s_cell(t->rows[i], measure);
	if (c->count->suppressed) {
		assert_string_equal(c->count->display, "x");
		return;
	}
	assert_int_equal(c->count->value, v);
}

/* ---- sending side: the breakdowns (cohort 2024-2025 only in the store) ---- */

#define TOTAL2425 { { NULL, NULL }, { 19, 17, 15, 14, 3, 6, 5, 7, 8, 4, 13 } }

static void test_by_program(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "program" };
	/* pro = c01..c07: all handed, started and consented; B c01 c02 c05 c06 c07;
	 *   D c01 c02 c04 c05 c06; Pr c01..c07; L c01 c02 c03 c05 c07; no F.
	 * vmbo_b = n01 n02 n03 x01 x02: handed n01..n03, started n01 n02, no consent.
	 * vso_arbeid = c08..c14: started all but c08; B c10; L c08 c09 c10; F c11..c14.
	 * z01 (bao) was erased: no bao row. Groups sorted by key. */
	static const struct want w[] = {
		{ { "pro", NULL }, { 7, 7, 7, 7, 0, 5, 5, 7, 5, 0, 7 } },
		{ { "vmbo_b", NULL }, { 5, 3, 2, 0, 3, 0, 0, 0, 0, 0, 0 } },
		{ { "vso_arbeid", NULL }, { 7, 7, 6, 7, 0, 1, 0, 0, 3, 4, 6 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "program", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_sending, dims, 1, w, ARRAY_SIZE(w)) > 0);
	assert_false(s_has_key(rep->tables[0], "bao"));
	/* leavers 7 + 5 + 7 = 19: nothing below 3 in that column */
	s_shown(rep->tables[0], 0, "leavers", 7);
	s_shown(rep->tables[0], 1, "leavers", 5);
	s_shown(rep->tables[0], 2, "leavers", 7);
	s_shown(rep->tables[0], 3, "leavers", 19);
	report_free(&rep);
}

static void test_by_destination(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "destination" };
	/* mbo_2 = c02 c04 c06 c08 c10 c12 c14: started all but c08; B c02 c06 c10;
	 *   D c02 c04 c06; Pr c02 c04 c06; L c02 c08 c10; F c12 c14.
	 * mbo_3_4 = n01 n02 n03 x02: handed n01..n03, started n01 n02.
	 * mbo_entree = c01 c03 c05 c07 c09 c11 c13: all started; B c01 c05 c07;
	 *   D c01 c05; Pr c01 c03 c05 c07; L c01 c03 c05 c07 c09; F c11 c13.
	 * work = x01, never sent. vavo (z01, erased): no row. */
	static const struct want w[] = {
		{ { "mbo_2", NULL }, { 7, 7, 6, 7, 0, 3, 3, 3, 3, 2, 6 } },
		{ { "mbo_3_4", NULL }, { 4, 3, 2, 0, 3, 0, 0, 0, 0, 0, 0 } },
		{ { "mbo_entree", NULL }, { 7, 7, 7, 7, 0, 3, 2, 4, 5, 2, 7 } },
		{ { "work", NULL }, { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "destination", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_sending, dims, 1, w, ARRAY_SIZE(w)) > 0);
	assert_false(s_has_key(rep->tables[0], "vavo"));
	report_free(&rep);
}

static void test_by_institution(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "institution" };
	/* 25LZ00 = c01..c10 n01 n02: started c01..c07 c09 c10 n01 n02 = 11;
	 *   consent c01..c10 = 10, none n01 n02 = 2; every B, D, Pr and L of the
	 *   cohort is here (6, 5, 7, 8); no F; started with consent 9.
	 * 25LZ01 = c11..c14 n03 x02: handed 5, started c11..c14 = 4, consent 4,
	 *   none n03 (its consent is for 25LZ99) = 1, F 4.
	 * none = x01 (no destination institution). 25LZ02 (z01, erased): no row. */
	static const struct want w[] = {
		{ { "25LZ00", NULL }, { 12, 12, 11, 10, 2, 6, 5, 7, 8, 0, 9 } },
		{ { "25LZ01", NULL }, { 6, 5, 4, 4, 1, 0, 0, 0, 0, 4, 4 } },
		{ { "none", NULL }, { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "institution", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_sending, dims, 1, w, ARRAY_SIZE(w)) > 0);
	assert_false(s_has_key(rep->tables[0], "25LZ02"));
	report_free(&rep);
}

static void test_by_advice(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "advice" };
	/* entree = c01 c02 c03 c04 c08 c09: started all but c08; B c01 c02;
	 *   D c01 c02 c04; Pr c01..c04; L c01 c02 c03 c08 c09; no F.
	 * mbo_2 = c05 c06 c07 c10..c14: all started; B c05 c06 c07 c10;
	 *   D c05 c06; Pr c05 c06 c07; L c05 c07 c10; F c11..c14.
	 * work = n01..n03 x01 x02. vo (z01, erased): no row. */
	static const struct want w[] = {
		{ { "entree", NULL }, { 6, 6, 5, 6, 0, 2, 3, 4, 5, 0, 5 } },
		{ { "mbo_2", NULL }, { 8, 8, 8, 8, 0, 4, 2, 3, 3, 4, 8 } },
		{ { "work", NULL }, { 5, 3, 2, 0, 3, 0, 0, 0, 0, 0, 0 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "advice", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_sending, dims, 1, w, ARRAY_SIZE(w)) > 0);
	assert_false(s_has_key(rep->tables[0], "vo"));
	s_shown(rep->tables[0], 0, "leavers", 6);
	s_shown(rep->tables[0], 1, "leavers", 8);
	s_shown(rep->tables[0], 2, "leavers", 5);
	report_free(&rep);
}

static void test_by_followed(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "followed" };
	/* no (zelfmelder) = c03 c04 c07 c08 c13 c14 n01: started all but c08;
	 *   consent the six c's, none n01; B c07; D c04; Pr c03 c04 c07;
	 *   L c03 c07 c08; F c13 c14; started with consent c03 c04 c07 c13 c14.
	 * unknown (not given) = n02 n03 x01 x02: handed n02 n03, started n02.
	 * yes = c01 c02 c05 c06 c09 c10 c11 c12: all started; B c01 c02 c05 c06
	 *   c10; D c01 c02 c05 c06; Pr the same four; L c01 c02 c05 c09 c10;
	 *   F c11 c12. */
	static const struct want w[] = {
		{ { "no", NULL }, { 7, 7, 6, 6, 1, 1, 1, 3, 3, 2, 5 } },
		{ { "unknown", NULL }, { 4, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0 } },
		{ { "yes", NULL }, { 8, 8, 8, 8, 0, 5, 4, 4, 5, 2, 8 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "followed", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_sending, dims, 1, w, ARRAY_SIZE(w)) > 0);
	s_shown(rep->tables[0], 0, "leavers", 7);
	s_shown(rep->tables[0], 1, "leavers", 4);
	s_shown(rep->tables[0], 2, "leavers", 8);
	report_free(&rep);
}

static void test_by_taal(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "taal" };
	/* 1F = c01..c05 n01: all started; consent 5, none 1; B c01 c02 c05;
	 *   D c01 c02 c04 c05; Pr c01..c05; L c01 c02 c03 c05.
	 * 2F = c06..c12: started all but c08; B c06 c07 c10; D c06; Pr c06 c07;
	 *   L c07 c08 c09 c10; F c11 c12.
	 * 3F = c13 c14 n02: all started; consent c13 c14; F c13 c14.
	 * unknown (not given) = n03 x01 x02: handed n03 only, not started.
	 * z01 (1F, erased) adds nothing to 1F. */
	static const struct want w[] = {
		{ { "1F", NULL }, { 6, 6, 6, 5, 1, 3, 4, 5, 4, 0, 5 } },
		{ { "2F", NULL }, { 7, 7, 6, 7, 0, 3, 1, 2, 4, 2, 6 } },
		{ { "3F", NULL }, { 3, 3, 3, 2, 1, 0, 0, 0, 0, 2, 2 } },
		{ { "unknown", NULL }, { 3, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "taal", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_sending, dims, 1, w, ARRAY_SIZE(w)) > 0);
	s_shown(rep->tables[0], 0, "leavers", 6);
	s_shown(rep->tables[0], 1, "leavers", 7);
	s_shown(rep->tables[0], 2, "leavers", 3);
	s_shown(rep->tables[0], 3, "leavers", 3);
	report_free(&rep);
}

static void test_by_rekenen(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "rekenen" };
	/* 1F = c04..c14: started all but c08; B c05 c06 c07 c10; D c04 c05 c06;
	 *   Pr c04 c05 c06 c07; L c05 c07 c08 c09 c10; F c11..c14.
	 * 2F = n01..n03 x01 x02.
	 * none (level none given) = c01 c02 c03: B c01 c02; D c01 c02; Pr and L
	 *   all three. 3F (z01, erased): no row. */
	static const struct want w[] = {
		{ { "1F", NULL }, { 11, 11, 10, 11, 0, 4, 3, 4, 5, 4, 10 } },
		{ { "2F", NULL }, { 5, 3, 2, 0, 3, 0, 0, 0, 0, 0, 0 } },
		{ { "none", NULL }, { 3, 3, 3, 3, 0, 2, 2, 3, 3, 0, 3 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "rekenen", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_sending, dims, 1, w, ARRAY_SIZE(w)) > 0);
	assert_false(s_has_key(rep->tables[0], "3F"));
	s_shown(rep->tables[0], 0, "leavers", 11);
	s_shown(rep->tables[0], 1, "leavers", 5);
	s_shown(rep->tables[0], 2, "leavers", 3);
	report_free(&rep);
}

static void test_by_program_and_followed(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "program", "followed" };
	/* The intersections of the two lists above; every combination of the
	 * values that occur is a row, empty ones too (design.md §6.4: a listed
	 * row would otherwise be known to hold a pupil):
	 *   pro/no = c03 c04 c07: B c07; D c04; Pr all; L c03 c07.
	 *   pro/yes = c01 c02 c05 c06: B, D, Pr all four; L c01 c02 c05.
	 *   vmbo_b/no = n01.  vmbo_b/unknown = n02 n03 x01 x02 (handed n02 n03,
	 *   started n02).
	 *   vso_arbeid/no = c08 c13 c14: started c13 c14; L c08; F c13 c14.
	 *   vso_arbeid/yes = c09 c10 c11 c12: B c10; L c09 c10; F c11 c12. */
	static const struct want w[] = {
		{ { "pro", "no" }, { 3, 3, 3, 3, 0, 1, 1, 3, 2, 0, 3 } },
		{ { "pro", "unknown" }, { 0 } },
		{ { "pro", "yes" }, { 4, 4, 4, 4, 0, 4, 4, 4, 3, 0, 4 } },
		{ { "vmbo_b", "no" }, { 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0 } },
		{ { "vmbo_b", "unknown" }, { 4, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0 } },
		{ { "vmbo_b", "yes" }, { 0 } },
		{ { "vso_arbeid", "no" }, { 3, 3, 2, 3, 0, 0, 0, 0, 1, 2, 2 } },
		{ { "vso_arbeid", "unknown" }, { 0 } },
		{ { "vso_arbeid", "yes" }, { 4, 4, 4, 4, 0, 1, 0, 0, 2, 2, 4 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "program", "followed", NULL, 0);
	assert_true(s_check(rep->tables[0], &s_sending, dims, 2, w, ARRAY_SIZE(w)) > 0);
	report_free(&rep);
}

/* ---- sending side: cohorts ---- */

static void test_two_cohorts(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "cohort" };
	/* 2023-2024 as worked out at s_c2324; the total adds 2024-2025:
	 * 7+19 = 26, 6+17 = 23, 5+15 = 20, 5+14 = 19, 1+3 = 4, 3+6 = 9, 0+5 = 5,
	 * 0+7 = 7, 1+8 = 9, 1+4 = 5, 4+13 = 17. */
	static const struct want both[] = {
		{ { "2023-2024", NULL }, { 7, 6, 5, 5, 1, 3, 0, 0, 1, 1, 4 } },
		{ { "2024-2025", NULL }, { 19, 17, 15, 14, 3, 6, 5, 7, 8, 4, 13 } },
		{ { NULL, NULL }, { 26, 23, 20, 19, 4, 9, 5, 7, 9, 5, 17 } },
	};
	static const struct want one[] = {
		{ { "2023-2024", NULL }, { 7, 6, 5, 5, 1, 3, 0, 0, 1, 1, 4 } },
		{ { NULL, NULL }, { 7, 6, 5, 5, 1, 3, 0, 0, 1, 1, 4 } },
	};
	Overstapctl__Report *rep;
	const Overstapctl__ReportTable *t;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	s_fill_sending(f, s_c2324, ARRAY_SIZE(s_c2324), 101);

	/* no breakdown asked: a row per cohort */
	rep = s_build(f, "", NULL, NULL, NULL, 0);
	assert_int_equal(rep->n_cohorts, 2);
	assert_string_equal(rep->cohorts[0], "2023-2024");
	assert_string_equal(rep->cohorts[1], "2024-2025");
	t = rep->tables[0];
	assert_true(s_check(t, &s_sending, dims, 1, both, ARRAY_SIZE(both)) > 0);
	/* leavers: 7, 19, 26, nothing small */
	s_shown(t, 0, "leavers", 7);
	s_shown(t, 1, "leavers", 19);
	s_shown(t, 2, "leavers", 26);
	report_free(&rep);

	/* one cohort: the other is gone, rows and header alike. Each cohort is
	 * measured against its own dates: d1..d3 are bestendig on 2025-10-01 and
	 * d6 (enrolled 2025-09-01) did not start by 2024-10-01. The primary
	 * withheld: no_consent 1, diploma 0, progressed 0, lwd 1, no_feedback 1
	 * (and with no_consent withheld, with_consent or handed_over must go too:
	 * 6 = 5 + x would tell x). */
	rep = s_build(f, "sending", "cohort", NULL, "2023-2024", 0);
	assert_int_equal(rep->n_cohorts, 1);
	assert_string_equal(rep->cohorts[0], "2023-2024");
	t = rep->tables[0];
	assert_true(s_check(t, &s_sending, dims, 1, one, ARRAY_SIZE(one)) >= 10);
	s_shown(t, 0, "leavers", 7);
	s_shown(t, 0, "started", 5);
	s_shown(t, 0, "bestendig", 3);
	assert_true(s_cell(t->rows[0], "no_consent")->count->suppressed);
	assert_true(s_cell(t->rows[0], "with_consent")->count->suppressed ||
		    s_cell(t->rows[0], "handed_over")->count->suppressed);
	report_free(&rep);
}

/* Reports over nothing: a cohort no leaver is in, a side the store has no
 * data for. Only the total row, every count withheld as "<3", no cohorts in
 * the header. Last in the list: report_build passes qsort a NULL cohort list
 * when no fact matched, undefined behaviour that the sanitizer build stops
 * the whole process on, so it must not hide the other tests. */
static void test_empty_reports(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *side, *by1, *by2, *cohort;
		size_t ncells;
	} q[] = {
		{ "sending", NULL, NULL, "2030-2031", 10 },	/* a cohort with nothing */
		{ "receiving", "previous", "school", NULL, 10 },	/* nothing received */
		{ "receiving", NULL, NULL, NULL, 10 },
	};

	s_fill_sending(f, s_c2425, 3, 1);
	for (size_t i = 0; i < ARRAY_SIZE(q); i++) {
		Overstapctl__Report *rep = s_build(f, q[i].side, q[i].by1, q[i].by2, q[i].cohort, 0);
		const Overstapctl__ReportTable *t = rep->tables[0];

		assert_int_equal(rep->n_cohorts, 0);
		assert_int_equal(t->n_rows, 1);
		assert_true(t->rows[0]->total);
		assert_int_equal(t->rows[0]->n_cells, q[i].ncells);
		for (size_t c = 0; c < t->rows[0]->n_cells; c++) {
			assert_true(t->rows[0]->cells[c]->count->suppressed);
			assert_int_equal(t->rows[0]->cells[c]->count->value, 0);
			assert_string_equal(t->rows[0]->cells[c]->count->display, "<3");
			if (t->rows[0]->cells[c]->rate)
				assert_string_equal(t->rows[0]->cells[c]->rate->display, "-");
		}
		report_free(&rep);
	}
}

static void test_charts(void **state)
{
	struct fx *f = *state;
	static const char *const cdims[] = { "cohort" }, *const pdims[] = { "program" },
				 *const ddims[] = { "destination" }, *const fdims[] = { "followed" };
	/* the followed table as in test_by_followed; program and destination as
	 * in their tests; the trend is one row per cohort as in test_two_cohorts
	 * (2024-2025 only here) */
	static const struct want wf[] = {
		{ { "no", NULL }, { 7, 7, 6, 6, 1, 1, 1, 3, 3, 2, 5 } },
		{ { "unknown", NULL }, { 4, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0 } },
		{ { "yes", NULL }, { 8, 8, 8, 8, 0, 5, 4, 4, 5, 2, 8 } },
		TOTAL2425,
	};
	static const struct want wp[] = {
		{ { "pro", NULL }, { 7, 7, 7, 7, 0, 5, 5, 7, 5, 0, 7 } },
		{ { "vmbo_b", NULL }, { 5, 3, 2, 0, 3, 0, 0, 0, 0, 0, 0 } },
		{ { "vso_arbeid", NULL }, { 7, 7, 6, 7, 0, 1, 0, 0, 3, 4, 6 } },
		TOTAL2425,
	};
	static const struct want wd[] = {
		{ { "mbo_2", NULL }, { 7, 7, 6, 7, 0, 3, 3, 3, 3, 2, 6 } },
		{ { "mbo_3_4", NULL }, { 4, 3, 2, 0, 3, 0, 0, 0, 0, 0, 0 } },
		{ { "mbo_entree", NULL }, { 7, 7, 7, 7, 0, 3, 2, 4, 5, 2, 7 } },
		{ { "work", NULL }, { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
		TOTAL2425,
	};
	Overstapctl__Report *rep;

	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "followed", NULL, NULL, 1);
	assert_string_equal(rep->tables[0]->name, "main");
	assert_string_equal(rep->tables[1]->name, "program");
	assert_string_equal(rep->tables[2]->name, "destination");
	assert_string_equal(rep->tables[3]->name, "trend");
	s_check(rep->tables[0], &s_sending, fdims, 1, wf, ARRAY_SIZE(wf));
	s_check(rep->tables[1], &s_sending, pdims, 1, wp, ARRAY_SIZE(wp));
	s_check(rep->tables[2], &s_sending, ddims, 1, wd, ARRAY_SIZE(wd));
	s_check(rep->tables[3], &s_sending, cdims, 1, s_main2425, ARRAY_SIZE(s_main2425));
	report_free(&rep);
}


/* ---- the checker itself, and the tables of one report together ---- */

/* The solver finds what it should: t = a + b with t and b shown tells a;
 * with b withheld too it tells neither. */
static void test_solver_self_check(void **state)
{
	Overstapctl__ReportCount a = OVERSTAPCTL__REPORT_COUNT__INIT, b = OVERSTAPCTL__REPORT_COUNT__INIT,
				 t = OVERSTAPCTL__REPORT_COUNT__INIT;
	struct sys *s = calloc(1, sizeof(*s));

	(void)state;
	a.suppressed = 1;
	b.value = 4;
	t.value = 5;
	s_eq(s);
	s_term(s, &t, 1);
	s_term(s, &a, -1);
	s_term(s, &b, -1);
	assert_int_equal(s_solvable(s, NULL), 1);
	memset(s, 0, sizeof(*s));
	b.suppressed = 1;
	s_eq(s);
	s_term(s, &t, 1);
	s_term(s, &a, -1);
	s_term(s, &b, -1);
	assert_int_equal(s_solvable(s, NULL), 0);
	free(s);
}

/* With charts, one Report carries the 2-D breakdown (program, followed) and
 * the "program" table, whose rows are exactly the program totals of the
 * breakdown's groups. design.md §6: no withheld cell may be recoverable from row or
 * column totals. By hand: vmbo_b has 5 leavers (program table; nothing small
 * in that column), vmbo_b/unknown 4 of them (main; shown), so vmbo_b/no must
 * not be 5 - 4 = 1 for everyone to see: some of these three must be
 * withheld. The check below takes every table's own equations plus
 * program[a] = sum over b of main[a, b] and every table's total = main's
 * total, and asks that no withheld count can be worked out. */
static void test_charts_do_not_reveal_breakdown(void **state)
{
	struct fx *f = *state;
	const Overstapctl__ReportCount *seen[4][32][NV_MAX];
	Overstapctl__Report *rep;
	const Overstapctl__ReportTable *m, *p;
	struct sys *sys = calloc(1, sizeof(*sys));
	unsigned n;

	assert_non_null(sys);
	memset(seen, 0, sizeof(seen));
	s_fill_sending(f, s_c2425, ARRAY_SIZE(s_c2425), 1);
	rep = s_build(f, "sending", "program", "followed", NULL, 1);
	for (size_t i = 0; i < 4; i++) {
		assert_true(rep->tables[i]->n_rows <= 32);
		s_counts(rep->tables[i], &s_sending, seen[i]);
		s_table_eqs(sys, rep->tables[i], &s_sending, seen[i]);
	}
	m = rep->tables[0];
	p = rep->tables[1];
	assert_string_equal(p->name, "program");
	for (size_t i = 0; i < p->n_rows; i++) {
		const Overstapctl__ReportRow *pr = p->rows[i];

		for (size_t v = 0; v < s_sending.nv; v++) {
			s_eq(sys);
			s_term(sys, seen[1][i][v], 1);
			for (size_t j = 0; j < m->n_rows; j++) {
				const Overstapctl__ReportRow *mr = m->rows[j];

				if (pr->total ? mr->total : !mr->total && strcmp(mr->keys[0], pr->keys[0]) == 0)
					s_term(sys, seen[0][j][v], -1);
			}
		}
	}
	for (size_t i = 2; i < 4; i++)	/* destination and trend: the same total */
		for (size_t v = 0; v < s_sending.nv; v++) {
			s_eq(sys);
			s_term(sys, seen[i][rep->tables[i]->n_rows - 1][v], 1);
			s_term(sys, seen[0][m->n_rows - 1][v], -1);
		}
	for (size_t i = 0; i < 4; i++)
		s_name_vars(sys, rep->tables[i], &s_sending, seen[i]);
	n = s_solvable(sys, "main + program");
	free(sys);
	report_free(&rep);
	if (n)
		fail_msg("%u withheld counts of the (program, followed) breakdown and its program table "
			 "can be worked out from the two tables of the same report", n);
}

/* ---- errors ---- */

static int s_fails(struct fx *f, const char *side, const char *const *by, size_t nby, const char *cohort,
		   const char *reason)
{
	Overstapctl__ReportQuery q = OVERSTAPCTL__REPORT_QUERY__INIT;
	Overstapctl__Report *rep = NULL;
	char *cohorts[1] = { (char *)cohort }, why[256] = "";
	int r;

	q.side = (char *)side;
	q.by = (char **)by;
	q.n_by = nby;
	if (cohort) {
		q.cohorts = cohorts;
		q.n_cohorts = 1;
	}
	r = report_build(f->d.store, f->d.cfg, &q, 0, &rep, why, sizeof(why));
	assert_null(rep);
	assert_string_equal(why, reason);
	return r;
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	static const char *const colour[] = { "colour" }, *const twice[] = { "program", "program" },
				 *const school[] = { "school" }, *const taal[] = { "taal" },
				 *const nine[] = { "cohort", "program", "destination", "institution", "advice",
						   "followed", "taal", "rekenen", "cohort" },
				 *const eight[] = { "cohort", "program", "destination", "institution", "advice",
						    "followed", "taal", "rekenen" };

	s_fill_sending(f, s_c2425, 3, 1);
	assert_int_equal(s_fails(f, "sending", colour, 1, NULL,
				 "unknown dimension 'colour' for the sending side (known: cohort, program, "
				 "destination, institution, advice, followed, taal, rekenen)"), -EINVAL);
	/* a receiving dimension on the sending side, and the other way round */
	assert_int_equal(s_fails(f, "sending", school, 1, NULL,
				 "unknown dimension 'school' for the sending side (known: cohort, program, "
				 "destination, institution, advice, followed, taal, rekenen)"), -EINVAL);
	assert_int_equal(s_fails(f, "receiving", taal, 1, NULL,
				 "unknown dimension 'taal' for the receiving side (known: cohort, previous, "
				 "school, destination)"), -EINVAL);
	assert_int_equal(s_fails(f, "sending", twice, 2, NULL, "dimension 'program' given twice"), -EINVAL);
	/* design.md §6.4: the linked set is every table of one or two dimensions */
	assert_int_equal(s_fails(f, "sending", nine, 9, NULL, "at most 2 dimensions in one breakdown"), -EINVAL);
	assert_int_equal(s_fails(f, "sending", eight, 3, NULL, "at most 2 dimensions in one breakdown"), -EINVAL);
	assert_int_equal(s_fails(f, "sending", NULL, 0, "2024-2026",
				 "'2024-2026' is not a cohort (YYYY-YYYY, consecutive years)"), -EINVAL);
	assert_int_equal(s_fails(f, "sending", NULL, 0, "2024",
				 "'2024' is not a cohort (YYYY-YYYY, consecutive years)"), -EINVAL);
	assert_int_equal(s_fails(f, "both", NULL, 0, NULL, "side must be sending or receiving, not 'both'"),
			 -EINVAL);
	/* the same dimensions are fine on the side they belong to */
	{
		Overstapctl__ReportQuery q = OVERSTAPCTL__REPORT_QUERY__INIT;
		Overstapctl__Report *rep = NULL;
		char why[256] = "";

		q.side = "sending";
		q.by = (char **)eight + 6;	/* taal, rekenen */
		q.n_by = 2;
		assert_int_equal(report_build(f->d.store, f->d.cfg, &q, 0, &rep, why, sizeof(why)), 0);
		assert_int_equal(rep->tables[0]->n_dimensions, 2);
		report_free(&rep);
	}
}

/* ---- receiving side ---- */

static void test_receiving_measures(void **state)
{
	struct fx *f = *state;
	static const char *const dims[] = { "cohort" };
	/* column sums of the vectors at s_recv: intake 14 (r01..r14; r15 erased),
	 * enrolled 12 (r01..r12), covered 9 (r01..r09), intake_held 10 (r01..r07
	 * r10 r11 r13), diploma 3 (r01 r02 r03), progressed 4 (r01 r02 r04 r05),
	 * left_without_diploma 5 (r06..r10). */
	static const struct want w[] = {
		{ { "2024-2025", NULL }, { 14, 14, 0, 0, 12, 9, 10, 3, 4, 5 } },
		{ { NULL, NULL }, { 14, 14, 0, 0, 12, 9, 10, 3, 4, 5 } },
	};
	/* enrolled 12/14 = 85.71% -> 86;
	 * covered 9/12 = 75%; intake_held 10/14 = 71.43% -> 71; diploma 3/12 = 25%;
	 * progressed 4/12 = 33.33% -> 33; lwd 5/12 = 41.67% -> 42 */
	static const struct {
		const char *measure, *display;
		double value;
	} rates[] = {
		{ "enrolled", "86%", 12.0 / 14 }, { "covered", "75%", 9.0 / 12 }, { "intake_held", "71%", 10.0 / 14 },
		{ "diploma", "25%", 3.0 / 12 }, { "progressed", "33%", 4.0 / 12 },
		{ "left_without_diploma", "42%", 5.0 / 12 },
	};
	Overstapctl__Report *rep;

	s_fill_receiving(f);
	rep = s_build(f, "receiving", NULL, NULL, NULL, 0);
	assert_int_equal(rep->n_cohorts, 1);
	s_check(rep->tables[0], &s_receiving, dims, 1, w, ARRAY_SIZE(w));
	for (size_t r = 0; r < 2; r++)
		for (size_t i = 0; i < ARRAY_SIZE(rates); i++) {
			const Overstapctl__ReportCell *c = s_cell(rep->tables[0]->rows[r], rates[i].measure);

			assert_int_equal(c->rate->suppressed,
					 c->count->suppressed || c->denominator_count->suppressed);
			if (!c->rate->suppressed) {
				assert_string_equal(c->rate->display, rates[i].display);
				assert_true(fabs(c->rate->value - rates[i].value) < 1e-12);
			}
		}
	report_free(&rep);
}

static void test_receiving_breakdowns(void **state)
{
	struct fx *f = *state;
	static const char *const pdims[] = { "previous" }, *const sdims[] = { "school" },
				 *const ddims[] = { "destination" };
#define RTOTAL { { NULL, NULL }, { 14, 14, 0, 0, 12, 9, 10, 3, 4, 5 } }
	/* previous: pro = r01..r05: all enrolled, covered and held; D r01 r02 r03;
	 *   Pr r01 r02 r04 r05. vmbo_b = r11..r14: enrolled r11 r12, none
	 *   covered, held r11 r13. vso_arbeid = r06..r10: covered r06..r09, held
	 *   r06 r07 r10, L all five. bao (r15, erased): no row. */
	static const struct want wp[] = {
		{ { "pro", NULL }, { 5, 5, 0, 0, 5, 5, 5, 3, 4, 0 } },
		{ { "vmbo_b", NULL }, { 4, 4, 0, 0, 2, 0, 2, 0, 0, 0 } },
		{ { "vso_arbeid", NULL }, { 5, 5, 0, 0, 5, 4, 3, 0, 0, 5 } },
		RTOTAL,
	};
	/* school: 12AB00 = r01..r04 r09 r10 r11: all enrolled; covered r01..r04
	 *   r09; held r01..r04 r10 r11; D r01 r02 r03; Pr r01 r02 r04; L r09 r10
	 *   (r11's came from elsewhere). 12AB01 = r05..r08 r12: covered r05..r08;
	 *   held r05 r06 r07; Pr r05; L r06 r07 r08. 13CD00 = r13 r14: held r13.
	 *   14EF00 (r15, erased): no row. */
	static const struct want ws[] = {
		{ { "12AB00", NULL }, { 7, 7, 0, 0, 7, 5, 6, 3, 3, 2 } },
		{ { "12AB01", NULL }, { 5, 5, 0, 0, 5, 4, 3, 0, 1, 3 } },
		{ { "13CD00", NULL }, { 2, 2, 0, 0, 0, 0, 1, 0, 0, 0 } },
		RTOTAL,
	};
	/* destination: mbo_2 = r02 r04 .. r14: enrolled all but r14; covered r02
	 *   r04 r06 r08; held r02 r04 r06 r10; D r02; Pr r02 r04; L r06 r08 r10.
	 *   mbo_entree = r01 r03 .. r13: enrolled all but r13; covered r01 r03
	 *   r05 r07 r09; held r01 r03 r05 r07 r11 r13; D r01 r03; Pr r01 r05;
	 *   L r07 r09. vavo (r15, erased): no row. */
	static const struct want wd[] = {
		{ { "mbo_2", NULL }, { 7, 7, 0, 0, 6, 4, 4, 1, 2, 3 } },
		{ { "mbo_entree", NULL }, { 7, 7, 0, 0, 6, 5, 6, 2, 2, 2 } },
		RTOTAL,
	};
#undef RTOTAL
	Overstapctl__Report *rep;

	s_fill_receiving(f);
	rep = s_build(f, "receiving", "previous", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_receiving, pdims, 1, wp, ARRAY_SIZE(wp)) > 0);
	assert_false(s_has_key(rep->tables[0], "bao"));
	/* intake 5 + 4 + 5 = 14: nothing small in that column */
	s_shown(rep->tables[0], 0, "intake", 5);
	s_shown(rep->tables[0], 1, "intake", 4);
	s_shown(rep->tables[0], 2, "intake", 5);
	report_free(&rep);

	rep = s_build(f, "receiving", "school", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_receiving, sdims, 1, ws, ARRAY_SIZE(ws)) > 0);
	assert_false(s_has_key(rep->tables[0], "14EF00"));
	report_free(&rep);

	rep = s_build(f, "receiving", "destination", NULL, NULL, 0);
	assert_true(s_check(rep->tables[0], &s_receiving, ddims, 1, wd, ARRAY_SIZE(wd)) > 0);
	assert_false(s_has_key(rep->tables[0], "vavo"));
	/* intake 7 + 7, covered 4 + 5, intake_held 4 + 6: nothing small there */
	s_shown(rep->tables[0], 0, "intake", 7);
	s_shown(rep->tables[0], 1, "intake", 7);
	s_shown(rep->tables[0], 0, "covered", 4);
	s_shown(rep->tables[0], 1, "covered", 5);
	s_shown(rep->tables[0], 0, "intake_held", 4);
	s_shown(rep->tables[0], 1, "intake_held", 6);
	report_free(&rep);

	/* with charts: "program" is by previous education */
	rep = s_build(f, "receiving", "school", NULL, NULL, 1);
	assert_string_equal(rep->tables[1]->name, "program");
	s_check(rep->tables[1], &s_receiving, pdims, 1, wp, ARRAY_SIZE(wp));
	s_check(rep->tables[2], &s_receiving, ddims, 1, wd, ARRAY_SIZE(wd));
	report_free(&rep);
}

int main(void)
{
	/* the covered measure compares the day a dossier arrived, in local time */
	setenv("TZ", "UTC", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sending_measures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_institution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_advice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_taal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_rekenen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_program_and_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_cohorts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_charts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receiving_measures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receiving_breakdowns, setup, teardown),
		cmocka_unit_test(test_solver_self_check),
		cmocka_unit_test_setup_teardown(test_charts_do_not_reveal_breakdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_reports, setup, teardown),
	};

	/* cmocka patterns (* and ?), e.g. TEST_REPORT_SKIP=test_empty_reports */
	if (getenv("TEST_REPORT_ONLY"))
		cmocka_set_test_filter(getenv("TEST_REPORT_ONLY"));
	if (getenv("TEST_REPORT_SKIP"))
		cmocka_set_skip_filter(getenv("TEST_REPORT_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
