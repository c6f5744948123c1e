/* report: see report.h. One pass over the facts fills every table's groups;
 * the tables are then suppressed together, as one system, and turned into protobuf. */
#include "report.h"
#include "report_int.h"
#include "i18n.h"
#include "suppress.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- cells: the counts of one group ---- */

struct cell_def {
	const char *name;
	int den;		/* index of the denominator cell, -1 = none */
	int hidden;		/* a denominator only, not a column of its own */
};

enum {
	S_LEAVERS, S_HANDED, S_STARTED, S_CONSENT, S_NOCONSENT, S_BESTENDIG, S_DIPLOMA,
	S_PROGRESSED, S_LWD, S_NOFEEDBACK, S_STARTED_CONSENT, S__N
};
static const struct cell_def s_send_cells[S__N] = {
	[S_LEAVERS] = { "leavers", -1, 0 },
	[S_HANDED] = { "handed_over", S_LEAVERS, 0 },
	[S_STARTED] = { "started", S_HANDED, 0 },
	[S_CONSENT] = { "with_consent", S_HANDED, 0 },
	[S_NOCONSENT] = { "no_consent", S_HANDED, 0 },
	[S_BESTENDIG] = { "bestendig", S_STARTED_CONSENT, 0 },
	[S_DIPLOMA] = { "diploma", S_CONSENT, 0 },
	[S_PROGRESSED] = { "progressed", S_CONSENT, 0 },
	[S_LWD] = { "left_without_diploma", S_CONSENT, 0 },
	[S_NOFEEDBACK] = { "no_feedback", S_CONSENT, 0 },
	[S_STARTED_CONSENT] = { "started_with_consent", S_STARTED, 1 },
};

enum {
	R_STUDENTS, R_INTAKE, R_ENROLMENTS, R_BYSTART, R_ENROLLED, R_COVERED, R_HELD, R_DIPLOMA,
	R_PROGRESSED, R_LWD, R__N
};
static const struct cell_def s_recv_cells[R__N] = {
	[R_STUDENTS] = { "students", -1, 0 },
	[R_INTAKE] = { "intake", R_STUDENTS, 0 },
	[R_ENROLMENTS] = { "enrolments", R_STUDENTS, 0 },
	[R_BYSTART] = { "dossier_by_start", R_ENROLMENTS, 0 },
	[R_ENROLLED] = { "enrolled", R_INTAKE, 0 },
	[R_COVERED] = { "covered", R_ENROLLED, 0 },
	[R_HELD] = { "intake_held", R_INTAKE, 0 },
	[R_DIPLOMA] = { "diploma", R_ENROLLED, 0 },
	[R_PROGRESSED] = { "progressed", R_ENROLLED, 0 },
	[R_LWD] = { "left_without_diploma", R_ENROLLED, 0 },
};
_Static_assert(S__N <= NCELL_MAX && R__N <= NCELL_MAX, "raise NCELL_MAX");

/* ---- dimensions ---- */

enum dim {
	D_COHORT, D_PROGRAM, D_DESTINATION, D_INSTITUTION, D_ADVICE, D_FOLLOWED, D_TAAL, D_REKENEN,
	D_PREVIOUS, D_SCHOOL, D__N
};
static const char *const s_dim_names[D__N] = {
	"cohort", "program", "destination", "institution", "advice", "followed", "taal", "rekenen",
	"previous", "school",
};
static const int s_send_dims[] = { D_COHORT, D_PROGRAM, D_DESTINATION, D_INSTITUTION, D_ADVICE,
				   D_FOLLOWED, D_TAAL, D_REKENEN };
static const int s_recv_dims[] = { D_COHORT, D_PREVIOUS, D_SCHOOL, D_DESTINATION };

const char *report_dimensions(int receiving)
{
	return receiving ? "cohort, previous, school, destination"
			 : "cohort, program, destination, institution, advice, followed, taal, rekenen";
}

