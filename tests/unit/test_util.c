/* Unit tests for util.c and log.c: dates and the age rule, atomic files, the
 * log rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static void test_date_valid(void **state)
{
	int y, m, d;

	(void)state;
	assert_true(date_valid("2024-02-29", &y, &m, &d));
	assert_int_equal(y * 10000 + m * 100 + d, 20240229);
	assert_true(date_valid("2000-02-29", NULL, NULL, NULL));	/* divisible by 400 */
	assert_false(date_valid("1900-02-29", NULL, NULL, NULL));	/* by 100, not 400 */
	assert_false(date_valid("2023-02-29", NULL, NULL, NULL));
	assert_false(date_valid("2024-04-31", NULL, NULL, NULL));
	assert_false(date_valid("2024-13-01", NULL, NULL, NULL));
	assert_false(date_valid("2024-1-01", NULL, NULL, NULL));
	assert_false(date_valid("2024-01-01x", NULL, NULL, NULL));
	assert_false(date_valid("24-01-2024", NULL, NULL, NULL));
	assert_false(date_valid("", NULL, NULL, NULL));
	assert_false(date_valid(NULL, NULL, NULL, NULL));
}

/* The under-16 rule turns on these: the 16th birthday itself, and leap days. */
static void test_age_on(void **state)
{
	(void)state;
	assert_int_equal(date_age_on("2009-06-01", "2025-05-31"), 15);
	assert_int_equal(date_age_on("2009-06-01", "2025-06-01"), 16);	/* the birthday itself */
	assert_int_equal(date_age_on("2009-06-01", "2025-06-02"), 16);
	/* Born on 29 February: 16 on 1 March of a common year, not on 28 February. */
	assert_int_equal(date_age_on("2008-02-29", "2024-02-28"), 15);
	assert_int_equal(date_age_on("2008-02-29", "2024-02-29"), 16);	/* leap year: the day itself */
	assert_int_equal(date_age_on("2004-02-29", "2021-02-28"), 16);
	assert_int_equal(date_age_on("2004-02-29", "2021-03-01"), 17);
	assert_int_equal(date_age_on("2010-12-31", "2010-12-31"), 0);
	assert_int_equal(date_age_on("bad", "2025-01-01"), -1);
	assert_int_equal(date_age_on("2009-06-01", "2025-02-30"), -1);
}

/* Key rollover windows are written as a UTC date or moment in the config. */
static void test_time_utc(void **state)
{
	int64_t ms = -1;
	char buf[21];

	(void)state;
	assert_int_equal(time_parse_utc("1970-01-02", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(time_parse_utc("2026-11-23T19:32:20Z", &ms), 0);
	assert_int_equal(ms, 1795462340000LL);	/* date -u -d 2026-11-23T19:32:20Z +%s */
	time_format_utc(ms, buf);
	assert_string_equal(buf, "2026-11-23T19:32:20Z");
	assert_int_equal(time_parse_utc("2024-02-29T23:59:59Z", &ms), 0);
	static const char *const bad[] = {
		"", "2026-11-23T19:32:20", "2026-11-23 19:32:20Z", "2026-11-23T24:00:00Z",
		"2026-11-23T19:60:00Z", "2026-11-23T1:32:20Z", "2026-11-23T 1:32:20Z",
		"2026-11-23T19:32:20Zx", "2025-02-29", "2026-11-23T19:32:20+01:00",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(time_parse_utc(bad[i], &ms), -EINVAL);
}

static void test_str_copy_and_strlist(void **state)
{
	char buf[4];
	struct strlist l = { 0 };

	(void)state;
	assert_int_equal(str_copy(buf, sizeof(buf), "abc"), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(str_copy(buf, sizeof(buf), "abcd"), -ENAMETOOLONG);
	assert_string_equal(buf, "abc");
	for (int i = 0; i < 100; i++)
		assert_int_equal(strlist_addf(&l, "f.csv:%d: x", i), 0);
	assert_int_equal(l.n, 100);
	assert_string_equal(l.v[42], "f.csv:42: x");
	strlist_clear(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
}

static void test_file_write_atomic(void **state)
{
	char dir[] = "/tmp/test_util.XXXXXX", path[64], *data = NULL;
	struct stat st;
	size_t len = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	assert_int_equal(file_write_atomic(path, "one", 3, 0600), 0);
	assert_int_equal(file_write_atomic(path, "two!", 4, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(file_read_all(path, 100, &data, &len), 0);
	assert_int_equal(len, 4);
	assert_string_equal(data, "two!");
	free(data);
	assert_int_equal(file_read_all(path, 2, &data, &len), -EFBIG);
	assert_int_equal(file_read_all("/nonexistent/x", 2, &data, &len), -ENOENT);
	unlink(path);
	rmdir(dir);
}

static void test_ratelimit(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(60000, 3);
	unsigned suppressed = 99, allowed = 0;

	(void)state;
	for (int i = 0; i < 1000; i++)
		allowed += (unsigned)ratelimit_ok(&rl, &suppressed);
	assert_int_equal(allowed, 3);
	assert_int_equal(rl.suppressed, 997);
	/* A new window reports what was dropped. */
	rl.window_start -= 60000;
	assert_true(ratelimit_ok(&rl, &suppressed));
	assert_int_equal(suppressed, 997);
}

static void test_log_levels(void **state)
{
	(void)state;
	assert_int_equal(log_set_level_name("warning"), 0);
	assert_int_equal(log_level(), LOG_LVL_WARNING);
	assert_int_equal(log_set_level_name("loud"), -EINVAL);
	assert_int_equal(log_level(), LOG_LVL_WARNING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date_valid),
		cmocka_unit_test(test_age_on),
		cmocka_unit_test(test_time_utc),
		cmocka_unit_test(test_str_copy_and_strlist),
		cmocka_unit_test(test_file_write_atomic),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_log_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
