/* leavers: the leavers CSV import (design.md §8): one table of columns that csvfile
 * maps onto the header and that drives the checks of every row. */
#include "leavers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csvfile.h"
#include "pgn.h"
#include "vocab.h"
#include "i18n.h"

#define S_CODE_MAX 64		/* cap for columns that a check narrows down further */

/* ---- the columns ---------------------------------------------------------- */

enum s_col_id {
	C_PUPIL_REF, C_PGN, C_GIVEN_NAME, C_TUSSENVOEGSEL, C_FAMILY_NAME, C_BIRTH_DATE, C_PROGRAM,
	C_COHORT, C_EXIT_DATE, C_DESTINATION_TYPE, C_DESTINATION_INSTITUTION,
	C_ADVICE, C_ADVICE_FOLLOWED, C_LEVEL_TAAL, C_LEVEL_REKENEN,
	C_SUPPORT_NEEDS, C_MENTOR_NAME, C_MENTOR_EMAIL, C_MENTOR_PHONE, C_DIPLOMA,
	C_COUNT
};

struct s_col;
typedef void (*s_check_fn)(struct csvfile_check *c, const struct s_col *col, const char *v);

/* A column: csvfile's part (name, CSVFILE_REQUIRED, offset of the char * in
 * Overstapctl__Leaver, and s_check_field for all) and what s_check_field needs. */
struct s_col {
	struct csvfile_col col;		/* first: csvfile sees the table as its own */
	unsigned max;			/* most characters (code points) */
	int text;			/* free text: tab and line breaks allowed */
	const struct s_col *when;	/* required when that column has a value */
	s_check_fn check;		/* value-specific check, on a non-empty value */
	int (*known)(const char *v);	/* s_check_code: is v in the code list */
	const char *(*list)(void);	/* s_check_code: the list, for the message */
};

static void s_check_field(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			  void *out);
static void s_check_pgn(struct csvfile_check *c, const struct s_col *col, const char *v);
static void s_check_birth(struct csvfile_check *c, const struct s_col *col, const char *v);
static void s_check_cohort(struct csvfile_check *c, const struct s_col *col, const char *v);
static void s_check_exit(struct csvfile_check *c, const struct s_col *col, const char *v);
static void s_check_code(struct csvfile_check *c, const struct s_col *col, const char *v);
static void s_check_institution(struct csvfile_check *c, const struct s_col *col, const char *v);
static void s_check_support(struct csvfile_check *c, const struct s_col *col, const char *v);
static void s_check_email(struct csvfile_check *c, const struct s_col *col, const char *v);
static void s_check_phone(struct csvfile_check *c, const struct s_col *col, const char *v);

static int s_is_program(const char *v) { return vocab_program_from_str(v) != 0; }
static int s_is_destination(const char *v) { return vocab_destination_from_str(v) != 0; }
static int s_is_advice(const char *v) { return vocab_advice_from_str(v) != 0; }
static int s_is_yesno(const char *v) { return vocab_yesno_from_str(v) != 0; }
static int s_is_level(const char *v) { return vocab_level_from_str(v) != 0; }
static int s_is_diploma(const char *v) { return vocab_diploma_from_str(v) != 0; }
static const char *s_yesno_list(void) { return "yes, no"; }
static const char *s_level_list(void) { return "none, 1F, 2F, 3F"; }

#define S_COL(name, flags) { #name, flags, offsetof(Overstapctl__Leaver, name), s_check_field }
#define S_REQUIRED CSVFILE_REQUIRED

/* Order = message order within a row. Only the design.md §8 "yes" columns are
 * required in the header; pgn and the names are required per row by `when`. */
