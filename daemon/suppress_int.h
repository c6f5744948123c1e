/* suppress_int: what suppress.c and suppress_bounds.c share; not for other
 * modules. */
#ifndef OVERSTAP_SUPPRESS_INT_H
#define OVERSTAP_SUPPRESS_INT_H

#include <stdint.h>

#include "suppress.h"

#define S_NONE SIZE_MAX

/* 0 when t is well formed (indices in range, arrays present), else -EINVAL. */
int suppress_valid(const struct suppress_table *t);

/* The linear step of suppress_secondary on a valid table (suppress.h: the
 * greedy, without the component split or the bound step). Returns the cells
 * added or a negative error. */
int suppress_linear(struct suppress_table *t);

/* The shown cell of equation k of the lowest level (t->keep), then the smallest value (ties:
 * lowest index), or S_NONE. */
size_t suppress_eq_smallest_shown(const struct suppress_table *t, size_t k);

#endif
