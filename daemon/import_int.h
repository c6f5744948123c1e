/* import_int.h: what the parts of the import module share (import.c: the
 * rows of one request; import_stage.c: an import session's, design.md §8.5). */
#ifndef OVERSTAP_IMPORT_INT_H
#define OVERSTAP_IMPORT_INT_H

#include "import.h"

/* One import run: what the row loop needs besides the row. */
struct import_run {
	struct store *s;
	const char *file;
	const char *user;
	int check;			/* say, do not write */
	struct import_result *res;
	size_t notes_dropped;		/* past IMPORT_MAX_NOTES */
	uint64_t total, done;		/* rows to go through, and gone through:
					 * watchdog_progress, so systemd sees a
					 * long apply get on (watchdog.h) */
	int prepared_new;		/* no leaver came in since the rows were
					 * staged: a prepared row is new without
					 * a lookup (import_stage.c) */
};

/* One checked row: added, updated, kept or left unchanged (res counts).
 * prep: the row made ready as a new leaver while it was staged (used when it
 * is new), or NULL. */
int import_row(struct import_run *run, const Overstapctl__Leaver *row,
	       const struct store_leaver_prep *prep);

/* Calls import_row for every row of the import; 0 or -errno. */
typedef int (*import_each_fn)(struct import_run *run, void *arg);
/* The rows by each (arg), in one transaction unless checking, with the notes'
 * tail, the import's audit entry and res->before_commit: all or nothing. */
int import_apply(struct import_run *run, import_each_fn each, void *arg);

/* The warning for a destination that is not a configured peer. */
int import_warn_unknown(struct import_result *res, const char *file, unsigned line,
			const char *inst, unsigned count, int check);

#endif