static const struct s_col s_cols[C_COUNT] = {
	[C_PUPIL_REF] = { S_COL(pupil_ref, S_REQUIRED), 64, 0, NULL, NULL, NULL, NULL },
	[C_PGN] = { S_COL(pgn, 0), S_CODE_MAX, 0, &s_cols[C_DESTINATION_INSTITUTION], s_check_pgn,
		    NULL, NULL },
	[C_GIVEN_NAME] = { S_COL(given_name, 0), 128, 0, &s_cols[C_PGN], NULL, NULL, NULL },
	[C_TUSSENVOEGSEL] = { S_COL(tussenvoegsel, 0), 32, 0, NULL, NULL, NULL, NULL },
	[C_FAMILY_NAME] = { S_COL(family_name, 0), 128, 0, &s_cols[C_PGN], NULL, NULL, NULL },
	[C_BIRTH_DATE] = { S_COL(birth_date, S_REQUIRED), S_CODE_MAX, 0, NULL, s_check_birth, NULL,
			   NULL },
	[C_PROGRAM] = { S_COL(program, S_REQUIRED), S_CODE_MAX, 0, NULL, s_check_code, s_is_program,
			vocab_program_list },
	[C_COHORT] = { S_COL(cohort, S_REQUIRED), S_CODE_MAX, 0, NULL, s_check_cohort, NULL, NULL },
	[C_EXIT_DATE] = { S_COL(exit_date, S_REQUIRED), S_CODE_MAX, 0, NULL, s_check_exit, NULL,
			  NULL },
	[C_DESTINATION_TYPE] = { S_COL(destination_type, S_REQUIRED), S_CODE_MAX, 0, NULL,
				 s_check_code, s_is_destination, vocab_destination_list },
	[C_DESTINATION_INSTITUTION] = { S_COL(destination_institution, 0), S_CODE_MAX, 0, NULL,
					s_check_institution, NULL, NULL },
	[C_ADVICE] = { S_COL(advice, 0), S_CODE_MAX, 0, NULL, s_check_code, s_is_advice,
		       vocab_advice_list },
	[C_ADVICE_FOLLOWED] = { S_COL(advice_followed, 0), S_CODE_MAX, 0, NULL, s_check_code,
				s_is_yesno, s_yesno_list },
	[C_LEVEL_TAAL] = { S_COL(level_taal, 0), S_CODE_MAX, 0, NULL, s_check_code, s_is_level,
			   s_level_list },
	[C_LEVEL_REKENEN] = { S_COL(level_rekenen, 0), S_CODE_MAX, 0, NULL, s_check_code, s_is_level,
			      s_level_list },
	[C_SUPPORT_NEEDS] = { S_COL(support_needs, 0), 512, 1, NULL, s_check_support, NULL, NULL },
	[C_MENTOR_NAME] = { S_COL(mentor_name, 0), 128, 0, NULL, NULL, NULL, NULL },
	[C_MENTOR_EMAIL] = { S_COL(mentor_email, 0), 254, 0, NULL, s_check_email, NULL, NULL },
	[C_MENTOR_PHONE] = { S_COL(mentor_phone, 0), 32, 0, NULL, s_check_phone, NULL, NULL },
	[C_DIPLOMA] = { S_COL(diploma, 0), S_CODE_MAX, 0, NULL, s_check_code, s_is_diploma,
			vocab_diploma_list },
};

/* ---- the dialect (design.md §8.8) ------------------------------------------- */

/* The digits at *p as a number; *w of them. */
static unsigned s_number(const char **p, int *w)
{
	unsigned v = 0;

	for (*w = 0; **p >= '0' && **p <= '9' && *w < 5; (*p)++, (*w)++)
		v = v * 10 + (unsigned)(**p - '0');
	return v;
}

/* "2024/2025", "2024 - 2025", "2024/25", "2024-25" as 2024-2025. Runs on
 * every row: no sscanf. */
static const char *s_canon_cohort(const char *v, char *buf, size_t size)
{
	const char *p = v;
	unsigned y1, y2;
	int w1, w2;

	y1 = s_number(&p, &w1);
	if (w1 != 4)
		return NULL;
	p += strspn(p, " ");
	if (*p != '-' && *p != '/')
		return NULL;
	p++;
	p += strspn(p, " ");
	y2 = s_number(&p, &w2);
	if (*p || (w2 != 2 && w2 != 4))
		return NULL;
	if (w2 == 2 && y2 == (y1 + 1) % 100)
		y2 = y1 + 1;
	else if (w2 == 2)
		return NULL;
	snprintf(buf, size, "%04u-%04u", y1, y2);
	return strcmp(buf, v) ? buf : NULL;
}

#define S_CANON(name, fn)							\
	static const char *name(const char *v, char *buf, size_t size)		\
	{									\
		(void)buf, (void)size;						\
		return fn(v);							\
	}
S_CANON(s_canon_program, vocab_program_canon)
S_CANON(s_canon_destination, vocab_destination_canon)
S_CANON(s_canon_advice, vocab_advice_canon)
S_CANON(s_canon_yesno, vocab_yesno_canon)
S_CANON(s_canon_level, vocab_level_canon)
S_CANON(s_canon_diploma, vocab_diploma_canon)

/* The header names school systems use (Magister, SOMtoday, ParnasSys,
 * Eduarte), folded, best first; the man page's table is this one. */
