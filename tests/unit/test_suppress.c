/* Unit tests for suppress.c: primary and secondary suppression against an
 * independent exact check, and the rate display clamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suppress.h"
#include "util.h"

/* ---- a table builder ---------------------------------------------------- */

struct tb {
	struct suppress_table t;
	uint64_t *value;
	uint8_t *sup;
	size_t *total, *nparts, *pool;
	const size_t **parts;
	size_t cap_cells, cap_eq, cap_pool, pool_used;
};

static struct tb *tb_new(size_t cells, size_t eqs, size_t pool)
{
	struct tb *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->value = calloc(cells, sizeof(*b->value));
	b->sup = calloc(cells, 1);
	b->total = calloc(eqs, sizeof(*b->total));
	b->nparts = calloc(eqs, sizeof(*b->nparts));
	b->parts = calloc(eqs, sizeof(*b->parts));
	b->pool = calloc(pool, sizeof(*b->pool));
	assert_true(b->value && b->sup && b->total && b->nparts && b->parts && b->pool);
	b->cap_cells = cells;
	b->cap_eq = eqs;
	b->cap_pool = pool;
	b->t.value = b->value;
	b->t.suppressed = b->sup;
	b->t.total = b->total;
	b->t.parts = b->parts;
	b->t.nparts = b->nparts;
	return b;
}

static void tb_free(struct tb **pb)
{
	struct tb *b = *pb;

	if (!b)
		return;
	free(b->value);
	free(b->sup);
	free(b->total);
	free(b->nparts);
	free(b->parts);
	free(b->pool);
	free(b);
	*pb = NULL;
}

static size_t tb_cell(struct tb *b, uint64_t v)
{
	assert_true(b->t.n < b->cap_cells);
	b->value[b->t.n] = v;
	return b->t.n++;
}

static void tb_eq(struct tb *b, size_t total, const size_t *parts, size_t np)
{
	assert_true(b->t.neq < b->cap_eq && b->pool_used + np <= b->cap_pool);
	size_t *dst = b->pool + b->pool_used;
	memcpy(dst, parts, np * sizeof(*parts));
	b->pool_used += np;
	b->total[b->t.neq] = total;
	b->parts[b->t.neq] = dst;
	b->nparts[b->t.neq] = np;
	b->t.neq++;
}

/* A rows x cols table with row totals, column totals and a grand total held
 * both as the sum of the row totals and of the column totals. Inner cell
 * (r, c) is r*cols + c, then the row totals, the column totals, the grand
 * total. With split, each row total is also split into two new cells
 * (handed_over = with_consent + no_consent); split_value gives the first
 * part of row r. Equations: rows, columns, grand (2), then the splits. */
#define G_MAX 8
struct grid {
	size_t rows, cols;
	size_t cell[G_MAX][G_MAX], rowt[G_MAX], colt[G_MAX], grand;
	size_t split[G_MAX][2];
};

static struct tb *tb_grid(struct grid *g, size_t rows, size_t cols,
			  const uint64_t *v, const uint64_t *split_first)
{
	size_t n = rows * cols + rows + cols + 1 + (split_first ? 2 * rows : 0);
	struct tb *b = tb_new(n, rows + cols + 2 + rows, 4 * n);
	uint64_t rs[G_MAX] = { 0 }, cs[G_MAX] = { 0 }, all = 0;
	size_t tmp[G_MAX];

	assert_true(rows >= 1 && rows <= G_MAX && cols >= 1 && cols <= G_MAX);
	g->rows = rows;
	g->cols = cols;
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++) {
			g->cell[r][c] = tb_cell(b, v[r * cols + c]);
			rs[r] += v[r * cols + c];
			cs[c] += v[r * cols + c];
			all += v[r * cols + c];
		}
	for (size_t r = 0; r < rows; r++)
		g->rowt[r] = tb_cell(b, rs[r]);
	for (size_t c = 0; c < cols; c++)
		g->colt[c] = tb_cell(b, cs[c]);
	g->grand = tb_cell(b, all);
	for (size_t r = 0; r < rows; r++)
		tb_eq(b, g->rowt[r], g->cell[r], cols);
	for (size_t c = 0; c < cols; c++) {
		for (size_t r = 0; r < rows; r++)
			tmp[r] = g->cell[r][c];
		tb_eq(b, g->colt[c], tmp, rows);
	}
	tb_eq(b, g->grand, g->rowt, rows);
	tb_eq(b, g->grand, g->colt, cols);
	for (size_t r = 0; split_first && r < rows; r++) {
		assert_true(split_first[r] <= rs[r]);
		g->split[r][0] = tb_cell(b, split_first[r]);
		g->split[r][1] = tb_cell(b, rs[r] - split_first[r]);
		tb_eq(b, g->rowt[r], g->split[r], 2);
	}
	return b;
}

/* ---- the independent check: rank over exact rationals ------------------- */

/* A fraction num/den with den > 0 in lowest terms; arithmetic fails the test
 * on int64 overflow rather than give a wrong answer. */
struct q {
	int64_t num, den;
};

