/* sqlerr: one translation of sqlite result codes to -errno; see sqlerr.h. */
#include "sqlerr.h"

#include <errno.h>

int sqlerr_errno(int rc)
{
	/* Only a conflict on a key is a duplicate: callers answer -EEXIST with
	 * "already applied" and acknowledge, which must not hide bad data. */
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return -EEXIST;
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return 0;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CONSTRAINT: return -EINVAL;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: return -EUCLEAN;
	default: return -EIO;
	}
}

sqlite3_stmt *sqlerr_ready(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int sqlerr_exec(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : sqlerr_errno(rc);

	sqlite3_reset(st);
	return r;
}
