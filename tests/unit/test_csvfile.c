/* test_csvfile: the column layer under the imports, with a table of its own:
 * header mapping and its errors, one row's error naming line and column,
 * all-or-nothing, duplicates, NUL bytes in both modes, and line numbers
 * across quoted line breaks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvfile.h"

/* The view: one pointer per column; the result: the id and the line. */
struct t_view {
	const char *id;
	const char *name;
	const char *note;
};

struct t_row {
	char id[8];
	unsigned line;
};

static void t_check_id(struct csvfile_check *c, const struct csvfile_col *col, const char *v,
		       void *out)
{
	struct t_row *row = out;

	if (!csvfile_check_present(c, col, v, 7))
		return;
	if (strcmp(v, "bad") == 0)
		csvfile_check_fail(c, col, "'%s' is bad", v);
	else if (row)
		memcpy(row->id, v, strlen(v) + 1);
}

static int t_finish(const struct csvfile_check *c, const void *view, void *out)
{
	struct t_row *row = out;

	(void)view;
	row->line = c->line;
	return row->id[0] != '\0';
}

static uint64_t t_hash(const void *rows, size_t i)
{
	return csvfile_hash(CSVFILE_HASH0, ((const struct t_row *)rows)[i].id);
}

static int t_same(const void *rows, size_t a, size_t b)
{
	const struct t_row *r = rows;

	return strcmp(r[a].id, r[b].id) == 0;
}

static const struct csvfile_col t_cols[] = {
	{ "id", CSVFILE_REQUIRED, offsetof(struct t_view, id), t_check_id },
	{ "name", CSVFILE_REQUIRED, offsetof(struct t_view, name), NULL },
	{ "note", 0, offsetof(struct t_view, note), NULL },
};

static struct csvfile_table t_table = {
	.cols = t_cols,
	.ncols = 3,
	.col_size = sizeof(t_cols[0]),
	.flags = CSVFILE_LIST_COLUMNS,
	.max_file = 1 << 20,
	.max_record = 256,
	.max_rows = 5,
	.max_columns = 4,
	.view_size = sizeof(struct t_view),
	.row_size = sizeof(struct t_row),
	.finish = t_finish,
	.hash = t_hash,
	.same = t_same,
	.dup_col = "id",
	.dup_why = " (same id)",
};

/* The options expect() parses with: strict, as every import was before
 * dialects; a test changes them and puts them back. */
static struct csvfile_opts t_o = { .strict = 1 };

/* Parse csv (len bytes), expect result r and exactly the messages want[]. */
static void expect(const char *csv, size_t len, int r, const char *const *want)
{
	const struct csvfile_opts o = t_o;
	struct strlist errors = { 0 };
	struct t_row *rows = (struct t_row *)&errors;	/* must be overwritten */
	size_t n = 99, k = 0;

	assert_int_equal(csvfile_import(&t_table, "t.csv", csv, len, &o, &rows, &n, &errors), r);
	while (want[k])
		k++;
	for (size_t i = 0; errors.n != k && i < errors.n; i++)
		print_message("got: %s\n", errors.v[i]);
	assert_int_equal(errors.n, k);
	for (size_t i = 0; i < k; i++)
		assert_string_equal(errors.v[i], want[i]);
	if (r != 0) {
		assert_null(rows);
		assert_int_equal(n, 0);
	}
	free(rows);
	strlist_clear(&errors);
}

#define EXPECT(csv, r, ...) expect(csv, sizeof(csv) - 1, r, (const char *const[]){ __VA_ARGS__, NULL })

static void test_good(void **state)
{
	const struct csvfile_opts o = { .strict = 1 };
	static const char csv[] = "\xef\xbb\xbfname,id\r\nA,1\r\n\r\n,,\n\"B\nC\",2\n";
	struct strlist errors = { 0 };
	struct t_row *rows = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(csvfile_import(&t_table, "t.csv", csv, sizeof(csv) - 1, &o, &rows, &n,
					&errors), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].id, "1");
	assert_int_equal(rows[0].line, 2);
	assert_string_equal(rows[1].id, "2");
	assert_int_equal(rows[1].line, 5);
	assert_int_equal(errors.n, 0);
	free(rows);
}

static void test_header_errors(void **state)
{
	(void)state;
	EXPECT("id,nam,id,\n", -EINVAL,
	       "t.csv:1: header: unknown column 'nam' (expected: id, name, note)",
	       "t.csv:1: header: duplicate column 'id'",
	       "t.csv:1: header: missing required column 'name'");
	/* a gap between names is an error for the strict; a trailing one, as
	 * Excel writes it, never */
	EXPECT("id,,name\n", -EINVAL, "t.csv:1: header: column 2 has no name");
	/* Any case, blanks around (design.md §8.8). */
	EXPECT("ID,\" Name \"\n1,a\n", 0, NULL);
	EXPECT("\n\nid,name,note,note,x\n1,a,b\n", -EINVAL,
	       "t.csv:3: header: duplicate column 'note'",
	       "t.csv:3: header: 5 columns, at most 4");
	EXPECT("note\n", -EINVAL, "t.csv:1: header: missing required column 'id'",
	       "t.csv:1: header: missing required column 'name'");
}

