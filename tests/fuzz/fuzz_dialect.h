/* fuzz_dialect: how the CSV fuzz targets that take every dialect (design.md
 * §8.8) read their options from the input. The first byte chooses: bits 0-1
 * the separator (detected, ',', ';', TAB), 2-3 the encoding (detected,
 * utf-8, windows-1252, detected), 4-5 the date format, 6 --strict, 7 a map
 * file: then the input up to "\n%%\n" is the map, the rest the CSV.
 * Header-only, so each target stays one file for tests/fuzz/CMakeLists.txt. */
#ifndef OVERSTAP_FUZZ_DIALECT_H
#define OVERSTAP_FUZZ_DIALECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvdialect.h"
#include "csvfile.h"

/* Fill o from the first byte (and *map from the map part, freed by the
 * caller with csvdialect_map_free); *csv and *len are what is left to parse.
 * 0, or -1 when the input is too short or its map part has no end. */
static inline int fuzz_dialect(const uint8_t *data, size_t size, struct csvfile_opts *o,
			       struct csvdialect_map **map, struct strlist *errors,
			       const char **csv, size_t *len)
{
	static const char delims[] = { 0, ',', ';', '\t' };
	static const char *const encodings[] = { NULL, "utf-8", "windows-1252", "auto" };
	unsigned opt;

	if (size == 0)
		return -1;
	opt = data[0];
	*csv = (const char *)data + 1;
	*len = size - 1;
	o->delimiter = delims[opt & 3];
	o->encoding = encodings[(opt >> 2) & 3];
	o->date_format = (enum csvdialect_date)((opt >> 4) & 3);
	o->strict = (opt >> 6) & 1;
	if (opt & 0x80) {
		const char *end = memmem(*csv, *len, "\n%%\n", 4);
		char *text;

		if (!end || !(text = strndup(*csv, (size_t)(end - *csv))))
			return -1;
		(void)csvdialect_map_parse("fuzz.ini", text, map, errors);
		free(text);
		*len -= (size_t)(end + 4 - *csv);
		*csv = end + 4;
		o->map = *map;
	}
	return 0;
}

#endif
