/* suppress: statistical disclosure control for report tables (design.md §6) —
 * primary and secondary cell suppression and the rate display clamps. Pure
 * computation: no store, no network, no logging. */
#ifndef OVERSTAP_SUPPRESS_H
#define OVERSTAP_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

/* A report table as flat cells plus the additive equations a reader knows hold
 * between them (row totals, column totals, grand total, "handed_over =
 * with_consent + no_consent", ...). Everything is borrowed from the caller;
 * only the suppressed flags are written. */
struct suppress_table {
	size_t n;			/* number of cells */
	const uint64_t *value;		/* n counts */
	uint8_t *suppressed;		/* n flags, in/out: 1 = withheld, 0 = shown */
	size_t neq;			/* number of equations */
	/* Equation k: cell total[k] == sum of cells parts[k][0 .. nparts[k]).
	 * Every index must be < n. A cell may appear in any number of equations. */
	const size_t *total;		/* neq cell indices */
	const size_t *const *parts;	/* neq arrays of cell indices */
	const size_t *nparts;		/* neq lengths */
};

/* Primary suppression: flag every cell whose value is below min_cell, 0
 * included (design.md §6: "below min_cell"). Flags already set stay set. */
void suppress_primary(struct suppress_table *t, unsigned min_cell);

/* Secondary suppression: flag more cells until no withheld cell can be
 * recovered exactly from the shown cells and the equations, i.e. for every
 * suppressed cell i the unit vector e_i is not in the row space of the
 * equation matrix restricted to the suppressed cells. Greedy, one cell per
 * step, deterministic (no randomness, ties by lowest index):
 *   1. every shown cell is scored exactly by how many suppressed cells would
 *      still be determined once it is suppressed; the lowest score wins when
 *      it is below the current count (ties: the cell joining more equations
 *      that reveal a cell on their own, then the smallest value, then the
 *      lowest index);
 *   2. else, the same order among the cells that join an equation revealing
 *      a single suppressed cell (a 2-D table needs two such steps before a
 *      rectangle closes);
 *   3. else, the fallback: the lowest-index determined cell, the first
 *      equation holding it that still has a shown cell, and that equation's
 *      smallest shown cell; when all its equations are fully suppressed the
 *      search goes on breadth-first through their suppressed cells.
 * Cells the equations fix on their own (determined even with every cell
 * suppressed, say z in "t = a" and "t = a + z") cannot be hidden and are left
 * alone: suppress_determined still answers 1 for them.
 * Only exact (linear) recovery is prevented; a reader may still bound a
 * suppressed cell, e.g. a suppressed pair is known to sum to total minus
 * the shown cells. Flags are only ever set, never cleared. Returns the number
 * of cells added, -EINVAL for a bad index or a table over INT_MAX cells,
 * -ENOMEM, or -EOVERFLOW when exact elimination would outgrow 64-bit
 * coefficients (not seen for 0/±1 report tables). After an error some cells
 * may have been added: the caller must not publish the table. */
int suppress_secondary(struct suppress_table *t);

/* 1 when suppressed cell i is determined (recoverable from the shown cells and
 * the equations), 0 when it is not or when cell i is shown; -EINVAL (also for
 * i >= n), -ENOMEM or -EOVERFLOW as above. One exact elimination per call:
 * to check every cell use suppress_find_determined. */
int suppress_determined(const struct suppress_table *t, size_t i);

/* All at once: det[i] = 1 for every determined suppressed cell, 0 otherwise
 * (det has t->n bytes, caller-owned). One exact elimination for the whole
 * table. Returns the number of determined cells, or -EINVAL, -ENOMEM,
 * -EOVERFLOW. */
int suppress_find_determined(const struct suppress_table *t, uint8_t *det);

/* How a rate is displayed. */
enum suppress_rate_kind {
	SUPPRESS_RATE_SHOWN = 0,	/* "62%": 100*c/d rounded half up */
	SUPPRESS_RATE_LOW = 1,		/* "<X%": c < min_cell, X = ceil(100*min_cell/d) */
	SUPPRESS_RATE_HIGH = 2,		/* ">Y%": d-c < min_cell, Y = floor(100*(d-min_cell)/d) */
	SUPPRESS_RATE_HIDDEN = 3,	/* "-": d == 0, or d < min_cell (see below) */
};

/* Enough for every text suppress_rate writes ("<100%", "100%", "-"). */
#define SUPPRESS_RATE_BUFLEN 8

/* Display text for the rate c/d, where neither count is suppressed (when one
 * is, the caller shows "-" without asking). Writes "62%", "<25%", ">75%" or "-"
 * into buf and returns the enum suppress_rate_kind. LOW wins when both c and
 * d-c are below min_cell. When d < min_cell every c is below min_cell and
 * "<100%" would be false for c == d while any other text would single that
 * case out, so the rate is HIDDEN ("-"); with d >= min_cell X and Y always
 * lie in 0..100 and the text is true. Returns -EINVAL when c > d or buf is NULL,
 * -ENOSPC when len is too small (use SUPPRESS_RATE_BUFLEN). */
int suppress_rate(uint64_t c, uint64_t d, unsigned min_cell, char *buf, size_t len);

#endif
