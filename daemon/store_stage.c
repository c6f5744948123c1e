/* store_stage: a streamed import's staging table (design.md §8.5): the rows
 * of an import session wait in a TEMP table of the daemon's connection (gone
 * with the connection: a killed daemon leaves nothing), sealed by the caller
 * with the session's key (a new pupil's prepared leaver inside the seal),
 * until the last request applies them in one transaction. Rows are only appended (no index: a
 * million random keys in one spilled out of the page cache on every insert);
 * duplicates are found once, at the end, by one sort. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlerr.h"

struct store_stage {
	struct store *s;
	char name[40];			/* import_stage_ID */
	sqlite3_stmt *put;
	sqlite3_stmt *known;		/* a leaver with this ref_hash in the store? */
};

static int s_exec(struct store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_note(s, sqlerr_errno(rc));
}

int store_stage_open(struct store *s, uint64_t id, struct store_stage **out)
{
	struct store_stage *g = calloc(1, sizeof(*g));
	char sql[256];
	int r;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->s = s;
	snprintf(g->name, sizeof(g->name), "import_stage_%016llx", (unsigned long long)id);
	/* the staged rows are sealed under a key that dies with the session:
	 * their pages need no overwriting when they go (secure_delete is for the
	 * store's own file), which makes the DROP of a million rows cheap */
	snprintf(sql, sizeof(sql), "PRAGMA temp.secure_delete = OFF;"
		 "CREATE TEMP TABLE %s(line INTEGER NOT NULL, ref BLOB NOT NULL,"
		 " bad INTEGER NOT NULL, row BLOB)", g->name);
	r = s_exec(s, sql);
	if (r < 0) {
		free(g);
		return r;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO %s(line, ref, bad, row) VALUES (?1, ?2, ?3, ?4)",
		 g->name);
	if (sqlite3_prepare_v2(s->db, sql, -1, &g->put, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(s->db, "SELECT 1 FROM main.leavers WHERE ref_hash = ?1", -1,
			       &g->known, NULL) == SQLITE_OK) {
		*out = g;
		return 0;
	}
	r = store_note(s, sqlerr_errno(sqlite3_errcode(s->db)));
	store_stage_drop(&g);
	return r < 0 ? r : -EIO;
}

int store_stage_begin(struct store_stage *g)
{
	return s_exec(g->s, "BEGIN");
}

int store_stage_end(struct store_stage *g, int r)
{
	int rc = s_exec(g->s, r == 0 ? "COMMIT" : "ROLLBACK");

	if (r == 0 && rc < 0)
		(void)s_exec(g->s, "ROLLBACK");
	return r < 0 ? r : rc;
}

int store_stage_known(struct store_stage *g, const uint8_t ref[32])
{
	int rc, r;

	if ((r = STORE_BIND(sqlerr_ready(g->known), STORE_B(ref, 32))) < 0)
		return r;
	rc = sqlite3_step(g->known);
	sqlite3_reset(g->known);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_note(g->s, sqlerr_errno(rc));
}

int store_stage_put(struct store_stage *g, unsigned line, const uint8_t ref[32], int bad,
		    const void *row, size_t len)
{
	int rc, r;

	if ((r = STORE_BIND(sqlerr_ready(g->put), STORE_I(line), STORE_B(ref, 32), STORE_I(bad),
			    row ? STORE_B(row, len) : STORE_NULL)) < 0)
		return r;
	rc = sqlite3_step(g->put);
	sqlite3_reset(g->put);
	return rc == SQLITE_DONE ? 0 : store_note(g->s, sqlerr_errno(rc));
}

/* Rows whose ref came on an earlier line: each with the last line before. */
#define S_DUPS "SELECT rowid, line, prev, bad FROM (SELECT rowid, line, bad, lag(line) OVER" \
	       " (PARTITION BY ref ORDER BY line) AS prev FROM %s) WHERE prev IS NOT NULL"

int store_stage_duplicates(struct store_stage *g, store_stage_dup_fn fn, void *arg,
			   unsigned *marked)
{
	sqlite3_stmt *st = NULL, *upd = NULL;
	char sql[320];
	int rc, r = 0;

	*marked = 0;
	snprintf(sql, sizeof(sql), S_DUPS " ORDER BY line", g->name);
	if ((rc = sqlite3_prepare_v2(g->s->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return store_note(g->s, sqlerr_errno(rc));
	snprintf(sql, sizeof(sql), "UPDATE %s SET bad = 1 WHERE rowid = ?1", g->name);
	if ((rc = sqlite3_prepare_v2(g->s->db, sql, -1, &upd, NULL)) != SQLITE_OK) {
		sqlite3_finalize(st);
		return store_note(g->s, sqlerr_errno(rc));
	}
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(arg, (unsigned)sqlite3_column_int64(st, 1), (unsigned)sqlite3_column_int64(st, 2));
		if (r == 0 && !sqlite3_column_int(st, 3)) {
			/* the later row is the duplicate, refused (import_leavers too) */
			sqlite3_bind_int64(upd, 1, sqlite3_column_int64(st, 0));
			rc = sqlite3_step(upd);
			sqlite3_reset(upd);
			if (rc != SQLITE_DONE)
				r = store_note(g->s, sqlerr_errno(rc));
			else
				(*marked)++;
		}
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = store_note(g->s, sqlerr_errno(rc));
	sqlite3_finalize(st);
	sqlite3_finalize(upd);
	return r;
}

int store_stage_each(struct store_stage *g, store_stage_fn fn, void *arg)
{
	sqlite3_stmt *st = NULL;
	char sql[160];
	int rc, r = 0;

	snprintf(sql, sizeof(sql), "SELECT line, row FROM %s WHERE bad = 0 ORDER BY rowid", g->name);
	if ((rc = sqlite3_prepare_v2(g->s->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return store_note(g->s, sqlerr_errno(rc));
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn(arg, (unsigned)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
		       (size_t)sqlite3_column_bytes(st, 1));
	if (r == 0 && rc != SQLITE_DONE)
		r = store_note(g->s, sqlerr_errno(rc));
	sqlite3_finalize(st);
	return r;
}

void store_stage_drop(struct store_stage **gp)
{
	struct store_stage *g = *gp;
	char sql[80];

	if (!g)
		return;
	sqlite3_finalize(g->put);
	sqlite3_finalize(g->known);
	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS temp.%s", g->name);
	(void)s_exec(g->s, sql);
	free(g);
	*gp = NULL;
}

void store_cache_kib(struct store *s, int kib)
{
	char sql[64];

	/* the default of sqlite (2000 KiB) when kib is 0 */
	snprintf(sql, sizeof(sql), "PRAGMA main.cache_size = -%d", kib > 0 ? kib : 2000);
	(void)sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}
