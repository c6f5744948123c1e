/* import: the daemon's side of a leavers import (design.md §8.4), shared by the
 * control socket (`overstap import leavers`) and the spool directory: every row
 * checked again, then cumulative: new pupils added, unchanged rows skipped,
 * changed rows updated while the dossier has not left, rows whose dossier left
 * reported and kept as they were. All or nothing, audited. It never logs. */
#ifndef OVERSTAP_IMPORT_H
#define OVERSTAP_IMPORT_H

#include <stddef.h>

#include "config.h"
#include "control.pb-c.h"
#include "store.h"
#include "util.h"

/* Per-row notes and errors quoted back: beyond this, one line says how many more. */
#define IMPORT_MAX_NOTES 1000

/* What an import did (or, checking, would do). */
struct import_result {
	unsigned added;			/* new pupils */
	unsigned updated;		/* changed while the dossier had not left */
	unsigned unchanged;		/* identical to what is stored */
	unsigned unchanged_sent;	/* changed, but the dossier left: kept as it was */
	unsigned refused;		/* rows with errors: then nothing is stored */
	struct strlist errors;		/* "FILE:LINE: column: reason" */
	struct strlist warnings;	/* about the file, e.g. one per unknown destination */
	struct strlist notes;		/* per row: what was updated or kept, and why */
};
void import_result_clear(struct import_result *res);

/* Import rows (already parsed; validated again here) from file as user (a
 * staff user, or "daemon" for the spool). With check, nothing is written:
 * res says what the import would do. Returns 0 (also when checking a file
 * with errors: they are in res), -EINVAL when rows have errors (nothing
 * stored; res->errors says why), or another -errno from the store (nothing
 * stored). */
int import_leavers(struct store *s, const struct config *cfg, const char *file,
		   Overstapctl__Leaver *const *rows, size_t n, const char *user, int check,
		   struct import_result *res);

#endif
