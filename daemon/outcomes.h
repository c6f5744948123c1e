/* outcomes: the outcomes CSV import at the receiving institution (SPEC §8) and
 * the event vocabulary it shares with `overstap status set` / `outcome record`.
 * Parsing with libcsv (RFC 4180), then per-row validation. All-or-nothing: the
 * caller stores nothing unless the whole file validates; every bad row is
 * reported as "FILE:LINE: column: reason". */
#ifndef OVERSTAP_OUTCOMES_H
#define OVERSTAP_OUTCOMES_H

#include <stddef.h>

#include "crypto.h"
#include "util.h"

/* The events of SPEC §3/§8, in SPEC order. 0 is "unknown", as in vocab.h. */
enum outcome_event {
	OUTCOME_EV_UNKNOWN = 0,
	/* statuses: purpose `status`, statutory */
	OUTCOME_EV_REGISTERED,
	OUTCOME_EV_AGREEMENT_OFFERED,
	OUTCOME_EV_NOT_ENROLLED,
	OUTCOME_EV_WITHDRAWN,
	OUTCOME_EV_ENROLLED,
	OUTCOME_EV_INTAKE_HELD,
	/* outcomes: purpose `follow_up`, consent-based */
	OUTCOME_EV_STILL_ENROLLED,
	OUTCOME_EV_DIPLOMA,
	OUTCOME_EV_PROGRESSED,
	OUTCOME_EV_SWITCHED,
	OUTCOME_EV_LEFT_WITHOUT_DIPLOMA,
	OUTCOME_EV_COUNT
};

#define OUTCOME_LEVEL_MIN 1	/* MBO levels: 1 = entree .. 4 */
#define OUTCOME_LEVEL_MAX 4

/* The event for its SPEC name (exact, case-sensitive), or OUTCOME_EV_UNKNOWN. */
enum outcome_event outcome_event_from_str(const char *s);
/* The SPEC name of an event (static storage), or NULL for an unknown value. */
const char *outcome_event_str(enum outcome_event ev);
/* 1 for a registration status (purpose `status`, statutory), 0 for a
 * follow-up outcome (purpose `follow_up`, needs consent) or an unknown value. */
int outcome_event_is_status(enum outcome_event ev);
/* 1 when the event carries an MBO level (diploma, progressed), else 0. */
int outcome_event_needs_level(enum outcome_event ev);
/* Every event name, comma-separated in SPEC order (static storage): for error
 * messages and --help. */
const char *outcome_event_list(void);

/* One validated row. */
struct outcome_row {
	char record_id[CRYPTO_UUID_STR_LEN + 1];	/* the handover's record id, lower-case UUID */
	enum outcome_event event;			/* never OUTCOME_EV_UNKNOWN */
	char date[11];					/* YYYY-MM-DD, not after `today` */
	int level;					/* 1..4 for diploma/progressed, else 0 */
	unsigned line;					/* line the record starts on (header = 1) */
};

/* One row as text, before validation: a CSV record or the CLI's arguments.
 * NULL counts as empty; the strings are borrowed. */
struct outcome_input {
	const char *record_id;
	const char *event;
	const char *date;
	const char *level;
	unsigned line;		/* the LINE part of messages */
};

/* Called while parsing: bytes consumed so far and total, for a progress bar. */
typedef void (*outcomes_progress_fn)(size_t done, size_t total, void *arg);

/* Validate one row against `today` (YYYY-MM-DD; NULL = the local date) and
 * append "NAME:LINE: column: reason" to errors for every problem, not only
 * the first (NAME NULL = "-"). Rules (SPEC §8): record_id a canonical
 * lower-case UUID; event from the list above; date a real date not after
 * today; level 1..4, required for diploma and progressed and empty otherwise;
 * every value at most 64 characters. An invalid `today` is reported as a
 * problem with date. Returns the number of problems; when 0, *out (if not
 * NULL) is the complete row. On problems *out holds only the fields that
 * passed (the others empty/0). */
int outcome_row_validate(const char *name, const struct outcome_input *in, const char *today,
			 struct outcome_row *out, struct strlist *errors);

/* Parse an outcomes CSV in memory; `name` is the FILE part of messages. Header
 * row required (columns record_id, event, date required, level optional, any
 * order, no others); UTF-8 BOM, CRLF, bare CR and blank lines tolerated; blanks
 * around unquoted values are dropped; LINE is the line a record starts on
 * (header = 1). Every row is checked with outcome_row_validate() against
 * `today` (NULL = the local date); a NUL byte in a value, a row with the
 * wrong number of fields, a duplicate (same record_id, event and date as an
 * earlier row), malformed quoting, a record over 4 KiB or more than 1,000,000
 * rows are errors too. On success returns 0 with *rows (NULL when there are
 * none; free with outcomes_free) and *n, in file order. On any problem
 * returns -EINVAL, appends every message to errors (after what it already
 * holds; at most ~1000) and leaves *rows = NULL, *n = 0; an invalid `today`
 * is -EINVAL with one message too. More than 64 MiB: -EFBIG. Else -ENOMEM. */
int outcomes_parse_buffer(const char *name, const char *data, size_t len, const char *today,
			  struct outcome_row **rows, size_t *n, struct strlist *errors,
			  outcomes_progress_fn progress, void *arg);

/* Same, reading the file at path (which becomes the FILE part); -errno when
 * it cannot be read, -EFBIG when it is over 64 MiB. */
int outcomes_parse_file(const char *path, const char *today, struct outcome_row **rows,
			size_t *n, struct strlist *errors, outcomes_progress_fn progress,
			void *arg);

/* Free rows returned by outcomes_parse_*; takes NULL, NULLs *rows. */
void outcomes_free(struct outcome_row **rows);

#endif