static int64_t q_gcd(int64_t a, int64_t b)
{
	a = a < 0 ? -a : a;
	b = b < 0 ? -b : b;
	while (b) {
		int64_t r = a % b;
		a = b;
		b = r;
	}
	return a ? a : 1;
}

static struct q q_make(int64_t num, int64_t den)
{
	int64_t g = q_gcd(num, den);
	struct q x = { num / g, den / g };

	if (x.den < 0) {
		x.num = -x.num;
		x.den = -x.den;
	}
	return x;
}

static int64_t q_mul64(int64_t a, int64_t b)
{
	int64_t r;

	assert_false(__builtin_mul_overflow(a, b, &r));
	return r;
}

/* a - b*c */
static struct q q_submul(struct q a, struct q b, struct q c)
{
	struct q bc = q_make(q_mul64(b.num, c.num), q_mul64(b.den, c.den));
	int64_t num;

	assert_false(__builtin_sub_overflow(q_mul64(a.num, bc.den), q_mul64(bc.num, a.den), &num));
	return q_make(num, q_mul64(a.den, bc.den));
}

static struct q q_div(struct q a, struct q b)
{
	return q_make(q_mul64(a.num, b.den), q_mul64(a.den, b.num));
}

/* Rank of a rows x cols rational matrix (destroyed), by plain Gaussian
 * elimination with the first nonzero as the pivot. */
static size_t q_rank(struct q *a, size_t rows, size_t cols)
{
	size_t rank = 0;

	for (size_t c = 0; c < cols && rank < rows; c++) {
		size_t p = rank;
		while (p < rows && a[p * cols + c].num == 0)
			p++;
		if (p == rows)
			continue;
		for (size_t j = 0; j < cols; j++) {
			struct q x = a[p * cols + j];
			a[p * cols + j] = a[rank * cols + j];
			a[rank * cols + j] = x;
		}
		for (size_t i = rank + 1; i < rows; i++) {
			if (a[i * cols + c].num == 0)
				continue;
			struct q f = q_div(a[i * cols + c], a[rank * cols + c]);
			for (size_t j = c; j < cols; j++)
				a[i * cols + j] = q_submul(a[i * cols + j], f, a[rank * cols + j]);
		}
		rank++;
	}
	return rank;
}

/* Is suppressed cell i recoverable? The equations restricted to the
 * suppressed cells form M; i is recoverable exactly when e_i is in the row
 * space of M, i.e. when appending e_i as a row does not raise the rank. The
 * matrix is built here from the table, not taken from the module. */
static int brute_determined(const struct suppress_table *t, size_t i)
{
	size_t m = 0, *col = malloc(t->n * sizeof(*col)), rows = t->neq + 1;
	struct q *a, *b;
	int det;

	assert_non_null(col);
	for (size_t c = 0; c < t->n; c++)
		col[c] = t->suppressed[c] ? m++ : SIZE_MAX;
	if (!t->suppressed[i] || m == 0) {
		free(col);
		return 0;
	}
	a = calloc(rows * m, sizeof(*a));
	b = calloc(rows * m, sizeof(*b));
	assert_true(a && b);
	for (size_t k = 0; k < rows * m; k++)
		a[k] = (struct q){ 0, 1 };
	for (size_t k = 0; k < t->neq; k++) {
		if (col[t->total[k]] != SIZE_MAX)
			a[k * m + col[t->total[k]]].num += 1;
		for (size_t p = 0; p < t->nparts[k]; p++)
			if (col[t->parts[k][p]] != SIZE_MAX)
				a[k * m + col[t->parts[k][p]]].num -= 1;
	}
	memcpy(b, a, rows * m * sizeof(*a));
	b[t->neq * m + col[i]].num = 1;	/* the extra row e_i */
	det = q_rank(a, t->neq, m) == q_rank(b, rows, m);
	free(a);
	free(b);
	free(col);
	return det;
}

/* ---- a reproducible generator (xorshift64*, not rand()) ----------------- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

#define PROP_SEED 0x5eed2025ULL

/* ---- primary ------------------------------------------------------------ */

static void test_primary(void **state)
{
	static const uint64_t v[] = { 0, 1, 2, 3, 4, 5, 9, 10, 11, 1000 };
	static const unsigned mins[] = { 3, 5, 10 };
	uint8_t sup[ARRAY_SIZE(v)];
	struct suppress_table t = { .n = ARRAY_SIZE(v), .value = v, .suppressed = sup };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(mins); k++) {
		memset(sup, 0, sizeof(sup));
		suppress_primary(&t, mins[k]);
		for (size_t i = 0; i < ARRAY_SIZE(v); i++)
			assert_int_equal(sup[i], v[i] < mins[k]);
		/* Spot the boundary: min_cell-1 goes, min_cell stays. */
		assert_int_equal(sup[mins[k] == 10 ? 6 : mins[k] - 1], 1);
		assert_int_equal(sup[mins[k] == 10 ? 7 : mins[k]], 0);
	}
	/* A flag already set is never cleared. */
	memset(sup, 0, sizeof(sup));
	sup[9] = 1;
	suppress_primary(&t, 5);
	assert_int_equal(sup[9], 1);
	assert_int_equal(sup[0] + sup[1] + sup[4], 3);
	/* min_cell 0 suppresses nothing. */
	memset(sup, 0, sizeof(sup));
	suppress_primary(&t, 0);
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		assert_int_equal(sup[i], 0);
}

