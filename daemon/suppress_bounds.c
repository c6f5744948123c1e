/* suppress_bounds: the bound step and the split into connected components of
 * suppress_secondary (suppress.h), and the rate rule. The linear greedy it
 * alternates with is in suppress.c. */
#include "suppress.h"
#include "suppress_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 s_u128;

/* ---- the bound step ---- */

/* "No upper bound": far above any count, and sums of a few stay in int64. */
#define S_INF (INT64_MAX / 4)

/* The interval a reader knows for cell i before any equation: the value
 * when shown; 0..min_cell-1 for a primary cell ("<5"), min_cell.. for a
 * secondary one ("x"); at least 1 when positive. */
static void s_bounds_init(const struct suppress_table *t, int64_t *lo, int64_t *hi)
{
	for (size_t i = 0; i < t->n; i++) {
		int64_t v = t->value[i] > (uint64_t)S_INF ? S_INF : (int64_t)t->value[i];
		if (!t->suppressed[i]) {
			lo[i] = hi[i] = v;
		} else if (t->value[i] < t->min_cell) {
			lo[i] = t->positive && t->positive[i] ? 1 : 0;
			hi[i] = (int64_t)t->min_cell - 1;
		} else {
			lo[i] = t->min_cell;
			hi[i] = S_INF;
		}
	}
}

/* Narrow every cell of equation k from the others: total in [sum lo, sum
 * hi] of the parts, each part in [lo_t - (others' hi), hi_t - (others' lo)].
 * An unbounded hi stays unbounded. Returns 1 when something narrowed. */
static int s_bounds_eq(const struct suppress_table *t, size_t k, int64_t *lo, int64_t *hi)
{
	const size_t tot = t->total[k];
	int64_t slo = 0, shi = 0;
	size_t ninf = 0;
	int changed = 0;

	for (size_t p = 0; p < t->nparts[k]; p++) {
		size_t c = t->parts[k][p];
		slo += lo[c];
		if (hi[c] >= S_INF)
			ninf++;
		else
			shi += hi[c];
	}
	if (lo[tot] < slo)
		lo[tot] = slo, changed = 1;
	if (!ninf && hi[tot] > shi)
		hi[tot] = shi, changed = 1;
	for (size_t p = 0; p < t->nparts[k]; p++) {
		size_t c = t->parts[k][p];
		int inf_c = hi[c] >= S_INF;
		if (ninf - (size_t)inf_c == 0) {	/* the others are bounded */
			int64_t l = lo[tot] - (shi - (inf_c ? 0 : hi[c]));
			if (l > lo[c])
				lo[c] = l, changed = 1;
		}
		if (hi[tot] < S_INF) {
			int64_t h = hi[tot] - (slo - lo[c]);
			if (h < hi[c])
				hi[c] = h, changed = 1;
		}
	}
	return changed;
}

/* The cell to withhold for pinned cell i: over the equations holding i, the
 * shown cell each would give (suppress_eq_smallest_shown), the one of the
 * lowest level (t->keep) first, then the first equation's; S_NONE when there
 * is none. The lowest level keeps a pin in a fine table from spreading to
 * the coarser tables and the totals. */
static size_t s_bounds_partner(const struct suppress_table *t, size_t i)
{
	size_t pick = S_NONE;

	for (size_t k = 0; k < t->neq; k++) {
		int holds = t->total[k] == i;
		for (size_t p = 0; !holds && p < t->nparts[k]; p++)
			holds = t->parts[k][p] == i;
		size_t best = holds ? suppress_eq_smallest_shown(t, k) : S_NONE;
		if (best != S_NONE && (pick == S_NONE || (t->keep && t->keep[best] < t->keep[pick])))
			pick = best;
		if (pick != S_NONE && !t->keep)
			break;
	}
	return pick;
}

/* The bound step: propagate the intervals over the equations until stable
 * (capped: each round only narrows, integers, so it ends; the cap bounds a
 * pathological slow shrink), then withhold the partner of every withheld
 * cell pinned to one value, all in one round. Returns how many it added. */