static int s_dim_find(const char *name, int receiving)
{
	const int *v = receiving ? s_recv_dims : s_send_dims;
	size_t n = receiving ? ARRAY_SIZE(s_recv_dims) : ARRAY_SIZE(s_send_dims);

	for (size_t i = 0; i < n; i++)
		if (strcmp(s_dim_names[v[i]], name) == 0)
			return v[i];
	return -1;
}

static const char *s_or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

/* The value of a dimension for one fact (static or fact-owned text). */
static const char *s_send_key(const struct send_fact *f, int dim)
{
	switch (dim) {
	case D_COHORT: return f->cohort;
	case D_PROGRAM: return s_or(vocab_program_str(f->program), "unknown");
	case D_DESTINATION: return s_or(vocab_destination_str(f->destination), "unknown");
	case D_INSTITUTION: return s_or(f->institution, "none");
	case D_ADVICE: return s_or(vocab_advice_str(f->advice), "none");
	case D_FOLLOWED: return s_or(vocab_yesno_str(f->followed), "unknown");
	case D_TAAL: return s_or(vocab_level_str(f->taal), "unknown");
	case D_REKENEN: return s_or(vocab_level_str(f->rekenen), "unknown");
	default: return "?";
	}
}

/* The intake by previous education (design.md §6.3): the program the
 * dossier names, split by the diploma it tells as published intake tables
 * do ("vmbo_b_diploma", "vmbo_b_no_diploma"; the program alone when it tells
 * none), and every enrolment without a dossier as "no_dossier". buf holds
 * the joined text. */
static const char *s_previous(const struct recv_fact *f, char *buf, size_t len)
{
	const char *p = s_or(vocab_program_str(f->program), "unknown");

	if (!f->dossier)
		return "no_dossier";
	if (!vocab_diploma_str(f->prev_diploma))
		return p;
	snprintf(buf, len, "%s_%s", p,
		 f->prev_diploma == OVERSTAP__DIPLOMA__DIPLOMA_NONE ? "no_diploma" : "diploma");
	return buf;
}

/* Without a dossier the enrolment's level says the destination. */
static const char *s_level_destination(int level)
{
	return level == 1 ? "mbo_entree" : level == 2 ? "mbo_2" : level >= 3 ? "mbo_3_4" : "unknown";
}

static const char *s_recv_key(const struct recv_fact *f, int dim, char *buf, size_t len)
{
	switch (dim) {
	case D_COHORT: return f->cohort;
	case D_PREVIOUS: return s_previous(f, buf, len);
	case D_SCHOOL: return f->dossier ? f->sender : "none";
	case D_DESTINATION:
		return f->dossier ? s_or(vocab_destination_str(f->destination), "unknown")
				  : s_level_destination(f->level);
	default: return "?";
	}
}

/* ---- groups: a small open-addressing hash per table ---- */

static uint64_t s_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int s_grow(struct rtable *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct group *g = calloc(cap, sizeof(*g));

	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->g[i].key)
			continue;
		for (j = s_hash(t->g[i].key) & (cap - 1); g[j].key; j = (j + 1) & (cap - 1))
			;
		g[j] = t->g[i];
	}
	free(t->g);
	t->g = g;
	t->cap = cap;
	return 0;
}

static struct group *s_group(struct rtable *t, const char *key)
{
	size_t j;

	if ((t->n + 1) * 2 > t->cap && s_grow(t) < 0)
		return NULL;
	for (j = s_hash(key) & (t->cap - 1); t->g[j].key; j = (j + 1) & (t->cap - 1))
		if (strcmp(t->g[j].key, key) == 0)
			return &t->g[j];
	if (!(t->g[j].key = strdup(key)))
		return NULL;
	t->n++;
	return &t->g[j];
}

static void s_table_free(struct rtable *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->g[i].key);
	free(t->g);
	memset(t, 0, sizeof(*t));
}