/* ---- a column of groups with a total ------------------------------------ */

static void test_column_with_total(void **state)
{
	static const uint64_t g[] = { 12, 3, 20, 9, 15 };
	size_t idx[ARRAY_SIZE(g)], tot;
	struct tb *b = tb_new(8, 2, 8);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(g); i++)
		idx[i] = tb_cell(b, g[i]);
	tot = tb_cell(b, 59);
	tb_eq(b, tot, idx, ARRAY_SIZE(g));
	suppress_primary(&b->t, 5);
	assert_int_equal(b->sup[1], 1);
	assert_int_equal(suppress_determined(&b->t, 1), 1);	/* 59 - 12 - 20 - 9 - 15 */
	assert_int_equal(suppress_secondary(&b->t), 1);
	/* The smallest other cell goes, not the total and not a bigger group. */
	for (size_t i = 0; i <= tot; i++)
		assert_int_equal(b->sup[i], i == 1 || i == 3);
	assert_int_equal(suppress_determined(&b->t, 1), 0);
	assert_int_equal(suppress_determined(&b->t, 3), 0);
	assert_int_equal(brute_determined(&b->t, 1), 0);
	assert_int_equal(suppress_determined(&b->t, 0), 0);	/* shown */
	assert_int_equal(suppress_determined(&b->t, 99), -EINVAL);
	/* Nothing more to do the second time. */
	assert_int_equal(suppress_secondary(&b->t), 0);
	tb_free(&b);

	/* One group plus its total: the total goes too. */
	b = tb_new(2, 1, 1);
	idx[0] = tb_cell(b, 7);
	tot = tb_cell(b, 7);
	tb_eq(b, tot, idx, 1);
	b->sup[0] = 1;
	assert_int_equal(suppress_secondary(&b->t), 1);
	assert_int_equal(b->sup[tot], 1);
	assert_int_equal(suppress_determined(&b->t, 0), 0);
	assert_int_equal(suppress_determined(&b->t, tot), 0);
	tb_free(&b);

	/* Nothing small: nothing added. Two small cells: they hide each other. */
	static const uint64_t big[] = { 12, 8, 20 }, two[] = { 3, 2, 20, 9 };
	b = tb_new(4, 1, 3);
	for (size_t i = 0; i < ARRAY_SIZE(big); i++)
		idx[i] = tb_cell(b, big[i]);
	tb_eq(b, tb_cell(b, 40), idx, ARRAY_SIZE(big));
	suppress_primary(&b->t, 5);
	assert_int_equal(suppress_secondary(&b->t), 0);
	assert_int_equal(b->sup[0] + b->sup[1] + b->sup[2] + b->sup[3], 0);
	tb_free(&b);
	b = tb_new(5, 1, 4);
	for (size_t i = 0; i < ARRAY_SIZE(two); i++)
		idx[i] = tb_cell(b, two[i]);
	tb_eq(b, tb_cell(b, 34), idx, ARRAY_SIZE(two));
	suppress_primary(&b->t, 5);
	assert_int_equal(suppress_secondary(&b->t), 0);
	assert_int_equal(b->sup[0] + b->sup[1], 2);
	assert_int_equal(suppress_determined(&b->t, 0), 0);
	tb_free(&b);
}

/* ---- a 2-D table -------------------------------------------------------- */

static void assert_none_determined(const struct suppress_table *t)
{
	uint8_t *det = malloc(t->n ? t->n : 1);

	assert_non_null(det);
	assert_int_equal(suppress_find_determined(t, det), 0);
	for (size_t i = 0; i < t->n; i++) {
		assert_int_equal(det[i], 0);
		assert_int_equal(brute_determined(t, i), 0);
		assert_int_equal(suppress_determined(t, i), 0);
	}
	free(det);
}

static void test_2d_rectangle(void **state)
{
	static const uint64_t v[] = {
		2, 10, 12,
		8, 20, 15,
		9, 11, 30,
	};
	struct grid g;
	struct tb *b = tb_grid(&g, 3, 3, v, NULL);
	size_t rows[3] = { 0 }, cols[3] = { 0 }, inner = 0;

	(void)state;
	suppress_primary(&b->t, 5);
	assert_int_equal(suppress_determined(&b->t, g.cell[0][0]), 1);
	assert_int_equal(suppress_secondary(&b->t), 3);
	for (size_t r = 0; r < 3; r++)
		for (size_t c = 0; c < 3; c++)
			if (b->sup[g.cell[r][c]]) {
				rows[r]++;
				cols[c]++;
				inner++;
			}
	/* A rectangle: two rows and two columns with two cells each, no total. */
	assert_int_equal(inner, 4);
	for (size_t k = 0; k < 3; k++) {
		assert_true(rows[k] == 0 || rows[k] == 2);
		assert_true(cols[k] == 0 || cols[k] == 2);
		assert_int_equal(b->sup[g.rowt[k]] + b->sup[g.colt[k]], 0);
	}
	assert_int_equal(b->sup[g.grand], 0);
	assert_int_equal(b->sup[g.cell[0][0]], 1);
	assert_none_determined(&b->t);
	tb_free(&b);
}

