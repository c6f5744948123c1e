/* suppress: primary and secondary cell suppression and rate clamps for reports. */
#include "suppress.h"
#include "suppress_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exact elimination keeps rows as int64 and computes each update in 128 bits
 * before dividing the row by its gcd. Doubles could call a dependent cell free
 * (or the reverse) after rounding; this cannot. */
__extension__ typedef __int128 s_i128;
__extension__ typedef unsigned __int128 s_u128;


/* The equations as an integer matrix, one row per equation that is not all
 * zero. The first nsup columns are the suppressed cells in index order; a
 * "full" matrix also has the shown cells after them, which the greedy uses to
 * score candidates. Pivots are only ever taken in the suppressed columns. */
struct s_mat {
	size_t rows;		/* rows in use */
	size_t cols;		/* nsup, plus the shown cells when full */
	size_t nsup;		/* suppressed cells */
	size_t rank;		/* after s_mat_reduce: rows 0..rank-1 hold pivots */
	int64_t *a;		/* rows x cols, row-major, owned */
	size_t *cell;		/* cols: the cell index of each column, owned */
	size_t *pivcol;		/* rows: pivot column of each pivot row, owned */
	s_i128 *tmp;		/* cols: one row being updated, owned */
	size_t *nz;		/* cols: nonzero columns of the current pivot row, owned */
	size_t nnz;		/* entries in nz */
};

static void s_mat_free(struct s_mat *m)
{
	free(m->a);
	free(m->cell);
	free(m->pivcol);
	free(m->tmp);
	free(m->nz);
	memset(m, 0, sizeof(*m));
}

int suppress_valid(const struct suppress_table *t)
{
	if (!t || t->n > INT_MAX)
		return -EINVAL;
	if (t->n && (!t->value || !t->suppressed))
		return -EINVAL;
	if (t->neq && (!t->total || !t->parts || !t->nparts))
		return -EINVAL;
	for (size_t k = 0, sum = 0; k < t->neq; k++) {
		/* s_work_init sizes one array by the sum of the equation lengths. */
		if (t->nparts[k] >= SIZE_MAX / 16 - sum)
			return -EINVAL;
		sum += t->nparts[k] + 1;
		if (t->total[k] >= t->n || (t->nparts[k] && !t->parts[k]))
			return -EINVAL;
		for (size_t p = 0; p < t->nparts[k]; p++)
			if (t->parts[k][p] >= t->n)
				return -EINVAL;
	}
	return 0;
}

/* Cell p of equation k: p == 0 is the total, p in 1..nparts[k] the parts. */
static size_t s_eq_cell(const struct suppress_table *t, size_t k, size_t p)
{
	return p ? t->parts[k][p - 1] : t->total[k];
}

static int s_row_zero(const int64_t *row, size_t cols)
{
	for (size_t c = 0; c < cols; c++)
		if (row[c])
			return 0;
	return 1;
}

/* Build the matrix: +1 for the total, -1 for each part, summed when a cell
 * appears more than once. All-zero rows are left out. */
