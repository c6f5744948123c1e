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
	/* Optional (NULL = none): n flags, 1 = a reader knows the cell is at
	 * least 1 (the head count of a row only listed when it has a pupil). */
	const uint8_t *positive;
	/* Optional (NULL = all 0): n levels. Among the cells that would help,
	 * one of a lower level is withheld first; report_link.c ranks the cells of
	 * finer tables below those of coarser ones, so that a two-dimension
	 * breakdown gives up cells before a one-dimension table or the total. */
	const uint8_t *keep;
	/* The primary threshold, for the bound step of suppress_secondary; 0
	 * leaves that step out (linear protection only). */
	unsigned min_cell;
};

/* Primary suppression: flag every cell whose value is below min_cell, 0
 * included (design.md §6: "below min_cell"). Flags already set stay set. */
void suppress_primary(struct suppress_table *t, unsigned min_cell);

/* Secondary suppression: flag more cells until no withheld cell can be
 * recovered exactly from the shown cells and the equations, neither
 * linearly nor from the bounds a reader knows (below), i.e. for every
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
 * With levels (t->keep), a lower level breaks ties after the score.
 * The system is split into its connected components first (cells linked by
 * equations), each protected alone. A component of more than 200 cells
 * takes a quick path instead of the scored greedy, which needs one
 * elimination per candidate: the singleton rule (an equation with one
 * withheld cell gets its smallest shown cell withheld), the bound step, then
 * one exact elimination, every determined cell's partner (as in 3.) withheld
 * in one round, again until none is determined. It may withhold more cells.
 * Bounds (when t->min_cell is set): a reader knows every cell is >= 0 (>= 1
 * when positive), a primary cell (value < min_cell, shown as "<5") is <=
 * min_cell - 1 and a secondary one ("x") >= min_cell. Once no cell is
 * linearly determined, each equation narrows the interval of each of its
 * cells from the others' until nothing changes; a withheld cell whose
 * interval is one value is pinned, and a shown cell of an equation holding
 * it (the lowest level, then the smallest) is withheld as well; then the
 * linear step runs again, until both are stable. This catches "a(<5) +
 * b(<5) = 8" and "a shown 0 total"; it is not a full integer program, so a
 * reader combining several equations may still narrow a cell more
 * (design.md §6.4 says how far), and a pin no shown cell can undo (every
 * cell of its equations withheld) stays. Flags are only ever set, never
 * cleared. Returns the number
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
	SUPPRESS_RATE_HIDDEN = 3,	/* "-": c or d withheld, or d == 0 */
};

/* Enough for every text suppress_rate writes ("100%", "-"). */
#define SUPPRESS_RATE_BUFLEN 8

/* The one rule (design.md §6.4): a rate is shown, rounded half up, exactly
 * when its count and its denominator are both shown and the denominator is
 * not 0; otherwise it reads "-". No ranges: a "<25%" or ">75%" next to a
 * printed count and denominator hid nothing the reader could not divide.
 * c_sup/d_sup say whether the count/denominator are withheld. Writes "62%"
 * or "-" into buf, returns the enum suppress_rate_kind; -EINVAL when c > d
 * (both shown) or buf is NULL, -ENOSPC when len is too small. */
int suppress_rate(uint64_t c, int c_sup, uint64_t d, int d_sup, char *buf, size_t len);

#endif