static const struct csvfile_dialect_col s_dialect[] = {
	{ "pupil_ref", "leerlingnummer|leerlingnr|llnr|leerling_nummer|leerling_id|stamnummer|"
		       "studentnummer", NULL, 0 },
	{ "pgn", "bsn|onderwijsnummer|bsn_pgn|bsn_onderwijsnummer|pgn_bsn|burgerservicenummer|"
		 "persoonsgebonden_nummer", NULL, 0 },
	{ "given_name", "roepnaam|voornaam|voornamen", NULL, 0 },
	{ "tussenvoegsel", "voorvoegsel|tussenvoegsels|voorvoegsels", NULL, 0 },
	{ "family_name", "achternaam|geslachtsnaam|familienaam", NULL, 0 },
	{ "birth_date", "geboortedatum|geb_datum|gebdatum|geboorte_datum", NULL, CSVFILE_DATE },
	{ "program", "opleiding|leerweg|onderwijssoort|schoolsoort", s_canon_program, 0 },
	{ "cohort", "schooljaar|schooljaar_uitschrijving|uitstroomjaar", s_canon_cohort, 0 },
	{ "exit_date", "uitschrijfdatum|datum_uitschrijving|uitschrijvingsdatum|einddatum|"
		       "uitstroomdatum|datum_uitstroom|vertrekdatum|datum_vertrek", NULL,
	  CSVFILE_DATE },
	{ "destination_type", "bestemming|vervolgbestemming|uitstroombestemming|uitstroom",
	  s_canon_destination, 0 },
	{ "destination_institution", "brin_bestemming|brin_vervolgopleiding|vervolginstelling|"
				     "ontvangende_instelling|instelling", csvdialect_upper, 0 },
	{ "advice", "advies|schooladvies|uitstroomadvies|vervolgadvies", s_canon_advice, 0 },
	{ "advice_followed", "advies_opgevolgd|advies_gevolgd", s_canon_yesno, 0 },
	{ "level_taal", "referentieniveau_taal|niveau_taal|taalniveau|referentieniveau_nederlands|"
			"taal", s_canon_level, 0 },
	{ "level_rekenen", "referentieniveau_rekenen|niveau_rekenen|rekenniveau|rekenen",
	  s_canon_level, 0 },
	{ "support_needs", "ondersteuningsbehoefte|ondersteuningsbehoeften|ondersteuning", NULL,
	  0 },
	{ "mentor_name", "mentor|naam_mentor|mentornaam|mentor_naam", NULL, 0 },
	{ "mentor_email", "e_mail_mentor|email_mentor|mentor_e_mail|e_mailadres_mentor|"
			  "emailadres_mentor", NULL, 0 },
	{ "mentor_phone", "telefoon_mentor|telefoonnummer_mentor|mentor_telefoon|"
			  "mentor_telefoonnummer|tel_mentor", NULL, 0 },
	{ "diploma", "hoogst_behaalde_diploma|hoogste_diploma|behaald_diploma|diploma_behaald",
	  s_canon_diploma, 0 },
};

/* The value of column id in the row under check. */
static const char *s_get(const struct csvfile_check *c, enum s_col_id id)
{
	return csvfile_value(c->view, &s_cols[id].col);
}

/* ---- validation ----------------------------------------------------------- */

/* A problem with col's value. */
#define s_col_err(c, col, ...) csvfile_check_fail(c, &(col)->col, __VA_ARGS__)

static void s_check_pgn(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	const char *why = NULL;

	/* The reason only: a pgn is personal data and errors end up in logs. */
	if (pgn_check(v, &why) < 0)
		s_col_err(c, col, "%s", _(why));	/* pgn.c marks it */
}

/* 1 when v is written YYYY-YYYY, whatever the years. */
static int s_cohort_shape(const char *v)
{
	if (strlen(v) != 9 || v[4] != '-')
		return 0;
	for (int i = 0; i < 9; i++)
		if (i != 4 && (v[i] < '0' || v[i] > '9'))
			return 0;
	return 1;
}

/* 1 when v is "YYYY-YYYY" with consecutive years; *y is the first year. */
static int s_cohort_year(const char *v, int *y)
{
	if (!s_cohort_shape(v) || atoi(v + 5) != atoi(v) + 1)
		return 0;
	*y = atoi(v);
	return 1;
}

static void s_check_cohort(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	int y;

	if (!s_cohort_shape(v))
		s_col_err(c, col, "must be YYYY-YYYY (e.g. 2024-2025)");
	else if (!s_cohort_year(v, &y))
		s_col_err(c, col, "years must be consecutive (e.g. 2024-2025)");
}

static void s_check_birth(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	const char *exit_date = s_get(c, C_EXIT_DATE);

	if (!date_valid(v, NULL, NULL, NULL))
		s_col_err(c, col, "not a real date (YYYY-MM-DD)");
	/* Same format, so the strings compare like the dates. */
	else if (date_valid(exit_date, NULL, NULL, NULL) && strcmp(v, exit_date) >= 0)
		s_col_err(c, col, "not before exit_date");
}

