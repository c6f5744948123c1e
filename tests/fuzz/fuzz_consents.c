/* libFuzzer target: the consents CSV parser and validator (consents a school
 * collected on paper or in its LAS, design.md §8.7), in every dialect
 * (§8.8). The first byte chooses the options as in fuzz_leavers.c: bits 0-1
 * the separator (detected, ',', ';', TAB), 2-3 the encoding (detected,
 * utf-8, windows-1252, detected), 4-5 the date format, 6 --strict, 7 a map
 * file: then the input up to "\n%%\n" is the map, the rest the CSV. What the
 * parser accepts, in whatever dialect, must pass the check the daemon runs
 * on a request's row (consents_csv_validate), which knows no dialect. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consents_csv.h"
#include "fuzz_dialect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_TODAY "2026-01-15"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvfile_opts o = { 0 };
	struct csvdialect_map *map = NULL;
	struct consents_csv_row *rows = NULL;
	struct strlist errors = { 0 }, warnings = { 0 };
	const char *csv = NULL;
	size_t n = 0, len = 0;

	o.today = S_TODAY;
	o.warnings = &warnings;
	if (fuzz_dialect(data, size, &o, &map, &errors, &csv, &len) < 0)
		return 0;
	if (consents_csv_import("fuzz.csv", csv, len, &o, &rows, &n, &errors) == 0) {
		for (size_t i = 0; i < n; i++) {
			const struct consents_csv_row *r = &rows[i];
			struct consents_csv_input in = { r->pupil_ref, r->purpose, r->counterpart,
							 r->grantor, r->granted_at, r->valid_until,
							 r->evidence_method, r->evidence_ref, r->line };
			struct consents_csv_row again;
			struct strlist e2 = { 0 };

			if (consents_csv_validate("fuzz.csv", &in, S_TODAY, &again, &e2) != 0)
				__builtin_trap();
			strlist_clear(&e2);
		}
		consents_csv_free(&rows);
	}
	csvdialect_map_free(&map);
	strlist_clear(&errors);
	strlist_clear(&warnings);
	return 0;
}
