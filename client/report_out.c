/* report_out: a quality-care Report as a terminal table, CSV, JSON or HTML. */
#include "report_out.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "out.h"
#include "util.h"

#define S_NUM_LEN 32		/* a formatted count or rate */
#define S_HIDDEN "hidden"	/* a suppressed value that came without display text */
#define S_LABEL_WIDTH 16	/* the header block's labels, as out_field's */
#define S_MIN_CELL 5		/* design.md §6 default, when the report does not say */

/* Measures the renderers know, for people: the HTML page explains them. An
 * unknown measure is shown by its name, without an explanation. The texts
 * are msgids, translated where printed into the report's language (the
 * caller's i18n_begin, design.md §10); the English heads are the names in
 * capitals, as before there was a catalog. */
struct s_measure {
	const char *name;	/* as the daemon sends it */
	const char *label;	/* for people */
	const char *explain;	/* plain language; the denominator comes from the data */
	const char *head;	/* the text table's column head */
};

static const struct s_measure s_measures[] = {
	{ "leavers", N_("leavers"),
	  N_("pupils who left the school in the cohort, whatever they went on to"),
	  N_("LEAVERS") },
	{ "handed_over", N_("handed over"),
	  N_("leavers whose dossier was delivered to the receiving institution (and acknowledged)"),
	  N_("HANDED_OVER") },
	{ "started", N_("started"),
	  N_("handed over, and enrolled at the destination by 1 October of the year they left"),
	  N_("STARTED") },
	{ "started_with_consent", N_("started with consent"),
	  N_("started, with a follow-up consent: the pupils whose outcome can be known here"),
	  N_("STARTED_WITH_CONSENT") },
	{ "with_consent", N_("with consent"),
	  N_("handed over with a follow-up consent: the receiving institution may tell the school "
	  "how the pupil fares"),
	  N_("WITH_CONSENT") },
	{ "no_consent", N_("no consent"),
	  N_("handed over without a follow-up consent: how these pupils fare is not known here, and "
	  "they are left out of the outcome shares"),
	  N_("NO_CONSENT") },
	{ "bestendig", N_("bestendig"),
	  N_("started, and on 1 October one year later still enrolled at the destination or left it "
	  "with a diploma (as DUO's startersresultaat); counted among pupils with consent"),
	  N_("BESTENDIG") },
	{ "diploma", N_("diploma"),
	  N_("obtained a diploma within the follow-up window"),
	  N_("DIPLOMA") },
	{ "progressed", N_("progressed"),
	  N_("moved on to a higher level within the follow-up window, e.g. from entree to mbo-2"),
	  N_("PROGRESSED") },
	{ "left_without_diploma", N_("left without diploma"),
	  N_("left the course without a diploma within the follow-up window (uitval)"),
	  N_("LEFT_WITHOUT_DIPLOMA") },
	{ "no_feedback", N_("no feedback"),
	  N_("a follow-up consent is in place, but no outcome has come back yet"),
	  N_("NO_FEEDBACK") },
	{ "students", N_("students"),
	  N_("every student of the cohort: a dossier received, or an enrolment without one"),
	  N_("STUDENTS") },
	{ "enrolments", N_("enrolments"), N_("students on this institution's enrolment list"),
	  N_("ENROLMENTS") },
	{ "dossier_by_start", N_("dossier by the start"),
	  N_("on the enrolment list, and the dossier arrived on or before the start: the warm "
	     "handover's coverage of every new enrolment"),
	  N_("DOSSIER_BY_START") },
	{ "intake", N_("intake"),
	  N_("pupils from sending schools who came to this institution in the cohort"),
	  N_("INTAKE") },
	{ "enrolled", N_("enrolled"),
	  N_("pupils of the intake enrolled here by 1 October"),
	  N_("ENROLLED") },
	{ "covered", N_("covered"),
	  N_("enrolled pupils whose handover was received before they started (handover coverage)"),
	  N_("COVERED") },
	{ "intake_held", N_("intake held"),
	  N_("pupils of the intake with whom the intake conversation took place (the warm part of "
	  "the handover)"),
	  N_("INTAKE_HELD") },
};

/* Dimensions, for people (HTML headings), and the text table's heads. */
static const struct {
	const char *name, *label, *head;
} s_dims[] = {
	{ "cohort", N_("cohort"), N_("COHORT") },
	{ "program", N_("program left"), N_("PROGRAM") },
	{ "destination", N_("destination type"), N_("DESTINATION") },
	{ "institution", N_("destination institution"), N_("INSTITUTION") },
	{ "advice", N_("advice given"), N_("ADVICE") },
	{ "followed", N_("advice followed"), N_("FOLLOWED") },
	{ "taal", N_("reference level taal"), N_("TAAL") },
	{ "rekenen", N_("reference level rekenen"), N_("REKENEN") },
	{ "previous", N_("previous education"), N_("PREVIOUS") },
	{ "school", N_("sending school"), N_("SCHOOL") },
};

/* The codes of the dimensions (daemon/vocab.c) as staff say them: "pro" is
 * PrO, a destination "mbo_entree" Entree, advice not followed "zelfmelder"
 * (SPEC §10). Each is a msgid in the context of its dimension (taal and
 * rekenen share "level"); the English catalog is the codes themselves, as
 * the JSON and CSV keep them. Cohorts, institution ids and anything else
 * are shown as they come. */
struct s_word {
	const char *dim, *code;
};

static const struct s_word s_words[] = {
	NC_("program", "pro"), NC_("program", "vso_arbeid"), NC_("program", "vso_vervolg"),
	NC_("program", "vso_dagbesteding"), NC_("program", "vmbo_b"), NC_("program", "vmbo_k"),
	NC_("program", "vmbo_gt"), NC_("program", "isk"), NC_("program", "so"), NC_("program", "sbo"),
	NC_("program", "bao"), NC_("program", "havo"), NC_("program", "vwo"),
	NC_("program", "unknown"),
	NC_("destination", "mbo_entree"), NC_("destination", "mbo_2"), NC_("destination", "mbo_3_4"),
	NC_("destination", "vavo"), NC_("destination", "ho"), NC_("destination", "vo"),
	NC_("destination", "work"), NC_("destination", "day_care"), NC_("destination", "none"),
	NC_("destination", "unknown"),
	NC_("advice", "entree"), NC_("advice", "mbo_2"), NC_("advice", "mbo_3_4"),
	NC_("advice", "vavo"), NC_("advice", "ho"), NC_("advice", "vo"), NC_("advice", "work"),
	NC_("advice", "day_care"), NC_("advice", "none"),
	NC_("followed", "yes"), NC_("followed", "no"), NC_("followed", "unknown"),
	NC_("level", "none"), NC_("level", "unknown"),
	NC_("institution", "none"),
	NC_("school", "none"),
	NC_("previous", "no_dossier"),
};

/* The shares the charts draw, in this order, each told apart by colour and, for
 * print in grey, by its text label (bars) or dash pattern and marker (lines).
 * Every colour has a contrast of at least 4.5:1 on white. */
static const struct s_series {
	const char *measure;
	const char *colour;
	const char *dash;	/* stroke-dasharray, "" = solid */
	int marker;		/* shape, see s_svg_marker */
} s_series[] = {
	{ "handed_over", "#1f4e99", "", 0 },
	{ "started", "#1b7a3a", "8 4", 1 },
	{ "bestendig", "#6a3d9a", "2 3", 2 },
	{ "diploma", "#a35200", "10 3 2 3", 3 },
	{ "left_without_diploma", "#b3141f", "4 2", 4 },
	{ "enrolled", "#00707a", "", 1 },	/* the receiving side's */
	{ "covered", "#8a2f6e", "8 4", 0 },
	{ "intake_held", "#4d4d4d", "2 3", 3 },
};

/* --- shared --- */

static const char *s_s(const char *s) { return s ? s : ""; }

static int s_done(FILE *f) { return fflush(f) != 0 || ferror(f) ? -EIO : 0; }

static unsigned s_min_cell(const Overstapctl__Report *r)
{
	return r->min_cell ? r->min_cell : S_MIN_CELL;
}

static const struct s_measure *s_measure_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(s_measures); i++)
		if (strcmp(s_measures[i].name, s_s(name)) == 0)
			return &s_measures[i];
	return NULL;
}

static const char *s_measure_label(const char *name)
{
	const struct s_measure *m = s_measure_find(name);

	return m ? _(m->label) : s_s(name);
}

