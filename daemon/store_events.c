/* store_events: statuses and outcomes, both directions: the timeline of a record. */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int store_event_add(struct store *s, const struct event_rec *e)
{
	sqlite3_stmt *st = store_st(s, ST_EVENT_INS);
	int r;

	r = STORE_BIND(st, STORE_T(e->message_id), STORE_T(e->record_id), STORE_I(e->inbound),
		       STORE_T(e->peer), STORE_I(e->event), STORE_T(e->date),
		       STORE_I(e->level), STORE_T(e->consent_id), STORE_I(e->at),
		       STORE_T(e->actor));
	if (r == 0)
		r = sqlerr_exec(st);
	/* The same message id again: already applied, and acknowledged as such.
	 * Only a key conflict means that (sqlerr.h); a NOT NULL or CHECK failure
	 * is -EINVAL, an error, so bad data is never acknowledged as held. */
	return r == -EEXIST ? 1 : r;
}

static const struct store_col s_event_cols[] = {
	STORE_TEXT(struct event_rec, message_id), STORE_INT(struct event_rec, inbound),
	STORE_TEXT(struct event_rec, peer), STORE_INT(struct event_rec, event),
	STORE_TEXT(struct event_rec, date), STORE_INT(struct event_rec, level),
	STORE_TEXT(struct event_rec, consent_id), STORE_I64(struct event_rec, at),
	STORE_TEXT(struct event_rec, actor), STORE_INT(struct event_rec, state),
	STORE_TEXT(struct event_rec, reason),
};

static int s_event_each_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;
	struct event_rec ev = { 0 };

	store_cols(st, s_event_cols, ARRAY_SIZE(s_event_cols), &ev);
	str_copy(ev.record_id, sizeof(ev.record_id), e->record_id);
	return e->fn.event(&ev, e->arg);
}

int store_events_each(struct store *s, const char *record_id, store_event_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_EVENTS_OF);
	struct store_cb e = { .fn.event = fn, .arg = arg, .record_id = record_id };
	int r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	return store_rows(st, s_event_each_row, &e);
}

int store_events_delete(struct store *s, const char *record_id, unsigned *n)
{
	sqlite3_stmt *st = store_st(s, ST_EVENTS_DEL_RECORD);
	int r;

	if ((r = STORE_BIND(st, STORE_T(record_id))) < 0)
		return r;
	return store_exec_count(s, st, n);
}

int store_events_expire(struct store *s, const char *before_date, unsigned *n)
{
	sqlite3_stmt *st = store_st(s, ST_RET_EVENTS);
	int r;

	if ((r = STORE_BIND(st, STORE_T(before_date))) < 0)
		return r;
	return store_exec_count(s, st, n);
}
