/* cmd_import: `overstap import leavers FILE.csv` (design.md §8). The file is read
 * and validated here a block at a time and sent in chunks of rows within one
 * import session (design.md §8.5), so neither side ever holds the whole
 * file; a file of one chunk goes in one request. The daemon validates again,
 * finds duplicate pupil_refs across the chunks, and applies the whole file
 * or nothing. */
#include <errno.h>
#include <limits.h>
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
/* Rows a request when the file is sent in chunks (--chunk): a request of
 * 5,000 leavers is about 2 MiB. */
#define IMPORT_CHUNK_ROWS 5000

/* The progress line on a terminal's stderr. */
struct progress {
	int on;			/* stderr is a terminal: draw at all */
	size_t rows;		/* rows passed so far */
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

/* leavers_progress_fn: percentage of bytes passed, and the rows so far. */
static void s_progress(size_t done, size_t total, void *arg)
{
	struct progress *p = arg;
	char bar[BAR_WIDTH + 1], line[128];
	int pct = total ? (int)(done * 100 / total) : 100;
	int fill = pct * BAR_WIDTH / 100;

	if (!p->on || pct == p->pct)
		return;
	p->pct = pct;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
	bar[BAR_WIDTH] = '\0';
	snprintf(line, sizeof(line), "[%s] %3d%%  %zu rows", bar, pct, p->rows);
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

/* One request of the import: rows (may be none) in session (0: a new one
 * when more, else the whole file). *rep gets the reply when there is one. */
static int s_request(struct cli *cli, const char *file, Overstapctl__Leaver **rows, size_t n,
		     int check, uint64_t session, int more, int abort, Overstapctl__Reply **rep)
{
	Overstapctl__Request req = OVERSTAPCTL__REQUEST__INIT;
	Overstapctl__ImportLeavers imp = OVERSTAPCTL__IMPORT_LEAVERS__INIT;

	imp.file = (char *)file;
	imp.leavers = rows;
	imp.n_leavers = n;
	imp.check = check;
	imp.session = session;
	imp.more = more;
	imp.abort = abort;
	req.body_case = OVERSTAPCTL__REQUEST__BODY_IMPORT_LEAVERS;
	req.import_leavers = &imp;
	return cli_request_partial(cli, &req, OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT, rep);
}

/* The last request (the only one for a small file): the daemon's answer. */
static int s_send(struct cli *cli, const char *file, Overstapctl__Leaver **rows, size_t n,
		  int check, uint64_t session)
{
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__ImportResult *res;
	int r = s_request(cli, file, rows, n, check, session, 0, 0, &rep);

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

/* The file on its way: the chunk held back (sent once the next one exists,
 * so that a file of one chunk goes in one request) and the session. */
struct s_stream {
	struct cli *cli;
	const char *file;
	int check;
	Overstapctl__Leaver **held;	/* rows not sent yet; owned */
	size_t n_held;
	uint64_t session;		/* 0 until the daemon opened one */
	int r;				/* a request failed: its exit status */
	struct progress *p;
};

/* Send the held chunk, more to come. 0, or -ECANCELED (s->r says why). */
static int s_push(struct s_stream *s)
{
	Overstapctl__Reply *rep = NULL;
	int r = s_request(s->cli, s->file, s->held, s->n_held, s->check, s->session, 1, 0, &rep);

	leavers_free(&s->held, s->n_held);
	s->n_held = 0;
	if (r == CLI_EXIT_OK && rep && rep->import_result->session)
		s->session = rep->import_result->session;
	else if (r == CLI_EXIT_OK) {
		/* a daemon older than import sessions (design.md §8.5) */
		fprintf(stderr, _("overstap: %s: the daemon does not take a file in chunks; "
				  "upgrade overstapd\n"), s->file);
		r = CLI_EXIT_REFUSED;
	}
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	if (r == CLI_EXIT_OK)
		return 0;
	/* the daemon dropped the session with its refusal; one that could not be
	 * reached drops it after IMPORT_SESSION_IDLE_MS */
	s->session = 0;
	s->r = r;
	return -ECANCELED;
}

/* csvfile's sink: the next chunk of checked rows. */
static int s_sink(void *arg, void *rows, size_t n)
{
	struct s_stream *s = arg;
	int r = 0;

	s->p->rows += n;
	if (s->held)
		r = s_push(s);
	s->held = rows;
	s->n_held = n;
	return r;
}

/* The line an error names ("FILE:LINE: ..."), or UINT_MAX. */
static unsigned long s_line_of(const char *file, const char *msg)
{
	size_t k = strlen(file);

	if (strncmp(msg, file, k) != 0 || msg[k] != ':' || msg[k + 1] < '0' || msg[k + 1] > '9')
		return ULONG_MAX;
	return strtoul(msg + k + 1, NULL, 10);
}

/* The file had errors here: the daemon's (duplicates among the rows sent)
 * with ours, in the file's order; the session is dropped. */
static int s_refused(struct s_stream *s, struct strlist *errors)
{
	Overstapctl__Reply *rep = NULL;
	const Overstapctl__ImportResult *res = NULL;
	size_t i = 0, j = 0, n = 0;
	char **v;
	int r = CLI_EXIT_OK;

	if (s->held && s->n_held)
		r = s_push(s) < 0 ? s->r : CLI_EXIT_OK;
	if (r == CLI_EXIT_OK && s->session)
		(void)s_request(s->cli, s->file, NULL, 0, s->check, s->session, 0, 1, &rep);
	s->session = 0;	/* aborted: the daemon dropped it */
	if (rep && rep->body_case == OVERSTAPCTL__REPLY__BODY_IMPORT_RESULT)
		res = rep->import_result;
	v = calloc(errors->n + (res ? res->n_errors : 0) + 1, sizeof(char *));
	if (!v) {
		r = s_invalid(s->file, errors->v, errors->n);
	} else {
		while (i < errors->n || (res && j < res->n_errors)) {
			int ours = !res || j == res->n_errors ||
				   (i < errors->n && s_line_of(s->file, errors->v[i]) <=
						     s_line_of(s->file, res->errors[j]));

			v[n++] = ours ? errors->v[i++] : res->errors[j++];
		}
		r = s_invalid(s->file, v, n);
		free(v);
	}
	if (rep)
		overstapctl__reply__free_unpacked(rep, NULL);
	return r;
}

/* Read, check and send FILE in the dialect d, chunk rows a request. */
static int s_import(struct cli *cli, const char *file, struct dialect *d, int check,
		    size_t chunk)
{
	struct progress p = { .on = isatty(STDERR_FILENO), .pct = -1 };
	struct s_stream s = { cli, file, check, NULL, 0, 0, CLI_EXIT_OK, &p };
	struct strlist errors = { 0 };
	int r;

	d->o.progress = s_progress;
	d->o.arg = &p;
	d->o.sink = s_sink;
	d->o.sink_arg = &s;
	d->o.sink_rows = chunk;
	r = leavers_stream_file(file, &d->o, &errors);
	s_progress_erase(&p);
	dialect_warn(d);
	if (r == -ECANCELED && s.r != CLI_EXIT_OK) {
		r = s.r;	/* the daemon's refusal was printed */
	} else if (r == -EINVAL && errors.n) {
		r = s_refused(&s, &errors);
	} else if (r < 0 || (!s.session && !s.n_held)) {
		fprintf(stderr, _("overstap: %s: %s, nothing imported\n"), file,
			r == -EFBIG ? "file too large" : r < 0 ? strerror(-r) : "no leavers in the file");
		r = CLI_EXIT_INPUT;
	} else {
		/* the last request of a session is answered when the whole file is
		 * imported: at least 1 ms a row (a million: 17 minutes), or -t */
		if (s.session && (size_t)cli->timeout_ms < p.rows && p.rows < INT_MAX)
			cli->timeout_ms = (int)p.rows;
		r = s_send(cli, file, s.held, s.n_held, check, s.session);
		s.session = 0;
	}
	/* a session left open (a failed request, a bad file) is dropped */
	if (s.session) {
		Overstapctl__Reply *rep = NULL;

		(void)s_request(cli, file, NULL, 0, check, s.session, 0, 1, &rep);
		if (rep)
			overstapctl__reply__free_unpacked(rep, NULL);
	}
	leavers_free(&s.held, s.n_held);
	strlist_clear(&errors);
	return r;
}

int cmd_import_leavers(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "check", no_argument, NULL, 'n' },
		{ "chunk", required_argument, NULL, 'C' },
		DIALECT_LONG_OPTIONS,
		{ 0 },
	};
	struct dialect d = { 0 };
	size_t chunk = IMPORT_CHUNK_ROWS;
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
		if (c == 'C') {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || v == 0 || v > 1000000)
				return cli_usage_error(cli, "--chunk must be a number of rows, 1 to 1000000");
			chunk = v;
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
		r = s_import(cli, argv[optind], &d, check, chunk);
	dialect_clear(&d);
	return r;
}