static const char *s_dim_label(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(s_dims); i++)
		if (strcmp(s_dims[i].name, s_s(name)) == 0)
			return _(s_dims[i].label);
	return s_s(name);
}

/* A text table's column head: the catalog's, or an unknown name in upper
 * case (ASCII only: names are identifiers). */
static const char *s_head(const char *head, const char *name, char *buf, size_t len)
{
	size_t i = 0;

	if (head)
		return _(head);
	for (; *name && i + 1 < len; name++)
		buf[i++] = (char)((unsigned char)*name < 0x80 ? toupper((unsigned char)*name) : *name);
	buf[i] = '\0';
	return buf;
}

static const char *s_measure_head(const char *name, char *buf, size_t len)
{
	const struct s_measure *m = s_measure_find(name);

	return s_head(m ? m->head : NULL, s_s(name), buf, len);
}

static const char *s_dim_head(const char *name, char *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(s_dims); i++)
		if (strcmp(s_dims[i].name, s_s(name)) == 0)
			return s_head(s_dims[i].head, name, buf, len);
	return s_head(NULL, s_s(name), buf, len);
}

/* The code list a dimension's values come from. */
static const char *s_word_list(const char *dim)
{
	return strcmp(dim, "taal") == 0 || strcmp(dim, "rekenen") == 0 ? "level" : dim;
}

static const char *s_word(const char *list, const char *code)
{
	for (size_t i = 0; i < ARRAY_SIZE(s_words); i++)
		if (strcmp(s_words[i].dim, list) == 0 && strcmp(s_words[i].code, code) == 0)
			return i18n_pgettext(list, code);
	return NULL;
}

/* The value key of dimension dim as staff say it (s_words); buf holds a
 * previous education's program with its diploma ("vmbo_b_no_diploma"). */
static const char *s_key_label(const char *dim, const char *key, char *buf, size_t len)
{
	static const char *const suffix[] = { "_no_diploma", "_diploma" };
	const char *list = s_word_list(s_s(dim)), *w;
	size_t n = strlen(s_s(key));

	if ((w = s_word(list, s_s(key))))
		return w;
	if (strcmp(list, "previous") != 0)
		return s_s(key);
	if ((w = s_word("program", key)))	/* a program that tells no diploma */
		return w;
	for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
		size_t k = strlen(suffix[i]);
		char prog[64];

		if (n <= k || n - k >= sizeof(prog) || strcmp(key + n - k, suffix[i]) != 0)
			continue;
		memcpy(prog, key, n - k);
		prog[n - k] = '\0';
		w = s_word("program", prog);
		/* TRANSLATORS: %s is a program (PrO, VSO, vmbo-basis ...); the
		 * English keeps the code as the JSON has it. */
		snprintf(buf, len, i ? i18n_pgettext("previous", "%s_diploma")
				     : i18n_pgettext("previous", "%s_no_diploma"), w ? w : prog);
		return buf;
	}
	return s_s(key);
}

/* The cell of measure m (an index into t->measures) in row, or NULL. Cells
 * come in the table's order; a row that does not keep to it is searched. */
static const Overstapctl__ReportCell *s_cell_at(const Overstapctl__ReportTable *t,
						const Overstapctl__ReportRow *row, size_t m)
{
	const char *name = s_s(t->measures[m]);

	if (m < row->n_cells && row->cells[m] && strcmp(s_s(row->cells[m]->measure), name) == 0)
		return row->cells[m];
	for (size_t i = 0; i < row->n_cells; i++)
		if (row->cells[i] && strcmp(s_s(row->cells[i]->measure), name) == 0)
			return row->cells[i];
	return NULL;
}

/* A count as people read it: the display text when suppressed (never the
 * value), else the number; "-" when there is no count. */
static const char *s_count_text(const Overstapctl__ReportCount *c, char buf[S_NUM_LEN])
{
	if (!c)
		return "-";
	if (c->suppressed)
		return *s_s(c->display) ? c->display : S_HIDDEN;
	snprintf(buf, S_NUM_LEN, "%llu", (unsigned long long)c->value);
	return buf;
}

static int s_has_rate(const Overstapctl__ReportCell *c)
{
	return c && c->rate && *s_s(c->denominator);
}

static int s_rate_ok(double v) { return isfinite(v) && v >= 0 && v <= 1; }

/* A rate as people read it: "85%", "-", or whatever display text a daemon sent
 * (older ones sent ranges such as "<25%"); NULL when
 * the measure is not a share of anything. The daemon's display wins. */
static const char *s_rate_text(const Overstapctl__ReportCell *c, char buf[S_NUM_LEN])
{
	const Overstapctl__ReportRate *rt;

	if (!s_has_rate(c))
		return NULL;
	rt = c->rate;
	if (rt->suppressed)
		return *s_s(rt->display) ? rt->display : S_HIDDEN;
	if (*s_s(rt->display))
		return rt->display;
	if (!s_rate_ok(rt->value))
		return "-";
	snprintf(buf, S_NUM_LEN, "%d%%", (int)(rt->value * 100 + 0.5));
	return buf;
}

/* The share to draw, 0..1, in *v: 1 when there is one (not suppressed, not
 * "-"), else 0. */
static int s_rate_value(const Overstapctl__ReportCell *c, double *v)
{
	if (!s_has_rate(c) || c->rate->suppressed || strcmp(s_s(c->rate->display), "-") == 0 ||
	    !s_rate_ok(c->rate->value))
		return 0;
	*v = c->rate->value;
	return 1;
}

/* The denominator's name of measure m in table t, from the first row that
 * states one, or "". */
static const char *s_denominator(const Overstapctl__ReportTable *t, size_t m)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		const Overstapctl__ReportCell *c = t->rows[i] ? s_cell_at(t, t->rows[i], m) : NULL;
		if (c && *s_s(c->denominator))
			return c->denominator;
	}
	return "";
}

static const char *s_title(const Overstapctl__Report *r)
{
	if (strcmp(s_s(r->side), "receiving") == 0)
		return _("Intake report");
	if (strcmp(s_s(r->side), "sending") == 0)
		return _("Outflow report");
	return _("Report");
}

static const char *s_side_text(const Overstapctl__Report *r)
{
	if (strcmp(s_s(r->side), "receiving") == 0)
		return _("receiving: the intake from sending schools and how those pupils fare");
	if (strcmp(s_s(r->side), "sending") == 0)
		return _("sending: this school's leavers and how they fare");
	return s_s(r->side);
}

/* A table's title: the daemon sends English ones (daemon/report.c
 * s_tables_out); those it is known to send are msgids here, anything else is
 * shown as it came. */
static const char *const s_titles[] = {
	N_("Breakdown"), N_("By previous education"), N_("By program left"),
	N_("By destination type"), N_("Trend over cohorts"),
};

static const char *s_table_title(const Overstapctl__ReportTable *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(s_titles); i++)
		if (strcmp(s_titles[i], s_s(t->title)) == 0)
			return _(s_titles[i]);
	return s_s(t->title);
}

/* The reference date rule: the daemon's English sentence, in the report's
 * language when it is the one we know. */
static const char *s_reference_date(const Overstapctl__Report *r)
{
	const char *d = s_s(r->reference_date);

	if (strcmp(d, "1 October of the year the cohort ends") == 0)
		return _("1 October of the year the cohort ends");
	return *d ? d : "-";
}

/* --- text --- */

/* out_text of s as an owned string, "" staying "" (out_text writes "-" for
 * it). NULL on ENOMEM. */
