/* report_link: the linked tables of a report laid out as one system of cells
 * and additive equations, and suppressed as one (design.md §6.4). */
#include "report_int.h"
#include "suppress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The equations a reader knows, as suppress_table wants them. */
struct eqs {
	size_t n, cap;
	size_t *total, *nparts;
	size_t **parts;		/* each owned */
};

static int s_eq_add(struct eqs *e, size_t total, const size_t *parts, size_t nparts)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
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

static int s_cmp_group(const void *x, const void *y)
{
	const struct group *a = x, *b = y;

	return strcmp(a->key, b->key);
}

void report_sys_free(struct report_sys *s)
{
	for (size_t i = 0; s->l && i < s->nt; i++)
		free(s->l[i].gs);
	free(s->l);
	free(s->v);
	free(s->sup);
	memset(s, 0, sizeof(*s));
}

/* Every table's groups sorted by key, then its total row; the counts into v. */
static int s_lay(const struct rtable *t, size_t nt, size_t ncell, struct report_sys *s)
{
	s->nt = nt;
	if (!(s->l = calloc(nt ? nt : 1, sizeof(*s->l))))
		return -ENOMEM;
	for (size_t ti = 0; ti < nt; ti++) {
		struct laid *l = &s->l[ti];
		if (!(l->gs = calloc(t[ti].n + 1, sizeof(struct group))))
			return -ENOMEM;
		for (size_t i = 0; i < t[ti].cap; i++)
			if (t[ti].g[i].key)
				l->gs[l->ng++] = t[ti].g[i];
		if (l->ng)
			qsort(l->gs, l->ng, sizeof(struct group), s_cmp_group);
		l->off = s->n;
		s->n += (l->ng + 1) * ncell;
	}
	if (!(s->v = calloc(s->n ? s->n : 1, sizeof(*s->v))) || !(s->sup = calloc(s->n ? s->n : 1, 1)))
		return -ENOMEM;
	for (size_t ti = 0; ti < nt; ti++) {
		const struct laid *l = &s->l[ti];
		for (size_t g = 0; g < l->ng; g++)
			memcpy(s->v + l->off + g * ncell, l->gs[g].c, ncell * sizeof(*s->v));
		memcpy(s->v + l->off + l->ng * ncell, t[ti].total, ncell * sizeof(*s->v));
	}
	return 0;
}

/* 1 when the dimensions of c are a strict subset of those of f; pos[k] is
 * then where c's k-th dimension sits among f's. */
static int s_subset(const struct rtable *f, const struct rtable *c, size_t *pos)
{
	if (c->ndims == 0 || c->ndims >= f->ndims)
		return 0;
	for (size_t k = 0; k < c->ndims; k++) {
		size_t j = 0;
		while (j < f->ndims && f->dims[j] != c->dims[k])
			j++;
		if (j == f->ndims)
			return 0;
		pos[k] = j;
	}
	return 1;
}

void report_key_project(const char *key, const size_t *pos, size_t npos, char *buf, size_t len)
{
	const char *field[REPORT_MAX_DIMS];
	size_t flen[REPORT_MAX_DIMS], nf = 0, at = 0;

	for (const char *p = key; nf < REPORT_MAX_DIMS; nf++) {
		const char *e = strchr(p, '\x1f');
		field[nf] = p;
		flen[nf] = e ? (size_t)(e - p) : strlen(p);
		if (!e) {
			nf++;
			break;
		}
		p = e + 1;
	}
	buf[0] = '\0';
	for (size_t k = 0; k < npos && pos[k] < nf; k++) {
		int w = snprintf(buf + at, len - at, "%s%.*s", k ? "\x1f" : "", (int)flen[pos[k]], field[pos[k]]);
		if (w < 0 || (size_t)w >= len - at)
			return;
		at += (size_t)w;
	}
}

/* A coarse table's group for a value is the sum of the fine groups that
 * project onto it, per cell: the margin a reader checks between two
 * breakdowns. The fine groups are bucketed by their coarse group first. */
static int s_margins(const struct report_sys *s, const struct rtable *t, size_t fi, size_t ci,
		     const size_t *pos, const struct link_spec *sp, struct eqs *e)
{
	const struct laid *f = &s->l[fi], *c = &s->l[ci];
	size_t nf = f->ng ? f->ng : 1;
	size_t *of = malloc(nf * sizeof(size_t));		/* fine group -> coarse group */
	size_t *start = calloc(c->ng + 1, sizeof(size_t));	/* bucket offsets */
	size_t *by = malloc(nf * sizeof(size_t));		/* fine groups, by bucket */
	size_t *cells = malloc(nf * sizeof(size_t));
	char buf[REPORT_MAX_DIMS * 72];
	int r = -ENOMEM;

	if (!of || !start || !by || !cells)
		goto out;
	for (size_t g = 0; g < f->ng; g++) {
		struct group key = { .key = buf };
		const struct group *hit;
		report_key_project(f->gs[g].key, pos, t[ci].ndims, buf, sizeof(buf));
		hit = bsearch(&key, c->gs, c->ng, sizeof(struct group), s_cmp_group);
		if (!hit) {	/* both tables count the same facts: a broken invariant */
			r = -EINVAL;
			goto out;
		}
		of[g] = (size_t)(hit - c->gs);
		start[of[g] + 1]++;
	}
	for (size_t w = 0; w < c->ng; w++)
		start[w + 1] += start[w];
	for (size_t g = 0; g < f->ng; g++)	/* start[w] is the fill cursor, restored below */
		by[start[of[g]]++] = g;
	for (size_t w = c->ng; w > 0; w--)
		start[w] = start[w - 1];
	start[0] = 0;
	r = 0;
	for (size_t w = 0; r == 0 && w < c->ng; w++)
		for (size_t k = 0; r == 0 && k < sp->ncell; k++) {
			size_t np = 0;
			for (size_t q = start[w]; q < start[w + 1]; q++)
				cells[np++] = f->off + by[q] * sp->ncell + k;
			r = s_eq_add(e, c->off + w * sp->ncell + k, cells, np);
		}
out:
	free(of);
	free(start);
	free(by);
	free(cells);
	return r;
}