static int s_mat_build(const struct suppress_table *t, struct s_mat *m, int full)
{
	size_t *col = NULL, n1 = t->n ? t->n : 1;
	int r = -ENOMEM;

	memset(m, 0, sizeof(*m));
	col = malloc(n1 * sizeof(*col));
	m->cell = malloc(n1 * sizeof(*m->cell));
	if (!col || !m->cell)
		goto out;
	for (size_t i = 0; i < t->n; i++)
		m->nsup += t->suppressed[i] != 0;
	/* Suppressed cells first, then (when full) the shown ones. */
	for (size_t i = 0, s = 0, u = m->nsup; i < t->n; i++) {
		col[i] = t->suppressed[i] ? s++ : full ? u++ : S_NONE;
		if (col[i] != S_NONE)
			m->cell[col[i]] = i;
	}
	m->cols = full ? t->n : m->nsup;
	if (m->cols && t->neq > SIZE_MAX / sizeof(int64_t) / m->cols)
		goto out;
	m->a = calloc(t->neq && m->cols ? t->neq * m->cols : 1, sizeof(*m->a));
	m->pivcol = malloc((t->neq ? t->neq : 1) * sizeof(*m->pivcol));
	m->tmp = malloc((m->cols ? m->cols : 1) * sizeof(*m->tmp));
	m->nz = malloc((m->cols ? m->cols : 1) * sizeof(*m->nz));
	if (!m->a || !m->pivcol || !m->tmp || !m->nz)
		goto out;
	for (size_t k = 0; k < t->neq && m->nsup; k++) {
		int64_t *row = m->a + m->rows * m->cols;
		for (size_t p = 0; p <= t->nparts[k]; p++) {
			size_t c = col[s_eq_cell(t, k, p)];
			if (c != S_NONE)
				row[c] += p ? -1 : 1;
		}
		/* A row that cancelled out, or was never touched, is all zero and
		 * is reused by the next equation. */
		if (!s_row_zero(row, m->cols))
			m->rows++;
	}
	r = 0;
out:
	free(col);
	if (r < 0)
		s_mat_free(m);
	return r;
}

static s_u128 s_abs(s_i128 v)
{
	return v < 0 ? (s_u128)0 - (s_u128)v : (s_u128)v;
}

static s_u128 s_gcd(s_u128 a, s_u128 b)
{
	while (b) {
		s_u128 r = a % b;
		a = b;
		b = r;
	}
	return a;
}

/* Divide the values in tmp by their gcd, make the entry at column lead
 * positive when flip is set, and store them as the row. -EOVERFLOW when a
 * reduced value does not fit in int64. */
static int s_row_store(struct s_mat *m, int64_t *row, size_t lead, int flip)
{
	s_u128 g = 0;
	s_i128 sign = flip && m->tmp[lead] < 0 ? -1 : 1;

	/* Rows of 0/±1 tables nearly always hold a ±1: stop at gcd 1. */
	for (size_t j = 0; j < m->cols && g != 1; j++)
		if (m->tmp[j])
			g = s_gcd(g, s_abs(m->tmp[j]));
	if (!g)
		g = 1;
	/* g <= |tmp[j]| < 2^127 for some j, so it fits the signed type. */
	for (size_t j = 0; j < m->cols; j++) {
		s_i128 q = m->tmp[j];
		if (q && g != 1)
			q /= (s_i128)g;
		q *= sign;
		if (q > INT64_MAX || q < -INT64_MAX)
			return -EOVERFLOW;
		row[j] = (int64_t)q;
	}
	return 0;
}

/* row := f*row - g*piv, with f = piv[c] > 0 and g = row[c], then reduced.
 * |f*row[j]|, |g*piv[j]| < 2^126, so the difference fits in 128 bits. With
 * f == 1 (the usual case) only the pivot's nonzero columns m->nz change, in
 * 64 bits while the values allow. */
static int s_row_eliminate(struct s_mat *m, int64_t *row, const int64_t *piv, size_t c)
{
	int64_t f = piv[c], g = row[c];
	size_t q = 0;

	if (f == 1) {
		for (; q < m->nnz; q++) {
			size_t j = m->nz[q];
			int64_t gp, v;
			if (__builtin_mul_overflow(g, piv[j], &gp) ||
			    __builtin_sub_overflow(row[j], gp, &v) || v == INT64_MIN)
				break;
			row[j] = v;
		}
		if (q == m->nnz)
			return 0;	/* not gcd-reduced: harmless, nothing was scaled */
		/* Overflow at nz[q]: the columns before it are done; finish the
		 * rest in 128 bits. */
		for (size_t j = 0; j < m->cols; j++)
			m->tmp[j] = row[j];
		for (; q < m->nnz; q++)
			m->tmp[m->nz[q]] -= (s_i128)g * piv[m->nz[q]];
		return s_row_store(m, row, c, 0);
	}
	for (size_t j = 0; j < m->cols; j++)
		m->tmp[j] = (s_i128)f * row[j] - (s_i128)g * piv[j];
	return s_row_store(m, row, c, 0);
}