static char *s_term_dup(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!*s_s(s))
		return strdup("");
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	out_text(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Columns a terminal gives s: one per UTF-8 character. */
static int s_term_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* The table as cells ready to print. out.h's table_print would do for a
 * narrow table, but this one has to wrap its measures into column groups that
 * repeat the key columns, and rule off its total row. */
struct s_grid {
	size_t nkeys;		/* key columns, first */
	size_t ncols;		/* keys, then per measure its count and, if it is a share, its rate */
	size_t nrows;		/* rows of cells, [0] being the header */
	char **cells;		/* owned, terminal-safe, row-major */
	int *width;		/* per column: its widest cell */
	size_t *group;		/* per column: 0 for the keys, else 1 + the measure's index */
	unsigned char *total;	/* per row: the table's total row */
};

static void s_grid_free(struct s_grid *g)
{
	if (g->cells)
		for (size_t i = 0; i < g->nrows * g->ncols; i++)
			free(g->cells[i]);
	free(g->cells);
	free(g->width);
	free(g->group);
	free(g->total);
	memset(g, 0, sizeof(*g));
}

/* Put an owned copy of s (made terminal-safe) in cell (row, col). */
static int s_grid_put(struct s_grid *g, size_t row, size_t col, const char *s)
{
	char *c = s_term_dup(s);
	int w;

	if (!c)
		return -ENOMEM;
	g->cells[row * g->ncols + col] = c;
	w = s_term_width(c);
	if (w > g->width[col])
		g->width[col] = w;
	return 0;
}

/* A column head (s_dim_head, s_measure_head); with share set, the head
 * of the share of it: "% OF LEAVERS". */
static int s_grid_head(struct s_grid *g, size_t col, const char *head, int share)
{
	char buf[160];

	if (!share)
		return s_grid_put(g, 0, col, head);
	/* TRANSLATORS: the head of a column of shares; %s is a column head in
	 * capitals, e.g. LEAVERS. */
	snprintf(buf, sizeof(buf), _("%% OF %s"), head);
	return s_grid_put(g, 0, col, buf);
}

/* "85% of 20" with the rate and the denominator padded to widths wr and wd,
 * so that "of" lines up in the column. */
static int s_grid_rate(struct s_grid *g, size_t row, size_t col, const char *rate,
		       int wr, const char *den, int wd)
{
	char buf[160];
	int pr = wr - s_term_width(rate), pd = wd - s_term_width(den);

	/* a negative width would pad on the right instead */
	/* TRANSLATORS: "85% of 20": the padding, the share, the padding, the
	 * count it is a share of. Keep the four conversions in this order. */
	snprintf(buf, sizeof(buf), _("%*s%s of %*s%s"), pr > 0 ? pr : 0, "", rate, pd > 0 ? pd : 0,
		 "", den);
	return s_grid_put(g, row, col, buf);
}

/* Widest terminal-safe rate and denominator text of measure m in t. */
static int s_rate_widths(const Overstapctl__ReportTable *t, size_t m, int *wr, int *wd)
{
	*wr = *wd = 0;
	for (size_t i = 0; i < t->n_rows; i++) {
		const Overstapctl__ReportCell *c = t->rows[i] ? s_cell_at(t, t->rows[i], m) : NULL;
		char b1[S_NUM_LEN], b2[S_NUM_LEN];
		const char *rt = s_rate_text(c, b1);
		char *x, *y;

		if (!rt || !c)
			continue;
		x = s_term_dup(rt);
		y = s_term_dup(s_count_text(c->denominator_count, b2));
		if (x && y) {
			*wr = s_term_width(x) > *wr ? s_term_width(x) : *wr;
			*wd = s_term_width(y) > *wd ? s_term_width(y) : *wd;
		}
		free(x);
		free(y);
		if (!x || !y)
			return -ENOMEM;
	}
	return 0;
}

/* One data row into grid row gr: keys (or "total"), then the measures. */
static int s_grid_row(struct s_grid *g, size_t gr, const Overstapctl__ReportTable *t,
		      const Overstapctl__ReportRow *row, const int *wr, const int *wd)
{
	size_t col = 0;
	int r = 0;

	g->total[gr] = row->total != 0;
	for (size_t k = 0; k < g->nkeys && r == 0; k++, col++) {
		char kb[128];
		const char *key = k < row->n_keys ? s_key_label(k < t->n_dimensions ? t->dimensions[k]
									 : "", row->keys[k], kb, sizeof(kb))
						  : "";
		if (row->total)
			key = k == 0 ? _("total") : "";
		r = s_grid_put(g, gr, col, key);
	}
	for (size_t m = 0; m < t->n_measures && r == 0; m++) {
		const Overstapctl__ReportCell *c = s_cell_at(t, row, m);
		char b1[S_NUM_LEN], b2[S_NUM_LEN];

		r = s_grid_put(g, gr, col++, s_count_text(c ? c->count : NULL, b1));
		if (r == 0 && wr[m] >= 0) {
			const char *rt = s_rate_text(c, b1);
			r = rt && c ? s_grid_rate(g, gr, col, rt, wr[m],
						  s_count_text(c->denominator_count, b2), wd[m])
				    : s_grid_put(g, gr, col, "-");
			col++;
		}
	}
	return r;
}

/* Columns and header of the grid; wr[m] is -1 for a measure without a rate. */
static int s_grid_layout(struct s_grid *g, const Overstapctl__ReportTable *t, int *wr, int *wd)
{
	size_t col = 0;
	int r = 0;

	g->nkeys = t->n_dimensions ? t->n_dimensions : 1;
	g->ncols = g->nkeys;
	for (size_t m = 0; m < t->n_measures && r == 0; m++) {
		const char *den = s_denominator(t, m);
		r = s_rate_widths(t, m, &wr[m], &wd[m]);
		if (!*den)
			wr[m] = -1;
		g->ncols += *den ? 2 : 1;
	}
	g->nrows = 1 + t->n_rows;
	g->cells = r ? NULL : calloc(g->nrows * g->ncols, sizeof(*g->cells));
	g->width = calloc(g->ncols, sizeof(*g->width));
	g->group = calloc(g->ncols, sizeof(*g->group));
	g->total = calloc(g->nrows, sizeof(*g->total));
	if (r || !g->cells || !g->width || !g->group || !g->total)
		return -ENOMEM;
	for (size_t k = 0; k < g->nkeys && r == 0; k++, col++) {
		char hb[128];
		r = s_grid_head(g, col, t->n_dimensions ? s_dim_head(t->dimensions[k], hb, sizeof(hb))
							: _("GROUP"), 0);
	}
	for (size_t m = 0; m < t->n_measures && r == 0; m++) {
		char hb[128];

		g->group[col] = m + 1;
		r = s_grid_head(g, col++, s_measure_head(t->measures[m], hb, sizeof(hb)), 0);
		if (r == 0 && wr[m] >= 0) {
			g->group[col] = m + 1;
			r = s_grid_head(g, col++, s_measure_head(s_denominator(t, m), hb, sizeof(hb)), 1);
		}
	}
	return r;
}

static int s_grid_build(struct s_grid *g, const Overstapctl__ReportTable *t)
{
	int *wr = calloc(t->n_measures + 1, sizeof(*wr));
	int *wd = calloc(t->n_measures + 1, sizeof(*wd));
	int r = wr && wd ? s_grid_layout(g, t, wr, wd) : -ENOMEM;

	for (size_t i = 0; i < t->n_rows && r == 0; i++)
		r = t->rows[i] ? s_grid_row(g, i + 1, t, t->rows[i], wr, wd) : -EINVAL;
	/* every cell filled, so printing never meets a NULL */
	for (size_t i = 0; i < g->nrows * g->ncols && r == 0; i++)
		if (!g->cells[i])
			r = s_grid_put(g, i / g->ncols, i % g->ncols, "");
	free(wr);
	free(wd);
	return r;
}

static void s_grid_line(FILE *f, const struct s_grid *g, size_t row, const size_t *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = g->cells[row * g->ncols + cols[i]];
		int pad = g->width[cols[i]] - s_term_width(s);

		if (i)
			fputs("  ", f);
		if (cols[i] >= g->nkeys)	/* numbers: right-aligned */
			fprintf(f, "%*s%s", pad, "", s);
		else if (i + 1 < n)
			fprintf(f, "%s%*s", s, pad, "");
		else
			fputs(s, f);
	}
	fputc('\n', f);
}

/* The columns cols[0..n) of every row, a rule above the total row. */
static void s_grid_chunk(FILE *f, const struct s_grid *g, const size_t *cols, size_t n)
{
	int width = 0;

	for (size_t i = 0; i < n; i++)
		width += g->width[cols[i]] + (i ? 2 : 0);
	for (size_t row = 0; row < g->nrows; row++) {
		if (row > 1 && g->total[row] && !g->total[row - 1]) {
			for (int i = 0; i < width; i++)
				fputc('-', f);
			fputc('\n', f);
		}
		s_grid_line(f, g, row, cols, n);
	}
}

/* The grid in column groups no wider than REPORT_TEXT_WIDTH (at least one
 * measure each), every group with the key columns first. */
