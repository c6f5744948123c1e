/* dialect: the options every CSV import takes (--delimiter, --encoding,
 * --date-format, --strict, --map; design.md §8.8), filled into the struct
 * csvfile_opts the parsers read, and the warnings printed. */
#ifndef OVERSTAP_CLIENT_DIALECT_H
#define OVERSTAP_CLIENT_DIALECT_H

#include <getopt.h>

#include "cli.h"
#include "csvfile.h"

/* getopt_long values of the options; not characters. */
enum {
	DIALECT_OPT_DELIMITER = 0x100,
	DIALECT_OPT_ENCODING,
	DIALECT_OPT_DATE_FORMAT,
	DIALECT_OPT_STRICT,
	DIALECT_OPT_MAP,
};

/* The entries for a struct option table. */
#define DIALECT_LONG_OPTIONS								\
	{ "delimiter", required_argument, NULL, DIALECT_OPT_DELIMITER },		\
	{ "encoding", required_argument, NULL, DIALECT_OPT_ENCODING },			\
	{ "date-format", required_argument, NULL, DIALECT_OPT_DATE_FORMAT },		\
	{ "strict", no_argument, NULL, DIALECT_OPT_STRICT },				\
	{ "map", required_argument, NULL, DIALECT_OPT_MAP }

/* What the options give: the parsers' options and what they own. */
struct dialect {
	struct csvfile_opts o;		/* passed to the parser */
	const char *map_path;		/* --map, until dialect_ready */
	struct csvdialect_map *map;	/* loaded; owned */
	struct strlist warnings;	/* the parser's; printed by dialect_warn */
};

/* Option c (with optarg arg) of the table above into d. Returns -1 when c is
 * none of them, else an exit status: CLI_EXIT_OK, or CLI_EXIT_USAGE
 * (printed) for a bad value. */
int dialect_option(const struct cli *cli, struct dialect *d, int c, const char *arg);
/* After the options: load the map file. CLI_EXIT_OK, or CLI_EXIT_INPUT with
 * every problem printed. */
int dialect_ready(struct dialect *d);
/* Print the parser's warnings on stderr, once. */
void dialect_warn(struct dialect *d);
/* Free what d holds. */
void dialect_clear(struct dialect *d);

#endif