static void s_row_swap(struct s_mat *m, size_t x, size_t y)
{
	int64_t *a = m->a + x * m->cols, *b = m->a + y * m->cols;

	for (size_t j = 0; x != y && j < m->cols; j++) {
		int64_t v = a[j];
		a[j] = b[j];
		b[j] = v;
	}
}

/* Gauss-Jordan to reduced row echelon form over the suppressed columns; the
 * shown columns (if any) undergo the same row operations. Only rows holding
 * a nonzero in the pivot column are touched. */
static int s_mat_reduce(struct s_mat *m)
{
	size_t rk = 0;
	int r;

	for (size_t c = 0; c < m->nsup && rk < m->rows; c++) {
		size_t best = S_NONE;
		for (size_t i = rk; i < m->rows; i++) {
			int64_t v = m->a[i * m->cols + c];
			if (v && (best == S_NONE ||
				  s_abs(v) < s_abs(m->a[best * m->cols + c])))
				best = i;
			if (v == 1 || v == -1)
				break;	/* no smaller pivot exists: the first one wins */
		}
		if (best == S_NONE)
			continue;	/* free column */
		s_row_swap(m, rk, best);
		int64_t *piv = m->a + rk * m->cols;
		for (size_t j = 0; j < m->cols; j++)
			m->tmp[j] = piv[j];
		if ((r = s_row_store(m, piv, c, 1)) < 0)
			return r;
		m->nnz = 0;
		for (size_t j = 0; j < m->cols; j++)
			if (piv[j])
				m->nz[m->nnz++] = j;
		for (size_t i = 0; i < m->rows; i++) {
			int64_t *row = m->a + i * m->cols;
			if (i != rk && row[c] && (r = s_row_eliminate(m, row, piv, c)) < 0)
				return r;
		}
		m->pivcol[rk++] = c;
	}
	m->rank = rk;
	return 0;
}

/* e_i lies in the row space of a matrix in reduced row echelon form exactly
 * when some row is e_i: writing e_i as a combination of the rows, the
 * coefficient of each row is e_i at that row's pivot, so only the row whose
 * pivot is i can take part, and it must then be e_i itself. Sets det[cell]
 * (n bytes, zeroed here) and, when rowdet is not NULL, rowdet[k] for each
 * pivot row k that is such a unit row. Returns how many. */
static int s_mat_determined(const struct suppress_table *t, const struct s_mat *m,
			    uint8_t *det, uint8_t *rowdet)
{
	int count = 0;

	if (t->n)	/* det may be NULL for an empty table */
		memset(det, 0, t->n);
	for (size_t k = 0; k < m->rank; k++) {
		const int64_t *row = m->a + k * m->cols;
		size_t nz = 0;
		for (size_t j = 0; j < m->nsup && nz < 2; j++)
			nz += row[j] != 0;
		if (rowdet)
			rowdet[k] = nz == 1;
		if (nz == 1) {
			det[m->cell[m->pivcol[k]]] = 1;
			count++;
		}
	}
	return count;
}

static int s_find(const struct suppress_table *t, uint8_t *det)
{
	struct s_mat m;
	int r;

	if ((r = s_mat_build(t, &m, 0)) < 0)
		return r;
	if ((r = s_mat_reduce(&m)) >= 0)
		r = s_mat_determined(t, &m, det, NULL);
	s_mat_free(&m);
	return r;
}

void suppress_primary(struct suppress_table *t, unsigned min_cell)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->value[i] < min_cell)
			t->suppressed[i] = 1;
}

int suppress_find_determined(const struct suppress_table *t, uint8_t *det)
{
	int r = suppress_valid(t);

	if (r < 0 || (!det && t->n))
		return r < 0 ? r : -EINVAL;
	return s_find(t, det);
}

int suppress_determined(const struct suppress_table *t, size_t i)
{
	uint8_t *det;
	int r = suppress_valid(t);

	if (r < 0 || i >= t->n)
		return r < 0 ? r : -EINVAL;
	if (!t->suppressed[i])
		return 0;
	if (!(det = malloc(t->n)))
		return -ENOMEM;
	r = s_find(t, det);
	if (r >= 0)
		r = det[i];
	free(det);
	return r;
}

