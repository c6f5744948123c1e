/* Unit tests for sqlerr: the one translation of sqlite result codes that the
 * store and the audit log answer with. What matters most: only a key
 * conflict reads as "already there" (-EEXIST), which the receive path
 * acknowledges as a retry; any other constraint failure must not be. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sqlerr.h"
#include "util.h"

static void test_table(void **state)
{
	static const struct { int rc, want; } cases[] = {
		{ SQLITE_OK, 0 }, { SQLITE_ROW, 0 }, { SQLITE_DONE, 0 },
		{ SQLITE_CONSTRAINT_UNIQUE, -EEXIST }, { SQLITE_CONSTRAINT_PRIMARYKEY, -EEXIST },
		{ SQLITE_CONSTRAINT, -EINVAL }, { SQLITE_CONSTRAINT_NOTNULL, -EINVAL },
		{ SQLITE_CONSTRAINT_CHECK, -EINVAL }, { SQLITE_CONSTRAINT_FOREIGNKEY, -EINVAL },
		{ SQLITE_CONSTRAINT_TRIGGER, -EINVAL },
		{ SQLITE_BUSY, -EBUSY }, { SQLITE_BUSY_SNAPSHOT, -EBUSY }, { SQLITE_LOCKED, -EBUSY },
		{ SQLITE_NOMEM, -ENOMEM }, { SQLITE_FULL, -ENOSPC },
		{ SQLITE_READONLY, -EACCES }, { SQLITE_PERM, -EACCES }, { SQLITE_AUTH, -EACCES },
		{ SQLITE_CORRUPT, -EUCLEAN }, { SQLITE_NOTADB, -EUCLEAN },
		{ SQLITE_IOERR_WRITE, -EIO }, { SQLITE_ERROR, -EIO },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(sqlerr_errno(cases[i].rc), cases[i].want);
}

/* The codes a real connection gives, with extended result codes on as the
 * store opens it: a duplicate key, a CHECK, a NOT NULL, a trigger's RAISE. */
static void test_real_statements(void **state)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_extended_result_codes(db, 1), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0));"
		"CREATE TRIGGER t_no7 BEFORE INSERT ON t WHEN NEW.n = 7 "
		"BEGIN SELECT RAISE(ABORT, 'seven'); END;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2)", -1, &ins, NULL),
			 SQLITE_OK);
	sqlerr_ready(ins);
	sqlite3_bind_text(ins, 1, "a", -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 2, 1);
	assert_int_equal(sqlerr_exec(ins), 0);
	/* the same key again: a duplicate, the one case a retry may be acked */
	sqlerr_ready(ins);
	sqlite3_bind_text(ins, 1, "a", -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 2, 2);
	assert_int_equal(sqlerr_exec(ins), -EEXIST);
	/* a CHECK */
	sqlerr_ready(ins);
	sqlite3_bind_text(ins, 1, "b", -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 2, -1);
	assert_int_equal(sqlerr_exec(ins), -EINVAL);
	/* NOT NULL: sqlerr_ready cleared the bindings, so ?2 is NULL */
	sqlerr_ready(ins);
	sqlite3_bind_text(ins, 1, "c", -1, SQLITE_STATIC);
	assert_int_equal(sqlerr_exec(ins), -EINVAL);
	/* a trigger's RAISE */
	sqlerr_ready(ins);
	sqlite3_bind_text(ins, 1, "d", -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 2, 7);
	assert_int_equal(sqlerr_exec(ins), -EINVAL);
	/* and the statement still works afterwards */
	sqlerr_ready(ins);
	sqlite3_bind_text(ins, 1, "e", -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 2, 3);
	assert_int_equal(sqlerr_exec(ins), 0);
	sqlite3_finalize(ins);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_real_statements),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
