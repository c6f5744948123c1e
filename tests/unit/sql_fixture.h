/* sql_fixture: what a test reads straight from a store's file, on a
 * connection of its own (read-only: it sees what was committed, never a
 * transaction the code under test has open). */
#ifndef OVERSTAP_TEST_SQL_FIXTURE_H
#define OVERSTAP_TEST_SQL_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>

/* The first column of the first row of sql (a count, a PRAGMA's value). */
static inline int64_t sql_int64(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

#endif
