/* consents_csv: the consents CSV import's columns and one row's checks (design.md §8.7). */
#include "consents_csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "consent.h"
#include "csvfile.h"
#include "i18n.h"
#include "vocab.h"

#define S_MAX_FIELD 64			/* characters of a code or date value */

#define S_COPY(dst, v) str_copy((dst), sizeof(dst), (v))

static void s_check_ref(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			void *out)
{
	struct consents_csv_row *row = out;

	if (csvfile_check_present(c, col, v, 64) && csvfile_check_text(c, col, v, 0))
		S_COPY(row->pupil_ref, v);
}

static int s_is_purpose(const char *v) { return consent_purpose_from_str(v) > 0; }
static int s_is_grantor(const char *v) { return consent_grantor_from_str(v) > 0; }

static void s_check_purpose(struct csvfile_check *c, const struct csvfile_col *col,
			    const char *v, void *out)
{
	if (csvfile_check_valid(c, col, v, S_MAX_FIELD, s_is_purpose,
				"is not a purpose (expected one of: handover, follow_up)"))
		S_COPY(((struct consents_csv_row *)out)->purpose, v);
}

static void s_check_for(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			void *out)
{
	if (!*v || strcmp(v, CONSENT_ANY) == 0 ||
	    csvfile_check_valid(c, col, v, S_MAX_FIELD, config_institution_id_valid,
				"is not an institution id (BRIN + location, e.g. 12AB00) or *"))
		S_COPY(((struct consents_csv_row *)out)->counterpart, v);
}

static void s_check_by(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
		       void *out)
{
	if (csvfile_check_valid(c, col, v, S_MAX_FIELD, s_is_grantor,
				"is not a grantor (expected one of: pupil, parent, guardian)"))
		S_COPY(((struct consents_csv_row *)out)->grantor, v);
}

static void s_check_granted(struct csvfile_check *c, const struct csvfile_col *col,
			    const char *v, void *out)
{
	if (*v && csvfile_check_date(c, col, v, S_MAX_FIELD))
		S_COPY(((struct consents_csv_row *)out)->granted_at, v);
}

static int s_is_date(const char *v) { return date_valid(v, NULL, NULL, NULL); }

static void s_check_until(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			  void *out)
{
	if (*v && csvfile_check_valid(c, col, v, S_MAX_FIELD, s_is_date,
				      "is not a real date (YYYY-MM-DD)"))
		S_COPY(((struct consents_csv_row *)out)->valid_until, v);
}

static void s_check_evidence(struct csvfile_check *c, const struct csvfile_col *col,
			     const char *v, void *out)
{
	if (csvfile_check_valid(c, col, v, S_MAX_FIELD, consent_evidence_method_valid,
				"is not an evidence method (expected one of: form, digital, email,"
				" verbal_recorded)"))
		S_COPY(((struct consents_csv_row *)out)->evidence_method, v);
}

/* The consent engine's rule for a reference (consent.c): printable ASCII. */
static int s_is_doc_ref(const char *v)
{
	for (; *v; v++)
		if (*v < ' ' || *v > '~')
			return 0;
	return 1;
}

static void s_check_doc(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
			void *out)
{
	if (csvfile_check_present(c, col, v, 128) && !s_is_doc_ref(v))
		csvfile_check_fail(c, col, "must be printable ASCII (a document number, no names)");
	else if (*v && strlen(v) <= 128)
		S_COPY(((struct consents_csv_row *)out)->evidence_ref, v);
}

static int s_finish(const struct csvfile_check *c, const void *view, void *out)
{
	struct consents_csv_row *row = out;

	(void)view;
	row->line = c->line;
	return row->pupil_ref[0] != '\0';
}

/* Only a row equal in every column is a duplicate: a pupil may hold a
 * parent's and, from 16, their own consent for the same purpose. */
static uint64_t s_row_hash(const void *rows, size_t i)
{
	const struct consents_csv_row *r = (const struct consents_csv_row *)rows + i;
	const char *parts[] = { r->pupil_ref, r->purpose, r->counterpart, r->grantor,
				r->granted_at, r->valid_until, r->evidence_method, r->evidence_ref };
	uint64_t h = CSVFILE_HASH0;

	for (size_t k = 0; k < ARRAY_SIZE(parts); k++)
		h = csvfile_hash(csvfile_hash(h, parts[k]), "\x1f");
	return h;
}

static int s_row_same(const void *rows, size_t i, size_t j)
{
	const struct consents_csv_row *a = (const struct consents_csv_row *)rows + i;
	const struct consents_csv_row *b = (const struct consents_csv_row *)rows + j;

	return memcmp(a, b, offsetof(struct consents_csv_row, line)) == 0;
}

#define S_IN(f) offsetof(struct consents_csv_input, f)

static const struct csvfile_col s_cols[] = {
	{ "pupil_ref", CSVFILE_REQUIRED, S_IN(pupil_ref), s_check_ref },
	{ "purpose", CSVFILE_REQUIRED, S_IN(purpose), s_check_purpose },
	{ "for", 0, S_IN(counterpart), s_check_for },
	{ "by", CSVFILE_REQUIRED, S_IN(grantor), s_check_by },
	{ "granted_on", 0, S_IN(granted_at), s_check_granted },
	{ "until", 0, S_IN(valid_until), s_check_until },
	{ "evidence", CSVFILE_REQUIRED, S_IN(evidence_method), s_check_evidence },
	{ "ref", CSVFILE_REQUIRED, S_IN(evidence_ref), s_check_doc },
};

