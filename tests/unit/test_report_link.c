/* Unit tests for report_link.c: the differencing attack of issue 11.10 as a
 * property. Random cohorts over three dimensions; the linked set (every table
 * of one and two dimensions) suppressed by report_link_suppress; then, for
 * every pair of breakdowns a reader can ask for, an independent solver that
 * knows everything the two reports publish tries to pin each withheld count.
 *
 * The solver does not use suppress.c. Its unknowns are the counts of every
 * combination of the values the two reports name (a cell of the full
 * three-way table), integers >= 0. It knows: a shown count is exact; a
 * row of a one-dimension table and a total hold at least one pupil; "<m" is
 * at most m-1; "x" is at least m; a value a one-dimension report does not
 * list is empty; the total row is the sum of all. (Two-dimension tables list
 * every combination, empty ones as "<m", as report.c makes them.) A withheld count is recovered when no solution gives it another value
 * (exact search: bound propagation and branching, on cohorts small enough
 * to finish). */
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

#include "report_int.h"

#define NDIM 3
#define NVAL 3			/* values per dimension at most */
#define NCOMB (NVAL * NVAL * NVAL)
#define NTAB 6			/* A, B, C, AB, AC, BC */
#define MINC 3
#define NCON 64

/* ---- a random cohort laid into the linked set ---- */

struct cohort {
	unsigned nval[NDIM];
	unsigned count[NCOMB];	/* pupils per combination (a, b, c) */
	unsigned n;
};

static unsigned s_comb(unsigned a, unsigned b, unsigned c) { return (a * NVAL + b) * NVAL + c; }

static uint64_t s_rng;
static unsigned s_rand(unsigned n)
{
	s_rng ^= s_rng << 13;
	s_rng ^= s_rng >> 7;
	s_rng ^= s_rng << 17;
	return (unsigned)(s_rng % n);
}

static void s_cohort(struct cohort *co)
{
	memset(co, 0, sizeof(*co));
	for (int d = 0; d < NDIM; d++)
		co->nval[d] = 2 + s_rand(NVAL - 1);
	co->n = 6 + s_rand(20);
	/* skewed: some combinations big, many empty or small, as in a school */
	for (unsigned i = 0; i < co->n; i++) {
		unsigned a = s_rand(co->nval[0]), b = s_rand(co->nval[1]), c = s_rand(co->nval[2]);
		if (s_rand(3) == 0)
			a = b = c = 0;
		co->count[s_comb(a, b, c)]++;
	}
}

/* Table t's dimensions (0 = A, 1 = B, 2 = C), in the order report.c uses. */
static const int s_tdims[NTAB][2] = { { 0, -1 }, { 1, -1 }, { 2, -1 }, { 0, 1 }, { 0, 2 }, { 1, 2 } };
static size_t s_tnd(int t) { return s_tdims[t][1] < 0 ? 1 : 2; }

static unsigned s_val(unsigned comb, int d)
{
	return d == 0 ? comb / (NVAL * NVAL) : d == 1 ? comb / NVAL % NVAL : comb % NVAL;
}

/* Build the rtables of the linked set from the cohort: groups keyed by
 * single-character values "0".."2" joined by \x1f, as report.c joins them. */
static void s_tables(const struct cohort *co, struct rtable *t)
{
	unsigned seen[NDIM][NVAL] = { { 0 } };

	for (unsigned f = 0; f < NCOMB; f++)
		for (int d = 0; co->count[f] && d < NDIM; d++)
			seen[d][s_val(f, d)] = 1;
	memset(t, 0, NTAB * sizeof(*t));
	for (int ti = 0; ti < NTAB; ti++) {
		t[ti].ndims = s_tnd(ti);
		for (size_t k = 0; k < t[ti].ndims; k++)
			t[ti].dims[k] = s_tdims[ti][k];
		t[ti].cap = 64;
		t[ti].g = calloc(t[ti].cap, sizeof(struct group));
		assert_non_null(t[ti].g);
		/* as report.c does: a row for every value a pupil has and, in a
		 * two-dimension table, every combination of those, empty or not */
		for (unsigned v = 0; v < NVAL; v++)
			for (unsigned w = 0; w < (t[ti].ndims == 2 ? NVAL : 1); w++) {
				char key[32];
				uint64_t c = 0;

				if (!seen[s_tdims[ti][0]][v] || (t[ti].ndims == 2 && !seen[s_tdims[ti][1]][w]))
					continue;
				for (unsigned f = 0; f < NCOMB; f++)
					if (s_val(f, s_tdims[ti][0]) == v &&
					    (t[ti].ndims == 1 || s_val(f, s_tdims[ti][1]) == w))
						c += co->count[f];
				if (t[ti].ndims == 1)
					snprintf(key, sizeof(key), "%u", v);
				else
					snprintf(key, sizeof(key), "%u\x1f%u", v, w);
				t[ti].g[t[ti].n].key = strdup(key);
				t[ti].g[t[ti].n++].c[0] = c;
				t[ti].total[0] += c;
			}
	}
}