/* ---- the facts ---- */

struct acc {
	struct rtable *t;
	size_t nt;
	const Overstapctl__ReportQuery *q;
	int failed;
	uint64_t c[NCELL_MAX];	/* the current fact's cells (0/1) */
	struct strlist cohorts;	/* seen, for the header */
};

int report_cohort_wanted(char *const *cohorts, size_t n, const char *cohort)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(cohorts[i], cohort) == 0)
			return 1;
	return 0;
}

static int s_cohort_seen(struct acc *a, const char *cohort)
{
	for (size_t i = 0; i < a->cohorts.n; i++)
		if (strcmp(a->cohorts.v[i], cohort) == 0)
			return 0;
	return strlist_addf(&a->cohorts, "%s", cohort);
}

/* Add the current fact's cells to its group in every table. */
static int s_add(struct acc *a, const char *const keys[D__N], size_t ncell)
{
	for (size_t ti = 0; ti < a->nt; ti++) {
		struct rtable *t = &a->t[ti];
		char key[512];
		size_t pos = 0;
		struct group *g;

		/* dimension values joined by \x1f; values are short (<= 64) */
		for (size_t k = 0; k < t->ndims; k++) {
			const char *v = keys[t->dims[k]];
			size_t len = strnlen(v, 64);

			if (k)
				key[pos++] = '\x1f';
			memcpy(key + pos, v, len);
			pos += len;
		}
		key[pos] = '\0';
		if (!(g = s_group(t, key)))
			return -ENOMEM;
		for (size_t c = 0; c < ncell; c++) {
			g->c[c] += a->c[c];
			t->total[c] += a->c[c];
		}
	}
	return 0;
}

/* 1 October of the year the cohort ends plus offset, as YYYYMMDD. */
static uint32_t s_oct1(const char *cohort, int offset)
{
	return ((uint32_t)atoi(cohort + 5) + (uint32_t)offset) * 10000 + 1001;
}

/* An event happened (date != 0) on or before limit. */
static int s_before(uint32_t date, uint32_t limit)
{
	return date && date <= limit;
}

static int s_send_fact(const struct send_fact *f, void *arg)
{
	struct acc *a = arg;
	const char *keys[D__N] = { 0 };
	uint32_t start, ref2, window;
	int handed = f->state == LEAVER_DELIVERED, consent = handed && f->consent, started, bestendig;

	if (!report_cohort_wanted(a->q->cohorts, a->q->n_cohorts, f->cohort))
		return 0;
	if (s_cohort_seen(a, f->cohort) < 0)
		return -ENOMEM;
	start = s_oct1(f->cohort, 0);
	ref2 = s_oct1(f->cohort, 1);
	window = s_oct1(f->cohort, 2);
	started = handed && s_before(f->enrolled, start);
	bestendig = started && consent &&
		    (s_before(f->diploma, ref2) ||
		     (f->still >= ref2 && (!f->stop || f->stop >= ref2)));
	memset(a->c, 0, sizeof(a->c));
	a->c[S_LEAVERS] = 1;
	a->c[S_HANDED] = handed;
	a->c[S_STARTED] = started;
	a->c[S_CONSENT] = consent;
	a->c[S_NOCONSENT] = handed && !consent;
	a->c[S_BESTENDIG] = bestendig;
	a->c[S_DIPLOMA] = consent && s_before(f->diploma, window);
	a->c[S_PROGRESSED] = consent && s_before(f->progressed, window);
	a->c[S_LWD] = consent && s_before(f->lwd, window);
	a->c[S_NOFEEDBACK] = consent && f->outcomes == 0;
	a->c[S_STARTED_CONSENT] = started && consent;
	for (size_t i = 0; i < ARRAY_SIZE(s_send_dims); i++)
		keys[s_send_dims[i]] = s_send_key(f, s_send_dims[i]);
	return s_add(a, keys, S__N);
}

