/* libFuzzer target: the registrations CSV parser and validator (a file an
 * MBO's administration exports; the same checks guard `registration record`).
 * Besides not crashing or leaking, what the parser accepts must hold the
 * promises of registrations.h; `today` is fixed so that a find reproduces on
 * any day. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "pgn.h"
#include "registrations.h"

#define TODAY "2025-10-01"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A row the parser returned: valid by every rule of registration_row_validate. */
static int row_ok(const struct registration_row *r, unsigned prev_line)
{
	return r->line > prev_line && pgn_check(r->pgn, NULL) == 0 &&
	       config_institution_id_valid(r->sending_school) &&
	       date_valid(r->registered_on, NULL, NULL, NULL) &&
	       strcmp(r->registered_on, TODAY) <= 0;
}

/* No two rows share pgn and sending_school. Quadratic, but an input of at
 * most a few KiB holds at most a few hundred rows. */
static int rows_distinct(const struct registration_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(rows[i].pgn, rows[j].pgn) == 0 &&
			    strcmp(rows[i].sending_school, rows[j].sending_school) == 0)
				return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Every dialect is detected (design.md §8.8); an odd size is --strict, an
	 * even one ignores unknown columns. */
	const struct csvfile_opts o = { .today = TODAY, .strict = (int)(size & 1) };
	struct registration_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	r = registrations_import("fuzz.csv", (const char *)data, size, &o, &rows, &n, &errors);
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			if (!row_ok(&rows[i], i ? rows[i - 1].line : 1))
				__builtin_trap();
		if (errors.n || !rows_distinct(rows, n))
			__builtin_trap();
	} else if (r != -EINVAL || errors.n == 0 || rows || n) {
		__builtin_trap();	/* a failure always says why and returns nothing */
	}
	registrations_free(&rows);
	strlist_clear(&errors);
	return 0;
}
