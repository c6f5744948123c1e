/* Unit tests for log: what reaches stderr by hand (a UTC time and the level
 * word; the function's name only with -d), what reaches the journal under
 * systemd (the fields, or a "<N>" line when the journal cannot be written),
 * the level filter an administrator sets, and the rate limit that keeps a
 * flooding peer from flooding the journal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Run fn with stderr going to a file; return what it wrote (static buffer).
 * journal: that file is "the journal's stream" ($JOURNAL_STREAM names it). */
static const char *s_capture_as(void (*fn)(void), int journal, int debug)
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	struct stat st;
	char js[64];
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	assert_int_equal(fstat(2, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 journal ? (unsigned long long)st.st_ino : 0ULL);
	setenv("JOURNAL_STREAM", js, 1);
	log_init(debug);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	unsetenv("JOURNAL_STREAM");
	log_init(0);
	return out;
}

static const char *s_capture(void (*fn)(void)) { return s_capture_as(fn, 0, 0); }

/* True when out has a line "YYYY-MM-DDTHH:MM:SS.mmmZ rest". */
static int s_has_line(const char *out, const char *rest)
{
	for (const char *p = out; (p = strstr(p, rest)) != NULL; p++) {
		const char *ls = p - 25;	/* the time, then a space */
		int y, mo, d, h, mi, sec, ms;
		char z;

		if (ls >= out && (ls == out || ls[-1] == '\n') &&
		    sscanf(ls, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &sec, &ms, &z) == 8 &&
		    z == 'Z' && ls[24] == ' ')
			return 1;
	}
	return 0;
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
	assert_true(s_has_line(out, "error: disk full\n"));
	assert_true(s_has_line(out, "notice: started\n"));
	assert_null(strstr(out, "noise"));
	assert_null(strstr(out, "s_three_levels"));	/* no function names by hand */
	assert_null(strchr(out, '<'));			/* nor journald's prefix */
	assert_int_equal(log_set_level_name("debug"), 0);
	assert_int_equal(log_level(), LOG_LVL_DEBUG);
	out = s_capture_as(s_three_levels, 0, 1);	/* -d */
	assert_true(s_has_line(out, "debug: s_three_levels: noise\n"));
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
	assert_true(s_has_line(out, "error: next\n"));
	assert_true(strlen(out) < 1100);
}

/* Under systemd: the journal gets the message with its fields; when it
 * cannot be written, the line goes to its stream with the "<N>" prefix. */
static struct {
	int n, level, fail;
	char func[64], id[40], peer[16], record[40], msg[128];
} s_j;

static int s_journal_capture(int level, const char *func, const struct log_fields *f,
			     const char *message)
{
	s_j.n++;
	s_j.level = level;
	snprintf(s_j.func, sizeof(s_j.func), "%s", func);
	snprintf(s_j.id, sizeof(s_j.id), "%s", f && f->id ? f->id : "");
	snprintf(s_j.peer, sizeof(s_j.peer), "%s", f && f->peer ? f->peer : "");
	snprintf(s_j.record, sizeof(s_j.record), "%s", f && f->record_id ? f->record_id : "");
	snprintf(s_j.msg, sizeof(s_j.msg), "%s", message);
	return s_j.fail ? -ECONNREFUSED : 0;
}

static void s_parked(void)
{
	log_warnf(&((struct log_fields){ .id = LOG_ID_MESSAGE_PARKED, .peer = "25LZ00",
					 .record_id = "01890a5d-ac96-774b-bcce-b302099a8057" }),
		  "peer %s: message parked", "25LZ00");
}

static void test_journal_fields(void **state)
{
	const char *out;

	(void)state;
	log_set_journal(s_journal_capture);
	out = s_capture_as(s_parked, 1, 0);
	assert_string_equal(out, "");			/* all of it went to the journal */
	assert_int_equal(s_j.n, 1);
	assert_int_equal(s_j.level, LOG_LVL_WARNING);
	assert_string_equal(s_j.func, "s_parked");
	assert_string_equal(s_j.id, LOG_ID_MESSAGE_PARKED);
	assert_string_equal(s_j.peer, "25LZ00");
	assert_string_equal(s_j.record, "01890a5d-ac96-774b-bcce-b302099a8057");
	assert_string_equal(s_j.msg, "peer 25LZ00: message parked");
	/* a redirect since systemd started us: plain lines, not the journal */
	out = s_capture_as(s_parked, 0, 0);
	assert_int_equal(s_j.n, 1);
	assert_true(s_has_line(out, "warning: peer 25LZ00: message parked\n"));
	/* the journal's socket refuses: its stream still gets the line */
	s_j.fail = 1;
	out = s_capture_as(s_parked, 1, 0);
	assert_string_equal(out, "<4>peer 25LZ00: message parked\n");
	log_set_journal(NULL);
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
		cmocka_unit_test(test_journal_fields),
		cmocka_unit_test(test_ratelimit_burst_then_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
