/* libFuzzer target: the leavers CSV parser and validator (a file a school's
 * administration exports, and the daemon re-validates rows the CLI sends). */
#include <stddef.h>
#include <stdint.h>

#include "leavers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 };
	size_t n = 0;

	if (leavers_parse_buffer("fuzz.csv", (const char *)data, size, &rows, &n, &errors, NULL,
				 NULL) == 0)
		leavers_free(&rows, n);
	strlist_clear(&errors);
	return 0;
}
