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

#include "leavers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char s_delims[] = { 0, ',', ';', '\t' };
static const char *const s_encodings[] = { NULL, "utf-8", "windows-1252", "auto" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvfile_opts o = { 0 };
	struct csvdialect_map *map = NULL;
	Overstapctl__Leaver **rows = NULL;
	struct strlist errors = { 0 }, warnings = { 0 };
	const char *csv = (const char *)data;
	size_t n = 0, len = size;
	unsigned opt;

	if (size == 0)
		return 0;
	opt = data[0];
	csv++;
	len--;
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
