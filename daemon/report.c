/* report: see report.h. One pass over the facts fills every table's groups;
 * the tables are then suppressed together, as one system, and turned into protobuf. */
#include "report.h"
#include "suppress.h"
#include "vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- cells: the counts of one group ---- */

#define NCELL_MAX 11

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

enum { R_INTAKE, R_ENROLLED, R_COVERED, R_HELD, R_DIPLOMA, R_PROGRESSED, R_LWD, R__N };
static const struct cell_def s_recv_cells[R__N] = {
	[R_INTAKE] = { "intake", -1, 0 },
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

static const char *s_recv_key(const struct recv_fact *f, int dim)
{
	switch (dim) {
	case D_COHORT: return f->cohort;
	case D_PREVIOUS: return s_or(vocab_program_str(f->program), "unknown");
	case D_SCHOOL: return f->sender;
	case D_DESTINATION: return s_or(vocab_destination_str(f->destination), "unknown");
	default: return "?";
	}
}

/* ---- groups: a small open-addressing hash per table ---- */

struct group {
	char *key;		/* the dimension values joined by \x1f */
	uint64_t c[NCELL_MAX];
};

struct rtable {
	const char *name, *title;
	int dims[REPORT_MAX_DIMS];
	size_t ndims;
	struct group *g;	/* slots; key NULL = empty */
	size_t n, cap;
	uint64_t total[NCELL_MAX];
};

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

static int s_recv_fact(const struct recv_fact *f, void *arg)
{
	struct acc *a = arg;
	const char *keys[D__N] = { 0 };
	char received[11];
	time_t t = (time_t)(f->received_at / 1000);
	struct tm tm;

	if (!report_cohort_wanted(a->q->cohorts, a->q->n_cohorts, f->cohort))
		return 0;
	if (s_cohort_seen(a, f->cohort) < 0)
		return -ENOMEM;
	localtime_r(&t, &tm);
	strftime(received, sizeof(received), "%Y-%m-%d", &tm);
	memset(a->c, 0, sizeof(a->c));
	a->c[R_INTAKE] = 1;
	a->c[R_ENROLLED] = f->enrolled[0] != '\0';
	a->c[R_COVERED] = f->enrolled[0] && strcmp(received, f->enrolled) <= 0;
	a->c[R_HELD] = f->held[0] != '\0';
	a->c[R_DIPLOMA] = f->enrolled[0] && f->diploma[0];
	a->c[R_PROGRESSED] = f->enrolled[0] && f->progressed[0];
	a->c[R_LWD] = f->enrolled[0] && f->lwd[0];
	for (size_t i = 0; i < ARRAY_SIZE(s_recv_dims); i++)
		keys[s_recv_dims[i]] = s_recv_key(f, s_recv_dims[i]);
	return s_add(a, keys, R__N);
}

/* ---- suppression and protobuf ---- */

static int s_cmp_group(const void *x, const void *y)
{
	const struct group *a = x, *b = y;

	return strcmp(a->key, b->key);
}

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

static Overstapctl__ReportRate *s_rate(uint64_t num, int num_sup, uint64_t den, int den_sup,
				       unsigned min_cell)
{
	Overstapctl__ReportRate *r = calloc(1, sizeof(*r));
	char buf[32] = "-";

	if (!r)
		return NULL;
	overstapctl__report_rate__init(r);
	r->suppressed = 1;
	if (!num_sup && !den_sup && den > 0 &&
	    suppress_rate(num, den, min_cell, buf, sizeof(buf)) == SUPPRESS_RATE_SHOWN) {
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
static int s_row_keys(Overstapctl__ReportRow *row, const struct rtable *t, const char *key)
{
	const char *p = key;

	if (!(row->keys = calloc(t->ndims ? t->ndims : 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t k = 0; k < t->ndims; k++) {
		const char *e = strchr(p, '\x1f');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (!(row->keys[k] = strndup(p, len)))
			return -ENOMEM;
		row->n_keys++;
		p = e ? e + 1 : p + len;
	}
	return 0;
}

static Overstapctl__ReportRow *s_row(const struct rtable *t, const struct cell_def *defs, size_t ncell,
				     const uint64_t *v, const uint8_t *sup, const char *key,
				     unsigned min_cell)
{
	Overstapctl__ReportRow *row = calloc(1, sizeof(*row));
	size_t shown = 0;

	if (!row)
		return NULL;
	overstapctl__report_row__init(row);
	row->total = key == NULL;
	if (key && s_row_keys(row, t, key) < 0)
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
				 !(cell->rate = s_rate(v[c], sup[c], v[den], sup[den], min_cell))))
			goto fail;
	}
	return row;
fail:
	overstapctl__report_row__free_unpacked(row, NULL);
	return NULL;
}

/* The equations of the report's tables, as one system: suppression must
 * see every total a reader sees, including those of the chart tables, or a
 * chart's total for "pro" would give away a withheld "pro, no" in the main
 * table. */
struct eqs {
	size_t n, cap;
	size_t *total, *nparts;
	size_t **parts;		/* each owned */
};

static int s_eq_add(struct eqs *e, size_t total, const size_t *parts, size_t nparts)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		size_t *t = realloc(e->total, cap * sizeof(*t)), *np;
		size_t **p;

		if (!t)
			return -ENOMEM;
		e->total = t;
		if (!(np = realloc(e->nparts, cap * sizeof(*np))))
			return -ENOMEM;
		e->nparts = np;
		if (!(p = realloc(e->parts, cap * sizeof(*p))))
			return -ENOMEM;
		e->parts = p;
		e->cap = cap;
	}
	if (!(e->parts[e->n] = malloc((nparts ? nparts : 1) * sizeof(size_t))))
		return -ENOMEM;
	memcpy(e->parts[e->n], parts, nparts * sizeof(size_t));
	e->total[e->n] = total;
	e->nparts[e->n++] = nparts;
	return 0;
}

