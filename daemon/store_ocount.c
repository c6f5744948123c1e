/* store_ocount: the outbox's depth and parked count per peer, kept in memory
 * (design.md §5.3).
 *
 * Schema 13 kept them in a table by triggers on the outbox. A trigger makes
 * every INSERT and UPDATE of the outbox a multi-row statement with a
 * statement journal and a sub-program: 8 % of the school's CPU while sending
 * (issue 14, bench/handover). Only two counts are ever read (queued, state 0;
 * parked, state 4), both have a partial index, so they are counted from
 * those at open and moved from here by the statements that move rows:
 *
 *   - a row that one statement moves with a known peer and state (the insert,
 *     an ack, a park) adds a delta, held until its transaction ends: added
 *     to the count at store_commit, dropped at store_rollback (or at the next
 *     store_begin, for a transaction sqlite ended by itself), added at once
 *     when no transaction is open (sqlite committed the statement);
 *   - a statement that may move many rows (a withdrawn consent, an erasure,
 *     retention) marks the counts stale; they are counted again from the
 *     indexes when its transaction ends, and a read before that counts.
 *
 * What the file holds is the truth: every open counts again, so nothing here
 * can drift past a restart. */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct store_ocount *s_find(struct store *s, const char *peer, int add)
{
	struct store_ocount *v;

	for (size_t i = 0; i < s->oc_n; i++)
		if (strcmp(s->oc[i].peer, peer) == 0)
			return &s->oc[i];
	if (!add)
		return NULL;
	if (!(v = realloc(s->oc, (s->oc_n + 1) * sizeof(*v))))
		return NULL;
	s->oc = v;
	v = &s->oc[s->oc_n];
	memset(v, 0, sizeof(*v));
	if (!(v->peer = strdup(peer)))
		return NULL;
	s->oc_n++;
	return v;
}

void store_ocount_free(struct store *s)
{
	for (size_t i = 0; i < s->oc_n; i++)
		free(s->oc[i].peer);
	free(s->oc);
	s->oc = NULL;
	s->oc_n = 0;
}

/* Count both from the partial indexes (outbox_pending, outbox_parked):
 * O(queued + parked), never the settled rows. */
int store_ocount_load(struct store *s)
{
	sqlite3_stmt *st = store_st(s, ST_OUTBOX_COUNTS);
	int rc, r = 0;

	for (size_t i = 0; i < s->oc_n; i++)
		memset(s->oc[i].n, 0, sizeof(s->oc[i].n)), memset(s->oc[i].d, 0, sizeof(s->oc[i].d));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *peer = (const char *)sqlite3_column_text(st, 0);
		int which = sqlite3_column_int(st, 1);
		struct store_ocount *c = peer ? s_find(s, peer, 1) : NULL;

		if (!c) {
			r = -ENOMEM;
			break;
		}
		c->n[which == OUTBOX_PARKED] = sqlite3_column_int64(st, 2);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr_errno(rc);
	sqlite3_reset(st);
	s->oc_stale = r < 0;	/* tried again at the next transaction's end */
	return r;
}

void store_ocount_move(struct store *s, const char *peer, int from, int to)
{
	struct store_ocount *c;
	int64_t *v;

	if (from == to)
		return;
	if (!(c = s_find(s, peer, 1))) {
		store_ocount_stale(s);	/* out of memory: count again */
		return;
	}
	/* in a transaction, held until it ends; else sqlite committed it */
	v = sqlite3_get_autocommit(s->db) ? c->n : c->d;
	if (from == OUTBOX_QUEUED || from == OUTBOX_PARKED)
		v[from == OUTBOX_PARKED]--;
	if (to == OUTBOX_QUEUED || to == OUTBOX_PARKED)
		v[to == OUTBOX_PARKED]++;
}

void store_ocount_stale(struct store *s)
{
	s->oc_stale = 1;
	if (sqlite3_get_autocommit(s->db))
		(void)store_ocount_load(s);
}

void store_ocount_tx_end(struct store *s, int committed)
{
	for (size_t i = 0; i < s->oc_n; i++) {
		for (int k = 0; k < 2; k++)
			s->oc[i].n[k] += committed ? s->oc[i].d[k] : 0;
		memset(s->oc[i].d, 0, sizeof(s->oc[i].d));
	}
	if (s->oc_stale)
		(void)store_ocount_load(s);
}

int store_ocount_get(struct store *s, const char *peer, int state, uint64_t *n)
{
	const struct store_ocount *c;
	int64_t v = 0;
	int r;

	if (s->oc_stale) {
		/* a bulk change in the open transaction: what it sees, by index */
		r = store_int_query(s, state == OUTBOX_PARKED ? ST_OUTBOX_PARKED_COUNT
							      : ST_OUTBOX_DEPTH, peer, &v);
		if (r < 0)
			return r;
	} else if ((c = s_find(s, peer, 0))) {
		int k = state == OUTBOX_PARKED;

		v = c->n[k] + c->d[k];
	}
	*n = v > 0 ? (uint64_t)v : 0;
	return 0;
}
