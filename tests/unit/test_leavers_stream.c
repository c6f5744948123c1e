/* test_leavers_stream: a leavers file read streamed (csvfile_stream_file,
 * design.md §8.5) gives the rows, lines and messages of the whole-file parse:
 * blocks of 1 MiB cut only after a line feed, CRLF, a BOM, quoted fields
 * with line breaks, a legacy encoding (decoded whole), an empty file, and a
 * sink that refuses stopping the parse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "leavers.h"

#define NROWS 30000	/* about 2.6 MiB: the file spans three blocks */

struct s_got {
	char (*refs)[16];
	unsigned *lines;
	size_t n, calls;
	int fail_at;	/* refuse the call with this number (1 = the first), 0 = never */
};

static int s_sink(void *arg, void *rows, size_t n)
{
	struct s_got *g = arg;
	Overstapctl__Leaver **v = rows;

	g->calls++;
	for (size_t i = 0; i < n; i++) {
		assert_true(g->n < NROWS + 10);
		snprintf(g->refs[g->n], sizeof(g->refs[0]), "%s", v[i]->pupil_ref);
		g->lines[g->n++] = v[i]->line;
	}
	leavers_free(&v, n);
	return g->fail_at && g->calls == (size_t)g->fail_at ? -ECANCELED : 0;
}

/* A school's export: BOM, CRLF, an ignored note column whose quoted value
 * holds line breaks every 97th row, bad rows where asked. */
static void s_write(const char *path, int latin1, unsigned bad_every)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (!latin1)
		fputs("\xef\xbb\xbf", f);
	fputs("pupil_ref,birth_date,program,cohort,exit_date,destination_type,note\r\n", f);
	for (unsigned i = 1; i <= NROWS; i++) {
		const char *date = bad_every && i % bad_every == 0 ? "2008-02-30" : "2008-01-01";

		if (i % 97 == 0)
			fprintf(f, "P%06u,%s,pro,2024-2025,2025-01-01,work,\"two\r\nlines %s\"\r\n", i,
				date, latin1 ? "caf\xe9" : "caf\xc3\xa9");
		else
			fprintf(f, "P%06u,%s,pro,2024-2025,2025-01-01,work,%s\r\n", i, date,
				latin1 ? "caf\xe9" : "caf\xc3\xa9");
	}
	fclose(f);
}

static void s_compare(const char *path, int want_r)
{
	struct csvfile_opts o = { 0 };
	struct strlist e1 = { 0 }, e2 = { 0 }, w = { 0 };
	Overstapctl__Leaver **rows = NULL;
	struct s_got g = { calloc(NROWS + 10, 16), calloc(NROWS + 10, sizeof(unsigned)), 0, 0, 0 };
	size_t n = 0, good = 0;
	int r1, r2;

	o.warnings = &w;
	r1 = leavers_import_file(path, &o, &rows, &n, &e1);
	o.sink = s_sink;
	o.sink_arg = &g;
	o.sink_rows = 1000;
	r2 = leavers_stream_file(path, &o, &e2);
	assert_int_equal(r1, want_r);
	assert_int_equal(r2, want_r);
	assert_int_equal(e1.n, e2.n);
	for (size_t i = 0; i < e1.n; i++)
		assert_string_equal(e1.v[i], e2.v[i]);
	if (want_r == 0) {
		assert_int_equal(n, NROWS);
		assert_int_equal(g.n, NROWS);
		assert_true(g.calls >= NROWS / 1000);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(rows[i]->pupil_ref, g.refs[i]);
			assert_int_equal(rows[i]->line, g.lines[i]);
		}
	} else {
		/* the rows that passed went on; the bad ones only as messages */
		for (size_t i = 0; i < g.n; i++)
			good += g.lines[i] > 1;
		assert_int_equal(good, g.n);
		assert_true(g.n > 0 && g.n < NROWS);
	}
	leavers_free(&rows, n);
	strlist_clear(&e1);
	strlist_clear(&e2);
	strlist_clear(&w);
	free(g.refs);
	free(g.lines);
}

static void test_same_as_whole(void **state)
{
	char path[] = "/tmp/test_leavers_stream.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	s_write(path, 0, 0);
	s_compare(path, 0);
	s_write(path, 1, 0);	/* Windows-1252: decoded whole, rows streamed */
	s_compare(path, 0);
	s_write(path, 0, 4099);	/* bad rows in every block: the same messages */
	s_compare(path, -EINVAL);
	unlink(path);
}

static void test_empty_and_refusing_sink(void **state)
{
	char path[] = "/tmp/test_leavers_stream.XXXXXX";
	int fd = mkstemp(path);
	struct s_got g = { calloc(NROWS + 10, 16), calloc(NROWS + 10, sizeof(unsigned)), 0, 0, 2 };
	struct csvfile_opts o = { .sink = s_sink, .sink_arg = &g, .sink_rows = 500 };
	struct strlist e = { 0 };

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(leavers_stream_file(path, &o, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.v[0], ":1: header: missing"));
	strlist_clear(&e);
	s_write(path, 0, 0);
	assert_int_equal(leavers_stream_file(path, &o, &e), -ECANCELED);
	assert_int_equal(g.calls, 2);
	assert_int_equal(g.n, 1000);
	/* no sink: refused */
	o.sink = NULL;
	assert_int_equal(leavers_stream_file(path, &o, &e), -EINVAL);
	strlist_clear(&e);
	unlink(path);
	free(g.refs);
	free(g.lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_whole),
		cmocka_unit_test(test_empty_and_refusing_sink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
