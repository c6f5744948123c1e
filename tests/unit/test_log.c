/* Unit tests for log: what reaches stderr (journald reads the "<N>" prefix
 * as the priority), the level filter an administrator sets, and the rate
 * limit that keeps a flooding peer from flooding the journal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Run fn with stderr going to a file; return what it wrote (static buffer). */
static const char *s_capture(void (*fn)(void))
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void s_three_levels(void)
{
	log_err("disk %s", "full");
	log_notice("started");
	log_debug("noise");
}

static void test_prefix_and_filter(void **state)
{
	const char *out;

	(void)state;
	log_set_level(LOG_LVL_NOTICE);
	out = s_capture(s_three_levels);
	assert_non_null(strstr(out, "<3>s_three_levels: disk full\n"));
	assert_non_null(strstr(out, "<5>s_three_levels: started\n"));
	assert_null(strstr(out, "noise"));
	assert_int_equal(log_set_level_name("debug"), 0);
	assert_int_equal(log_level(), LOG_LVL_DEBUG);
	out = s_capture(s_three_levels);
	assert_non_null(strstr(out, "<7>s_three_levels: noise\n"));
	log_set_level(LOG_LVL_INFO);
}

static void test_level_names(void **state)
{
	(void)state;
	assert_int_equal(log_set_level_name("warning"), 0);
	assert_int_equal(log_level(), LOG_LVL_WARNING);
	assert_int_equal(log_set_level_name("error"), 0);	/* both spellings */
	assert_int_equal(log_level(), LOG_LVL_ERR);
	assert_int_equal(log_set_level_name("verbose"), -EINVAL);
	assert_int_equal(log_level(), LOG_LVL_ERR);		/* unchanged */
	log_set_level(LOG_LVL_INFO);
}

static void s_long_line(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_err("%s", big);
	log_err("next");
}

/* A line longer than the buffer is cut, never run into the next one. */
static void test_long_line_cut(void **state)
{
	const char *out;

	(void)state;
	out = s_capture(s_long_line);
	assert_non_null(strstr(out, "\n<3>s_long_line: next\n"));
	assert_true(strlen(out) < 1100);
}

static void test_ratelimit_burst_then_count(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(60000, 3);
	unsigned suppressed = 99;
	int allowed = 0;

	(void)state;
	for (int i = 0; i < 10; i++)
		allowed += ratelimit_ok(&rl, &suppressed);
	assert_int_equal(allowed, 3);
	assert_int_equal(suppressed, 0);	/* none dropped before the third */
	assert_int_equal(rl.suppressed, 7);
	/* the next window: the first line says how many were dropped */
	rl.window_start -= 60000;
	assert_int_equal(ratelimit_ok(&rl, &suppressed), 1);
	assert_int_equal(suppressed, 7);
	assert_int_equal(rl.suppressed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_and_filter),
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_ratelimit_burst_then_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
