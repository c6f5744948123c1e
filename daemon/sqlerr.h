/* sqlerr: sqlite result codes as negative errno codes at the module boundary
 * (STYLE 4), shared by the store and the audit log, with the two statement
 * idioms that need the translation. One table, so that a code means the same
 * whichever module returns it:
 *
 *   SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY  -EEXIST   (a duplicate: "already there")
 *   any other SQLITE_CONSTRAINT*           -EINVAL   (NOT NULL, CHECK, FOREIGN KEY,
 *                                                     a trigger's RAISE: bad data,
 *                                                     never taken for a duplicate)
 *   SQLITE_BUSY, SQLITE_LOCKED             -EBUSY
 *   SQLITE_NOMEM                           -ENOMEM
 *   SQLITE_FULL                            -ENOSPC
 *   SQLITE_READONLY, _PERM, _AUTH          -EACCES
 *   SQLITE_CORRUPT, SQLITE_NOTADB          -EUCLEAN
 *   anything else                          -EIO
 *
 * Telling a duplicate from other constraint failures needs extended result
 * codes: turn them on for the connection (sqlite3_extended_result_codes(db, 1),
 * as store_open does). Without them a constraint failure is -EINVAL: a bare
 * SQLITE_CONSTRAINT is not proof of a duplicate. Never logs. */
#ifndef OVERSTAP_SQLERR_H
#define OVERSTAP_SQLERR_H

#include <sqlite3.h>

/* 0 for SQLITE_OK, SQLITE_ROW and SQLITE_DONE, else the -errno above. */
int sqlerr_errno(int rc);

/* Reset st and clear its bindings, ready to bind afresh; returns st. */
sqlite3_stmt *sqlerr_ready(sqlite3_stmt *st);

/* Step a statement that returns no rows and reset it: 0 or the -errno. */
int sqlerr_exec(sqlite3_stmt *st);

#endif