/* The equations inside table ti, and to the first table's total row. */
static int s_table_eqs(const struct report_sys *s, size_t ti, const struct link_spec *sp, struct eqs *e)
{
	const struct laid *l = &s->l[ti];
	size_t *parts = malloc((l->ng + 2) * sizeof(size_t));
	int r = parts ? 0 : -ENOMEM;

	/* columns: the groups add up to the total row */
	for (size_t c = 0; r == 0 && c < sp->ncell && l->ng > 0; c++) {
		for (size_t g = 0; g < l->ng; g++)
			parts[g] = l->off + g * sp->ncell + c;
		r = s_eq_add(e, l->off + l->ng * sp->ncell + c, parts, l->ng);
	}
	/* rows: handed_over = with_consent + no_consent */
	for (size_t row = 0; r == 0 && sp->identity && row <= l->ng; row++) {
		parts[0] = l->off + row * sp->ncell + sp->consent;
		parts[1] = l->off + row * sp->ncell + sp->noconsent;
		r = s_eq_add(e, l->off + row * sp->ncell + sp->handed, parts, 2);
	}
	/* every table counts the same pupils: one total */
	for (size_t c = 0; r == 0 && ti > 0 && c < sp->ncell; c++) {
		parts[0] = s->l[0].off + s->l[0].ng * sp->ncell + c;
		r = s_eq_add(e, l->off + l->ng * sp->ncell + c, parts, 1);
	}
	free(parts);
	return r;
}

/* All equations: each table's own, and its margins onto every table whose
 * dimensions are a strict subset of its own. */
static int s_equations(const struct report_sys *s, const struct rtable *t, size_t nt,
		       const struct link_spec *sp, struct eqs *e)
{
	size_t pos[REPORT_MAX_DIMS];
	int r = 0;

	for (size_t fi = 0; r == 0 && fi < nt; fi++) {
		r = s_table_eqs(s, fi, sp, e);
		for (size_t ci = 0; r == 0 && ci < nt; ci++)
			if (ci != fi && s_subset(&t[fi], &t[ci], pos))
				r = s_margins(s, t, fi, ci, pos, sp, e);
	}
	return r;
}

int report_link_suppress(const struct rtable *t, size_t nt, const struct link_spec *sp, unsigned min_cell,
			 struct report_sys *out)
{
	struct report_sys s = { 0 };
	struct eqs e = { 0 };
	uint8_t *positive = NULL, *keep = NULL;
	int r;

	if ((r = s_lay(t, nt, sp->ncell, &s)) < 0 || (r = s_equations(&s, t, nt, sp, &e)) < 0)
		goto out;
	r = -ENOMEM;
	if (!(positive = calloc(s.n ? s.n : 1, 1)) || !(keep = calloc(s.n ? s.n : 1, 1)))
		goto out;
	/* Give up cells of the finer tables first, total rows last: the level
	 * is the table's number of dimensions counted down, 0 for the finest. */
	for (size_t ti = 0; ti < nt; ti++)
		for (size_t i = 0; i < (s.l[ti].ng + 1) * sp->ncell; i++)
			keep[s.l[ti].off + i] = i >= s.l[ti].ng * sp->ncell ? REPORT_MAX_DIMS + 1
					       : (uint8_t)(REPORT_MAX_DIMS - t[ti].ndims);
	/* A row of a one-dimension table is listed because it has a pupil, and
	 * a reader knows it; so is the total of a table with rows. The
	 * two-dimension tables list every combination (report_int.h). */
	for (size_t ti = 0; ti < nt; ti++)
		for (size_t row = 0; s.l[ti].ng && row <= s.l[ti].ng; row++)
			if (t[ti].ndims == 1 || row == s.l[ti].ng)
				positive[s.l[ti].off + row * sp->ncell + sp->head] = 1;
	{
		struct suppress_table st = { .n = s.n, .value = s.v, .suppressed = s.sup, .neq = e.n,
					     .total = e.total, .parts = (const size_t *const *)e.parts,
					     .nparts = e.nparts, .positive = positive, .keep = keep,
					     .min_cell = min_cell };

		suppress_primary(&st, min_cell);
		if ((r = suppress_secondary(&st)) < 0)
			goto out;
	}
	*out = s;
	memset(&s, 0, sizeof(s));	/* transferred */
	r = 0;
out:
	report_sys_free(&s);
	s_eqs_free(&e);
	free(positive);
	free(keep);
	return r;
}