/* Two 2x2 suppression cycles joined by a single suppressed cell: every cycle
 * cell is safe, the joining cell is not (it is on no cycle). */
static void test_bridge(void **state)
{
	uint64_t v[25];
	struct grid g;
	struct tb *b;
	uint8_t before[64];

	(void)state;
	for (size_t i = 0; i < 25; i++)
		v[i] = 10 + (i * 7) % 13;
	b = tb_grid(&g, 5, 5, v, NULL);
	static const size_t cyc[][2] = {
		{ 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 },	/* cycle A */
		{ 2, 2 }, { 2, 3 }, { 3, 2 }, { 3, 3 },	/* cycle B */
	};
	for (size_t k = 0; k < ARRAY_SIZE(cyc); k++)
		b->sup[g.cell[cyc[k][0]][cyc[k][1]]] = 1;
	assert_none_determined(&b->t);
	b->sup[g.cell[0][2]] = 1;	/* the bridge: row 0 of A, column 2 of B */
	assert_int_equal(suppress_determined(&b->t, g.cell[0][2]), 1);
	assert_int_equal(brute_determined(&b->t, g.cell[0][2]), 1);
	for (size_t k = 0; k < ARRAY_SIZE(cyc); k++)
		assert_int_equal(suppress_determined(&b->t, g.cell[cyc[k][0]][cyc[k][1]]), 0);
	memcpy(before, b->sup, b->t.n);
	int added = suppress_secondary(&b->t);
	assert_true(added >= 1);
	size_t now = 0;
	for (size_t i = 0; i < b->t.n; i++) {
		assert_true(b->sup[i] >= before[i]);
		now += b->sup[i] != before[i];
	}
	assert_int_equal(now, (size_t)added);
	assert_none_determined(&b->t);
	tb_free(&b);
}

/* ---- properties on random tables ---------------------------------------- */

/* One random table: primary + secondary, then the three properties. Returns
 * 0, or fails with the seed to rerun it. */
