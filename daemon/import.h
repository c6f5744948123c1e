/* import: the daemon's side of a leavers import (design.md §8.5), shared by the
 * control socket (`overstap import leavers`) and the spool directory: every row
 * checked again, then cumulative: new pupils added, unchanged rows skipped,
 * changed rows updated while the dossier has not left, rows whose dossier left
 * reported and kept as they were. All or nothing, audited. It never logs. */
#ifndef OVERSTAP_IMPORT_H
#define OVERSTAP_IMPORT_H

#include <stddef.h>

#include "config.h"
#include "hctx.h"
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
	/* Set by the caller, or NULL: called inside the transaction just before
	 * the commit (never when checking or refused), e.g. to build a reply
	 * that could fail: its failure rolls the import back, so nothing is
	 * stored that was not answered. */
	int (*before_commit)(void *arg, struct import_result *res);
	void *arg;			/* for before_commit */
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

/* Record consents in bulk (design.md §8.7) with the rules of `consent grant`:
 * every row checked again (consents_csv), its pupil found (personal data
 * readable), the counterpart defaulting to the pupil's destination, and
 * consent_grant_check (the under-16 rule on the day granted). A row equal to
 * a consent the pupil already holds (not withdrawn) is unchanged. All or
 * nothing, each grant audited as user and a ConsentNotice queued when the
 * dossier already left; with check nothing is written. Returns as
 * import_leavers. */
int import_consents(struct hctx *h, const char *file, Overstapctl__ConsentGrant *const *rows,
		    size_t n, const char *user, int check, struct import_result *res);

/* ---- import sessions: a big file in chunks (import_stage.c, design.md §8.5) ---- */

/* Sessions held at once, and how long one may stay idle before it is
 * dropped (its client was killed or went away: nothing was stored). */
#define IMPORT_SESSIONS 4
#define IMPORT_SESSION_IDLE_MS (10 * 60 * 1000)

struct import_stage;
/* Open a session for file as user (check: nothing will be written). 0 or
 * -errno. */
int import_stage_open(struct store *s, const char *file, const char *user, int check,
		      struct import_stage **out);
uint64_t import_stage_id(const struct import_stage *st);	/* never 0 */
const char *import_stage_user(const struct import_stage *st);
int64_t import_stage_last(const struct import_stage *st);	/* monotonic ms of its last use */
unsigned import_stage_staged(const struct import_stage *st);	/* rows received */
int import_stage_check(const struct import_stage *st);		/* opened to check only */
/* Check and stage rows (in the file's order): each row's problems, and a
 * pupil_ref seen before, are kept as errors (at most IMPORT_MAX_NOTES, then
 * counted). 0, or -errno (the session is then to be dropped). */
int import_stage_add(struct import_stage *st, const struct config *cfg,
		     Overstapctl__Leaver *const *rows, size_t n);
/* The last request: returns as import_leavers for all the session's rows
 * (-EINVAL with res->errors when any row was refused; with check, res says
 * what it would do). The session is spent either way. */
int import_stage_finish(struct import_stage *st, const char *user, struct import_result *res);
/* The errors found so far into res (an abandoned session's answer). */
int import_stage_errors(struct import_stage *st, struct import_result *res);
/* Drop the session and its staged rows; takes NULL, NULLs *st. */
void import_stage_free(struct import_stage **st);
/* Drop every session of h (the daemon at its end). */
void import_sessions_clear(struct hctx *h);
/* Drop the sessions idle for more than IMPORT_SESSION_IDLE_MS at now
 * (monotonic ms): their client is gone (killed, or its machine), and
 * nothing of theirs was stored. The loop calls it, and every import. */
void import_sessions_expire(struct hctx *h, int64_t now);

#endif
