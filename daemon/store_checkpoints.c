/* store_checkpoints: the audit chain heads exchanged with peers (design.md §5). */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void s_cp_read(sqlite3_stmt *st, int col, struct checkpoint_rec *c)
{
	c->seq = sqlite3_column_int64(st, col);
	memset(c->head, 0, sizeof(c->head));
	if (sqlite3_column_bytes(st, col + 1) == (int)sizeof(c->head))
		memcpy(c->head, sqlite3_column_blob(st, col + 1), sizeof(c->head));
	c->at = sqlite3_column_int64(st, col + 2);
}

int store_checkpoint_get(struct store *s, const char *peer, int kind, struct checkpoint_rec *c)
{
	sqlite3_stmt *st = store_st(s, ST_CP_GET);
	int rc, r;

	memset(c, 0, sizeof(*c));
	if ((r = STORE_BIND(st, STORE_T(peer), STORE_I(kind))) < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		str_copy(c->peer, sizeof(c->peer), peer);
		c->kind = kind;
		s_cp_read(st, 0, c);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sqlerr_errno(rc);
}

int store_checkpoint_put(struct store *s, const struct checkpoint_rec *c)
{
	sqlite3_stmt *st = store_st(s, ST_CP_PUT);
	int r;

	if ((r = STORE_BIND(st, STORE_T(c->peer), STORE_I(c->kind), STORE_I(c->seq),
			    STORE_B(c->head, sizeof(c->head)), STORE_I(c->at))) < 0)
		return r;
	return sqlerr_exec(st);
}

static int s_cp_each_row(sqlite3_stmt *st, void *arg)
{
	const struct store_cb *e = arg;
	struct checkpoint_rec c;

	memset(&c, 0, sizeof(c));
	store_text(st, 0, c.peer, sizeof(c.peer));
	c.kind = sqlite3_column_int(st, 1);
	s_cp_read(st, 2, &c);
	return e->fn.checkpoint(&c, e->arg);
}

int store_checkpoints_each(struct store *s, store_checkpoint_fn fn, void *arg)
{
	struct store_cb e = { .fn.checkpoint = fn, .arg = arg };

	return store_rows(store_st(s, ST_CP_EACH), s_cp_each_row, &e);
}

int store_incident_add(struct store *s, const char *peer, const char *kind, int64_t seq,
		       const uint8_t head[32], const char *reason, int64_t at)
{
	sqlite3_stmt *st = store_st(s, ST_INC_ADD);
	unsigned n;
	int r;

	if ((r = STORE_BIND(st, STORE_T(peer), STORE_T(kind), STORE_I(seq), STORE_B(head, 32),
			    STORE_T(reason), STORE_I(at))) < 0 ||
	    (r = store_exec_count(s, st, &n)) < 0)
		return r;
	return n == 1;
}

int store_incidents_each(struct store *s, int open_only, store_incident_fn fn, void *arg)
{
	sqlite3_stmt *st = store_st(s, ST_INC_EACH);
	int rc, r;

	if ((r = STORE_BIND(st, STORE_I(open_only ? 1 : 0))) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct incident i = { 0 };

		i.id = sqlite3_column_int64(st, 0);
		store_text(st, 1, i.peer, sizeof(i.peer));
		store_text(st, 2, i.kind, sizeof(i.kind));
		i.seq = sqlite3_column_int64(st, 3);
		store_text(st, 4, i.reason, sizeof(i.reason));
		i.at = sqlite3_column_int64(st, 5);
		i.acked_at = sqlite3_column_int64(st, 6);
		store_text(st, 7, i.acked_by, sizeof(i.acked_by));
		store_text(st, 8, i.note, sizeof(i.note));
		if ((r = fn(&i, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	return r;
}

int store_incident_ack(struct store *s, int64_t id, const char *by, const char *note, int64_t at)
{
	sqlite3_stmt *st = store_st(s, ST_INC_ACK);
	unsigned n;
	int r;

	if ((r = STORE_BIND(st, STORE_I(id), STORE_I(at), STORE_T(by), STORE_T(note))) < 0 ||
	    (r = store_exec_count(s, st, &n)) < 0)
		return r;
	return n == 0;
}

int store_checkpoint_forget(struct store *s, const char *peer, int kind)
{
	sqlite3_stmt *st = store_st(s, ST_CP_DEL);
	int r;

	if ((r = STORE_BIND(st, STORE_T(peer), STORE_I(kind))) < 0)
		return r;
	return sqlerr_exec(st);
}