static int s_bounds_step(struct suppress_table *t)
{
	int64_t *lo = malloc((t->n ? t->n : 1) * sizeof(*lo));
	int64_t *hi = malloc((t->n ? t->n : 1) * sizeof(*hi));
	uint8_t *pinned = malloc(t->n ? t->n : 1);
	int changed = 1, added = 0;

	if (!lo || !hi || !pinned) {
		added = -ENOMEM;
		goto out;
	}
	s_bounds_init(t, lo, hi);
	for (int round = 0; changed && round < 10000; round++) {
		changed = 0;
		for (size_t k = 0; k < t->neq; k++)
			changed |= s_bounds_eq(t, k, lo, hi);
	}
	/* pinned first, picked after: a pick must not change what counts as pinned */
	for (size_t i = 0; i < t->n; i++)
		pinned[i] = t->suppressed[i] && lo[i] == hi[i];
	for (size_t i = 0; i < t->n; i++) {
		size_t pick = pinned[i] ? s_bounds_partner(t, i) : S_NONE;
		if (pick != S_NONE && !t->suppressed[pick]) {
			t->suppressed[pick] = 1;
			added++;
		}
	}
out:
	free(lo);
	free(hi);
	free(pinned);
	return added;
}

/* ---- the linear step for a large component ---- */

/* Above this many cells a component takes the quick path: the greedy of
 * suppress.c scores every shown cell with one elimination of the whole
 * matrix per cell added, which for the linked tables of a report (a few
 * thousand cells per component, design.md §6.4) took minutes on 2,000
 * leavers, and at 1,000 cells still made test_report 17 s (75 s under
 * ASan); at 200 it takes 0.6 s and every test holds. */
#define S_QUICK_CELLS 200

/* Equations by cell (counting sort), for the partner search. */
struct s_index {
	size_t *off;		/* n+1 */
	size_t *eqs;
};

static int s_index_init(const struct suppress_table *t, struct s_index *x)
{
	size_t total = 0;

	for (size_t k = 0; k < t->neq; k++)
		total += t->nparts[k] + 1;
	x->off = calloc(t->n + 1, sizeof(size_t));
	x->eqs = malloc((total ? total : 1) * sizeof(size_t));
	if (!x->off || !x->eqs)
		return -ENOMEM;
	for (size_t k = 0; k < t->neq; k++) {
		x->off[t->total[k] + 1]++;
		for (size_t p = 0; p < t->nparts[k]; p++)
			x->off[t->parts[k][p] + 1]++;
	}
	for (size_t i = 0; i < t->n; i++)
		x->off[i + 1] += x->off[i];
	for (size_t k = 0; k < t->neq; k++) {	/* off[c] is the fill cursor, restored below */
		x->eqs[x->off[t->total[k]]++] = k;
		for (size_t p = 0; p < t->nparts[k]; p++)
			x->eqs[x->off[t->parts[k][p]]++] = k;
	}
	for (size_t i = t->n; i > 0; i--)
		x->off[i] = x->off[i - 1];
	x->off[0] = 0;
	return 0;
}

/* The singleton rule: an equation with exactly one withheld cell gives it
 * away, so its smallest shown cell is withheld too; until no equation has
 * one. Cheap, and it does most of the work on report tables. */
static int s_singletons(struct suppress_table *t)
{
	int added = 0, changed = 1;

	while (changed) {
		changed = 0;
		for (size_t k = 0; k < t->neq; k++) {
			size_t w = t->suppressed[t->total[k]] != 0, pick;
			for (size_t p = 0; p < t->nparts[k] && w < 2; p++)
				w += t->suppressed[t->parts[k][p]] != 0;
			if (w != 1 || (pick = suppress_eq_smallest_shown(t, k)) == S_NONE)
				continue;
			t->suppressed[pick] = 1;
			added++;
			changed = 1;
		}
	}
	return added;
}

/* The partner of determined cell i, as suppress.c's s_partner: the smallest
 * shown cell of the nearest equation that has one, breadth-first from i
 * through equations whose cells are all withheld; S_NONE when none. seen_eq
 * (neq) and seen_cell (n) are scratch. */
static size_t s_quick_partner(const struct suppress_table *t, const struct s_index *x, size_t i,
			      size_t *queue, uint8_t *seen_eq, uint8_t *seen_cell)
{
	size_t head = 0, tail = 0;

	memset(seen_eq, 0, t->neq);
	memset(seen_cell, 0, t->n);
	seen_cell[i] = 1;
	for (size_t e = x->off[i]; e < x->off[i + 1]; e++)
		if (!seen_eq[x->eqs[e]]) {
			seen_eq[x->eqs[e]] = 1;
			queue[tail++] = x->eqs[e];
		}
	while (head < tail) {
		size_t k = queue[head++], best = suppress_eq_smallest_shown(t, k);
		if (best != S_NONE)
			return best;
		for (size_t p = 0; p <= t->nparts[k]; p++) {
			size_t c = p ? t->parts[k][p - 1] : t->total[k];
			if (seen_cell[c])
				continue;
			seen_cell[c] = 1;
			for (size_t e = x->off[c]; e < x->off[c + 1]; e++)
				if (!seen_eq[x->eqs[e]]) {
					seen_eq[x->eqs[e]] = 1;
					queue[tail++] = x->eqs[e];
				}
		}
	}
	return S_NONE;
}