/* For the greedy: which equations each cell appears in, in equation order. */
struct s_work {
	size_t *off;		/* n+1 offsets into eqs */
	size_t *eqs;		/* equation indices, per cell, ascending, no repeats */
	size_t *queue;		/* neq: breadth-first queue of equations */
	uint8_t *eq_seen;	/* neq */
	uint8_t *cell_seen;	/* n */
	uint8_t *det;		/* n: determined cells of the current pattern */
	uint8_t *stuck;		/* n: no partner found (implies fixed; a safety net) */
	uint8_t *fixed;		/* n: determined even with every cell suppressed */
	uint8_t *rowdet;	/* neq: pivot rows that reveal their cell */
	size_t *expo;		/* n, by column: revealing equations holding it */
	size_t *freed;		/* n, by column: for s_best */
};

static void s_work_free(struct s_work *w)
{
	free(w->off);
	free(w->eqs);
	free(w->queue);
	free(w->eq_seen);
	free(w->cell_seen);
	free(w->det);
	free(w->stuck);
	free(w->fixed);
	free(w->rowdet);
	free(w->expo);
	free(w->freed);
}

/* fixed[i] = 1 for the cells the equations determine on their own (say z in
 * "t = a" and "t = a + z", which forces z = 0): determined with every cell
 * suppressed, so determined whatever we suppress. The greedy leaves them be. */
static int s_fixed(const struct suppress_table *t, uint8_t *fixed)
{
	struct suppress_table all = *t;
	uint8_t *ones;
	int r;

	if (!all.n)
		return 0;
	if (!(ones = malloc(all.n)))
		return -ENOMEM;
	memset(ones, 1, all.n);
	all.suppressed = ones;
	r = s_find(&all, fixed);
	free(ones);
	return r < 0 ? r : 0;
}

/* Index the equations by cell (counting sort); last[] makes a cell that
 * appears twice in one equation list it once. */
static int s_work_init(const struct suppress_table *t, struct s_work *w)
{
	size_t total = 0, n1 = t->n + 1, q1 = t->neq ? t->neq : 1, *last;

	memset(w, 0, sizeof(*w));
	for (size_t k = 0; k < t->neq; k++)
		total += t->nparts[k] + 1;
	last = malloc(n1 * sizeof(*last));
	w->off = calloc(n1, sizeof(*w->off));
	w->eqs = malloc((total ? total : 1) * sizeof(*w->eqs));
	w->queue = malloc(q1 * sizeof(*w->queue));
	w->eq_seen = malloc(q1);
	w->cell_seen = malloc(n1);
	w->det = malloc(n1);
	w->stuck = calloc(n1, 1);
	w->fixed = malloc(n1);
	w->rowdet = malloc(q1);
	w->expo = malloc(n1 * sizeof(*w->expo));
	w->freed = malloc(n1 * sizeof(*w->freed));
	if (!last || !w->off || !w->eqs || !w->queue || !w->eq_seen ||
	    !w->cell_seen || !w->det || !w->stuck || !w->fixed || !w->rowdet || !w->expo ||
	    !w->freed) {
		free(last);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++)
		last[i] = S_NONE;
	for (size_t k = 0; k < t->neq; k++)
		for (size_t p = 0; p <= t->nparts[k]; p++) {
			size_t c = s_eq_cell(t, k, p);
			if (last[c] != k)
				w->off[c + 1]++;
			last[c] = k;
		}
	for (size_t i = 0; i < t->n; i++) {
		w->off[i + 1] += w->off[i];
		last[i] = S_NONE;
	}
	/* off[c] serves as the fill cursor, then is restored from its neighbour. */
	for (size_t k = 0; k < t->neq; k++)
		for (size_t p = 0; p <= t->nparts[k]; p++) {
			size_t c = s_eq_cell(t, k, p);
			if (last[c] != k)
				w->eqs[w->off[c]++] = k;
			last[c] = k;
		}
	for (size_t i = t->n; i > 0; i--)
		w->off[i] = w->off[i - 1];
	w->off[0] = 0;
	free(last);
	return s_fixed(t, w->fixed);
}

