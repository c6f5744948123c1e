/* cmd_import: `overstap import leavers FILE.csv` (design.md §8). The file is parsed
 * and validated here first, so a bad file is reported with every error
 * without bothering the daemon; the daemon validates again before it stores. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctl.h"
#include "dialect.h"
#include "leavers.h"
#include "out.h"
#include "util.h"
#include "i18n.h"

#define BAR_WIDTH 30

/* The progress line on a terminal's stderr. */
struct progress {
	int on;			/* stderr is a terminal: draw at all */
	const char *data;	/* the file's bytes, to count the lines passed */
	size_t len;		/* bytes in data */
	size_t counted;		/* bytes of data already scanned for line breaks */
	size_t lines;		/* line breaks seen so far */
	int pct;		/* percentage last drawn, -1 before the first */
	int width;		/* characters last drawn, to erase them */
};

static void s_progress_draw(struct progress *p, const char *text)
{
	if (p->on)
		p->width = fprintf(stderr, "\r%s", text) - 1;	/* without the \r */
}

/* Blank the line without terminal escapes, so it works on any terminal. */
static void s_progress_erase(struct progress *p)
{
	if (p->on && p->width > 0)
		fprintf(stderr, "\r%*s\r", p->width, "");
	p->width = 0;
}

/* leavers_progress_fn: percentage of bytes and rows (lines after the header) passed. */
static void s_progress(size_t done, size_t total, void *arg)
{
	struct progress *p = arg;
	char bar[BAR_WIDTH + 1], line[128];
	int pct = total ? (int)(done * 100 / total) : 100;
	int fill = pct * BAR_WIDTH / 100;

	if (!p->on)
		return;
	for (; p->counted < done && p->counted < p->len; p->counted++)
		p->lines += p->data[p->counted] == '\n';
	if (pct == p->pct)
		return;
	p->pct = pct;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
	bar[BAR_WIDTH] = '\0';
	snprintf(line, sizeof(line), "[%s] %3d%%  %zu rows", bar, pct,
		 p->lines ? p->lines - 1 : 0);
	s_progress_draw(p, line);
}

static int s_invalid(const char *file, char **errors, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out_text(stderr, errors[i]);
		fputc('\n', stderr);
	}
	fprintf(stderr, ngettext("overstap: %s: %zu error, nothing imported\n",
				 "overstap: %s: %zu errors, nothing imported\n", n), file, n);
	return CLI_EXIT_INPUT;
}

/* Read and validate FILE in the dialect d; on success *rows and *n hold the
 * leavers. */
static int s_parse(const char *file, struct dialect *d, Overstapctl__Leaver ***rows, size_t *n)
{
	struct progress p = { .on = isatty(STDERR_FILENO), .pct = -1 };
	struct strlist errors = { 0 };
	char *data = NULL;
	size_t len = 0;
	int r;

	/* Read here rather than with leavers_parse_file so the progress bar can
	 * count rows in the bytes the parser has passed. */
	r = file_read_all(file, CTL_MAX_MESSAGE, &data, &len);
	if (r < 0) {
		fprintf(stderr, _("overstap: %s: %s, nothing imported\n"), file,
			r == -EFBIG ? "file too large" : strerror(-r));
		return CLI_EXIT_INPUT;
	}
	p.data = data;
	p.len = len;
	d->o.progress = s_progress;
	d->o.arg = &p;
	r = leavers_import(file, data, len, &d->o, rows, n, &errors);
	s_progress_erase(&p);
	dialect_warn(d);
	if (r == -EINVAL && errors.n) {
		r = s_invalid(file, errors.v, errors.n);
	} else if (r < 0 || *n == 0) {
		fprintf(stderr, _("overstap: %s: %s, nothing imported\n"), file,
			r < 0 ? strerror(-r) : "no leavers in the file");
		r = CLI_EXIT_INPUT;
	} else {
		r = CLI_EXIT_OK;
	}
	strlist_clear(&errors);
	free(data);
	return r;
}

static void s_lines(FILE *f, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out_text(f, v[i]);
		fputc('\n', f);
	}
}

/* One line with every count (design.md §8.5), after the notes and warnings. */
static void s_summary(const char *file, const Overstapctl__ImportResult *res)
{
	s_lines(stdout, res->notes, res->n_notes);
	s_lines(stderr, res->warnings, res->n_warnings);
	if (res->check)
		printf(ngettext("check of %s (nothing changed): would import %u leaver:",
				"check of %s (nothing changed): would import %u leavers:",
				res->added + res->updated),
		       file, (unsigned)(res->added + res->updated));
	else
		printf(ngettext("imported %u leaver from %s:", "imported %u leavers from %s:",
				res->imported), (unsigned)res->imported, file);
	printf(_(" %u added, %u updated, %u unchanged, %u unchanged (already sent), %u refused,"),
	       (unsigned)res->added, (unsigned)res->updated, (unsigned)res->unchanged,
	       (unsigned)res->unchanged_sent, (unsigned)res->refused);
	printf(ngettext(" %zu warning", " %zu warnings", res->n_warnings), res->n_warnings);
	printf("%s\n", res->check && res->n_errors ? _("; the file would be refused whole") : "");
}

static int s_send(struct cli *cli, const char *file, Overstapctl__Leaver **rows, size_t n,
		  int check)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ImportLeavers imp = OVERSTAPCTL__IMPORT_LEAVERS__INIT;
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__ImportResult *res;
	int r;

	imp.file = (char *)file;
	imp.leavers = rows;
	imp.n_leavers = n;
	imp.check = check;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS;
	req.import_leavers = &imp;
	r = cli_request_partial(cli, &req, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT, &rep);
	if (!rep)
		return r;
	res = rep->import_result;
	if (check && r == CLI_EXIT_OK) {
		s_lines(stderr, res->errors, res->n_errors);
		s_summary(file, res);
		r = res->n_errors ? CLI_EXIT_INPUT : CLI_EXIT_OK;
	} else if (res->n_errors) {
		r = s_invalid(file, res->errors, res->n_errors);
	} else if (r == CLI_EXIT_OK) {
		s_summary(file, res);
	}
	overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

int cmd_import_leavers(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "check", no_argument, NULL, 'n' },
		DIALECT_LONG_OPTIONS,
		{ 0 },
	};
	Overstapctl__Leaver **rows = NULL;
	struct dialect d = { 0 };
	size_t n = 0;
	int c, r, check = 0;

	while ((c = getopt_long(argc, argv, "hn", opts, NULL)) != -1) {
		if (c == 'h') {
			cli_help(cli, stdout);
			return CLI_EXIT_OK;
		}
		if (c == 'n') {
			check = 1;
			continue;
		}
		r = dialect_option(cli, &d, c, optarg);
		if (r != CLI_EXIT_OK)
			return r < 0 ? cli_usage_hint(cli) : r;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "expected one CSV file");
	r = dialect_ready(&d);
	if (r == CLI_EXIT_OK)
		r = s_parse(argv[optind], &d, &rows, &n);
	if (r == CLI_EXIT_OK)
		r = s_send(cli, argv[optind], rows, n, check);
	leavers_free(&rows, n);
	dialect_clear(&d);
	return r;
}
