/* store_report: the facts reports are made of, streamed, without personal data. */
#include "store_int.h"
#include "outcomes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* YYYY-MM-DD as the number YYYYMMDD (0 for anything else): dates compare as
 * numbers without string copies. */
static uint32_t s_ymd(const unsigned char *t)
{
	uint32_t v = 0;

	if (!t)
		return 0;
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (t[i] != '-')
				return 0;
			continue;
		}
		if (t[i] < '0' || t[i] > '9')
			return 0;
		v = v * 10 + (uint32_t)(t[i] - '0');
	}
	return t[10] ? 0 : v;
}

static void s_min(uint32_t *d, uint32_t v)
{
	if (v && (!*d || v < *d))
		*d = v;
}

/* Fold one received event into the leaver's fact. */
static void s_fold(struct send_fact *f, int ev, uint32_t date)
{
	if (ev >= OUTCOME_EV_STILL_ENROLLED)
		f->outcomes++;
	if (ev == OUTCOME_EV_ENROLLED)
		s_min(&f->enrolled, date);
	else if (ev == OUTCOME_EV_DIPLOMA)
		s_min(&f->diploma, date);
	else if (ev == OUTCOME_EV_PROGRESSED)
		s_min(&f->progressed, date);
	else if (ev == OUTCOME_EV_LEFT_WITHOUT_DIPLOMA)
		s_min(&f->lwd, date);
	else if (ev == OUTCOME_EV_STILL_ENROLLED && date > f->still)
		f->still = date;
	if (ev == OUTCOME_EV_LEFT_WITHOUT_DIPLOMA || ev == OUTCOME_EV_SWITCHED)
		s_min(&f->stop, date);
}

static const struct store_col s_send_cols[] = {
	STORE_TEXT(struct send_fact, record_id), STORE_I64(struct send_fact, leaver_id),
	STORE_TEXT(struct send_fact, cohort), STORE_INT(struct send_fact, program),
	STORE_INT(struct send_fact, destination), STORE_TEXT(struct send_fact, institution),
	STORE_INT(struct send_fact, advice), STORE_INT(struct send_fact, followed),
	STORE_INT(struct send_fact, taal), STORE_INT(struct send_fact, rekenen),
	STORE_INT(struct send_fact, state),
};

int store_report_sending(struct store *s, store_send_fact_fn fn, void *arg)
{
	sqlite3_stmt *lv, *ev = store_st(s, ST_REPORT_EVENTS), *st = store_st(s, ST_REPORT_COUNT);
	uint8_t *consent = NULL;	/* bit per leaver id */
	int64_t max_id = 0;
	int rc, erc, r = 0;

	/* the leavers whose follow_up consent counts, as a bitmap by id */
	if (sqlite3_step(st) == SQLITE_ROW)
		max_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!(consent = calloc((size_t)max_id / 8 + 1, 1)))
		return -ENOMEM;
	st = store_st(s, ST_REPORT_CONSENTS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (id >= 0 && id <= max_id)
			consent[id / 8] |= (uint8_t)(1u << (id % 8));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(consent);
		return sqlerr_errno(rc);
	}
	/* leavers and events, both by record id: a merge */
	lv = store_st(s, ST_REPORT_SEND);
	erc = sqlite3_step(ev);
	while (r == 0 && (rc = sqlite3_step(lv)) == SQLITE_ROW) {
		struct send_fact f;

		memset(&f, 0, sizeof(f));
		store_cols(lv, s_send_cols, ARRAY_SIZE(s_send_cols), &f);
		f.consent = f.leaver_id >= 0 && f.leaver_id <= max_id &&
			    (consent[f.leaver_id / 8] >> (f.leaver_id % 8) & 1);
		while (f.record_id[0] && erc == SQLITE_ROW) {
			const char *rid = (const char *)sqlite3_column_text(ev, 0);
			int c = rid ? strcmp(rid, f.record_id) : -1;

			if (c > 0)
				break;
			if (c == 0)	/* < 0: events of a record no leaver holds (erased) */
				s_fold(&f, sqlite3_column_int(ev, 1), s_ymd(sqlite3_column_text(ev, 2)));
			erc = sqlite3_step(ev);
		}
		r = fn(&f, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	else if (r == 0 && erc != SQLITE_ROW && erc != SQLITE_DONE)
		r = sqlerr_errno(erc);
	sqlite3_reset(lv);
	sqlite3_reset(ev);
	free(consent);
	return r < 0 ? r : 0;
}

static const struct store_col s_recv_cols[] = {
	STORE_TEXT(struct recv_fact, cohort), STORE_INT(struct recv_fact, program),
	STORE_TEXT(struct recv_fact, sender), STORE_INT(struct recv_fact, destination),
	STORE_I64(struct recv_fact, received_at), STORE_TEXT(struct recv_fact, enrolled),
	STORE_TEXT(struct recv_fact, held), STORE_TEXT(struct recv_fact, diploma),
	STORE_TEXT(struct recv_fact, progressed), STORE_TEXT(struct recv_fact, lwd),
	STORE_INT(struct recv_fact, prev_diploma), STORE_TEXT(struct recv_fact, start),
	STORE_INT(struct recv_fact, dossier), STORE_INT(struct recv_fact, level),
};

static int s_recv_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;
	struct recv_fact f;

	memset(&f, 0, sizeof(f));
	store_cols(st, s_recv_cols, ARRAY_SIZE(s_recv_cols), &f);
	return e->fn.recv(&f, e->arg);
}

int store_report_receiving(struct store *s, store_recv_fact_fn fn, void *arg)
{
	struct store_cb e = { .fn.recv = fn, .arg = arg };

	return store_rows(store_st(s, ST_REPORT_RECV), s_recv_row, &e);
}
