/* store_stage: a streamed import's staging table (design.md §8.5): the rows
 * of an import session wait in a TEMP table of the daemon's connection (gone
 * with the connection: a killed daemon leaves nothing), sealed by the caller
 * with the session's key, until the last request applies them in one
 * transaction. A lookup by the key's hash finds a duplicate as it arrives. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlerr.h"

struct store_stage {
	struct store *s;
	char name[40];			/* import_stage_ID */
	sqlite3_stmt *find, *put;
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
	snprintf(sql, sizeof(sql), "CREATE TEMP TABLE %s(line INTEGER NOT NULL, ref BLOB NOT NULL,"
		 " bad INTEGER NOT NULL, row BLOB); CREATE INDEX temp.%s_ref ON %s(ref, line)",
		 g->name, g->name, g->name);
	r = s_exec(s, sql);
	if (r < 0) {
		free(g);
		return r;
	}
	snprintf(sql, sizeof(sql), "SELECT max(line) FROM %s WHERE ref = ?1", g->name);
	if (sqlite3_prepare_v2(s->db, sql, -1, &g->find, NULL) == SQLITE_OK) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s(line, ref, bad, row) VALUES (?1, ?2, ?3, ?4)",
			 g->name);
		if (sqlite3_prepare_v2(s->db, sql, -1, &g->put, NULL) == SQLITE_OK) {
			*out = g;
			return 0;
		}
	}
	r = store_note(s, sqlerr_errno(sqlite3_errcode(s->db)));
	store_stage_drop(&g);
	return r < 0 ? r : -EIO;
}

int store_stage_put(struct store_stage *g, unsigned line, const uint8_t ref[32], int bad,
		    const void *row, size_t len, unsigned *prev)
{
	int rc, r;

	*prev = 0;
	if ((r = STORE_BIND(sqlerr_ready(g->find), STORE_B(ref, 32))) < 0)
		return r;
	rc = sqlite3_step(g->find);
	if (rc == SQLITE_ROW)
		*prev = (unsigned)sqlite3_column_int64(g->find, 0);
	sqlite3_reset(g->find);
	if (rc != SQLITE_ROW)
		return store_note(g->s, sqlerr_errno(rc));
	if (*prev) {	/* a duplicate: only its key is kept */
		bad = 1;
		row = NULL;
	}
	if ((r = STORE_BIND(sqlerr_ready(g->put), STORE_I(line), STORE_B(ref, 32), STORE_I(bad),
			    row ? STORE_B(row, len) : STORE_NULL)) < 0)
		return r;
	rc = sqlite3_step(g->put);
	sqlite3_reset(g->put);
	return rc == SQLITE_DONE ? 0 : store_note(g->s, sqlerr_errno(rc));
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
	sqlite3_finalize(g->find);
	sqlite3_finalize(g->put);
	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS temp.%s", g->name);
	(void)s_exec(g->s, sql);
	free(g);
	*gp = NULL;
}