static void test_empty(void **state)
{
	(void)state;
	EXPECT("", -EINVAL, "t.csv:1: header: missing (the file is empty)");
	EXPECT("\n \r\n", -EINVAL, "t.csv:1: header: missing (the file is empty)");
	/* A header alone is a file without rows. */
	expect("id,name\n", 8, 0, (const char *const[]){ NULL });
}

static void test_row_errors(void **state)
{
	(void)state;
	/* One bad row fails the whole file: all or nothing, every problem said. */
	EXPECT("id,name\n1,a\nbad,b\n,c\n2,d,e\n12345678,f\n", -EINVAL,
	       "t.csv:3: id: 'bad' is bad",
	       "t.csv:4: id: is required",
	       "t.csv:5: row has 3 fields, header has 2",
	       "t.csv:6: id: too long (at most 7 characters)");
	EXPECT("id,name\n1,a\n2,b\n1,c\n", -EINVAL, "t.csv:4: id: duplicate of line 2 (same id)");
	EXPECT("id,name\n1,a\n2,a\n3,a\n4,a\n5,a\n6,a\n", -EINVAL,
	       "t.csv:7: too many rows (at most 5)");
}

static void test_quoted_lines(void **state)
{
	(void)state;
	/* A quoted value over three lines: the next record starts on line 5. */
	EXPECT("id,name\n1,\"x\ny\r\nz\"\nbad,b\n", -EINVAL, "t.csv:5: id: 'bad' is bad");
	/* Bare CR ends a line too. */
	EXPECT("id,name\r1,\"a\rb\"\rbad,b\r", -EINVAL, "t.csv:4: id: 'bad' is bad");
	EXPECT("id,name\n1,a\n2,\"open\n", -EINVAL,
	       "t.csv:3: malformed CSV: error parsing data while strict checking enabled");
}

static void test_nul(void **state)
{
	(void)state;
	/* Reported with the row, in table order; the value is not checked. */
	EXPECT("id,name\n\"b\0d\",\"x\0\"\n", -EINVAL, "t.csv:2: id: contains a NUL byte",
	       "t.csv:2: name: contains a NUL byte");
	/* CSVFILE_NUL_EARLY: as the field arrives, also in a short row, and the
	 * value is checked up to the NUL. */
	t_table.flags |= CSVFILE_NUL_EARLY;
	EXPECT("id,name\n\"bad\0x\"\n", -EINVAL, "t.csv:2: id: contains a NUL byte",
	       "t.csv:2: row has 1 fields, header has 2");
	EXPECT("id,name\n\"bad\0x\",a\n", -EINVAL, "t.csv:2: id: contains a NUL byte",
	       "t.csv:2: id: 'bad' is bad");
	t_table.flags &= ~(unsigned)CSVFILE_NUL_EARLY;
}

static void test_utf8_header(void **state)
{
	(void)state;
	/* Declared UTF-8, the bytes stay as they are. */
	t_o.encoding = "utf-8";
	EXPECT("id,name,\xc3\n", -EINVAL,
	       "t.csv:1: header: unknown column '?' (expected: id, name, note)");
	t_table.flags = CSVFILE_UTF8;
	EXPECT("id,name,\xc3\n", -EINVAL, "t.csv:1: header: column 3: not valid UTF-8");
	EXPECT("id,name,\xc3\xa9\n", -EINVAL, "t.csv:1: header: unknown column '\xc3\xa9'");
	/* Detected: not UTF-8, so Windows-1252, and 0xC3 is A-tilde. */
	t_o.encoding = NULL;
	EXPECT("id,name,\xc3\n", -EINVAL, "t.csv:1: header: unknown column '\xc3\x83'");
	t_table.flags = CSVFILE_LIST_COLUMNS;
}

static void test_check_view(void **state)
{
	const struct t_view v = { "bad", NULL, NULL };
	struct strlist errors = { 0 };
	struct t_row row;

	(void)state;
	assert_int_equal(csvfile_check_view(&t_table, NULL, 7, NULL, &v, &row, &errors), 1);
	assert_string_equal(errors.v[0], "-:7: id: 'bad' is bad");
	assert_int_equal(row.line, 7);
	strlist_clear(&errors);
}

static void test_echo(void **state)
{
	char out[CSVFILE_ECHO_SIZE];

	(void)state;
	assert_string_equal(csvfile_echo(out, "a\tb\xc3\xa9", 5, 0), "a?b??");
	assert_string_equal(csvfile_echo(out, "a\tb\xc3\xa9", 5, CSVFILE_UTF8), "a?b\xc3\xa9");
	assert_string_equal(csvfile_echo(out, "0123456789012345678901234567890\xc3\xa9", 33,
					 CSVFILE_UTF8), "0123456789012345678901234567890...");
}