static void s_check_exit(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	char from[24], to[24];
	int y;

	if (!date_valid(v, NULL, NULL, NULL)) {
		s_col_err(c, col, "not a real date (YYYY-MM-DD)");
		return;
	}
	if (!s_cohort_year(s_get(c, C_COHORT), &y))
		return;	/* cohort has its own message */
	/* A school year runs 1 August .. 31 July (design.md §6: cohort = year of leaving). */
	snprintf(from, sizeof(from), "%04d-08-01", y);
	snprintf(to, sizeof(to), "%04d-07-31", y + 1);
	if (strcmp(v, from) < 0 || strcmp(v, to) > 0)
		s_col_err(c, col, "not inside school year %d-%d (%s .. %s)", y, y + 1, from, to);
}

static void s_check_code(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	char echo[CSVFILE_ECHO_SIZE];

	if (!col->known(v))
		s_col_err(c, col, "unknown value '%s' (expected one of: %s)",
		      csvfile_echo(echo, v, strlen(v), CSVFILE_UTF8), col->list());
}

static void s_check_institution(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	char echo[CSVFILE_ECHO_SIZE];

	if (!config_institution_id_valid(v))
		s_col_err(c, col, "'%s' is not an institution id (BRIN + location, e.g. 12AB00)",
		      csvfile_echo(echo, v, strlen(v), CSVFILE_UTF8));
}

/* "code[:note];code[:note]": blanks around a code are forgiven, the note is
 * free text; every unknown or missing code is its own problem. */
static void s_check_support(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	char code[S_CODE_MAX + 1], echo[CSVFILE_ECHO_SIZE];
	unsigned entry = 0;

	for (const char *p = v;; p++) {
		const char *end = p + strcspn(p, ";");
		const char *ce = p + strcspn(p, ":;");
		size_t len;

		entry++;
		while (p < ce && (*p == ' ' || *p == '\t'))
			p++;
		while (ce > p && (ce[-1] == ' ' || ce[-1] == '\t'))
			ce--;
		len = (size_t)(ce - p);
		if (len == 0) {
			s_col_err(c, col, "entry %u has no code (expected code[:note];...)", entry);
		} else {
			size_t n = len < S_CODE_MAX ? len : S_CODE_MAX;

			memcpy(code, p, n);
			code[n] = '\0';
			if (len > S_CODE_MAX || !vocab_support_code_valid(code))
				s_col_err(c, col, "unknown code '%s' (expected one of: %s)",
				      csvfile_echo(echo, p, len, CSVFILE_UTF8), vocab_support_codes());
		}
		if (!*end)
			break;
		p = end;
	}
}

static void s_check_email(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	const char *at = strchr(v, '@');

	if (!at || at == v || !at[1] || strchr(at + 1, '@') || strpbrk(v, " \t"))
		s_col_err(c, col, "not an e-mail address");
}

static void s_check_phone(struct csvfile_check *c, const struct s_col *col, const char *v)
{
	if (v[strspn(v, "0123456789+-() ")] != '\0' || !strpbrk(v, "0123456789"))
		s_col_err(c, col, "not a phone number (digits, spaces and + - ( ) only)");
}

/* The checks every column gets, then its own. */
static void s_check_field(struct csvfile_check *c, const struct csvfile_col *base, const char *v,
			  void *out)
{
	const struct s_col *col = (const struct s_col *)base;
	size_t n;

	(void)out;
	if (!*v) {
		if (base->flags & S_REQUIRED)
			s_col_err(c, col, "is required");
		else if (col->when && *csvfile_value(c->view, &col->when->col))
			s_col_err(c, col, "required when %s is set", col->when->col.name);
		return;
	}
	/* The rule a peer's text meets too (envelope.c), then the length in
	 * characters, which only valid UTF-8 has. */
	if (!csvfile_check_text(c, base, v, col->text ? TEXT_LINES : 0))
		return;
	if (csvfile_utf8_count(v, &n) && n > col->max) {
		s_col_err(c, col, "too long (%zu characters, at most %u)", n, col->max);
		return;
	}
	if (col->check)
		col->check(c, col, v);
}

/* ---- the file -------------------------------------------------------------- */

/* A checked row into a new leaver in out, bad or not; empty values keep
 * protobuf-c's shared empty string, which free_unpacked knows not to free.
 * 1 when it has a pupil_ref (the duplicates key), else 0; or -ENOMEM. */