static int s_grid_print(FILE *f, const struct s_grid *g)
{
	size_t *cols = calloc(g->ncols, sizeof(*cols));
	size_t c = g->nkeys;

	if (!cols)
		return -ENOMEM;
	do {
		size_t n = 0, start = c;
		int w = -2;

		for (size_t k = 0; k < g->nkeys; k++, n++) {
			cols[n] = k;
			w += g->width[k] + 2;
		}
		while (c < g->ncols) {
			size_t e = c;
			int gw = 0;

			for (; e < g->ncols && g->group[e] == g->group[c]; e++)
				gw += g->width[e] + 2;
			if (c > start && w + gw > REPORT_TEXT_WIDTH)
				break;
			for (; c < e; c++)
				cols[n++] = c;
			w += gw;
		}
		if (start > g->nkeys)
			fputc('\n', f);
		s_grid_chunk(f, g, cols, n);
	} while (c < g->ncols);
	free(cols);
	return 0;
}

static void s_label(FILE *f, const char *label) { fprintf(f, "%-*s  ", S_LABEL_WIDTH, label); }

static void s_text_header(FILE *f, const Overstapctl__Report *r)
{
	char when[OUT_TIME_LEN];

	fprintf(f, "%s\n\n", s_title(r));
	s_label(f, _("institution"));
	out_text(f, *s_s(r->institution_name) ? r->institution_name : r->institution);
	if (*s_s(r->institution_name)) {
		fputs(" (", f);
		out_text(f, r->institution);
		fputc(')', f);
	}
	fputc('\n', f);
	out_field(f, "", _("side"), s_side_text(r));
	s_label(f, _("cohorts"));
	for (size_t i = 0; i < r->n_cohorts; i++) {
		fputs(i ? ", " : "", f);
		out_text(f, r->cohorts[i]);
	}
	fputs(r->n_cohorts ? "\n" : "-\n", f);
	s_label(f, _("min_cell"));
	fprintf(f, _("%u (smaller counts are shown as <%u)\n"), s_min_cell(r), s_min_cell(r));
	out_field(f, "", _("generated at"), out_time(r->generated_at, when, "-"));
	out_field(f, "", _("reference date"), s_reference_date(r));
}

static void s_text_legend(FILE *f, const Overstapctl__Report *r)
{
	unsigned k = s_min_cell(r);

	fprintf(f,
		_("\n\"85%% of 20\": 85%% of the 20 pupils counted in the measure the column names.\n"
		"<%u: fewer than %u pupils. Small numbers are hidden to protect the pupils, and so\n"
		"is any number (x) from which a hidden one could be worked out, in this report or\n"
		"by putting it next to another. A share over a hidden number is hidden too (-).\n"),
		k, k);
}

int report_write_text(FILE *f, const Overstapctl__Report *r)
{
	const Overstapctl__ReportTable *t = r->n_tables ? r->tables[0] : NULL;
	struct s_grid g = { 0 };
	int rc = 0;

	s_text_header(f, r);
	if (!t) {
		fputs(_("\nno table in this report\n"), f);
		return s_done(f);
	}
	if (*s_table_title(t)) {
		fputc('\n', f);
		out_text(f, s_table_title(t));
	}
	fputs("\n\n", f);
	rc = s_grid_build(&g, t);
	if (rc == 0)
		rc = s_grid_print(f, &g);
	s_grid_free(&g);
	if (rc < 0)
		return rc;
	s_text_legend(f, r);
	return s_done(f);
}

/* --- CSV --- */

/* The two dialects (design.md §6.5): what a Dutch spreadsheet opens as it
 * stands (Excel and LibreOffice in a Dutch locale split on `;`, read a
 * decimal comma, and take the file as UTF-8 only with a BOM), and RFC 4180
 * for programs. Both end records with CRLF, as RFC 4180 says. */
static const struct {
	const char *name;
	char sep, decimal;
	int bom;
} s_dialects[] = {
	[REPORT_CSV_EXCEL_NL] = { "excel-nl", ';', ',', 1 },
	[REPORT_CSV_RFC4180] = { "rfc4180", ',', '.', 0 },
};

int report_csv_dialect_parse(const char *s, enum report_csv_dialect *d)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(s_dialects); i++)
		if (strcmp(s, s_dialects[i].name) == 0) {
			*d = (enum report_csv_dialect)i;
			return 0;
		}
	return -EINVAL;
}

/* One RFC 4180 field, after the separator sep unless first. A field a
 * spreadsheet would take for a formula gets a leading apostrophe (OWASP's CSV
 * injection advice: = + - @ and a leading tab or CR). */
