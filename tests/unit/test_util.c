/* Unit tests for util.c and log.c: dates and the age rule, atomic files, the
 * log rate limit, UTF-8 and str_vis (peer text in log lines). */
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
#include "net.h"
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

/* Moments in JSON: RFC 3339 UTC with milliseconds, before 1970 floored. */
static void test_time_iso_ms(void **state)
{
	char buf[TIME_ISO_MS_LEN];

	(void)state;
	time_format_iso_ms(1795462340123LL, buf);
	assert_string_equal(buf, "2026-11-23T19:32:20.123Z");
	time_format_iso_ms(1795462340000LL, buf);
	assert_string_equal(buf, "2026-11-23T19:32:20.000Z");
	time_format_iso_ms(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	time_format_iso_ms(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	time_format_iso_ms(INT64_MAX, buf);	/* a nine-digit year still fits, Z and all */
	assert_string_equal(buf, "292278994-08-17T07:12:55.807Z");
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

static void test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(str_utf8_len("a"), 1);
	assert_int_equal(str_utf8_len(""), 0);
	assert_int_equal(str_utf8_len("\xc3\xa9"), 2);
	assert_int_equal(str_utf8_len("\xe2\x80\xae"), 3);
	assert_int_equal(str_utf8_len("\xf0\x9f\x98\x80"), 4);
	assert_int_equal(str_utf8_len("\xf4\x8f\xbf\xbf"), 4);	/* U+10FFFF */
	assert_int_equal(str_utf8_len("\x80"), 0);		/* continuation */
	assert_int_equal(str_utf8_len("\xc0\xaf"), 0);		/* overlong */
	assert_int_equal(str_utf8_len("\xe0\x80\xaf"), 0);	/* overlong */
	assert_int_equal(str_utf8_len("\xed\xa0\x80"), 0);	/* surrogate */
	assert_int_equal(str_utf8_len("\xf4\x90\x80\x80"), 0);	/* past U+10FFFF */
	assert_int_equal(str_utf8_len("\xe2\x82"), 0);		/* cut off by the NUL */
	assert_int_equal(str_utf8_len("\xff"), 0);
}

/* One rule for text from a peer and from a file (issue 11 item 8). */
static void test_text_valid(void **state)
{
	(void)state;
	assert_null(text_valid("", 0, 0));
	assert_null(text_valid("Zo\xc3\xab van Dijk", 64, 0));
	assert_null(text_valid("\xd9\x85\xd8\xad\xd9\x85\xd8\xaf", 64, 0));	/* Arabic: RTL itself is fine */
	assert_null(text_valid("line 1\nline 2\r\n\ttab", 64, TEXT_LINES));
	assert_int_equal(text_check(NULL, 64, 0), TEXT_BAD_UTF8);
	assert_int_equal(text_check("Z\xebl", 64, 0), TEXT_BAD_UTF8);
	assert_int_equal(text_check("\xc0\xaf", 64, 0), TEXT_BAD_UTF8);	/* overlong */
	assert_int_equal(text_check("\xed\xa0\x80", 64, 0), TEXT_BAD_UTF8);	/* surrogate */
	assert_int_equal(text_check("ab\xe2\x82", 64, 0), TEXT_BAD_UTF8);	/* cut off */
	assert_int_equal(text_check("\x1b[31mred", 64, 0), TEXT_CONTROL);	/* ESC */
	assert_int_equal(text_check("\x1b[31mred", 64, TEXT_LINES), TEXT_CONTROL);
	assert_int_equal(text_check("a\nb", 64, 0), TEXT_CONTROL);
	assert_int_equal(text_check("a\tb", 64, 0), TEXT_CONTROL);
	assert_int_equal(text_check("a\x7f", 64, 0), TEXT_CONTROL);		/* DEL */
	assert_int_equal(text_check("a\xc2\x85", 64, 0), TEXT_CONTROL);	/* C1 NEL */
	assert_int_equal(text_check("a\xc2\x9b", 64, TEXT_LINES), TEXT_CONTROL);	/* C1 CSI */
	assert_null(text_valid("a\xc2\xa0" "b", 64, 0));			/* NBSP is text */
	assert_int_equal(text_check("a\xe2\x80\xa8" "b", 64, 0), TEXT_CONTROL);	/* U+2028 */
	assert_null(text_valid("a\xe2\x80\xa8" "b", 64, TEXT_LINES));
	/* bidi overrides and isolates, the edges of both ranges, on every path */
	assert_int_equal(text_check("Ann\xe2\x80\xae" "gpj.exe", 64, 0), TEXT_BIDI);	/* U+202E */
	assert_int_equal(text_check("\xe2\x80\xaa", 64, TEXT_LINES), TEXT_BIDI);	/* U+202A */
	assert_int_equal(text_check("\xe2\x81\xa6", 64, 0), TEXT_BIDI);		/* U+2066 */
	assert_int_equal(text_check("\xe2\x81\xa9", 64, 0), TEXT_BIDI);		/* U+2069 */
	assert_null(text_valid("\xe2\x80\xa9", 64, TEXT_LINES));			/* U+2029 */
	assert_null(text_valid("\xe2\x81\xa5", 64, 0));				/* U+2065 */
	/* max counts bytes: é is two */
	assert_null(text_valid("abcd", 4, 0));
	assert_int_equal(text_check("abcde", 4, 0), TEXT_TOO_LONG);
	assert_null(text_valid("\xc3\xa9\xc3\xa9", 4, 0));
	assert_int_equal(text_check("a\xc3\xa9\xc3\xa9", 4, 0), TEXT_TOO_LONG);
	assert_string_equal(text_valid("a\xe2\x80\xae", 64, 0),
			    "contains a bidirectional override or isolate");
	assert_string_equal(text_valid("a\x1b", 64, 0), "contains a control character");
	assert_string_equal(text_valid("a\xff", 64, 0), "not valid UTF-8");
	assert_string_equal(text_valid("aa", 1, 0), "too long");
	assert_null(text_reason(TEXT_OK));
}

static void test_str_vis(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain text, 100% ok", "plain text, 100% ok" },
		{ "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80" },
		{ "a\\nb", "a\\\\nb" },				/* a real backslash stays readable */
		{ "tab\there\r\n", "tab\\x09here\\x0d\\x0a" },
		{ "\x1b[2J\x7f", "\\x1b[2J\\x7f" },		/* ESC, DEL */
		{ "csi\xc2\x9b" "31m", "csi\\xc2\\x9b31m" },	/* C1 control U+009B */
		{ "abc\xe2\x80\xae" "fdp.exe", "abc\\xe2\\x80\\xaefdp.exe" },	/* RTL override */
		{ "ls\xe2\x80\xa8x", "ls\\xe2\\x80\\xa8x" },	/* U+2028 line separator */
		{ "bad\xff\xc0\xaf", "bad\\xff\\xc0\\xaf" },	/* invalid UTF-8, byte by byte */
		{ "cut\xe2\x82", "cut\\xe2\\x82" },
		{ "", "" },
	};
	char out[128];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(str_vis(out, sizeof(out), cases[i].in), 0);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\"", i, out);
	}
	assert_string_equal(str_visbuf("x\ny").s, "x\\x0ay");
	assert_string_equal(str_visbuf(NULL).s, "(null)");
}