/* ---- the dialect (design.md §8.8) ------------------------------------------- */

/* The codes in the staff's spelling: any case or separators, or Dutch (folded).
 * The checks above hold them against consent.c's own lists. */
static const struct vocab_entry s_purposes[] = { { "handover", 1 }, { "follow_up", 2 } };
static const struct vocab_alias s_purpose_alias[] = {
	{ "overdracht", "handover" }, { "warme_overdracht", "handover" },
	{ "nazorg", "follow_up" }, { "terugkoppeling", "follow_up" }, { "volgen", "follow_up" },
};
static const struct vocab_entry s_grantors[] = { { "pupil", 1 }, { "parent", 2 },
						  { "guardian", 3 } };
static const struct vocab_alias s_grantor_alias[] = {
	{ "leerling", "pupil" }, { "student", "pupil" }, { "ouder", "parent" },
	{ "ouders", "parent" }, { "ouder_verzorger", "parent" }, { "voogd", "guardian" },
};
static const struct vocab_entry s_methods[] = { { "form", 1 }, { "digital", 2 }, { "email", 3 },
						 { "verbal_recorded", 4 } };
static const struct vocab_alias s_method_alias[] = {
	{ "formulier", "form" }, { "papier", "form" }, { "digitaal", "digital" },
	{ "portaal", "digital" }, { "e_mail", "email" }, { "mail", "email" },
	{ "mondeling_vastgelegd", "verbal_recorded" }, { "verbal", "verbal_recorded" },
};

#define S_CANON(name, t, a)								\
	static const char *name(const char *v, char *buf, size_t size)			\
	{										\
		(void)buf, (void)size;							\
		return vocab_canon(t, ARRAY_SIZE(t), a, ARRAY_SIZE(a), v);		\
	}
S_CANON(s_canon_purpose, s_purposes, s_purpose_alias)
S_CANON(s_canon_grantor, s_grantors, s_grantor_alias)
S_CANON(s_canon_method, s_methods, s_method_alias)

/* Header names in Dutch, folded, best first (the man page's table). */
static const struct csvfile_dialect_col s_dialect[] = {
	{ "pupil_ref", "leerlingnummer|leerlingnr|llnr|leerling_nummer|leerling_id|stamnummer|"
		       "studentnummer", NULL, 0 },
	{ "purpose", "doel|toestemming_voor", s_canon_purpose, 0 },
	{ "for", "voor|instelling|ontvanger", csvdialect_upper, 0 },
	{ "by", "door|gegeven_door|toestemming_door", s_canon_grantor, 0 },
	{ "granted_on", "datum|datum_toestemming|gegeven_op|toestemmingsdatum", NULL,
	  CSVFILE_DATE },
	{ "until", "tot|geldig_tot|einddatum|vervaldatum", NULL, CSVFILE_DATE },
	{ "evidence", "bewijs|vastgelegd_via|vastlegging", s_canon_method, 0 },
	{ "ref", "kenmerk|referentie|documentnummer", NULL, 0 },
};

static const struct csvfile_table s_table = {
	.cols = s_cols,
	.ncols = ARRAY_SIZE(s_cols),
	.col_size = sizeof(s_cols[0]),
	.flags = CSVFILE_UTF8 | CSVFILE_LIST_COLUMNS | CSVFILE_TODAY,
	.max_file = CSVFILE_MAX_FILE,
	.max_record = 4096,
	.max_rows = 100000,
	.max_columns = 32,
	.view_size = sizeof(struct consents_csv_input),
	.row_size = sizeof(struct consents_csv_row),
	.finish = s_finish,
	.hash = s_row_hash,
	.same = s_row_same,
	.dup_col = "pupil_ref",
	.dup_why = N_(" (the same consent twice)"),
	.dialect = s_dialect,
	.ndialect = ARRAY_SIZE(s_dialect),
};

/* consents_csv_validate, consents_csv_parse_buffer, _parse_file and _free. */
CSVFILE_DATED_IMPORT(consents_csv, consents_csv_validate, struct consents_csv_input,
		     struct consents_csv_row, s_table)

int consents_csv_grants(struct consents_csv_row *rows, size_t n,
			Overstapctl__ConsentGrant **grants, Overstapctl__ConsentGrant ***ptrs)
{
	Overstapctl__ConsentGrant *g = calloc(n ? n : 1, sizeof(*g));
	Overstapctl__ConsentGrant **gp = calloc(n ? n : 1, sizeof(Overstapctl__ConsentGrant *));

	*grants = g;
	*ptrs = gp;
	if (!g || !gp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		overstapctl__consent_grant__init(&g[i]);
		g[i].pupil_ref = rows[i].pupil_ref;
		g[i].purpose = rows[i].purpose;
		g[i].counterpart = rows[i].counterpart;
		g[i].grantor = rows[i].grantor;
		g[i].granted_at = rows[i].granted_at;
		g[i].valid_until = rows[i].valid_until;
		g[i].evidence_method = rows[i].evidence_method;
		g[i].evidence_ref = rows[i].evidence_ref;
		g[i].line = rows[i].line;
		gp[i] = &g[i];
	}
	return 0;
}