void report_csv_field(FILE *f, const char *s, int first, char sep)
{
	const char specials[] = { sep, '"', '\r', '\n', '\0' };
	int quote = strpbrk(s_s(s), specials) != NULL;
	int formula = s && s[0] && strchr("=+-@\t\r", s[0]) != NULL;

	if (!first)
		fputc(sep, f);
	if (quote)
		fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (const char *p = s_s(s); *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	if (quote)
		fputc('"', f);
}

static void s_csv_header(FILE *f, const Overstapctl__ReportTable *t, char sep)
{
	char name[256];

	for (size_t k = 0; k < t->n_dimensions; k++)
		report_csv_field(f, t->dimensions[k], k == 0, sep);
	if (t->n_dimensions == 0)
		report_csv_field(f, "group", 1, sep);
	for (size_t m = 0; m < t->n_measures; m++) {
		report_csv_field(f, t->measures[m], 0, sep);
		snprintf(name, sizeof(name), "%s_rate", s_s(t->measures[m]));
		report_csv_field(f, name, 0, sep);
		snprintf(name, sizeof(name), "%s_denominator", s_s(t->measures[m]));
		report_csv_field(f, name, 0, sep);
	}
	fputs("\r\n", f);
}

/* A rate as a spreadsheet takes it for a number: the share 0..1 with at most
 * four decimals (as in JSON), in the dialect's decimal mark, so that a
 * column can be summed, charted or formatted as a percentage. What cannot be
 * shown is empty ("-" alone reads as a formula); a withheld rate's display
 * text from an older daemon ("<25%") stays text. */
static const char *s_csv_rate(const Overstapctl__ReportCell *c, char decimal, char buf[S_NUM_LEN])
{
	const Overstapctl__ReportRate *rt;
	long bp;
	size_t n;

	if (!s_has_rate(c))
		return "";
	rt = c->rate;
	if (rt->suppressed)
		return strcmp(s_s(rt->display), "-") == 0 ? "" : s_s(rt->display);
	if (!s_rate_ok(rt->value))	/* the display ("94%") is for people, the value for sums */
		return "";
	bp = (long)(rt->value * 10000 + 0.5);
	snprintf(buf, S_NUM_LEN, "%ld%c%04ld", bp / 10000, decimal, bp % 10000);
	n = strlen(buf);
	while (buf[n - 1] == '0')	/* 0,8500 -> 0,85; 1,0000 -> 1 */
		buf[--n] = '\0';
	if (buf[n - 1] == decimal)
		buf[--n] = '\0';
	return buf;
}

static void s_csv_row(FILE *f, const Overstapctl__ReportTable *t, const Overstapctl__ReportRow *row,
		      char sep, char decimal)
{
	size_t nkeys = t->n_dimensions ? t->n_dimensions : 1;

	for (size_t k = 0; k < nkeys; k++)
		report_csv_field(f, row->total ? "total" : k < row->n_keys ? row->keys[k] : "", k == 0,
				 sep);
	for (size_t m = 0; m < t->n_measures; m++) {
		const Overstapctl__ReportCell *c = s_cell_at(t, row, m);
		char b1[S_NUM_LEN], b2[S_NUM_LEN], b3[S_NUM_LEN];
		const char *rt = s_csv_rate(c, decimal, b1);

		report_csv_field(f, c && c->count ? s_count_text(c->count, b2) : "", 0, sep);
		report_csv_field(f, rt, 0, sep);
		report_csv_field(f, *rt && c && c->denominator_count
				       ? s_count_text(c->denominator_count, b3) : "", 0, sep);
	}
	fputs("\r\n", f);
}

int report_write_csv(FILE *f, const Overstapctl__Report *r, enum report_csv_dialect d)
{
	const Overstapctl__ReportTable *t = r->n_tables ? r->tables[0] : NULL;
	char sep = s_dialects[d].sep, decimal = s_dialects[d].decimal;

	if (s_dialects[d].bom)
		fputs("\xEF\xBB\xBF", f);	/* Excel reads UTF-8 only with it */
	if (t) {
		s_csv_header(f, t, sep);
		for (size_t i = 0; i < t->n_rows; i++)
			if (t->rows[i])
				s_csv_row(f, t, t->rows[i], sep, decimal);
	}
	return s_done(f);
}

/* --- JSON --- */

/* Significant digits of a rate below 1 with four decimals: 0.0001 .. 0.9999. */
#define S_RATE_DIGITS 4

/* A rate 0..1 with at most four decimals: 0 and 1 are the integers they
 * always were, the rest a real that report_write_json prints with four
 * significant digits (jansson's number text ignores the locale). */
static json_t *s_rate_json(double v)
{
	long bp = (long)(v * 10000 + 0.5);

	if (bp <= 0)
		return json_integer(0);
	if (bp >= 10000)
		return json_integer(1);
	return json_real((double)bp / 10000);
}

static json_t *s_json_hidden(const char *display)
{
	json_t *o = json_object();
	int e = 0;

	e |= out_json_set(o, "suppressed", json_true());
	e |= out_json_set_str(o, "display", *s_s(display) ? display : S_HIDDEN);
	return out_json_done(o, e);
}

/* A count: the number, {"suppressed": true, "display": "<5"}, or null. */
static json_t *s_json_count(const Overstapctl__ReportCount *c)
{
	if (!c)
		return json_null();
	if (c->suppressed)
		return s_json_hidden(c->display);
	return out_json_uint(c->value);
}

static json_t *s_json_rate(const Overstapctl__ReportCell *c)
{
	int share = s_has_rate(c);

	if (share && c->rate->suppressed)
		return s_json_hidden(c->rate->display);
	if (share && strcmp(s_s(c->rate->display), "-") != 0 && s_rate_ok(c->rate->value))
		return s_rate_json(c->rate->value);
	return json_null();
}

static json_t *s_json_cell(const Overstapctl__ReportCell *c)
{
	json_t *o;
	int e = 0;

	if (!c)
		return json_null();
	o = json_object();
	e |= out_json_set(o, "count", s_json_count(c->count));
	e |= out_json_set_str(o, "denominator", *s_s(c->denominator) ? c->denominator : NULL);
	e |= out_json_set(o, "denominator_count",
			  *s_s(c->denominator) ? s_json_count(c->denominator_count) : json_null());
	e |= out_json_set(o, "rate", s_json_rate(c));
	return out_json_done(o, e);
}

static json_t *s_json_row(const Overstapctl__ReportTable *t, const Overstapctl__ReportRow *row)
{
	json_t *o = json_object(), *keys = json_object(), *cells = json_object();
	int e = 0;

	for (size_t k = 0; k < row->n_keys && k < t->n_dimensions && !row->total; k++)
		e |= out_json_set_str(keys, s_s(t->dimensions[k]), s_s(row->keys[k]));
	e |= out_json_set(o, "keys", keys);
	e |= out_json_set(o, "total", json_boolean(row->total));
	for (size_t m = 0; m < t->n_measures; m++)
		e |= out_json_set(cells, s_s(t->measures[m]), s_json_cell(s_cell_at(t, row, m)));
	e |= out_json_set(o, "cells", cells);
	return out_json_done(o, e);
}

static json_t *s_json_strings(char *const *v, size_t n)
{
	json_t *a = json_array();
	int e = 0;

	for (size_t i = 0; i < n; i++)
		e |= out_json_append(a, out_json_str(s_s(v[i])));
	return out_json_done(a, e);
}

static json_t *s_json_table(const Overstapctl__ReportTable *t)
{
	json_t *o = json_object(), *rows = json_array();
	int e = 0;

	e |= out_json_set_str(o, "name", s_s(t->name));
	e |= out_json_set_str(o, "title", s_s(t->title));
	e |= out_json_set(o, "dimensions", s_json_strings(t->dimensions, t->n_dimensions));
	e |= out_json_set(o, "measures", s_json_strings(t->measures, t->n_measures));
	for (size_t i = 0; i < t->n_rows; i++)
		if (t->rows[i])
			e |= out_json_append(rows, s_json_row(t, t->rows[i]));
	e |= out_json_set(o, "rows", rows);
	return out_json_done(o, e);
}

static json_t *s_json_report(const Overstapctl__Report *r)
{
	json_t *o = json_object(), *tables = json_array();
	char at[21];
	int e = 0;

	e |= out_json_set_str(o, "schema", REPORT_JSON_SCHEMA);
	e |= out_json_set_int(o, "schema_version", REPORT_JSON_VERSION);
	e |= out_json_set_str(o, "side", s_s(r->side));
	e |= out_json_set_str(o, "institution", s_s(r->institution));
	e |= out_json_set_str(o, "institution_name", s_s(r->institution_name));
	e |= out_json_set(o, "cohorts", s_json_strings(r->cohorts, r->n_cohorts));
	e |= out_json_set_int(o, "min_cell", s_min_cell(r));
	time_format_utc(r->generated_at, at);
	e |= out_json_set_str(o, "generated_at", r->generated_at > 0 ? at : NULL);
	e |= out_json_set_str(o, "reference_date", s_s(r->reference_date));
	for (size_t i = 0; i < r->n_tables; i++)
		if (r->tables[i])
			e |= out_json_append(tables, s_json_table(r->tables[i]));
	e |= out_json_set(o, "tables", tables);
	return out_json_done(o, e);
}

int report_write_json(FILE *f, const Overstapctl__Report *r)
{
	json_t *doc = s_json_report(r);
	int err = out_json_print(f, &doc, JSON_REAL_PRECISION(S_RATE_DIGITS));

	return err < 0 ? err : s_done(f);
}

/* --- HTML --- */

/* Text for HTML, in content and in attribute values alike: & < > " ' as
 * references; control characters and bytes that are not UTF-8 as U+FFFD. */
static void s_html(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s_s(s);
	int utf8 = out_utf8_valid((const char *)p);

	for (; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7F ||
			    (*p >= 0x80 && !utf8)) {
				fputs("&#xFFFD;", f);
			} else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
				fputs("&#xFFFD;", f);	/* C1 control */
				p++;
			} else {
				fputc(*p, f);
			}
		}
	}
}

/* Everything the page looks like. It fetches nothing: system fonts, no url(),
 * and the Content-Security-Policy forbids loading anything should a viewer
 * find something to load. */
static const char s_css[] =
	"body{font-family:system-ui,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif;"
	"color:#1a1a1a;background:#fff;margin:2rem auto;max-width:72rem;padding:0 1rem;"
	"line-height:1.45}\n"
	"h1{font-size:1.5rem;margin-bottom:.25rem}\n"
	"h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #888}\n"
	"dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem}\n"
	"dl.meta dt{font-weight:600}\ndl dd{margin:0 0 .3rem 0}\n"
	"dl.measures dt{font-weight:600}\n"
	".wrap{overflow-x:auto}\n"
	"table{border-collapse:collapse;font-variant-numeric:tabular-nums}\n"
	"caption{text-align:left;font-weight:600;padding:.3rem 0}\n"
	"th,td{border:1px solid #aaa;padding:.25rem .5rem;vertical-align:top}\n"
	"thead th{background:#e8edf3;text-align:center}\n"
	"td.n{text-align:right;white-space:nowrap}\n"
	".of{color:#444;font-size:.85em}\n"
	".hidden{font-style:italic}\n"
	"tfoot th,tfoot td{font-weight:700;border-top:2px solid #1a1a1a}\n"
	"tfoot th{text-align:left}\n"
	"figure{margin:1.5rem 0;break-inside:avoid}\n"
	"figcaption{font-weight:600;margin-bottom:.3rem}\n"
	"svg{max-width:100%;height:auto}\n"
	"svg text{fill:#1a1a1a;font-size:12px;font-family:inherit}\n"
	"svg .grid{stroke:#bbb;stroke-width:1}\n"
	"svg .axis{stroke:#555;stroke-width:1}\n"
	"svg .group{font-weight:700}\n"
	"svg .hid{font-style:italic}\n"
	".note{font-size:.9em}\n"
	"@media print{body{margin:0;max-width:none;font-size:10pt}.wrap{overflow:visible}"
	"h2{break-after:avoid}tr{break-inside:avoid}thead th{background:#fff}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

static void s_html_cohorts(FILE *f, const Overstapctl__Report *r)
{
	for (size_t i = 0; i < r->n_cohorts; i++) {
		fputs(i ? ", " : "", f);
		s_html(f, r->cohorts[i]);
	}
	if (!r->n_cohorts)
		fputs(_("every cohort held"), f);
}