static void s_tables_free(struct rtable *t)
{
	for (int ti = 0; ti < NTAB; ti++) {
		for (size_t i = 0; i < t[ti].cap; i++)
			free(t[ti].g[i].key);
		free(t[ti].g);
	}
}

/* ---- the solver ---- */

/* sum of x over the combinations in mask, in [lo, hi] */
struct con {
	uint8_t mask[NCOMB];
	long lo, hi;
};

struct prob {
	struct con c[NCON];
	size_t nc;
	unsigned nx;		/* combinations in play: those inside every value range */
	uint8_t live[NCOMB];
	long nodes;
	long budget;		/* nodes one search may take; past it, undecided */
};

/* Narrow the domains [lo, hi] of x by each constraint until stable; 0 when
 * some domain or constraint is empty. */
static int s_propagate(const struct prob *p, long *lo, long *hi)
{
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t k = 0; k < p->nc; k++) {
			const struct con *c = &p->c[k];
			long slo = 0, shi = 0;

			for (unsigned f = 0; f < NCOMB; f++)
				if (c->mask[f]) {
					slo += lo[f];
					shi += hi[f];
				}
			if (slo > c->hi || shi < c->lo)
				return 0;
			for (unsigned f = 0; f < NCOMB; f++) {
				if (!c->mask[f])
					continue;
				long l = c->lo - (shi - hi[f]), h = c->hi - (slo - lo[f]);
				if (l > lo[f])
					lo[f] = l, changed = 1;
				if (h < hi[f])
					hi[f] = h, changed = 1;
				if (lo[f] > hi[f])
					return 0;
			}
		}
	}
	return 1;
}

/* 1 when some integer x satisfies every constraint (exhaustive search), or
 * when the search outgrows p->budget nodes. Values are tried upward from the
 * smallest, so sparse solutions, which small cohorts have, come first. */
static int s_feasible(struct prob *p, const long *lo0, const long *hi0)
{
	long lo[NCOMB], hi[NCOMB];
	unsigned pick = NCOMB;

	memcpy(lo, lo0, sizeof(lo));
	memcpy(hi, hi0, sizeof(hi));
	if (++p->nodes > p->budget)
		return 1;	/* undecided: counted as not pinned, and reported */
	if (!s_propagate(p, lo, hi))
		return 0;
	for (unsigned f = 0; f < NCOMB; f++)
		if (p->live[f] && lo[f] < hi[f] && (pick == NCOMB || hi[f] - lo[f] < hi[pick] - lo[pick]))
			pick = f;
	if (pick == NCOMB)
		return 1;	/* all fixed and consistent */
	for (long v = lo[pick]; v <= hi[pick]; v++) {
		long l2[NCOMB], h2[NCOMB];
		memcpy(l2, lo, sizeof(l2));
		memcpy(h2, hi, sizeof(h2));
		l2[pick] = h2[pick] = v;
		if (s_feasible(p, l2, h2))
			return 1;
	}
	return 0;
}

static void s_con(struct prob *p, const uint8_t *mask, long lo, long hi)
{
	assert_true(p->nc < NCON);
	memcpy(p->c[p->nc].mask, mask, NCOMB);
	p->c[p->nc].lo = lo;
	p->c[p->nc].hi = hi;
	p->nc++;
}

/* The combinations a cell of table ti covers: value v of its first
 * dimension and w of its second (ignored for one dimension); -1 = the total. */
