/* report_int: what report.c and report_link.c share; not for other modules. */
#ifndef OVERSTAP_REPORT_INT_H
#define OVERSTAP_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define NCELL_MAX 11

/* The counts of one group of a table. */
struct group {
	char *key;		/* the dimension values joined by \x1f */
	uint64_t c[NCELL_MAX];
};

/* One table: its dimensions (enum dim of report.c, in the side's canonical
 * order for the linked tables) and a small open-addressing hash of groups. */
struct rtable {
	int dims[REPORT_MAX_DIMS];
	size_t ndims;
	struct group *g;	/* slots; key NULL = empty */
	size_t n, cap;
	uint64_t total[NCELL_MAX];
};

/* What the equations need to know of a side's cells. */
struct link_spec {
	size_t ncell;		/* cells per row */
	size_t head;		/* leavers / intake: >= 1 in every listed row */
	int identity;		/* sending: handed = consent + noconsent per row */
	size_t handed, consent, noconsent;
};

/* One table laid out in the system: its groups sorted by key and the index
 * of its first cell; row g's cell c is off + g * ncell + c, the total row
 * last (g = ng). */
struct laid {
	struct group *gs;	/* owned array; keys borrowed from the rtable */
	size_t ng, off;
};

/* The linked tables as one suppressed system of cells. */
struct report_sys {
	size_t nt;
	struct laid *l;		/* nt, owned */
	size_t n;		/* cells */
	uint64_t *v;		/* n counts, owned */
	uint8_t *sup;		/* n flags (1 = withheld), owned */
};

/* The fields pos[0..npos) of a key (dimension values joined by \x1f), joined
 * again into buf (len bytes; a longer result is cut at a field). */
void report_key_project(const char *key, const size_t *pos, size_t npos, char *buf, size_t len);

/* Lay the linked set t[0..nt) out as one system and suppress it. A table of
 * two dimensions must hold a row for every combination of the values its
 * one-dimension tables list, empty ones included: a reader is taken to know
 * that a row of a one-dimension table, and a total, hold a pupil, not a row
 * of two (design.md §6.4). In each table the groups sum to the total row, every
 * table's total row is the first one's, a table's groups sum to the group
 * of every table whose dimensions are a strict subset of its own, and
 * (sending) handed_over = with_consent + no_consent per row. Fills *out
 * (free with report_sys_free). Returns 0, -ENOMEM, -EINVAL for tables that
 * do not count the same facts, or an error of suppress_secondary: then
 * nothing may be published. */
int report_link_suppress(const struct rtable *t, size_t nt, const struct link_spec *sp, unsigned min_cell,
			 struct report_sys *out);
void report_sys_free(struct report_sys *s);

#endif