/* One student of the intake: a dossier received (with the earliest start
 * of the enrolments linked to it, if listed), or an enrolment without a
 * dossier, whose cohort is the school year that ended in the year it starts:
 * 1 September 2025 counts with the leavers of 2024-2025. */
static int s_recv_fact(const struct recv_fact *in, void *arg)
{
	struct acc *a = arg;
	const char *keys[D__N] = { 0 };
	struct recv_fact fact = *in, *f = &fact;
	char received[11] = "", prev[64];
	time_t t = (time_t)(f->received_at / 1000);
	struct tm tm;

	if (!f->dossier) {
		unsigned y = (unsigned)atoi(f->start) % 10000u;	/* YYYY-MM-DD, checked at import */

		snprintf(f->cohort, sizeof(f->cohort), "%04u-%04u", (y + 9999u) % 10000u, y);
	}
	if (!report_cohort_wanted(a->q->cohorts, a->q->n_cohorts, f->cohort))
		return 0;
	if (s_cohort_seen(a, f->cohort) < 0)
		return -ENOMEM;
	if (f->dossier) {
		localtime_r(&t, &tm);
		strftime(received, sizeof(received), "%Y-%m-%d", &tm);
	}
	memset(a->c, 0, sizeof(a->c));
	a->c[R_STUDENTS] = 1;
	a->c[R_INTAKE] = f->dossier;
	a->c[R_ENROLMENTS] = f->start[0] != '\0';
	/* the warm handover: the dossier was there on or before the first day */
	a->c[R_BYSTART] = f->dossier && f->start[0] && strcmp(received, f->start) <= 0;
	a->c[R_ENROLLED] = f->enrolled[0] != '\0';
	a->c[R_COVERED] = f->enrolled[0] && strcmp(received, f->enrolled) <= 0;
	a->c[R_HELD] = f->held[0] != '\0';
	a->c[R_DIPLOMA] = f->enrolled[0] && f->diploma[0];
	a->c[R_PROGRESSED] = f->enrolled[0] && f->progressed[0];
	a->c[R_LWD] = f->enrolled[0] && f->lwd[0];
	for (size_t i = 0; i < ARRAY_SIZE(s_recv_dims); i++)
		keys[s_recv_dims[i]] = s_recv_key(f, s_recv_dims[i], prev, sizeof(prev));
	return s_add(a, keys, R__N);
}

/* ---- suppression and protobuf ---- */

static char *s_dup(const char *s)
{
	return strdup(s ? s : "");
}

/* A withheld count reads "<5" when it is small itself (primary) and "x" when
 * it is withheld only so that a small one cannot be worked out (secondary):
 * writing "<5" for a 12 would be false. */
static Overstapctl__ReportCount *s_count(uint64_t v, int suppressed, unsigned min_cell)
{
	Overstapctl__ReportCount *c = calloc(1, sizeof(*c));
	char buf[32];

	if (!c)
		return NULL;
	overstapctl__report_count__init(c);
	c->suppressed = suppressed;
	c->value = suppressed ? 0 : v;
	if (suppressed && v < min_cell)
		snprintf(buf, sizeof(buf), "<%u", min_cell);
	else if (suppressed)
		snprintf(buf, sizeof(buf), "x");
	else
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	if (!(c->display = strdup(buf))) {
		free(c);
		return NULL;
	}
	return c;
}

/* The rate rule of design.md §6.4 (suppress_rate): shown when its count and
 * denominator are, "-" otherwise. */
static Overstapctl__ReportRate *s_rate(uint64_t num, int num_sup, uint64_t den, int den_sup)
{
	Overstapctl__ReportRate *r = calloc(1, sizeof(*r));
	char buf[SUPPRESS_RATE_BUFLEN] = "-";

	if (!r)
		return NULL;
	overstapctl__report_rate__init(r);
	r->suppressed = 1;
	if (suppress_rate(num, num_sup, den, den_sup, buf, sizeof(buf)) == SUPPRESS_RATE_SHOWN) {
		r->suppressed = 0;
		r->value = (double)num / (double)den;
	}
	if (!(r->display = strdup(buf))) {
		free(r);
		return NULL;
	}
	return r;
}