/* ---- dialects (design.md §8.8) --------------------------------------------- */

/* id answers to nummer and nr, name to naam before voornaam before voornamen. */
static const struct csvfile_dialect_col t_dialect[] = {
	{ "id", "nummer|nr", NULL, 0 },
	{ "name", "naam|voornaam|voornamen", NULL, 0 },
};

/* Parse csv leniently with the dialect table; expect r, the messages and
 * the one warning (NULL = none); *first_id is the first row's id. */
static void expect_dialect(const char *csv, int r, const char *const *want, const char *warning,
			   const char *first_id)
{
	struct strlist errors = { 0 }, warnings = { 0 };
	const struct csvfile_opts o = { .warnings = &warnings };
	struct t_row *rows = NULL;
	size_t n = 0, k = 0;

	t_table.dialect = t_dialect;
	t_table.ndialect = 2;
	assert_int_equal(csvfile_import(&t_table, "t.csv", csv, strlen(csv), &o, &rows, &n,
					&errors), r);
	t_table.dialect = NULL;
	t_table.ndialect = 0;
	while (want[k])
		k++;
	for (size_t i = 0; errors.n != k && i < errors.n; i++)
		print_message("got: %s\n", errors.v[i]);
	assert_int_equal(errors.n, k);
	for (size_t i = 0; i < k; i++)
		assert_string_equal(errors.v[i], want[i]);
	assert_int_equal(warnings.n, warning != NULL);
	if (warning)
		assert_string_equal(warnings.v[0], warning);
	if (first_id) {
		assert_true(n > 0);
		assert_string_equal(rows[0].id, first_id);
	}
	free(rows);
	strlist_clear(&errors);
	strlist_clear(&warnings);
}

#define NONE (const char *const[]){ NULL }

static void test_dialect_header(void **state)
{
	(void)state;
	/* aliases, any case; the better name wins and the other is listed */
	expect_dialect("Voornamen;NR;Naam;Klas\nA B;1;A;4b\n", 0, NONE,
		       "t.csv:1: header: ignoring columns 'Voornamen', 'Klas'", "1");
	expect_dialect("Naam;Voornaam;NR\nA;B;2\n", 0, NONE,
		       "t.csv:1: header: ignoring column 'Voornaam'", "2");
	/* the column's own name beats an alias, the first alias the second */
	expect_dialect("nr,id,naam\n1,2,a\n", 0, NONE, "t.csv:1: header: ignoring column 'nr'",
		       "2");
	expect_dialect("nr,Nummer,naam\n1,2,a\n", 0, NONE,
		       "t.csv:1: header: ignoring column 'nr'", "2");
	/* the same name twice is still a duplicate */
	expect_dialect("id,ID,naam\n", -EINVAL, (const char *const[]){
		"t.csv:1: header: duplicate column 'id'", NULL }, NULL, NULL);
}

static void test_dialect_rows(void **state)
{
	(void)state;
	/* TAB: an empty first field is a field, not a blank to skip */
	expect_dialect("name\tid\n\t7\n", 0, NONE, NULL, "7");
	/* Excel's trailing separators: fewer or more, as long as they are empty */
	expect_dialect("id;name;;;\n1;a;;;\n2;b\n3;c;;;;;;\n", 0, NONE, NULL, "1");
	expect_dialect("id;name;;;\n1;a;;;;x\n2\n", -EINVAL, (const char *const[]){
		"t.csv:2: row has 6 fields, header has 2",
		"t.csv:3: row has 1 fields, header has 2", NULL }, NULL, NULL);
	/* an unnamed column in between is ignored with its values */
	expect_dialect("id;;name\n1;whatever;a\n", 0, NONE, NULL, "1");
	/* wider than max_columns (4) only in empty names: fine */
	expect_dialect("id,name,,,,,,,\n1,a\n", 0, NONE, NULL, "1");
	expect_dialect("id,name,,,,,,,x\n", -EINVAL, (const char *const[]){
		"t.csv:1: header: 9 columns, at most 4", NULL }, NULL, NULL);
	/* the one warning stays one line */
	t_table.max_columns = 20;
	expect_dialect("id,name,a,b,c,d,e,f,g,h,i,j,k,l,m,n\n", 0, NONE,
		       "t.csv:1: header: ignoring columns 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', "
		       "'i', 'j', 'k', 'l' and 2 more", NULL);
	t_table.max_columns = 4;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_row_errors),
		cmocka_unit_test(test_quoted_lines),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_utf8_header),
		cmocka_unit_test(test_check_view),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_dialect_header),
		cmocka_unit_test(test_dialect_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