/* Cut only between escapes and characters, and say so with "...". */
static void test_str_vis_truncate(void **state)
{
	char out[8], big[2000];

	(void)state;
	assert_int_equal(str_vis(out, sizeof(out), "1234567"), 0);
	assert_string_equal(out, "1234567");
	assert_int_equal(str_vis(out, sizeof(out), "12345678"), -ENAMETOOLONG);
	assert_string_equal(out, "1234...");
	assert_int_equal(str_vis(out, sizeof(out), "ab\n\n\n"), -ENAMETOOLONG);
	assert_string_equal(out, "ab...");			/* never half of \x0a */
	assert_int_equal(str_vis(out, sizeof(out), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), -ENAMETOOLONG);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9...");	/* never half of a character */
	assert_int_equal(str_vis(out, 3, "abcdef"), -ENAMETOOLONG);
	assert_string_equal(out, "");				/* no room for "..." */
	assert_int_equal(str_vis(out, 0, "a"), -ENAMETOOLONG);
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(strlen(str_visbuf(big).s), STR_VIS_MAX - 1);	/* 127 x "\x0a", "..." */
	assert_string_equal(str_visbuf(big).s + STR_VIS_MAX - 8, "\\x0a...");
}

/* Regression: a peer-chosen name in "rejected message from %s" could forge a
 * second log line ("\n<3>overstapd: ..."). The line must stay one line. */
static void test_log_line_forged(void **state)
{
	char path[] = "/tmp/test_util_log.XXXXXX", buf[2048];
	struct net net = { .rl_reject = RATELIMIT_INIT(60000, 5) };
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;
	int lines = 0;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	net_reject(&net, NULL, "tcp://10.0.0.9\n<3>s_reload: overstapd: audit log erased\r",
		   "connection with an unknown CURVE key refused");
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 1);
	assert_null(strchr(buf, '\r'));
	assert_non_null(strstr(buf, "tcp://10.0.0.9\\x0a<3>s_reload: overstapd: audit log erased\\x0d: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date_valid),
		cmocka_unit_test(test_age_on),
		cmocka_unit_test(test_time_utc),
		cmocka_unit_test(test_time_iso_ms),
		cmocka_unit_test(test_str_copy_and_strlist),
		cmocka_unit_test(test_file_write_atomic),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_text_valid),
		cmocka_unit_test(test_str_vis),
		cmocka_unit_test(test_str_vis_truncate),
		cmocka_unit_test(test_log_line_forged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