static void s_html_institution(FILE *f, const Overstapctl__Report *r)
{
	s_html(f, *s_s(r->institution_name) ? r->institution_name : r->institution);
	if (*s_s(r->institution_name)) {
		fputs(" (", f);
		s_html(f, r->institution);
		fputc(')', f);
	}
}

/* Every page's head up to the title's text, and from its end to <main>. */
static void s_html_prelude(FILE *f, const char *lang)
{
	fputs("<!DOCTYPE html>\n<html lang=\"", f);
	s_html(f, lang);
	fputs("\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"overstap\">\n<title>", f);
}

static void s_html_styles(FILE *f)
{
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", s_css);
}

void report_html_text(FILE *f, const char *s) { s_html(f, s); }

void report_html_open(FILE *f, const char *lang, const char *title)
{
	s_html_prelude(f, lang);
	s_html(f, title);
	s_html_styles(f);
}

void report_html_close(FILE *f) { fputs("</main>\n</body>\n</html>\n", f); }

static void s_html_head(FILE *f, const Overstapctl__Report *r)
{
	s_html_prelude(f, i18n_lang());	/* the language it is written in (§10) */
	fprintf(f, "%s: ", s_title(r));
	s_html_institution(f, r);
	fputs(_(", cohorts "), f);
	s_html_cohorts(f, r);
	s_html_styles(f);
}

static void s_html_intro(FILE *f, const Overstapctl__Report *r)
{
	char when[OUT_TIME_LEN];

	fprintf(f, "<h1>%s: ", s_title(r));
	s_html_institution(f, r);
	fprintf(f, "</h1>\n<p>%s ", _("Cohorts"));
	s_html_cohorts(f, r);
	fprintf(f, "</p>\n<dl class=\"meta\">\n<dt>%s</dt><dd>", _("Institution"));
	s_html_institution(f, r);
	fprintf(f, "</dd>\n<dt>%s</dt><dd>", _("Side"));
	s_html(f, s_side_text(r));
	fprintf(f, "</dd>\n<dt>%s</dt><dd>", _("Cohorts"));
	s_html_cohorts(f, r);
	fprintf(f, "</dd>\n<dt>%s</dt><dd>%u</dd>\n<dt>%s</dt><dd>", _("Smallest number shown"),
		s_min_cell(r), _("Generated at"));
	s_html(f, out_time(r->generated_at, when, "-"));
	fprintf(f, "</dd>\n<dt>%s</dt><dd>", _("Reference date"));
	s_html(f, s_reference_date(r));
	fputs("</dd>\n</dl>\n", f);
}

/* True when measure m of table ti is the first of its name in the report. */
static int s_measure_first(const Overstapctl__Report *r, size_t ti, size_t m)
{
	const char *name = s_s(r->tables[ti]->measures[m]);

	for (size_t i = 0; i <= ti; i++) {
		const Overstapctl__ReportTable *t = r->tables[i];
		size_t end = i == ti ? m : t ? t->n_measures : 0;
		for (size_t k = 0; k < end; k++)
			if (strcmp(s_s(t->measures[k]), name) == 0)
				return 0;
	}
	return 1;
}

/* One <dt>/<dd> per measure in the report, with what it is a share of. */
static void s_html_measures(FILE *f, const Overstapctl__Report *r)
{
	fputs("<dl class=\"measures\">\n", f);
	for (size_t ti = 0; ti < r->n_tables; ti++) {
		const Overstapctl__ReportTable *t = r->tables[ti];
		for (size_t m = 0; t && m < t->n_measures; m++) {
			const char *den = s_denominator(t, m);

			if (!s_measure_first(r, ti, m))
				continue;
			fputs("<dt>", f);
			s_html(f, s_measure_label(t->measures[m]));
			fputs("</dt><dd>", f);
			for (size_t i = 0; i < ARRAY_SIZE(s_measures); i++)
				if (strcmp(s_measures[i].name, s_s(t->measures[m])) == 0) {
					s_html(f, _(s_measures[i].explain));
					fputs(*den ? ". " : ".", f);
				}
			if (*den) {
				fprintf(f, "%s <em>", _("Shown as a share of"));
				s_html(f, s_measure_label(den));
				fputs("</em>.", f);
			}
			fputs("</dd>\n", f);
		}
	}
	fputs("</dl>\n", f);
}

static void s_html_explain(FILE *f, const Overstapctl__Report *r)
{
	unsigned k = s_min_cell(r);

	fprintf(f, "<section>\n<h2>%s</h2>\n<p>", _("How to read this report"));
	/* xgettext:no-c-format */
	fputs(_("Each row is a group of pupils; the last row counts every group together. "
		"A share is a number divided by the number it is a share of, and the table says "
		"which that is: &#8220;85% of 20 leavers&#8221; means 17 of those 20 pupils."), f);
	fputs("</p>\n", f);
	fprintf(f,
		_("<p><strong>&lt;%u</strong> means fewer than %u pupils. Such small numbers are "
		"hidden to protect the pupils: with so few, a reader could tell who is meant. "
		"Numbers from which a hidden one could be worked out, in this report or by "
		"putting it next to another, are hidden too (<strong>x</strong>). A share over a "
		"hidden number is hidden (&#8220;-&#8221;). Charts draw no bar or point for a hidden "
		"share and say so instead.</p>\n"),
		k, k);
	s_html_measures(f, r);
	fputs("</section>\n", f);
}

/* A count for a table cell; a hidden one in italics with a tooltip. */
static void s_html_count(FILE *f, const Overstapctl__ReportCount *c, const char *cls)
{
	char b[S_NUM_LEN];

	if (c && c->suppressed)
		fprintf(f, "<%s class=\"hidden\" title=\"%s\">", cls, _("hidden: too few pupils"));
	else
		fprintf(f, "<%s>", cls);
	s_html(f, s_count_text(c, b));
	fprintf(f, "</%s>", cls);
}

static void s_html_cells(FILE *f, const Overstapctl__ReportTable *t,
			 const Overstapctl__ReportRow *row)
{
	for (size_t m = 0; m < t->n_measures; m++) {
		const Overstapctl__ReportCell *c = s_cell_at(t, row, m);
		const char *den = s_denominator(t, m);
		char b[S_NUM_LEN];
		const char *rt = s_rate_text(c, b);

		fputs("<td class=\"n\">", f);
		s_html_count(f, c ? c->count : NULL, "span");
		fputs("</td>", f);
		if (!*den)
			continue;
		fputs("<td class=\"n\">", f);
		if (rt) {
			fprintf(f, "<span%s>", c->rate->suppressed ? " class=\"hidden\"" : "");
			s_html(f, rt);
			fprintf(f, "</span> <span class=\"of\">%s ", _("of"));
			s_html_count(f, c->denominator_count, "span");
			fputc(' ', f);
			s_html(f, s_measure_label(c->denominator));
			fputs("</span>", f);
		} else {
			fputc('-', f);
		}
		fputs("</td>", f);
	}
}

static void s_html_thead(FILE *f, const Overstapctl__ReportTable *t)
{
	fputs("<thead>\n<tr>", f);
	for (size_t k = 0; k < t->n_dimensions; k++) {
		fputs("<th scope=\"col\" rowspan=\"2\">", f);
		s_html(f, s_dim_label(t->dimensions[k]));
		fputs("</th>", f);
	}
	if (!t->n_dimensions)
		fprintf(f, "<th scope=\"col\" rowspan=\"2\">%s</th>", _("group"));
	for (size_t m = 0; m < t->n_measures; m++) {
		if (*s_denominator(t, m))
			fputs("<th scope=\"colgroup\" colspan=\"2\">", f);
		else
			fputs("<th scope=\"col\" rowspan=\"2\">", f);
		s_html(f, s_measure_label(t->measures[m]));
		fputs("</th>", f);
	}
	fputs("</tr>\n<tr>", f);
	for (size_t m = 0; m < t->n_measures; m++)
		if (*s_denominator(t, m))
			fprintf(f, "<th scope=\"col\">%s</th><th scope=\"col\">%s</th>", _("number"),
				_("share"));
	fputs("</tr>\n</thead>\n", f);
}

