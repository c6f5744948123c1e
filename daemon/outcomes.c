/* outcomes: the outcomes CSV import (design.md §8): the columns csvfile maps, and
 * one row's checks. */
#include "outcomes.h"

#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "pgn.h"
#include "i18n.h"

#define S_MAX_FIELD 64			/* characters of one value: a UUID is 36 */

/* ---- one row --------------------------------------------------------------- */

static void s_check_record_id(struct csvfile_check *c, const struct csvfile_col *col,
			      const char *v, void *out)
{
	const struct outcome_input *in = c->view;
	struct outcome_row *row = out;

	if (!*v) {	/* either this or pgn (s_check_pgn) */
		if (!in->pgn || !in->pgn[0])
			csvfile_check_fail(c, col, "is required");
		return;
	}
	if (csvfile_check_valid(c, col, v, S_MAX_FIELD, crypto_uuid_valid, "is not a record id "
				"(a lower-case UUID, 8-4-4-4-12 hex digits)"))
		memcpy(row->record_id, v, CRYPTO_UUID_STR_LEN + 1);
}

/* Either record_id or pgn: the MBO's own systems know a pupil by PGN
 * (design.md §8.2); the daemon maps it to the dossier received. */
static void s_check_pgn(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			void *out)
{
	const struct outcome_input *in = c->view;
	struct outcome_row *row = out;
	const char *why = NULL;

	if (!*v)	/* s_check_record_id says when neither is there */
		return;
	if (in->record_id && in->record_id[0])
		csvfile_check_fail(c, col, "give record_id or pgn, not both");
	else if (pgn_check(v, &why) < 0)	/* never echoed: a PGN is personal data */
		csvfile_check_fail(c, col, "%s", _(why));	/* pgn.c marks it */
	else if (row)
		str_copy(row->pgn, sizeof(row->pgn), v);
}

static void s_check_event(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			  void *out)
{
	struct outcome_row *row = out;
	char echo[CSVFILE_ECHO_SIZE];

	if (!csvfile_check_present(c, col, v, S_MAX_FIELD))
		return;
	row->event = outcome_event_from_str(v);
	if (row->event == OUTCOME_EV_UNKNOWN)
		csvfile_check_fail(c, col, "unknown value '%s' (expected one of: %s)",
				   csvfile_echo(echo, v, strlen(v), 0), outcome_event_list());
}

static void s_check_date(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			 void *out)
{
	struct outcome_row *row = out;

	if (csvfile_check_date(c, col, v, S_MAX_FIELD))
		memcpy(row->date, v, sizeof(row->date));
}

/* Runs after the event's check: without a known event only the value itself
 * can be judged. */
static void s_check_level(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			  void *out)
{
	struct outcome_row *row = out;
	enum outcome_event ev = row->event;
	char echo[CSVFILE_ECHO_SIZE];

	if (!*v) {
		if (outcome_event_needs_level(ev))
			csvfile_check_fail(c, col, "required for event %s (MBO level 1-4)",
					   outcome_event_str(ev));
		return;
	}
	if (!csvfile_check_present(c, col, v, S_MAX_FIELD))
		return;
	if (v[0] < '0' + OUTCOME_LEVEL_MIN || v[0] > '0' + OUTCOME_LEVEL_MAX || v[1])
		csvfile_check_fail(c, col, "'%s' is not an MBO level (1-4)",
				   csvfile_echo(echo, v, strlen(v), 0));
	else if (outcome_event_str(ev) && !outcome_event_needs_level(ev))
		csvfile_check_fail(c, col, "must be empty for event %s (only diploma and "
				   "progressed have a level)", outcome_event_str(ev));
	else
		row->level = v[0] - '0';
}

static int s_finish(const struct csvfile_check *c, const void *view, void *out)
{
	struct outcome_row *row = out;

	(void)view;
	row->line = c->line;
	/* Only a row whose key parts all passed can be a duplicate. */
	return (row->record_id[0] || row->pgn[0]) && row->event && row->date[0];
}

