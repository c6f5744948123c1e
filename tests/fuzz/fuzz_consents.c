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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_TODAY "2026-01-15"

static const char s_delims[] = { 0, ',', ';', '\t' };
static const char *const s_encodings[] = { NULL, "utf-8", "windows-1252", "auto" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvfile_opts o = { 0 };
	struct csvdialect_map *map = NULL;
	struct consents_csv_row *rows = NULL;
	struct strlist errors = { 0 }, warnings = { 0 };
	const char *csv = (const char *)data;
	size_t n = 0, len = size;
	unsigned opt;

	if (size == 0)
		return 0;
	opt = data[0];
	csv++;
	len--;
	o.today = S_TODAY;
	o.delimiter = s_delims[opt & 3];
	o.encoding = s_encodings[(opt >> 2) & 3];
	o.date_format = (enum csvdialect_date)((opt >> 4) & 3);
	o.strict = (opt >> 6) & 1;
	o.warnings = &warnings;
	if (opt & 0x80) {
		const char *end = memmem(csv, len, "\n%%\n", 4);
		char *text;

		if (!end)
			return 0;
		text = strndup(csv, (size_t)(end - csv));
		if (!text)
			return 0;
		(void)csvdialect_map_parse("fuzz.ini", text, &map, &errors);
		free(text);
		len -= (size_t)(end + 4 - csv);
		csv = end + 4;
		o.map = map;
	}
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
