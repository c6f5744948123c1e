/* Unit tests for web/session.c: ids and tokens, lookup, CSRF, expiry, a full table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "session.h"

static int s_hex(const char *s)
{
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return 0;
	return 1;
}

static void test_create_find(void **state)
{
	struct sessions *t = sessions_new(4, 600, 3600);
	struct session a, b, got;
	char id[SESSION_TOKEN_LEN + 1];

	(void)state;
	assert_non_null(t);
	assert_int_equal(sessions_create(t, "juf", 3, &a), 0);
	assert_int_equal(sessions_create(t, "meester", 5, &b), 0);
	assert_int_equal(strlen(a.id), SESSION_TOKEN_LEN);
	assert_true(s_hex(a.id) && s_hex(a.csrf));
	/* four independent 256-bit values */
	assert_string_not_equal(a.id, b.id);
	assert_string_not_equal(a.id, a.csrf);
	assert_string_not_equal(a.csrf, b.csrf);
	assert_int_equal(sessions_find(t, a.id, &got), 1);
	assert_string_equal(got.user, "juf");
	assert_string_equal(got.csrf, a.csrf);
	assert_int_equal(sessions_find(t, b.id, &got), 1);
	assert_string_equal(got.user, "meester");
	assert_int_equal(got.rights, 5);
	/* near misses find nothing, and leave nothing in the copy */
	memcpy(id, a.id, sizeof(id));
	id[10] = id[10] == 'a' ? 'b' : 'a';
	assert_int_equal(sessions_find(t, id, &got), 0);
	assert_string_equal(got.user, "");
	id[SESSION_TOKEN_LEN - 1] = '\0';
	assert_int_equal(sessions_find(t, id, &got), 0);
	assert_int_equal(sessions_find(t, NULL, &got), 0);
	assert_int_equal(sessions_find(t, "", &got), 0);
	assert_int_equal(sessions_count(t), 2);
	sessions_end(t, a.id);
	assert_int_equal(sessions_find(t, a.id, &got), 0);
	assert_int_equal(sessions_count(t), 1);
	sessions_end(t, a.id);	/* ended twice: nothing else ends */
	assert_int_equal(sessions_count(t), 1);
	sessions_free(&t);
	assert_null(t);
	sessions_free(&t);	/* takes NULL */
}

static void test_csrf(void **state)
{
	struct sessions *t = sessions_new(2, 600, 3600);
	struct session a;
	char tok[SESSION_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(sessions_create(t, "juf", 1, &a), 0);
	assert_true(session_csrf_ok(&a, a.csrf));
	assert_false(session_csrf_ok(&a, NULL));
	assert_false(session_csrf_ok(&a, ""));
	assert_false(session_csrf_ok(&a, a.id));
	memcpy(tok, a.csrf, sizeof(tok));
	tok[0] = tok[0] == '0' ? '1' : '0';
	assert_false(session_csrf_ok(&a, tok));
	tok[0] = a.csrf[0];
	tok[SESSION_TOKEN_LEN - 1] = '\0';
	assert_false(session_csrf_ok(&a, tok));
	sessions_free(&t);
}

static void test_full_table_refuses(void **state)
{
	struct sessions *t = sessions_new(2, 600, 3600);
	struct session a, b, c, got;

	(void)state;
	assert_int_equal(sessions_create(t, "a", 1, &a), 0);
	assert_int_equal(sessions_create(t, "b", 1, &b), 0);
	/* never evicts someone signed in */
	assert_int_equal(sessions_create(t, "c", 1, &c), -ENOSPC);
	assert_string_equal(c.id, "");
	assert_int_equal(sessions_find(t, a.id, &got), 1);
	sessions_end(t, a.id);
	assert_int_equal(sessions_create(t, "c", 1, &c), 0);
	sessions_free(&t);
}

static void test_idle_expiry(void **state)
{
	struct sessions *t = sessions_new(2, 1, 3600);
	struct session a, got;

	(void)state;
	assert_int_equal(sessions_create(t, "juf", 1, &a), 0);
	sleep(2);
	assert_int_equal(sessions_find(t, a.id, &got), 0);
	assert_int_equal(sessions_count(t), 0);
	/* its slot is free again */
	assert_int_equal(sessions_create(t, "juf", 1, &a), 0);
	sessions_free(&t);
}

/* MHD's worker threads share the table: many threads signing in, finding
 * and ending sessions at once lose none and mix none up (run under the
 * sanitizer build, and helgrind/TSan by hand, this is where a missing lock
 * shows). */
struct s_worker {
	struct sessions *t;
	int n, bad;
	char user[16];
};

static void *s_work(void *arg)
{
	struct s_worker *w = arg;

	for (int i = 0; i < w->n; i++) {
		struct session mine, got;

		if (sessions_create(w->t, w->user, 1, &mine) != 0) {
			w->bad++;
			continue;
		}
		if (sessions_find(w->t, mine.id, &got) != 1 || strcmp(got.user, w->user) != 0)
			w->bad++;
		sessions_end(w->t, mine.id);
		if (sessions_find(w->t, mine.id, &got) != 0)
			w->bad++;
	}
	return NULL;
}

static void test_threads_share_the_table(void **state)
{
	struct sessions *t = sessions_new(8, 600, 3600);
	struct s_worker w[8];
	pthread_t th[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		w[i] = (struct s_worker){ .t = t, .n = 2000 };
		snprintf(w[i].user, sizeof(w[i].user), "juf%d", i);
		assert_int_equal(pthread_create(&th[i], NULL, s_work, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	assert_int_equal(sessions_count(t), 0);
	sessions_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_find),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_full_table_refuses),
		cmocka_unit_test(test_idle_expiry),
		cmocka_unit_test(test_threads_share_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