/* Rows with total set (or not), keys first. */
static void s_html_rows(FILE *f, const Overstapctl__ReportTable *t, int total)
{
	size_t nkeys = t->n_dimensions ? t->n_dimensions : 1;

	for (size_t i = 0; i < t->n_rows; i++) {
		const Overstapctl__ReportRow *row = t->rows[i];

		if (!row || !row->total != !total)
			continue;
		fputs("<tr>", f);
		if (total) {
			fprintf(f, "<th scope=\"row\" colspan=\"%zu\">%s</th>", nkeys, _("total"));
		} else {
			for (size_t k = 0; k < nkeys; k++) {
				char kb[128];

				fputs(k ? "<td>" : "<th scope=\"row\">", f);
				s_html(f, k < row->n_keys ? s_key_label(k < t->n_dimensions ? t->dimensions[k]
										: "", row->keys[k], kb,
									sizeof(kb))
							  : "");
				fputs(k ? "</td>" : "</th>", f);
			}
		}
		s_html_cells(f, t, row);
		fputs("</tr>\n", f);
	}
}

static void s_html_table(FILE *f, const Overstapctl__ReportTable *t)
{
	fputs("<section>\n<h2>", f);
	s_html(f, *s_table_title(t) ? s_table_title(t) : _("The figures"));
	fputs("</h2>\n<div class=\"wrap\">\n<table>\n", f);
	s_html_thead(f, t);
	fputs("<tbody>\n", f);
	s_html_rows(f, t, 0);
	fputs("</tbody>\n<tfoot>\n", f);
	s_html_rows(f, t, 1);
	fputs("</tfoot>\n</table>\n</div>\n</section>\n", f);
}

/* --- SVG charts --- */

#define BAR_LABEL_W 170		/* measure labels left of the bars */
#define BAR_W 420		/* a bar of 100% */
#define BAR_CHART_W (BAR_LABEL_W + BAR_W + 110)
#define BAR_ROW_H 18
#define BAR_GROUP_H 22		/* the group's name above its bars */

#define LINE_LEFT 52
#define LINE_RIGHT 40
#define LINE_TOP 16
#define LINE_PLOT_H 220
#define LINE_CHART_W 700
#define LINE_MAX_POINTS 40	/* cohorts drawn (the first 40): plenty for a trend */

/* Which of s_series table t has: their indices into t->measures in idx
 * (SIZE_MAX when absent). Returns how many it has. */
static size_t s_series_of(const Overstapctl__ReportTable *t, size_t idx[ARRAY_SIZE(s_series)])
{
	size_t n = 0;

	for (size_t s = 0; s < ARRAY_SIZE(s_series); s++) {
		idx[s] = SIZE_MAX;
		for (size_t m = 0; m < t->n_measures; m++)
			if (strcmp(s_s(t->measures[m]), s_series[s].measure) == 0) {
				idx[s] = m;
				n++;
				break;
			}
	}
	return n;
}

/* A row's keys joined by " / ", or "all groups" for the total. */
static void s_html_keys(FILE *f, const Overstapctl__ReportTable *t,
			const Overstapctl__ReportRow *row)
{
	if (row->total) {
		fputs(_("all groups"), f);
		return;
	}
	for (size_t k = 0; k < row->n_keys; k++) {
		char kb[128];

		fputs(k ? " / " : "", f);
		s_html(f, s_key_label(k < t->n_dimensions ? t->dimensions[k] : "", row->keys[k], kb,
				      sizeof(kb)));
	}
	if (!row->n_keys)
		fputs("-", f);
}

/* "pro: handed over 85% of 20" for a <title>. */
static void s_svg_tip(FILE *f, const Overstapctl__ReportTable *t, const Overstapctl__ReportRow *row,
		      const Overstapctl__ReportCell *c, const char *measure)
{
	char b1[S_NUM_LEN], b2[S_NUM_LEN];
	const char *rt = s_rate_text(c, b1);

	fputs("<title>", f);
	s_html_keys(f, t, row);
	fputs(": ", f);
	s_html(f, s_measure_label(measure));
	fputc(' ', f);
	s_html(f, rt ? rt : "-");
	if (rt && c->denominator_count) {
		fprintf(f, " %s ", _("of"));
		s_html(f, s_count_text(c->denominator_count, b2));
	}
	fputs("</title>", f);
}

static void s_svg_open(FILE *f, const char *id, int w, int h, const char *title, const char *desc)
{
	fprintf(f, "<figure>\n<figcaption id=\"%s-cap\">", id);
	s_html(f, title);
	fprintf(f, "</figcaption>\n<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		   "role=\"img\" aria-labelledby=\"%s-t %s-d\">\n<title id=\"%s-t\">",
		w, h, w, h, id, id, id);
	s_html(f, title);
	fprintf(f, "</title>\n<desc id=\"%s-d\">", id);
	s_html(f, desc);
	fputs("</desc>\n", f);
}

/* Gridlines at 0, 25, 50, 75 and 100% over the bars, labelled on top. */
static void s_svg_bar_grid(FILE *f, int h)
{
	for (int p = 0; p <= 100; p += 25) {
		int x = BAR_LABEL_W + BAR_W * p / 100;
		fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"18\" x2=\"%d\" y2=\"%d\"/>"
			   "<text x=\"%d\" y=\"12\" text-anchor=\"middle\">%d%%</text>\n",
			p ? "grid" : "axis", x, x, h - 4, x, p);
	}
}

/* One group's bars from y on; returns the y after them. */
static int s_svg_bar_group(FILE *f, const Overstapctl__ReportTable *t,
			   const Overstapctl__ReportRow *row, const size_t *idx, int y)
{
	fprintf(f, "<g>\n<text class=\"group\" x=\"0\" y=\"%d\">", y + 15);
	s_html_keys(f, t, row);
	fputs("</text>\n", f);
	y += BAR_GROUP_H;
	for (size_t s = 0; s < ARRAY_SIZE(s_series); s++) {
		const Overstapctl__ReportCell *c;
		char b[S_NUM_LEN];
		const char *rt;
		double v;

		if (idx[s] == SIZE_MAX)
			continue;
		c = s_cell_at(t, row, idx[s]);
		rt = s_rate_text(c, b);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", BAR_LABEL_W - 8, y + 11);
		s_html(f, s_measure_label(s_series[s].measure));
		fputs("</text>", f);
		if (s_rate_value(c, &v)) {
			int w = (int)(v * BAR_W + 0.5);
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"%s\">",
				BAR_LABEL_W, y + 1, w, s_series[s].colour);
			s_svg_tip(f, t, row, c, s_series[s].measure);
			fprintf(f, "</rect><text x=\"%d\" y=\"%d\">", BAR_LABEL_W + w + 6, y + 11);
		} else {
			/* hidden or no share: nothing drawn, the display text instead */
			fprintf(f, "<text class=\"hid\" x=\"%d\" y=\"%d\">", BAR_LABEL_W + 6, y + 11);
		}
		s_html(f, rt ? rt : "-");
		fputs("</text>\n", f);
		y += BAR_ROW_H;
	}
	fputs("</g>\n", f);
	return y + 8;
}

/* Horizontal bars: per group (the total last), the share of each series. */
static void s_svg_bars(FILE *f, const Overstapctl__ReportTable *t, size_t ti)
{
	size_t idx[ARRAY_SIZE(s_series)];
	size_t ns = s_series_of(t, idx), ng = 0;
	char id[32], desc[256];
	int h, y = 24;

	for (size_t i = 0; i < t->n_rows; i++)
		ng += t->rows[i] != NULL;
	if (!ns || !ng)
		return;
	h = y + (int)ng * (BAR_GROUP_H + (int)ns * BAR_ROW_H + 8);
	snprintf(id, sizeof(id), "chart%zu", ti);
	snprintf(desc, sizeof(desc),
		 _("Horizontal bars, one group of bars per %s, each bar a share from 0 to 100%%. "
		   "A hidden share is not drawn; its display text is written instead."),
		 t->n_dimensions ? s_dim_label(t->dimensions[0]) : _("group"));
	s_svg_open(f, id, BAR_CHART_W, h, *s_table_title(t) ? s_table_title(t) : _("Shares per group"),
		   desc);
	s_svg_bar_grid(f, h);
	for (size_t i = 0; i < t->n_rows; i++)
		if (t->rows[i])
			y = s_svg_bar_group(f, t, t->rows[i], idx, y);
	fputs("</svg>\n</figure>\n", f);
}

/* A point marker, told apart by shape as well as colour. Writes the element
 * up to `end` (">" to add a child, "/>" for none); returns its name. */
