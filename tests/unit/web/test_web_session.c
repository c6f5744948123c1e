/* Unit tests for web/session.c: ids and tokens, lookup, CSRF, expiry, a full table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
	struct session *a = NULL, *b = NULL;
	char id[SESSION_TOKEN_LEN + 1];

	(void)state;
	assert_non_null(t);
	assert_int_equal(sessions_create(t, "juf", 3, &a), 0);
	assert_int_equal(sessions_create(t, "meester", 5, &b), 0);
	assert_int_equal(strlen(a->id), SESSION_TOKEN_LEN);
	assert_true(s_hex(a->id) && s_hex(a->csrf));
	/* four independent 256-bit values */
	assert_string_not_equal(a->id, b->id);
	assert_string_not_equal(a->id, a->csrf);
	assert_string_not_equal(a->csrf, b->csrf);
	assert_ptr_equal(sessions_find(t, a->id), a);
	assert_string_equal(sessions_find(t, b->id)->user, "meester");
	assert_int_equal(sessions_find(t, b->id)->rights, 5);
	/* near misses find nothing */
	memcpy(id, a->id, sizeof(id));
	id[10] = id[10] == 'a' ? 'b' : 'a';
	assert_null(sessions_find(t, id));
	id[SESSION_TOKEN_LEN - 1] = '\0';
	assert_null(sessions_find(t, id));
	assert_null(sessions_find(t, NULL));
	assert_null(sessions_find(t, ""));
	assert_int_equal(sessions_count(t), 2);
	memcpy(id, a->id, sizeof(id));
	sessions_end(t, a);
	assert_null(sessions_find(t, id));
	assert_int_equal(sessions_count(t), 1);
	sessions_free(&t);
	assert_null(t);
	sessions_free(&t);	/* takes NULL */
}

static void test_csrf(void **state)
{
	struct sessions *t = sessions_new(2, 600, 3600);
	struct session *a = NULL;
	char tok[SESSION_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(sessions_create(t, "juf", 1, &a), 0);
	assert_true(session_csrf_ok(a, a->csrf));
	assert_false(session_csrf_ok(a, NULL));
	assert_false(session_csrf_ok(a, ""));
	assert_false(session_csrf_ok(a, a->id));
	memcpy(tok, a->csrf, sizeof(tok));
	tok[0] = tok[0] == '0' ? '1' : '0';
	assert_false(session_csrf_ok(a, tok));
	tok[0] = a->csrf[0];
	tok[SESSION_TOKEN_LEN - 1] = '\0';
	assert_false(session_csrf_ok(a, tok));
	sessions_free(&t);
}

static void test_full_table_refuses(void **state)
{
	struct sessions *t = sessions_new(2, 600, 3600);
	struct session *a = NULL, *b = NULL, *c = (struct session *)1;

	(void)state;
	assert_int_equal(sessions_create(t, "a", 1, &a), 0);
	assert_int_equal(sessions_create(t, "b", 1, &b), 0);
	/* never evicts someone signed in */
	assert_int_equal(sessions_create(t, "c", 1, &c), -ENOSPC);
	assert_null(c);
	assert_ptr_equal(sessions_find(t, a->id), a);
	sessions_end(t, a);
	assert_int_equal(sessions_create(t, "c", 1, &c), 0);
	sessions_free(&t);
}

static void test_idle_expiry(void **state)
{
	struct sessions *t = sessions_new(2, 1, 3600);
	struct session *a = NULL;
	char id[SESSION_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(sessions_create(t, "juf", 1, &a), 0);
	memcpy(id, a->id, sizeof(id));
	sleep(2);
	assert_null(sessions_find(t, id));
	assert_int_equal(sessions_count(t), 0);
	/* its slot is free again */
	assert_int_equal(sessions_create(t, "juf", 1, &a), 0);
	sessions_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_find),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_full_table_refuses),
		cmocka_unit_test(test_idle_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
