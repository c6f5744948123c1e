/* libFuzzer target: the enrolments CSV parser and validator (the MBO's list
 * of new enrolments, design.md §8.4). Besides not crashing or leaking, what
 * the parser accepts must hold the promises of enrolments.h. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "enrolments.h"
#include "pgn.h"
#include "vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int row_ok(const struct enrolment_row_in *r, unsigned prev_line)
{
	return r->line > prev_line && pgn_check(r->pgn, NULL) == 0 && r->level >= 1 &&
	       r->level <= 4 && date_valid(r->start_date, NULL, NULL, NULL) &&
	       (r->previous == 0 || vocab_program_str(r->previous));
}

/* No two rows share pgn and start_date. */
static int rows_distinct(const struct enrolment_row_in *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(rows[i].pgn, rows[j].pgn) == 0 &&
			    strcmp(rows[i].start_date, rows[j].start_date) == 0)
				return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enrolment_row_in *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	r = enrolments_parse_buffer("fuzz.csv", (const char *)data, size, &rows, &n, &errors);
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			if (!row_ok(&rows[i], i ? rows[i - 1].line : 1))
				__builtin_trap();
		if (errors.n || !rows_distinct(rows, n))
			__builtin_trap();
	} else if (r != -EINVAL || errors.n == 0 || rows || n) {
		__builtin_trap();	/* a failure always says why and returns nothing */
	}
	enrolments_free(&rows);
	strlist_clear(&errors);
	return 0;
}