/* The shown cell of equation k of the lowest level (t->keep), then the
 * smallest value, then the lowest index; S_NONE when all are suppressed. */
size_t suppress_eq_smallest_shown(const struct suppress_table *t, size_t k)
{
	size_t best = S_NONE;

	for (size_t p = 0; p <= t->nparts[k]; p++) {
		size_t c = s_eq_cell(t, k, p);
		if (t->suppressed[c])
			continue;
		if (best == S_NONE || t->value[c] < t->value[best] ||
		    (c < best && t->value[c] == t->value[best]))
			best = c;
	}
	return best;
}

/* The cell to suppress next to protect determined cell i: the smallest shown
 * cell of the first equation holding i that has one; failing that, of the
 * nearest such equation reached breadth-first through suppressed cells (an
 * equation whose cells are all suppressed links its cells' equations). A
 * determined cell can only be freed through equations linked to it that way,
 * because the row space splits along those links. S_NONE: none is left. */
static size_t s_partner(const struct suppress_table *t, struct s_work *w, size_t i)
{
	size_t head = 0, tail = 0;

	memset(w->eq_seen, 0, t->neq);
	memset(w->cell_seen, 0, t->n);
	w->cell_seen[i] = 1;
	for (size_t e = w->off[i]; e < w->off[i + 1]; e++) {
		w->queue[tail++] = w->eqs[e];
		w->eq_seen[w->eqs[e]] = 1;
	}
	while (head < tail) {
		size_t k = w->queue[head++], best = suppress_eq_smallest_shown(t, k);
		if (best != S_NONE)
			return best;
		for (size_t p = 0; p <= t->nparts[k]; p++) {
			size_t c = s_eq_cell(t, k, p);
			if (w->cell_seen[c])
				continue;
			w->cell_seen[c] = 1;
			for (size_t e = w->off[c]; e < w->off[c + 1]; e++)
				if (!w->eq_seen[w->eqs[e]]) {
					w->eq_seen[w->eqs[e]] = 1;
					w->queue[tail++] = w->eqs[e];
				}
		}
	}
	return S_NONE;
}

/* expo[j] for each shown column j: how many equations that alone reveal a
 * suppressed cell (one nonzero among the suppressed columns) hold cell j.
 * Suppressing j pairs it with such a cell. Call before s_mat_reduce. */
static void s_exposure(const struct s_mat *m, size_t *expo)
{
	memset(expo, 0, m->cols * sizeof(*expo));
	for (size_t k = 0; k < m->rows; k++) {
		const int64_t *row = m->a + k * m->cols;
		size_t nz = 0;
		for (size_t j = 0; j < m->nsup && nz < 2; j++)
			nz += row[j] != 0;
		for (size_t j = m->nsup; nz == 1 && j < m->cols; j++)
			expo[j] += row[j] != 0;
	}
}

/* A shown cell and what suppressing it would do. */
struct s_cand {
	size_t cell;		/* S_NONE: no candidate */
	size_t after;		/* determined cells once it is suppressed */
	size_t expo;		/* revealing equations it joins */
};

/* With levels (t->keep): a cell that frees some of the d determined cells
 * first, then the lower level. Then fewest determined cells after, then most
 * revealing equations joined, then the smallest value, then the lowest
 * index. */
static int s_better(const struct suppress_table *t, const struct s_cand *a,
		    const struct s_cand *b, size_t d)
{
	(void)d;
	if (b->cell == S_NONE)
		return 1;
	if (a->after != b->after)
		return a->after < b->after;
	if (a->expo != b->expo)
		return a->expo > b->expo;
	if (t->keep && t->keep[a->cell] != t->keep[b->cell])
		return t->keep[a->cell] < t->keep[b->cell];
	if (t->value[a->cell] != t->value[b->cell])
		return t->value[a->cell] < t->value[b->cell];
	return a->cell < b->cell;
}