static void s_mask(const struct cohort *co, int ti, int v, int w, uint8_t *mask)
{
	for (unsigned f = 0; f < NCOMB; f++) {
		int in = s_val(f, 0) < co->nval[0] && s_val(f, 1) < co->nval[1] && s_val(f, 2) < co->nval[2];
		if (in && v >= 0)
			in = (int)s_val(f, s_tdims[ti][0]) == v && (s_tnd(ti) == 1 || (int)s_val(f, s_tdims[ti][1]) == w);
		mask[f] = (uint8_t)in;
	}
}

/* One published cell: what the reader knows of the sum over its mask. */
struct pub {
	uint8_t mask[NCOMB];
	uint64_t value;
	int withheld;		/* 1 withheld, 0 shown, -1 not listed (empty) */
	int positive;		/* listed, so at least one pupil: a one-dimension row, a total */
	char what[64];
};

/* Every cell table ti publishes (listed groups, then the total), from the
 * suppressed system; a group not listed is a published zero. */
static size_t s_publish(const struct cohort *co, const struct report_sys *sys, int ti, struct pub *out)
{
	const struct laid *l = &sys->l[ti];
	size_t n = 0;
	unsigned nv = co->nval[s_tdims[ti][0]], nw = s_tnd(ti) == 2 ? co->nval[s_tdims[ti][1]] : 1;

	for (unsigned v = 0; v < nv; v++)
		for (unsigned w = 0; w < nw; w++) {
			char key[32];
			size_t g = 0;

			if (s_tnd(ti) == 1)
				snprintf(key, sizeof(key), "%u", v);
			else
				snprintf(key, sizeof(key), "%u\x1f%u", v, w);
			while (g < l->ng && strcmp(l->gs[g].key, key) != 0)
				g++;
			s_mask(co, ti, (int)v, (int)w, out[n].mask);
			out[n].value = g < l->ng ? sys->v[l->off + g] : 0;
			out[n].withheld = g < l->ng ? sys->sup[l->off + g] : -1;
			out[n].positive = s_tnd(ti) == 1;
			snprintf(out[n].what, sizeof(out[n].what), "table %d group %u/%u", ti, v, w);
			n++;
		}
	s_mask(co, ti, -1, -1, out[n].mask);
	out[n].value = sys->v[l->off + l->ng];
	out[n].withheld = sys->sup[l->off + l->ng];
	out[n].positive = 1;
	snprintf(out[n].what, sizeof(out[n].what), "table %d total", ti);
	return n + 1;
}

/* The constraints a reader has from the published cells pub[0..n). */
static void s_knows(struct prob *p, const struct pub *pub, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pub[i].withheld < 0)
			s_con(p, pub[i].mask, 0, 0);			/* not listed: empty */
		else if (!pub[i].withheld)
			s_con(p, pub[i].mask, (long)pub[i].value, (long)pub[i].value);
		else if (pub[i].value < MINC)
			s_con(p, pub[i].mask, pub[i].positive, MINC - 1);	/* "<3" */
		else
			s_con(p, pub[i].mask, MINC, 1000);		/* "x" */
	}
}

static long s_undecided;

/* 1 when the reader of pub[0..n) can pin withheld cell pub[i]. */
static int s_pinned(struct prob *base, const struct pub *pub, size_t i)
{
	struct prob p;
	long lo[NCOMB], hi[NCOMB];
	int other = 0;

	for (unsigned f = 0; f < NCOMB; f++) {
		lo[f] = 0;
		hi[f] = base->live[f] ? 100 : 0;
	}
	for (int side = 0; side < 2 && !other; side++) {
		p = *base;
		if (side == 0 && pub[i].value == 0)
			continue;
		s_con(&p, pub[i].mask, side ? (long)pub[i].value + 1 : 0,
		      side ? 1000 : (long)pub[i].value - 1);
		p.nodes = 0;
		p.budget = 20000;
		other = s_feasible(&p, lo, hi);
		s_undecided += p.nodes > p.budget;
		base->nodes += p.nodes;
	}
	return !other;
}

/* ---- the property ---- */