static const char *s_svg_marker(FILE *f, int shape, int x, int y, const char *colour,
				const char *end)
{
	switch (shape) {
	case 1:
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"8\" height=\"8\" fill=\"%s\"%s", x - 4,
			y - 4, colour, end);
		return "rect";
	case 2:
		fprintf(f, "<polygon points=\"%d,%d %d,%d %d,%d\" fill=\"%s\"%s", x, y - 5, x + 5,
			y + 4, x - 5, y + 4, colour, end);
		return "polygon";
	case 3:
		fprintf(f, "<polygon points=\"%d,%d %d,%d %d,%d %d,%d\" fill=\"%s\"%s", x, y - 5,
			x + 5, y, x, y + 5, x - 5, y, colour, end);
		return "polygon";
	case 4:
		fprintf(f, "<polygon points=\"%d,%d %d,%d %d,%d\" fill=\"%s\"%s", x - 5, y - 4,
			x + 5, y - 4, x, y + 5, colour, end);
		return "polygon";
	default:
		fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"%s", x, y, colour, end);
		return "circle";
	}
}

/* The trend's x positions: the groups (cohorts) in order, totals left out. */
static int s_trend_x(size_t i, size_t n)
{
	int w = LINE_CHART_W - LINE_LEFT - LINE_RIGHT;

	return LINE_LEFT + (n < 2 ? w / 2 : (int)((size_t)w * i / (n - 1)));
}

static int s_trend_y(double v) { return LINE_TOP + LINE_PLOT_H - (int)(v * LINE_PLOT_H + 0.5); }

/* The axes: 0-100% with gridlines, one label per cohort. */
static void s_svg_trend_axes(FILE *f, const Overstapctl__ReportTable *t, const size_t *pos,
			     size_t n)
{
	for (int p = 0; p <= 100; p += 25) {
		int y = s_trend_y(p / 100.0);
		fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			   "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d%%</text>\n",
			p ? "grid" : "axis", LINE_LEFT, y, LINE_CHART_W - LINE_RIGHT + 10, y,
			LINE_LEFT - 8, y + 4, p);
	}
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", s_trend_x(i, n),
			LINE_TOP + LINE_PLOT_H + 18);
		s_html_keys(f, t, t->rows[pos[i]]);
		fputs("</text>\n", f);
	}
}

/* Series s: a line through each run of shown points (a hidden point leaves a
 * gap), and a marker with a tooltip on every shown point. */
static void s_svg_trend_series(FILE *f, const Overstapctl__ReportTable *t,
			       const size_t *pos, size_t n, size_t s, size_t m)
{
	const struct s_series *se = &s_series[s];
	size_t run = 0;
	double v;

	fprintf(f, "<g role=\"group\" aria-label=\"%s\">\n", s_measure_label(se->measure));
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s_rate_value(s_cell_at(t, t->rows[pos[i]], m), &v)) {
			run++;
			continue;
		}
		if (run >= 2) {
			fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s%s%s "
				   "points=\"", se->colour, *se->dash ? " stroke-dasharray=\"" : "",
				se->dash, *se->dash ? "\"" : "");
			for (size_t k = i - run; k < i; k++) {
				s_rate_value(s_cell_at(t, t->rows[pos[k]], m), &v);
				fprintf(f, "%s%d,%d", k > i - run ? " " : "", s_trend_x(k, n), s_trend_y(v));
			}
			fputs("\"/>\n", f);
		}
		run = 0;
	}
	for (size_t i = 0; i < n; i++) {
		const Overstapctl__ReportCell *c = s_cell_at(t, t->rows[pos[i]], m);
		const char *el;

		if (!s_rate_value(c, &v))
			continue;
		el = s_svg_marker(f, se->marker, s_trend_x(i, n), s_trend_y(v), se->colour, ">");
		s_svg_tip(f, t, t->rows[pos[i]], c, se->measure);
		fprintf(f, "</%s>\n", el);
	}
	fputs("</g>\n", f);
}

/* The legend under the plot: a stretch of each line with its marker. */
static void s_svg_trend_legend(FILE *f, const size_t *idx, int y)
{
	for (size_t s = 0; s < ARRAY_SIZE(s_series); s++) {
		const struct s_series *se = &s_series[s];

		if (idx[s] == SIZE_MAX)
			continue;
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			   "stroke-width=\"2\"%s%s%s/>", LINE_LEFT, y, LINE_LEFT + 36, y, se->colour,
			*se->dash ? " stroke-dasharray=\"" : "", se->dash, *se->dash ? "\"" : "");
		s_svg_marker(f, se->marker, LINE_LEFT + 18, y, se->colour, "/>");
		fprintf(f, "<text x=\"%d\" y=\"%d\">", LINE_LEFT + 46, y + 4);
		s_html(f, s_measure_label(se->measure));
		fputs("</text>\n", f);
		y += 18;
	}
}

/* Under the chart, in words: each point not drawn, with its range. */
static void s_trend_note(FILE *f, const Overstapctl__ReportTable *t,
			 const size_t *pos, size_t n, const size_t *idx)
{
	int any = 0;

	for (size_t s = 0; s < ARRAY_SIZE(s_series); s++)
		for (size_t i = 0; idx[s] != SIZE_MAX && i < n; i++) {
			const Overstapctl__ReportCell *c = s_cell_at(t, t->rows[pos[i]], idx[s]);
			char b[S_NUM_LEN];
			const char *rt = s_rate_text(c, b);
			double v;

			if (s_rate_value(c, &v))
				continue;
			if (any)
				fputs("; ", f);
			else
				fprintf(f, "<p class=\"note\">%s ",
					_("Not drawn (too few pupils, or nothing to divide by):"));
			any = 1;
			s_html(f, s_measure_label(s_series[s].measure));
			fputc(' ', f);
			s_html_keys(f, t, t->rows[pos[i]]);
			fputs(" (", f);
			s_html(f, rt ? rt : "-");
			fputc(')', f);
		}
	if (any)
		fputs(".</p>\n", f);
}

/* A line per series over the cohorts (the trend table's groups, in order). */
static void s_svg_trend(FILE *f, const Overstapctl__ReportTable *t, size_t ti)
{
	size_t idx[ARRAY_SIZE(s_series)];
	size_t ns = s_series_of(t, idx), n = 0;
	size_t pos[LINE_MAX_POINTS];	/* the groups' rows */
	char id[32];
	int h = LINE_TOP + LINE_PLOT_H + 40 + (int)ns * 18;

	for (size_t i = 0; i < t->n_rows && n < LINE_MAX_POINTS; i++)
		if (t->rows[i] && !t->rows[i]->total)
			pos[n++] = i;
	if (ns && n) {
		snprintf(id, sizeof(id), "chart%zu", ti);
		s_svg_open(f, id, LINE_CHART_W, h,
			   *s_table_title(t) ? s_table_title(t) : _("Trend over cohorts"),
			   /* xgettext:no-c-format */
			   _("Lines of shares from 0 to 100% over the cohorts, oldest first. A share "
			     "too small to show is not drawn and leaves a gap; the note below the "
			     "chart lists it."));
		s_svg_trend_axes(f, t, pos, n);
		for (size_t s = 0; s < ARRAY_SIZE(s_series); s++)
			if (idx[s] != SIZE_MAX)
				s_svg_trend_series(f, t, pos, n, s, idx[s]);
		s_svg_trend_legend(f, idx, LINE_TOP + LINE_PLOT_H + 40);
		fputs("</svg>\n", f);
		s_trend_note(f, t, pos, n, idx);
		fputs("</figure>\n", f);
	}
}

static void s_html_charts(FILE *f, const Overstapctl__Report *r)
{
	int any = 0;

	for (size_t i = 1; i < r->n_tables; i++) {
		const Overstapctl__ReportTable *t = r->tables[i];
		size_t idx[ARRAY_SIZE(s_series)];

		if (!t || !s_series_of(t, idx))
			continue;
		if (!any)
			fprintf(f, "<section>\n<h2>%s</h2>\n", _("Charts"));
		any = 1;
		if (strcmp(s_s(t->name), "trend") == 0)
			s_svg_trend(f, t, i);
		else
			s_svg_bars(f, t, i);
	}
	if (any)
		fputs("</section>\n", f);
}

int report_write_html(FILE *f, const Overstapctl__Report *r)
{
	s_html_head(f, r);
	s_html_intro(f, r);
	s_html_explain(f, r);
	if (r->n_tables && r->tables[0])
		s_html_table(f, r->tables[0]);
	else
		fprintf(f, "<p>%s</p>\n", _("There is no table in this report."));
	s_html_charts(f, r);
	report_html_close(f);
	return s_done(f);
}
