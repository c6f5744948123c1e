/* libFuzzer target: the leavers CSV parser and validator (a file a school's
 * administration exports, and the daemon re-validates rows the CLI sends),
 * in every dialect (design.md §8.8). The first byte chooses the options: bits
 * 0-1 the separator (detected, ',', ';', TAB), 2-3 the encoding (detected,
 * utf-8, windows-1252, detected), 4-5 the date format, 6 --strict, 7 a map
 * file: then the input up to "\n%%\n" is the map, the rest the CSV. What the
 * parser accepts, in whatever dialect, must pass the daemon's own check of a
 * row (leaver_validate), which knows no dialect. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_dialect.h"
#include "leavers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvfile_opts o = { 0 };
	struct csvdialect_map *map = NULL;
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 }, warnings = { 0 };
	const char *csv = NULL;
	size_t n = 0, len = 0;

	o.warnings = &warnings;
	if (fuzz_dialect(data, size, &o, &map, &errors, &csv, &len) < 0)
		return 0;
	if (leavers_import("fuzz.csv", csv, len, &o, &rows, &n, &errors) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct strlist again = { 0 };

			if (leaver_validate("fuzz.csv", rows[i], &again) != 0)
				__builtin_trap();
			strlist_clear(&again);
		}
		leavers_free(&rows, n);
	}
	csvdialect_map_free(&map);
	strlist_clear(&errors);
	strlist_clear(&warnings);
	return 0;
}