static int s_finish(const struct csvfile_check *c, const void *view, void *out)
{
	Overstapctl__Leaver *l = malloc(sizeof(*l));

	if (!l)
		return -ENOMEM;
	overstapctl__leaver__init(l);
	for (size_t i = 0; i < C_COUNT; i++) {
		const char *v = csvfile_value(view, &s_cols[i].col);
		char *copy;

		if (!*v)
			continue;
		copy = strdup(v);
		if (!copy) {
			overstapctl__leaver__free_unpacked(l, NULL);
			return -ENOMEM;
		}
		memcpy((char *)l + s_cols[i].col.off, &copy, sizeof(copy));
	}
	l->line = c->line;
	memcpy(out, &l, sizeof(l));	// NOLINT(bugprone-sizeof-expression): the row is the pointer
	return *l->pupil_ref != '\0';
}

static void s_row_free(void *row)
{
	Overstapctl__Leaver *l;

	memcpy(&l, row, sizeof(l));	// NOLINT(bugprone-sizeof-expression): the row is the pointer
	overstapctl__leaver__free_unpacked(l, NULL);
}

static uint64_t s_row_hash(const void *rows, size_t i)
{
	return csvfile_hash(CSVFILE_HASH0, ((Overstapctl__Leaver *const *)rows)[i]->pupil_ref);
}

static int s_row_same(const void *rows, size_t i, size_t j)
{
	Overstapctl__Leaver *const *v = rows;

	return strcmp(v[i]->pupil_ref, v[j]->pupil_ref) == 0;
}

static const struct csvfile_table s_table = {
	.cols = &s_cols[0].col,
	.ncols = C_COUNT,
	.col_size = sizeof(s_cols[0]),
	/* A NUL byte is reported as it arrives, and a school's export has always
	 * been taken whole: no record or row cap (support_needs is free text). */
	.flags = CSVFILE_UTF8 | CSVFILE_NUL_EARLY,
	.max_file = (size_t)256 << 20,	/* a school's export is a few MB at most */
	.max_columns = 64,		/* a wider file is not ours anyway */
	.view_size = sizeof(Overstapctl__Leaver),
	.row_size = sizeof(Overstapctl__Leaver *),
	.finish = s_finish,
	.row_free = s_row_free,
	.hash = s_row_hash,
	.same = s_row_same,
	.dup_col = "pupil_ref",
	.dup_why = "",
	.dialect = s_dialect,
	.ndialect = ARRAY_SIZE(s_dialect),
};

int leaver_validate(const char *name, const Overstapctl__Leaver *l, struct strlist *errors)
{
	return csvfile_check_view(&s_table, name, l->line, NULL, l, NULL, errors);
}

int leavers_parse_buffer(const char *name, const char *data, size_t len,
			 Overstapctl__Leaver ***out_rows, size_t *out_n, struct strlist *errors,
			 leavers_progress_fn progress, void *arg)
{
	const struct csvfile_opts o = { .progress = progress, .arg = arg, .strict = 1 };

	return csvfile_import(&s_table, name, data, len, &o, out_rows, out_n, errors);
}

int leavers_parse_file(const char *path, Overstapctl__Leaver ***out_rows, size_t *out_n,
		       struct strlist *errors, leavers_progress_fn progress, void *arg)
{
	const struct csvfile_opts o = { .progress = progress, .arg = arg, .strict = 1 };

	return csvfile_import_file(&s_table, path, &o, out_rows, out_n, errors);
}

int leavers_import(const char *name, const char *data, size_t len, const struct csvfile_opts *o,
		   Overstapctl__Leaver ***out_rows, size_t *out_n, struct strlist *errors)
{
	return csvfile_import(&s_table, name, data, len, o, out_rows, out_n, errors);
}

int leavers_import_file(const char *path, const struct csvfile_opts *o,
			Overstapctl__Leaver ***out_rows, size_t *out_n, struct strlist *errors)
{
	return csvfile_import_file(&s_table, path, o, out_rows, out_n, errors);
}

int leavers_stream_file(const char *path, const struct csvfile_opts *o, struct strlist *errors)
{
	return csvfile_stream_file(&s_table, path, o, errors);
}

int leavers_stream_fd(const char *name, int fd, const struct csvfile_opts *o,
		      struct strlist *errors)
{
	return csvfile_stream_fd(&s_table, name, fd, o, errors);
}

void leavers_free(Overstapctl__Leaver ***rows, size_t n)
{
	if (!rows || !*rows)
		return;
	for (size_t i = 0; i < n; i++)
		if ((*rows)[i])
			overstapctl__leaver__free_unpacked((*rows)[i], NULL);
	free(*rows);
	*rows = NULL;
}
