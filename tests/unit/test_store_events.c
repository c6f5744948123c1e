/* Unit tests for store_events.c: the timeline, retries, expiry, and which
 * failures count as "already applied". */
#include "store_fixture.h"

static void test_events_expire_and_delete(void **state)
{
	struct fx *f = *state;
	unsigned n = 99;

	fx_event(f, REC_A, "2024-01-01");
	fx_event(f, REC_A, "2024-06-30");
	fx_event(f, REC_B, "2024-07-01");
	fx_event(f, REC_B, "2025-01-01");
	fx_event(f, REC_C, "2025-02-01");
	assert_int_equal(store_events_expire(f->s, "2024-07-01", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fx_events(f, REC_A), 0);
	assert_int_equal(fx_events(f, REC_B), 2);
	assert_int_equal(store_events_expire(f->s, "2024-07-01", &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(store_events_delete(f->s, REC_B, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fx_events(f, REC_B), 0);
	assert_int_equal(fx_events(f, REC_C), 1);
	assert_int_equal(store_events_delete(f->s, REC_B, &n), 0);
	assert_int_equal(n, 0);
}

struct ev_seen {
	struct event_rec v[4];
	size_t n;
};

static int s_ev_collect(const struct event_rec *e, void *arg)
{
	struct ev_seen *seen = arg;

	assert_true(seen->n < ARRAY_SIZE(seen->v));
	seen->v[seen->n++] = *e;
	return 0;
}

/* A retry is "already applied"; the timeline is by date; a sent event shows
 * what became of its message (here: still queued). */
static void test_event_retry_and_timeline(void **state)
{
	struct fx *f = *state;
	struct event_rec late, early, sent;
	struct ev_seen seen = { 0 };

	fx_event_rec(&late, REC_A, 8, "2026-07-01");
	late.level = 3;
	fx_event_rec(&early, REC_A, 5, "2025-08-20");
	fx_event_rec(&sent, REC_A, 7, "2026-01-10");
	sent.inbound = 0;
	fx_queue(f, 0, sent.message_id);	/* the message that carried it */
	assert_int_equal(store_event_add(f->s, &late), 0);
	assert_int_equal(store_event_add(f->s, &early), 0);
	assert_int_equal(store_event_add(f->s, &sent), 0);
	assert_int_equal(store_event_add(f->s, &late), 1);
	assert_int_equal(fx_events(f, REC_A), 3);
	assert_int_equal(fx_events(f, REC_B), 0);

	assert_int_equal(store_events_each(f->s, REC_A, s_ev_collect, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.v[0].message_id, early.message_id);
	assert_int_equal(seen.v[0].inbound, 1);
	assert_int_equal(seen.v[0].state, -1);		/* received: no outbox entry */
	assert_string_equal(seen.v[1].message_id, sent.message_id);
	assert_int_equal(seen.v[1].state, OUTBOX_QUEUED);
	assert_string_equal(seen.v[2].date, "2026-07-01");
	assert_int_equal(seen.v[2].event, 8);
	assert_int_equal(seen.v[2].level, 3);
	assert_string_equal(seen.v[2].record_id, REC_A);
	assert_string_equal(seen.v[2].actor, "peer:" PEER);
}

/* Regression: any SQLITE_CONSTRAINT used to become -EEXIST, which
 * store_event_add answers with 1, "already applied": a row the database
 * refused (here a trigger's RAISE and a CHECK, set up through a connection
 * of our own) was acknowledged as held. Only a duplicate message id is 1. */
static void test_event_refused_is_not_applied(void **state)
{
	struct fx *f = *state;
	struct event_rec e, bad_level;

	fx_sql(f, "CREATE TRIGGER events_refuse BEFORE INSERT ON events"
		  " WHEN NEW.date = '1999-01-01' BEGIN SELECT RAISE(ABORT, 'refused'); END;");
	fx_event_rec(&e, REC_A, 5, "1999-01-01");
	assert_int_equal(store_event_add(f->s, &e), -EINVAL);
	assert_int_equal(fx_events(f, REC_A), 0);
	/* the same message id with acceptable data is stored, and then is a retry */
	str_copy(e.date, sizeof(e.date), "2025-09-01");
	assert_int_equal(store_event_add(f->s, &e), 0);
	assert_int_equal(store_event_add(f->s, &e), 1);

	/* a CHECK constraint: the table rebuilt with one (level 0-4) */
	fx_sql(f, "DROP TRIGGER events_refuse;"
		  "ALTER TABLE events RENAME TO events_old;"
		  "CREATE TABLE events (message_id TEXT PRIMARY KEY, record_id TEXT NOT NULL,"
		  " inbound INTEGER NOT NULL, peer TEXT NOT NULL, event INTEGER NOT NULL,"
		  " date TEXT NOT NULL, level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),"
		  " consent_id TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL) WITHOUT ROWID;"
		  "INSERT INTO events SELECT * FROM events_old; DROP TABLE events_old;"
		  "CREATE INDEX events_record ON events(record_id);"
		  "CREATE INDEX events_report ON events(inbound, record_id, event, date);");
	fx_event_rec(&bad_level, REC_A, 8, "2025-10-01");
	bad_level.level = 9;
	assert_int_equal(store_event_add(f->s, &bad_level), -EINVAL);
	assert_int_equal(fx_events(f, REC_A), 1);
	assert_int_equal(store_event_add(f->s, &e), 1);	/* still a retry */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_events_expire_and_delete),
		FX_TEST(test_event_retry_and_timeline),
		FX_TEST(test_event_refused_is_not_applied),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