static void prop_one(uint64_t seed, int split, double *ms, size_t *added_total)
{
	uint64_t s = seed, v[G_MAX * G_MAX] = { 0 }, first[G_MAX];
	size_t rows = 1 + rng_below(&s, G_MAX), cols = 1 + rng_below(&s, G_MAX);
	static const unsigned mins[] = { 3, 5, 5, 10 };
	unsigned min_cell = mins[rng_below(&s, ARRAY_SIZE(mins))];
	struct grid g;
	struct tb *b;
	uint8_t *before;
	uint64_t *vcopy;
	struct timespec t0, t1;

	for (size_t i = 0; i < rows * cols; i++)
		v[i] = rng_below(&s, 31);
	for (size_t r = 0; r < rows; r++) {
		uint64_t sum = 0;
		for (size_t c = 0; c < cols; c++)
			sum += v[r * cols + c];
		first[r] = rng_below(&s, sum + 1);
	}
	b = tb_grid(&g, rows, cols, v, split ? first : NULL);
	before = malloc(b->t.n);
	vcopy = malloc(b->t.n * sizeof(*vcopy));
	assert_true(before && vcopy);
	memcpy(vcopy, b->value, b->t.n * sizeof(*vcopy));
	suppress_primary(&b->t, min_cell);
	memcpy(before, b->sup, b->t.n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int added = suppress_secondary(&b->t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms += (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (added < 0) {
		print_error("seed %#" PRIx64 " (%zux%zu%s): suppress_secondary = %d\n",
			    seed, rows, cols, split ? " split" : "", added);
		fail();
	}
	*added_total += (size_t)added;
	size_t now = 0;
	for (size_t i = 0; i < b->t.n; i++) {
		int bad = 0;
		if (b->value[i] < min_cell && !b->sup[i])
			bad = 1;	/* (a) small and shown */
		else if (b->sup[i] && brute_determined(&b->t, i))
			bad = 2;	/* (b) recoverable */
		else if (b->sup[i] < before[i] || b->value[i] != vcopy[i])
			bad = 3;	/* (c) a flag cleared or a value touched */
		if (bad) {
			print_error("seed %#" PRIx64 " (%zux%zu%s, min_cell %u): cell %zu "
				    "value %" PRIu64 " fails property %c\n", seed, rows, cols,
				    split ? " split" : "", min_cell, i, b->value[i], "abc"[bad - 1]);
			fail();
		}
		now += b->sup[i] != before[i];
	}
	if (now != (size_t)added) {
		print_error("seed %#" PRIx64 ": returned %d, added %zu\n", seed, added, now);
		fail();
	}
	free(before);
	free(vcopy);
	tb_free(&b);
}

static void prop_run(int split, size_t count, uint64_t base)
{
	double ms = 0;
	size_t added = 0;

	for (size_t k = 0; k < count; k++)
		prop_one(base + k * 0x9e3779b97f4a7c15ULL, split, &ms, &added);
	printf("  %zu random tables%s (seed %#" PRIx64 "): secondary %.1f ms in all, "
	       "%zu cells added\n", count, split ? " with split rows" : "", base, ms, added);
}

static void test_property_2d(void **state)
{
	(void)state;
	prop_run(0, 300, PROP_SEED);
}

static void test_property_split(void **state)
{
	(void)state;
	prop_run(1, 100, PROP_SEED ^ 0xa5a5);
}

/* The module's answer against the independent one on arbitrary patterns, so
 * both "determined" and "not determined" answers are exercised. */
static void test_determined_agrees(void **state)
{
	size_t yes = 0, no = 0;

	(void)state;
	for (uint64_t k = 0; k < 300; k++) {
		uint64_t seed = PROP_SEED + 7 * k, s = seed, v[G_MAX * G_MAX] = { 0 }, first[G_MAX];
		size_t rows = 1 + rng_below(&s, 6), cols = 1 + rng_below(&s, 6);
		struct grid g;
		for (size_t i = 0; i < rows * cols; i++)
			v[i] = rng_below(&s, 31);
		for (size_t r = 0; r < rows; r++)
			first[r] = 0;
		struct tb *b = tb_grid(&g, rows, cols, v, k % 3 == 0 ? first : NULL);
		uint8_t *det = malloc(b->t.n);
		assert_non_null(det);
		for (size_t i = 0; i < b->t.n; i++)
			b->sup[i] = rng_below(&s, 100) < 35;
		int n = suppress_find_determined(&b->t, det);
		assert_true(n >= 0);
		int count = 0;
		for (size_t i = 0; i < b->t.n; i++) {
			int want = brute_determined(&b->t, i);
			if (det[i] != want || suppress_determined(&b->t, i) != want) {
				print_error("seed %#" PRIx64 ": cell %zu: module %d, brute %d\n",
					    seed, i, det[i], want);
				fail();
			}
			count += want;
			if (b->sup[i])
				*(want ? &yes : &no) += 1;
		}
		assert_int_equal(n, count);
		free(det);
		tb_free(&b);
	}
	/* Both answers must really have been tested. */
	assert_true(yes > 100 && no > 100);
}

/* Random general systems, beyond 2-D tables: a cell may be a part in one
 * equation and the total in another, equations overlap freely. After
 * primary + secondary every suppressed cell is either safe or fixed by the
 * equations alone (determined even with every cell suppressed), both judged
 * by the independent check; the module agrees on arbitrary patterns. */
static void test_property_general(void **state)
{
	size_t fixed_seen = 0, added_all = 0;

	(void)state;
	for (uint64_t k = 0; k < 300; k++) {
		uint64_t seed = PROP_SEED * 3 + k, s = seed;
		size_t n = 3 + rng_below(&s, 12), neq = 1 + rng_below(&s, 7);
		struct tb *b = tb_new(n, neq, neq * 5);
		size_t parts[5];
		for (size_t i = 0; i < n; i++)
			tb_cell(b, rng_below(&s, 25));
		for (size_t e = 0; e < neq; e++) {
			size_t tot = rng_below(&s, n), np = 1 + rng_below(&s, 4);
			for (size_t p = 0; p < np; p++)
				do
					parts[p] = rng_below(&s, n);
				while (parts[p] == tot);
			tb_eq(b, tot, parts, np);
		}
		/* Agreement on a random pattern first. */
		uint8_t det[16], fixed[16], before[16];
		for (size_t i = 0; i < n; i++)
			b->sup[i] = rng_below(&s, 2);
		assert_true(suppress_find_determined(&b->t, det) >= 0);
		for (size_t i = 0; i < n; i++)
			if (det[i] != brute_determined(&b->t, i)) {
				print_error("seed %#" PRIx64 ": cell %zu: module %d\n", seed, i, det[i]);
				fail();
			}
		/* Fixed cells, by the independent check. */
		memset(b->sup, 1, n);
		for (size_t i = 0; i < n; i++)
			fixed[i] = (uint8_t)brute_determined(&b->t, i);
		memset(b->sup, 0, n);
		suppress_primary(&b->t, 5);
		memcpy(before, b->sup, n);
		int added = suppress_secondary(&b->t);
		assert_true(added >= 0);
		added_all += (size_t)added;
		for (size_t i = 0; i < n; i++) {
			assert_true(b->sup[i] >= before[i]);
			if (b->sup[i] && brute_determined(&b->t, i) && !fixed[i]) {
				print_error("seed %#" PRIx64 ": cell %zu recoverable\n", seed, i);
				fail();
			}
			fixed_seen += b->sup[i] && fixed[i];
		}
		tb_free(&b);
	}
	printf("  300 random general systems: %zu cells added, %zu fixed cells met\n",
	       added_all, fixed_seen);
}

/* ---- edge cases and bad input ------------------------------------------- */

static void test_edges(void **state)
{
	uint8_t det[4];
	struct tb *b;

	(void)state;
	/* An empty table, and a table without equations. */
	struct suppress_table empty = { 0 };
	assert_int_equal(suppress_secondary(&empty), 0);
	assert_int_equal(suppress_find_determined(&empty, NULL), 0);
	b = tb_new(3, 1, 4);
	tb_cell(b, 1);
	tb_cell(b, 2);
	tb_cell(b, 3);
	suppress_primary(&b->t, 5);
	assert_int_equal(suppress_secondary(&b->t), 0);
	assert_int_equal(suppress_find_determined(&b->t, det), 0);
	/* A bad index in an equation. */
	size_t parts[] = { 0, 7 };
	tb_eq(b, 2, parts, 2);
	assert_int_equal(suppress_secondary(&b->t), -EINVAL);
	assert_int_equal(suppress_find_determined(&b->t, det), -EINVAL);
	assert_int_equal(suppress_determined(&b->t, 0), -EINVAL);
	assert_int_equal(suppress_secondary(NULL), -EINVAL);
	tb_free(&b);

	/* An equation fixing a cell by itself: t = a and t = a + z force z = 0.
	 * No suppression can hide z: the greedy must not waste cells on it, and
	 * suppress_determined still says so. */
	b = tb_new(3, 2, 3);
	size_t tt = tb_cell(b, 9), a = tb_cell(b, 9), z = tb_cell(b, 0);
	size_t p1[] = { a }, p2[] = { a, z };
	tb_eq(b, tt, p1, 1);
	tb_eq(b, tt, p2, 2);
	suppress_primary(&b->t, 5);
	assert_int_equal(b->sup[z], 1);
	assert_int_equal(suppress_secondary(&b->t), 0);
	assert_int_equal(b->sup[tt] + b->sup[a], 0);
	assert_int_equal(suppress_determined(&b->t, z), 1);
	assert_int_equal(brute_determined(&b->t, z), 1);
	assert_int_equal(suppress_secondary(&b->t), 0);
	tb_free(&b);

	/* Signs matter: a = b + c and b = c + d give a = 2c + d, so with a, b, c
	 * suppressed and d shown nothing is determined (c is free). */
	b = tb_new(4, 2, 4);
	size_t ca = tb_cell(b, 20), cb = tb_cell(b, 12), cc = tb_cell(b, 8), cd = tb_cell(b, 4);
	size_t e1[] = { cb, cc }, e2[] = { cc, cd };
	tb_eq(b, ca, e1, 2);
	tb_eq(b, cb, e2, 2);
	b->sup[ca] = b->sup[cb] = b->sup[cc] = 1;
	assert_int_equal(suppress_find_determined(&b->t, det), 0);
	b->sup[cc] = 0;		/* c shown: a and b follow */
	assert_int_equal(suppress_find_determined(&b->t, det), 2);
	tb_free(&b);

	/* A cell listed twice, and as its own part: coefficients add up. x = x + y
	 * forces y = 0 as above; t = 2a means a = t/2 is recoverable from t. */
	b = tb_new(4, 2, 4);
	size_t x = tb_cell(b, 6), y = tb_cell(b, 0), t2 = tb_cell(b, 8), a2 = tb_cell(b, 4);
	size_t q1[] = { x, y }, q2[] = { a2, a2 };
	tb_eq(b, x, q1, 2);
	tb_eq(b, t2, q2, 2);
	b->sup[a2] = 1;
	assert_int_equal(suppress_determined(&b->t, a2), 1);
	assert_int_equal(brute_determined(&b->t, a2), 1);
	assert_int_equal(suppress_secondary(&b->t), 1);
	assert_int_equal(b->sup[t2], 1);
	assert_int_equal(suppress_determined(&b->t, a2), 0);
	b->sup[y] = 1;
	assert_int_equal(suppress_determined(&b->t, y), 1);
	tb_free(&b);

	/* Coefficients that outgrow 64 bits give -EOVERFLOW, never a guess:
	 * x_i = x_{i+1} + x_{i+1} down a chain of 70 makes x_0 = 2^70 x_70. */
	enum { CHAIN = 70 };
	b = tb_new(CHAIN + 1, CHAIN, 2 * CHAIN);
	for (size_t i = 0; i <= CHAIN; i++)
		tb_cell(b, 1);
	for (size_t i = 0; i < CHAIN; i++) {
		size_t twice[] = { i + 1, i + 1 };
		tb_eq(b, i, twice, 2);
	}
	memset(b->sup, 1, CHAIN + 1);
	uint8_t cdet[CHAIN + 1];
	assert_int_equal(suppress_find_determined(&b->t, cdet), -EOVERFLOW);
	assert_int_equal(suppress_determined(&b->t, 0), -EOVERFLOW);
	memset(b->sup, 0, CHAIN + 1);
	b->sup[0] = 1;
	assert_int_equal(suppress_secondary(&b->t), -EOVERFLOW);
	/* A shorter chain fits (x_0 = 2^40 x_40); with x_40 free, nothing is
	 * determined. */
	b->t.neq = 40;
	memset(b->sup, 1, CHAIN + 1);
	assert_int_equal(suppress_find_determined(&b->t, cdet), 0);
	tb_free(&b);
}

/* ---- speed -------------------------------------------------------------- */

/* 500 cells, 600 equations, 100 suppressed: the determination check for the
 * whole table must take well under 100 ms. The table is what a report with
 * linked breakdowns looks like: a 7x7x7 table of inner cells with all its 2-D
 * and 1-D margins and the grand total (512 cells). Its 216 defining
 * equations are padded to 600 with equations they imply (a 1-D margin as a
 * sum mixing 2-D margin cells and lines of inner cells), so the rows are
 * many but the question is the same. */
enum { D3 = 7, D3N = 512, D3EQ = 600 };

struct cube {
	size_t in[D3][D3][D3], xy[D3][D3], xz[D3][D3], yz[D3][D3], x[D3], y[D3], z[D3], all;
};

static uint64_t sum_cells(const struct tb *b, const size_t *idx, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += b->value[idx[i]];
	return sum;
}

static struct tb *tb_cube(struct cube *q, uint64_t *s)
{
	struct tb *b = tb_new(D3N, D3EQ, D3EQ * D3 * D3);
	size_t parts[D3 * D3];

	for (size_t i = 0; i < D3; i++)
		for (size_t j = 0; j < D3; j++)
			for (size_t k = 0; k < D3; k++)
				q->in[i][j][k] = tb_cell(b, rng_below(s, 25));
	/* 2-D margins: xy sums over z, xz over y, yz over x. */
	for (size_t i = 0; i < D3; i++)
		for (size_t j = 0; j < D3; j++) {
			static const int axes[3] = { 2, 1, 0 };
			size_t *marg[3] = { &q->xy[i][j], &q->xz[i][j], &q->yz[i][j] };
			for (int a = 0; a < 3; a++) {
				for (size_t k = 0; k < D3; k++)
					parts[k] = axes[a] == 2 ? q->in[i][j][k] :
						   axes[a] == 1 ? q->in[i][k][j] : q->in[k][i][j];
				*marg[a] = tb_cell(b, sum_cells(b, parts, D3));
				tb_eq(b, *marg[a], parts, D3);
			}
		}
	/* 1-D margins, each the sum of its two 2-D margin lines, and the grand
	 * total as the sum of each 1-D margin. */
	for (size_t i = 0; i < D3; i++) {
		size_t xy_col[D3], xz_col[D3], yz_col[D3];
		for (size_t k = 0; k < D3; k++) {
			xy_col[k] = q->xy[k][i];
			xz_col[k] = q->xz[k][i];
			yz_col[k] = q->yz[k][i];
		}
		q->x[i] = tb_cell(b, sum_cells(b, q->xy[i], D3));
		q->y[i] = tb_cell(b, sum_cells(b, xy_col, D3));
		q->z[i] = tb_cell(b, sum_cells(b, xz_col, D3));
		tb_eq(b, q->x[i], q->xy[i], D3);
		tb_eq(b, q->x[i], q->xz[i], D3);
		tb_eq(b, q->y[i], xy_col, D3);
		tb_eq(b, q->y[i], q->yz[i], D3);
		tb_eq(b, q->z[i], xz_col, D3);
		tb_eq(b, q->z[i], yz_col, D3);
	}
	q->all = tb_cell(b, sum_cells(b, q->x, D3));
	tb_eq(b, q->all, q->x, D3);
	tb_eq(b, q->all, q->y, D3);
	tb_eq(b, q->all, q->z, D3);
	assert_int_equal(b->t.n, D3N);
	/* Implied equations: margin m of axis ax = sum over the second index of
	 * either the 2-D margin cell or the line of inner cells it totals. */
	while (b->t.neq < D3EQ) {
		size_t m = rng_below(s, D3), np = 0;
		int ax = (int)rng_below(s, 3);
		for (size_t j = 0; j < D3; j++) {
			size_t marg = ax == 0 ? q->xy[m][j] : ax == 1 ? q->xy[j][m] : q->xz[j][m];
			if (rng_below(s, 2)) {
				parts[np++] = marg;
				continue;
			}
			for (size_t k = 0; k < D3; k++)	/* the line marg totals */
				parts[np++] = ax == 0 ? q->in[m][j][k] : ax == 1 ? q->in[j][m][k]
								   : q->in[j][k][m];
		}
		tb_eq(b, ax == 0 ? q->x[m] : ax == 1 ? q->y[m] : q->z[m], parts, np);
	}
	return b;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_speed(void **state)
{
	uint64_t s = PROP_SEED;
	struct cube q;
	struct tb *b = tb_cube(&q, &s);
	uint8_t *det = malloc(D3N);
	struct timespec t0;

	(void)state;
	assert_non_null(det);
	for (size_t k = 0; k < 100;) {
		size_t i = rng_below(&s, D3N);
		if (!b->sup[i]) {
			b->sup[i] = 1;
			k++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = suppress_find_determined(&b->t, det);
	double ms = ms_since(&t0);
	printf("  %d cells, %d equations, 100 suppressed: %d determined, %.2f ms\n",
	       D3N, D3EQ, r, ms);
	assert_true(r > 0 && r < 100);
	assert_true(ms < 100.0);
	/* Secondary suppression on the same table, from primary (min_cell 5). */
	memset(b->sup, 0, D3N);
	suppress_primary(&b->t, 5);
	size_t prim = 0;
	for (size_t i = 0; i < D3N; i++)
		prim += b->sup[i];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = suppress_secondary(&b->t);
	ms = ms_since(&t0);
	printf("  same table, %zu primary: secondary added %d in %.1f ms\n", prim, r, ms);
	assert_true(r >= 0);
	assert_int_equal(suppress_find_determined(&b->t, det), 0);
	free(det);
	tb_free(&b);
}

/* ---- rates -------------------------------------------------------------- */

static void check_rate(uint64_t c, int c_sup, uint64_t d, int d_sup, int kind, const char *text)
{
	char buf[SUPPRESS_RATE_BUFLEN];

	memset(buf, 'x', sizeof(buf));
	int r = suppress_rate(c, c_sup, d, d_sup, buf, sizeof(buf));
	if (r != kind || strcmp(buf, text) != 0) {
		print_error("rate %" PRIu64 "%s/%" PRIu64 "%s: got %d \"%s\", want %d \"%s\"\n",
			    c, c_sup ? "(withheld)" : "", d, d_sup ? "(withheld)" : "", r, buf, kind, text);
		fail();
	}
}

/* design.md §6.4's one rule: a rate is shown exactly when its count and its
 * denominator are; no ranges. */
static void test_rate(void **state)
{
	char small[4];

	(void)state;
	/* Rounded half up. */
	check_rate(62, 0, 100, 0, SUPPRESS_RATE_SHOWN, "62%");
	check_rate(5, 0, 8, 0, SUPPRESS_RATE_SHOWN, "63%");	/* 62.5 */
	check_rate(13, 0, 21, 0, SUPPRESS_RATE_SHOWN, "62%");	/* 61.9 */
	check_rate(1, 0, 3, 0, SUPPRESS_RATE_SHOWN, "33%");
	check_rate(2, 0, 3, 0, SUPPRESS_RATE_SHOWN, "67%");
	/* Count and denominator shown: so is the rate, even when the complement
	 * is small; "d - c" is printed in plain sight, a ">75%" hid nothing. */
	check_rate(16, 0, 20, 0, SUPPRESS_RATE_SHOWN, "80%");
	check_rate(15, 0, 17, 0, SUPPRESS_RATE_SHOWN, "88%");
	check_rate(20, 0, 20, 0, SUPPRESS_RATE_SHOWN, "100%");
	check_rate(5, 0, 2000, 0, SUPPRESS_RATE_SHOWN, "0%");	/* 0.25%, rounded */
	/* Either one withheld: the rate is too, whatever the values. */
	check_rate(4, 1, 20, 0, SUPPRESS_RATE_HIDDEN, "-");
	check_rate(0, 1, 20, 0, SUPPRESS_RATE_HIDDEN, "-");
	check_rate(12, 1, 40, 0, SUPPRESS_RATE_HIDDEN, "-");	/* a secondary "x" */
	check_rate(12, 0, 40, 1, SUPPRESS_RATE_HIDDEN, "-");
	check_rate(3, 1, 4, 1, SUPPRESS_RATE_HIDDEN, "-");
	check_rate(9, 1, 3, 1, SUPPRESS_RATE_HIDDEN, "-");	/* not checked: nothing is shown */
	/* Nothing to divide by. */
	check_rate(0, 0, 0, 0, SUPPRESS_RATE_HIDDEN, "-");
	/* Huge counts do not overflow. */
	check_rate(UINT64_MAX / 2, 0, UINT64_MAX, 0, SUPPRESS_RATE_SHOWN, "50%");
	/* Bad input. */
	assert_int_equal(suppress_rate(3, 0, 2, 0, small, sizeof(small)), -EINVAL);
	assert_int_equal(suppress_rate(1, 0, 2, 0, NULL, 8), -EINVAL);
	assert_int_equal(suppress_rate(20, 0, 20, 0, small, sizeof(small)), -ENOSPC);	/* "100%" */
	assert_int_equal(suppress_rate(1, 1, 4, 0, small, 1), -ENOSPC);	/* "-" */
	assert_int_equal(suppress_rate(10, 0, 20, 0, small, sizeof(small)), SUPPRESS_RATE_SHOWN);
	assert_string_equal(small, "50%");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary),
		cmocka_unit_test(test_column_with_total),
		cmocka_unit_test(test_2d_rectangle),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_property_2d),
		cmocka_unit_test(test_property_split),
		cmocka_unit_test(test_determined_agrees),
		cmocka_unit_test(test_property_general),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