/* The key split back into its dimension values. */
static int s_row_keys(Overstapctl__ReportRow *row, size_t ndims, const char *key)
{
	const char *p = key;

	if (!(row->keys = calloc(ndims ? ndims : 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t k = 0; k < ndims; k++) {
		const char *e = strchr(p, '\x1f');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (!(row->keys[k] = strndup(p, len)))
			return -ENOMEM;
		row->n_keys++;
		p = e ? e + 1 : p + len;
	}
	return 0;
}

static Overstapctl__ReportRow *s_row(size_t ndims, const struct cell_def *defs, size_t ncell,
				     const uint64_t *v, const uint8_t *sup, const char *key,
				     unsigned min_cell)
{
	Overstapctl__ReportRow *row = calloc(1, sizeof(*row));
	size_t shown = 0;

	if (!row)
		return NULL;
	overstapctl__report_row__init(row);
	row->total = key == NULL;
	if (key && s_row_keys(row, ndims, key) < 0)
		goto fail;
	for (size_t c = 0; c < ncell; c++)
		shown += !defs[c].hidden;
	if (!(row->cells = calloc(shown + 1, sizeof(Overstapctl__ReportCell *))))
		goto fail;
	for (size_t c = 0; c < ncell; c++) {
		Overstapctl__ReportCell *cell;
		int den = defs[c].den;

		if (defs[c].hidden)
			continue;
		if (!(cell = calloc(1, sizeof(*cell))))
			goto fail;
		overstapctl__report_cell__init(cell);
		row->cells[row->n_cells++] = cell;
		if (!(cell->measure = s_dup(defs[c].name)) ||
		    !(cell->count = s_count(v[c], sup[c], min_cell)) ||
		    !(cell->denominator = s_dup(den >= 0 ? defs[den].name : "")))
			goto fail;
		if (den >= 0 && (!(cell->denominator_count = s_count(v[den], sup[den], min_cell)) ||
				 !(cell->rate = s_rate(v[c], sup[c], v[den], sup[den]))))
			goto fail;
	}
	return row;
fail:
	overstapctl__report_row__free_unpacked(row, NULL);
	return NULL;
}

/* One output row: its key in the order asked for, and its first cell. */
struct orow {
	char *key;
	size_t at;
};

static int s_cmp_orow(const void *x, const void *y)
{
	return strcmp(((const struct orow *)x)->key, ((const struct orow *)y)->key);
}

/* The groups of laid table l (dimensions in canon's order) as rows keyed in
 * the order dims[0..ndims), sorted. The total row is not among them. */
static struct orow *s_orows(const struct rtable *canon, const struct laid *l, const int *dims, size_t ndims,
			    size_t ncell)
{
	struct orow *rows = calloc(l->ng + 1, sizeof(*rows));
	size_t pos[REPORT_MAX_DIMS];
	char buf[REPORT_MAX_DIMS * 72];

	if (!rows)
		return NULL;
	for (size_t k = 0; k < ndims; k++)
		for (size_t j = 0; j < canon->ndims; j++)
			if (canon->dims[j] == dims[k])
				pos[k] = j;
	for (size_t g = 0; g < l->ng; g++) {
		report_key_project(l->gs[g].key, pos, ndims, buf, sizeof(buf));
		rows[g].at = l->off + g * ncell;
		if (!(rows[g].key = strdup(buf))) {
			for (size_t i = 0; i < g; i++)
				free(rows[i].key);
			free(rows);
			return NULL;
		}
	}
	if (l->ng)
		qsort(rows, l->ng, sizeof(*rows), s_cmp_orow);
	return rows;
}

/* Build one table's protobuf from the suppressed system: laid table l,
 * whose dimensions canon holds in the canonical order, shown with the
 * dimensions dims[0..ndims) in the order asked for. */
static int s_table_pb(const char *name, const char *title, const int *dims, size_t ndims,
		      const struct rtable *canon, const struct laid *l, const struct report_sys *sys,
		      int receiving, unsigned min_cell, Overstapctl__ReportTable **out)
{
	const struct cell_def *defs = receiving ? s_recv_cells : s_send_cells;
	size_t ncell = receiving ? R__N : S__N, nrow = l->ng + 1;
	Overstapctl__ReportTable *tab = calloc(1, sizeof(*tab));
	struct orow *rows = s_orows(canon, l, dims, ndims, ncell);
	int r = -ENOMEM;

	if (!tab || !rows)
		goto out;
	overstapctl__report_table__init(tab);
	if (!(tab->name = s_dup(name)) || !(tab->title = s_dup(title)) ||
	    !(tab->dimensions = calloc(ndims + 1, sizeof(char *))) ||
	    !(tab->measures = calloc(ncell, sizeof(char *))) ||
	    !(tab->rows = calloc(nrow, sizeof(Overstapctl__ReportRow *))))
		goto out;
	for (size_t k = 0; k < ndims; k++)
		if (!(tab->dimensions[tab->n_dimensions++] = s_dup(s_dim_names[dims[k]])))
			goto out;
	for (size_t c = 0; c < ncell; c++)
		if (!defs[c].hidden && !(tab->measures[tab->n_measures++] = s_dup(defs[c].name)))
			goto out;
	for (size_t row = 0; row < nrow; row++) {
		size_t at = row < l->ng ? rows[row].at : l->off + l->ng * ncell;

		tab->rows[tab->n_rows] = s_row(ndims, defs, ncell, sys->v + at, sys->sup + at,
					       row < l->ng ? rows[row].key : NULL, min_cell);
		if (!tab->rows[tab->n_rows])
			goto out;
		tab->n_rows++;
	}
	*out = tab;
	tab = NULL;	/* transferred */
	r = 0;
out:
	for (size_t g = 0; rows && g < l->ng; g++)
		free(rows[g].key);
	free(rows);
	if (tab)
		overstapctl__report_table__free_unpacked(tab, NULL);
	return r;
}

/* ---- the linked set (design.md §6.4) ---- */

/* Every table of one or two dimensions of a side, each in the side's
 * order: 8 + 28 sending, 4 + 6 receiving. Every report is one of them (a
 * breakdown has at most REPORT_LINK_DIMS dimensions), so one suppression of
 * them all serves every report alike. */
#define S_TABLES_MAX (8 + 28)
_Static_assert(ARRAY_SIZE(s_send_dims) * (ARRAY_SIZE(s_send_dims) + 1) / 2 <= S_TABLES_MAX,
	       "raise S_TABLES_MAX");

static size_t s_lattice(struct rtable *t, int receiving)
{
	const int *v = receiving ? s_recv_dims : s_send_dims;
	size_t n = receiving ? ARRAY_SIZE(s_recv_dims) : ARRAY_SIZE(s_send_dims), nt = 0;

	for (size_t i = 0; i < n; i++)
		t[nt++] = (struct rtable){ .dims = { v[i] }, .ndims = 1 };
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			t[nt++] = (struct rtable){ .dims = { v[i], v[j] }, .ndims = 2 };
	return nt;
}

/* Every combination of the values the one-dimension tables list gets a row
 * in each two-dimension table, zero or not: a listed row tells a reader it
 * holds at least one pupil, and a "<5" split into listed rows can then be
 * worked out (design.md §6.4). */
static int s_complete(struct rtable *t, size_t nt)
{
	char key[160];

	for (size_t ti = 0; ti < nt; ti++) {
		const struct rtable *a = NULL, *b = NULL;

		if (t[ti].ndims != 2)
			continue;
		for (size_t tj = 0; tj < nt; tj++) {
			if (t[tj].ndims == 1 && t[tj].dims[0] == t[ti].dims[0])
				a = &t[tj];
			if (t[tj].ndims == 1 && t[tj].dims[0] == t[ti].dims[1])
				b = &t[tj];
		}
		for (size_t i = 0; a && b && i < a->cap; i++)
			for (size_t j = 0; a->g[i].key && j < b->cap; j++) {
				if (!b->g[j].key)
					continue;
				snprintf(key, sizeof(key), "%s\x1f%s", a->g[i].key, b->g[j].key);
				if (!s_group(&t[ti], key))
					return -ENOMEM;
			}
	}
	return 0;
}

/* The table of t[0..nt) over exactly the dimensions dims (any order), or nt. */
static size_t s_table_find(const struct rtable *t, size_t nt, const int *dims, size_t ndims)
{
	for (size_t ti = 0; ti < nt; ti++) {
		size_t hits = 0;
		for (size_t k = 0; k < ndims && t[ti].ndims == ndims; k++)
			for (size_t j = 0; j < ndims; j++)
				hits += t[ti].dims[j] == dims[k];
		if (t[ti].ndims == ndims && hits == ndims)
			return ti;
	}
	return nt;
}

/* Suppress the linked set t[0..nt) and build the report's tables from it:
 * the breakdown asked for (dims, in that order) and, with charts, the
 * program (previous), destination and cohort tables. Whichever are asked
 * for, the flags are the same: every format shows the same cells. */
static int s_tables_out(struct rtable *t, size_t nt, const int *dims, size_t ndims,
			int receiving, int with_charts, unsigned min_cell, Overstapctl__Report *rep)
{
	static const struct link_spec send = { S__N, S_LEAVERS, 1, S_HANDED, S_CONSENT, S_NOCONSENT },
				      recv = { R__N, R_STUDENTS, 0, 0, 0, 0 };
	const struct {
		const char *name, *title;
		int dim;
	} charts[] = {
		{ "program", receiving ? "By previous education" : "By program left",
		  receiving ? D_PREVIOUS : D_PROGRAM },
		{ "destination", "By destination type", D_DESTINATION },
		{ "trend", "Trend over cohorts", D_COHORT },
	};
	struct report_sys sys = { 0 };
	size_t main = s_table_find(t, nt, dims, ndims);
	int r;

	if ((r = s_complete(t, nt)) < 0 ||
	    (r = report_link_suppress(t, nt, receiving ? &recv : &send, min_cell, &sys)) < 0)
		goto out;	/* withhold the whole report rather than part of it */
	if ((r = s_table_pb("main", "Breakdown", dims, ndims, &t[main], &sys.l[main], &sys, receiving,
			    min_cell, &rep->tables[rep->n_tables])) < 0)
		goto out;
	rep->n_tables++;
	for (size_t c = 0; with_charts && c < ARRAY_SIZE(charts); c++) {
		size_t ti = s_table_find(t, nt, &charts[c].dim, 1);
		if ((r = s_table_pb(charts[c].name, charts[c].title, &charts[c].dim, 1, &t[ti], &sys.l[ti],
				    &sys, receiving, min_cell, &rep->tables[rep->n_tables])) < 0)
			goto out;
		rep->n_tables++;
	}
out:
	report_sys_free(&sys);
	return r;
}

void report_free(Overstapctl__Report **r)
{
	if (r && *r) {
		overstapctl__report__free_unpacked(*r, NULL);
		*r = NULL;
	}
}

static int s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int report_build(struct store *st, const struct config *cfg, const Overstapctl__ReportQuery *q, int with_charts,
		 Overstapctl__Report **out, char *why, size_t whylen)
{
	int receiving = strcmp(q->side, "receiving") == 0;
	unsigned min_cell = cfg->report_min_cell;
	struct rtable t[S_TABLES_MAX];
	struct acc a = { .t = t, .q = q };
	Overstapctl__Report *rep = NULL;
	int dims[REPORT_MAX_DIMS];
	size_t ndims = 0;
	int r;

	memset(t, 0, sizeof(t));
	if (q->side[0] && !receiving && strcmp(q->side, "sending") != 0) {
		snprintf(why, whylen, _("side must be sending or receiving, not '%s'"), q->side);
		return -EINVAL;
	}
	if (q->n_by > REPORT_LINK_DIMS) {
		/* Suppression that survives differencing covers every table a
		 * report can show at once; with three or more dimensions that
		 * lattice no longer fits the time (design.md §6.4). */
		snprintf(why, whylen, _("at most %d dimensions in one breakdown"), REPORT_LINK_DIMS);
		return -EINVAL;
	}
	for (size_t i = 0; i < q->n_by; i++) {
		int dim = s_dim_find(q->by[i], receiving);

		if (dim < 0) {
			snprintf(why, whylen, _("unknown dimension '%s' for the %s side (known: %s)"),
				 q->by[i], receiving ? "receiving" : "sending",
				 report_dimensions(receiving));
			return -EINVAL;
		}
		for (size_t j = 0; j < ndims; j++)
			if (dims[j] == dim) {
				snprintf(why, whylen, _("dimension '%s' given twice"), q->by[i]);
				return -EINVAL;
			}
		dims[ndims++] = dim;
	}
	if (q->n_by == 0)	/* default: a row per cohort */
		dims[ndims++] = D_COHORT;
	for (size_t i = 0; i < q->n_cohorts; i++)
		if (!cohort_valid(q->cohorts[i])) {
			snprintf(why, whylen, _("'%s' is not a cohort (YYYY-YYYY, consecutive years)"),
				 q->cohorts[i]);
			return -EINVAL;
		}
	/* The linked set, whatever was asked (design.md §6.4). */
	a.nt = s_lattice(t, receiving);
	r = receiving ? store_report_receiving(st, s_recv_fact, &a)
		      : store_report_sending(st, s_send_fact, &a);
	if (r < 0) {
		snprintf(why, whylen, _("cannot read the store: %s"), strerror(-r));
		goto out;
	}
	r = -ENOMEM;
	if (!(rep = calloc(1, sizeof(*rep))))
		goto out;
	overstapctl__report__init(rep);
	rep->schema_version = REPORT_SCHEMA_VERSION;
	rep->generated_at = time_now_ms();
	rep->min_cell = min_cell;
	if (!(rep->side = s_dup(receiving ? "receiving" : "sending")) ||
	    !(rep->institution = s_dup(cfg->institution_id)) ||
	    !(rep->institution_name = s_dup(cfg->institution_name)) ||
	    !(rep->reference_date = s_dup("1 October of the year the cohort ends")) ||
	    !(rep->csv_dialect = s_dup(cfg->report_csv_dialect)) ||
	    !(rep->language = s_dup(cfg->report_language)) ||
	    !(rep->cohorts = calloc(a.cohorts.n + 1, sizeof(char *))) ||
	    !(rep->tables = calloc(4, sizeof(Overstapctl__ReportTable *))))
		goto out;
	if (a.cohorts.n)
		qsort(a.cohorts.v, a.cohorts.n, sizeof(char *), s_cmp_str);
	for (size_t i = 0; i < a.cohorts.n; i++)
		if (!(rep->cohorts[rep->n_cohorts++] = s_dup(a.cohorts.v[i])))
			goto out;
	if ((r = s_tables_out(t, a.nt, dims, ndims, receiving, with_charts, min_cell, rep)) < 0)
		goto out;
	*out = rep;
	rep = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		snprintf(why, whylen, _("out of memory"));
	report_free(&rep);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		s_table_free(&t[i]);
	strlist_clear(&a.cohorts);
	return r;
}
