/* spool: the automated import (design.md §8.6). Files dropped in [import]
 * spool (the school's nightly export) are imported as `overstap import`
 * would, as user "daemon", and moved to done/ or failed/ with a .log beside
 * each that says what happened. A file is taken only when it is a regular
 * file (not a link, one name) that others cannot write, named leavers*.csv
 * or consents*.csv, and untouched for spool_settle_s seconds: a writer
 * writes elsewhere (or to .NAME) and renames it in. The store commits first,
 * the file moves after: a daemon killed in between imports the file again
 * at restart, which the cumulative import makes a no-op. */
#ifndef OVERSTAP_SPOOL_H
#define OVERSTAP_SPOOL_H

#include <stdint.h>

#include "hctx.h"

/* The spool's state, for the loop and for `overstap status`. */
struct spool {
	int64_t next;			/* mono ms of the next look */
	int64_t last_at;		/* wall ms the last file was handled, 0 = none yet */
	char last_file[256];		/* its name (as found in the spool) */
	char last_outcome[8];		/* "done" or "failed" */
	char last_summary[256];		/* its counts, or why it failed */
	unsigned done, failed;		/* files handled since start */
	char problem[256];		/* why the spool cannot be read now; "" = none */
};

/* When it is time (now: mono ms), take the oldest settled file in the spool,
 * if any, and import it; shorten *wake (ms) to the next look. Logs what it
 * did. Nothing when [import] spool is empty. */
void spool_run(struct spool *sp, struct hctx *h, int64_t now, int64_t *wake);

/* Whether dir can be a spool: an absolute path to a directory we can write
 * that others cannot reach. 0, or -errno with why set. */
int spool_dir_check(const char *dir, char *why, size_t len);

#endif
