/* store_events: statuses and outcomes, both directions: the timeline of a record. */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int store_event_add(struct store *s, const struct event_rec *e)
{
	sqlite3_stmt *st = store_st(s, ST_EVENT_INS);
	int r;

	sqlite3_bind_text(st, 1, e->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, e->inbound);
	sqlite3_bind_text(st, 4, e->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, e->event);
	sqlite3_bind_text(st, 6, e->date, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, e->level);
	sqlite3_bind_text(st, 8, e->consent_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, e->at);
	sqlite3_bind_text(st, 10, e->actor, -1, SQLITE_STATIC);
	r = sqlerr_exec(st);
	/* The same message id again: already applied, and acknowledged as such.
	 * Only a key conflict means that (sqlerr.h); a NOT NULL or CHECK failure
	 * is -EINVAL, an error, so bad data is never acknowledged as held. */
	return r == -EEXIST ? 1 : r;
}

int store_events_each(struct store *s, const char *record_id, store_event_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_EVENTS_OF);
	int rc, r = 0;

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct event_rec e = { 0 };

		store_text(st, 0, e.message_id, sizeof(e.message_id));
		str_copy(e.record_id, sizeof(e.record_id), record_id);
		e.inbound = sqlite3_column_int(st, 1);
		store_text(st, 2, e.peer, sizeof(e.peer));
		e.event = sqlite3_column_int(st, 3);
		store_text(st, 4, e.date, sizeof(e.date));
		e.level = sqlite3_column_int(st, 5);
		store_text(st, 6, e.consent_id, sizeof(e.consent_id));
		e.at = sqlite3_column_int64(st, 7);
		store_text(st, 8, e.actor, sizeof(e.actor));
		e.state = sqlite3_column_int(st, 9);
		store_text(st, 10, e.reason, sizeof(e.reason));
		r = fn(&e, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	return r;
}

int store_events_delete(struct store *s, const char *record_id, unsigned *n)
{
	sqlite3_stmt *st = store_st(s, ST_EVENTS_DEL_RECORD);

	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_STATIC);
	return store_exec_count(s, st, n);
}

int store_events_expire(struct store *s, const char *before_date, unsigned *n)
{
	sqlite3_stmt *st = store_st(s, ST_RET_EVENTS);

	sqlite3_bind_text(st, 1, before_date, -1, SQLITE_STATIC);
	return store_exec_count(s, st, n);
}
