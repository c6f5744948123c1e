/* Unit tests for client/out.c's JSON helpers: text from a peer that is not
 * valid UTF-8 becomes U+FFFD instead of costing the output, and a tree that
 * lost a member is never printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CLI's out.c, linked into this test by tests/CMakeLists.txt. */
#include "out.h"

#define FFFD "\xEF\xBF\xBD"

static void t_fix(const char *in, const char *want)
{
	char *got = out_utf8_fix(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	assert_true(out_utf8_valid(got));
	free(got);
}

/* One U+FFFD per byte that starts no valid sequence; valid text is kept. */
static void test_utf8_fix(void **state)
{
	(void)state;
	t_fix("", "");
	t_fix("Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80", "Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80");
	t_fix("a\xFF" "b", "a" FFFD "b");
	t_fix("\xC3", FFFD);			/* cut short at the end */
	t_fix("\xC3(", FFFD "(");		/* a lead byte without its continuation */
	t_fix("\xC0\xAF", FFFD FFFD);		/* overlong '/' */
	t_fix("\xED\xA0\x80", FFFD FFFD FFFD);	/* a UTF-16 surrogate */
	t_fix("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);	/* past U+10FFFF */
	t_fix("\x1b[2J\x01", "\x1b[2J\x01");	/* control characters are JSON's to escape */
}

static void test_json_str(void **state)
{
	json_t *v;

	(void)state;
	v = out_json_str(NULL);
	assert_true(json_is_null(v));
	json_decref(v);
	v = out_json_str("ok \xC3\xAB");
	assert_string_equal(json_string_value(v), "ok \xC3\xAB");
	json_decref(v);
	v = out_json_str("bad \xFF\xFE");	/* json_string() alone returns NULL here */
	assert_non_null(v);
	assert_string_equal(json_string_value(v), "bad " FFFD FFFD);
	json_decref(v);
	v = out_json_uint(UINT64_MAX);
	assert_true(json_integer_value(v) == INT64_MAX);
	json_decref(v);
}

/* Keys are repaired too; a NULL object or value (an allocation that failed
 * upstream) is -ENOMEM, and the value is released either way (ASan build). */
static void test_json_set(void **state)
{
	json_t *o = json_object(), *a = json_array();

	(void)state;
	assert_int_equal(out_json_set_str(o, "k\xFF", "v"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "k" FFFD)), "v");
	assert_int_equal(out_json_set(o, "n", NULL), -ENOMEM);
	assert_int_equal(out_json_set(NULL, "n", json_string("lost")), -ENOMEM);
	assert_int_equal(out_json_append(NULL, json_string("lost")), -ENOMEM);
	assert_int_equal(out_json_append(a, NULL), -ENOMEM);
	assert_int_equal(out_json_append(a, json_true()), 0);
	assert_int_equal(json_array_size(a), 1);
	assert_null(out_json_done(a, -ENOMEM));	/* releases a */
	assert_ptr_equal(out_json_done(o, 0), o);
	json_decref(o);
}

static char *t_print(json_t *root, int *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*r = out_json_print(f, &root, 0);
	assert_null(root);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* A row with broken UTF-8 and control characters, as a peer could send it,
 * printed and read back: valid JSON carrying the repaired text. */
/* issue 15: every moment in --json is an ISO 8601 UTC string, never is null. */
static void test_json_time(void **state)
{
	json_t *o = json_object();
	char *s;

	(void)state;
	assert_int_equal(out_json_set_time(o, "at", 1795462340123LL), 0);
	assert_int_equal(out_json_set_time(o, "never", 0), 0);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"at\":\"2026-11-23T19:32:20.123Z\",\"never\":null}");
	free(s);
	json_decref(o);
	assert_int_equal(out_json_set_time(NULL, "at", 1), -ENOMEM);
}

static void test_json_print(void **state)
{
	json_t *row = json_object(), *doc;
	json_error_t err;
	char *out;
	int r;

	(void)state;
	assert_int_equal(out_json_set_str(row, "given_name", "Jo\xE9l"), 0);	/* Latin-1 */
	assert_int_equal(out_json_set_str(row, "note", "line\nbell\a\x1b[31m\"q\"\\"), 0);
	assert_int_equal(out_json_set_int(row, "at", -1), 0);
	out = t_print(row, &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(out, "\n  \"given_name\": "));	/* two-space indentation */
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\a'));
	doc = json_loads(out, 0, &err);
	if (!doc)
		fail_msg("not JSON: %s: %s", err.text, out);
	assert_string_equal(json_string_value(json_object_get(doc, "given_name")), "Jo" FFFD "l");
	assert_string_equal(json_string_value(json_object_get(doc, "note")),
			    "line\nbell\a\x1b[31m\"q\"\\");
	assert_int_equal(json_integer_value(json_object_get(doc, "at")), -1);
	/* Members keep the order they were set in. */
	assert_true(strstr(out, "given_name") < strstr(out, "note"));
	assert_true(strstr(out, "note") < strstr(out, "\"at\""));
	json_decref(doc);
	free(out);

	out = t_print(NULL, &r);	/* a build that failed prints nothing */
	assert_int_equal(r, -ENOMEM);
	assert_string_equal(out, "");
	free(out);
}

static void test_json_print_full(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	json_t *a = json_array();

	(void)state;
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);	/* the error now, not at fclose */
	assert_int_equal(out_json_print(f, &a, 0), -EIO);
	assert_null(a);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_fix),  cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_json_set),  cmocka_unit_test(test_json_print),
		cmocka_unit_test(test_json_print_full),
		cmocka_unit_test(test_json_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