static void test_pairs_of_breakdowns_reveal_nothing(void **state)
{
	const struct link_spec sp = { .ncell = 1, .head = 0 };
	unsigned cohorts = 0, checked = 0, withheld = 0;
	long nodes = 0;

	(void)state;
	s_rng = 0x0d1ffe12e5ce11ULL;
	for (int iter = 0; iter < 60; iter++) {
		struct cohort co;
		struct rtable t[NTAB];
		struct report_sys sys = { 0 };
		uint64_t seed = s_rng;

		s_cohort(&co);
		s_tables(&co, t);
		assert_int_equal(report_link_suppress(t, NTAB, &sp, MINC, &sys), 0);
		cohorts++;
		for (int a = 0; a < NTAB; a++)
			for (int b = a; b < NTAB; b++) {	/* a == b: one report alone */
				struct pub pub[2 * (NVAL * NVAL + 1)];
				struct prob p;
				size_t n = s_publish(&co, &sys, a, pub);

				if (b != a)
					n += s_publish(&co, &sys, b, pub + n);
				memset(&p, 0, sizeof(p));
				for (unsigned f = 0; f < NCOMB; f++)
					p.live[f] = s_val(f, 0) < co.nval[0] && s_val(f, 1) < co.nval[1] &&
						    s_val(f, 2) < co.nval[2];
				s_knows(&p, pub, n);
				for (size_t i = 0; i < n; i++) {
					if (pub[i].withheld != 1)
						continue;
					withheld++;
					if (s_pinned(&p, pub, i)) {
						for (size_t j = 0; j < n; j++)
							print_error("  %s: %" PRIu64 " %s\n", pub[j].what, pub[j].value,
								    pub[j].withheld < 0 ? "(not listed)" : pub[j].withheld ? (pub[j].value < MINC ? "<3" : "x") : "shown");
						fail_msg("seed %#" PRIx64 ": reports %d and %d pin %s = %" PRIu64
							 " (withheld)", seed, a, b, pub[i].what, pub[i].value);
					}
					checked++;
				}
				nodes += p.nodes;
			}
		report_sys_free(&sys);
		s_tables_free(t);
	}
	printf("  %u cohorts, every pair of the 6 breakdowns: %u withheld counts, none pinned "
	       "(%ld nodes; %ld searches undecided)\n", cohorts, withheld, nodes, s_undecided);
	/* undecided searches prove nothing either way: keep them rare */
	assert_true(s_undecided * 20 < (long)checked);
	assert_true(checked > 100);	/* the property was exercised */
}

/* The solver finds the issue's leak (here with min_cell 3): isk 52 shown
 * next to isk yes 50 shown and isk no withheld pins isk no = 2. Without
 * this, a solver that never pins anything would pass the property above. */
static void test_solver_pins_the_issue_leak(void **state)
{
	struct prob p;
	struct pub pub[3];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.live[0] = p.live[1] = 1;
	memset(pub, 0, sizeof(pub));
	pub[0].mask[0] = pub[0].mask[1] = 1;	/* isk = 52, shown */
	pub[0].value = 52;
	pub[1].mask[0] = 1;			/* isk yes = 50, shown */
	pub[1].value = 50;
	pub[2].mask[1] = 1;			/* isk no = 2, withheld as "<3" */
	pub[2].value = 2;
	pub[2].withheld = 1;
	pub[0].positive = pub[1].positive = pub[2].positive = 1;
	s_knows(&p, pub, 3);
	assert_true(s_pinned(&p, pub, 2));
	/* with isk yes withheld as well, isk no is free again */
	memset(&p, 0, sizeof(p));
	p.live[0] = p.live[1] = 1;
	pub[1].withheld = 1;
	s_knows(&p, pub, 3);
	assert_false(s_pinned(&p, pub, 2));
	/* and the bound case: a(<3) + b(<3) = 4 pins both at 2 */
	memset(&p, 0, sizeof(p));
	p.live[0] = p.live[1] = 1;
	pub[0].value = 4;
	pub[1].value = 2;
	pub[2].value = 2;
	s_knows(&p, pub, 3);
	assert_true(s_pinned(&p, pub, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_solver_pins_the_issue_leak),
		cmocka_unit_test(test_pairs_of_breakdowns_reveal_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