/* The quick path, for a component over S_QUICK_CELLS cells: the singleton
 * rule and the bound step (both cheap) until neither adds a cell, then one
 * exact elimination (suppress_find_determined); each determined cell gets
 * its partner withheld, all in one round; again until no cell is
 * determined, or none that has a partner left (the equations fix it on
 * their own: suppress.c's "fixed" cells). Deterministic; it
 * may withhold more cells than the scored greedy would. */
static int s_quick(struct suppress_table *t)
{
	struct s_index x = { 0 };
	uint8_t *det = malloc(t->n ? t->n : 1), *seen_eq = malloc(t->neq ? t->neq : 1);
	uint8_t *seen_cell = malloc(t->n ? t->n : 1);
	size_t *queue = malloc((t->neq ? t->neq : 1) * sizeof(size_t));
	int added = 0, r = -ENOMEM;

	if (!det || !seen_eq || !seen_cell || !queue || s_index_init(t, &x) < 0)
		goto out;
	for (;;) {
		int round;
		do {
			round = s_singletons(t);
			if (t->min_cell && (r = s_bounds_step(t)) < 0)
				goto out;
			round += t->min_cell ? r : 0;
			added += round;
		} while (round);
		if ((r = suppress_find_determined(t, det)) <= 0)
			break;
		for (size_t i = 0; i < t->n; i++) {
			size_t pick = det[i] ? s_quick_partner(t, &x, i, queue, seen_eq, seen_cell) : S_NONE;
			if (pick != S_NONE && !t->suppressed[pick]) {
				t->suppressed[pick] = 1;
				round++;
			}
		}
		if (!round)
			break;	/* r > 0 cells left, none can be freed by us */
		added += round;
	}
	if (r >= 0)
		r = added;
out:
	free(det);
	free(seen_eq);
	free(seen_cell);
	free(queue);
	free(x.off);
	free(x.eqs);
	return r;
}

/* One connected component: the linear step, then the bound step, in turn
 * until neither adds a cell (the quick path does both itself). */
static int s_secondary_one(struct suppress_table *t)
{
	int added = 0, r;

	if (t->n > S_QUICK_CELLS)
		return s_quick(t);
	for (;;) {
		if ((r = suppress_linear(t)) < 0)
			return r;
		added += r;
		if (!t->min_cell)
			return added;
		if ((r = s_bounds_step(t)) <= 0)
			return r < 0 ? r : added;
		added += r;
	}
}

/* ---- connected components ---- */

static size_t s_root(size_t *up, size_t i)
{
	while (up[i] != i)
		i = up[i] = up[up[i]];
	return i;
}

/* The component workspace: cells linked by equations, numbered by their
 * lowest cell so that the order (and so the result) is fixed. */
struct s_comp {
	size_t *up;		/* n: union-find parent, then the component of each cell */
	size_t *loc;		/* n: a cell's index inside its component */
	size_t *cells;		/* n: the component's cells, ascending */
	size_t *eqs;		/* neq: the component's equations */
	size_t *total, *nparts, *pool;	/* the sub-table's equations */
	const size_t **parts;
	uint64_t *value;
	uint8_t *sup, *positive, *keep;
};

static void s_comp_free(struct s_comp *c)
{
	free(c->up);
	free(c->loc);
	free(c->cells);
	free(c->eqs);
	free(c->total);
	free(c->nparts);
	free(c->pool);
	free(c->parts);
	free(c->value);
	free(c->sup);
	free(c->positive);
	free(c->keep);
}

