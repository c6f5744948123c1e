/* libFuzzer target: the outcomes CSV parser and validator (a file an MBO's
 * administration exports; the same checks guard `registration status` / `outcome
 * record`). Besides not crashing or leaking, what the parser accepts must
 * hold the promises of outcomes.h; `today` is fixed so that a find
 * reproduces on any day. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "outcomes.h"
#include "pgn.h"

#define TODAY "2025-10-01"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A row the parser returned: valid by every rule of outcome_row_validate. */
static int row_ok(const struct outcome_row *r, unsigned prev_line)
{
	/* keyed by record id or, in its place, by PGN: exactly one of the two */
	return r->line > prev_line &&
	       (r->pgn[0] ? !r->record_id[0] && pgn_check(r->pgn, NULL) == 0
			  : crypto_uuid_valid(r->record_id)) &&
	       outcome_event_str(r->event) && date_valid(r->date, NULL, NULL, NULL) &&
	       strcmp(r->date, TODAY) <= 0 &&
	       (outcome_event_needs_level(r->event)
			? r->level >= OUTCOME_LEVEL_MIN && r->level <= OUTCOME_LEVEL_MAX
			: r->level == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Every dialect is detected (design.md §8.8); an odd size is --strict, an
	 * even one ignores unknown columns. */
	const struct csvfile_opts o = { .today = TODAY, .strict = (int)(size & 1) };
	struct outcome_row *rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;
	int r;

	r = outcomes_import("fuzz.csv", (const char *)data, size, &o, &rows, &n, &errors);
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			if (!row_ok(&rows[i], i ? rows[i - 1].line : 1))
				__builtin_trap();
	} else if (r != -EINVAL || errors.n == 0 || rows || n) {
		__builtin_trap();	/* a failure always says why and returns nothing */
	}
	outcomes_free(&rows);
	strlist_clear(&errors);
	return 0;
}