/* Score every shown cell from the reduced full matrix, whose shown column j
 * is E*v_j for the row operations E that reduced the suppressed part. If
 * that column is nonzero in a row past the rank, v_j is independent of the
 * suppressed columns: the new cell would be determined itself and nothing
 * else changes (d+1). Otherwise it becomes a free column, and each revealing
 * pivot row with a nonzero in it gets a second nonzero: d minus those rows.
 * *best is the best of all, *paired the best among those that join a
 * revealing equation (cell S_NONE when there is none). */
static void s_best(const struct suppress_table *t, const struct s_mat *m,
		   struct s_work *w, size_t d, struct s_cand *best, struct s_cand *paired)
{
	size_t *freed = w->freed;	/* by column; S_NONE: independent */

	best->cell = paired->cell = S_NONE;
	memset(freed, 0, m->cols * sizeof(*freed));
	for (size_t k = 0; k < m->rows; k++) {
		const int64_t *row = m->a + k * m->cols;
		if (k < m->rank && !w->rowdet[k])
			continue;	/* neither frees nor reveals anything */
		for (size_t j = m->nsup; j < m->cols; j++)
			if (row[j])
				freed[j] = k >= m->rank ? S_NONE :
					   freed[j] == S_NONE ? S_NONE : freed[j] + 1;
	}
	for (size_t j = m->nsup; j < m->cols; j++) {
		struct s_cand c = { m->cell[j], freed[j] == S_NONE ? d + 1 : d - freed[j],
				    w->expo[j] };
		if (s_better(t, &c, best, d))
			*best = c;
		if (c.expo && s_better(t, &c, paired, d))
			*paired = c;
	}
}

/* The fallback rule: the lowest-index determined cell that is not stuck and
 * the partner s_partner finds for it. Marks cells that have none as stuck:
 * their linked equations are all suppressed and stay so, so the equations
 * alone fix them and nothing we add changes that. */
static size_t s_fallback(const struct suppress_table *t, struct s_work *w)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!w->det[i] || w->stuck[i])
			continue;
		size_t pick = s_partner(t, w, i);
		if (pick != S_NONE)
			return pick;
		w->stuck[i] = 1;
	}
	return S_NONE;
}

/* One greedy step: the next cell to suppress in *pick, or S_NONE when no
 * suppressed cell is determined (or only fixed ones are). Take the scored
 * best when it frees cells on balance; else the best that pairs a cell an
 * equation reveals alone (a 2-D table needs two such steps before a rectangle
 * closes and frees anything); else the fallback rule. */
static int s_next(const struct suppress_table *t, struct s_work *w, size_t *pick)
{
	struct s_mat m;
	int r;

	*pick = S_NONE;
	if ((r = s_mat_build(t, &m, 1)) < 0)
		return r;
	s_exposure(&m, w->expo);
	if ((r = s_mat_reduce(&m)) < 0)
		goto out;
	r = s_mat_determined(t, &m, w->det, w->rowdet);
	for (size_t k = 0; k < m.rank; k++)
		if (w->rowdet[k] && w->fixed[m.cell[m.pivcol[k]]]) {
			w->rowdet[k] = 0;
			w->det[m.cell[m.pivcol[k]]] = 0;
			r--;
		}
	if (r > 0) {
		size_t d = (size_t)r;
		struct s_cand best, paired;
		s_best(t, &m, w, d, &best, &paired);
		if (best.cell != S_NONE && best.after < d)
			*pick = best.cell;
		else if (paired.cell != S_NONE)
			*pick = paired.cell;
		else
			*pick = s_fallback(t, w);
	}
	r = 0;
out:
	s_mat_free(&m);
	return r;
}

int suppress_linear(struct suppress_table *t)
{
	struct s_work w;
	size_t pick;
	int r, added = 0;

	if ((r = s_work_init(t, &w)) < 0)
		goto out;
	while ((r = s_next(t, &w, &pick)) == 0 && pick != S_NONE) {
		t->suppressed[pick] = 1;
		added++;
	}
	if (r == 0)
		r = added;
out:
	s_work_free(&w);
	return r;
}