static int s_comp_init(const struct suppress_table *t, struct s_comp *c)
{
	size_t n1 = t->n ? t->n : 1, q1 = t->neq ? t->neq : 1, np = 0;

	for (size_t k = 0; k < t->neq; k++)
		np += t->nparts[k];
	memset(c, 0, sizeof(*c));
	c->up = malloc(n1 * sizeof(size_t));
	c->loc = malloc(n1 * sizeof(size_t));
	c->cells = malloc(n1 * sizeof(size_t));
	c->eqs = malloc(q1 * sizeof(size_t));
	c->total = malloc(q1 * sizeof(size_t));
	c->nparts = malloc(q1 * sizeof(size_t));
	c->parts = malloc(q1 * sizeof(*c->parts));
	c->pool = malloc((np ? np : 1) * sizeof(size_t));
	c->value = malloc(n1 * sizeof(uint64_t));
	c->sup = malloc(n1);
	c->positive = malloc(n1);
	c->keep = malloc(n1);
	if (!c->up || !c->loc || !c->cells || !c->eqs || !c->total || !c->nparts || !c->parts ||
	    !c->pool || !c->value || !c->sup || !c->positive || !c->keep)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		c->up[i] = i;
	for (size_t k = 0; k < t->neq; k++)
		for (size_t p = 0; p < t->nparts[k]; p++) {
			size_t a = s_root(c->up, t->total[k]), b = s_root(c->up, t->parts[k][p]);
			/* the lower index becomes the root: the root is the lowest cell */
			if (a != b)
				c->up[a > b ? a : b] = a < b ? a : b;
		}
	for (size_t i = 0; i < t->n; i++)
		c->up[i] = s_root(c->up, i);
	return 0;
}

/* Copy the component rooted at cell root into a sub-table, run it, write
 * its flags back. Returns the cells added or an error. */
static int s_comp_run(const struct suppress_table *t, struct s_comp *c, size_t root)
{
	struct suppress_table sub = { .value = c->value, .suppressed = c->sup, .total = c->total,
				      .parts = c->parts, .nparts = c->nparts,
				      .positive = c->positive, .keep = t->keep ? c->keep : NULL,
				      .min_cell = t->min_cell };
	size_t used = 0, any = 0;
	int r;

	for (size_t i = root; i < t->n; i++) {
		if (c->up[i] != root)
			continue;
		c->loc[i] = sub.n;
		c->cells[sub.n] = i;
		c->value[sub.n] = t->value[i];
		c->sup[sub.n] = t->suppressed[i];
		c->positive[sub.n] = t->positive ? t->positive[i] : 0;
		c->keep[sub.n] = t->keep ? t->keep[i] : 0;
		any |= t->suppressed[i];
		sub.n++;
	}
	if (!any)
		return 0;	/* nothing withheld, nothing to protect */
	for (size_t k = 0; k < t->neq; k++) {
		if (c->up[t->total[k]] != root)
			continue;
		c->total[sub.neq] = c->loc[t->total[k]];
		c->nparts[sub.neq] = t->nparts[k];
		c->parts[sub.neq] = c->pool + used;
		for (size_t p = 0; p < t->nparts[k]; p++)
			c->pool[used++] = c->loc[t->parts[k][p]];
		sub.neq++;
	}
	if ((r = s_secondary_one(&sub)) < 0)
		return r;
	for (size_t j = 0; j < sub.n; j++)
		t->suppressed[c->cells[j]] |= c->sup[j];
	return r;
}

int suppress_secondary(struct suppress_table *t)
{
	struct s_comp c;
	int r = suppress_valid(t), added = 0;

	if (r < 0)
		return r;
	if ((r = s_comp_init(t, &c)) < 0)
		goto out;
	for (size_t i = 0; i < t->n; i++) {
		if (c.up[i] != i)
			continue;	/* not the lowest cell of its component */
		if ((r = s_comp_run(t, &c, i)) < 0)
			goto out;
		added += r;
	}
	r = added;
out:
	s_comp_free(&c);
	return r;
}

int suppress_rate(uint64_t c, int c_sup, uint64_t d, int d_sup, char *buf, size_t len)
{
	int n;

	if (!buf || (!c_sup && !d_sup && c > d))
		return -EINVAL;
	if (c_sup || d_sup || d == 0) {
		if (len < 2)
			return -ENOSPC;
		buf[0] = '-';
		buf[1] = '\0';
		return SUPPRESS_RATE_HIDDEN;
	}
	/* 100*c/d, half up */
	n = snprintf(buf, len, "%u%%", (unsigned)((200 * (s_u128)c + d) / (2 * (s_u128)d)));
	return n < 0 || (size_t)n >= len ? -ENOSPC : SUPPRESS_RATE_SHOWN;
}
