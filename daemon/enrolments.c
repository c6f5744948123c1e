/* enrolments: the enrolments CSV import at the MBO (design.md §8.4): the
 * columns csvfile maps, one row's checks, duplicates by (pgn, start_date). */
#include "enrolments.h"

#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "pgn.h"
#include "vocab.h"
#include "i18n.h"

#define S_MAX_FIELD 64			/* characters of one value */

static void s_check_pgn(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			void *out)
{
	struct enrolment_row_in *row = out;
	const char *why = NULL;

	if (!csvfile_check_present(c, col, v, S_MAX_FIELD))
		return;
	/* The reason only: a pgn is personal data and errors end up in logs. */
	if (pgn_check(v, &why) < 0)
		csvfile_check_fail(c, col, "%s", _(why));	/* pgn.c marks it */
	else if (row)
		memcpy(row->pgn, v, sizeof(row->pgn));
}

static void s_check_level(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			  void *out)
{
	struct enrolment_row_in *row = out;
	char echo[CSVFILE_ECHO_SIZE];

	if (!csvfile_check_present(c, col, v, S_MAX_FIELD))
		return;
	if (v[0] < '1' || v[0] > '4' || v[1])
		csvfile_check_fail(c, col, "'%s' is not an MBO level (1-4)",
				   csvfile_echo(echo, v, strlen(v), 0));
	else if (row)
		row->level = v[0] - '0';
}

/* A start date may lie ahead: the list is often made before the year begins. */
static void s_check_start(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			  void *out)
{
	struct enrolment_row_in *row = out;

	if (!csvfile_check_present(c, col, v, S_MAX_FIELD))
		return;
	if (!date_valid(v, NULL, NULL, NULL))
		csvfile_check_fail(c, col, "not a real date (YYYY-MM-DD)");
	else if (row)
		memcpy(row->start_date, v, sizeof(row->start_date));
}

static void s_check_previous(struct csvfile_check *c, const struct csvfile_col *col,
			     const char *v, void *out)
{
	struct enrolment_row_in *row = out;
	char echo[CSVFILE_ECHO_SIZE];

	if (!*v || !csvfile_check_present(c, col, v, S_MAX_FIELD))
		return;
	if (!vocab_program_from_str(v))
		csvfile_check_fail(c, col, "unknown value '%s' (expected one of: %s)",
				   csvfile_echo(echo, v, strlen(v), 0), vocab_program_list());
	else if (row)
		row->previous = vocab_program_from_str(v);
}

static int s_finish(const struct csvfile_check *c, const void *view, void *out)
{
	struct enrolment_row_in *row = out;

	(void)view;
	row->line = c->line;
	return row->pgn[0] && row->start_date[0];
}

static uint64_t s_row_hash(const void *rows, size_t i)
{
	const struct enrolment_row_in *r = (const struct enrolment_row_in *)rows + i;

	return csvfile_hash(csvfile_hash(CSVFILE_HASH0, r->pgn), r->start_date);
}

static int s_row_same(const void *rows, size_t i, size_t j)
{
	const struct enrolment_row_in *a = (const struct enrolment_row_in *)rows + i;
	const struct enrolment_row_in *b = (const struct enrolment_row_in *)rows + j;

	return strcmp(a->pgn, b->pgn) == 0 && strcmp(a->start_date, b->start_date) == 0;
}

#define S_IN(f) offsetof(struct enrolment_input, f)

static const struct csvfile_col s_cols[] = {
	{ "pgn", CSVFILE_REQUIRED, S_IN(pgn), s_check_pgn },
	{ "level", CSVFILE_REQUIRED, S_IN(level), s_check_level },
	{ "start_date", CSVFILE_REQUIRED, S_IN(start_date), s_check_start },
	{ "previous", 0, S_IN(previous), s_check_previous },
};

/* ---- the dialect (design.md §8.8) ------------------------------------------- */

static const char *s_canon_level(const char *v, char *buf, size_t size)
{
	(void)buf, (void)size;
	return vocab_mbo_level_canon(v);
}

static const char *s_canon_previous(const char *v, char *buf, size_t size)
{
	(void)buf, (void)size;
	return vocab_program_canon(v);
}

/* The names an MBO's student administration uses, folded, best first (the
 * man page's table). */
static const struct csvfile_dialect_col s_dialect[] = {
	{ "pgn", "bsn|onderwijsnummer|bsn_pgn|bsn_onderwijsnummer|pgn_bsn|burgerservicenummer|"
		 "persoonsgebonden_nummer", NULL, 0 },
	{ "level", "niveau|mbo_niveau|opleidingsniveau", s_canon_level, 0 },
	{ "start_date", "startdatum|begindatum|ingangsdatum|datum_start|inschrijfdatum|"
			"datum_inschrijving|inschrijvingsdatum", NULL, CSVFILE_DATE },
	{ "previous", "vooropleiding|vorige_opleiding|hoogste_vooropleiding|herkomst",
	  s_canon_previous, 0 },
};

static const struct csvfile_table s_table = {
	.cols = s_cols,
	.ncols = ARRAY_SIZE(s_cols),
	.col_size = sizeof(s_cols[0]),
	.flags = CSVFILE_LIST_COLUMNS,
	.max_file = CSVFILE_MAX_FILE,
	.max_record = 4096,
	.max_rows = 1000000,
	.max_columns = 16,
	.view_size = sizeof(struct enrolment_input),
	.row_size = sizeof(struct enrolment_row_in),
	.finish = s_finish,
	.hash = s_row_hash,
	.same = s_row_same,
	.dup_col = "pgn",
	.dup_why = N_(" (same pgn and start_date)"),
	.dialect = s_dialect,
	.ndialect = ARRAY_SIZE(s_dialect),
};

int enrolment_row_validate(const char *name, const struct enrolment_input *in,
			   struct enrolment_row_in *out, struct strlist *errors)
{
	struct enrolment_row_in row;

	return csvfile_check_view(&s_table, name, in->line, NULL, in, out ? out : &row, errors);
}

int enrolments_parse_buffer(const char *name, const char *data, size_t len,
			    struct enrolment_row_in **rows, size_t *n, struct strlist *errors)
{
	const struct csvfile_opts o = { .strict = 1 };

	return csvfile_import(&s_table, name, data, len, &o, rows, n, errors);
}

int enrolments_parse_file(const char *path, struct enrolment_row_in **rows, size_t *n,
			  struct strlist *errors, csvfile_progress_fn progress, void *arg)
{
	const struct csvfile_opts o = { .progress = progress, .arg = arg, .strict = 1 };

	return csvfile_import_file(&s_table, path, &o, rows, n, errors);
}

int enrolments_import_file(const char *path, const struct csvfile_opts *o,
			   struct enrolment_row_in **rows, size_t *n, struct strlist *errors)
{
	return csvfile_import_file(&s_table, path, o, rows, n, errors);
}

void enrolments_free(struct enrolment_row_in **rows)
{
	if (rows) {
		free(*rows);
		*rows = NULL;
	}
}
