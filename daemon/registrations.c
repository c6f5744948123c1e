/* registrations: the registrations CSV import at the receiving institution:
 * the columns csvfile maps, one row's checks, duplicates by (pgn,
 * sending_school). */
#include "registrations.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csvfile.h"
#include "pgn.h"
#include "i18n.h"

#define S_MAX_FIELD 64			/* characters of one value */

/* ---- one row --------------------------------------------------------------- */

static void s_check_pgn(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			void *out)
{
	struct registration_row *row = out;
	const char *why = NULL;

	if (!csvfile_check_present(c, col, v, S_MAX_FIELD))
		return;
	/* The reason only: a pgn is personal data and errors end up in logs. */
	if (pgn_check(v, &why) < 0)
		csvfile_check_fail(c, col, "%s", _(why));	/* pgn.c marks it */
	else
		memcpy(row->pgn, v, sizeof(row->pgn));	/* 9 digits and the NUL */
}

static void s_check_school(struct csvfile_check *c, const struct csvfile_col *col,
			   const char *v, void *out)
{
	struct registration_row *row = out;

	if (csvfile_check_valid(c, col, v, S_MAX_FIELD, config_institution_id_valid,
				"is not an institution id (BRIN + location, e.g. 12AB00)"))
		memcpy(row->sending_school, v, sizeof(row->sending_school));
}

static void s_check_date(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			 void *out)
{
	struct registration_row *row = out;

	if (csvfile_check_date(c, col, v, S_MAX_FIELD))
		memcpy(row->registered_on, v, sizeof(row->registered_on));
}

static int s_finish(const struct csvfile_check *c, const void *view, void *out)
{
	struct registration_row *row = out;

	(void)view;
	row->line = c->line;
	/* Only a row whose key parts both passed can be a duplicate. The date
	 * is no part of the key: a pupil registers once with each school. */
	return row->pgn[0] && row->sending_school[0];
}

/* The key of a row: (pgn, sending_school); no value has a comma, so the
 * parts stay apart. */
static uint64_t s_row_hash(const void *rows, size_t i)
{
	const struct registration_row *r = (const struct registration_row *)rows + i;

	return csvfile_hash(csvfile_hash(csvfile_hash(CSVFILE_HASH0, r->pgn), ","),
			    r->sending_school);
}

static int s_row_same(const void *rows, size_t i, size_t j)
{
	const struct registration_row *a = (const struct registration_row *)rows + i;
	const struct registration_row *b = (const struct registration_row *)rows + j;

	return strcmp(a->pgn, b->pgn) == 0 && strcmp(a->sending_school, b->sending_school) == 0;
}

/* ---- the file -------------------------------------------------------------- */

#define S_IN(f) offsetof(struct registration_input, f)

/* Every column is required, in the header and in every row. */
static const struct csvfile_col s_cols[] = {
	{ "pgn", CSVFILE_REQUIRED, S_IN(pgn), s_check_pgn },
	{ "sending_school", CSVFILE_REQUIRED, S_IN(sending_school), s_check_school },
	{ "registered_on", CSVFILE_REQUIRED, S_IN(registered_on), s_check_date },
};

/* ---- the dialect (design.md §8.8) ------------------------------------------- */

/* Header names in Dutch, folded, best first (the man page's table). */
static const struct csvfile_dialect_col s_dialect[] = {
	{ "pgn", "bsn|onderwijsnummer|bsn_pgn|bsn_onderwijsnummer|pgn_bsn|burgerservicenummer",
	  NULL, 0 },
	{ "sending_school", "school_van_herkomst|toeleverende_school|vooropleiding_brin|"
			    "brin_vooropleiding|brin_school|brin_vo|brin", csvdialect_upper, 0 },
	{ "registered_on", "aanmelddatum|datum_aanmelding|aangemeld_op|aanmeldingsdatum", NULL,
	  CSVFILE_DATE },
};

static const struct csvfile_table s_table = {
	.cols = s_cols,
	.ncols = ARRAY_SIZE(s_cols),
	.col_size = sizeof(s_cols[0]),
	.flags = CSVFILE_LIST_COLUMNS | CSVFILE_TODAY,
	.max_file = CSVFILE_MAX_FILE,
	.max_record = 4096,		/* bytes: a valid record is < 40 */
	.max_rows = 1000000,
	.max_columns = 16,
	.view_size = sizeof(struct registration_input),
	.row_size = sizeof(struct registration_row),
	.finish = s_finish,
	.hash = s_row_hash,
	.same = s_row_same,
	.dup_col = "pgn",
	.dup_why = N_(" (same pgn and sending_school)"),
	.dialect = s_dialect,
	.ndialect = ARRAY_SIZE(s_dialect),
};

/* registration_row_validate, registrations_parse_buffer, _parse_file and _free. */
CSVFILE_DATED_IMPORT(registrations, registration_row_validate, struct registration_input, struct registration_row, s_table)
