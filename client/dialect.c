/* dialect: the import options shared by `import leavers`, `outcomes` and
 * `registrations` (design.md §8.8). */
#include "dialect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "out.h"
#include "i18n.h"

int dialect_option(const struct cli *cli, struct dialect *d, int c, const char *arg)
{
	d->o.warnings = &d->warnings;
	switch (c) {
	case DIALECT_OPT_DELIMITER:
		if (csvdialect_delimiter(arg, &d->o.delimiter) < 0)
			return cli_usage_error(cli, "--delimiter must be one character: , ; or tab");
		return CLI_EXIT_OK;
	case DIALECT_OPT_ENCODING:
		d->o.encoding = arg;	/* iconv says whether it knows it */
		return CLI_EXIT_OK;
	case DIALECT_OPT_DATE_FORMAT:
		if (csvdialect_date_format(arg, &d->o.date_format) < 0)
			return cli_usage_error(cli, "--date-format must be ymd, dmy, mdy or auto");
		return CLI_EXIT_OK;
	case DIALECT_OPT_STRICT:
		d->o.strict = 1;
		return CLI_EXIT_OK;
	case DIALECT_OPT_MAP:
		d->map_path = arg;
		return CLI_EXIT_OK;
	default:
		return -1;
	}
}

int dialect_ready(struct dialect *d)
{
	struct strlist errors = { 0 };
	int r;

	d->o.warnings = &d->warnings;
	if (!d->map_path)
		return CLI_EXIT_OK;
	r = csvdialect_map_load(d->map_path, &d->map, &errors);
	for (size_t i = 0; i < errors.n; i++) {
		out_text(stderr, errors.v[i]);
		fputc('\n', stderr);
	}
	if (r < 0 && !errors.n)
		fprintf(stderr, _("overstap: %s: %s\n"), d->map_path, strerror(-r));
	strlist_clear(&errors);
	if (r < 0) {
		fprintf(stderr, _("overstap: %s: the map file is not usable, nothing imported\n"),
			d->map_path);
		return CLI_EXIT_INPUT;
	}
	d->o.map = d->map;
	return CLI_EXIT_OK;
}

void dialect_warn(struct dialect *d)
{
	for (size_t i = 0; i < d->warnings.n; i++) {
		fputs(_("overstap: warning: "), stderr);
		out_text(stderr, d->warnings.v[i]);
		fputc('\n', stderr);
	}
	strlist_clear(&d->warnings);
}

void dialect_clear(struct dialect *d)
{
	strlist_clear(&d->warnings);
	csvdialect_map_free(&d->map);
	d->o.map = NULL;
}