/* The key of a row: (record_id, event, date). */
static uint64_t s_row_hash(const void *rows, size_t i)
{
	const struct outcome_row *r = (const struct outcome_row *)rows + i;

	return csvfile_hash(csvfile_hash(csvfile_hash(CSVFILE_HASH0, r->record_id), r->pgn), r->date) ^
	       (unsigned)r->event;
}

static int s_row_same(const void *rows, size_t i, size_t j)
{
	const struct outcome_row *a = (const struct outcome_row *)rows + i;
	const struct outcome_row *b = (const struct outcome_row *)rows + j;

	return a->event == b->event && strcmp(a->record_id, b->record_id) == 0 &&
	       strcmp(a->pgn, b->pgn) == 0 && strcmp(a->date, b->date) == 0;
}

/* ---- the file -------------------------------------------------------------- */

#define S_IN(f) offsetof(struct outcome_input, f)

/* Header names, message order, and the order the checks run in. */
static const struct csvfile_col s_cols[] = {
	{ "record_id", 0, S_IN(record_id), s_check_record_id },
	{ "pgn", 0, S_IN(pgn), s_check_pgn },
	{ "event", CSVFILE_REQUIRED, S_IN(event), s_check_event },
	{ "date", CSVFILE_REQUIRED, S_IN(date), s_check_date },
	{ "level", 0, S_IN(level), s_check_level },
};

/* ---- the dialect (design.md §8.8) ------------------------------------------- */

/* A record id a spreadsheet raised to capitals, in lower case. */
static const char *s_canon_record_id(const char *v, char *buf, size_t size)
{
	size_t n = strlen(v);

	if (n >= size || !strpbrk(v, "ABCDEF"))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		buf[i] = (char)(v[i] >= 'A' && v[i] <= 'F' ? v[i] + ('a' - 'A') : v[i]);
	return crypto_uuid_valid(buf) ? buf : NULL;
}

static const char *s_canon_event(const char *v, char *buf, size_t size)
{
	(void)buf, (void)size;
	return outcome_event_canon(v);
}

static const char *s_canon_level(const char *v, char *buf, size_t size)
{
	(void)buf, (void)size;
	return vocab_mbo_level_canon(v);
}

/* Header names in Dutch, folded, best first (the man page's table). */
static const struct csvfile_dialect_col s_dialect[] = {
	{ "record_id", "recordnummer|record|dossiernummer|dossier_id", s_canon_record_id, 0 },
	{ "pgn", "bsn|onderwijsnummer|bsn_pgn|bsn_onderwijsnummer|pgn_bsn|burgerservicenummer|"
		 "persoonsgebonden_nummer", NULL, 0 },
	{ "event", "gebeurtenis|status|uitkomst|resultaat", s_canon_event, 0 },
	{ "date", "datum|peildatum|datum_gebeurtenis", NULL, CSVFILE_DATE },
	{ "level", "niveau|mbo_niveau", s_canon_level, 0 },
};

static const struct csvfile_table s_table = {
	s_cols, ARRAY_SIZE(s_cols), sizeof(s_cols[0]), CSVFILE_LIST_COLUMNS | CSVFILE_TODAY,
	/* max file, record (a valid one is < 100 bytes), rows, columns */
	CSVFILE_MAX_FILE, 4096, 1000000, 16,
	sizeof(struct outcome_input), sizeof(struct outcome_row), s_finish, NULL,
	s_row_hash, s_row_same, "record_id", " (same record_id, event and date)",
	s_dialect, ARRAY_SIZE(s_dialect),
};

/* outcome_row_validate, outcomes_parse_buffer, _parse_file and _free. */
CSVFILE_DATED_IMPORT(outcomes, outcome_row_validate, struct outcome_input, struct outcome_row, s_table)