static void s_eqs_free(struct eqs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->parts[i]);
	free(e->parts);
	free(e->total);
	free(e->nparts);
}

/* One table laid out in the system: its groups (sorted) and the index of
 * its first cell; row g's cell c is off + g * ncell + c, the total row last. */
struct laid {
	struct group *gs;
	size_t ng, off;
};

/* Field k of a key (dimension values joined by \x1f) into buf. */
static const char *s_key_field(const char *key, size_t k, char *buf, size_t len)
{
	const char *p = key, *e;

	for (size_t i = 0; i < k && p; i++)
		p = (p = strchr(p, '\x1f')) ? p + 1 : NULL;
	if (!p)
		return "";
	e = strchr(p, '\x1f');
	snprintf(buf, len, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
	return buf;
}

static int s_equations(struct rtable *t, size_t nt, struct laid *l, size_t ncell, int receiving,
		       struct eqs *e)
{
	size_t *parts = malloc((l[0].ng + 2) * sizeof(size_t));
	int r = parts ? 0 : -ENOMEM;

	for (size_t ti = 0; r == 0 && ti < nt; ti++) {
		size_t ng = l[ti].ng, off = l[ti].off;

		free(parts);
		if (!(parts = malloc((ng + l[0].ng + 2) * sizeof(size_t))))
			return -ENOMEM;
		/* columns: the groups add up to the total row */
		for (size_t c = 0; r == 0 && c < ncell && ng > 0; c++) {
			for (size_t g = 0; g < ng; g++)
				parts[g] = off + g * ncell + c;
			r = s_eq_add(e, off + ng * ncell + c, parts, ng);
		}
		/* rows: handed_over = with_consent + no_consent */
		for (size_t row = 0; r == 0 && !receiving && row <= ng; row++) {
			parts[0] = off + row * ncell + S_CONSENT;
			parts[1] = off + row * ncell + S_NOCONSENT;
			r = s_eq_add(e, off + row * ncell + S_HANDED, parts, 2);
		}
		if (ti == 0)
			continue;
		/* a chart table counts the same pupils as the main one */
		for (size_t c = 0; r == 0 && c < ncell; c++) {
			parts[0] = l[0].off + l[0].ng * ncell + c;
			r = s_eq_add(e, off + ng * ncell + c, parts, 1);
		}
		/* and its group for a value is the sum of the main groups with it */
		for (size_t k = 0; r == 0 && k < t[0].ndims; k++) {
			if (t[0].dims[k] != t[ti].dims[0])
				continue;
			for (size_t g = 0; r == 0 && g < ng; g++) {
				for (size_t c = 0; r == 0 && c < ncell; c++) {
					size_t np = 0;
					char buf[80];

					for (size_t h = 0; h < l[0].ng; h++)
						if (strcmp(s_key_field(l[0].gs[h].key, k, buf, sizeof(buf)),
							   l[ti].gs[g].key) == 0)
							parts[np++] = l[0].off + h * ncell + c;
					r = s_eq_add(e, off + g * ncell + c, parts, np);
				}
			}
		}
	}
	free(parts);
	return r;
}

/* Build one table's protobuf from the suppressed system. */
static int s_table_pb(const struct rtable *t, const struct laid *l, const uint64_t *v,
		      const uint8_t *sup, int receiving, unsigned min_cell, Overstapctl__ReportTable **out)
{
	const struct cell_def *defs = receiving ? s_recv_cells : s_send_cells;
	size_t ncell = receiving ? R__N : S__N, nrow = l->ng + 1;
	Overstapctl__ReportTable *tab = calloc(1, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	overstapctl__report_table__init(tab);
	if (!(tab->name = s_dup(t->name)) || !(tab->title = s_dup(t->title)) ||
	    !(tab->dimensions = calloc(t->ndims + 1, sizeof(char *))) ||
	    !(tab->measures = calloc(ncell, sizeof(char *))) ||
	    !(tab->rows = calloc(nrow, sizeof(Overstapctl__ReportRow *))))
		goto fail;
	for (size_t k = 0; k < t->ndims; k++)
		if (!(tab->dimensions[tab->n_dimensions++] = s_dup(s_dim_names[t->dims[k]])))
			goto fail;
	for (size_t c = 0; c < ncell; c++)
		if (!defs[c].hidden && !(tab->measures[tab->n_measures++] = s_dup(defs[c].name)))
			goto fail;
	for (size_t row = 0; row < nrow; row++) {
		size_t at = l->off + row * ncell;

		tab->rows[tab->n_rows] = s_row(t, defs, ncell, v + at, sup + at,
					       row < l->ng ? l->gs[row].key : NULL, min_cell);
		if (!tab->rows[tab->n_rows])
			goto fail;
		tab->n_rows++;
	}
	*out = tab;
	return 0;
fail:
	overstapctl__report_table__free_unpacked(tab, NULL);
	return -ENOMEM;
}

/* Lay every table out in one system, suppress it as a whole, build them. */
static int s_tables_out(struct rtable *t, size_t nt, int receiving, unsigned min_cell,
			Overstapctl__Report *rep)
{
	size_t ncell = receiving ? R__N : S__N, n = 0;
	struct laid l[4];
	struct eqs e = { 0 };
	uint64_t *v = NULL;
	uint8_t *sup = NULL;
	int r = -ENOMEM;

	memset(l, 0, sizeof(l));
	for (size_t ti = 0; ti < nt; ti++) {
		if (!(l[ti].gs = calloc(t[ti].n + 1, sizeof(struct group))))
			goto out;
		for (size_t i = 0; i < t[ti].cap; i++)
			if (t[ti].g[i].key)
				l[ti].gs[l[ti].ng++] = t[ti].g[i];
		if (l[ti].ng)
			qsort(l[ti].gs, l[ti].ng, sizeof(struct group), s_cmp_group);
		l[ti].off = n;
		n += (l[ti].ng + 1) * ncell;
	}
	if (!(v = calloc(n, sizeof(*v))) || !(sup = calloc(n, 1)))
		goto out;
	for (size_t ti = 0; ti < nt; ti++) {
		for (size_t g = 0; g < l[ti].ng; g++)
			memcpy(v + l[ti].off + g * ncell, l[ti].gs[g].c, ncell * sizeof(*v));
		memcpy(v + l[ti].off + l[ti].ng * ncell, t[ti].total, ncell * sizeof(*v));
	}
	if ((r = s_equations(t, nt, l, ncell, receiving, &e)) < 0)
		goto out;
	{
		struct suppress_table st = { .n = n, .value = v, .suppressed = sup, .neq = e.n,
					     .total = e.total,
					     .parts = (const size_t *const *)e.parts, .nparts = e.nparts };

		suppress_primary(&st, min_cell);
		if ((r = suppress_secondary(&st)) < 0)
			goto out;	/* withhold the whole report rather than part of it */
	}
	for (size_t ti = 0; ti < nt; ti++) {
		if ((r = s_table_pb(&t[ti], &l[ti], v, sup, receiving, min_cell, &rep->tables[ti])) < 0)
			goto out;
		rep->n_tables++;
	}
	r = 0;
out:
	for (size_t ti = 0; ti < nt; ti++)
		free(l[ti].gs);
	free(v);
	free(sup);
	s_eqs_free(&e);
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
	struct rtable t[4];
	struct acc a = { .t = t, .q = q };
	Overstapctl__Report *rep = NULL;
	int r;

	memset(t, 0, sizeof(t));
	if (q->side[0] && !receiving && strcmp(q->side, "sending") != 0) {
		snprintf(why, whylen, "side must be sending or receiving, not '%s'", q->side);
		return -EINVAL;
	}
	if (q->n_by > REPORT_MAX_DIMS) {
		snprintf(why, whylen, "at most %d dimensions", REPORT_MAX_DIMS);
		return -EINVAL;
	}
	for (size_t i = 0; i < q->n_by; i++) {
		int dim = s_dim_find(q->by[i], receiving);

		if (dim < 0) {
			snprintf(why, whylen, "unknown dimension '%s' for the %s side (known: %s)", q->by[i],
				 receiving ? "receiving" : "sending", report_dimensions(receiving));
			return -EINVAL;
		}
		for (size_t j = 0; j < t[0].ndims; j++)
			if (t[0].dims[j] == dim) {
				snprintf(why, whylen, "dimension '%s' given twice", q->by[i]);
				return -EINVAL;
			}
		t[0].dims[t[0].ndims++] = dim;
	}
	if (q->n_by == 0)	/* default: a row per cohort */
		t[0].dims[t[0].ndims++] = D_COHORT;
	for (size_t i = 0; i < q->n_cohorts; i++)
		if (!cohort_valid(q->cohorts[i])) {
			snprintf(why, whylen, "'%s' is not a cohort (YYYY-YYYY, consecutive years)", q->cohorts[i]);
			return -EINVAL;
		}
	t[0].name = "main";
	t[0].title = "Breakdown";
	a.nt = 1;
	if (with_charts) {
		t[1] = (struct rtable){ .name = "program", .title = receiving ? "By previous education" : "By program left",
					.dims = { receiving ? D_PREVIOUS : D_PROGRAM }, .ndims = 1 };
		t[2] = (struct rtable){ .name = "destination", .title = "By destination type",
					.dims = { D_DESTINATION }, .ndims = 1 };
		t[3] = (struct rtable){ .name = "trend", .title = "Trend over cohorts",
					.dims = { D_COHORT }, .ndims = 1 };
		a.nt = 4;
	}
	r = receiving ? store_report_receiving(st, s_recv_fact, &a)
		      : store_report_sending(st, s_send_fact, &a);
	if (r < 0) {
		snprintf(why, whylen, "cannot read the store: %s", strerror(-r));
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
	    !(rep->cohorts = calloc(a.cohorts.n + 1, sizeof(char *))) ||
	    !(rep->tables = calloc(a.nt, sizeof(Overstapctl__ReportTable *))))
		goto out;
	if (a.cohorts.n)
		qsort(a.cohorts.v, a.cohorts.n, sizeof(char *), s_cmp_str);
	for (size_t i = 0; i < a.cohorts.n; i++)
		if (!(rep->cohorts[rep->n_cohorts++] = s_dup(a.cohorts.v[i])))
			goto out;
	if ((r = s_tables_out(t, a.nt, receiving, min_cell, rep)) < 0)
		goto out;
	*out = rep;
	rep = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		snprintf(why, whylen, "out of memory");
	report_free(&rep);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		s_table_free(&t[i]);
	strlist_clear(&a.cohorts);
	return r;
}
